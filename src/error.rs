//! Errors, one enum per layer, each carrying where in which file the problem is.
//!
//! Callers match on variants, never on message text. `Malformed` (the file breaks a rule of its
//! format), `Unsupported` (valid, but seam cannot handle it yet) and `LimitExceeded` (valid, but larger
//! than [`crate::Limits`] allows) are kept apart so scripts can tell a damaged file from a feature gap.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// A place in an input: file name, box or packet path, byte offset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    /// The file's name as the user gave it.
    pub file: String,
    /// Box path such as `moov/trak[1]/mdia/minf/stbl/stsz`, or a packet/tag description.
    pub path: String,
    /// Absolute byte offset in the file.
    pub offset: u64,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{} at byte {}", self.file, self.offset)
        } else {
            write!(f, "{}: {} at byte {}", self.file, self.path, self.offset)
        }
    }
}

/// Errors reading an input container.
#[derive(Debug, thiserror::Error)]
pub enum DemuxError {
    /// The file breaks a rule of its format.
    #[error("{loc}: {rule}")]
    Malformed {
        /// Where.
        loc: Location,
        /// The rule broken, in words.
        rule: String,
    },
    /// Valid input that seam does not handle.
    #[error("{loc}: unsupported: {what}")]
    Unsupported {
        /// Where.
        loc: Location,
        /// What is not supported.
        what: String,
    },
    /// A count or size beyond [`crate::Limits`].
    #[error("{loc}: limit exceeded: {what}")]
    LimitExceeded {
        /// Where.
        loc: Location,
        /// Which limit, with the value found.
        what: String,
    },
    /// Reading the file failed.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
}

impl DemuxError {
    /// The location of the error, if it has one.
    pub fn location(&self) -> Option<&Location> {
        match self {
            DemuxError::Malformed { loc, .. }
            | DemuxError::Unsupported { loc, .. }
            | DemuxError::LimitExceeded { loc, .. } => Some(loc),
            DemuxError::Io { .. } => None,
        }
    }
}

/// Errors parsing codec configuration (parameter sets, AudioSpecificConfig, ADTS headers).
///
/// Offsets are relative to the start of the structure being parsed; the demuxer that called the codec
/// parser adds the file location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The bitstream breaks a rule of its specification.
    #[error("{what} (at byte {offset} of the {structure})")]
    Malformed {
        /// Which structure, e.g. `avcC` or `SPS`.
        structure: &'static str,
        /// Byte offset inside it.
        offset: usize,
        /// The rule broken.
        what: String,
    },
    /// A valid feature seam does not handle.
    #[error("unsupported {structure}: {what}")]
    Unsupported {
        /// Which structure.
        structure: &'static str,
        /// What.
        what: String,
    },
}

/// Errors deciding how to join the inputs.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// No inputs were given.
    #[error("no inputs")]
    NoInputs,
    /// An input has no video or audio track.
    #[error("{file}{}: no video or audio track{}", .moov.map(|o| format!(": moov at byte {o}")).unwrap_or_default(), if .tracks.is_empty() { String::new() } else { format!(" ({})", .tracks) })]
    NoTracks {
        /// The file.
        file: String,
        /// Where its moov box starts, when known: the tracks it describes are there.
        moov: Option<u64>,
        /// What tracks it has, e.g. `track 2 audio: 0 samples`.
        tracks: String,
    },
    /// An input has video or audio tracks but no samples in them (an fMP4 initialisation segment,
    /// or an empty recording).
    #[error("{file}{}: no samples: {what}", .moov.map(|o| format!(": moov at byte {o}")).unwrap_or_default())]
    NoSamples {
        /// The file.
        file: String,
        /// Where its moov box starts, when known: the empty tracks are described there.
        moov: Option<u64>,
        /// What the file is, in words.
        what: String,
    },
    /// Two inputs cannot be joined without re-encoding.
    #[error("{0}")]
    Incompatible(Box<Incompatibility>),
    /// Valid input that the planner cannot handle yet.
    #[error("{file}: {track}: unsupported: {what}")]
    Unsupported {
        /// The file.
        file: String,
        /// The track.
        track: String,
        /// What.
        what: String,
    },
    /// Timestamps do not fit the output's integer fields.
    #[error("{file}: {track}: {}timestamps overflow: {what}", .at.as_ref().map(|a| format!("{a}: ")).unwrap_or_default())]
    Overflow {
        /// The input whose sample's time is out of range (for an input whose decode times were
        /// pushed by the previous one, the sample that pushed them).
        file: String,
        /// The track.
        track: String,
        /// The sample, when one sample's time is the cause.
        at: Option<SampleRef>,
        /// What overflowed.
        what: String,
    },
    /// The output would exceed [`crate::Limits`].
    #[error("{file}: limit exceeded: {what}")]
    LimitExceeded {
        /// The input whose span caused it.
        file: String,
        /// Which limit.
        what: String,
    },
    /// A track's decode time leaps far ahead or goes backwards inside one input (a damaged
    /// `tfdt`); `--best-effort` closes the jump instead.
    #[error("{file}: {track}: sample at byte {offset}: {what}: damaged timestamps (--best-effort closes the jump)")]
    TimestampJump {
        /// The file.
        file: String,
        /// The track.
        track: String,
        /// Byte offset of the first sample after the jump.
        offset: u64,
        /// What jumps, and by how much.
        what: String,
    },
    /// A `--trim` that cannot apply to its input (START at or past the input's end, a track
    /// with nothing to present between START and END).
    #[error("{file}: --trim: {what}")]
    Trim {
        /// The input.
        file: String,
        /// Why.
        what: String,
    },
    /// Making a silent audio frame failed.
    #[error("{file}: audio: cannot make silence to fill the gap: {what}")]
    Silence {
        /// The file whose span needs silence.
        file: String,
        /// Why.
        what: String,
    },
}

/// One sample of an input, for planning errors: `sample 12 of track 1 (data at byte 4567)`. The
/// byte offset is where the sample's data starts in the input, which locates it whatever box
/// (stts/ctts entry, trun) its timing came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleRef {
    /// track_ID of the input track.
    pub track_id: u32,
    /// Index in decode order, from 0 (displayed from 1).
    pub index: usize,
    /// Absolute byte offset of the sample's data in the input.
    pub offset: u64,
}

impl fmt::Display for SampleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "sample {} of track {} (data at byte {})",
            self.index.saturating_add(1),
            self.track_id,
            self.offset
        )
    }
}

/// Why two inputs cannot share an output track: `b.mp4: video resolution 720x1280 differs from
/// a.mp4: 1280x720`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {track} {parameter} {value} differs from {reference_file}: {reference_value}")]
pub struct Incompatibility {
    /// The later input.
    pub file: String,
    /// `video`, `audio` or the handler of another track.
    pub track: String,
    /// The parameter that differs, e.g. `resolution`.
    pub parameter: String,
    /// Its value in `file`.
    pub value: String,
    /// The input it was compared with.
    pub reference_file: String,
    /// The value there.
    pub reference_value: String,
}

/// Errors writing the output.
#[derive(Debug, thiserror::Error)]
pub enum MuxError {
    /// Reading an input or writing the output failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// Copying sample data from an input into the output failed (reading or writing: the kernel's
    /// copy does not say which).
    #[error("copying {input} into {output}: {source}")]
    Copy {
        /// The input.
        input: PathBuf,
        /// The output.
        output: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The output path names one of the inputs.
    #[error("{0}: the output is one of the inputs; refusing to overwrite it")]
    OutputIsInput(PathBuf),
    /// The output exists and overwriting was not allowed.
    #[error("{0}: exists (use -y to overwrite)")]
    OutputExists(PathBuf),
    /// The run was interrupted by a signal; nothing was left behind.
    #[error("interrupted; no output written")]
    Interrupted,
    /// A value does not fit in the field the format gives it.
    #[error("output too large: {0}")]
    TooLarge(String),
    /// An input changed while it was being copied.
    #[error("{path}: input changed during the run: {what}")]
    InputChanged {
        /// The input.
        path: PathBuf,
        /// What differs.
        what: String,
    },
    /// Options that do not go together (`--fragmented` with a transport stream output...).
    #[error("{0}")]
    BadOptions(String),
    /// Writing an MPEG-TS output (bad sample data or timestamps; I/O errors are [`MuxError::Io`]).
    #[error("{path}: {source}")]
    Ts {
        /// The output.
        path: PathBuf,
        /// Why.
        #[source]
        source: crate::mux::ts::TsOutError,
    },
    /// Cutting MP4 shards.
    #[error(transparent)]
    Shard(#[from] crate::mux::mp4::ShardError),
    /// Writing an HLS output.
    #[error("{path}: {source}")]
    Hls {
        /// The playlist.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<crate::mux::hls::HlsOutError>,
    },
}

/// Any error from the library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading an input.
    #[error(transparent)]
    Demux(#[from] DemuxError),
    /// Planning the join.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Writing the output.
    #[error(transparent)]
    Mux(#[from] MuxError),
    /// Re-encoding a fragment whose format differs.
    #[error(transparent)]
    Audio(#[from] crate::transcode::audio::AudioError),
}

impl Error {
    /// The CLI's exit code for this error: 1 bad input, 3 I/O (see the README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Demux(DemuxError::Io { .. }) => 3,
            // A trim that does not fit its input is a usage error.
            Error::Plan(PlanError::Trim { .. }) => 2,
            Error::Demux(_) | Error::Plan(_) => 1,
            Error::Mux(
                MuxError::Io { .. } | MuxError::Copy { .. } | MuxError::InputChanged { .. },
            ) => 3,
            Error::Mux(MuxError::Interrupted) => 130,
            Error::Mux(MuxError::BadOptions(_)) => 2,
            Error::Mux(_) => 1,
            Error::Audio(crate::transcode::audio::AudioError::Io { .. }) => 3,
            Error::Audio(_) => 1,
        }
    }
}
