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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{rescale, Rounding};

    /// 25 fps at 90 kHz.
    const FRAME: u32 = 3600;

    /// `n` frames in display order, pts = dts, sync samples where `key` says.
    fn track(n: usize, key: impl Fn(usize) -> bool) -> Vec<SampleTime> {
        (0..n)
            .map(|i| SampleTime {
                dts: i as i64 * i64::from(FRAME),
                pts: i as i64 * i64::from(FRAME),
                duration: FRAME,
                keyframe: key(i),
            })
            .collect()
    }

    /// (first sample, count, start, duration) of each segment.
    fn cuts(samples: &[SampleTime], ts: u32, t: TargetDuration) -> Vec<(usize, usize, i64, u64)> {
        segment(samples.iter().copied(), ts, t)
            .expect("segment")
            .iter()
            .map(|s| (s.first_sample, s.sample_count, s.start, s.duration))
            .collect()
    }

    fn secs(s: u64) -> TargetDuration {
        TargetDuration::new(s, 1).expect("target")
    }

    #[test]
    fn two_second_gops_make_six_second_segments_and_a_short_last_one() {
        // 20 s, a keyframe every 2 s (50 frames).
        let t = track(500, |i| i % 50 == 0);
        assert_eq!(
            cuts(&t, 90_000, TargetDuration::default()),
            vec![
                (0, 150, 0, 540_000),
                (150, 150, 540_000, 540_000),
                (300, 150, 1_080_000, 540_000),
                (450, 50, 1_620_000, 180_000),
            ]
        );
    }

    #[test]
    fn irregular_gops_cut_at_the_first_keyframe_at_or_after_each_boundary() {
        // Boundaries at frames 150 and 300; keyframes in between do not cut.
        let keys = [0, 40, 90, 100, 180, 260, 300];
        let t = track(320, |i| keys.contains(&i));
        let f = u64::from(FRAME);
        assert_eq!(
            cuts(&t, 90_000, secs(6)),
            vec![
                (0, 180, 0, 180 * f),
                (180, 120, 180 * 3600, 120 * f),
                (300, 20, 300 * 3600, 20 * f),
            ]
        );
    }

    #[test]
    fn boundaries_stay_on_the_grid() {
        // 10 fps, a keyframe every 2.5 s, 30 s: 7.5 s, 5 s, 7.5 s, 5 s, 5 s (the last ends with
        // the track), never drifting off the grid.
        let t: Vec<SampleTime> = (0..300)
            .map(|i| SampleTime {
                dts: i * 9000,
                pts: i * 9000,
                duration: 9000,
                keyframe: i % 25 == 0,
            })
            .collect();
        let d: Vec<u64> = cuts(&t, 90_000, secs(6)).iter().map(|c| c.3).collect();
        assert_eq!(d, vec![675_000, 450_000, 675_000, 450_000, 450_000]);
    }

    #[test]
    fn a_target_shorter_than_the_gop_gives_one_segment_per_gop() {
        let t = track(200, |i| i % 50 == 0);
        let c = cuts(&t, 90_000, TargetDuration::from_millis(1000).expect("1 s"));
        assert_eq!(
            c.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0, 50, 100, 150]
        );
        assert!(c.iter().all(|c| c.3 == 180_000));
    }

    #[test]
    fn boundaries_passed_by_a_long_gop_are_skipped() {
        // Keyframes at 0 s, 13 s, 14 s, 15 s, ...: ffmpeg would cut [13 s, 14 s) for the 12 s
        // boundary; seam waits for the 18 s one.
        let t = track(25 * 30, |i| i == 0 || (i >= 325 && i % 25 == 0));
        let starts: Vec<i64> = cuts(&t, 90_000, secs(6))
            .iter()
            .map(|c| c.2 / 90_000)
            .collect();
        assert_eq!(starts, vec![0, 13, 18, 24]);
    }

    #[test]
    fn b_frames_cut_at_keyframes_and_durations_tile_the_presentation() {
        // Closed GOPs of 30 pictures in decode order I0 P2 B1 P4 B3 ... P28 B27 P29, pts shifted by
        // one frame (the composition delay).
        let gop: Vec<usize> = std::iter::once(0)
            .chain((1..15).flat_map(|j| [2 * j, 2 * j - 1]))
            .chain(std::iter::once(29))
            .collect();
        assert_eq!(gop.len(), 30);
        let mut t = Vec::new();
        for g in 0..10 {
            for (k, &d) in gop.iter().enumerate() {
                let i = g * 30 + k;
                t.push(SampleTime {
                    dts: i as i64 * 3600,
                    pts: ((g * 30 + d) as i64 + 1) * 3600,
                    duration: FRAME,
                    keyframe: d == 0,
                });
            }
        }
        // GOPs of 1.2 s; boundaries every 2 s from t0 (one frame): keyframes at 2.4 s, 4.8 s,
        // 6.0 s, 8.4 s and 10.8 s after t0 start segments.
        let c = cuts(&t, 90_000, secs(2));
        assert_eq!(
            c.iter().map(|c| c.0).collect::<Vec<_>>(),
            vec![0, 60, 120, 150, 210, 270]
        );
        assert!(c.iter().all(|c| t[c.0].keyframe && c.2 == t[c.0].pts));
        let total: u64 = c.iter().map(|c| c.3).sum();
        assert_eq!(total, 300 * 3600);
    }

    #[test]
    fn audio_only_cuts_at_the_first_frame_at_or_after_the_boundary() {
        // AAC at 48 kHz: 6 s is 281.25 frames, so frames 282, 563 (12 s = 562.5 frames), 844.
        let a: Vec<SampleTime> = (0..1000)
            .map(|i| SampleTime {
                dts: i * 1024,
                pts: i * 1024,
                duration: 1024,
                keyframe: true,
            })
            .collect();
        let c = cuts(&a, 48_000, TargetDuration::default());
        assert_eq!(
            c.iter().map(|c| (c.0, c.1)).collect::<Vec<_>>(),
            vec![(0, 282), (282, 281), (563, 281), (844, 156)]
        );
        assert_eq!(c[0].3, 282 * 1024);
        assert_eq!(c.iter().map(|c| c.3).sum::<u64>(), 1000 * 1024);
    }

    #[test]
    fn errors_are_typed() {
        let t = TargetDuration::default();
        assert!(matches!(
            segment(Vec::new(), 90_000, t),
            Err(HlsError::NoSamples)
        ));
        assert!(matches!(
            segment(track(10, |i| i == 5), 90_000, t),
            Err(HlsError::FirstNotKeyframe)
        ));
        assert!(matches!(
            segment(track(10, |_| true), 0, t),
            Err(HlsError::ZeroTimescale)
        ));
        let mut z = track(1, |_| true);
        z[0].duration = 0;
        assert!(matches!(
            segment(z, 90_000, t),
            Err(HlsError::EmptyLastSegment { first_sample: 0 })
        ));
        let mut o = track(1, |_| true);
        o[0].pts = i64::MAX;
        assert!(matches!(segment(o, 90_000, t), Err(HlsError::Overflow(_))));
    }

    #[test]
    fn target_duration_parses_exact_decimals() {
        assert_eq!(TargetDuration::parse("6").expect("6").as_fraction(), (6, 1));
        assert_eq!(
            TargetDuration::parse("2.002").expect("2.002").as_fraction(),
            (2002, 1000)
        );
        for bad in ["0", "0.000", "", "-1", "1e3", "six", "1.2.3"] {
            assert!(
                matches!(
                    TargetDuration::parse(bad),
                    Err(HlsError::BadTargetDuration(_))
                ),
                "{bad:?}"
            );
        }
        assert!(TargetDuration::from_millis(0).is_err());
    }

    fn audio(n: i64, frame: i64) -> Vec<SampleTime> {
        (0..n)
            .map(|i| SampleTime {
                dts: i * frame,
                pts: i * frame,
                duration: frame as u32,
                keyframe: true,
            })
            .collect()
    }

    #[test]
    fn audio_follows_video_cuts_by_time() {
        let v = track(500, |i| i % 50 == 0);
        let segs = segment(v, 90_000, TargetDuration::default()).expect("segment");
        // 20 s of AAC: 937.5 frames.
        let a = audio(938, 1024);
        let r = audio_ranges(&segs, 90_000, &a, 48_000).expect("ranges");
        assert_eq!(r, vec![0..282, 282..563, 563..844, 844..938]);
    }

    #[test]
    fn audio_before_the_video_goes_into_the_first_segment() {
        let v: Vec<SampleTime> = track(100, |i| i % 50 == 0)
            .into_iter()
            .map(|mut s| {
                s.pts += 90_000;
                s
            })
            .collect();
        let segs = segment(v, 90_000, secs(1)).expect("segment");
        let a = audio(200, 1024);
        let r = audio_ranges(&segs, 90_000, &a, 48_000).expect("ranges");
        // Video starts at 1 s; the second segment at 3 s = frame 140.625 → 141.
        assert_eq!(r, vec![0..141, 141..200]);
    }

    #[test]
    fn the_audio_cut_equals_the_cut_rescaled_rounding_up() {
        let a = audio(2000, 1);
        for (vts, ats) in [(90_000u32, 48_000u32), (30_000, 44_100), (1000, 22_050)] {
            for cut in 0..300i64 {
                let i = first_sample_at_or_after(&a, ats, cut, vts).expect("index");
                let up = rescale(cut, vts.into(), ats.into(), Rounding::Up).expect("rescale");
                assert_eq!(
                    i as i64,
                    up.min(2000),
                    "cut {cut} at {vts} Hz into {ats} Hz"
                );
            }
        }
        // Past the last sample: the length; huge values cannot overflow the 128-bit comparison.
        assert_eq!(
            first_sample_at_or_after(&a, 48_000, i64::MAX, 1).expect("index"),
            2000
        );
        assert_eq!(
            first_sample_at_or_after(&a, 48_000, i64::MIN, 1).expect("index"),
            0
        );
    }
}
