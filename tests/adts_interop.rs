//! The ADTS demuxer against ffmpeg: `.aac` files made by ffmpeg's `adts` muxer (48 kHz stereo,
//! 44.1 kHz mono, with ID3v2 and APEv2 tags, two tagged files concatenated) demux to the packets
//! `ffprobe -show_packets` lists, in order.
//!
//! ffprobe's packet `pos` is where the ADTS frame starts (its header) and `size` is the whole frame,
//! header included (ffmpeg's aac demuxer hands the decoder whole frames and the decoder strips the
//! header), so each packet is compared with `start()` and `header_len + size` of a frame. Behind an
//! ID3v2 tag between frames, ffmpeg 5.1's `pos` is the tag's length too small (it points into the
//! tag); the comparison allows for that and checks the sync word at seam's offsets instead. The sum
//! of ffprobe's packet durations (time base 1/28224000) is compared exactly with 1024 samples per
//! frame at the sample rate.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use seam::demux::adts::{self, AdtsMedia, TagKind};
use seam::source::FileSource;
use seam::Limits;

/// Makes a 3-second `.aac` of a 440 Hz tone in `dir` with extra ffmpeg arguments.
fn make(dir: &Path, name: &str, rate: u32, channels: u32, extra: &[&str]) -> std::path::PathBuf {
    let out = dir.join(name);
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("sine=frequency=440:sample_rate={rate}"))
        .args(["-t", "3", "-ac", &channels.to_string(), "-c:a", "aac"])
        .args(extra)
        .args(["-f", "adts"])
        .arg(&out)
        .output()
        .expect("run ffmpeg");
    assert!(o.status.success(), "{}", common::describe(&o));
    out
}

/// `(pos, size, duration)` of every packet, and the stream's time base denominator, sample rate
/// and channels, from ffprobe.
struct Probe {
    packets: Vec<(u64, u64, u64)>,
    time_base_den: u64,
    sample_rate: u32,
    channels: u8,
}

fn probe(path: &Path) -> Probe {
    let o = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_packets",
            "-show_streams",
            "-of",
            "json",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    assert!(o.status.success(), "{}", common::describe(&o));
    let v: Value = serde_json::from_slice(&o.stdout).expect("ffprobe json");
    let num = |v: &Value, k: &str| -> u64 {
        match &v[k] {
            Value::String(s) => s.parse().unwrap_or_else(|_| panic!("{k}: {s}")),
            n => n.as_u64().unwrap_or_else(|| panic!("{k}: {n}")),
        }
    };
    let packets = v["packets"]
        .as_array()
        .expect("packets")
        .iter()
        .map(|p| (num(p, "pos"), num(p, "size"), num(p, "duration")))
        .collect();
    let s = &v["streams"][0];
    let tb = s["time_base"].as_str().expect("time_base");
    assert!(tb.starts_with("1/"), "time base {tb}");
    Probe {
        packets,
        time_base_den: tb[2..].parse().expect("time base"),
        sample_rate: num(s, "sample_rate") as u32,
        channels: num(s, "channels") as u8,
    }
}

fn demux(path: &Path) -> AdtsMedia {
    let src = FileSource::open(path).expect("open");
    adts::open(&src, &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Checks `m` against ffprobe's view of `path`.
fn compare(path: &Path, m: &AdtsMedia) {
    let p = probe(path);
    // ffmpeg 5.1 reports the packets after an ID3v2 tag between frames that tag's length too
    // early (`pos` then points into the tag; the frame starts after it, see the test below).
    let shift = |start: u64| -> u64 {
        m.tags
            .iter()
            .filter(|t| t.offset > 0 && t.offset < start)
            .map(|t| t.len)
            .sum()
    };
    let ours: Vec<(u64, u64)> = m
        .frames
        .iter()
        .map(|f| {
            (
                f.start() - shift(f.start()),
                u64::from(f.header_len) + u64::from(f.size),
            )
        })
        .collect();
    let theirs: Vec<(u64, u64)> = p
        .packets
        .iter()
        .map(|&(pos, size, _)| (pos, size))
        .collect();
    assert_eq!(
        ours,
        theirs,
        "{}: frames differ from ffprobe's packets",
        path.display()
    );
    assert_eq!(m.timescale(), p.sample_rate);
    assert_eq!(m.config.channels(), p.channels);
    // Exact: sum(duration) / den == frames * 1024 / rate.
    let total: u64 = p.packets.iter().map(|&(_, _, d)| d).sum();
    assert_eq!(
        u128::from(total) * u128::from(m.timescale()),
        u128::from(m.duration()) * u128::from(p.time_base_den),
        "{}: duration",
        path.display()
    );
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
}

#[test]
fn ffmpeg_adts_files_demux_like_ffprobe() {
    if !common::require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let stereo = make(dir.path(), "x.aac", 48000, 2, &[]);
    let m = demux(&stereo);
    compare(&stereo, &m);
    // 3 s at 48 kHz: ffmpeg's encoder adds one frame of priming and pads the end.
    assert!(m.frame_count() >= 141, "{} frames", m.frame_count());
    assert!(m.tags.is_empty());
    assert_eq!(m.end, std::fs::metadata(&stereo).expect("len").len());
    let head = std::fs::read(&stereo).expect("read");
    assert!(adts::sniff(&head[..16]));

    let mono = make(dir.path(), "y.aac", 44100, 1, &[]);
    let m = demux(&mono);
    compare(&mono, &m);
    assert_eq!((m.timescale(), m.config.channels()), (44100, 1));
}

#[test]
fn ffmpeg_tags_are_skipped() {
    if !common::require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let tagged = make(
        dir.path(),
        "t.aac",
        48000,
        2,
        &["-write_id3v2", "1", "-write_apetag", "1"],
    );
    let m = demux(&tagged);
    compare(&tagged, &m);
    let kinds: Vec<TagKind> = m.tags.iter().map(|t| t.kind).collect();
    assert_eq!(kinds, [TagKind::Id3v2, TagKind::Ape]);
    assert_eq!(m.tags[0].offset, 0);
    assert_eq!(m.frames[0].start(), m.tags[0].len);
    let len = std::fs::metadata(&tagged).expect("len").len();
    assert_eq!(m.tags[1].offset + m.tags[1].len, len);
    assert_eq!(m.end, m.tags[1].offset);
    let head = std::fs::read(&tagged).expect("read");
    assert!(adts::sniff(&head[..4096]));

    // Two ID3v2-tagged files back to back (concatenated HLS packed-audio segments): the second
    // tag is skipped between frames, as ffmpeg does.
    let one = make(dir.path(), "s.aac", 44100, 1, &["-write_id3v2", "1"]);
    let bytes = std::fs::read(&one).expect("read");
    let both = dir.path().join("ss.aac");
    std::fs::write(&both, [bytes.clone(), bytes.clone()].concat()).expect("write");
    let m1 = demux(&one);
    let m = demux(&both);
    compare(&both, &m);
    assert_eq!(m.frame_count(), 2 * m1.frame_count());
    assert_eq!(m.tags.len(), 2);
    assert_eq!(m.tags[1].offset, bytes.len() as u64);
    // The frames really start where seam says: a sync word at each, the first after the second
    // tag right behind it (ffprobe says `pos` 27258 for a frame at 27303 behind a 45-byte tag).
    let data = std::fs::read(&both).expect("read");
    for f in &m.frames {
        let at = f.start() as usize;
        assert_eq!(
            (data[at], data[at + 1] & 0xf6),
            (0xff, 0xf0),
            "frame at {at}"
        );
    }
    let after = m.frames[m1.frame_count()].start();
    assert_eq!(after, m.tags[1].offset + m.tags[1].len);
}
