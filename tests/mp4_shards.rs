//! MP4 shards (`seam stitch --segment-duration N -o out.mp4` → `out_00000.mp4`, ...), judged
//! against the single MP4 output of the same inputs: every sample lands in exactly one shard with
//! its bytes, each shard starts with a keyframe, the shard durations add up exactly to the whole,
//! and (with ffmpeg) each shard decodes without a message.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{describe, fixture, seam, set_name, shared_dir};
use seam::model::TrackKind;

fn stitch(inputs: &[&str], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-q".into()];
    args.extend(extra.iter().map(Into::into));
    args.push("-o".into());
    args.push(out.into());
    args.extend(inputs.iter().map(|n| fixture(n).into_os_string()));
    seam(&args)
}

/// Every sample's bytes and sync flag.
type Samples = Vec<(Vec<u8>, bool)>;

/// Per track (kind): its samples; and the movie duration as a fraction.
fn samples(path: &Path) -> (Vec<(TrackKind, Samples)>, (u64, u32)) {
    let data = std::fs::read(path).expect("read");
    let m = seam::probe(path, &seam::Limits::default()).expect("probe");
    let tracks = m
        .tracks
        .iter()
        .map(|t| {
            let v = t
                .samples
                .iter()
                .map(|s| {
                    let at = s.offset as usize;
                    (data[at..at + s.size as usize].to_vec(), s.sync)
                })
                .collect();
            (t.kind, v)
        })
        .collect();
    (tracks, (m.movie_duration, m.movie_timescale))
}

fn shard_files(dir: &Path, stem: &str) -> Vec<PathBuf> {
    common::dir_entries(dir)
        .into_iter()
        .filter(|n| n.starts_with(&format!("{stem}_")) && n.ends_with(".mp4"))
        .map(|n| dir.join(n))
        .collect()
}

#[test]
fn shards_hold_every_sample_once_and_add_up_to_the_whole() {
    for (set, target) in [
        (&["a.mp4", "b.mp4", "c.mp4"][..], "1.5"),
        (&["a.mp4", "moov_last.mp4", "negcts.mp4"][..], "2"),
        (&["preroll_1.mp4", "preroll_2.mp4"][..], "1"),
        (&["four_track_1.mp4", "four_track_2.mp4"][..], "2.002"),
        (&["frag.mp4", "frag_noedts.mp4", "a.mp4"][..], "6"),
    ] {
        let name = set_name(set);
        let dir = shared_dir().join("shards").join(&name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        let whole = dir.join("whole.mp4");
        let o = stitch(set, &whole, &[]);
        assert!(o.status.success(), "{name}: {}", describe(&o));
        let out = dir.join("part.mp4");
        let o = stitch(set, &out, &["--segment-duration", target]);
        assert!(o.status.success(), "{name}: {}", describe(&o));
        assert!(
            !out.exists(),
            "{name}: the output name only names the shards"
        );
        let shards = shard_files(&dir, "part");
        assert!(!shards.is_empty(), "{name}");
        for (k, s) in shards.iter().enumerate() {
            assert_eq!(
                s.file_name().map(|n| n.to_string_lossy().into_owned()),
                Some(format!("part_{k:05}.mp4"))
            );
        }
        let (want, (dur, mts)) = samples(&whole);
        let mut got: Vec<Samples> = vec![Vec::new(); want.len()];
        let mut total = 0u128;
        for s in &shards {
            let (tracks, (d, ts)) = samples(s);
            // Movie durations add up exactly (shards keep the movie timescale).
            assert_eq!(ts, mts, "{name}: {}", s.display());
            total += u128::from(d);
            let video = tracks
                .iter()
                .find(|(k, _)| *k == TrackKind::Video)
                .expect("video in every shard");
            assert!(
                video.1.first().is_some_and(|x| x.1),
                "{}: starts with a keyframe",
                s.display()
            );
            // Tracks of a shard are the whole's, in order, minus those without samples there.
            let mut at = 0;
            for (kind, v) in tracks {
                while want[at].0 != kind || (got[at].len() == want[at].1.len()) {
                    at += 1;
                }
                got[at].extend(v);
                at += 1;
            }
        }
        assert_eq!(
            total,
            u128::from(dur),
            "{name}: shard durations add up to the whole"
        );
        for (i, ((kind, w), g)) in want.iter().zip(&got).enumerate() {
            assert_eq!(
                w.len(),
                g.len(),
                "{name}: track {i} ({kind:?}) sample count"
            );
            for (k, (a, b)) in w.iter().zip(g).enumerate() {
                assert!(a.0 == b.0, "{name}: track {i} sample {k} bytes differ");
                if *kind == TrackKind::Video {
                    assert_eq!(a.1, b.1, "{name}: track {i} sample {k} sync flag");
                }
            }
        }
        if common::require_ffmpeg() {
            for s in &shards {
                let o = Command::new("ffmpeg")
                    .args(["-nostdin", "-v", "error", "-i"])
                    .arg(s)
                    .args(["-f", "null", "-"])
                    .output()
                    .expect("run ffmpeg");
                assert!(
                    o.status.success() && o.stderr.is_empty(),
                    "{}: {}",
                    s.display(),
                    describe(&o)
                );
            }
        }
    }
}

#[test]
fn existing_shards_are_refused_without_overwrite_and_nothing_is_written() {
    let dir = shared_dir().join("shards_exist");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let out = dir.join("p.mp4");
    // The second shard exists.
    std::fs::write(dir.join("p_00001.mp4"), b"keep").expect("write");
    let set = ["a.mp4", "b.mp4", "c.mp4"];
    let o = stitch(&set, &out, &["--segment-duration", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert_eq!(common::dir_entries(&dir), vec!["p_00001.mp4".to_string()]);
    assert_eq!(
        std::fs::read(dir.join("p_00001.mp4")).expect("read"),
        b"keep"
    );
    let o = stitch(&set, &out, &["-y", "--segment-duration", "1"]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(shard_files(&dir, "p").len() >= 2);
    assert_ne!(
        std::fs::read(dir.join("p_00001.mp4")).expect("read"),
        b"keep"
    );
    // --fragmented does not combine with shards.
    let o = stitch(
        &set,
        &out,
        &["-y", "--fragmented", "--segment-duration", "1"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
}
