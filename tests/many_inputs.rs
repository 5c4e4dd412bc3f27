//! Many inputs under a low open-file limit: seam keeps a bounded pool of open inputs and reopens
//! them on demand, checking each reopened file is the one whose metadata was read.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use common::*;
use seam::model::TrackKind;
use seam::source::{FilePool, FileSource};

/// `n` real copies of a fixture in `dir`.
fn copies(dir: &Path, name: &str, n: usize) -> Vec<PathBuf> {
    (0..n)
        .map(|i| {
            let p = dir.join(format!("f{i:04}.mp4"));
            std::fs::copy(fixture(name), &p).expect("copy fixture");
            p
        })
        .collect()
}

/// 300 inputs with `ulimit -n 64`: more inputs than the process may open at once. The output has
/// every video sample of every input, bit-exact and in order.
#[test]
fn three_hundred_inputs_under_a_limit_of_64_open_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = copies(dir.path(), "a.mp4", 300);
    let out = dir.path().join("out.mp4");
    let o = Command::new("bash")
        .arg("-c")
        .arg(r#"ulimit -n 64 && exec "$@""#)
        .arg("bash")
        .arg(env!("CARGO_BIN_EXE_seam"))
        .args(["stitch", "-q", "-o"])
        .arg(&out)
        .args(&inputs)
        .output()
        .expect("run seam under bash");
    assert!(o.status.success(), "{}", describe(&o));

    let one = seam_sample_hashes(&fixture("a.mp4"), TrackKind::Video);
    let joined = seam_sample_hashes(&out, TrackKind::Video);
    assert_eq!(joined.len(), 300 * one.len(), "video samples");
    for (i, chunk) in joined.chunks(one.len()).enumerate() {
        assert!(chunk == one.as_slice(), "input {i}: video samples differ");
    }
    if have_ffmpeg() {
        let p = ffprobe(&out);
        let v = p.expect(Kind::Video, &"joined output");
        assert_eq!(v.packets.len(), 300 * one.len(), "ffprobe video packets");
    }
}

/// Opens, demuxes and plans `paths` with every file kept in `pool`.
fn plan_in(paths: &[PathBuf], pool: &Arc<FilePool>) -> seam::plan::StitchPlan {
    let medias: Vec<_> = paths
        .iter()
        .map(|p| {
            let src = FileSource::open_in(p, pool.clone()).expect("open");
            seam::probe_source(Arc::new(src), &seam::Limits::default()).expect("demux")
        })
        .collect();
    seam::plan(&medias).expect("plan")
}

fn write(plan: &seam::plan::StitchPlan) -> Result<Vec<u8>, seam::error::MuxError> {
    let layout = seam::mux::mp4::layout_progressive(plan, Default::default())?;
    let mut out = Vec::new();
    seam::mux::write_layout(plan, &layout, &mut out, &mut |_, _| {})?;
    Ok(out)
}

/// A pool of two files for five inputs: the output equals the one made with every file open, and
/// an input replaced after its metadata was read is refused on reopen with `InputChanged`, naming
/// it.
#[test]
fn reopened_inputs_are_checked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let paths = copies(dir.path(), "a.mp4", 5);
    let wide = write(&plan_in(&paths, &FilePool::new(64))).expect("write, all open");
    let pool = FilePool::new(2);
    let plan = plan_in(&paths, &pool);
    assert!(pool.open_now() <= 2);
    assert!(write(&plan).expect("write, pool of 2") == wide);

    // Same length, another inode: a file replaced by a rename (a recorder rewriting a segment).
    let tmp = dir.path().join("new.mp4");
    std::fs::copy(fixture("a.mp4"), &tmp).expect("copy");
    std::fs::rename(&tmp, &paths[1]).expect("rename");
    let src = &plan.inputs[1];
    assert!(src.check_unchanged().is_err());
    match write(&plan) {
        Err(seam::error::MuxError::InputChanged { path, what }) => {
            assert_eq!(path, paths[1]);
            assert!(what.contains("replaced"), "{what}");
        }
        other => panic!("expected InputChanged, got {:?}", other.map(|v| v.len())),
    }
}

/// Fragments of one recording keep one copy of their equal header bytes; unequal ones stay apart.
#[test]
fn equal_headers_are_shared_with_the_previous_input() {
    let limits = seam::Limits::default();
    let a = seam::probe(&fixture("a.mp4"), &limits).expect("a");
    let mut a2 = seam::probe(&fixture("a.mp4"), &limits).expect("a");
    let mut p = seam::probe(&fixture("portrait.mp4"), &limits).expect("portrait");
    seam::demux::share_headers(&mut a2, &a);
    seam::demux::share_headers(&mut p, &a);
    let entry = |m: &seam::model::Media, k: usize| m.tracks[k].sample_entries[0].raw.clone();
    for k in 0..a.tracks.len() {
        assert_eq!(
            entry(&a2, k).as_ptr(),
            entry(&a, k).as_ptr(),
            "track {k} entry"
        );
        assert_eq!(a2.tracks[k].hdlr.as_ptr(), a.tracks[k].hdlr.as_ptr());
    }
    assert_ne!(entry(&p, 0), entry(&a, 0), "portrait's video entry differs");
    assert_ne!(entry(&p, 0).as_ptr(), entry(&a, 0).as_ptr());
    // Sharing changes no value.
    let fresh = seam::probe(&fixture("a.mp4"), &limits).expect("a");
    for (x, y) in a2.tracks.iter().zip(&fresh.tracks) {
        assert_eq!(x.hdlr, y.hdlr);
        assert_eq!(x.media_header, y.media_header);
        assert_eq!(x.sample_entries[0].raw, y.sample_entries[0].raw);
        assert_eq!(
            format!("{:?}", x.sample_entries[0].codec),
            format!("{:?}", y.sample_entries[0].codec)
        );
    }
}

/// More inputs than `Limits::max_segments`: refused before any is parsed, naming the first one past
/// the limit.
#[test]
fn input_count_limit() {
    let data = std::fs::read(fixture("a.mp4")).expect("read fixture");
    let sources: Vec<Arc<dyn seam::source::Source>> = (0..3)
        .map(|i| {
            Arc::new(seam::source::MemSource::new(
                format!("m{i}.mp4"),
                data.clone(),
            )) as _
        })
        .collect();
    let options = seam::StitchOptions {
        limits: seam::Limits {
            max_segments: 2,
            ..Default::default()
        },
        ..Default::default()
    };
    match seam::stitch_sources(sources, &options) {
        Err(seam::Error::Plan(seam::error::PlanError::LimitExceeded { file, what })) => {
            assert_eq!(file, "m2.mp4");
            assert!(
                what.contains("3 inputs, more than the limit of 2"),
                "{what}"
            );
        }
        other => panic!("expected LimitExceeded, got {:?}", other.map(|r| r.1)),
    }
}
