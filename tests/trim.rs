//! `seam stitch --trim K=START,END` end to end, on a B-frame input made with ffmpeg (testsrc2
//! 320x240 at 25 fps, 10 s, x264 `-bf 2 -g 50`, AAC of a chirp so that every audio packet is
//! distinct): durations, decoded pictures equal to the source's frames at the trimmed times,
//! frame counts, clean decoding, samples copied bit-exact from the keyframe at or before START,
//! and A/V sync at joins of trimmed clips (every output audio packet is a source packet; its offset
//! from its clip's start is the source's within half an AAC frame).

mod common;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{bframe_source, describe, require_ffmpeg, seam, shared_dir, Kind, HALF_FRAME_SECONDS};
use seam::model::TrackKind;

const FPS: f64 = 25.0;
const FRAME: f64 = 1.0 / FPS;

/// The source: made once per test process.
fn source() -> &'static Path {
    static SRC: OnceLock<PathBuf> = OnceLock::new();
    SRC.get_or_init(|| bframe_source("trim_src.mp4", 10))
}

/// Runs `seam stitch -y -o OUT ARGS...`, which must succeed; the output's path.
fn stitch(name: &str, args: &[&str]) -> PathBuf {
    let out = shared_dir().join(name);
    let o = seam(
        ["stitch", "-y", "-q", "-o"]
            .iter()
            .map(|s| s.as_ref())
            .chain([out.as_os_str()])
            .chain(args.iter().map(|s| s.as_ref())),
    );
    assert!(o.status.success(), "seam stitch {args:?}: {}", describe(&o));
    out
}

/// Decoded pictures' md5s, every frame as decoded (no frame rate conversion).
fn decoded(path: &Path) -> Vec<String> {
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

/// `ffmpeg -v error -i F -f null -` prints nothing.
fn assert_clean(path: &Path) {
    let (ok, err) = common::decode_null(path);
    assert!(ok && err.trim().is_empty(), "{}: {err}", path.display());
}

/// Frames `from..to` (frame numbers) of the source's decoded pictures.
fn source_frames(from: usize, to: usize) -> Vec<String> {
    let all = decoded(source());
    assert_eq!(all.len(), 250, "source frames");
    all[from..to].to_vec()
}

/// The output's video samples are the source's, bit-exact, from its sample `first` on.
fn assert_copied(out: &Path, first: usize) {
    let got = common::seam_sample_hashes(out, TrackKind::Video);
    let src = common::seam_sample_hashes(source(), TrackKind::Video);
    assert!(!got.is_empty() && first + got.len() <= src.len());
    assert_eq!(got, src[first..first + got.len()], "copied video samples");
}

/// Checks audio sync per clip: each output audio packet is a source packet (by md5, unique in the
/// chirp); `clips` are (source start, output start, output end) in seconds. Every packet's offset
/// from its clip's start equals the source's within half a frame, and the audio covers the output.
fn assert_av_sync(out: &Path, clips: &[(f64, f64, f64)]) {
    let src = common::framemd5(source(), Kind::Audio);
    let got = common::framemd5(out, Kind::Audio);
    let probe = common::ffprobe(out);
    let sa = common::ffprobe(source())
        .expect(Kind::Audio, &"source")
        .clone();
    let oa = probe.expect(Kind::Audio, &out.display()).clone();
    let mut worst: f64 = 0.0;
    for p in got.iter() {
        let found: Vec<_> = src.iter().filter(|s| s.md5 == p.md5).collect();
        assert_eq!(
            found.len(),
            1,
            "audio packet at {} not unique in the source",
            p.pts
        );
        let (t_out, t_src) = (oa.seconds(p.pts), sa.seconds(found[0].pts));
        // The clip it comes from, by its source time (a pre-roll packet just before a clip's
        // start belongs to it): the clips here take distinct parts of the source.
        let margin = 2.0 * 1024.0 / 48000.0;
        let clip = clips
            .iter()
            .find(|c| t_src >= c.0 - margin && t_src < c.0 + (c.2 - c.1) + margin)
            .unwrap_or_else(|| panic!("audio packet from {t_src} s of the source is in no clip"));
        let e = (t_out - clip.1) - (t_src - clip.0);
        if e.abs() > worst.abs() {
            worst = e;
        }
    }
    eprintln!(
        "{}: largest A/V offset error {:+.3} ms",
        out.display(),
        worst * 1e3
    );
    assert!(
        worst.abs() <= HALF_FRAME_SECONDS + 1e-6,
        "A/V offset error {:.3} ms",
        worst * 1e3
    );
    let (first, last) = (got.first().expect("audio"), got.last().expect("audio"));
    let end = clips.last().map_or(0.0, |c| c.2);
    assert!(oa.seconds(first.pts) <= 1e-6, "audio starts late");
    assert!(
        oa.seconds(last.pts + last.duration) >= end - 1024.0 / 48000.0,
        "audio ends early"
    );
}

#[test]
fn trim_at_non_keyframes_starts_and_ends_exactly() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    let out = stitch("trim_one.mp4", &["--trim", "1=3.2,7.64", &src]);
    let probe = common::ffprobe(&out);
    assert!(
        (probe.format_duration - 4.44).abs() < FRAME / 2.0,
        "duration {}",
        probe.format_duration
    );
    let v = probe.expect(Kind::Video, &"out");
    assert!(
        (v.duration.unwrap_or(0.0) - 4.44).abs() < 1e-6,
        "video {:?}",
        v.duration
    );
    assert_clean(&out);
    // 3.2 s is frame 80; 7.64 s is frame 191: 111 frames.
    let frames = decoded(&out);
    assert_eq!(frames.len(), 111);
    assert_eq!(frames, source_frames(80, 191));
    // Decoding starts at the keyframe at 2 s (sample 50); every sample is the source's.
    assert_copied(&out, 50);
    assert_av_sync(&out, &[(3.2, 0.0, 4.44)]);
}

#[test]
fn two_clips_of_one_file_join_exactly() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    let out = stitch(
        "trim_two.mp4",
        &["--trim", "1=1,3", "--trim", "2=6,8.4", &src, &src],
    );
    let probe = common::ffprobe(&out);
    assert!(
        (probe.format_duration - 4.4).abs() < FRAME / 2.0,
        "duration {}",
        probe.format_duration
    );
    assert_clean(&out);
    let want: Vec<String> = [source_frames(25, 75), source_frames(150, 210)].concat();
    assert_eq!(decoded(&out), want);
    assert_av_sync(&out, &[(1.0, 0.0, 2.0), (6.0, 2.0, 4.4)]);
}

#[test]
fn a_trimmed_input_between_whole_ones() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    let out = stitch(
        "trim_middle.mp4",
        &["--trim", "2=3.2,7.64", &src, &src, &src],
    );
    let probe = common::ffprobe(&out);
    assert!(
        (probe.format_duration - 24.44).abs() < FRAME / 2.0,
        "duration {}",
        probe.format_duration
    );
    assert_clean(&out);
    let all = source_frames(0, 250);
    let want: Vec<String> = [all.clone(), source_frames(80, 191), all].concat();
    assert_eq!(decoded(&out), want);
    // A trim to the end, after a whole input.
    let out = stitch("trim_tail.mp4", &["--trim", "2=6.12", &src, &src]);
    assert_clean(&out);
    let want: Vec<String> = [source_frames(0, 250), source_frames(153, 250)].concat();
    assert_eq!(decoded(&out), want);
}

/// A failed run: its exit code and message.
fn fails(args: &[&str]) -> (i32, String) {
    let out = shared_dir().join("trim_fail.mp4");
    let o = seam(
        ["stitch", "-y", "-o"]
            .iter()
            .map(|s| s.as_ref())
            .chain([out.as_os_str()])
            .chain(args.iter().map(|s| s.as_ref())),
    );
    assert!(!out.exists(), "no output after a failure");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn bad_trims_are_usage_errors() {
    if !require_ffmpeg() {
        return;
    }
    let src = source().to_str().expect("utf-8 path").to_string();
    for (args, want) in [
        (vec!["--trim", "1=5,4", &src], "not before"),
        (vec!["--trim", "1=5,5", &src], "not before"),
        (vec!["--trim", "1=20", &src], "past the input's end"),
        (vec!["--trim", "1=10", &src], "past the input's end"),
        (vec!["--trim", "3=1,2", &src, &src], "there are 2 inputs"),
        (vec!["--trim", "0=1,2", &src], "from 1"),
        (vec!["--trim", "1=1:75", &src], "bad time"),
        (
            vec!["--trim", "1=1,2", "--trim", "1=3", &src],
            "given twice",
        ),
    ] {
        let (code, err) = fails(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}
