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

/// Per PID (ffprobe's stream `id`, e.g. `0x100`): (pts, dts, size) of every packet, in order.
fn ffprobe_packets(path: &str) -> BTreeMap<u16, Vec<(i64, i64, u64)>> {
    let json = tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-show_entries",
            "stream=index,id:packet=stream_index,pts,dts,size",
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
    let mut out: BTreeMap<u16, Vec<(i64, i64, u64)>> = BTreeMap::new();
    for p in v["packets"].as_array().expect("packets") {
        let pid = pid_of[&p["stream_index"].as_i64().expect("stream_index")];
        let num = |k: &str| p[k].as_i64().unwrap_or_else(|| panic!("packet {k}: {p}"));
        let size: u64 = p["size"].as_str().expect("size").parse().expect("size");
        out.entry(pid)
            .or_default()
            .push((num("pts"), num("dts"), size));
    }
    out
}

/// `ffmpeg -map 0:K -c copy -f framehash -hash sha256`: the hash of every copied packet.
fn ffmpeg_hashes(path: &str, map: &str) -> Vec<String> {
    let text = tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path,
            "-map",
            map,
            "-c",
            "copy",
            "-f",
            "framehash",
            "-hash",
            "sha256",
            "-",
        ],
    );
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.split(',').nth(5).expect("hash field").trim().to_string())
        .collect()
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
        for (k, (au, &(pts, dts, size))) in aus.iter().zip(packets).enumerate() {
            let got = (
                au.pts.map(|t| t as i64),
                au.dts.or(au.pts).map(|t| t as i64),
                au.size,
            );
            assert_eq!(got, (Some(pts), Some(dts), size), "PID 0x{pid:x} AU {k}");
            assert_eq!(au.timeline_pts, Some(pts), "PID 0x{pid:x} AU {k}");
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
