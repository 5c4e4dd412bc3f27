//! `--best-effort` salvages damaged inputs: a recording cut short by a crash (mdat truncated after a
//! moov-first header, or a fragmented file cut inside its last moof or mdat) fails without the
//! flag, and with it stitches what is complete, says what was dropped, and still decodes.

use std::path::{Path, PathBuf};
use std::process::Command;

fn seam() -> Command {
    Command::new(env!("CARGO_BIN_EXE_seam"))
}

/// A copy of `fixture` cut to `len` bytes.
fn truncated(dir: &Path, fixture: &str, len: usize, name: &str) -> PathBuf {
    let data = std::fs::read(Path::new("fixtures").join(fixture)).expect("fixture");
    let p = dir.join(name);
    std::fs::write(&p, &data[..len]).expect("write");
    p
}

/// Offsets of the top-level boxes of a file: (type, offset, size).
fn boxes(path: &Path) -> Vec<(String, usize, usize)> {
    let d = std::fs::read(path).expect("read");
    let mut out = Vec::new();
    let mut o = 0;
    while o + 8 <= d.len() {
        let size = u32::from_be_bytes([d[o], d[o + 1], d[o + 2], d[o + 3]]) as usize;
        let kind = String::from_utf8_lossy(&d[o + 4..o + 8]).into_owned();
        out.push((kind, o, size));
        if size < 8 {
            break;
        }
        o += size;
    }
    out
}

fn samples(path: &Path) -> Vec<usize> {
    let m = seam::probe(path, &seam::Limits::default()).expect("probe output");
    m.tracks.iter().map(|t| t.samples.len()).collect()
}

fn check(dir: &Path, damaged: &Path, expect_note: &str) {
    let out = dir.join("out.mp4");
    let strict = seam()
        .args(["stitch", "-y", "-o"])
        .arg(&out)
        .arg("fixtures/a.mp4")
        .arg(damaged)
        .output()
        .expect("run");
    assert_eq!(
        strict.status.code(),
        Some(1),
        "without --best-effort it must fail"
    );
    assert!(!out.exists());

    let o = seam()
        .args(["stitch", "--best-effort", "-y", "-o"])
        .arg(&out)
        .arg("fixtures/a.mp4")
        .arg(damaged)
        .output()
        .expect("run");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");
    assert!(
        err.contains(expect_note),
        "no note {expect_note:?} in:\n{err}"
    );
    // The salvaged input contributes a non-empty prefix of its samples.
    let a = samples(Path::new("fixtures/a.mp4"));
    let got = samples(&out);
    assert!(
        got[0] > a[0],
        "no video kept from the damaged input: {got:?}"
    );

    if let Ok(ff) = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&out)
        .args(["-f", "null", "-"])
        .output()
    {
        let e = String::from_utf8_lossy(&ff.stderr);
        assert!(e.trim().is_empty(), "ffmpeg: {e}");
    }
}

#[test]
fn truncated_mdat_after_moov_is_salvaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = boxes(Path::new("fixtures/b.mp4"));
    let (_, off, size) = b.iter().find(|x| x.0 == "mdat").cloned().expect("mdat");
    let p = truncated(dir.path(), "b.mp4", off + size * 2 / 3, "b_cut.mp4");
    check(dir.path(), &p, "past the end of the file");
}

#[test]
fn fragmented_cut_inside_last_moof_is_salvaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = boxes(Path::new("fixtures/frag.mp4"));
    let (_, off, _) = b
        .iter()
        .rev()
        .find(|x| x.0 == "moof")
        .cloned()
        .expect("moof");
    let p = truncated(dir.path(), "frag.mp4", off + 40, "frag_cut_moof.mp4");
    check(dir.path(), &p, "dropped the truncated 'moof'");
}

#[test]
fn fragmented_cut_inside_last_mdat_is_salvaged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let b = boxes(Path::new("fixtures/frag.mp4"));
    let (_, off, size) = b
        .iter()
        .rev()
        .find(|x| x.0 == "mdat")
        .cloned()
        .expect("mdat");
    let p = truncated(dir.path(), "frag.mp4", off + size / 2, "frag_cut_mdat.mp4");
    check(dir.path(), &p, "past the end of the file");
}
