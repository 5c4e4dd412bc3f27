//! A small builder for ISO BMFF boxes: nested boxes whose 32-bit sizes are patched when closed.

/// Appends boxes to a byte vector.
#[derive(Default)]
pub(crate) struct BoxWriter {
    pub buf: Vec<u8>,
    open: Vec<usize>,
}

impl BoxWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// A writer whose buffer holds `n` bytes before it grows.
    pub fn with_capacity(n: usize) -> Self {
        BoxWriter {
            buf: Vec::with_capacity(n),
            open: Vec::new(),
        }
    }

    /// Opens a box; its size is written by [`BoxWriter::end`].
    pub fn start(&mut self, kind: &[u8; 4]) {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&[0, 0, 0, 0]);
        self.buf.extend_from_slice(kind);
    }

    /// Opens a full box (§4.2) with version and flags.
    pub fn start_full(&mut self, kind: &[u8; 4], version: u8, flags: u32) {
        self.start(kind);
        self.u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
    }

    /// Closes the innermost open box.
    pub fn end(&mut self) {
        let Some(at) = self.open.pop() else {
            debug_assert!(false, "end() without start()");
            return;
        };
        // Header boxes are far below 4 GiB: moov is bounded by the sample count limit.
        let size = (self.buf.len() - at) as u32;
        self.buf[at..at + 4].copy_from_slice(&size.to_be_bytes());
    }

    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }

    pub fn i16(&mut self, v: i16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_be_bytes());
    }

    pub fn zeros(&mut self, n: usize) {
        self.buf.resize(self.buf.len() + n, 0);
    }

    pub fn into_inner(self) -> Vec<u8> {
        debug_assert!(self.open.is_empty());
        self.buf
    }
}

/// The identity transformation matrix (§8.2.2).
pub(crate) const IDENTITY: [i32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_sizes() {
        let mut w = BoxWriter::new();
        w.start(b"moov");
        w.start_full(b"mvhd", 0, 0);
        w.u32(7);
        w.end();
        w.end();
        let b = w.into_inner();
        assert_eq!(&b[0..4], &24u32.to_be_bytes());
        assert_eq!(&b[8..12], &16u32.to_be_bytes());
    }
}
