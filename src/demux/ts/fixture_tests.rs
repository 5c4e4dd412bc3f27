//! Tests of the transport stream demuxer on the ffmpeg fixtures in `fixtures/ts/` (made by
//! `fixtures/make_ts.sh`): split points, garbage, lost packets and bytes, M2TS, the PTS wrap.

use super::packet::{PACKET_SIZE, SYNC_BYTE};
use super::tests::{aus, bytes_of, fixture, lcg, run, run_split, warnings};
use super::*;

#[test]
fn fixture_split_at_random_points() {
    for name in ["plain.ts", "wrap.ts"] {
        let data = fixture(name);
        let whole = run(&data);
        whole.1.clone().unwrap();
        assert!(
            warnings(&whole.0).is_empty(),
            "{name}: {:?}",
            warnings(&whole.0)
        );
        let mut seed = 7u64;
        for _ in 0..150 {
            let cut = (lcg(&mut seed) as usize) % (data.len() + 1);
            assert_eq!(run_split(&data, &[cut]), whole, "{name}: split at {cut}");
        }
        for _ in 0..20 {
            let mut cuts = Vec::new();
            let mut at = 0usize;
            loop {
                at += 1 + (lcg(&mut seed) as usize) % 700;
                if at >= data.len() {
                    break;
                }
                cuts.push(at);
            }
            assert_eq!(
                run_split(&data, &cuts),
                whole,
                "{name}: {} chunks",
                cuts.len()
            );
        }
    }
}

#[test]
fn fixture_streams_and_counts() {
    let data = fixture("plain.ts");
    let (events, r) = run(&data);
    r.unwrap();
    let a = aus(&events);
    let video = a
        .iter()
        .filter(|a| a.stream_type == StreamType::H264)
        .count();
    let audio = a
        .iter()
        .filter(|a| a.stream_type == StreamType::AacAdts)
        .count();
    // ffprobe -show_packets: 50 video, 95 audio (tests/ts_ffprobe.rs compares every field).
    assert_eq!((video, audio), (50, 95));
    for au in &a {
        let b = bytes_of(&data, au);
        if au.stream_type == StreamType::H264 {
            // Annex B, starting with an access unit delimiter (nal_unit_type 9).
            assert_eq!(&b[..5], &[0, 0, 0, 1, 0x09], "AU at {}", au.offset);
        } else {
            assert_eq!(b[0], 0xff);
        }
    }
}

#[test]
fn resync_after_garbage() {
    let data = fixture("plain.ts");
    let (events, _) = run(&data);
    let at = 100 * PACKET_SIZE;
    for garbage_len in [1usize, 187, 188, 1000] {
        // Garbage with sync bytes in it, none repeating at the stride.
        let garbage: Vec<u8> = (0..garbage_len)
            .map(|i| if i % 50 == 3 { SYNC_BYTE } else { i as u8 })
            .collect();
        let mut bad = data[..at].to_vec();
        bad.extend_from_slice(&garbage);
        bad.extend_from_slice(&data[at..]);
        let (ev, r) = run(&bad);
        r.unwrap();
        let w = warnings(&ev);
        assert_eq!(
            w.iter().map(|w| (w.offset, &w.kind)).collect::<Vec<_>>(),
            vec![(
                at as u64,
                &WarningKind::SkippedBytes {
                    bytes: garbage_len as u64
                }
            )],
            "{garbage_len} bytes of garbage"
        );
        let (a, b) = (aus(&events), aus(&ev));
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(bytes_of(&data, x), bytes_of(&bad, y));
            assert_eq!(
                (x.pts, x.dts, x.random_access),
                (y.pts, y.dts, y.random_access)
            );
        }
        // The same events whatever the chunking.
        let mut seed = garbage_len as u64;
        for _ in 0..20 {
            let cut = (lcg(&mut seed) as usize) % bad.len();
            assert_eq!(run_split(&bad, &[cut]), (ev.clone(), Ok(())));
        }
    }
    // Garbage before the first packet, and at the end.
    let mut bad = vec![0x47u8, 1, 2, 3, 0x47];
    bad.extend_from_slice(&data);
    bad.extend_from_slice(&[0x47, 0, 0]);
    let (ev, r) = run(&bad);
    r.unwrap();
    let w = warnings(&ev);
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(
        (w[0].offset, &w[0].kind),
        (0, &WarningKind::SkippedBytes { bytes: 5 })
    );
    assert_eq!(
        (w[1].offset, &w[1].kind),
        (
            5 + data.len() as u64,
            &WarningKind::TruncatedPacket { bytes: 3 }
        )
    );
}

#[test]
fn m2ts_framing() {
    let data = fixture("plain.ts");
    let mut m2ts = Vec::new();
    for (k, p) in data.chunks(PACKET_SIZE).enumerate() {
        m2ts.extend_from_slice(&(k as u32 * 1000).to_be_bytes());
        m2ts.extend_from_slice(p);
    }
    let (a, _) = run(&data);
    let (b, r) = run(&m2ts);
    r.unwrap();
    assert!(warnings(&b).is_empty(), "{:?}", warnings(&b));
    let (a, b) = (aus(&a), aus(&b));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(bytes_of(&data, x), bytes_of(&m2ts, y));
    }
    let mut d = TsDemuxer::new("t.m2ts", TsLimits::default());
    d.push(0, &m2ts).unwrap();
    assert_eq!(d.framing(), Some(Framing::M2ts));
}

#[test]
fn continuity_error_reported() {
    let data = fixture("plain.ts");
    // Drop the 3rd packet of the video PID that is not a unit start.
    let video_pid = 0x100;
    let mut seen = 0;
    let mut drop_at = 0;
    for (k, p) in data.chunks(PACKET_SIZE).enumerate() {
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        if pid == video_pid && p[1] & 0x40 == 0 {
            seen += 1;
            if seen == 3 {
                drop_at = k * PACKET_SIZE;
                break;
            }
        }
    }
    let mut bad = data[..drop_at].to_vec();
    bad.extend_from_slice(&data[drop_at + PACKET_SIZE..]);
    let (ev, r) = run(&bad);
    r.unwrap();
    let w = warnings(&ev);
    assert_eq!(w.len(), 1, "{w:?}");
    assert_eq!(w[0].offset, drop_at as u64);
    assert_eq!(w[0].pid, Some(video_pid));
    assert!(matches!(w[0].kind, WarningKind::Continuity { .. }));
    let damaged: Vec<_> = aus(&ev).into_iter().filter(|a| a.damaged).collect();
    assert_eq!(damaged.len(), 1);
    assert_eq!(
        w[0].to_string(),
        format!(
            "PID 0x0100 at byte {drop_at}: continuity_counter {}, expected {}: packets lost",
            (bad[drop_at + 3] & 0x0f),
            (data[drop_at + 3] & 0x0f)
        )
    );
    // A duplicated packet is allowed (§2.4.3.3) and dropped.
    let mut dup = data[..drop_at + PACKET_SIZE].to_vec();
    dup.extend_from_slice(&data[drop_at..]);
    let (ev, r) = run(&dup);
    r.unwrap();
    assert!(warnings(&ev).is_empty());
    assert_eq!(aus(&ev).len(), aus(&run(&data).0).len());
}

#[test]
fn wrap_fixture_is_continuous() {
    let data = fixture("wrap.ts");
    let (ev, r) = run(&data);
    r.unwrap();
    assert!(!ev.iter().any(|e| matches!(e, Event::Discontinuity { .. })));
    for st in [StreamType::H264, StreamType::AacAdts] {
        let a: Vec<_> = aus(&ev)
            .into_iter()
            .filter(|a| a.stream_type == st)
            .collect();
        let d: Vec<i64> = a.iter().map(|a| a.timeline_dts.unwrap()).collect();
        assert!(d.windows(2).all(|w| w[0] < w[1]), "{st:?}: {d:?}");
        // It starts before 2^33 and ends after it; coded values wrapped.
        assert!(d[0] < 1 << 33 && *d.last().unwrap() > 1 << 33, "{st:?}");
        assert!(a.iter().any(|a| a.dts.or(a.pts).unwrap() < 1 << 20));
    }
}

#[test]
fn bytes_lost_inside_a_packet() {
    let data = fixture("plain.ts");
    let (events, _) = run(&data);
    // Packet 100 loses its last 100 bytes: it is dropped whole (not parsed with 100 bytes of the
    // next packet in it), reported as 88 bytes skipped; the PID's next packet is a CC error.
    let k = 100 * PACKET_SIZE;
    let mut bad = data[..k + 88].to_vec();
    bad.extend_from_slice(&data[k + PACKET_SIZE..]);
    let (ev, r) = run(&bad);
    r.unwrap();
    let w = warnings(&ev);
    assert_eq!(
        (w[0].offset, &w[0].kind),
        (k as u64, &WarningKind::SkippedBytes { bytes: 88 }),
        "{w:?}"
    );
    assert!(w[1..]
        .iter()
        .all(|w| matches!(w.kind, WarningKind::Continuity { .. })));
    // Every access unit is intact except the one that lost the packet, which is marked damaged.
    let (a, b) = (aus(&events), aus(&ev));
    assert_eq!(a.len(), b.len());
    let mut damaged = 0;
    for (x, y) in a.iter().zip(&b) {
        if y.damaged {
            damaged += 1;
            assert!(y.size < x.size && x.size - y.size <= 184);
        } else {
            assert_eq!(bytes_of(&data, x), bytes_of(&bad, y));
        }
    }
    assert_eq!(damaged, 1);
    // Garbage after a whole packet keeps that packet (tested in resync_after_garbage); and the
    // same events whatever the chunking.
    let mut seed = 3u64;
    for _ in 0..30 {
        let cut = (lcg(&mut seed) as usize) % bad.len();
        assert_eq!(run_split(&bad, &[cut]), (ev.clone(), Ok(())));
    }
}
