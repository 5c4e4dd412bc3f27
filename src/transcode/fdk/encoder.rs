//! A minimal owner of a libfdk-aac encoder handle (five FFI calls). The safe `fdk-aac` 0.8 wrapper
//! only opens mono and stereo encoders; see `transcode::silence` for why the raw bindings.

use std::os::raw::{c_int, c_uint, c_void};
use std::ptr;

use fdk_aac_sys as sys;

/// What to open an encoder for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Settings {
    /// fdk's `AUDIO_OBJECT_TYPE`: 2 (LC), 5 (HE-AAC) or 29 (HE-AACv2).
    pub(crate) aot: u32,
    /// The encoder's input sample rate (the output rate with SBR).
    pub(crate) sample_rate: u32,
    /// fdk's `CHANNEL_MODE` (1 to 7, numbered like channelConfiguration).
    pub(crate) channel_mode: u32,
    /// Interleaved input channels.
    pub(crate) channels: u32,
    /// Constant bit rate in bits per second; `None` for VBR mode 1 (lowest, no fill bits).
    pub(crate) bitrate: Option<u32>,
}

impl Settings {
    /// The configuration in words, for error messages.
    pub(crate) fn describe(&self) -> String {
        format!(
            "AOT {} at {} Hz, channel mode {} ({} channels)",
            self.aot, self.sample_rate, self.channel_mode, self.channels
        )
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
pub(crate) struct Encoder {
    /// Non-null while the value lives: [`Encoder::open`] only returns after `aacEncOpen`
    /// succeeded.
    handle: sys::HANDLE_AACENCODER,
}

impl Encoder {
    /// Opens and initialises an encoder for `target`: raw access units, the bit rate asked for
    /// (or VBR "very low", without fill bits), no afterburner. The error says which setting the
    /// library rejected.
    pub(crate) fn open(target: &Settings) -> Result<Encoder, String> {
        let mut handle: sys::HANDLE_AACENCODER = ptr::null_mut();
        // SAFETY: `handle` is a valid out-pointer; 0 modules means "all"; the channel count
        // bounds the allocation. On success the handle is owned by the returned `Encoder`.
        let code = unsafe { sys::aacEncOpen(&mut handle, 0, target.channels as c_uint) };
        if code != sys::AACENC_ERROR_AACENC_OK || handle.is_null() {
            return Err(format!("cannot open encoder: {}", encoder_error_text(code)));
        }
        let mut encoder = Encoder { handle };
        let (mode, rate) = match target.bitrate {
            Some(b) => (0, Some(b)),
            None => (1, None),
        };
        let params = [
            (
                sys::AACENC_PARAM_AACENC_AOT,
                target.aot,
                "audio object type",
            ),
            (
                sys::AACENC_PARAM_AACENC_SAMPLERATE,
                target.sample_rate,
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
            (sys::AACENC_PARAM_AACENC_BITRATEMODE, mode, "bitrate mode"),
            (sys::AACENC_PARAM_AACENC_AFTERBURNER, 0, "afterburner"),
            (
                sys::AACENC_PARAM_AACENC_GRANULE_LENGTH,
                1024,
                "frame length",
            ),
        ];
        for (param, value, what) in params {
            encoder.set_param(param, value).map_err(|e| {
                format!(
                    "fdk-aac rejects {what} {value} for {}: {e}",
                    target.describe()
                )
            })?;
        }
        if let Some(rate) = rate {
            encoder
                .set_param(sys::AACENC_PARAM_AACENC_BITRATE, rate)
                .map_err(|e| {
                    format!(
                        "fdk-aac rejects bit rate {rate} for {}: {e}",
                        target.describe()
                    )
                })?;
        }
        encoder
            .apply()
            .map_err(|e| format!("fdk-aac cannot encode {}: {e}", target.describe()))?;
        Ok(encoder)
    }

    /// Sets one encoder parameter; [`Encoder::apply`] (or the next encode) makes it effective.
    pub(crate) fn set_param(&mut self, param: sys::AACENC_PARAM, value: u32) -> Result<(), String> {
        // SAFETY: the handle is valid (see `handle`); SetParam only reads its arguments.
        let code = unsafe { sys::aacEncoder_SetParam(self.handle, param, value) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(encoder_error_text(code));
        }
        Ok(())
    }

    /// (Re)initialises the encoder with the parameters set so far.
    pub(crate) fn apply(&mut self) -> Result<(), String> {
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
    fn info(&self) -> Result<sys::AACENC_InfoStruct, String> {
        let mut info = std::mem::MaybeUninit::<sys::AACENC_InfoStruct>::zeroed();
        // SAFETY: valid handle; `info` is writable storage of the struct's size, and an all-zero
        // AACENC_InfoStruct (integers and a byte array) is a valid value even if not all of it
        // is written.
        let code = unsafe { sys::aacEncInfo(self.handle, info.as_mut_ptr()) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(format!(
                "cannot read encoder info: {}",
                encoder_error_text(code)
            ));
        }
        // SAFETY: zero-initialised above and filled by aacEncInfo; every bit pattern is valid.
        Ok(unsafe { info.assume_init() })
    }

    /// Samples per channel the encoder consumes per frame.
    pub(crate) fn frame_length(&self) -> Result<usize, String> {
        Ok(self.info()?.frameLength as usize)
    }

    /// The largest access unit the encoder can produce, in bytes.
    pub(crate) fn max_out_bytes(&self) -> Result<usize, String> {
        Ok(self.info()?.maxOutBufBytes as usize)
    }

    /// Samples per channel by which decoded output lags the input (`nDelay`: core delay plus
    /// SBR and resampler delays), at the encoder's input rate.
    pub(crate) fn delay(&self) -> Result<usize, String> {
        Ok(self.info()?.nDelay as usize)
    }

    /// The AudioSpecificConfig the encoder writes for its stream (`confBuf`).
    #[cfg(test)]
    pub(crate) fn audio_specific_config(&self) -> Result<Vec<u8>, String> {
        let info = self.info()?;
        let n = usize::try_from(info.confSize)
            .unwrap_or(0)
            .min(info.confBuf.len());
        Ok(info.confBuf[..n].to_vec())
    }

    /// Encodes `input` (interleaved 16-bit PCM) into `out`; returns the size of the access unit
    /// written, 0 while the encoder's delay line fills.
    pub(crate) fn encode(&mut self, input: &[i16], out: &mut [u8]) -> Result<usize, String> {
        let n = c_int::try_from(input.len()).map_err(|_| "input buffer too large".to_string())?;
        self.encode_samples(input, n, out)
    }

    fn encode_samples(
        &mut self,
        input: &[i16],
        samples: c_int,
        out: &mut [u8],
    ) -> Result<usize, String> {
        let too_big = |what: &str| format!("{what} buffer too large");
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
            numInSamples: samples,
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
            return Err(encoder_error_text(code));
        }
        let size = usize::try_from(out_args.numOutBytes).unwrap_or(0);
        if size > out.len() {
            return Err(format!(
                "encoder reports {size} bytes written into a {}-byte buffer",
                out.len()
            ));
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
