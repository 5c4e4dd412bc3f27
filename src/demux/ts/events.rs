//! What the transport stream demuxer reports: errors that stop it ([`TsError`]), damage it steps
//! over ([`TsWarning`]), and its [`Event`]s, chief among them [`AccessUnit`]s (ISO/IEC 13818-1
//! §2.4.3 for where each warning's rule comes from).

use std::fmt;
use std::ops::Range;

use super::packet::PacketFault;
use super::StreamType;
use crate::error::{DemuxError, Location};

/// Errors that stop transport stream demuxing. Damage the demuxer can step over is a
/// [`TsWarning`] instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TsError {
    /// The stream breaks a rule of ISO/IEC 13818-1 in a way that leaves nothing to demux.
    #[error("{loc}: {rule}")]
    Malformed {
        /// Where: the file, the PID (as the path) and the byte offset.
        loc: Location,
        /// The rule broken, in words.
        rule: String,
    },
    /// Valid input seam does not handle, or a misuse of the push API.
    #[error("{loc}: unsupported: {what}")]
    Unsupported {
        /// Where.
        loc: Location,
        /// What.
        what: String,
    },
    /// A count or size beyond [`TsLimits`](super::TsLimits).
    #[error("{loc}: limit exceeded: {what}")]
    LimitExceeded {
        /// Where.
        loc: Location,
        /// Which limit, with the value found.
        what: String,
    },
}

impl From<TsError> for DemuxError {
    fn from(e: TsError) -> DemuxError {
        match e {
            TsError::Malformed { loc, rule } => DemuxError::Malformed { loc, rule },
            TsError::Unsupported { loc, what } => DemuxError::Unsupported { loc, what },
            TsError::LimitExceeded { loc, what } => DemuxError::LimitExceeded { loc, what },
        }
    }
}

/// The location of a problem: `file: PID 0x0100 at byte N`.
pub(crate) fn location(file: &str, pid: Option<u16>, offset: u64) -> Location {
    Location {
        file: file.to_string(),
        path: pid.map_or_else(String::new, |p| format!("PID 0x{p:04x}")),
        offset,
    }
}

/// Something the demuxer stepped over: bytes it skipped, a packet it dropped, a damaged unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsWarning {
    /// Absolute byte offset in the stream.
    pub offset: u64,
    /// The PID, when the problem belongs to one.
    pub pid: Option<u16>,
    /// What happened.
    pub kind: WarningKind,
}

/// The kinds of [`TsWarning`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WarningKind {
    /// Bytes that are not transport packets, skipped to the next position where the sync byte
    /// repeats at the packet stride (§2.4.3.3).
    SkippedBytes {
        /// How many.
        bytes: u64,
    },
    /// The stream ends inside a packet.
    TruncatedPacket {
        /// Bytes of the partial packet.
        bytes: u64,
    },
    /// A packet header that cannot be used (§2.4.3.2): the packet is dropped.
    BadPacket {
        /// Why.
        fault: PacketFault,
    },
    /// `transport_error_indicator` set (§2.4.3.3): the packet is dropped.
    TransportError,
    /// Scrambled payload (`transport_scrambling_control` not 0): the packet is dropped.
    Scrambled,
    /// `continuity_counter` did not follow the previous packet of the PID (§2.4.3.3): packets were
    /// lost; the access unit in progress is marked damaged.
    Continuity {
        /// The counter expected.
        expected: u8,
        /// The counter found.
        found: u8,
    },
    /// A PAT or PMT section that fails its checks (CRC_32, lengths): ignored (§2.4.4).
    BadSection {
        /// Why.
        rule: String,
    },
    /// An elementary stream of a `stream_type` seam does not demux: passed over (§2.4.4.9).
    UnsupportedStream {
        /// The PMT's `stream_type`.
        stream_type: u8,
    },
    /// A PES header that cannot be parsed (§2.4.3.7): the PES packet is dropped.
    BadPes {
        /// Why.
        rule: String,
    },
    /// A PES packet shorter than its `PES_packet_length` (or whose header never finished).
    TruncatedPes {
        /// Payload bytes missing, when the length was known.
        missing: Option<u64>,
        /// Bytes received.
        got: u64,
    },
    /// Payload bytes past the end given by `PES_packet_length`: ignored.
    PesOverrun {
        /// How many.
        bytes: u64,
    },
    /// Payload of a PID before its first PES start: dropped.
    OrphanPayload {
        /// How many bytes.
        bytes: u64,
    },
    /// Bytes between ADTS frames that do not start with a sync word: skipped.
    AdtsSync {
        /// How many.
        bytes: u64,
    },
    /// An ADTS header that cannot be parsed: the frame is dropped.
    BadAdts {
        /// Why.
        rule: String,
    },
    /// The stream ends inside an ADTS frame: the frame is dropped.
    TruncatedAdts {
        /// Bytes received.
        got: u64,
    },
}

impl fmt::Display for TsWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(pid) = self.pid {
            write!(f, "PID 0x{pid:04x} ")?;
        }
        write!(f, "at byte {}: ", self.offset)?;
        match &self.kind {
            WarningKind::SkippedBytes { bytes } => {
                write!(f, "skipped {bytes} bytes that are not transport packets")
            }
            WarningKind::TruncatedPacket { bytes } => {
                write!(f, "stream ends inside a packet ({bytes} bytes)")
            }
            WarningKind::BadPacket { fault } => write!(f, "packet dropped: {fault}"),
            WarningKind::TransportError => {
                write!(f, "packet dropped: transport_error_indicator is set")
            }
            WarningKind::Scrambled => write!(f, "packet dropped: payload is scrambled"),
            WarningKind::Continuity { expected, found } => write!(
                f,
                "continuity_counter {found}, expected {expected}: packets lost"
            ),
            WarningKind::BadSection { rule } => write!(f, "section ignored: {rule}"),
            WarningKind::UnsupportedStream { stream_type } => write!(
                f,
                "stream_type 0x{stream_type:02x} is not demuxed (only H.264 0x1b, H.265 0x24, AAC ADTS 0x0f)"
            ),
            WarningKind::BadPes { rule } => write!(f, "PES packet dropped: {rule}"),
            WarningKind::TruncatedPes { missing, got } => match missing {
                Some(m) => write!(f, "PES packet ends {m} bytes short of its PES_packet_length ({got} bytes kept)"),
                None => write!(f, "PES packet ends inside its header ({got} bytes)"),
            },
            WarningKind::PesOverrun { bytes } => {
                write!(f, "{bytes} bytes past PES_packet_length ignored")
            }
            WarningKind::OrphanPayload { bytes } => {
                write!(f, "{bytes} bytes of payload before the first PES start dropped")
            }
            WarningKind::AdtsSync { bytes } => {
                write!(f, "{bytes} bytes without an ADTS sync word skipped")
            }
            WarningKind::BadAdts { rule } => write!(f, "ADTS frame dropped: {rule}"),
            WarningKind::TruncatedAdts { got } => {
                write!(f, "stream ends inside an ADTS frame ({got} bytes dropped)")
            }
        }
    }
}

/// One access unit: a video PES packet's payload (Annex B, as muxers put one picture per PES), or
/// one ADTS frame (header included) of an AAC PES.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// The elementary PID.
    pub pid: u16,
    /// Its stream type.
    pub stream_type: StreamType,
    /// File offset of the transport packet the access unit starts in.
    pub offset: u64,
    /// PTS, 33 bits, as coded; for an ADTS frame after the first one starting in a PES, the
    /// previous frame's PTS plus one frame (1024 samples, rounded to 90 kHz ticks), modulo 2^33.
    pub pts: Option<u64>,
    /// DTS, 33 bits, when the PES header codes one (absent means equal to the PTS).
    pub dts: Option<u64>,
    /// Video: the adaptation field's `random_access_indicator` of the PES's first packet; audio:
    /// always true.
    pub random_access: bool,
    /// Packets of its PID were lost or dropped inside it (continuity error, short PES).
    pub damaged: bool,
    /// The payload: file byte ranges in order, adjacent ranges merged.
    pub pieces: Vec<Range<u64>>,
    /// Total bytes of `pieces`.
    pub size: u64,
    /// `pts` on the program's unwrapped timeline (90 kHz).
    pub timeline_pts: Option<i64>,
    /// `dts` (or `pts` without one) on the program's unwrapped timeline (90 kHz).
    pub timeline_dts: Option<i64>,
}

/// What the demuxer reports, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An elementary stream seam demuxes, announced when its program's PMT is first read.
    Stream {
        /// `program_number`.
        program: u16,
        /// The elementary PID.
        pid: u16,
        /// Its type.
        stream_type: StreamType,
    },
    /// A complete access unit.
    AccessUnit(AccessUnit),
    /// The decode time of an access unit jumps from what the previous one predicts (its DTS plus
    /// the last DTS step) by more than [`JUMP_THRESHOLD`](super::JUMP_THRESHOLD) or goes backwards: a reconnect, to be
    /// treated as a join. Reported before the access unit.
    Discontinuity {
        /// The elementary PID.
        pid: u16,
        /// File offset of the access unit after the jump.
        offset: u64,
        /// The decode time expected (unwrapped, 90 kHz).
        before: i64,
        /// The decode time found (unwrapped, 90 kHz).
        after: i64,
    },
    /// Something stepped over.
    Warning(TsWarning),
}
