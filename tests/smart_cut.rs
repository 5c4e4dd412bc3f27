//! `seam stitch --trim K=START,END --accurate` end to end: the frame-accurate smart cut on a
//! B-frame input made with ffmpeg (testsrc2 320x240 at 25 fps, 6 s, x264 `-bf 2 -g 50`, so
//! keyframes at 0, 2 and 4 s, and AAC). Cuts at non-keyframes: the first and last frames shown are
//! the source's frames at START and just before END (SSIM, as they are re-encoded, and closer to
//! those than to their neighbours), frame counts and durations exact, clean decoding, the GOPs
//! between the cuts copied bit-exact, at most one GOP re-encoded per cut point; in MP4 and in TS
//! (no edit lists: nothing outside START..END may be left in the stream), for one clip and for
//! two clips of one file joined.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::{bframe_source, describe, require_ffmpeg, seam, shared_dir};

const FPS: f64 = 25.0;

/// The source: made once per test process.
fn source() -> &'static Path {
    static SRC: OnceLock<PathBuf> = OnceLock::new();
    SRC.get_or_init(|| bframe_source("smart_cut_src.mp4", 6))
}

/// Runs `seam stitch -y --json --accurate -o OUT ARGS...`, which must succeed: the output's path
/// and the report.
fn stitch(name: &str, args: &[&str]) -> (PathBuf, serde_json::Value) {
    let out = shared_dir().join(name);
    let o = seam(
        ["stitch", "-y", "--json", "--accurate", "-o"]
            .iter()
            .map(|s| s.as_ref())
            .chain([out.as_os_str()])
            .chain(args.iter().map(|s| s.as_ref())),
    );
    assert!(o.status.success(), "seam stitch {args:?}: {}", describe(&o));
    let v: serde_json::Value =
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", describe(&o)));
    (out, v["report"].clone())
}

/// `ffmpeg -v error -i F -f null -` prints nothing.
fn assert_clean(path: &Path) {
    let (ok, err) = common::decode_null(path);
    assert!(ok && err.trim().is_empty(), "{}: {err}", path.display());
}

/// Decoded pictures, every frame as decoded.
fn frame_count(path: &Path) -> usize {
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
    .len()
}

/// SSIM of picture `a` (decoded order of presentation, from 0) of `out` against picture `b` of the
/// source.
fn ssim(out: &Path, a: usize, b: usize) -> f64 {
    let graph = format!(
        "[0:v]select=eq(n\\,{a}),setpts=PTS-STARTPTS[a];[1:v]select=eq(n\\,{b}),setpts=PTS-STARTPTS[b];[a][b]ssim"
    );
    let o = Command::new("ffmpeg")
        .args(["-hide_banner", "-i"])
        .arg(out)
        .arg("-i")
        .arg(source())
        .args([
            "-lavfi",
            &graph,
            "-fps_mode",
            "passthrough",
            "-f",
            "null",
            "-",
        ])
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ssim: {}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    let all = err
        .rsplit("All:")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok());
    all.unwrap_or_else(|| panic!("no SSIM in {err}"))
}

/// Output picture `a` is the source's picture `b`: SSIM at least 0.9, and higher than against
/// the source's neighbouring pictures (testsrc2's neighbours are alike: about 0.9 between them).
fn assert_shows(out: &Path, a: usize, b: usize) {
    let s = ssim(out, a, b);
    assert!(
        s >= 0.9,
        "{}: picture {a} vs source {b}: SSIM {s}",
        out.display()
    );
    for n in [b.saturating_sub(1), b + 1] {
        if n != b && n < 150 {
            let other = ssim(out, a, n);
            assert!(
                s > other,
                "{}: picture {a} is closer to source picture {n} ({other}) than {b} ({s})",
                out.display()
            );
        }
    }
}

/// The report's smart-cut entries: `(input, reason, input samples, output samples)`; re-encoded
/// samples counted.
fn cuts(report: &serde_json::Value) -> Vec<(u64, String, u64, u64)> {
    let list = report["transcoded"].as_array().expect("transcoded");
    let total: u64 = list
        .iter()
        .map(|x| x["output_samples"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(report["reencoded_samples"].as_u64(), Some(total));
    list.iter()
        .map(|x| {
            (
                x["input"].as_u64().unwrap_or(99),
                x["reason"].as_str().unwrap_or("").to_string(),
                x["input_samples"].as_u64().unwrap_or(0),
                x["output_samples"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

/// Video sample payloads (decode order) of an MP4, by seam's demuxer.
fn video_samples(path: &Path) -> Vec<(Vec<u8>, bool)> {
    let m = seam::probe(path, &seam::Limits::default()).expect("probe");
    let t = m.video().expect("video track");
    let bytes = std::fs::read(path).expect("read");
    t.samples
        .iter()
        .map(|s| {
            let a = s.offset as usize;
            (bytes[a..a + s.size as usize].to_vec(), s.sync)
        })
        .collect()
}

/// The source's samples `range` appear in the output, in order and contiguous, each bit-exact or
/// (a keyframe) with the parameter sets written in band before its own bytes.
fn assert_copied(out: &Path, range: std::ops::Range<usize>) {
    let src = video_samples(source());
    let got = video_samples(out);
    let want = &src[range.clone()];
    let first = got
        .iter()
        .position(|g| g.0.ends_with(&want[0].0))
        .unwrap_or_else(|| {
            panic!(
                "{}: source sample {} not copied",
                out.display(),
                range.start
            )
        });
    assert!(first + want.len() <= got.len(), "copied run cut short");
    for (k, (w, g)) in want.iter().zip(&got[first..]).enumerate() {
        let same = g.0 == w.0 || (w.1 && g.0.ends_with(&w.0));
        assert!(
            same,
            "source sample {} not copied bit-exact",
            range.start + k
        );
    }
}

fn duration(out: &Path) -> f64 {
    common::ffprobe(out).format_duration
}

#[test]
fn cut_at_non_keyframes_is_frame_exact_in_mp4() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    // 1.24 s is picture 31 (GOP 0..2 s), 4.6 s is picture 115 (GOP 4..6 s): pictures 31..115.
    let (out, report) = stitch("sc_one.mp4", &["--trim", "1=1.24,4.6", &src]);
    assert_clean(&out);
    assert_eq!(frame_count(&out), 84);
    let d = duration(&out);
    assert!((d - 3.36).abs() <= 1.0 / FPS, "duration {d}");
    assert_shows(&out, 0, 31);
    assert_shows(&out, 83, 114);
    // The GOP at 2..4 s (samples 50..100) is copied bit-exact.
    assert_copied(&out, 50..100);
    // One GOP at each cut: pictures 31..50 from START, 100..115 before END.
    let c = cuts(&report);
    assert_eq!(
        c,
        vec![
            (0, "smart cut at START".into(), 50, 19),
            (0, "smart cut at END".into(), c[1].2, 15),
        ]
    );
    assert!(c[1].2 <= 50, "more than one GOP re-encoded at END: {c:?}");
}

#[test]
fn cut_at_non_keyframes_is_frame_exact_in_ts() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    let (out, report) = stitch("sc_one.ts", &["--trim", "1=1.24,4.6", &src]);
    assert_clean(&out);
    // No edit lists: only START..END is in the stream, so the first shown frame is START's.
    assert_eq!(frame_count(&out), 84);
    assert_shows(&out, 0, 31);
    assert_shows(&out, 83, 114);
    let d = duration(&out);
    assert!((d - 3.36).abs() <= 1.5 / FPS, "duration {d}");
    assert_eq!(cuts(&report).len(), 2);
    assert!(
        report["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().all(|w| !w.to_string().contains("decode-only"))),
        "{report}"
    );
}

#[test]
fn two_clips_of_one_file_join_frame_exactly() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    // Clip 1: 0.6..4.2 s (pictures 15..105), clip 2: 1.32..5.0 s (pictures 33..125).
    for name in ["sc_two.mp4", "sc_two.ts"] {
        let (out, report) = stitch(
            name,
            &["--trim", "1=0.6,4.2", "--trim", "2=1.32,5", &src, &src],
        );
        assert_clean(&out);
        assert_eq!(frame_count(&out), 90 + 92, "{name}");
        let d = duration(&out);
        assert!((d - 7.28).abs() <= 1.5 / FPS, "{name}: duration {d}");
        assert_shows(&out, 0, 15);
        assert_shows(&out, 89, 104);
        assert_shows(&out, 90, 33);
        assert_shows(&out, 181, 124);
        let c = cuts(&report);
        // START of both clips and END of clip 1; whether x264's reordering left a frame past
        // 5.0 s (needing the GOP at END of clip 2) depends on its frame type decisions.
        assert!((3..=4).contains(&c.len()), "{c:?}");
        assert_eq!(c[0], (0, "smart cut at START".into(), 50, 35));
        for (input, _, read, _) in &c {
            assert!(*input <= 1 && *read <= 50, "more than a GOP per cut: {c:?}");
        }
        if name.ends_with(".mp4") {
            assert_copied(&out, 50..100);
        }
    }
}

#[test]
fn cuts_on_keyframes_re_encode_nothing() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    let (out, report) = stitch("sc_keys.ts", &["--trim", "1=2,4", &src]);
    assert_clean(&out);
    assert_eq!(frame_count(&out), 50);
    assert!(cuts(&report).is_empty(), "{report}");
    assert_eq!(report["reencoded_samples"].as_u64(), Some(0));
    // START on a keyframe, END inside a GOP: only the GOP at END.
    let (out, report) = stitch("sc_end.ts", &["--trim", "1=2,4.6", &src]);
    assert_clean(&out);
    assert_eq!(frame_count(&out), 65);
    assert_shows(&out, 64, 114);
    let c = cuts(&report);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].1, "smart cut at END");
}
