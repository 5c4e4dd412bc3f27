//! Tests across the HLS output modules: playlists read back by seam's own parser, and the
//! atomicity of [`HlsOutput`].

use std::io::Write;
use std::path::Path;

use super::*;
use crate::demux::hls::playlist::{parse, Playlist};
use crate::error::MuxError;
use crate::limits::Limits;

fn info(duration: u64, timescale: u32, discontinuity_before: bool) -> SegmentInfo {
    SegmentInfo {
        duration,
        timescale,
        discontinuity_before,
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn written_playlists_parse_back_to_the_same_segments() {
    for format in [SegmentFormat::Ts, SegmentFormat::Fmp4] {
        let segs = [
            info(540_540, 90_000, false),
            info(540_000, 90_000, false),
            info(288_768, 48_000, true),
            info(1, 3, false),
            info(44_100, 44_100, true),
        ];
        let text = media_playlist(
            &segs,
            PlaylistOptions {
                stem: "out",
                format,
            },
        )
        .expect("playlist");
        let Playlist::Media(m) = parse("out.m3u8", &text, &Limits::default()).expect("parse")
        else {
            panic!("not a media playlist: {text}");
        };
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        assert!(m.end_list);
        assert_eq!(m.media_sequence, 0);
        assert_eq!(m.version, Some(format.version()));
        assert_eq!(
            m.target_duration,
            Some(target_duration(&segs).expect("target"))
        );
        assert_eq!(m.segments.len(), segs.len());
        for (k, (got, want)) in m.segments.iter().zip(&segs).enumerate() {
            assert_eq!(got.uri, segment_uri("out", k, format));
            assert_eq!(got.discontinuity_before, want.discontinuity_before, "{k}");
            let us = playlist::extinf_micros(want.duration, want.timescale).expect("micros");
            assert_eq!(got.duration.nanos(), us * 1000, "segment {k}");
            // §4.3.3.1: each duration rounded to the nearest integer is at most the target.
            let target = m.target_duration.expect("target");
            assert!((got.duration.nanos() + 500_000_000) / 1_000_000_000 <= target);
        }
        match format {
            SegmentFormat::Ts => assert!(m.maps.is_empty()),
            SegmentFormat::Fmp4 => {
                assert_eq!(m.maps.len(), 1);
                assert_eq!(m.maps[0].uri, "out_init.mp4");
                assert!(m.segments.iter().all(|s| s.map == Some(0)));
            }
        }
    }
}

#[test]
fn segmenter_output_round_trips_through_the_parser() {
    // 25 fps, 30 s, keyframes at 0, 1.6, 3.6, 6.4, 6.8, 12, 16.8, 18.2, 24 and 28 s: cuts at
    // 6.4, 12, 18.2 and 24 s.
    let keys = [0usize, 40, 90, 160, 170, 300, 420, 455, 600, 700];
    let samples: Vec<SampleTime> = (0..750)
        .map(|i| SampleTime {
            dts: i as i64 * 3600,
            pts: i as i64 * 3600,
            duration: 3600,
            keyframe: keys.contains(&i),
        })
        .collect();
    let segs = segment(samples, 90_000, TargetDuration::default()).expect("segment");
    let infos: Vec<SegmentInfo> = segs
        .iter()
        .map(|s| SegmentInfo::from_segment(s, 90_000))
        .collect();
    let text = media_playlist(
        &infos,
        PlaylistOptions {
            stem: "v",
            format: SegmentFormat::Ts,
        },
    )
    .expect("playlist");
    let Playlist::Media(m) = parse("v.m3u8", &text, &Limits::default()).expect("parse") else {
        panic!("not a media playlist");
    };
    // 3600 ticks at 90 kHz are 40 ms: every duration is exact in the text.
    assert_eq!(m.duration_nanos(), 30_000_000_000);
    let got: Vec<u64> = m.segments.iter().map(|s| s.duration.millis()).collect();
    assert_eq!(got, vec![6_400, 5_600, 6_200, 5_800, 6_000]);
}

fn write_segment(out: &mut HlsOutput, k: usize, bytes: &[u8]) {
    let mut w = out.segment_writer(k).expect("segment writer");
    w.write_all(bytes).expect("write");
    w.close().expect("close");
}

#[test]
fn finish_moves_segments_then_the_playlist_and_leaves_no_temp_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pl = dir.path().join("out.m3u8");
    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    write_segment(&mut out, 0, b"zero");
    write_segment(&mut out, 1, b"one");
    // Nothing but the temporary folder is visible while writing.
    let during = entries(dir.path());
    assert_eq!(during.len(), 1);
    assert!(during[0].starts_with(".out.m3u8.") && during[0].ends_with(".seam-tmp"));
    out.finish(&[info(6, 1, false), info(2, 1, false)])
        .expect("finish");
    assert_eq!(
        entries(dir.path()),
        vec!["out.m3u8", "out_00000.ts", "out_00001.ts"]
    );
    assert_eq!(
        std::fs::read(dir.path().join("out_00001.ts")).expect("read"),
        b"one"
    );
    let text = std::fs::read_to_string(&pl).expect("playlist");
    assert!(text.ends_with("#EXTINF:2.000,\nout_00001.ts\n#EXT-X-ENDLIST\n"));
}

#[test]
fn dropping_an_unfinished_output_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut out = HlsOutput::create(&dir.path().join("o.m3u8"), SegmentFormat::Ts, &[], false)
        .expect("create");
    write_segment(&mut out, 0, b"data");
    drop(out);
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn finish_refuses_missing_unclosed_and_unlisted_segments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pl = dir.path().join("o.m3u8");
    let two = [info(1, 1, false), info(1, 1, false)];

    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    write_segment(&mut out, 0, b"a");
    assert!(matches!(
        out.finish(&two),
        Err(HlsError::SegmentMismatch { index: 1, .. })
    ));

    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    write_segment(&mut out, 0, b"a");
    let mut w = out.segment_writer(1).expect("writer");
    w.write_all(b"b").expect("write");
    drop(w); // not closed
    assert!(matches!(
        out.finish(&two),
        Err(HlsError::SegmentMismatch { index: 1, .. })
    ));

    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    for k in 0..3 {
        write_segment(&mut out, k, b"a");
    }
    assert!(matches!(out.finish(&two), Err(HlsError::Unlisted(ref n)) if n == "o_00002.ts"));

    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    let w = out.init_writer().expect("init");
    w.close().expect("close");
    write_segment(&mut out, 0, b"a");
    assert!(matches!(out.finish(&two[..1]), Err(HlsError::Unlisted(ref n)) if n == "o_init.mp4"));

    let mut out = HlsOutput::create(&pl, SegmentFormat::Fmp4, &[], false).expect("create");
    write_segment(&mut out, 0, b"a");
    assert!(matches!(
        out.finish(&two[..1]),
        Err(HlsError::NoInitSection)
    ));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn fmp4_output_writes_the_init_section() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pl = dir.path().join("f.m3u8");
    let mut out = HlsOutput::create(&pl, SegmentFormat::Fmp4, &[], false).expect("create");
    let mut w = out.init_writer().expect("init");
    w.write_all(b"moov").expect("write");
    w.close().expect("close");
    write_segment(&mut out, 0, b"moof");
    out.finish(&[info(6, 1, false)]).expect("finish");
    assert_eq!(
        entries(dir.path()),
        vec!["f.m3u8", "f_00000.m4s", "f_init.mp4"]
    );
}

#[test]
fn existing_targets_and_inputs_are_refused_before_anything_moves() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pl = dir.path().join("o.m3u8");
    let seg1 = dir.path().join("o_00001.ts");
    std::fs::write(&seg1, b"old").expect("write");

    // An existing segment name: nothing moves, the old file stays.
    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], false).expect("create");
    write_segment(&mut out, 0, b"a");
    write_segment(&mut out, 1, b"b");
    let e = out.finish(&[info(1, 1, false), info(1, 1, false)]);
    assert!(
        matches!(e, Err(HlsError::Mux(MuxError::OutputExists(ref p))) if *p == seg1),
        "{e:?}"
    );
    assert_eq!(entries(dir.path()), vec!["o_00001.ts"]);

    // The same name as an input: refused even when overwriting.
    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[&seg1], true).expect("create");
    write_segment(&mut out, 0, b"a");
    write_segment(&mut out, 1, b"b");
    let e = out.finish(&[info(1, 1, false), info(1, 1, false)]);
    assert!(
        matches!(e, Err(HlsError::Mux(MuxError::OutputIsInput(_)))),
        "{e:?}"
    );
    assert_eq!(std::fs::read(&seg1).expect("read"), b"old");

    // Overwriting allowed: replaced.
    let mut out = HlsOutput::create(&pl, SegmentFormat::Ts, &[], true).expect("create");
    write_segment(&mut out, 0, b"a");
    write_segment(&mut out, 1, b"b");
    out.finish(&[info(1, 1, false), info(1, 1, false)])
        .expect("finish");
    assert_eq!(std::fs::read(&seg1).expect("read"), b"b");

    // An existing playlist is refused at create.
    assert!(matches!(
        HlsOutput::create(&pl, SegmentFormat::Ts, &[], false),
        Err(HlsError::Mux(MuxError::OutputExists(_)))
    ));
    assert!(matches!(
        HlsOutput::create(&pl, SegmentFormat::Ts, &[&pl], true),
        Err(HlsError::Mux(MuxError::OutputIsInput(_)))
    ));
}

#[test]
fn bad_playlist_names_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(matches!(
        HlsOutput::create(&dir.path().join("#x.m3u8"), SegmentFormat::Ts, &[], false),
        Err(HlsError::BadName { .. })
    ));
    assert!(entries(dir.path()).is_empty());
}
