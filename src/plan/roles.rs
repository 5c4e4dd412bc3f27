//! Which output tracks there are, which input track plays each, and where each input track sits
//! within its own input's presentation ([`Span`]).

use crate::error::PlanError;
use crate::model::{Edit, Media, Track, TrackKind};
use crate::time::Rounding;

/// Where one input track sits within its own input's presentation, in timeline ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Presentation start within the input (empty edits, or start offset without an edit list).
    /// Relative to the input's window once the planner has placed it, so it may be negative (audio
    /// that starts before the video).
    pub start: i128,
    /// Media time (track ticks) presented at `start`.
    pub media_time: i64,
    /// Presentation duration.
    pub duration: i128,
}

impl Span {
    /// Presentation end within the input.
    pub fn end(&self) -> i128 {
        self.start + self.duration
    }
}

/// Role of an output track: the n-th video track, the n-th audio track, or the n-th track of any
/// other kind (timecode, metadata...), counting only tracks that have samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Video(usize),
    Audio(usize),
    Other(usize),
}

impl Role {
    pub(super) fn kind(self) -> (TrackKind, usize) {
        match self {
            Role::Video(n) => (TrackKind::Video, n),
            Role::Audio(n) => (TrackKind::Audio, n),
            Role::Other(n) => (TrackKind::Other, n),
        }
    }

    /// A name for messages: `video`, `audio`, `audio track 2`, `tmcd track 3`.
    pub(super) fn label(self, t: &Track) -> String {
        match self {
            Role::Video(0) => "video".into(),
            Role::Audio(0) => "audio".into(),
            Role::Video(n) => format!("video track {}", n + 1),
            Role::Audio(n) => format!("audio track {}", n + 1),
            Role::Other(_) => format!("{} track {}", t.handler, t.id),
        }
    }
}

/// Index of the track playing `role` in `m`, if any.
pub(super) fn role_track(m: &Media, role: Role) -> Option<usize> {
    let (kind, n) = role.kind();
    m.tracks
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == kind && !t.samples.is_empty())
        .map(|(i, _)| i)
        .nth(n)
}

/// How many tracks of `kind` with samples `m` has.
pub(super) fn kind_count(m: &Media, kind: TrackKind) -> usize {
    m.tracks
        .iter()
        .filter(|t| t.kind == kind && !t.samples.is_empty())
        .count()
}

pub(super) fn overflow(m: &Media, track: &str, what: &str) -> PlanError {
    PlanError::Overflow {
        file: m.name().to_string(),
        track: track.to_string(),
        at: None,
        what: what.to_string(),
    }
}

/// Composition offsets below zero without an edit list: ffmpeg (and so ffprobe and every player
/// built on it) presents such a track later by the most negative offset (its `dts_shift`), so the
/// first frame is shown at its decode time rather than before it. seam reads the file the same
/// way, so each input's A/V offset is the one ffprobe reports.
pub(super) fn negative_cts_shift(t: &Track) -> i64 {
    let min = t.samples.iter().map(|s| s.cts_offset).min().unwrap_or(0);
    -i64::from(min.min(0))
}

/// Computes where a track sits in its input (before the planner makes it relative to the input's
/// window).
pub(super) fn span(
    m: &Media,
    t: &Track,
    tl: u64,
    label: &str,
    warnings: &mut Vec<String>,
) -> Result<Span, PlanError> {
    let ms = u64::from(m.movie_timescale);
    let ts = u64::from(t.timescale);
    let to_tl = |v: i64, scale: u64| -> Result<i128, PlanError> {
        crate::time::rescale_i128(i128::from(v), scale, tl, Rounding::Nearest)
            .ok_or_else(|| overflow(m, label, "timeline position"))
    };
    let media_end = t
        .samples
        .iter()
        .map(|s| s.cts().saturating_add(i64::from(s.duration)))
        .max()
        .unwrap_or(0);
    let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
    let mut empty = 0i64;
    let mut normal: Option<Edit> = None;
    let mut extra = 0u64;
    for e in &t.edits {
        if e.is_empty() {
            if normal.is_none() {
                empty = empty.saturating_add(i64::try_from(e.segment_duration).unwrap_or(i64::MAX));
            }
        } else if normal.is_none() {
            normal = Some(*e);
        } else {
            extra = extra.saturating_add(e.segment_duration);
        }
    }
    if extra > 0 {
        warnings.push(format!(
            "{}: {label}: edit list has several media segments; seam keeps the media from the first one on",
            m.name()
        ));
    }
    match normal {
        Some(n) => {
            if n.media_rate != 0x10000 {
                warnings.push(format!(
                    "{}: {label}: edit rate {:#x} treated as normal speed",
                    m.name(),
                    n.media_rate
                ));
            }
            let duration = if n.segment_duration == 0 {
                // Fragmented files often write 0: "the rest of the media".
                to_tl(media_end.saturating_sub(n.media_time), ts)?
            } else {
                let d = i64::try_from(n.segment_duration.saturating_add(extra)).unwrap_or(i64::MAX);
                // Never longer than the media it maps: a damaged or over-long edit would otherwise
                // stretch the input's window past its last sample (a frozen frame, or silence).
                to_tl(d, ms)?.min(to_tl(media_end.saturating_sub(n.media_time), ts)?.max(0))
            };
            Ok(Span {
                start: to_tl(empty, ms)?,
                media_time: n.media_time,
                duration,
            })
        }
        None => Ok(Span {
            // No edit list: media time maps to presentation time directly (after ffmpeg's shift
            // for negative composition offsets); made relative to the input's origin by the caller.
            start: to_tl(empty, ms)? + to_tl(min_cts.saturating_add(negative_cts_shift(t)), ts)?,
            media_time: min_cts,
            duration: to_tl(media_end.saturating_sub(min_cts), ts)?,
        }),
    }
}

/// Where an input's video and audio tracks sit in its own presentation, as the planner reads
/// them (edit lists; tracks without one start at their first composition time, the earliest of
/// them at 0), in ticks of `scale`: (earliest start, latest end). `None` when it has no video or
/// audio samples. Recording sessions (`crate::session`) place and group inputs by it.
pub fn presentation_extent(m: &Media, scale: u64) -> Option<(i128, i128)> {
    let mut warnings = Vec::new();
    let spans: Vec<(bool, Span)> = m
        .tracks
        .iter()
        .filter(|t| t.kind != TrackKind::Other && !t.samples.is_empty())
        .filter_map(|t| {
            Some((
                t.edits.is_empty(),
                span(m, t, scale, "", &mut warnings).ok()?,
            ))
        })
        .collect();
    let origin = spans
        .iter()
        .filter(|(no_elst, _)| *no_elst)
        .map(|(_, s)| s.start)
        .min()
        .unwrap_or(0);
    let starts = spans
        .iter()
        .map(|(no_elst, s)| if *no_elst { s.start - origin } else { s.start });
    let start = starts.clone().min()?;
    let end = spans
        .iter()
        .zip(starts)
        .map(|((_, s), st)| st + s.duration)
        .max()?;
    Some((start, end))
}
