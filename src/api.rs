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
use crate::mux::hls::TargetDuration;
use crate::mux::{self, output::OutputFile, Layout, Sink};
use crate::plan::{PlanOptions, StitchPlan};
use crate::source::{FileSource, InputChanged, Source};

/// Reads an input's metadata (sample payloads stay on disk).
pub fn probe(path: &Path, limits: &Limits) -> Result<Media, Error> {
    Ok(demux::open_path(path, limits)?)
}

/// Reads metadata of every part a path holds: one for MP4, FLV and ADTS, one per run between
/// timestamp jumps for a transport stream, one per run between discontinuities for an HLS
/// playlist (read with `hls`).
pub fn probe_parts(
    path: &Path,
    limits: &Limits,
    hls: &demux::hls::HlsOptions,
) -> Result<Vec<Media>, Error> {
    let sources: Vec<Arc<dyn Source>> = if demux::hls::is_playlist(path) {
        demux::hls::expand(path, limits, hls)?.0
    } else {
        let src = FileSource::open(path).map_err(|e| crate::error::DemuxError::Io {
            file: path.display().to_string(),
            source: e,
        })?;
        vec![Arc::new(src)]
    };
    let mut out = Vec::new();
    for s in sources {
        out.extend(demux::open_all_with(s, limits, false)?.0);
    }
    Ok(out)
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
    plan_with_options(
        inputs,
        &PlanOptions {
            limits: limits.clone(),
            parameter_sets: crate::plan::ParameterSets::default(),
        },
    )
}

/// [`plan()`] with every planning option.
pub fn plan_with_options(inputs: &[Media], options: &PlanOptions) -> Result<StitchPlan, Error> {
    Ok(crate::plan::plan(inputs, options)?)
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
    /// How HLS playlist inputs are read.
    pub hls: crate::demux::hls::HlsOptions,
    /// HLS output: the target segment duration (6 s when `None`). MP4 output: write shards of
    /// about this duration, each starting at a keyframe. Refused for a `.ts` output.
    pub segment_duration: Option<TargetDuration>,
    /// H.264/H.265 inputs whose parameter sets differ (same picture format): in band at the
    /// switch (the default), under several sample entries, or refused (`--parameter-sets`; see
    /// [`crate::plan::ParameterSets`]).
    pub parameter_sets: crate::plan::ParameterSets,
    /// HLS output: fragmented MP4 segments (an `#EXT-X-MAP` initialization section, `.m4s`
    /// segments of whole fragments) instead of MPEG-TS ones.
    pub hls_fmp4: bool,
    /// `--trim K=START,END`: the part of the K-th input (from 1, counted over the inputs given)
    /// to keep, in its own presentation seconds (see `plan::apply_trim`). An input that expands
    /// into several parts (an HLS playlist, a transport stream with a timestamp jump or continued
    /// by the next file) cannot be trimmed.
    pub trims: Vec<(usize, crate::plan::Trim)>,
    /// `--accurate`: trims are frame-accurate smart cuts (the GOPs at START and END re-encoded,
    /// the rest copied; see `transcode::smartcut`), exact in outputs without edit lists too.
    pub accurate: bool,
    /// What to do with a fragment whose format the output cannot copy (`--on-mismatch`).
    pub on_mismatch: OnMismatch,
    /// Threads for re-encoding video (0: all cores); the output is the same for any count.
    pub threads: usize,
    /// How a re-encoded picture of another shape fills the output's (`--fit`, `--fill`,
    /// `--stretch`).
    pub fit: crate::transcode::video::Fit,
    /// Where re-encoded video waits for the muxer (an unnamed temporary file); the output's
    /// folder when `None` (the stitch functions fill it in), memory for in-memory stitches.
    pub spool_dir: Option<std::path::PathBuf>,
    /// Called with the number of video frames re-encoded so far (the CLI's progress bar).
    pub reencode_progress: Option<FramesProgress>,
}

/// A callback counting re-encoded frames, shared with the worker threads.
#[derive(Clone)]
pub struct FramesProgress(pub Arc<dyn Fn(u64) + Send + Sync>);

impl std::fmt::Debug for FramesProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FramesProgress(..)")
    }
}

/// What to do with a fragment that cannot be copied into the output (another sample rate,
/// resolution, orientation or codec): issue 8 item 7.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnMismatch {
    /// Re-encode it to the output's format (what `seam plan` lists as re-encode).
    #[default]
    Transcode,
    /// Refuse the job, naming the fragment and what differs.
    Error,
    /// Start a new output at the fragment (`OUT_00000.mp4`, `OUT_00001.mp4`...):
    /// [`crate::api_split::stitch_split`].
    Split,
}

/// The container written, chosen by the output's extension ([`OutputFormat::from_path`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// ISO base media file format (progressive, or fragmented with `fragmented`).
    Mp4,
    /// One MPEG transport stream (`.ts`, `.m2ts`, `.mts`).
    Ts,
    /// An HLS media playlist with MPEG-TS segments (`.m3u8`).
    Hls,
}

impl OutputFormat {
    /// `.ts`, `.m2ts` and `.mts` are MPEG-TS, `.m3u8` HLS, anything else MP4 (case ignored).
    pub fn from_path(path: &Path) -> Self {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "ts" | "m2ts" | "mts" => OutputFormat::Ts,
            "m3u8" => OutputFormat::Hls,
            _ => OutputFormat::Mp4,
        }
    }
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
    /// Samples re-encoded (their input tracks are listed in `transcoded`).
    pub reencoded_samples: u64,
    /// The input tracks that were re-encoded, and why.
    pub transcoded: Vec<crate::transcode::realize::Transcoded>,
    /// Input samples left out (priming, overlaps, audio outside an input's video, padding).
    pub dropped_samples: u64,
    /// Output duration in seconds (for display).
    pub duration_seconds: f64,
    /// Number of copy operations from inputs.
    pub copy_runs: usize,
    /// What happened at each join, per track.
    pub joins: Vec<JoinReport>,
    /// Warnings from demuxing and planning.
    pub warnings: Vec<String>,
    /// The files written besides the output itself (HLS segments, MP4 shards), in order.
    pub files: Vec<String>,
}

/// One input's place in the output, for [`StitchReport`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct JoinReport {
    /// Index of the input (among those joined).
    pub input: usize,
    /// Its name.
    pub file: String,
    /// Where it starts in the output.
    pub start_seconds: f64,
    /// Per output track.
    pub tracks: Vec<JoinTrackReport>,
}

/// One input's contribution to one output track, for [`StitchReport`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct JoinTrackReport {
    /// The counts, in samples and ticks (see [`crate::plan::JoinTrack`]).
    #[serde(flatten)]
    pub counts: crate::plan::JoinTrack,
    /// Duration of the dropped packets.
    pub dropped_seconds: f64,
    /// Duration of the generated frames.
    pub generated_seconds: f64,
    /// Audio placement error of the first kept packet (positive: audio late).
    pub av_offset_error_seconds: Option<f64>,
}

/// The output layout. A fragmented output's edit list is one per track, and players apply it (if
/// at all) to the whole track, so decode-only frames that a later input's edit list hid (its
/// pre-roll) are said to show there.
fn layout(plan: &mut StitchPlan, fragmented: bool) -> Result<Layout, Error> {
    if fragmented {
        warn_decode_only(
            plan,
            "fragmented output, whose players ignore per-join edits",
        );
    }
    Ok(if fragmented {
        mux::mp4::layout_fragmented(plan)?
    } else {
        mux::mp4::layout_progressive(plan, mux::mp4::ProgressiveOptions::default())?
    })
}

/// Says, per join, how many decode-only frames an output without per-join edit lists shows
/// (`what` names that output).
fn warn_decode_only(plan: &mut StitchPlan, what: &str) {
    for j in &plan.joins {
        for t in j.tracks.iter().filter(|t| t.decode_only > 0) {
            let name = plan
                .inputs
                .get(j.input)
                .map_or("", |s| s.name())
                .to_string();
            plan.warnings.push(format!(
                "{name}: {} track {}: {} decode-only frames (outside its edit list) will show \
                     in {what}; write progressive MP4 to keep them hidden",
                t.kind.as_str(),
                t.track,
                t.decode_only
            ));
        }
    }
}

fn report(plan: &StitchPlan, layout: &Layout) -> StitchReport {
    report_written(plan, layout.len(), layout.input_runs())
}

pub(crate) fn report_written(plan: &StitchPlan, bytes: u64, copy_runs: usize) -> StitchReport {
    let samples: u64 = plan.tracks.iter().map(|t| t.samples.len() as u64).sum();
    let generated = plan
        .tracks
        .iter()
        .flat_map(|t| t.samples.iter())
        .filter(|s| matches!(s.payload, crate::plan::Payload::Generated(_)))
        .count() as u64;
    let secs = |ticks: f64, ts: u32| ticks / f64::from(ts.max(1));
    let joins: Vec<JoinReport> = plan
        .joins
        .iter()
        .map(|j| JoinReport {
            input: j.input,
            file: plan
                .inputs
                .get(j.input)
                .map(|s| s.name().to_string())
                .unwrap_or_default(),
            start_seconds: secs(j.start as f64, plan.movie_timescale),
            tracks: j
                .tracks
                .iter()
                .map(|t| JoinTrackReport {
                    counts: t.clone(),
                    dropped_seconds: secs(t.dropped_ticks as f64, t.timescale),
                    generated_seconds: secs(t.generated_ticks as f64, t.timescale),
                    av_offset_error_seconds: t.error.map(|e| secs(e as f64, t.timescale)),
                })
                .collect(),
        })
        .collect();
    let dropped = plan
        .joins
        .iter()
        .flat_map(|j| &j.tracks)
        .map(|t| u64::from(t.dropped()))
        .sum();
    use crate::transcode::smartcut::is_smart_cut;
    // A smart cut re-encodes part of a track: its own count.
    let cut: u64 = plan
        .transcoded
        .iter()
        .filter(|x| is_smart_cut(x))
        .map(|x| x.output_samples as u64)
        .sum();
    let reencoded: u64 = plan
        .joins
        .iter()
        .flat_map(|j| j.tracks.iter().map(move |t| (j.input, t)))
        .filter(|(input, t)| {
            plan.transcoded
                .iter()
                .any(|x| !is_smart_cut(x) && x.input == *input && x.output_track + 1 == t.track)
        })
        .map(|(_, t)| u64::from(t.copied))
        .sum::<u64>()
        + cut;
    StitchReport {
        bytes,
        samples,
        copied_samples: samples - generated - reencoded,
        generated_samples: generated,
        reencoded_samples: reencoded,
        transcoded: plan.transcoded.clone(),
        dropped_samples: dropped,
        duration_seconds: secs(plan.duration as f64, plan.movie_timescale),
        copy_runs,
        joins,
        warnings: plan.warnings.clone(),
        files: Vec::new(),
    }
}

/// Demuxes every input and plans the join; what best-effort demuxing dropped comes first among the
/// plan's warnings. With `best_effort`, an input that cannot be read at all (an empty file, a
/// crashed recorder's file without a moov) is skipped with a warning, and timestamp jumps inside an
/// input are closed. The input sample tables are freed on return: the plan holds all the writer
/// needs.
///
/// A job may have hundreds of thousands of small inputs, so per input only its samples and about
/// 1 KB are kept: header bytes equal to the previous input's are shared
/// ([`demux::share_headers`]), and once planned, the inputs' models are dropped and the freed heap
/// given back to the operating system before the writer allocates its tables.
fn open_and_plan(
    sources: Vec<Arc<dyn Source>>,
    mut trim_of: Vec<TrimOf>,
    options: &StitchOptions,
) -> Result<StitchPlan, Error> {
    let (limits, best_effort) = (&options.limits, options.best_effort);
    use crate::error::DemuxError;
    check_count(sources.len(), limits, |i| sources[i].name().to_string())?;
    let mut medias: Vec<Media> = Vec::with_capacity(sources.len());
    let mut notes = Vec::new();
    let mut skipped: Option<DemuxError> = None;
    let mut cut = Vec::new();
    let (sources, trim_of_group) = group_continuations(sources, &mut trim_of)?;
    let mut trim_of_group = trim_of_group.into_iter();
    // Inputs are demuxed a few at a time on as many threads (a transport stream is read in full to
    // learn its access units, so this is where cores help), then taken in order.
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
    let mut pending = sources.into_iter().peekable();
    let mut opened = std::collections::VecDeque::new();
    loop {
        if opened.is_empty() {
            let batch: Vec<Arc<dyn Source>> = pending.by_ref().take(threads).collect();
            if batch.is_empty() {
                break;
            }
            opened.extend(open_batch(batch, limits, best_effort));
        }
        let Some(result) = opened.pop_front() else {
            break;
        };
        let trim = trim_of_group.next().flatten();
        let (parts, n) = match result {
            Ok(v) => v,
            Err(e @ (DemuxError::Malformed { .. } | DemuxError::Unsupported { .. }))
                if best_effort =>
            {
                notes.push(format!("skipped (best effort): {e}"));
                skipped = Some(e);
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        notes.extend(n);
        if let (Some((k, _)), true) = (&trim, parts.len() > 1) {
            return Err(cannot_trim(
                *k,
                &format!(
                    "it reads as {} parts (timestamp jumps or discontinuities)",
                    parts.len()
                ),
            ));
        }
        for mut m in parts {
            if let Some((_, t)) = &trim {
                crate::plan::apply_trim(&mut m, t)?;
                if options.accurate {
                    let input = medias.len();
                    cut.extend(crate::transcode::smartcut::smart_cut(
                        &mut m,
                        input,
                        options.threads,
                    )?);
                }
            }
            check_count(medias.len() + 1, limits, |_| m.name().to_string())?;
            if let Some(prev) = medias.last() {
                demux::share_headers(&mut m, prev);
            }
            if best_effort {
                notes.extend(crate::plan::close_jumps(&mut m));
            }
            medias.push(m);
        }
    }
    if medias.is_empty() {
        if let Some(e) = skipped {
            // Nothing readable at all: the last reason is the answer.
            return Err(e.into());
        }
    }
    // Fragments whose picture or audio format differs are re-encoded to the output's before
    // planning (`plan::decide` says which).
    let transcoded =
        crate::transcode::realize::realize(&mut medias, &realize_options(options, None))?;
    let mut plan = plan_with_options(
        &medias,
        &PlanOptions {
            limits: limits.clone(),
            parameter_sets: options.parameter_sets,
        },
    )?;
    plan.transcoded = transcoded;
    // A smart cut's output track: where its input's video went.
    for x in &mut cut {
        let video = plan
            .joins
            .iter()
            .find(|j| j.input == x.input)
            .and_then(|j| {
                j.tracks
                    .iter()
                    .find(|t| t.kind == crate::model::TrackKind::Video)
            });
        if let Some(t) = video {
            x.output_track = t.track.saturating_sub(1);
        }
    }
    plan.transcoded.splice(0..0, cut);
    drop(medias);
    crate::mem::release_free_heap();
    notes.append(&mut plan.warnings);
    plan.warnings = notes;
    Ok(plan)
}

/// How re-encoding runs for `options`; re-encoded video is spooled in `options.spool_dir`, else
/// beside `output`, else in memory.
pub(crate) fn realize_options<'a>(
    options: &'a StitchOptions,
    output: Option<&'a Path>,
) -> crate::transcode::realize::RealizeOptions<'a> {
    let beside = output.map(|o| {
        o.parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    });
    crate::transcode::realize::RealizeOptions {
        refuse: options.on_mismatch != OnMismatch::Transcode,
        threads: options.threads,
        fit: options.fit,
        spool_dir: options.spool_dir.as_deref().or(beside),
        progress: options.reencode_progress.as_ref().map(|p| &*p.0),
    }
}

/// A source's trim, with the number K of the input it was given for (for messages).
type TrimOf = Option<(usize, crate::plan::Trim)>;

/// `--trim` refused for the K-th input, naming why.
fn cannot_trim(k: usize, why: &str) -> Error {
    crate::error::MuxError::BadOptions(format!(
        "--trim {k}: input {k} cannot be trimmed: {why}; trim is for one-part inputs"
    ))
    .into()
}

/// Each source's trim (with its 1-based number), checked: K within the inputs, once per input.
fn trims_by_input(trims: &[(usize, crate::plan::Trim)], n: usize) -> Result<Vec<TrimOf>, Error> {
    let mut out = vec![None; n];
    for &(k, t) in trims {
        let bad = |m: String| Error::from(crate::error::MuxError::BadOptions(m));
        let slot = k
            .checked_sub(1)
            .and_then(|i| out.get_mut(i))
            .ok_or_else(|| {
                bad(format!(
                    "--trim {k}: there are {n} inputs (K counts from 1)"
                ))
            })?;
        if slot.is_some() {
            return Err(bad(format!("--trim {k} given twice")));
        }
        *slot = Some((k, t));
    }
    Ok(out)
}

/// An input's parts and the notes its demuxer wrote.
type Opened = (Vec<Media>, Vec<String>);

/// Demuxes `batch` on one thread per input (one input: on this thread), results in order.
fn open_batch(
    batch: Vec<Arc<dyn Source>>,
    limits: &Limits,
    best_effort: bool,
) -> Vec<Result<Opened, crate::error::DemuxError>> {
    if batch.len() == 1 {
        return batch
            .into_iter()
            .map(|s| demux::open_all_with(s, limits, best_effort))
            .collect();
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .into_iter()
            .map(|s| {
                let name = s.name().to_string();
                (
                    name,
                    scope.spawn(move || demux::open_all_with(s, limits, best_effort)),
                )
            })
            .collect();
        handles
            .into_iter()
            .map(|(name, h)| {
                h.join().unwrap_or_else(|_| {
                    Err(crate::error::DemuxError::Io {
                        file: name,
                        source: std::io::Error::other("demuxer thread panicked"),
                    })
                })
            })
            .collect()
    })
}

/// Transport streams that continue the one before them byte for byte (a recording split into
/// files by size: [`demux::ts::is_continuation`]) are read with it as one stream. Gives each
/// group's trim (`trims`: one per source); a trimmed source in a group is refused.
fn group_continuations(
    sources: Vec<Arc<dyn Source>>,
    trims: &mut [TrimOf],
) -> Result<Opening, Error> {
    let mut groups: Vec<Vec<(Arc<dyn Source>, TrimOf)>> = Vec::with_capacity(sources.len());
    for (i, src) in sources.into_iter().enumerate() {
        let trim = trims.get_mut(i).and_then(Option::take);
        match groups.last_mut() {
            Some(g)
                if demux::ts::is_continuation(&*src)
                    && g.first().is_some_and(|(f, _)| demux::ts::sniff(&**f)) =>
            {
                g.push((src, trim))
            }
            _ => groups.push(vec![(src, trim)]),
        }
    }
    let mut out = Vec::with_capacity(groups.len());
    let mut out_trims = Vec::with_capacity(groups.len());
    for mut g in groups {
        if g.len() == 1 {
            let (src, trim) = g.remove(0);
            out.push(src);
            out_trims.push(trim);
            continue;
        }
        if let Some((k, _)) = g.iter().find_map(|(_, t)| t.as_ref()) {
            return Err(cannot_trim(
                *k,
                "it is one transport stream with the files beside it (byte-for-byte continuation)",
            ));
        }
        out.push(Arc::new(crate::source::ConcatSource::new(
            g.into_iter().map(|(s, _)| s).collect(),
        )) as Arc<dyn Source>);
        out_trims.push(None);
    }
    Ok((out, out_trims))
}

/// At most `limits.max_segments` inputs; the error names the first one past the limit.
fn check_count(n: usize, limits: &Limits, name: impl Fn(usize) -> String) -> Result<(), Error> {
    if n > limits.max_segments {
        return Err(crate::error::PlanError::LimitExceeded {
            file: name(limits.max_segments),
            what: format!("{n} inputs, more than the limit of {}", limits.max_segments),
        }
        .into());
    }
    Ok(())
}

/// Opens every input read-only (only metadata is read), so a missing or unreadable input is
/// reported before any is parsed.
/// An HLS playlist input becomes one source per run of its segments between discontinuities
/// ([`demux::hls::expand`]).
fn open_files(
    inputs: &[&Path],
    options: &StitchOptions,
    notes: &mut Vec<String>,
) -> Result<Opening, Error> {
    let limits = &options.limits;
    check_count(inputs.len(), limits, |i| inputs[i].display().to_string())?;
    let mut out: Vec<Arc<dyn Source>> = Vec::with_capacity(inputs.len());
    let given = trims_by_input(&options.trims, inputs.len())?;
    let mut trims = Vec::with_capacity(inputs.len());
    for (p, trim) in inputs.iter().zip(given) {
        if demux::hls::is_playlist(p) {
            if let Some((k, _)) = trim {
                return Err(cannot_trim(k, "it is an HLS playlist"));
            }
            let (runs, n) = demux::hls::expand(p, limits, &options.hls)?;
            notes.extend(n);
            trims.extend(runs.iter().map(|_| None));
            out.extend(runs);
            check_count(out.len(), limits, |_| p.display().to_string())?;
            continue;
        }
        let src = FileSource::open(p).map_err(|e| crate::error::DemuxError::Io {
            file: p.display().to_string(),
            source: e,
        })?;
        out.push(Arc::new(src));
        trims.push(trim);
    }
    Ok((out, trims))
}

/// The sources of the inputs given, and each one's trim (with the input's number).
type Opening = (Vec<Arc<dyn Source>>, Vec<TrimOf>);

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
    // Re-encoded video waits beside the output (same file system, cleaned up with the process).
    let mut options = options.clone();
    if options.spool_dir.is_none() {
        let dir = output.parent().filter(|d| !d.as_os_str().is_empty());
        options.spool_dir = Some(dir.unwrap_or(Path::new(".")).to_path_buf());
    }
    let options = &options;
    if options.on_mismatch == OnMismatch::Split {
        return Err(crate::error::MuxError::BadOptions(
            "--on-mismatch split writes several outputs: call api_split::stitch_split".into(),
        )
        .into());
    }
    let format = OutputFormat::from_path(output);
    check_options(format, options)?;
    if format != OutputFormat::Mp4 || options.segment_duration.is_some() {
        return crate::api_out::stitch_other(inputs, output, format, options, progress);
    }
    let mut plan = open_paths(inputs, options)?;
    let mut out = OutputFile::create(output, inputs, options.overwrite)?;
    let layout = layout(&mut plan, options.fragmented)?;
    check_unchanged(&plan)?;
    write(&plan, &layout, &mut out, progress)?;
    out.commit()?;
    Ok(report(&plan, &layout))
}

/// Opens `inputs` (playlists expanded) and plans them; what opening said comes first among the
/// plan's warnings.
pub(crate) fn open_paths(inputs: &[&Path], options: &StitchOptions) -> Result<StitchPlan, Error> {
    let mut notes = Vec::new();
    let (sources, trims) = open_files(inputs, options, &mut notes)?;
    let mut plan = open_and_plan(sources, trims, options)?;
    notes.append(&mut plan.warnings);
    plan.warnings = notes;
    Ok(plan)
}

/// Refuses options the output format cannot honour, before any input is read.
fn check_options(format: OutputFormat, options: &StitchOptions) -> Result<(), Error> {
    let bad = |m: &str| Err(crate::error::MuxError::BadOptions(m.into()).into());
    match format {
        OutputFormat::Ts | OutputFormat::Hls if options.fragmented => bad(
            "--fragmented applies to MP4 output only (the output's extension picks MPEG-TS or HLS)",
        ),
        OutputFormat::Ts if options.segment_duration.is_some() => {
            bad("a segment duration needs an HLS (.m3u8) or MP4 output, not one .ts file")
        }
        OutputFormat::Mp4 if options.fragmented && options.segment_duration.is_some() => {
            bad("--segment-duration shards progressive MP4; it does not combine with --fragmented")
        }
        _ => Ok(()),
    }
}

/// The inputs must not have changed between reading their metadata and copying their bytes
/// (checked again whenever an input is reopened for copying).
pub(crate) fn check_unchanged(plan: &StitchPlan) -> Result<(), Error> {
    for src in &plan.inputs {
        src.check_unchanged()
            .map_err(|e| match InputChanged::find(&e) {
                Some(changed) => crate::error::MuxError::InputChanged {
                    path: src.name().into(),
                    what: changed.0.clone(),
                },
                None => crate::error::MuxError::Io {
                    path: src.name().into(),
                    source: e,
                },
            })?;
    }
    Ok(())
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

/// The plan [`stitch_sources`] writes: every source demuxed (best-effort salvage, skipping and
/// closing as `options` say) and planned.
pub fn plan_sources(
    sources: Vec<Arc<dyn Source>>,
    options: &StitchOptions,
) -> Result<StitchPlan, Error> {
    let trims = trims_by_input(&options.trims, sources.len())?;
    open_and_plan(sources, trims, options)
}

/// Stitches sources into bytes in memory (tests, fuzzing, callers without files).
pub fn stitch_sources(
    sources: Vec<Arc<dyn Source>>,
    options: &StitchOptions,
) -> Result<(Vec<u8>, StitchReport), Error> {
    let mut plan = plan_sources(sources, options)?;
    let layout = layout(&mut plan, options.fragmented)?;
    let mut out = Vec::with_capacity(usize::try_from(layout.len()).unwrap_or(0));
    let mut noop = |_: u64, _: u64| {};
    write(&plan, &layout, &mut out, &mut noop)?;
    let r = report(&plan, &layout);
    Ok((out, r))
}
