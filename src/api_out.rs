//! The outputs other than one MP4 file: an MPEG-TS file, an HLS playlist with its segments, MP4
//! shards. [`crate::stitch_with_progress`] sends them here by the output's extension; the MP4 path
//! stays as it was (a slice layout copied by the kernel).

use std::io::{BufWriter, Write};
use std::path::Path;

use crate::api::{
    check_unchanged, open_and_plan, open_files, report_written, warn_decode_only, OutputFormat,
    StitchOptions, StitchReport,
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
    let sources = open_files(inputs, &options.limits)?;
    let mut plan = open_and_plan(sources, &options.limits, options.best_effort)?;
    match format {
        OutputFormat::Ts => stitch_ts(&mut plan, inputs, output, options, progress),
        OutputFormat::Hls => {
            let target = options.segment_duration.unwrap_or_default();
            stitch_hls(&mut plan, inputs, output, target, options, progress)
        }
        OutputFormat::Mp4 => Err(MuxError::BadOptions(
            "--segment-duration with an MP4 output (MP4 shards) is not supported yet".into(),
        )
        .into()),
    }
}

/// The tracks a transport stream carries, with the warnings about what it cannot keep.
fn ts_tracks(plan: &mut StitchPlan, output: &Path, what: &str) -> Result<TsTracks, Error> {
    let tracks = TsTracks::new(plan).map_err(|e| ts_error(e, output))?;
    warn_decode_only(plan, what);
    plan.warnings.extend(tracks.warnings.iter().cloned());
    Ok(tracks)
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
    let tracks = ts_tracks(plan, output, "MPEG-TS output, which has no edit lists")?;
    check_unchanged(plan)?;
    let io = |source| MuxError::Io {
        path: output.to_path_buf(),
        source,
    };
    // The writer hands over each access unit's packets at once; small audio units are gathered.
    let mut buf = BufWriter::with_capacity(1 << 20, &mut out);
    let r = write_plan_ts(plan, &tracks, &mut buf, TsMuxOptions::default(), progress)
        .map_err(|e| ts_error(e, output))?;
    buf.flush().map_err(io)?;
    drop(buf);
    out.commit()?;
    retimed_warning(plan, r.retimed);
    Ok(report_written(plan, r.bytes, 0))
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
    let tracks = ts_tracks(plan, output, "HLS output, which has no edit lists")?;
    check_unchanged(plan)?;
    let r = write_plan_hls(
        plan,
        &tracks,
        &mut out,
        target,
        &TsMuxOptions::default(),
        progress,
    )
    .map_err(|e| hls_error(e, output))?;
    let files = (0..r.segments.len()).map(|k| out.segment_name(k)).collect();
    out.finish(&r.segments).map_err(hls)?;
    retimed_warning(plan, r.ts.retimed);
    let mut report = report_written(plan, r.ts.bytes, 0);
    report.files = files;
    Ok(report)
}
