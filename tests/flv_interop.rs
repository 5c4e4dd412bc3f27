//! The FLV demuxer against ffmpeg: on `fixtures/flv/*.flv` (made by `fixtures/make_flv.sh`),
//! every sample's bytes (the payload after the AVC/AAC packet header), decode and presentation
//! time and keyframe flag equal the packets ffmpeg/ffprobe read, in order, per track.

mod common;

use std::path::Path;
use std::process::Command;

use seam::demux::flv::{self, FlvSample};
use seam::source::FileSource;
use seam::Limits;

/// `(size, sha256)` per packet of one stream, from ffmpeg's framehash muxer.
fn ffmpeg_hashes(path: &Path, stream: &str) -> Vec<(u64, String)> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-map",
            stream,
            "-c",
            "copy",
            "-f",
            "framehash",
            "-hash",
            "sha256",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(o.status.success(), "{}", common::describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            (f[4].parse().expect("size"), f[5].to_string())
        })
        .collect()
}

/// `(dts, pts, key)` per packet of one stream (`v` or `a`), from ffprobe, in milliseconds.
fn ffprobe_times(path: &Path, stream: &str) -> Vec<(i64, i64, bool)> {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", stream, "-show_packets"])
        .args(["-show_entries", "packet=dts,pts,flags", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(o.status.success(), "{}", common::describe(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[1].parse().expect("dts"),
                f[0].parse().expect("pts"),
                f[2].starts_with('K'),
            )
        })
        .collect()
}

fn check(path: &Path, data: &[u8], samples: &[FlvSample], map: &str, stream: &str) {
    let hashes = ffmpeg_hashes(path, map);
    let times = ffprobe_times(path, stream);
    assert_eq!(samples.len(), hashes.len(), "{stream}: packet count");
    assert_eq!(samples.len(), times.len(), "{stream}: packet count");
    for (i, s) in samples.iter().enumerate() {
        let bytes = &data[s.offset as usize..s.end() as usize];
        assert_eq!(u64::from(s.size), hashes[i].0, "{stream} packet {i}: size");
        assert_eq!(
            common::sha256_hex(bytes),
            hashes[i].1,
            "{stream} packet {i}: bytes"
        );
        let (dts, pts, key) = times[i];
        assert_eq!(
            (s.dts, s.pts(), s.keyframe),
            (dts, pts, key),
            "{stream} packet {i}"
        );
    }
}

fn compare(name: &str) -> flv::FlvMedia {
    let path = common::fixture(name);
    let data = std::fs::read(&path).expect("read fixture");
    let src = FileSource::open(&path).expect("open");
    let m = flv::open(&src, &Limits::default()).expect("demux");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let v = m.video.as_ref().expect("video track");
    let a = m.audio.as_ref().expect("audio track");
    check(&path, &data, &v.samples, "0:v", "v");
    check(&path, &data, &a.samples, "0:a", "a");
    m
}

#[test]
fn fixture_samples_match_ffmpeg() {
    if !common::require_ffmpeg() {
        return;
    }
    let m = compare("flv/av.flv");
    let v = m.video.as_ref().expect("video track");
    assert!(v.samples.iter().any(|s| s.cts_offset > 0), "B-frames");
}

/// Timestamps crossing 2^24 ms: `TimestampExtended` is the high byte.
#[test]
fn extended_timestamps_match_ffmpeg() {
    if !common::require_ffmpeg() {
        return;
    }
    let m = compare("flv/ts_extended.flv");
    let v = m.video.as_ref().expect("video track");
    assert!(v.samples.first().is_some_and(|s| s.dts < 1 << 24));
    assert!(v.samples.last().is_some_and(|s| s.dts > 1 << 24));
}

/// `seam::codec::framing` on ffmpeg's Annex B: each packet `h264_mp4toannexb` makes of the FLV's
/// samples (split from `-f h264` by the framehash sizes) scans, converts to length-prefixed and
/// back byte for byte (sizes predicted), and is the FLV sample once the SPS/PPS ffmpeg inserted
/// before keyframes are taken out; those equal the avcC's.
#[test]
fn framing_round_trips_ffmpegs_annexb() {
    use seam::codec::framing::*;
    if !common::require_ffmpeg() {
        return;
    }
    let path = common::fixture("flv/av.flv");
    let data = std::fs::read(&path).expect("read fixture");
    let src = FileSource::open(&path).expect("open");
    let m = flv::open(&src, &Limits::default()).expect("demux");
    let v = m.video.as_ref().expect("video track");
    let avcc = &v.configs[0].parsed;
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args([
            "-map",
            "0:v",
            "-c",
            "copy",
            "-bsf:v",
            "h264_mp4toannexb",
            "-f",
            "h264",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(o.status.success(), "{}", common::describe(&o));
    let stream = o.stdout;
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-map", "0:v", "-c", "copy", "-bsf:v", "h264_mp4toannexb"])
        .args(["-f", "framehash", "-hash", "sha256", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(o.status.success(), "{}", common::describe(&o));
    let sizes: Vec<usize> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            l.split(',')
                .nth(4)
                .expect("size")
                .trim()
                .parse()
                .expect("size")
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), stream.len());
    assert_eq!(sizes.len(), v.samples.len());
    let opts = Mp4Nals {
        codec: NalCodec::H264,
        length_size: 4,
        drop_aud_filler: false,
    };
    let mut pos = 0;
    let mut inserted = 0;
    for (i, (s, size)) in v.samples.iter().zip(&sizes).enumerate() {
        let packet = &stream[pos..pos + size];
        pos += size;
        let layout = scan_annexb(packet).unwrap_or_else(|e| panic!("packet {i}: {e}"));
        assert_eq!(annexb_layout_size(&layout), packet.len());
        let mut lp = Vec::new();
        annexb_to_length_prefixed(packet, &layout, &opts, &mut lp).expect("convert");
        assert_eq!(
            lp.len(),
            length_prefixed_size(&layout, &opts).expect("size")
        );
        let mut back = Vec::new();
        annexb_from_layout(&lp, 4, &layout, &mut back).expect("back");
        assert_eq!(back, packet, "packet {i}: Annex B round trip");
        // Without the parameter sets ffmpeg inserted, the length-prefixed form is the sample.
        let (sps, pps) = parameter_sets(packet, &layout);
        if !sps.is_empty() {
            inserted += 1;
            assert!(
                s.keyframe,
                "packet {i}: parameter sets before a non-keyframe"
            );
            assert_eq!(sps, avcc.sps.iter().map(|u| &u[..]).collect::<Vec<_>>());
            assert_eq!(pps, avcc.pps.iter().map(|u| &u[..]).collect::<Vec<_>>());
        }
        let keep = |u: &AnnexBUnit| !matches!(u.header & 0x1f, 7 | 8);
        let mut without = Vec::new();
        for u in layout.units.iter().filter(|u| keep(u)) {
            without.extend_from_slice(&(u.range.len() as u32).to_be_bytes());
            without.extend_from_slice(&packet[u.range.clone()]);
        }
        let sample = &data[s.offset as usize..s.end() as usize];
        assert_eq!(without, sample, "packet {i}: not the FLV sample");
    }
    assert_eq!(inserted, v.samples.iter().filter(|s| s.keyframe).count());
}
