//! Recording sessions: inputs laid on a wall-clock timeline by their start times, audio-only and
//! video-only files laid on one timeline, absences held or skipped (issue 9).
//!
//! A session is built as a layer over the planner: (1) each input's start time is read
//! ([`times`]: `--start-times` lists, or an ADTS file's own timestamp); (2) inputs are grouped into
//! segments, runs on the wall clock with less than [`SEGMENT_GAP`] between them (a user's
//! presence: what `--per-segment` writes, `--gaps skip` joins and `--chapters` marks); (3) each
//! input is split into its video part and its audio part, and each kind is planned on its own with
//! [`crate::plan::TimelineOptions`]: every part at its wall-clock time, a gap held (the last frame
//! lasts until the next, silence fills the audio), so video files and audio files need not start,
//! stop or split together (a camera turned off and on again while the audio runs on); (4) the two
//! plans are put on one timeline starting at the earliest input (the later kind after an empty
//! edit), interleaved by the second. With `--gaps skip` each segment is moved earlier by the
//! absences before it. Outputs are MP4 (M4A for `--audio-only`), one merged or one per segment
//! ([`segment_path`]), optionally with chapters ([`chapters`]).
//!
//! Files of one kind that overlap on the wall clock (a recorder's next file starting before the
//! previous one ends) are cut: the earlier one ends where the later one starts.

pub mod chapters;
mod combine;
mod place;
mod segments;
pub mod times;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::api::{OutputFormat, StitchOptions, StitchReport};
use crate::error::{DemuxError, Error, MuxError, PlanError};
use crate::model::{Media, TrackKind};
use crate::plan::{PlanOptions, StitchPlan, TimelineOptions, Trim};
use crate::source::{FileSource, Source};
use crate::time::{lcm, rescale_i128, Rounding, Ts};

pub use segments::SEGMENT_GAP;
pub use times::{container_start, match_inputs, read_start_times};

/// One input of a session: a file, its wall-clock start time when known, and its trim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    /// The input file (an MP4, TS, FLV, ADTS or HLS playlist).
    pub path: PathBuf,
    /// Wall-clock start of the input's first presented sample (seconds since any epoch the
    /// session shares, as an exact `Ts`); `None` when unknown. Precisely: the time of the
    /// input's presentation time 0 as its edit lists give it (for ADTS audio, which has none,
    /// its first decoded sample, priming included).
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
    /// One chapter per segment (per input when the inputs have no start times), named after its
    /// files (see [`chapters`]); with `per_segment`, each file has one.
    pub chapters: bool,
}

/// The file written for segment `k` (from 0) with `per_segment`: `dir/out.mp4` gives
/// `dir/out_00000.mp4`, `dir/out_00001.mp4`... (the MP4 shards' scheme).
pub fn segment_path(output: &Path, k: usize) -> PathBuf {
    crate::api_out::shard_path(output, k)
}

/// Session ticks per second when the start times' timescales have no common multiple that fits.
const FLICKS: u64 = 705_600_000;

/// Writes `inputs` as one session into `output` (or one output per segment, see
/// [`segment_path`]). Returns one report per file written, in order.
///
/// Start times: every input needs one, or none does. An input's start is the wall-clock time of
/// its presentation time 0 (the first presented instant of its earliest track; for ADTS audio the
/// first decoded sample, priming included); a trimmed input starts `trim.start` later. Inputs
/// without `start` take their container's time ([`container_start`]) when every input has one;
/// when no input has a time, each input is its own segment, back to back, in the order given.
pub fn run(
    inputs: &[InputSpec],
    output: &Path,
    session: &SessionOptions,
    options: &StitchOptions,
) -> Result<Vec<StitchReport>, Error> {
    if inputs.iter().all(|i| i.start.is_none())
        && *session == SessionOptions::default()
        && !all_have_container_times(inputs, &options.limits)
    {
        let mut options = options.clone();
        for (k, i) in inputs.iter().enumerate() {
            if let Some(t) = i.trim {
                options.trims.push((k + 1, t));
            }
        }
        let paths: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
        return Ok(vec![crate::api::stitch(&paths, output, &options)?]);
    }
    check_options(output, session, options)?;
    if inputs.is_empty() {
        return Err(PlanError::NoInputs.into());
    }
    let mut warnings = Vec::new();
    let (opened, clock) = open_inputs(inputs, session, options, &mut warnings)?;
    let (scale, opened) = opened;
    let paths: Vec<&Path> = inputs.iter().map(|i| i.path.as_path()).collect();
    let plan_options = PlanOptions {
        limits: options.limits.clone(),
        parameter_sets: options.parameter_sets,
    };
    // Audio whose format differs from the output track's is re-encoded before planning (as
    // `seam stitch` does), unless refused.
    let refuse = crate::api::realize_options(options, Some(output));
    let mut plans = if clock {
        place::plan_session(opened, output, session, scale, (&plan_options, refuse))?
    } else {
        plan_unclocked(opened, output, session, &plan_options, refuse)?
    };
    crate::mem::release_free_heap();
    if let Some((_, p)) = plans.first_mut() {
        let mut w = std::mem::take(&mut warnings);
        w.append(&mut p.warnings);
        p.warnings = w;
    }
    write_all(plans, &paths, options)
}

/// Inputs without start times: laid end to end as `seam stitch` lays them; each input is a
/// segment (for `--per-segment` and `--chapters`).
fn plan_unclocked(
    opened: Vec<segments::Opened>,
    output: &Path,
    session: &SessionOptions,
    plan_options: &PlanOptions,
    refuse: crate::transcode::realize::RealizeOptions<'_>,
) -> Result<Vec<(PathBuf, StitchPlan)>, Error> {
    let timeline = TimelineOptions::default();
    let titles: Vec<String> = opened.iter().map(|o| file_name(&o.path)).collect();
    let mut medias: Vec<Media> = opened.into_iter().map(|o| o.media).collect();
    let mut plans = Vec::new();
    if session.per_segment {
        for (k, (m, title)) in medias.into_iter().zip(titles).enumerate() {
            let mut plan = crate::plan::plan_timeline(&[m], plan_options, &timeline)?;
            if session.chapters {
                add_chapters(&mut plan, &[(0, title)])?;
            }
            plans.push((segment_path(output, k), plan));
        }
        return Ok(plans);
    }
    let transcoded = crate::transcode::realize::realize(&mut medias, &refuse)?;
    let mut plan = crate::plan::plan_timeline(&medias, plan_options, &timeline)?;
    plan.transcoded = transcoded;
    if session.chapters {
        let starts: Vec<u64> = plan.joins.iter().map(|j| j.start).collect();
        let list: Vec<(u64, String)> = starts.into_iter().zip(titles).collect();
        add_chapters(&mut plan, &list)?;
    }
    plans.push((output.to_path_buf(), plan));
    Ok(plans)
}

/// Every input is an ADTS file with its own start time ([`container_start`]); files that do not
/// start with an ID3v2 tag are answered after reading 3 bytes.
fn all_have_container_times(inputs: &[InputSpec], limits: &crate::Limits) -> bool {
    !inputs.is_empty()
        && inputs.iter().all(|i| {
            let Ok(src) = FileSource::open(&i.path) else {
                return false;
            };
            let mut head = [0u8; 3];
            src.read_at(0, &mut head).is_ok()
                && &head == b"ID3"
                && container_start(&src, limits).is_some()
        })
}

/// Session modes apply to MP4 output.
fn check_options(
    output: &Path,
    session: &SessionOptions,
    options: &StitchOptions,
) -> Result<(), Error> {
    let bad = |m: &str| Err(MuxError::BadOptions(m.into()).into());
    if session.audio_only && session.video_only {
        return bad("--audio-only and --video-only exclude each other");
    }
    if OutputFormat::from_path(output) != OutputFormat::Mp4 || options.segment_duration.is_some() {
        return bad("recording sessions (start times, --gaps, --per-segment, --audio-only, --video-only, --chapters) write MP4 or M4A files, not MPEG-TS, HLS or shards");
    }
    if !options.trims.is_empty() {
        return bad("a session's trims are given per input (InputSpec::trim), not with --trim");
    }
    Ok(())
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The opened inputs with the session's ticks per second, and whether they have start times.
type OpenedInputs = ((u64, Vec<segments::Opened>), bool);

/// Opens, trims and limits every input, and places it on the session's clock.
fn open_inputs(
    inputs: &[InputSpec],
    session: &SessionOptions,
    options: &StitchOptions,
    warnings: &mut Vec<String>,
) -> Result<OpenedInputs, Error> {
    let limits = &options.limits;
    let mut medias = Vec::with_capacity(inputs.len());
    for (k, spec) in inputs.iter().enumerate() {
        if crate::demux::hls::is_playlist(&spec.path) {
            return Err(PlanError::Unsupported {
                file: spec.path.display().to_string(),
                track: "session".into(),
                what: "an HLS playlist is not a session input (its segments carry their own times: stitch it first, then give the result a start time)".into(),
            }
            .into());
        }
        let src: Arc<dyn Source> =
            Arc::new(FileSource::open(&spec.path).map_err(|e| DemuxError::Io {
                file: spec.path.display().to_string(),
                source: e,
            })?);
        let (mut parts, notes) =
            match crate::demux::open_all_with(src.clone(), limits, options.best_effort) {
                Ok(v) => v,
                // As `seam stitch --best-effort`: an input that cannot be read at all is skipped.
                Err(e @ (DemuxError::Malformed { .. } | DemuxError::Unsupported { .. }))
                    if options.best_effort =>
                {
                    warnings.push(format!("skipped (best effort): {e}"));
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
        warnings.extend(notes);
        if parts.len() != 1 {
            return Err(PlanError::Unsupported {
                file: spec.path.display().to_string(),
                track: "session".into(),
                what: format!("it reads as {} parts (timestamp jumps); give each part its own start time as a separate file", parts.len()),
            }
            .into());
        }
        let mut m = parts.remove(0);
        if let Some(t) = &spec.trim {
            crate::plan::apply_trim(&mut m, t)?;
        }
        if options.best_effort {
            warnings.extend(crate::plan::close_jumps(&mut m));
        }
        let container = if spec.start.is_none() && m.format == crate::model::ContainerFormat::Adts {
            container_start(&*src, limits)
        } else {
            None
        };
        medias.push((m, spec.start, container, k));
    }
    // One clock: the inputs' own times, else every container's, else none.
    let explicit = medias.iter().filter(|m| m.1.is_some()).count();
    let starts: Vec<Option<Ts>> = if explicit > 0 {
        medias.iter().map(|m| m.1).collect()
    } else if let Some(mut times) = medias.iter().map(|m| m.2).collect::<Option<Vec<Ts>>>() {
        times::unwrap_33(&mut times);
        times.into_iter().map(Some).collect()
    } else {
        vec![None; medias.len()]
    };
    let clock = starts.iter().any(Option::is_some);
    if let Some(k) = starts.iter().position(Option::is_none).filter(|_| clock) {
        return Err(MuxError::BadOptions(format!(
            "{}: no start time, while other inputs have one (give every input a time, or none)",
            inputs[medias[k].3].path.display()
        ))
        .into());
    }
    let scale = starts
        .iter()
        .flatten()
        .map(|t| u64::from(t.timescale))
        .chain(
            inputs
                .iter()
                .filter_map(|i| i.trim)
                .map(|t| u64::from(t.start.timescale)),
        )
        .try_fold(90_000u64, |l, s| {
            lcm(l, s).filter(|&v| v <= u64::from(u32::MAX))
        })
        .unwrap_or(FLICKS);
    let mut out = Vec::with_capacity(medias.len());
    for ((mut m, _, _, k), start) in medias.into_iter().zip(&starts) {
        let spec = &inputs[k];
        let name = spec.path.display().to_string();
        let overflow = || PlanError::Overflow {
            file: name.clone(),
            track: "session".into(),
            at: None,
            what: "start time".into(),
        };
        let at = |t: Ts| {
            rescale_i128(
                i128::from(t.value),
                u64::from(t.timescale),
                scale,
                Rounding::Nearest,
            )
        };
        let mut origin = match start {
            Some(t) => at(*t).ok_or_else(overflow)?,
            None => 0,
        };
        if let Some(t) = spec.trim {
            origin += at(t.start).ok_or_else(overflow)?;
        }
        if session.audio_only || session.video_only {
            let keep = if session.audio_only {
                TrackKind::Audio
            } else {
                TrackKind::Video
            };
            m.tracks.retain(|t| t.kind == keep);
        }
        let Some(extent) = crate::plan::presentation_extent(&m, scale) else {
            if session.audio_only || session.video_only {
                warnings.push(format!(
                    "{name}: no {} track; left out",
                    if session.audio_only { "audio" } else { "video" }
                ));
                continue;
            }
            return Err(PlanError::NoSamples {
                file: name,
                moov: None,
                what: "no video or audio samples".into(),
            }
            .into());
        };
        out.push(segments::Opened {
            path: spec.path.clone(),
            media: m,
            origin,
            extent,
        });
    }
    if out.is_empty() && !(session.audio_only || session.video_only) {
        return Err(PlanError::NoInputs.into());
    }
    if out.is_empty() {
        let kind = if session.audio_only { "audio" } else { "video" };
        return Err(
            MuxError::BadOptions(format!("--{kind}-only: no input has a {kind} track")).into(),
        );
    }
    // Session ticks count from the earliest input's start.
    let zero = out.iter().map(|o| o.origin + o.extent.0).min().unwrap_or(0);
    for o in &mut out {
        o.origin -= zero;
    }
    Ok(((scale, out), clock))
}

/// Chapters at (start in the plan's movie ticks, title), as a `chpl` box in the plan's `udta`.
fn add_chapters(plan: &mut StitchPlan, list: &[(u64, String)]) -> Result<(), Error> {
    if list.len() > chapters::MAX_CHAPTERS {
        return Err(MuxError::BadOptions(format!(
            "--chapters: {} segments, more than the {} chapters a chpl box holds",
            list.len(),
            chapters::MAX_CHAPTERS
        ))
        .into());
    }
    let ms = u64::from(plan.movie_timescale.max(1));
    let list: Vec<chapters::Chapter> = list
        .iter()
        .map(|(start, title)| chapters::Chapter {
            start: rescale_i128(i128::from(*start), ms, 10_000_000, Rounding::Nearest)
                .and_then(|v| u64::try_from(v).ok())
                .unwrap_or(0),
            title: title.clone(),
        })
        .collect();
    plan.udta = Some(chapters::udta_with_chapters(plan.udta.as_ref(), &list));
    Ok(())
}

/// Writes every plan (progressive or fragmented MP4) through a temporary file renamed on
/// success; if one fails, the files this run already put in place are removed again.
fn write_all(
    plans: Vec<(PathBuf, StitchPlan)>,
    inputs: &[&Path],
    options: &StitchOptions,
) -> Result<Vec<StitchReport>, Error> {
    for (path, _) in &plans {
        if !options.overwrite && path.exists() {
            return Err(MuxError::OutputExists(path.clone()).into());
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    let mut reports = Vec::with_capacity(plans.len());
    for (path, mut plan) in plans {
        match write_one(&mut plan, &path, inputs, options) {
            Ok(r) => {
                written.push(path);
                reports.push(r);
            }
            Err(e) => {
                for p in &written {
                    let _ = std::fs::remove_file(p);
                }
                return Err(e);
            }
        }
    }
    Ok(reports)
}

fn write_one(
    plan: &mut StitchPlan,
    output: &Path,
    inputs: &[&Path],
    options: &StitchOptions,
) -> Result<StitchReport, Error> {
    let mut out = crate::mux::output::OutputFile::create(output, inputs, options.overwrite)?;
    let layout = if options.fragmented {
        crate::mux::mp4::layout_fragmented(plan)?
    } else {
        crate::mux::mp4::layout_progressive(plan, crate::mux::mp4::ProgressiveOptions::default())?
    };
    crate::api::check_unchanged(plan)?;
    crate::mux::write_layout(plan, &layout, &mut out, &mut |_, _| {})?;
    out.commit()?;
    Ok(crate::api::report_written(
        plan,
        layout.len(),
        layout.input_runs(),
    ))
}
