//! The library's front door: [`probe`], [`plan()`](crate::plan()) and [`stitch`].
//!
//! ```no_run
//! use seam::{stitch, StitchOptions};
//! use std::path::Path;
//!
//! let report = stitch(
//!     &[Path::new("part1.mp4"), Path::new("part2.mp4")],
//!     Path::new("joined.mp4"),
//!     &StitchOptions::default(),
//! )?;
//! println!("{} samples copied, {} bytes", report.samples, report.bytes);
//! # Ok::<(), seam::Error>(())
//! ```

use std::path::Path;
use std::sync::Arc;

use crate::demux;
use crate::error::Error;
use crate::limits::Limits;
use crate::model::Media;
use crate::mux::{self, output::OutputFile, Layout, Sink};
use crate::plan::{PlanOptions, StitchPlan};
use crate::source::Source;

/// Reads an input's metadata (sample payloads stay on disk).
pub fn probe(path: &Path, limits: &Limits) -> Result<Media, Error> {
    Ok(demux::open_path(path, limits)?)
}

/// Reads metadata from any [`Source`] (a file, bytes in memory...).
pub fn probe_source(source: Arc<dyn Source>, limits: &Limits) -> Result<Media, Error> {
    Ok(demux::open(source, limits)?)
}

/// Checks that the inputs can be joined and lays them on one timeline.
pub fn plan(inputs: &[Media]) -> Result<StitchPlan, Error> {
    plan_with(inputs, &Limits::default())
}

/// [`plan()`] with explicit limits (what the plan may generate).
pub fn plan_with(inputs: &[Media], limits: &Limits) -> Result<StitchPlan, Error> {
    let options = PlanOptions {
        limits: limits.clone(),
    };
    Ok(crate::plan::plan(inputs, &options)?)
}

/// How to stitch.
#[derive(Debug, Clone, Default)]
pub struct StitchOptions {
    /// Replace an existing output file.
    pub overwrite: bool,
    /// Write fragmented MP4 (one moof per GOP, cut at 64 MiB) instead of moov-first progressive MP4.
    pub fragmented: bool,
    /// Parser limits.
    pub limits: Limits,
    /// Salvage what is readable from damaged inputs (a truncated last fragment or mdat) instead of
    /// failing; what was dropped is listed in [`StitchReport::warnings`].
    pub best_effort: bool,
}

/// What a stitch did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StitchReport {
    /// Output bytes.
    pub bytes: u64,
    /// Output samples, all tracks.
    pub samples: u64,
    /// Samples copied from inputs.
    pub copied_samples: u64,
    /// Samples seam generated (silence).
    pub generated_samples: u64,
    /// Output duration in seconds (for display).
    pub duration_seconds: f64,
    /// Number of copy operations from inputs.
    pub copy_runs: usize,
    /// Warnings from planning.
    pub warnings: Vec<String>,
}

fn layout(plan: &StitchPlan, fragmented: bool) -> Result<Layout, Error> {
    Ok(if fragmented {
        mux::mp4::layout_fragmented(plan)?
    } else {
        mux::mp4::layout_progressive(plan, mux::mp4::ProgressiveOptions::default())?
    })
}

fn report(plan: &StitchPlan, layout: &Layout) -> StitchReport {
    let samples: u64 = plan.tracks.iter().map(|t| t.samples.len() as u64).sum();
    let generated = plan
        .tracks
        .iter()
        .flat_map(|t| &t.samples)
        .filter(|s| matches!(s.payload, crate::plan::Payload::Generated(_)))
        .count() as u64;
    StitchReport {
        bytes: layout.len(),
        samples,
        copied_samples: samples - generated,
        generated_samples: generated,
        duration_seconds: plan.duration as f64 / f64::from(plan.movie_timescale.max(1)),
        copy_runs: layout.input_runs(),
        warnings: plan.warnings.clone(),
    }
}

/// Demuxes every input and plans the join; what best-effort demuxing dropped comes first among the
/// plan's warnings. The input sample tables are freed on return: the plan holds all the writer needs.
fn open_and_plan(
    opened: impl Iterator<Item = Result<(Media, Vec<String>), crate::error::DemuxError>>,
    limits: &Limits,
) -> Result<StitchPlan, Error> {
    let mut medias = Vec::new();
    let mut notes = Vec::new();
    for r in opened {
        if medias.len() >= limits.max_segments {
            return Err(crate::error::PlanError::LimitExceeded {
                file: medias
                    .last()
                    .map(|m: &Media| m.name().to_string())
                    .unwrap_or_default(),
                what: format!("more than {} inputs", limits.max_segments),
            }
            .into());
        }
        let (m, n) = r?;
        medias.push(m);
        notes.extend(n);
    }
    let mut plan = plan_with(&medias, limits)?;
    notes.append(&mut plan.warnings);
    plan.warnings = notes;
    Ok(plan)
}

/// Stitches files into `output`: written beside it under a temporary name and renamed on success.
pub fn stitch(
    inputs: &[&Path],
    output: &Path,
    options: &StitchOptions,
) -> Result<StitchReport, Error> {
    stitch_with_progress(inputs, output, options, &mut |_, _| {})
}

/// Like [`stitch`] with a progress callback taken by `&mut` (the CLI's progress bar).
pub fn stitch_with_progress(
    inputs: &[&Path],
    output: &Path,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let plan = open_and_plan(
        inputs
            .iter()
            .map(|p| demux::open_path_with(p, &options.limits, options.best_effort)),
        &options.limits,
    )?;
    let mut out = OutputFile::create(output, inputs, options.overwrite)?;
    let layout = layout(&plan, options.fragmented)?;
    // The inputs must not have changed between reading their metadata and copying their bytes.
    for src in &plan.inputs {
        if let Some(f) = src.file() {
            let now = f.metadata().map(|x| x.len()).unwrap_or(0);
            if now != src.len() {
                return Err(crate::error::MuxError::InputChanged {
                    path: src.name().into(),
                    what: format!("length was {}, now {now}", src.len()),
                }
                .into());
            }
        }
    }
    write(&plan, &layout, &mut out, progress)?;
    out.commit()?;
    Ok(report(&plan, &layout))
}

fn write(
    plan: &StitchPlan,
    layout: &Layout,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), Error> {
    mux::write_layout(plan, layout, sink, progress)?;
    Ok(())
}

/// Stitches sources into bytes in memory (tests, fuzzing, callers without files).
pub fn stitch_sources(
    sources: Vec<Arc<dyn Source>>,
    options: &StitchOptions,
) -> Result<(Vec<u8>, StitchReport), Error> {
    let plan = open_and_plan(
        sources
            .into_iter()
            .map(|s| demux::open_with(s, &options.limits, options.best_effort)),
        &options.limits,
    )?;
    let layout = layout(&plan, options.fragmented)?;
    let mut out = Vec::with_capacity(usize::try_from(layout.len()).unwrap_or(0));
    let mut noop = |_: u64, _: u64| {};
    write(&plan, &layout, &mut out, &mut noop)?;
    let r = report(&plan, &layout);
    Ok((out, r))
}
