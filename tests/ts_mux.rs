//! The transport stream muxer (`seam::mux::ts`) judged by seam's demuxer, by an independent
//! packet checker written here, and by ffmpeg.
//!
//! * TS → TS ([`seam::mux::ts::remux_ts`]) of `fixtures/ts/plain.ts`, `fixtures/ts/wrap.ts`
//!   (33-bit wrap 0.4 s in) and an H.265 stream made by ffmpeg: the same access units per
//!   stream with the same PTS, DTS, keyframe flag and bytes (SHA-256 per unit; ffmpeg's inputs
//!   already start each picture with an AUD, so nothing is inserted);
//! * every packet: sync byte, continuity counters per PID, PAT and PMT CRCs (bitwise CRC here,
//!   not the muxer's table), PCRs only on the PMT's PCR PID, at most 40 ms apart, never ahead
//!   of a DTS written after them;
//! * ffmpeg: decoding the output prints nothing, `ffprobe` lists the input's packets (PTS, DTS,
//!   size, key flag) with DTS increasing, and `-c copy -f framehash` hashes equal the input's;
//! * access units stripped of their AUD and parameter sets and AAC stripped of ADTS headers, muxed
//!   with the stream's parameter sets and ADTS template: the output decodes to the same pictures,
//!   every keyframe carries the parameter sets after an AUD, and the ADTS frames come back.
//!
//! The checks needing ffmpeg fail without it under `SEAM_REQUIRE_FFMPEG=1`, else are skipped.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use seam::codec::aac::AdtsHeader;
use seam::codec::framing::{
    adts_to_raw, asc_from_adts, avcc_from_parameter_sets, encode_hvcc, hvcc_from_parameter_sets,
    scan_annexb, NalCodec,
};
use seam::demux::ts::{demux_all, AccessUnit, Event, StreamType, TsLimits};
use seam::mux::ts::{remux_ts, TsMuxOptions, TsStream, TsWriter};

const PACKET: usize = 188;
/// 2^33 × 300: PCRs count 27 MHz modulo this.
const PCR_MODULO: u64 = (1 << 33) * 300;

// ---------------------------------------------------------------------------------------------
// An independent packet checker

/// CRC-32/MPEG-2, bit by bit (ISO/IEC 13818-1 Annex A).
fn crc_bitwise(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        for i in (0..8).rev() {
            let bit = (b >> i) & 1 == 1;
            let top = crc & 0x8000_0000 != 0;
            crc <<= 1;
            if bit != top {
                crc ^= 0x04c1_1db7;
            }
        }
    }
    crc
}

/// What [`check_packets`] counted.
#[derive(Debug, Default)]
struct Checked {
    packets: usize,
    pats: usize,
    pmts: usize,
    pcrs: usize,
    pes_starts: BTreeMap<u16, usize>,
}

/// Walks the 188-byte packets of `data` and asserts the rules in the module documentation.
fn check_packets(data: &[u8]) -> Checked {
    assert_eq!(data.len() % PACKET, 0, "whole packets");
    let mut out = Checked::default();
    let mut cc: BTreeMap<u16, u8> = BTreeMap::new();
    let mut pmt_pid = None;
    let mut pcr_pid = None;
    let mut last_pcr: Option<u64> = None;
    for (n, p) in data.chunks_exact(PACKET).enumerate() {
        out.packets += 1;
        assert_eq!(p[0], 0x47, "packet {n}: sync byte");
        assert_eq!(p[1] & 0x80, 0, "packet {n}: transport_error_indicator");
        let pusi = p[1] & 0x40 != 0;
        let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
        let afc = (p[3] >> 4) & 3;
        assert_ne!(afc, 0, "packet {n}: reserved adaptation_field_control");
        let has_payload = afc & 1 != 0;
        // Continuity (§2.4.3.3): +1 per packet with payload, repeated by packets without.
        let c = p[3] & 0x0f;
        if let Some(&last) = cc.get(&pid) {
            let want = if has_payload { (last + 1) & 0x0f } else { last };
            assert_eq!(c, want, "packet {n}: PID 0x{pid:x} continuity_counter");
        }
        cc.insert(pid, c);
        let mut at = 4;
        if afc & 2 != 0 {
            let len = usize::from(p[4]);
            assert!(len <= if has_payload { 182 } else { 183 }, "packet {n}");
            if len > 0 && p[5] & 0x10 != 0 {
                assert_eq!(Some(pid), pcr_pid, "packet {n}: PCR off the PCR PID");
                let base = (u64::from(p[6]) << 25)
                    | (u64::from(p[7]) << 17)
                    | (u64::from(p[8]) << 9)
                    | (u64::from(p[9]) << 1)
                    | u64::from(p[10] >> 7);
                let pcr = base * 300 + ((u64::from(p[10] & 1) << 8) | u64::from(p[11]));
                if let Some(l) = last_pcr {
                    let step = (pcr + PCR_MODULO - l) % PCR_MODULO;
                    assert!(
                        step <= 40 * 27_000,
                        "packet {n}: PCR step {} ms",
                        step / 27_000
                    );
                }
                last_pcr = Some(pcr);
                out.pcrs += 1;
            }
            at = 5 + len;
        }
        let payload = &p[at..];
        if !has_payload || !pusi {
            continue;
        }
        if pid == 0 || Some(pid) == pmt_pid {
            // pointer_field, then one section (§2.4.4.1).
            let s = &payload[1 + usize::from(payload[0])..];
            let len = usize::from(s[1] & 0x0f) << 8 | usize::from(s[2]);
            let section = &s[..3 + len];
            assert_eq!(
                crc_bitwise(section),
                0,
                "packet {n}: CRC_32 of PID 0x{pid:x}"
            );
            if pid == 0 {
                assert_eq!(section[0], 0, "PAT table_id");
                out.pats += 1;
                pmt_pid = Some((u16::from(section[10] & 0x1f) << 8) | u16::from(section[11]));
            } else {
                assert_eq!(section[0], 2, "PMT table_id");
                out.pmts += 1;
                pcr_pid = Some((u16::from(section[8] & 0x1f) << 8) | u16::from(section[9]));
            }
            continue;
        }
        // A PES start: its DTS (or PTS) must not be before the last PCR.
        assert_eq!(&payload[..3], &[0, 0, 1], "packet {n}: PES start code");
        assert!(
            pmt_pid.is_some() && pcr_pid.is_some(),
            "packet {n}: PES before the tables"
        );
        let flags = payload[7] >> 6;
        let field = if flags == 3 {
            &payload[14..19]
        } else {
            &payload[9..14]
        };
        let t = (u64::from(field[0] >> 1 & 7) << 30)
            | (u64::from(field[1]) << 22)
            | (u64::from(field[2] >> 1) << 15)
            | (u64::from(field[3]) << 7)
            | u64::from(field[4] >> 1);
        let pcr = last_pcr.expect("a PCR before the first PES");
        let ahead = (t * 300 + PCR_MODULO - pcr) % PCR_MODULO;
        assert!(
            ahead <= 2 * 27_000_000,
            "packet {n}: DTS {t} behind PCR {pcr}"
        );
        *out.pes_starts.entry(pid).or_default() += 1;
    }
    assert!(out.pats > 0 && out.pmts == out.pats, "{out:?}");
    out
}

// ---------------------------------------------------------------------------------------------
// Inputs

/// The access units of a transport stream, per PID in PID order.
fn access_units(name: &str, data: &[u8]) -> Vec<(u16, StreamType, Vec<AccessUnit>)> {
    let (events, r) = demux_all(name, data, &TsLimits::default());
    r.unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut m: BTreeMap<u16, (StreamType, Vec<AccessUnit>)> = BTreeMap::new();
    for e in events {
        match e {
            Event::Stream {
                pid, stream_type, ..
            } => {
                m.entry(pid).or_insert((stream_type, Vec::new()));
            }
            Event::AccessUnit(a) => m
                .entry(a.pid)
                .or_insert((a.stream_type, Vec::new()))
                .1
                .push(a),
            Event::Warning(w) => panic!("{name}: {w}"),
            Event::Discontinuity { .. } => panic!("{name}: {e:?}"),
        }
    }
    m.into_iter().map(|(p, (t, a))| (p, t, a)).collect()
}

fn bytes(data: &[u8], au: &AccessUnit) -> Vec<u8> {
    let mut v = Vec::with_capacity(au.size as usize);
    for r in &au.pieces {
        v.extend_from_slice(&data[r.start as usize..r.end as usize]);
    }
    v
}

/// An H.265 + AAC transport stream made by ffmpeg (2 s, 2 B-frames, GOP 12), in `dir`.
fn make_hevc(dir: &Path) -> PathBuf {
    let out = dir.join("hevc.ts");
    let o = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=s=320x240:r=25:d=2")
        .args(["-f", "lavfi", "-i", "sine=d=2:sample_rate=48000"])
        .args(["-c:v", "libx265", "-preset", "ultrafast", "-x265-params"])
        .arg("bframes=2:keyint=12:min-keyint=12:log-level=error")
        .args(["-c:a", "aac", "-b:a", "64k", "-f", "mpegts"])
        .arg(&out)
        .output()
        .expect("cannot run ffmpeg");
    assert!(o.status.success(), "{}", common::describe(&o));
    out
}

/// The fixtures, plus the H.265 stream when ffmpeg can make it.
fn inputs(dir: &Path, with_hevc: bool) -> Vec<PathBuf> {
    let mut v = vec![
        common::fixture("ts/plain.ts"),
        common::fixture("ts/wrap.ts"),
    ];
    if with_hevc {
        v.push(make_hevc(dir));
    }
    v
}

fn name(p: &Path) -> String {
    p.file_name()
        .expect("file name")
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// TS → TS

/// The options the round trips run with: the defaults, and AAC frames bundled by 8.
fn option_sets() -> [TsMuxOptions; 2] {
    [
        TsMuxOptions::default(),
        TsMuxOptions {
            audio_frames_per_pes: 8,
            ..TsMuxOptions::default()
        },
    ]
}

/// Remuxes `input` and checks the output against it by seam's demuxer and the packet checker.
fn roundtrip(input: &Path, opts: &TsMuxOptions) -> Vec<u8> {
    let n = name(input);
    let data = std::fs::read(input).expect("input");
    let (out, report) =
        remux_ts(&n, &data, Vec::new(), opts.clone()).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        report.warnings.is_empty() && report.damaged == 0 && report.skipped.is_empty(),
        "{n}: {report:?}"
    );
    let checked = check_packets(&out);
    let before = access_units(&n, &data);
    let after = access_units("out.ts", &out);
    assert_eq!(before.len(), after.len(), "{n}: streams");
    for (i, ((pid, ty, a), (opid, oty, b))) in before.iter().zip(&after).enumerate() {
        // Stream i on PID 0x100 + i, as ffmpeg numbers them too.
        assert_eq!(*opid, 0x100 + i as u16, "{n}");
        assert_eq!(ty, oty, "{n}: PID 0x{pid:x} type");
        assert_eq!(a.len(), b.len(), "{n}: PID 0x{pid:x} access units");
        let pes = checked.pes_starts[opid];
        if *ty != StreamType::AacAdts || opts.audio_frames_per_pes == 1 {
            assert_eq!(pes, b.len(), "{n}: one PES per access unit");
        } else {
            // ffmpeg's 48 kHz frames are 1920 ticks apart: nearly all packets are full.
            assert!(
                pes * 8 <= b.len() + 8 * 8,
                "{n}: {pes} PES for {} frames",
                b.len()
            );
        }
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            let what = format!("{n}: PID 0x{pid:x} access unit {k}");
            assert_eq!((x.pts, x.dts.or(x.pts)), (y.pts, y.dts.or(y.pts)), "{what}");
            assert_eq!(
                (x.timeline_pts, x.timeline_dts),
                (y.timeline_pts, y.timeline_dts),
                "{what}"
            );
            assert_eq!(x.random_access, y.random_access, "{what}");
            assert_eq!(
                common::sha256_hex(&bytes(&data, x)),
                common::sha256_hex(&bytes(&out, y)),
                "{what}: bytes"
            );
        }
        assert_eq!(report.access_units[i], a.len() as u64, "{n}");
    }
    out
}

#[test]
fn fixtures_roundtrip() {
    for input in inputs(Path::new("."), false) {
        for opts in option_sets() {
            roundtrip(&input, &opts);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ffmpeg's view

fn tool(cmd: &str, args: &[&str]) -> String {
    let o = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        o.status.success(),
        "{cmd} {args:?}: {}",
        common::describe(&o)
    );
    String::from_utf8(o.stdout).expect("utf-8 output")
}

/// Per stream index: (pts, dts, size, key) of every packet, from `ffprobe -show_packets`.
fn ffprobe_packets(path: &str) -> BTreeMap<i64, Vec<(i64, i64, u64, bool)>> {
    let json = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "packet=stream_index,pts,dts,size,flags",
            "-of",
            "json",
            path,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("ffprobe json");
    let mut out: BTreeMap<i64, Vec<_>> = BTreeMap::new();
    for p in v["packets"].as_array().expect("packets") {
        let num = |k: &str| p[k].as_i64().unwrap_or_else(|| panic!("packet {k}: {p}"));
        let size: u64 = p["size"].as_str().expect("size").parse().expect("size");
        let key = p["flags"].as_str().expect("flags").starts_with('K');
        out.entry(num("stream_index"))
            .or_default()
            .push((num("pts"), num("dts"), size, key));
    }
    out
}

/// `ffmpeg -map M -c copy -f framehash -hash sha256`, hashes only.
fn framehash(path: &str, map: &str) -> Vec<String> {
    common::frame_hashes(
        std::path::Path::new(path),
        &[
            "-map",
            map,
            "-c",
            "copy",
            "-f",
            "framehash",
            "-hash",
            "sha256",
        ],
    )
}

/// `ffmpeg -map M -f framemd5`: the md5 of every decoded frame.
fn decoded_md5(path: &str, map: &str) -> Vec<String> {
    let text = tool(
        "ffmpeg",
        &[
            "-v", "error", "-i", path, "-map", map, "-f", "framemd5", "-",
        ],
    );
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit(',').next().expect("md5 field").trim().to_string())
        .collect()
}

/// ffmpeg decodes `path` without a word, and reads `input`'s packets from it.
fn ffmpeg_agrees(input: &Path, path: &Path) {
    let n = name(input);
    let (ok, stderr) = common::decode_null(path);
    assert!(
        ok && stderr.is_empty(),
        "{n}: ffmpeg decoding the output said:\n{stderr}"
    );
    let (i, o) = (
        input.to_str().expect("utf-8 path"),
        path.to_str().expect("utf-8 path"),
    );
    let before = ffprobe_packets(i);
    let after = ffprobe_packets(o);
    assert_eq!(before, after, "{n}: ffprobe packets");
    for (s, packets) in &after {
        assert!(
            packets.windows(2).all(|w| w[0].1 < w[1].1),
            "{n}: stream {s}: DTS not increasing"
        );
    }
    for map in ["0:v", "0:a"] {
        assert_eq!(
            framehash(i, map),
            framehash(o, map),
            "{n}: {map} packet hashes"
        );
    }
}

#[test]
fn ffmpeg_reads_remuxed_streams() {
    if !common::require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for input in inputs(dir.path(), true) {
        for (k, opts) in option_sets().iter().enumerate() {
            let out = roundtrip(&input, opts);
            let path = dir.path().join(format!("out{k}_{}", name(&input)));
            std::fs::write(&path, &out).expect("write output");
            ffmpeg_agrees(&input, &path);
            eprintln!(
                "{}: {} bytes in, {} out (audio_frames_per_pes {})",
                name(&input),
                std::fs::metadata(&input).expect("input").len(),
                out.len(),
                opts.audio_frames_per_pes
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Bare access units: the muxer adds AUDs, parameter sets and ADTS headers

/// Parameter set and delimiter NAL unit types.
fn is_added(codec: NalCodec, t: u8) -> bool {
    match codec {
        NalCodec::H264 => (7..=9).contains(&t),
        NalCodec::H265 => matches!(t, 32..=35),
    }
}

/// Muxes `input`'s access units without their AUDs and parameter sets (video) and ADTS headers
/// (audio), giving the writer the stream's configuration as an MP4 sample entry holds it instead:
/// an `avcC`/`hvcC` record made of the first keyframe's parameter sets, the AudioSpecificConfig
/// of the first ADTS header.
fn mux_bare(input: &Path) -> Vec<u8> {
    let n = name(input);
    let data = std::fs::read(input).expect("input");
    let streams = access_units(&n, &data);
    let mut specs = Vec::new();
    let mut units = Vec::new(); // (dts, stream, pts, key, payload)
    for (i, (_, ty, aus)) in streams.iter().enumerate() {
        let codec = match ty {
            StreamType::H264 => Some(NalCodec::H264),
            StreamType::H265 => Some(NalCodec::H265),
            StreamType::AacAdts => None,
        };
        let mut sets = Vec::new();
        for (k, au) in aus.iter().enumerate() {
            let b = bytes(&data, au);
            let payload = match codec {
                Some(codec) => {
                    let layout = scan_annexb(&b).expect("Annex B");
                    let mut bare = Vec::new();
                    for u in &layout.units {
                        let nal = &b[u.range.clone()];
                        let t = codec.nal_type(u.header);
                        if is_added(codec, t) {
                            if k == 0 && t != 9 && t != 35 {
                                sets.push(nal.to_vec());
                            }
                        } else {
                            bare.extend_from_slice(&[0, 0, 1]);
                            bare.extend_from_slice(nal);
                        }
                    }
                    bare
                }
                None => {
                    let (_, raw) = adts_to_raw(&b).expect("ADTS");
                    raw.to_vec()
                }
            };
            let pts = au.timeline_pts.expect("pts");
            let dts = au.timeline_dts.expect("dts");
            units.push((dts, i, pts, au.random_access, payload));
        }
        // The stream's configuration as an MP4 sample entry would give it: avcC, hvcC or the
        // AudioSpecificConfig.
        let of = |t: u8| -> Vec<&[u8]> {
            let codec = codec.expect("video");
            sets.iter()
                .filter(|s| codec.nal_type(s[0]) == t)
                .map(Vec::as_slice)
                .collect()
        };
        specs.push(match ty {
            StreamType::H264 => {
                let c = avcc_from_parameter_sets(&of(7), &of(8), 4).expect("avcC");
                TsStream::from_avcc(&c.encode()).expect("from avcC")
            }
            StreamType::H265 => {
                let c = hvcc_from_parameter_sets(&of(32), &of(33), &of(34), 4).expect("hvcC");
                TsStream::from_hvcc(&encode_hvcc(&c)).expect("from hvcC")
            }
            StreamType::AacAdts => {
                let header = AdtsHeader::parse(&bytes(&data, &aus[0])).expect("ADTS");
                let asc = asc_from_adts(&header).expect("ASC");
                // The header the config maps to must give the encoder's frames back: checked
                // below, frame by frame.
                TsStream::from_asc(&asc.raw).expect("from ASC")
            }
        });
    }
    // Interleaved by DTS, as the writer's caller must.
    units.sort_by_key(|u| (u.0, u.1));
    let mut w = TsWriter::new(Vec::new(), specs, TsMuxOptions::default()).expect("writer");
    for (dts, s, pts, key, payload) in &units {
        w.write_access_unit(*s, *pts, *dts, *key, payload)
            .unwrap_or_else(|e| panic!("{n}: {e}"));
    }
    let out = w.finish().expect("finish");
    check_packets(&out);
    // Every picture starts with an AUD, every keyframe has its parameter sets next, and the
    // ADTS frames are the input's.
    let after = access_units("bare.ts", &out);
    for ((_, ty, a), (_, _, b)) in streams.iter().zip(&after) {
        assert_eq!(a.len(), b.len(), "{n}");
        for (k, (x, y)) in a.iter().zip(b).enumerate() {
            let (xb, yb) = (bytes(&data, x), bytes(&out, y));
            let types = |codec: NalCodec, b: &[u8]| -> Vec<u8> {
                let layout = scan_annexb(b).expect("Annex B");
                layout
                    .units
                    .iter()
                    .map(|u| codec.nal_type(u.header))
                    .collect()
            };
            match ty {
                StreamType::AacAdts => assert_eq!(xb, yb, "{n}: audio {k}"),
                StreamType::H264 => {
                    let t = types(NalCodec::H264, &yb);
                    let want: &[u8] = if y.random_access { &[9, 7, 8] } else { &[9] };
                    assert!(t.starts_with(want), "{n}: picture {k}: {t:?}");
                }
                StreamType::H265 => {
                    let t = types(NalCodec::H265, &yb);
                    let want: &[u8] = if y.random_access {
                        &[35, 32, 33, 34]
                    } else {
                        &[35]
                    };
                    assert!(t.starts_with(want), "{n}: picture {k}: {t:?}");
                }
            }
        }
    }
    out
}

#[test]
fn bare_units_get_delimiters_parameter_sets_and_adts() {
    for input in inputs(Path::new("."), false) {
        mux_bare(&input);
    }
}

#[test]
fn ffmpeg_decodes_bare_units_the_same() {
    if !common::require_ffmpeg() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    for input in inputs(dir.path(), true) {
        let out = mux_bare(&input);
        let path = dir.path().join(format!("bare_{}", name(&input)));
        std::fs::write(&path, &out).expect("write output");
        let (ok, stderr) = common::decode_null(&path);
        assert!(
            ok && stderr.is_empty(),
            "{}: ffmpeg said:\n{stderr}",
            name(&input)
        );
        let (i, o) = (
            input.to_str().expect("utf-8 path"),
            path.to_str().expect("utf-8 path"),
        );
        for map in ["0:v", "0:a"] {
            let (a, b) = (decoded_md5(i, map), decoded_md5(o, map));
            assert!(a.len() > 40, "{map}: {} frames", a.len());
            assert_eq!(a, b, "{}: {map} decoded frames", name(&input));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Damaged inputs

/// A small deterministic generator (xorshift64*), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `plain.ts` with bytes flipped, packets dropped or duplicated and runs cut out: the remux either
/// refuses it with an error or writes a stream that passes the packet checker and demuxes without
/// a warning, with every access unit the report counts. Damaged timestamps and payloads make
/// the writer refuse units, which the report lists.
#[test]
fn damaged_inputs_remux_cleanly_or_fail() {
    let data = std::fs::read(common::fixture("ts/plain.ts")).expect("fixture");
    let mut rng = Rng(0x5eed_7500);
    let (mut ok, mut refused, mut skipping) = (0, 0, 0);
    for round in 0..300 {
        let mut d = data.clone();
        for _ in 0..1 + rng.below(6) {
            match rng.below(4) {
                0 => {
                    let at = rng.below(d.len());
                    d[at] ^= 1 << rng.below(8);
                }
                1 => {
                    let p = rng.below(d.len() / PACKET) * PACKET;
                    d.drain(p..p + PACKET);
                }
                2 => {
                    let p = rng.below(d.len() / PACKET) * PACKET;
                    let copy = d[p..p + PACKET].to_vec();
                    d.splice(p..p, copy);
                }
                _ => {
                    let at = rng.below(d.len());
                    let end = (at + rng.below(3 * PACKET)).min(d.len());
                    d.drain(at..end);
                }
            }
        }
        match remux_ts("damaged.ts", &d, Vec::new(), TsMuxOptions::default()) {
            Ok((out, report)) => {
                ok += 1;
                check_packets(&out);
                let after = access_units("out.ts", &out);
                let counts: Vec<u64> = after.iter().map(|(_, _, a)| a.len() as u64).collect();
                assert_eq!(counts, report.access_units, "round {round}");
                if !report.skipped.is_empty() {
                    skipping += 1;
                }
            }
            Err(e) => {
                refused += 1;
                assert!(!e.to_string().is_empty(), "round {round}");
            }
        }
    }
    eprintln!("{ok} remuxed ({skipping} leaving units out), {refused} refused");
    assert!(ok > 250 && skipping > 0, "{ok} remuxed, {refused} refused");
}
