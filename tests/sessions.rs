//! Recording sessions end to end (`seam stitch --start-times`, `--gaps`, `--per-segment`,
//! `--audio-only`, `--video-only`, `--chapters`) on `fixtures/sessions` (made by
//! `fixtures/make_sessions.sh`): a video-only MP4 with an ADTS file starting 0.15 s after it, a
//! 3 s absence, an M4A starting 0.5 s before its video-only MP4, a 1 s absence, an A+V MP4.
//!
//! Checked with ffprobe/ffmpeg: clean decoding, durations, where each input's first frame and
//! first audio packet are presented (its wall-clock time, audio within half an AAC frame), the
//! held frame's duration, the silence's length, and every copied packet bit-exact in order.

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{
    decode_null, describe, ffprobe, fixture, md5s, require_ffmpeg, seam, seam_media,
    seam_sample_hashes, shared_dir, Kind, ProbeStream, HALF_FRAME_SECONDS,
};
use seam::model::TrackKind;

/// One AAC frame at 48 kHz, in seconds.
const FRAME: f64 = 1024.0 / 48000.0;
/// Wall-clock starts from `session.txt`, relative to v1's (1000 s).
const T_A1: f64 = 0.15;
const T_A2: f64 = 7.0;
const T_V2: f64 = 7.5;
const T_AV3: f64 = 12.5;
/// Rounding of the output's timestamps to their time bases.
const TICK: f64 = 0.001;

fn sessions(name: &str) -> PathBuf {
    fixture("sessions").join(name)
}

fn list() -> PathBuf {
    sessions("session.txt")
}

/// `seam stitch -y -q -o OUT ARGS...`, which must succeed.
fn stitch(name: &str, args: &[&str]) -> PathBuf {
    let out = shared_dir().join(name);
    let o = run(&out, args);
    assert!(o.status.success(), "seam {args:?}: {}", describe(&o));
    out
}

fn run(out: &Path, args: &[&str]) -> Output {
    seam(
        ["stitch", "-y", "-q", "-o"]
            .iter()
            .map(|s| s.as_ref())
            .chain([out.as_os_str()])
            .chain(args.iter().map(|s| s.as_ref())),
    )
}

fn clean(out: &Path) {
    let (ok, err) = decode_null(out);
    assert!(
        ok && err.is_empty(),
        "{}: ffmpeg decoding: {err}",
        out.display()
    );
}

fn close(what: &str, got: f64, want: f64, tolerance: f64) {
    assert!(
        (got - want).abs() <= tolerance,
        "{what}: {got:.6} s, expected {want:.6} s (within {tolerance:.6} s)"
    );
}

/// Presentation times of a stream's packets, in seconds, in file order.
fn pts(s: &ProbeStream) -> Vec<f64> {
    s.packets
        .iter()
        .map(|p| s.seconds(p.pts.expect("pts")))
        .collect()
}

fn hashes(name: &str) -> Vec<String> {
    seam_sample_hashes(&sessions(name), TrackKind::Audio)
}

/// Where each input's packets are in the output's audio: `out` must be `a1` whole, silence,
/// `a2` without its priming packet, silence, `av3` without its priming packet. Gives the index of
/// each input's first copied packet and the two silence runs.
fn audio_layout(out: &[String]) -> ([usize; 3], [usize; 2]) {
    let (a1, a2, av3) = (hashes("a1.aac"), hashes("a2.m4a"), hashes("av3.mp4"));
    assert_eq!(&out[..a1.len()], &a1[..], "a1.aac copied whole, first");
    let silence = &out[a1.len()];
    assert!(!a1.contains(silence) && !a2.contains(silence));
    let run = |from: usize| out[from..].iter().take_while(|h| *h == silence).count();
    let g1 = run(a1.len());
    let s2 = a1.len() + g1;
    assert_eq!(
        &out[s2..s2 + a2.len() - 1],
        &a2[1..],
        "a2.m4a after the gap"
    );
    let after2 = s2 + a2.len() - 1;
    let g2 = run(after2);
    let s3 = after2 + g2;
    assert_eq!(&out[s3..], &av3[1..], "av3.mp4 last");
    ([0, s2, s3], [g1, g2])
}

fn video_packets() -> Vec<String> {
    ["v1.mp4", "v2.mp4", "av3.mp4"]
        .iter()
        .flat_map(|n| md5s(&sessions(n), Kind::Video))
        .collect()
}

/// Frames presented after `after` s: the first one's time.
fn next_frame(v: &[f64], after: f64) -> f64 {
    v.iter()
        .copied()
        .filter(|&t| t > after + TICK)
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn held_gap_keeps_every_input_at_its_wall_clock_time() {
    if !require_ffmpeg() {
        return;
    }
    let out = stitch("hold.mp4", &["--start-times", list().to_str().unwrap()]);
    clean(&out);
    let p = ffprobe(&out);
    close("duration", p.format_duration, T_AV3 + 3.0, TICK);

    // Video: every packet copied, in order; each input's first frame at its time.
    assert_eq!(md5s(&out, Kind::Video), video_packets());
    let v = p.expect(Kind::Video, &out.display());
    let vp = pts(v);
    close(
        "v1 first frame",
        vp.iter().copied().fold(f64::INFINITY, f64::min),
        0.0,
        TICK,
    );
    // The last frame of v1 (3.96 s) is shown until v2's first (7.5 s): its sample lasts 3.54 s
    // (the next decode time is v2's first).
    close("v2 first frame", next_frame(&vp, 3.96), T_V2, TICK);
    close("av3 first frame", next_frame(&vp, T_V2 + 3.96), T_AV3, TICK);
    let m = seam_media(&out);
    let vt = m.video().expect("video track");
    let held = vt.samples.get(99).expect("v1's last sample");
    assert_eq!(
        u64::from(held.duration) * 100,
        354 * u64::from(vt.timescale),
        "held frame: {} ticks at {} Hz",
        held.duration,
        vt.timescale
    );

    // Audio: a1 from 0.15 s, silence, a2 presented from 7.0 s, silence, av3 from 12.5 s.
    let a = p.expect(Kind::Audio, &out.display());
    let ap = pts(a);
    let ([_, s2, s3], [g1, g2]) = audio_layout(&seam_sample_hashes(&out, TrackKind::Audio));
    close("a1 start", ap[0], T_A1, TICK);
    close(
        "a2 start (after the gap)",
        ap[s2],
        T_A2,
        HALF_FRAME_SECONDS + TICK,
    );
    close("av3 audio start", ap[s3], T_AV3, HALF_FRAME_SECONDS + TICK);
    // The silence fills the absence: from a1's end to a2's start, in whole frames.
    let a1_end = T_A1 + hashes("a1.aac").len() as f64 * FRAME;
    close(
        "silence before a2",
        g1 as f64 * FRAME,
        T_A2 - a1_end,
        FRAME / 2.0,
    );
    let a2_end = ap[s2] + (hashes("a2.m4a").len() - 1) as f64 * FRAME;
    close(
        "silence before av3",
        g2 as f64 * FRAME,
        T_AV3 - a2_end,
        FRAME / 2.0,
    );
    assert!(g1 > 150, "a 3.3 s absence: {g1} silent frames");
}

#[test]
fn skipped_gaps_join_segments_back_to_back() {
    if !require_ffmpeg() {
        return;
    }
    let out = stitch(
        "skip.mp4",
        &["--start-times", list().to_str().unwrap(), "--gaps", "skip"],
    );
    clean(&out);
    let p = ffprobe(&out);
    // Segments: [0, 4) (v1, a1 from 0.15), [7, 11.5) (a2, v2 from 0.5 in), [12.5, 15.5) (av3).
    close("duration", p.format_duration, 4.0 + 4.5 + 3.0, TICK);
    assert_eq!(md5s(&out, Kind::Video), video_packets());
    let vp = pts(p.expect(Kind::Video, &out.display()));
    close("v2 first frame", next_frame(&vp, 3.96), 4.0 + 0.5, TICK);
    close("av3 first frame", next_frame(&vp, 4.5 + 3.96), 8.5, TICK);
    let ap = pts(p.expect(Kind::Audio, &out.display()));
    let ([_, s2, s3], [g1, g2]) = audio_layout(&seam_sample_hashes(&out, TrackKind::Audio));
    close("a1 start", ap[0], T_A1, TICK);
    close("a2 start", ap[s2], 4.0, HALF_FRAME_SECONDS + TICK);
    close("av3 audio start", ap[s3], 8.5, HALF_FRAME_SECONDS + TICK);
    // Silence only inside segments (segment 1's video outlasts a1), none for the absences.
    let a1_end = T_A1 + hashes("a1.aac").len() as f64 * FRAME;
    close(
        "silence in segment 1",
        g1 as f64 * FRAME,
        4.0 - a1_end,
        FRAME / 2.0,
    );
    assert_eq!(g2, 0, "a2 and v2 end together");
}

#[test]
fn per_segment_outputs_keep_audio_before_and_after_its_video() {
    if !require_ffmpeg() {
        return;
    }
    let out = shared_dir().join("seg.mp4");
    let o = run(
        &out,
        &[
            "--start-times",
            list().to_str().unwrap(),
            "--per-segment",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let names: Vec<&str> = json["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|v| v["output"].as_str().expect("output"))
        .collect();
    let files: Vec<PathBuf> = (0..3)
        .map(|k| shared_dir().join(format!("seg_{k:05}.mp4")))
        .collect();
    assert_eq!(
        names,
        files
            .iter()
            .map(|f| f.to_str().unwrap())
            .collect::<Vec<_>>()
    );
    let expect = [
        // (duration, video start, audio start, audio input, video input)
        (4.0, 0.0, T_A1, "a1.aac", "v1.mp4"),
        (4.5, T_V2 - T_A2, 0.0, "a2.m4a", "v2.mp4"),
        (3.0, 0.0, 0.0, "av3.mp4", "av3.mp4"),
    ];
    for (f, (d, v0, a0, a, v)) in files.iter().zip(expect) {
        clean(f);
        let p = ffprobe(f);
        close("duration", p.format_duration, d, TICK);
        let vs = p.expect(Kind::Video, &f.display());
        let as_ = p.expect(Kind::Audio, &f.display());
        // Audio 0.15 s after its video, or 0.5 s before it, is kept at its time (an empty
        // edit delays the later track), not moved onto the other.
        close("video start", vs.start_time.expect("start"), v0, TICK);
        close("audio start", as_.start_time.expect("start"), a0, TICK);
        // The first input of an output keeps every packet (priming included).
        assert_eq!(
            seam_sample_hashes(f, TrackKind::Audio),
            hashes(a),
            "{}",
            f.display()
        );
        assert_eq!(md5s(f, Kind::Video), md5s(&sessions(v), Kind::Video));
    }
}

#[test]
fn audio_only_and_video_only_outputs() {
    if !require_ffmpeg() {
        return;
    }
    let l = list();
    let m4a = stitch(
        "session.m4a",
        &["--start-times", l.to_str().unwrap(), "--audio-only"],
    );
    clean(&m4a);
    let p = ffprobe(&m4a);
    assert_eq!(p.streams.len(), 1, "audio only");
    let a = p.expect(Kind::Audio, &m4a.display());
    // The output starts at the earliest audio (a1, at 0.15 s) and keeps every input's time.
    close("start", a.start_time.expect("start"), 0.0, TICK);
    close("duration", p.format_duration, T_AV3 + 3.0 - T_A1, TICK);
    let ap = pts(a);
    let ([_, s2, s3], _) = audio_layout(&seam_sample_hashes(&m4a, TrackKind::Audio));
    close("a2 start", ap[s2], T_A2 - T_A1, HALF_FRAME_SECONDS + TICK);
    close(
        "av3 audio start",
        ap[s3],
        T_AV3 - T_A1,
        HALF_FRAME_SECONDS + TICK,
    );

    let mp4 = stitch(
        "video.mp4",
        &["--start-times", l.to_str().unwrap(), "--video-only"],
    );
    clean(&mp4);
    let p = ffprobe(&mp4);
    assert_eq!(p.streams.len(), 1, "video only");
    close("duration", p.format_duration, T_AV3 + 3.0, TICK);
    assert_eq!(md5s(&mp4, Kind::Video), video_packets());
    let vp = pts(p.expect(Kind::Video, &mp4.display()));
    close("v2 first frame", next_frame(&vp, 3.96), T_V2, TICK);
}

#[test]
fn chapters_name_each_segment_after_its_files() {
    if !require_ffmpeg() {
        return;
    }
    let out = stitch(
        "chapters.mp4",
        &["--start-times", list().to_str().unwrap(), "--chapters"],
    );
    clean(&out);
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_chapters", "-of", "json"])
        .arg(&out)
        .output()
        .expect("ffprobe");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let chapters: Vec<(f64, String)> = v["chapters"]
        .as_array()
        .expect("chapters")
        .iter()
        .map(|c| {
            (
                c["start_time"].as_str().unwrap().parse().unwrap(),
                c["tags"]["title"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        chapters,
        vec![
            (0.0, "v1.mp4 + a1.aac".to_string()),
            (T_A2, "a2.m4a + v2.mp4".to_string()),
            (T_AV3, "av3.mp4".to_string()),
        ]
    );
}

#[test]
fn camera_off_inside_a_segment_holds_the_picture_and_keeps_the_audio_whole() {
    if !require_ffmpeg() {
        return;
    }
    // al.m4a runs 0..10 s; v1 0..4 s, the camera off, v2 6..10 s: one segment (in every mode).
    let dir = shared_dir().join("camera_off");
    std::fs::create_dir_all(&dir).expect("dir");
    let l = dir.join("log.txt");
    let f = |n: &str| sessions(n).display().to_string();
    std::fs::write(
        &l,
        format!(
            "50 {}\n50 {}\n56 {} create\n54 {} close\n",
            f("al.m4a"),
            f("v1.mp4"),
            f("v2.mp4"),
            f("v1.mp4")
        ),
    )
    .expect("list");
    for (name, extra) in [("off_hold.mp4", None), ("off_skip.mp4", Some("skip"))] {
        let mut args = vec!["--start-times", l.to_str().unwrap(), "--chapters"];
        if let Some(g) = extra {
            args.extend(["--gaps", g]);
        }
        let out = stitch(name, &args);
        clean(&out);
        let p = ffprobe(&out);
        close("duration", p.format_duration, 10.0, TICK);
        let vp = pts(p.expect(Kind::Video, &out.display()));
        close(
            "v2 first frame (v1's last held)",
            next_frame(&vp, 3.96),
            6.0,
            TICK,
        );
        assert_eq!(
            md5s(&out, Kind::Video),
            ["v1.mp4", "v2.mp4"]
                .iter()
                .flat_map(|n| md5s(&sessions(n), Kind::Video))
                .collect::<Vec<_>>()
        );
        // The audio is the file, every packet in place, no silence.
        assert_eq!(seam_sample_hashes(&out, TrackKind::Audio), hashes("al.m4a"));
        let a = p.expect(Kind::Audio, &out.display());
        close("audio start", a.start_time.expect("start"), 0.0, TICK);
    }
}

#[test]
fn slightly_overlapping_segments_are_cut_not_refused() {
    if !require_ffmpeg() {
        return;
    }
    // a2 starts 0.4 s before v1 ends, v2 0.2 s before: each kind's later file cuts the earlier
    // one's end (the video's decode-order tail from 3.8 s, the audio from 3.6 s).
    let dir = shared_dir().join("overlap_ok");
    std::fs::create_dir_all(&dir).expect("dir");
    let l = dir.join("log.txt");
    let f = |n: &str| sessions(n).display().to_string();
    std::fs::write(
        &l,
        format!(
            "0 {}\n0.15 {}\n3.6 {}\n3.8 {}\n",
            f("v1.mp4"),
            f("a1.aac"),
            f("a2.m4a"),
            f("v2.mp4")
        ),
    )
    .expect("list");
    let out = stitch("overlap.mp4", &["--start-times", l.to_str().unwrap()]);
    clean(&out);
    let p = ffprobe(&out);
    close("duration", p.format_duration, 3.6 + 4.5, TICK);
    let vp = pts(p.expect(Kind::Video, &out.display()));
    let v1 = vp.len() - 100;
    assert!(v1 < 100, "v1's frames from 3.8 s on left out: {v1} kept");
    let v1_last = vp[..v1].iter().copied().fold(0.0, f64::max);
    assert!(v1_last < 3.8, "v1 frames shown until {v1_last}");
    let v2_first = vp[v1..].iter().copied().fold(f64::INFINITY, f64::min);
    close("v2 first frame", v2_first, 3.8, TICK);
    assert_eq!(
        md5s(&out, Kind::Video)[v1..],
        md5s(&sessions("v2.mp4"), Kind::Video)[..]
    );
    let h = seam_sample_hashes(&out, TrackKind::Audio);
    let a2 = hashes("a2.m4a");
    let s2 = h.len() - (a2.len() - 1);
    assert_eq!(h[s2..], a2[1..]);
    close(
        "a2 start",
        pts(p.expect(Kind::Audio, &out.display()))[s2],
        3.6,
        HALF_FRAME_SECONDS + TICK,
    );
}

#[test]
fn gstreamer_session_keeps_its_times() {
    if !require_ffmpeg() {
        return;
    }
    // GStreamer's mp4mux: moov last, movie timescales 2500 and 1800, audio whose priming is
    // presented (no edit). g_a1 at 0, g_v1 at 0.3, a 2 s absence, g_v2 at 5.3, g_a2 at 5.45.
    let l = sessions("g_session.txt");
    let out = stitch("g_hold.mp4", &["--start-times", l.to_str().unwrap()]);
    clean(&out);
    let p = ffprobe(&out);
    let (a1, a2) = (hashes("g_a1.m4a"), hashes("g_a2.m4a"));
    close(
        "duration",
        p.format_duration,
        5.45 + a2.len() as f64 * FRAME,
        TICK,
    );
    let video: Vec<String> = ["g_v1.mp4", "g_v2.mp4"]
        .iter()
        .flat_map(|n| md5s(&sessions(n), Kind::Video))
        .collect();
    assert_eq!(md5s(&out, Kind::Video), video);
    let vp = pts(p.expect(Kind::Video, &out.display()));
    close(
        "g_v1 first frame",
        vp[..75].iter().copied().fold(f64::INFINITY, f64::min),
        0.3,
        TICK,
    );
    close(
        "g_v2 first frame",
        vp[75..].iter().copied().fold(f64::INFINITY, f64::min),
        5.3,
        TICK,
    );
    let h = seam_sample_hashes(&out, TrackKind::Audio);
    assert_eq!(h[..a1.len()], a1[..]);
    let g = h[a1.len()..]
        .iter()
        .take_while(|x| **x == h[a1.len()])
        .count();
    assert_eq!(h[a1.len() + g..], a2[..], "g_a2 whole after the silence");
    let ap = pts(p.expect(Kind::Audio, &out.display()));
    close("g_a1 start", ap[0], 0.0, TICK);
    close(
        "g_a2 start",
        ap[a1.len() + g],
        5.45,
        HALF_FRAME_SECONDS + TICK,
    );
    close(
        "silence",
        g as f64 * FRAME,
        5.45 - a1.len() as f64 * FRAME,
        FRAME / 2.0,
    );
}

/// An ID3v2.4 tag carrying an HLS packed-audio timestamp (RFC 8216 §3.4) of `pts` (90 kHz).
fn hls_tag(pts: u64) -> Vec<u8> {
    let mut frame = b"com.apple.streaming.transportStreamTimestamp\0".to_vec();
    frame.extend(pts.to_be_bytes());
    let mut body = b"PRIV".to_vec();
    body.extend((frame.len() as u32).to_be_bytes());
    body.extend([0, 0]);
    body.extend(frame);
    let mut t = vec![b'I', b'D', b'3', 4, 0, 0, 0, 0, 0, body.len() as u8];
    t.extend(body);
    t
}

#[test]
fn adts_files_placed_by_their_own_timestamps() {
    if !require_ffmpeg() {
        return;
    }
    let a1 = std::fs::read(sessions("a1.aac")).expect("a1.aac");
    let dir = shared_dir().join("adts_times");
    std::fs::create_dir_all(&dir).expect("dir");
    // Across the 33-bit wrap: the second file starts 5 s after the first.
    let t0 = (1u64 << 33) - 90_000;
    let (x, y) = (dir.join("x.aac"), dir.join("y.aac"));
    std::fs::write(&x, [hls_tag(t0), a1.clone()].concat()).expect("write");
    std::fs::write(&y, [hls_tag((t0 + 450_000) % (1 << 33)), a1].concat()).expect("write");
    let out = dir.join("out.m4a");
    // Given in the wrong order: their times order them.
    let o = run(
        &out,
        &["--gaps", "hold", y.to_str().unwrap(), x.to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", describe(&o));
    clean(&out);
    let p = ffprobe(&out);
    let n = hashes("a1.aac").len();
    close("duration", p.format_duration, 5.0 + n as f64 * FRAME, TICK);
    let h = seam_sample_hashes(&out, TrackKind::Audio);
    assert_eq!(h[..n], hashes("a1.aac")[..]);
    let g = h[n..].iter().take_while(|s| **s == h[n]).count();
    close(
        "silence",
        g as f64 * FRAME,
        5.0 - n as f64 * FRAME,
        FRAME / 2.0,
    );
    close(
        "y start",
        pts(p.expect(Kind::Audio, &out.display()))[n + g],
        5.0,
        HALF_FRAME_SECONDS + TICK,
    );
}

#[test]
fn refused_sessions_say_why() {
    let dir = shared_dir().join("bad_sessions");
    std::fs::create_dir_all(&dir).expect("dir");
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).expect("write list");
        p
    };
    let f = |n: &str| sessions(n).display().to_string();
    let out = dir.join("out.mp4");
    let cases: Vec<(Vec<String>, i32, &str)> = vec![
        // --video-only without any video.
        (
            vec![
                "--video-only".into(),
                "--start-times".into(),
                write("audio.txt", format!("0 {}\n", f("a1.aac")))
                    .display()
                    .to_string(),
            ],
            2,
            "no input has a video track",
        ),
        // A listed file that does not exist.
        (
            vec![
                "--start-times".into(),
                write("missing.txt", "0 nowhere.mp4\n".into())
                    .display()
                    .to_string(),
            ],
            3,
            "nowhere.mp4",
        ),
        // A line that is not SECONDS PATH.
        (
            vec![
                "--start-times".into(),
                write(
                    "bad.txt",
                    format!("0 {}\nsoon {}\n", f("v1.mp4"), f("a1.aac")),
                )
                .display()
                .to_string(),
            ],
            2,
            "line 2",
        ),
        // An input the list does not name.
        (
            vec![
                "--start-times".into(),
                write("one.txt", format!("0 {}\n", f("v1.mp4")))
                    .display()
                    .to_string(),
                f("v2.mp4"),
            ],
            2,
            "not in the start-time list",
        ),
    ];
    for (args, code, says) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&out, &args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", describe(&o));
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left an output");
    }
    let o = run(&out, &["--audio-only", "--video-only", &f("v1.mp4")]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    // Sessions write MP4.
    let ts = dir.join("x.ts");
    let o = run(&ts, &["--gaps", "skip", &f("v1.mp4")]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("write MP4 or M4A"));
    assert!(!ts.exists());
}

#[test]
fn best_effort_skips_an_unreadable_input() {
    let dir = shared_dir().join("best_effort");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("junk.mp4"), [0x55u8; 1000]).expect("junk");
    let l = dir.join("log.txt");
    let f = |n: &str| sessions(n).display().to_string();
    std::fs::write(
        &l,
        format!("0 {}\n0.15 {}\n5 junk.mp4\n", f("v1.mp4"), f("a1.aac")),
    )
    .expect("list");
    let out = dir.join("out.mp4");
    let o = run(&out, &["--start-times", l.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(!out.exists());
    let o = seam([
        "stitch",
        "-y",
        "--best-effort",
        "-o",
        out.to_str().unwrap(),
        "--start-times",
        l.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("skipped (best effort): ") && err.contains("junk.mp4"),
        "{err}"
    );
    assert_eq!(
        seam_sample_hashes(&out, TrackKind::Audio),
        hashes("a1.aac"),
        "the readable inputs are all there"
    );
}

/// Start times from file names (`--name-pattern`, issue 9 item 1): the same session as the
/// recorder's log gives, with the times in Agora-style names (17 digits, UTC milliseconds).
#[test]
fn start_times_from_file_names_match_the_log() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // 1000.000 s after 2019-06-11 07:32:00.000 UTC and so on, as in session.txt.
    let named = [
        ("v1.mp4", "100_20190611074840000.mp4"),
        ("a1.aac", "100_20190611074840150.aac"),
        ("a2.m4a", "100_20190611074847000.m4a"),
        ("v2.mp4", "100_20190611074847500.mp4"),
        ("av3.mp4", "100_20190611074852500.mp4"),
    ];
    let mut paths = Vec::new();
    for (from, to) in named {
        let p = dir.path().join(to);
        std::fs::copy(fixture(&format!("sessions/{from}")), &p).expect("copy");
        paths.push(p);
    }
    let by_name = dir.path().join("by_name.mp4");
    let mut args: Vec<std::ffi::OsString> = vec![
        "stitch".into(),
        "-q".into(),
        "--name-pattern".into(),
        r"(?P<uid>\d+)_(?P<start>\d{17})".into(),
        "-o".into(),
        by_name.clone().into(),
    ];
    args.extend(paths.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    assert!(o.status.success(), "{}", describe(&o));
    let by_log = dir.path().join("by_log.mp4");
    let o = seam([
        "stitch".as_ref(),
        "-q".as_ref(),
        "--start-times".as_ref(),
        fixture("sessions/session.txt").as_os_str(),
        "-o".as_ref(),
        by_log.as_os_str(),
    ]);
    assert!(o.status.success(), "{}", describe(&o));
    for kind in [Kind::Video, Kind::Audio] {
        assert_eq!(
            md5s(&by_name, kind),
            md5s(&by_log, kind),
            "{kind:?} packets differ"
        );
    }
    let (a, b) = (ffprobe(&by_name), ffprobe(&by_log));
    assert!((a.format_duration - b.format_duration).abs() < 1e-6);
    // A name the pattern does not match is a usage error naming the file.
    let stray = dir.path().join("stray.mp4");
    std::fs::copy(fixture("sessions/v1.mp4"), &stray).expect("copy");
    let o = seam([
        "stitch".as_ref(),
        "--name-pattern".as_ref(),
        r"(?P<uid>\d+)_(?P<start>\d{17})".as_ref(),
        "-o".as_ref(),
        dir.path().join("x.mp4").as_os_str(),
        stray.as_os_str(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("stray.mp4"),
        "{}",
        describe(&o)
    );
}
