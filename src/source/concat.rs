//! [`ConcatSource`]: several sources read as one, back to back: a recording that a recorder split
//! into files by size (a transport stream cut mid-packet, mid-PES) is one stream again.

use std::io;
use std::sync::Arc;

use super::Source;

/// Sources joined end to end; offsets run over all of them.
#[derive(Debug)]
pub struct ConcatSource {
    parts: Vec<Arc<dyn Source>>,
    /// Where each part starts.
    starts: Vec<u64>,
    len: u64,
    name: String,
}

impl ConcatSource {
    /// The parts in order. Its name lists theirs, joined by ` + `.
    pub fn new(parts: Vec<Arc<dyn Source>>) -> Self {
        let mut starts = Vec::with_capacity(parts.len());
        let mut len = 0u64;
        for p in &parts {
            starts.push(len);
            len = len.saturating_add(p.len());
        }
        let name = parts
            .iter()
            .map(|p| p.name())
            .collect::<Vec<_>>()
            .join(" + ");
        ConcatSource {
            parts,
            starts,
            len,
            name,
        }
    }
}

impl ConcatSource {
    /// The parts in order, called `name` in messages.
    pub fn named(parts: Vec<Arc<dyn Source>>, name: String) -> Self {
        ConcatSource {
            name,
            ..ConcatSource::new(parts)
        }
    }
}

/// `len` bytes of another source from `offset` on (an HLS `#EXT-X-BYTERANGE`).
#[derive(Debug)]
pub struct RangeSource {
    inner: Arc<dyn Source>,
    offset: u64,
    len: u64,
}

impl RangeSource {
    /// The range, refused when it does not lie inside `inner`.
    pub fn new(inner: Arc<dyn Source>, offset: u64, len: u64) -> io::Result<Self> {
        if past(offset.checked_add(len), inner.len()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "byte range {len}@{offset} ends past the end of the {}-byte file",
                    inner.len()
                ),
            ));
        }
        Ok(RangeSource { inner, offset, len })
    }
}

/// True when `end` (a `checked_add` result) overflowed or lies past `len`.
fn past(end: Option<u64>, len: u64) -> bool {
    end.is_none_or(|end| end > len)
}

impl Source for RangeSource {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        if past(offset.checked_add(buf.len() as u64), self.len) {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: read past the end of the byte range", self.name()),
            ));
        }
        self.inner.read_at(self.offset + offset, buf)
    }

    fn check_unchanged(&self) -> io::Result<()> {
        self.inner.check_unchanged()
    }
}

impl Source for ConcatSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let mut at = offset;
        let mut done = 0usize;
        while done < buf.len() {
            // The last part starting at or before `at` (empty parts share their start).
            let i = self.starts.partition_point(|&s| s <= at).saturating_sub(1);
            let (Some(part), Some(&start)) = (self.parts.get(i), self.starts.get(i)) else {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "read past the end",
                ));
            };
            let avail = part.len().saturating_sub(at - start);
            if avail == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{}: read past the end", self.name),
                ));
            }
            let n = (buf.len() - done).min(usize::try_from(avail).unwrap_or(usize::MAX));
            part.read_at(at - start, &mut buf[done..done + n])?;
            done += n;
            at += n as u64;
        }
        Ok(())
    }

    fn check_unchanged(&self) -> io::Result<()> {
        self.parts.iter().try_for_each(|p| p.check_unchanged())
    }

    fn part_at(&self, offset: u64) -> Option<(&dyn Source, u64, u64)> {
        let i = self
            .starts
            .partition_point(|&s| s <= offset)
            .checked_sub(1)?;
        let (part, start) = (self.parts.get(i)?, *self.starts.get(i)?);
        let avail = part.len().checked_sub(offset - start).filter(|&a| a > 0)?;
        Some((&**part, offset - start, avail))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::MemSource;
    use bytes::Bytes;

    #[test]
    fn reads_across_parts() {
        let a: Arc<dyn Source> = Arc::new(MemSource::new("a", Bytes::from_static(b"hello ")));
        let e: Arc<dyn Source> = Arc::new(MemSource::new("e", Bytes::new()));
        let b: Arc<dyn Source> = Arc::new(MemSource::new("b", Bytes::from_static(b"world")));
        let c = ConcatSource::new(vec![a, e, b]);
        assert_eq!(c.len(), 11);
        assert_eq!(c.name(), "a + e + b");
        let mut buf = [0u8; 7];
        c.read_at(3, &mut buf).expect("reads");
        assert_eq!(&buf, b"lo worl");
        assert!(c.read_at(8, &mut buf).is_err());
        let whole: Arc<dyn Source> = Arc::new(c);
        let r = RangeSource::new(whole.clone(), 2, 5).expect("inside");
        let mut b5 = [0u8; 5];
        r.read_at(0, &mut b5).expect("reads");
        assert_eq!(&b5, b"llo w");
        assert!(r.read_at(1, &mut b5).is_err());
        assert!(RangeSource::new(whole, 8, 4).is_err());
    }

    #[test]
    fn finds_the_part_at_an_offset() {
        let a: Arc<dyn Source> = Arc::new(MemSource::new("a", Bytes::from_static(b"hello ")));
        let e: Arc<dyn Source> = Arc::new(MemSource::new("e", Bytes::new()));
        let b: Arc<dyn Source> = Arc::new(MemSource::new("b", Bytes::from_static(b"world")));
        let c = ConcatSource::new(vec![a, e, b]);
        let at = |o| {
            c.part_at(o)
                .map(|(p, off, n)| (p.name().to_string(), off, n))
        };
        assert_eq!(at(0), Some(("a".into(), 0, 6)));
        assert_eq!(at(5), Some(("a".into(), 5, 1)));
        // The empty part is skipped.
        assert_eq!(at(6), Some(("b".into(), 0, 5)));
        assert_eq!(at(10), Some(("b".into(), 4, 1)));
        assert_eq!(at(11), None);
    }
}
