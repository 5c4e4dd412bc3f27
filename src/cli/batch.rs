//! `seam batch`: many sessions, one output each, in parallel (see [`crate::batch`]).
//!
//! Exit codes: 0 every output written, 1 one or more failed (the others are written), 2 a bad job
//! or usage, 3 the job file or folder could not be read, 130 interrupted.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::batch::{self, names::NamePattern, BatchError, Defaults, DirOutputs, Outcome, Shard};

/// `seam batch` arguments.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("source").required(true).args(["job", "dir"]))]
pub struct BatchArgs {
    /// The job file: {"outputs": [{"output": PATH, "inputs": [{"path": PATH, "start": SECONDS,
    /// "trim": [START, END]}], "gaps": "hold"|"skip", ...}]}; relative paths are taken from its
    /// folder.
    job: Option<PathBuf>,
    /// Instead of a job file: a recorder's folder, one output per user (see --name-pattern).
    #[arg(long, value_name = "DIR", requires_all = ["name_pattern", "output_dir"])]
    dir: Option<PathBuf>,
    /// With --dir: a regular expression with named groups `uid` (whose output a file belongs
    /// to) and optionally `start` (17 digits yyyyMMddHHmmssSSS in UTC, or seconds), searched in
    /// each file name; e.g. `(?P<uid>\d+)_(?P<start>\d{17})` for 100_20190611073246073.aac.
    /// Inputs are sorted by start (then name); files that do not match are skipped.
    #[arg(long, value_name = "RE", requires = "dir")]
    name_pattern: Option<String>,
    /// With --dir: the folder the outputs are written to.
    #[arg(long, value_name = "DIR", requires = "dir")]
    output_dir: Option<PathBuf>,
    /// With --dir: each output's file name, `{uid}` replaced by the user's id (default
    /// `{uid}.mp4`, or `{uid}.m4a` with --audio-only).
    #[arg(long, value_name = "TEMPLATE", requires = "dir")]
    output_name: Option<String>,
    /// Outputs written at once (default: the number of cores).
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Run only the outputs at positions INDEX, INDEX+COUNT, INDEX+2*COUNT... of the batch
    /// (INDEX from 0), for array jobs (docs/SCALE.md).
    #[arg(long, value_name = "INDEX/COUNT", conflicts_with = "shard_count")]
    shard: Option<String>,
    /// The shard count, with INDEX taken from the environment variable --shard-index-env.
    #[arg(long, value_name = "COUNT")]
    shard_count: Option<u32>,
    /// The environment variable holding INDEX with --shard-count (AWS Batch:
    /// AWS_BATCH_JOB_ARRAY_INDEX; Slurm: SLURM_ARRAY_TASK_ID with --array=0-N).
    #[arg(long, value_name = "NAME", default_value = "JOB_COMPLETION_INDEX")]
    shard_index_env: String,
    /// List what would be written (outputs, inputs, start times) without writing anything.
    #[arg(long)]
    dry_run: bool,
    /// Session modes for every output (a job's own fields override them).
    #[command(flatten)]
    modes: super::session_cli::SessionModes,
    /// Overwrite outputs that exist.
    #[arg(short = 'y', long = "overwrite", conflicts_with = "skip_existing")]
    overwrite: bool,
    /// Leave outputs that exist alone and count them as done (outputs appear only whole, so a
    /// retried shard redoes only what failed or never ran).
    #[arg(long)]
    skip_existing: bool,
    /// Fragmented MP4 outputs.
    #[arg(long)]
    fragmented: bool,
    /// Salvage what is readable from damaged inputs.
    #[arg(long)]
    best_effort: bool,
    /// Print the summary as JSON on stdout (an `outputs` array).
    #[arg(long)]
    json: bool,
    /// Print only failures and the total.
    #[arg(short, long)]
    quiet: bool,
}

/// Runs `seam batch`; returns the exit code.
pub fn run(a: BatchArgs) -> u8 {
    let json = a.json;
    match setup(&a) {
        Ok((jobs, shard, total)) => execute(&a, jobs, shard, total),
        Err(e) => {
            if json {
                let v = serde_json::json!({"ok": false, "error": e.to_string(), "outputs": []});
                println!("{v}");
            }
            eprintln!("seam: {e}");
            u8::try_from(e.exit_code()).unwrap_or(2)
        }
    }
}

type Setup = (Vec<(usize, batch::OutputJob)>, Option<Shard>, usize);

fn setup(a: &BatchArgs) -> Result<Setup, BatchError> {
    let mut d = Defaults {
        session: a.modes.options(),
        ..Defaults::default()
    };
    d.options.overwrite = a.overwrite;
    d.options.fragmented = a.fragmented;
    d.options.best_effort = a.best_effort;
    let shard = match (&a.shard, a.shard_count) {
        (Some(s), _) => Some(Shard::parse(s)?),
        (None, Some(count)) => {
            let var = &a.shard_index_env;
            let v = std::env::var(var).map_err(|_| {
                BatchError::Shard(format!("--shard-count given but ${var} is not set"))
            })?;
            let index = v
                .trim()
                .parse::<u32>()
                .map_err(|_| BatchError::Shard(format!("${var} is {v:?}, not an index from 0")))?;
            Some(Shard::new(index, count)?)
        }
        (None, None) => None,
    };
    let jobs = if let Some(job) = &a.job {
        batch::job::load(job, &d)?
    } else {
        // clap guarantees --dir comes with --name-pattern and --output-dir.
        let (Some(dir), Some(re), Some(out)) = (&a.dir, &a.name_pattern, &a.output_dir) else {
            return Err(BatchError::Dir(
                "--dir needs --name-pattern and --output-dir".into(),
            ));
        };
        let pattern = NamePattern::new(re, &[batch::names::UID_GROUP])?;
        let ext = if a.modes.audio_only { "m4a" } else { "mp4" };
        let template = a
            .output_name
            .clone()
            .unwrap_or_else(|| format!("{{uid}}.{ext}"));
        let found = batch::from_dir(
            dir,
            &pattern,
            &DirOutputs {
                output_dir: out.clone(),
                template,
            },
            &d,
        )?;
        if !found.unmatched.is_empty() && !a.quiet {
            eprintln!(
                "seam: {}: {} files do not match the pattern and are skipped (first: {})",
                dir.display(),
                found.unmatched.len(),
                found.unmatched[0]
            );
        }
        if found.jobs.is_empty() {
            return Err(BatchError::Dir(format!(
                "{}: no file matches --name-pattern",
                dir.display()
            )));
        }
        found.jobs
    };
    let total = jobs.len();
    let jobs = jobs
        .into_iter()
        .enumerate()
        .filter(|(k, _)| shard.is_none_or(|s| s.contains(*k)))
        .collect();
    Ok((jobs, shard, total))
}

fn execute(
    a: &BatchArgs,
    jobs: Vec<(usize, batch::OutputJob)>,
    shard: Option<Shard>,
    total: usize,
) -> u8 {
    let shard_json = shard.map(|s| serde_json::json!({"index": s.index, "count": s.count}));
    if a.dry_run {
        let outputs: Vec<_> = jobs.iter().map(|(k, j)| dry_json(*k, j)).collect();
        if a.json {
            let v = serde_json::json!({"dry_run": true, "shard": shard_json, "outputs": outputs});
            println!("{v}");
        } else {
            for (k, j) in &jobs {
                println!("{k}\t{}", j.output.display());
                if let Some(why) = &j.refused {
                    println!("\trefused: {why}");
                }
                for i in &j.inputs {
                    let start = i.start.map(ts_text).unwrap_or_else(|| "-".into());
                    println!("\t{start}\t{}", i.path.display());
                }
            }
        }
        return 0;
    }
    let threads = a.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1)
    });
    let started = Instant::now();
    let quiet = a.quiet;
    let outcomes = batch::run(&jobs, threads, a.skip_existing, &|o: &Outcome| {
        // Outputs an interrupt kept from starting are counted in the total, not listed.
        if (!quiet || o.result.is_err()) && (o.ran || o.skipped) {
            eprintln!("seam: {}", summary_line(o));
        }
    });
    let failed = outcomes.iter().filter(|o| o.result.is_err()).count();
    let skipped = outcomes.iter().filter(|o| o.skipped).count();
    let not_started = outcomes.iter().filter(|o| !o.ran && !o.skipped).count();
    let interrupted = outcomes.iter().any(|o| {
        matches!(
            o.result,
            Err(crate::Error::Mux(crate::error::MuxError::Interrupted))
        )
    });
    let seconds = started.elapsed().as_secs_f64();
    let share = match shard {
        Some(s) => format!(" (shard {}/{} of {total})", s.index, s.count),
        None => String::new(),
    };
    eprintln!(
        "seam: batch: {} outputs{share}, {} ok, {failed} failed{}, {:.2} s with {} threads",
        outcomes.len(),
        outcomes.len() - failed,
        [
            (skipped, "skipped: they exist"),
            (not_started, "not started: interrupted")
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!(" ({n} {what})"))
        .collect::<String>(),
        seconds,
        threads.clamp(1, jobs.len().max(1))
    );
    if a.json {
        let outputs: Vec<_> = outcomes.iter().map(outcome_json).collect();
        let v = serde_json::json!({
            "ok": failed == 0,
            "succeeded": outcomes.len() - failed,
            "failed": failed,
            "skipped": skipped,
            "total_in_job": total,
            "shard": shard_json,
            "threads": threads,
            "seconds": seconds,
            "outputs": outputs,
        });
        println!("{v}");
    }
    if interrupted {
        130
    } else if failed > 0 {
        1
    } else {
        0
    }
}

/// `ok     OUT  1.23 s  456789 bytes` or `FAILED OUT  0.01 s  error: WHY`.
fn summary_line(o: &Outcome) -> String {
    let secs = o.elapsed.as_secs_f64();
    match &o.result {
        Ok(_) if o.skipped => format!("skip   {}  exists", o.output.display()),
        Ok(r) => {
            let extra = if r.len() > 1 {
                format!(" in {} files", r.len())
            } else {
                String::new()
            };
            format!(
                "ok     {}  {secs:.2} s  {} bytes{extra}",
                o.output.display(),
                o.bytes()
            )
        }
        Err(e) => format!("FAILED {}  {secs:.2} s  error: {e}", o.output.display()),
    }
}

fn outcome_json(o: &Outcome) -> serde_json::Value {
    let (error, exit_code, reports) = match &o.result {
        Ok(r) => (None, 0, r.as_slice()),
        Err(e) => (Some(e.to_string()), e.exit_code(), &[][..]),
    };
    serde_json::json!({
        "position": o.position,
        "output": o.output.display().to_string(),
        "ok": o.result.is_ok(),
        "skipped": o.skipped,
        "error": error,
        "exit_code": exit_code,
        "bytes": o.bytes(),
        "started_seconds": o.started.as_secs_f64(),
        "seconds": o.elapsed.as_secs_f64(),
        "duration_seconds": (o.result.is_ok() && !o.skipped).then(|| reports.iter().map(|r| r.duration_seconds).sum::<f64>()),
        "files": reports.iter().flat_map(|r| r.files.iter()).collect::<Vec<_>>(),
        "warnings": reports.iter().flat_map(|r| r.warnings.iter()).collect::<Vec<_>>(),
    })
}

fn dry_json(position: usize, j: &batch::OutputJob) -> serde_json::Value {
    let inputs: Vec<_> = j
        .inputs
        .iter()
        .map(|i| {
            serde_json::json!({
                "path": i.path.display().to_string(),
                "start": i.start.map(ts_text),
            })
        })
        .collect();
    serde_json::json!({
        "position": position,
        "output": j.output.display().to_string(),
        "inputs": inputs,
        "refused": j.refused,
    })
}

/// An exact time as decimal seconds when its timescale is a power of ten (as parsed), else
/// `TICKS/TIMESCALE`.
fn ts_text(t: crate::time::Ts) -> String {
    let den = i64::from(t.timescale);
    let digits = t.timescale.checked_ilog10().unwrap_or(0);
    if den > 0 && 10i64.checked_pow(digits) == Some(den) && t.value >= 0 {
        let (w, f) = (t.value / den, t.value % den);
        if digits == 0 {
            return w.to_string();
        }
        return format!("{w}.{f:0width$}", width = digits as usize);
    }
    format!("{}/{}", t.value, t.timescale)
}
