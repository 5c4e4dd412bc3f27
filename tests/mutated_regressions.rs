//! The mutated inputs of `tests/regressions/mutated/` (how each was made: its README.md), each
//! stitched with its unchanged original in the three modes (`seam stitch -y -o OUT FILE ORIGINAL`,
//! plus `--best-effort` or `--fragmented`). Every run must either
//!
//! * fail with exit code 1 and a message naming the damaged file and saying `at byte`, or
//! * succeed with an output that seam's own demuxer re-reads with strictly increasing decode
//!   times in every track, and that `ffmpeg -v error -i OUT -f null -` opens ("error reading
//!   header" never) and decodes without "non monotonically increasing dts" unless the damaged
//!   input alone already makes ffmpeg print that (a few mutations give B-frames composition times
//!   that contradict their bitstream's order: ffmpeg complains about the input, and a lossless
//!   copy cannot do better).
//!
//! The ffmpeg part runs when ffmpeg is installed and is required with `SEAM_REQUIRE_FFMPEG=1`.
//! Cases run on a few threads (each mostly waits for seam or ffmpeg); the whole test takes
//! seconds. `MUTATED_PRINT=1` prints what each run did.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use common::{decode_null, have_ffmpeg, parallel, require_ffmpeg, shared_dir, SEAM};

/// The three modes and their flags.
const MODES: &[(&str, &[&str])] = &[
    ("strict", &[]),
    ("best", &["--best-effort"]),
    ("frag", &["--fragmented"]),
];

/// Runs that are known to be wrong and are fixed elsewhere, with why. They are run and reported,
/// not asserted (ffmpeg is not run on them: their outputs last long). Remove a line when its fix
/// lands: the test then holds the case to the rule. None is open: 04413_frag.mp4 (24.9 hours of
/// silence from a tfdt jump) is refused at the tfdt that goes back and closed by best effort, and
/// 04691_frag_noedts.mp4 (two video samples of 0xffffff ticks, 43 minutes of silence) is refused
/// or closed by `plan/damage.rs` as samples lasting far longer than their track.
const OPEN: &[(&str, &str, &str)] = &[];

/// Runs whose output is what the inputs say but that ffmpeg's `-f null` check still flags; see
/// docs/ERRORS.md ("Damaged timing", open cases). Asserted by seam's own checks only.
const FFMPEG_GRID: &[(&str, &str, &str)] = &[
    // A changed video mdhd timescale (0xffff, 0x10000; 0x3b286ca8 in 05311) keeps every count in
    // ticks consistent: the damaged input is a valid 128 fps (or 2 MHz) video whose edit list
    // outlasts its media, which nothing tells from a real high-frame-rate clip. The output keeps
    // those times; ffmpeg's `-f null` collapses the frames on the 25 fps grid it guesses for
    // the joined stream. (A frame-rate change between joined inputs is the planner's to refuse.)
    (
        "02059_moov_last.mp4",
        "strict",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "02059_moov_last.mp4",
        "best",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "02059_moov_last.mp4",
        "frag",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "05338_moov_last.mp4",
        "strict",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "05338_moov_last.mp4",
        "best",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "05338_moov_last.mp4",
        "frag",
        "128 fps input joined to a 25 fps one",
    ),
    (
        "05311_a.mp4",
        "frag",
        "2 MHz frame rate input joined to a 25 fps one",
    ),
    // The edit starts 127 ticks into the media (not on a frame), so the input's last frame is
    // presented for 127 ticks (10 ms) before the next input: ffmpeg maps both frames to one
    // 1/25 s slot and reports equal DTS. The timing is exact; no frame can be dropped (it is a
    // reference frame) without re-encoding.
    (
        "02993_portrait.mp4",
        "strict",
        "frame presented for 10 ms at the join",
    ),
    (
        "02993_portrait.mp4",
        "best",
        "frame presented for 10 ms at the join",
    ),
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regressions/mutated")
}

/// The damaged inputs and their originals, as the README says: `NNNNN_NAME` comes from
/// `fixtures/NAME`, or from `base_NAME` beside it for `ff_*` names.
fn cases() -> Vec<(PathBuf, PathBuf)> {
    let mut out = Vec::new();
    for name in common::dir_entries(&dir()) {
        let Some((num, orig)) = name.split_once('_') else {
            continue;
        };
        if num.len() != 5 || !num.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let original = if orig.starts_with("ff_") {
            dir().join(format!("base_{orig}"))
        } else {
            common::fixture(orig)
        };
        out.push((dir().join(&name), original));
    }
    out
}

/// What one run showed.
struct Outcome {
    file: String,
    mode: &'static str,
    /// `Err(problem)` when the run breaks the rule.
    verdict: Result<String, String>,
}

/// seam's demuxer re-reads `out` and every track's decode times strictly increase.
fn own_check(out: &Path) -> Result<String, String> {
    let m = seam::probe(out, &seam::Limits::default())
        .map_err(|e| format!("seam cannot read its own output: {e}"))?;
    for t in &m.tracks {
        let mut prev: Option<i64> = None;
        for (k, s) in t.samples.iter().enumerate() {
            if prev.is_some_and(|p| s.dts <= p) {
                return Err(format!(
                    "track {} sample {k}: decode time {} after {}",
                    t.id,
                    s.dts,
                    prev.unwrap_or_default()
                ));
            }
            prev = Some(s.dts);
        }
    }
    Ok(format!(
        "{} tracks, {} samples",
        m.tracks.len(),
        m.tracks.iter().map(|t| t.samples.len()).sum::<usize>()
    ))
}

/// Whether ffmpeg reports non-monotonic DTS for the damaged input alone (cached per file).
fn input_has_backwards_dts(input: &Path, cache: &Mutex<HashMap<PathBuf, bool>>) -> bool {
    if let Some(&v) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(input) {
        return v;
    }
    let (_, err) = decode_null(input);
    let v = err.contains("non monotonically increasing dts");
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(input.to_path_buf(), v);
    v
}

fn run_case(
    damaged: &Path,
    original: &Path,
    mode: &'static str,
    flags: &[&str],
    use_ffmpeg: bool,
    cache: &Mutex<HashMap<PathBuf, bool>>,
) -> Outcome {
    let file = damaged
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = shared_dir().join(format!("{file}.{mode}.mp4"));
    let o = Command::new(SEAM)
        .args(["stitch", "-q", "-y", "-o"])
        .arg(&out)
        .arg(damaged)
        .arg(original)
        .args(flags)
        .output()
        .expect("cannot run seam");
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let open = OPEN.iter().any(|(f, m, _)| *f == file && *m == mode);
    let grid = FFMPEG_GRID.iter().any(|(f, m, _)| *f == file && *m == mode);
    let verdict = if !o.status.success() {
        if o.status.code() != Some(1) {
            Err(format!("exit {:?}: {stderr}", o.status.code()))
        } else if !stderr.contains(&file)
            || !(stderr.contains("at byte") || stderr.contains(" differs from "))
        {
            // Located, or an incompatibility between the two inputs, which names both files and
            // the values that differ (a damaged tkhd matrix: "video display matrix … differs").
            Err(format!(
                "refusal without the file name and a byte offset: {stderr}"
            ))
        } else {
            Ok(format!("refused: {}", stderr.trim()))
        }
    } else {
        let mut v = own_check(&out);
        if v.is_ok() && use_ffmpeg && !open && !grid {
            let (ok, err) = decode_null(&out);
            if !ok || err.contains("error reading header") {
                v = Err(format!("ffmpeg cannot read the output: {err}"));
            } else if err.contains("non monotonically increasing dts")
                && !input_has_backwards_dts(damaged, cache)
            {
                v = Err(format!("ffmpeg: decode times go backwards: {err}"));
            }
        }
        v.map(|s| format!("written: {s}"))
    };
    let _ = std::fs::remove_file(&out);
    Outcome {
        file,
        mode,
        verdict,
    }
}

#[test]
fn every_mutated_input_is_refused_with_a_location_or_written_correctly() {
    let use_ffmpeg = if have_ffmpeg() {
        true
    } else {
        // Panics when SEAM_REQUIRE_FFMPEG=1; otherwise seam's own checks still run.
        require_ffmpeg()
    };
    let cases = cases();
    assert_eq!(cases.len(), 81, "tests/regressions/mutated holds 81 inputs");
    let jobs: Vec<(PathBuf, PathBuf, &'static str, &'static [&'static str])> = cases
        .iter()
        .flat_map(|(d, o)| {
            MODES
                .iter()
                .map(move |(m, f)| (d.clone(), o.clone(), *m, *f))
        })
        .collect();
    let next = AtomicUsize::new(0);
    let cache = Mutex::new(HashMap::new());
    // A few workers pulling from one list: each run is a seam process, maybe an ffmpeg one.
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(2, 4));
    let results: Vec<Vec<Outcome>> = parallel(
        (0..workers)
            .map(|_| {
                let (jobs, next, cache) = (&jobs, &next, &cache);
                Box::new(move || {
                    let mut done = Vec::new();
                    while let Some((d, o, m, f)) = jobs.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push(run_case(d, o, m, f, use_ffmpeg, cache));
                    }
                    done
                }) as Box<dyn FnOnce() -> Vec<Outcome> + Send>
            })
            .collect(),
    );
    let mut outcomes: Vec<Outcome> = results.into_iter().flatten().collect();
    outcomes.sort_by(|a, b| (&a.file, a.mode).cmp(&(&b.file, b.mode)));
    let print = std::env::var_os("MUTATED_PRINT").is_some();
    let mut failures = Vec::new();
    let (mut refused, mut written) = (0, 0);
    for o in &outcomes {
        let open = OPEN
            .iter()
            .find(|(f, m, _)| *f == o.file && *m == o.mode)
            .map(|(_, _, why)| *why);
        match (&o.verdict, open) {
            (Ok(s), _) => {
                if s.starts_with("refused") {
                    refused += 1;
                } else {
                    written += 1;
                }
                if print || open.is_some() {
                    eprintln!(
                        "{} {}: {s}{}",
                        o.file,
                        o.mode,
                        open.map_or(String::new(), |w| format!(" [open: {w}]"))
                    );
                }
            }
            (Err(e), Some(why)) => eprintln!("{} {}: open ({why}): {e}", o.file, o.mode),
            (Err(e), None) => failures.push(format!("{} {}: {e}", o.file, o.mode)),
        }
    }
    eprintln!(
        "{} runs: {refused} refused with a location, {written} written, {} failing",
        outcomes.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A planning overflow names the input whose sample caused it, the sample and its byte offset.
/// The demuxer now refuses the files that reached this (00465_ff_moovend.mp4, an stts delta of
/// 0x80000000, is refused at its mdhd), so the damaged timing is made in memory: the second
/// input's video timescale becomes 100 Hz (frames of 5.12 s, under what `plan/damage.rs` calls a
/// damaged duration) and its last sample gets a composition offset of 20,000,000 ticks, which at
/// the output's 12,800 Hz does not fit 32 bits.
#[test]
fn plan_overflow_names_the_damaged_input_and_sample() {
    let limits = seam::Limits::default();
    let a = seam::probe(&common::fixture("a.mp4"), &limits).expect("a.mp4");
    let mut b = seam::probe(&common::fixture("b.mp4"), &limits).expect("b.mp4");
    let v = b
        .tracks
        .iter_mut()
        .find(|t| t.kind == seam::model::TrackKind::Video)
        .expect("b.mp4 has video");
    v.timescale = 100;
    v.edits.clear();
    let n = v.samples.len();
    let mut all: Vec<seam::model::Sample> = v.samples.iter().collect();
    let last = all.last_mut().expect("samples");
    last.cts_offset = 20_000_000;
    let offset = last.offset;
    v.samples = all.into_iter().collect();
    let e = seam::api::plan_with(&[a, b], &limits).expect_err("overflow");
    let msg = e.to_string();
    match e {
        seam::Error::Plan(seam::error::PlanError::Overflow { file, at, .. }) => {
            assert!(file.ends_with("b.mp4"), "{msg}");
            let at = at.expect("a sample is named");
            assert_eq!(
                (at.track_id, at.index, at.offset),
                (1, n - 1, offset),
                "{msg}"
            );
        }
        other => panic!("expected PlanError::Overflow, got {other}"),
    }
    assert!(msg.contains("b.mp4") && msg.contains("at byte"), "{msg}");
    eprintln!("{msg}");
}

/// The differential replay of the fuzz corpora (`fuzz/differential.sh`): every corpus input that
/// ffmpeg reads without an error line, stitched with itself in the three modes, must be refused
/// with a located error or decode in ffmpeg without new errors. About two minutes on the project
/// VM (mostly ffmpeg reading the 1,258 inputs), so it runs on request:
/// `cargo test --test mutated_regressions -- --ignored`.
#[test]
#[ignore]
fn differential_replay_of_the_fuzz_corpora() {
    if !require_ffmpeg() {
        return;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new("python3")
        .arg(root.join("fuzz/stitch_check.py"))
        .arg("differential")
        .args([
            "fuzz/corpus/mp4_demux",
            "fuzz/corpus/stitch_e2e",
            "fuzz/seeds/mp4",
            "fuzz/seeds/stitch_e2e",
        ])
        .current_dir(root)
        .env("SEAM", SEAM)
        .output()
        .expect("cannot run python3 fuzz/stitch_check.py");
    let out = String::from_utf8_lossy(&o.stdout);
    eprintln!("{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "differential replay failed:\n{out}");
}

/// The edit-list rule does not refuse what `--best-effort` salvages: a moov-first recording cut
/// short keeps an edit list for its whole length over the samples that survived (a.mp4 cut at
/// 30,000 of 67,247 bytes keeps 22 of 50 video samples: 0.88 s of a 2 s edit).
#[test]
fn salvaged_file_shorter_than_its_edit_list_is_stitched() {
    let data = std::fs::read(common::fixture("a.mp4")).expect("a.mp4");
    let cut = shared_dir().join("cut-a.mp4");
    std::fs::write(&cut, &data[..30_000]).expect("write");
    let out = shared_dir().join("cut-a.out.mp4");
    let o = Command::new(SEAM)
        .args(["stitch", "-q", "-y", "--best-effort", "-o"])
        .arg(&out)
        .arg(&cut)
        .arg(common::fixture("b.mp4"))
        .output()
        .expect("seam");
    assert!(o.status.success(), "{}", common::describe(&o));
    own_check(&out).expect("output reads back");
    // Without --best-effort the cut file is refused (its samples run past the end of the file).
    let o = Command::new(SEAM)
        .args(["stitch", "-q", "-y", "-o"])
        .arg(&out)
        .arg(&cut)
        .arg(common::fixture("b.mp4"))
        .output()
        .expect("seam");
    assert_eq!(o.status.code(), Some(1), "{}", common::describe(&o));
}
