//! MPEG-TS (`-o out.ts`) and HLS (`-o out.m3u8`) output of `seam stitch`, judged against the MP4
//! output of the same inputs:
//!
//! * every access unit carries the MP4 sample's bytes: video NAL units equal once the TS unit's
//!   access unit delimiter and the parameter sets the writer put on keyframes are set aside,
//!   audio equal once the ADTS header is stripped (per-sample comparison through seam's own TS
//!   demuxer);
//! * DTS increase strictly per stream, keyframe flags match, and the TS video lasts what the MP4
//!   video presents, within one frame;
//! * ffmpeg decodes the output without a message and counts the MP4's packets per stream;
//! * HLS: the playlist parses, its target duration is the rounded longest segment, every segment
//!   starts (for video) with a keyframe after its PAT and PMT, the segments hold every sample once
//!   and their durations add up to the whole.
//!
//! The ffmpeg checks fail without ffmpeg under `SEAM_REQUIRE_FFMPEG=1`, else are skipped; the rest
//! always runs.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{describe, fixture, seam, set_name, shared_dir};
use seam::codec::framing::{adts_to_raw, length_prefixed_units, scan_annexb, NalCodec};
use seam::demux::ts::{demux_all, Event, StreamType, TsLimits};
use seam::model::TrackKind;

/// Stitch sets checked (the copy-compatible sets of the other end-to-end tests, and H.265).
const TS_SETS: &[&[&str]] = &[
    &["a.mp4", "b.mp4", "c.mp4"],
    &["a.mp4", "moov_last.mp4", "negcts.mp4"],
    &["frag.mp4", "frag_noedts.mp4", "a.mp4"],
    &["a.mp4", "video_only.mp4", "b.mp4"],
    &["a.mp4", "audio_late.mp4", "b.mp4"],
    &["hevc_a.mp4", "hevc_b.mp4"],
    &["four_track_1.mp4", "four_track_2.mp4"],
    &["timecode.mov", "timecode2.mov"],
    // Transport stream and FLV inputs: TS → model → TS.
    &["ts/plain.ts", "ts/wrap.ts"],
    &["flv/av.flv", "flv/av.flv"],
];

/// Runs `seam stitch -q -o OUT EXTRA... INPUTS...`, panicking on failure.
fn stitch(inputs: &[&str], out: &Path, extra: &[&str]) {
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-q".into(), "-y".into()];
    args.extend(extra.iter().map(Into::into));
    args.push("-o".into());
    args.push(out.into());
    args.extend(inputs.iter().map(|n| fixture(n).into_os_string()));
    let o = seam(&args);
    assert!(
        o.status.success(),
        "seam stitch {inputs:?} -o {}: {}",
        out.display(),
        describe(&o)
    );
}

/// One track of the MP4 output: kind, codec, and each sample's (bytes, sync, pts, dts) in
/// decode order, times in seconds.
struct Mp4Track {
    kind: TrackKind,
    codec: Option<NalCodec>,
    samples: Vec<(Vec<u8>, bool)>,
    /// Presentation span of the track (edit list applied), seconds.
    span: f64,
    frame: f64,
}

fn mp4_tracks(path: &Path) -> Vec<Mp4Track> {
    let data = std::fs::read(path).expect("read mp4 output");
    let media = seam::probe(path, &seam::Limits::default()).expect("probe mp4 output");
    let mut out = Vec::new();
    for t in &media.tracks {
        let format = t.entry().map(|e| e.format.0).unwrap_or_default();
        let codec = match &format {
            b"avc1" | b"avc3" => Some(NalCodec::H264),
            b"hvc1" | b"hev1" => Some(NalCodec::H265),
            b"mp4a" => None,
            _ => continue,
        };
        let samples: Vec<(Vec<u8>, bool)> = t
            .samples
            .iter()
            .map(|s| {
                let at = s.offset as usize;
                (data[at..at + s.size as usize].to_vec(), s.sync)
            })
            .collect();
        let ts = f64::from(t.timescale);
        let frame = t
            .samples
            .iter()
            .next()
            .map_or(0.0, |s| f64::from(s.duration) / ts);
        let span = if t.edits.is_empty() {
            t.media_duration() as f64 / ts
        } else {
            t.edits
                .iter()
                .filter(|e| !e.is_empty())
                .map(|e| e.segment_duration)
                .sum::<u64>() as f64
                / f64::from(media.movie_timescale)
        };
        out.push(Mp4Track {
            kind: t.kind,
            codec,
            samples,
            span,
            frame,
        });
    }
    out
}

/// One access unit of a TS output: bytes, keyframe flag, PTS, DTS (90 kHz, unwrapped).
type TsUnit = (Vec<u8>, bool, i64, i64);

/// The access units per PID of a transport stream, in PID order, with the stream type.
fn ts_streams(data: &[u8], name: &str) -> Vec<(StreamType, Vec<TsUnit>)> {
    let (events, result) = demux_all(name, data, &TsLimits::default());
    result.unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut by_pid: BTreeMap<u16, (StreamType, Vec<TsUnit>)> = BTreeMap::new();
    for e in events {
        match e {
            Event::Stream {
                pid, stream_type, ..
            } => {
                by_pid.entry(pid).or_insert((stream_type, Vec::new()));
            }
            Event::AccessUnit(au) => {
                assert!(!au.damaged, "{name}: damaged unit at {}", au.offset);
                let mut bytes = Vec::with_capacity(au.size as usize);
                for p in &au.pieces {
                    bytes.extend_from_slice(&data[p.start as usize..p.end as usize]);
                }
                let pts = au.timeline_pts.expect("pts");
                let dts = au.timeline_dts.expect("dts");
                by_pid.get_mut(&au.pid).expect("announced stream").1.push((
                    bytes,
                    au.random_access,
                    pts,
                    dts,
                ));
            }
            Event::Warning(w) => panic!("{name}: demux warning {w:?}"),
            Event::Discontinuity { .. } => panic!("{name}: discontinuity"),
        }
    }
    by_pid.into_values().collect()
}

fn is_parameter_set(codec: NalCodec, header: u8) -> bool {
    match codec {
        NalCodec::H264 => matches!(codec.nal_type(header), 7 | 8),
        NalCodec::H265 => matches!(codec.nal_type(header), 32..=34),
    }
}

fn is_aud(codec: NalCodec, header: u8) -> bool {
    match codec {
        NalCodec::H264 => codec.nal_type(header) == 9,
        NalCodec::H265 => codec.nal_type(header) == 35,
    }
}

/// The NAL units of a TS video access unit that come from the MP4 sample: without the AUD, and
/// without parameter sets the sample does not hold (the writer adds them on keyframes).
fn sample_units(codec: NalCodec, au: &[u8], sample: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let layout = scan_annexb(au).expect("Annex B access unit");
    layout
        .units
        .iter()
        .map(|u| au[u.range.clone()].to_vec())
        .filter(|n| !is_aud(codec, n[0]))
        .filter(|n| !is_parameter_set(codec, n[0]) || sample.contains(n))
        .collect()
}

/// Checks one TS output against the MP4 output of the same inputs; `what` names it.
fn check_against_mp4(streams: &[(StreamType, Vec<TsUnit>)], mp4: &[Mp4Track], what: &str) {
    assert_eq!(
        streams.len(),
        mp4.len(),
        "{what}: streams (TS) vs carried tracks (MP4)"
    );
    for (k, ((ty, units), t)) in streams.iter().zip(mp4).enumerate() {
        let what = format!("{what}: stream {k}");
        assert_eq!(
            units.len(),
            t.samples.len(),
            "{what}: access units vs MP4 samples"
        );
        for w in units.windows(2) {
            assert!(w[1].3 > w[0].3, "{what}: DTS {} then {}", w[0].3, w[1].3);
        }
        for (i, ((bytes, key, pts, dts), (sample, sync))) in
            units.iter().zip(&t.samples).enumerate()
        {
            assert!(pts >= dts, "{what}: unit {i}: PTS {pts} < DTS {dts}");
            match t.codec {
                Some(codec) => {
                    assert!(matches!(ty, StreamType::H264 | StreamType::H265), "{what}");
                    let want: Vec<Vec<u8>> = length_prefixed_units(sample, 4)
                        .expect("length-prefixed sample")
                        .into_iter()
                        .map(|r| sample[r].to_vec())
                        .collect();
                    assert_eq!(
                        sample_units(codec, bytes, &want),
                        want,
                        "{what}: unit {i}: NAL units differ from the MP4 sample"
                    );
                    assert_eq!(key, sync, "{what}: unit {i}: keyframe flag");
                }
                None => {
                    assert_eq!(*ty, StreamType::AacAdts, "{what}");
                    let (_, raw) = adts_to_raw(bytes).expect("ADTS frame");
                    assert_eq!(raw, &sample[..], "{what}: unit {i}: AAC frame differs");
                }
            }
        }
        if t.kind == TrackKind::Video {
            // Presentation span: first PTS to the last PTS plus one frame.
            let first = units.iter().map(|u| u.2).min().expect("units");
            let last = units.iter().map(|u| u.2).max().expect("units");
            let span = (last - first) as f64 / 90_000.0 + t.frame;
            assert!(
                (span - t.span).abs() <= t.frame + 1e-6,
                "{what}: video lasts {span} s, the MP4's {} s",
                t.span
            );
        }
    }
}

fn out_dir() -> PathBuf {
    let d = shared_dir().join("ts_out");
    std::fs::create_dir_all(&d).expect("mkdir");
    d
}

/// The packet count per codec type ffprobe reads, and that decoding prints nothing.
fn ffmpeg_counts(path: &Path) -> Vec<(String, u64)> {
    let o = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(
        o.status.success() && o.stderr.is_empty(),
        "ffmpeg decoding {}: {}",
        path.display(),
        describe(&o)
    );
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-count_packets", "-show_entries"])
        .args(["stream=codec_type,nb_read_packets", "-of", "json"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(o.status.success(), "{}", describe(&o));
    // Streams only (a transport stream's program section lists them again).
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("ffprobe JSON");
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|s| {
            let t = s["codec_type"].as_str()?;
            let n = s["nb_read_packets"].as_str()?.parse().ok()?;
            matches!(t, "video" | "audio").then(|| (t.to_string(), n))
        })
        .collect()
}

#[test]
fn ts_output_carries_every_mp4_sample() {
    let dir = out_dir();
    for set in TS_SETS {
        let name = set_name(set).replace('/', "_");
        let ts = dir.join(format!("{name}.ts"));
        let mp4 = dir.join(format!("{name}.mp4"));
        stitch(set, &ts, &[]);
        stitch(set, &mp4, &[]);
        let data = std::fs::read(&ts).expect("read ts");
        assert_eq!(data.len() % 188, 0, "{name}: whole packets");
        check_against_mp4(&ts_streams(&data, &name), &mp4_tracks(&mp4), &name);
        if common::require_ffmpeg() {
            assert_eq!(
                ffmpeg_counts(&ts),
                ffmpeg_counts(&mp4),
                "{name}: packets per stream"
            );
        }
    }
}

/// Parses an HLS media playlist written by seam.
fn media_playlist(path: &Path) -> seam::demux::hls::playlist::MediaPlaylist {
    let text = std::fs::read_to_string(path).expect("read playlist");
    match seam::demux::hls::playlist::parse("out.m3u8", &text, &seam::Limits::default())
        .expect("playlist parses")
    {
        seam::demux::hls::playlist::Playlist::Media(m) => m,
        other => panic!("not a media playlist: {other:?}"),
    }
}

#[test]
fn hls_output_segments_start_with_keyframes_and_hold_every_sample() {
    let dir = out_dir();
    for (set, target) in [
        (&["a.mp4", "b.mp4", "c.mp4"][..], "2"),
        (&["a.mp4", "video_only.mp4", "b.mp4"][..], "1.5"),
        (&["hevc_a.mp4", "hevc_b.mp4"][..], "6"),
    ] {
        let name = set_name(set);
        let m3u8 = dir.join(format!("{name}.m3u8"));
        let mp4 = dir.join(format!("{name}.hls.mp4"));
        stitch(set, &m3u8, &["--segment-duration", target]);
        stitch(set, &mp4, &[]);
        let pl = media_playlist(&m3u8);
        assert!(pl.end_list, "{name}");
        assert!(!pl.segments.is_empty(), "{name}");
        // Concatenated segments hold what one TS would.
        let mut streams: Vec<(StreamType, Vec<TsUnit>)> = Vec::new();
        let mut total_us = 0u64;
        let mut longest = 0u64;
        for (k, seg) in pl.segments.iter().enumerate() {
            let path = dir.join(&seg.uri);
            let data = std::fs::read(&path).expect("read segment");
            // PAT first (PID 0), then the PMT.
            assert_eq!(data.first(), Some(&0x47), "{name}: segment {k}");
            let pid = u16::from_be_bytes([data[1], data[2]]) & 0x1fff;
            assert_eq!(pid, 0, "{name}: segment {k} starts with the PAT");
            let s = ts_streams(&data, &seg.uri);
            // The cut track (the first video stream) starts with a keyframe.
            let (ty, units) = &s[0];
            assert!(matches!(ty, StreamType::H264 | StreamType::H265), "{name}");
            assert!(
                units.first().is_some_and(|u| u.1),
                "{name}: segment {k} starts with a keyframe"
            );
            if streams.is_empty() {
                streams = s;
            } else {
                for (all, (_, more)) in streams.iter_mut().zip(s) {
                    all.1.extend(more);
                }
            }
            let us = seg.duration.num * 1_000_000 / seg.duration.den();
            total_us += us;
            longest = longest.max((us + 500_000) / 1_000_000);
        }
        assert_eq!(
            pl.target_duration,
            Some(longest.max(1)),
            "{name}: target duration"
        );
        let mp4_tracks = mp4_tracks(&mp4);
        check_against_mp4(&streams, &mp4_tracks, &format!("{name} (HLS)"));
        // The durations tile the video's presentation.
        let video = mp4_tracks
            .iter()
            .find(|t| t.kind == TrackKind::Video)
            .expect("video");
        let total = total_us as f64 / 1e6;
        assert!(
            (total - video.span).abs() <= video.frame + 1e-6,
            "{name}: segments last {total} s, the video {} s",
            video.span
        );
        if common::require_ffmpeg() {
            assert_eq!(
                ffmpeg_counts(&m3u8),
                ffmpeg_counts(&mp4),
                "{name}: HLS packets"
            );
        }
    }
}

#[test]
fn options_that_do_not_fit_the_format_are_usage_errors() {
    let dir = out_dir();
    let a = fixture("a.mp4");
    for (out, extra) in [
        ("x.ts", &["--fragmented"][..]),
        ("x.m3u8", &["--fragmented"][..]),
        ("x.ts", &["--segment-duration", "2"][..]),
        ("x.m3u8", &["--segment-duration", "0"][..]),
        ("x.m3u8", &["--segment-duration", "abc"][..]),
    ] {
        let target = dir.join(out);
        let mut args: Vec<std::ffi::OsString> = vec!["stitch".into()];
        args.extend(extra.iter().map(Into::into));
        args.extend([
            "-o".into(),
            target.clone().into_os_string(),
            a.clone().into_os_string(),
        ]);
        let o = seam(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{out} {extra:?}: {}",
            describe(&o)
        );
        assert!(!target.exists(), "{out} {extra:?}: nothing written");
    }
}

#[test]
fn hls_output_is_atomic_and_refuses_to_overwrite() {
    let dir = out_dir().join("atomic");
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = dir.join("j.m3u8");
    let _ = std::fs::remove_file(&out);
    let args = |y: bool| {
        let mut v: Vec<std::ffi::OsString> = vec!["stitch".into(), "-q".into()];
        if y {
            v.push("-y".into());
        }
        v.extend(["-o".into(), out.clone().into_os_string()]);
        v.push(fixture("a.mp4").into_os_string());
        v
    };
    let o = seam(args(false));
    assert!(o.status.success(), "{}", describe(&o));
    let first = std::fs::read(&out).expect("playlist");
    let o = seam(args(false));
    assert_eq!(o.status.code(), Some(1), "exists: {}", describe(&o));
    let o = seam(args(true));
    assert!(o.status.success(), "{}", describe(&o));
    assert_eq!(std::fs::read(&out).expect("playlist"), first);
    // Nothing but the playlist and its segments (no temporary folder left).
    for e in common::dir_entries(&dir) {
        assert!(
            e == "j.m3u8" || (e.starts_with("j_") && e.ends_with(".ts")),
            "{e}"
        );
    }
}

/// Presentation time (seconds) of every sample of each track of an MP4, through its edit list;
/// `None` for samples no edit presents (decode-only frames).
fn mp4_presentation(path: &Path) -> Vec<(TrackKind, Vec<Option<f64>>)> {
    let m = seam::probe(path, &seam::Limits::default()).expect("probe");
    let mts = f64::from(m.movie_timescale);
    m.tracks
        .iter()
        .map(|t| {
            let ts = f64::from(t.timescale);
            let mut edits = Vec::new();
            let mut p = 0.0;
            for e in &t.edits {
                if !e.is_empty() {
                    edits.push((p, e.segment_duration as f64 / mts, e.media_time as f64 / ts));
                }
                p += e.segment_duration as f64 / mts;
            }
            let v = t
                .samples
                .iter()
                .map(|s| {
                    let c = (s.dts + i64::from(s.cts_offset)) as f64 / ts;
                    edits
                        .iter()
                        .find(|(_, d, m)| c >= *m - 1e-9 && c < m + d - 1e-9)
                        .map(|(p, _, m)| p + c - m)
                })
                .collect();
            (t.kind, v)
        })
        .collect()
}

/// A join whose input hides decode-only frames behind its edit list (`ffmpeg -ss` pre-roll):
/// the TS shows them for their own duration and moves the audio along, so audio and every
/// presented video frame keep the MP4's A/V offset on both sides of the join, and the audio
/// has a gap as long as the shown frames.
#[test]
fn ts_shows_decode_only_frames_at_a_join_and_keeps_av_sync() {
    let dir = out_dir();
    let set = ["preroll_1.mp4", "preroll_2.mp4"];
    let ts = dir.join("preroll.ts");
    let mp4 = dir.join("preroll.mp4");
    stitch(&set, &ts, &[]);
    stitch(&set, &mp4, &[]);
    let data = std::fs::read(&ts).expect("read");
    let streams = ts_streams(&data, "preroll.ts");
    let pres = mp4_presentation(&mp4);
    assert_eq!(streams.len(), 2);
    // The join: preroll_2 starts at 3 s of the MP4; 13 decode-only frames (0.52 s) before it.
    let join = 3.0;
    let hidden = 13.0 * 0.04;
    let mut before: Vec<f64> = Vec::new();
    let mut after: Vec<f64> = Vec::new();
    for ((_, units), (kind, times)) in streams.iter().zip(&pres) {
        assert_eq!(units.len(), times.len(), "{kind:?}");
        for (u, t) in units.iter().zip(times) {
            let Some(t) = t else { continue };
            let offset = u.2 as f64 / 90_000.0 - t;
            if *t < join - 0.05 {
                before.push(offset);
            } else if *t >= join {
                after.push(offset);
            }
        }
    }
    let spread = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let (b0, b1) = spread(&before);
    let (a0, a1) = spread(&after);
    let tick = 1.0 / 90_000.0 + 1e-9;
    assert!(
        b1 - b0 <= tick,
        "A/V offset before the join varies: {b0}..{b1}"
    );
    assert!(
        a1 - a0 <= tick,
        "A/V offset after the join varies: {a0}..{a1}"
    );
    assert!(
        ((a0 - b0) - hidden).abs() <= tick,
        "the join moves later by the shown frames: {} s",
        a0 - b0
    );
    if common::require_ffmpeg() {
        let o = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(&ts)
            .args(["-f", "null", "-"])
            .output()
            .expect("run ffmpeg");
        assert!(
            o.status.success() && o.stderr.is_empty(),
            "{}",
            describe(&o)
        );
    }
}
