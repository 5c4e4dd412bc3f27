use super::*;
use crate::source::MemSource;

const FIXTURE: &[u8] = include_bytes!("../../../fixtures/flv/av.flv");

fn demux(data: &[u8]) -> Result<FlvMedia, DemuxError> {
    open(&MemSource::new("t.flv", data.to_vec()), &Limits::default())
}

/// The avcC and AudioSpecificConfig of the fixture.
fn configs() -> (Vec<u8>, Vec<u8>) {
    let m = demux(FIXTURE).expect("fixture");
    let v = m.video.expect("video").configs[0].raw.to_vec();
    let a = m.audio.expect("audio").configs[0].raw.to_vec();
    (v, a)
}

/// An FLV file from tags `(type, timestamp, data)`, with correct PreviousTagSizes.
fn flv(tags: &[(u8, u32, Vec<u8>)]) -> Vec<u8> {
    let mut out = b"FLV\x01\x05\x00\x00\x00\x09".to_vec();
    out.extend_from_slice(&0u32.to_be_bytes());
    for (ty, ts, data) in tags {
        out.push(*ty);
        out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
        out.extend_from_slice(&ts.to_be_bytes()[1..]);
        out.push((ts >> 24) as u8);
        out.extend_from_slice(&[0, 0, 0]);
        out.extend_from_slice(data);
        out.extend_from_slice(&(11 + data.len() as u32).to_be_bytes());
    }
    out
}

fn avc(frame_type: u8, packet_type: u8, cts: i32, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(frame_type << 4) | 7, packet_type];
    v.extend_from_slice(&cts.to_be_bytes()[1..]);
    v.extend_from_slice(payload);
    v
}

fn aac(packet_type: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![0xaf, packet_type];
    v.extend_from_slice(payload);
    v
}

#[test]
fn fixture_tracks_and_metadata() {
    assert!(sniff(FIXTURE) && !sniff(b"FLV\x02") && !sniff(b"FL"));
    let m = demux(FIXTURE).expect("fixture");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert!(m.header.has_audio && m.header.has_video);
    let v = m.video.as_ref().expect("video");
    let a = m.audio.as_ref().expect("audio");
    assert_eq!(v.configs.len(), 1);
    assert_eq!(v.configs[0].parsed.length_size, 4);
    assert_eq!(a.configs[0].parsed.sampling_frequency, 44100);
    assert_eq!(v.samples.len(), 50);
    assert!(v.samples[0].keyframe && !v.samples[1].keyframe);
    assert!(v.samples.iter().any(|s| s.cts_offset > 0));
    let width = m.metadata.iter().find(|(k, _)| k == "width");
    assert_eq!(width.and_then(|(_, v)| v.as_f64()), Some(320.0));
    assert_eq!(m.end, FIXTURE.len() as u64);
    for s in v.samples.iter().chain(&a.samples) {
        assert!(s.end() <= FIXTURE.len() as u64);
    }
}

#[test]
fn extended_timestamp_negative_cts_and_config_changes() {
    let (vc, ac) = configs();
    let mut vc2 = vc.clone();
    vc2[3] ^= 1; // another level: a distinct configuration
    let f = flv(&[
        (9, 0, avc(1, 0, 0, &vc)),
        (8, 0, aac(0, &ac)),
        (9, 0x0123_4567, avc(1, 1, -40, &[0, 0, 0, 1, 0x65])),
        (8, 0xff00_0001, aac(1, &[1, 2, 3])),
        (9, 0x0123_4568, avc(1, 0, 0, &vc)), // same as before: no new config
        (9, 0x0123_4569, avc(2, 1, 0x7f_ffff, &[0, 0, 0, 1, 0x41])),
        (9, 5, avc(1, 0, 0, &vc2)),
        (9, 6, avc(1, 1, 0, &[0, 0, 0, 1, 0x65])),
        (9, 7, avc(1, 2, 0, &[])), // end of sequence: no sample
    ]);
    let m = demux(&f).expect("demux");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    let v = m.video.expect("video");
    assert_eq!(v.configs.len(), 2);
    assert_eq!(v.samples.len(), 3);
    assert_eq!(v.samples[0].dts, 0x0123_4567);
    assert_eq!(v.samples[0].cts_offset, -40);
    assert_eq!(v.samples[0].pts(), 0x0123_4567 - 40);
    assert!(v.samples[0].keyframe);
    assert_eq!(v.samples[1].cts_offset, 0x7f_ffff);
    assert!(!v.samples[1].keyframe);
    assert_eq!((v.samples[1].config, v.samples[2].config), (0, 1));
    let s = v.samples[0];
    assert_eq!(&f[s.offset as usize..s.end() as usize], &[0, 0, 0, 1, 0x65]);
    let a = m.audio.expect("audio");
    assert_eq!(a.samples[0].dts, 0xff00_0001);
    let s = a.samples[0];
    assert_eq!(&f[s.offset as usize..s.end() as usize], &[1, 2, 3]);
}

#[test]
fn truncated_last_tag_is_dropped_with_a_warning() {
    let n = FIXTURE.len();
    let full = demux(FIXTURE).expect("fixture");
    let full_v = full.video.as_ref().expect("video").samples.len();
    let full_a = full.audio.as_ref().expect("audio").samples.len();
    // Cut inside the last tag's data, inside its header, and inside the final PreviousTagSize.
    for cut in [n - 10, n - 4 - 10, n - 2] {
        let m = demux(&FIXTURE[..cut]).expect("truncated");
        let got = m.video.as_ref().map_or(0, |t| t.samples.len())
            + m.audio.as_ref().map_or(0, |t| t.samples.len());
        assert!(
            got >= full_v + full_a - 1 && got <= full_v + full_a,
            "cut {cut}"
        );
        assert_eq!(m.warnings.len(), 1, "cut {cut}: {:?}", m.warnings);
        let w = m.warnings[0].to_string();
        assert!(
            w.contains("truncated") || w.contains("after the last tag"),
            "{w}"
        );
        for s in m.samples() {
            assert!(s.end() <= cut as u64);
        }
    }
    // Cut right after a complete tag (its PreviousTagSize missing): nothing lost, no warning.
    let last = full.end - 4;
    let m = demux(&FIXTURE[..last as usize]).expect("cut");
    assert!(m.warnings.is_empty());
    assert_eq!(m.tags, full.tags);
}

#[test]
fn warnings_for_bad_previous_tag_size_unknown_tags_and_early_frames() {
    let (vc, _) = configs();
    let mut f = flv(&[
        (9, 0, avc(1, 1, 0, &[0, 0, 0, 1, 0x65])),
        (7, 0, vec![1, 2, 3]),
        (9, 0, avc(1, 0, 0, &vc)),
        (
            18,
            0,
            vec![
                2, 0, 10, b'o', b'n', b'M', b'e', b't', b'a', b'D', b'a', b't', b'a', 99,
            ],
        ),
    ]);
    // The first tag's PreviousTagSize: 11 + 10 bytes, write 99.
    f[13 + 21..13 + 25].copy_from_slice(&99u32.to_be_bytes());
    let m = demux(&f).expect("demux");
    let w: Vec<String> = m.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 4, "{w:?}");
    assert!(w[0].contains("tag[0] video at byte 13: frame before any sequence header"));
    assert!(w[1].contains("PreviousTagSize at byte 34 is 99, expected 21"));
    assert!(w[2].contains("unknown TagType 7"));
    assert!(w[3].contains("unknown AMF0 type 99"), "{}", w[3]);
    assert!(m.video.expect("video").samples.is_empty());
}

#[test]
fn errors_name_the_tag_and_offset() {
    let (vc, _) = configs();
    let cases: Vec<(Vec<u8>, &str)> =
        vec![
        (b"FLV\x01\x05".to_vec(), "t.flv: FLV header at byte 0: file of 5 bytes"),
        (b"FLX\x01\x05\0\0\0\x09\0\0\0\0".to_vec(), "no FLV signature"),
        (b"FLV\x02\x05\0\0\0\x09\0\0\0\0".to_vec(), "unsupported: FLV version 2"),
        (b"FLV\x01\x05\0\0\0\x03\0\0\0\0".to_vec(), "DataOffset 3 outside"),
        (
            flv(&[(9, 0, vec![0x12, 0, 0, 0, 0])]),
            "t.flv: tag[0] video at byte 24: unsupported: video codec Sorenson H.263 (CodecID 2)",
        ),
        (
            flv(&[(8, 0, vec![0x2f, 0])]),
            "tag[0] audio at byte 24: unsupported: audio format MP3 (SoundFormat 2)",
        ),
        (
            flv(&[(9 | 0x20, 0, avc(1, 1, 0, &[1]))]),
            "tag[0] video at byte 13: unsupported: encrypted tag",
        ),
        (
            flv(&[(9, 0, avc(1, 0, 0, &vc[..8]))]),
            "tag[0] video AVC sequence header at byte 29: ",
        ),
        (flv(&[(9, 0, vec![0x17, 1, 0])]), "AVC video tag of 3 bytes"),
        (flv(&[(9, 0, avc(1, 7, 0, &[]))]), "AVCPacketType 7"),
        (flv(&[(8, 0, aac(0, &[0xf8]))]), "tag[0] audio AAC sequence header at byte 26"),
        (flv(&[(9, 0, vec![0x97, 1, 2, 3, 4])]), "enhanced FLV video"),
    ];
    for (data, want) in cases {
        let e = demux(&data).expect_err(want).to_string();
        assert!(e.contains(want), "{e}\nwanted: {want}");
        assert!(e.contains("at byte"), "{e}");
    }
}

#[test]
fn limits_are_checked_before_allocation() {
    let (vc, _) = configs();
    let mut tags = vec![(9u8, 0u32, avc(1, 0, 0, &vc))];
    for i in 0..5 {
        tags.push((9, i, avc(1, 1, 0, &[0, 0, 0, 1, 0x65])));
    }
    let f = flv(&tags);
    let limits = Limits {
        max_samples: 4,
        ..Limits::default()
    };
    let e = open(&MemSource::new("t.flv", f.clone()), &limits).expect_err("limit");
    assert!(matches!(e, DemuxError::LimitExceeded { .. }), "{e}");
    assert!(e.to_string().contains("tag[5] video at byte"), "{e}");
    let limits = Limits {
        max_box_size: 10,
        ..Limits::default()
    };
    let e = open(&MemSource::new("t.flv", f), &limits).expect_err("limit");
    assert!(e.to_string().contains("record read into memory"), "{e}");
}

#[test]
fn amf_values_and_depth() {
    // onMetaData, ECMA array { a: 1.5, b: true, c: "x", d: [null, undefined], e: { } , f: date }
    let mut d = vec![2, 0, 10];
    d.extend_from_slice(b"onMetaData");
    d.extend_from_slice(&[8, 0, 0, 0, 6]);
    let key = |d: &mut Vec<u8>, k: &str| {
        d.extend_from_slice(&(k.len() as u16).to_be_bytes());
        d.extend_from_slice(k.as_bytes());
    };
    key(&mut d, "a");
    d.push(0);
    d.extend_from_slice(&1.5f64.to_be_bytes());
    key(&mut d, "b");
    d.extend_from_slice(&[1, 1]);
    key(&mut d, "c");
    d.extend_from_slice(&[2, 0, 1, b'x']);
    key(&mut d, "d");
    d.extend_from_slice(&[10, 0, 0, 0, 2, 5, 6]);
    key(&mut d, "e");
    d.extend_from_slice(&[3, 0, 0, 9]);
    key(&mut d, "f");
    d.push(11);
    d.extend_from_slice(&0f64.to_be_bytes());
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&[0, 0, 9]);
    let m = demux(&flv(&[(18, 0, d)])).expect("demux");
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    assert_eq!(
        m.metadata,
        vec![
            ("a".into(), AmfValue::Number(1.5)),
            ("b".into(), AmfValue::Boolean(true)),
            ("c".into(), AmfValue::String("x".into())),
            (
                "d".into(),
                AmfValue::StrictArray(vec![AmfValue::Null, AmfValue::Undefined])
            ),
            ("e".into(), AmfValue::Object(vec![])),
            ("f".into(), AmfValue::Date(0.0, 0)),
        ]
    );
    // 40 nested objects: deeper than max_depth (32), ignored with a warning.
    let mut d = vec![2, 0, 10];
    d.extend_from_slice(b"onMetaData");
    for _ in 0..40 {
        d.extend_from_slice(&[3, 0, 1, b'k']);
    }
    let m = demux(&flv(&[(18, 0, d)])).expect("demux");
    assert!(m.warnings[0].to_string().contains("nested deeper than 32"));
    // A strict array claiming more values than bytes.
    let mut d = vec![2, 0, 10];
    d.extend_from_slice(b"onMetaData");
    d.extend_from_slice(&[10, 0xff, 0xff, 0xff, 0xff]);
    let m = demux(&flv(&[(18, 0, d)])).expect("demux");
    assert!(m.warnings[0].to_string().contains("strict array of"));
}

/// A source counting the bytes read from it.
#[derive(Debug)]
struct Counting {
    inner: MemSource,
    read: std::sync::atomic::AtomicU64,
    calls: std::sync::atomic::AtomicU64,
}

impl Source for Counting {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn len(&self) -> u64 {
        self.inner.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        self.read.fetch_add(buf.len() as u64, Relaxed);
        self.calls.fetch_add(1, Relaxed);
        self.inner.read_at(offset, buf)
    }
}

#[test]
fn reads_tag_headers_only() {
    use std::sync::atomic::Ordering::Relaxed;
    let src = Counting {
        inner: MemSource::new("t.flv", FIXTURE.to_vec()),
        read: 0.into(),
        calls: 0.into(),
    };
    let m = open(&src, &Limits::default()).expect("demux");
    // One read of at most 20 bytes per tag (and one for the end), plus the 9-byte header, the
    // sequence headers and the script tag read whole.
    let whole: u64 = m
        .video
        .iter()
        .map(|t| t.configs.iter().map(|c| c.raw.len() as u64).sum::<u64>())
        .chain(
            m.audio
                .iter()
                .map(|t| t.configs.iter().map(|c| c.raw.len() as u64).sum()),
        )
        .sum::<u64>()
        + u64::from(u32::from_be_bytes([
            0,
            FIXTURE[14],
            FIXTURE[15],
            FIXTURE[16],
        ])); // onMetaData
    let read = src.read.load(Relaxed);
    assert!(read <= 9 + 20 * (m.tags + 1) + whole, "read {read} bytes");
    let payload: u64 = m.samples().map(|s| u64::from(s.size)).sum();
    assert!(
        read * 10 < payload,
        "read {read} of {payload} payload bytes"
    );
    assert!(src.calls.load(Relaxed) <= 1 + (m.tags + 1) + 3);
}

/// ffmpeg's FLV muxer (remuxing a transport stream with `-c copy`) writes an empty AAC sequence
/// header before the real one: ignored with a warning, the real one configures the track.
#[test]
fn an_empty_sequence_header_is_ignored() {
    let f = flv(&[
        (8, 0, aac(0, &[])),
        (8, 0, aac(0, &[0x11, 0x90])),
        (8, 23, aac(1, &[0x21, 0x00, 0x49])),
    ]);
    let m = demux(&f).expect("demux");
    let w: Vec<String> = m.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("empty sequence header; ignored"), "{w:?}");
    let a = m.audio.as_ref().expect("audio");
    assert_eq!(a.configs.len(), 1);
    assert_eq!(a.samples.len(), 1);
}
