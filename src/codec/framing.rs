//! Bitstream framing conversions, with output sizes computable before any byte is written.
//!
//! * H.264/H.265 **Annex B ↔ length-prefixed** (ITU-T H.264 Annex B, H.265 Annex B; ISO/IEC
//!   14496-15 §5.3.2 / §8.3.2 sample format). [`scan_annexb`] finds the NAL units of an access unit
//!   by their `00 00 01` start codes and records the layout (how many zero bytes precede each
//!   start code: 0 for a 3-byte start code, 1 for a 4-byte one, more for `trailing_zero_8bits`), so
//!   [`annexb_from_layout`] gives the Annex B bytes back **exactly**. Payloads are never unescaped:
//!   emulation prevention (`00 00 03`) guarantees no start code occurs inside a NAL unit, so
//!   scanning for `00 00 01` is exact, and `00 00 00`/`00 00 02` inside a unit are refused as
//!   malformed (H.264 §7.4.1: they cannot occur in a NAL unit).
//! * [`Mp4Nals`] chooses what goes into an MP4 sample: access unit delimiters (H.264 type 9, H.265
//!   type 35) and filler data (H.264 type 12, H.265 type 38) are removed (ISO/IEC 14496-15 §5.3.2
//!   lets them out; MP4 readers ignore them), SEI and every other unit is kept.
//!   `annexb(length_prefixed(x)) == x` holds exactly when nothing is removed, and equals `x`
//!   without those units otherwise ([`annexb_from_layout_without`] gives the same bytes directly).
//! * [`avcc_from_parameter_sets`] builds an `avcC` record from in-band SPS/PPS NAL units,
//!   [`hvcc_from_parameter_sets`] an `hvcC` record from VPS/SPS/PPS ([`encode_hvcc`] writes it).
//! * **ADTS ↔ raw AAC** (ISO/IEC 14496-3 §1.A.2): [`adts_frames`] locates frames and their
//!   payloads, [`adts_to_raw`] strips the header and [`AdtsTemplate::write`] adds it
//!   (`write(adts_to_raw(x)) == x` for frames without CRC; a CRC-protected frame comes back without
//!   its CRC, which seam cannot recompute without parsing the raw data blocks), [`asc_from_adts`]
//!   gives the AudioSpecificConfig.
//!
//! Size functions ([`length_prefixed_size`], [`annexb_size`], [`annexb_layout_size`],
//! [`AdtsTemplate::frame_size`]) take only the
//! NAL or frame layout, so the MP4 writer can place every sample before converting any.

use std::ops::Range;

use crate::codec::aac::{AdtsHeader, AudioSpecificConfig};
use crate::codec::h264::{AvcDecoderConfig, Sps};
use crate::error::CodecError;

/// Which NAL unit header syntax: 1 byte (H.264 §7.3.1) or 2 bytes (H.265 §7.3.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NalCodec {
    /// H.264 / AVC: `nal_unit_type` is the low 5 bits of the first byte.
    H264,
    /// H.265 / HEVC: `nal_unit_type` is bits 1 to 6 of the first byte.
    H265,
}

impl NalCodec {
    /// The `nal_unit_type` of a unit starting with `first` byte.
    pub fn nal_type(self, first: u8) -> u8 {
        match self {
            NalCodec::H264 => first & 0x1f,
            NalCodec::H265 => (first >> 1) & 0x3f,
        }
    }

    /// True for access unit delimiters and filler data, which MP4 samples leave out.
    pub fn is_aud_or_filler(self, nal_type: u8) -> bool {
        match self {
            NalCodec::H264 => matches!(nal_type, 9 | 12),
            NalCodec::H265 => matches!(nal_type, 35 | 38),
        }
    }
}

/// One NAL unit of an Annex B buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnexBUnit {
    /// Zero bytes between the previous unit (or the buffer start) and this unit's `00 00 01`.
    pub zeros_before: usize,
    /// The unit's bytes (header included, emulation prevention in place) in the buffer.
    pub range: Range<usize>,
    /// The first header byte (gives `nal_unit_type`).
    pub header: u8,
}

/// Where the NAL units of an Annex B buffer are: enough to rebuild it byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnnexBLayout {
    /// The units in order.
    pub units: Vec<AnnexBUnit>,
    /// Zero bytes after the last unit.
    pub trailing_zeros: usize,
}

fn malformed(structure: &'static str, offset: usize, what: String) -> CodecError {
    CodecError::Malformed {
        structure,
        offset,
        what,
    }
}

/// Position of the first `00 00 01` at or after `from`.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let rest = data.get(from..)?;
    memchr::memmem::find(rest, &[0, 0, 1]).map(|p| p + from)
}

/// Finds the NAL units of an Annex B access unit (or stream).
///
/// The buffer must start with zero bytes and a start code (`leading_zero_8bits`, B.2). Every unit
/// must be non-empty and must not contain `00 00 00` or `00 00 02`; zero bytes ending a unit
/// are `trailing_zero_8bits` (a NAL unit never ends with a zero byte, §7.4.1).
pub fn scan_annexb(data: &[u8]) -> Result<AnnexBLayout, CodecError> {
    const S: &str = "Annex B stream";
    let mut layout = AnnexBLayout::default();
    if data.is_empty() {
        return Ok(layout);
    }
    let Some(first) = find_start_code(data, 0) else {
        if data.iter().all(|&b| b == 0) {
            layout.trailing_zeros = data.len();
            return Ok(layout);
        }
        return Err(malformed(S, 0, "no start code".into()));
    };
    if let Some(p) = data[..first].iter().position(|&b| b != 0) {
        return Err(malformed(
            S,
            p,
            "non-zero bytes before the first start code".into(),
        ));
    }
    let mut zeros_before = first;
    let mut start = first + 3;
    // One pass: the first `00 00 0x` (x <= 2) after a unit's start ends it. `00 00 01` is the next
    // start code; `00 00 00` must be zero bytes up to a start code or the end (trailing_zero_8bits
    // or the zero byte of a 4-byte start code); anything else is a unit without emulation
    // prevention.
    loop {
        let (nal_end, next) =
            match zero_pattern(data, start) {
                None => {
                    // No start code follows: the unit runs to the end, minus trailing zero bytes.
                    let end = data[start..]
                        .iter()
                        .rposition(|&b| b != 0)
                        .map_or(start, |p| start + p + 1);
                    (end, None)
                }
                Some(p) => match data[p + 2] {
                    1 => (p, Some(p)),
                    0 => {
                        let q = data[p..].iter().position(|&b| b != 0).map(|o| p + o);
                        match q {
                            None => (p, None),
                            Some(q) if data[q] == 1 => (p, Some(q - 2)),
                            Some(_) => return Err(malformed(
                                S,
                                p,
                                "bytes 00 00 00 inside a NAL unit (emulation prevention missing)"
                                    .into(),
                            )),
                        }
                    }
                    x => {
                        return Err(malformed(
                            S,
                            p,
                            format!(
                            "bytes 00 00 {x:02x} inside a NAL unit (emulation prevention missing)"
                        ),
                        ))
                    }
                },
            };
        if nal_end <= start {
            return Err(malformed(S, start, "empty NAL unit".into()));
        }
        layout.units.push(AnnexBUnit {
            zeros_before,
            range: start..nal_end,
            header: data[start],
        });
        match next {
            Some(n) => {
                zeros_before = n - nal_end;
                start = n + 3;
            }
            None => {
                layout.trailing_zeros = data.len() - nal_end;
                return Ok(layout);
            }
        }
    }
}

/// The first position `i >= from` with `data[i..i + 3] == 00 00 x`, `x <= 2`. Found through
/// the `00 00` pairs (SIMD search: this scan is most of the cost of reading a transport stream);
/// a pair followed by a byte above 2 (emulation prevention's `00 00 03`) is passed over.
fn zero_pattern(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    loop {
        let p = i.checked_add(memchr::memmem::find(data.get(i..)?, &[0, 0])?)?;
        if *data.get(p + 2)? <= 2 {
            return Some(p);
        }
        // data[p + 2] > 2: no match at p + 1 or p + 2 either.
        i = p + 3;
    }
}

/// Which units an MP4 sample gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mp4Nals {
    /// The header syntax.
    pub codec: NalCodec,
    /// Bytes of each length prefix: 1, 2 or 4 (from `avcC`/`hvcC`).
    pub length_size: u8,
    /// Leave out access unit delimiters and filler data (what MP4 muxers do).
    pub drop_aud_filler: bool,
}

impl Mp4Nals {
    fn keeps(&self, header: u8) -> bool {
        !(self.drop_aud_filler && self.codec.is_aud_or_filler(self.codec.nal_type(header)))
    }

    fn check_length(&self, len: usize, offset: usize) -> Result<(), CodecError> {
        if !matches!(self.length_size, 1 | 2 | 4) {
            return Err(malformed(
                "sample",
                0,
                format!("NAL length size {} is not 1, 2 or 4", self.length_size),
            ));
        }
        let max = (1u64 << (8 * u32::from(self.length_size))) - 1;
        if len as u64 > max {
            return Err(malformed(
                "sample",
                offset,
                format!(
                    "NAL unit of {len} bytes does not fit a {}-byte length",
                    self.length_size
                ),
            ));
        }
        Ok(())
    }
}

/// Size of the length-prefixed sample [`annexb_to_length_prefixed`] writes for `layout`, computed
/// from the layout alone.
pub fn length_prefixed_size(layout: &AnnexBLayout, opts: &Mp4Nals) -> Result<usize, CodecError> {
    let mut total = 0usize;
    for u in layout.units.iter().filter(|u| opts.keeps(u.header)) {
        opts.check_length(u.range.len(), u.range.start)?;
        total = total
            .checked_add(usize::from(opts.length_size) + u.range.len())
            .ok_or_else(|| malformed("sample", u.range.start, "size overflows".into()))?;
    }
    Ok(total)
}

/// Appends the MP4 sample for the Annex B buffer `data` (scanned into `layout`) to `out`.
pub fn annexb_to_length_prefixed(
    data: &[u8],
    layout: &AnnexBLayout,
    opts: &Mp4Nals,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let size = length_prefixed_size(layout, opts)?;
    out.reserve(size);
    for u in layout.units.iter().filter(|u| opts.keeps(u.header)) {
        let nal = data.get(u.range.clone()).ok_or_else(|| {
            malformed(
                "Annex B stream",
                u.range.start,
                "layout does not fit".into(),
            )
        })?;
        let len = (nal.len() as u32).to_be_bytes();
        out.extend_from_slice(&len[4 - usize::from(opts.length_size)..]);
        out.extend_from_slice(nal);
    }
    Ok(())
}

/// The NAL units of a length-prefixed sample, as ranges of `sample` (ISO/IEC 14496-15 §5.3.2).
/// The last unit must end exactly at the end of the sample, and every unit must be one an Annex B
/// stream can carry: non-empty, without `00 00 00`, `00 00 01` or `00 00 02` inside (emulation
/// prevention forbids them; a reader would take them for a start code) and not ending with a zero
/// byte (it would read as `trailing_zero_8bits`).
pub fn length_prefixed_units(
    sample: &[u8],
    length_size: u8,
) -> Result<Vec<Range<usize>>, CodecError> {
    let size = usize::from(length_size);
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(malformed(
            "sample",
            0,
            format!("NAL length size {length_size} is not 1, 2 or 4"),
        ));
    }
    let mut units = Vec::new();
    let mut pos = 0usize;
    while pos < sample.len() {
        let Some(prefix) = sample.get(pos..pos + size) else {
            return Err(malformed(
                "sample",
                pos,
                "sample ends inside a NAL unit length".into(),
            ));
        };
        let len = prefix
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        let start = pos + size;
        let end = start.checked_add(len).filter(|&e| e <= sample.len());
        let Some(end) = end else {
            return Err(malformed(
                "sample",
                pos,
                format!(
                    "NAL unit of {len} bytes runs past the end of the sample ({} bytes)",
                    sample.len()
                ),
            ));
        };
        if len == 0 {
            return Err(malformed("sample", pos, "empty NAL unit".into()));
        }
        let nal = &sample[start..end];
        if let Some(p) = zero_pattern(nal, 0) {
            return Err(malformed(
                "sample",
                start + p,
                format!(
                    "bytes 00 00 {:02x} inside a NAL unit (emulation prevention missing)",
                    nal[p + 2]
                ),
            ));
        }
        if nal.last() == Some(&0) {
            return Err(malformed(
                "sample",
                end - 1,
                "NAL unit ends with a zero byte".into(),
            ));
        }
        units.push(start..end);
        pos = end;
    }
    Ok(units)
}

/// Which start codes [`length_prefixed_to_annexb`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartCodes {
    /// `00 00 00 01` before every unit.
    Four,
    /// `00 00 00 01` before the first unit of the access unit and before parameter sets (H.264
    /// SPS/PPS, H.265 VPS/SPS/PPS), `00 00 01` before the others: what x264 writes and ffmpeg's
    /// `h264_mp4toannexb` produces (H.264 Annex B.1.2 requires the `zero_byte` exactly there).
    LongFirst(NalCodec),
}

impl StartCodes {
    fn len(self, index: usize, header: u8) -> usize {
        match self {
            StartCodes::Four => 4,
            StartCodes::LongFirst(codec) => {
                let ty = codec.nal_type(header);
                let parameter_set = match codec {
                    NalCodec::H264 => matches!(ty, 7 | 8),
                    NalCodec::H265 => matches!(ty, 32..=34),
                };
                if index == 0 || parameter_set {
                    4
                } else {
                    3
                }
            }
        }
    }
}

/// Size of [`length_prefixed_to_annexb`]'s output: each unit's bytes and its start code. `units`
/// come from [`length_prefixed_units`] on `sample` (only each unit's first byte is looked at).
pub fn annexb_size(sample: &[u8], units: &[Range<usize>], codes: StartCodes) -> usize {
    units
        .iter()
        .enumerate()
        .map(|(i, u)| codes.len(i, sample.get(u.start).copied().unwrap_or(0)) + u.len())
        .sum()
}

/// Appends the Annex B form of a length-prefixed sample to `out`, each unit behind the start code
/// `codes` chooses.
pub fn length_prefixed_to_annexb(
    sample: &[u8],
    units: &[Range<usize>],
    codes: StartCodes,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    out.reserve(annexb_size(sample, units, codes));
    for (i, u) in units.iter().enumerate() {
        let nal = sample
            .get(u.clone())
            .ok_or_else(|| malformed("sample", u.start, "unit outside the sample".into()))?;
        let code: &[u8] = if codes.len(i, nal[0]) == 4 {
            &[0, 0, 0, 1]
        } else {
            &[0, 0, 1]
        };
        out.extend_from_slice(code);
        out.extend_from_slice(nal);
    }
    Ok(())
}

/// Size of [`annexb_from_layout`]'s output (the original buffer's size).
pub fn annexb_layout_size(layout: &AnnexBLayout) -> usize {
    layout
        .units
        .iter()
        .map(|u| u.zeros_before + 3 + u.range.len())
        .sum::<usize>()
        + layout.trailing_zeros
}

/// Rebuilds the Annex B buffer `layout` was scanned from, from the length-prefixed sample made of
/// all its units: each unit gets back its start code and zero bytes.
pub fn annexb_from_layout(
    sample: &[u8],
    length_size: u8,
    layout: &AnnexBLayout,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    rebuild(sample, length_size, layout, |_| true, out)
}

/// Like [`annexb_from_layout`] for a sample made with [`Mp4Nals::drop_aud_filler`]: the removed
/// units are left out (with the zero bytes before them), the rest is byte for byte as scanned.
pub fn annexb_from_layout_without(
    sample: &[u8],
    opts: &Mp4Nals,
    layout: &AnnexBLayout,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    rebuild(sample, opts.length_size, layout, |h| opts.keeps(h), out)
}

fn rebuild(
    sample: &[u8],
    length_size: u8,
    layout: &AnnexBLayout,
    keep: impl Fn(u8) -> bool,
    out: &mut Vec<u8>,
) -> Result<(), CodecError> {
    let units = length_prefixed_units(sample, length_size)?;
    let kept: Vec<&AnnexBUnit> = layout.units.iter().filter(|u| keep(u.header)).collect();
    if kept.len() != units.len() {
        return Err(malformed(
            "sample",
            0,
            format!("{} NAL units, the layout has {}", units.len(), kept.len()),
        ));
    }
    for (u, r) in kept.iter().zip(&units) {
        if u.range.len() != r.len() {
            return Err(malformed(
                "sample",
                r.start,
                format!(
                    "NAL unit of {} bytes, the layout has {}",
                    r.len(),
                    u.range.len()
                ),
            ));
        }
        out.resize(out.len() + u.zeros_before, 0);
        out.extend_from_slice(&[0, 0, 1]);
        out.extend_from_slice(&sample[r.clone()]);
    }
    out.resize(out.len() + layout.trailing_zeros, 0);
    Ok(())
}

/// Builds an `avcC` record (ISO/IEC 14496-15 §5.3.3.1) from in-band SPS and PPS NAL units (with
/// their headers and emulation prevention, as found between start codes).
///
/// Profile, compatibility and level come from the first SPS. For the profiles that carry them
/// (`profile_idc` 100, 110, 122, 144) the chroma format and bit depth extension is written with no
/// SPS extension units, as ffmpeg and x264 write it.
pub fn avcc_from_parameter_sets(
    sps: &[&[u8]],
    pps: &[&[u8]],
    length_size: u8,
) -> Result<AvcDecoderConfig, CodecError> {
    let bad = |what: String| malformed("avcC", 0, what);
    let first = sps.first().ok_or_else(|| bad("no SPS".into()))?;
    if pps.is_empty() {
        return Err(bad("no PPS".into()));
    }
    if sps.len() > 31 || pps.len() > 255 {
        return Err(bad(format!("{} SPS and {} PPS", sps.len(), pps.len())));
    }
    for u in sps.iter().chain(pps) {
        if u.len() > usize::from(u16::MAX) {
            return Err(bad(format!("parameter set of {} bytes", u.len())));
        }
    }
    for (units, ty) in [(sps, 7u8), (pps, 8)] {
        if let Some(u) = units
            .iter()
            .find(|u| u.first().map(|b| b & 0x1f) != Some(ty))
        {
            return Err(bad(format!(
                "NAL unit type {} where type {ty} is expected",
                u.first().map_or(0, |b| b & 0x1f)
            )));
        }
    }
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(bad(format!("NAL length size {length_size}")));
    }
    let parsed = Sps::parse(first)?;
    let trailing = if matches!(parsed.profile_idc, 100 | 110 | 122 | 144) {
        vec![
            0xfc | (parsed.chroma_format_idc as u8 & 0x03),
            0xf8 | (parsed.bit_depth_luma.saturating_sub(8) & 0x07),
            0xf8 | (parsed.bit_depth_chroma.saturating_sub(8) & 0x07),
            0,
        ]
    } else {
        Vec::new()
    };
    Ok(AvcDecoderConfig {
        configuration_version: 1,
        profile_indication: parsed.profile_idc,
        profile_compatibility: parsed.constraint_flags,
        level_indication: parsed.level_idc,
        length_size,
        sps: sps
            .iter()
            .map(|u| bytes::Bytes::copy_from_slice(u))
            .collect(),
        pps: pps
            .iter()
            .map(|u| bytes::Bytes::copy_from_slice(u))
            .collect(),
        trailing: trailing.into(),
    })
}

/// Builds an `hvcC` record (ISO/IEC 14496-15 §8.3.3.1) from in-band VPS, SPS and PPS NAL units
/// (H.265 types 32, 33, 34, with their 2-byte headers and emulation prevention).
///
/// Profile, tier, level, chroma format and bit depths come from the first SPS (H.265 §7.3.2.2.1),
/// `numTemporalLayers` and `temporalIdNested` from its `sps_max_sub_layers_minus1` and
/// `sps_temporal_id_nesting_flag`. Fields that need the VUI or the PPS parsed are written as
/// "unknown", which §8.3.3.1.3 allows: `min_spatial_segmentation_idc` 0, `parallelismType` 0,
/// `avgFrameRate` 0, `constantFrameRate` 0 (ffmpeg fills the first two from the VUI and PPS, so its
/// record may differ in them). The arrays are VPS, SPS, PPS with `array_completeness` set.
pub fn hvcc_from_parameter_sets(
    vps: &[&[u8]],
    sps: &[&[u8]],
    pps: &[&[u8]],
    length_size: u8,
) -> Result<crate::codec::h265::HevcDecoderConfig, CodecError> {
    use crate::codec::h265::{HevcDecoderConfig, NalArray, Sps as HevcSps};
    let bad = |what: String| malformed("hvcC", 0, what);
    let first = sps.first().ok_or_else(|| bad("no SPS".into()))?;
    if vps.is_empty() || pps.is_empty() {
        return Err(bad(format!("{} VPS and {} PPS", vps.len(), pps.len())));
    }
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(bad(format!("NAL length size {length_size}")));
    }
    let mut arrays = Vec::new();
    for (units, ty) in [(vps, 32u8), (sps, 33), (pps, 34)] {
        if units.len() > usize::from(u16::MAX) {
            return Err(bad(format!("{} units of type {ty}", units.len())));
        }
        for u in units.iter() {
            let found = u.first().map_or(0xff, |b| NalCodec::H265.nal_type(*b));
            if found != ty || u.len() < 3 || u.len() > usize::from(u16::MAX) {
                return Err(bad(format!(
                    "NAL unit of type {found} and {} bytes where type {ty} is expected",
                    u.len()
                )));
            }
        }
        arrays.push(NalArray {
            complete: true,
            nal_type: ty,
            units: units
                .iter()
                .map(|u| bytes::Bytes::copy_from_slice(u))
                .collect(),
        });
    }
    let parsed = HevcSps::parse(first)?;
    for depth in [parsed.bit_depth_luma, parsed.bit_depth_chroma] {
        if !(8..=15).contains(&depth) {
            return Err(CodecError::Unsupported {
                structure: "hvcC",
                what: format!("bit depth {depth} (the record holds 8 to 15)"),
            });
        }
    }
    // The byte after the 2-byte header: vps_id (4), max_sub_layers_minus1 (3), nesting flag (1).
    // The header bytes are non-zero, so no emulation prevention byte can precede it.
    let third = first.get(2).copied().unwrap_or(0);
    Ok(HevcDecoderConfig {
        configuration_version: 1,
        ptl: parsed.ptl,
        min_spatial_segmentation: 0,
        parallelism_type: 0,
        chroma_format_idc: parsed.chroma_format_idc as u8 & 0x03,
        bit_depth_luma: parsed.bit_depth_luma,
        bit_depth_chroma: parsed.bit_depth_chroma,
        avg_frame_rate: 0,
        constant_frame_rate: 0,
        num_temporal_layers: parsed.max_sub_layers & 0x07,
        temporal_id_nested: third & 0x01 != 0,
        length_size,
        arrays,
    })
}

/// Serializes an `hvcC` record (ISO/IEC 14496-15 §8.3.3.1.2), reserved bits set as required. At
/// most 255 arrays and 65535 units per array are written; longer units are left out.
pub fn encode_hvcc(c: &crate::codec::h265::HevcDecoderConfig) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    out.push(c.configuration_version);
    out.push(
        ((c.ptl.profile_space & 0x03) << 6)
            | (u8::from(c.ptl.high_tier) << 5)
            | (c.ptl.profile_idc & 0x1f),
    );
    out.extend_from_slice(&c.ptl.compatibility_flags.to_be_bytes());
    out.extend_from_slice(&c.ptl.constraint_flags.to_be_bytes()[2..]);
    out.push(c.ptl.level_idc);
    out.extend_from_slice(&(0xf000 | (c.min_spatial_segmentation & 0x0fff)).to_be_bytes());
    out.push(0xfc | (c.parallelism_type & 0x03));
    out.push(0xfc | (c.chroma_format_idc & 0x03));
    out.push(0xf8 | (c.bit_depth_luma.wrapping_sub(8) & 0x07));
    out.push(0xf8 | (c.bit_depth_chroma.wrapping_sub(8) & 0x07));
    out.extend_from_slice(&c.avg_frame_rate.to_be_bytes());
    let length_size_minus_one = match c.length_size {
        1 => 0,
        2 => 1,
        _ => 3,
    };
    out.push(
        ((c.constant_frame_rate & 0x03) << 6)
            | ((c.num_temporal_layers & 0x07) << 3)
            | (u8::from(c.temporal_id_nested) << 2)
            | length_size_minus_one,
    );
    let arrays: Vec<_> = c.arrays.iter().take(255).collect();
    out.push(arrays.len() as u8);
    for a in arrays {
        out.push((u8::from(a.complete) << 7) | (a.nal_type & 0x3f));
        let units: Vec<_> = a
            .units
            .iter()
            .filter(|u| u.len() <= usize::from(u16::MAX))
            .take(usize::from(u16::MAX))
            .collect();
        out.extend_from_slice(&(units.len() as u16).to_be_bytes());
        for u in units {
            out.extend_from_slice(&(u.len() as u16).to_be_bytes());
            out.extend_from_slice(u);
        }
    }
    out
}

/// The SPS and PPS units of an Annex B layout (H.264 types 7 and 8), as slices of `data`.
pub fn parameter_sets<'a>(data: &'a [u8], layout: &AnnexBLayout) -> (Vec<&'a [u8]>, Vec<&'a [u8]>) {
    let mut sps = Vec::new();
    let mut pps = Vec::new();
    for u in &layout.units {
        let Some(nal) = data.get(u.range.clone()) else {
            continue;
        };
        match u.header & 0x1f {
            7 => sps.push(nal),
            8 => pps.push(nal),
            _ => {}
        }
    }
    (sps, pps)
}

/// One ADTS frame of a buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawAdts {
    /// Its header.
    pub header: AdtsHeader,
    /// The whole frame in the buffer (header, CRC and payload).
    pub frame: Range<usize>,
    /// The raw AAC payload (one raw data block) in the buffer.
    pub payload: Range<usize>,
}

/// Locates the ADTS frames of `data` (a stream of whole frames, e.g. one PES payload).
///
/// Each frame must hold one raw data block (`number_of_raw_data_blocks_in_frame` 0: a raw AAC
/// sample is one block; splitting several needs the bitstream) and lie inside `data`.
pub fn adts_frames(data: &[u8]) -> Result<Vec<RawAdts>, CodecError> {
    let mut frames = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let header = AdtsHeader::parse(&data[pos..]).map_err(|e| match e {
            CodecError::Malformed {
                structure,
                offset,
                what,
            } => CodecError::Malformed {
                structure,
                offset: pos + offset,
                what,
            },
            e => e,
        })?;
        if header.raw_data_blocks != 0 {
            return Err(CodecError::Unsupported {
                structure: "ADTS header",
                what: format!(
                    "{} raw data blocks in one frame (at byte {pos})",
                    usize::from(header.raw_data_blocks) + 1
                ),
            });
        }
        let end = pos + usize::from(header.frame_length);
        if end > data.len() {
            return Err(malformed(
                "ADTS header",
                pos,
                format!(
                    "frame of {} bytes runs past the end ({} left)",
                    header.frame_length,
                    data.len() - pos
                ),
            ));
        }
        frames.push(RawAdts {
            header,
            frame: pos..end,
            payload: pos + usize::from(header.header_len)..end,
        });
        pos = end;
    }
    Ok(frames)
}

/// The header bytes written before a raw AAC frame: the first 7 bytes of an ADTS header, with
/// `protection_absent` set (no CRC) and `aac_frame_length` rewritten per frame. Every other bit
/// (ID, profile, frequency, private bit, channels, original/copy, home, copyright bits, buffer
/// fullness) is kept as given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsTemplate {
    bytes: [u8; 7],
}

impl AdtsTemplate {
    /// The template of an ADTS frame's header (its first 7 bytes).
    pub fn from_frame(frame: &[u8]) -> Result<(AdtsTemplate, AdtsHeader), CodecError> {
        let header = AdtsHeader::parse(frame)?;
        let mut bytes = [0u8; 7];
        bytes.copy_from_slice(&frame[..7]); // parse checked there are 7 bytes
        bytes[1] |= 0x01;
        bytes[6] &= 0xfc; // one raw data block
        Ok((AdtsTemplate { bytes }, header))
    }

    /// The template of a 7-byte MPEG-4 header for `asc` (see [`crate::codec::aac::write_adts_header`]
    /// for what ADTS cannot express).
    pub fn from_asc(asc: &AudioSpecificConfig) -> Result<AdtsTemplate, CodecError> {
        Ok(AdtsTemplate {
            bytes: crate::codec::aac::write_adts_header(asc, 0)?,
        })
    }

    /// Size of the frame [`AdtsTemplate::write`] makes of a `raw_len`-byte payload.
    pub fn frame_size(raw_len: usize) -> Result<usize, CodecError> {
        match raw_len.checked_add(7) {
            Some(total) if total <= 0x1fff => Ok(total),
            _ => Err(CodecError::Unsupported {
                structure: "ADTS header",
                what: format!("frame of {raw_len} bytes"),
            }),
        }
    }

    /// Appends the ADTS frame of `raw` (header, then `raw`) to `out`.
    pub fn write(&self, raw: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
        let total = Self::frame_size(raw.len())?;
        let mut h = self.bytes;
        h[3] = (h[3] & 0xfc) | (total >> 11) as u8;
        h[4] = (total >> 3) as u8;
        h[5] = (h[5] & 0x1f) | (((total & 0x07) as u8) << 5);
        out.reserve(total);
        out.extend_from_slice(&h);
        out.extend_from_slice(raw);
        Ok(())
    }
}

/// The raw AAC payload of one ADTS frame (after the header and CRC) and the template that frames
/// it again: for a frame without CRC, `template.write(raw)` gives the frame back byte for byte.
pub fn adts_to_raw(frame: &[u8]) -> Result<(AdtsTemplate, &[u8]), CodecError> {
    let frames = adts_frames(frame)?;
    match frames.as_slice() {
        [f] => {
            let (t, _) = AdtsTemplate::from_frame(frame)?;
            Ok((t, &frame[f.payload.clone()]))
        }
        _ => Err(malformed(
            "ADTS header",
            0,
            format!("{} frames where one is expected", frames.len()),
        )),
    }
}

/// The AudioSpecificConfig an ADTS header describes (ISO/IEC 14496-3 §1.A.2.2 →
/// §1.6.2.1). Channel configuration 0 (channels given by a program config element inside the raw
/// data) is refused: the element would have to be moved into the config.
pub fn asc_from_adts(header: &AdtsHeader) -> Result<AudioSpecificConfig, CodecError> {
    if header.channel_configuration == 0 {
        return Err(CodecError::Unsupported {
            structure: "ADTS header",
            what: "channel configuration 0 (program config element in the stream)".into(),
        });
    }
    Ok(header.to_audio_specific_config())
}

#[cfg(test)]
#[path = "framing_tests.rs"]
mod tests;

#[cfg(test)]
mod scan_tests {
    use super::*;

    /// The byte-by-byte definitions the SIMD searches must agree with.
    fn naive_zero_pattern(data: &[u8], from: usize) -> Option<usize> {
        (from..data.len().saturating_sub(2))
            .find(|&i| data[i] == 0 && data[i + 1] == 0 && data[i + 2] <= 2)
    }

    fn naive_start_code(data: &[u8], from: usize) -> Option<usize> {
        (from..data.len().saturating_sub(2)).find(|&i| data[i..i + 3] == [0, 0, 1])
    }

    #[test]
    fn searches_agree_with_their_definitions() {
        // Bytes drawn mostly from {0, 1, 2, 3} so every pattern and near miss occurs often.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for len in 0..300usize {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    if x % 3 == 0 {
                        (x >> 8) as u8
                    } else {
                        (x >> 8) as u8 & 3
                    }
                })
                .collect();
            for from in 0..=len + 1 {
                assert_eq!(
                    zero_pattern(&data, from),
                    naive_zero_pattern(&data, from),
                    "{data:?} from {from}"
                );
                assert_eq!(find_start_code(&data, from), naive_start_code(&data, from));
            }
        }
    }
}
