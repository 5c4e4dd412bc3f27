//! An output path that names a device or a FIFO is refused: seam writes a temporary file and
//! renames it onto the output, which would replace the special file with a regular one (a run with
//! `-o /dev/null` once did exactly that to the machine's /dev/null).

mod common;

use std::os::unix::fs::FileTypeExt;

use common::{fixture, seam};

#[test]
fn a_fifo_output_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fifo = dir.path().join("out.mp4");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo")
        .success();
    assert!(ok, "mkfifo failed");
    let o = seam([
        "stitch".as_ref(),
        "-y".as_ref(),
        "-o".as_ref(),
        fifo.as_os_str(),
        fixture("a.mp4").as_os_str(),
    ]);
    assert!(!o.status.success(), "{}", common::describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("not a regular file"),
        "{}",
        common::describe(&o)
    );
    let t = std::fs::symlink_metadata(&fifo)
        .expect("still there")
        .file_type();
    assert!(t.is_fifo(), "the FIFO was replaced");
}
