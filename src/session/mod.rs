//! Recording sessions: inputs laid on a wall-clock timeline by their start times, audio-only and
//! video-only files paired, absences held or skipped (issue 9).
//!
//! INTERFACE SCAFFOLD: the types below are the seam shared by `seam stitch` and `seam batch`.
//! `run` only handles inputs without start times so far; the session planner replaces it.

use std::path::{Path, PathBuf};

use crate::api::{StitchOptions, StitchReport};
use crate::error::{Error, MuxError};
use crate::plan::Trim;
use crate::time::Ts;

/// One input of a session: a file, its wall-clock start time when known, and its trim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// The input file (an MP4, TS, FLV, ADTS or HLS playlist).
    pub path: PathBuf,
    /// Wall-clock start of the input's first presented sample (seconds since any epoch the
    /// session shares, as an exact `Ts`); `None` when unknown.
    pub start: Option<Ts>,
    /// Part of the input to keep, in its own presentation time.
    pub trim: Option<Trim>,
}

/// What happens to wall-clock time where no input is present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Gaps {
    /// Keep the wall-clock timeline: the last frame is shown, audio is silent.
    #[default]
    Hold,
    /// Join the segments back to back.
    Skip,
}

/// How a session is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionOptions {
    /// Absences held or skipped.
    pub gaps: Gaps,
    /// One output per segment (a run of overlapping inputs) instead of one merged output.
    pub per_segment: bool,
    /// Write the audio tracks only.
    pub audio_only: bool,
    /// Write the video tracks only.
    pub video_only: bool,
    /// One chapter per input (or per segment with `per_segment`), named after its file.
    pub chapters: bool,
}

/// Writes `inputs` as one session into `output` (or one output per segment). Returns one report
/// per file written.
pub fn run(
    inputs: &[InputSpec],
    output: &Path,
    session: &SessionOptions,
    options: &StitchOptions,
) -> Result<Vec<StitchReport>, Error> {
    if inputs.iter().any(|i| i.start.is_some()) || *session != SessionOptions::default() {
        return Err(MuxError::BadOptions(
            "start times and session modes are not implemented yet".into(),
        )
        .into());
    }
    let mut options = options.clone();
    for (k, i) in inputs.iter().enumerate() {
        if let Some(t) = i.trim {
            options.trims.push((k + 1, t));
        }
    }
    let paths: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
    Ok(vec![crate::api::stitch(&paths, output, &options)?])
}
