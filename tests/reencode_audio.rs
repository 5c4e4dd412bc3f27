//! Issue 8 item 6: a fragment whose audio has another sample rate or channel count is
//! re-encoded to the output's configuration (fdk-aac), in place: the rest is copied bit-exact,
//! the audio stays contiguous, and the re-encoded audio is where the fragment's was (measured by
//! cross-correlating the decoded output with the decoded input).
//!
//! The inputs are made with ffmpeg in the test's temporary folder: the same x264 picture
//! settings, audio a sweep (a steady tone would match itself every period and hide a shift).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use serde_json::Value;

/// 2 s of 320x240 25 fps video and a sweep at `rate` Hz with `channels` channels.
fn make(dir: &Path, name: &str, rate: u32, channels: u32, start: f64) -> PathBuf {
    let out = dir.join(name);
    let sweep =
        format!("aevalsrc=sin(2*PI*(200*(t+{start})+150*(t+{start})*(t+{start}))):s={rate}:c=mono");
    let o = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
        ])
        .args(["-f", "lavfi", "-i", &sweep])
        .args([
            "-t", "2", "-c:v", "libx264", "-preset", "veryfast", "-g", "25",
        ])
        .args(["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "96k"])
        .args(["-ac", &channels.to_string(), "-ar", &rate.to_string()])
        .arg(&out)
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg: {}", describe(&o));
    out
}

/// Mono 48 kHz s16 PCM of `path`'s audio from `from` seconds for `secs` seconds.
fn pcm(path: &Path, from: f64, secs: f64) -> Vec<f32> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-ss", &from.to_string(), "-t", &secs.to_string()])
        .args([
            "-map", "0:a", "-ac", "1", "-ar", "48000", "-f", "s16le", "-",
        ])
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg: {}", describe(&o));
    o.stdout
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

/// The lag of `b` against `a` (positive: `b` later) within ±`range` samples, and the
/// normalised correlation there.
fn lag(a: &[f32], b: &[f32], range: i64) -> (i64, f32) {
    let n = a.len().min(b.len()) as i64 - 2 * range;
    assert!(n > 1000, "windows too short");
    let norm = |x: &[f32]| x.iter().map(|v| v * v).sum::<f32>().sqrt();
    (-range..=range)
        .map(|l| {
            let xa = &a[range as usize..(range + n) as usize];
            let xb = &b[(range + l) as usize..(range + l + n) as usize];
            let c: f32 = xa.iter().zip(xb).map(|(x, y)| x * y).sum();
            (l, c / (norm(xa) * norm(xb)).max(1e-9))
        })
        .max_by(|x, y| x.1.total_cmp(&y.1))
        .unwrap_or((0, 0.0))
}

#[test]
fn a_fragment_at_another_rate_and_layout_is_reencoded_in_place() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let a = make(dir.path(), "a.mp4", 48000, 2, 0.0);
    let b = make(dir.path(), "b.mp4", 44100, 1, 2.0);
    let c = make(dir.path(), "c.mp4", 48000, 2, 4.0);
    let out = dir.path().join("out.mp4");
    let o = seam([
        "stitch".as_ref(),
        "--json".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        a.as_os_str(),
        b.as_os_str(),
        c.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let r = &v["report"];
    let t = r["transcoded"].as_array().expect("transcoded");
    assert_eq!(t.len(), 1, "{r}");
    assert!(
        t[0]["file"].as_str().is_some_and(|f| f.ends_with("b.mp4")),
        "{r}"
    );
    assert!(
        t[0]["reason"]
            .as_str()
            .is_some_and(|f| f.contains("sample rate")),
        "{r}"
    );
    assert!(
        r["reencoded_samples"].as_u64().is_some_and(|n| n > 80),
        "{r}"
    );

    let (ok, err) = decode_null(&out);
    assert!(ok && err.is_empty(), "ffmpeg decode: {err}");
    let p = ffprobe(&out);
    let audio = p.expect(Kind::Audio, &out.display());
    assert_eq!(audio.json["sample_rate"], "48000");
    assert_eq!(audio.json["channels"], 2);
    // Contiguous: every packet starts where the one before ended.
    for w in audio.packets.windows(2) {
        let end = w[0].dts.zip(w[0].duration).map(|(d, l)| d + l);
        assert_eq!(w[1].dts, end, "audio packets not contiguous: {w:?}");
    }
    // Video copied bit-exact: the output's frames are the inputs' frames, in order.
    let video: Vec<String> = [&a, &b, &c]
        .iter()
        .flat_map(|f| seam_sample_hashes(f, seam::model::TrackKind::Video))
        .collect();
    assert_eq!(
        seam_sample_hashes(&out, seam::model::TrackKind::Video),
        video
    );
    // The first and last inputs' audio packets are copied: they open and close the output.
    let out_audio = seam_sample_hashes(&out, seam::model::TrackKind::Audio);
    let a_audio = seam_sample_hashes(&a, seam::model::TrackKind::Audio);
    assert_eq!(
        out_audio[..50],
        a_audio[..50],
        "the first input's audio is copied"
    );
    let c_audio = seam_sample_hashes(&c, seam::model::TrackKind::Audio);
    let k = out_audio.len();
    assert_eq!(
        out_audio[k - 40..],
        c_audio[c_audio.len() - 40..],
        "the last input's audio is copied"
    );

    // In place: the output from 2.3 s is b from 0.3 s, within a millisecond, and it is b's
    // signal (correlation near 1).
    let joins = r["joins"].as_array().expect("joins");
    let start = joins[1]["start_seconds"].as_f64().expect("start");
    assert!((start - 2.0).abs() < 0.05, "b starts at {start}");
    let range = 1200;
    let window = 0.5;
    let pad = f64::from(range) / 48000.0;
    let mine = pcm(&out, start + 0.3 - pad, window + 2.0 * pad);
    let theirs = pcm(&b, 0.3 - pad, window + 2.0 * pad);
    let (l, corr) = lag(&theirs, &mine, i64::from(range));
    assert!(
        corr > 0.9,
        "re-encoded audio does not match its input: correlation {corr} at lag {l}"
    );
    // The planner places whole AAC frames and reports how far the first one is from its ideal
    // place (within half a frame, like every join); the re-encoded audio is exactly there.
    let placed = joins[1]["tracks"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["kind"] == "audio"))
        .and_then(|t| t["error"].as_i64())
        .expect("audio placement error of join 1");
    assert!(placed.abs() <= 512, "placement error {placed}");
    assert!(
        (l - placed).abs() <= 48,
        "re-encoded audio is {l} samples late (48 kHz); the planner placed it {placed} late"
    );
}

#[test]
fn on_mismatch_error_refuses_instead() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let a = make(dir.path(), "a.mp4", 48000, 2, 0.0);
    let b = make(dir.path(), "b.mp4", 44100, 2, 2.0);
    let out = dir.path().join("out.mp4");
    let o = seam([
        "stitch".as_ref(),
        "--on-mismatch".as_ref(),
        "error".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        a.as_os_str(),
        b.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("sample rate"),
        "{}",
        describe(&o)
    );
    assert!(!out.exists());
}
