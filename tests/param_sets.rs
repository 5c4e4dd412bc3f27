//! Joins where only the H.264/H.265 parameter sets differ (issue 8): the same picture format
//! encoded by x264 as High, Main and Baseline profile (another profile, entropy coder and PPS
//! each), by GStreamer's x264enc and openh264enc, and by x265 with other settings, is copied
//! losslessly:
//! * `--parameter-sets inband` (the default): one `avc3`/`hev1` sample entry, each keyframe of
//!   such a track carrying its fragment's parameter sets in band (ISO/IEC 14496-15 §5.4.2, §8.4.1);
//!   every input byte is in the output, in order, around the inserted NAL units;
//! * `--parameter-sets entries`: several sample entries of one output track (ISO/IEC 14496-12
//!   §8.5.2 stsd; stsc §8.7.4 and tfhd §8.8.7 say which entry each sample uses);
//! * MPEG-TS and HLS outputs carry each fragment's parameter sets before its keyframes.
//!
//! A resolution change is still refused, and `--parameter-sets refuse` refuses them all.
//! Inputs: fixtures/param_sets (fixtures/make_param_sets.sh), and files made with ffmpeg
//! (libx264, native AAC) in the test's temporary folder.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use seam::model::TrackKind;

/// Encodes 2 s of the same test picture as `profile` at `size` into `dir/name`.
fn encode(dir: &Path, name: &str, profile: &str, size: &str) -> PathBuf {
    let out = dir.join(name);
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=25"))
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", "2", "-c:v", "libx264", "-profile:v", profile])
        .args([
            "-g", "25", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k",
        ])
        .arg(&out)
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg: {}", describe(&o));
    out
}

/// The three inputs, High, Main and Baseline.
fn inputs(dir: &Path) -> Vec<PathBuf> {
    ["high", "main", "baseline"]
        .iter()
        .map(|p| encode(dir, &format!("{p}.mp4"), p, "320x240"))
        .collect()
}

/// The MD5 of every video frame's data as ffmpeg gives it (`-c copy`: packets; else decoded
/// frames, on one thread: see `decoded_frames_are_the_inputs`).
fn video_md5s(path: &Path, copy: bool) -> (Vec<String>, String) {
    let mut c = Command::new("ffmpeg");
    c.args(["-v", "error", "-threads", "1", "-i"]).arg(path);
    c.args(["-map", "0:v"]);
    if copy {
        c.args(["-c", "copy"]);
    }
    let o = c
        .args(["-f", "framemd5", "-"])
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg framemd5: {}", describe(&o));
    let md5s = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        // stream, dts, pts, duration, size, hash[, side data...]: the data's hash only.
        .filter_map(|l| l.split(',').nth(5).map(|h| h.trim().to_string()))
        .collect();
    (md5s, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// Stitches `inputs` into `out` (fragmented or not) under `--parameter-sets entries`; stderr.
fn stitch(inputs: &[PathBuf], out: &Path, fragmented: bool) -> String {
    stitch_mode(inputs, out, fragmented, Some("entries"))
}

/// Stitches `inputs` into `out` with `--parameter-sets MODE` (none: the default); stderr.
fn stitch_mode(inputs: &[PathBuf], out: &Path, fragmented: bool, mode: Option<&str>) -> String {
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-y".into()];
    if let Some(m) = mode {
        args.push("--parameter-sets".into());
        args.push(m.into());
    }
    if fragmented {
        args.push("--fragmented".into());
    }
    args.push("-o".into());
    args.push(out.into());
    args.extend(inputs.iter().map(|p| p.into()));
    let o = seam(&args);
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Lines of ffmpeg's stderr that come from the decoder, not from the demuxer's H.264 parser:
/// ffmpeg 5.1's parser keeps parsing slice headers with the first entry's parameter sets
/// (`[NULL @ ...] illegal reordering_of_pic_nums_idc`), while the decoder takes the new ones from
/// the packet's new-extradata side data.
fn decoder_messages(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.starts_with("[NULL @") && !l.trim_start().starts_with("Last message"))
        .collect()
}

/// The output's video track as seam reads it back.
fn video_entries(out: &Path) -> usize {
    let m = seam_media(out);
    m.tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .map(|t| t.sample_entries.len())
        .expect("a video track")
}

#[test]
fn profiles_join_under_several_sample_entries() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let ins = inputs(dir.path());
    let want_packets: Vec<String> = ins.iter().flat_map(|p| video_md5s(p, true).0).collect();
    let want_frames: Vec<String> = ins.iter().flat_map(|p| video_md5s(p, false).0).collect();
    assert_eq!(want_frames.len(), 150, "3 x 2 s at 25 fps");
    for fragmented in [false, true] {
        let out = dir.path().join(if fragmented { "f.mp4" } else { "p.mp4" });
        let err = stitch(&ins, &out, fragmented);
        // One warning per join, naming what differs.
        for s in [
            "main.mp4: video: profile Main differs from ",
            "high.mp4: High; same picture format",
            "as configuration 2 of the track",
            "baseline.mp4: video: profile Constrained Baseline differs from ",
            "main.mp4: Main; same picture format",
            "as configuration 3 of the track",
        ] {
            assert!(err.contains(s), "{fragmented}: stderr lacks {s:?}: {err}");
        }
        assert_eq!(video_entries(&out), 3, "{fragmented}: stsd entry_count");
        // Every packet is the input's, bit for bit, in order.
        let (packets, _) = video_md5s(&out, true);
        assert_eq!(packets, want_packets, "{fragmented}: packets");
        // Seam's own reading of the samples agrees.
        let mine: Vec<String> = ins
            .iter()
            .flat_map(|p| seam_sample_hashes(p, TrackKind::Video))
            .collect();
        assert_eq!(seam_sample_hashes(&out, TrackKind::Video), mine);
        if !fragmented {
            // Every decoded frame is the input's: the decoder switched parameter sets at each
            // join. (ffmpeg 5.1 passes a fragment's new sample description on to nobody: its
            // fragmented reading is not checked here, see docs/ARCHITECTURE.md.)
            let (frames, stderr) = video_md5s(&out, false);
            assert_eq!(frames.len(), 150, "frame count");
            assert_eq!(frames, want_frames, "decoded frames");
            assert!(
                decoder_messages(&stderr).is_empty(),
                "decoder errors: {stderr}"
            );
        }
        gstreamer_plays(&out, &ins, !fragmented);
    }
}

/// GStreamer (qtdemux ! h264parse ! avdec_h264), when installed, plays the output to the end;
/// with `exact`, its decoded frames (checksumsink) are the inputs' decoded frames.
fn gstreamer_plays(out: &Path, ins: &[PathBuf], exact: bool) {
    let gst = |p: &Path, sink: &str| {
        Command::new("gst-launch-1.0")
            .arg("-q")
            .arg("filesrc")
            .arg(format!("location={}", p.display()))
            .args([
                "!",
                "qtdemux",
                "!",
                "h264parse",
                "!",
                "avdec_h264",
                "!",
                sink,
            ])
            .output()
    };
    let Ok(o) = gst(out, "fakesink") else {
        eprintln!("gst-launch-1.0 not found: GStreamer not checked");
        return;
    };
    assert!(o.status.success(), "gst-launch-1.0: {}", describe(&o));
    if !exact {
        return;
    }
    let sums = |p: &Path| -> Option<Vec<String>> {
        let o = gst(p, "checksumsink").ok().filter(|o| o.status.success())?;
        Some(
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .filter_map(|l| l.split_whitespace().last().map(str::to_string))
                .collect(),
        )
    };
    let Some(got) = sums(out) else {
        eprintln!("no checksumsink: GStreamer frames not compared");
        return;
    };
    let want: Vec<String> = ins.iter().filter_map(|p| sums(p)).flatten().collect();
    assert!(!want.is_empty(), "GStreamer decodes the inputs");
    assert_eq!(got.len(), want.len(), "GStreamer frame count");
    assert_eq!(got, want, "GStreamer decoded frames");
}

/// Another picture size is not a parameter-set change: with `--on-mismatch error` it is refused
/// naming the sizes (by default it is re-encoded: tests/reencode_video.rs).
#[test]
fn another_resolution_is_still_refused() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let a = encode(dir.path(), "small.mp4", "high", "320x240");
    let b = encode(dir.path(), "big.mp4", "main", "640x480");
    let out = dir.path().join("x.mp4");
    let o = seam([
        "stitch".as_ref(),
        "--on-mismatch".as_ref(),
        "error".as_ref(),
        "-o".as_ref(),
        out.as_os_str(),
        a.as_os_str(),
        b.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    for s in ["big.mp4", "small.mp4", "resolution", "640x480", "320x240"] {
        assert!(err.contains(s), "stderr lacks {s:?}: {err}");
    }
    assert!(!out.exists(), "nothing is left");
}

/// `--parameter-sets refuse` refuses differing parameter sets, and the message says how to join
/// them.
#[test]
fn parameter_set_changes_are_refused_on_request_with_the_way_out() {
    if !require_ffmpeg() {
        return;
    }
    let ins = fixtures(&["ff_high.mp4", "ff_main.mp4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("x.mp4");
    let mut args: Vec<std::ffi::OsString> = vec![
        "stitch".into(),
        "--parameter-sets".into(),
        "refuse".into(),
        "-o".into(),
        out.clone().into(),
    ];
    args.extend(ins.iter().map(|p| p.into()));
    let o = seam(&args);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    for s in [
        "profile Main differs",
        "--parameter-sets inband",
        "--parameter-sets entries",
    ] {
        assert!(err.contains(s), "stderr lacks {s:?}: {err}");
    }
    assert!(!out.exists(), "nothing is left");
}

/// Files of fixtures/param_sets.
fn fixtures(names: &[&str]) -> Vec<PathBuf> {
    names
        .iter()
        .map(|n| Path::new("fixtures/param_sets").join(n))
        .collect()
}

/// Every video sample's bytes, as seam's demuxer reads the file, and the track's sample entry
/// types and sync flags.
fn video_samples(path: &Path) -> (Vec<Vec<u8>>, Vec<bool>, Vec<String>) {
    let m = seam_media(path);
    let t = m
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .expect("a video track");
    let bytes = std::fs::read(path).expect("read");
    let samples = t
        .samples
        .iter()
        .map(|s| bytes[s.offset as usize..(s.offset + u64::from(s.size)) as usize].to_vec())
        .collect();
    let sync = t.samples.iter().map(|s| s.sync).collect();
    let kinds = t
        .sample_entries
        .iter()
        .map(|e| e.format.to_string())
        .collect();
    (samples, sync, kinds)
}

/// NAL unit types of 4-byte length-prefixed NAL units; `None` unless `b` is exactly such units.
fn nal_types(b: &[u8], hevc: bool) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let len = u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?) as usize;
        let h = *b.get(at + 4)?;
        b.get(at + 4..at + 4 + len)?;
        out.push(if hevc { (h >> 1) & 0x3f } else { h & 0x1f });
        at += 4 + len;
    }
    Some(out)
}

/// The output's video samples are the inputs', byte for byte and in order, except that the
/// first sample and every keyframe carry parameter sets inserted before their first NAL unit
/// (after an access unit delimiter): checked sample by sample. Returns how many were spliced.
fn check_spliced(out: &Path, ins: &[PathBuf], hevc: bool) -> usize {
    let (got, sync, kinds) = video_samples(out);
    let want: Vec<Vec<u8>> = ins.iter().flat_map(|p| video_samples(p).0).collect();
    assert_eq!(
        kinds,
        [if hevc { "hev1" } else { "avc3" }],
        "one in-band entry"
    );
    assert_eq!(got.len(), want.len(), "sample count");
    let sets: &[u8] = if hevc { &[32, 33, 34] } else { &[7, 8] };
    let aud = if hevc { 35 } else { 9 };
    let mut spliced = 0;
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        if k != 0 && !sync[k] {
            assert_eq!(g, w, "sample {k}: copied bit-exact");
            continue;
        }
        // A keyframe: its own bytes, with parameter sets inserted at the start or after a
        // delimiter.
        assert!(g.len() > w.len(), "sample {k}: parameter sets inserted");
        let d = g.len() - w.len();
        let first = nal_types(
            &w[..4 + u32::from_be_bytes(w[..4].try_into().unwrap()) as usize],
            hevc,
        )
        .expect("first NAL unit");
        let at = if first == [aud] {
            4 + u32::from_be_bytes(w[..4].try_into().unwrap()) as usize
        } else {
            0
        };
        assert_eq!(g[..at], w[..at], "sample {k}: bytes before the insertion");
        assert_eq!(
            g[at + d..],
            w[at..],
            "sample {k}: bytes after the insertion"
        );
        let types = nal_types(&g[at..at + d], hevc).expect("length-prefixed NAL units");
        assert!(
            !types.is_empty() && types.iter().all(|t| sets.contains(t)),
            "sample {k}: inserted NAL unit types {types:?}"
        );
        spliced += 1;
    }
    spliced
}

/// ffmpeg decodes every frame of `out` (default frame threads and one thread) equal to the
/// inputs' own frames, silently (`-v error`).
fn ffmpeg_decodes_like_inputs(out: &Path, ins: &[PathBuf], frames: usize) {
    let want: Vec<String> = ins
        .iter()
        .flat_map(|p| frame_hashes(p, &["-threads", "1", "-map", "0:v", "-f", "framemd5"]))
        .collect();
    assert_eq!(want.len(), frames, "input frames");
    for threads in [None, Some("1")] {
        let mut c = Command::new("ffmpeg");
        c.args(["-v", "error"]);
        if let Some(t) = threads {
            c.args(["-threads", t]);
        }
        let o = c
            .arg("-i")
            .arg(out)
            .args(["-map", "0:v", "-f", "framemd5", "-"])
            .output()
            .expect("cannot run ffmpeg");
        assert!(o.status.success(), "{}", describe(&o));
        let got: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split(',').nth(5).map(|h| h.trim().to_string()))
            .collect();
        assert_eq!(
            got,
            want,
            "{}: threads {threads:?}: decoded frames",
            out.display()
        );
        assert!(
            o.stderr.is_empty(),
            "{}: threads {threads:?}: {}",
            out.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
}

/// By default (`inband`), x264 High, Main and Baseline fragments join under one avc3 entry:
/// every input byte is in the output, every frame decodes in ffmpeg (frame threads too) and
/// GStreamer equal to the inputs' frames, progressive and fragmented.
#[test]
fn profiles_join_in_band_by_default() {
    if !require_ffmpeg() {
        return;
    }
    let ins = fixtures(&["ff_high.mp4", "ff_main.mp4", "ff_baseline.mp4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    for fragmented in [false, true] {
        let out = dir.path().join(if fragmented { "f.mp4" } else { "p.mp4" });
        let err = stitch_mode(&ins, &out, fragmented, None);
        assert!(err.contains("profile Main differs from"), "{err}");
        // 150 frames, a keyframe every 25: the first sample and 6 keyframes.
        assert_eq!(check_spliced(&out, &ins, false), 6, "{fragmented}");
        ffmpeg_decodes_like_inputs(&out, &ins, 150);
        gstreamer_plays(&out, &ins, true);
        let (ok, stderr) = decode_null(&out);
        assert!(ok && stderr.is_empty(), "{stderr}");
    }
}

/// Fragments from ffmpeg's x264 and GStreamer's x264enc (which writes access unit delimiters:
/// the parameter sets go after them) and openh264enc join in band and decode like the inputs.
#[test]
fn ffmpeg_and_gstreamer_fragments_join_in_band() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (k, names) in [
        ["ff_high_601.mp4", "gst_x264.mp4"],
        ["gst_openh264.mp4", "gst_x264.mp4"],
        ["ff_high_601.mp4", "gst_openh264.mp4"],
    ]
    .iter()
    .enumerate()
    {
        let ins = fixtures(names);
        let out = dir.path().join(format!("{k}.mp4"));
        stitch_mode(&ins, &out, false, Some("inband"));
        assert_eq!(check_spliced(&out, &ins, false), 4, "{names:?}");
        ffmpeg_decodes_like_inputs(&out, &ins, 100);
        gstreamer_plays(&out, &ins, true);
    }
}

/// H.265 fragments whose VPS/SPS/PPS differ join under one hev1 entry.
#[test]
fn hevc_fragments_join_in_band() {
    if !require_ffmpeg() {
        return;
    }
    let ins = fixtures(&["ff_hevc_a.mp4", "ff_hevc_b.mp4"]);
    let dir = tempfile::tempdir().expect("tempdir");
    for fragmented in [false, true] {
        let out = dir.path().join(format!("{fragmented}.mp4"));
        stitch_mode(&ins, &out, fragmented, None);
        assert_eq!(check_spliced(&out, &ins, true), 4, "{fragmented}");
        // The record no longer claims every VPS/SPS/PPS is in it (array_completeness 0).
        let m = seam_media(&out);
        let entry = m.video().and_then(|t| t.entry()).expect("entry");
        let seam::model::CodecConfig::H265 {
            config: Some(c), ..
        } = &entry.codec
        else {
            panic!("{:?}", entry.codec)
        };
        assert!(c.arrays.iter().all(|a| !a.complete), "{fragmented}");
        ffmpeg_decodes_like_inputs(&out, &ins, 100);
        gstreamer_decodes_hevc(&out);
    }
}

/// MPEG-TS and HLS outputs carry each fragment's SPS/PPS before its keyframes (not the first
/// fragment's), under every mode that joins: every frame decodes like the inputs', and an HLS
/// segment that starts inside the second fragment decodes on its own.
#[test]
fn transport_stream_and_hls_carry_each_fragments_parameter_sets() {
    if !require_ffmpeg() {
        return;
    }
    let ins = fixtures(&["ff_high.mp4", "ff_main.mp4", "ff_baseline.mp4"]);
    let want: Vec<String> = ins
        .iter()
        .flat_map(|p| frame_hashes(p, &["-threads", "1", "-map", "0:v", "-f", "framemd5"]))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    for mode in [None, Some("entries"), Some("inband")] {
        let name = mode.unwrap_or("default");
        let ts = dir.path().join(format!("{name}.ts"));
        stitch_mode(&ins, &ts, false, mode);
        ffmpeg_decodes_like_inputs(&ts, &ins, 150);
        let hls_dir = dir.path().join(name);
        std::fs::create_dir(&hls_dir).expect("mkdir");
        let playlist = hls_dir.join("x.m3u8");
        let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-q".into()];
        if let Some(m) = mode {
            args.extend(["--parameter-sets".into(), m.into()]);
        }
        args.extend(["--segment-duration".into(), "1".into(), "-o".into()]);
        args.push(playlist.clone().into());
        args.extend(ins.iter().map(|p| p.into()));
        let o = seam(&args);
        assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
        ffmpeg_decodes_like_inputs(&playlist, &ins, 150);
        // Segment 3 (3 s to 4 s) is the second half of the Main fragment.
        let seg = hls_dir.join("x_00003.ts");
        let got = frame_hashes(&seg, &["-map", "0:v", "-f", "framemd5"]);
        assert_eq!(got, want[75..100], "{name}: segment 3 alone");
        let (ok, stderr) = decode_null(&seg);
        assert!(ok && stderr.is_empty(), "{name}: {stderr}");
    }
}

/// GStreamer (qtdemux ! h265parse ! avdec_h265), when installed, decodes all 100 frames.
fn gstreamer_decodes_hevc(out: &Path) {
    let Ok(o) = Command::new("gst-launch-1.0")
        .arg("-q")
        .arg("filesrc")
        .arg(format!("location={}", out.display()))
        .args([
            "!",
            "qtdemux",
            "!",
            "h265parse",
            "!",
            "avdec_h265",
            "!",
            "checksumsink",
        ])
        .output()
    else {
        eprintln!("gst-launch-1.0 not found: GStreamer not checked");
        return;
    };
    if String::from_utf8_lossy(&o.stderr).contains("no element") {
        eprintln!("GStreamer lacks h265parse, avdec_h265 or checksumsink: not checked");
        return;
    }
    assert!(o.status.success(), "gst-launch-1.0: {}", describe(&o));
    let frames = String::from_utf8_lossy(&o.stdout).lines().count();
    assert_eq!(frames, 100, "GStreamer frames");
}
