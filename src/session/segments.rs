//! Segments of a session, and each input split into its video part and its audio part.
//!
//! **Segments** are runs of inputs on the wall clock: an input belongs to the current segment when
//! it starts before the segment's end plus [`SEGMENT_GAP`] (recorders leave a few milliseconds
//! between consecutive files). They are what `--per-segment` writes, what `--gaps skip` joins back
//! to back and what `--chapters` marks; they put no constraint on which files overlap.
//!
//! **Parts.** Video and audio are laid on the timeline separately (a camera turned off and on
//! again makes two video files while one audio file runs on), so each input is split into a video
//! part (its video and other tracks) and an audio part, both read from the same file and both
//! keeping the input's wall-clock origin. A track without an edit list first gets the edit list the
//! planner would read into it (its start relative to the input's earliest such track), so the
//! split does not move it.

use std::path::PathBuf;

use crate::error::{Error, PlanError};
use crate::model::{Edit, Media, Track, TrackKind};
use crate::time::{rescale, rescale_i128, Rounding};

/// Gaps shorter than this, as seconds (numerator, denominator): 0.5 s, do not end a segment.
pub const SEGMENT_GAP: (i64, u32) = (1, 2);

/// One input of a session, opened.
pub(super) struct Opened {
    /// The path given.
    pub path: PathBuf,
    /// Its model (tracks already limited to what the output keeps).
    pub media: Media,
    /// Wall-clock time of its presentation time 0, in session ticks from the session's origin.
    pub origin: i128,
    /// Its presentation (earliest track start, latest track end) in session ticks from `origin`.
    pub extent: (i128, i128),
}

impl Opened {
    /// Its wall-clock span, session ticks.
    pub fn wall(&self) -> (i128, i128) {
        (self.origin + self.extent.0, self.origin + self.extent.1)
    }
}

/// Groups `inputs` into segments in wall-clock order (each segment's inputs in start order).
/// `scale` is the session's ticks per second.
pub(super) fn group(inputs: &[Opened], scale: u64) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| (inputs[i].wall().0, i));
    let slack = i128::from(SEGMENT_GAP.0) * i128::from(scale) / i128::from(SEGMENT_GAP.1);
    let mut segments: Vec<Vec<usize>> = Vec::new();
    let mut end = i128::MIN;
    for i in order {
        let (start, stop) = inputs[i].wall();
        match segments.last_mut() {
            Some(seg) if start < end.saturating_add(slack) => seg.push(i),
            _ => segments.push(vec![i]),
        }
        end = end.max(stop);
    }
    segments
}

/// One kind's share of an input: its tracks of that kind, and the input's wall-clock origin.
pub(super) struct Part {
    pub media: Media,
    pub origin: i128,
}

/// Splits an input into its video part (video and other tracks) and its audio part; a part
/// without samples is `None`.
pub(super) fn split(o: Opened) -> Result<(Option<Part>, Option<Part>), Error> {
    let Opened {
        mut media, origin, ..
    } = o;
    let has = |k: TrackKind| {
        media
            .tracks
            .iter()
            .any(|t| t.kind == k && !t.samples.is_empty())
    };
    match (has(TrackKind::Video), has(TrackKind::Audio)) {
        (true, true) => {}
        (true, false) => return Ok((Some(Part { media, origin }), None)),
        (false, true) => return Ok((None, Some(Part { media, origin }))),
        (false, false) => return Ok((None, None)),
    }
    explicit_edits(&mut media)?;
    let (audio, video): (Vec<Track>, Vec<Track>) = std::mem::take(&mut media.tracks)
        .into_iter()
        .partition(|t| t.kind == TrackKind::Audio);
    let mut a = media.clone();
    a.tracks = audio;
    media.tracks = video;
    Ok((
        Some(Part { media, origin }),
        Some(Part { media: a, origin }),
    ))
}

/// Gives every track without an edit list the one the planner reads into it: tracks without one
/// start at their first composition time after ffmpeg's shift for negative composition offsets,
/// the earliest of them at 0.
fn explicit_edits(m: &mut Media) -> Result<(), Error> {
    let ms = u64::from(m.movie_timescale.max(1));
    let file = m.name().to_string();
    let first = |t: &Track| {
        rescale_i128(
            i128::from(first_presented(t)),
            u64::from(t.timescale),
            ms,
            Rounding::Nearest,
        )
    };
    let origin = m
        .tracks
        .iter()
        .filter(|t| t.edits.is_empty() && !t.samples.is_empty())
        .filter_map(first)
        .min()
        .unwrap_or(0);
    for t in m
        .tracks
        .iter_mut()
        .filter(|t| t.edits.is_empty() && !t.samples.is_empty())
    {
        let overflow = || PlanError::Overflow {
            file: file.clone(),
            track: t.kind.as_str().into(),
            at: None,
            what: "edit list".into(),
        };
        let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
        let end = t
            .samples
            .iter()
            .map(|s| s.cts().saturating_add(i64::from(s.duration)))
            .max()
            .unwrap_or(0);
        let empty = first(t).ok_or_else(overflow)? - origin;
        let empty = u64::try_from(empty.max(0)).map_err(|_| overflow())?;
        // Rounded up: the planner never lets an edit last longer than the media it maps.
        let d = end
            .checked_sub(min_cts)
            .and_then(|d| rescale(d, u64::from(t.timescale), ms, Rounding::Up))
            .and_then(|d| u64::try_from(d).ok())
            .ok_or_else(overflow)?;
        if empty > 0 {
            t.edits.push(Edit {
                segment_duration: empty,
                media_time: -1,
                media_rate: 0x10000,
            });
        }
        t.edits.push(Edit {
            segment_duration: d,
            media_time: min_cts,
            media_rate: 0x10000,
        });
    }
    Ok(())
}

/// A track's first presented media time after ffmpeg's shift for negative composition offsets.
fn first_presented(t: &Track) -> i64 {
    let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
    let shift = -i64::from(
        t.samples
            .iter()
            .map(|s| s.cts_offset)
            .min()
            .unwrap_or(0)
            .min(0),
    );
    min_cts.saturating_add(shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{media, track};

    /// An input with one track of `kind` spanning `from..to` milliseconds of the wall clock.
    fn input(kind: TrackKind, from: i128, to: i128) -> Opened {
        let mut t = track(1000, &[0]);
        t.kind = kind;
        Opened {
            path: PathBuf::from(format!("{}{from}", kind.as_str())),
            media: media(vec![t]),
            origin: from,
            extent: (0, to - from),
        }
    }

    #[test]
    fn segments_are_runs_on_the_wall_clock() {
        use TrackKind::{Audio, Video};
        let inputs = [
            input(Video, 0, 40_000),
            input(Audio, 0, 120_000),
            // The camera off from 40 s to 60 s: the audio runs on, one segment.
            input(Video, 60_000, 120_000),
            // 0.2 s after the previous files end: the same segment.
            input(Video, 120_200, 180_000),
            input(Audio, 120_200, 180_000),
            // A 3 s absence: a new segment.
            input(Audio, 183_000, 190_000),
        ];
        assert_eq!(group(&inputs, 1000), vec![vec![0, 1, 2, 3, 4], vec![5]]);
    }
}
