//! Checks of seam's outputs with ffmpeg/ffprobe as the independent reader: per-packet bit-exactness
//! (framemd5), frame counts and durations, A/V sync at every join, clean decoding, monotonic
//! timestamps, kept timecode/rotation, exact video timestamps, and `seam probe` against ffprobe.
//!
//! Every test starts with `require_ffmpeg()` (see tests/common/mod.rs). Failures are collected per
//! stitch so one run reports every set that is wrong.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn paths(set: &[&str]) -> Vec<PathBuf> {
    set.iter().map(|n| fixture(n)).collect()
}

fn layout(fragmented: bool) -> &'static str {
    if fragmented {
        "fragmented"
    } else {
        "progressive"
    }
}

/// Makes the outputs and fills the ffprobe/framemd5 caches for them and their inputs, in parallel.
fn outputs_prefetched(fragmented: &[bool], ten: bool) -> Vec<Stitched> {
    let outs = all_outputs(fragmented, ten);
    let mut files: Vec<PathBuf> = outs.iter().map(|o| o.2.clone()).collect();
    for (s, _, _) in &outs {
        files.extend(paths(s));
    }
    prefetch(&files);
    outs
}

fn assert_no_failures(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Seconds of audio the input starts late (after its earliest stream), from ffprobe start times.
fn audio_lateness(input: &Path) -> f64 {
    let p = ffprobe(input);
    let first = p
        .streams
        .iter()
        .filter(|s| s.codec_type == "video" || s.codec_type == "audio")
        .filter_map(|s| s.start_time)
        .fold(f64::INFINITY, f64::min);
    match p.stream(Kind::Audio).and_then(|a| a.start_time) {
        Some(a) => a - first,
        None => 0.0,
    }
}

/// The framemd5 checks of one output: every video packet, in order; audio as per-input contiguous
/// runs plus silence only where allowed. Returns the audio alignment.
fn check_framemd5(set: &[&str], out: &Path) -> Result<AudioAlignment, String> {
    let inputs = paths(set);
    // Video: the output's packets are exactly the inputs' packets, in order.
    let out_v = md5s(out, Kind::Video);
    let mut expected = Vec::new();
    let mut owner = Vec::new();
    for (i, p) in inputs.iter().enumerate() {
        let v = md5s(p, Kind::Video);
        owner.extend((0..v.len()).map(|k| (i, k)));
        expected.extend(v);
    }
    if out_v != expected {
        let k = out_v
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(out_v.len().min(expected.len()));
        let whose = owner
            .get(k)
            .map(|(i, s)| format!("input {i} ({}) packet {s}", set[*i]))
            .unwrap_or_else(|| "past the inputs' end".into());
        return Err(format!(
            "video: output has {} packets, inputs {}; first difference at output packet {k} \
             ({whose})",
            out_v.len(),
            expected.len()
        ));
    }
    // Audio.
    let out_a = md5s(out, Kind::Audio);
    let in_a: Vec<Vec<String>> = inputs.iter().map(|p| md5s(p, Kind::Audio)).collect();
    let al = align_audio(&out_a, &in_a).map_err(|e| format!("audio: {e}"))?;
    let frame = AAC_FRAME / AUDIO_RATE;
    for (i, r) in al.runs.iter().enumerate() {
        let p = &inputs[i];
        if in_a[i].is_empty() {
            // No audio: its whole span is silence.
            let want = ffprobe(p).format_duration / frame;
            if r.silence_before == 0 || (r.silence_before as f64 - want).abs() > 1.0 {
                return Err(format!(
                    "audio: input {i} ({}) has no audio and {:.3} s: expected about {want:.2} \
                     silent frames, found {}",
                    set[i],
                    ffprobe(p).format_duration,
                    r.silence_before
                ));
            }
        } else if r.silence_before > 0 {
            let late = audio_lateness(p);
            if late < frame / 2.0 || r.silence_before as f64 > late / frame + 1.0 {
                return Err(format!(
                    "audio: {} generated packets before input {i} ({}), whose audio starts \
                     {late:.4} s after its video",
                    r.silence_before, set[i]
                ));
            }
        }
    }
    Ok(al)
}

/// 1. Per-packet bit-exactness by ffmpeg's framemd5, cross-checked with seam's own demuxer.
#[test]
fn samples_are_bit_exact_by_ffmpeg_framemd5() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false, true], false);
    let mut failures = Vec::new();
    for (set, frag, out) in &outs {
        let tag = format!("{} ({})", set_name(set), layout(*frag));
        let al = match check_framemd5(set, out) {
            Ok(al) => al,
            Err(e) => {
                failures.push(format!("{tag}: {e}"));
                continue;
            }
        };
        // Same alignment by seam's demuxer with SHA-256 of the sample bytes.
        use seam::model::TrackKind;
        let inputs = paths(set);
        let sv = seam_sample_hashes(out, TrackKind::Video);
        let iv: Vec<String> = inputs
            .iter()
            .flat_map(|p| seam_sample_hashes(p, TrackKind::Video))
            .collect();
        if sv != iv {
            failures.push(format!(
                "{tag}: seam demuxer: output video samples ({}) are not the inputs' ({}) in order",
                sv.len(),
                iv.len()
            ));
            continue;
        }
        let sa = seam_sample_hashes(out, TrackKind::Audio);
        let ia: Vec<Vec<String>> = inputs
            .iter()
            .map(|p| seam_sample_hashes(p, TrackKind::Audio))
            .collect();
        match align_audio(&sa, &ia) {
            Err(e) => failures.push(format!("{tag}: seam demuxer: audio: {e}")),
            Ok(sal) if sal.runs != al.runs => failures.push(format!(
                "{tag}: audio alignment differs between framemd5 {:?} and seam's demuxer {:?}",
                al.runs, sal.runs
            )),
            Ok(_) => {}
        }
    }
    assert_no_failures("bit-exactness", &failures);
}

/// 2a. Frame counts and durations by ffprobe.
#[test]
fn frame_counts_and_durations_add_up() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false], true);
    let mut failures = Vec::new();
    for (set, _, out) in &outs {
        let tag = set_name(set);
        let inputs = paths(set);
        let po = ffprobe(out);
        let probes: Vec<_> = inputs.iter().map(|p| ffprobe(p)).collect();
        let tol = 1e-3 * (set.len().saturating_sub(1).max(1)) as f64 + 1e-6;

        let in_frames: usize = probes
            .iter()
            .map(|p| p.stream(Kind::Video).map_or(0, |s| s.packets.len()))
            .sum();
        let ov = po.expect(Kind::Video, &tag);
        if ov.packets.len() != in_frames {
            failures.push(format!(
                "{tag}: {} video packets, inputs have {in_frames}",
                ov.packets.len()
            ));
        }
        // Fragmented inputs have no nb_frames: count their packets.
        let in_nb: u64 = probes
            .iter()
            .filter_map(|p| {
                p.stream(Kind::Video)
                    .map(|s| s.nb_frames.unwrap_or(s.packets.len() as u64))
            })
            .sum();
        if ov.nb_frames != Some(in_nb) {
            failures.push(format!(
                "{tag}: video nb_frames {:?}, inputs' sum {in_nb}",
                ov.nb_frames
            ));
        }

        // Each input contributes its window: its video span (audio outside it is cut).
        let expected: f64 = probes.iter().map(|p| window_seconds(p)).sum();
        if (po.format_duration - expected).abs() > tol {
            failures.push(format!(
                "{tag}: format duration {:.6} s, inputs' sum {expected:.6} s (tolerance {tol:.6})",
                po.format_duration
            ));
        }
        if (ov.end() - expected).abs() > tol {
            failures.push(format!(
                "{tag}: video stream ends at {:.6} s (start {:?} + duration {:?}), inputs' sum \
                 {expected:.6} s",
                ov.end(),
                ov.start_time,
                ov.duration
            ));
        }
        // Audio is contiguous and its last input's audio may sit up to half a frame early or
        // late (the timeline rule), so its end gets that much more room.
        if let Some(oa) = po.stream(Kind::Audio) {
            if (oa.end() - expected).abs() > tol + HALF_FRAME_SECONDS {
                failures.push(format!(
                    "{tag}: audio stream ends at {:.6} s, inputs' sum {expected:.6} s \
                     (tolerance {:.6})",
                    oa.end(),
                    tol + HALF_FRAME_SECONDS
                ));
            }
        }
    }
    assert_no_failures("counts and durations", &failures);
}

/// An input's window as ffprobe reads it: its video stream's span, or the whole file without
/// video.
fn window_seconds(p: &Probe) -> f64 {
    match p.stream(Kind::Video) {
        Some(v) => v.end() - v.start_time.unwrap_or(0.0),
        None => p.format_duration,
    }
}

/// A rational number for exact timeline sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Q(i128, i128);

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs().max(1)
    } else {
        gcd(b, a % b)
    }
}

impl Q {
    fn new(n: i128, d: i128) -> Q {
        let g = gcd(n, d);
        Q(n / g, d / g)
    }
    fn add(self, o: Q) -> Q {
        Q::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
    }
    fn sub(self, o: Q) -> Q {
        Q::new(self.0 * o.1 - o.0 * self.1, self.1 * o.1)
    }
    fn lt(self, o: Q) -> bool {
        self.0 * o.1 < o.0 * self.1
    }
    fn f64(self) -> f64 {
        self.0 as f64 / self.1 as f64
    }
}

/// An input's duration by the timeline rule, exactly: its first video track's presentation span
/// (edit duration, or its media without an edit list); without video, max over its tracks of
/// (empty edits + edit duration), tracks without an edit list spanning their media, measured from
/// the input's earliest such start.
fn timeline_duration(m: &seam::model::Media) -> Q {
    let mts = i128::from(m.movie_timescale);
    let mut spans: Vec<(Q, Q, bool)> = Vec::new();
    // The window is the video span when the input has video.
    let has_video = m.video().is_some_and(|t| !t.samples.is_empty());
    for t in m
        .tracks
        .iter()
        .filter(|t| !t.samples.is_empty())
        .filter(|t| !has_video || t.kind == seam::model::TrackKind::Video)
        .take(if has_video { 1 } else { usize::MAX })
    {
        let ts = i128::from(t.timescale);
        let media_end = t
            .samples
            .iter()
            .map(|s| i128::from(s.cts()) + i128::from(s.duration))
            .max()
            .unwrap_or(0);
        let min_cts = t
            .samples
            .iter()
            .map(|s| i128::from(s.cts()))
            .min()
            .unwrap_or(0);
        if t.edits.is_empty() {
            spans.push((Q::new(min_cts, ts), Q::new(media_end - min_cts, ts), false));
            continue;
        }
        let mut empty = 0i128;
        let mut normal: Option<seam::model::Edit> = None;
        let mut extra = 0i128;
        for e in &t.edits {
            if e.is_empty() {
                if normal.is_none() {
                    empty += i128::from(e.segment_duration);
                }
            } else if normal.is_none() {
                normal = Some(*e);
            } else {
                extra += i128::from(e.segment_duration);
            }
        }
        let dur = match normal {
            Some(n) if n.segment_duration == 0 => Q::new(media_end - i128::from(n.media_time), ts),
            Some(n) => Q::new(i128::from(n.segment_duration) + extra, mts),
            None => Q::new(0, 1),
        };
        spans.push((Q::new(empty, mts), dur, true));
    }
    let origin =
        spans
            .iter()
            .filter(|s| !s.2)
            .map(|s| s.0)
            .fold(None, |acc: Option<Q>, s| match acc {
                Some(a) if a.lt(s) => Some(a),
                _ => Some(s),
            });
    if has_video {
        return spans.first().map_or(Q::new(0, 1), |s| s.1);
    }
    let mut best = Q::new(0, 1);
    for (start, dur, has_edits) in spans {
        let start = match (has_edits, origin) {
            (false, Some(o)) => start.sub(o),
            _ => start,
        };
        let end = start.add(dur);
        if best.lt(end) {
            best = end;
        }
    }
    best
}

/// 2b. The plan's duration is the exact sum of the inputs' durations, and it is what ffprobe reads.
#[test]
fn plan_duration_is_exact_sum_and_matches_ffprobe() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false], true);
    let mut failures = Vec::new();
    for (set, _, out) in &outs {
        let tag = set_name(set);
        let inputs = paths(set);
        let medias: Vec<seam::model::Media> =
            inputs.iter().map(|p| (*seam_media(p)).clone()).collect();
        let plan = seam::plan(&medias).unwrap_or_else(|e| panic!("{tag}: plan: {e}"));
        let mts = i128::from(plan.movie_timescale);
        let mut sum = Q::new(0, 1);
        for (i, m) in medias.iter().enumerate() {
            // Each input starts at the exact sum of the previous durations, rounded once.
            let want = sum.0 * mts;
            let got = i128::from(plan.input_starts[i]) * sum.1;
            if (2 * (got - want)).abs() > sum.1 {
                failures.push(format!(
                    "{tag}: input {i} starts at {} ticks of 1/{mts}, exact start is {:.3} ticks",
                    plan.input_starts[i],
                    sum.f64() * mts as f64
                ));
            }
            sum = sum.add(timeline_duration(m));
        }
        let exact = sum.f64() * mts as f64;
        if (plan.duration as f64 - exact).abs() > 0.5 + 1e-9 {
            failures.push(format!(
                "{tag}: plan duration {} ticks of 1/{mts}, sum of input durations is {exact:.3} \
                 ticks",
                plan.duration
            ));
        }
        let plan_s = plan.duration as f64 / mts as f64;
        let po = ffprobe(out);
        if (po.format_duration - plan_s).abs() > 1e-6 + 1e-9 {
            failures.push(format!(
                "{tag}: ffprobe format duration {:.6} s, plan says {plan_s:.6} s",
                po.format_duration
            ));
        }
        let ff_sum: f64 = inputs.iter().map(|p| window_seconds(&ffprobe(p))).sum();
        let tol = 1e-3 * (set.len().saturating_sub(1).max(1)) as f64 + 1e-6;
        if (ff_sum - plan_s).abs() > tol {
            failures.push(format!(
                "{tag}: plan duration {plan_s:.6} s, ffprobe's input durations sum to {ff_sum:.6} s"
            ));
        }
    }
    assert_no_failures("plan duration", &failures);
}

/// The A/V offset change at each join with audio: (input, offset in input, offset in output).
/// Offsets are (first kept audio packet pts) - (first video packet pts), by ffprobe.
fn join_offsets(set: &[&str], out: &Path) -> Result<Vec<(usize, f64, f64)>, String> {
    let al = check_framemd5(set, out)?;
    let inputs = paths(set);
    let po = ffprobe(out);
    let ov = po.expect(Kind::Video, &out.display());
    let oa = po.expect(Kind::Audio, &out.display());
    if ov.packets.len() != framemd5(out, Kind::Video).len()
        || oa.packets.len() != framemd5(out, Kind::Audio).len()
    {
        return Err("ffprobe and framemd5 disagree on the output's packet counts".into());
    }
    let mut v_first = 0usize;
    let mut res = Vec::new();
    for (i, p) in inputs.iter().enumerate() {
        let pi = ffprobe(p);
        let iv = pi.expect(Kind::Video, &p.display());
        let r = al.runs[i];
        if let Some(ia) = pi.stream(Kind::Audio) {
            if ia.packets.len() != framemd5(p, Kind::Audio).len() {
                return Err(format!("{}: ffprobe and framemd5 disagree", set[i]));
            }
            let pts = |s: &ProbeStream, k: usize| -> Result<f64, String> {
                s.packets
                    .get(k)
                    .and_then(|x| x.pts)
                    .map(|t| s.seconds(t))
                    .ok_or_else(|| format!("{}: packet {k} has no pts", set[i]))
            };
            // The output's first packet is the decoder's pre-roll, hidden by the edit list and
            // placed right before the packet that holds the start: measure at the next one.
            let skip = usize::from(i == 0);
            let in_off = pts(ia, r.head + skip)? - pts(iv, 0)?;
            let out_off = pts(oa, r.out_first + skip)? - pts(ov, v_first)?;
            res.push((i, in_off, out_off));
        }
        v_first += iv.packets.len();
    }
    Ok(res)
}

/// 3a. A/V sync is kept within half an AAC frame at every join.
#[test]
fn av_sync_within_half_an_aac_frame_at_every_join() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false], false);
    let mut failures = Vec::new();
    for (set, _, out) in &outs {
        let tag = set_name(set);
        let medias: Vec<seam::model::Media> = paths(set)
            .iter()
            .map(|p| (*seam_media(p)).clone())
            .collect();
        let plan = seam::plan(&medias).unwrap_or_else(|e| panic!("{tag}: plan: {e}"));
        match join_offsets(set, out) {
            Err(e) => failures.push(format!("{tag}: {e}")),
            Ok(v) => {
                for (i, a, b) in v {
                    let err = b - a;
                    // The plan's own account of the error agrees with ffprobe's, to a tick.
                    let j = &plan.joins[i];
                    let planned = j
                        .audio_error()
                        .map(|e| e as f64 / f64::from(j.audio().map_or(0, |a| a.timescale)));
                    let agrees =
                        matches!(planned, Some(p) if (p - err).abs() <= 1.0 / AUDIO_RATE + 1e-9);
                    if !agrees {
                        failures.push(format!(
                            "{tag}: input {i} ({}): plan says audio error {:?} ticks, ffprobe \
                             measures {:.3} ticks",
                            set[i],
                            j.audio_error(),
                            err * AUDIO_RATE
                        ));
                    }
                    if err.abs() > HALF_FRAME_SECONDS + 1e-6 {
                        failures.push(format!(
                            "{tag}: input {i} ({}): A/V offset {:.6} s in the input, {:.6} s in \
                             the output: error {:.3} ms > {:.3} ms",
                            set[i],
                            a,
                            b,
                            err * 1e3,
                            HALF_FRAME_SECONDS * 1e3
                        ));
                    }
                }
            }
        }
    }
    assert_no_failures("A/V sync", &failures);
}

/// 3b. Over ten inputs (nine joins) the A/V error does not accumulate.
#[test]
fn av_sync_does_not_drift_over_nine_joins() {
    if !require_ffmpeg() {
        return;
    }
    let out = stitched(TEN, false);
    let mut files = paths(TEN);
    files.push(out.clone());
    prefetch(&files);
    let v = join_offsets(TEN, &out).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v.len(), TEN.len(), "every input has audio");
    let errs: Vec<f64> = v.iter().map(|(_, a, b)| b - a).collect();
    let max = errs.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let last = *errs.last().unwrap();
    assert!(
        max <= HALF_FRAME_SECONDS + 1e-6 && last.abs() <= HALF_FRAME_SECONDS + 1e-6,
        "A/V errors per input (ms): {:?}; max {:.3} ms, last {:.3} ms, bound {:.3} ms",
        errs.iter()
            .map(|e| (e * 1e6).round() / 1e3)
            .collect::<Vec<_>>(),
        max * 1e3,
        last * 1e3,
        HALF_FRAME_SECONDS * 1e3
    );
}

/// 3c. The audio timestamps agree with what a decoder outputs: each decoded AAC frame lasts until
/// the next one starts, except where the input itself says otherwise between two packets the
/// output keeps together. A packet whose stts duration is shorter than the samples it decodes to
/// (the trimmed last packet of an input, moved into the middle of the output) makes players that
/// clock audio by samples played (and `ffmpeg -i out.mp4 out.wav`) run late by the difference, and
/// that adds up over the joins.
#[test]
fn audio_timestamps_match_decoded_sample_counts() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false], true);
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for (_, _, out) in &outs {
        let out = out.clone();
        jobs.push(Box::new(move || {
            audio_frames(&out);
        }));
    }
    parallel(jobs);
    let mut failures = Vec::new();
    for (set, _, out) in &outs {
        let tag = set_name(set);
        let al = match check_framemd5(set, out) {
            Ok(al) => al,
            Err(e) => {
                failures.push(format!("{tag}: {e}"));
                continue;
            }
        };
        let inputs = paths(set);
        let oa = ffprobe(out).expect(Kind::Audio, &tag).clone();
        let index: std::collections::HashMap<i64, usize> = oa
            .packets
            .iter()
            .enumerate()
            .filter_map(|(k, p)| p.pts.map(|t| (t, k)))
            .collect();
        // The gap the input itself has after output packet k, when k and k+1 are neighbours there.
        let input_gap = |k: usize| -> Option<i64> {
            let (i, r) = al
                .runs
                .iter()
                .enumerate()
                .find(|(_, r)| k >= r.out_first && k + 1 < r.out_first + r.kept)?;
            let j = r.head + (k - r.out_first);
            let ia = ffprobe(&inputs[i]);
            let ps = &ia.stream(Kind::Audio)?.packets;
            Some(ps.get(j + 1)?.pts? - ps.get(j)?.pts?)
        };
        let frames = audio_frames(out);
        let mut bad = Vec::new();
        let mut drift = 0i64;
        for w in frames.windows(2) {
            let gap = w[1].pts - w[0].pts;
            if gap == w[0].nb_samples {
                continue;
            }
            let Some(&k) = index.get(&w[0].pts) else {
                bad.push(format!("frame at pts {} matches no packet", w[0].pts));
                continue;
            };
            if input_gap(k) == Some(gap) {
                continue;
            }
            drift += w[0].nb_samples - gap;
            bad.push(format!(
                "packet {k} at pts {}: decodes to {} samples, next packet {gap} later",
                w[0].pts, w[0].nb_samples
            ));
        }
        if !bad.is_empty() {
            failures.push(format!(
                "{tag}: {} audio packets decode to more samples than their stts duration; the \
                 decoded audio is {drift} samples ({:.1} ms) longer than its timestamps say, so \
                 sample-clocked playback falls behind video by that much: {}",
                bad.len(),
                drift as f64 * 1e3 / AUDIO_RATE,
                bad.join("; ")
            ));
        }
    }
    assert_no_failures("decoded audio vs timestamps", &failures);
}

/// 4a. Every output (progressive and fragmented) decodes without a single ffmpeg message.
#[test]
fn outputs_decode_cleanly() {
    if !require_ffmpeg() {
        return;
    }
    let outs = all_outputs(&[false, true], true);
    let jobs: Vec<Box<dyn FnOnce() -> Option<String> + Send>> = outs
        .iter()
        .map(|(set, frag, out)| {
            let (set, frag, out) = (*set, *frag, out.clone());
            Box::new(move || {
                let (ok, stderr) = decode_null(&out);
                (!ok || !stderr.is_empty()).then(|| {
                    format!(
                        "{} ({}): ffmpeg exit ok={ok}, stderr:\n{stderr}",
                        set_name(set),
                        layout(frag)
                    )
                })
            }) as Box<dyn FnOnce() -> Option<String> + Send>
        })
        .collect();
    let failures: Vec<String> = parallel(jobs).into_iter().flatten().collect();
    assert_no_failures("decode", &failures);
}

/// 4b. Decode timestamps strictly increase in every stream of every output.
#[test]
fn dts_strictly_increasing_per_stream() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[false, true], true);
    let mut failures = Vec::new();
    for (set, frag, out) in &outs {
        for s in &ffprobe(out).streams {
            let mut prev: Option<i64> = None;
            for (k, p) in s.packets.iter().enumerate() {
                let Some(d) = p.dts else {
                    failures.push(format!(
                        "{} ({}): stream {} packet {k} has no dts",
                        set_name(set),
                        layout(*frag),
                        s.index
                    ));
                    break;
                };
                if let Some(q) = prev {
                    if d <= q {
                        failures.push(format!(
                            "{} ({}): stream {} ({}) packet {k}: dts {d} after {q}",
                            set_name(set),
                            layout(*frag),
                            s.index,
                            s.codec_type
                        ));
                        break;
                    }
                }
                prev = Some(d);
            }
        }
    }
    assert_no_failures("dts order", &failures);
}

/// 5 (ffprobe side). One moof per GOP: the fragmented output has as many moofs as ffprobe sees
/// video key frames, and the key frames are the inputs'.
#[test]
fn fragmented_output_has_one_moof_per_ffprobe_keyframe() {
    if !require_ffmpeg() {
        return;
    }
    let outs = outputs_prefetched(&[true], false);
    let mut failures = Vec::new();
    for (set, _, out) in &outs {
        let data = std::fs::read(out).expect("read output");
        let moofs = top_level_boxes(&data)
            .iter()
            .filter(|b| b.kind == "moof")
            .count();
        let keys = ffprobe(out)
            .expect(Kind::Video, &out.display())
            .key_packets();
        let in_keys: usize = paths(set)
            .iter()
            .map(|p| ffprobe(p).expect(Kind::Video, &p.display()).key_packets())
            .sum();
        if moofs != keys || keys != in_keys {
            failures.push(format!(
                "{}: {moofs} moof boxes, {keys} video key frames (inputs: {in_keys})",
                set_name(set)
            ));
        }
    }
    assert_no_failures("fragments", &failures);
}

/// 8 (ffprobe side). `seam probe --json` counts agree with ffprobe.
#[test]
fn probe_json_counts_match_ffprobe() {
    if !require_ffmpeg() {
        return;
    }
    let files = [fixture("a.mp4"), fixture("b.mp4")];
    let o = seam(
        ["probe".as_ref(), "--json".as_ref()]
            .into_iter()
            .chain(files.iter().map(|p| p.as_os_str())),
    );
    assert!(o.status.success(), "{}", describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("probe --json is not JSON: {e}\n{}", describe(&o)));
    for (i, p) in files.iter().enumerate() {
        let ff = ffprobe(p);
        let tracks = v["inputs"][i]["tracks"]
            .as_array()
            .unwrap_or_else(|| panic!("no tracks for input {i}: {v}"));
        for kind in [Kind::Video, Kind::Audio] {
            let t = tracks
                .iter()
                .find(|t| t["kind"] == kind.codec_type())
                .unwrap_or_else(|| {
                    panic!("{}: no {} track in {v}", p.display(), kind.codec_type())
                });
            let s = ff.expect(kind, &p.display());
            assert_eq!(
                t["samples"].as_u64(),
                s.nb_frames,
                "{} {}: samples vs ffprobe nb_frames",
                p.display(),
                kind.codec_type()
            );
            assert_eq!(
                t["keyframes"].as_u64(),
                Some(s.key_packets() as u64),
                "{} {}: keyframes vs ffprobe key packets",
                p.display(),
                kind.codec_type()
            );
        }
    }
}

/// 9a. The tmcd track survives: a data stream tagged tmcd with one sample per input.
#[test]
fn timecode_track_is_kept() {
    if !require_ffmpeg() {
        return;
    }
    let set: &[&str] = &["timecode.mov", "timecode2.mov"];
    for frag in [false, true] {
        let out = stitched(set, frag);
        let p = ffprobe(&out);
        let d = p
            .streams
            .iter()
            .find(|s| s.codec_type == "data")
            .unwrap_or_else(|| panic!("{} ({}): no data stream", out.display(), layout(frag)));
        assert_eq!(d.codec_tag_string, "tmcd", "{}", out.display());
        assert_eq!(d.packets.len(), 2, "{}: tmcd packets", out.display());
        if !frag {
            assert_eq!(d.nb_frames, Some(2), "{}: tmcd nb_frames", out.display());
        }
    }
}

/// 9b. The display matrix survives: rotation 90 like the input.
#[test]
fn rotation_is_kept() {
    if !require_ffmpeg() {
        return;
    }
    let input = fixture("rotated.mp4");
    let want = ffprobe(&input)
        .expect(Kind::Video, &"rotated.mp4")
        .rotation();
    assert_eq!(want.map(f64::abs), Some(90.0), "fixture rotation");
    for frag in [false, true] {
        let out = stitched(&["rotated.mp4", "rotated.mp4", "rotated.mp4"], frag);
        let got = ffprobe(&out).expect(Kind::Video, &out.display()).rotation();
        assert_eq!(got, want, "{} ({})", out.display(), layout(frag));
    }
}

/// 10. Every output video pts is the input pts plus the previous inputs' durations, exactly.
#[test]
fn video_pts_shift_exactly_by_previous_durations() {
    if !require_ffmpeg() {
        return;
    }
    let sets: Vec<&[&str]> = vec![
        &["a.mp4", "b.mp4", "c.mp4"],
        &["a.mp4", "moov_last.mp4", "negcts.mp4"],
        &["frag.mp4", "frag_noedts.mp4", "a.mp4"],
        &["a.mp4", "video_only.mp4", "b.mp4"],
        &["timecode.mov", "timecode2.mov"],
        &["rotated.mp4", "rotated.mp4", "rotated.mp4"],
        TEN,
    ];
    let mut jobs: Vec<Box<dyn FnOnce() -> PathBuf + Send>> = Vec::new();
    for s in &sets {
        let s: &'static [&'static str] = s;
        jobs.push(Box::new(move || stitched(s, false)));
    }
    let outs = parallel(jobs);
    let mut files = outs.clone();
    for s in &sets {
        files.extend(paths(s));
    }
    prefetch(&files);
    let mut failures = Vec::new();
    for (set, out) in sets.iter().zip(&outs) {
        let tag = set_name(set);
        let ov = ffprobe(out).expect(Kind::Video, &tag).clone();
        let mut shift = 0i64;
        let mut k = 0usize;
        'inputs: for n in set.iter() {
            let p = fixture(n);
            let pi = ffprobe(&p);
            let iv = pi.expect(Kind::Video, n);
            assert_eq!(iv.time_base, ov.time_base, "{tag}: {n}: video time base");
            // The input's window starts at its first presented frame.
            let start = iv.packets.iter().filter_map(|p| p.pts).min().unwrap_or(0);
            shift -= start;
            for ip in &iv.packets {
                let Some(op) = ov.packets.get(k) else {
                    failures.push(format!("{tag}: output ends before {n}'s packets"));
                    break 'inputs;
                };
                let (Some(a), Some(b)) = (ip.pts, op.pts) else {
                    failures.push(format!("{tag}: packet {k} without pts"));
                    break 'inputs;
                };
                if b != a + shift {
                    failures.push(format!(
                        "{tag}: output video packet {k} ({n}): pts {b}, input pts {a} + {shift} = {}",
                        a + shift
                    ));
                    break 'inputs;
                }
                k += 1;
            }
            let window = window_seconds(&pi);
            let ticks = window * ov.time_base.1 as f64 / ov.time_base.0 as f64;
            assert!(
                (ticks - ticks.round()).abs() < 1e-3,
                "{n}: window {window} s is not a whole number of 1/{} ticks",
                ov.time_base.1
            );
            shift += start + ticks.round() as i64;
        }
    }
    assert_no_failures("video pts", &failures);
}
