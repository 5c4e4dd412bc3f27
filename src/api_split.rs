//! `--on-mismatch split` (issue 8 item 7): instead of re-encoding a fragment the output cannot
//! copy, start a new output there. The inputs are cut into runs that copy into one file each
//! (`plan::decide` finds nothing to re-encode or refuse inside a run), and each run is stitched
//! to `OUT_00000.mp4`, `OUT_00001.mp4`... (the MP4 shard names).
//!
//! Runs are cut between inputs: an input whose own parts differ (an HLS playlist whose variant
//! changes at a discontinuity) is refused, naming it. Each input's metadata is read once to find
//! the runs and again to stitch each run (cheap for MP4; a transport stream is scanned twice).

use std::path::{Path, PathBuf};

use crate::api::{OnMismatch, StitchOptions, StitchReport};
use crate::error::{Error, MuxError};
use crate::plan::{decide, Decision};

/// Stitches `inputs` into one output per run of copy-compatible inputs; returns each output's
/// path and report, in order. Every output is written through a temporary file; if a later run
/// fails, the outputs this call already wrote are removed again.
pub fn stitch_split(
    inputs: &[&Path],
    output: &Path,
    options: &StitchOptions,
) -> Result<Vec<(PathBuf, StitchReport)>, Error> {
    let runs = runs(inputs, options)?;
    let mut options = options.clone();
    options.on_mismatch = OnMismatch::Error;
    let mut written: Vec<(PathBuf, StitchReport)> = Vec::with_capacity(runs.len());
    for (k, run) in runs.iter().enumerate() {
        let path = crate::api_out::shard_path(output, k);
        match crate::api::stitch(&inputs[run.clone()], &path, &options) {
            Ok(r) => written.push((path, r)),
            Err(e) => {
                for (p, _) in &written {
                    let _ = std::fs::remove_file(p);
                }
                return Err(e);
            }
        }
    }
    Ok(written)
}

/// The runs of inputs (index ranges) that copy into one output each.
fn runs(inputs: &[&Path], options: &StitchOptions) -> Result<Vec<std::ops::Range<usize>>, Error> {
    let mut medias = Vec::new();
    let mut owner = Vec::new(); // input index of each media
    for (i, p) in inputs.iter().enumerate() {
        let parts = crate::api::probe_parts(p, &options.limits, &options.hls)?;
        owner.extend(std::iter::repeat_n(i, parts.len()));
        medias.extend(parts);
    }
    let mut runs = Vec::new();
    let mut start = 0usize; // first media of the current run
    while start < medias.len() {
        let decisions = decide(&medias[start..]);
        let cut = decisions
            .iter()
            .position(|f| {
                f.tracks
                    .iter()
                    .any(|t| matches!(t.decision, Decision::Reencode | Decision::Refuse))
            })
            .map(|k| start + k);
        let end = cut.unwrap_or(medias.len());
        if let Some(c) = cut {
            if owner[c] == owner[c - 1] {
                let reason = decisions[c - start]
                    .tracks
                    .iter()
                    .find(|t| matches!(t.decision, Decision::Reencode | Decision::Refuse))
                    .map(|t| format!("{}: {}", t.track, t.reason))
                    .unwrap_or_default();
                return Err(MuxError::BadOptions(format!(
                    "--on-mismatch split: {} changes inside itself ({reason}); outputs are split \
                     between inputs only",
                    inputs[owner[c]].display()
                ))
                .into());
            }
        }
        let (first, last) = (owner[start], owner[end - 1]);
        runs.push(first..last + 1);
        start = end;
    }
    Ok(runs)
}
