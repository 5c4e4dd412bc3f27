//! AAC configuration: AudioSpecificConfig, the MP4 `esds` descriptors that carry it, and ADTS headers.
//!
//! Enough of ISO/IEC 14496-3 (§1.6.2.1 AudioSpecificConfig, §4.4.1 GASpecificConfig, §1.A.2 ADTS) and
//! ISO/IEC 14496-1 §7.2.6 (ES_Descriptor, DecoderConfigDescriptor) to decide whether two audio streams
//! can be joined without re-encoding, and to frame raw AAC as ADTS. Every parser here is bounded:
//! hostile input yields a [`CodecError`], never a panic.

use bytes::Bytes;

use crate::codec::Difference;
use crate::error::CodecError;

/// Sampling frequencies by `samplingFrequencyIndex` 0 to 12 (ISO/IEC 14496-3 Table 1.18).
pub const SAMPLING_FREQUENCIES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Reads big-endian bit fields.
struct BitReader<'a> {
    /// The bytes read.
    data: &'a [u8],
    /// Bit position from the start of `data`.
    pos: usize,
    /// Structure named in errors.
    structure: &'static str,
}

impl<'a> BitReader<'a> {
    /// A reader at the start of `data`.
    fn new(data: &'a [u8], structure: &'static str) -> Self {
        BitReader {
            data,
            pos: 0,
            structure,
        }
    }

    /// A `Malformed` error at the current byte.
    fn error(&self, what: impl Into<String>) -> CodecError {
        CodecError::Malformed {
            structure: self.structure,
            offset: self.pos / 8,
            what: what.into(),
        }
    }

    /// Bits not yet read.
    fn bits_left(&self) -> usize {
        self.data.len().saturating_mul(8).saturating_sub(self.pos)
    }

    /// Reads `n` ≤ 32 bits as an unsigned number, or fails at the end of the data.
    fn read_bits(&mut self, n: u32) -> Result<u32, CodecError> {
        let mut value: u64 = 0;
        for _ in 0..n.min(32) {
            let byte = match self.data.get(self.pos / 8) {
                Some(&b) => b,
                None => return Err(self.error("data ends in the middle of a field")),
            };
            value = (value << 1) | u64::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        u32::try_from(value).map_err(|_| self.error("field wider than 32 bits"))
    }

    /// Reads at most 8 bits.
    fn read_u8(&mut self, n: u32) -> Result<u8, CodecError> {
        let value = self.read_bits(n.min(8))?;
        u8::try_from(value).map_err(|_| self.error("field wider than 8 bits"))
    }

    /// GetAudioObjectType() (§1.6.2.1): 5 bits, 31 escaping to 32 + 6 bits.
    fn read_object_type(&mut self) -> Result<u8, CodecError> {
        let aot = self.read_u8(5)?;
        if aot == 31 {
            Ok(32 + self.read_u8(6)?)
        } else {
            Ok(aot)
        }
    }

    /// `samplingFrequencyIndex` and, for index 15, the explicit 24-bit `samplingFrequency`.
    fn read_frequency(&mut self) -> Result<(u8, u32), CodecError> {
        let index = self.read_u8(4)?;
        if index == 15 {
            let frequency = self.read_bits(24)?;
            if frequency == 0 {
                return Err(self.error("explicit sampling frequency is 0"));
            }
            return Ok((index, frequency));
        }
        match SAMPLING_FREQUENCIES.get(usize::from(index)) {
            Some(&frequency) => Ok((index, frequency)),
            None => Err(self.error(format!("reserved sampling frequency index {index}"))),
        }
    }
}

/// The decoder configuration of an MPEG-4 audio stream: AudioSpecificConfig (ISO/IEC 14496-3
/// §1.6.2.1) with the GASpecificConfig of AAC object types (§4.4.1).
///
/// With explicit hierarchical SBR/PS signalling (object type 5 or 29 first), `object_type` is the
/// underlying core type (usually 2, AAC LC), `sampling_frequency` the core rate and
/// `extension_object_type`/`extension_sampling_frequency` describe the SBR layer. Backward-compatible
/// explicit signalling (sync extension `0x2b7` after the core config) is decoded the same way.
/// Implicit SBR (signalled only inside the audio frames) cannot be seen here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// Audio object type of the core codec (2 = AAC LC), after the escape of 31 to 32 and above.
    pub object_type: u8,
    /// `samplingFrequencyIndex`; 15 when the frequency is given explicitly.
    pub sampling_frequency_index: u8,
    /// Core sampling frequency in Hz.
    pub sampling_frequency: u32,
    /// `channelConfiguration`. 0 means a program_config_element defines the channels; it is not
    /// parsed, so such streams report 0 channels.
    pub channel_configuration: u8,
    /// Samples per channel per frame at the core rate: 1024 or 960 (`frameLengthFlag`); 512 or 480
    /// for ER AAC LD.
    pub frame_length: u16,
    /// 5 (SBR, HE-AAC) or 29 (SBR + PS, HE-AACv2) when explicitly signalled.
    pub extension_object_type: Option<u8>,
    /// Sampling frequency of the SBR output in Hz, when SBR is explicitly signalled.
    pub extension_sampling_frequency: Option<u32>,
    /// The whole configuration as given, verbatim.
    pub raw: Bytes,
}

/// Object types whose config is a GASpecificConfig (§1.6.2.1 Table 1.15).
const GA_OBJECT_TYPES: [u8; 12] = [1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23];

/// Error-resilient object types, which carry `epConfig` after their specific config.
const ER_OBJECT_TYPES: [u8; 11] = [17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 39];

impl AudioSpecificConfig {
    /// Parses an AudioSpecificConfig, e.g. the DecoderSpecificInfo of an `esds` box.
    ///
    /// Object types without a GASpecificConfig (CELP, ALS, USAC, …) are [`CodecError::Unsupported`].
    pub fn parse(data: &[u8]) -> Result<Self, CodecError> {
        let mut r = BitReader::new(data, "AudioSpecificConfig");
        let mut object_type = r.read_object_type()?;
        let (sampling_frequency_index, sampling_frequency) = r.read_frequency()?;
        let channel_configuration = r.read_u8(4)?;
        let mut extension_object_type = None;
        let mut extension_sampling_frequency = None;
        if object_type == 5 || object_type == 29 {
            extension_object_type = Some(object_type);
            extension_sampling_frequency = Some(r.read_frequency()?.1);
            object_type = r.read_object_type()?;
            if object_type == 22 {
                let _extension_channel_configuration = r.read_u8(4)?;
            }
        }
        if !GA_OBJECT_TYPES.contains(&object_type) {
            return Err(CodecError::Unsupported {
                structure: "AudioSpecificConfig",
                what: format!("audio object type {object_type}"),
            });
        }

        // GASpecificConfig (§4.4.1).
        let frame_length_flag = r.read_u8(1)? == 1;
        let frame_length = match (object_type, frame_length_flag) {
            (23, false) => 512,
            (23, true) => 480,
            (_, false) => 1024,
            (_, true) => 960,
        };
        if r.read_u8(1)? == 1 {
            let _core_coder_delay = r.read_bits(14)?;
        }
        let extension_flag = r.read_u8(1)? == 1;
        // Without the program_config_element the position of later fields is unknown, so reading
        // stops here for channel configuration 0.
        let mut complete = channel_configuration != 0;
        if complete {
            if object_type == 6 || object_type == 20 {
                let _layer_nr = r.read_bits(3)?;
            }
            if extension_flag {
                if object_type == 22 {
                    let _num_of_sub_frame = r.read_bits(5)?;
                    let _layer_length = r.read_bits(11)?;
                }
                if matches!(object_type, 17 | 19 | 20 | 23) {
                    let _resilience_flags = r.read_bits(3)?;
                }
                let _extension_flag3 = r.read_bits(1)?;
            }
            if ER_OBJECT_TYPES.contains(&object_type) {
                let ep_config = r.read_bits(2)?;
                // ErrorProtectionSpecificConfig is not parsed; nothing after it can be found.
                complete = ep_config < 2;
            }
        }

        // Backward-compatible explicit SBR/PS signalling (§1.6.5.2); malformed or absent sync
        // extensions are ignored, as decoders do.
        if complete && extension_object_type.is_none() && r.bits_left() >= 16 {
            if let Ok(Some((ext, frequency))) = read_sync_extension(&mut r) {
                extension_object_type = Some(ext);
                extension_sampling_frequency = Some(frequency);
            }
        }

        Ok(AudioSpecificConfig {
            object_type,
            sampling_frequency_index,
            sampling_frequency,
            channel_configuration,
            frame_length,
            extension_object_type,
            extension_sampling_frequency,
            raw: Bytes::copy_from_slice(data),
        })
    }

    /// Samples per channel in one access unit at [`Self::sampling_frequency`]: `frame_length`.
    ///
    /// With SBR the decoder outputs twice as many samples at [`Self::output_sample_rate`]; the frame
    /// lasts as long either way. Containers usually time HE-AAC frames as 2048 ticks at the output
    /// rate, which is this value at the core rate.
    pub fn samples_per_frame(&self) -> u32 {
        u32::from(self.frame_length)
    }

    /// The decoded sample rate: the SBR rate when SBR is explicitly signalled, else the core rate.
    pub fn output_sample_rate(&self) -> u32 {
        match (
            self.extension_object_type,
            self.extension_sampling_frequency,
        ) {
            (Some(_), Some(frequency)) => frequency,
            _ => self.sampling_frequency,
        }
    }

    /// Channels of `channel_configuration` (§1.6.3.4 Table 1.19): 1 to 6 as is, 7 → 8, 11 → 7,
    /// 12 → 8, 13 → 24, 14 → 8; 0 (defined by a program_config_element) and reserved values → 0.
    ///
    /// For HE-AACv2 this is the coded channel count (1); parametric stereo makes the output stereo.
    pub fn channels(&self) -> u8 {
        match self.channel_configuration {
            c @ 1..=6 => c,
            7 | 12 | 14 => 8,
            11 => 7,
            13 => 24,
            _ => 0,
        }
    }

    /// A name for the codec profile: `AAC LC`, `HE-AAC`, `HE-AACv2`, `AAC Main`, …; `other` for
    /// object types without a name here.
    pub fn object_type_name(&self) -> &'static str {
        match self.extension_object_type {
            Some(29) => return "HE-AACv2",
            Some(5) => return "HE-AAC",
            _ => {}
        }
        match self.object_type {
            1 => "AAC Main",
            2 => "AAC LC",
            3 => "AAC SSR",
            4 => "AAC LTP",
            5 => "SBR",
            6 => "AAC Scalable",
            7 => "TwinVQ",
            17 => "ER AAC LC",
            19 => "ER AAC LTP",
            20 => "ER AAC Scalable",
            21 => "ER TwinVQ",
            22 => "ER BSAC",
            23 => "ER AAC LD",
            29 => "PS",
            39 => "ER AAC ELD",
            42 => "USAC",
            _ => "other",
        }
    }

    /// Encodes the shortest AudioSpecificConfig for a GA object type: object type, sampling
    /// frequency index and channel configuration followed by a GASpecificConfig of three zero bits
    /// (1024-sample frames, no core coder, no extension). Two bytes for object types below 31.
    ///
    /// Values are masked to their field widths (`freq_index` and `channels` to 4 bits; object types
    /// above 95 to 6 bits after the escape). `freq_index` 15 and `channels` 0 need more data than
    /// this writes and yield configs decoders reject.
    pub fn encode_minimal(object_type: u8, freq_index: u8, channels: u8) -> Vec<u8> {
        let mut bits: u32 = 0;
        let mut count: u32 = 0;
        let mut put = |n: u32, value: u32| {
            bits = (bits << n) | (value & ((1 << n) - 1));
            count += n;
        };
        if object_type >= 31 {
            put(5, 31);
            put(6, u32::from(object_type.wrapping_sub(32)));
        } else {
            put(5, u32::from(object_type));
        }
        put(4, u32::from(freq_index));
        put(4, u32::from(channels));
        put(3, 0);
        let padding = (8 - count % 8) % 8;
        let total = count + padding;
        let value = bits << padding;
        (0..total / 8)
            .rev()
            .map(|i| (value >> (i * 8)) as u8)
            .collect()
    }
}

/// Reads the sync extension of backward-compatible SBR/PS signalling: `(extension type, frequency)`
/// when SBR is present, `None` otherwise.
fn read_sync_extension(r: &mut BitReader<'_>) -> Result<Option<(u8, u32)>, CodecError> {
    if r.read_bits(11)? != 0x2b7 || r.read_object_type()? != 5 {
        return Ok(None);
    }
    if r.read_u8(1)? == 0 {
        return Ok(None);
    }
    let frequency = r.read_frequency()?.1;
    let ps = r.bits_left() >= 12 && r.read_bits(11)? == 0x548 && r.read_u8(1)? == 1;
    Ok(Some((if ps { 29 } else { 5 }, frequency)))
}

/// Compares two AudioSpecificConfigs and reports the first parameter that would prevent joining the
/// streams without re-encoding, or `None` when they are identical.
///
/// Checked in order: `codec profile`, `sample rate`, `channels`, `frame length`, then the SBR/PS
/// extension (`AudioSpecificConfig`). Two configurations that differ only in how they say the same
/// thing are equal: ffmpeg's encoder writes LC as `11 90 56 e5 00` (an explicit "no SBR" sync
/// extension, §1.6.5.1), an ADTS header gives `11 90`, and the frames decode the same under both.
pub fn compare(reference: &AudioSpecificConfig, other: &AudioSpecificConfig) -> Option<Difference> {
    let diff = |parameter: &'static str, reference: String, value: String| {
        Some(Difference {
            parameter,
            reference,
            value,
        })
    };
    let (pa, pb) = (profile(reference), profile(other));
    if pa != pb {
        return diff("codec profile", pa, pb);
    }
    let rates = |c: &AudioSpecificConfig| (c.output_sample_rate(), c.sampling_frequency);
    if rates(reference) != rates(other) {
        return diff("sample rate", sample_rate(reference), sample_rate(other));
    }
    if reference.channels() != other.channels() {
        return diff(
            "channels",
            reference.channels().to_string(),
            other.channels().to_string(),
        );
    }
    if reference.frame_length != other.frame_length {
        return diff(
            "frame length",
            reference.frame_length.to_string(),
            other.frame_length.to_string(),
        );
    }
    let ext = |c: &AudioSpecificConfig| (c.extension_object_type, c.extension_sampling_frequency);
    if ext(reference) != ext(other) {
        return diff("AudioSpecificConfig", hex(&reference.raw), hex(&other.raw));
    }
    None
}

/// The profile name, or the object type number for unnamed ones.
fn profile(c: &AudioSpecificConfig) -> String {
    match c.object_type_name() {
        "other" => format!("object type {}", c.object_type),
        name => name.to_string(),
    }
}

/// `48000 Hz`, or `48000 Hz (core 24000 Hz)` with SBR.
fn sample_rate(c: &AudioSpecificConfig) -> String {
    let output = c.output_sample_rate();
    if output == c.sampling_frequency {
        format!("{output} Hz")
    } else {
        format!("{output} Hz (core {} Hz)", c.sampling_frequency)
    }
}

/// Lower-case hex of up to 16 bytes, with `…` when there are more.
fn hex(data: &[u8]) -> String {
    let mut out: String = data.iter().take(16).map(|b| format!("{b:02x}")).collect();
    if data.len() > 16 {
        out.push('…');
    }
    out
}

/// The parts of an `esds` box used for audio: ES_Descriptor (ISO/IEC 14496-1 §7.2.6.5) and the
/// DecoderConfigDescriptor inside it (§7.2.6.6) with its DecoderSpecificInfo (§7.2.6.7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EsDescriptor {
    /// `objectTypeIndication`: 0x40 for MPEG-4 audio, 0x66 to 0x68 for MPEG-2 AAC, 0x6b for MP3.
    pub object_type_indication: u8,
    /// `streamType` (6 bits): 0x05 for audio.
    pub stream_type: u8,
    /// `bufferSizeDB`: decoder buffer size in bytes (24 bits).
    pub buffer_size_db: u32,
    /// `maxBitrate` in bits per second.
    pub max_bitrate: u32,
    /// `avgBitrate` in bits per second; 0 for variable bitrate.
    pub avg_bitrate: u32,
    /// The DecoderSpecificInfo payload (for AAC, the AudioSpecificConfig), if present.
    pub decoder_specific_info: Option<Bytes>,
}

/// Parses the body of an `esds` box after its 4-byte version and flags.
///
/// The body is an ES_Descriptor (tag 0x03); a bare DecoderConfigDescriptor (tag 0x04), as some
/// writers produce, is accepted too. Error offsets count from the start of `payload`.
pub fn parse_esds(payload: &[u8]) -> Result<EsDescriptor, CodecError> {
    let (tag, start, end) = read_descriptor_header(payload, 0)?;
    match tag {
        0x03 => parse_es_descriptor(payload, start, end),
        0x04 => parse_decoder_config(payload, start, end),
        _ => Err(esds_error(
            0,
            format!("descriptor tag {tag:#04x} is not an ES_Descriptor"),
        )),
    }
}

/// A `Malformed` error in an `esds` box.
fn esds_error(offset: usize, what: String) -> CodecError {
    CodecError::Malformed {
        structure: "esds",
        offset,
        what,
    }
}

/// Reads a descriptor's tag and size (§8.3.3: 1 to 4 bytes of 7 bits, high bit set on all but the
/// last) at `pos`, checking the body fits in `data`. Returns `(tag, body start, body end)`.
fn read_descriptor_header(data: &[u8], pos: usize) -> Result<(u8, usize, usize), CodecError> {
    let byte = |at: usize| {
        data.get(at)
            .copied()
            .ok_or_else(|| esds_error(at, "data ends inside a descriptor header".into()))
    };
    let tag = byte(pos)?;
    let mut size = 0usize;
    let mut at = pos + 1;
    for i in 0..4 {
        let b = byte(at)?;
        at += 1;
        size = (size << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
        if i == 3 {
            return Err(esds_error(
                pos,
                "descriptor size longer than 4 bytes".into(),
            ));
        }
    }
    let end = at.saturating_add(size);
    if end > data.len() {
        return Err(esds_error(
            pos,
            format!(
                "descriptor {tag:#04x} of {size} bytes runs past the end of its container ({} bytes)",
                data.len()
            ),
        ));
    }
    Ok((tag, at, end))
}

/// Parses an ES_Descriptor body `data[start..end]` and finds its DecoderConfigDescriptor.
fn parse_es_descriptor(data: &[u8], start: usize, end: usize) -> Result<EsDescriptor, CodecError> {
    let body = data.get(..end).unwrap_or_default();
    let need = |at: usize, n: usize| -> Result<(), CodecError> {
        if at.saturating_add(n) > end {
            Err(esds_error(at, "ES_Descriptor ends early".into()))
        } else {
            Ok(())
        }
    };
    need(start, 3)?;
    let flags = body.get(start + 2).copied().unwrap_or_default();
    let mut pos = start + 3;
    if flags & 0x80 != 0 {
        need(pos, 2)?; // dependsOn_ES_ID
        pos += 2;
    }
    if flags & 0x40 != 0 {
        need(pos, 1)?;
        let url_length = usize::from(body.get(pos).copied().unwrap_or_default());
        need(pos + 1, url_length)?;
        pos += 1 + url_length;
    }
    if flags & 0x20 != 0 {
        need(pos, 2)?; // OCR_ES_Id
        pos += 2;
    }
    while pos < end {
        let (tag, sub_start, sub_end) = read_descriptor_header(body, pos)?;
        if tag == 0x04 {
            return parse_decoder_config(body, sub_start, sub_end);
        }
        pos = sub_end;
    }
    Err(esds_error(start, "no DecoderConfigDescriptor".into()))
}

/// Parses a DecoderConfigDescriptor body `data[start..end]`.
fn parse_decoder_config(data: &[u8], start: usize, end: usize) -> Result<EsDescriptor, CodecError> {
    let body = data.get(..end).unwrap_or_default();
    let fixed = match body.get(start..start.saturating_add(13)) {
        Some(fixed) => fixed,
        None => {
            return Err(esds_error(
                start,
                "DecoderConfigDescriptor shorter than 13 bytes".into(),
            ))
        }
    };
    let be = |range: std::ops::Range<usize>| {
        fixed
            .get(range)
            .unwrap_or_default()
            .iter()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b))
    };
    let mut descriptor = EsDescriptor {
        object_type_indication: fixed.first().copied().unwrap_or_default(),
        stream_type: fixed.get(1).copied().unwrap_or_default() >> 2,
        buffer_size_db: be(2..5),
        max_bitrate: be(5..9),
        avg_bitrate: be(9..13),
        decoder_specific_info: None,
    };
    let mut pos = start + 13;
    while pos < end {
        let (tag, sub_start, sub_end) = read_descriptor_header(body, pos)?;
        if tag == 0x05 && descriptor.decoder_specific_info.is_none() {
            let info = body.get(sub_start..sub_end).unwrap_or_default();
            descriptor.decoder_specific_info = Some(Bytes::copy_from_slice(info));
        }
        pos = sub_end;
    }
    Ok(descriptor)
}

/// An ADTS frame header (ISO/IEC 14496-3 §1.A.2.2: adts_fixed_header and adts_variable_header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// True when no CRC follows the header.
    pub protection_absent: bool,
    /// `profile_ObjectType`: the audio object type minus one (1 = AAC LC).
    pub profile: u8,
    /// `sampling_frequency_index`, 0 to 12.
    pub sampling_frequency_index: u8,
    /// `channel_configuration`, 0 to 7.
    pub channel_configuration: u8,
    /// `aac_frame_length`: the whole frame in bytes, header included.
    pub frame_length: u16,
    /// `adts_buffer_fullness`; 0x7ff signals variable bitrate.
    pub buffer_fullness: u16,
    /// `number_of_raw_data_blocks_in_frame`: raw data blocks in the frame minus one.
    pub raw_data_blocks: u8,
    /// Bytes before the first raw data block: 7, or 9 with a CRC (plus 2 per extra raw data block,
    /// whose positions the error check lists).
    pub header_len: u8,
}

impl AdtsHeader {
    /// Parses the header at the start of `data` (at least 7 bytes; the CRC need not be present).
    pub fn parse(data: &[u8]) -> Result<Self, CodecError> {
        let malformed = |offset: usize, what: String| CodecError::Malformed {
            structure: "ADTS header",
            offset,
            what,
        };
        let h: [u8; 7] = match data.get(..7).and_then(|h| h.try_into().ok()) {
            Some(h) => h,
            None => {
                return Err(malformed(
                    data.len(),
                    format!("{} bytes, a header needs 7", data.len()),
                ))
            }
        };
        let [b0, b1, b2, b3, b4, b5, b6] = h;
        if b0 != 0xff || b1 & 0xf0 != 0xf0 {
            return Err(malformed(0, "no 0xFFF sync word".into()));
        }
        if b1 & 0x06 != 0 {
            return Err(malformed(1, "layer is not 0".into()));
        }
        let protection_absent = b1 & 0x01 == 1;
        let sampling_frequency_index = (b2 >> 2) & 0x0f;
        if usize::from(sampling_frequency_index) >= SAMPLING_FREQUENCIES.len() {
            return Err(malformed(
                2,
                format!("reserved sampling frequency index {sampling_frequency_index}"),
            ));
        }
        let raw_data_blocks = b6 & 0x03;
        let header_len = if protection_absent {
            7
        } else {
            9 + 2 * raw_data_blocks
        };
        let frame_length = (u16::from(b3 & 0x03) << 11) | (u16::from(b4) << 3) | u16::from(b5 >> 5);
        if frame_length < u16::from(header_len) {
            return Err(malformed(
                3,
                format!("frame length {frame_length} is shorter than the {header_len}-byte header"),
            ));
        }
        Ok(AdtsHeader {
            protection_absent,
            profile: b2 >> 6,
            sampling_frequency_index,
            channel_configuration: ((b2 & 0x01) << 2) | (b3 >> 6),
            frame_length,
            buffer_fullness: (u16::from(b5 & 0x1f) << 6) | u16::from(b6 >> 2),
            raw_data_blocks,
            header_len,
        })
    }

    /// The AudioSpecificConfig equivalent to this header (1024-sample frames; `raw` from
    /// [`AudioSpecificConfig::encode_minimal`]). A reserved frequency index gives frequency 0.
    pub fn to_audio_specific_config(&self) -> AudioSpecificConfig {
        let object_type = self.profile.saturating_add(1);
        AudioSpecificConfig {
            object_type,
            sampling_frequency_index: self.sampling_frequency_index,
            sampling_frequency: SAMPLING_FREQUENCIES
                .get(usize::from(self.sampling_frequency_index))
                .copied()
                .unwrap_or(0),
            channel_configuration: self.channel_configuration,
            frame_length: 1024,
            extension_object_type: None,
            extension_sampling_frequency: None,
            raw: Bytes::from(AudioSpecificConfig::encode_minimal(
                object_type,
                self.sampling_frequency_index,
                self.channel_configuration,
            )),
        }
    }
}

/// Writes a 7-byte ADTS header (MPEG-4, no CRC, variable bitrate, one raw data block) for a raw AAC
/// frame of `payload_len` bytes.
///
/// HE-AAC is framed with its core object type and rate (implicit SBR signalling), as is usual for
/// ADTS. Fails with [`CodecError::Unsupported`] for what ADTS cannot express: object types above 4,
/// explicit frequencies, channel configuration 0 or above 7, 960-sample frames, and frames longer
/// than 8191 bytes.
pub fn write_adts_header(
    asc: &AudioSpecificConfig,
    payload_len: usize,
) -> Result<[u8; 7], CodecError> {
    let unsupported = |what: String| {
        Err(CodecError::Unsupported {
            structure: "ADTS header",
            what,
        })
    };
    if !(1..=4).contains(&asc.object_type) {
        return unsupported(format!("audio object type {}", asc.object_type));
    }
    if asc.sampling_frequency_index > 12 {
        return unsupported(format!(
            "sampling frequency {} Hz (index {})",
            asc.sampling_frequency, asc.sampling_frequency_index
        ));
    }
    if !(1..=7).contains(&asc.channel_configuration) {
        return unsupported(format!(
            "channel configuration {}",
            asc.channel_configuration
        ));
    }
    if asc.frame_length != 1024 {
        return unsupported(format!("{}-sample frames", asc.frame_length));
    }
    let total = match payload_len.checked_add(7) {
        Some(total) if total <= 0x1fff => total as u16,
        _ => return unsupported(format!("frame of {payload_len} bytes")),
    };
    let profile = asc.object_type - 1;
    let fullness: u16 = 0x7ff;
    Ok([
        0xff,
        0xf1, // sync, MPEG-4, layer 0, protection absent
        (profile << 6) | (asc.sampling_frequency_index << 2) | (asc.channel_configuration >> 2),
        ((asc.channel_configuration & 0x03) << 6) | (total >> 11) as u8,
        (total >> 3) as u8,
        (((total & 0x07) as u8) << 5) | (fullness >> 6) as u8,
        ((fullness & 0x3f) as u8) << 2,
    ])
}

#[cfg(test)]
#[path = "aac_tests.rs"]
mod tests;
