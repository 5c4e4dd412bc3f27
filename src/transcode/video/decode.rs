//! H.264 decoding with OpenH264 (Cisco's decoder, built from source by `openh264-sys2`).
//!
//! The raw API is used rather than the `openh264` crate's wrapper because the pictures come out in
//! presentation order (OpenH264 reorders B-frames itself) and only the input timestamp it carries
//! through (`uiInBsTimeStamp` -> `uiOutYuvTimeStamp`) says which sample each picture is; the
//! wrapper does not set it.

use std::ptr::null_mut;

use openh264_sys2::{
    dsErrorFree, source::APILoader, ISVCDecoder, SBufferInfo, SDecodingParam, API,
    DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER, DECODER_OPTION_TRACE_LEVEL,
    ERROR_CON_DISABLE, VIDEO_BITSTREAM_AVC, WELS_LOG_QUIET,
};

use crate::codec::h264::{avcc_nal_units, AvcDecoderConfig};

use super::frame::{chroma_size, Frame};
use super::TranscodeError;

/// Most pictures a decoder may still hold at the end of a stream (the DPB's 16 plus slack);
/// bounds the flush loop.
const MAX_BUFFERED: usize = 32;

/// An OpenH264 decoder fed with MP4 samples (length-prefixed NAL units).
pub struct Decoder {
    api: APILoader,
    ptr: *mut ISVCDecoder,
    length_size: u8,
    /// The current access unit in Annex B form (OpenH264 reads start codes).
    annexb: Vec<u8>,
}

// The decoder is used by one thread at a time; OpenH264 keeps no thread-local state.
unsafe impl Send for Decoder {}

impl Drop for Decoder {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from WelsCreateDecoder and was initialized in `new`.
        unsafe {
            if let Some(uninit) = (**self.ptr).Uninitialize {
                uninit(self.ptr);
            }
            self.api.WelsDestroyDecoder(self.ptr);
        }
    }
}

impl Decoder {
    /// A decoder primed with the SPS and PPS of `config`.
    pub fn new(config: &AvcDecoderConfig) -> Result<Decoder, TranscodeError> {
        let api = APILoader::new();
        let mut ptr: *mut ISVCDecoder = null_mut();
        // SAFETY: plain FFI constructor; the result is checked before use.
        let rc = unsafe { api.WelsCreateDecoder(&mut ptr) };
        if rc != 0 || ptr.is_null() {
            return Err(TranscodeError::Codec {
                what: format!("WelsCreateDecoder failed ({rc})"),
            });
        }
        let mut decoder = Decoder {
            api,
            ptr,
            length_size: config.length_size,
            annexb: Vec::new(),
        };
        let mut param = SDecodingParam {
            // Errors must surface as errors: concealment would hand out damaged pictures.
            eEcActiveIdc: ERROR_CON_DISABLE,
            uiTargetDqLayer: u8::MAX,
            ..Default::default()
        };
        param.sVideoProperty.eVideoBsType = VIDEO_BITSTREAM_AVC;
        param.sVideoProperty.size = std::mem::size_of_val(&param.sVideoProperty) as u32;
        // SAFETY: the vtable of a created decoder; `param` outlives the call.
        unsafe {
            let vt = &**decoder.ptr;
            let rc = vt.Initialize.map_or(-1, |f| f(decoder.ptr, &param));
            if rc != 0 {
                return Err(TranscodeError::Codec {
                    what: format!("decoder Initialize failed ({rc})"),
                });
            }
            let mut quiet = WELS_LOG_QUIET;
            if let Some(f) = vt.SetOption {
                f(
                    decoder.ptr,
                    DECODER_OPTION_TRACE_LEVEL,
                    (&mut quiet as *mut i32).cast(),
                );
            }
        }
        let mut headers = Vec::new();
        for unit in config.sps.iter().chain(config.pps.iter()) {
            headers.extend_from_slice(&[0, 0, 0, 1]);
            headers.extend_from_slice(unit);
        }
        if !headers.is_empty() {
            decoder.decode_annexb(&headers, u64::MAX, &mut |_, _| Ok(()), None)?;
        }
        Ok(decoder)
    }

    /// Decodes one sample (an access unit of length-prefixed NAL units) tagged `tag`, and hands
    /// each picture that becomes ready to `out` with the tag of the sample it came from.
    pub fn decode(
        &mut self,
        sample: &[u8],
        tag: u64,
        out: &mut dyn FnMut(Frame, u64) -> Result<(), TranscodeError>,
    ) -> Result<(), TranscodeError> {
        let mut annexb = std::mem::take(&mut self.annexb);
        annexb.clear();
        for unit in avcc_nal_units(sample, self.length_size) {
            let unit = unit.map_err(|e| TranscodeError::Sample {
                sample: tag,
                what: e.to_string(),
            })?;
            if unit.is_empty() {
                continue;
            }
            annexb.extend_from_slice(&[0, 0, 0, 1]);
            annexb.extend_from_slice(unit);
        }
        let result = self.decode_annexb(&annexb, tag, out, Some(tag));
        self.annexb = annexb;
        result
    }

    /// Hands out every picture still held for reordering.
    pub fn flush(
        &mut self,
        out: &mut dyn FnMut(Frame, u64) -> Result<(), TranscodeError>,
    ) -> Result<(), TranscodeError> {
        for _ in 0..MAX_BUFFERED {
            let mut remaining: i32 = 0;
            let mut info = SBufferInfo::default();
            let mut dst = [null_mut::<u8>(); 3];
            // SAFETY: initialized decoder; the out-pointers live for the calls.
            let rc = unsafe {
                let vt = &**self.ptr;
                if let Some(f) = vt.GetOption {
                    f(
                        self.ptr,
                        DECODER_OPTION_NUM_OF_FRAMES_REMAINING_IN_BUFFER,
                        (&mut remaining as *mut i32).cast(),
                    );
                }
                if remaining <= 0 {
                    return Ok(());
                }
                vt.FlushFrame
                    .map_or(-1, |f| f(self.ptr, dst.as_mut_ptr(), &mut info))
            };
            if rc != dsErrorFree {
                return Err(TranscodeError::Decode {
                    sample: None,
                    state: rc,
                });
            }
            if info.iBufferStatus != 1 {
                return Ok(());
            }
            let frame = copy_picture(&info)?;
            out(frame, info.uiOutYuvTimeStamp)?;
        }
        Ok(())
    }

    fn decode_annexb(
        &mut self,
        data: &[u8],
        tag: u64,
        out: &mut dyn FnMut(Frame, u64) -> Result<(), TranscodeError>,
        sample: Option<u64>,
    ) -> Result<(), TranscodeError> {
        let len = i32::try_from(data.len()).map_err(|_| TranscodeError::Sample {
            sample: tag,
            what: format!("access unit of {} bytes is too large", data.len()),
        })?;
        let mut info = SBufferInfo {
            uiInBsTimeStamp: tag,
            ..Default::default()
        };
        let mut dst = [null_mut::<u8>(); 3];
        // SAFETY: `data` outlives the call; OpenH264 only reads it.
        let rc = unsafe {
            let vt = &**self.ptr;
            vt.DecodeFrameNoDelay.map_or(-1, |f| {
                f(self.ptr, data.as_ptr(), len, dst.as_mut_ptr(), &mut info)
            })
        };
        if rc != dsErrorFree {
            return Err(TranscodeError::Decode { sample, state: rc });
        }
        if info.iBufferStatus == 1 {
            let frame = copy_picture(&info)?;
            out(frame, info.uiOutYuvTimeStamp)?;
        }
        Ok(())
    }
}

/// Copies the picture OpenH264 points at (cropped, with its strides) into a [`Frame`].
fn copy_picture(info: &SBufferInfo) -> Result<Frame, TranscodeError> {
    // SAFETY: iBufferStatus == 1, so the union holds the system buffer description.
    let sys = unsafe { info.UsrData.sSystemBuffer };
    let bad = || TranscodeError::Codec {
        what: format!(
            "decoder returned a picture of {}x{} with strides {:?}",
            sys.iWidth, sys.iHeight, sys.iStride
        ),
    };
    let width = u32::try_from(sys.iWidth).map_err(|_| bad())?;
    let height = u32::try_from(sys.iHeight).map_err(|_| bad())?;
    let ys = usize::try_from(sys.iStride[0]).map_err(|_| bad())?;
    let cs = usize::try_from(sys.iStride[1]).map_err(|_| bad())?;
    let (cw, ch) = chroma_size(width, height);
    if width == 0 || height == 0 || ys < width as usize || cs < cw as usize {
        return Err(bad());
    }
    if info.pDst.iter().any(|p| p.is_null()) {
        return Err(bad());
    }
    let plane = |ptr: *mut u8, stride: usize, w: u32, h: u32| -> Vec<u8> {
        let (w, h) = (w as usize, h as usize);
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            // SAFETY: OpenH264 guarantees `h` rows of `stride` bytes at `ptr`, each with at least
            // `w` valid samples (checked against the stride above).
            let line = unsafe { std::slice::from_raw_parts(ptr.add(row * stride), w) };
            out.extend_from_slice(line);
        }
        out
    };
    Ok(Frame {
        width,
        height,
        y: plane(info.pDst[0], ys, width, height),
        u: plane(info.pDst[1], cs, cw, ch),
        v: plane(info.pDst[2], cs, cw, ch),
    })
}
