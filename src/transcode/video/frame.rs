//! Decoded pictures (8-bit YUV 4:2:0, planes without padding) and their display rotation.

use super::TranscodeError;

/// One picture in planar YUV 4:2:0: `y` is `width * height` bytes, `u` and `v` are
/// `chroma_width() * chroma_height()` bytes each, rows packed without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Luma width in samples.
    pub width: u32,
    /// Luma height in samples.
    pub height: u32,
    /// Luma plane.
    pub y: Vec<u8>,
    /// Cb plane.
    pub u: Vec<u8>,
    /// Cr plane.
    pub v: Vec<u8>,
}

impl Frame {
    /// A black picture (limited range: Y 16, Cb/Cr 128), which is what the borders of a
    /// letterboxed picture show.
    pub fn black(width: u32, height: u32) -> Frame {
        let (cw, ch) = chroma_size(width, height);
        Frame {
            width,
            height,
            y: vec![16; width as usize * height as usize],
            u: vec![128; cw as usize * ch as usize],
            v: vec![128; cw as usize * ch as usize],
        }
    }

    /// Chroma plane width (rounded up, as H.264 codes odd sizes).
    pub fn chroma_width(&self) -> u32 {
        chroma_size(self.width, self.height).0
    }

    /// Chroma plane height.
    pub fn chroma_height(&self) -> u32 {
        chroma_size(self.width, self.height).1
    }

    /// The three planes back to back (what ffmpeg hashes for `-f framemd5 -pix_fmt yuv420p`).
    pub fn packed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.y.len() + self.u.len() + self.v.len());
        out.extend_from_slice(&self.y);
        out.extend_from_slice(&self.u);
        out.extend_from_slice(&self.v);
        out
    }
}

/// Chroma plane size of a 4:2:0 picture.
pub fn chroma_size(width: u32, height: u32) -> (u32, u32) {
    (width.div_ceil(2), height.div_ceil(2))
}

/// How a picture is turned for display, clockwise, from a track header matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rotation {
    /// Shown as coded.
    #[default]
    None,
    /// Turned 90° clockwise (the matrix `{0,1,-1,0}` a phone writes for portrait; ffprobe says
    /// `rotation=-90`, seam's messages `270°`).
    Cw90,
    /// Turned 180°.
    Half,
    /// Turned 90° counterclockwise (`{0,-1,1,0}`; ffprobe `rotation=90`).
    Ccw90,
}

impl Rotation {
    /// The rotation a `tkhd` matrix (16.16 fixed point `a b u c d v x y w`) asks for; an error
    /// for anything but a pure rotation by a multiple of 90° (mirroring, scaling, shearing).
    pub fn from_matrix(matrix: &[i32; 9]) -> Result<Rotation, TranscodeError> {
        const ONE: i32 = 0x10000;
        // x' = a*x + c*y + tx, y' = b*x + d*y + ty (ISO/IEC 14496-12 §6.2.2, y pointing down):
        // {0,1,-1,0} sends the top edge to the right edge, a clockwise quarter turn.
        match (matrix[0], matrix[1], matrix[3], matrix[4]) {
            (ONE, 0, 0, ONE) => Ok(Rotation::None),
            (0, ONE, c, 0) if c == -ONE => Ok(Rotation::Cw90),
            (a, 0, 0, d) if a == -ONE && d == -ONE => Ok(Rotation::Half),
            (0, b, ONE, 0) if b == -ONE => Ok(Rotation::Ccw90),
            _ => Err(TranscodeError::Unsupported {
                what: format!("display matrix {matrix:?} is not a rotation by a multiple of 90°"),
            }),
        }
    }

    /// True for quarter turns, which swap width and height.
    pub fn swaps_axes(self) -> bool {
        matches!(self, Rotation::Cw90 | Rotation::Ccw90)
    }

    /// The picture turned for display (the same frame, moved, for [`Rotation::None`]).
    pub fn apply(self, frame: Frame) -> Frame {
        if self == Rotation::None {
            return frame;
        }
        let (w, h) = (frame.width, frame.height);
        let (cw, ch) = chroma_size(w, h);
        let (out_w, out_h) = if self.swaps_axes() { (h, w) } else { (w, h) };
        Frame {
            width: out_w,
            height: out_h,
            y: rotate_plane(&frame.y, w as usize, h as usize, self),
            u: rotate_plane(&frame.u, cw as usize, ch as usize, self),
            v: rotate_plane(&frame.v, cw as usize, ch as usize, self),
        }
    }
}

/// One plane of `w x h` samples turned as `r` says.
fn rotate_plane(src: &[u8], w: usize, h: usize, r: Rotation) -> Vec<u8> {
    let mut out = vec![0u8; w * h];
    match r {
        Rotation::None => out.copy_from_slice(&src[..w * h]),
        Rotation::Half => {
            for (d, s) in out.iter_mut().zip(src[..w * h].iter().rev()) {
                *d = *s;
            }
        }
        // Output is h wide and w tall. Clockwise: output (x', y') shows source (y', h-1-x').
        Rotation::Cw90 => {
            for (yo, row) in out.chunks_exact_mut(h).enumerate() {
                for (xo, d) in row.iter_mut().enumerate() {
                    *d = src[(h - 1 - xo) * w + yo];
                }
            }
        }
        // Counterclockwise: output (x', y') shows source (w-1-y', x').
        Rotation::Ccw90 => {
            for (yo, row) in out.chunks_exact_mut(h).enumerate() {
                for (xo, d) in row.iter_mut().enumerate() {
                    *d = src[xo * w + (w - 1 - yo)];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4x2 picture whose luma samples are 0..8 in raster order.
    fn numbered() -> Frame {
        let mut f = Frame::black(4, 2);
        f.y = (0..8).collect();
        f.u = vec![1, 2];
        f.v = vec![3, 4];
        f
    }

    #[test]
    fn matrices_map_to_rotations() {
        const O: i32 = 0x10000;
        let m = |a, b, c, d| [a, b, 0, c, d, 0, 0, 0, 0x4000_0000];
        assert_eq!(
            Rotation::from_matrix(&m(O, 0, 0, O)).unwrap(),
            Rotation::None
        );
        assert_eq!(
            Rotation::from_matrix(&m(0, O, -O, 0)).unwrap(),
            Rotation::Cw90
        );
        assert_eq!(
            Rotation::from_matrix(&m(-O, 0, 0, -O)).unwrap(),
            Rotation::Half
        );
        assert_eq!(
            Rotation::from_matrix(&m(0, -O, O, 0)).unwrap(),
            Rotation::Ccw90
        );
        // Mirroring is no rotation.
        assert!(Rotation::from_matrix(&m(-O, 0, 0, O)).is_err());
    }

    #[test]
    fn clockwise_quarter_turn_moves_the_top_row_to_the_right_column() {
        // 0 1 2 3        4 0
        // 4 5 6 7   ->   5 1
        //                6 2
        //                7 3
        let r = Rotation::Cw90.apply(numbered());
        assert_eq!((r.width, r.height), (2, 4));
        assert_eq!(r.y, vec![4, 0, 5, 1, 6, 2, 7, 3]);
        assert_eq!(r.u, vec![1, 2]); // 2x1 chroma becomes 1x2
    }

    #[test]
    fn counterclockwise_quarter_turn_moves_the_top_row_to_the_left_column() {
        // 0 1 2 3        3 7
        // 4 5 6 7   ->   2 6
        //                1 5
        //                0 4
        let r = Rotation::Ccw90.apply(numbered());
        assert_eq!((r.width, r.height), (2, 4));
        assert_eq!(r.y, vec![3, 7, 2, 6, 1, 5, 0, 4]);
        assert_eq!(r.u, vec![2, 1]);
    }

    #[test]
    fn half_turn_reverses_and_four_quarter_turns_are_identity() {
        let r = Rotation::Half.apply(numbered());
        assert_eq!(r.y, vec![7, 6, 5, 4, 3, 2, 1, 0]);
        let mut f = numbered();
        for _ in 0..4 {
            f = Rotation::Cw90.apply(f);
        }
        assert_eq!(f, numbered());
        let back = Rotation::Ccw90.apply(Rotation::Cw90.apply(numbered()));
        assert_eq!(back, numbered());
    }
}
