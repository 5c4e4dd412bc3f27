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

use bytes::Bytes;
use fdk_aac_sys as sys;

use crate::codec::aac::AudioSpecificConfig;

mod syntax;
#[cfg(test)]
mod tests;

use super::fdk::encoder::{Encoder, Settings};
use syntax::{check_silent_au, ID_CPE, ID_LFE, ID_SCE};

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
    let mut encoder = Encoder::open(&target.settings()).map_err(SilenceError::Unsupported)?;
    let frame_length = encoder.frame_length().map_err(SilenceError::Encoder)?;
    let out_capacity = encoder.max_out_bytes().map_err(SilenceError::Encoder)?;
    let input = vec![0i16; frame_length * target.channels as usize];
    let mut out = vec![0u8; out_capacity];
    let mut produced = 0usize;
    let mut last_problem = String::from("the encoder produced no access unit");
    for _ in 0..MAX_FRAMES {
        let size = encoder
            .encode(&input, &mut out)
            .map_err(SilenceError::Encoder)?;
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

/// What to ask the encoder for, derived from the AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
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
    pub(crate) fn from_asc(asc: &AudioSpecificConfig) -> Result<Target, SilenceError> {
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

    /// Encoder settings: VBR at the lowest quality (no fill bits: the frames stay small).
    pub(crate) fn settings(&self) -> Settings {
        Settings {
            aot: self.aot,
            sample_rate: self.encoder_rate,
            channel_mode: self.channel_mode,
            channels: self.channels,
            bitrate: None,
        }
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
