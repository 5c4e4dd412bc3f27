//! H.264 / AVC parameter sets and the MP4 `avcC` record.
//!
//! Enough of ITU-T H.264 §7.3.2.1 (sequence parameter set) and ISO/IEC 14496-15 §5.3.3
//! (AVCDecoderConfigurationRecord) to decide whether two streams can be joined without re-encoding:
//! resolution, profile, level, chroma format, bit depth and timing. Picture parameter sets (§7.3.2.2)
//! are kept verbatim and compared byte for byte after removing emulation prevention. Every parser here
//! is bounded: hostile input yields a [`CodecError`], never a panic or an arithmetic overflow.

use std::borrow::Cow;

use bytes::Bytes;

use crate::codec::Difference;
use crate::error::CodecError;

/// Largest picture dimension accepted, in macroblocks (16384 × 16 = 262144 samples).
const MAX_MBS: u32 = 16384;

/// `profile_idc` values whose SPS carries chroma format, bit depths and scaling matrices (§7.3.2.1.1).
const HIGH_PROFILES: [u8; 13] = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135];

/// Removes emulation-prevention bytes: every `03` that follows two zero bytes (H.264 §7.4.1).
///
/// Returns the input unchanged (borrowed) when it contains no emulation prevention.
pub fn nal_to_rbsp(nal: &[u8]) -> Cow<'_, [u8]> {
    if !nal.windows(3).any(|w| w == [0, 0, 3]) {
        return Cow::Borrowed(nal);
    }
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0usize;
    for &byte in nal {
        if zeros >= 2 && byte == 3 {
            zeros = 0;
            continue;
        }
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        out.push(byte);
    }
    Cow::Owned(out)
}

/// Reads big-endian bit fields and Exp-Golomb codes (H.264 §9.1) from an RBSP.
pub(super) struct BitReader<'a> {
    /// The RBSP.
    data: &'a [u8],
    /// Bit position from the start of `data`.
    pos: usize,
    /// Added to byte offsets in errors (the NAL header byte that precedes the RBSP).
    base: usize,
    /// Structure named in errors.
    structure: &'static str,
}

impl<'a> BitReader<'a> {
    /// A reader at the start of `data`; `base` is added to error offsets.
    pub(super) fn new(data: &'a [u8], base: usize, structure: &'static str) -> Self {
        BitReader {
            data,
            pos: 0,
            base,
            structure,
        }
    }

    /// A `Malformed` error at the current byte.
    pub(super) fn error(&self, what: impl Into<String>) -> CodecError {
        CodecError::Malformed {
            structure: self.structure,
            offset: self.base.saturating_add(self.pos / 8),
            what: what.into(),
        }
    }

    /// u(1), or an error at the end of the data.
    pub(super) fn read_bit(&mut self) -> Result<bool, CodecError> {
        let byte = match self.data.get(self.pos / 8) {
            Some(&b) => b,
            None => return Err(self.error("data ends in the middle of a field")),
        };
        let bit = (byte >> (7 - (self.pos % 8))) & 1;
        self.pos += 1;
        Ok(bit == 1)
    }

    /// Reads `n` ≤ 32 bits as an unsigned number.
    pub(super) fn read_bits(&mut self, n: u32) -> Result<u32, CodecError> {
        debug_assert!(n <= 32);
        let mut value: u64 = 0;
        for _ in 0..n.min(32) {
            value = (value << 1) | u64::from(self.read_bit()?);
        }
        u32::try_from(value).map_err(|_| self.error("field wider than 32 bits"))
    }

    /// A one-bit flag.
    pub(super) fn read_flag(&mut self) -> Result<bool, CodecError> {
        self.read_bit()
    }

    /// u(8).
    pub(super) fn read_u8(&mut self) -> Result<u8, CodecError> {
        let value = self.read_bits(8)?;
        u8::try_from(value).map_err(|_| self.error("byte out of range"))
    }

    /// ue(v): unsigned Exp-Golomb, at most 2^32 − 2.
    pub(super) fn read_ue(&mut self) -> Result<u32, CodecError> {
        let mut leading_zeros = 0u32;
        while !self.read_bit()? {
            leading_zeros += 1;
            if leading_zeros > 31 {
                return Err(self.error("Exp-Golomb code longer than 32 bits"));
            }
        }
        let suffix = u64::from(self.read_bits(leading_zeros)?);
        let value = (1u64 << leading_zeros) - 1 + suffix;
        u32::try_from(value).map_err(|_| self.error("Exp-Golomb value exceeds 32 bits"))
    }

    /// se(v): signed Exp-Golomb.
    pub(super) fn read_se(&mut self) -> Result<i32, CodecError> {
        let k = i64::from(self.read_ue()?);
        let value = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(value).map_err(|_| self.error("signed Exp-Golomb value out of range"))
    }

    /// ue(v) that must not exceed `max`.
    pub(super) fn read_ue_max(&mut self, max: u32, name: &str) -> Result<u32, CodecError> {
        let start = self.pos;
        let value = self.read_ue()?;
        if value > max {
            self.pos = start;
            return Err(self.error(format!("{name} is {value}, more than {max}")));
        }
        Ok(value)
    }
}

/// The fields of an H.264 sequence parameter set that decide joinability (ITU-T H.264 §7.3.2.1.1,
/// with VUI timing from Annex E §E.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc`, e.g. 66 Baseline, 77 Main, 100 High.
    pub profile_idc: u8,
    /// The byte holding `constraint_set0_flag` (most significant bit) to `constraint_set5_flag` and
    /// the two reserved bits.
    pub constraint_flags: u8,
    /// `level_idc`: ten times the level number, or 9 for level 1b.
    pub level_idc: u8,
    /// `seq_parameter_set_id`, 0 to 31.
    pub seq_parameter_set_id: u32,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4 (1 when not signalled).
    pub chroma_format_idc: u32,
    /// Luma bit depth (`bit_depth_luma_minus8` + 8).
    pub bit_depth_luma: u8,
    /// Chroma bit depth (`bit_depth_chroma_minus8` + 8).
    pub bit_depth_chroma: u8,
    /// `frame_mbs_only_flag`: false when the stream may contain field pictures or MBAFF frames.
    pub frame_mbs_only: bool,
    /// Displayed width in luma samples, after frame cropping.
    pub width: u32,
    /// Displayed frame height in luma samples, after frame cropping.
    pub height: u32,
    /// `(num_units_in_tick, time_scale)` from the VUI, when present and both non-zero.
    pub timing: Option<(u32, u32)>,
}

impl Sps {
    /// Parses an SPS NAL unit, including its one-byte NAL header (`nal_unit_type` 7), with its
    /// emulation prevention bytes in place as stored in `avcC` records and Annex B streams.
    ///
    /// Error offsets count bytes of the RBSP after the header byte, plus one for the header.
    /// Extensions after the VUI timing information (HRD parameters, bitstream restrictions) are not
    /// read; a VUI truncated before its timing information is an error.
    pub fn parse(nal: &[u8]) -> Result<Sps, CodecError> {
        let header = *nal.first().ok_or_else(|| CodecError::Malformed {
            structure: "SPS",
            offset: 0,
            what: "empty NAL unit".into(),
        })?;
        if header & 0x80 != 0 || header & 0x1f != 7 {
            return Err(CodecError::Malformed {
                structure: "SPS",
                offset: 0,
                what: format!("NAL header {header:#04x} is not a sequence parameter set"),
            });
        }
        let rbsp = nal_to_rbsp(nal.get(1..).unwrap_or_default());
        let mut r = BitReader::new(&rbsp, 1, "SPS");

        let profile_idc = r.read_u8()?;
        let constraint_flags = r.read_u8()?;
        let level_idc = r.read_u8()?;
        let seq_parameter_set_id = r.read_ue_max(31, "seq_parameter_set_id")?;

        let mut chroma_format_idc = 1;
        let mut separate_colour_plane = false;
        let mut bit_depth_luma = 8;
        let mut bit_depth_chroma = 8;
        if HIGH_PROFILES.contains(&profile_idc) {
            chroma_format_idc = r.read_ue_max(3, "chroma_format_idc")?;
            if chroma_format_idc == 3 {
                separate_colour_plane = r.read_flag()?;
            }
            bit_depth_luma = bit_depth(r.read_ue_max(6, "bit_depth_luma_minus8")?);
            bit_depth_chroma = bit_depth(r.read_ue_max(6, "bit_depth_chroma_minus8")?);
            let _qpprime_y_zero_transform_bypass = r.read_flag()?;
            if r.read_flag()? {
                let lists = if chroma_format_idc == 3 { 12 } else { 8 };
                for i in 0..lists {
                    if r.read_flag()? {
                        skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                    }
                }
            }
        }

        let _log2_max_frame_num_minus4 = r.read_ue_max(12, "log2_max_frame_num_minus4")?;
        match r.read_ue_max(2, "pic_order_cnt_type")? {
            0 => {
                r.read_ue_max(12, "log2_max_pic_order_cnt_lsb_minus4")?;
            }
            1 => {
                let _delta_pic_order_always_zero = r.read_flag()?;
                let _offset_for_non_ref_pic = r.read_se()?;
                let _offset_for_top_to_bottom_field = r.read_se()?;
                let cycle = r.read_ue_max(255, "num_ref_frames_in_pic_order_cnt_cycle")?;
                for _ in 0..cycle {
                    let _offset_for_ref_frame = r.read_se()?;
                }
            }
            _ => {}
        }
        let _max_num_ref_frames = r.read_ue()?;
        let _gaps_in_frame_num_value_allowed = r.read_flag()?;
        let width_mbs = r.read_ue_max(MAX_MBS - 1, "pic_width_in_mbs_minus1")? + 1;
        let height_map_units = r.read_ue_max(MAX_MBS - 1, "pic_height_in_map_units_minus1")? + 1;
        let frame_mbs_only = r.read_flag()?;
        if !frame_mbs_only {
            let _mb_adaptive_frame_field = r.read_flag()?;
        }
        let _direct_8x8_inference = r.read_flag()?;

        // §7.4.2.1.1: FrameHeightInMbs = (2 − frame_mbs_only_flag) × PicHeightInMapUnits.
        let field_factor: u32 = if frame_mbs_only { 1 } else { 2 };
        let coded_width = width_mbs * 16;
        let coded_height = height_map_units * 16 * field_factor;
        let (mut width, mut height) = (coded_width, coded_height);
        if r.read_flag()? {
            let chroma_array_type = if separate_colour_plane {
                0
            } else {
                chroma_format_idc
            };
            // Table 6-1 gives SubWidthC/SubHeightC; equations 7-19 to 7-22 the crop units.
            let (crop_x, crop_y) = match chroma_array_type {
                1 => (2, 2 * field_factor),
                2 => (2, field_factor),
                _ => (1, field_factor),
            };
            let left = r.read_ue()?;
            let right = r.read_ue()?;
            let top = r.read_ue()?;
            let bottom = r.read_ue()?;
            let crop_w = left.checked_add(right).and_then(|c| c.checked_mul(crop_x));
            let crop_h = top.checked_add(bottom).and_then(|c| c.checked_mul(crop_y));
            width = match crop_w.and_then(|c| coded_width.checked_sub(c)) {
                Some(w) if w > 0 => w,
                _ => return Err(r.error("frame cropping removes the whole picture width")),
            };
            height = match crop_h.and_then(|c| coded_height.checked_sub(c)) {
                Some(h) if h > 0 => h,
                _ => return Err(r.error("frame cropping removes the whole picture height")),
            };
        }

        let timing = if r.read_flag()? {
            parse_vui_timing(&mut r)?
        } else {
            None
        };

        Ok(Sps {
            profile_idc,
            constraint_flags,
            level_idc,
            seq_parameter_set_id,
            chroma_format_idc,
            bit_depth_luma,
            bit_depth_chroma,
            frame_mbs_only,
            width,
            height,
            timing,
        })
    }

    /// The chroma format as `4:2:0`, `4:2:2`, `4:4:4` or `4:0:0`.
    pub fn chroma_format(&self) -> &'static str {
        match self.chroma_format_idc {
            0 => "4:0:0",
            1 => "4:2:0",
            2 => "4:2:2",
            _ => "4:4:4",
        }
    }
}

/// Bit depth from a `bit_depth_*_minus8` already checked to be at most 6.
fn bit_depth(minus8: u32) -> u8 {
    u8::try_from(minus8).map_or(u8::MAX, |d| d.saturating_add(8))
}

/// Skips `scaling_list()` (§7.3.2.1.1.1), validating each `delta_scale`.
fn skip_scaling_list(r: &mut BitReader<'_>, size: usize) -> Result<(), CodecError> {
    let mut last_scale: i32 = 8;
    let mut next_scale: i32 = 8;
    for _ in 0..size {
        if next_scale != 0 {
            let delta = r.read_se()?;
            if !(-128..=127).contains(&delta) {
                return Err(r.error(format!("delta_scale {delta} outside -128..127")));
            }
            next_scale = (last_scale + delta + 256) % 256;
        }
        if next_scale != 0 {
            last_scale = next_scale;
        }
    }
    Ok(())
}

/// Reads `vui_parameters()` (§E.1.1) up to and including the timing information.
fn parse_vui_timing(r: &mut BitReader<'_>) -> Result<Option<(u32, u32)>, CodecError> {
    if r.read_flag()? {
        // aspect_ratio_idc; 255 is Extended_SAR with explicit sar_width and sar_height.
        if r.read_u8()? == 255 {
            r.read_bits(16)?;
            r.read_bits(16)?;
        }
    }
    if r.read_flag()? {
        let _overscan_appropriate = r.read_flag()?;
    }
    if r.read_flag()? {
        let _video_format = r.read_bits(3)?;
        let _video_full_range = r.read_flag()?;
        if r.read_flag()? {
            // colour_primaries, transfer_characteristics, matrix_coefficients
            r.read_bits(24)?;
        }
    }
    if r.read_flag()? {
        r.read_ue_max(5, "chroma_sample_loc_type_top_field")?;
        r.read_ue_max(5, "chroma_sample_loc_type_bottom_field")?;
    }
    if !r.read_flag()? {
        return Ok(None);
    }
    let num_units_in_tick = r.read_bits(32)?;
    let time_scale = r.read_bits(32)?;
    let _fixed_frame_rate = r.read_flag()?;
    if num_units_in_tick == 0 || time_scale == 0 {
        return Ok(None);
    }
    Ok(Some((num_units_in_tick, time_scale)))
}

/// An `avcC` box payload: the AVCDecoderConfigurationRecord of ISO/IEC 14496-15 §5.3.3.1.
///
/// Parameter sets are kept as the NAL units stored in the record (with their headers and emulation
/// prevention). `encode` reproduces the parsed payload byte for byte, except that reserved bits are
/// written as the ones the specification requires.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    /// `configurationVersion`, always 1.
    pub configuration_version: u8,
    /// `AVCProfileIndication`: the `profile_idc` of the SPS.
    pub profile_indication: u8,
    /// `profile_compatibility`: the constraint flags byte of the SPS.
    pub profile_compatibility: u8,
    /// `AVCLevelIndication`: the `level_idc` of the SPS.
    pub level_indication: u8,
    /// Size in bytes of the NAL unit length prefix in samples: 1, 2 or 4.
    pub length_size: u8,
    /// Sequence parameter set NAL units, in order.
    pub sps: Vec<Bytes>,
    /// Picture parameter set NAL units, in order.
    pub pps: Vec<Bytes>,
    /// Everything after the last PPS (the High-profile extension with chroma format, bit depths and
    /// SPS extensions, or anything else a muxer wrote), verbatim.
    pub trailing: Bytes,
}

impl AvcDecoderConfig {
    /// Parses an `avcC` box payload (without the 8-byte box header).
    pub fn parse(data: &[u8]) -> Result<Self, CodecError> {
        let malformed = |offset: usize, what: String| CodecError::Malformed {
            structure: "avcC",
            offset,
            what,
        };
        let byte = |offset: usize| -> Result<u8, CodecError> {
            data.get(offset)
                .copied()
                .ok_or_else(|| malformed(offset, format!("record ends after {} bytes", data.len())))
        };
        let configuration_version = byte(0)?;
        if configuration_version != 1 {
            return Err(malformed(
                0,
                format!("configurationVersion is {configuration_version}, not 1"),
            ));
        }
        let profile_indication = byte(1)?;
        let profile_compatibility = byte(2)?;
        let level_indication = byte(3)?;
        let length_size = match byte(4)? & 0x03 {
            0 => 1,
            1 => 2,
            3 => 4,
            _ => {
                return Err(malformed(
                    4,
                    "lengthSizeMinusOne is 2 (3-byte lengths)".into(),
                ))
            }
        };
        let mut pos = 5usize;
        let sps_count = usize::from(byte(pos)? & 0x1f);
        pos += 1;
        let mut sps = Vec::with_capacity(sps_count);
        for _ in 0..sps_count {
            let (unit, next) = read_parameter_set(data, pos)?;
            sps.push(unit);
            pos = next;
        }
        let pps_count = usize::from(byte(pos)?);
        pos += 1;
        let mut pps = Vec::with_capacity(pps_count);
        for _ in 0..pps_count {
            let (unit, next) = read_parameter_set(data, pos)?;
            pps.push(unit);
            pos = next;
        }
        let trailing = Bytes::copy_from_slice(data.get(pos..).unwrap_or_default());
        Ok(AvcDecoderConfig {
            configuration_version,
            profile_indication,
            profile_compatibility,
            level_indication,
            length_size,
            sps,
            pps,
            trailing,
        })
    }

    /// Serializes the record as an `avcC` box payload.
    ///
    /// Records from [`AvcDecoderConfig::parse`] always fit. For hand-built ones, at most 31 SPS and 255
    /// PPS are written, parameter sets longer than 65535 bytes are left out, and a `length_size`
    /// other than 1, 2 or 4 is written as 4.
    pub fn encode(&self) -> Vec<u8> {
        let fits = |unit: &&Bytes| unit.len() <= usize::from(u16::MAX);
        let sps: Vec<&Bytes> = self.sps.iter().filter(fits).take(31).collect();
        let pps: Vec<&Bytes> = self.pps.iter().filter(fits).take(255).collect();
        let mut out = Vec::with_capacity(
            7 + self.trailing.len()
                + sps
                    .iter()
                    .chain(pps.iter())
                    .map(|u| u.len() + 2)
                    .sum::<usize>(),
        );
        let length_size_minus_one = match self.length_size {
            1 => 0,
            2 => 1,
            _ => 3,
        };
        out.extend_from_slice(&[
            self.configuration_version,
            self.profile_indication,
            self.profile_compatibility,
            self.level_indication,
            0xfc | length_size_minus_one,
            0xe0 | sps.len() as u8,
        ]);
        for unit in &sps {
            out.extend_from_slice(&(unit.len() as u16).to_be_bytes());
            out.extend_from_slice(unit);
        }
        out.push(pps.len() as u8);
        for unit in &pps {
            out.extend_from_slice(&(unit.len() as u16).to_be_bytes());
            out.extend_from_slice(unit);
        }
        out.extend_from_slice(&self.trailing);
        out
    }

    /// Parses the first SPS of the record.
    pub fn first_sps(&self) -> Result<Sps, CodecError> {
        match self.sps.first() {
            Some(unit) => Sps::parse(unit),
            None => Err(CodecError::Malformed {
                structure: "avcC",
                offset: 5,
                what: "no sequence parameter set".into(),
            }),
        }
    }
}

/// Reads one 16-bit-length-prefixed parameter set at `pos`; returns it and the position after it.
fn read_parameter_set(data: &[u8], pos: usize) -> Result<(Bytes, usize), CodecError> {
    let malformed = |what: String| CodecError::Malformed {
        structure: "avcC",
        offset: pos,
        what,
    };
    let len = match data.get(pos..pos.saturating_add(2)) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => {
            return Err(malformed(
                "record ends inside a parameter set length".into(),
            ))
        }
    };
    let start = pos + 2;
    let end = start.saturating_add(len);
    match data.get(start..end) {
        Some(unit) => Ok((Bytes::copy_from_slice(unit), end)),
        None => Err(malformed(format!(
            "parameter set of {len} bytes runs past the end of the record ({} bytes)",
            data.len()
        ))),
    }
}

/// The profile's name (H.264 Annex A), e.g. `High` or `Constrained Baseline`; `profile N` otherwise.
pub fn profile_name(profile_idc: u8, constraint_flags: u8) -> String {
    let name = match profile_idc {
        66 if constraint_flags & 0x40 != 0 => "Constrained Baseline",
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High 10",
        122 => "High 4:2:2",
        244 => "High 4:4:4 Predictive",
        _ => return format!("profile {profile_idc}"),
    };
    name.to_string()
}

/// The level as written in H.264 Table A-1: `3.1`, `4`, or `1b`.
///
/// Level 1b is `level_idc` 9, or 11 with `constraint_set3_flag` (0x10) — the latter only in the
/// Baseline, Main and Extended profiles, so callers holding a High-profile SPS should clear that bit
/// first ([`compare`] does).
pub fn level_string(level_idc: u8, constraint_flags: u8) -> String {
    if level_idc == 9 || (level_idc == 11 && constraint_flags & 0x10 != 0) {
        return "1b".to_string();
    }
    if level_idc % 10 == 0 {
        format!("{}", level_idc / 10)
    } else {
        format!("{}.{}", level_idc / 10, level_idc % 10)
    }
}

/// Level string of an SPS, honouring the profile rule for level 1b.
fn sps_level(sps: &Sps) -> String {
    let flags = if matches!(sps.profile_idc, 66 | 77 | 88) {
        sps.constraint_flags
    } else {
        sps.constraint_flags & !0x10
    };
    level_string(sps.level_idc, flags)
}

/// Compares two `avcC` records and reports the first parameter that would prevent joining the streams
/// without re-encoding, or `None` when they are equivalent.
///
/// Checked in order: `resolution`, `profile`, `level`, `chroma format`, `bit depth`,
/// `NAL length size`, then the `SPS` and `PPS` lists (after removing emulation prevention).
/// Errors come from parsing either record's first SPS.
pub fn compare(
    reference: &AvcDecoderConfig,
    other: &AvcDecoderConfig,
) -> Result<Option<Difference>, CodecError> {
    let a = reference.first_sps()?;
    let b = other.first_sps()?;
    let diff = |parameter: &'static str, reference: String, value: String| {
        Ok(Some(Difference {
            parameter,
            reference,
            value,
        }))
    };
    if (a.width, a.height) != (b.width, b.height) {
        return diff(
            "resolution",
            format!("{}x{}", a.width, a.height),
            format!("{}x{}", b.width, b.height),
        );
    }
    let (pa, pb) = (
        profile_name(a.profile_idc, a.constraint_flags),
        profile_name(b.profile_idc, b.constraint_flags),
    );
    if pa != pb {
        return diff("profile", pa, pb);
    }
    let (la, lb) = (sps_level(&a), sps_level(&b));
    if la != lb {
        return diff("level", la, lb);
    }
    if a.chroma_format_idc != b.chroma_format_idc {
        return diff(
            "chroma format",
            a.chroma_format().to_string(),
            b.chroma_format().to_string(),
        );
    }
    if (a.bit_depth_luma, a.bit_depth_chroma) != (b.bit_depth_luma, b.bit_depth_chroma) {
        return diff("bit depth", describe_bit_depth(&a), describe_bit_depth(&b));
    }
    if reference.length_size != other.length_size {
        return diff(
            "NAL length size",
            reference.length_size.to_string(),
            other.length_size.to_string(),
        );
    }
    if let Some((r, v)) = compare_units("SPS", &reference.sps, &other.sps) {
        return diff("SPS", r, v);
    }
    if let Some((r, v)) = compare_units("PPS", &reference.pps, &other.pps) {
        return diff("PPS", r, v);
    }
    Ok(None)
}

/// `8`, or `10 (chroma 8)` when luma and chroma depths differ.
fn describe_bit_depth(sps: &Sps) -> String {
    if sps.bit_depth_luma == sps.bit_depth_chroma {
        sps.bit_depth_luma.to_string()
    } else {
        format!("{} (chroma {})", sps.bit_depth_luma, sps.bit_depth_chroma)
    }
}

/// Compares two lists of NAL units by RBSP; describes the first difference for humans.
pub(super) fn compare_units(kind: &str, a: &[Bytes], b: &[Bytes]) -> Option<(String, String)> {
    if a.len() != b.len() {
        return Some((format!("{} {kind}", a.len()), format!("{} {kind}", b.len())));
    }
    for (index, (ua, ub)) in a.iter().zip(b).enumerate() {
        let (ra, rb) = (nal_to_rbsp(ua), nal_to_rbsp(ub));
        if ra == rb {
            continue;
        }
        let first = ra
            .iter()
            .zip(rb.iter())
            .position(|(x, y)| x != y)
            .unwrap_or(ra.len().min(rb.len()));
        let prefix = if a.len() > 1 {
            format!("{kind} #{}: ", index + 1)
        } else {
            String::new()
        };
        return Some((
            format!("{prefix}{}", describe_bytes(&ra, first)),
            format!("{prefix}{}", describe_bytes(&rb, first)),
        ));
    }
    None
}

/// `N bytes, …hex…` with up to 8 bytes shown from `from`.
fn describe_bytes(data: &[u8], from: usize) -> String {
    let window = data.get(from..).unwrap_or_default();
    let shown = window.get(..8).unwrap_or(window);
    let mut out = format!("{} bytes", data.len());
    if !shown.is_empty() {
        out.push_str(", ");
        if from > 0 {
            out.push_str(&format!("at {from}: "));
        }
        for byte in shown {
            out.push_str(&format!("{byte:02x}"));
        }
        if window.len() > shown.len() {
            out.push('…');
        }
    }
    out
}

/// Splits a sample in MP4 (`avcC`) format into its NAL units, each preceded by a big-endian length
/// of `length_size` bytes (1 to 4).
///
/// Yields an error and stops at a bad `length_size`, a truncated length, or a length running past the
/// end of the sample. Zero-length units are yielded as empty slices.
pub fn avcc_nal_units(
    sample: &[u8],
    length_size: u8,
) -> impl Iterator<Item = Result<&[u8], CodecError>> {
    let size = usize::from(length_size);
    let mut pos = 0usize;
    let mut failed = false;
    std::iter::from_fn(move || {
        if failed || pos >= sample.len() {
            return None;
        }
        failed = true;
        let error = |offset: usize, what: String| {
            let structure = "sample";
            Some(Err(CodecError::Malformed {
                structure,
                offset,
                what,
            }))
        };
        if !(1..=4).contains(&size) {
            return error(0, format!("NAL length size {size} is not 1 to 4"));
        }
        let start = pos.saturating_add(size);
        let Some(prefix) = sample.get(pos..start) else {
            return error(pos, "sample ends inside a NAL unit length".into());
        };
        let len = prefix
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        let end = start.saturating_add(len);
        let Some(unit) = sample.get(start..end) else {
            let total = sample.len();
            let what =
                format!("NAL unit of {len} bytes runs past the end of the sample ({total} bytes)");
            return error(pos, what);
        };
        failed = false;
        pos = end;
        Some(Ok(unit))
    })
}

/// Splits an Annex B byte stream at its `00 00 01` start codes (ITU-T H.264 Annex B).
///
/// Bytes before the first start code are skipped, trailing zero bytes (including the leading zero of
/// a four-byte start code) are removed from each unit, and empty units are left out.
pub fn annexb_nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = match find_start_code(data) {
        Some(pos) => data.get(pos + 3..).unwrap_or_default(),
        None => &[][..],
    };
    std::iter::from_fn(move || loop {
        if rest.is_empty() {
            return None;
        }
        let (unit, next) = match find_start_code(rest) {
            Some(pos) => (
                rest.get(..pos).unwrap_or_default(),
                rest.get(pos + 3..).unwrap_or_default(),
            ),
            None => (rest, &[][..]),
        };
        rest = next;
        let end = unit.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
        let unit = unit.get(..end).unwrap_or_default();
        if !unit.is_empty() {
            return Some(unit);
        }
    })
}

/// Position of the first `00 00 01` in `data`.
fn find_start_code(data: &[u8]) -> Option<usize> {
    data.windows(3).position(|w| w == [0, 0, 1])
}

#[cfg(test)]
#[path = "h264_tests.rs"]
mod tests;
