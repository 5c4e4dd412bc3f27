//! H.265 / HEVC parameter sets and the MP4 `hvcC` record.
//!
//! Enough of ISO/IEC 14496-15 §8.3.3.1 (HEVCDecoderConfigurationRecord) and ITU-T H.265 §7.3.2.2.1
//! (sequence parameter set, with `profile_tier_level()` of §7.3.3) to decide whether two streams can
//! be joined without re-encoding: resolution after the conformance window, profile, tier, level,
//! chroma format and bit depths. VPS, SPS and PPS NAL units are compared by RBSP (emulation
//! prevention removed), as H.264 parameter sets are in [`super::h264::compare`]; SEI arrays in the
//! record are declarative (e.g. x265's encoder settings string) and are not compared. Every parser
//! here is bounded: hostile input yields a [`CodecError`], never a panic or an arithmetic overflow.

use bytes::Bytes;

use super::h264::{compare_units, nal_to_rbsp, BitReader};
use crate::codec::Difference;
use crate::error::CodecError;

/// NAL unit types of parameter sets (H.265 Table 7-1).
pub const NAL_VPS: u8 = 32;
/// Sequence parameter set.
pub const NAL_SPS: u8 = 33;
/// Picture parameter set.
pub const NAL_PPS: u8 = 34;

/// Largest picture dimension accepted in luma samples (H.265 levels stop at 8192 × 4320; this
/// leaves room and keeps products far from overflow).
const MAX_DIMENSION: u32 = 65536;

/// `profile_tier_level()` general fields (H.265 §7.3.3), as also copied into `hvcC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProfileTierLevel {
    /// `general_profile_space` (0 in every published profile).
    pub profile_space: u8,
    /// `general_tier_flag`: false Main tier, true High tier.
    pub high_tier: bool,
    /// `general_profile_idc`: 1 Main, 2 Main 10, 3 Main Still Picture, 4 range extensions...
    pub profile_idc: u8,
    /// `general_profile_compatibility_flag[32]`, flag 0 in the most significant bit.
    pub compatibility_flags: u32,
    /// The 48 bits from `general_progressive_source_flag` to `general_inbld_flag`.
    pub constraint_flags: u64,
    /// `general_level_idc`: 30 times the level number (93 is level 3.1).
    pub level_idc: u8,
}

/// The fields of an H.265 sequence parameter set that decide joinability (H.265 §7.3.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sps {
    /// `sps_video_parameter_set_id`.
    pub vps_id: u8,
    /// `sps_max_sub_layers_minus1` + 1.
    pub max_sub_layers: u8,
    /// Profile, tier and level.
    pub ptl: ProfileTierLevel,
    /// `sps_seq_parameter_set_id`, 0 to 15.
    pub sps_id: u32,
    /// `chroma_format_idc`: 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u32,
    /// `separate_colour_plane_flag`.
    pub separate_colour_plane: bool,
    /// `pic_width_in_luma_samples` (coded width).
    pub coded_width: u32,
    /// `pic_height_in_luma_samples` (coded height).
    pub coded_height: u32,
    /// Displayed width: coded width minus the conformance window (§7.4.3.2.1, in units of
    /// SubWidthC from Table 6-1).
    pub width: u32,
    /// Displayed height: coded height minus the conformance window.
    pub height: u32,
    /// `bit_depth_luma_minus8` + 8.
    pub bit_depth_luma: u8,
    /// `bit_depth_chroma_minus8` + 8.
    pub bit_depth_chroma: u8,
}

impl Sps {
    /// Parses an SPS NAL unit, including its two-byte NAL header (`nal_unit_type` 33), with its
    /// emulation prevention bytes in place as stored in `hvcC` records.
    ///
    /// Error offsets count bytes of the RBSP after the header, plus two for the header. Only the
    /// fields up to the bit depths are read: everything after them (POC, scaling lists, VUI) is
    /// covered by comparing the SPS RBSPs byte for byte.
    pub fn parse(nal: &[u8]) -> Result<Sps, CodecError> {
        let malformed = |offset: usize, what: String| CodecError::Malformed {
            structure: "SPS",
            offset,
            what,
        };
        let header = match nal.get(..2) {
            Some(h) => [h[0], h[1]],
            None => {
                return Err(malformed(
                    0,
                    "NAL unit shorter than its 2-byte header".into(),
                ))
            }
        };
        let kind = (header[0] >> 1) & 0x3f;
        if header[0] & 0x80 != 0 || kind != NAL_SPS {
            return Err(malformed(
                0,
                format!(
                    "NAL header {:#04x}{:02x} is not a sequence parameter set",
                    header[0], header[1]
                ),
            ));
        }
        let rbsp = nal_to_rbsp(nal.get(2..).unwrap_or_default());
        let mut r = BitReader::new(&rbsp, 2, "SPS");
        let vps_id = r.read_bits(4)? as u8;
        let max_sub_layers_minus1 = r.read_bits(3)? as u8;
        if max_sub_layers_minus1 > 6 {
            return Err(r.error(format!(
                "sps_max_sub_layers_minus1 is {max_sub_layers_minus1}, more than 6"
            )));
        }
        let _temporal_id_nesting = r.read_flag()?;
        let ptl = profile_tier_level(&mut r, max_sub_layers_minus1)?;
        let sps_id = r.read_ue_max(15, "sps_seq_parameter_set_id")?;
        let chroma_format_idc = r.read_ue_max(3, "chroma_format_idc")?;
        let separate_colour_plane = chroma_format_idc == 3 && r.read_flag()?;
        let coded_width = r.read_ue_max(MAX_DIMENSION, "pic_width_in_luma_samples")?;
        let coded_height = r.read_ue_max(MAX_DIMENSION, "pic_height_in_luma_samples")?;
        if coded_width == 0 || coded_height == 0 {
            return Err(r.error(format!(
                "picture size {coded_width}x{coded_height} has a zero dimension"
            )));
        }
        let (mut width, mut height) = (coded_width, coded_height);
        if r.read_flag()? {
            // Table 6-1: SubWidthC and SubHeightC; ChromaArrayType is 0 with separate planes.
            let (sub_w, sub_h) = match (chroma_format_idc, separate_colour_plane) {
                (1, _) => (2, 2),
                (2, _) => (2, 1),
                _ => (1, 1),
            };
            let left = r.read_ue()?;
            let right = r.read_ue()?;
            let top = r.read_ue()?;
            let bottom = r.read_ue()?;
            let crop_w = left.checked_add(right).and_then(|c| c.checked_mul(sub_w));
            let crop_h = top.checked_add(bottom).and_then(|c| c.checked_mul(sub_h));
            width = match crop_w.and_then(|c| coded_width.checked_sub(c)) {
                Some(w) if w > 0 => w,
                _ => return Err(r.error("conformance window removes the whole picture width")),
            };
            height = match crop_h.and_then(|c| coded_height.checked_sub(c)) {
                Some(h) if h > 0 => h,
                _ => return Err(r.error("conformance window removes the whole picture height")),
            };
        }
        let bit_depth_luma = 8 + r.read_ue_max(8, "bit_depth_luma_minus8")? as u8;
        let bit_depth_chroma = 8 + r.read_ue_max(8, "bit_depth_chroma_minus8")? as u8;
        Ok(Sps {
            vps_id,
            max_sub_layers: max_sub_layers_minus1 + 1,
            ptl,
            sps_id,
            chroma_format_idc,
            separate_colour_plane,
            coded_width,
            coded_height,
            width,
            height,
            bit_depth_luma,
            bit_depth_chroma,
        })
    }

    /// The chroma format as `4:2:0`, `4:2:2`, `4:4:4` or `4:0:0`.
    pub fn chroma_format(&self) -> &'static str {
        chroma_name(self.chroma_format_idc)
    }
}

fn chroma_name(idc: u32) -> &'static str {
    match idc {
        0 => "4:0:0",
        1 => "4:2:0",
        2 => "4:2:2",
        _ => "4:4:4",
    }
}

/// `profile_tier_level(1, maxNumSubLayersMinus1)` (H.265 §7.3.3): the general part is returned, the
/// sub-layer parts are skipped.
fn profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u8,
) -> Result<ProfileTierLevel, CodecError> {
    let profile_space = r.read_bits(2)? as u8;
    let high_tier = r.read_flag()?;
    let profile_idc = r.read_bits(5)? as u8;
    let compatibility_flags = r.read_bits(32)?;
    // progressive, interlaced, non-packed, frame-only, 43 bits of constraints, inbld/reserved.
    let constraint_flags = (u64::from(r.read_bits(16)?) << 32) | u64::from(r.read_bits(32)?);
    let level_idc = r.read_u8()?;
    let n = usize::from(max_sub_layers_minus1);
    let mut present = [(false, false); 7];
    for p in present.iter_mut().take(n) {
        *p = (r.read_flag()?, r.read_flag()?);
    }
    if n > 0 {
        for _ in n..8 {
            let _reserved_zero_2bits = r.read_bits(2)?;
        }
    }
    for &(profile, level) in present.iter().take(n) {
        if profile {
            // sub_layer profile space, tier, idc (8), compatibility (32), constraints (48).
            r.read_bits(8)?;
            r.read_bits(32)?;
            r.read_bits(16)?;
            r.read_bits(32)?;
        }
        if level {
            r.read_u8()?;
        }
    }
    Ok(ProfileTierLevel {
        profile_space,
        high_tier,
        profile_idc,
        compatibility_flags,
        constraint_flags,
        level_idc,
    })
}

/// One array of the record: NAL units of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NalArray {
    /// `array_completeness`: all NAL units of this type are in the record (none in band).
    pub complete: bool,
    /// `NAL_unit_type`.
    pub nal_type: u8,
    /// The NAL units, with headers and emulation prevention as stored.
    pub units: Vec<Bytes>,
}

/// An `hvcC` box payload: the HEVCDecoderConfigurationRecord of ISO/IEC 14496-15 §8.3.3.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcDecoderConfig {
    /// `configurationVersion`, 1.
    pub configuration_version: u8,
    /// General profile, tier and level, as the record states them.
    pub ptl: ProfileTierLevel,
    /// `min_spatial_segmentation_idc`.
    pub min_spatial_segmentation: u16,
    /// `parallelismType`.
    pub parallelism_type: u8,
    /// `chromaFormat` (`chroma_format_idc`).
    pub chroma_format_idc: u8,
    /// `bitDepthLumaMinus8` + 8.
    pub bit_depth_luma: u8,
    /// `bitDepthChromaMinus8` + 8.
    pub bit_depth_chroma: u8,
    /// `avgFrameRate`, frames per 256 seconds (0: unspecified).
    pub avg_frame_rate: u16,
    /// `constantFrameRate`.
    pub constant_frame_rate: u8,
    /// `numTemporalLayers`.
    pub num_temporal_layers: u8,
    /// `temporalIdNested`.
    pub temporal_id_nested: bool,
    /// Size in bytes of the NAL unit length prefix in samples: 1, 2 or 4.
    pub length_size: u8,
    /// The NAL unit arrays, in order.
    pub arrays: Vec<NalArray>,
}

impl HevcDecoderConfig {
    /// Parses an `hvcC` box payload (without the 8-byte box header). Counts are checked against the
    /// bytes left before anything is allocated for them.
    pub fn parse(data: &[u8]) -> Result<Self, CodecError> {
        let malformed = |offset: usize, what: String| CodecError::Malformed {
            structure: "hvcC",
            offset,
            what,
        };
        if data.len() < 23 {
            return Err(malformed(
                data.len(),
                format!("record ends after {} bytes, needs 23", data.len()),
            ));
        }
        let configuration_version = data[0];
        if configuration_version != 1 {
            return Err(malformed(
                0,
                format!("configurationVersion is {configuration_version}, not 1"),
            ));
        }
        let be32 =
            |at: usize| u32::from_be_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        let ptl = ProfileTierLevel {
            profile_space: data[1] >> 6,
            high_tier: data[1] & 0x20 != 0,
            profile_idc: data[1] & 0x1f,
            compatibility_flags: be32(2),
            constraint_flags: (u64::from(u16::from_be_bytes([data[6], data[7]])) << 32)
                | u64::from(be32(8)),
            level_idc: data[12],
        };
        let length_size = match data[21] & 0x03 {
            0 => 1,
            1 => 2,
            3 => 4,
            _ => {
                return Err(malformed(
                    21,
                    "lengthSizeMinusOne is 2 (3-byte lengths)".into(),
                ))
            }
        };
        let num_arrays = usize::from(data[22]);
        let mut pos = 23usize;
        // Each array needs at least 3 bytes: bounds the allocation by the record's size.
        if num_arrays.saturating_mul(3) > data.len() - pos {
            return Err(malformed(
                22,
                format!(
                    "{num_arrays} NAL unit arrays need at least {} bytes, {} left",
                    num_arrays * 3,
                    data.len() - pos
                ),
            ));
        }
        let mut arrays = Vec::with_capacity(num_arrays);
        for _ in 0..num_arrays {
            let head = match data.get(pos..pos + 3) {
                Some(h) => [h[0], h[1], h[2]],
                None => return Err(malformed(pos, "record ends inside a NAL unit array".into())),
            };
            let count = usize::from(u16::from_be_bytes([head[1], head[2]]));
            let at = pos;
            pos += 3;
            // Each unit needs at least its 2-byte length.
            if count.saturating_mul(2) > data.len() - pos {
                return Err(malformed(
                    at,
                    format!(
                        "{count} NAL units need at least {} bytes, {} left",
                        count * 2,
                        data.len() - pos
                    ),
                ));
            }
            let mut units = Vec::with_capacity(count);
            for _ in 0..count {
                let len = match data.get(pos..pos + 2) {
                    Some(l) => usize::from(u16::from_be_bytes([l[0], l[1]])),
                    None => {
                        return Err(malformed(
                            pos,
                            "record ends inside a NAL unit length".into(),
                        ))
                    }
                };
                let start = pos + 2;
                let Some(unit) = data.get(start..start.saturating_add(len)) else {
                    return Err(malformed(
                        pos,
                        format!(
                            "NAL unit of {len} bytes runs past the end of the record ({} bytes)",
                            data.len()
                        ),
                    ));
                };
                units.push(Bytes::copy_from_slice(unit));
                pos = start + len;
            }
            arrays.push(NalArray {
                complete: head[0] & 0x80 != 0,
                nal_type: head[0] & 0x3f,
                units,
            });
        }
        Ok(HevcDecoderConfig {
            configuration_version,
            ptl,
            min_spatial_segmentation: u16::from_be_bytes([data[13], data[14]]) & 0x0fff,
            parallelism_type: data[15] & 0x03,
            chroma_format_idc: data[16] & 0x03,
            bit_depth_luma: 8 + (data[17] & 0x07),
            bit_depth_chroma: 8 + (data[18] & 0x07),
            avg_frame_rate: u16::from_be_bytes([data[19], data[20]]),
            constant_frame_rate: data[21] >> 6,
            num_temporal_layers: (data[21] >> 3) & 0x07,
            temporal_id_nested: data[21] & 0x04 != 0,
            length_size,
            arrays,
        })
    }

    /// The NAL units of one type from every array of that type, in order.
    pub fn units(&self, nal_type: u8) -> Vec<Bytes> {
        self.arrays
            .iter()
            .filter(|a| a.nal_type == nal_type)
            .flat_map(|a| a.units.iter().cloned())
            .collect()
    }

    /// Parses the first SPS of the record.
    pub fn first_sps(&self) -> Result<Sps, CodecError> {
        match self.units(NAL_SPS).first() {
            Some(unit) => Sps::parse(unit),
            None => Err(CodecError::Malformed {
                structure: "hvcC",
                offset: 22,
                what: "no sequence parameter set".into(),
            }),
        }
    }
}

/// The profile's name (H.265 Annex A, §A.3), e.g. `Main` or `Main 10`; `profile N` otherwise.
pub fn profile_name(ptl: &ProfileTierLevel) -> String {
    // A profile is signalled by general_profile_idc, or by the compatibility flag of its number when
    // general_profile_idc is 0 (§A.3).
    let idc = if ptl.profile_idc == 0 {
        (1..32u8)
            .find(|&j| ptl.compatibility_flags & (1 << (31 - j)) != 0)
            .unwrap_or(0)
    } else {
        ptl.profile_idc
    };
    let name = match idc {
        1 => "Main",
        2 => "Main 10",
        3 => "Main Still Picture",
        4 => "Range Extensions",
        5 => "High Throughput",
        6 => "Multiview Main",
        7 => "Scalable Main",
        8 => "3D Main",
        9 => "Screen Content Coding",
        10 => "Scalable Range Extensions",
        11 => "High Throughput Screen Content Coding",
        _ => return format!("profile {idc}"),
    };
    name.to_string()
}

/// The level as in H.265 Table A-8 (`general_level_idc` is 30 × the level): `3.1`, `4`; with
/// ` High tier` appended for the High tier.
pub fn level_string(ptl: &ProfileTierLevel) -> String {
    let major = ptl.level_idc / 30;
    let minor = (ptl.level_idc % 30) / 3;
    let level = if minor == 0 {
        major.to_string()
    } else {
        format!("{major}.{minor}")
    };
    if ptl.high_tier {
        format!("{level} High tier")
    } else {
        level
    }
}

/// Compares two `hvcC` records and reports the first parameter that would prevent joining the
/// streams without re-encoding, or `None` when they are equivalent.
///
/// Checked in order: `resolution`, `profile`, `level` (with tier), `chroma format`, `bit depth`
/// (from the SPS), `NAL length size`, then the `VPS`, `SPS` and `PPS` lists (after removing
/// emulation prevention). Errors come from parsing either record's first SPS.
pub fn compare(
    reference: &HevcDecoderConfig,
    other: &HevcDecoderConfig,
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
    let (pa, pb) = (profile_name(&a.ptl), profile_name(&b.ptl));
    if pa != pb {
        return diff("profile", pa, pb);
    }
    let (la, lb) = (level_string(&a.ptl), level_string(&b.ptl));
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
    for (kind, name) in [(NAL_VPS, "VPS"), (NAL_SPS, "SPS"), (NAL_PPS, "PPS")] {
        if let Some((r, v)) = compare_units(name, &reference.units(kind), &other.units(kind)) {
            return diff(name, r, v);
        }
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

#[cfg(test)]
#[path = "h265_tests.rs"]
mod tests;
