//! Planning: which output tracks there are, where every input sample goes on the output timeline,
//! and which bytes must be generated rather than copied.
//!
//! The plan is the single description of the output that every muxer writes. Each output sample
//! names its [`Payload`]: a byte range of an input (copied bit-exact) or a generated frame (today:
//! silence). A later re-encode path slots in as another kind of [`Segment`] with generated payloads.

mod audio;
mod compat;
mod cut;
mod damage;
mod decide;
mod encryption;
mod entries;
mod inband;
mod locate;
mod out_samples;
mod roles;
mod timeline;
mod trim;
mod video;

#[cfg(test)]
mod timeline_tests;

use std::sync::Arc;

use bytes::Bytes;

pub use compat::describe_encrypted;
pub use compat::difference;
pub use cut::{apply_trim, parse_seconds, parse_trim_arg, Trim};
pub use damage::close_jumps;
pub use decide::{decide, Decision, FragmentDecisions, TrackDecision};
pub use encryption::OutEncryption;
pub use out_samples::OutSamples;
pub use roles::{presentation_extent, Span};

use crate::error::PlanError;
use crate::model::{Edit, FourCC, Media, TrackHeader, TrackKind};
use crate::source::Source;

/// What the output is made of.
#[derive(Debug, Clone)]
pub struct StitchPlan {
    /// The inputs, in order; [`Payload::Input`] indexes this.
    pub inputs: Vec<Arc<dyn Source>>,
    /// Ticks per second of the movie header and edit lists.
    pub movie_timescale: u32,
    /// Movie duration in `movie_timescale` ticks.
    pub duration: u64,
    /// Output tracks.
    pub tracks: Vec<OutTrack>,
    /// Bytes made by seam (silent frames), indexed by [`Payload::Generated`].
    pub generated: Vec<Bytes>,
    /// Where each input starts on the output timeline, in `movie_timescale` ticks.
    pub input_starts: Vec<u64>,
    /// The first input's movie-level `udta`, verbatim.
    pub udta: Option<Bytes>,
    /// The first input's movie-level `meta`, verbatim.
    pub meta: Option<Bytes>,
    /// Every distinct moov-level `pssh` box of the inputs, verbatim (ISO/IEC 23001-7 §8.1).
    pub pssh: Vec<Bytes>,
    /// What the planner dropped or adjusted, in words.
    pub warnings: Vec<String>,
    /// One entry per join, for reports and tests.
    pub joins: Vec<Join>,
    /// The input tracks re-encoded before planning (their samples are counted as copied in
    /// `joins`: they are copied from the re-encoded bytes).
    pub transcoded: Vec<crate::transcode::realize::Transcoded>,
}

/// One output track.
#[derive(Debug, Clone)]
pub struct OutTrack {
    /// Video, audio or other.
    pub kind: TrackKind,
    /// The handler type.
    pub handler: FourCC,
    /// Ticks per second of the sample timestamps.
    pub timescale: u32,
    /// Packed ISO-639-2/T language.
    pub language: u16,
    /// Track header fields (matrix, size, volume...) from the first input that has the track.
    pub header: TrackHeader,
    /// The `hdlr` box, verbatim.
    pub hdlr: Bytes,
    /// The media information header box, verbatim.
    pub media_header: Option<Bytes>,
    /// The sample entries (ISO/IEC 14496-12 §8.5.2 stsd), verbatim: the inputs' distinct entries in
    /// first-use order (one unless H.264/H.265 parameter sets change at a join). Every
    /// [`OutSample::entry`] indexes this.
    pub sample_entries: Vec<Bytes>,
    /// The output edit list, in movie ticks (media_time in track ticks).
    pub edits: Vec<Edit>,
    /// Samples in decode order.
    pub samples: OutSamples,
    /// Where the samples came from.
    pub segments: Vec<Segment>,
    /// Each sample's encryption data, when the track is encrypted (ISO/IEC 23001-7).
    pub encryption: Option<OutEncryption>,
}

impl OutTrack {
    /// Sum of sample durations in track ticks.
    pub fn media_duration(&self) -> u64 {
        self.samples.iter().map(|s| u64::from(s.duration)).sum()
    }

    /// Sum of edit durations in movie ticks.
    pub fn presentation_duration(&self) -> u64 {
        self.edits.iter().map(|e| e.segment_duration).sum()
    }
}

/// Where an output sample's bytes come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// `size` bytes at `offset` of input `input`.
    Input {
        /// Index into [`StitchPlan::inputs`].
        input: u32,
        /// Byte offset in that input.
        offset: u64,
    },
    /// Bytes seam made, index into [`StitchPlan::generated`].
    Generated(u32),
    /// The bytes of input `input` from `offset` (`size` minus the inserted bytes' length), with
    /// [`StitchPlan::generated`] entry `generated` inserted `at` bytes in: a keyframe that gets
    /// the parameter sets of its fragment in band (`--parameter-sets inband`). The input's bytes
    /// stay bit-exact on both sides of the insertion.
    Spliced {
        /// Index into [`StitchPlan::inputs`].
        input: u32,
        /// Byte offset in that input.
        offset: u64,
        /// Index into [`StitchPlan::generated`] of the inserted bytes.
        generated: u32,
        /// How many of the input's bytes come before the inserted ones.
        at: u32,
    },
}

/// One output sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutSample {
    /// Its bytes.
    pub payload: Payload,
    /// Size in bytes.
    pub size: u32,
    /// Output decode time in track ticks.
    pub dts: i64,
    /// Duration in track ticks.
    pub duration: u32,
    /// Composition offset in track ticks.
    pub cts_offset: i32,
    /// Sync sample.
    pub sync: bool,
    /// The input whose span of the timeline this sample belongs to (for interleaving).
    pub slot: u32,
    /// Index into [`OutTrack::sample_entries`] of the entry describing this sample (stsc's
    /// sample_description_index minus one, §8.7.4).
    pub entry: u16,
}

impl OutSample {
    /// An output sample copied from `sample` of input `input`, at output decode time `dts`,
    /// described by output sample entry `entry`.
    pub fn copied(
        input: usize,
        sample: &crate::model::Sample,
        dts: i64,
        cts_offset: i32,
        sync: bool,
        entry: u16,
    ) -> Self {
        OutSample {
            payload: Payload::Input {
                input: input as u32,
                offset: sample.offset,
            },
            size: sample.size,
            dts,
            duration: 0,
            cts_offset,
            sync,
            slot: input as u32,
            entry,
        }
    }
}

/// A run of output samples with one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The input whose span this covers.
    pub input: usize,
    /// What was done.
    pub action: Action,
    /// First output sample of the run.
    pub first: usize,
    /// Number of output samples.
    pub count: usize,
}

/// How a segment's samples were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Copied from the input track `track`, samples `first_sample..first_sample+count` (indices
    /// into the track as planned: samples of zero bytes, and video samples presented only after
    /// the input's edit list ends, are left out before planning).
    Copy {
        /// Track index in the input.
        track: usize,
        /// First input sample.
        first_sample: usize,
    },
    /// Silent frames filling a span without audio.
    Silence,
}

/// What happened at the start of one input on the output timeline, track by track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Join {
    /// The input that starts here.
    pub input: usize,
    /// Its start on the output timeline, movie ticks.
    pub start: u64,
    /// One entry per output track, in output track order.
    pub tracks: Vec<JoinTrack>,
}

impl Join {
    /// The first audio track's entry.
    pub fn audio(&self) -> Option<&JoinTrack> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Audio)
    }

    /// The first audio track's placement error (see [`JoinTrack::error`]).
    pub fn audio_error(&self) -> Option<i64> {
        self.audio().and_then(|a| a.error)
    }
}

/// What one input contributed to one output track, and what was left out or made up.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct JoinTrack {
    /// The output track's ID (its index in [`StitchPlan::tracks`] plus one, as in its `tkhd`).
    pub track: usize,
    /// Video, audio or other.
    #[serde(serialize_with = "kind_name")]
    pub kind: TrackKind,
    /// Ticks per second of the tick counts below.
    pub timescale: u32,
    /// Samples copied from this input.
    pub copied: u32,
    /// Leading packets left out: a later input's priming, audio before the input's first video
    /// frame, or overlap with the previous input.
    pub dropped_head: u32,
    /// Packets left out inside the input (timestamps overlapping the packet before).
    pub dropped_inside: u32,
    /// Trailing packets left out: audio after the input's last video frame, or padding past its
    /// edit list.
    pub dropped_tail: u32,
    /// Duration of the packets left out, in `timescale` ticks (one decoded frame each for audio).
    pub dropped_ticks: u64,
    /// Silent frames generated before this input's audio (or for all of it when it has none).
    pub generated: u32,
    /// Of `generated`, those that fill gaps inside the input's own audio.
    pub generated_inside: u32,
    /// Duration of the generated frames, in `timescale` ticks.
    pub generated_ticks: u64,
    /// Video frames kept because later frames need them to decode, hidden by the output edit list
    /// (frames before the input's edit start or after its end).
    pub decode_only: u32,
    /// Audio placement error (output minus ideal position of the first kept packet), in `timescale`
    /// ticks. Positive means audio is late relative to video. `None` when the input has no audio
    /// for this track, or when all of it lies within half a frame of audio already placed.
    pub error: Option<i64>,
}

fn kind_name<S: serde::Serializer>(k: &TrackKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

impl JoinTrack {
    /// An entry with nothing counted yet.
    pub fn new(track: usize, kind: TrackKind, timescale: u32) -> Self {
        JoinTrack {
            track,
            kind,
            timescale,
            copied: 0,
            dropped_head: 0,
            dropped_inside: 0,
            dropped_tail: 0,
            dropped_ticks: 0,
            generated: 0,
            generated_inside: 0,
            generated_ticks: 0,
            decode_only: 0,
            error: None,
        }
    }

    /// Packets left out, all causes.
    pub fn dropped(&self) -> u32 {
        self.dropped_head + self.dropped_inside + self.dropped_tail
    }
}

/// Options for [`plan`].
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    /// Caps what the plan may make: `limits.max_samples` samples per output track and
    /// `limits.max_generated_samples` generated ones, so a tiny file claiming hours of gap cannot
    /// make seam allocate millions of silent frames beyond what the caller allows.
    pub limits: crate::Limits,
    /// What to do with H.264/H.265 inputs whose parameter sets differ (same picture format):
    /// see [`ParameterSets`].
    pub parameter_sets: ParameterSets,
}

/// How an output track joins H.264/H.265 inputs of one picture format whose parameter sets
/// (profile, level, VUI, entropy coder, PPS...) differ. Chosen by playing the outputs in ffmpeg,
/// GStreamer and Chromium: docs/PARAMETER_SETS.md.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ParameterSets {
    /// Refuse them, naming what differs.
    Refuse,
    /// One sample entry per distinct configuration (stsd entries; stsc's and tfhd's
    /// sample_description_index say which describes each sample).
    Entries,
    /// One `avc3`/`hev1` sample entry (ISO/IEC 14496-15 §5.4.2, §8.4.1: parameter sets may also
    /// be in the samples), holding the first configuration; the keyframe where another
    /// configuration starts gets its parameter sets inserted in band ([`Payload::Spliced`]).
    /// Tracks whose configuration never changes are written as before.
    #[default]
    Inband,
}

/// Where inputs go on the output timeline when they are not simply laid end to end: recording
/// sessions (`crate::session`) keep every input at its wall-clock time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineOptions {
    /// An input's window spans all its tracks (audio starting before or ending after its video is
    /// kept at its time) instead of its first video track's presentation.
    pub whole_inputs: bool,
    /// Where each input's presentation time 0 lies on a clock all inputs share (one per input, in
    /// order, never decreasing once the windows are placed). The output starts at the first
    /// input's window start; a stretch between one window's end and the next window's start is
    /// held: the last video frame lasts until the next one and audio is filled with silence. An
    /// input whose window reaches past the next one's start is cut there. `None`: end to end.
    pub origins: Option<Vec<crate::time::Ts>>,
}

/// Lays the inputs end to end on one timeline and decides every output sample.
pub fn plan(inputs: &[Media], options: &PlanOptions) -> Result<StitchPlan, PlanError> {
    plan_timeline(inputs, options, &TimelineOptions::default())
}

/// [`plan()`] with the inputs placed as `timeline` says.
pub fn plan_timeline(
    inputs: &[Media],
    options: &PlanOptions,
    timeline: &TimelineOptions,
) -> Result<StitchPlan, PlanError> {
    let mut warnings = Vec::new();
    let trimmed = trim::trim_past_edits(inputs, &mut warnings);
    let inputs = trimmed.as_deref().unwrap_or(inputs);
    let allow_new = options.parameter_sets != ParameterSets::Refuse;
    let mut plan = timeline::build(inputs, &options.limits, allow_new, timeline)?;
    encryption::attach(&mut plan, inputs)?;
    if options.parameter_sets == ParameterSets::Inband {
        inband::apply(&mut plan)?;
    }
    warnings.append(&mut plan.warnings);
    plan.warnings = warnings;
    Ok(plan)
}
