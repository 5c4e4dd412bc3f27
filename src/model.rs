//! The one model every demuxer produces and every muxer consumes.
//!
//! A [`Media`] is one input file: tracks whose samples are *references* (offset and size) into that
//! file, with exact integer timestamps in the track's timescale. No payload byte is read while
//! building it; header boxes that seam passes through unchanged (sample entries, handler, media header,
//! user data) are kept verbatim as [`Bytes`].

pub(crate) mod auxinfo;
pub(crate) mod column;
pub(crate) mod table;

use std::sync::Arc;

use bytes::Bytes;

use crate::codec::{aac::AudioSpecificConfig, h264::AvcDecoderConfig, h265::HevcDecoderConfig};
use crate::source::Source;

pub use auxinfo::{AuxColumn, AuxFull};
pub use table::{AuxMismatch, Iter as SampleIter, SampleTable, TableFull};

/// A four-character code such as `avc1` or `soun`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FourCC(pub [u8; 4]);

impl FourCC {
    /// From a string literal of four ASCII bytes.
    pub const fn new(s: &[u8; 4]) -> Self {
        FourCC(*s)
    }
}

impl std::fmt::Display for FourCC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for &b in &self.0 {
            if b.is_ascii_graphic() || b == b' ' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for FourCC {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FourCC({self})")
    }
}

/// The container an input was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerFormat {
    /// ISO BMFF / QuickTime with a complete sample table in moov.
    Mp4,
    /// Fragmented ISO BMFF (moov with mvex, samples described by moof boxes).
    FragmentedMp4,
    /// Flash Video (FLV spec v10.1 Annex E).
    Flv,
    /// MPEG-2 transport stream (ISO/IEC 13818-1).
    Ts,
    /// AAC in ADTS frames (ISO/IEC 14496-3 §1.A.2), a `.aac` file.
    Adts,
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Media {
    /// Where the sample bytes live.
    pub source: Arc<dyn Source>,
    /// The container it was read from.
    pub format: ContainerFormat,
    /// Major brand of the ftyp box, when there was one.
    pub major_brand: Option<FourCC>,
    /// The movie timescale (mvhd), used by edit lists and track durations.
    pub movie_timescale: u32,
    /// The movie duration from mvhd, in `movie_timescale` ticks.
    pub movie_duration: u64,
    /// Tracks in file order.
    pub tracks: Vec<Track>,
    /// The moov-level `udta` box, verbatim.
    pub udta: Option<Bytes>,
    /// The moov-level `meta` box, verbatim.
    pub meta: Option<Bytes>,
    /// The moov-level protection system specific headers (`pssh`, ISO/IEC 23001-7 §8.1), verbatim:
    /// what a DRM system needs to fetch the keys of encrypted tracks. A boxed slice (no
    /// allocation when empty): 8 bytes less per input than a `Vec`.
    pub pssh: Box<[Bytes]>,
}

impl Media {
    /// The display name of the input.
    pub fn name(&self) -> &str {
        self.source.name()
    }

    /// The first video track.
    pub fn video(&self) -> Option<&Track> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Video)
    }

    /// The first audio track.
    pub fn audio(&self) -> Option<&Track> {
        self.tracks.iter().find(|t| t.kind == TrackKind::Audio)
    }
}

/// What a track carries, from its handler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrackKind {
    /// `vide`.
    Video,
    /// `soun`.
    Audio,
    /// Anything else (timecode, metadata, subtitles, hints).
    Other,
}

impl TrackKind {
    /// `video`, `audio` or `other`.
    pub fn as_str(self) -> &'static str {
        match self {
            TrackKind::Video => "video",
            TrackKind::Audio => "audio",
            TrackKind::Other => "other",
        }
    }
}

/// One track of an input.
#[derive(Debug, Clone)]
pub struct Track {
    /// track_ID from tkhd.
    pub id: u32,
    /// Video, audio or other.
    pub kind: TrackKind,
    /// handler_type from hdlr.
    pub handler: FourCC,
    /// Ticks per second of the sample timestamps (mdhd).
    pub timescale: u32,
    /// Packed ISO-639-2/T language code from mdhd.
    pub language: u16,
    /// The parts of tkhd seam carries to the output.
    pub header: TrackHeader,
    /// The `hdlr` box of the media, verbatim.
    pub hdlr: Bytes,
    /// The media information header (`vmhd`, `smhd`, `nmhd`, `sthd`, `gmhd`...), verbatim.
    pub media_header: Option<Bytes>,
    /// Sample descriptions (`stsd` entries), verbatim and parsed where seam knows the codec.
    pub sample_entries: Vec<SampleEntry>,
    /// The edit list (elst), empty when the track has none.
    pub edits: Vec<Edit>,
    /// Samples in decode order.
    pub samples: SampleTable,
}

impl Track {
    /// The first sample entry.
    pub fn entry(&self) -> Option<&SampleEntry> {
        self.sample_entries.first()
    }

    /// Decode time just past the last sample.
    pub fn end_dts(&self) -> i64 {
        self.samples
            .last()
            .map_or(0, |s| s.dts.saturating_add(i64::from(s.duration)))
    }

    /// Sum of the sample durations, in track ticks.
    pub fn media_duration(&self) -> i64 {
        match self.samples.first() {
            Some(first) => self.end_dts().saturating_sub(first.dts),
            None => 0,
        }
    }
}

/// The parts of the track header box (ISO/IEC 14496-12 §8.3.2) that the output keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackHeader {
    /// tkhd flags (enabled, in movie, in preview).
    pub flags: u32,
    /// Layer.
    pub layer: i16,
    /// Alternate group.
    pub alternate_group: i16,
    /// Volume, 8.8 fixed point.
    pub volume: i16,
    /// Transformation matrix (rotation), nine 32-bit values as stored.
    pub matrix: [i32; 9],
    /// Width, 16.16 fixed point.
    pub width: u32,
    /// Height, 16.16 fixed point.
    pub height: u32,
}

/// One sample description.
#[derive(Debug, Clone)]
pub struct SampleEntry {
    /// The whole entry box (size, type and body), verbatim.
    pub raw: Bytes,
    /// Its type, e.g. `avc1` or `mp4a`.
    pub format: FourCC,
    /// The codec configuration seam understands.
    pub codec: CodecConfig,
}

/// Parsed codec configuration of a sample entry.
#[derive(Debug, Clone)]
pub enum CodecConfig {
    /// H.264 (`avc1`/`avc3`) with its avcC record. `None` for avc3 without avcC.
    H264 {
        /// Coded width from the sample entry.
        width: u16,
        /// Coded height from the sample entry.
        height: u16,
        /// The decoder configuration record.
        config: Option<AvcDecoderConfig>,
    },
    /// H.265 (`hvc1`/`hev1`) with its hvcC record. `None` for hev1 without hvcC.
    H265 {
        /// Coded width from the sample entry.
        width: u16,
        /// Coded height from the sample entry.
        height: u16,
        /// The decoder configuration record.
        config: Option<HevcDecoderConfig>,
    },
    /// Other visual codecs: compared box by box, `btrt` ignored.
    Video {
        /// Width from the sample entry.
        width: u16,
        /// Height from the sample entry.
        height: u16,
    },
    /// AAC in `mp4a` with its AudioSpecificConfig.
    Aac {
        /// Channel count from the sample entry.
        channels: u16,
        /// Sample rate from the sample entry (integer part).
        sample_rate: u32,
        /// The AudioSpecificConfig from esds.
        config: AudioSpecificConfig,
    },
    /// Other audio codecs: compared box by box, `btrt` ignored.
    Audio {
        /// Channel count.
        channels: u16,
        /// Sample rate (integer part).
        sample_rate: u32,
    },
    /// A protected sample entry (`encv`, `enca`...; ISO/IEC 14496-12 §8.12, ISO/IEC 23001-7).
    Encrypted {
        /// The codec under the protection (`sinf/frma`), e.g. `av01`.
        original: Option<FourCC>,
        /// The protection scheme (`sinf/schm` scheme_type), e.g. `cenc` or `cbcs`.
        scheme: Option<FourCC>,
        /// The default key ID (`sinf/schi/tenc` default_KID).
        key_id: Option<[u8; 16]>,
        /// `tenc` default_Per_Sample_IV_Size: bytes of initialization vector at the start of each
        /// sample's auxiliary information (0: a constant IV in `tenc`, as `cbcs` uses).
        iv_size: Option<u8>,
    },
    /// Anything else.
    Other,
}

impl CodecConfig {
    /// A short codec name for messages and `probe`.
    pub fn name(&self, format: FourCC) -> String {
        match self {
            CodecConfig::H264 { .. } => "h264".into(),
            CodecConfig::H265 { .. } => "h265".into(),
            CodecConfig::Encrypted {
                original: Some(o), ..
            } => format!("{format} (encrypted {o})"),
            CodecConfig::Aac { .. } => "aac".into(),
            _ => format.to_string(),
        }
    }
}

/// One edit list entry (ISO/IEC 14496-12 §8.6.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    /// Duration in movie timescale ticks.
    pub segment_duration: u64,
    /// Start in media (track) ticks; -1 for an empty edit.
    pub media_time: i64,
    /// Playback rate, 16.16 fixed point (0x10000 for normal speed).
    pub media_rate: i32,
}

impl Edit {
    /// An empty edit delays the track; it maps no media.
    pub fn is_empty(&self) -> bool {
        self.media_time == -1
    }
}

/// One sample: a reference to bytes in the source file plus its timing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Byte offset of the sample in the source.
    pub offset: u64,
    /// Decode timestamp in track ticks.
    pub dts: i64,
    /// Size in bytes.
    pub size: u32,
    /// Duration in track ticks.
    pub duration: u32,
    /// Composition time minus decode time, in track ticks.
    pub cts_offset: i32,
    /// Index into the track's sample entries.
    pub entry: u16,
    /// A sync sample (key frame).
    pub sync: bool,
}

impl Sample {
    /// Composition (presentation) timestamp in track ticks.
    pub fn cts(&self) -> i64 {
        self.dts.saturating_add(i64::from(self.cts_offset))
    }
}

/// Small hand-made tracks for unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// An audio track whose samples sit at `dts` (1024-tick durations, 10 bytes each).
    pub fn track(timescale: u32, dts: &[i64]) -> Track {
        Track {
            id: 1,
            kind: TrackKind::Audio,
            handler: FourCC::new(b"soun"),
            timescale,
            language: 0,
            header: TrackHeader {
                flags: 3,
                layer: 0,
                alternate_group: 0,
                volume: 0x100,
                matrix: [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000],
                width: 0,
                height: 0,
            },
            hdlr: Bytes::new(),
            media_header: None,
            sample_entries: Vec::new(),
            edits: Vec::new(),
            samples: dts
                .iter()
                .enumerate()
                .map(|(k, &d)| Sample {
                    offset: 10 * k as u64,
                    dts: d,
                    size: 10,
                    duration: 1024,
                    cts_offset: 0,
                    entry: 0,
                    sync: true,
                })
                .collect(),
        }
    }

    /// A media holding `tracks`, backed by an empty in-memory source.
    pub fn media(tracks: Vec<Track>) -> Media {
        Media {
            source: Arc::new(crate::source::MemSource::new("test.mp4", Bytes::new())),
            format: ContainerFormat::Mp4,
            major_brand: None,
            movie_timescale: 1000,
            movie_duration: 0,
            tracks,
            udta: None,
            meta: None,
            pssh: Box::default(),
        }
    }
}
