//! FLV demuxer: H.264 + AAC in Flash Video files (Adobe Flash Video File Format Specification
//! version 10.1, Annex E), reading tag headers only.
//!
//! The file is an FLV header (§E.2), then the body (§E.3): `PreviousTagSize0` (always 0), and
//! tags (§E.4.1) each followed by its `PreviousTagSize` (11 + `DataSize`). Every tag is located by
//! one positional read of at most 20 bytes (the previous `PreviousTagSize`, the 11-byte tag header
//! and the 5-byte AVC or 2-byte AAC packet header); sample payloads are never read. Only sequence
//! headers (§E.4.3.1 `AVCPacketType` 0, §E.4.2.1 `AACPacketType` 0) and script data (§E.4.4) are
//! read into memory, each bounded by [`Limits::max_box_size`].
//!
//! Output: per track, samples as **byte ranges of the file** (the payload after the AVC or AAC
//! packet header: length-prefixed NAL units, or one raw AAC frame) with the decode time in
//! milliseconds (`Timestamp` with `TimestampExtended` as its high byte), the signed 24-bit
//! `CompositionTime` as the composition offset, the keyframe flag (`FrameType` 1), and the index of
//! the codec configuration in force. A sequence header equal to the previous one adds no
//! configuration.
//!
//! Problems that lose nothing but the damaged part are warnings ([`FlvWarning`]): a truncated last
//! tag is dropped, a wrong `PreviousTagSize` is reported (tags are walked by `DataSize`), unreadable
//! script data is skipped. Everything else is a typed [`DemuxError`] carrying the file, the tag
//! (`tag[N]`, counted from 0) and the byte offset.

pub mod amf;
mod media;

pub use media::to_media;

use bytes::Bytes;

use crate::codec::aac::AudioSpecificConfig;
use crate::codec::h264::AvcDecoderConfig;
use crate::error::{CodecError, DemuxError, Location};
use crate::limits::Limits;
use crate::source::Source;

use amf::{AmfReader, AmfValue};

/// FLV header size (§E.2): `FLV`, version, flags, `DataOffset`.
pub const HEADER_LEN: u64 = 9;
/// Tag header size (§E.4.1): type, `DataSize`, `Timestamp`, `TimestampExtended`, `StreamID`.
pub const TAG_HEADER_LEN: u64 = 11;

/// True when `head` starts like an FLV file: `FLV` and version 1.
pub fn sniff(head: &[u8]) -> bool {
    head.len() >= 4 && head.starts_with(b"FLV") && head[3] == 1
}

/// The FLV header (§E.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlvHeader {
    /// `Version`: 1.
    pub version: u8,
    /// `TypeFlagsAudio`.
    pub has_audio: bool,
    /// `TypeFlagsVideo`.
    pub has_video: bool,
    /// `DataOffset`: where the body starts (9 for version 1).
    pub data_offset: u32,
}

/// One sample: a byte range of the file and its times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlvSample {
    /// File offset of the payload (after the AVC or AAC packet header).
    pub offset: u64,
    /// Payload size in bytes (never 0: empty packets are skipped).
    pub size: u32,
    /// Decode time in milliseconds: `Timestamp | TimestampExtended << 24`, unsigned as ffmpeg
    /// reads it.
    pub dts: i64,
    /// Presentation minus decode time in milliseconds: the AVC `CompositionTime` (SI24); 0 for
    /// audio.
    pub cts_offset: i32,
    /// `FrameType` 1 (keyframe) for video; always true for audio.
    pub keyframe: bool,
    /// Index into the track's [`FlvTrack::configs`].
    pub config: u16,
}

impl FlvSample {
    /// Presentation time in milliseconds.
    pub fn pts(&self) -> i64 {
        self.dts + i64::from(self.cts_offset)
    }

    /// The byte after the payload.
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.size)
    }
}

/// A codec configuration from a sequence header tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvConfig<C> {
    /// The parsed record.
    pub parsed: C,
    /// Its bytes, verbatim (an `avcC` payload or an AudioSpecificConfig).
    pub raw: Bytes,
    /// File offset of the record.
    pub offset: u64,
    /// The tag carrying it (counted from 0).
    pub tag: u64,
}

/// The samples and configurations of one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlvTrack<C> {
    /// Codec configurations in the order they appeared (distinct consecutive ones).
    pub configs: Vec<FlvConfig<C>>,
    /// Samples in file order.
    pub samples: Vec<FlvSample>,
}

impl<C> Default for FlvTrack<C> {
    fn default() -> Self {
        FlvTrack {
            configs: Vec::new(),
            samples: Vec::new(),
        }
    }
}

/// Something skipped or dropped while reading; the rest of the file is usable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlvWarning {
    /// The last tag runs past the end of the file (a cut recording); it is dropped.
    #[error(
        "tag[{tag}] at byte {offset}: truncated: needs {needed} bytes, {available} left; dropped"
    )]
    TruncatedTag {
        /// The tag (counted from 0).
        tag: u64,
        /// Where it starts.
        offset: u64,
        /// Bytes the tag header says it has (header included).
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// 1 to 3 bytes after the last tag: a cut `PreviousTagSize`.
    #[error("{len} bytes at byte {offset} after the last tag ignored")]
    TrailingBytes {
        /// Where they start.
        offset: u64,
        /// How many.
        len: u64,
    },
    /// A `PreviousTagSize` is not 11 + the previous tag's `DataSize` (0 for the first).
    #[error("PreviousTagSize at byte {offset} is {found}, expected {expected}")]
    PreviousTagSize {
        /// Where the field is.
        offset: u64,
        /// Its value.
        found: u32,
        /// The size of the tag before it.
        expected: u64,
    },
    /// A script data tag could not be read; it is ignored (it carries metadata only).
    #[error("tag[{tag}] script data at byte {offset}: {what}; ignored")]
    ScriptData {
        /// The tag.
        tag: u64,
        /// Where the problem is.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// A sequence header with no configuration in it (ffmpeg writes one when remuxing a transport
    /// stream before it has seen the real one); the next one is used.
    #[error("tag[{tag}] {track} at byte {offset}: empty sequence header; ignored")]
    EmptySequenceHeader {
        /// The tag.
        tag: u64,
        /// `video` or `audio`.
        track: &'static str,
        /// Where the tag starts.
        offset: u64,
    },
    /// A coded frame before any sequence header cannot be decoded; it is dropped.
    #[error("tag[{tag}] {track} at byte {offset}: frame before any sequence header; dropped")]
    NoSequenceHeader {
        /// The tag.
        tag: u64,
        /// `video` or `audio`.
        track: &'static str,
        /// Where the tag starts.
        offset: u64,
    },
    /// A tag type other than audio (8), video (9) or script data (18); skipped.
    #[error("tag[{tag}] at byte {offset}: unknown TagType {tag_type}; skipped")]
    UnknownTag {
        /// The tag.
        tag: u64,
        /// Where it starts.
        offset: u64,
        /// Its `TagType`.
        tag_type: u8,
    },
}

/// What an FLV file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct FlvMedia {
    /// The FLV header.
    pub header: FlvHeader,
    /// The H.264 track, when there were video tags.
    pub video: Option<FlvTrack<AvcDecoderConfig>>,
    /// The AAC track, when there were audio tags.
    pub audio: Option<FlvTrack<AudioSpecificConfig>>,
    /// The first `onMetaData` script tag's properties (metadata only: nothing relies on them).
    pub metadata: Vec<(String, AmfValue)>,
    /// What was skipped or dropped.
    pub warnings: Vec<FlvWarning>,
    /// Complete tags read.
    pub tags: u64,
    /// The byte after the last complete tag (and its `PreviousTagSize`, when present).
    pub end: u64,
}

impl FlvMedia {
    /// Every sample of both tracks (video first).
    pub fn samples(&self) -> impl Iterator<Item = &FlvSample> {
        let v = self.video.iter().flat_map(|t| &t.samples);
        v.chain(self.audio.iter().flat_map(|t| &t.samples))
    }
}

/// The video codec named by `CodecID` (§E.4.3.1).
fn video_codec_name(id: u8) -> &'static str {
    match id {
        1 => "JPEG",
        2 => "Sorenson H.263",
        3 => "Screen video",
        4 => "On2 VP6",
        5 => "On2 VP6 with alpha",
        6 => "Screen video version 2",
        7 => "AVC",
        12 => "HEVC (non-standard CodecID 12)",
        _ => "unknown",
    }
}

/// The audio format named by `SoundFormat` (§E.4.2.1).
fn audio_format_name(id: u8) -> &'static str {
    match id {
        0 => "Linear PCM, platform endian",
        1 => "ADPCM",
        2 => "MP3",
        3 => "Linear PCM, little endian",
        4..=6 => "Nellymoser",
        7 => "G.711 A-law",
        8 => "G.711 mu-law",
        10 => "AAC",
        11 => "Speex",
        14 => "MP3 8 kHz",
        15 => "Device-specific sound",
        _ => "reserved",
    }
}

struct Ctx<'a> {
    src: &'a dyn Source,
    limits: &'a Limits,
}

impl Ctx<'_> {
    fn loc(&self, path: String, offset: u64) -> Location {
        Location {
            file: self.src.name().to_string(),
            path,
            offset,
        }
    }
    fn malformed(&self, path: String, offset: u64, rule: impl Into<String>) -> DemuxError {
        DemuxError::Malformed {
            loc: self.loc(path, offset),
            rule: rule.into(),
        }
    }
    fn unsupported(&self, path: String, offset: u64, what: impl Into<String>) -> DemuxError {
        DemuxError::Unsupported {
            loc: self.loc(path, offset),
            what: what.into(),
        }
    }
    fn limit(&self, path: String, offset: u64, what: impl Into<String>) -> DemuxError {
        DemuxError::LimitExceeded {
            loc: self.loc(path, offset),
            what: what.into(),
        }
    }
    fn codec(&self, path: String, offset: u64, e: CodecError) -> DemuxError {
        match e {
            CodecError::Malformed { .. } => self.malformed(path, offset, e.to_string()),
            CodecError::Unsupported { .. } => self.unsupported(path, offset, e.to_string()),
        }
    }
    fn read(&self, offset: u64, buf: &mut [u8]) -> Result<(), DemuxError> {
        self.src.read_at(offset, buf).map_err(|e| DemuxError::Io {
            file: self.src.name().to_string(),
            source: e,
        })
    }
    /// Reads `len` bytes at `offset` into memory (a sequence header or script data), bounded by
    /// [`Limits::max_box_size`]. The caller has checked the bytes lie inside the file.
    fn read_vec(&self, path: &str, offset: u64, len: u64) -> Result<Vec<u8>, DemuxError> {
        if len > self.limits.max_box_size {
            return Err(self.limit(
                path.to_string(),
                offset,
                format!(
                    "{len}-byte record read into memory (limit {})",
                    self.limits.max_box_size
                ),
            ));
        }
        let n = usize::try_from(len)
            .map_err(|_| self.limit(path.to_string(), offset, "record too large"))?;
        let mut v = vec![0u8; n];
        self.read(offset, &mut v)?;
        Ok(v)
    }
}

/// Reads an FLV file's tag headers, sequence headers and metadata.
pub fn open(src: &dyn Source, limits: &Limits) -> Result<FlvMedia, DemuxError> {
    let cx = Ctx { src, limits };
    let len = src.len();
    let mut head = [0u8; HEADER_LEN as usize];
    if len < HEADER_LEN {
        return Err(cx.malformed(
            "FLV header".into(),
            0,
            format!("file of {len} bytes, the FLV header needs {HEADER_LEN}"),
        ));
    }
    cx.read(0, &mut head)?;
    if &head[..3] != b"FLV" {
        return Err(cx.malformed("FLV header".into(), 0, "no FLV signature"));
    }
    if head[3] != 1 {
        return Err(cx.unsupported("FLV header".into(), 3, format!("FLV version {}", head[3])));
    }
    let data_offset = u32::from_be_bytes([head[5], head[6], head[7], head[8]]);
    let header = FlvHeader {
        version: head[3],
        has_audio: head[4] & 0x04 != 0,
        has_video: head[4] & 0x01 != 0,
        data_offset,
    };
    if u64::from(data_offset) < HEADER_LEN || u64::from(data_offset) > len {
        return Err(cx.malformed(
            "FLV header".into(),
            5,
            format!("DataOffset {data_offset} outside 9..={len}"),
        ));
    }
    let mut m = FlvMedia {
        header,
        video: None,
        audio: None,
        metadata: Vec::new(),
        warnings: Vec::new(),
        tags: 0,
        end: u64::from(data_offset),
    };
    let mut have_metadata = false;
    // Position of the next PreviousTagSize field, and the value it should hold (§E.3).
    let mut pos = u64::from(data_offset);
    let mut expected_prev = 0u64;
    loop {
        let avail = len - pos;
        let mut buf = [0u8; 20];
        let n = avail.min(20) as usize;
        cx.read(pos, &mut buf[..n])?;
        if avail < 4 {
            if avail > 0 {
                m.warnings.push(FlvWarning::TrailingBytes {
                    offset: pos,
                    len: avail,
                });
            }
            break;
        }
        let prev = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
        if u64::from(prev) != expected_prev {
            m.warnings.push(FlvWarning::PreviousTagSize {
                offset: pos,
                found: prev,
                expected: expected_prev,
            });
        }
        m.end = pos + 4;
        let tag_start = pos + 4;
        let avail = avail - 4;
        if avail == 0 {
            break;
        }
        let index = m.tags;
        if avail < TAG_HEADER_LEN {
            m.warnings.push(FlvWarning::TruncatedTag {
                tag: index,
                offset: tag_start,
                needed: TAG_HEADER_LEN,
                available: avail,
            });
            break;
        }
        let h = &buf[4..];
        let filter = h[0] & 0x20 != 0;
        let tag_type = h[0] & 0x1f;
        let data_size = u64::from(u32::from_be_bytes([0, h[1], h[2], h[3]]));
        let timestamp = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
        let needed = TAG_HEADER_LEN + data_size;
        if avail < needed {
            m.warnings.push(FlvWarning::TruncatedTag {
                tag: index,
                offset: tag_start,
                needed,
                available: avail,
            });
            break;
        }
        let data = tag_start + TAG_HEADER_LEN;
        // The packet header bytes read with the tag header (up to 5).
        let ph_len = (n.saturating_sub(15) as u64).min(data_size) as usize;
        let ph = &buf[15..15 + ph_len];
        let tag = Tag {
            index,
            start: tag_start,
            data,
            size: data_size,
            dts: i64::from(timestamp),
        };
        if filter && matches!(tag_type, 8 | 9 | 18) {
            return Err(cx.unsupported(
                tag.path(tag_type),
                tag_start,
                "encrypted tag (Filter bit set)",
            ));
        }
        match tag_type {
            8 => audio_tag(&cx, &mut m, &tag, ph)?,
            9 => video_tag(&cx, &mut m, &tag, ph)?,
            18 => {
                if !have_metadata {
                    have_metadata = script_tag(&cx, &mut m, &tag)?;
                }
            }
            t => m.warnings.push(FlvWarning::UnknownTag {
                tag: index,
                offset: tag_start,
                tag_type: t,
            }),
        }
        m.tags += 1;
        pos = data + data_size;
        m.end = pos;
        expected_prev = needed;
    }
    Ok(m)
}

/// A tag being read.
struct Tag {
    index: u64,
    start: u64,
    /// Offset of the tag's data (after the 11-byte header).
    data: u64,
    /// `DataSize`.
    size: u64,
    dts: i64,
}

impl Tag {
    fn path(&self, tag_type: u8) -> String {
        let kind = match tag_type {
            8 => "audio",
            9 => "video",
            18 => "script data",
            _ => "tag",
        };
        format!("tag[{}] {kind}", self.index)
    }
}

fn push_sample<C>(
    cx: &Ctx<'_>,
    track: &mut FlvTrack<C>,
    tag: &Tag,
    path: String,
    sample: FlvSample,
) -> Result<(), DemuxError> {
    if track.samples.len() >= cx.limits.max_samples {
        return Err(cx.limit(
            path,
            tag.start,
            format!("more than {} samples in a track", cx.limits.max_samples),
        ));
    }
    track.samples.push(sample);
    Ok(())
}

/// Adds a configuration unless it equals the last one; returns its index.
fn push_config<C>(
    cx: &Ctx<'_>,
    track: &mut FlvTrack<C>,
    tag: &Tag,
    path: String,
    config: FlvConfig<C>,
) -> Result<(), DemuxError> {
    if track.configs.last().is_some_and(|c| c.raw == config.raw) {
        return Ok(());
    }
    if track.configs.len() >= cx.limits.max_sample_entries {
        return Err(cx.limit(
            path,
            tag.start,
            format!(
                "more than {} distinct sequence headers",
                cx.limits.max_sample_entries
            ),
        ));
    }
    track.configs.push(config);
    Ok(())
}

/// A video tag (§E.4.3.1 VIDEODATA, VideoTagHeader): H.264 only.
fn video_tag(cx: &Ctx<'_>, m: &mut FlvMedia, tag: &Tag, ph: &[u8]) -> Result<(), DemuxError> {
    let path = tag.path(9);
    let Some(&first) = ph.first() else {
        return Ok(()); // an empty tag carries nothing
    };
    let frame_type = first >> 4;
    let codec_id = first & 0x0f;
    if first & 0x80 != 0 {
        return Err(cx.unsupported(
            path,
            tag.data,
            format!("enhanced FLV video (IsExHeader set, FrameType byte {first:#04x})"),
        ));
    }
    if frame_type == 5 {
        return Ok(()); // video info/command frame: no picture
    }
    if codec_id != 7 {
        return Err(cx.unsupported(
            path,
            tag.data,
            format!(
                "video codec {} (CodecID {codec_id})",
                video_codec_name(codec_id)
            ),
        ));
    }
    if tag.size < 5 {
        return Err(cx.malformed(
            path,
            tag.data,
            format!("AVC video tag of {} bytes, its header needs 5", tag.size),
        ));
    }
    let packet_type = ph[1];
    // CompositionTime: SI24.
    let cts = i32::from_be_bytes([ph[2], ph[3], ph[4], 0]) >> 8;
    let payload = tag.data + 5;
    let payload_len = tag.size - 5;
    let track = m.video.get_or_insert_with(FlvTrack::default);
    match packet_type {
        0 if payload_len == 0 => {
            m.warnings.push(FlvWarning::EmptySequenceHeader {
                tag: tag.index,
                track: "video",
                offset: tag.start,
            });
            Ok(())
        }
        0 => {
            let path = format!("{path} AVC sequence header");
            let raw = cx.read_vec(&path, payload, payload_len)?;
            let parsed =
                AvcDecoderConfig::parse(&raw).map_err(|e| cx.codec(path.clone(), payload, e))?;
            let config = FlvConfig {
                parsed,
                raw: Bytes::from(raw),
                offset: payload,
                tag: tag.index,
            };
            push_config(cx, track, tag, path, config)
        }
        1 => {
            if payload_len == 0 {
                return Ok(());
            }
            let Some(config) = track.configs.len().checked_sub(1) else {
                m.warnings.push(FlvWarning::NoSequenceHeader {
                    tag: tag.index,
                    track: "video",
                    offset: tag.start,
                });
                return Ok(());
            };
            let sample = FlvSample {
                offset: payload,
                size: payload_len as u32, // DataSize is 24 bits
                dts: tag.dts,
                cts_offset: cts,
                keyframe: frame_type == 1,
                config: config as u16, // at most max_sample_entries (checked)
            };
            push_sample(cx, track, tag, path, sample)
        }
        2 => Ok(()), // end of sequence
        t => Err(cx.malformed(path, tag.data + 1, format!("AVCPacketType {t}"))),
    }
}

/// An audio tag (§E.4.2.1 AUDIODATA, AudioTagHeader): AAC only.
fn audio_tag(cx: &Ctx<'_>, m: &mut FlvMedia, tag: &Tag, ph: &[u8]) -> Result<(), DemuxError> {
    let path = tag.path(8);
    let Some(&first) = ph.first() else {
        return Ok(());
    };
    let format = first >> 4;
    if format != 10 {
        return Err(cx.unsupported(
            path,
            tag.data,
            format!(
                "audio format {} (SoundFormat {format})",
                audio_format_name(format)
            ),
        ));
    }
    if tag.size < 2 {
        return Err(cx.malformed(
            path,
            tag.data,
            "AAC audio tag of 1 byte, its header needs 2",
        ));
    }
    let payload = tag.data + 2;
    let payload_len = tag.size - 2;
    let track = m.audio.get_or_insert_with(FlvTrack::default);
    match ph[1] {
        // ffmpeg's FLV muxer, remuxing a transport stream with `-c copy`, writes an AAC sequence
        // header without an AudioSpecificConfig before it has seen one, then the real one.
        0 if payload_len == 0 => {
            m.warnings.push(FlvWarning::EmptySequenceHeader {
                tag: tag.index,
                track: "audio",
                offset: tag.start,
            });
            Ok(())
        }
        0 => {
            let path = format!("{path} AAC sequence header");
            let raw = cx.read_vec(&path, payload, payload_len)?;
            let parsed =
                AudioSpecificConfig::parse(&raw).map_err(|e| cx.codec(path.clone(), payload, e))?;
            let config = FlvConfig {
                parsed,
                raw: Bytes::from(raw),
                offset: payload,
                tag: tag.index,
            };
            push_config(cx, track, tag, path, config)
        }
        1 => {
            if payload_len == 0 {
                return Ok(());
            }
            let Some(config) = track.configs.len().checked_sub(1) else {
                m.warnings.push(FlvWarning::NoSequenceHeader {
                    tag: tag.index,
                    track: "audio",
                    offset: tag.start,
                });
                return Ok(());
            };
            let sample = FlvSample {
                offset: payload,
                size: payload_len as u32,
                dts: tag.dts,
                cts_offset: 0,
                keyframe: true,
                config: config as u16,
            };
            push_sample(cx, track, tag, path, sample)
        }
        t => Err(cx.malformed(path, tag.data + 1, format!("AACPacketType {t}"))),
    }
}

/// A script data tag (§E.4.4.1 SCRIPTDATA): a name and a value. Returns true when it was
/// `onMetaData` and its properties were stored.
fn script_tag(cx: &Ctx<'_>, m: &mut FlvMedia, tag: &Tag) -> Result<bool, DemuxError> {
    let path = tag.path(18);
    let data = cx.read_vec(&path, tag.data, tag.size)?;
    let mut r = AmfReader::new(&data, cx.limits.max_depth);
    let name = match r.value() {
        Ok(AmfValue::String(s)) => s,
        Ok(_) => {
            m.warnings.push(FlvWarning::ScriptData {
                tag: tag.index,
                offset: tag.data,
                what: "the first value is not a string".into(),
            });
            return Ok(false);
        }
        Err(e) => {
            m.warnings.push(FlvWarning::ScriptData {
                tag: tag.index,
                offset: tag.data + e.offset as u64,
                what: e.what,
            });
            return Ok(false);
        }
    };
    if name != "onMetaData" {
        return Ok(false);
    }
    match r.value() {
        Ok(AmfValue::EcmaArray(p) | AmfValue::Object(p)) => {
            m.metadata = p;
            Ok(true)
        }
        Ok(_) => {
            m.warnings.push(FlvWarning::ScriptData {
                tag: tag.index,
                offset: tag.data,
                what: "onMetaData is not an object or ECMA array".into(),
            });
            Ok(false)
        }
        Err(e) => {
            m.warnings.push(FlvWarning::ScriptData {
                tag: tag.index,
                offset: tag.data + e.offset as u64,
                what: e.what,
            });
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests;
