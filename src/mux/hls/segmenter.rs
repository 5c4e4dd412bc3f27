//! Where HLS segments start.
//!
//! One track (the video track, or the audio track of an audio-only output) decides the cuts; the
//! other tracks follow by time ([`audio_ranges`]). Every segment of the cut track starts with a
//! sync sample, so each segment decodes on its own (RFC 8216 §4.3.5.1 `EXT-X-INDEPENDENT-SEGMENTS`,
//! which the playlist writer declares).
//!
//! # The cut rule
//!
//! Let `t0` be the presentation time of the track's first sample and `T` the target duration. The
//! boundaries lie on the grid `t0 + n·T` (n = 1, 2, ...). A sync sample starts a new segment when
//! a boundary lies in `(start of the current segment, its pts]`, i.e. when
//! `floor((pts − t0) / T) > floor((segment start − t0) / T)`. In words: the segment is cut at the
//! first sync sample at or after the next boundary; boundaries that a long GOP ran past are
//! skipped, not carried over.
//!
//! This is ffmpeg's hls muxer rule (`hls_time`: cut at the first keyframe whose pts reaches
//! `(segment number + 1)·T`) when GOPs are no longer than `T`. When a GOP is longer, ffmpeg counts
//! boundaries by segment number and then cuts a very short segment at the next keyframe; seam
//! skips the passed boundaries instead, so segments stay near `T` and never drift from the grid.
//! Examples (T = 6 s): sync samples every 2 s → 6 s segments; every 2.5 s → 7.5 s, 5 s, 7.5 s, 5 s
//! ...; a GOP of 10 s → 10 s segments.
//!
//! Audio-only tracks are cut by the same rule; every AAC frame is a sync sample, so a segment
//! starts at the first frame at or after the boundary.
//!
//! # Segment times
//!
//! A segment starts at the pts of its first sample (a sync sample: in a closed GOP the earliest
//! picture of its GOP) and lasts until the next segment's start; the last one lasts until the
//! track's presentation end, the largest `pts + duration`. The durations therefore tile the
//! track's presentation from `t0` exactly: their sum is `end − t0`, with no rounding. Decisions use
//! presentation times (what a viewer sees); decode times are not needed.

use std::ops::Range;

use super::HlsError;
use crate::demux::hls::playlist::Duration as DecimalDuration;

/// The times of one sample of the track being cut, in its timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SampleTime {
    /// Decode time.
    pub dts: i64,
    /// Presentation time.
    pub pts: i64,
    /// Duration.
    pub duration: u32,
    /// A sync sample (a keyframe: decoding can start here).
    pub keyframe: bool,
}

/// The target segment duration, exactly `num / den` seconds (`--segment-duration`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetDuration {
    num: u64,
    den: u64,
}

impl Default for TargetDuration {
    /// 6 seconds: Apple's recommendation in the HLS authoring specification, and what most
    /// packagers use.
    fn default() -> Self {
        TargetDuration { num: 6, den: 1 }
    }
}

impl TargetDuration {
    /// `num / den` seconds; both must be positive.
    pub fn new(num: u64, den: u64) -> Result<Self, HlsError> {
        if num == 0 || den == 0 {
            return Err(HlsError::BadTargetDuration(format!("{num}/{den}")));
        }
        Ok(TargetDuration { num, den })
    }

    /// A whole number of milliseconds.
    pub fn from_millis(ms: u64) -> Result<Self, HlsError> {
        TargetDuration::new(ms, 1000)
    }

    /// Parses seconds as written on the command line: `6`, `2.5`, `2.002` (up to 9 decimals;
    /// exact, never through a float).
    pub fn parse(s: &str) -> Result<Self, HlsError> {
        let d = DecimalDuration::parse(s.trim())
            .ok_or_else(|| HlsError::BadTargetDuration(s.to_string()))?;
        TargetDuration::new(d.num, d.den()).map_err(|_| HlsError::BadTargetDuration(s.to_string()))
    }

    /// Seconds as a fraction `(num, den)`.
    pub fn as_fraction(self) -> (u64, u64) {
        (self.num, self.den)
    }
}

/// One segment of the cut track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// Index of its first sample (decode order); a sync sample.
    pub first_sample: usize,
    /// Number of samples.
    pub sample_count: usize,
    /// Presentation time of its first sample, in the track's timescale.
    pub start: i64,
    /// Exact duration in the track's timescale (see the module documentation).
    pub duration: u64,
}

impl Segment {
    /// The sample indices, decode order.
    pub fn samples(&self) -> Range<usize> {
        self.first_sample..self.first_sample + self.sample_count
    }
}

/// Cuts a track into segments by the rule of the module documentation. `samples` are in decode
/// order, times in `timescale` ticks per second.
pub fn segment<I>(
    samples: I,
    timescale: u32,
    target: TargetDuration,
) -> Result<Vec<Segment>, HlsError>
where
    I: IntoIterator<Item = SampleTime>,
{
    if timescale == 0 {
        return Err(HlsError::ZeroTimescale);
    }
    // Grid cell of a pts: floor((pts − t0) · den / (num · timescale)), in 128 bits (a 64-bit
    // difference times a 64-bit denominator cannot overflow them).
    let cell_den = i128::from(target.num)
        .checked_mul(i128::from(timescale))
        .ok_or(HlsError::Overflow("target duration in ticks"))?;
    let cell = |pts: i64, t0: i64| -> Result<i128, HlsError> {
        let d = i128::from(pts) - i128::from(t0);
        let n = d
            .checked_mul(i128::from(target.den))
            .ok_or(HlsError::Overflow("grid position"))?;
        Ok(n.div_euclid(cell_den))
    };

    let mut out = Vec::new();
    // The segment being filled, its grid cell, t0 and the presentation end so far.
    let mut cur: Option<(Segment, i128, i64)> = None;
    let mut end = i64::MIN;
    for (i, s) in samples.into_iter().enumerate() {
        let sample_end = s
            .pts
            .checked_add(i64::from(s.duration))
            .ok_or(HlsError::Overflow("sample presentation end"))?;
        end = end.max(sample_end);
        let Some((seg, seg_cell, t0)) = cur.as_mut() else {
            if !s.keyframe {
                return Err(HlsError::FirstNotKeyframe);
            }
            cur = Some((
                Segment {
                    first_sample: 0,
                    sample_count: 1,
                    start: s.pts,
                    duration: 0,
                },
                0,
                s.pts,
            ));
            continue;
        };
        if s.keyframe {
            let c = cell(s.pts, *t0)?;
            if c > *seg_cell {
                // The cell grows with the pts, so this pts is past the segment's start.
                seg.duration = pts_diff(s.pts, seg.start)?;
                out.push(*seg);
                *seg = Segment {
                    first_sample: i,
                    sample_count: 0,
                    start: s.pts,
                    duration: 0,
                };
                *seg_cell = c;
            }
        }
        seg.sample_count += 1;
    }
    let Some((mut last, _, _)) = cur else {
        return Err(HlsError::NoSamples);
    };
    if end <= last.start {
        return Err(HlsError::EmptyLastSegment {
            first_sample: last.first_sample,
        });
    }
    last.duration = pts_diff(end, last.start)?;
    out.push(last);
    Ok(out)
}

/// `later − earlier` as a positive tick count.
fn pts_diff(later: i64, earlier: i64) -> Result<u64, HlsError> {
    later
        .checked_sub(earlier)
        .and_then(|d| u64::try_from(d).ok())
        .ok_or(HlsError::Overflow("segment duration"))
}

/// The index of the first sample of `samples` (sorted by pts, as audio is) whose pts is at or
/// after `cut` (in `cut_timescale` ticks); `samples.len()` when none is.
///
/// The comparison is exact: `pts / timescale >= cut / cut_timescale` is tested as
/// `pts · cut_timescale >= cut · timescale` in 128 bits, which is the same as comparing the pts
/// with `cut` rescaled to `timescale` rounding up ([`crate::time::rescale`] with
/// [`crate::time::Rounding::Up`]). No rounding can move a sample across the cut.
pub fn first_sample_at_or_after(
    samples: &[SampleTime],
    timescale: u32,
    cut: i64,
    cut_timescale: u32,
) -> Result<usize, HlsError> {
    if timescale == 0 || cut_timescale == 0 {
        return Err(HlsError::ZeroTimescale);
    }
    let rhs = i128::from(cut) * i128::from(timescale);
    Ok(samples.partition_point(|s| i128::from(s.pts) * i128::from(cut_timescale) < rhs))
}

/// The samples of another track (audio, sorted by pts) that go into each of `segments` (cut from a
/// track of `timescale`): segment k holds the samples from the first at or after its start
/// ([`first_sample_at_or_after`]) to the first at or after the next segment's start. Segment 0
/// starts at sample 0 and the last ends at the end, so every sample is in exactly one segment
/// (audio starting before the video goes into the first segment). Ranges may be empty.
pub fn audio_ranges(
    segments: &[Segment],
    timescale: u32,
    audio: &[SampleTime],
    audio_timescale: u32,
) -> Result<Vec<Range<usize>>, HlsError> {
    let mut starts = Vec::with_capacity(segments.len() + 1);
    for (k, seg) in segments.iter().enumerate() {
        starts.push(if k == 0 {
            0
        } else {
            first_sample_at_or_after(audio, audio_timescale, seg.start, timescale)?
        });
    }
    starts.push(audio.len());
    Ok(starts.windows(2).map(|w| w[0]..w[1].max(w[0])).collect())
}
