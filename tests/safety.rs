//! "Never lose data": end-to-end tests of the `seam` binary.
//!
//! Whatever goes wrong (incompatible or damaged inputs, a full disk, a file size limit, Ctrl-C or
//! SIGTERM in the middle of the copy), the output path holds either the complete new file or what
//! it held before, no temporary file (`.NAME.*.seam-tmp`) is left beside it, and the inputs are
//! never written to.
//!
//! Some tests need root (mounting a 64 KiB tmpfs to fill it, a read-only bind mount); without it
//! they print a notice and run only their unprivileged part.

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

const SEAM: &str = env!("CARGO_BIN_EXE_seam");

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn abc() -> Vec<PathBuf> {
    ["a.mp4", "b.mp4", "c.mp4"].map(fixture).to_vec()
}

fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("seam-safety-")
        .tempdir()
        .expect("temp dir")
}

/// `seam stitch [extra...] -o out inputs...`.
fn stitch_cmd(out: &Path, inputs: &[PathBuf], extra: &[&str]) -> Command {
    let mut c = Command::new(SEAM);
    c.arg("stitch").args(extra).arg("-o").arg(out).args(inputs);
    c
}

fn run(mut c: Command) -> Output {
    c.stdin(Stdio::null());
    c.output().expect("run seam")
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout: {}\nstderr: {}",
        o.status,
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every name in `dir`, hidden ones included.
fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn temp_files(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.ends_with(".seam-tmp"))
        .collect()
}

/// What must not change about a file.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    sha256: Vec<u8>,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    mode: u32,
    ino: u64,
}

fn snapshot(p: &Path) -> Snapshot {
    let m = fs::symlink_metadata(p).expect("metadata");
    Snapshot {
        sha256: Sha256::digest(fs::read(p).expect("read")).to_vec(),
        len: m.len(),
        mtime: (m.mtime(), m.mtime_nsec()),
        ctime: (m.ctime(), m.ctime_nsec()),
        mode: m.mode(),
        ino: m.ino(),
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|euid| euid == "0"))
        })
        .unwrap_or(false)
}

/// A mount made by a test, unmounted when dropped (also when the test panics).
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Runs `mount args... dir`; `None` (with a notice) when not root or not permitted.
fn mount(dir: &Path, args: &[&str], what: &str) -> Option<Mount> {
    if !is_root() {
        eprintln!("notice: not root; skipping the {what} part of this test");
        return None;
    }
    fs::create_dir_all(dir).unwrap();
    let out = Command::new("mount").args(args).arg(dir).output();
    match out {
        Ok(o) if o.status.success() => Some(Mount(dir.to_path_buf())),
        Ok(o) => {
            eprintln!(
                "notice: mount {args:?} not permitted ({}); skipping the {what} part of this test",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            None
        }
        Err(e) => {
            eprintln!("notice: cannot run mount ({e}); skipping the {what} part of this test");
            None
        }
    }
}

fn mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    let opt = format!("size={size}");
    mount(dir, &["-t", "tmpfs", "-o", &opt, "tmpfs"], "tmpfs")
}

/// Asserts a run failed with `code` and left `dir` exactly as `before`.
fn assert_failed_clean(o: &Output, code: i32, dir: &Path, before: &BTreeSet<String>, what: &str) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "{what}: exit code\n{}",
        show(o)
    );
    assert_eq!(
        temp_files(dir),
        Vec::<String>::new(),
        "{what}: temporary file left behind\n{}",
        show(o)
    );
    assert_eq!(
        &names(dir),
        before,
        "{what}: output directory changed\n{}",
        show(o)
    );
}

/// A file that stands for the output of an earlier run, which a failed `-y` run must keep.
fn previous_output(path: &Path) -> Snapshot {
    fs::write(
        path,
        b"previous output, must survive a failed run\n".repeat(20),
    )
    .unwrap();
    snapshot(path)
}

// ---------------------------------------------------------------------------------------------
// (a) Failures leave nothing behind.

#[test]
fn failed_stitch_leaves_no_output_and_no_temp_file() {
    let dir = scratch();
    let out_dir = dir.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let out = out_dir.join("out.mp4");
    let empty = BTreeSet::new();

    // Incompatible inputs (an H.265 fragment among H.264: neither copied nor re-encoded).
    let incompatible = vec![fixture("a.mp4"), fixture("hevc_a.mp4")];
    for extra in [&[][..], &["--fragmented"][..]] {
        let o = run(stitch_cmd(&out, &incompatible, extra));
        assert_failed_clean(&o, 1, &out_dir, &empty, "incompatible inputs");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("hevc_a.mp4"),
            "the error names the incompatible input\n{}",
            show(&o)
        );
    }

    // A damaged input (cut in the middle of its sample data) after a good one.
    let cut = dir.path().join("cut.mp4");
    fs::write(&cut, &fs::read(fixture("a.mp4")).unwrap()[..50_000]).unwrap();
    let o = run(stitch_cmd(&out, &[fixture("b.mp4"), cut.clone()], &[]));
    assert!(
        !o.status.success(),
        "truncated input accepted\n{}",
        show(&o)
    );
    assert_failed_clean(
        &o,
        o.status.code().unwrap_or(-1),
        &out_dir,
        &empty,
        "truncated input",
    );

    // A missing input.
    let o = run(stitch_cmd(
        &out,
        &[fixture("a.mp4"), dir.path().join("missing.mp4")],
        &[],
    ));
    assert!(!o.status.success(), "missing input accepted\n{}", show(&o));
    assert_failed_clean(
        &o,
        o.status.code().unwrap_or(-1),
        &out_dir,
        &empty,
        "missing input",
    );
}

#[test]
fn failed_stitch_keeps_the_previous_output() {
    let dir = scratch();
    let out = dir.path().join("out.mp4");
    let before = previous_output(&out);
    let listing = names(dir.path());

    // -y with incompatible inputs: the old file stays.
    let o = run(stitch_cmd(
        &out,
        &[fixture("a.mp4"), fixture("hevc_a.mp4")],
        &["-y"],
    ));
    assert_failed_clean(&o, 1, dir.path(), &listing, "-y, incompatible inputs");
    assert_eq!(snapshot(&out), before, "previous output changed");

    // Without -y, an existing output is refused even for good inputs.
    let o = run(stitch_cmd(&out, &abc(), &[]));
    assert_failed_clean(&o, 1, dir.path(), &listing, "existing output without -y");
    assert_eq!(snapshot(&out), before, "previous output changed");

    // And with -y it is replaced by a complete file.
    let o = run(stitch_cmd(&out, &abc(), &["-y"]));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(names(dir.path()), listing, "{}", show(&o));
    assert!(fs::metadata(&out).unwrap().len() > 150_000);
}

// ---------------------------------------------------------------------------------------------
// (b) A full disk or a file size limit: exit 3, nothing left behind, a previous output kept.

#[test]
fn disk_full_leaves_nothing() {
    let dir = scratch();
    let full = dir.path().join("full");
    let Some(_mount) = mount_tmpfs(&full, "64k") else {
        return; // file_size_limit_leaves_nothing covers the unprivileged case
    };
    let out = full.join("out.mp4");
    let empty = BTreeSet::new();
    for extra in [&[][..], &["--fragmented"][..]] {
        let o = run(stitch_cmd(&out, &abc(), extra));
        assert_failed_clean(&o, 3, &full, &empty, &format!("disk full {extra:?}"));
    }

    // A previous output in the full file system survives a failed -y run.
    let before = previous_output(&out);
    let listing = names(&full);
    let o = run(stitch_cmd(&out, &abc(), &["-y"]));
    assert_failed_clean(
        &o,
        3,
        &full,
        &listing,
        "disk full, -y over a previous output",
    );
    assert_eq!(snapshot(&out), before, "previous output changed");
}

/// `seam stitch` under `ulimit -f` (RLIMIT_FSIZE, 128 blocks = 64 KiB with /bin/sh's 512-byte
/// blocks) with SIGXFSZ ignored, so writes past the limit fail with EFBIG.
fn limited(out: &Path, inputs: &[PathBuf], extra: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg("trap '' XFSZ; ulimit -f 128 || exit 99; exec \"$0\" \"$@\"")
        .arg(SEAM)
        .arg("stitch")
        .args(extra)
        .arg("-o")
        .arg(out)
        .args(inputs);
    c
}

#[test]
fn file_size_limit_leaves_nothing() {
    let dir = scratch();
    let out = dir.path().join("out.mp4");
    let empty = BTreeSet::new();
    for extra in [&[][..], &["--fragmented"][..]] {
        let o = run(limited(&out, &abc(), extra));
        assert_ne!(o.status.code(), Some(99), "ulimit failed\n{}", show(&o));
        assert!(!o.status.success(), "{}", show(&o));
        assert_failed_clean(&o, 3, dir.path(), &empty, &format!("EFBIG {extra:?}"));
    }
    let before = previous_output(&out);
    let listing = names(dir.path());
    let o = run(limited(&out, &abc(), &["-y"]));
    assert_failed_clean(
        &o,
        3,
        dir.path(),
        &listing,
        "EFBIG, -y over a previous output",
    );
    assert_eq!(snapshot(&out), before, "previous output changed");
}

/// When the output cannot be written, the message must name the output, not an input: "a.mp4: File
/// too large" sends the user looking for a problem with their recording.
#[test]
fn write_error_names_the_output_not_an_input() {
    let dir = scratch();
    let out = dir.path().join("joined.mp4");
    let o = run(limited(&out, &abc(), &[]));
    assert_eq!(o.status.code(), Some(3), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("joined.mp4"),
        "the error does not name the output\n{}",
        show(&o)
    );
    for input in ["a.mp4", "b.mp4", "c.mp4"] {
        assert!(
            !err.contains(input),
            "the error names input {input} for a failed write of the output\n{}",
            show(&o)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// (c) SIGINT / SIGTERM in the middle of the copy.

/// Bytes written so far to the temporary output in `dir`, if there is one.
fn temp_len(dir: &Path) -> Option<u64> {
    temp_files(dir)
        .first()
        .and_then(|n| fs::metadata(dir.join(n)).ok())
        .map(|m| m.len())
}

/// Stitches `copies` copies of `input` to `out`, sends `signal` once the temporary file holds
/// `min_written` bytes (0: as soon as it appears), and returns the exit status and when the signal
/// was sent, or `None` when the run ended before that.
fn interrupt_once(
    out: &Path,
    input: &Path,
    copies: usize,
    signal: &str,
    min_written: u64,
) -> Option<(Output, Duration)> {
    let dir = out.parent().unwrap();
    let inputs: Vec<PathBuf> = vec![input.to_path_buf(); copies];
    let mut cmd = stitch_cmd(out, &inputs, &["-q"]);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn seam");
    let started = Instant::now();
    loop {
        if temp_len(dir).is_some_and(|n| n >= min_written) {
            break;
        }
        if child.try_wait().unwrap().is_some() {
            let o = child.wait_with_output().unwrap();
            eprintln!(
                "notice: seam ended before its temporary file held {min_written} bytes \
                 ({copies} copies)\n{}",
                show(&o)
            );
            return None;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no temporary file of {min_written} bytes after 2 minutes"
        );
        sleep(Duration::from_millis(1));
    }
    let seen = started.elapsed();
    let k = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .status()
        .expect("run kill");
    assert!(k.success(), "kill -{signal} failed");
    Some((child.wait_with_output().unwrap(), seen))
}

/// Interrupts a stitch twice: as soon as its temporary file appears (while it is still being
/// laid out), and in the middle of copying sample data (4 MiB written).
fn interrupt_test(signal: &str) {
    let dir = scratch();
    // A 13 MB input: 200 copies of a.mp4.
    let big = dir.path().join("big.mp4");
    let o = run(stitch_cmd(&big, &vec![fixture("a.mp4"); 200], &["-q"]));
    assert_eq!(o.status.code(), Some(0), "making big.mp4\n{}", show(&o));
    // The output goes to a tmpfs when one can be mounted (fast, and nothing reaches the disk).
    let out_dir = dir.path().join("out");
    let _mount = mount_tmpfs(&out_dir, "8g");
    fs::create_dir_all(&out_dir).unwrap();
    let out = out_dir.join("out.mp4");
    let empty = BTreeSet::new();
    'phase: for min_written in [0, 4 << 20] {
        let mut copies = 40; // about 520 MB of output
        for attempt in 1..=3 {
            let Some((o, seen)) = interrupt_once(&out, &big, copies, signal, min_written) else {
                copies *= 4;
                continue;
            };
            if o.status.success() {
                eprintln!(
                    "notice: attempt {attempt}: {copies} copies finished before SIG{signal} \
                     landed (sent after {seen:?}); retrying with a bigger job"
                );
                fs::remove_file(&out).unwrap();
                assert_eq!(names(&out_dir), empty, "after removing the finished output");
                copies *= 4;
                continue;
            }
            assert_failed_clean(
                &o,
                130,
                &out_dir,
                &empty,
                &format!(
                    "SIG{signal} after {seen:?} with {min_written} bytes written ({copies} copies)"
                ),
            );
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("interrupted"),
                "{}",
                show(&o)
            );
            continue 'phase;
        }
        panic!(
            "could not interrupt seam with SIG{signal} after {min_written} bytes in 3 attempts \
             (last job: {} copies)",
            copies / 4
        );
    }
}

#[test]
fn sigint_leaves_nothing_and_exits_130() {
    interrupt_test("INT");
}

#[test]
fn sigterm_leaves_nothing_and_exits_130() {
    interrupt_test("TERM");
}

/// A closed terminal sends SIGHUP; the handler covers it too.
#[test]
fn sighup_leaves_nothing_and_exits_130() {
    interrupt_test("HUP");
}

// ---------------------------------------------------------------------------------------------
// (d) Inputs are only read.

#[test]
fn read_only_inputs_are_not_modified() {
    let dir = scratch();
    let in_dir = dir.path().join("in");
    fs::create_dir(&in_dir).unwrap();
    let mut inputs = Vec::new();
    for src in abc() {
        let p = in_dir.join(src.file_name().unwrap());
        fs::copy(&src, &p).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        inputs.push(p);
    }
    let before: Vec<Snapshot> = inputs.iter().map(|p| snapshot(p)).collect();

    let out = dir.path().join("out.mp4");
    let o = run(stitch_cmd(&out, &inputs, &[]));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(fs::metadata(&out).unwrap().len() > 150_000);
    let frag = dir.path().join("frag.mp4");
    let o = run(stitch_cmd(&frag, &inputs, &["--fragmented"]));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = run({
        let mut c = Command::new(SEAM);
        c.arg("probe").args(&inputs);
        c
    });
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));

    let after: Vec<Snapshot> = inputs.iter().map(|p| snapshot(p)).collect();
    assert_eq!(before, after, "an input changed");

    // Root ignores permission bits; a read-only bind mount shows that nothing opens them for writing.
    let ro = dir.path().join("ro");
    let Some(_bind) = mount(
        &ro,
        &["--bind", in_dir.to_str().unwrap()],
        "read-only bind mount",
    ) else {
        return;
    };
    let remount = Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&ro)
        .status()
        .unwrap();
    if !remount.success() {
        eprintln!("notice: cannot remount the bind mount read-only; skipping that part");
        return;
    }
    assert!(
        fs::OpenOptions::new()
            .append(true)
            .open(ro.join("a.mp4"))
            .is_err(),
        "the bind mount is not read-only"
    );
    let ro_inputs: Vec<PathBuf> = inputs
        .iter()
        .map(|p| ro.join(p.file_name().unwrap()))
        .collect();
    let out2 = dir.path().join("out2.mp4");
    let o = run(stitch_cmd(&out2, &ro_inputs, &[]));
    assert_eq!(o.status.code(), Some(0), "read-only mount\n{}", show(&o));
    assert_eq!(
        fs::read(&out).unwrap(),
        fs::read(&out2).unwrap(),
        "same inputs, different output"
    );
    let after: Vec<Snapshot> = inputs.iter().map(|p| snapshot(p)).collect();
    assert_eq!(before, after, "an input changed");
}

// ---------------------------------------------------------------------------------------------
// (e) The output may not be one of the inputs.

#[test]
fn output_that_is_an_input_is_refused() {
    let dir = scratch();
    let a = dir.path().join("a.mp4");
    let b = dir.path().join("b.mp4");
    fs::copy(fixture("a.mp4"), &a).unwrap();
    fs::copy(fixture("b.mp4"), &b).unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    std::os::unix::fs::symlink("a.mp4", dir.path().join("link.mp4")).unwrap();
    fs::hard_link(&a, dir.path().join("hard.mp4")).unwrap();
    let before_a = snapshot(&a);
    let before_b = snapshot(&b);
    let listing = names(dir.path());

    let cases: Vec<(PathBuf, &str)> = vec![
        (a.clone(), "the first input"),
        (b.clone(), "the last input"),
        (
            dir.path().join("sub/../a.mp4"),
            "the first input via sub/..",
        ),
        (dir.path().join("./a.mp4"), "the first input via ./"),
        (dir.path().join("link.mp4"), "a symlink to the first input"),
        (
            dir.path().join("hard.mp4"),
            "a hard link to the first input",
        ),
    ];
    for (out, what) in &cases {
        for extra in [&[][..], &["-y"][..], &["-y", "--fragmented"][..]] {
            let o = run(stitch_cmd(out, &[a.clone(), b.clone()], extra));
            let label = format!("output = {what} {extra:?}");
            assert_failed_clean(&o, 1, dir.path(), &listing, &label);
            assert!(
                String::from_utf8_lossy(&o.stderr).contains("one of the inputs"),
                "{label}\n{}",
                show(&o)
            );
            assert_eq!(snapshot(&a), before_a, "{label}: a.mp4 changed");
            assert_eq!(snapshot(&b), before_b, "{label}: b.mp4 changed");
        }
    }
    assert!(fs::symlink_metadata(dir.path().join("link.mp4"))
        .unwrap()
        .file_type()
        .is_symlink());

    // The same input twice is fine as long as the output is elsewhere.
    let out = dir.path().join("twice.mp4");
    let o = run(stitch_cmd(&out, &[a.clone(), a.clone()], &[]));
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert_eq!(snapshot(&a), before_a);
}
