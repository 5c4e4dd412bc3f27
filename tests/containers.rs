//! TS and FLV inputs, alone and mixed with MP4 (fixtures/mixed, made by fixtures/make_mixed.sh:
//! one recording cut with `-c copy` into a.mp4, b.ts and c.flv by ffmpeg's three muxers).
//!
//! Checked on every output: `ffmpeg -v error` decodes it silently; decoded video frames equal the
//! inputs' decoded frames, in order (nothing lost or duplicated at joins); and each copied sample
//! is its input access unit byte for byte modulo the framing conversion (TS: Annex B start codes
//! become 4-byte lengths, access unit delimiters are left out; FLV: no conversion at all).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, require_ffmpeg, seam};

fn mixed(name: &str) -> PathBuf {
    fixture(&format!("mixed/{name}"))
}

/// ffmpeg's framemd5 hashes (the sixth column; side data may follow it) of `stream` of `path`, decoded (`copy` false) or as
/// packets (`copy` true).
fn hashes(path: &Path, stream: &str, copy: bool) -> Vec<String> {
    let copy: &[&str] = if copy { &["-c", "copy"] } else { &[] };
    let args: Vec<&str> = ["-map", stream]
        .iter()
        .chain(copy)
        .chain(&["-f", "framemd5"])
        .copied()
        .collect();
    common::frame_hashes(path, &args)
}

fn decode_errors(path: &Path) -> String {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stitch(out: &Path, inputs: &[PathBuf], extra: &[&str]) -> String {
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-y".into(), "-o".into()];
    args.push(out.into());
    args.extend(extra.iter().map(Into::into));
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    assert!(o.status.success(), "{}", common::describe(&o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Video frames of the output, decoded, equal the inputs' decoded frames one after the other.
fn check_video(out: &Path, inputs: &[PathBuf]) {
    let got = hashes(out, "0:v", false);
    let want: Vec<String> = inputs
        .iter()
        .flat_map(|p| hashes(p, "0:v", false))
        .collect();
    assert_eq!(got.len(), want.len(), "video frame count");
    assert!(got == want, "decoded video frames differ from the inputs'");
}

#[test]
fn ts_and_flv_alone_decode_like_their_source() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, fragmented) in [("b.ts", false), ("c.flv", false), ("b.ts", true)] {
        let out = dir.path().join(format!("{name}.mp4"));
        let extra: &[&str] = if fragmented { &["--fragmented"] } else { &[] };
        stitch(&out, &[mixed(name)], extra);
        assert_eq!(decode_errors(&out), "", "{name}");
        check_video(&out, &[mixed(name)]);
    }
}

#[test]
fn flv_samples_are_copied_without_change() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("c.mp4");
    stitch(&out, &[mixed("c.flv"), mixed("c.flv")], &[]);
    // Video packets: every one of both inputs, bit-exact (FLV carries MP4's sample form).
    let src = hashes(&mixed("c.flv"), "0:v", true);
    let got = hashes(&out, "0:v", true);
    let want: Vec<String> = src.iter().chain(&src).cloned().collect();
    assert_eq!(got, want, "video packets");
    // Audio packets: a run of the first input's, then a run of the second's (packets outside each
    // input's video span are cut), each bit-exact.
    let src = hashes(&mixed("c.flv"), "0:a", true);
    let got = hashes(&out, "0:a", true);
    let window = |part: &[String]| src.windows(part.len().max(1)).any(|w| w == part);
    assert!(
        got.len() + 12 >= 2 * src.len(),
        "{} of 2 x {}",
        got.len(),
        src.len()
    );
    assert!(
        (1..got.len()).any(|s| window(&got[..s]) && window(&got[s..])),
        "audio packets are not two runs of the input's"
    );
}

/// The NAL units of an Annex B access unit (start codes found independently of seam's framing
/// module).
fn annexb_units(au: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= au.len() {
        if au[i] == 0 && au[i + 1] == 0 && au[i + 2] == 1 {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut e = starts.get(k + 1).map_or(au.len(), |&n| n - 3);
        while e > s && au[e - 1] == 0 {
            e -= 1; // the next start code's leading zero, or trailing zeros
        }
        out.push(&au[s..e]);
    }
    out
}

#[test]
fn ts_samples_are_its_access_units_modulo_framing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("b.mp4");
    stitch(&out, &[mixed("b.ts")], &[]);
    let ts = std::fs::read(mixed("b.ts")).expect("read");
    let (events, r) = seam::demux::ts::demux_all("b.ts", &ts, &Default::default());
    r.expect("demuxes");
    let mut video_aus = Vec::new();
    let mut audio_aus = Vec::new();
    for e in events {
        if let seam::demux::ts::Event::AccessUnit(au) = e {
            let mut bytes = Vec::new();
            for p in &au.pieces {
                bytes.extend_from_slice(&ts[p.start as usize..p.end as usize]);
            }
            if au.stream_type.is_video() {
                // Length-prefixed, access unit delimiters (type 9) left out.
                let mut lp = Vec::new();
                for u in annexb_units(&bytes) {
                    if u[0] & 0x1f != 9 {
                        lp.extend_from_slice(&(u.len() as u32).to_be_bytes());
                        lp.extend_from_slice(u);
                    }
                }
                video_aus.push(lp);
            } else {
                let header = if bytes[1] & 1 == 1 { 7 } else { 9 };
                audio_aus.push(bytes[header..].to_vec());
            }
        }
    }
    let data = std::fs::read(&out).expect("read output");
    let m = seam::probe(&out, &seam::Limits::default()).expect("output demuxes");
    let bytes = |s: seam::model::Sample| data[s.offset as usize..][..s.size as usize].to_vec();
    let v: Vec<Vec<u8>> = m
        .video()
        .expect("video")
        .samples
        .iter()
        .map(bytes)
        .collect();
    assert_eq!(v, video_aus, "every video access unit, converted");
    let a: Vec<Vec<u8>> = m
        .audio()
        .expect("audio")
        .samples
        .iter()
        .map(bytes)
        .collect();
    assert!(a.len() <= audio_aus.len() && a.len() + 8 >= audio_aus.len());
    assert!(
        audio_aus.ends_with(&a),
        "audio frames without their ADTS headers"
    );
}

#[test]
fn mp4_ts_and_flv_join_in_any_order() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let orders = [
        ["a.mp4", "b.ts", "c.flv"],
        ["c.flv", "b.ts", "a.mp4"],
        ["b.ts", "a.mp4", "b.ts"],
    ];
    for (k, order) in orders.iter().enumerate() {
        let inputs: Vec<PathBuf> = order.iter().map(|n| mixed(n)).collect();
        for fragmented in [false, true] {
            let out = dir.path().join(format!("m{k}{fragmented}.mp4"));
            let extra: &[&str] = if fragmented { &["--fragmented"] } else { &[] };
            stitch(&out, &inputs, extra);
            assert_eq!(decode_errors(&out), "", "{order:?}");
            check_video(&out, &inputs);
        }
    }
}

#[test]
fn a_ts_split_by_bytes_joins_back_seamlessly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = dir.path().join("whole.mp4");
    let parts = dir.path().join("parts.mp4");
    stitch(&whole, &[mixed("b.ts")], &[]);
    stitch(&parts, &[mixed("cut_1.ts"), mixed("cut_2.ts")], &[]);
    assert_eq!(
        std::fs::read(&whole).expect("read"),
        std::fs::read(&parts).expect("read"),
        "cut_1.ts + cut_2.ts (b.ts split at byte 40000) stitch exactly like b.ts"
    );
}

#[test]
fn a_timestamp_jump_inside_a_ts_is_a_join() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("jump.mp4");
    let err = stitch(&out, &[mixed("jump.ts")], &["--json"]);
    assert!(err.contains("timestamps jump"), "{err}");
    let m = seam::probe(&out, &seam::Limits::default()).expect("output demuxes");
    let v = m.video().expect("video");
    // Both recordings (52 frames each), back to back: about 4.3 s, not 100 s.
    assert_eq!(v.samples.len(), 104);
    let secs = v.media_duration() as f64 / f64::from(v.timescale);
    assert!((4.0..4.5).contains(&secs), "{secs} s");
    if require_ffmpeg() {
        assert_eq!(decode_errors(&out), "");
    }
}

#[test]
fn adts_files_join_as_audio() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let aac = dir.path().join("x.aac");
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .args([
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "3",
            "-ac",
            "2",
        ])
        .args(["-c:a", "aac", "-f", "adts"])
        .arg(&aac)
        .output()
        .expect("run ffmpeg");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = dir.path().join("x.m4a");
    stitch(&out, &[aac.clone(), aac.clone()], &[]);
    assert_eq!(decode_errors(&out), "");
    // Every frame of both inputs, each the ADTS frame without its 7-byte header.
    let input = std::fs::read(&aac).expect("read");
    let mut frames = Vec::new();
    let mut at = 0;
    while at + 7 <= input.len() {
        let len = (usize::from(input[at + 3] & 3) << 11)
            | (usize::from(input[at + 4]) << 3)
            | usize::from(input[at + 5] >> 5);
        frames.push(input[at + 7..at + len].to_vec());
        at += len;
    }
    let data = std::fs::read(&out).expect("read output");
    let m = seam::probe(&out, &seam::Limits::default()).expect("output demuxes");
    let got: Vec<Vec<u8>> = m
        .audio()
        .expect("audio")
        .samples
        .iter()
        .map(|s| data[s.offset as usize..][..s.size as usize].to_vec())
        .collect();
    let want: Vec<Vec<u8>> = frames.iter().chain(&frames).cloned().collect();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "raw AAC frames of both inputs, in order");
}

fn hls(name: &str) -> PathBuf {
    fixture(&format!("hls/{name}"))
}

#[test]
fn hls_playlists_are_inputs() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    // TS segments in one file (byte ranges), fMP4 segments (init section), the master playlist's
    // highest variant (fMP4) and its lowest (--variant 0): each is a.mp4 again.
    for (k, (playlist, extra)) in [
        ("bytes.m3u8", &[][..]),
        ("fmp4.m3u8", &[][..]),
        ("master.m3u8", &[][..]),
        ("master.m3u8", &["--variant", "0"][..]),
    ]
    .iter()
    .enumerate()
    {
        let out = dir.path().join(format!("h{k}.mp4"));
        let err = stitch(&out, &[hls(playlist)], extra);
        assert_eq!(decode_errors(&out), "", "{playlist}");
        check_video(&out, &[mixed("a.mp4")]);
        if *playlist == "master.m3u8" {
            let want = if extra.is_empty() {
                "fmp4.m3u8"
            } else {
                "bytes.m3u8"
            };
            assert!(err.contains(want), "{err}");
        }
    }
    // A discontinuity is a join: a.mp4's segments, then b.ts's.
    let out = dir.path().join("disc.mp4");
    stitch(&out, &[hls("disc.m3u8")], &[]);
    assert_eq!(decode_errors(&out), "");
    check_video(&out, &[mixed("a.mp4"), mixed("b.ts")]);
}

#[test]
fn hls_segments_outside_the_folder_or_urls_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).expect("mkdir");
    std::fs::copy(mixed("b.ts"), dir.path().join("b.ts")).expect("copy");
    let list = |name: &str, uri: &str| {
        let p = sub.join(name);
        std::fs::write(
            &p,
            format!("#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXTINF:2.08,\n{uri}\n#EXT-X-ENDLIST\n"),
        )
        .expect("write");
        p
    };
    let out = dir.path().join("o.mp4");
    for (name, uri) in [
        ("up.m3u8", "../b.ts"),
        ("url.m3u8", "http://example.com/b.ts"),
    ] {
        let o = seam([
            "stitch".as_ref(),
            "-y".as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
            list(name, uri).as_os_str(),
        ]);
        assert!(!o.status.success(), "{uri} accepted");
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains("refused") || e.contains("unsupported"), "{e}");
    }
    stitch(&out, &[list("up2.m3u8", "../b.ts")], &["--allow-any-path"]);
}

#[test]
fn hls_output_with_fmp4_segments() {
    if !require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.m3u8");
    let inputs = [mixed("a.mp4"), mixed("b.ts"), mixed("c.flv")];
    stitch(&out, &inputs, &["--hls-fmp4", "--segment-duration", "1"]);
    let text = std::fs::read_to_string(&out).expect("playlist");
    let parsed = seam::demux::hls::playlist::parse("out.m3u8", &text, &seam::Limits::default())
        .expect("parses");
    let seam::demux::hls::playlist::Playlist::Media(m) = parsed else {
        panic!("a media playlist");
    };
    assert_eq!(m.maps.len(), 1, "one EXT-X-MAP");
    assert!(m.segments.len() >= 5, "{} segments", m.segments.len());
    for s in &m.segments {
        let b = std::fs::read(dir.path().join(&s.uri)).expect("segment");
        assert_eq!(&b[4..8], b"moof", "{} starts with a fragment", s.uri);
    }
    let total: u64 = m.segments.iter().map(|s| s.duration.millis()).sum();
    assert!((6200..=6400).contains(&total), "{total} ms");
    assert_eq!(decode_errors(&out), "");
    check_video(&out, &inputs);
}

#[test]
fn probe_reports_every_container_the_same_way() {
    let o = seam([
        "probe".as_ref(),
        "--json".as_ref(),
        mixed("a.mp4").as_os_str(),
        mixed("b.ts").as_os_str(),
        mixed("c.flv").as_os_str(),
        hls("fmp4.m3u8").as_os_str(),
    ]);
    assert!(o.status.success(), "{}", common::describe(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let text = v.to_string();
    for name in ["a.mp4", "b.ts", "c.flv", "fmp4.m3u8"] {
        assert!(text.contains(name), "{name} in {text}");
    }
    // Every input's tracks carry the same fields: codec, resolution, sample rate, counts.
    assert_eq!(text.matches("\"h264\"").count(), 4, "{text}");
    assert_eq!(text.matches("\"aac\"").count(), 4, "{text}");
    assert!(text.contains("\"copy_compatible\":true"), "{text}");
}
