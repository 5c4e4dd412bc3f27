//! Inputs from other muxers and codecs (`fixtures/make_muxers.sh`): GStreamer qtmux (plain and
//! robust muxing with a reserved moov) and mp4mux, ffmpeg HEVC, and what seam must refuse with a
//! clear message rather than write wrong: an encrypted fMP4, an init segment without samples,
//! samples switching sample descriptions, a rotated fragment, an HEVC resolution change.
//!
//! Accepted cases are checked bit-exact per sample (seam's demuxer, and ffmpeg's framemd5 when
//! ffmpeg is there), with exact packet counts and a decode by `ffmpeg -v error` that prints nothing.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use seam::model::TrackKind;

fn stitch_to(out: &Path, inputs: &[&str]) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-y".into(), "-o".into()];
    args.push(out.into());
    args.extend(inputs.iter().map(|n| fixture(n).into_os_string()));
    seam(args)
}

/// Stitches `inputs`, which must succeed; checks every sample bit-exact against the inputs and
/// returns the output path (inside `dir`) and stderr.
fn accepted(dir: &Path, inputs: &[&str]) -> (PathBuf, String) {
    let out = dir.join(format!("{}.mp4", inputs.join("+")));
    let o = stitch_to(&out, inputs);
    assert!(o.status.success(), "{inputs:?}: {}", describe(&o));
    let paths: Vec<PathBuf> = inputs.iter().map(|n| fixture(n)).collect();
    // Video: every input sample, in order, nothing else.
    let ov = seam_sample_hashes(&out, TrackKind::Video);
    let iv: Vec<String> = paths
        .iter()
        .flat_map(|p| seam_sample_hashes(p, TrackKind::Video))
        .collect();
    assert!(!iv.is_empty(), "{inputs:?}: no video");
    assert_eq!(ov, iv, "{inputs:?}: video samples differ from the inputs'");
    // Audio: per input a contiguous run of its packets (priming/overlap rules), no silence here.
    let oa = seam_sample_hashes(&out, TrackKind::Audio);
    let ia: Vec<Vec<String>> = paths
        .iter()
        .map(|p| seam_sample_hashes(p, TrackKind::Audio))
        .collect();
    let al = align_audio(&oa, &ia).unwrap_or_else(|e| panic!("{inputs:?}: audio: {e}"));
    assert!(al.silence.is_none(), "{inputs:?}: silence generated");
    if require_ffmpeg() {
        check_with_ffmpeg(&out, &paths, inputs);
    }
    // The fragmented output carries the same samples.
    let frag = dir.join(format!("{}.frag.mp4", inputs.join("+")));
    let mut args: Vec<std::ffi::OsString> = vec![
        "stitch".into(),
        "--fragmented".into(),
        "-y".into(),
        "-o".into(),
    ];
    args.push(frag.clone().into());
    args.extend(paths.iter().map(|p| p.clone().into_os_string()));
    let f = seam(args);
    assert!(
        f.status.success(),
        "{inputs:?} --fragmented: {}",
        describe(&f)
    );
    assert_eq!(
        seam_sample_hashes(&frag, TrackKind::Video),
        iv,
        "{inputs:?} --fragmented: video samples differ"
    );
    if require_ffmpeg() {
        let (ok, err) = decode_null(&frag);
        assert!(
            ok && err.trim().is_empty(),
            "{inputs:?} --fragmented: ffmpeg decode: {err}"
        );
    }
    (out, String::from_utf8_lossy(&o.stderr).into_owned())
}

/// ffmpeg's view: packet md5s of the video equal the inputs' in order, packet counts exact, and a
/// full decode prints nothing.
fn check_with_ffmpeg(out: &Path, paths: &[PathBuf], tag: &[&str]) {
    let ov: Vec<String> = framemd5(out, Kind::Video)
        .iter()
        .map(|p| p.md5.clone())
        .collect();
    let iv: Vec<String> = paths
        .iter()
        .flat_map(|p| {
            framemd5(p, Kind::Video)
                .iter()
                .map(|p| p.md5.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(ov, iv, "{tag:?}: ffmpeg video packets differ");
    let oa = framemd5(out, Kind::Audio).len();
    let seam_audio = seam_sample_hashes(out, TrackKind::Audio).len();
    assert_eq!(
        oa, seam_audio,
        "{tag:?}: ffmpeg and seam count audio packets differently"
    );
    let (ok, err) = decode_null(out);
    assert!(ok && err.trim().is_empty(), "{tag:?}: ffmpeg decode: {err}");
}

/// Runs a stitch that must be refused into an empty directory: exit code 1, nothing left behind.
/// Returns stderr. With `--on-mismatch error`: what differs is refused, not re-encoded.
fn refused(inputs: &[&str]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.mp4");
    let mut args: Vec<std::ffi::OsString> = vec![
        "stitch".into(),
        "-y".into(),
        "--on-mismatch".into(),
        "error".into(),
    ];
    args.push("-o".into());
    args.push(out.clone().into());
    args.extend(inputs.iter().map(|n| fixture(n).into_os_string()));
    let o = seam(args);
    let left = dir_entries(dir.path());
    assert!(left.is_empty(), "{inputs:?}: files left: {left:?}");
    assert_eq!(o.status.code(), Some(1), "{inputs:?}: {}", describe(&o));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_says(err: &str, parts: &[&str]) {
    for p in parts {
        assert!(err.contains(p), "message lacks {p:?}: {err}");
    }
}

#[test]
fn gstreamer_qtmux_files_stitch_bit_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    // qtmux's avc1 ends with the QuickTime 4-byte zero terminator; its mp4a is a version-1 sound
    // description with the esds inside wave.
    accepted(dir.path(), &["qtmux.mov", "qtmux.mov"]);
    // Robust muxing: the moov sits in reserved space at the start, followed by free boxes.
    accepted(
        dir.path(),
        &["qtmux_robust.mov", "qtmux.mov", "qtmux_robust.mov"],
    );
}

#[test]
fn quicktime_sound_description_v2_stitches_bit_exact() {
    let m = seam_media(&fixture("mov_v2_96k.mov"));
    let e = m.audio().and_then(|a| a.entry()).expect("audio entry");
    assert!(
        matches!(
            &e.codec,
            seam::model::CodecConfig::Aac {
                sample_rate: 96000,
                channels: 3,
                ..
            }
        ),
        "v2 fields (f64 rate, 32-bit channels) and the esds in wave: {:?}",
        e.codec
    );
    let dir = tempfile::tempdir().expect("tempdir");
    accepted(dir.path(), &["mov_v2_96k.mov", "mov_v2_96k.mov"]);
}

#[test]
fn gstreamer_mp4mux_files_stitch_bit_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    accepted(dir.path(), &["mp4mux.mp4", "mp4mux.mp4"]);
}

#[test]
fn qtmux_sample_entries_are_parsed() {
    let m = seam_media(&fixture("qtmux.mov"));
    let a = m.audio().expect("audio");
    let e = a.entry().expect("entry");
    assert!(
        matches!(&e.codec, seam::model::CodecConfig::Aac { config, .. } if config.sampling_frequency == 48000),
        "the AAC config inside wave is parsed: {:?}",
        e.codec
    );
    let v = m.video().expect("video");
    assert!(matches!(
        v.entry().map(|e| &e.codec),
        Some(seam::model::CodecConfig::H264 {
            config: Some(_),
            ..
        })
    ));
}

#[test]
fn hevc_pair_stitches_bit_exact() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, _) = accepted(dir.path(), &["hevc_a.mp4", "hevc_b.mp4"]);
    let n = |f: &str| seam_sample_hashes(&fixture(f), TrackKind::Video).len();
    assert_eq!(
        seam_sample_hashes(&out, TrackKind::Video).len(),
        n("hevc_a.mp4") + n("hevc_b.mp4")
    );
    if require_ffmpeg() {
        let p = ffprobe(&out);
        let v = p.expect(Kind::Video, &"output");
        assert_eq!(v.json["codec_name"], "hevc");
        assert_eq!(v.codec_tag_string, "hvc1");
        assert_eq!(
            v.packets.len(),
            seam_sample_hashes(&out, TrackKind::Video).len()
        );
    }
}

#[test]
fn hevc_from_qtmux_stitches_and_differs_from_ffmpeg_x265_by_colr() {
    let dir = tempfile::tempdir().expect("tempdir");
    accepted(dir.path(), &["qtmux_hevc.mov", "qtmux_hevc.mov"]);
    let err = refused(&["hevc_a.mp4", "qtmux_hevc.mov"]);
    // Same size, profile and level; x265's settings differ (the VPS first), which alone would be
    // joined under a second sample entry (issue 8), but qtmux describes the picture with another
    // box (`colr` where ffmpeg wrote `fiel`), and that is what refuses the join. (Before issue 8
    // the VPS was named.)
    assert_says(
        &err,
        &[
            "qtmux_hevc.mov: video box 'colr' differs from",
            "hevc_a.mp4: 'fiel'",
        ],
    );
}

#[test]
fn hevc_probe_reports_resolution_profile_level() {
    let o = seam(["probe".into(), fixture("hevc_180.mp4").into_os_string()]);
    assert!(o.status.success(), "{}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("video h265 320x180 Main level 2"),
        "probe: {text}"
    );
}

/// mp4mux and qtmux write the same avcC but describe colour differently (`colr` nclx of 19 bytes
/// vs QuickTime nclc of 18): the box is named rather than one description used for both.
#[test]
fn gstreamer_mp4mux_and_qtmux_differ_in_colr() {
    let err = refused(&["mp4mux.mp4", "qtmux.mov"]);
    assert_says(
        &err,
        &[
            "qtmux.mov: video box 'colr' of 18 bytes differs from",
            "mp4mux.mp4: 'colr' of 19 bytes",
        ],
    );
}

#[test]
fn hevc_resolution_change_is_refused_naming_it() {
    let err = refused(&["hevc_a.mp4", "hevc_180.mp4"]);
    assert_says(
        &err,
        &[
            "hevc_180.mp4",
            "hevc_a.mp4",
            "resolution",
            "320x180",
            "320x240",
        ],
    );
}

#[test]
fn rotated_fragment_is_refused_naming_both_rotations() {
    let err = refused(&["a.mp4", "rotated.mp4"]);
    assert_says(
        &err,
        &[
            "rotated.mp4: video display rotation 90° differs from",
            "a.mp4: 0°",
        ],
    );
    let err = refused(&["rotated.mp4", "a.mp4"]);
    assert_says(
        &err,
        &[
            "a.mp4: video display rotation 0° differs from",
            "rotated.mp4: 90°",
        ],
    );
}

#[test]
fn encrypted_file_without_encryption_data_is_refused_naming_scheme_and_key() {
    let err = refused(&["enc_av1.mp4", "enc_av1.mp4"]);
    assert_says(
        &err,
        &[
            "enc_av1.mp4",
            "encrypted av01",
            "scheme cenc",
            "key ID 0123456789abcdef0123456789abcdef",
            // ffmpeg 5.1 wrote no senc/saiz in its trafs: nothing to decrypt the samples with.
            "encryption data (IVs, subsample maps) was not found",
            "senc, or saiz/saio",
        ],
    );
    assert!(!err.contains("differs"), "{err}");
}

#[test]
fn init_segment_is_refused_as_such() {
    let err = refused(&["init_only.mp4", "init_only.mp4"]);
    assert_says(
        &err,
        &["init_only.mp4", "no samples", "initialisation segment"],
    );
    assert!(!err.contains("no video or audio track"), "{err}");
}

/// Samples switching to a second description equal to the first are copied (issue 8: several
/// sample entries per track; this used to be refused): the two entries are byte-equal, so the
/// output has one, and every sample is the input's.
#[test]
fn samples_switching_to_an_equal_description_are_copied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = accepted(dir.path(), &["stsd2_switch.mp4", "stsd2_switch.mp4"]);
    assert!(!err.contains("sample description"), "{err}");
    let m = seam_media(&out);
    let v = m
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .expect("video");
    // (`accepted` checked that every video sample is the inputs'.)
    assert_eq!(v.sample_entries.len(), 1, "equal entries are written once");
}

#[test]
fn unused_second_description_is_ignored_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, err) = accepted(dir.path(), &["stsd2_unused.mp4", "a.mp4"]);
    assert_says(
        &err,
        &[
            "warning",
            "stsd2_unused.mp4",
            "2 sample descriptions",
            "only the first",
        ],
    );
}

#[test]
fn new_fixtures_round_trip_through_the_box_tree() {
    for f in [
        "qtmux.mov",
        "qtmux_robust.mov",
        "qtmux_crashed.mov",
        "qtmux_hevc.mov",
        "mp4mux.mp4",
        "mov_v2_96k.mov",
        "hevc_a.mp4",
        "hevc_b.mp4",
        "hevc_180.mp4",
        "enc_av1.mp4",
        "init_only.mp4",
        "stsd2_switch.mp4",
        "stsd2_unused.mp4",
    ] {
        let data = bytes::Bytes::from(std::fs::read(fixture(f)).expect("fixture"));
        let nodes = seam::demux::mp4::tree::parse(&data, 0, f, &seam::Limits::default())
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        let mut out = Vec::new();
        seam::demux::mp4::tree::encode(&nodes, &mut out);
        assert!(out == data, "{f} does not round trip");
    }
}

/// Demuxes `data` as `hostile.mp4`; the error text.
fn demux_error(data: Vec<u8>) -> String {
    let src: std::sync::Arc<dyn seam::source::Source> =
        std::sync::Arc::new(seam::source::MemSource::new("hostile.mp4", data));
    match seam::demux::open_with(src, &seam::Limits::default(), false) {
        Ok(_) => "Ok".into(),
        Err(e) => {
            assert!(
                matches!(e, seam::error::DemuxError::Malformed { .. }),
                "{e}"
            );
            e.to_string()
        }
    }
}

/// The hvcC rows of docs/ERRORS.md: hevc_a.mp4 with one byte of its hvcC edited.
#[test]
fn damaged_hvcc_is_located() {
    let data = std::fs::read(fixture("hevc_a.mp4")).expect("fixture");
    let at = data.windows(4).position(|w| w == b"hvcC").expect("hvcC") + 4;
    let mut v = data.clone();
    v[at] = 0;
    assert_eq!(
        demux_error(v),
        "hostile.mp4: moov/trak[0]/mdia/minf/stbl/stsd/hvc1[0]/hvcC at byte 547: configurationVersion is 0, not 1 (at byte 0 of the hvcC)"
    );
    let mut v = data.clone();
    v[at + 22] = 200;
    assert_eq!(
        demux_error(v),
        "hostile.mp4: moov/trak[0]/mdia/minf/stbl/stsd/hvc1[0]/hvcC at byte 547: record ends inside a NAL unit array (at byte 2435 of the hvcC)"
    );
    // hvcC renamed: an hvc1 entry without its record.
    let mut v = data;
    v[at - 4..at].copy_from_slice(b"hvcX");
    let e = demux_error(v);
    assert!(e.ends_with("hvc1 entry without hvcC"), "{e}");
}

/// Plans `a.mp4` followed by an edited copy of it (in memory); the error text, or `Ok`.
fn plan_with_edited_copy(edit: impl FnOnce(&mut Vec<u8>)) -> String {
    let a = std::fs::read(fixture("a.mp4")).expect("fixture");
    let mut b = a.clone();
    edit(&mut b);
    let sources: Vec<std::sync::Arc<dyn seam::source::Source>> = vec![
        std::sync::Arc::new(seam::source::MemSource::new("a.mp4", a)),
        std::sync::Arc::new(seam::source::MemSource::new("b.mp4", b)),
    ];
    match seam::stitch_sources(sources, &seam::StitchOptions::default()) {
        Ok(_) => "Ok".into(),
        Err(e) => e.to_string(),
    }
}

/// H.264 entries with equal avcC must also agree on the boxes that change how the picture is shown
/// (pasp here); btrt is ignored.
#[test]
fn h264_pixel_aspect_change_is_refused_btrt_is_not() {
    let at = |d: &[u8], kind: &[u8; 4]| d.windows(4).position(|w| w == kind).expect("box") + 4;
    let e = plan_with_edited_copy(|b| {
        let p = at(b, b"pasp");
        b[p..p + 8].copy_from_slice(&[0, 0, 0, 4, 0, 0, 0, 3]);
    });
    // a.mp4's pasp says 1:1, as its absence would; b.mp4's 4:3 is the difference named.
    assert!(e.starts_with("b.mp4: video box 'pasp'"), "{e}");
    assert!(e.contains("differs from a.mp4: none"), "{e}");
    let ok = plan_with_edited_copy(|b| {
        let p = at(b, b"btrt");
        b[p + 4..p + 12].copy_from_slice(&[0, 1, 0, 0, 0, 2, 0, 0]);
    });
    assert_eq!(ok, "Ok");
}
