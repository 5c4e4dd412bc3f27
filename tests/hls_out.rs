//! HLS output checked by ffmpeg: playlists written by `seam::mux::hls` for real MPEG-TS segments
//! decode without errors and report the durations seam wrote.
//!
//! The segments are made by ffmpeg (seam's TS muxer is tested elsewhere): a 6 s H.264 + AAC
//! transport stream is cut by seam's segmenter, ffmpeg's segment muxer splits the file at the same
//! frames, and seam writes the playlist through [`HlsOutput`]. Without ffmpeg the tests are
//! skipped unless `SEAM_REQUIRE_FFMPEG=1`.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{describe, ffprobe, require_ffmpeg};
use seam::mux::hls::{segment, HlsOutput, SampleTime, SegmentFormat, SegmentInfo, TargetDuration};

/// Runs ffmpeg with `args` (quiet), panicking with its output on failure.
fn ffmpeg(args: &[&str]) {
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "ffmpeg {args:?}: {}", describe(&o));
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// `ffmpeg -v error -i playlist -map 0 -f null -` must succeed and print nothing.
fn assert_decodes_cleanly(playlist: &Path) {
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(playlist)
        .args(["-map", "0", "-f", "null", "-"])
        .output()
        .expect("cannot run ffmpeg");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "{}: {}",
        playlist.display(),
        describe(&o)
    );
}

/// ffprobe's format duration of the playlist (the sum of its `#EXTINF` values).
fn playlist_duration(playlist: &Path) -> f64 {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "format=duration",
            "-of",
            "csv=p=0",
        ])
        .arg(playlist)
        .output()
        .expect("cannot run ffprobe");
    assert!(o.status.success(), "{}", describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("ffprobe duration {:?}: {e}", o.stdout))
}

/// Packets of the first video stream of a file read through a playlist.
fn video_packets(playlist: &Path) -> usize {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-count_packets",
            "-show_entries",
            "stream=nb_read_packets",
            "-of",
            "csv=p=0",
        ])
        .arg(playlist)
        .output()
        .expect("cannot run ffprobe");
    assert!(o.status.success(), "{}", describe(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    text.lines()
        .find_map(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("ffprobe packet count {text:?}"))
}

/// Copies `files` into an [`HlsOutput`] as segments 0, 1, ... and finishes it.
fn write_hls(playlist: &Path, files: &[PathBuf], infos: &[SegmentInfo]) {
    let mut out = HlsOutput::create(playlist, SegmentFormat::Ts, &[], false).expect("create");
    for (k, f) in files.iter().enumerate() {
        let bytes = std::fs::read(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        let mut w = out.segment_writer(k).expect("segment writer");
        w.write_all(&bytes).expect("write segment");
        w.close().expect("close segment");
    }
    out.finish(infos).expect("finish");
}

#[test]
fn ffmpeg_plays_a_playlist_cut_by_the_segmenter() {
    if !require_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let src = dir.join("src.ts");
    // 6 s at 25 fps with a keyframe every 35 frames (1.4 s) and B-frames, plus AAC audio.
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        "6",
        "-c:v",
        "libx264",
        "-g",
        "35",
        "-keyint_min",
        "35",
        "-sc_threshold",
        "0",
        "-c:a",
        "aac",
        "-f",
        "mpegts",
        path_str(&src),
    ]);

    let probe = ffprobe(&src);
    let video = probe.expect(common::Kind::Video, &src.display());
    assert_eq!(video.time_base, (1, 90_000));
    let samples: Vec<SampleTime> = video
        .packets
        .iter()
        .map(|p| SampleTime {
            dts: p.dts.expect("dts"),
            pts: p.pts.expect("pts"),
            duration: p
                .duration
                .and_then(|d| u32::try_from(d).ok())
                .expect("duration"),
            keyframe: p.key,
        })
        .collect();
    assert_eq!(samples.len(), 150);
    let target = TargetDuration::parse("2").expect("target");
    let segs = segment(samples.iter().copied(), 90_000, target).expect("segment");
    // Keyframes at 0, 1.4, 2.8, 4.2 and 5.6 s; boundaries at 2 and 4 s.
    let firsts: Vec<usize> = segs.iter().map(|s| s.first_sample).collect();
    assert_eq!(firsts, vec![0, 70, 105]);
    let total: u64 = segs.iter().map(|s| s.duration).sum();
    assert_eq!(total, 540_000, "the segments tile the 6 s exactly");

    // ffmpeg cuts the file at the same frames.
    let cuts = format!("{},{}", firsts[1], firsts[2]);
    let pattern = dir.join("part%d.ts");
    ffmpeg(&[
        "-i",
        path_str(&src),
        "-map",
        "0",
        "-c",
        "copy",
        "-f",
        "segment",
        "-segment_frames",
        &cuts,
        "-segment_format",
        "mpegts",
        path_str(&pattern),
    ]);
    let parts: Vec<PathBuf> = (0..segs.len())
        .map(|k| dir.join(format!("part{k}.ts")))
        .collect();
    for (part, seg) in parts.iter().zip(&segs) {
        let p = ffprobe(part);
        let v = p.expect(common::Kind::Video, &part.display());
        assert_eq!(v.packets.len(), seg.sample_count, "{}", part.display());
        assert_eq!(v.packets.first().and_then(|p| p.pts), Some(seg.start));
    }

    let out_dir = dir.join("out");
    std::fs::create_dir(&out_dir).expect("mkdir");
    let playlist = out_dir.join("list.m3u8");
    let infos: Vec<SegmentInfo> = segs
        .iter()
        .map(|s| SegmentInfo::from_segment(s, 90_000))
        .collect();
    write_hls(&playlist, &parts, &infos);
    assert_eq!(
        common::dir_entries(&out_dir),
        vec![
            "list.m3u8",
            "list_00000.ts",
            "list_00001.ts",
            "list_00002.ts"
        ]
    );
    let text = std::fs::read_to_string(&playlist).expect("playlist");
    assert!(
        text.contains("#EXT-X-TARGETDURATION:3\n")
            && text.contains("#EXTINF:2.800,\nlist_00000.ts\n")
            && text.contains("#EXTINF:1.400,\nlist_00001.ts\n")
            && text.contains("#EXTINF:1.800,\nlist_00002.ts\n"),
        "{text}"
    );

    assert_decodes_cleanly(&playlist);
    let d = playlist_duration(&playlist);
    assert!((d - 6.0).abs() < 1e-3, "ffprobe says {d} s, seam wrote 6 s");
    assert_eq!(video_packets(&playlist), 150);
}

#[test]
fn ffmpeg_plays_a_playlist_with_a_discontinuity() {
    if !require_ffmpeg() {
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // Two independent 2 s recordings: both start at the same timestamps, so the second follows a
    // discontinuity (RFC 8216 §4.3.2.3).
    let mut files = Vec::new();
    for (k, src) in ["testsrc", "testsrc2"].iter().enumerate() {
        let f = dir.join(format!("rec{k}.ts"));
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            &format!("{src}=size=64x64:rate=25"),
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-g",
            "25",
            "-f",
            "mpegts",
            path_str(&f),
        ]);
        files.push(f);
    }
    let playlist = dir.join("joined.m3u8");
    let infos = [
        SegmentInfo {
            duration: 180_000,
            timescale: 90_000,
            discontinuity_before: false,
        },
        SegmentInfo {
            duration: 180_000,
            timescale: 90_000,
            discontinuity_before: true,
        },
    ];
    write_hls(&playlist, &files, &infos);
    let text = std::fs::read_to_string(&playlist).expect("playlist");
    assert!(
        text.contains("#EXT-X-DISCONTINUITY\n#EXTINF:2.000,\njoined_00001.ts\n"),
        "{text}"
    );

    // seam's own reader sees the same list.
    let seam::demux::hls::playlist::Playlist::Media(m) =
        seam::demux::hls::playlist::parse("joined.m3u8", &text, &seam::Limits::default())
            .expect("parse")
    else {
        panic!("not a media playlist");
    };
    let got: Vec<(String, bool, u64)> = m
        .segments
        .iter()
        .map(|s| (s.uri.clone(), s.discontinuity_before, s.duration.millis()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("joined_00000.ts".to_string(), false, 2000),
            ("joined_00001.ts".to_string(), true, 2000),
        ]
    );

    assert_decodes_cleanly(&playlist);
    let d = playlist_duration(&playlist);
    assert!((d - 4.0).abs() < 1e-3, "ffprobe says {d} s, seam wrote 4 s");
    assert_eq!(video_packets(&playlist), 100);
}
