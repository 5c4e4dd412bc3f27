//! Bounded readers over ISO BMFF boxes (ISO/IEC 14496-12 §4.2) held in memory.
//!
//! Every read is checked against what remains of the enclosing box and every error carries the file,
//! the box path and the absolute byte offset.

use bytes::Bytes;

use crate::error::{DemuxError, Location};
use crate::model::FourCC;

/// File name and box path, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<'a> {
    pub file: &'a str,
    pub path: String,
}

impl<'a> Ctx<'a> {
    pub fn new(file: &'a str, path: impl Into<String>) -> Self {
        Ctx {
            file,
            path: path.into(),
        }
    }

    /// The context of a child box: `path/name`.
    pub fn child(&self, name: impl std::fmt::Display) -> Ctx<'a> {
        let path = if self.path.is_empty() {
            name.to_string()
        } else {
            format!("{}/{}", self.path, name)
        };
        Ctx {
            file: self.file,
            path,
        }
    }

    pub fn loc(&self, offset: u64) -> Location {
        Location {
            file: self.file.to_string(),
            path: self.path.clone(),
            offset,
        }
    }

    pub fn malformed(&self, offset: u64, rule: impl Into<String>) -> DemuxError {
        DemuxError::Malformed {
            loc: self.loc(offset),
            rule: rule.into(),
        }
    }

    pub fn unsupported(&self, offset: u64, what: impl Into<String>) -> DemuxError {
        DemuxError::Unsupported {
            loc: self.loc(offset),
            what: what.into(),
        }
    }

    pub fn limit(&self, offset: u64, what: impl Into<String>) -> DemuxError {
        DemuxError::LimitExceeded {
            loc: self.loc(offset),
            what: what.into(),
        }
    }
}

/// A box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    pub kind: FourCC,
    /// Absolute offset of the first byte of the box.
    pub offset: u64,
    /// Bytes of header: 8, 16 (64-bit size), plus 16 for `uuid`.
    pub header_len: u64,
    /// Total size including the header.
    pub size: u64,
}

impl BoxHeader {
    /// Parses a box header from the start of `data` (which holds at least the header bytes available
    /// in the parent). `remaining` is how many bytes the parent has from this box's start; a size of
    /// zero means "to the end of the parent".
    pub fn parse(data: &[u8], offset: u64, remaining: u64, ctx: &Ctx) -> Result<Self, DemuxError> {
        if remaining < 8 || data.len() < 8 {
            return Err(ctx.malformed(
                offset,
                format!("box header needs 8 bytes, {remaining} left"),
            ));
        }
        let size32 = u32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        let kind = FourCC([data[4], data[5], data[6], data[7]]);
        let mut header_len = 8u64;
        let size = match size32 {
            0 => remaining,
            1 => {
                if remaining < 16 || data.len() < 16 {
                    return Err(ctx.malformed(
                        offset,
                        format!("box '{kind}' has a 64-bit size but only {remaining} bytes left"),
                    ));
                }
                header_len = 16;
                let mut b = [0u8; 8];
                b.copy_from_slice(&data[8..16]);
                u64::from_be_bytes(b)
            }
            n => u64::from(n),
        };
        if kind == FourCC(*b"uuid") {
            header_len += 16;
        }
        if size < header_len {
            return Err(ctx.malformed(
                offset,
                format!("box '{kind}' size {size} is smaller than its {header_len}-byte header"),
            ));
        }
        if size > remaining {
            return Err(ctx.malformed(
                offset,
                format!("box '{kind}' size {size} but only {remaining} bytes left"),
            ));
        }
        Ok(BoxHeader {
            kind,
            offset,
            header_len,
            size,
        })
    }
}

/// A box whose bytes are in memory.
#[derive(Debug, Clone)]
pub(crate) struct MemBox {
    pub header: BoxHeader,
    /// The whole box, header included.
    pub raw: Bytes,
}

impl MemBox {
    /// The body (after the header).
    pub fn body(&self) -> Bytes {
        // header_len <= size == raw.len() is checked when the box is made.
        self.raw.slice(self.header.header_len as usize..)
    }

    /// Absolute offset of the body.
    pub fn body_offset(&self) -> u64 {
        self.header.offset + self.header.header_len
    }

    /// A field reader over the body.
    pub fn fields<'c>(&self, ctx: &'c Ctx<'c>) -> Fields<'c> {
        Fields::new(self.body(), self.body_offset(), ctx)
    }

    /// The child boxes of a container box, starting `skip` bytes into the body.
    pub fn children(&self, skip: usize) -> Children {
        let body = self.body();
        let skip = skip.min(body.len());
        Children {
            data: body.slice(skip..),
            base: self.body_offset() + skip as u64,
            pos: 0,
        }
    }
}

/// Iterator over the boxes packed in a byte range.
pub(crate) struct Children {
    data: Bytes,
    base: u64,
    pos: usize,
}

impl Children {
    /// The next box, `None` at the end. Trailing bytes shorter than a box header are an error.
    pub fn next_box(&mut self, ctx: &Ctx) -> Result<Option<MemBox>, DemuxError> {
        let rest = self.data.len() - self.pos;
        if rest == 0 {
            return Ok(None);
        }
        let offset = self.base + self.pos as u64;
        let header = BoxHeader::parse(&self.data[self.pos..], offset, rest as u64, ctx)?;
        // size <= rest, which fits in usize.
        let end = self.pos + header.size as usize;
        let raw = self.data.slice(self.pos..end);
        self.pos = end;
        Ok(Some(MemBox { header, raw }))
    }

    /// Like [`Children::next_box`], for the child list of a sample description or of a QuickTime
    /// `wave` box: QuickTime ends such lists with a 32-bit zero (QTFF "Sample description atoms";
    /// GStreamer's qtmux writes it after the last child of `avc1`), which is the end of the list,
    /// not a truncated box header.
    pub fn next_box_qt(&mut self, ctx: &Ctx) -> Result<Option<MemBox>, DemuxError> {
        if self.data.get(self.pos..) == Some(&[0u8; 4][..]) {
            self.pos = self.data.len();
            return Ok(None);
        }
        self.next_box(ctx)
    }
}

/// Keeps `b` in `slot` for a box that may occur only once in its parent (ISO/IEC 14496-12 gives
/// each of these the quantity "exactly one" or "zero or one"). A second one is `Malformed`: which
/// of the two a reader believes is arbitrary (seam kept the last, ffmpeg fails or keeps the first),
/// so a damaged file with a duplicated box would be read differently by seam and by players.
pub(crate) fn once(slot: &mut Option<MemBox>, b: MemBox, ctx: &Ctx) -> Result<(), DemuxError> {
    if slot.is_some() {
        return Err(ctx.malformed(
            b.header.offset,
            format!("second '{}' box (only one is allowed here)", b.header.kind),
        ));
    }
    *slot = Some(b);
    Ok(())
}

/// A checked big-endian field reader over a box body.
pub(crate) struct Fields<'c> {
    data: Bytes,
    pos: usize,
    base: u64,
    ctx: &'c Ctx<'c>,
}

impl<'c> Fields<'c> {
    pub fn new(data: Bytes, base: u64, ctx: &'c Ctx<'c>) -> Self {
        Fields {
            data,
            pos: 0,
            base,
            ctx,
        }
    }

    /// Absolute offset of the next byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    pub fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    pub fn malformed(&self, rule: impl Into<String>) -> DemuxError {
        self.ctx.malformed(self.offset(), rule)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DemuxError> {
        if self.remaining() < n {
            return Err(self.malformed(format!(
                "truncated: needs {n} more bytes, {} left",
                self.remaining()
            )));
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&[u8], DemuxError> {
        self.take(n)
    }

    pub fn skip(&mut self, n: usize) -> Result<(), DemuxError> {
        self.take(n).map(|_| ())
    }

    pub fn u8(&mut self) -> Result<u8, DemuxError> {
        Ok(self.take(1)?[0])
    }

    pub fn u16(&mut self) -> Result<u16, DemuxError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    pub fn u32(&mut self) -> Result<u32, DemuxError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn i32(&mut self) -> Result<i32, DemuxError> {
        Ok(self.u32()? as i32)
    }

    pub fn u64(&mut self) -> Result<u64, DemuxError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_be_bytes(a))
    }

    /// Version and flags of a FullBox (ISO/IEC 14496-12 §4.2).
    pub fn full_header(&mut self) -> Result<(u8, u32), DemuxError> {
        let v = self.u32()?;
        Ok(((v >> 24) as u8, v & 0x00ff_ffff))
    }

    /// Reads an entry count and checks that `count * entry_size` bytes remain and that the count is
    /// within `max`, before the caller allocates anything for the entries.
    pub fn count(
        &mut self,
        entry_size: usize,
        max: usize,
        what: &str,
    ) -> Result<usize, DemuxError> {
        let at = self.offset();
        let count = self.u32()? as usize;
        if count > max {
            return Err(self
                .ctx
                .limit(at, format!("{count} {what}, more than the limit of {max}")));
        }
        let need = count.saturating_mul(entry_size);
        if need > self.remaining() {
            return Err(self.ctx.malformed(
                at,
                format!(
                    "{count} {what} need {need} bytes but {} bytes left",
                    self.remaining()
                ),
            ));
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_sizes() {
        let ctx = Ctx::new("t.mp4", "");
        let h = BoxHeader::parse(b"\0\0\0\x10free\0\0\0\0\0\0\0\0", 0, 16, &ctx).unwrap();
        assert_eq!((h.size, h.header_len), (16, 8));
        let h = BoxHeader::parse(b"\0\0\0\0mdat", 100, 50, &ctx).unwrap();
        assert_eq!(h.size, 50);
        let h = BoxHeader::parse(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20", 0, 40, &ctx).unwrap();
        assert_eq!((h.size, h.header_len), (32, 16));
        let e = BoxHeader::parse(
            b"\0\0\0\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff",
            8,
            40,
            &ctx,
        )
        .unwrap_err();
        assert!(e.to_string().contains("at byte 8"), "{e}");
        assert!(BoxHeader::parse(b"\0\0\0\x02free", 0, 8, &ctx).is_err());
        assert!(BoxHeader::parse(b"\0\0\0\x08uuid", 0, 8, &ctx).is_err());
    }

    #[test]
    fn count_is_checked_against_remaining_bytes() {
        let ctx = Ctx::new("t.mp4", "moov/trak[0]/mdia/minf/stbl/stsz");
        let mut f = Fields::new(Bytes::from_static(b"\x00\x89\x54\x40\0\0"), 48213, &ctx);
        let e = f.count(4, usize::MAX, "samples").unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.mp4: moov/trak[0]/mdia/minf/stbl/stsz at byte 48213: 9000000 samples need 36000000 bytes but 2 bytes left"
        );
    }
}
