//! `seam stitch` in session mode (`--start-times`, `--gaps`, `--per-segment`, `--audio-only`,
//! `--video-only`, `--chapters`): the inputs go to [`crate::session::run`].

use std::path::{Path, PathBuf};

use super::{fail, join_lines};
use crate::session::{self, InputSpec};
use crate::{Error, StitchOptions};

/// Recording sessions (`seam::session`): inputs on a wall-clock timeline.
#[derive(clap::Args, Debug)]
pub(super) struct SessionArgs {
    /// Wall-clock start times: a text file of `SECONDS PATH [create|close]` lines (a recorder's
    /// log; paths relative to its folder; `close` lines ignored). Its files are the inputs when
    /// none are given. Audio and video files are laid on one timeline, each at its own time;
    /// the output starts at the earliest.
    #[arg(long, value_name = "LIST")]
    start_times: Option<PathBuf>,
    /// Wall-clock start times from the inputs' file names: a regular expression with a named
    /// group `start` (17 digits yyyyMMddHHmmssSSS in UTC, or seconds), e.g.
    /// `(?P<uid>\d+)_(?P<start>\d{17})` for `100_20190611073246073.aac`.
    #[arg(long, value_name = "RE", conflicts_with = "start_times")]
    name_pattern: Option<String>,
    /// How the session is written.
    #[command(flatten)]
    pub(super) modes: SessionModes,
}

/// The session modes, shared by `seam stitch` and `seam batch` (where a job's own fields override
/// them).
#[derive(clap::Args, Debug)]
pub(super) struct SessionModes {
    /// Where no input is present: `hold` (default) shows the last frame and fills silence,
    /// `skip` joins the segments back to back.
    #[arg(long, value_name = "hold|skip", value_parser = parse_gaps)]
    gaps: Option<crate::session::Gaps>,
    /// One output per segment: OUT_00000.mp4, OUT_00001.mp4... (OUT names them).
    #[arg(long)]
    per_segment: bool,
    /// Write the audio only (an M4A when OUT ends in .m4a).
    #[arg(long, conflicts_with = "video_only")]
    pub(super) audio_only: bool,
    /// Write the video only.
    #[arg(long)]
    video_only: bool,
    /// One chapter per segment (per input without start times), named after its files (Nero
    /// `chpl`, as ffmpeg writes and lists them).
    #[arg(long)]
    chapters: bool,
}

impl SessionModes {
    pub(super) fn options(&self) -> crate::session::SessionOptions {
        crate::session::SessionOptions {
            gaps: self.gaps.unwrap_or_default(),
            per_segment: self.per_segment,
            audio_only: self.audio_only,
            video_only: self.video_only,
            chapters: self.chapters,
        }
    }
}

impl SessionArgs {
    fn options(&self) -> crate::session::SessionOptions {
        self.modes.options()
    }

    pub(super) fn any(&self) -> bool {
        self.start_times.is_some()
            || self.name_pattern.is_some()
            || self.modes.gaps.is_some()
            || self.options() != crate::session::SessionOptions::default()
    }
}

fn parse_gaps(s: &str) -> Result<crate::session::Gaps, String> {
    match s {
        "hold" => Ok(crate::session::Gaps::Hold),
        "skip" => Ok(crate::session::Gaps::Skip),
        _ => Err(format!("{s:?}: expected hold or skip")),
    }
}

/// Runs a session; returns the exit code.
pub(super) fn run(
    output: &Path,
    inputs: &[PathBuf],
    args: &SessionArgs,
    mut options: StitchOptions,
    quiet: bool,
    json: bool,
) -> u8 {
    let started = std::time::Instant::now();
    let result = specs(inputs, args, &mut options).and_then(|(specs, notes)| {
        let mut reports = session::run(&specs, output, &args.options(), &options)?;
        if let Some(r) = reports.first_mut() {
            let mut n = notes;
            n.append(&mut r.warnings);
            r.warnings = n;
        }
        Ok(reports)
    });
    let reports = match result {
        Ok(r) => r,
        Err(e) => return fail(&e, json),
    };
    let name = |k: usize| {
        if args.modes.per_segment {
            session::segment_path(output, k)
        } else {
            output.to_path_buf()
        }
    };
    if json {
        let outputs: Vec<_> = reports
            .iter()
            .enumerate()
            .map(|(k, r)| serde_json::json!({ "output": name(k).display().to_string(), "report": r }))
            .collect();
        let v = serde_json::json!({
            "ok": true,
            "outputs": outputs,
            "seconds": started.elapsed().as_secs_f64(),
        });
        println!("{v}");
    }
    if !quiet {
        for (k, r) in reports.iter().enumerate() {
            for w in &r.warnings {
                eprintln!("seam: warning: {w}");
            }
            if !json {
                eprintln!(
                    "seam: wrote {} ({} bytes, {:.3} s, {} samples copied, {} generated, {} dropped)",
                    name(k).display(),
                    r.bytes,
                    r.duration_seconds,
                    r.copied_samples,
                    r.generated_samples,
                    r.dropped_samples,
                );
                for line in join_lines(r) {
                    eprintln!("seam:   {line}");
                }
            }
        }
    }
    0
}

/// The session's inputs: those given, with their times from `--start-times` (all the list's
/// files when none are given), and `--trim` moved onto them (K counts over these inputs).
fn specs(
    inputs: &[PathBuf],
    args: &SessionArgs,
    options: &mut StitchOptions,
) -> Result<(Vec<InputSpec>, Vec<String>), Error> {
    let (mut specs, notes) = match &args.start_times {
        Some(list) => {
            let (listed, notes) = session::read_start_times(list)?;
            if inputs.is_empty() {
                (listed, notes)
            } else {
                (session::match_inputs(inputs, &listed)?, notes)
            }
        }
        None => (
            inputs
                .iter()
                .map(|p| {
                    Ok(InputSpec {
                        path: p.clone(),
                        start: match &args.name_pattern {
                            Some(re) => Some(start_from_name(re, p)?),
                            None => None,
                        },
                        trim: None,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?,
            Vec::new(),
        ),
    };
    for (k, t) in std::mem::take(&mut options.trims) {
        let n = specs.len();
        let spec = k
            .checked_sub(1)
            .and_then(|i| specs.get_mut(i))
            .ok_or_else(|| {
                crate::error::MuxError::BadOptions(format!(
                    "--trim {k}: there are {n} inputs (K counts from 1)"
                ))
            })?;
        if spec.trim.replace(t).is_some() {
            return Err(
                crate::error::MuxError::BadOptions(format!("--trim {k} given twice")).into(),
            );
        }
    }
    Ok((specs, notes))
}

/// The start time `pattern`'s `start` group reads from `path`'s file name; a usage error naming
/// the file when it does not match.
fn start_from_name(pattern: &str, path: &Path) -> Result<crate::time::Ts, Error> {
    let bad = |m: String| Error::from(crate::error::MuxError::BadOptions(m));
    let re = crate::batch::names::NamePattern::new(pattern, &["start"])
        .map_err(|e| bad(format!("--name-pattern: {e}")))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match re.read(&name) {
        None => Err(bad(format!(
            "--name-pattern {pattern:?} does not match {}",
            path.display()
        ))),
        Some(Err(e)) => Err(bad(format!("--name-pattern: {e}"))),
        Some(Ok(m)) => m
            .start
            .ok_or_else(|| bad(format!("--name-pattern: no start in {name}"))),
    }
}
