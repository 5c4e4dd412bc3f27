//! Segments of a session: inputs grouped by their wall-clock spans, and the inputs of one segment
//! (an audio-only and a video-only file, typically) made one input of the planner.
//!
//! Two inputs belong to one segment when their wall-clock spans overlap by more than
//! [`PAIR_OVERLAP`] or by more than half the shorter one; smaller overlaps are the slack between
//! consecutive files of one recorder (the later file then starts where its time says, cutting the
//! earlier one's end when gaps are held). A segment holds at most one input with video and one
//! with audio (an A+V file is both): anything else is refused, naming both inputs.
//!
//! A segment of several inputs becomes one [`Media`] whose tracks are those inputs' tracks, each
//! moved to its own start by an empty edit at the head of its edit list (a track without an edit
//! list first gets the one the planner would read into it), read from a [`ConcatSource`] of the
//! files (sample offsets moved along). The planner then sees audio that starts before or after
//! its video inside one input, and keeps both at their times.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, PlanError};
use crate::model::{Edit, Media, Sample, SampleTable, Track, TrackKind};
use crate::source::{ConcatSource, Source};
use crate::time::{lcm, rescale, rescale_i128, Rounding};

/// Overlaps up to this long (in seconds) between two inputs do not pair them.
pub const PAIR_OVERLAP: (i64, u32) = (1, 2);

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
    fn wall(&self) -> (i128, i128) {
        (self.origin + self.extent.0, self.origin + self.extent.1)
    }

    fn has(&self, kind: TrackKind) -> bool {
        self.media
            .tracks
            .iter()
            .any(|t| t.kind == kind && !t.samples.is_empty())
    }
}

/// Groups `inputs` (any order) into segments in wall-clock order; each segment's inputs in
/// start order. `scale` is the session's ticks per second.
pub(super) fn group(inputs: &[Opened], scale: u64) -> Result<Vec<Vec<usize>>, Error> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    order.sort_by_key(|&i| (inputs[i].wall().0, i));
    let tolerance = i128::from(PAIR_OVERLAP.0) * i128::from(scale) / i128::from(PAIR_OVERLAP.1);
    let pairs = |a: &Opened, b: &Opened| {
        let (a0, a1) = a.wall();
        let (b0, b1) = b.wall();
        let overlap = a1.min(b1) - a0.max(b0);
        let shorter = (a1 - a0).min(b1 - b0);
        overlap > 0 && (overlap > tolerance || 2 * overlap > shorter)
    };
    let mut segments: Vec<Vec<usize>> = Vec::new();
    for i in order {
        match segments.last_mut() {
            Some(seg) if seg.iter().any(|&j| pairs(&inputs[j], &inputs[i])) => seg.push(i),
            _ => segments.push(vec![i]),
        }
    }
    for seg in &segments {
        for kind in [TrackKind::Video, TrackKind::Audio] {
            let mut with = seg.iter().filter(|&&i| inputs[i].has(kind));
            if let (Some(&a), Some(&b)) = (with.next(), with.next()) {
                return Err(PlanError::Unsupported {
                    file: inputs[b].path.display().to_string(),
                    track: kind.as_str().into(),
                    what: format!(
                        "its wall-clock span overlaps that of {}, which has {} too; a segment \
                         pairs at most one input with video and one with audio (check the start \
                         times)",
                        inputs[a].path.display(),
                        kind.as_str()
                    ),
                }
                .into());
            }
        }
    }
    Ok(segments)
}

/// One file of a merged segment: its source and where its bytes start in the concatenation.
pub(super) type Part = (Arc<dyn Source>, u64);

/// The planner input for one segment, the wall-clock time (session ticks) of its presentation
/// time 0, and, when it joins several files, those files. A segment of one input is that input
/// unchanged.
pub(super) fn merge(
    inputs: &mut [Option<Opened>],
    seg: &[usize],
    scale: u64,
) -> Result<(Media, i128, Option<Vec<Part>>), Error> {
    let mut parts: Vec<Opened> = seg.iter().filter_map(|&i| inputs[i].take()).collect();
    if parts.len() == 1 {
        let o = parts.remove(0);
        return Ok((o.media, o.origin, None));
    }
    let origin = parts.iter().map(|o| o.origin).min().unwrap_or(0);
    // One movie timescale exact for every input's edits and for the offsets between inputs.
    let movie_timescale = parts
        .iter()
        .map(|o| u64::from(o.media.movie_timescale))
        .try_fold(scale, |l, s| {
            lcm(l, s).filter(|&v| v <= u64::from(u32::MAX))
        })
        .or_else(|| {
            parts
                .iter()
                .map(|o| u64::from(o.media.movie_timescale))
                .try_fold(1000, lcm)
                .filter(|&v| v <= u64::from(u32::MAX))
        })
        .unwrap_or(1000) as u32;
    let ms = u64::from(movie_timescale);
    let mut tracks = Vec::new();
    let mut sources: Vec<Arc<dyn Source>> = Vec::with_capacity(parts.len());
    let mut base = 0u64;
    let mut names = Vec::with_capacity(parts.len());
    let mut files: Vec<Part> = Vec::with_capacity(parts.len());
    let mut udta = None;
    let mut meta = None;
    let mut duration = 0u64;
    let first_format = parts[0].media.format;
    let first_brand = parts[0].media.major_brand;
    for o in parts {
        let m = o.media;
        let file = m.name().to_string();
        let overflow = |what: &str| PlanError::Overflow {
            file: file.clone(),
            track: "session".into(),
            at: None,
            what: what.into(),
        };
        let delta = rescale_i128(o.origin - origin, scale, ms, Rounding::Nearest)
            .and_then(|v| u64::try_from(v).ok())
            .ok_or_else(|| overflow("start time"))?;
        if udta.is_none() || m.video().is_some() {
            udta = m.udta.clone().or(udta);
            meta = m.meta.clone().or(meta);
        }
        // Tracks without an edit list start at their first composition time after ffmpeg's
        // shift, the earliest of them at 0 (as the planner reads them).
        let no_elst_origin = m
            .tracks
            .iter()
            .filter(|t| t.edits.is_empty() && !t.samples.is_empty() && t.kind != TrackKind::Other)
            .filter_map(|t| {
                rescale_i128(
                    i128::from(first_presented(t)),
                    u64::from(t.timescale),
                    ms,
                    Rounding::Nearest,
                )
            })
            .min()
            .unwrap_or(0);
        for t in m.tracks {
            if t.kind == TrackKind::Other || t.samples.is_empty() {
                continue;
            }
            if t.samples.aux().is_some() {
                return Err(PlanError::Unsupported {
                    file: file.clone(),
                    track: t.kind.as_str().into(),
                    what: "an encrypted track cannot be paired with another input's tracks".into(),
                }
                .into());
            }
            let mut t = t;
            t.edits = edits(&t, m.movie_timescale, ms, delta, no_elst_origin)
                .ok_or_else(|| overflow("edit list"))?;
            duration = duration.max(t.edits.iter().map(|e| e.segment_duration).sum());
            if base > 0 {
                t.samples = moved(&t.samples, base).map_err(|e| overflow(&e))?;
            }
            t.id = tracks.len() as u32 + 1;
            tracks.push(t);
        }
        base = base
            .checked_add(m.source.len())
            .ok_or_else(|| overflow("file size"))?;
        names.push(file.clone());
        files.push((m.source.clone(), base - m.source.len()));
        sources.push(m.source);
    }
    // Video first, as in a recorder's A+V files.
    tracks.sort_by_key(|t| t.kind != TrackKind::Video);
    let source = Arc::new(ConcatSource::named(sources, names.join(" + ")));
    Ok((
        Media {
            source,
            format: first_format,
            major_brand: first_brand,
            movie_timescale,
            movie_duration: duration,
            tracks,
            udta,
            meta,
            pssh: Box::default(),
        },
        origin,
        Some(files),
    ))
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

/// The track's edit list in movie ticks of `ms`, delayed by `delta` (its input's start within
/// the segment). A track without an edit list gets the one the planner would read into it.
fn edits(t: &Track, from_ms: u32, ms: u64, delta: u64, no_elst_origin: i128) -> Option<Vec<Edit>> {
    let ts = u64::from(t.timescale);
    let mut out = Vec::with_capacity(t.edits.len() + 1);
    if t.edits.is_empty() {
        let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
        let end = t
            .samples
            .iter()
            .map(|s| s.cts().saturating_add(i64::from(s.duration)))
            .max()
            .unwrap_or(0);
        let at = rescale_i128(i128::from(first_presented(t)), ts, ms, Rounding::Nearest)?
            - no_elst_origin;
        let empty = u64::try_from(i128::from(delta) + at.max(0)).ok()?;
        if empty > 0 {
            out.push(Edit {
                segment_duration: empty,
                media_time: -1,
                media_rate: 0x10000,
            });
        }
        let d = rescale(end.checked_sub(min_cts)?, ts, ms, Rounding::Up)?;
        out.push(Edit {
            segment_duration: u64::try_from(d).ok()?,
            media_time: min_cts,
            media_rate: 0x10000,
        });
        return Some(out);
    }
    if delta > 0 {
        out.push(Edit {
            segment_duration: delta,
            media_time: -1,
            media_rate: 0x10000,
        });
    }
    for e in &t.edits {
        let d = rescale(
            i64::try_from(e.segment_duration).ok()?,
            u64::from(from_ms),
            ms,
            Rounding::Nearest,
        )?;
        out.push(Edit {
            segment_duration: u64::try_from(d).ok()?,
            ..*e
        });
    }
    Some(out)
}

/// The samples with their byte offsets moved by `base` (the file's start in the concatenation).
fn moved(samples: &SampleTable, base: u64) -> Result<SampleTable, String> {
    let mut out = SampleTable::new();
    out.reserve(samples.len());
    for s in samples.iter() {
        let offset = s.offset.checked_add(base).ok_or("sample offset")?;
        out.push(Sample { offset, ..s })
            .map_err(|e| e.to_string())?;
    }
    Ok(out)
}
