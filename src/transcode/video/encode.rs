//! H.264 encoding with OpenH264: one encoder per GOP group, so every group starts with an IDR and
//! groups encode independently (and so in parallel, with the same bytes for any thread count).

use std::ptr::null_mut;

use openh264_sys2::{
    source::APILoader, videoFormatI420, videoFrameTypeIDR, videoFrameTypeSkip, ISVCEncoder,
    SEncParamExt, SFrameBSInfo, SSourcePicture, API, CAMERA_VIDEO_REAL_TIME, CONSTANT_ID,
    ENCODER_OPTION_TRACE_LEVEL, RC_BITRATE_MODE, SM_SINGLE_SLICE, WELS_LOG_QUIET,
};

use super::frame::Frame;
use super::TranscodeError;

/// Encoder settings shared by every group of one re-encode.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EncoderSettings {
    /// Picture width (even).
    pub width: u32,
    /// Picture height (even).
    pub height: u32,
    /// Target bitrate in bits per second.
    pub bitrate: u32,
    /// Frame rate the rate control budgets for (frames per second).
    pub fps: f32,
    /// Frames from one IDR to the next inside a group (0: only the group's first frame).
    pub gop: u32,
}

/// One coded picture: length-prefixed (4-byte) NAL units without parameter sets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coded {
    /// The sample payload.
    pub data: Vec<u8>,
    /// True for an IDR picture.
    pub idr: bool,
}

/// An OpenH264 encoder producing MP4 samples.
pub struct Encoder {
    api: APILoader,
    ptr: *mut ISVCEncoder,
    settings: EncoderSettings,
    frames: u64,
    info: Box<SFrameBSInfo>,
    /// SPS and PPS NAL units the encoder wrote (with their first IDR).
    pub sps: Option<Vec<u8>>,
    /// See `sps`.
    pub pps: Option<Vec<u8>>,
}

// One thread at a time uses an encoder; with iMultipleThreadIdc = 1 OpenH264 starts no threads.
unsafe impl Send for Encoder {}

impl Drop for Encoder {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from WelsCreateSVCEncoder and was initialized in `new`.
        unsafe {
            if let Some(f) = (**self.ptr).Uninitialize {
                f(self.ptr);
            }
            self.api.WelsDestroySVCEncoder(self.ptr);
        }
    }
}

impl Encoder {
    /// A fresh encoder; its first picture is an IDR.
    pub fn new(settings: EncoderSettings) -> Result<Encoder, TranscodeError> {
        let codec = |what: String| TranscodeError::Codec { what };
        let api = APILoader::new();
        let mut ptr: *mut ISVCEncoder = null_mut();
        // SAFETY: plain FFI constructor; the result is checked before use.
        let rc = unsafe { api.WelsCreateSVCEncoder(&mut ptr) };
        if rc != 0 || ptr.is_null() {
            return Err(codec(format!("WelsCreateSVCEncoder failed ({rc})")));
        }
        let encoder = Encoder {
            api,
            ptr,
            settings,
            frames: 0,
            info: Box::default(),
            sps: None,
            pps: None,
        };
        let to_int = |v: u32, what: &str| {
            i32::try_from(v).map_err(|_| TranscodeError::Target {
                what: format!("{what} {v} is out of range"),
            })
        };
        let (w, h) = (
            to_int(settings.width, "width")?,
            to_int(settings.height, "height")?,
        );
        let bitrate = to_int(settings.bitrate, "bitrate")?;
        let mut p = SEncParamExt::default();
        // SAFETY: initialized vtable; `p` outlives the calls.
        unsafe {
            let vt = &**encoder.ptr;
            // Quiet before InitializeExt, which otherwise prints warnings on stderr.
            let mut quiet = WELS_LOG_QUIET;
            if let Some(f) = vt.SetOption {
                f(
                    encoder.ptr,
                    ENCODER_OPTION_TRACE_LEVEL,
                    (&mut quiet as *mut i32).cast(),
                );
            }
            let rc = vt.GetDefaultParams.map_or(-1, |f| f(encoder.ptr, &mut p));
            if rc != 0 {
                return Err(codec(format!("GetDefaultParams failed ({rc})")));
            }
        }
        p.iUsageType = CAMERA_VIDEO_REAL_TIME;
        p.iPicWidth = w;
        p.iPicHeight = h;
        p.iTargetBitrate = bitrate;
        p.iMaxBitrate = 0; // UNSPECIFIED_BIT_RATE
        p.iRCMode = RC_BITRATE_MODE;
        p.fMaxFrameRate = settings.fps;
        // A skipped frame would lose a picture: the output must have exactly the input's frames.
        p.bEnableFrameSkip = false;
        // One thread and one slice per picture: the bytes must not depend on scheduling.
        p.iMultipleThreadIdc = 1;
        p.eSpsPpsIdStrategy = CONSTANT_ID;
        p.uiIntraPeriod = settings.gop;
        // CABAC (Main profile): about a tenth smaller than CAVLC at the same quality.
        p.iEntropyCodingModeFlag = 1;
        p.iSpatialLayerNum = 1;
        p.iTemporalLayerNum = 1;
        let layer = &mut p.sSpatialLayers[0];
        layer.iVideoWidth = w;
        layer.iVideoHeight = h;
        layer.fFrameRate = settings.fps;
        layer.iSpatialBitrate = bitrate;
        layer.iMaxSpatialBitrate = 0;
        layer.uiProfileIdc = openh264_sys2::PRO_MAIN;
        layer.sSliceArgument.uiSliceMode = SM_SINGLE_SLICE;
        layer.sSliceArgument.uiSliceNum = 1;
        // SAFETY: as above.
        unsafe {
            let vt = &**encoder.ptr;
            let rc = vt.InitializeExt.map_or(-1, |f| f(encoder.ptr, &p));
            if rc != 0 {
                return Err(codec(format!(
                    "encoder InitializeExt failed ({rc}) for {}x{} at {} bit/s",
                    settings.width, settings.height, settings.bitrate
                )));
            }
        }
        Ok(encoder)
    }

    /// Encodes one picture (at the encoder's size) shown at `ms` milliseconds.
    pub fn encode(&mut self, frame: &Frame, ms: i64) -> Result<Coded, TranscodeError> {
        let s = self.settings;
        if frame.width != s.width || frame.height != s.height {
            return Err(TranscodeError::Codec {
                what: format!(
                    "picture of {}x{} given to an encoder of {}x{}",
                    frame.width, frame.height, s.width, s.height
                ),
            });
        }
        if s.gop > 0 && self.frames > 0 && self.frames % u64::from(s.gop) == 0 {
            // uiIntraPeriod alone may drift after rate-control decisions; force the cadence.
            // SAFETY: initialized encoder.
            unsafe {
                if let Some(f) = (**self.ptr).ForceIntraFrame {
                    f(self.ptr, true);
                }
            }
        }
        let (cw, _) = (frame.chroma_width(), frame.chroma_height());
        let pic = SSourcePicture {
            iColorFormat: videoFormatI420,
            iStride: [frame.width as i32, cw as i32, cw as i32, 0],
            // OpenH264 only reads the source planes.
            pData: [
                frame.y.as_ptr().cast_mut(),
                frame.u.as_ptr().cast_mut(),
                frame.v.as_ptr().cast_mut(),
                null_mut(),
            ],
            iPicWidth: frame.width as i32,
            iPicHeight: frame.height as i32,
            uiTimeStamp: ms,
            ..Default::default()
        };
        *self.info = SFrameBSInfo::default();
        // SAFETY: the planes hold width*height and chroma-size bytes as the strides say.
        let rc = unsafe {
            let vt = &**self.ptr;
            vt.EncodeFrame
                .map_or(-1, |f| f(self.ptr, &pic, &mut *self.info))
        };
        if rc != 0 {
            return Err(TranscodeError::Codec {
                what: format!("EncodeFrame failed ({rc}) at frame {}", self.frames),
            });
        }
        if self.info.eFrameType == videoFrameTypeSkip {
            return Err(TranscodeError::Codec {
                what: format!("encoder skipped frame {}", self.frames),
            });
        }
        self.frames += 1;
        let idr = self.info.eFrameType == videoFrameTypeIDR;
        let mut data =
            Vec::with_capacity(usize::try_from(self.info.iFrameSizeInBytes).unwrap_or(0));
        let layers = usize::try_from(self.info.iLayerNum)
            .unwrap_or(0)
            .min(self.info.sLayerInfo.len());
        for layer in &self.info.sLayerInfo[..layers] {
            let count = usize::try_from(layer.iNalCount).unwrap_or(0);
            let mut offset = 0usize;
            for i in 0..count {
                // SAFETY: OpenH264 gives iNalCount lengths and a buffer holding their sum.
                let nal = unsafe {
                    let len = usize::try_from(*layer.pNalLengthInByte.add(i)).unwrap_or(0);
                    let nal = std::slice::from_raw_parts(layer.pBsBuf.add(offset), len);
                    offset += len;
                    nal
                };
                let unit = strip_start_code(nal);
                match unit.first().map(|b| b & 0x1f) {
                    None => {}
                    Some(7) => self.sps = Some(unit.to_vec()),
                    Some(8) => self.pps = Some(unit.to_vec()),
                    Some(_) => {
                        let len = u32::try_from(unit.len()).map_err(|_| TranscodeError::Codec {
                            what: "NAL unit larger than 4 GiB".into(),
                        })?;
                        data.extend_from_slice(&len.to_be_bytes());
                        data.extend_from_slice(unit);
                    }
                }
            }
        }
        Ok(Coded { data, idr })
    }
}

/// A NAL unit without its Annex B start code (OpenH264 writes `00 00 00 01` before each).
fn strip_start_code(nal: &[u8]) -> &[u8] {
    let zeros = nal.iter().take_while(|&&b| b == 0).count();
    match nal.get(zeros) {
        Some(1) if zeros >= 2 => &nal[zeros + 1..],
        _ => nal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_codes_are_stripped() {
        assert_eq!(strip_start_code(&[0, 0, 0, 1, 0x65, 9]), &[0x65, 9]);
        assert_eq!(strip_start_code(&[0, 0, 1, 0x67]), &[0x67]);
        assert_eq!(strip_start_code(&[0x41, 1]), &[0x41, 1]);
    }

    #[test]
    fn groups_start_with_an_idr_and_follow_the_keyframe_interval() {
        let settings = EncoderSettings {
            width: 64,
            height: 48,
            bitrate: 200_000,
            fps: 25.0,
            gop: 4,
        };
        let mut enc = Encoder::new(settings).unwrap();
        let mut kinds = Vec::new();
        for i in 0..9u8 {
            let mut f = Frame::black(64, 48);
            f.y.iter_mut()
                .enumerate()
                .for_each(|(k, v)| *v = (k as u8).wrapping_add(i * 3));
            let coded = enc.encode(&f, i64::from(i) * 40).unwrap();
            assert!(!coded.data.is_empty());
            kinds.push(coded.idr);
        }
        assert_eq!(
            kinds,
            [true, false, false, false, true, false, false, false, true]
        );
        assert_eq!(enc.sps.as_ref().map(|s| s[0] & 0x1f), Some(7));
        assert_eq!(enc.pps.as_ref().map(|s| s[0] & 0x1f), Some(8));
    }
}
