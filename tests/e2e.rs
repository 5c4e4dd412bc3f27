//! End-to-end tests of the `seam` binary that need no ffmpeg: output layout (box order, one moof
//! per GOP), bit-exactness by seam's own demuxer, refusals and exit codes, output safety and
//! `seam probe --json`.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use seam::model::TrackKind;

fn paths(set: &[&str]) -> Vec<PathBuf> {
    set.iter().map(|n| fixture(n)).collect()
}

fn stitch_args(out: &Path, inputs: &[PathBuf], extra: &[&str]) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec!["stitch".into()];
    a.extend(extra.iter().map(Into::into));
    a.push("-o".into());
    a.push(out.into());
    a.extend(inputs.iter().map(|p| p.clone().into_os_string()));
    a
}

fn top_kinds(data: &[u8]) -> Vec<String> {
    top_level_boxes(data).into_iter().map(|b| b.kind).collect()
}

/// Sync samples of the video track, by seam's demuxer.
fn video_keyframes(p: &Path) -> usize {
    seam_media(p)
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Video)
        .map_or(0, |t| t.samples.iter().filter(|s| s.sync).count())
}

/// 1 (seam side). Every output sample's bytes equal the corresponding input sample's (SHA-256 of
/// the bytes seam's demuxer points at), and the audio runs agree with the plan's joins.
#[test]
fn samples_are_bit_exact_by_seam_demuxer() {
    let outs = all_outputs(&[false, true], true);
    let mut failures = Vec::new();
    for (set, frag, out) in &outs {
        let tag = format!(
            "{} ({})",
            set_name(set),
            if *frag { "fragmented" } else { "progressive" }
        );
        let inputs = paths(set);
        let ov = seam_sample_hashes(out, TrackKind::Video);
        let iv: Vec<String> = inputs
            .iter()
            .flat_map(|p| seam_sample_hashes(p, TrackKind::Video))
            .collect();
        if ov != iv {
            let k = ov.iter().zip(&iv).position(|(a, b)| a != b);
            failures.push(format!(
                "{tag}: video: {} output samples, inputs {}; first difference at {k:?}",
                ov.len(),
                iv.len()
            ));
            continue;
        }
        let oa = seam_sample_hashes(out, TrackKind::Audio);
        let ia: Vec<Vec<String>> = inputs
            .iter()
            .map(|p| seam_sample_hashes(p, TrackKind::Audio))
            .collect();
        let al = match align_audio(&oa, &ia) {
            Ok(al) => al,
            Err(e) => {
                failures.push(format!("{tag}: audio: {e}"));
                continue;
            }
        };
        // The plan describes the same joins.
        let medias: Vec<seam::model::Media> =
            inputs.iter().map(|p| (*seam_media(p)).clone()).collect();
        let plan = seam::plan(&medias).unwrap_or_else(|e| panic!("{tag}: plan: {e}"));
        for (i, (r, j)) in al.runs.iter().zip(&plan.joins).enumerate() {
            let got = (
                j.audio().map_or(0, |a| a.dropped_head) as usize,
                j.audio().map_or(0, |a| a.dropped_tail) as usize,
                j.audio().map_or(0, |a| a.generated) as usize,
            );
            if got != (r.head, r.tail, r.silence_before + r.silence_inside) {
                failures.push(format!(
                    "{tag}: input {i} ({}): plan says head/tail dropped and silence {got:?}, \
                     output has {:?}",
                    set[i],
                    (r.head, r.tail, r.silence_before + r.silence_inside)
                ));
            }
        }
        if let Some(s) = &al.silence {
            let generated: Vec<String> = plan.generated.iter().map(|b| sha256_hex(b)).collect();
            if !generated.contains(s) {
                failures.push(format!(
                    "{tag}: the silent packets are not the plan's generated frame"
                ));
            }
            if ia.iter().flatten().any(|h| h == s) {
                failures.push(format!("{tag}: the silent packet also occurs in an input"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// 5. Progressive output: ftyp, moov, mdat, nothing else, in that order.
#[test]
fn progressive_output_is_ftyp_moov_mdat() {
    for (set, _, out) in all_outputs(&[false], true) {
        let data = std::fs::read(&out).expect("read output");
        assert_eq!(
            top_kinds(&data),
            ["ftyp", "moov", "mdat"],
            "{}: top-level boxes",
            set_name(set)
        );
    }
}

/// 5. Fragmented output: ftyp, moov with mvex, then moof/mdat pairs, one moof per video GOP.
#[test]
fn fragmented_output_is_moov_then_one_moof_per_gop() {
    for (set, _, out) in all_outputs(&[true], true) {
        let tag = set_name(set);
        let data = std::fs::read(&out).expect("read output");
        let top = top_level_boxes(&data);
        let kinds: Vec<&str> = top.iter().map(|b| b.kind.as_str()).collect();
        assert!(
            kinds.len() >= 4 && kinds[0] == "ftyp" && kinds[1] == "moov",
            "{tag}: top-level boxes {kinds:?}"
        );
        let moov_children: Vec<String> = children(&data, &top[1])
            .into_iter()
            .map(|b| b.kind)
            .collect();
        assert!(
            moov_children.iter().any(|k| k == "mvex"),
            "{tag}: moov has no mvex: {moov_children:?}"
        );
        let rest = &kinds[2..];
        assert!(
            rest.len() % 2 == 0
                && rest
                    .chunks(2)
                    .all(|pair| pair[0] == "moof" && pair[1] == "mdat"),
            "{tag}: after moov expected moof/mdat pairs, got {rest:?}"
        );
        let moofs = rest.len() / 2;
        let in_keys: usize = paths(set).iter().map(|p| video_keyframes(p)).sum();
        assert_eq!(
            moofs, in_keys,
            "{tag}: {moofs} moofs, the inputs have {in_keys} video key frames"
        );
        assert_eq!(
            video_keyframes(&out),
            in_keys,
            "{tag}: output key frames (seam's demuxer)"
        );
    }
}

/// Runs a stitch that must fail into an empty directory; returns (exit code, stderr) and checks
/// that the directory is still empty (no output, no temporary file).
fn failing_stitch(inputs: &[PathBuf], name: &str) -> (Option<i32>, String) {
    failing_stitch_with(inputs, name, &[])
}

/// [`failing_stitch`] with more arguments.
fn failing_stitch_with(inputs: &[PathBuf], name: &str, extra: &[&str]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join(name);
    let o = seam(stitch_args(&out, inputs, extra));
    let left = dir_entries(dir.path());
    assert!(
        left.is_empty(),
        "files left in the output directory: {left:?}\n{}",
        describe(&o)
    );
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// 6. A resolution change is refused, naming both files and both sizes, and nothing is left.
#[test]
fn incompatible_resolution_is_refused_and_leaves_nothing() {
    let (code, err) = failing_stitch(&paths(&["a.mp4", "portrait.mp4"]), "x.mp4");
    assert_eq!(code, Some(1), "exit code; stderr: {err}");
    for s in ["portrait.mp4", "a.mp4", "320x240", "240x320"] {
        assert!(err.contains(s), "stderr lacks {s:?}: {err}");
    }
}

/// (6.) An audio format change under `--on-mismatch error` is refused (not re-encoded), naming the file
/// and the parameter, and nothing is left.
#[test]
fn incompatible_audio_is_refused_under_on_mismatch_error_and_leaves_nothing() {
    let (code, err) = failing_stitch_with(
        &paths(&["a.mp4", "mono44k.mp4"]),
        "x.mp4",
        &["--on-mismatch", "error"],
    );
    assert_eq!(code, Some(1), "exit code; stderr: {err}");
    assert!(err.contains("mono44k.mp4"), "stderr lacks the file: {err}");
    assert!(
        err.contains("a.mp4"),
        "stderr lacks the reference file: {err}"
    );
    assert!(
        err.contains("sample rate") || err.contains("channels"),
        "stderr names neither sample rate nor channels: {err}"
    );
}

/// 6. Usage errors exit 2.
#[test]
fn usage_errors_exit_2() {
    let a = fixture("a.mp4");
    let dir = tempfile::tempdir().expect("tempdir");
    let x = dir.path().join("x.mp4");
    let cases: Vec<Vec<std::ffi::OsString>> = vec![
        vec![],
        vec!["stitch".into()],
        vec!["stitch".into(), "-o".into(), x.clone().into()],
        vec!["stitch".into(), a.clone().into()],
        vec![
            "stitch".into(),
            "--no-such-flag".into(),
            "-o".into(),
            x.clone().into(),
            a.clone().into(),
        ],
        vec!["frobnicate".into()],
        vec!["probe".into()],
    ];
    for args in cases {
        let o = seam(&args);
        assert_eq!(o.status.code(), Some(2), "seam {args:?}: {}", describe(&o));
    }
    assert!(dir_entries(dir.path()).is_empty(), "files left behind");
}

/// 6. A missing input is an I/O error: exit 3, nothing left.
#[test]
fn missing_input_exits_3_and_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("missing.mp4");
    let out = tempfile::tempdir().expect("tempdir");
    let o = seam(stitch_args(
        &out.path().join("x.mp4"),
        &[fixture("a.mp4"), missing],
        &[],
    ));
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("missing.mp4"), "stderr lacks the file: {err}");
    assert!(dir_entries(out.path()).is_empty(), "files left behind");
}

/// 7. The output may not be one of the inputs (also through a symlink); the input is untouched.
#[test]
fn refuses_output_that_is_an_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.mp4");
    std::fs::copy(fixture("a.mp4"), &input).expect("copy fixture");
    let before = file_sha256(&input);
    for y in [false, true] {
        let extra: &[&str] = if y { &["-y"] } else { &[] };
        let o = seam(stitch_args(
            &input,
            &[input.clone(), fixture("b.mp4")],
            extra,
        ));
        assert_eq!(o.status.code(), Some(1), "-y={y}: {}", describe(&o));
        assert_eq!(file_sha256(&input), before, "input changed (-y={y})");
        // Same file through another name.
        let link = dir.path().join("link.mp4");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&input, &link).expect("symlink");
        let o = seam(stitch_args(
            &link,
            &[fixture("b.mp4"), input.clone()],
            extra,
        ));
        assert_eq!(
            o.status.code(),
            Some(1),
            "symlink, -y={y}: {}",
            describe(&o)
        );
        assert_eq!(
            file_sha256(&input),
            before,
            "input changed via symlink (-y={y})"
        );
        std::fs::remove_file(&link).expect("remove symlink");
    }
    assert_eq!(dir_entries(dir.path()), ["in.mp4"], "files left behind");
}

/// 7. An existing output is kept without -y and replaced with -y.
#[test]
fn existing_output_needs_y() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("out.mp4");
    std::fs::write(&out, b"precious").expect("write");
    let inputs = paths(&["a.mp4", "b.mp4"]);
    let o = seam(stitch_args(&out, &inputs, &[]));
    assert_eq!(o.status.code(), Some(1), "{}", describe(&o));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("-y"),
        "message should mention -y: {}",
        describe(&o)
    );
    assert_eq!(std::fs::read(&out).expect("read"), b"precious");
    assert_eq!(dir_entries(dir.path()), ["out.mp4"]);

    let o = seam(stitch_args(&out, &inputs, &["-y", "-q"]));
    assert!(o.status.success(), "{}", describe(&o));
    let data = std::fs::read(&out).expect("read");
    assert_eq!(top_kinds(&data), ["ftyp", "moov", "mdat"]);
    let m = seam::probe(&out, &seam::Limits::default()).expect("probe output");
    let samples: usize = m.tracks.iter().map(|t| t.samples.len()).sum();
    let in_samples: usize = inputs
        .iter()
        .map(|p| {
            seam_media(p)
                .tracks
                .iter()
                .filter(|t| t.kind == TrackKind::Video)
                .map(|t| t.samples.len())
                .sum::<usize>()
        })
        .sum();
    let out_video = m
        .tracks
        .iter()
        .filter(|t| t.kind == TrackKind::Video)
        .map(|t| t.samples.len())
        .sum::<usize>();
    assert!(samples > out_video, "output has audio");
    assert_eq!(out_video, in_samples, "video samples after -y");
    assert_eq!(dir_entries(dir.path()), ["out.mp4"], "temp file left");
}

fn probe_json(files: &[PathBuf]) -> serde_json::Value {
    let mut args: Vec<std::ffi::OsString> = vec!["probe".into(), "--json".into()];
    args.extend(files.iter().map(|p| p.clone().into_os_string()));
    let o = seam(&args);
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("probe --json is not JSON: {e}\n{}", describe(&o)))
}

/// 8. `seam probe --json` describes compatible inputs.
#[test]
fn probe_json_reports_streams_and_compatibility() {
    let files = paths(&["a.mp4", "b.mp4"]);
    let v = probe_json(&files);
    assert_eq!(v["compatibility"]["copy_compatible"], true, "{v}");
    let inputs = v["inputs"].as_array().expect("inputs array");
    assert_eq!(inputs.len(), 2, "{v}");
    for (i, p) in files.iter().enumerate() {
        let tracks = inputs[i]["tracks"].as_array().expect("tracks");
        let video = tracks
            .iter()
            .find(|t| t["kind"] == "video")
            .expect("video track");
        let audio = tracks
            .iter()
            .find(|t| t["kind"] == "audio")
            .expect("audio track");
        assert_eq!(video["width"], 320, "{}", p.display());
        assert_eq!(video["height"], 240, "{}", p.display());
        assert_eq!(audio["sample_rate"], 48000, "{}", p.display());
        assert_eq!(audio["channels"], 2, "{}", p.display());
        let m = seam_media(p);
        for (t, kind) in [(video, TrackKind::Video), (audio, TrackKind::Audio)] {
            let mt = m.tracks.iter().find(|x| x.kind == kind).expect("track");
            assert_eq!(t["samples"].as_u64(), Some(mt.samples.len() as u64));
            assert_eq!(
                t["keyframes"].as_u64(),
                Some(mt.samples.iter().filter(|s| s.sync).count() as u64)
            );
        }
    }
    // The fixture's own numbers (fixtures/README.md).
    let t0 = &inputs[0]["tracks"];
    let count = |kind: &str| {
        t0.as_array()
            .and_then(|a| a.iter().find(|t| t["kind"] == kind))
            .and_then(|t| t["samples"].as_u64())
    };
    assert_eq!(count("video"), Some(50));
    assert_eq!(count("audio"), Some(95));
}

/// 8. `seam probe --json` says why inputs are not copy-compatible.
#[test]
fn probe_json_reports_incompatibility() {
    let v = probe_json(&paths(&["a.mp4", "portrait.mp4"]));
    assert_eq!(v["compatibility"]["copy_compatible"], false, "{v}");
    let reason = v["compatibility"]["reason"].as_str().unwrap_or("");
    assert!(
        reason.contains("portrait.mp4") && reason.contains("240x320"),
        "reason should name the file and the size: {v}"
    );
}

/// `--inputs-from FILE` appends the listed paths (one per line, `#` comments and blank lines
/// skipped) to those on the command line: the same output as listing them all as arguments.
#[test]
fn inputs_from_a_list_file_equal_arguments() {
    let dir = tempfile::tempdir().expect("tempdir");
    let list = dir.path().join("list.txt");
    let (b, c) = (fixture("b.mp4"), fixture("c.mp4"));
    std::fs::write(
        &list,
        format!("# parts\n{}\n\n{}\n", b.display(), c.display()),
    )
    .expect("write list");
    let by_list = dir.path().join("by_list.mp4");
    let list_arg = list.display().to_string();
    let o = seam(stitch_args(
        &by_list,
        &[fixture("a.mp4")],
        &["--inputs-from", &list_arg],
    ));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    let by_args = dir.path().join("by_args.mp4");
    let o = seam(stitch_args(
        &by_args,
        &paths(&["a.mp4", "b.mp4", "c.mp4"]),
        &[],
    ));
    assert_eq!(o.status.code(), Some(0), "{}", describe(&o));
    assert_eq!(file_sha256(&by_list), file_sha256(&by_args));
    // An unreadable list is an I/O error, and nothing is written.
    let missing = dir.path().join("missing.txt").display().to_string();
    let o = seam(stitch_args(
        &dir.path().join("x.mp4"),
        &[],
        &["--inputs-from", &missing],
    ));
    assert_eq!(o.status.code(), Some(3), "{}", describe(&o));
    assert!(!dir.path().join("x.mp4").exists());
}
