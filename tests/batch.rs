//! `seam batch`: job files, recorder folders grouped by user, parallel runs, shards (issue 9).
//!
//! Every test drives the real binary. Outputs that succeed are decoded by ffmpeg (nothing on
//! stderr) and their packets compared with what `seam stitch` writes from the same inputs; an
//! output that fails leaves no file (and no temporary file) behind while the others are written.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{decode_null, describe, dir_entries, fixture, md5s, require_ffmpeg, seam, Kind};
use serde_json::Value;

/// Runs `seam batch ARGS` from `cwd`, with extra environment variables.
fn batch_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(common::SEAM);
    c.current_dir(cwd).arg("batch").args(args);
    c.env_remove("JOB_COMPLETION_INDEX");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run seam")
}

/// The `--json` summary on stdout.
fn summary(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}): {}", describe(o)))
}

/// The summary's outputs by path: (ok, error).
fn by_output(v: &Value) -> BTreeMap<String, (bool, Option<String>)> {
    v["outputs"]
        .as_array()
        .expect("outputs array")
        .iter()
        .map(|o| {
            (
                o["output"].as_str().expect("output").to_string(),
                (
                    o["ok"].as_bool().expect("ok"),
                    o["error"].as_str().map(String::from),
                ),
            )
        })
        .collect()
}

fn copy(from: &Path, to: &Path) {
    std::fs::copy(from, to)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", from.display(), to.display()));
}

/// `seam stitch` of the same inputs, the reference a batch output's packets must equal.
fn stitched(dir: &Path, name: &str, inputs: &[PathBuf]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["stitch".into(), "-o".into(), out.clone().into_os_string()];
    args.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    assert!(o.status.success(), "{}", describe(&o));
    out
}

/// Decodes cleanly and holds the same packets as the reference.
fn assert_same_as(out: &Path, reference: &Path) {
    let (ok, err) = decode_null(out);
    assert!(ok && err.is_empty(), "{}: ffmpeg: {err}", out.display());
    for kind in [Kind::Video, Kind::Audio] {
        assert_eq!(
            md5s(out, kind),
            md5s(reference, kind),
            "{}: {kind:?} packets differ from seam stitch's",
            out.display()
        );
    }
}

/// No temporary or partial file in the folder: only the names expected.
fn assert_only(dir: &Path, names: &[&str]) {
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(dir_entries(dir), want, "{}", dir.display());
}

fn write_job(path: &Path, job: &Value) {
    std::fs::write(path, serde_json::to_vec_pretty(job).expect("json")).expect("write job");
}

#[test]
fn a_job_of_several_outputs() {
    if !require_ffmpeg() {
        return;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let f = |n: &str| fixture(n).display().to_string();
    let sets: [(&str, Vec<String>); 4] = [
        ("abc.mp4", vec![f("a.mp4"), f("b.mp4"), f("c.mp4")]),
        (
            "mixed.mp4",
            vec![f("mixed/a.mp4"), f("mixed/b.ts"), f("mixed/c.flv")],
        ),
        (
            "frag.mp4",
            vec![f("frag.mp4"), f("frag_noedts.mp4"), f("a.mp4")],
        ),
        ("c.mp4", vec![f("c.mp4")]),
    ];
    let job = serde_json::json!({"outputs": sets.iter().map(|(o, ins)| serde_json::json!({
        "output": format!("out/{o}"),
        "inputs": ins.iter().map(|p| serde_json::json!({"path": p})).collect::<Vec<_>>(),
    })).collect::<Vec<_>>()});
    write_job(&t.path().join("job.json"), &job);
    let o = batch_in(t.path(), &["job.json", "--jobs", "2", "--json"], &[]);
    assert!(o.status.success(), "{}", describe(&o));
    let v = summary(&o);
    assert_eq!(v["ok"], true);
    assert_eq!(v["failed"], 0);
    let out = t.path().join("out");
    assert_only(&out, &["abc.mp4", "c.mp4", "frag.mp4", "mixed.mp4"]);
    let refs = t.path().join("ref");
    std::fs::create_dir(&refs).expect("mkdir");
    for (name, inputs) in &sets {
        let inputs: Vec<PathBuf> = inputs.iter().map(PathBuf::from).collect();
        assert_same_as(&out.join(name), &stitched(&refs, name, &inputs));
    }
    // The stderr summary: one line per output, then the total.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("seam: ok ").count(), 4, "{err}");
    assert!(err.contains("4 outputs, 4 ok, 0 failed"), "{err}");
}

#[test]
fn a_broken_file_fails_its_output_only() {
    if !require_ffmpeg() {
        return;
    }
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    copy(&fixture("a.mp4"), &d.join("a.mp4"));
    copy(&fixture("b.mp4"), &d.join("b.mp4"));
    // A recording cut off inside its moov (a crashed upload).
    let a = std::fs::read(fixture("a.mp4")).expect("read");
    std::fs::write(d.join("broken.mp4"), &a[..1500]).expect("write");
    let job = serde_json::json!({"outputs": [
        {"output": "out/1.mp4", "inputs": [{"path": "a.mp4"}, {"path": "b.mp4"}]},
        {"output": "out/2.mp4", "inputs": [{"path": "a.mp4"}, {"path": "broken.mp4"}]},
        {"output": "out/3.mp4", "inputs": [{"path": "b.mp4"}, {"path": "a.mp4"}]},
    ]});
    write_job(&d.join("job.json"), &job);
    for jobs in ["1", "3"] {
        let out = d.join("out");
        let _ = std::fs::remove_dir_all(&out);
        let o = batch_in(d, &["job.json", "--jobs", jobs, "--json"], &[]);
        assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
        let v = summary(&o);
        assert_eq!(
            (v["ok"].as_bool(), v["failed"].as_u64()),
            (Some(false), Some(1))
        );
        let s = by_output(&v);
        // Paths as the job resolves them: the job was named relative to the working folder.
        let path = |n: &str| format!("out/{n}");
        assert_eq!(s[&path("1.mp4")], (true, None));
        assert_eq!(s[&path("3.mp4")], (true, None));
        let (ok, error) = &s[&path("2.mp4")];
        assert!(!ok);
        assert!(
            error.as_deref().unwrap_or("").contains("broken.mp4"),
            "{error:?}"
        );
        // Nothing for the failed output, not even a temporary file.
        assert_only(&out, &["1.mp4", "3.mp4"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("seam: FAILED "), "{err}");
        assert!(err.contains("3 outputs, 2 ok, 1 failed"), "{err}");
    }
    let refs = d.join("ref");
    std::fs::create_dir(&refs).expect("mkdir");
    let ab = stitched(&refs, "ab.mp4", &[d.join("a.mp4"), d.join("b.mp4")]);
    assert_same_as(&d.join("out/1.mp4"), &ab);
}

#[test]
fn a_folder_with_a_broken_file() {
    if !require_ffmpeg() {
        return;
    }
    // Three users, two files each (named USER_SEQ.mp4); user 2's second file is damaged.
    let t = tempfile::tempdir().expect("tempdir");
    let rec = t.path().join("rec");
    std::fs::create_dir(&rec).expect("mkdir");
    for uid in ["1", "2", "30"] {
        copy(&fixture("a.mp4"), &rec.join(format!("{uid}_001.mp4")));
        copy(&fixture("c.mp4"), &rec.join(format!("{uid}_002.mp4")));
    }
    std::fs::write(rec.join("2_002.mp4"), b"\0\0\0\x08free").expect("write");
    std::fs::write(rec.join("notes.txt"), b"not a recording").expect("write");
    let out = t.path().join("out");
    let o = batch_in(
        t.path(),
        &[
            "--dir",
            "rec",
            "--name-pattern",
            r"^(?P<uid>\d+)_\d+\.mp4$",
            "--output-dir",
            "out",
            "--json",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let s = by_output(&summary(&o));
    let names: Vec<&str> = s
        .keys()
        .map(|k| k.rsplit('/').next().unwrap_or(""))
        .collect();
    assert_eq!(names, ["1.mp4", "2.mp4", "30.mp4"]);
    assert!(s["out/1.mp4"].0 && s["out/30.mp4"].0, "{s:?}");
    assert!(!s["out/2.mp4"].0);
    assert!(
        s["out/2.mp4"]
            .1
            .as_deref()
            .unwrap_or("")
            .contains("2_002.mp4"),
        "{s:?}"
    );
    assert_only(&out, &["1.mp4", "30.mp4"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("1 files do not match the pattern"), "{err}");
    let refs = t.path().join("ref");
    std::fs::create_dir(&refs).expect("mkdir");
    let ac = stitched(&refs, "ac.mp4", &[fixture("a.mp4"), fixture("c.mp4")]);
    assert_same_as(&out.join("1.mp4"), &ac);
    assert_same_as(&out.join("30.mp4"), &ac);
}

#[test]
fn relative_paths_are_taken_from_the_job_folder() {
    let t = tempfile::tempdir().expect("tempdir");
    let jobs = t.path().join("jobs");
    let media = t.path().join("media");
    let elsewhere = t.path().join("elsewhere");
    for d in [&jobs, &media, &elsewhere] {
        std::fs::create_dir(d).expect("mkdir");
    }
    copy(&fixture("c.mp4"), &media.join("c.mp4"));
    let job = serde_json::json!({"outputs": [
        {"output": "../results/c2.mp4", "inputs": [{"path": "../media/c.mp4"}, {"path": "../media/c.mp4"}]},
        {"output": t.path().join("abs.mp4").display().to_string(),
         "inputs": [{"path": media.join("c.mp4").display().to_string()}]},
    ]});
    write_job(&jobs.join("job.json"), &job);
    // Run from a third folder, naming the job by a relative path too.
    let o = batch_in(&elsewhere, &["../jobs/job.json", "--quiet"], &[]);
    assert!(o.status.success(), "{}", describe(&o));
    assert!(t.path().join("results/c2.mp4").is_file());
    assert!(t.path().join("abs.mp4").is_file());
    assert!(dir_entries(&elsewhere).is_empty());
    // --quiet: only the total.
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn unknown_fields_and_bad_jobs_are_refused_before_anything_runs() {
    let t = tempfile::tempdir().expect("tempdir");
    copy(&fixture("c.mp4"), &t.path().join("c.mp4"));
    let cases: [(Value, &str); 5] = [
        (
            serde_json::json!({"outputs": [
                {"output": "1.mp4", "inputs": [{"path": "c.mp4"}]},
                {"output": "2.mp4", "inputs": [{"path": "c.mp4"}], "gap": "skip"}]}),
            "outputs[1]: unknown field `gap`",
        ),
        (
            serde_json::json!({"outputs": [
                {"output": "1.mp4", "inputs": [{"path": "c.mp4", "strat": 5}]}]}),
            "outputs[0].inputs[0]: unknown field `strat`",
        ),
        (
            serde_json::json!({"outputs": [{"output": "1.mp4", "inputs": [{"path": "c.mp4"}]}],
                               "jobs": 4}),
            "unknown field `jobs`",
        ),
        (
            serde_json::json!({"outputs": [
                {"output": "1.mp4", "inputs": [{"path": "c.mp4"}]},
                {"output": "1.mp4", "inputs": [{"path": "c.mp4"}]}]}),
            "outputs[1]: ",
        ),
        (
            serde_json::json!({"outputs": [
                {"output": "1.mp4", "inputs": [{"path": "c.mp4", "trim": [3, 1]}]}]}),
            "outputs[0].inputs[0]: trim: START 3 s is not before END 1 s",
        ),
    ];
    for (job, want) in cases {
        write_job(&t.path().join("job.json"), &job);
        let o = batch_in(t.path(), &["job.json"], &[]);
        assert_eq!(o.status.code(), Some(2), "{job}: {}", describe(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("job.json: ") && err.contains(want),
            "{job}: {err}"
        );
        assert_only(t.path(), &["c.mp4", "job.json"]);
    }
    // Not JSON at all, and a job file that is not there.
    std::fs::write(t.path().join("job.json"), "{\"outputs\": [").expect("write");
    let o = batch_in(t.path(), &["job.json", "--json"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", describe(&o));
    assert_eq!(summary(&o)["ok"], false);
    let o = batch_in(t.path(), &["nothere.json"], &[]);
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
}

#[test]
fn shards_cover_every_output_exactly_once() {
    let t = tempfile::tempdir().expect("tempdir");
    copy(&fixture("c.mp4"), &t.path().join("c.mp4"));
    let n = 8;
    let job = serde_json::json!({"outputs": (0..n).map(|k| serde_json::json!({
        "output": format!("out/{k}.mp4"), "inputs": [{"path": "c.mp4"}]})).collect::<Vec<_>>()});
    write_job(&t.path().join("job.json"), &job);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for index in 0..3 {
        // Half the shards take INDEX from the flag, half from JOB_COMPLETION_INDEX.
        let i = index.to_string();
        let flag = format!("{index}/3");
        let o = if index % 2 == 0 {
            batch_in(t.path(), &["job.json", "--shard", &flag, "--json"], &[])
        } else {
            batch_in(
                t.path(),
                &["job.json", "--shard-count", "3", "--json"],
                &[("JOB_COMPLETION_INDEX", &i)],
            )
        };
        assert!(o.status.success(), "{}", describe(&o));
        let v = summary(&o);
        assert_eq!(v["shard"]["index"], index);
        assert_eq!(v["shard"]["count"], 3);
        assert_eq!(v["total_in_job"], n);
        for (out, (ok, _)) in by_output(&v) {
            assert!(ok);
            *seen.entry(out).or_default() += 1;
        }
    }
    let want: BTreeMap<String, usize> = (0..n).map(|k| (format!("out/{k}.mp4"), 1)).collect();
    assert_eq!(seen, want);
    let mut files: Vec<String> = (0..n).map(|k| format!("{k}.mp4")).collect();
    files.sort();
    assert_eq!(dir_entries(&t.path().join("out")), files);
    // A retried shard: without --skip-existing its outputs exist and fail; with it, only the
    // output that is missing is written again.
    let o = batch_in(t.path(), &["job.json", "--shard", "0/3"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists"));
    let out3 = t.path().join("out/3.mp4");
    let before = std::fs::read(&out3).expect("out/3.mp4");
    std::fs::remove_file(&out3).expect("rm");
    let o = batch_in(
        t.path(),
        &["job.json", "--shard", "0/3", "--skip-existing", "--json"],
        &[],
    );
    assert!(o.status.success(), "{}", describe(&o));
    let v = summary(&o);
    assert_eq!(
        (v["skipped"].as_u64(), v["failed"].as_u64()),
        (Some(2), Some(0))
    );
    let redone: Vec<&str> = v["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .filter(|o| o["skipped"] == false)
        .filter_map(|o| o["output"].as_str())
        .collect();
    assert_eq!(redone, ["out/3.mp4"]);
    assert_eq!(std::fs::read(&out3).expect("out/3.mp4"), before);
    // The same shard twice is the same share (deterministic); a bad index is a usage error.
    let a = batch_in(
        t.path(),
        &["job.json", "--shard", "1/3", "--dry-run", "--json"],
        &[],
    );
    let b = batch_in(
        t.path(),
        &["job.json", "--shard", "1/3", "--dry-run", "--json"],
        &[],
    );
    assert_eq!(a.stdout, b.stdout);
    assert_eq!(summary(&a)["outputs"].as_array().map(Vec::len), Some(3));
    for (args, env) in [
        (&["job.json", "--shard", "3/3"][..], &[][..]),
        (&["job.json", "--shard-count", "3"][..], &[][..]),
        (
            &["job.json", "--shard-count", "3"][..],
            &[("JOB_COMPLETION_INDEX", "x")][..],
        ),
    ] {
        let o = batch_in(t.path(), args, env);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", describe(&o));
    }
}

#[test]
fn folder_grouped_by_uid_and_sorted_by_start() {
    // Agora-style names: USER_yyyyMMddHHmmssSSS.EXT (UTC). User 100 has three files given out of
    // order; user 7 one.
    let t = tempfile::tempdir().expect("tempdir");
    let rec = t.path().join("rec");
    std::fs::create_dir(&rec).expect("mkdir");
    for (name, src) in [
        ("100_20190611073300500.mp4", "b.mp4"),
        ("100_20190611073246073.mp4", "a.mp4"),
        ("100_20190611073400000.mp4", "c.mp4"),
        ("7_20190611080000000.mp4", "c.mp4"),
        // User 8's second file names no real date: user 8 fails, the others do not.
        ("8_20190611080000000.mp4", "c.mp4"),
        ("8_20191399080000000.mp4", "c.mp4"),
    ] {
        copy(&fixture(src), &rec.join(name));
    }
    let args = [
        "--dir",
        "rec",
        "--name-pattern",
        r"(?P<uid>\d+)_(?P<start>\d{17})",
        "--output-dir",
        "out",
        "--json",
    ];
    let mut dry = args.to_vec();
    dry.push("--dry-run");
    let o = batch_in(t.path(), &dry, &[]);
    assert!(o.status.success(), "{}", describe(&o));
    let v = summary(&o);
    let outputs = v["outputs"].as_array().expect("outputs");
    assert_eq!(outputs.len(), 3);
    let refused = outputs[1]["refused"].as_str().unwrap_or("");
    assert!(
        refused.contains("8_20191399080000000.mp4") && refused.contains("no such date"),
        "{refused}"
    );
    assert_eq!(outputs[0]["refused"], Value::Null);
    assert_eq!(outputs[2]["refused"], Value::Null);
    let outputs = [&outputs[0], &outputs[2]];
    let listed: Vec<(String, Vec<(String, String)>)> = outputs
        .iter()
        .map(|o| {
            let ins = o["inputs"]
                .as_array()
                .expect("inputs")
                .iter()
                .map(|i| {
                    let p = i["path"].as_str().expect("path");
                    let name = p.rsplit('/').next().unwrap_or(p).to_string();
                    (name, i["start"].as_str().expect("start").to_string())
                })
                .collect();
            (o["output"].as_str().expect("output").to_string(), ins)
        })
        .collect();
    let pair = |n: &str, s: &str| (n.to_string(), s.to_string());
    assert_eq!(
        listed,
        vec![
            (
                "out/7.mp4".to_string(),
                vec![pair("7_20190611080000000.mp4", "1560240000.000")]
            ),
            (
                "out/100.mp4".to_string(),
                vec![
                    // 2019-06-11 07:32:46.073 UTC is 1560238366.073 s after the epoch.
                    pair("100_20190611073246073.mp4", "1560238366.073"),
                    pair("100_20190611073300500.mp4", "1560238380.500"),
                    pair("100_20190611073400000.mp4", "1560238440.000"),
                ]
            ),
        ]
    );
    assert!(!t.path().join("out").exists(), "a dry run writes nothing");

    // The real run hands the start times to the session layer. Whatever it makes of them, the
    // batch reports one entry per user, each either written (and decodable) or failed with
    // nothing left behind, and the exit code says whether all succeeded.
    let o = batch_in(t.path(), &args, &[]);
    let mut s = by_output(&summary(&o));
    assert_eq!(
        s.keys().collect::<Vec<_>>(),
        ["out/100.mp4", "out/7.mp4", "out/8.mp4"],
        "{}",
        describe(&o)
    );
    let (ok, error) = s.remove("out/8.mp4").expect("out/8.mp4");
    assert!(!ok && error.is_some_and(|e| e.contains("no such date")));
    assert!(!t.path().join("out/8.mp4").exists());
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    for (out, (ok, error)) in &s {
        let p = t.path().join(out);
        assert_eq!(p.exists(), *ok, "{out}: {error:?}");
        if *ok && common::have_ffmpeg() {
            let (clean, err) = decode_null(&p);
            assert!(clean && err.is_empty(), "{out}: {err}");
        } else if !ok {
            assert!(error.as_deref().is_some_and(|e| !e.is_empty()));
        }
    }
    if t.path().join("out").exists() {
        for e in dir_entries(&t.path().join("out")) {
            assert!(!e.contains("seam-tmp"), "temporary file left: {e}");
        }
    }
}

#[test]
fn json_summary_shape() {
    let t = tempfile::tempdir().expect("tempdir");
    copy(&fixture("c.mp4"), &t.path().join("c.mp4"));
    let job = serde_json::json!({"outputs": [
        {"output": "ok.mp4", "inputs": [{"path": "c.mp4"}, {"path": "c.mp4", "trim": [0, 1]}]},
        {"output": "bad.mp4", "inputs": [{"path": "missing.mp4"}]},
    ]});
    write_job(&t.path().join("job.json"), &job);
    let o = batch_in(t.path(), &["job.json", "--json", "-j", "2"], &[]);
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    let v = summary(&o);
    for key in [
        "ok",
        "succeeded",
        "failed",
        "total_in_job",
        "threads",
        "seconds",
        "outputs",
    ] {
        assert!(v.get(key).is_some(), "no {key}: {v}");
    }
    assert_eq!(v["shard"], Value::Null);
    let outs = v["outputs"].as_array().expect("outputs");
    assert_eq!(outs.len(), 2);
    // In the job's order whatever finished first.
    let good = &outs[0];
    let bad = &outs[1];
    assert!(good["output"]
        .as_str()
        .is_some_and(|p| p.ends_with("ok.mp4")));
    assert_eq!(good["ok"], true);
    assert_eq!(good["error"], Value::Null);
    assert_eq!(good["position"], 0);
    let bytes = std::fs::metadata(t.path().join("ok.mp4"))
        .expect("ok.mp4")
        .len();
    assert_eq!(good["bytes"].as_u64(), Some(bytes));
    assert!(good["seconds"].as_f64().is_some_and(|s| s >= 0.0));
    assert!(good["started_seconds"].as_f64().is_some_and(|s| s >= 0.0));
    // c.mp4 lasts 2 s (fixtures/make.sh); the second copy is trimmed to its first second, cut at
    // keyframes, so the output lasts between 2 and 4 s.
    let d = good["duration_seconds"].as_f64().expect("duration");
    assert!(d > 2.0 && d <= 4.0, "{d}");
    assert_eq!(bad["ok"], false);
    assert_eq!(bad["position"], 1);
    assert_eq!(bad["bytes"], 0);
    assert_eq!(bad["duration_seconds"], Value::Null);
    assert!(
        bad["error"]
            .as_str()
            .is_some_and(|e| e.contains("missing.mp4")),
        "{bad}"
    );
    assert_eq!(bad["exit_code"], 3);
    assert_only(t.path(), &["c.mp4", "job.json", "ok.mp4"]);
}

#[test]
fn an_interrupted_batch_leaves_only_whole_outputs() {
    // Ctrl-C (SIGINT) in the middle of a batch: outputs being written stop and vanish, outputs
    // not started are reported as interrupted, finished ones stay whole. This is the path where
    // a temporary output file exists when the failure comes (a broken input fails earlier).
    let t = tempfile::tempdir().expect("tempdir");
    let d = t.path();
    for n in ["a.mp4", "b.mp4", "c.mp4"] {
        copy(&fixture(n), &d.join(n));
    }
    let n = 400;
    let job = serde_json::json!({"outputs": (0..n).map(|k| serde_json::json!({
        "output": format!("out/{k}.mp4"),
        "inputs": [{"path": "a.mp4"}, {"path": "b.mp4"}, {"path": "c.mp4"}, {"path": "a.mp4"}],
    })).collect::<Vec<_>>()});
    write_job(&d.join("job.json"), &job);
    let mut child = Command::new(common::SEAM)
        .current_dir(d)
        .args(["batch", "job.json", "--jobs", "2", "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn seam");
    // Wait for the first finished output, then interrupt.
    let mut err = std::io::BufReader::new(child.stderr.take().expect("stderr"));
    let mut first = String::new();
    std::io::BufRead::read_line(&mut err, &mut first).expect("read stderr");
    assert!(first.starts_with("seam: ok "), "{first}");
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(kill.success());
    // The rest of stderr on its own thread: the JSON summary may fill the stdout pipe first.
    let rest = std::thread::spawn(move || {
        let mut rest = String::new();
        std::io::Read::read_to_string(&mut err, &mut rest).map(|_| rest)
    });
    let o = child.wait_with_output().expect("wait seam");
    let rest = rest.join().expect("stderr thread").expect("read stderr");
    assert_eq!(o.status.code(), Some(130), "{first}{rest}");
    // Outputs the interrupt kept from starting are counted, not listed one by one.
    assert!(rest.contains("not started: interrupted)"), "{rest}");
    assert!(rest.lines().count() < n / 2, "{rest}");
    let v: Value = serde_json::from_slice(&o.stdout).expect("summary");
    let s = by_output(&v);
    assert_eq!(s.len(), n, "every output is in the summary");
    let written: Vec<&String> = s
        .iter()
        .filter(|(_, (ok, _))| *ok)
        .map(|(k, _)| k)
        .collect();
    assert!(
        !written.is_empty() && written.len() < n,
        "{} written",
        written.len()
    );
    for (out, (ok, error)) in &s {
        assert_eq!(d.join(out).exists(), *ok, "{out}: {error:?}");
        if !ok {
            assert_eq!(
                error.as_deref(),
                Some("interrupted; no output written"),
                "{out}"
            );
        }
    }
    // Nothing half-written: no temporary file, and every output there is whole.
    let entries = dir_entries(&d.join("out"));
    assert!(
        entries.iter().all(|e| !e.contains("seam-tmp")),
        "{entries:?}"
    );
    assert_eq!(entries.len(), written.len());
    if require_ffmpeg() {
        for out in written {
            let (clean, ferr) = decode_null(&d.join(out));
            assert!(clean && ferr.is_empty(), "{out}: {ferr}");
        }
    }
}
