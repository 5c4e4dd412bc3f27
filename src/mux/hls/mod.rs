//! HTTP Live Streaming output (RFC 8216): the parts that do not depend on the segment container.
//!
//! * [`segmenter`] decides where segments start: a pure function of the cut track's sample times
//!   and a target duration, plus the rule that maps the other tracks into the same segments.
//! * [`playlist`] renders the VOD media playlist (§4.3) from integer segment durations.
//! * [`output`] writes the segment files and the playlist so that a failed run leaves neither a
//!   playlist nor a half set of segments ([`HlsOutput`]).
//!
//! The segment muxers (MPEG-TS, fragmented MP4) write each segment's bytes through
//! [`HlsOutput::segment_writer`]; nothing here knows their formats.

pub mod fmp4;
pub mod output;
pub mod plan;
pub mod playlist;
pub mod segmenter;

#[cfg(test)]
mod tests;

pub use output::{HlsOutput, SegmentFile};
pub use plan::{write_plan_hls, HlsOutError, HlsReport};
pub use playlist::{
    check_stem, extinf, init_uri, media_playlist, segment_uri, target_duration, PlaylistOptions,
    SegmentFormat, SegmentInfo,
};
pub use segmenter::{
    audio_ranges, first_sample_at_or_after, segment, SampleTime, Segment, TargetDuration,
};

use crate::error::MuxError;

/// Errors of the HLS output.
#[derive(Debug, thiserror::Error)]
pub enum HlsError {
    /// A target segment duration that is zero or cannot be represented.
    #[error(
        "bad segment duration {0:?}: expected a positive number of seconds such as 6 or 2.002"
    )]
    BadTargetDuration(String),
    /// A timescale of zero.
    #[error("timescale 0")]
    ZeroTimescale,
    /// A playlist needs at least one segment.
    #[error("no segments to list")]
    NoSegments,
    /// The track to cut has no samples.
    #[error("the track to cut into segments has no samples")]
    NoSamples,
    /// The first sample of the cut track is not a sync sample: segment 0 could not be decoded on
    /// its own.
    #[error("the first sample of the track to cut is not a keyframe")]
    FirstNotKeyframe,
    /// The track presents nothing after its last segment starts (all durations zero).
    #[error("the last segment (from sample {first_sample}) has no duration")]
    EmptyLastSegment {
        /// Its first sample.
        first_sample: usize,
    },
    /// A time or count that does not fit.
    #[error("timestamp overflow: {0}")]
    Overflow(&'static str),
    /// A name that cannot be written as a playlist URI.
    #[error("{name:?} cannot be used in a playlist: {why}")]
    BadName {
        /// The name.
        name: String,
        /// Why.
        why: &'static str,
    },
    /// `finish` was given a segment that was not written (or not closed).
    #[error("segment {index} {what}")]
    SegmentMismatch {
        /// The segment number.
        index: usize,
        /// What is wrong.
        what: &'static str,
    },
    /// A file was written that the playlist would not list (a segment past the last one, or an
    /// initialization section for TS segments).
    #[error("{0} was written but is not in the playlist")]
    Unlisted(String),
    /// An fMP4 playlist was finished without its initialization section.
    #[error("the initialization section was not written")]
    NoInitSection,
    /// Writing failed.
    #[error(transparent)]
    Mux(#[from] MuxError),
}
