//! Silent AAC access units, to fill an audio track over spans where an input fragment has none.
//!
//! When one fragment of a recording has no audio track but the others do, the output audio track
//! still has to cover that fragment's span. seam fills it with one raw AAC access unit (no ADTS
//! header) repeated as often as needed. [`silent_aac_frame`] makes that access unit for the output
//! track's [`AudioSpecificConfig`].
//!
//! # How the frame is made
//!
//! libfdk-aac (bundled and built from C++ sources by the `fdk-aac-sys` crate) encodes digital
//! silence with the track's parameters: object type, sample rate, channel layout, raw transport.
//! The encoder's first access units are skipped (its start-up delay), and a later one is taken
//! only after a small syntax check of `raw_data_block()` proves it can be repeated anywhere:
//!
//! * Its channel elements are exactly the ones the channel configuration prescribes
//!   (e.g. SCE, CPE, CPE, LFE for 5.1), and it has no PCE, CCE, predictor, pulse, TNS or gain
//!   control data.
//! * Every individual channel stream codes all its scale factor bands with the zero codebook
//!   (`ZERO_HCB`; fdk writes e.g. `max_sfb` 5 in one zero section): it carries no spectral values,
//!   no scale factors, no noise substitution or intensity bands, so its inverse transform is
//!   exactly zero whatever the previous frame was. Decoding it after real audio outputs only that
//!   audio's overlap tail, then zeros. Such a frame does not depend on the sample rate beyond the
//!   scale factor band count, which is how 7350 Hz (which the encoder refuses) is served: the
//!   frame is encoded at 8000 Hz, whose scale factor band tables 7350 Hz uses too.
//! * With SBR (HE-AAC, HE-AACv2) every SBR payload carries an SBR header (`bs_header_flag == 1`).
//!   The encoder sends a header only about once a second, and only in header frames does it code
//!   the SBR envelopes and noise floors without deltas in time (`code_env.cpp`: "no delta coding in
//!   time in case of a header"). A frame without a header would be parsed with the previous real
//!   frame's header and add its time deltas to that audio's envelope. The parametric-stereo header
//!   is sent in the same frame as the SBR header (`sbr_encoder.cpp` anticipates it for that); it is
//!   not checked here because PS only distributes the (zero) mono core signal between the two
//!   output channels.
//!
//! # Why `fdk-aac-sys` and not the `fdk-aac` encoder API
//!
//! The safe `fdk_aac::enc::Encoder` (fdk-aac 0.8.0) does select raw transport and the object type
//! (LC, HE-AAC, HE-AACv2), but it opens the encoder with at most 2 channels and its `ChannelMode`
//! has only `Mono` and `Stereo`, so channel configurations 3 to 7 cannot be encoded through it, and
//! it does not expose its handle to set anything else. This module therefore drives the same
//! bundled library through its raw bindings, `fdk_aac_sys` (0.5, the crate `fdk-aac` itself
//! depends on, so nothing more is compiled): five FFI calls behind the small RAII `Encoder`
//! wrapper below, each `unsafe` block with its justification.
//!
//! # What is supported
//!
//! * AAC-LC (object type 2) at all 13 standard sample rates (96000 down to 7350 Hz), channel
//!   configurations 1 to 7.
//! * HE-AAC (SBR) and HE-AACv2 (SBR + PS) over an AAC-LC core: `object_type` 2 with
//!   `extension_object_type` 5 or 29, as [`AudioSpecificConfig::parse`] reports both hierarchical
//!   and backward-compatible explicit signalling (an `object_type` of 5 or 29 is taken the same
//!   way), with dual-rate SBR (`extension_sampling_frequency` twice `sampling_frequency`, the
//!   core rate, which must be a standard rate). Measured with the bundled library: HE-AAC at output
//!   rates 16000 to 96000 Hz with channel configurations 1 to 7, HE-AACv2 at the same rates with
//!   channel configuration 1 or 2 (its core is mono; encoders write either).
//! * Not supported ([`SilenceError::Unsupported`]): 960-sample frames, channel configuration 0
//!   (layout in a program config element) or above 7, other object types, downsampled SBR, and
//!   whatever combination the encoder rejects at initialisation. An input with implicitly
//!   signalled SBR has an AAC-LC AudioSpecificConfig and gets an AAC-LC frame, which is valid for
//!   that configuration.
//!
//! Nothing is cached: an encoder is opened, used for a few dozen frames and closed on every call,
//! which takes milliseconds and happens once per output track.

use std::os::raw::{c_int, c_uint, c_void};
use std::ptr;

use bytes::Bytes;
use fdk_aac_sys as sys;

use crate::codec::aac::AudioSpecificConfig;

/// Errors making silence.
#[derive(Debug, thiserror::Error)]
pub enum SilenceError {
    /// The AudioSpecificConfig describes a stream this module cannot make silence for.
    #[error("unsupported AudioSpecificConfig for silence: {0}")]
    Unsupported(String),
    /// The encoder failed while encoding, or produced no frame that passed the silence check.
    #[error("AAC encoder failed: {0}")]
    Encoder(String),
}

/// One raw AAC frame that decodes to silence under `asc`. Returns the frame bytes.
///
/// The frame is one `raw_data_block()` (an MP4 sample, no ADTS header) of `asc.frame_length`
/// (1024) samples per channel at the core sample rate, made for `asc`'s object type, sample rate and
/// channel configuration. It has no spectral data, so it decodes to zeros on its own and can be
/// repeated any number of times, after any frame of the same track. See the [module
/// documentation](self) for what is supported and why the frame is safe to repeat.
///
/// # Errors
///
/// [`SilenceError::Unsupported`] if `asc` is outside what is supported (or the encoder refuses the
/// configuration); [`SilenceError::Encoder`] if encoding fails or yields no frame that passes the
/// check.
pub fn silent_aac_frame(asc: &AudioSpecificConfig) -> Result<Bytes, SilenceError> {
    let target = Target::from_asc(asc)?;
    let mut encoder = Encoder::open(&target)?;
    let frame_length = encoder.frame_length()?;
    let out_capacity = encoder.max_out_bytes()?;
    let input = vec![0i16; frame_length * target.channels as usize];
    let mut out = vec![0u8; out_capacity];
    let mut produced = 0usize;
    let mut last_problem = String::from("the encoder produced no access unit");
    for _ in 0..MAX_FRAMES {
        let size = encoder.encode(&input, &mut out)?;
        if size == 0 {
            continue;
        }
        produced += 1;
        if produced <= SKIP_FRAMES {
            continue;
        }
        let au = &out[..size];
        match check_silent_au(au, &target) {
            Ok(()) => return Ok(Bytes::copy_from_slice(au)),
            Err(problem) => last_problem = problem,
        }
    }
    Err(SilenceError::Encoder(format!(
        "no usable silent frame in {MAX_FRAMES} encoded frames ({produced} access units) for \
         {}: last one rejected because {last_problem}",
        target.describe()
    )))
}

/// Access units skipped after the encoder starts (its start-up delay; the SBR path also fills
/// its payload delay line during these).
const SKIP_FRAMES: usize = 3;

/// Frames encoded at most while waiting for a usable one. SBR headers come about once a second
/// (`SendHeaderDataTime` = 1000 ms in the library), at most 47 frames at 96 kHz output.
const MAX_FRAMES: usize = 128;

/// The 13 sampling frequencies of the AudioSpecificConfig's index table, in index order.
const STANDARD_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Syntactic element ids of `raw_data_block()` (ISO/IEC 14496-3, table 4.85).
const ID_SCE: u32 = 0;
const ID_CPE: u32 = 1;
const ID_CCE: u32 = 2;
const ID_LFE: u32 = 3;
const ID_DSE: u32 = 4;
const ID_PCE: u32 = 5;
const ID_FIL: u32 = 6;
const ID_END: u32 = 7;

/// `extension_type` values of a fill element that carry SBR data.
const EXT_SBR_DATA: u32 = 13;
const EXT_SBR_DATA_CRC: u32 = 14;

/// `window_sequence` value of eight short windows.
const EIGHT_SHORT_SEQUENCE: u32 = 2;

/// What to ask the encoder for, derived from the AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Target {
    /// fdk's `AUDIO_OBJECT_TYPE`: 2, 5 or 29.
    aot: u32,
    /// The encoder's input (= decoder output) sample rate.
    encoder_rate: u32,
    /// fdk's `CHANNEL_MODE` (1 to 7, same numbering as channelConfiguration).
    channel_mode: u32,
    /// Input channels of the encoder.
    channels: u32,
    /// Channel elements the frame must contain, in order.
    elements: &'static [u32],
}

impl Target {
    /// Maps `asc` to encoder settings, or says why it is unsupported.
    fn from_asc(asc: &AudioSpecificConfig) -> Result<Target, SilenceError> {
        let unsupported = |what: String| Err(SilenceError::Unsupported(what));
        if asc.frame_length != 1024 {
            return unsupported(format!(
                "frame length {} (only 1024-sample frames)",
                asc.frame_length
            ));
        }
        let ext = asc.extension_object_type;
        let ps = asc.object_type == 29 || ext == Some(29);
        let sbr = ps || asc.object_type == 5 || ext == Some(5);
        if !matches!(asc.object_type, 2 | 5 | 29) {
            return unsupported(format!(
                "audio object type {} (only AAC-LC 2, HE-AAC 5 and HE-AACv2 29)",
                asc.object_type
            ));
        }
        let config = asc.channel_configuration;
        let (channels, elements): (u32, &'static [u32]) = match config {
            1 => (1, &[ID_SCE]),
            2 => (2, &[ID_CPE]),
            3 => (3, &[ID_SCE, ID_CPE]),
            4 => (4, &[ID_SCE, ID_CPE, ID_SCE]),
            5 => (5, &[ID_SCE, ID_CPE, ID_CPE]),
            6 => (6, &[ID_SCE, ID_CPE, ID_CPE, ID_LFE]),
            7 => (8, &[ID_SCE, ID_CPE, ID_CPE, ID_CPE, ID_LFE]),
            0 => return unsupported("channel configuration 0 (program config element)".into()),
            other => return unsupported(format!("channel configuration {other} (only 1 to 7)")),
        };
        let core_rate = asc.sampling_frequency;
        if !STANDARD_RATES.contains(&core_rate) {
            return unsupported(format!(
                "sampling frequency {core_rate} Hz (not a standard rate)"
            ));
        }
        if !sbr {
            // fdk's encoder refuses 7350 Hz; a frame without spectral data is the same bits at
            // 8000 Hz, which shares 7350 Hz's scale factor band tables.
            let encoder_rate = if core_rate == 7350 { 8000 } else { core_rate };
            return Ok(Target {
                aot: sys::AUDIO_OBJECT_TYPE_AOT_AAC_LC as u32,
                encoder_rate,
                channel_mode: u32::from(config),
                channels,
                elements,
            });
        }
        let output_rate = asc.extension_sampling_frequency.unwrap_or(core_rate * 2);
        if output_rate != core_rate * 2 {
            return unsupported(format!(
                "SBR output rate {output_rate} Hz with core rate {core_rate} Hz (only dual-rate SBR)"
            ));
        }
        if ps {
            // HE-AACv2 codes a mono core (one SCE) plus parametric stereo; encoders write
            // channelConfiguration 1 or 2 for it.
            if config > 2 {
                return unsupported(format!(
                    "HE-AACv2 with channel configuration {config} (only 1 or 2)"
                ));
            }
            return Ok(Target {
                aot: sys::AUDIO_OBJECT_TYPE_AOT_PS as u32,
                encoder_rate: output_rate,
                channel_mode: sys::CHANNEL_MODE_MODE_2 as u32,
                channels: 2,
                elements: &[ID_SCE],
            });
        }
        Ok(Target {
            aot: sys::AUDIO_OBJECT_TYPE_AOT_SBR as u32,
            encoder_rate: output_rate,
            channel_mode: u32::from(config),
            channels,
            elements,
        })
    }

    /// Whether access units carry SBR payloads.
    fn sbr(&self) -> bool {
        self.aot != sys::AUDIO_OBJECT_TYPE_AOT_AAC_LC as u32
    }

    /// The configuration in words, for error messages.
    fn describe(&self) -> String {
        format!(
            "AOT {} at {} Hz, channel mode {} ({} channels)",
            self.aot, self.encoder_rate, self.channel_mode, self.channels
        )
    }
}

/// Checks that `au` is one complete `raw_data_block()` that can stand for silence under `target`
/// (see the module documentation); the error says why not.
fn check_silent_au(au: &[u8], target: &Target) -> Result<(), String> {
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

/// Text of an fdk-aac encoder error code.
fn encoder_error_text(code: sys::AACENC_ERROR) -> String {
    let text = match code {
        sys::AACENC_ERROR_AACENC_INVALID_HANDLE => "invalid handle",
        sys::AACENC_ERROR_AACENC_MEMORY_ERROR => "memory allocation failed",
        sys::AACENC_ERROR_AACENC_UNSUPPORTED_PARAMETER => "parameter not available",
        sys::AACENC_ERROR_AACENC_INVALID_CONFIG => "invalid configuration",
        sys::AACENC_ERROR_AACENC_INIT_ERROR => "general initialisation error",
        sys::AACENC_ERROR_AACENC_INIT_AAC_ERROR => "AAC library initialisation error",
        sys::AACENC_ERROR_AACENC_INIT_SBR_ERROR => "SBR library initialisation error",
        sys::AACENC_ERROR_AACENC_INIT_TP_ERROR => "transport library initialisation error",
        sys::AACENC_ERROR_AACENC_INIT_META_ERROR => "metadata library initialisation error",
        sys::AACENC_ERROR_AACENC_INIT_MPS_ERROR => "MPS library initialisation error",
        sys::AACENC_ERROR_AACENC_ENCODE_ERROR => "encoding error",
        sys::AACENC_ERROR_AACENC_ENCODE_EOF => "end of stream",
        _ => "unknown error",
    };
    format!("{text} (fdk-aac code {code:#x})")
}

/// An open libfdk-aac encoder instance, closed on drop.
struct Encoder {
    /// Non-null while the value lives: [`Encoder::open`] only returns after `aacEncOpen`
    /// succeeded.
    handle: sys::HANDLE_AACENCODER,
}

impl Encoder {
    /// Opens and initialises an encoder for `target`: raw access units, VBR "very low" (no fill
    /// bits), no afterburner. Rejected settings are [`SilenceError::Unsupported`].
    fn open(target: &Target) -> Result<Encoder, SilenceError> {
        let mut handle: sys::HANDLE_AACENCODER = ptr::null_mut();
        // SAFETY: `handle` is a valid out-pointer; 0 modules means "all"; the channel count
        // bounds the allocation. On success the handle is owned by the returned `Encoder`.
        let code = unsafe { sys::aacEncOpen(&mut handle, 0, target.channels as c_uint) };
        if code != sys::AACENC_ERROR_AACENC_OK || handle.is_null() {
            return Err(SilenceError::Encoder(format!(
                "cannot open encoder: {}",
                encoder_error_text(code)
            )));
        }
        let mut encoder = Encoder { handle };
        let params = [
            (
                sys::AACENC_PARAM_AACENC_AOT,
                target.aot,
                "audio object type",
            ),
            (
                sys::AACENC_PARAM_AACENC_SAMPLERATE,
                target.encoder_rate,
                "sample rate",
            ),
            (
                sys::AACENC_PARAM_AACENC_CHANNELMODE,
                target.channel_mode,
                "channel mode",
            ),
            (
                sys::AACENC_PARAM_AACENC_TRANSMUX,
                sys::TRANSPORT_TYPE_TT_MP4_RAW as u32,
                "raw transport",
            ),
            (sys::AACENC_PARAM_AACENC_BITRATEMODE, 1, "bitrate mode"),
            (sys::AACENC_PARAM_AACENC_AFTERBURNER, 0, "afterburner"),
            (
                sys::AACENC_PARAM_AACENC_GRANULE_LENGTH,
                1024,
                "frame length",
            ),
        ];
        for (param, value, what) in params {
            encoder.set_param(param, value).map_err(|e| {
                SilenceError::Unsupported(format!(
                    "fdk-aac rejects {what} {value} for {}: {e}",
                    target.describe()
                ))
            })?;
        }
        encoder.apply().map_err(|e| {
            SilenceError::Unsupported(format!("fdk-aac cannot encode {}: {e}", target.describe()))
        })?;
        Ok(encoder)
    }

    /// Sets one encoder parameter; [`Encoder::apply`] (or the next encode) makes it effective.
    fn set_param(&mut self, param: sys::AACENC_PARAM, value: u32) -> Result<(), String> {
        // SAFETY: the handle is valid (see `handle`); SetParam only reads its arguments.
        let code = unsafe { sys::aacEncoder_SetParam(self.handle, param, value) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(encoder_error_text(code));
        }
        Ok(())
    }

    /// (Re)initialises the encoder with the parameters set so far.
    fn apply(&mut self) -> Result<(), String> {
        // SAFETY: a valid handle and all-null buffers is the documented way to apply the
        // configuration without encoding.
        let code = unsafe {
            sys::aacEncEncode(
                self.handle,
                ptr::null(),
                ptr::null(),
                ptr::null(),
                ptr::null_mut(),
            )
        };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(encoder_error_text(code));
        }
        Ok(())
    }

    /// The encoder's current configuration summary.
    fn info(&self) -> Result<sys::AACENC_InfoStruct, SilenceError> {
        let mut info = std::mem::MaybeUninit::<sys::AACENC_InfoStruct>::zeroed();
        // SAFETY: valid handle; `info` is writable storage of the struct's size, and an all-zero
        // AACENC_InfoStruct (integers and a byte array) is a valid value even if not all of it
        // is written.
        let code = unsafe { sys::aacEncInfo(self.handle, info.as_mut_ptr()) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(SilenceError::Encoder(format!(
                "cannot read encoder info: {}",
                encoder_error_text(code)
            )));
        }
        // SAFETY: zero-initialised above and filled by aacEncInfo; every bit pattern is valid.
        Ok(unsafe { info.assume_init() })
    }

    /// Samples per channel the encoder consumes per frame.
    fn frame_length(&self) -> Result<usize, SilenceError> {
        Ok(self.info()?.frameLength as usize)
    }

    /// The largest access unit the encoder can produce, in bytes.
    fn max_out_bytes(&self) -> Result<usize, SilenceError> {
        Ok(self.info()?.maxOutBufBytes as usize)
    }

    /// Encodes `input` (interleaved 16-bit PCM) into `out`; returns the size of the access unit
    /// written, 0 while the encoder's delay line fills.
    fn encode(&mut self, input: &[i16], out: &mut [u8]) -> Result<usize, SilenceError> {
        let too_big = |what: &str| SilenceError::Encoder(format!("{what} buffer too large"));
        let mut in_ptr = input.as_ptr() as *mut c_void;
        let mut in_id = sys::AACENC_BufferIdentifier_IN_AUDIO_DATA as c_int;
        let mut in_size =
            c_int::try_from(std::mem::size_of_val(input)).map_err(|_| too_big("input"))?;
        let mut in_el_size = std::mem::size_of::<i16>() as c_int;
        let in_desc = sys::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut in_ptr,
            bufferIdentifiers: &mut in_id,
            bufSizes: &mut in_size,
            bufElSizes: &mut in_el_size,
        };
        let mut out_ptr = out.as_mut_ptr() as *mut c_void;
        let mut out_id = sys::AACENC_BufferIdentifier_OUT_BITSTREAM_DATA as c_int;
        let mut out_size = c_int::try_from(out.len()).map_err(|_| too_big("output"))?;
        let mut out_el_size = 1 as c_int;
        let out_desc = sys::AACENC_BufDesc {
            numBufs: 1,
            bufs: &mut out_ptr,
            bufferIdentifiers: &mut out_id,
            bufSizes: &mut out_size,
            bufElSizes: &mut out_el_size,
        };
        let in_args = sys::AACENC_InArgs {
            numInSamples: c_int::try_from(input.len()).map_err(|_| too_big("input"))?,
            numAncBytes: 0,
        };
        let mut out_args = sys::AACENC_OutArgs {
            numOutBytes: 0,
            numInSamples: 0,
            numAncBytes: 0,
            bitResState: 0,
        };
        // SAFETY: valid handle; the descriptors point at locals and at `input` / `out`, which
        // outlive the call, with their true sizes in bytes. The encoder only reads the input
        // buffer (the binding's `*mut` is C's lack of const) and writes at most `out_size` bytes.
        let code =
            unsafe { sys::aacEncEncode(self.handle, &in_desc, &out_desc, &in_args, &mut out_args) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(SilenceError::Encoder(encoder_error_text(code)));
        }
        let size = usize::try_from(out_args.numOutBytes).unwrap_or(0);
        if size > out.len() {
            return Err(SilenceError::Encoder(format!(
                "encoder reports {size} bytes written into a {}-byte buffer",
                out.len()
            )));
        }
        Ok(size)
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful aacEncOpen and is closed only here.
        unsafe {
            sys::aacEncClose(&mut self.handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fdk_aac::dec::{Decoder, Transport};

    /// Writes bits MSB first.
    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        bits: usize,
    }

    impl BitWriter {
        fn put(&mut self, n: u32, value: u32) {
            for i in (0..n).rev() {
                if self.bits % 8 == 0 {
                    self.bytes.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                let last = self.bytes.len() - 1;
                self.bytes[last] |= bit << (7 - self.bits % 8);
                self.bits += 1;
            }
        }
    }

    fn rate_index(rate: u32) -> u8 {
        STANDARD_RATES
            .iter()
            .position(|&r| r == rate)
            .expect("standard rate") as u8
    }

    fn channel_count(config: u8) -> usize {
        if config == 7 {
            8
        } else {
            usize::from(config)
        }
    }

    /// An AAC-LC AudioSpecificConfig.
    fn lc(rate: u32, config: u8) -> AudioSpecificConfig {
        let mut w = BitWriter::default();
        w.put(5, 2);
        w.put(4, u32::from(rate_index(rate)));
        w.put(4, u32::from(config));
        w.put(3, 0); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
        AudioSpecificConfig {
            object_type: 2,
            sampling_frequency_index: rate_index(rate),
            sampling_frequency: rate,
            channel_configuration: config,
            frame_length: 1024,
            extension_object_type: None,
            extension_sampling_frequency: None,
            raw: Bytes::from(w.bytes),
        }
    }

    /// An HE-AAC (`aot` 5) or HE-AACv2 (`aot` 29) AudioSpecificConfig with `output_rate` twice
    /// the core rate, signalled hierarchically or backward-compatibly.
    fn he(aot: u8, output_rate: u32, config: u8, hierarchical: bool) -> AudioSpecificConfig {
        let core = output_rate / 2;
        let mut w = BitWriter::default();
        if hierarchical {
            w.put(5, u32::from(aot));
            w.put(4, u32::from(rate_index(core)));
            w.put(4, u32::from(config));
            w.put(4, u32::from(rate_index(output_rate)));
            w.put(5, 2);
            w.put(3, 0);
        } else {
            w.put(5, 2);
            w.put(4, u32::from(rate_index(core)));
            w.put(4, u32::from(config));
            w.put(3, 0);
            w.put(11, 0x2b7);
            w.put(5, 5);
            w.put(1, 1); // sbrPresentFlag
            w.put(4, u32::from(rate_index(output_rate)));
            if aot == 29 {
                w.put(11, 0x548);
                w.put(1, 1); // psPresentFlag
            }
        }
        // As `AudioSpecificConfig::parse` reports both signallings: the core type, 2.
        AudioSpecificConfig {
            object_type: 2,
            sampling_frequency_index: rate_index(core),
            sampling_frequency: core,
            channel_configuration: config,
            frame_length: 1024,
            extension_object_type: Some(aot),
            extension_sampling_frequency: Some(output_rate),
            raw: Bytes::from(w.bytes),
        }
    }

    /// Output channels and samples per channel a decoder must produce for `asc`.
    fn expected_shape(asc: &AudioSpecificConfig) -> (usize, usize) {
        let ext = asc.extension_object_type;
        if ext == Some(29) {
            (2, 2048)
        } else if ext == Some(5) {
            (channel_count(asc.channel_configuration), 2048)
        } else {
            (channel_count(asc.channel_configuration), 1024)
        }
    }

    fn decoder(asc: &AudioSpecificConfig) -> Decoder {
        let mut decoder = Decoder::new(Transport::Raw);
        decoder.config_raw(&asc.raw).expect("decoder takes the ASC");
        // fdk downmixes to at most 6 channels unless told otherwise.
        decoder
            .set_max_output_channels(8)
            .expect("8 output channels");
        decoder
    }

    /// Decodes one access unit; returns its interleaved PCM.
    fn decode(decoder: &mut Decoder, au: &[u8], what: &str) -> Vec<i16> {
        let consumed = decoder.fill(au).expect("fill");
        assert_eq!(
            consumed,
            au.len(),
            "{what}: decoder took the whole access unit"
        );
        let mut pcm = vec![0i16; 2048 * 8 * 2];
        decoder
            .decode_frame(&mut pcm)
            .unwrap_or_else(|e| panic!("{what}: decode failed: {e}"));
        pcm.truncate(decoder.decoded_frame_size());
        pcm
    }

    /// Makes the frame and checks that fdk's decoder turns it, repeated, into silence of the
    /// right shape.
    fn check(asc: &AudioSpecificConfig) -> Bytes {
        let what = format!(
            "AOT {}/{:?} {} Hz (ext {:?}) config {}",
            asc.object_type,
            asc.extension_object_type,
            asc.sampling_frequency,
            asc.extension_sampling_frequency,
            asc.channel_configuration
        );
        let frame = silent_aac_frame(asc).unwrap_or_else(|e| panic!("{what}: {e}"));
        let (channels, frame_size) = expected_shape(asc);
        let mut decoder = decoder(asc);
        for i in 0..4 {
            let pcm = decode(&mut decoder, &frame, &what);
            let info = decoder.stream_info();
            // fdk outputs mono HE-AAC as stereo (it might turn out to carry parametric stereo).
            let mono_sbr = channels == 1 && frame_size == 2048 && info.numChannels == 2;
            if !mono_sbr {
                assert_eq!(info.numChannels as usize, channels, "{what}: channels");
            }
            assert_eq!(info.frameSize as usize, frame_size, "{what}: frame size");
            let channels = info.numChannels as usize;
            assert_eq!(pcm.len(), channels * frame_size, "{what}: samples");
            let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
            assert!(peak <= 1, "{what}: repeat {i}: peak {peak}");
        }
        frame
    }

    #[test]
    fn lc_every_standard_rate_and_channel_configuration() {
        for rate in STANDARD_RATES {
            for config in 1..=7 {
                let frame = check(&lc(rate, config));
                assert!(
                    frame.len() < 64,
                    "{rate} Hz config {config}: {} bytes",
                    frame.len()
                );
            }
        }
    }

    #[test]
    fn lc_frame_is_small_and_deterministic() {
        let asc = lc(48000, 2);
        let a = silent_aac_frame(&asc).expect("frame");
        let b = silent_aac_frame(&asc).expect("frame");
        assert_eq!(a, b);
        println!("48000 Hz stereo silent frame: {:02x?}", &a[..]);
        println!(
            "44100 Hz mono: {:02x?}",
            &silent_aac_frame(&lc(44100, 1)).expect("frame")[..]
        );
    }

    #[test]
    fn he_aac_rates_and_channel_configurations() {
        for rate in [
            16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000,
        ] {
            for config in [1, 2, 6] {
                for hierarchical in [true, false] {
                    check(&he(5, rate, config, hierarchical));
                }
            }
        }
    }

    #[test]
    fn he_aac_v2_mono_and_stereo_configuration() {
        for rate in [16000, 22050, 24000, 32000, 44100, 48000, 96000] {
            for config in [1, 2] {
                for hierarchical in [true, false] {
                    check(&he(29, rate, config, hierarchical));
                }
            }
        }
    }

    /// Encodes `frames` access units of a loud two-tone signal for `asc`, at a constant
    /// `bitrate` (so with other SBR settings than the silence's).
    fn tone_frames(asc: &AudioSpecificConfig, frames: usize, bitrate: u32) -> Vec<Vec<u8>> {
        let target = Target::from_asc(asc).expect("target");
        let mut encoder = Encoder::open(&target).expect("encoder");
        encoder
            .set_param(sys::AACENC_PARAM_AACENC_BITRATEMODE, 0)
            .expect("CBR");
        encoder
            .set_param(sys::AACENC_PARAM_AACENC_BITRATE, bitrate)
            .expect("bitrate");
        encoder.apply().expect("reinit");
        let frame_length = encoder.frame_length().expect("frame length");
        let channels = target.channels as usize;
        let mut out = vec![0u8; encoder.max_out_bytes().expect("size")];
        let mut aus = Vec::new();
        let mut t = 0usize;
        while aus.len() < frames {
            let mut input = Vec::with_capacity(frame_length * channels);
            for _ in 0..frame_length {
                let x = t as f64 / f64::from(target.encoder_rate);
                let s = 8000.0 * (2.0 * std::f64::consts::PI * 440.0 * x).sin()
                    + 4000.0 * (2.0 * std::f64::consts::PI * 9000.0 * x).sin();
                for c in 0..channels {
                    input.push((s * (1.0 - 0.1 * c as f64)) as i16);
                }
                t += 1;
            }
            let size = encoder.encode(&input, &mut out).expect("encode");
            if size > 0 {
                aus.push(out[..size].to_vec());
            }
        }
        aus
    }

    /// After real audio, the silent frame outputs the audio's tail (the overlap, and the
    /// decoder's delay lines: fdk's default concealment delays output by a frame) and then exact
    /// silence: it does not depend on the previous frame, even with other SBR settings.
    #[test]
    fn silence_after_audio_settles_to_zero() {
        let cases = [
            (lc(48000, 2), 128000),
            (lc(44100, 6), 320000),
            (lc(16000, 1), 48000),
            (he(5, 48000, 2, true), 32000),
            (he(5, 48000, 2, true), 96000),
            (he(5, 32000, 1, false), 24000),
            (he(5, 44100, 6, true), 160000),
            (he(29, 44100, 2, true), 24000),
            (he(29, 48000, 1, false), 40000),
        ];
        for (asc, bitrate) in cases {
            let what = format!(
                "AOT {}/{:?} config {} at {bitrate} bit/s",
                asc.object_type, asc.extension_object_type, asc.channel_configuration
            );
            let frame = silent_aac_frame(&asc).expect("frame");
            let mut decoder = decoder(&asc);
            let mut loud = 0;
            for au in tone_frames(&asc, 30, bitrate) {
                let pcm = decode(&mut decoder, &au, &what);
                loud = loud.max(pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
            }
            assert!(loud > 1000, "{what}: the tone decodes loud ({loud})");
            let mut peaks = Vec::new();
            for _ in 0..10 {
                let pcm = decode(&mut decoder, &frame, &what);
                peaks.push(pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
            }
            println!("{what}: peaks after the tone: {peaks:?}");
            assert!(peaks[6..].iter().all(|&p| p <= 1), "{what}: {peaks:?}");
        }
    }

    #[test]
    fn object_type_5_or_29_counts_as_sbr() {
        for aot in [5, 29] {
            let mut asc = he(aot, 44100, 2, true);
            let expected = Target::from_asc(&asc).expect("target");
            asc.object_type = aot;
            asc.extension_object_type = None;
            asc.extension_sampling_frequency = None;
            assert_eq!(Target::from_asc(&asc).expect("target"), expected);
        }
    }

    #[test]
    fn unsupported_configurations() {
        let mut asc = lc(48000, 2);
        asc.frame_length = 960;
        assert!(matches!(
            silent_aac_frame(&asc),
            Err(SilenceError::Unsupported(_))
        ));
        let mut asc = lc(48000, 2);
        asc.object_type = 1;
        assert!(matches!(
            silent_aac_frame(&asc),
            Err(SilenceError::Unsupported(_))
        ));
        let mut asc = lc(48000, 2);
        asc.channel_configuration = 0;
        assert!(matches!(
            silent_aac_frame(&asc),
            Err(SilenceError::Unsupported(_))
        ));
        let mut asc = lc(48000, 2);
        asc.sampling_frequency = 47999;
        assert!(matches!(
            silent_aac_frame(&asc),
            Err(SilenceError::Unsupported(_))
        ));
        let mut asc = he(5, 48000, 2, true);
        asc.extension_sampling_frequency = Some(24000);
        assert!(matches!(
            silent_aac_frame(&asc),
            Err(SilenceError::Unsupported(_))
        ));
        assert!(matches!(
            silent_aac_frame(&he(29, 48000, 6, true)),
            Err(SilenceError::Unsupported(_))
        ));
    }

    #[test]
    fn inspect_rejects_spectral_data_and_truncation() {
        let target = Target::from_asc(&lc(48000, 1)).expect("target");
        // SCE, tag 0, global_gain 100, ics_info with max_sfb 1, one section with codebook 1.
        let mut w = BitWriter::default();
        w.put(3, ID_SCE);
        w.put(4, 0);
        w.put(8, 100);
        w.put(4, 0); // reserved, ONLY_LONG, window_shape
        w.put(6, 1);
        w.put(1, 0);
        w.put(4, 1);
        w.put(5, 1);
        w.put(8, 0);
        w.put(3, ID_END);
        let err = check_silent_au(&w.bytes, &target).expect_err("spectral data");
        assert!(err.contains("codebook 1"), "{err}");
        let frame = silent_aac_frame(&lc(48000, 1)).expect("frame");
        assert!(check_silent_au(&frame, &target).is_ok());
        assert!(check_silent_au(&frame[..1], &target).is_err());
        // A stereo frame is not a mono one.
        let stereo = silent_aac_frame(&lc(48000, 2)).expect("frame");
        assert!(check_silent_au(&stereo, &target).is_err());
    }

    /// A 7-byte ADTS header (MPEG-4, no CRC) for an AAC-LC frame of `payload` bytes.
    fn adts_header(asc: &AudioSpecificConfig, payload: usize) -> [u8; 7] {
        let len = payload + 7;
        let mut w = BitWriter::default();
        w.put(12, 0xfff);
        w.put(1, 0); // MPEG-4
        w.put(2, 0); // layer
        w.put(1, 1); // protection_absent
        w.put(2, 1); // profile: AAC LC (object type - 1)
        w.put(4, u32::from(asc.sampling_frequency_index));
        w.put(1, 0); // private
        w.put(3, u32::from(asc.channel_configuration));
        w.put(4, 0); // original, home, copyright id bit and start
        w.put(13, len as u32);
        w.put(11, 0x7ff); // buffer fullness: VBR
        w.put(2, 0); // one raw data block
        let mut header = [0u8; 7];
        header.copy_from_slice(&w.bytes);
        header
    }

    fn ffmpeg_available() -> bool {
        std::process::Command::new("ffmpeg")
            .arg("-version")
            .output()
            .map(|o| o.status.success())
            .unwrap_or(false)
    }

    #[test]
    fn ffmpeg_decodes_repeated_frame_as_adts() {
        if !ffmpeg_available() {
            println!("NOTICE: ffmpeg not on PATH, skipping the ffmpeg decode check");
            return;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        // ADTS cannot signal SBR explicitly: the HE-AAC cases rely on ffmpeg finding the SBR
        // (and PS) payloads in the frames, as for any implicitly signalled stream.
        let cases = [
            (lc(48000, 2), 2, 1024),
            (lc(44100, 1), 1, 1024),
            (lc(16000, 1), 1, 1024),
            (lc(7350, 1), 1, 1024),
            (lc(48000, 6), 6, 1024),
            (lc(48000, 7), 8, 1024),
            (he(5, 48000, 2, true), 2, 2048),
            (he(29, 44100, 1, true), 2, 2048),
        ];
        for (asc, channels, frame_size) in cases {
            let (rate, config) = (asc.sampling_frequency, asc.channel_configuration);
            let frame = silent_aac_frame(&asc).expect("frame");
            let path = dir.path().join(format!("silence-{rate}-{config}.aac"));
            let mut file = Vec::new();
            for _ in 0..50 {
                file.extend_from_slice(&adts_header(&asc, frame.len()));
                file.extend_from_slice(&frame);
            }
            std::fs::write(&path, &file).expect("write");
            let out = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&path)
                .args(["-f", "null", "-"])
                .output()
                .expect("run ffmpeg");
            assert!(out.status.success(), "{rate}/{config}: ffmpeg failed");
            assert!(
                out.stdout.is_empty() && out.stderr.is_empty(),
                "{rate}/{config}: ffmpeg said {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            // And the decoded samples are all zero.
            let out = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&path)
                .args(["-f", "s16le", "-"])
                .output()
                .expect("run ffmpeg");
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{rate}/{config}"
            );
            let samples = out.stdout.len() / 2;
            assert_eq!(
                samples,
                50 * frame_size * channels,
                "{rate}/{config}: samples"
            );
            let peak = out
                .stdout
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs())
                .max()
                .unwrap_or(0);
            assert!(peak <= 1, "{rate}/{config}: ffmpeg peak {peak}");
        }
    }
}
