//! The transport stream demuxer (`seam::demux::ts`) judged by ffmpeg on `fixtures/ts/plain.ts`:
//! the same access units per stream as `ffprobe -show_packets`, with the same PTS and DTS (90 kHz
//! ticks), and the bytes of each access unit's pieces hashing like the packets ffmpeg copies
//! (`-c copy -f framehash -hash sha256`: for video the PES payload, Annex B with its AUD; for AAC
//! the ADTS frame). Needs ffmpeg; fails without it under `SEAM_REQUIRE_FFMPEG=1`.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use seam::demux::ts::{demux_all, AccessUnit, Event, TsLimits};

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

/// One packet as ffprobe shows it: pts, dts, size, key frame flag.
type Probed = (i64, i64, u64, bool);

/// Per PID (ffprobe's stream `id`, e.g. `0x100`): every packet, in order.
fn ffprobe_packets(path: &str) -> BTreeMap<u16, Vec<Probed>> {
    let json = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=index,id:packet=stream_index,pts,dts,size,flags",
            "-of",
            "json",
            path,
        ],
    );
    let v: serde_json::Value = serde_json::from_str(&json).expect("ffprobe json");
    let mut pid_of = BTreeMap::new();
    for s in v["streams"].as_array().expect("streams") {
        let id = s["id"].as_str().expect("stream id");
        let pid = u16::from_str_radix(id.trim_start_matches("0x"), 16).expect("hex id");
        pid_of.insert(s["index"].as_i64().expect("index"), pid);
    }
    let mut out: BTreeMap<u16, Vec<Probed>> = BTreeMap::new();
    for p in v["packets"].as_array().expect("packets") {
        let pid = pid_of[&p["stream_index"].as_i64().expect("stream_index")];
        let num = |k: &str| p[k].as_i64().unwrap_or_else(|| panic!("packet {k}: {p}"));
        let size: u64 = p["size"].as_str().expect("size").parse().expect("size");
        let key = p["flags"].as_str().expect("flags").starts_with('K');
        out.entry(pid)
            .or_default()
            .push((num("pts"), num("dts"), size, key));
    }
    out
}

/// `ffmpeg -map 0:K -c copy -f framehash -hash sha256`: the hash of every copied packet.
fn ffmpeg_hashes(path: &str, map: &str) -> Vec<String> {
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

#[test]
fn plain_ts_matches_ffprobe_and_ffmpeg() {
    if !common::require_ffmpeg() {
        return;
    }
    let path = common::fixture("ts/plain.ts");
    let p = path.to_str().expect("utf-8 path");
    let data = std::fs::read(&path).expect("fixture");
    let (events, r) = demux_all("plain.ts", &data, &TsLimits::default());
    r.expect("demux");
    let mut ours: BTreeMap<u16, Vec<&AccessUnit>> = BTreeMap::new();
    for e in &events {
        match e {
            Event::AccessUnit(a) => ours.entry(a.pid).or_default().push(a),
            Event::Warning(w) => panic!("warning on a clean file: {w}"),
            Event::Discontinuity { .. } => panic!("jump on a clean file: {e:?}"),
            Event::Stream { .. } => {}
        }
    }
    let theirs = ffprobe_packets(p);
    assert_eq!(
        ours.keys().collect::<Vec<_>>(),
        theirs.keys().collect::<Vec<_>>(),
        "PIDs"
    );
    for (pid, packets) in &theirs {
        let aus = &ours[pid];
        assert_eq!(aus.len(), packets.len(), "PID 0x{pid:x}: access unit count");
        for (k, (au, &(pts, dts, size, key))) in aus.iter().zip(packets).enumerate() {
            let got = (
                au.pts.map(|t| t as i64),
                au.dts.or(au.pts).map(|t| t as i64),
                au.size,
            );
            assert_eq!(got, (Some(pts), Some(dts), size), "PID 0x{pid:x} AU {k}");
            assert_eq!(au.timeline_pts, Some(pts), "PID 0x{pid:x} AU {k}");
            // Video: the random_access_indicator is set exactly on ffmpeg's key frames.
            assert_eq!(au.random_access, key, "PID 0x{pid:x} AU {k}: random access");
        }
    }
    // Bytes: the concatenated pieces hash like ffmpeg's copied packet.
    for (map, pid) in [("0:v", 0x100u16), ("0:a", 0x101)] {
        let hashes = ffmpeg_hashes(p, map);
        let aus = &ours[&pid];
        assert_eq!(hashes.len(), aus.len(), "{map}: packet count");
        for (k, (au, h)) in aus.iter().zip(&hashes).enumerate() {
            let mut bytes = Vec::with_capacity(au.size as usize);
            for r in &au.pieces {
                bytes.extend_from_slice(&data[r.start as usize..r.end as usize]);
            }
            assert_eq!(&common::sha256_hex(&bytes), h, "{map} packet {k}");
        }
    }
}

/// `fixtures/ts/wrap.ts` crosses 2^33 ticks 0.4 s in. ffprobe reads its timestamps unwrapped to
/// start below zero (-35792 for the first video DTS); seam's program timeline continues upwards
/// from the coded value instead (2^33 - 35792), so the two differ by exactly 2^33 throughout.
#[test]
fn wrap_ts_timeline_matches_ffprobe() {
    if !common::require_ffmpeg() {
        return;
    }
    let path = common::fixture("ts/wrap.ts");
    let data = std::fs::read(&path).expect("fixture");
    let (events, r) = demux_all("wrap.ts", &data, &TsLimits::default());
    r.expect("demux");
    let theirs = ffprobe_packets(path.to_str().expect("utf-8 path"));
    let mut n = 0;
    for (pid, packets) in &theirs {
        let aus: Vec<&AccessUnit> = events
            .iter()
            .filter_map(|e| match e {
                Event::AccessUnit(a) if a.pid == *pid => Some(a),
                _ => None,
            })
            .collect();
        assert_eq!(aus.len(), packets.len(), "PID 0x{pid:x}");
        for (k, (au, &(pts, dts, _, _))) in aus.iter().zip(packets).enumerate() {
            let shift = 1i64 << 33;
            assert_eq!(au.timeline_pts, Some(pts + shift), "PID 0x{pid:x} AU {k}");
            assert_eq!(au.timeline_dts, Some(dts + shift), "PID 0x{pid:x} AU {k}");
            n += 1;
        }
    }
    assert!(n > 100);
}
