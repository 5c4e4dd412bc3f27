//! The batch job file (`seam batch JOB.json`).
//!
//! ```json
//! {"outputs": [
//!   {"output": "out/100.mp4",
//!    "inputs": [{"path": "100_a.mp4", "start": 1560238366.073},
//!               {"path": "100_b.aac", "start": "1560238400.5", "trim": [0, 12.5]}],
//!    "gaps": "hold"}
//! ]}
//! ```
//!
//! Times are read from the JSON text itself (never through a binary float): `start` is seconds as
//! a number or a string (`1560238366.073`, at most 9 decimals); `trim` is `[START, END]` (END may
//! be `null` or left out) in seconds or `"[hh:]mm:ss[.frac]"` strings, as `--trim` takes them.
//! Relative paths are resolved against the job file's folder. Unknown fields are refused, naming
//! the field and the output (and input) index, so a typo never silently changes a job.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{BatchError, Defaults, OutputJob};
use crate::session::{Gaps, InputSpec};

/// Largest job file read (a cap before reading it whole): 256 MiB holds millions of inputs.
pub const MAX_JOB_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob<'a> {
    #[serde(borrow)]
    outputs: Vec<&'a RawValue>,
}

/// H.264/H.265 inputs whose parameter sets differ (`--parameter-sets` of `seam stitch`).
#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
enum ParameterSets {
    Refuse,
    Entries,
    Inband,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutput<'a> {
    output: String,
    #[serde(borrow)]
    inputs: Vec<&'a RawValue>,
    gaps: Option<Gaps>,
    per_segment: Option<bool>,
    audio_only: Option<bool>,
    video_only: Option<bool>,
    chapters: Option<bool>,
    overwrite: Option<bool>,
    fragmented: Option<bool>,
    best_effort: Option<bool>,
    parameter_sets: Option<ParameterSets>,
    on_mismatch: Option<crate::api::OnMismatch>,
    #[serde(borrow)]
    segment_duration: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInput<'a> {
    path: String,
    #[serde(borrow)]
    start: Option<&'a RawValue>,
    #[serde(borrow)]
    trim: Option<Vec<&'a RawValue>>,
}

/// Reads and checks a job file.
pub fn load(job: &Path, defaults: &Defaults) -> Result<Vec<OutputJob>, BatchError> {
    let io = |source| BatchError::Io {
        path: job.to_path_buf(),
        source,
    };
    let len = std::fs::metadata(job).map_err(io)?.len();
    if len > MAX_JOB_BYTES {
        return Err(BatchError::Job {
            job: job.to_path_buf(),
            at: String::new(),
            why: format!("{len} bytes, more than the {MAX_JOB_BYTES} a job file may hold"),
        });
    }
    let text = std::fs::read_to_string(job).map_err(io)?;
    let base = job.parent().unwrap_or(Path::new(""));
    parse(&text, base, defaults).map_err(|(at, why)| BatchError::Job {
        job: job.to_path_buf(),
        at,
        why,
    })
}

/// Parses a job's text; relative paths are joined to `base`. Errors are (where, why).
pub fn parse(
    text: &str,
    base: &Path,
    defaults: &Defaults,
) -> Result<Vec<OutputJob>, (String, String)> {
    let raw: RawJob = serde_json::from_str(text).map_err(|e| (String::new(), e.to_string()))?;
    if raw.outputs.is_empty() {
        return Err((String::new(), "`outputs` is empty".into()));
    }
    let mut jobs = Vec::with_capacity(raw.outputs.len());
    for (k, o) in raw.outputs.iter().enumerate() {
        let at = format!("outputs[{k}]");
        jobs.push(parse_output(o.get(), base, defaults).map_err(|(sub, why)| (at + &sub, why))?);
    }
    super::check_paths(&jobs)?;
    Ok(jobs)
}

fn parse_output(
    text: &str,
    base: &Path,
    defaults: &Defaults,
) -> Result<OutputJob, (String, String)> {
    let top = |e: serde_json::Error| (String::new(), inner_error(&e));
    let o: RawOutput = serde_json::from_str(text).map_err(top)?;
    if o.inputs.is_empty() {
        return Err((String::new(), "`inputs` is empty".into()));
    }
    let mut inputs = Vec::with_capacity(o.inputs.len());
    for (k, i) in o.inputs.iter().enumerate() {
        let at = format!(".inputs[{k}]");
        inputs.push(parse_input(i.get(), base).map_err(|why| (at, why))?);
    }
    let mut session = defaults.session.clone();
    let mut options = defaults.options.clone();
    let set = |field: &mut bool, v: Option<bool>| *field = v.unwrap_or(*field);
    session.gaps = o.gaps.unwrap_or(session.gaps);
    set(&mut session.per_segment, o.per_segment);
    set(&mut session.audio_only, o.audio_only);
    set(&mut session.video_only, o.video_only);
    set(&mut session.chapters, o.chapters);
    set(&mut options.overwrite, o.overwrite);
    set(&mut options.fragmented, o.fragmented);
    set(&mut options.best_effort, o.best_effort);
    options.on_mismatch = o.on_mismatch.unwrap_or(options.on_mismatch);
    if options.on_mismatch == crate::api::OnMismatch::Split {
        return Err((
            ".on_mismatch".to_string(),
            "`split` writes several outputs; a batch output is one file (use transcode or error)"
                .into(),
        ));
    }
    if let Some(p) = o.parameter_sets {
        options.parameter_sets = match p {
            ParameterSets::Refuse => crate::plan::ParameterSets::Refuse,
            ParameterSets::Entries => crate::plan::ParameterSets::Entries,
            ParameterSets::Inband => crate::plan::ParameterSets::Inband,
        };
    }
    if let Some(d) = o.segment_duration {
        let s = unquote(d.get()).map_err(|why| (".segment_duration".to_string(), why))?;
        let d = crate::mux::hls::TargetDuration::parse(&s)
            .map_err(|e| (".segment_duration".to_string(), e.to_string()))?;
        options.segment_duration = Some(d);
    }
    if session.audio_only && session.video_only {
        return Err((
            String::new(),
            "`audio_only` and `video_only` together leave nothing to write".into(),
        ));
    }
    Ok(OutputJob {
        output: resolve(base, &o.output),
        inputs,
        session,
        options,
        refused: None,
    })
}

fn parse_input(text: &str, base: &Path) -> Result<InputSpec, String> {
    let i: RawInput = serde_json::from_str(text).map_err(|e| inner_error(&e))?;
    let start = match i.start {
        Some(s) if s.get() != "null" => {
            let t = unquote(s.get())?;
            Some(
                super::names::parse_decimal_seconds(&t)
                    .map_err(|why| format!("start {t}: {why}"))?,
            )
        }
        _ => None,
    };
    let trim = match i.trim {
        None => None,
        Some(v) if v.is_empty() || v.len() > 2 => {
            return Err("trim: expected [START, END] or [START]".into());
        }
        Some(v) => {
            let start = unquote(v[0].get())?;
            let text = match v.get(1).map(|e| e.get()) {
                None | Some("null") => start,
                Some(end) => format!("{start},{}", unquote(end)?),
            };
            Some(crate::plan::Trim::parse(&text).map_err(|why| format!("trim: {why}"))?)
        }
    };
    Ok(InputSpec {
        path: resolve(base, &i.path),
        start,
        trim,
    })
}

/// An error from parsing one output or input on its own, without serde_json's line and column:
/// they count from that object, not from the file, and the caller names the object instead.
fn inner_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    full.strip_suffix(&suffix).unwrap_or(&full).to_string()
}

/// A JSON number's text as written, or a JSON string's contents: times stay exact decimals.
fn unquote(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.starts_with('"') {
        return serde_json::from_str::<String>(raw).map_err(|e| e.to_string());
    }
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(format!(
            "{raw}: expected seconds as a plain decimal number (such as 12.5) or a string"
        ));
    }
    Ok(raw.to_string())
}

/// `p` as given when absolute, else under `base`.
fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        base.join(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::Ts;

    fn parse_ok(text: &str) -> Vec<OutputJob> {
        parse(text, Path::new("/jobs"), &Defaults::default()).unwrap()
    }

    fn parse_err(text: &str) -> String {
        let (at, why) =
            parse(text, Path::new("/jobs"), &Defaults::default()).expect_err("an error");
        format!("{at}: {why}")
    }

    #[test]
    fn times_are_exact_and_paths_relative_to_the_job() {
        let j = parse_ok(
            r#"{"outputs": [{"output": "o/1.mp4", "gaps": "skip", "overwrite": true,
                "inputs": [{"path": "a.mp4", "start": 1560238366.073123456},
                           {"path": "/abs/b.aac", "start": "12.5", "trim": [1, "00:02.5"]},
                           {"path": "c.ts", "trim": [3, null]}]}]}"#,
        );
        assert_eq!(j.len(), 1);
        assert_eq!(j[0].output, PathBuf::from("/jobs/o/1.mp4"));
        assert_eq!(j[0].session.gaps, Gaps::Skip);
        assert!(j[0].options.overwrite);
        let i = &j[0].inputs;
        assert_eq!(i[0].path, PathBuf::from("/jobs/a.mp4"));
        assert_eq!(
            i[0].start,
            Some(Ts::new(1_560_238_366_073_123_456, 1_000_000_000))
        );
        assert_eq!(i[1].path, PathBuf::from("/abs/b.aac"));
        assert_eq!(i[1].start, Some(Ts::new(125, 10)));
        let t = i[1].trim.unwrap();
        assert_eq!((t.start, t.end), (Ts::new(1, 1), Some(Ts::new(25, 10))));
        assert_eq!(i[2].trim.unwrap().end, None);
        assert_eq!(i[2].start, None);
    }

    #[test]
    fn unknown_fields_name_the_field_and_the_index() {
        let e = parse_err(
            r#"{"outputs": [{"output": "a.mp4", "inputs": [{"path": "x"}]},
                            {"output": "b.mp4", "inputs": [{"path": "x"}], "gap": "hold"}]}"#,
        );
        assert!(e.starts_with("outputs[1]: unknown field `gap`"), "{e}");
        assert!(
            !e.contains("at line"),
            "positions inside the output mislead: {e}"
        );
        let e = parse_err(r#"{"outputs": [{"output": "a.mp4", "inputs": [{"paht": "x"}]}]}"#);
        assert!(
            e.starts_with("outputs[0].inputs[0]: unknown field `paht`"),
            "{e}"
        );
        let e = parse_err(r#"{"output": []}"#);
        assert!(e.contains("unknown field `output`"), "{e}");
    }

    #[test]
    fn bad_values_are_refused() {
        for (job, want) in [
            (r#"{"outputs": []}"#, "`outputs` is empty"),
            (
                r#"{"outputs": [{"output": "a", "inputs": []}]}"#,
                "outputs[0]: `inputs` is empty",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x", "start": 1e9}]}]}"#,
                "outputs[0].inputs[0]: 1e9: expected seconds",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x", "start": -1}]}]}"#,
                "-1: expected seconds",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x", "trim": [5, 4]}]}]}"#,
                "trim: START 5 s is not before END 4 s",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x", "trim": []}]}]}"#,
                "trim: expected [START, END]",
            ),
            (
                r#"{"outputs": [{"output": "a", "gaps": "fill", "inputs": [{"path": "x"}]}]}"#,
                "unknown variant `fill`",
            ),
            (
                r#"{"outputs": [{"output": "a", "audio_only": true, "video_only": true,
                    "inputs": [{"path": "x"}]}]}"#,
                "leave nothing to write",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x"}]},
                                {"output": "./a", "inputs": [{"path": "y"}]}]}"#,
                "outputs[1]: /jobs/./a is also the output of outputs[0]",
            ),
            (
                r#"{"outputs": [{"output": "a", "inputs": [{"path": "x"}]},
                                {"output": "b", "inputs": [{"path": "a"}]}]}"#,
                "outputs[1]: input /jobs/a is the output of outputs[0]",
            ),
        ] {
            let e = parse_err(job);
            assert!(e.contains(want), "{job}: {e}");
        }
    }

    #[test]
    fn defaults_apply_unless_the_output_says_otherwise() {
        let mut d = Defaults::default();
        d.options.fragmented = true;
        d.session.chapters = true;
        let j = parse(
            r#"{"outputs": [{"output": "a", "inputs": [{"path": "x"}]},
                            {"output": "b", "fragmented": false, "inputs": [{"path": "x"}]}]}"#,
            Path::new(""),
            &d,
        )
        .unwrap();
        assert!(j[0].options.fragmented && j[0].session.chapters);
        assert!(!j[1].options.fragmented && j[1].session.chapters);
    }
}
