//! A minimal owner of a libfdk-aac decoder handle: raw access units (an MP4 sample, no ADTS
//! header) configured by their AudioSpecificConfig, decoded to interleaved 16-bit PCM.
//!
//! fdk-aac decodes AAC-LC, HE-AAC and HE-AACv2 (with the SBR and PS tools), which symphonia's
//! AAC decoder does not (LC only), so the bundled library the silence path already compiles is
//! used here too.

use std::os::raw::c_uint;

use fdk_aac_sys as sys;

/// Interleaved samples the decoder may write per access unit: 8 channels of a 2048-sample SBR
/// frame, twice over for the library's own margin.
const PCM_CAPACITY: usize = 8 * 2048 * 2;

/// An open libfdk-aac decoder, closed on drop.
pub(crate) struct Decoder {
    /// Non-null while the value lives: [`Decoder::open`] returns only after `aacDecoder_Open`
    /// succeeded.
    handle: sys::HANDLE_AACDECODER,
    pcm: Vec<i16>,
}

/// What the decoder reports about the stream after a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    /// Output sample rate (with SBR: twice the core rate).
    pub(crate) sample_rate: u32,
    /// Output channels, interleaved.
    pub(crate) channels: usize,
    /// Output samples per channel per access unit.
    pub(crate) frame_size: usize,
    /// Samples per channel by which the decoder delays its output (`outputDelay`: one frame
    /// for AAC-LC, where ffmpeg's decoder has none); [`Decoder::flush`] gives back the end.
    pub(crate) output_delay: usize,
}

impl Decoder {
    /// Opens a decoder for raw access units of the stream `asc` describes. The PCM limiter is
    /// off, so the output is the decoded signal itself (the limiter would add its own delay and
    /// gain changes).
    pub(crate) fn open(asc: &[u8]) -> Result<Decoder, String> {
        // SAFETY: opening takes plain values; a null handle is checked below.
        let handle = unsafe { sys::aacDecoder_Open(sys::TRANSPORT_TYPE_TT_MP4_RAW, 1) };
        if handle.is_null() {
            return Err("cannot open the AAC decoder".into());
        }
        let decoder = Decoder {
            handle,
            pcm: vec![0; PCM_CAPACITY],
        };
        let mut conf = asc.to_vec();
        let mut conf_ptr = conf.as_mut_ptr();
        let len = c_uint::try_from(conf.len()).map_err(|_| "AudioSpecificConfig too long")?;
        // SAFETY: valid handle; `conf_ptr` points at `len` readable bytes that outlive the call
        // (the library copies the configuration).
        let code = unsafe { sys::aacDecoder_ConfigRaw(decoder.handle, &mut conf_ptr, &len) };
        if code != sys::AAC_DECODER_ERROR_AAC_DEC_OK {
            return Err(format!(
                "the AAC decoder rejects AudioSpecificConfig {} (fdk-aac code {code:#x})",
                hex(asc)
            ));
        }
        // SAFETY: valid handle; SetParam only reads its arguments.
        let code = unsafe {
            sys::aacDecoder_SetParam(decoder.handle, sys::AACDEC_PARAM_AAC_PCM_LIMITER_ENABLE, 0)
        };
        if code != sys::AAC_DECODER_ERROR_AAC_DEC_OK {
            return Err(format!(
                "cannot turn the PCM limiter off (fdk-aac code {code:#x})"
            ));
        }
        Ok(decoder)
    }

    /// Decodes one access unit; returns the stream's parameters and its interleaved samples
    /// (all channels).
    pub(crate) fn decode(&mut self, au: &[u8]) -> Result<(StreamInfo, &[i16]), String> {
        self.fill(au)?;
        self.decode_frame(0)
    }

    /// The audio still held in the decoder's filter banks after the last access unit (one call
    /// gives at most one frame).
    pub(crate) fn flush(&mut self) -> Result<(StreamInfo, &[i16]), String> {
        // AACDEC_FLUSH (aacdecoder_lib.h): output the delayed audio without new input.
        self.decode_frame(2)
    }

    fn fill(&mut self, au: &[u8]) -> Result<(), String> {
        let mut data = au.to_vec();
        let mut ptr = data.as_mut_ptr();
        let size = c_uint::try_from(data.len()).map_err(|_| "access unit too large")?;
        let mut valid = size;
        // SAFETY: valid handle; `ptr` points at `size` readable bytes that outlive the call;
        // `valid` is updated to the bytes not consumed.
        let code = unsafe { sys::aacDecoder_Fill(self.handle, &mut ptr, &size, &mut valid) };
        if code != sys::AAC_DECODER_ERROR_AAC_DEC_OK {
            return Err(format!(
                "the AAC decoder refuses input (fdk-aac code {code:#x})"
            ));
        }
        Ok(())
    }

    fn decode_frame(&mut self, flags: c_uint) -> Result<(StreamInfo, &[i16]), String> {
        let capacity = i32::try_from(self.pcm.len()).map_err(|_| "PCM buffer too large")?;
        // SAFETY: valid handle; `pcm` has `capacity` writable samples and the decoder writes at
        // most that many.
        let code = unsafe {
            sys::aacDecoder_DecodeFrame(self.handle, self.pcm.as_mut_ptr(), capacity, flags)
        };
        if code != sys::AAC_DECODER_ERROR_AAC_DEC_OK {
            return Err(format!(
                "cannot decode an access unit (fdk-aac code {code:#x})"
            ));
        }
        let info = self.info()?;
        let n = info.channels.saturating_mul(info.frame_size);
        let pcm = self
            .pcm
            .get(..n)
            .ok_or_else(|| format!("the decoder reports {n} samples, more than its buffer"))?;
        Ok((info, pcm))
    }

    /// The stream as decoded so far (valid after the first frame).
    pub(crate) fn info(&self) -> Result<StreamInfo, String> {
        // SAFETY: valid handle; the library returns a pointer to its own struct, valid until the
        // handle is closed, or null.
        let info = unsafe { sys::aacDecoder_GetStreamInfo(self.handle) };
        // SAFETY: checked non-null; read by value immediately.
        let info = unsafe { info.as_ref() }.ok_or("the decoder gives no stream information")?;
        let pos = |v: i32, what: &str| {
            usize::try_from(v)
                .ok()
                .filter(|&v| v > 0)
                .ok_or_else(|| format!("the decoder reports {what} {v}"))
        };
        Ok(StreamInfo {
            sample_rate: u32::try_from(pos(info.sampleRate, "sample rate")?)
                .map_err(|_| "sample rate out of range")?,
            channels: pos(info.numChannels, "channel count")?,
            frame_size: pos(info.frameSize, "frame size")?,
            output_delay: usize::try_from(info.outputDelay).unwrap_or(0),
        })
    }
}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful aacDecoder_Open and is closed only here.
        unsafe { sys::aacDecoder_Close(self.handle) }
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
