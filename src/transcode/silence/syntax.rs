//! Checks on the AAC `raw_data_block()` syntax (ISO/IEC 14496-3 §4.4.2) of an encoded frame: it must
//! hold exactly the track's channel elements, each with no spectral data, so it decodes to silence
//! on its own.

use super::Target;

/// Syntactic element ids of `raw_data_block()` (ISO/IEC 14496-3, table 4.85).
pub(super) const ID_SCE: u32 = 0;
pub(super) const ID_CPE: u32 = 1;
pub(super) const ID_CCE: u32 = 2;
pub(super) const ID_LFE: u32 = 3;
pub(super) const ID_DSE: u32 = 4;
pub(super) const ID_PCE: u32 = 5;
pub(super) const ID_FIL: u32 = 6;
pub(super) const ID_END: u32 = 7;

/// `extension_type` values of a fill element that carry SBR data.
pub(super) const EXT_SBR_DATA: u32 = 13;
pub(super) const EXT_SBR_DATA_CRC: u32 = 14;

/// `window_sequence` value of eight short windows.
pub(super) const EIGHT_SHORT_SEQUENCE: u32 = 2;

/// Checks that `au` is one complete `raw_data_block()` that can stand for silence under `target`
/// (see the module documentation); the error says why not.
pub(super) fn check_silent_au(au: &[u8], target: &Target) -> Result<(), String> {
    let syntax = inspect_au(au)?;
    if syntax.elements != target.elements {
        return Err(format!(
            "its channel elements {:?} are not the expected {:?}",
            syntax.elements, target.elements
        ));
    }
    let sbr_elements = target.elements.iter().filter(|&&id| id != ID_LFE).count();
    if target.sbr() {
        if syntax.sbr_payloads != sbr_elements {
            return Err(format!(
                "it has {} SBR payloads for {sbr_elements} channel elements",
                syntax.sbr_payloads
            ));
        }
        if syntax.sbr_headers != syntax.sbr_payloads {
            return Err("not all of its SBR payloads carry an SBR header".into());
        }
    } else if syntax.sbr_payloads != 0 {
        return Err("it carries SBR data in an AAC-LC stream".into());
    }
    Ok(())
}

/// What [`inspect_au`] found in an access unit.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct AuSyntax {
    /// Channel element ids (SCE, CPE, LFE) in bitstream order.
    elements: Vec<u32>,
    /// Fill elements carrying SBR data.
    sbr_payloads: usize,
    /// Of those, the ones with `bs_header_flag` set.
    sbr_headers: usize,
}

/// Walks the syntactic elements of one AAC-LC `raw_data_block()` whose channels must carry no
/// spectral data.
fn inspect_au(au: &[u8]) -> Result<AuSyntax, String> {
    let mut bits = BitReader::new(au);
    let mut syntax = AuSyntax::default();
    loop {
        let id = bits.read(3)?;
        match id {
            ID_SCE | ID_LFE => {
                bits.skip(4)?; // element_instance_tag
                individual_channel_stream(&mut bits, None)?;
                syntax.elements.push(id);
            }
            ID_CPE => {
                bits.skip(4)?; // element_instance_tag
                let common = if bits.read(1)? == 1 {
                    let info = ics_info(&mut bits)?;
                    match bits.read(2)? {
                        // ms_mask_present 1: one ms_used flag per group and band.
                        1 => bits.skip((info.groups * info.max_sfb) as usize)?,
                        3 => return Err("reserved ms_mask_present value".into()),
                        _ => {}
                    }
                    Some(info)
                } else {
                    None
                };
                individual_channel_stream(&mut bits, common)?;
                individual_channel_stream(&mut bits, common)?;
                syntax.elements.push(id);
            }
            ID_CCE => return Err("it has a coupling channel element".into()),
            ID_PCE => return Err("it has a program config element".into()),
            ID_DSE => {
                bits.skip(4)?; // element_instance_tag
                let byte_align = bits.read(1)? == 1;
                let mut count = bits.read(8)?;
                if count == 255 {
                    count += bits.read(8)?;
                }
                if byte_align {
                    bits.byte_align();
                }
                bits.skip(8 * count as usize)?;
            }
            ID_FIL => {
                let mut count = bits.read(4)?;
                if count == 15 {
                    count += bits.read(8)?;
                    count -= 1;
                }
                if count > 0 {
                    let payload_start = bits.position();
                    let extension_type = bits.read(4)?;
                    if extension_type == EXT_SBR_DATA || extension_type == EXT_SBR_DATA_CRC {
                        if extension_type == EXT_SBR_DATA_CRC {
                            bits.skip(10)?; // bs_sbr_crc_bits
                        }
                        syntax.sbr_payloads += 1;
                        if bits.read(1)? == 1 {
                            syntax.sbr_headers += 1;
                        }
                    }
                    bits.seek(payload_start)?;
                    bits.skip(8 * count as usize)?;
                }
            }
            ID_END => break,
            other => return Err(format!("invalid element id {other}")),
        }
    }
    if bits.remaining() >= 8 {
        return Err(format!("{} bits follow ID_END", bits.remaining()));
    }
    Ok(syntax)
}

/// What `ics_info()` says about the layout of a channel's spectrum.
#[derive(Debug, Clone, Copy)]
struct IcsInfo {
    /// Eight short windows rather than one long one.
    short: bool,
    /// Scale factor bands transmitted per window group.
    max_sfb: u32,
    /// Window groups (1 for long windows).
    groups: u32,
}

/// Reads `ics_info()`; fails on predictor data (not part of AAC-LC).
fn ics_info(bits: &mut BitReader<'_>) -> Result<IcsInfo, String> {
    bits.skip(1)?; // ics_reserved_bit
    let window_sequence = bits.read(2)?;
    bits.skip(1)?; // window_shape
    if window_sequence == EIGHT_SHORT_SEQUENCE {
        let max_sfb = bits.read(4)?;
        let grouping = bits.read(7)?;
        // Each 0 bit of scale_factor_grouping starts a new group.
        let groups = 1 + (0..7).filter(|i| grouping & (1 << i) == 0).count() as u32;
        Ok(IcsInfo {
            short: true,
            max_sfb,
            groups,
        })
    } else {
        let max_sfb = bits.read(6)?;
        if bits.read(1)? == 1 {
            return Err("it has predictor data".into());
        }
        Ok(IcsInfo {
            short: false,
            max_sfb,
            groups: 1,
        })
    }
}

/// Reads `section_data()` and requires every section to use the zero codebook (`ZERO_HCB`), so
/// that no scale factors and no spectral values follow.
fn zero_section_data(bits: &mut BitReader<'_>, info: IcsInfo) -> Result<(), String> {
    let (len_bits, escape) = if info.short { (3, 7) } else { (5, 31) };
    for _ in 0..info.groups {
        let mut band = 0;
        while band < info.max_sfb {
            let codebook = bits.read(4)?;
            if codebook != 0 {
                return Err(format!("it carries spectral data (codebook {codebook})"));
            }
            let mut length = 0;
            loop {
                let increment = bits.read(len_bits)?;
                length += increment;
                if increment != escape {
                    break;
                }
            }
            if length == 0 {
                return Err("it has an empty section".into());
            }
            band += length;
        }
        if band != info.max_sfb {
            return Err("its sections overrun max_sfb".into());
        }
    }
    Ok(())
}

/// Reads an `individual_channel_stream()` that must carry no spectral data (see
/// [`zero_section_data`]); `common` is the CPE's shared `ics_info()`, if any.
fn individual_channel_stream(
    bits: &mut BitReader<'_>,
    common: Option<IcsInfo>,
) -> Result<(), String> {
    bits.skip(8)?; // global_gain
    let info = match common {
        Some(info) => info,
        None => ics_info(bits)?,
    };
    zero_section_data(bits, info)?;
    // scale_factor_data() is empty: zero-codebook bands have no scale factor.
    for tool in ["pulse data", "TNS data", "gain control data"] {
        if bits.read(1)? == 1 {
            return Err(format!("it has {tool}"));
        }
    }
    // spectral_data() is empty for zero-codebook bands.
    Ok(())
}

/// An MSB-first bit reader that fails instead of reading past the end.
struct BitReader<'a> {
    data: &'a [u8],
    /// Position in bits.
    pos: usize,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        BitReader { data, pos: 0 }
    }

    fn remaining(&self) -> usize {
        self.data.len() * 8 - self.pos
    }

    fn position(&self) -> usize {
        self.pos
    }

    fn seek(&mut self, pos: usize) -> Result<(), String> {
        if pos > self.data.len() * 8 {
            return Err("it is truncated".into());
        }
        self.pos = pos;
        Ok(())
    }

    fn skip(&mut self, n: usize) -> Result<(), String> {
        self.seek(self.pos + n)
    }

    fn byte_align(&mut self) {
        self.pos = self.pos.div_ceil(8) * 8;
    }

    /// Reads `n` (at most 32) bits.
    fn read(&mut self, n: u32) -> Result<u32, String> {
        if n as usize > self.remaining() {
            return Err("it is truncated".into());
        }
        let mut value = 0u32;
        for _ in 0..n {
            let bit = (self.data[self.pos / 8] >> (7 - self.pos % 8)) & 1;
            value = (value << 1) | u32::from(bit);
            self.pos += 1;
        }
        Ok(value)
    }
}
