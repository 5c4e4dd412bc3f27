//! The outputs other than one MP4 file: an MPEG-TS file, an HLS playlist with its segments, MP4
//! shards. [`crate::stitch_with_progress`] sends them here by the output's extension; the MP4 path
//! stays as it was (a slice layout copied by the kernel).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::api::{
    check_unchanged, open_paths, report_written, OutputFormat, StitchOptions, StitchReport,
};
use crate::error::{Error, MuxError};
use crate::mux::hls::{
    write_plan_hls, HlsError, HlsOutError, HlsOutput, SegmentFormat, TargetDuration,
};
use crate::mux::output::OutputFile;
use crate::mux::ts::{write_plan_ts, TsMuxError, TsMuxOptions, TsOutError, TsTracks};
use crate::plan::StitchPlan;
use crate::source::InputChanged;

/// Why a transport stream could not be written, as a [`MuxError`]: an interrupt, an input that
/// changed and I/O failures keep their usual variants (and exit codes); the rest names the output.
fn ts_error(e: TsOutError, output: &Path) -> MuxError {
    match e {
        TsOutError::Interrupted => MuxError::Interrupted,
        TsOutError::Read { input, source, .. } => match InputChanged::find(&source) {
            Some(changed) => MuxError::InputChanged {
                path: input.into(),
                what: changed.0.clone(),
            },
            None => MuxError::Io {
                path: input.into(),
                source,
            },
        },
        TsOutError::Mux {
            source: TsMuxError::Io(source),
            ..
        }
        | TsOutError::Writer(TsMuxError::Io(source)) => MuxError::Io {
            path: output.to_path_buf(),
            source,
        },
        e => MuxError::Ts {
            path: output.to_path_buf(),
            source: e,
        },
    }
}

fn hls_error(e: HlsOutError, output: &Path) -> MuxError {
    match e {
        HlsOutError::Ts { source, .. } | HlsOutError::Tracks(source)
            if matches!(source, TsOutError::Interrupted | TsOutError::Read { .. })
                || source.io_error().is_some() =>
        {
            ts_error(source, output)
        }
        HlsOutError::Hls(HlsError::Mux(m)) => m,
        e => MuxError::Hls {
            path: output.to_path_buf(),
            source: Box::new(e),
        },
    }
}

/// Stitches `inputs` into `output` in `format` (not plain MP4).
pub(crate) fn stitch_other(
    inputs: &[&Path],
    output: &Path,
    format: OutputFormat,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let mut plan = open_paths(inputs, options)?;
    match format {
        OutputFormat::Ts => stitch_ts(&mut plan, inputs, output, options, progress),
        OutputFormat::Hls if options.hls_fmp4 => {
            let target = options.segment_duration.unwrap_or_default();
            stitch_hls_fmp4(&mut plan, inputs, output, target, options, progress)
        }
        OutputFormat::Hls => {
            let target = options.segment_duration.unwrap_or_default();
            stitch_hls(&mut plan, inputs, output, target, options, progress)
        }
        OutputFormat::Mp4 => {
            let target = options.segment_duration.unwrap_or_default();
            stitch_shards(&mut plan, inputs, output, target, options, progress)
        }
    }
}

/// The path of shard `k` of `output`: `dir/out.mp4` gives `dir/out_00000.mp4`, ... (at least five
/// digits, as HLS segments are named).
pub fn shard_path(output: &Path, k: usize) -> PathBuf {
    let stem = output
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match output.extension() {
        Some(ext) => format!("{stem}_{k:05}.{}", ext.to_string_lossy()),
        None => format!("{stem}_{k:05}"),
    };
    output.with_file_name(name)
}

/// Writes the plan as MP4 shards (see [`crate::mux::mp4::shard`]); `output` itself is not
/// written, it names the shards. Every target is checked before the first is written; if a
/// later shard fails, the shards this run already put in place (that did not exist before) are
/// removed again.
fn stitch_shards(
    plan: &mut StitchPlan,
    inputs: &[&Path],
    output: &Path,
    target: TargetDuration,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let shards = crate::mux::mp4::shard_plan(plan, target).map_err(MuxError::from)?;
    let mut layouts = Vec::with_capacity(shards.len());
    for s in &shards {
        layouts.push(crate::mux::mp4::layout_progressive(
            s,
            crate::mux::mp4::ProgressiveOptions::default(),
        )?);
    }
    let paths: Vec<PathBuf> = (0..shards.len()).map(|k| shard_path(output, k)).collect();
    // Refuse before writing anything: an existing shard (unless overwriting), or an input.
    let mut existed = Vec::with_capacity(paths.len());
    for p in &paths {
        existed.push(p.exists());
        drop(OutputFile::create(p, inputs, options.overwrite)?);
    }
    // Each shard's edit list is the output's, clipped: decode-only frames stay hidden.
    check_unchanged(plan)?;
    let total: u64 = layouts.iter().map(|l| l.len()).sum();
    let mut done = 0u64;
    let mut placed: Vec<&Path> = Vec::new();
    let mut result = Ok(());
    for ((s, layout), p) in shards.iter().zip(&layouts).zip(&paths) {
        let step = (|| -> Result<(), Error> {
            let mut out = OutputFile::create(p, inputs, options.overwrite)?;
            crate::mux::write_layout(s, layout, &mut out, &mut |d, _| progress(done + d, total))?;
            out.commit()?;
            Ok(())
        })();
        if let Err(e) = step {
            result = Err(e);
            break;
        }
        placed.push(p);
        done = done.saturating_add(layout.len());
    }
    if let Err(e) = result {
        for (p, _) in placed.iter().zip(&existed).filter(|(_, &ex)| !ex) {
            let _ = std::fs::remove_file(p);
        }
        return Err(e);
    }
    let runs = layouts.iter().map(|l| l.input_runs()).sum();
    let mut report = report_written(plan, total, runs);
    report.files = paths.iter().map(|p| p.display().to_string()).collect();
    Ok(report)
}

/// The tracks a transport stream carries, with the warnings about what it cannot keep.
fn ts_tracks(plan: &mut StitchPlan, output: &Path, what: &str) -> Result<TsTracks, Error> {
    if plan.tracks.iter().any(|t| t.encryption.is_some()) {
        // CENC samples in a transport stream would need SAMPLE-AES signalling seam does not write;
        // copied as they are, they would play as garbage.
        return Err(MuxError::BadOptions(format!(
            "{}: encrypted (CENC) tracks can only be written to MP4",
            output.display()
        ))
        .into());
    }
    let tracks = TsTracks::new(plan).map_err(|e| ts_error(e, output))?;
    let mut notes = Vec::new();
    for j in &plan.joins {
        let name = plan.inputs.get(j.input).map_or("", |s| s.name());
        for t in j.tracks.iter().filter(|t| t.decode_only > 0) {
            let (n, kind, track) = (t.decode_only, t.kind.as_str(), t.track);
            notes.push(if j.input == 0 {
                format!(
                    "{name}: {kind} track {track}: {n} decode-only frames (before its edit list) \
                     show before the start in {what}; write MP4 to keep them hidden"
                )
            } else {
                format!(
                    "{name}: {kind} track {track}: {n} decode-only frames (outside its edit list) \
                     show at this join in {what}, the other tracks pausing as long to stay in \
                     sync; write MP4 to keep them hidden"
                )
            });
        }
    }
    plan.warnings.append(&mut notes);
    plan.warnings.extend(tracks.warnings.iter().cloned());
    Ok(tracks)
}

/// The transport stream writer's settings: its defaults, with up to 8 AAC frames sharing a PES
/// packet when their PTS is the one readers interpolate (no timestamp changes; a PES header and
/// stuffing per frame would add 160 bytes per 21 ms of 48 kHz audio, see [`crate::mux::ts`]).
fn mux_options() -> TsMuxOptions {
    TsMuxOptions {
        audio_frames_per_pes: 8,
        ..TsMuxOptions::default()
    }
}

/// Counts only the samples of the tracks written (a TS leaves out what it cannot carry).
fn count_written(report: &mut StitchReport, access_units: &[u64]) {
    report.samples = access_units.iter().sum();
    report.copied_samples = report.samples.saturating_sub(report.generated_samples);
}

/// How much longer than the plan a transport stream lasts, for display.
fn extra_seconds(tracks: &TsTracks) -> f64 {
    let (num, den) = tracks.shown_extra;
    num as f64 / den.max(1) as f64
}

fn retimed_warning(plan: &mut StitchPlan, retimed: u64) {
    if retimed > 0 {
        plan.warnings.push(format!(
            "{retimed} decode times fell on their predecessor's 90 kHz tick and were moved one \
             tick later"
        ));
    }
}

fn stitch_ts(
    plan: &mut StitchPlan,
    inputs: &[&Path],
    output: &Path,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let mut out = OutputFile::create(output, inputs, options.overwrite)?;
    let tracks = ts_tracks(plan, output, "MPEG-TS output (no edit lists)")?;
    check_unchanged(plan)?;
    let io = |source| MuxError::Io {
        path: output.to_path_buf(),
        source,
    };
    // The writer hands over each access unit's packets at once; small audio units are gathered.
    let mut buf = BufWriter::with_capacity(1 << 20, &mut out);
    let r = write_plan_ts(plan, &tracks, &mut buf, mux_options(), progress)
        .map_err(|e| ts_error(e, output))?;
    buf.flush().map_err(io)?;
    drop(buf);
    out.commit()?;
    retimed_warning(plan, r.retimed);
    let mut report = report_written(plan, r.bytes, 0);
    report.duration_seconds += extra_seconds(&tracks);
    count_written(&mut report, &r.access_units);
    Ok(report)
}

/// HLS with fragmented MP4 segments ([`crate::mux::hls::fmp4`]).
fn stitch_hls_fmp4(
    plan: &mut StitchPlan,
    inputs: &[&Path],
    output: &Path,
    target: TargetDuration,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let hls = |e: HlsError| hls_error(e.into(), output);
    let mut out =
        HlsOutput::create(output, SegmentFormat::Fmp4, inputs, options.overwrite).map_err(hls)?;
    check_unchanged(plan)?;
    let segments = crate::mux::hls::fmp4::write_plan_hls_fmp4(plan, &mut out, target, progress)
        .map_err(|e| match e {
            crate::mux::hls::fmp4::Fmp4HlsError::Mux(m) => Error::Mux(m),
            crate::mux::hls::fmp4::Fmp4HlsError::Hls(h) => Error::Mux(hls(h)),
            other => Error::Mux(MuxError::BadOptions(other.to_string())),
        })?;
    let mut files = vec![out.init_name()];
    files.extend((0..segments.len()).map(|k| out.segment_name(k)));
    out.finish(&segments).map_err(hls)?;
    let bytes = files
        .iter()
        .filter_map(|f| std::fs::metadata(output.with_file_name(f)).ok())
        .map(|m| m.len())
        .sum();
    let mut report = report_written(plan, bytes, 0);
    report.files = files;
    Ok(report)
}

fn stitch_hls(
    plan: &mut StitchPlan,
    inputs: &[&Path],
    output: &Path,
    target: TargetDuration,
    options: &StitchOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<StitchReport, Error> {
    let hls = |e: HlsError| hls_error(e.into(), output);
    let mut out =
        HlsOutput::create(output, SegmentFormat::Ts, inputs, options.overwrite).map_err(hls)?;
    let tracks = ts_tracks(plan, output, "HLS output (no edit lists)")?;
    check_unchanged(plan)?;
    let r = write_plan_hls(plan, &tracks, &mut out, target, &mux_options(), progress)
        .map_err(|e| hls_error(e, output))?;
    let files = (0..r.segments.len()).map(|k| out.segment_name(k)).collect();
    out.finish(&r.segments).map_err(hls)?;
    retimed_warning(plan, r.ts.retimed);
    let mut report = report_written(plan, r.ts.bytes, 0);
    report.duration_seconds += extra_seconds(&tracks);
    count_written(&mut report, &r.ts.access_units);
    report.files = files;
    Ok(report)
}
