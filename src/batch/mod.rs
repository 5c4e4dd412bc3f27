//! Batch jobs: many sessions, each written to its own output, in parallel (`seam batch`).
//!
//! A batch is a list of [`OutputJob`]s, read from a job file ([`job::load`]) or from a recorder's
//! folder grouped by user ([`from_dir`]). [`run`] realizes each through [`crate::session::run`] on
//! a small pool of threads; one output's failure never stops the others, and since every output is
//! written through a temporary file renamed on success, a failed output leaves nothing behind.
//! [`Shard`] picks a deterministic, disjoint share of a batch, so an array job (Kubernetes Indexed
//! Job, AWS Batch array, Slurm array) can split thousands of sessions over machines
//! (docs/SCALE.md).

pub mod job;
pub mod names;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::api::{StitchOptions, StitchReport};
use crate::error::Error;
use crate::session::{InputSpec, SessionOptions};

/// One output of a batch and the session that makes it.
#[derive(Debug, Clone)]
pub struct OutputJob {
    /// The output file (or the first name of per-segment outputs).
    pub output: PathBuf,
    /// The inputs, in the order given.
    pub inputs: Vec<InputSpec>,
    /// Session modes.
    pub session: SessionOptions,
    /// Stitch options.
    pub options: StitchOptions,
    /// Known to fail before it runs, and why (a file of a recorder's folder whose name gives no
    /// start time): it is reported as failed without stopping the other outputs.
    pub refused: Option<String>,
}

/// Options every output of a batch starts from (the command line's); a job file's per-output
/// fields override them.
#[derive(Debug, Clone, Default)]
pub struct Defaults {
    /// Session modes.
    pub session: SessionOptions,
    /// Stitch options.
    pub options: StitchOptions,
}

/// Why a batch could not be set up (each output's own failure is an [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// Reading the job file or listing the folder failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The job file is not a valid job.
    #[error("{job}: {}{why}", if at.is_empty() { String::new() } else { format!("{at}: ") })]
    Job {
        /// The job file.
        job: PathBuf,
        /// Where in the job (`outputs[3].inputs[0]`), empty for the whole file.
        at: String,
        /// Why.
        why: String,
    },
    /// The name pattern, or a name it read.
    #[error(transparent)]
    Name(#[from] names::NameError),
    /// A folder-mode problem that is not about one name.
    #[error("{0}")]
    Dir(String),
    /// A bad `--shard`.
    #[error("--shard: {0}")]
    Shard(String),
}

impl BatchError {
    /// The CLI's exit code: 3 for I/O, 2 (usage) for the rest.
    pub fn exit_code(&self) -> i32 {
        match self {
            BatchError::Io { .. } => 3,
            _ => 2,
        }
    }
}

/// Refuses two outputs with one path (two threads would write one file) and an output that is
/// another output's input (it would be read while written). Paths are compared as written
/// (lexically, `.` components ignored), not through links.
pub(crate) fn check_paths(jobs: &[OutputJob]) -> Result<(), (String, String)> {
    let mut outputs: std::collections::HashMap<&Path, usize> = Default::default();
    for (k, j) in jobs.iter().enumerate() {
        if let Some(first) = outputs.insert(j.output.as_path(), k) {
            return Err((
                format!("outputs[{k}]"),
                format!(
                    "{} is also the output of outputs[{first}]",
                    j.output.display()
                ),
            ));
        }
    }
    for (k, j) in jobs.iter().enumerate() {
        for i in &j.inputs {
            if let Some(&o) = outputs.get(i.path.as_path()) {
                if o != k {
                    return Err((
                        format!("outputs[{k}]"),
                        format!("input {} is the output of outputs[{o}]", i.path.display()),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// How `seam batch --dir` names each user's output: `template` with `{uid}` replaced, inside
/// `output_dir`.
#[derive(Debug, Clone)]
pub struct DirOutputs {
    /// Folder the outputs are written to.
    pub output_dir: PathBuf,
    /// File name with `{uid}` (`{uid}.mp4`).
    pub template: String,
}

/// What [`from_dir`] found.
#[derive(Debug, Clone)]
pub struct DirBatch {
    /// One output per user, sorted by uid.
    pub jobs: Vec<OutputJob>,
    /// Regular files the pattern did not match.
    pub unmatched: Vec<String>,
}

/// One output per `uid` of the files in `dir` that `pattern` matches (sub-folders are not
/// entered), inputs sorted by their `start` (then by name), start times passed to the session.
pub fn from_dir(
    dir: &Path,
    pattern: &names::NamePattern,
    outputs: &DirOutputs,
    defaults: &Defaults,
) -> Result<DirBatch, BatchError> {
    if !outputs.template.contains("{uid}") {
        return Err(BatchError::Dir(format!(
            "--output-name {:?} has no {{uid}}: every user would write the same file",
            outputs.template
        )));
    }
    let io = |source| BatchError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(io)? {
        let e = e.map_err(io)?;
        // Follows links, like opening the file would.
        let is_file = std::fs::metadata(e.path()).is_ok_and(|m| m.is_file());
        if !is_file {
            continue;
        }
        if names.len() >= names::MAX_DIR_ENTRIES {
            return Err(BatchError::Dir(format!(
                "{}: more than {} files",
                dir.display(),
                names::MAX_DIR_ENTRIES
            )));
        }
        // A name that is not UTF-8 cannot match a pattern over text; it is listed as unmatched.
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    let grouped = names::group_names(dir, names, pattern)?;
    let jobs: Vec<OutputJob> = grouped
        .users
        .into_iter()
        .map(|u| OutputJob {
            output: outputs
                .output_dir
                .join(outputs.template.replace("{uid}", &u.uid)),
            inputs: u
                .files
                .into_iter()
                .map(|f| InputSpec {
                    path: f.path,
                    start: f.name.start,
                    trim: None,
                })
                .collect(),
            session: defaults.session.clone(),
            options: defaults.options.clone(),
            refused: u.bad.map(|e| e.to_string()),
        })
        .collect();
    check_paths(&jobs).map_err(|(at, why)| BatchError::Dir(format!("{at}: {why}")))?;
    Ok(DirBatch {
        jobs,
        unmatched: grouped.unmatched,
    })
}

/// A share of a batch: the outputs whose position in the batch is `index` modulo `count`.
///
/// Position, not a hash of the output path: every shard reads the same job (the same file, or the
/// same folder listing sorted by uid), so positions are deterministic, and round-robin gives every
/// shard the same number of outputs (give or take one), where a hash leaves some shards with
/// noticeably more work at small counts. The price: inserting an output into the job moves the
/// outputs after it to other shards, so a job must not change while its shards run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

impl Shard {
    /// A shard; `index` must be below `count`.
    pub fn new(index: u32, count: u32) -> Result<Self, BatchError> {
        if count == 0 {
            return Err(BatchError::Shard("COUNT must be at least 1".into()));
        }
        if index >= count {
            return Err(BatchError::Shard(format!(
                "INDEX {index} is not below COUNT {count} (indexes count from 0)"
            )));
        }
        Ok(Shard { index, count })
    }

    /// `INDEX/COUNT`.
    pub fn parse(s: &str) -> Result<Self, BatchError> {
        let (i, c) = s
            .split_once('/')
            .ok_or_else(|| BatchError::Shard(format!("{s:?}: expected INDEX/COUNT, e.g. 3/10")))?;
        let num = |x: &str, what: &str| {
            x.trim()
                .parse::<u32>()
                .map_err(|_| BatchError::Shard(format!("{s:?}: {what} is not a number")))
        };
        Shard::new(num(i, "INDEX")?, num(c, "COUNT")?)
    }

    /// Whether the output at `position` in the batch belongs to this shard.
    pub fn contains(&self, position: usize) -> bool {
        // u32 -> usize is lossless on the 32- and 64-bit targets seam builds for.
        position % (self.count as usize) == self.index as usize
    }

    /// The positions of this shard among `n` outputs.
    pub fn positions(&self, n: usize) -> Vec<usize> {
        (0..n).filter(|&p| self.contains(p)).collect()
    }
}

/// What became of one output.
#[derive(Debug)]
pub struct Outcome {
    /// Its position in the batch (before sharding).
    pub position: usize,
    /// The output path.
    pub output: PathBuf,
    /// The session's reports (one per file written), or why it failed.
    pub result: Result<Vec<StitchReport>, Error>,
    /// When it started, from the start of the batch.
    pub started: Duration,
    /// How long it took.
    pub elapsed: Duration,
    /// Not run: the output existed and `skip_existing` was asked (a retried shard).
    pub skipped: bool,
    /// Whether the session was started (false when skipped, or interrupted before its turn).
    pub ran: bool,
}

impl Outcome {
    /// Bytes written (all files of the output).
    pub fn bytes(&self) -> u64 {
        self.result
            .as_ref()
            .map(|r| r.iter().map(|x| x.bytes).sum())
            .unwrap_or(0)
    }
}

/// Runs `jobs` (given with their positions in the batch) on `threads` threads and returns their
/// outcomes in the order given; `on_done` sees each as it finishes. Once an interrupt is requested
/// (Ctrl-C), outputs not yet started fail as interrupted instead of starting. With
/// `skip_existing`, an output whose file exists is not run again: outputs appear only whole
/// (renamed on success), so an existing one is a finished one, and a retried shard redoes only
/// what failed or never ran.
pub fn run(
    jobs: &[(usize, OutputJob)],
    threads: usize,
    skip_existing: bool,
    on_done: &(dyn Fn(&Outcome) + Sync),
) -> Vec<Outcome> {
    let batch_start = Instant::now();
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Outcome>>> = Mutex::new((0..jobs.len()).map(|_| None).collect());
    let worker = || loop {
        let k = next.fetch_add(1, Ordering::SeqCst);
        let Some((position, job)) = jobs.get(k) else {
            break;
        };
        let started = batch_start.elapsed();
        let t = Instant::now();
        let skipped = skip_existing && job.output.is_file();
        let ran = !skipped && !crate::mux::interrupted();
        let result = if skipped {
            Ok(Vec::new())
        } else if !ran {
            Err(crate::error::MuxError::Interrupted.into())
        } else {
            run_one(job)
        };
        let outcome = Outcome {
            position: *position,
            output: job.output.clone(),
            result,
            started,
            elapsed: t.elapsed(),
            skipped,
            ran,
        };
        on_done(&outcome);
        // A poisoned lock only means another worker panicked in `on_done`; the slots stay valid.
        let mut s = slots.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(slot) = s.get_mut(k) {
            *slot = Some(outcome);
        }
    };
    let threads = threads.clamp(1, jobs.len().max(1));
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(worker);
        }
        worker();
    });
    slots
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .flatten()
        .collect()
}

/// One session; a panic (a bug, never expected) becomes this output's failure instead of ending
/// the batch.
fn run_one(job: &OutputJob) -> Result<Vec<StitchReport>, Error> {
    if let Some(why) = &job.refused {
        return Err(crate::error::MuxError::BadOptions(why.clone()).into());
    }
    // Thousands of outputs are usually spread over folders: make the output's folder (an empty
    // folder may stay behind when the output then fails; never a file).
    if let Some(dir) = job.output.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| crate::error::MuxError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        crate::session::run(&job.inputs, &job.output, &job.session, &job.options)
    }))
    .unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        Err(crate::error::MuxError::BadOptions(format!("internal error (panic): {what}")).into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_every_position_once() {
        for n in [0usize, 1, 2, 7, 100] {
            for count in 1..=9u32 {
                let mut seen = vec![0u32; n];
                let mut sizes = Vec::new();
                for index in 0..count {
                    let s = Shard::new(index, count).unwrap();
                    let p = s.positions(n);
                    sizes.push(p.len());
                    for k in p {
                        seen[k] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "n {n} count {count}");
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(hi.unwrap() - lo.unwrap() <= 1, "balanced: {sizes:?}");
            }
        }
    }

    #[test]
    fn shard_parsing() {
        assert_eq!(
            Shard::parse("3/10").unwrap(),
            Shard {
                index: 3,
                count: 10
            }
        );
        for bad in ["10/10", "1/0", "3", "a/2", "-1/2", "1/2/3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_job_runs_once_whatever_the_thread_count() {
        // Inputs that do not exist: each job fails fast, independently of the others.
        let jobs: Vec<(usize, OutputJob)> = (0..23)
            .map(|k| {
                (
                    k * 2,
                    OutputJob {
                        output: PathBuf::from(format!("/nonexistent-seam-dir/{k}.mp4")),
                        inputs: vec![InputSpec {
                            path: PathBuf::from(format!("/nonexistent-seam-dir/in{k}.mp4")),
                            start: None,
                            trim: None,
                        }],
                        session: SessionOptions::default(),
                        options: StitchOptions::default(),
                        refused: None,
                    },
                )
            })
            .collect();
        for threads in [1, 3, 64] {
            let done = AtomicUsize::new(0);
            let out = run(&jobs, threads, false, &|_| {
                done.fetch_add(1, Ordering::SeqCst);
            });
            assert_eq!(done.load(Ordering::SeqCst), 23);
            let positions: Vec<usize> = out.iter().map(|o| o.position).collect();
            assert_eq!(positions, (0..23).map(|k| k * 2).collect::<Vec<_>>());
            assert!(out.iter().all(|o| o.result.is_err()));
        }
        assert!(run(&[], 4, false, &|_| {}).is_empty());
    }
}
