use super::*;
use crate::codec::aac::write_adts_header;
use crate::source::MemSource;

/// Windows every stream is demuxed with: results must not depend on them.
const WINDOWS: [usize; 7] = [1, 2, 7, 10, 33, 4096, DEFAULT_WINDOW];

/// Demuxes `data` as `t.aac` with every window of [`WINDOWS`], checking they agree.
fn demux_with(data: &[u8], limits: &Limits) -> Result<AdtsMedia, DemuxError> {
    let src = MemSource::new("t.aac", data.to_vec());
    let first = open(&src, limits);
    for w in WINDOWS {
        let other = open_with_window(&src, limits, w);
        match (&first, &other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "window {w}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "window {w}"),
            _ => panic!("window {w}: {first:?} vs {other:?}"),
        }
    }
    first
}

fn demux(data: &[u8]) -> Result<AdtsMedia, DemuxError> {
    demux_with(data, &Limits::default())
}

/// The AAC LC config of `freq_index` and `channels`.
fn asc(freq_index: u8, channels: u8) -> AudioSpecificConfig {
    AudioSpecificConfig::parse(&AudioSpecificConfig::encode_minimal(
        2, freq_index, channels,
    ))
    .expect("asc")
}

/// Payload bytes that never hold `0xFF` (so no sync word) nor `I` (no ID3 tag).
fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_add(seed) % 0x40 + 0x80)
        .collect()
}

/// One frame of `raw_len` payload bytes; with `crc`, a 9-byte header (`protection_absent` 0).
fn frame_of(c: &AudioSpecificConfig, raw_len: usize, crc: bool) -> Vec<u8> {
    let extra = if crc { 2 } else { 0 };
    let mut h = write_adts_header(c, raw_len + extra)
        .expect("header")
        .to_vec();
    if crc {
        h[1] &= 0xfe;
        h.extend_from_slice(&[0x12, 0x34]);
    }
    h.extend_from_slice(&payload(raw_len, raw_len as u8));
    h
}

/// `n` frames of 48 kHz stereo, of sizes 100, 101, ...
fn stream(n: usize) -> Vec<u8> {
    let c = asc(3, 2);
    (0..n).flat_map(|i| frame_of(&c, 100 + i, false)).collect()
}

/// An ID3v2.4 tag with a `len`-byte body.
fn id3(len: u32, footer: bool) -> Vec<u8> {
    let mut t = b"ID3\x04\x00".to_vec();
    t.push(if footer { 0x10 } else { 0 });
    t.extend((0..4).rev().map(|i| ((len >> (7 * i)) & 0x7f) as u8));
    t.extend(std::iter::repeat_n(0x20, len as usize));
    if footer {
        t.extend_from_slice(b"3DI\x04\x00\x10");
        t.extend((0..4).rev().map(|i| ((len >> (7 * i)) & 0x7f) as u8));
    }
    t
}

/// Checks frames cover `data` from `start` in order, each of the given payload sizes.
fn assert_frames(m: &AdtsMedia, start: u64, sizes: &[u32]) {
    let got: Vec<u32> = m.frames.iter().map(|f| f.size).collect();
    assert_eq!(got, sizes);
    assert_eq!(m.frames[0].start(), start);
    for w in m.frames.windows(2) {
        assert!(w[0].end() <= w[1].start());
    }
}

#[test]
fn plain_stream() {
    let data = stream(5);
    assert!(sniff(&data));
    let m = demux(&data).expect("demux");
    assert_frames(&m, 0, &[100, 101, 102, 103, 104]);
    assert!(m.warnings.is_empty() && m.tags.is_empty());
    assert_eq!(m.frames[1].offset, 107 + 7);
    assert!(m.frames.iter().all(|f| f.header_len == 7));
    assert_eq!(m.end, data.len() as u64);
    assert_eq!(m.timescale(), 48000);
    assert_eq!(m.frame_count(), 5);
    assert_eq!(m.frame_duration(), 1024);
    assert_eq!(m.duration(), 5 * 1024);
    assert_eq!(m.config.raw, asc(3, 2).raw);
    assert_eq!(m.config.channels(), 2);
}

#[test]
fn crc_protected_frames() {
    let c = asc(4, 1);
    let mut data = frame_of(&c, 50, true);
    data.extend(frame_of(&c, 60, false));
    data.extend(frame_of(&c, 70, true));
    let m = demux(&data).expect("demux");
    assert_frames(&m, 0, &[50, 60, 70]);
    let lens: Vec<u8> = m.frames.iter().map(|f| f.header_len).collect();
    assert_eq!(lens, [9, 7, 9]);
    assert_eq!(m.frames[0].offset, 9);
    assert_eq!(m.frames[2].offset, (59 + 67 + 9) as u64);
    assert_eq!(m.timescale(), 44100);
    assert!(!m.header.protection_absent);
}

#[test]
fn garbage_is_skipped_to_the_next_validated_frame() {
    let c = asc(3, 2);
    let f = |n| frame_of(&c, n, false);
    // Garbage holding a header that parses but is not followed by another one.
    let mut fake = f(20);
    fake.truncate(12);
    let mut data = b"junk".to_vec();
    data.extend(f(30));
    data.extend(f(31));
    data.extend([0u8; 5]);
    data.extend(&fake);
    data.extend([0xffu8; 3]);
    data.extend(f(32));
    let m = demux(&data).expect("demux");
    assert_frames(&m, 4, &[30, 31, 32]);
    let second_end = 4 + 37 + 38;
    assert_eq!(
        m.warnings,
        [
            AdtsWarning::Skipped { offset: 0, len: 4 },
            AdtsWarning::Skipped {
                offset: second_end,
                len: 5 + 12 + 3
            },
        ]
    );
}

#[test]
fn a_damaged_header_in_the_chain_is_skipped() {
    let c = asc(3, 2);
    let mut data = stream(3);
    let second = 107;
    // Bit flips in the second frame's channel configuration and length. A header of another
    // configuration is validated like a first frame (a real change would be refused), and this
    // one's frame ends where no header starts: damage, skipped up to the third frame.
    data[second + 3] ^= 0x40;
    data[second + 4] ^= 0x01;
    data.extend(frame_of(&c, 90, false));
    let m = demux(&data).expect("demux");
    assert_eq!(m.frames.len(), 3, "{:?}", m.warnings);
    assert_eq!(m.frames[1].size, 102);
    assert!(matches!(
        m.warnings[..],
        [AdtsWarning::Skipped {
            offset: 107,
            len: 108
        }]
    ));
}

#[test]
fn configuration_change_is_refused_at_its_frame() {
    let mut data = stream(2);
    data.extend(frame_of(&asc(4, 2), 80, false));
    data.extend(frame_of(&asc(4, 2), 80, false));
    let e = demux(&data).expect_err("config change");
    assert!(matches!(e, DemuxError::Unsupported { .. }), "{e}");
    let loc = e.location().expect("location");
    assert_eq!((loc.path.as_str(), loc.offset), ("frame[2]", 107 + 108));
    assert!(e
        .to_string()
        .contains("sample rate 44100 Hz differs from the first frame's 48000 Hz"));

    let mut data = stream(1);
    data.extend(frame_of(&asc(3, 1), 80, false));
    let e = demux(&data).expect_err("channels");
    assert!(
        e.to_string().contains("channel configuration 1 differs"),
        "{e}"
    );
}

#[test]
fn id3v2_before_and_between_frames() {
    let mut data = id3(50, false);
    data.extend(stream(2));
    data.extend(id3(20, true));
    data.extend(stream(1));
    assert!(sniff(&data) && !sniff(&data[..60]));
    let m = demux(&data).expect("demux");
    assert_frames(&m, 60, &[100, 101, 100]);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let id3_2 = 60 + 107 + 108;
    assert_eq!(
        m.tags,
        [
            AdtsTag {
                kind: TagKind::Id3v2,
                offset: 0,
                len: 60,
                timestamp: None
            },
            AdtsTag {
                kind: TagKind::Id3v2,
                offset: id3_2,
                len: 40,
                timestamp: None
            },
        ]
    );
    assert_eq!(m.frames[2].start(), id3_2 + 40);
}

#[test]
fn id3v1_and_ape_trailers() {
    let mut data = stream(2);
    let audio = data.len() as u64;
    let mut ape = b"APETAGEX".to_vec();
    ape.extend(2000u32.to_le_bytes());
    ape.extend((10u32 + 32).to_le_bytes()); // 10 bytes of items + footer
    ape.extend(1u32.to_le_bytes());
    ape.extend(0x8000_0000u32.to_le_bytes()); // with a header
    ape.extend([0; 8]);
    let mut header = ape.clone();
    header[20..24].copy_from_slice(&0xa000_0000u32.to_le_bytes());
    data.extend(&header);
    data.extend(payload(10, 0));
    data.extend(&ape);
    let mut v1 = b"TAG".to_vec();
    v1.resize(128, 0x20);
    data.extend(&v1);
    let m = demux(&data).expect("demux");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(m.frames.len(), 2);
    assert_eq!(
        m.tags,
        [
            AdtsTag {
                kind: TagKind::Ape,
                offset: audio,
                len: 74,
                timestamp: None
            },
            AdtsTag {
                kind: TagKind::Id3v1,
                offset: audio + 74,
                len: 128,
                timestamp: None
            },
        ]
    );
}

#[test]
fn trailer_signature_inside_the_last_frame_is_audio() {
    let c = asc(3, 2);
    let mut data = stream(1);
    let mut last = frame_of(&c, 300, false);
    let n = last.len();
    last[n - 128..n - 125].copy_from_slice(b"TAG");
    data.extend(&last);
    let m = demux(&data).expect("demux");
    assert!(
        m.tags.is_empty() && m.warnings.is_empty(),
        "{:?} {:?}",
        m.tags,
        m.warnings
    );
    assert_frames(&m, 0, &[100, 300]);
}

#[test]
fn truncated_last_frame_is_dropped() {
    let data = stream(3);
    let cut = &data[..data.len() - 10];
    let m = demux(cut).expect("demux");
    assert_eq!(m.frames.len(), 2);
    assert_eq!(
        m.warnings,
        [AdtsWarning::TruncatedFrame {
            frame: 2,
            offset: 215,
            needed: 109,
            available: 99
        }]
    );
    assert_eq!(m.end, 215);
    // Cut inside the header.
    let m = demux(&data[..218]).expect("demux");
    assert_eq!(
        m.warnings,
        [AdtsWarning::TruncatedFrame {
            frame: 2,
            offset: 215,
            needed: 7,
            available: 3
        }]
    );
    // Every cut gives a prefix of the frames (or no frame at all, inside the first one).
    let full = demux(&data).expect("demux");
    for cut in 0..data.len() {
        match demux(&data[..cut]) {
            Ok(m) => assert_eq!(m.frames[..], full.frames[..m.frames.len()], "cut {cut}"),
            Err(e) => assert!(
                cut < 107 && matches!(e, DemuxError::Malformed { .. }),
                "{cut}: {e}"
            ),
        }
    }
}

#[test]
fn several_raw_data_blocks_are_refused() {
    let mut data = stream(2);
    data[107 + 6] |= 0x01; // second frame: 2 raw data blocks
    let e = demux(&data).expect_err("blocks");
    assert!(matches!(e, DemuxError::Unsupported { .. }));
    assert_eq!(e.to_string(), "t.aac: frame[1] at byte 107: unsupported: 2 raw data blocks in one ADTS frame (an MP4 sample holds one)");
}

#[test]
fn channel_configuration_0_is_refused() {
    let mut data = stream(2);
    for at in [0, 107] {
        data[at + 2] &= 0xfe;
        data[at + 3] &= 0x3f;
    }
    let e = demux(&data).expect_err("pce");
    assert!(matches!(e, DemuxError::Unsupported { .. }), "{e}");
    assert_eq!(e.location().map(|l| l.offset), Some(0));
}

#[test]
fn frame_count_is_limited() {
    let limits = Limits {
        max_samples: 3,
        ..Limits::default()
    };
    let e = demux_with(&stream(4), &limits).expect_err("limit");
    assert!(matches!(e, DemuxError::LimitExceeded { .. }));
    assert_eq!(
        e.location().map(|l| (l.path.as_str(), l.offset)),
        Some(("frame[3]", 324))
    );
    assert!(demux_with(&stream(3), &limits).is_ok());
}

#[test]
fn no_frames_is_an_error() {
    for data in [
        &b""[..],
        b"hello world",
        &[0xff, 0xf1, 0x4c, 0x80, 0x01, 0x00, 0x00],
    ] {
        let e = demux(data).expect_err("no frame");
        assert!(matches!(e, DemuxError::Malformed { .. }), "{e}");
        assert!(
            e.to_string()
                .starts_with("t.aac: ADTS at byte 0: no ADTS frame"),
            "{e}"
        );
    }
    assert!(!sniff(b"ID3") && !sniff(&[0xff, 0xf3, 0x4c, 0x80, 0x0f, 0xff, 0xfc]));
}

#[test]
fn id3v2_running_past_the_end_is_skipped_as_garbage() {
    let mut data = id3(5000, false);
    data.truncate(100);
    data.extend(stream(2));
    let m = demux(&data).expect("demux");
    assert!(m.tags.is_empty());
    assert_eq!(
        m.warnings,
        [AdtsWarning::Skipped {
            offset: 0,
            len: 100
        }]
    );
}

/// The messages documented in docs/ERRORS.md (`ADTS_PRINT=1 cargo test --lib
/// demux::adts::tests::messages -- --nocapture` prints them).
#[test]
fn messages() {
    let print = std::env::var("ADTS_PRINT").is_ok();
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut d = stream(3);
    d.extend(frame_of(&asc(4, 2), 80, false));
    cases.push(("config change", d));
    let mut d = stream(2);
    d[107 + 6] |= 0x01;
    cases.push(("2 blocks", d));
    let mut d = stream(1);
    d[2] &= 0xfe;
    d[3] &= 0x3f;
    cases.push(("pce", d));
    cases.push(("garbage", b"not audio".to_vec()));
    let mut w = b"junk".to_vec();
    w.extend(stream(3));
    w.truncate(w.len() - 10);
    cases.push(("warnings", w));
    for (name, data) in cases {
        let r = demux(&data);
        let text = match &r {
            Ok(m) => m
                .warnings
                .iter()
                .map(|w| w.to_string())
                .collect::<Vec<_>>()
                .join(" / "),
            Err(e) => e.to_string(),
        };
        if print {
            println!("{name}: {text}");
        }
        assert!(text.contains("at byte"), "{name}: {text}");
    }
    let e = demux_with(
        &stream(4),
        &Limits {
            max_samples: 3,
            ..Limits::default()
        },
    )
    .expect_err("limit");
    if print {
        println!("limit: {e}");
    }
    let mut d = id3(0, false);
    d.extend(id3(0, false));
    d.extend(stream(1));
    let e = demux_with(
        &d,
        &Limits {
            max_sample_entries: 1,
            ..Limits::default()
        },
    )
    .expect_err("tags");
    assert!(matches!(e, DemuxError::LimitExceeded { .. }));
    if print {
        println!("tags: {e}");
    }
}

/// A source counting the bytes read from it.
#[derive(Debug)]
struct Counting {
    inner: MemSource,
    read: std::sync::atomic::AtomicU64,
}

impl Source for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        self.read
            .fetch_add(buf.len() as u64, std::sync::atomic::Ordering::Relaxed);
        self.inner.read_at(offset, buf)
    }
}

#[test]
fn damaged_stretches_are_read_once() {
    // 3 MiB of headers claiming 8191-byte frames, 7 bytes apart: every one is a candidate whose
    // frame ends where no header starts. Checking them must not re-read the window per candidate.
    let fake = [0xff, 0xf1, 0x4c, 0x83, 0xff, 0xff, 0xfc];
    let mut data: Vec<u8> = fake.iter().copied().cycle().take(3 << 20).collect();
    data.extend(stream(2));
    let src = Counting {
        inner: MemSource::new("t.aac", data.clone()),
        read: Default::default(),
    };
    let m = open(&src, &Limits::default()).expect("demux");
    assert_eq!(m.frames.len(), 2);
    assert_eq!(
        m.warnings,
        [AdtsWarning::Skipped {
            offset: 0,
            len: 3 << 20
        }]
    );
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    assert!(
        read < 2 * data.len() as u64,
        "read {read} bytes of {}",
        data.len()
    );
}

/// An ID3v2 tag as Apple's HLS packed audio carries it: a `PRIV` frame owned by
/// `com.apple.streaming.transportStreamTimestamp` with an 8-byte timestamp (RFC 8216 §3.4).
fn hls_tag(major: u8, pts: u64) -> Vec<u8> {
    let mut frame = tags::HLS_TIMESTAMP_OWNER.to_vec();
    frame.push(0);
    frame.extend(pts.to_be_bytes());
    let mut body = b"TXXX\x00\x00\x00\x02\x00\x00\x00x".to_vec();
    body.extend_from_slice(b"PRIV");
    body.extend((frame.len() as u32).to_be_bytes()); // < 128: syncsafe and plain agree
    body.extend([0, 0]);
    body.extend(frame);
    body.extend([0; 5]); // padding
    let mut t = vec![b'I', b'D', b'3', major, 0, 0, 0, 0, 0, body.len() as u8];
    t.extend(body);
    t
}

#[test]
fn hls_packed_audio_timestamps() {
    let mut data = hls_tag(4, 0x1_2345_6789);
    data.extend(stream(2));
    let second = data.len() as u64;
    data.extend(hls_tag(3, (1 << 40) | 900_000)); // upper bits are not part of it
    data.extend(stream(1));
    let m = demux(&data).expect("demux");
    let ts: Vec<Option<u64>> = m.tags.iter().map(|t| t.timestamp).collect();
    assert_eq!(ts, [Some(0x1_2345_6789), Some(900_000)]);
    assert_eq!(m.tags[1].offset, second);
    assert_eq!(m.frames.len(), 3);
    // Not looked into: version 2.2, an unsynchronised tag, a cut frame.
    assert_eq!(tags::hls_timestamp(&hls_tag(2, 5)), None);
    let mut t = hls_tag(4, 5);
    t[5] = 0x80;
    assert_eq!(tags::hls_timestamp(&t), None);
    let mut t = hls_tag(4, 5);
    t[9] -= 20;
    assert_eq!(tags::hls_timestamp(&t), None);
    // Every prefix and byte flip is handled without a panic.
    let t = hls_tag(4, 5);
    for i in 0..t.len() {
        let _ = tags::hls_timestamp(&t[..i]);
        for bit in 0..8 {
            let mut u = t.clone();
            u[i] ^= 1 << bit;
            let _ = tags::hls_timestamp(&u);
        }
    }
}

#[test]
fn clean_stream_is_read_once() {
    let data = stream(200).repeat(150); // about 4.5 MiB, 30,000 frames
    let src = Counting {
        inner: MemSource::new("t.aac", data.clone()),
        read: Default::default(),
    };
    let m = open(&src, &Limits::default()).expect("demux");
    assert_eq!(m.frames.len(), 30_000);
    assert!(m.warnings.is_empty());
    let read = src.read.load(std::sync::atomic::Ordering::Relaxed);
    // The trailer check reads the last bytes, each window move re-reads at most a header.
    assert!(
        read < data.len() as u64 + 4096,
        "read {read} bytes of {}",
        data.len()
    );
}
