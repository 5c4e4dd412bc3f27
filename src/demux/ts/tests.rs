//! Tests of the transport stream demuxer: a small stream built here (every field known) and the
//! ffmpeg fixtures in `fixtures/ts/` (made by `fixtures/make_ts.sh`).

use super::packet::{PACKET_SIZE, SYNC_BYTE};
use super::psi::{build_section, TABLE_PAT, TABLE_PMT};
use super::*;

pub(super) fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/ts")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Feeds `data` in chunks cut at `cuts` (sorted, inside the data); returns every event and the
/// first error.
pub(super) fn run_split(data: &[u8], cuts: &[usize]) -> (Vec<Event>, Result<(), TsError>) {
    super::demux_chunks("t.ts", data, cuts, &TsLimits::default())
}

pub(super) fn run(data: &[u8]) -> (Vec<Event>, Result<(), TsError>) {
    demux_all("t.ts", data, &TsLimits::default())
}

pub(super) fn aus(events: &[Event]) -> Vec<&AccessUnit> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AccessUnit(a) => Some(a),
            _ => None,
        })
        .collect()
}

pub(super) fn warnings(events: &[Event]) -> Vec<&TsWarning> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Warning(w) => Some(w),
            _ => None,
        })
        .collect()
}

pub(super) fn bytes_of(data: &[u8], au: &AccessUnit) -> Vec<u8> {
    let mut v = Vec::new();
    for r in &au.pieces {
        v.extend_from_slice(&data[r.start as usize..r.end as usize]);
    }
    v
}

/// A small transport stream writer for tests.
struct Mux {
    out: Vec<u8>,
    cc: Vec<u8>,
}

impl Mux {
    fn new() -> Self {
        Mux {
            out: Vec::new(),
            cc: vec![0; 8192],
        }
    }

    /// One packet; `adapt` is the adaptation field after its length byte (flags first).
    fn packet(&mut self, pid: u16, pusi: bool, adapt: Option<&[u8]>, payload: &[u8]) {
        let mut p = vec![SYNC_BYTE, ((pusi as u8) << 6) | (pid >> 8) as u8, pid as u8];
        let cc = self.cc[usize::from(pid)];
        self.cc[usize::from(pid)] = (cc + 1) & 0x0f;
        let af_room = 184 - payload.len();
        match (adapt, af_room) {
            (None, 0) => p.push(0x10 | cc),
            _ => {
                p.push(0x30 | cc);
                let a = adapt.unwrap_or(&[]);
                let len = af_room - 1;
                p.push(len as u8);
                if len > 0 {
                    let mut af = a.to_vec();
                    if af.is_empty() {
                        af.push(0);
                    }
                    af.resize(len, 0xff);
                    p.extend_from_slice(&af);
                }
            }
        }
        p.extend_from_slice(payload);
        assert_eq!(p.len(), PACKET_SIZE);
        self.out.extend_from_slice(&p);
    }

    fn section(&mut self, pid: u16, s: &[u8]) {
        let mut payload = vec![0u8];
        payload.extend_from_slice(s);
        payload.resize(184, 0xff);
        self.packet(pid, true, None, &payload);
    }

    fn tables(&mut self) {
        self.section(0, &build_section(TABLE_PAT, 1, 0, &[0, 1, 0xf0, 0x00]));
        let pmt = [
            0xe1, 0x00, 0xf0, 0x00, // PCR PID 0x100
            0x1b, 0xe1, 0x00, 0xf0, 0x00, // H.264 on 0x100
            0x0f, 0xe1, 0x01, 0xf0, 0x00, // AAC on 0x101
            0x06, 0xe1, 0x02, 0xf0, 0x00, // private data on 0x102
        ];
        self.section(0x1000, &build_section(TABLE_PMT, 1, 0, &pmt));
    }

    /// A PES split into packets; `bounded` writes PES_packet_length (audio), else 0 (video).
    fn pes(&mut self, pid: u16, pts: u64, dts: Option<u64>, data: &[u8], rai: bool, bounded: bool) {
        let sid = if bounded { 0xc0 } else { 0xe0 };
        let mut h = vec![0, 0, 1, sid, 0, 0, 0x80];
        let ts = |prefix: u8, t: u64| {
            [
                (prefix << 4) | (((t >> 30) as u8 & 0x07) << 1) | 1,
                (t >> 22) as u8,
                (((t >> 15) as u8) << 1) | 1,
                (t >> 7) as u8,
                ((t as u8) << 1) | 1,
            ]
        };
        match dts {
            Some(d) => {
                h.extend_from_slice(&[0xc0, 10]);
                h.extend_from_slice(&ts(3, pts));
                h.extend_from_slice(&ts(1, d));
            }
            None => {
                h.extend_from_slice(&[0x80, 5]);
                h.extend_from_slice(&ts(2, pts));
            }
        }
        if bounded {
            let len = (h.len() - 6 + data.len()) as u16;
            h[4..6].copy_from_slice(&len.to_be_bytes());
        }
        h.extend_from_slice(data);
        let mut first = true;
        let mut rest = &h[..];
        while !rest.is_empty() {
            let adapt: Option<&[u8]> = if first && rai { Some(&[0x40]) } else { None };
            let n = rest.len().min(if adapt.is_some() { 182 } else { 184 });
            self.packet(pid, first, adapt, &rest[..n]);
            rest = &rest[n..];
            first = false;
        }
    }
}

fn adts(total: usize, fill: u8) -> Vec<u8> {
    let len = total as u16;
    let mut f = vec![
        0xff,
        0xf1,
        (1 << 6) | (3 << 2), // AAC LC, 48 kHz, channel configuration 2
        (2 << 6) | (len >> 11) as u8,
        (len >> 3) as u8,
        (((len & 7) as u8) << 5) | 0x1f,
        0xfc,
    ];
    f.resize(total, fill);
    f
}

/// PAT, PMT, 5 video PES (one of 1000 bytes over 6 packets), 2 audio PES of 3 ADTS frames each.
fn synthetic() -> Vec<u8> {
    let mut m = Mux::new();
    m.tables();
    let sizes = [300usize, 50, 1000, 184, 7];
    for (k, &n) in sizes.iter().enumerate() {
        let dts = 1000 + 3600 * k as u64;
        let data: Vec<u8> = (0..n).map(|i| (i * 7 + k) as u8).collect();
        m.pes(0x100, dts + 3600, Some(dts), &data, k % 4 == 0, false);
        if k == 1 || k == 3 {
            let mut a = adts(20, 1);
            a.extend(adts(31, 2));
            a.extend(adts(400, 3));
            m.pes(0x101, dts, None, &a, false, true);
        }
        m.packet(0x102, true, None, &[0u8; 184]);
    }
    m.out
}

#[test]
fn synthetic_stream() {
    let data = synthetic();
    let (events, r) = run(&data);
    r.unwrap();
    let streams: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Stream {
                pid, stream_type, ..
            } => Some((*pid, *stream_type)),
            _ => None,
        })
        .collect();
    assert_eq!(
        streams,
        vec![(0x100, StreamType::H264), (0x101, StreamType::AacAdts)]
    );
    let w = warnings(&events);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(
        w[0].kind,
        WarningKind::UnsupportedStream { stream_type: 0x06 }
    );
    let all = aus(&events);
    let video: Vec<_> = all.iter().filter(|a| a.pid == 0x100).collect();
    let audio: Vec<_> = all.iter().filter(|a| a.pid == 0x101).collect();
    assert_eq!(video.len(), 5);
    assert_eq!(
        video.iter().map(|a| a.size).collect::<Vec<_>>(),
        vec![300, 50, 1000, 184, 7]
    );
    for (k, a) in video.iter().enumerate() {
        let expect: Vec<u8> = (0..a.size as usize).map(|i| (i * 7 + k) as u8).collect();
        assert_eq!(bytes_of(&data, a), expect, "video AU {k}");
        assert_eq!(a.dts, Some(1000 + 3600 * k as u64));
        assert_eq!(a.pts, Some(4600 + 3600 * k as u64));
        assert_eq!(a.timeline_dts, Some(1000 + 3600 * k as i64));
        assert_eq!(a.random_access, k % 4 == 0);
        assert!(!a.damaged);
        assert_eq!(
            a.size,
            a.pieces.iter().map(|r| r.end - r.start).sum::<u64>()
        );
    }
    // The 1000-byte AU spans 6 packets: 6 pieces, none adjacent.
    assert_eq!(video[2].pieces.len(), 6);
    assert_eq!(
        audio.iter().map(|a| a.size).collect::<Vec<_>>(),
        vec![20, 31, 400, 20, 31, 400]
    );
    // PTS: coded for the first frame of each PES, then + 1920 (1024 samples at 48 kHz).
    assert_eq!(
        audio.iter().map(|a| a.pts).collect::<Vec<_>>(),
        [4600, 6520, 8440, 11800, 13720, 15640].map(Some).to_vec()
    );
    assert_eq!(bytes_of(&data, audio[2]), adts(400, 3));
    assert!(audio.iter().all(|a| a.random_access && a.dts.is_none()));
    assert!(!events
        .iter()
        .any(|e| matches!(e, Event::Discontinuity { .. })));
}

#[test]
fn synthetic_split_at_every_byte() {
    let data = synthetic();
    let whole = run(&data);
    for cut in 0..=data.len() {
        let split = run_split(&data, &[cut]);
        assert_eq!(split, whole, "split at {cut}");
    }
    // And in chunks of every size up to two packets.
    for n in 1..=2 * PACKET_SIZE {
        let cuts: Vec<usize> = (n..data.len()).step_by(n).collect();
        assert_eq!(run_split(&data, &cuts), whole, "chunks of {n}");
    }
}

/// A deterministic pseudo-random sequence (64-bit LCG).
pub(super) fn lcg(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

#[test]
fn bad_crc_rejected() {
    let good = synthetic();
    // The PAT is the first packet: its section starts after the pointer field at byte 5.
    let mut bad = good.clone();
    bad[5 + 9] ^= 0x10;
    let (ev, r) = run(&bad);
    let w = warnings(&ev);
    assert!(
        matches!(&w[0].kind, WarningKind::BadSection { rule } if rule.contains("CRC_32")),
        "{w:?}"
    );
    assert_eq!(w[0].offset, 5);
    assert!(aus(&ev).is_empty());
    let e = r.unwrap_err();
    assert!(matches!(e, TsError::Malformed { .. }));
    assert_eq!(
        e.to_string(),
        "t.ts: PID 0x0000 at byte 0: no valid program association table (PAT)"
    );
    // A bad PMT CRC: no streams, a warning, an error.
    let mut bad = good.clone();
    bad[PACKET_SIZE + 5 + 14] ^= 0x01;
    let (ev, r) = run(&bad);
    assert!(matches!(
        &warnings(&ev)[0].kind,
        WarningKind::BadSection { rule } if rule.contains("does not match")
    ));
    assert!(aus(&ev).is_empty());
    assert!(r
        .unwrap_err()
        .to_string()
        .contains("no valid program map table"));
}

#[test]
fn unwrapper_crosses_the_wrap() {
    let mut u = Unwrapper::default();
    assert_eq!(u.unwrap(TS_MASK - 10), TS_MASK as i64 - 10);
    assert_eq!(u.unwrap(5), TS_MASK as i64 + 6);
    assert_eq!(u.unwrap(TS_MASK - 100), TS_MASK as i64 - 100); // a small step back
    assert_eq!(u.unwrap(3000), TS_MASK as i64 + 3001);
    let mut u = Unwrapper::default();
    assert_eq!(u.unwrap(100), 100);
    assert_eq!(u.unwrap(TS_MASK), -1);
}

#[test]
fn reconnect_jump_is_a_discontinuity() {
    // Two recordings back to back: the second restarts its timestamps.
    let data = fixture("plain.ts");
    let mut two = data.clone();
    two.extend_from_slice(&data);
    let (ev, r) = run(&two);
    r.unwrap();
    let jumps: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Discontinuity {
                pid,
                offset,
                before,
                after,
            } => Some((*pid, *offset, *before, *after)),
            _ => None,
        })
        .collect();
    assert_eq!(jumps.len(), 2, "{jumps:?}");
    for (pid, offset, before, after) in jumps {
        assert!(offset >= data.len() as u64, "PID {pid}: {offset}");
        assert!(after < before, "PID {pid}: {before} -> {after}");
    }
    // A jump forward of 5 s inside one stream.
    let mut m = Mux::new();
    m.tables();
    for k in 0..6u64 {
        let dts = 90_000 + 3600 * k + if k >= 3 { 450_000 } else { 0 };
        m.pes(0x100, dts, Some(dts), &[1, 2, 3], true, false);
    }
    let (ev, r) = run(&m.out);
    r.unwrap();
    let j: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, Event::Discontinuity { .. }))
        .collect();
    assert_eq!(
        j,
        vec![&Event::Discontinuity {
            pid: 0x100,
            offset: 5 * PACKET_SIZE as u64,
            before: 90_000 + 3600 * 3,
            after: 90_000 + 3600 * 3 + 450_000,
        }]
    );
}

#[test]
fn pes_size_limit() {
    let mut m = Mux::new();
    m.tables();
    m.pes(0x100, 0, None, &vec![0u8; 5000], true, false);
    let limits = TsLimits {
        max_pes_size: 4096,
        ..TsLimits::default()
    };
    let (_, r) = demux_all("t.ts", &m.out, &limits);
    let e = r.unwrap_err();
    assert!(matches!(e, TsError::LimitExceeded { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "t.ts: PID 0x0100 at byte {}: limit exceeded: PES packet larger than the limit of 4096 bytes",
            2 * PACKET_SIZE // where the PES starts
        )
    );
}

#[test]
fn pid_limit() {
    let mut m = Mux::new();
    m.section(0, &build_section(TABLE_PAT, 1, 0, &[0, 1, 0xf0, 0x00]));
    let mut pmt = vec![0xe1, 0x00, 0xf0, 0x00];
    for pid in 0x100u16..0x100 + 10 {
        pmt.extend_from_slice(&[0x1b, 0xe0 | (pid >> 8) as u8, pid as u8, 0xf0, 0]);
    }
    m.section(0x1000, &build_section(TABLE_PMT, 1, 0, &pmt));
    let limits = TsLimits {
        max_pids: 8,
        ..TsLimits::default()
    };
    let (_, r) = demux_all("t.ts", &m.out, &limits);
    assert_eq!(
        r.unwrap_err().to_string(),
        "t.ts: PID 0x0107 at byte 193: limit exceeded: more than 8 PIDs in the PAT and PMTs"
    );
}

#[test]
fn not_a_transport_stream() {
    let (ev, r) = run(&[0u8; 5000]);
    assert_eq!(warnings(&ev).len(), 1);
    assert!(r.unwrap_err().to_string().contains("no transport packets"));
    let (_, r) = run(&[]);
    assert!(r.is_err());
    let mut d = TsDemuxer::new("t.ts", TsLimits::default());
    d.push(0, &[0x47]).unwrap();
    let e = d.push(5, &[0x47]).unwrap_err();
    assert!(matches!(e, TsError::Unsupported { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "t.ts at byte 5: unsupported: chunk starts at byte 5, the stream is at byte 1: chunks must be contiguous"
    );
}

/// The messages of docs/ERRORS.md (`TS_PRINT=1 cargo test --lib demux::ts::tests::messages --
/// --nocapture` prints them): one input per warning kind and error, each checked to give it.
#[test]
fn messages() {
    let print = std::env::var("TS_PRINT").is_ok();
    let good = synthetic();
    let pk = PACKET_SIZE;
    let edit = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut d = good.clone();
        f(&mut d);
        d
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("1000 bytes of garbage after packet 5", {
            let mut d = good[..5 * pk].to_vec();
            d.extend((0..1000).map(|i| i as u8 | 1));
            d.extend_from_slice(&good[5 * pk..]);
            d
        }),
        (
            "stream cut 100 bytes into a packet",
            good[..good.len() - 88].to_vec(),
        ),
        (
            "packet 3 (video) dropped",
            edit(&|d| {
                d.drain(3 * pk..4 * pk);
            }),
        ),
        (
            "transport_error_indicator set on packet 3",
            edit(&|d| d[3 * pk + 1] |= 0x80),
        ),
        (
            "adaptation_field_control 00 on packet 3",
            edit(&|d| d[3 * pk + 3] &= 0xcf),
        ),
        (
            "adaptation_field_length 183 with payload on packet 2",
            edit(&|d| {
                d[2 * pk + 3] |= 0x30;
                d[2 * pk + 4] = 183;
            }),
        ),
        (
            "scrambling control 10 on packet 2",
            edit(&|d| d[2 * pk + 3] |= 0x80),
        ),
        ("PMT CRC byte flipped", edit(&|d| d[pk + 5 + 14] ^= 1)),
        (
            "PES start code 00 00 02",
            edit(&|d| d[2 * pk + 4 + 2 + 2] = 2),
        ),
        ("PTS_DTS_flags 01", edit(&|d| d[2 * pk + 4 + 2 + 7] = 0x40)),
        ("audio PES_packet_length 10 bytes too long", {
            let mut m = Mux::new();
            m.tables();
            let a = adts(20, 1);
            m.pes(0x101, 0, None, &a, false, true);
            let at = 4 + m.out.windows(4).position(|w| w == [0, 0, 1, 0xc0]).unwrap();
            let len = u16::from_be_bytes([m.out[at], m.out[at + 1]]) + 10;
            m.out[at..at + 2].copy_from_slice(&len.to_be_bytes());
            m.pes(0x101, 1920, None, &a, false, true);
            m.out
        }),
        ("audio PES_packet_length 10 bytes too short", {
            let mut m = Mux::new();
            m.tables();
            m.pes(0x101, 0, None, &adts(20, 1), false, true);
            let at = 4 + m.out.windows(4).position(|w| w == [0, 0, 1, 0xc0]).unwrap();
            let len = u16::from_be_bytes([m.out[at], m.out[at + 1]]) - 10;
            m.out[at..at + 2].copy_from_slice(&len.to_be_bytes());
            m.out
        }),
        ("video payload before the first PES start", {
            let mut m = Mux::new();
            m.tables();
            m.packet(0x100, false, None, &[0u8; 184]);
            m.pes(0x100, 0, None, &[1, 2, 3], true, false);
            m.out
        }),
        ("3 stray bytes before an ADTS frame", {
            let mut m = Mux::new();
            m.tables();
            let mut a = vec![1, 2, 3];
            a.extend(adts(20, 1));
            m.pes(0x101, 0, None, &a, false, true);
            m.out
        }),
        ("ADTS layer bits 01", {
            let mut m = Mux::new();
            m.tables();
            let mut a = adts(20, 1);
            a[1] |= 0x02;
            m.pes(0x101, 0, None, &a, false, true);
            m.out
        }),
        ("stream ends inside an ADTS frame", {
            let mut m = Mux::new();
            m.tables();
            let a = adts(400, 1);
            m.pes(0x101, 0, None, &a[..300], false, false);
            m.out
        }),
        ("zero bytes", Vec::new()),
        ("PAT CRC byte flipped", edit(&|d| d[5 + 9] ^= 0x10)),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for (what, data) in &cases {
        let (ev, r) = run(data);
        let mut lines = Vec::new();
        for w in warnings(&ev) {
            kinds.insert(
                format!("{:?}", w.kind)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
            lines.push(format!("warning: {w}"));
        }
        if let Err(e) = &r {
            let variant = match e {
                TsError::Malformed { .. } => "Malformed",
                TsError::Unsupported { .. } => "Unsupported",
                TsError::LimitExceeded { .. } => "LimitExceeded",
            };
            lines.push(format!("error {variant}: {e}"));
        }
        assert!(!lines.is_empty(), "{what}: nothing reported");
        if print {
            println!("{what}");
            for l in &lines {
                println!("    {l}");
            }
        }
    }
    // Every warning kind is produced by one of the inputs above.
    assert_eq!(kinds.len(), 15, "{kinds:?}");
}

#[test]
fn h265_and_a_pes_header_across_packets() {
    let mut m = Mux::new();
    m.section(0, &build_section(TABLE_PAT, 1, 0, &[0, 1, 0xf0, 0x00]));
    let pmt = [0xe1, 0x00, 0xf0, 0x00, 0x24, 0xe1, 0x00, 0xf0, 0x00];
    m.section(0x1000, &build_section(TABLE_PMT, 1, 0, &pmt));
    // A PES whose 19-byte header is split 8 + 11 over two packets (adaptation field stuffing).
    let mut pes = vec![0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10];
    pes.extend_from_slice(&[0x31, 0, 0x01, 0, 0x21]); // PTS 16
    pes.extend_from_slice(&[0x11, 0, 0x01, 0, 0x11]); // DTS 8
    pes.extend_from_slice(&[0, 0, 0, 1, 0x46, 0x01, 0x50]); // an HEVC AUD
    m.packet(0x100, true, None, &pes[..8]);
    m.packet(0x100, false, None, &pes[8..]);
    let (ev, r) = run(&m.out);
    r.unwrap();
    assert!(warnings(&ev).is_empty(), "{:?}", warnings(&ev));
    assert!(ev.contains(&Event::Stream {
        program: 1,
        pid: 0x100,
        stream_type: StreamType::H265
    }));
    let a = aus(&ev);
    assert_eq!(a.len(), 1);
    assert_eq!((a[0].pts, a[0].dts, a[0].size), (Some(16), Some(8), 7));
    assert_eq!(bytes_of(&m.out, a[0]), vec![0, 0, 0, 1, 0x46, 0x01, 0x50]);
    // Split at every byte: the same.
    let whole = run(&m.out);
    for cut in 0..=m.out.len() {
        assert_eq!(run_split(&m.out, &[cut]), whole, "split at {cut}");
    }
}

#[test]
fn pmt_version_change_adds_a_stream() {
    let mut m = Mux::new();
    let pat = build_section(TABLE_PAT, 1, 0, &[0, 1, 0xf0, 0x00]);
    let v0 = build_section(TABLE_PMT, 1, 0, &[0xe1, 0, 0xf0, 0, 0x1b, 0xe1, 0, 0xf0, 0]);
    let v1 = build_section(
        TABLE_PMT,
        1,
        1,
        &[
            0xe1, 0, 0xf0, 0, 0x1b, 0xe1, 0, 0xf0, 0, 0x0f, 0xe1, 1, 0xf0, 0,
        ],
    );
    m.section(0, &pat);
    m.section(0x1000, &v0);
    m.pes(0x100, 0, None, &[1], true, false);
    m.section(0, &pat);
    m.section(0x1000, &v0); // a repeat: skipped
    m.pes(0x100, 3600, None, &[2], true, false);
    m.section(0x1000, &v1);
    m.pes(0x101, 3600, None, &adts(9, 0), false, true);
    let (ev, r) = run(&m.out);
    r.unwrap();
    assert!(warnings(&ev).is_empty(), "{:?}", warnings(&ev));
    let streams: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Stream { pid, .. } => Some(*pid),
            _ => None,
        })
        .collect();
    assert_eq!(streams, vec![0x100, 0x101]);
    let sizes: Vec<_> = aus(&ev).iter().map(|a| (a.pid, a.size)).collect();
    // The video PES still open when v1 arrives is not cut by it.
    assert_eq!(sizes, vec![(0x100, 1), (0x101, 9), (0x100, 1)]);
}
