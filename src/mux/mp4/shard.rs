//! MP4 shards: one [`StitchPlan`] split into consecutive plans of about a target duration, each
//! starting at a keyframe, each written as its own progressive MP4 (`--segment-duration N -o
//! out.mp4` writes `out_00000.mp4`, `out_00001.mp4`, ...).
//!
//! **Cuts.** The cut track (the first video track, else the first audio track, else the first
//! track) is cut by the HLS segmenter's rule ([`segment`]: the first keyframe at or after each
//! multiple of the target) on its *presentation* times, read through the output edit list (each
//! media edit maps its own media range, ISO/IEC 14496-12 §8.6.6). Keyframes that the edit list
//! hides (decode-only frames at a join) never start a shard: a shard starting there would have
//! to present frames before its own start. Shard `k` presents movie ticks `A_k..A_{k+1}`, with
//! `A_0 = 0`, `A_k` the cut keyframe's presentation time rounded once to the movie timescale, and
//! the last shard ending at the plan's duration, so the shard durations add up to the plan's
//! exactly.
//!
//! **Other tracks** follow by presentation time ([`audio_ranges`]: a sample goes to the shard
//! its presentation starts in). An audio frame straddling a cut therefore stays in the earlier
//! shard, whose edit list ends at the cut; the later shard starts at its first frame, less than
//! one frame after the cut, behind an empty edit: at most one frame of audio (21 ms at 48 kHz)
//! is not heard at each cut, and A/V sync is exact in every shard.
//!
//! **Open GOPs.** A shard starts at the earliest picture of its first GOP: leading pictures
//! (decoded after the keyframe, shown before it) belong to the keyframe's shard. Those that
//! reference the previous GOP (H.265 RASL pictures of a CRA, H.264 open-GOP B-frames) cannot be
//! decoded at the start of a file of their own; decoders skip them (H.265 §8.1.3,
//! `NoRaslOutputFlag`), so such a shard shows its keyframe from its start a few frames early.
//! Closed GOPs (what cameras and most encoders write) lose nothing.
//!
//! **Each shard** is normalised as the planner does for a whole output: every track's decode
//! times start at 0, and its edit list is the output edit list clipped to the shard's span, media
//! times moved along (rounded once from movie ticks to track ticks). Tracks without samples in a
//! shard are left out of it.

use std::ops::Range;

use crate::model::Edit;
use crate::mux::hls::{audio_ranges, segment, SampleTime, Segment, TargetDuration};
use crate::plan::{OutSamples, OutTrack, StitchPlan};
use crate::time::{rescale, Rounding};

use crate::model::TrackKind;

/// Why a plan cannot be cut into shards.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// The cut track has no samples, or no keyframe first.
    #[error("cutting into shards: {0}")]
    Cut(String),
    /// A time out of range.
    #[error("cutting into shards: timestamp overflow ({0})")]
    Overflow(&'static str),
}

/// One output track's edit list as a map from media time to presentation time.
struct EditMap {
    /// Per media edit: presentation start (movie ticks), duration (movie ticks), media time.
    media: Vec<(u64, u64, i64)>,
    timescale: u32,
    movie_timescale: u32,
}

impl EditMap {
    fn new(t: &OutTrack, movie_timescale: u32) -> Self {
        let mut media = Vec::new();
        let mut p = 0u64;
        for e in &t.edits {
            if !e.is_empty() {
                media.push((p, e.segment_duration, e.media_time));
            }
            p = p.saturating_add(e.segment_duration);
        }
        EditMap {
            media,
            timescale: t.timescale,
            movie_timescale,
        }
    }

    /// Presentation time of media time `x`, in track ticks, and whether an edit presents it.
    /// Media before an edit (decode-only frames) maps through the next edit, media past the last
    /// edit through the last; a track without edits presents media time as it is.
    fn present(&self, x: i64) -> Result<(i64, bool), ShardError> {
        let (ts, mts) = (u64::from(self.timescale), u64::from(self.movie_timescale));
        let contains = |&&(_, d, m): &&(u64, u64, i64)| {
            // m <= x < m + d·ts/mts, exactly.
            x >= m
                && (i128::from(x) - i128::from(m)) * i128::from(mts)
                    < i128::from(d) * i128::from(ts)
        };
        let (edit, shown) = match self.media.iter().find(contains) {
            Some(e) => (Some(e), true),
            None => (
                self.media
                    .iter()
                    .find(|&&(_, _, m)| m > x)
                    .or(self.media.last()),
                false,
            ),
        };
        let Some(&(p, _, m)) = edit else {
            return Ok((x, true));
        };
        let p = i64::try_from(p).map_err(|_| ShardError::Overflow("edit start"))?;
        let start = rescale(p, mts, ts, Rounding::Nearest).ok_or(ShardError::Overflow("edit"))?;
        let t = x
            .checked_sub(m)
            .and_then(|d| d.checked_add(start))
            .ok_or(ShardError::Overflow("presentation time"))?;
        Ok((t, shown))
    }
}

/// The index of the track to cut: first video, else first audio, else first track with samples.
fn cut_track(plan: &StitchPlan) -> Option<usize> {
    let with = |k: TrackKind| {
        plan.tracks
            .iter()
            .position(|t| t.kind == k && !t.samples.is_empty())
    };
    with(TrackKind::Video)
        .or_else(|| with(TrackKind::Audio))
        .or_else(|| plan.tracks.iter().position(|t| !t.samples.is_empty()))
}

/// Splits `plan` into shards of about `target` (see the module documentation).
pub fn shard_plan(
    plan: &StitchPlan,
    target: TargetDuration,
) -> Result<Vec<StitchPlan>, ShardError> {
    if plan.tracks.iter().any(|t| t.encryption.is_some()) {
        // Each shard would need its samples' encryption entries sliced with them; not done yet.
        return Err(ShardError::Cut(
            "encrypted tracks cannot be cut into shards yet (write one file)".into(),
        ));
    }
    let mts = plan.movie_timescale;
    let cut = cut_track(plan).ok_or_else(|| ShardError::Cut("no samples".into()))?;
    let ct = &plan.tracks[cut];
    let map = EditMap::new(ct, mts);
    let mut times = Vec::with_capacity(ct.samples.len());
    for (k, s) in ct.samples.iter().enumerate() {
        let pts = s
            .dts
            .checked_add(i64::from(s.cts_offset))
            .ok_or(ShardError::Overflow("composition time"))?;
        let (pts, shown) = map.present(pts)?;
        times.push(SampleTime {
            dts: pts,
            pts,
            duration: s.duration,
            // Segment 0 starts at sample 0 whatever it is; a hidden keyframe never starts one.
            keyframe: s.sync && (shown || k == 0),
        });
    }
    let segments = segment(times.iter().copied(), ct.timescale, target)
        .map_err(|e| ShardError::Cut(e.to_string()))?;
    // A shard starts at its earliest picture: with an open GOP (H.265 CRA, H.264 open
    // recovery points), leading pictures decode after the keyframe but show before it, and
    // belong to the keyframe's shard.
    let starts: Vec<i64> = segments
        .iter()
        .map(|seg| {
            times
                .get(seg.samples())
                .into_iter()
                .flatten()
                .map(|t| t.pts)
                .min()
                .unwrap_or(seg.start)
        })
        .collect();
    drop(times);

    // Shard boundaries in movie ticks.
    let mut bounds = Vec::with_capacity(segments.len() + 1);
    bounds.push(0u64);
    // The cut track's first sample of each shard.
    let mut firsts = vec![0usize];
    for (seg, &start) in segments.iter().zip(&starts).skip(1) {
        let a = rescale(
            start,
            u64::from(ct.timescale),
            u64::from(mts),
            Rounding::Nearest,
        )
        .and_then(|a| u64::try_from(a).ok())
        .ok_or(ShardError::Overflow("shard start"))?;
        if bounds.last().is_some_and(|&l| a <= l) || a >= plan.duration {
            // A cut that rounds onto the previous one (or past the end) merges the shards.
            continue;
        }
        bounds.push(a);
        firsts.push(seg.first_sample);
    }
    bounds.push(plan.duration);
    firsts.push(ct.samples.len());
    // The cut points as segments in movie ticks, for the other tracks.
    let cuts: Vec<Segment> = bounds[..bounds.len() - 1]
        .iter()
        .map(|&a| Segment {
            first_sample: 0,
            sample_count: 0,
            start: i64::try_from(a).unwrap_or(i64::MAX),
            duration: 0,
        })
        .collect();
    let mut ranges: Vec<Vec<Range<usize>>> = Vec::with_capacity(plan.tracks.len());
    for (i, t) in plan.tracks.iter().enumerate() {
        if i == cut {
            ranges.push(firsts.windows(2).map(|w| w[0]..w[1]).collect());
            continue;
        }
        let map = EditMap::new(t, mts);
        let mut times = Vec::with_capacity(t.samples.len());
        for s in t.samples.iter() {
            // Audio by presentation; other tracks by decode time (sorted even with B-frames).
            let x = if t.kind == TrackKind::Video {
                s.dts
            } else {
                s.dts.saturating_add(i64::from(s.cts_offset))
            };
            let (pts, _) = map.present(x)?;
            times.push(SampleTime {
                dts: pts,
                pts,
                duration: s.duration,
                keyframe: s.sync,
            });
        }
        ranges.push(
            audio_ranges(&cuts, mts, &times, t.timescale)
                .map_err(|e| ShardError::Cut(e.to_string()))?,
        );
    }
    let mut out = Vec::with_capacity(cuts.len());
    for (k, w) in bounds.windows(2).enumerate() {
        let (a, b) = (w[0], w[1]);
        let mut tracks = Vec::with_capacity(plan.tracks.len());
        for (t, r) in plan.tracks.iter().zip(&ranges) {
            if let Some(sub) = sub_track(t, r.get(k).cloned().unwrap_or(0..0), a, b, mts)? {
                tracks.push(sub);
            }
        }
        out.push(StitchPlan {
            inputs: plan.inputs.clone(),
            movie_timescale: mts,
            duration: b - a,
            tracks,
            generated: plan.generated.clone(),
            input_starts: plan.input_starts.clone(),
            udta: plan.udta.clone(),
            meta: plan.meta.clone(),
            pssh: Vec::new(),
            warnings: Vec::new(),
            joins: Vec::new(),
            transcoded: Vec::new(),
        });
    }
    Ok(out)
}

/// Samples `range` of `t` as a track of its own presenting movie ticks `a..b` of the output, or
/// `None` when it has nothing to present there.
fn sub_track(
    t: &OutTrack,
    range: Range<usize>,
    a: u64,
    b: u64,
    mts: u32,
) -> Result<Option<OutTrack>, ShardError> {
    let Some(first) = t.samples.get(range.start).filter(|_| !range.is_empty()) else {
        return Ok(None);
    };
    let dts0 = first.dts;
    let mut samples = OutSamples::with_capacity(range.len());
    let (mut lo, mut end, mut last) = (i64::MAX, i64::MIN, 0i64);
    for mut s in t.samples.iter_range(range) {
        s.dts = s
            .dts
            .checked_sub(dts0)
            .ok_or(ShardError::Overflow("decode time"))?;
        let pts = s.dts.saturating_add(i64::from(s.cts_offset));
        lo = lo.min(pts);
        end = end.max(pts.saturating_add(i64::from(s.duration)));
        last = i64::from(s.duration);
        samples.push(s);
    }
    samples
        .finish(last)
        .map_err(|_| ShardError::Overflow("sample duration"))?;
    let edits = clip_edits(t, a, b, dts0, lo, end, mts)?;
    if !edits.iter().any(|e| !e.is_empty()) {
        return Ok(None);
    }
    Ok(Some(OutTrack {
        kind: t.kind,
        handler: t.handler,
        timescale: t.timescale,
        language: t.language,
        header: t.header.clone(),
        hdlr: t.hdlr.clone(),
        media_header: t.media_header.clone(),
        sample_entries: t.sample_entries.clone(),
        edits,
        samples,
        segments: Vec::new(),
        encryption: None,
    }))
}

/// The edit list of `t` clipped to movie ticks `a..b`, media times moved by `-dts0`; the first
/// media edit starts no earlier than the shard's first composition time `lo` (an empty edit
/// covers the difference) and the last ends no later than its media `end`.
fn clip_edits(
    t: &OutTrack,
    a: u64,
    b: u64,
    dts0: i64,
    lo: i64,
    end: i64,
    mts: u32,
) -> Result<Vec<Edit>, ShardError> {
    let (ts, mts64) = (u64::from(t.timescale), u64::from(mts));
    let to_track = |v: u64| {
        i64::try_from(v)
            .ok()
            .and_then(|v| rescale(v, mts64, ts, Rounding::Nearest))
            .ok_or(ShardError::Overflow("edit"))
    };
    let to_movie = |v: i64| {
        rescale(v, ts, mts64, Rounding::Nearest)
            .and_then(|v| u64::try_from(v.max(0)).ok())
            .ok_or(ShardError::Overflow("edit"))
    };
    let mut out: Vec<Edit> = Vec::new();
    let mut p = 0u64;
    let edits: Vec<Edit> = if t.edits.is_empty() {
        // No edit list: media time is presentation time over the whole output.
        vec![Edit {
            segment_duration: u64::MAX / 2,
            media_time: 0,
            media_rate: 0x10000,
        }]
    } else {
        t.edits.clone()
    };
    for e in &edits {
        let (s, en) = (p.max(a), p.saturating_add(e.segment_duration).min(b));
        let start = p;
        p = p.saturating_add(e.segment_duration);
        if s >= en {
            continue;
        }
        if e.is_empty() {
            out.push(Edit {
                segment_duration: en - s,
                ..*e
            });
            continue;
        }
        let mut mt = e
            .media_time
            .checked_add(to_track(s - start)?)
            .and_then(|m| m.checked_sub(dts0))
            .ok_or(ShardError::Overflow("edit media time"))?;
        let mut dur = en - s;
        if !out.iter().any(|x| !x.is_empty()) && mt < lo {
            // The shard's media starts after the cut: wait for it.
            let gap = to_movie(lo - mt)?.min(dur);
            if gap > 0 {
                out.push(Edit {
                    segment_duration: gap,
                    media_time: -1,
                    media_rate: 0x10000,
                });
            }
            dur -= gap;
            mt = lo;
        }
        // Never past the media (an edit lasts no longer than what it maps).
        dur = dur.min(to_movie(end.saturating_sub(mt))?);
        if dur > 0 {
            out.push(Edit {
                segment_duration: dur,
                media_time: mt,
                media_rate: e.media_rate,
            });
        }
    }
    // An empty edit last presents nothing.
    while out.last().is_some_and(Edit::is_empty) {
        out.pop();
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::source::{FileSource, Source};

    fn fixture_plan(names: &[&str]) -> StitchPlan {
        let sources = names
            .iter()
            .map(|n| {
                let p = format!("fixtures/{n}");
                Arc::new(FileSource::open(std::path::Path::new(&p)).expect("fixture"))
                    as Arc<dyn Source>
            })
            .collect();
        crate::api::plan_sources(sources, &crate::StitchOptions::default()).expect("plan")
    }

    #[test]
    fn shards_tile_the_plan_and_start_at_keyframes() {
        for names in [
            &["a.mp4", "b.mp4", "c.mp4"][..],
            &["preroll_1.mp4", "preroll_2.mp4"],
        ] {
            let plan = fixture_plan(names);
            let target = TargetDuration::from_millis(1000).expect("target");
            let shards = shard_plan(&plan, target).expect("shards");
            assert!(shards.len() >= 3, "{names:?}: {} shards", shards.len());
            assert_eq!(
                shards.iter().map(|s| s.duration).sum::<u64>(),
                plan.duration,
                "{names:?}"
            );
            for (i, t) in plan.tracks.iter().enumerate() {
                let n: usize = shards.iter().map(|s| s.tracks[i].samples.len()).sum();
                assert_eq!(n, t.samples.len(), "{names:?}: track {i}");
            }
            for s in &shards {
                let v = &s.tracks[0];
                assert_eq!(v.kind, TrackKind::Video);
                let first = v.samples.first().expect("samples");
                assert!(first.sync);
                assert_eq!(first.dts, 0);
                for t in &s.tracks {
                    // Every track presents within the shard and maps media it has.
                    assert!(t.presentation_duration() <= s.duration);
                    assert!(t.edits.iter().all(|e| e.is_empty() || e.media_time >= 0));
                }
            }
        }
    }

    #[test]
    fn clipped_edits_wait_for_late_media_and_stop_at_its_end() {
        let mut plan = fixture_plan(&["a.mp4"]);
        let t = &mut plan.tracks[1];
        assert_eq!(t.kind, TrackKind::Audio);
        let mts = plan.movie_timescale;
        let second = u64::from(mts);
        t.edits = vec![Edit {
            segment_duration: 10 * second,
            media_time: 0,
            media_rate: 0x10000,
        }];
        assert_eq!(t.timescale, 48_000);
        // Media 480..48480 of the track (10 ms late) in a shard presenting its first second.
        let e = clip_edits(t, 0, second, 0, 480, 48_480, mts).expect("edits");
        assert!(
            e[0].is_empty() && e[0].segment_duration == second / 100,
            "{e:?}"
        );
        assert_eq!(e[1].media_time, 480);
        assert_eq!(e[0].segment_duration + e[1].segment_duration, second);
        // Media ending early shortens the edit.
        let e = clip_edits(t, 0, second, 0, 0, 24_000, mts).expect("edits");
        assert_eq!(e.len(), 1);
        assert_eq!(
            e[0].segment_duration,
            24_000 * u64::from(mts) / u64::from(t.timescale)
        );
    }
}
