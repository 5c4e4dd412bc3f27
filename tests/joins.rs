//! The join rules (issue 6) judged by ffmpeg/ffprobe on fixture sets made by real muxers
//! (`fixtures/make_joins.sh`, see "## Join fixtures" in fixtures/README.md).
//!
//! What every stitch of a set must satisfy ([`check_stitch`]), measured with ffprobe
//! (`-show_packets`, per-packet pts/dts/duration/flags in each stream's time base) and ffmpeg
//! (`framemd5` with `-c copy` for per-packet bit-exactness, `-f null` for a clean decode):
//!
//! * **Span.** An input's span is its *video presentation span* as ffprobe reads the input:
//!   from the smallest pts to the largest pts + duration of its presented video packets (packets
//!   without the discard flag `D`, i.e. after the input's edit list). Inputs are laid back to back
//!   by these spans: in the output, input i's presented video starts exactly (to the tick) where
//!   input i-1's ends, the first at 0, every presented frame keeps its pts relative to its input's
//!   span start exactly, and the output's video ends at the exact sum of the spans.
//! * **Video.** Every video packet of every input is copied bit-exact, in order; no two presented
//!   frames overlap and there is no hole (sorted by pts, pts + duration == next pts, within one
//!   tick); as many frames are presented as in the inputs.
//! * **Audio**, every audio track (matched in order): copied packets are, per input, a
//!   contiguous run of the input's packets (framemd5), with generated (silent) packets only where
//!   the input has no audio; the run holds exactly the input's packets whose middle lies in the
//!   input's video span (ties kept) — priming of later inputs and audio past the video's end are
//!   cut at frame granularity; the first input may keep packets the output presents before 0
//!   (hidden priming). Output audio is contiguous (pts + duration == next pts, exactly), pts ==
//!   dts, and each input's A/V offset (audio pts - span start, of its first and last kept
//!   packet) is kept within half an AAC frame. Each audio track ends within half an AAC frame of
//!   the video's end.
//! * DTS strictly increase in every stream; `ffmpeg -v error -i out -f null -` prints nothing.
//!
//! Failures are collected and reported together with the measured numbers, so a failing run is
//! the "before" measurement of the planner fix.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use common::{describe, fixture, require_ffmpeg, seam, shared_dir};
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Sets

const FRAG_FF: &[&str] = &["frag_ff_1.mp4", "frag_ff_2.mp4", "frag_ff_3.mp4"];
const GST_FRAG: &[&str] = &["gst_frag_1.mp4", "gst_frag_2.mp4", "gst_frag_3.mp4"];
const CMAF: &[&str] = &["cmaf_1.mp4", "cmaf_2.mp4"];
const ISMV: &[&str] = &["ismv_1.ismv", "ismv_2.ismv"];
const TWO_AUDIO: &[&str] = &["two_audio_1.mp4", "two_audio_2.mp4"];
const TWO_AUDIO_SAME: &[&str] = &["two_audio_1.mp4", "two_audio_1.mp4"];
const FOUR_TRACK: &[&str] = &["four_track_1.mp4", "four_track_2.mp4"];
const FOUR_TRACK_SAME: &[&str] = &["four_track_1.mp4", "four_track_1.mp4"];
const PREROLL: &[&str] = &["preroll_1.mp4", "preroll_2.mp4"];

/// An AAC frame at 48 kHz (every fixture's audio), seconds.
const FRAME: f64 = 1024.0 / 48000.0;
/// Half an AAC frame at 48 kHz, seconds.
const HALF_FRAME: f64 = 512.0 / 48000.0;
/// Tolerance of time comparisons in seconds: well under one audio sample (20.8 us), over one tick
/// of a 10 MHz time base (ISMV).
const EPS: f64 = 1e-6;

// ---------------------------------------------------------------------------------------------
// ffprobe / ffmpeg

#[derive(Debug, Clone)]
struct Pkt {
    pts: i64,
    dts: i64,
    dur: i64,
    discard: bool,
}

impl Pkt {
    fn end(&self) -> i64 {
        self.pts + self.dur
    }
}

#[derive(Debug, Clone)]
struct Stream {
    index: usize,
    kind: String,
    /// Track ID (ffprobe's `id`).
    id: Option<u64>,
    tb: (i64, i64),
    start: Option<f64>,
    duration: Option<f64>,
    pkts: Vec<Pkt>,
}

impl Stream {
    fn secs(&self, ticks: i64) -> f64 {
        ticks as f64 * self.tb.0 as f64 / self.tb.1 as f64
    }
    fn presented(&self) -> impl Iterator<Item = &Pkt> {
        self.pkts.iter().filter(|p| !p.discard)
    }
    /// (first pts, last pts + duration) of the presented packets, ticks.
    fn span(&self) -> Option<(i64, i64)> {
        let a = self.presented().map(|p| p.pts).min()?;
        let b = self.presented().map(|p| p.end()).max()?;
        Some((a, b))
    }
    /// Stream end from the container (start_time + duration), seconds.
    fn end_seconds(&self) -> f64 {
        self.start.unwrap_or(0.0) + self.duration.unwrap_or(f64::NAN)
    }
}

#[derive(Debug, Clone)]
struct Probe {
    format_start: f64,
    format_duration: f64,
    streams: Vec<Stream>,
}

impl Probe {
    fn of(&self, kind: &str) -> Vec<&Stream> {
        self.streams.iter().filter(|s| s.kind == kind).collect()
    }
    fn video(&self) -> Option<&Stream> {
        self.of("video").into_iter().next()
    }
}

fn num(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn run(cmd: &mut Command) -> std::process::Output {
    let o = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(o.status.success(), "{cmd:?} failed: {}", describe(&o));
    o
}

type Cache<K, V> = OnceLock<Mutex<HashMap<K, V>>>;

fn cached<K: std::hash::Hash + Eq + Clone, V: Clone>(
    c: &'static Cache<K, V>,
    k: K,
    f: impl FnOnce() -> V,
) -> V {
    let m = c.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(v) = m.lock().unwrap_or_else(|e| e.into_inner()).get(&k) {
        return v.clone();
    }
    let v = f();
    m.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(k, v.clone());
    v
}

/// ffprobe: streams and every packet (pts, dts, duration, discard flag), cached per path.
fn probe(path: &Path) -> Arc<Probe> {
    static C: Cache<PathBuf, Arc<Probe>> = OnceLock::new();
    cached(&C, path.to_path_buf(), || {
        let o = run(Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_format",
                "-show_streams",
                "-show_entries",
            ])
            .arg("packet=stream_index,pts,dts,duration,flags")
            .args(["-of", "json"])
            .arg(path));
        let v: Value = serde_json::from_slice(&o.stdout).expect("ffprobe json");
        let mut streams: Vec<Stream> = v["streams"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let tb = s["time_base"].as_str().unwrap_or("1/1");
                let (n, d) = tb.split_once('/').unwrap_or(("1", "1"));
                Stream {
                    index: s["index"].as_u64().unwrap_or(0) as usize,
                    kind: s["codec_type"].as_str().unwrap_or("").to_string(),
                    id: s["id"]
                        .as_str()
                        .and_then(|x| u64::from_str_radix(x.trim_start_matches("0x"), 16).ok()),
                    tb: (n.parse().unwrap_or(1), d.parse().unwrap_or(1)),
                    start: num(&s["start_time"]),
                    duration: num(&s["duration"]),
                    pkts: Vec::new(),
                }
            })
            .collect();
        for p in v["packets"].as_array().cloned().unwrap_or_default() {
            let idx = p["stream_index"].as_u64().unwrap_or(0) as usize;
            let dts = num(&p["dts"]).map(|x| x as i64);
            let pts = num(&p["pts"]).map(|x| x as i64).or(dts);
            let s = streams
                .iter_mut()
                .find(|s| s.index == idx)
                .expect("packet of an unknown stream");
            s.pkts.push(Pkt {
                pts: pts.unwrap_or(i64::MIN),
                dts: dts.unwrap_or(i64::MIN),
                dur: num(&p["duration"]).map_or(0, |x| x as i64),
                discard: p["flags"].as_str().is_some_and(|f| f.contains('D')),
            });
        }
        Arc::new(Probe {
            format_start: num(&v["format"]["start_time"]).unwrap_or(0.0),
            format_duration: num(&v["format"]["duration"]).unwrap_or(f64::NAN),
            streams,
        })
    })
}

/// framemd5 (stream copy) of stream `index`: one md5 per packet, in file order.
fn md5s(path: &Path, index: usize) -> Arc<Vec<String>> {
    static C: Cache<(PathBuf, usize), Arc<Vec<String>>> = OnceLock::new();
    cached(&C, (path.to_path_buf(), index), || {
        let o = run(Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(path)
            .args([
                "-map",
                &format!("0:{index}"),
                "-c",
                "copy",
                "-f",
                "framemd5",
                "-",
            ]));
        Arc::new(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
                .filter_map(|l| l.split(',').nth(5).map(|s| s.trim().to_string()))
                .collect(),
        )
    })
}

/// framemd5 of the *decoded* video frames (every frame the decoder outputs, `-fps_mode
/// passthrough`): what a player presents.
fn decoded_video_md5s(path: &Path) -> Vec<String> {
    common::frame_hashes(
        path,
        &[
            "-map",
            "0:v:0",
            "-fps_mode",
            "passthrough",
            "-f",
            "framemd5",
        ],
    )
}

// ---------------------------------------------------------------------------------------------
// Running seam

fn paths(set: &[&str]) -> Vec<PathBuf> {
    set.iter().map(|n| fixture(n)).collect()
}

fn out_path(name: &str) -> PathBuf {
    shared_dir().join(name)
}

/// `seam stitch -y --json [extra] -o OUT inputs`: the output path and the parsed JSON.
fn stitch(name: &str, inputs: &[PathBuf], extra: &[&str]) -> (PathBuf, Value) {
    let out = out_path(name);
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-y".into(), "--json".into()];
    args.extend(extra.iter().map(Into::into));
    args.push("-o".into());
    args.push(out.clone().into());
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    assert!(
        o.status.success(),
        "seam stitch {inputs:?} failed: {}",
        describe(&o)
    );
    let v: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("--json output is not JSON: {e}\n{}", describe(&o)));
    (out, v)
}

fn fail_if_any(what: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s):\n  {}",
        failures.len(),
        failures.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// The checks

/// Where one input's packets of one audio track went in the output.
#[derive(Debug, Clone, Copy, Default)]
struct Run {
    /// Generated packets before the run (or standing for the input when it has no audio).
    silence_before: usize,
    /// Generated packets between the run's packets.
    silence_inside: usize,
    /// Input packets left out before the run.
    head: usize,
    /// Input packets copied.
    kept: usize,
    /// Input packets left out after the run.
    tail: usize,
    /// Output index of the first copied packet.
    out_first: usize,
}

/// Explains the output's packets of one track (md5s) as, per input, generated packets then a
/// contiguous run of that input's packets, any number left out at either end.
fn align(out: &[String], inputs: &[Vec<String>]) -> Result<Vec<Run>, String> {
    let all: std::collections::HashSet<&str> =
        inputs.iter().flatten().map(String::as_str).collect();
    let mut pos = 0;
    let mut runs = Vec::new();
    for inp in inputs {
        let s0 = pos;
        while pos < out.len() && !all.contains(out[pos].as_str()) {
            pos += 1;
        }
        let silence_before = pos - s0;
        let head = if pos < out.len() {
            inp.iter().position(|h| *h == out[pos])
        } else {
            None
        };
        let Some(head) = head else {
            runs.push(Run {
                silence_before,
                head: inp.len(),
                out_first: pos,
                ..Run::default()
            });
            continue;
        };
        let (mut kept, mut inside, mut at) = (0, 0, pos);
        while head + kept < inp.len() && at < out.len() {
            if out[at] == inp[head + kept] {
                kept += 1;
                at += 1;
            } else if !all.contains(out[at].as_str()) {
                // silence inside the run only when the input's packets resume after it
                let next = out[at..].iter().find(|h| all.contains(h.as_str()));
                if next != inp.get(head + kept) {
                    break;
                }
                inside += 1;
                at += 1;
            } else {
                break;
            }
        }
        runs.push(Run {
            silence_before,
            silence_inside: inside,
            head,
            kept,
            tail: inp.len() - head - kept,
            out_first: pos,
        });
        pos = at;
    }
    let rest = out.len() - pos;
    if rest > 0 && out[pos..].iter().any(|h| all.contains(h.as_str())) {
        return Err(format!(
            "output packets {pos}..{} are not explained by the inputs in order",
            out.len()
        ));
    }
    if rest > 0 {
        // trailing generated packets
        if let Some(r) = runs.last_mut() {
            r.silence_inside += rest;
        }
    }
    Ok(runs)
}

/// What is left of a salvaged (truncated) input: packets counted from its start.
#[derive(Debug, Clone, Copy)]
struct Cut {
    video: usize,
    audio: usize,
}

/// What one stitch was measured to be (for the JSON report test and failure messages).
#[derive(Debug, Default)]
struct Measured {
    /// Per input: its video span in its own ticks.
    in_spans: Vec<(i64, i64)>,
    /// Per input: where its presented video starts in the output (output video ticks).
    out_starts: Vec<i64>,
    /// Per audio track (in order), per input: the alignment.
    audio_runs: Vec<Vec<Run>>,
    /// Per audio track, per input: A/V offset error (output - input), seconds.
    av_errors: Vec<Vec<Option<f64>>>,
}

/// The rules in the module doc, for `out` stitched from `inputs` (input video packets copied in
/// full; `cuts[i]` = Some(cut) when only the first `cut.video` video packets of input i are
/// expected and only its first `cut.audio` audio packets exist,
/// e.g. a salvaged truncated input whose full version is `inputs[i]`).
fn check_stitch(
    tag: &str,
    inputs: &[PathBuf],
    cuts: &[Option<Cut>],
    out: &Path,
    failures: &mut Vec<String>,
) -> Measured {
    let mut m = Measured::default();
    let po = probe(out);
    let pis: Vec<Arc<Probe>> = inputs.iter().map(|p| probe(p)).collect();

    // Clean decode.
    let (ok, stderr) = common::decode_null(out);
    if !ok || !stderr.is_empty() {
        failures.push(format!(
            "{tag}: ffmpeg -v error -f null: ok={ok}, stderr: {}",
            stderr.trim()
        ));
    }
    // DTS strictly increasing; audio pts == dts.
    for s in &po.streams {
        if let Some(w) = s.pkts.windows(2).position(|w| w[1].dts <= w[0].dts) {
            failures.push(format!(
                "{tag}: stream {} ({}): dts {} at packet {} after {}",
                s.index,
                s.kind,
                s.pkts[w + 1].dts,
                w + 1,
                s.pkts[w].dts
            ));
        }
        if s.kind == "audio" {
            let neg = s.pkts.iter().filter(|p| p.pts != p.dts).count();
            if neg > 0 {
                failures.push(format!(
                    "{tag}: stream {} (audio): {neg} packets with pts != dts (composition offsets)",
                    s.index
                ));
            }
        }
    }
    // Same tracks as the inputs.
    for kind in ["video", "audio"] {
        let want = pis.iter().map(|p| p.of(kind).len()).max().unwrap_or(0);
        let got = po.of(kind).len();
        if got != want {
            failures.push(format!(
                "{tag}: {got} {kind} track(s) in the output, the inputs have {want}"
            ));
        }
    }

    // ---- video
    let Some(ov) = po.video() else {
        failures.push(format!("{tag}: no video stream"));
        return m;
    };
    let out_v = md5s(out, ov.index);
    let mut expected = Vec::new();
    let mut counts = Vec::new();
    for (i, p) in inputs.iter().enumerate() {
        let iv = pis[i].video().expect("input video");
        let mut v = (*md5s(p, iv.index)).clone();
        if let Some(Some(c)) = cuts.get(i) {
            v.truncate(c.video);
        }
        counts.push(v.len());
        expected.extend(v);
    }
    if *out_v != expected {
        let k = out_v
            .iter()
            .zip(&expected)
            .position(|(a, b)| a != b)
            .unwrap_or(out_v.len().min(expected.len()));
        failures.push(format!(
            "{tag}: video packets are not the inputs' in order: output {} packets, inputs {}, \
             first difference at {k}",
            out_v.len(),
            expected.len()
        ));
        return m;
    }
    // Per input: span, relative pts, back to back.
    let mut first = 0usize;
    let mut prev_end: i64 = 0;
    let mut sum_spans: i64 = 0;
    // 0 when every input tick converts exactly to output ticks, else 1.
    let mut tol: i64 = 0;
    for (i, pi) in pis.iter().enumerate() {
        let iv = pi.video().expect("input video");
        let n = counts[i];
        let in_pk: Vec<&Pkt> = iv.pkts.iter().take(n).collect();
        let out_pk: Vec<&Pkt> = ov.pkts[first..first + n].iter().collect();
        first += n;
        // Input ticks to output ticks (exact when the time bases allow; else within one tick).
        let to_out = |x: i64| -> (i64, bool) {
            let num = i128::from(x) * i128::from(iv.tb.0) * i128::from(ov.tb.1);
            let den = i128::from(iv.tb.1) * i128::from(ov.tb.0);
            ((num as f64 / den as f64).round() as i64, num % den == 0)
        };
        let in_pres: Vec<&Pkt> = in_pk.iter().copied().filter(|p| !p.discard).collect();
        let out_pres: Vec<&Pkt> = out_pk.iter().copied().filter(|p| !p.discard).collect();
        let span = (
            in_pres.iter().map(|p| p.pts).min().unwrap_or(0),
            in_pres.iter().map(|p| p.end()).max().unwrap_or(0),
        );
        m.in_spans.push(span);
        let (span_len, exact) = to_out(span.1 - span.0);
        tol = tol.max(i64::from(!exact));
        sum_spans += span_len;
        if out_pres.len() != in_pres.len() {
            failures.push(format!(
                "{tag}: input {i}: {} of its {n} video packets are presented in the output, {} in \
                 the input",
                out_pres.len(),
                in_pres.len()
            ));
        }
        let Some(o0) = out_pres.iter().map(|p| p.pts).min() else {
            m.out_starts.push(prev_end);
            continue;
        };
        m.out_starts.push(o0);
        if (o0 - prev_end).abs() > tol {
            failures.push(format!(
                "{tag}: input {i}: presented video starts at {} s in the output, previous input \
                 ends at {} s: {} of {:.4} s",
                ov.secs(o0),
                ov.secs(prev_end),
                if o0 > prev_end { "hole" } else { "overlap" },
                ov.secs((o0 - prev_end).abs())
            ));
        }
        // Relative presentation times are kept exactly (the packets are in the same order).
        let mut bad = 0;
        let mut first_bad = None;
        for (k, (a, b)) in in_pk.iter().zip(&out_pk).enumerate() {
            if a.discard || b.discard {
                continue;
            }
            let (want, exact) = to_out(a.pts - span.0);
            if (b.pts - o0 - want).abs() > i64::from(!exact) {
                bad += 1;
                first_bad.get_or_insert((k, want, b.pts - o0));
            }
        }
        if let Some((k, a, b)) = first_bad {
            failures.push(format!(
                "{tag}: input {i}: {bad} presented video packets move relative to the span start \
                 (first: packet {k}, {a} output ticks in the input, {b} in the output)"
            ));
        }
        prev_end = o0 + span_len;
    }
    // Output as a whole: contiguous, no overlap, starts at 0, ends at the sum of the spans.
    let mut pres: Vec<&Pkt> = ov.presented().collect();
    pres.sort_by_key(|p| p.pts);
    let mut holes = Vec::new();
    for w in pres.windows(2) {
        let d = w[1].pts - w[0].end();
        if d.abs() > 1 {
            holes.push(ov.secs(d));
        }
    }
    if !holes.is_empty() {
        failures.push(format!(
            "{tag}: {} video hole(s)/overlap(s) between presented frames (s, + = hole): {:?}",
            holes.len(),
            holes
                .iter()
                .map(|h| (h * 1e4).round() / 1e4)
                .collect::<Vec<_>>()
        ));
    }
    let (o_start, o_end) = ov.span().unwrap_or((0, 0));
    if o_start != 0 || (o_end - o_start - sum_spans).abs() > tol * pis.len() as i64 {
        failures.push(format!(
            "{tag}: output video presents [{:.6}, {:.6}) s = {:.6} s; sum of the inputs' video \
             spans is {:.6} s ({} vs {sum_spans} ticks of {}/{})",
            ov.secs(o_start),
            ov.secs(o_end),
            ov.secs(o_end - o_start),
            ov.secs(sum_spans),
            o_end - o_start,
            ov.tb.0,
            ov.tb.1
        ));
    }
    let sum_s = ov.secs(sum_spans);
    // ffprobe's format end (start_time + duration: the latest stream end) may pass the video's
    // end by at most a straddling audio packet's half frame.
    let f_end = po.format_start + po.format_duration;
    if f_end < sum_s - 1e-3 || f_end > sum_s + HALF_FRAME + 1e-6 {
        failures.push(format!(
            "{tag}: ffprobe format ends at {f_end:.6} s (start {:.6} + duration {:.6}), sum of \
             the inputs' video spans {sum_s:.6} s",
            po.format_start, po.format_duration
        ));
    }

    // ---- audio, every track
    let oas = po.of("audio");
    for (t, oa) in oas.iter().enumerate() {
        let ins: Vec<Option<&Stream>> = pis.iter().map(|p| p.of("audio").get(t).copied()).collect();
        // Contiguity and end.
        let gaps: Vec<i64> = oa
            .pkts
            .windows(2)
            .map(|w| w[1].pts - w[0].end())
            .filter(|&d| d != 0)
            .collect();
        if !gaps.is_empty() {
            failures.push(format!(
                "{tag}: audio track {t}: {} discontinuities (pts + duration != next pts), ticks of \
                 1/{}: {:?}",
                gaps.len(),
                oa.tb.1,
                &gaps[..gaps.len().min(8)]
            ));
        }
        // Audio ends with the video, or where the last input's own audio ends when that is
        // earlier (within half a frame either way).
        let last = inputs.len() - 1;
        let shortfall = match (ins[last], m.in_spans.get(last), pis[last].video()) {
            (Some(ia), Some(&(_, v1)), Some(iv)) => {
                let a1 = ia.secs(ia.presented().map(Pkt::end).max().unwrap_or(0));
                (iv.secs(v1) - a1).max(0.0)
            }
            _ => 0.0,
        };
        let want_end = sum_s - shortfall;
        let a_end = oa.secs(oa.pkts.iter().map(|p| p.end()).max().unwrap_or(0));
        if (a_end - want_end).abs() > HALF_FRAME + 1e-6 {
            failures.push(format!(
                "{tag}: audio track {t}: packets end at {a_end:.6} s, expected {want_end:.6} s \
                 (video {sum_s:.6} s): {:+.1} ms",
                (a_end - want_end) * 1e3
            ));
        }
        if (oa.end_seconds() - want_end).abs() > HALF_FRAME + 1e-6 {
            failures.push(format!(
                "{tag}: audio track {t}: stream ends at {:.6} s (start {:?} + duration {:?}), \
                 expected {want_end:.6} s: {:+.1} ms",
                oa.end_seconds(),
                oa.start,
                oa.duration,
                (oa.end_seconds() - want_end) * 1e3
            ));
        }
        // Alignment.
        let out_h = md5s(out, oa.index);
        let in_h: Vec<Vec<String>> = inputs
            .iter()
            .zip(&ins)
            .map(|(p, s)| s.map_or_else(Vec::new, |s| (*md5s(p, s.index)).clone()))
            .collect();
        let runs = match align(&out_h, &in_h) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{tag}: audio track {t}: {e}"));
                m.audio_runs.push(Vec::new());
                m.av_errors.push(Vec::new());
                continue;
            }
        };
        let mut errs = Vec::new();
        // Audio the previous input left uncovered at the end of its span, seconds.
        let mut prev_short = 0.0f64;
        for (i, r) in runs.iter().enumerate() {
            let Some(ia) = ins[i] else {
                // No audio: its span (and what the previous input left) is silence.
                let (v0, v1) = m.in_spans.get(i).copied().unwrap_or((0, 0));
                let iv = pis[i].video().expect("input video");
                let want = ((prev_short + iv.secs(v1 - v0)) / FRAME).round() as i64;
                let got = (r.silence_before + r.silence_inside) as i64;
                if (got - want).abs() > 1 {
                    failures.push(format!(
                        "{tag}: audio track {t}: input {i} has no audio: {got} generated packets, \
                         expected {want} (+-1) for its {:.4} s",
                        iv.secs(v1 - v0)
                    ));
                }
                prev_short = 0.0;
                errs.push(None);
                continue;
            };
            let iv = pis[i].video().expect("input video");
            let (v0, v1) = m.in_spans.get(i).copied().unwrap_or((0, 0));
            let (v0s, v1s) = (iv.secs(v0), iv.secs(v1));
            // Expected run. A packet lying wholly inside the video span (and not a trimmed,
            // shorter-than-a-frame packet) must be kept; one wholly outside it, or hidden by the
            // input's edit list (D), must be left out; one straddling an edge may go either way
            // (the A/V offset check bounds it).
            let frame = FRAME;
            let (pstart, pend) = (
                |p: &Pkt| ia.secs(p.pts),
                |p: &Pkt| ia.secs(p.pts) + ia.secs(p.dur.max(1)),
            );
            let must_keep = |p: &Pkt| {
                !p.discard
                    && ia.secs(p.dur) >= frame - EPS
                    && pstart(p) >= v0s - EPS
                    && pend(p) <= v1s + EPS
            };
            let must_drop = |p: &Pkt| p.discard || pend(p) <= v0s + EPS || pstart(p) >= v1s - EPS;
            let Some(keep_first) = ia.pkts.iter().position(must_keep) else {
                errs.push(None);
                continue;
            };
            // (a salvaged input has only its first `cut.audio` packets)
            let avail = cuts
                .get(i)
                .copied()
                .flatten()
                .map_or(ia.pkts.len(), |c| c.audio.min(ia.pkts.len()));
            let keep_last = ia.pkts[..avail]
                .iter()
                .rposition(must_keep)
                .unwrap_or(keep_first);
            // The earliest/latest packets that may be kept.
            let may_first = (0..=keep_first)
                .rev()
                .take_while(|&k| !must_drop(&ia.pkts[k]))
                .last()
                .unwrap_or(keep_first);
            let may_last = (keep_last..avail)
                .take_while(|&k| !must_drop(&ia.pkts[k]))
                .last()
                .unwrap_or(keep_last);
            let got_last = (r.head + r.kept).checked_sub(1);
            let head_ok = if i == 0 {
                // the first input may keep packets the output hides before 0 (priming)
                r.head <= keep_first
            } else {
                (may_first..=keep_first).contains(&r.head)
            };
            if !head_ok {
                failures.push(format!(
                    "{tag}: audio track {t}: input {i}: run starts at packet {} (of {}), expected \
                     {}{keep_first} (video span from {v0s:.4} s): {}",
                    r.head,
                    ia.pkts.len(),
                    if i == 0 || may_first == keep_first {
                        String::new()
                    } else {
                        format!("{may_first}..=")
                    },
                    if r.head < may_first {
                        format!(
                            "{} packet(s) before the span kept (priming/pre-roll)",
                            may_first - r.head
                        )
                    } else {
                        format!("{} packet(s) inside the span dropped", r.head - keep_first)
                    }
                ));
            }
            if !got_last.is_some_and(|g| (keep_last..=may_last).contains(&g)) {
                failures.push(format!(
                    "{tag}: audio track {t}: input {i}: run ends at packet {:?} (of {}), expected \
                     {keep_last}{} (video span ends {v1s:.4} s): {}",
                    got_last,
                    ia.pkts.len(),
                    if may_last == keep_last {
                        String::new()
                    } else {
                        format!("..={may_last}")
                    },
                    match got_last {
                        Some(g) if g > may_last => {
                            format!("{} packet(s) past the video's end kept", g - may_last)
                        }
                        _ => format!(
                            "{} packet(s) inside the span dropped",
                            keep_last as i64 - got_last.map_or(-1, |g| g as i64)
                        ),
                    }
                ));
            }
            // The output's very first packet may be the decoder's pre-roll (AAC priming, or the
            // packet before the first video frame), hidden by the edit list before the output's
            // start and placed right before the packet it primes; it is judged by the next one.
            let pre = usize::from(
                i == 0 && r.kept > 1 && oa.pkts.get(r.out_first).is_some_and(|p| p.pts < 0),
            );
            // Generated packets only where the input's audio leaves its span uncovered: before its
            // first kept packet (and what the previous input left at its end), and in gaps of
            // half a frame or more between its kept packets.
            if r.kept > 0 {
                let a0 = pstart(&ia.pkts[r.head]);
                let lead = prev_short + (a0 - v0s).max(0.0);
                let want_before = if lead < HALF_FRAME {
                    0
                } else {
                    (lead / FRAME).round() as i64
                };
                let want_inside: i64 = ia.pkts[r.head + pre..r.head + r.kept]
                    .windows(2)
                    .map(|w| ia.secs(w[1].pts - w[0].end()))
                    .filter(|&g| g >= HALF_FRAME)
                    .map(|g| (g / FRAME).round() as i64)
                    .sum();
                let (b, n) = (r.silence_before as i64, r.silence_inside as i64);
                if (b - want_before).abs() > i64::from(want_before > 0)
                    || (n - want_inside).abs() > i64::from(want_inside > 0)
                {
                    failures.push(format!(
                        "{tag}: audio track {t}: input {i}: {b} generated packet(s) before its \
                         audio and {n} inside, expected {want_before} and {want_inside} (its audio \
                         starts {:.4} s into its span, {:.4} s left uncovered before it)",
                        a0 - v0s,
                        lead
                    ));
                }
                let last = &ia.pkts[r.head + r.kept - 1];
                prev_short = (v1s - pend(last)).max(0.0);
            }
            // A/V offset of the first and last kept packets.
            if r.kept == 0 {
                errs.push(None);
                continue;
            }
            let o0 = oa_secs_start(&m, ov, i);
            let mut worst: f64 = 0.0;
            for (j_in, j_out) in [
                (r.head + pre, r.out_first + pre),
                (
                    r.head + r.kept - 1,
                    r.out_first + r.kept - 1 + r.silence_inside,
                ),
            ] {
                let in_off = ia.secs(ia.pkts[j_in].pts) - v0s;
                let out_off = oa.secs(oa.pkts[j_out].pts) - o0;
                let e = out_off - in_off;
                if e.abs() > worst.abs() {
                    worst = e;
                }
            }
            errs.push(Some(worst));
            if worst.abs() > HALF_FRAME + 1e-6 {
                failures.push(format!(
                    "{tag}: audio track {t}: input {i}: A/V offset changes by {:+.3} ms (bound \
                     {:.3} ms)",
                    worst * 1e3,
                    HALF_FRAME * 1e3
                ));
            }
        }
        m.audio_runs.push(runs);
        m.av_errors.push(errs);
    }
    m
}

/// Where input i's span starts in the output, seconds.
fn oa_secs_start(m: &Measured, ov: &Stream, i: usize) -> f64 {
    ov.secs(m.out_starts.get(i).copied().unwrap_or(0))
}

/// Stitches `set` (progressive, and fragmented when `fragmented`) and checks the rules.
fn check_set(name: &str, set: &[&str], fragmented: bool) -> Vec<String> {
    let inputs = paths(set);
    let mut failures = Vec::new();
    let mut layouts = vec![false];
    if fragmented {
        layouts.push(true);
    }
    for frag in layouts {
        let file = format!("{name}{}.mp4", if frag { ".frag" } else { "" });
        let extra: &[&str] = if frag { &["--fragmented"] } else { &[] };
        let (out, _) = stitch(&file, &inputs, extra);
        let tag = format!(
            "{name} ({})",
            if frag { "fragmented" } else { "progressive" }
        );
        check_stitch(&tag, &inputs, &[], &out, &mut failures);
    }
    failures
}

// ---------------------------------------------------------------------------------------------
// 2. Fragmented MP4 without an edit list

/// 2a. ffmpeg `frag_keyframe+empty_moov`, B-frames: video starts at 0.08 s, audio at 0. Three
/// 4.00 s fragments join to 12.000 s of video with no hole, audio contiguous and cut to the spans
/// (progressive and fragmented outputs).
#[test]
fn ffmpeg_fragmented_without_edit_list_joins_by_video_span() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any("frag_ff", &check_set("frag_ff", FRAG_FF, true));
}

/// 2b. GStreamer `mp4mux fragment-duration=1000` with `avenc_aac`: audio runs 0.31 s past the
/// video; it is cut at the video's end (no freeze), in progressive and fragmented outputs.
#[test]
fn gstreamer_fragmented_audio_past_video_is_cut() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any("gst_frag", &check_set("gst_frag", GST_FRAG, true));
}

/// 2c. The same rule for a progressive input (`audio_late.mp4`: audio elst starts 0.278 s late
/// and its audio track outlasts its 2.00 s of video by 7 ms): the span is the video's.
#[test]
fn progressive_audio_outlasting_video_is_cut() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any(
        "audio_late",
        &check_set("audio_late", &["a.mp4", "audio_late.mp4", "b.mp4"], false),
    );
}

// ---------------------------------------------------------------------------------------------
// 3. CMAF / ISMV

/// 3a. ffmpeg `-movflags +cmaf` (trun v1, negative composition offsets): A/V offset kept per
/// fragment, no video hole.
#[test]
fn cmaf_negative_composition_offsets_keep_av_offset() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any("cmaf", &check_set("cmaf", CMAF, false));
}

/// 3b. ffmpeg `-f ismv` (Smooth Streaming, no tfdt): same rules.
#[test]
fn ismv_keeps_av_offset() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any("ismv", &check_set("ismv", ISMV, false));
}

// ---------------------------------------------------------------------------------------------
// 4. Several audio tracks

/// 4a. Two audio tracks (440 Hz and 880 Hz), from two recordings (esds bitrate fields differ
/// between the files, as with every ffmpeg encode) and the same file twice (sample entries
/// byte-equal): every audio track follows the rules of the first.
#[test]
fn two_audio_tracks_follow_the_audio_rules() {
    if !require_ffmpeg() {
        return;
    }
    let mut f = check_set("two_audio", TWO_AUDIO, false);
    f.extend(check_set("two_audio_same", TWO_AUDIO_SAME, false));
    fail_if_any("two audio tracks", &f);
}

/// 4b. One video and three audio tracks (two recordings, and the same file twice).
#[test]
fn four_tracks_follow_the_audio_rules() {
    if !require_ffmpeg() {
        return;
    }
    let mut f = check_set("four_track", FOUR_TRACK, false);
    f.extend(check_set("four_track_same", FOUR_TRACK_SAME, false));
    fail_if_any("four tracks", &f);
}

// ---------------------------------------------------------------------------------------------
// 5. Edit-list pre-roll

/// (5) `ffmpeg -ss 0.52 -i src -c copy`: 13 decode-only frames before the edit list's start. After
/// a join they are still not shown: the decoded frames of the output are exactly the inputs'
/// decoded frames, in order (count and md5 of every picture), and no presented frames overlap.
#[test]
fn edit_list_preroll_frames_stay_hidden() {
    if !require_ffmpeg() {
        return;
    }
    let inputs = paths(PREROLL);
    let (out, _) = stitch("preroll.mp4", &inputs, &[]);
    let mut failures = Vec::new();
    // The output hides the second input's pre-roll with a second media segment in its edit list.
    // ffmpeg reads such a file by re-sending the frames from each segment's keyframe as discarded
    // packets, so its packet list is not the file's sample table: judge the samples with seam's
    // own demuxer (bit-exact, in order, decode times increasing), and what is shown by decoding.
    let (ok, stderr) = common::decode_null(&out);
    if !ok || !stderr.is_empty() {
        failures.push(format!(
            "preroll: ffmpeg -v error -f null: {}",
            stderr.trim()
        ));
    }
    for kind in [seam::model::TrackKind::Video, seam::model::TrackKind::Audio] {
        let got = common::seam_sample_hashes(&out, kind);
        let all: Vec<String> = inputs
            .iter()
            .flat_map(|p| common::seam_sample_hashes(p, kind))
            .collect();
        if kind == seam::model::TrackKind::Video && got != all {
            failures.push(format!(
                "preroll: output video samples are not the inputs' ({} vs {})",
                got.len(),
                all.len()
            ));
        }
        let m = common::seam_media(&out);
        if let Some(t) = m.tracks.iter().find(|t| t.kind == kind) {
            if t.samples
                .iter()
                .zip(t.samples.iter().skip(1))
                .any(|(a, b)| b.dts <= a.dts)
            {
                failures.push(format!(
                    "preroll: {} decode times not increasing",
                    kind.as_str()
                ));
            }
            let media_edits = t.edits.iter().filter(|e| !e.is_empty()).count();
            if kind == seam::model::TrackKind::Video && media_edits != 2 {
                failures.push(format!(
                    "preroll: video edit list has {media_edits} media segments, want 2 (one per \
                     input)"
                ));
            }
        }
    }
    let want: Vec<String> = inputs.iter().flat_map(|p| decoded_video_md5s(p)).collect();
    let got = decoded_video_md5s(&out);
    if got != want {
        let k = got
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        failures.push(format!(
            "preroll: decoded output has {} video frames, the inputs decoded alone {} ({}); first \
             difference at frame {k}",
            got.len(),
            want.len(),
            inputs
                .iter()
                .map(|p| decoded_video_md5s(p).len().to_string())
                .collect::<Vec<_>>()
                .join(" + ")
        ));
    }
    fail_if_any("pre-roll", &failures);
}

// ---------------------------------------------------------------------------------------------
// 9. Reports

/// The stitch report: `report` in `--json` output (or the top level).
fn report(v: &Value) -> &Value {
    if v.get("report").is_some_and(Value::is_object) {
        &v["report"]
    } else {
        v
    }
}

fn u(v: &Value, k: &str) -> Result<u64, String> {
    v[k].as_u64()
        .ok_or_else(|| format!("missing or non-integer \"{k}\" in {v}"))
}

fn f(v: &Value, k: &str) -> Result<f64, String> {
    v[k].as_f64()
        .ok_or_else(|| format!("missing or non-number \"{k}\" in {v}"))
}

/// Checks the report of a stitch against ffprobe of the output and the inputs.
///
/// The shape expected of `seam stitch --json` (under `"report"`, or at the top level):
///
/// ```text
/// {"joins": [{"input": i,                  // index among the command-line inputs
///             "file": "...",               // that input's path (or its file name)
///             "start_seconds": s,          // where its span (first presented video frame) starts
///             "tracks": [{"track": k,      // output track_ID (ffprobe's stream "id")
///                         "kind": "video" | "audio" | ...,
///                         "copied": n, "dropped_head": n, "dropped_tail": n,
///                         "dropped_seconds": s, "generated": n, "generated_seconds": s,
///                         "av_offset_error_seconds": s}]}],   // audio tracks; null for video
///  "copied_samples": N, "dropped_samples": N, "generated_samples": N, "warnings": [...]}
/// ```
///
/// Every output track is listed in every join. Consistency required:
/// * per join and track: copied + dropped_head + dropped_tail == the input's packet count of that
///   track (ffprobe, edit-list-hidden packets included);
/// * per track: the sum over the joins of copied + generated == ffprobe's packet count of the
///   output stream;
/// * audio: (copied, dropped_head, dropped_tail, generated) is what framemd5 of the output shows
///   (generated = silent packets before the input's run and inside it; trailing silence belongs
///   to the last input); dropped_seconds == one AAC frame per dropped packet;
///   generated_seconds == generated x 1024 / 48000; av_offset_error_seconds == the output's
///   (audio pts minus span start) minus the input's (audio pts minus span start), of its first or
///   last kept packet, whichever is larger, within one sample;
/// * start_seconds == the output pts of the input's first presented video frame (1 us);
/// * copied_samples, dropped_samples (head + tail), generated_samples == the sums over the joins
///   and tracks.
fn check_report(tag: &str, inputs: &[PathBuf], out: &Path, json: &Value) -> Vec<String> {
    let mut failures = Vec::new();
    let m = check_stitch(tag, inputs, &[], out, &mut Vec::new());
    let r = report(json);
    let mut check = |res: Result<(), String>| {
        if let Err(e) = res {
            failures.push(format!("{tag}: {e}"));
        }
    };
    let po = probe(out);
    let pis: Vec<Arc<Probe>> = inputs.iter().map(|p| probe(p)).collect();
    check((|| {
        let joins = r["joins"]
            .as_array()
            .ok_or_else(|| format!("report has no \"joins\" array: {r}"))?;
        if joins.len() != inputs.len() {
            return Err(format!("{} joins for {} inputs", joins.len(), inputs.len()));
        }
        let (mut copied, mut dropped, mut generated) = (0u64, 0u64, 0u64);
        // per output stream: copied + generated over the joins
        let mut per_stream: HashMap<usize, u64> = HashMap::new();
        let ov = po.video().ok_or("no output video")?;
        for (i, j) in joins.iter().enumerate() {
            if u(j, "input")? != i as u64 {
                return Err(format!("joins[{i}].input is {}", j["input"]));
            }
            let file = j["file"]
                .as_str()
                .ok_or(format!("joins[{i}].file missing"))?;
            if !inputs[i].to_string_lossy().ends_with(file)
                && !file.ends_with(&*inputs[i].file_name().unwrap().to_string_lossy())
            {
                return Err(format!(
                    "joins[{i}].file {file:?} is not {}",
                    inputs[i].display()
                ));
            }
            let start = f(j, "start_seconds")?;
            let want_start = oa_secs_start(&m, ov, i);
            if (start - want_start).abs() > 1e-6 {
                return Err(format!(
                    "joins[{i}].start_seconds {start}, ffprobe: input {i}'s video starts at \
                     {want_start}"
                ));
            }
            let tracks = j["tracks"]
                .as_array()
                .ok_or(format!("joins[{i}].tracks missing"))?;
            if tracks.len() != po.streams.len() {
                return Err(format!(
                    "joins[{i}] lists {} tracks, the output has {}",
                    tracks.len(),
                    po.streams.len()
                ));
            }
            for t in tracks {
                let id = u(t, "track")?;
                let s = po
                    .streams
                    .iter()
                    .find(|s| s.id == Some(id))
                    .ok_or(format!("joins[{i}]: no output track {id}"))?;
                let kind = t["kind"].as_str().unwrap_or("");
                if kind != s.kind {
                    return Err(format!(
                        "joins[{i}] track {id}: kind {kind:?}, ffprobe {}",
                        s.kind
                    ));
                }
                let nth = po
                    .of(&s.kind)
                    .iter()
                    .position(|x| x.index == s.index)
                    .unwrap();
                let (c, dh, dt, g) = (
                    u(t, "copied")?,
                    u(t, "dropped_head")?,
                    u(t, "dropped_tail")?,
                    u(t, "generated")?,
                );
                let (ds, gs) = (f(t, "dropped_seconds")?, f(t, "generated_seconds")?);
                copied += c;
                dropped += dh + dt;
                generated += g;
                *per_stream.entry(s.index).or_default() += c + g;
                let input_track = pis[i].of(&s.kind).get(nth).copied();
                let n_in = input_track.map_or(0, |x| x.pkts.len() as u64);
                if c + dh + dt != n_in {
                    return Err(format!(
                        "joins[{i}] track {id}: copied {c} + dropped {dh}+{dt} != {n_in} input \
                         packets"
                    ));
                }
                if s.kind == "audio" {
                    let run = m
                        .audio_runs
                        .get(nth)
                        .and_then(|r| r.get(i))
                        .ok_or(format!("no alignment for audio track {nth}"))?;
                    let want = (
                        run.kept as u64,
                        run.head as u64,
                        run.tail as u64,
                        (run.silence_before + run.silence_inside) as u64,
                    );
                    if (c, dh, dt, g) != want {
                        return Err(format!(
                            "joins[{i}] track {id}: copied/dropped_head/dropped_tail/generated \
                             {:?}, framemd5 of the output shows {want:?}",
                            (c, dh, dt, g)
                        ));
                    }
                    if input_track.is_none() {
                        // An input without this audio track: silence only, checked above.
                        continue;
                    }
                    // Each dropped AAC packet is one decoded frame of audio lost, whatever
                    // duration its container gives it (ffmpeg stretches its fragmented output's
                    // priming packet; GStreamer's first has none).
                    let want_ds = (run.head + run.tail) as f64 * FRAME;
                    if (ds - want_ds).abs() > 1e-6 {
                        return Err(format!(
                            "joins[{i}] track {id}: dropped_seconds {ds}, ffprobe durations of the \
                             dropped packets sum to {want_ds}"
                        ));
                    }
                    let want_gs = g as f64 * 1024.0 / 48000.0;
                    if (gs - want_gs).abs() > 1e-6 {
                        return Err(format!(
                            "joins[{i}] track {id}: generated_seconds {gs}, {g} AAC frames are \
                             {want_gs}"
                        ));
                    }
                    let e = f(t, "av_offset_error_seconds")?;
                    if let Some(Some(want_e)) = m.av_errors.get(nth).and_then(|v| v.get(i)) {
                        if (e - want_e).abs() > 1.0 / 48000.0 + 1e-9 {
                            return Err(format!(
                                "joins[{i}] track {id}: av_offset_error_seconds {e}, ffprobe \
                                 measures {want_e}"
                            ));
                        }
                    }
                } else if g != 0 && s.kind == "video" {
                    return Err(format!(
                        "joins[{i}] track {id}: {g} generated video samples"
                    ));
                }
            }
        }
        for s in &po.streams {
            let got = per_stream.get(&s.index).copied().unwrap_or(0);
            if got != s.pkts.len() as u64 {
                return Err(format!(
                    "stream {} ({}): copied + generated over the joins = {got}, ffprobe counts {} \
                     packets",
                    s.index,
                    s.kind,
                    s.pkts.len()
                ));
            }
        }
        for (k, want) in [
            ("copied_samples", copied),
            ("dropped_samples", dropped),
            ("generated_samples", generated),
        ] {
            let got = u(r, k)?;
            if got != want {
                return Err(format!("{k} {got}, the joins sum to {want}"));
            }
        }
        if !r["warnings"].is_array() {
            return Err("no \"warnings\" array".into());
        }
        Ok(())
    })());
    failures
}

/// (9) `stitch --json` counts every dropped packet (priming, overlaps, cut tails) and every
/// generated one, per join and per track, consistently with ffprobe of the output and inputs.
#[test]
fn json_report_counts_every_dropped_and_generated_packet() {
    if !require_ffmpeg() {
        return;
    }
    let mut failures = Vec::new();
    for (name, set) in [
        ("report_frag_ff", FRAG_FF),
        ("report_gst_frag", GST_FRAG),
        ("report_two_audio_same", TWO_AUDIO_SAME),
        ("report_abc", &["a.mp4", "video_only.mp4", "b.mp4"][..]),
    ] {
        let inputs = paths(set);
        let (out, json) = stitch(&format!("{name}.mp4"), &inputs, &[]);
        failures.extend(check_report(name, &inputs, &out, &json));
    }
    fail_if_any("report", &failures);
}

// ---------------------------------------------------------------------------------------------
// 10. --best-effort salvage

/// Top-level boxes: (type, offset, size).
fn top_boxes(data: &[u8]) -> Vec<(String, usize, usize)> {
    common::top_level_boxes(data)
        .into_iter()
        .map(|b| (b.kind, b.offset as usize, b.size as usize))
        .collect()
}

/// `frag_ff_2.mp4` cut at 80% of its size (inside the mdat of a late moof).
fn truncated_frag(dir: &Path) -> PathBuf {
    let data = std::fs::read(fixture("frag_ff_2.mp4")).expect("fixture");
    let cut = data.len() * 8 / 10;
    let b = top_boxes(&data);
    let at = b
        .iter()
        .find(|(_, o, s)| *o <= cut && cut < o + s)
        .expect("box at the cut");
    assert_eq!(
        at.0, "mdat",
        "the 80% cut of frag_ff_2.mp4 lands in an mdat"
    );
    let p = dir.join("frag_ff_2.cut80.mp4");
    std::fs::write(&p, &data[..cut]).expect("write");
    p
}

/// `b.mp4` without its moov (ftyp + free + mdat): a recorder that crashed before writing it.
fn moovless(dir: &Path) -> PathBuf {
    let data = std::fs::read(fixture("b.mp4")).expect("fixture");
    let mut out = Vec::new();
    for (k, o, s) in top_boxes(&data) {
        if k != "moov" {
            out.extend_from_slice(&data[o..o + s]);
        }
    }
    let p = dir.join("b.nomoov.mp4");
    std::fs::write(&p, out).expect("write");
    p
}

fn empty(dir: &Path) -> PathBuf {
    let p = dir.join("empty.mp4");
    std::fs::write(&p, b"").expect("write");
    p
}

fn salvage_dir() -> PathBuf {
    let d = shared_dir().join("salvage");
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

/// 10a. A fragmented input cut inside its last fragment: with `--best-effort` its span ends at its
/// last salvaged video frame, so the next input follows with no video hole; the audio follows the
/// same rules (cut to the salvaged span). Without the flag the stitch fails with exit 1, naming the
/// file, and leaves no output.
#[test]
fn best_effort_truncated_fragment_ends_at_last_salvaged_sample() {
    if !require_ffmpeg() {
        return;
    }
    let dir = salvage_dir();
    let cut = truncated_frag(&dir);
    let inputs = vec![
        fixture("frag_ff_1.mp4"),
        cut.clone(),
        fixture("frag_ff_3.mp4"),
    ];
    let mut failures = Vec::new();

    let out = dir.join("strict.mp4");
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-y".into(), "-o".into()];
    args.push(out.clone().into());
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    if o.status.code() != Some(1) || out.exists() {
        failures.push(format!(
            "plain mode must fail with exit 1 and no output: {}",
            describe(&o)
        ));
    }
    let err = String::from_utf8_lossy(&o.stderr);
    if !err.contains("frag_ff_2.cut80.mp4") || err.contains("panicked") {
        failures.push(format!(
            "plain mode error does not name the truncated file: {err}"
        ));
    }

    let (out, json) = stitch("salvage/best_effort_cut.mp4", &inputs, &["--best-effort"]);
    let warnings = report(&json)["warnings"].to_string();
    if !warnings.contains("frag_ff_2.cut80.mp4") {
        failures.push(format!("no warning names the truncated input: {warnings}"));
    }
    // What is complete in the cut file, by ffmpeg: the leading packets whose framemd5 equals the
    // full file's.
    let full = fixture("frag_ff_2.mp4");
    let (pf, pc) = (probe(&full), probe(&cut));
    let complete = |kind: &str| -> usize {
        let (Some(a), Some(b)) = (pf.of(kind).first().copied(), pc.of(kind).first().copied())
        else {
            return 0;
        };
        let (x, y) = (md5s(&full, a.index), md5s(&cut, b.index));
        x.iter().zip(y.iter()).take_while(|(p, q)| p == q).count()
    };
    let (v_avail, a_avail) = (complete("video"), complete("audio"));
    // The salvaged video packets: a prefix of the full file's; at most the complete ones, and
    // at least all but a trailing mini-GOP (2 B-frames + the reference they wait for).
    let po = probe(&out);
    let n_out = po.video().map_or(0, |v| v.pkts.len());
    let n0 = probe(&inputs[0]).video().unwrap().pkts.len();
    let n2 = probe(&inputs[2]).video().unwrap().pkts.len();
    let n1 = n_out.saturating_sub(n0 + n2);
    let n_full = pf.video().unwrap().pkts.len();
    if n1 > v_avail || n1 + 3 < v_avail {
        failures.push(format!(
            "{n1} video packets salvaged from the cut input; ffmpeg reads {v_avail} complete ones \
             (of {n_full} in the full file)"
        ));
    }
    let judged = vec![inputs[0].clone(), full, inputs[2].clone()];
    let m = check_stitch(
        "best-effort cut",
        &judged,
        &[
            None,
            Some(Cut {
                video: n1,
                audio: a_avail,
            }),
            None,
        ],
        &out,
        &mut failures,
    );
    // (check_stitch takes the cut input's span from its salvaged video packets, so its audio is
    // expected to end with them, or with its last complete audio packet when that is earlier.)
    if let (Some(v), Some(s1), Some(s2)) = (po.video(), m.out_starts.get(1), m.out_starts.get(2)) {
        eprintln!(
            "salvaged input spans {:.4} s in the output ({n1} of {n_full} video packets, \
             {v_avail} complete; {a_avail} complete audio packets)",
            v.secs(s2 - s1)
        );
    }
    fail_if_any("best-effort truncated fragment", &failures);
}

/// 10b. An empty file and a file without moov among the inputs: with `--best-effort` they are
/// skipped with a warning naming each, and the rest is joined exactly as without them; without
/// the flag each makes the stitch fail with exit 1 and a message naming it.
#[test]
fn best_effort_skips_empty_and_moovless_inputs() {
    if !require_ffmpeg() {
        return;
    }
    let dir = salvage_dir();
    let (e, n) = (empty(&dir), moovless(&dir));
    let mut failures = Vec::new();
    for bad in [&e, &n] {
        let out = dir.join("strict2.mp4");
        let o = seam([
            "stitch".as_ref(),
            "-y".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            fixture("a.mp4").as_os_str(),
            bad.as_os_str(),
            fixture("c.mp4").as_os_str(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        let name = bad.file_name().unwrap().to_string_lossy();
        if o.status.code() != Some(1)
            || out.exists()
            || !err.contains(&*name)
            || err.contains("panicked")
        {
            failures.push(format!(
                "plain mode with {name}: must exit 1 naming it, no output: {}",
                describe(&o)
            ));
        }
    }
    let inputs = [fixture("a.mp4"), e.clone(), n.clone(), fixture("c.mp4")];
    let out = dir.join("best_effort_skip.mp4");
    let mut args: Vec<std::ffi::OsString> = vec![
        "stitch".into(),
        "-y".into(),
        "--json".into(),
        "--best-effort".into(),
        "-o".into(),
    ];
    args.push(out.clone().into());
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    if !o.status.success() {
        failures.push(format!(
            "--best-effort with an empty and a moov-less input: {}",
            describe(&o)
        ));
        fail_if_any("best-effort skip", &failures);
        return;
    }
    let json: Value = serde_json::from_slice(&o.stdout).unwrap_or(Value::Null);
    let warnings = report(&json)["warnings"].to_string();
    for bad in [&e, &n] {
        let name = bad.file_name().unwrap().to_string_lossy().into_owned();
        if !warnings.contains(&name) {
            failures.push(format!("no warning names skipped {name}: {warnings}"));
        }
    }
    check_stitch(
        "best-effort skip",
        &[fixture("a.mp4"), fixture("c.mp4")],
        &[],
        &out,
        &mut failures,
    );
    fail_if_any("best-effort skip", &failures);
}

// ---------------------------------------------------------------------------------------------
// Control

/// The checks above pass on sets seam already joins right (progressive ffmpeg files with edit
/// lists, one without audio), so their failures on the sets above are the planner's, not the
/// harness's.
#[test]
fn control_sets_pass_the_same_checks() {
    if !require_ffmpeg() {
        return;
    }
    let mut f = check_set("control_abc", &["a.mp4", "b.mp4", "c.mp4"], true);
    f.extend(check_set(
        "control_moov_last",
        &["a.mp4", "moov_last.mp4", "negcts.mp4"],
        false,
    ));
    f.extend(check_set(
        "control_video_only",
        &["a.mp4", "video_only.mp4", "b.mp4"],
        false,
    ));

    fail_if_any("control", &f);
}

/// A short cut of a long GOP (`ffmpeg -ss 3.2 -t 0.6 -c copy` of a 4 s GOP): most of the media is
/// decode-only pre-roll before the edit. That is a valid file, not damaged timing: it is joined,
/// and the output shows exactly the frames the inputs show.
#[test]
fn short_cut_of_a_long_gop_is_joined() {
    if !require_ffmpeg() {
        return;
    }
    let inputs = paths(&["longgop_cut.mp4", "longgop_cut.mp4"]);
    let (out, _) = stitch("longgop_cut.mp4", &inputs, &[]);
    let mut failures = Vec::new();
    let (ok, stderr) = common::decode_null(&out);
    if !ok || !stderr.is_empty() {
        failures.push(format!(
            "longgop: ffmpeg -v error -f null: {}",
            stderr.trim()
        ));
    }
    let want: Vec<String> = inputs.iter().flat_map(|p| decoded_video_md5s(p)).collect();
    let got = decoded_video_md5s(&out);
    if got != want || want.is_empty() {
        failures.push(format!(
            "longgop: decoded output has {} video frames, the inputs decoded alone {}",
            got.len(),
            want.len()
        ));
    }
    fail_if_any("long GOP cut", &failures);
}

// ---------------------------------------------------------------------------------------------
// FLV inputs (fixtures/mixed/c.flv: ffmpeg's flv muxer, milliseconds from 0 like an RTMP
// recording): the same join rules as MP4.

/// No video hole, audio contiguous, each input's A/V offset kept within half an AAC frame, packets
/// bit-exact (FLV payloads are MP4 samples), clean decode; progressive and fragmented outputs.
#[test]
fn flv_inputs_follow_the_join_rules() {
    if !require_ffmpeg() {
        return;
    }
    fail_if_any(
        "flv",
        &check_set(
            "flv_join",
            &["mixed/c.flv", "mixed/c.flv", "mixed/c.flv"],
            true,
        ),
    );
}
