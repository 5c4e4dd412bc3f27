//! A minimal owner of a libfdk-aac encoder handle (five FFI calls). The safe `fdk-aac` 0.8 wrapper
//! only opens mono and stereo encoders; see the parent module's documentation.

use std::os::raw::{c_int, c_uint, c_void};
use std::ptr;

use fdk_aac_sys as sys;

use super::{SilenceError, Target};

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
pub(super) struct Encoder {
    /// Non-null while the value lives: [`Encoder::open`] only returns after `aacEncOpen`
    /// succeeded.
    handle: sys::HANDLE_AACENCODER,
}

impl Encoder {
    /// Opens and initialises an encoder for `target`: raw access units, VBR "very low" (no fill
    /// bits), no afterburner. Rejected settings are [`SilenceError::Unsupported`].
    pub(super) fn open(target: &Target) -> Result<Encoder, SilenceError> {
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
    pub(super) fn set_param(&mut self, param: sys::AACENC_PARAM, value: u32) -> Result<(), String> {
        // SAFETY: the handle is valid (see `handle`); SetParam only reads its arguments.
        let code = unsafe { sys::aacEncoder_SetParam(self.handle, param, value) };
        if code != sys::AACENC_ERROR_AACENC_OK {
            return Err(encoder_error_text(code));
        }
        Ok(())
    }

    /// (Re)initialises the encoder with the parameters set so far.
    pub(super) fn apply(&mut self) -> Result<(), String> {
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
    pub(super) fn frame_length(&self) -> Result<usize, SilenceError> {
        Ok(self.info()?.frameLength as usize)
    }

    /// The largest access unit the encoder can produce, in bytes.
    pub(super) fn max_out_bytes(&self) -> Result<usize, SilenceError> {
        Ok(self.info()?.maxOutBufBytes as usize)
    }

    /// Encodes `input` (interleaved 16-bit PCM) into `out`; returns the size of the access unit
    /// written, 0 while the encoder's delay line fills.
    pub(super) fn encode(&mut self, input: &[i16], out: &mut [u8]) -> Result<usize, SilenceError> {
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
