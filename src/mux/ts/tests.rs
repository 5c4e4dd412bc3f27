//! The writer end to end, read back by seam's own demuxer (`crate::demux::ts`).

use std::collections::BTreeMap;

use super::*;
use crate::codec::aac::AudioSpecificConfig;
use crate::demux::ts::packet::PacketHeader;
use crate::demux::ts::{demux_all, AccessUnit, Event, TsLimits};

const SPS: [u8; 4] = [0x67, 0x64, 0x00, 0x1f];
const PPS: [u8; 3] = [0x68, 0xeb, 0xe3];

/// An Annex B picture of `len` bytes after its start code: IDR (type 5) or non-IDR (type 1).
fn picture(key: bool, len: usize, seed: u8) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 1, if key { 0x65 } else { 0x41 }];
    // Bytes that never form a start code.
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed) | 0x10));
    v
}

fn template() -> AdtsTemplate {
    // AAC LC, 48 kHz, stereo.
    let asc = AudioSpecificConfig::parse(&[0x11, 0x90]).expect("ASC");
    AdtsTemplate::from_asc(&asc).expect("template")
}

fn adts(len: usize, seed: u8) -> Vec<u8> {
    let raw: Vec<u8> = (0..len).map(|i| (i as u8) ^ seed).collect();
    let mut out = Vec::new();
    template().write(&raw, &mut out).expect("frame");
    out
}

fn aus(events: &[Event]) -> BTreeMap<u16, Vec<&AccessUnit>> {
    let mut m: BTreeMap<u16, Vec<&AccessUnit>> = BTreeMap::new();
    for e in events {
        match e {
            Event::AccessUnit(a) => m.entry(a.pid).or_default().push(a),
            Event::Warning(w) => panic!("warning: {w}"),
            _ => {}
        }
    }
    m
}

fn bytes_of(data: &[u8], au: &AccessUnit) -> Vec<u8> {
    au.pieces
        .iter()
        .flat_map(|r| data[r.start as usize..r.end as usize].iter().copied())
        .collect()
}

/// Every packet's header, checking the continuity counter of each PID as ffmpeg does (+1 per
/// packet with payload, the same for packets without).
fn walk(data: &[u8]) -> Vec<PacketHeader> {
    assert_eq!(data.len() % PACKET_SIZE, 0);
    let mut last: BTreeMap<u16, u8> = BTreeMap::new();
    let mut out = Vec::new();
    for p in data.chunks_exact(PACKET_SIZE) {
        let h = PacketHeader::parse(p.try_into().expect("packet")).expect("header");
        if let Some(&l) = last.get(&h.pid) {
            let want = if h.has_payload { (l + 1) & 0x0f } else { l };
            assert_eq!(h.continuity_counter, want, "PID 0x{:x}", h.pid);
        }
        last.insert(h.pid, h.continuity_counter);
        out.push(h);
    }
    out
}

/// One access unit given to the writer: stream, PTS, DTS, key, payload.
type Unit = (usize, i64, i64, bool, Vec<u8>);

/// 25 fps video with a keyframe every 12 pictures and one B-frame delay, 48 kHz AAC frames
/// (1920 ticks), interleaved by DTS.
fn sample_stream(start: i64, pictures: i64) -> (Vec<u8>, Vec<Unit>) {
    sample_stream_with(start, pictures, TsMuxOptions::default())
}

fn sample_stream_with(start: i64, pictures: i64, opts: TsMuxOptions) -> (Vec<u8>, Vec<Unit>) {
    let streams = vec![
        TsStream::h264(vec![SPS.to_vec(), PPS.to_vec()]),
        TsStream::aac_adts(),
    ];
    let mut w = TsWriter::new(Vec::new(), streams, opts).expect("writer");
    let mut input = Vec::new();
    for k in 0..pictures {
        let dts = start + k * 3600;
        let key = k % 12 == 0;
        input.push((
            0,
            dts + 3600,
            dts,
            key,
            picture(key, 300 + (k as usize * 97) % 3000, k as u8),
        ));
    }
    let mut a = 0;
    while a * 1920 < pictures * 3600 {
        // A hole of one frame after frame 30.
        let t = start + a * 1920 + if a > 30 { 1920 } else { 0 };
        input.push((1, t, t, true, adts(200 + (a as usize * 13) % 400, a as u8)));
        a += 1;
    }
    input.sort_by_key(|x| (x.2, x.0));
    for (s, pts, dts, key, payload) in &input {
        w.write_access_unit(*s, *pts, *dts, *key, payload)
            .expect("write");
    }
    (w.finish().expect("finish"), input)
}

#[test]
fn demuxes_back_exactly() {
    demuxes_back(TsMuxOptions::default());
}

#[test]
fn bundled_audio_demuxes_back_exactly() {
    let opts = TsMuxOptions {
        audio_frames_per_pes: 4,
        ..TsMuxOptions::default()
    };
    let (data, input) = demuxes_back(opts);
    let audio = input.iter().filter(|x| x.0 == 1).count();
    let pes = walk(&data)
        .iter()
        .filter(|h| h.pid == 0x101 && h.payload_unit_start)
        .count();
    // Four frames a packet, the packet before the hole after frame 30 cut short.
    assert_eq!(
        pes,
        31usize.div_ceil(4) + (audio - 31).div_ceil(4),
        "{audio} frames"
    );
}

fn demuxes_back(opts: TsMuxOptions) -> (Vec<u8>, Vec<Unit>) {
    let (data, input) = sample_stream_with(126_000, 50, opts);
    let headers = walk(&data);
    let (events, r) = demux_all("mux.ts", &data, &TsLimits::default());
    r.expect("demux");
    let got = aus(&events);
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), [0x100, 0x101]);
    for (stream, pid) in [(0usize, 0x100u16), (1, 0x101)] {
        let want: Vec<_> = input.iter().filter(|x| x.0 == stream).collect();
        let have = &got[&pid];
        assert_eq!(have.len(), want.len(), "PID 0x{pid:x}");
        for (k, (au, (_, pts, dts, key, payload))) in have.iter().zip(want).enumerate() {
            assert_eq!(au.timeline_pts, Some(*pts), "{pid:x} {k}");
            assert_eq!(au.timeline_dts, Some(*dts), "{pid:x} {k}");
            assert_eq!(au.random_access, *key, "{pid:x} {k}");
            assert!(!au.damaged);
            // DTS coded only when it differs.
            assert_eq!(au.dts.is_some(), pts != dts);
            let bytes = bytes_of(&data, au);
            if stream == 0 {
                // An AUD first; keyframes get SPS and PPS after it.
                let mut expect = vec![0, 0, 0, 1, 0x09, 0xf0];
                if *key {
                    expect.extend_from_slice(&[0, 0, 0, 1]);
                    expect.extend_from_slice(&SPS);
                    expect.extend_from_slice(&[0, 0, 0, 1]);
                    expect.extend_from_slice(&PPS);
                }
                expect.extend_from_slice(payload);
                assert_eq!(bytes, expect, "{pid:x} {k}");
            } else {
                assert_eq!(&bytes, payload, "{pid:x} {k}");
            }
        }
    }
    // PCRs only on the video PID, non-decreasing, at most 40 ms apart, below every DTS sent
    // after them.
    let pcrs: Vec<u64> = headers.iter().filter_map(|h| h.pcr).collect();
    assert!(headers.iter().all(|h| h.pcr.is_none() || h.pid == 0x100));
    assert!(pcrs.len() >= 50);
    for w in pcrs.windows(2) {
        assert!(w[0] <= w[1]);
        assert!(w[1] - w[0] <= 3600 * 300, "{} ticks", (w[1] - w[0]) / 300);
    }
    assert_eq!(pcrs[0], (126_000 - 63_000) * 300);
    // The stream starts with the PAT and PMT.
    assert_eq!((headers[0].pid, headers[1].pid), (0, 0x1000));
    (data, input)
}

#[test]
fn tables_repeat() {
    let (data, _) = sample_stream(0, 100);
    let headers = walk(&data);
    // 4 s: tables at least every 100 ms and before each of the 9 keyframes.
    let pats = headers.iter().filter(|h| h.pid == 0).count();
    assert!(pats >= 40, "{pats} PATs");
    assert_eq!(
        pats,
        headers.iter().filter(|h| h.pid == 0x1000).count(),
        "a PMT after each PAT"
    );
    // A keyframe's PES is right after a PMT.
    for (i, h) in headers.iter().enumerate() {
        if h.pid == 0x100 && h.random_access {
            assert_eq!(headers[i - 1].pid, 0x1000, "packet {i}");
        }
    }
}

#[test]
fn timestamps_wrap() {
    // Start 1 s before 2^33: the coded times wrap, the demuxer's timeline does not.
    let start = (1i64 << 33) - 90_000;
    let (data, input) = sample_stream(start, 50);
    walk(&data);
    let (events, r) = demux_all("wrap.ts", &data, &TsLimits::default());
    r.expect("demux");
    let got = aus(&events);
    let video = &got[&0x100];
    let want: Vec<_> = input.iter().filter(|x| x.0 == 0).collect();
    assert!(video.iter().any(|a| a.pts.is_some_and(|p| p < 90_000)));
    for (au, x) in video.iter().zip(want) {
        assert_eq!(au.pts, Some(wrap33(x.1)));
        assert_eq!(au.timeline_dts, Some(x.2));
    }
}

#[test]
fn refusals_leave_the_writer_unchanged() {
    let streams = vec![TsStream::h264(Vec::new()), TsStream::aac_raw(template())];
    let mut w = TsWriter::new(Vec::new(), streams, TsMuxOptions::default()).expect("writer");
    w.write_access_unit(0, 3600, 0, true, &picture(true, 50, 0))
        .expect("first");
    let before = w.bytes_written();
    let err = |r: Result<(), TsMuxError>| r.expect_err("refused");
    assert!(matches!(
        err(w.write_access_unit(0, 3600, 0, false, &picture(false, 50, 1))),
        TsMuxError::NonMonotonicDts {
            previous: 0,
            dts: 0,
            ..
        }
    ));
    assert!(matches!(
        err(w.write_access_unit(0, 3000, 3600, false, &picture(false, 50, 1))),
        TsMuxError::PtsBeforeDts { .. }
    ));
    assert!(matches!(
        err(w.write_access_unit(2, 0, 0, false, &[1])),
        TsMuxError::UnknownStream {
            stream: 2,
            count: 2
        }
    ));
    // Length-prefixed video, an empty payload.
    assert!(matches!(
        err(w.write_access_unit(0, 7200, 3600, false, &[0, 0, 0, 2, 0x41, 0x9a])),
        TsMuxError::Payload {
            stream: 0,
            index: 1,
            ..
        }
    ));
    assert!(matches!(
        err(w.write_access_unit(1, 0, 0, true, &[])),
        TsMuxError::Payload { .. }
    ));
    assert!(matches!(
        err(w.write_access_unit(1, 0, 0, true, &vec![0; 9000])),
        TsMuxError::Payload { .. }
    ));
    assert!(matches!(
        err(w.write_access_unit(0, i64::MIN, i64::MIN, false, &picture(false, 5, 0))),
        TsMuxError::NonMonotonicDts { .. }
    ));
    assert_eq!(w.bytes_written(), before);
    // Raw AAC is framed with the template.
    w.write_access_unit(1, 0, 0, true, &[1, 2, 3])
        .expect("raw AAC");
    w.write_access_unit(0, 7200, 3600, false, &picture(false, 50, 1))
        .expect("after refusals");
    let data = w.finish().expect("finish");
    walk(&data);
    let (events, r) = demux_all("refusals.ts", &data, &TsLimits::default());
    r.expect("demux");
    let got = aus(&events);
    assert_eq!(got[&0x100].len(), 2);
    let audio = bytes_of(&data, got[&0x101][0]);
    assert_eq!(audio.len(), 10);
    assert_eq!(&audio[7..], &[1, 2, 3]);
}

#[test]
fn stream_and_option_checks() {
    let new = |s: Vec<TsStream>, o: TsMuxOptions| TsWriter::new(Vec::new(), s, o).map(|_| ());
    assert!(new(Vec::new(), TsMuxOptions::default()).is_err());
    assert!(new(
        vec![TsStream::h264(vec![vec![0x65]])],
        TsMuxOptions::default()
    )
    .is_err());
    assert!(new(
        vec![TsStream::h265(vec![SPS.to_vec()])],
        TsMuxOptions::default()
    )
    .is_err());
    let o = |f: fn(&mut TsMuxOptions)| {
        let mut o = TsMuxOptions::default();
        f(&mut o);
        o
    };
    let one = || vec![TsStream::aac_adts()];
    assert!(new(one(), o(|o| o.pmt_pid = 0x1fff)).is_err());
    assert!(new(one(), o(|o| o.first_pid = 0x1000)).is_err());
    assert!(new(one(), o(|o| o.first_pid = 5)).is_err());
    assert!(new(one(), o(|o| o.mux_delay = -1)).is_err());
    assert!(new(one(), o(|o| o.pcr_period = 0)).is_err());
    assert!(new(one(), o(|o| o.pcr_period = 9_001)).is_err());
    assert!(new(one(), o(|o| o.psi_period = 0)).is_err());
    assert!(new(one(), o(|o| o.audio_frames_per_pes = 0)).is_err());
    assert!(new(one(), o(|o| o.audio_frames_per_pes = 33)).is_err());
    assert!(new(vec![TsStream::aac_adts(); 33], TsMuxOptions::default()).is_err());
    assert!(new(vec![TsStream::aac_adts(); 32], TsMuxOptions::default()).is_ok());
}

#[test]
fn audio_only_and_empty() {
    // Without video the PCR rides on the audio PID.
    let mut w = TsWriter::new(
        Vec::new(),
        vec![TsStream::aac_adts()],
        TsMuxOptions::default(),
    )
    .expect("writer");
    for k in 0..10 {
        w.write_access_unit(0, k * 1920, k * 1920, true, &adts(100, 0))
            .expect("write");
    }
    let data = w.finish().expect("finish");
    let headers = walk(&data);
    assert_eq!(headers.iter().filter(|h| h.pcr.is_some()).count(), 10);
    // An empty writer still makes a valid stream: PAT and PMT.
    let w = TsWriter::new(
        Vec::new(),
        vec![TsStream::aac_adts()],
        TsMuxOptions::default(),
    )
    .expect("writer");
    let data = w.finish().expect("finish");
    assert_eq!(data.len(), 2 * PACKET_SIZE);
    let (events, r) = demux_all("empty.ts", &data, &TsLimits::default());
    r.expect("demux");
    assert!(matches!(
        events.as_slice(),
        [Event::Stream { pid: 0x100, .. }]
    ));
}

#[test]
fn slow_video_gets_pcrs_in_between() {
    // 10 fps video alone: 100 ms steps get PCR packets 20 ms apart; a 3 s pause does not.
    let mut w = TsWriter::new(
        Vec::new(),
        vec![TsStream::h264(Vec::new())],
        TsMuxOptions::default(),
    )
    .expect("writer");
    let mut dts = 126_000;
    for k in 0..20 {
        dts += if k == 10 { 270_000 } else { 9_000 };
        w.write_access_unit(0, dts, dts, k % 10 == 0, &picture(k % 10 == 0, 100, 0))
            .expect("write");
    }
    let data = w.finish().expect("finish");
    let pcrs: Vec<u64> = walk(&data).iter().filter_map(|h| h.pcr).collect();
    let steps: Vec<u64> = pcrs.windows(2).map(|w| (w[1] - w[0]) / 300).collect();
    assert_eq!(
        steps.iter().filter(|&&s| s == 270_000).count(),
        1,
        "the pause"
    );
    assert!(
        steps.iter().all(|&s| s <= 1_800 || s == 270_000),
        "{steps:?}"
    );
    // 18 steps of 100 ms, each cut into 5.
    assert_eq!(steps.len(), 18 * 5 + 1);
    let (events, r) = demux_all("slow.ts", &data, &TsLimits::default());
    r.expect("demux");
    assert_eq!(aus(&events)[&0x100].len(), 20);
}
