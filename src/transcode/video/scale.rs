//! Scaling a picture to the output size with `fast_image_resize` (SIMD convolution), plane by
//! plane: luma at full size, each chroma plane at half size, so no colour conversion happens.

use fast_image_resize::images::{CroppedImageMut, Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use super::frame::{chroma_size, Frame};
use super::TranscodeError;

/// How a picture of another aspect ratio is fitted into the output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fit {
    /// The whole picture, scaled to fit inside, with black bars (letterbox or pillarbox).
    #[default]
    Fit,
    /// Scaled to cover the output, the overflow cropped equally on both sides.
    Fill,
    /// Scaled to the output size, ignoring the aspect ratio.
    Stretch,
}

/// Where a source picture lands in the output: which part of the source (`crop`, in source
/// luma samples) is scaled into which rectangle of the output (`dest`, even luma coordinates).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    /// Source rectangle `(left, top, width, height)`.
    pub crop: (f64, f64, f64, f64),
    /// Output rectangle `(left, top, width, height)`, all even.
    pub dest: (u32, u32, u32, u32),
}

/// The placement of a `sw x sh` picture in a `tw x th` output (`tw`, `th` even, non-zero).
pub fn placement(sw: u32, sh: u32, tw: u32, th: u32, fit: Fit) -> Placement {
    let full = (0.0, 0.0, f64::from(sw), f64::from(sh));
    let (sw64, sh64, tw64, th64) = (u64::from(sw), u64::from(sh), u64::from(tw), u64::from(th));
    // The source is relatively wider than the output when sw/sh > tw/th.
    let wider = sw64 * th64 > sh64 * tw64;
    match fit {
        Fit::Stretch => Placement {
            crop: full,
            dest: (0, 0, tw, th),
        },
        Fit::Fit => {
            // Inner size rounded to even (chroma stays aligned), at least 2.
            let even = |v: u64| (v.div_ceil(2) * 2).max(2) as u32;
            let (iw, ih) = if wider {
                (tw, even(sh64 * tw64 / sw64.max(1)).min(th))
            } else {
                (even(sw64 * th64 / sh64.max(1)).min(tw), th)
            };
            let left = (tw - iw) / 4 * 2;
            let top = (th - ih) / 4 * 2;
            Placement {
                crop: full,
                dest: (left, top, iw, ih),
            }
        }
        Fit::Fill => {
            let crop = if wider {
                let cw = f64::from(sh) * f64::from(tw) / f64::from(th);
                ((f64::from(sw) - cw) / 2.0, 0.0, cw, f64::from(sh))
            } else {
                let ch = f64::from(sw) * f64::from(th) / f64::from(tw);
                (0.0, (f64::from(sh) - ch) / 2.0, f64::from(sw), ch)
            };
            Placement {
                crop,
                dest: (0, 0, tw, th),
            }
        }
    }
}

/// Scales pictures to one output size; holds the resizer's buffers between frames.
pub struct Scaler {
    resizer: Resizer,
    width: u32,
    height: u32,
    fit: Fit,
    options: ResizeOptions,
}

impl Scaler {
    /// A scaler to `width x height` (both even and non-zero).
    pub fn new(width: u32, height: u32, fit: Fit) -> Result<Scaler, TranscodeError> {
        if width == 0 || height == 0 || width % 2 != 0 || height % 2 != 0 {
            return Err(TranscodeError::Target {
                what: format!("output size {width}x{height} must be even and non-zero"),
            });
        }
        // Bilinear: the cheapest convolution that does not alias when shrinking (the kernel widens
        // with the scale factor), and the difference to Lanczos3 is lost in the re-encode anyway.
        let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Bilinear));
        Ok(Scaler {
            resizer: Resizer::new(),
            width,
            height,
            fit,
            options,
        })
    }

    /// The picture at the output size (moved through unchanged when it already has it).
    pub fn scale(&mut self, frame: Frame) -> Result<Frame, TranscodeError> {
        if frame.width == self.width && frame.height == self.height {
            return Ok(frame);
        }
        let p = placement(frame.width, frame.height, self.width, self.height, self.fit);
        let mut out = Frame::black(self.width, self.height);
        let (cw, ch) = chroma_size(frame.width, frame.height);
        let (tcw, tch) = chroma_size(self.width, self.height);
        let half = |r: (f64, f64, f64, f64)| (r.0 / 2.0, r.1 / 2.0, r.2 / 2.0, r.3 / 2.0);
        let (l, t, w, h) = p.dest;
        let chroma_dest = (l / 2, t / 2, w / 2, h / 2);
        let planes = [
            (
                &frame.y,
                &mut out.y,
                (frame.width, frame.height),
                (self.width, self.height),
                p.crop,
                p.dest,
            ),
            (
                &frame.u,
                &mut out.u,
                (cw, ch),
                (tcw, tch),
                half(p.crop),
                chroma_dest,
            ),
            (
                &frame.v,
                &mut out.v,
                (cw, ch),
                (tcw, tch),
                half(p.crop),
                chroma_dest,
            ),
        ];
        for (src, dst, (sw, sh), (dw, dh), crop, dest) in planes {
            resize_plane(
                &mut self.resizer,
                &self.options,
                src,
                (sw, sh),
                dst,
                (dw, dh),
                crop,
                dest,
            )?;
        }
        Ok(out)
    }
}

/// Scales the `crop` rectangle of one `sw x sh` plane into the `dest` rectangle of a `dw x dh`
/// plane.
#[allow(clippy::too_many_arguments)]
fn resize_plane(
    resizer: &mut Resizer,
    options: &ResizeOptions,
    src: &[u8],
    (sw, sh): (u32, u32),
    dst: &mut [u8],
    (dw, dh): (u32, u32),
    crop: (f64, f64, f64, f64),
    dest: (u32, u32, u32, u32),
) -> Result<(), TranscodeError> {
    let scale_error = |e: &dyn std::fmt::Display| TranscodeError::Scale {
        what: e.to_string(),
    };
    let src = ImageRef::new(sw, sh, src, PixelType::U8).map_err(|e| scale_error(&e))?;
    let mut dst = Image::from_slice_u8(dw, dh, dst, PixelType::U8).map_err(|e| scale_error(&e))?;
    let mut inner = CroppedImageMut::new(&mut dst, dest.0, dest.1, dest.2, dest.3)
        .map_err(|e| scale_error(&e))?;
    let options = options.crop(crop.0, crop.1, crop.2, crop.3);
    resizer
        .resize(&src, &mut inner, &options)
        .map_err(|e| scale_error(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A picture whose luma is 200 and chroma 60/190 everywhere.
    fn flat(w: u32, h: u32) -> Frame {
        let mut f = Frame::black(w, h);
        f.y.fill(200);
        f.u.fill(60);
        f.v.fill(190);
        f
    }

    #[test]
    fn fit_pillarboxes_a_portrait_picture_in_a_landscape_output() {
        // 240x320 into 320x240: scaled to 180x240, centred with bars of 70 columns.
        let p = placement(240, 320, 320, 240, Fit::Fit);
        assert_eq!(p.dest, (70, 0, 180, 240));
        let out = Scaler::new(320, 240, Fit::Fit)
            .unwrap()
            .scale(flat(240, 320))
            .unwrap();
        assert_eq!((out.width, out.height), (320, 240));
        for row in out.y.chunks_exact(320) {
            assert!(row[..70].iter().all(|&v| v == 16), "left bar black");
            assert!(row[70..250].iter().all(|&v| v == 200), "picture");
            assert!(row[250..].iter().all(|&v| v == 16), "right bar black");
        }
        for row in out.u.chunks_exact(160) {
            assert!(row[..35].iter().all(|&v| v == 128));
            assert!(row[35..125].iter().all(|&v| v == 60));
            assert!(row[125..].iter().all(|&v| v == 128));
        }
    }

    #[test]
    fn fit_letterboxes_a_wide_picture() {
        // 640x240 (8:3) into 320x240: 320x120 with bars of 60 rows.
        let p = placement(640, 240, 320, 240, Fit::Fit);
        assert_eq!(p.dest, (0, 60, 320, 120));
        let out = Scaler::new(320, 240, Fit::Fit)
            .unwrap()
            .scale(flat(640, 240))
            .unwrap();
        assert!(out.y[..60 * 320].iter().all(|&v| v == 16));
        assert!(out.y[60 * 320..180 * 320].iter().all(|&v| v == 200));
        assert!(out.y[180 * 320..].iter().all(|&v| v == 16));
    }

    #[test]
    fn fill_crops_the_middle_and_stretch_distorts() {
        // 240x320 filling 320x240: the middle 240x180 of the source.
        let p = placement(240, 320, 320, 240, Fit::Fill);
        assert_eq!(p.crop, (0.0, 70.0, 240.0, 180.0));
        assert_eq!(p.dest, (0, 0, 320, 240));
        // A source whose top and bottom 70 rows are dark: filling leaves none of them.
        let mut src = flat(240, 320);
        src.y[..70 * 240].fill(0);
        src.y[250 * 240..].fill(0);
        let out = Scaler::new(320, 240, Fit::Fill)
            .unwrap()
            .scale(src.clone())
            .unwrap();
        // The filter reaches one source row past the crop, so only the edge rows may blend.
        let inner = &out.y[2 * 320..238 * 320];
        assert!(inner.iter().all(|&v| v == 200), "only the middle shows");
        assert!(out.y.iter().all(|&v| v > 100), "no dark band");
        // Stretching keeps every source row, so the dark bands show.
        let out = Scaler::new(320, 240, Fit::Stretch)
            .unwrap()
            .scale(src)
            .unwrap();
        assert_eq!(out.y[0], 0);
        assert_eq!(out.y[120 * 320], 200);
    }

    #[test]
    fn a_gradient_scales_monotonically() {
        let mut src = Frame::black(64, 16);
        for (i, v) in src.y.iter_mut().enumerate() {
            *v = (i % 64 * 4) as u8;
        }
        let out = Scaler::new(32, 8, Fit::Stretch)
            .unwrap()
            .scale(src)
            .unwrap();
        let row = &out.y[..32];
        assert!(row.windows(2).all(|w| w[0] < w[1]), "{row:?}");
    }

    #[test]
    fn odd_or_zero_output_sizes_are_refused() {
        assert!(Scaler::new(321, 240, Fit::Fit).is_err());
        assert!(Scaler::new(0, 240, Fit::Fit).is_err());
    }
}
