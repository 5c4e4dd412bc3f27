//! [`AuxColumn`]: the sample auxiliary information of an encrypted track (ISO/IEC 14496-12 §8.7.8,
//! ISO/IEC 23001-7 §7.1), one entry per sample, kept as one contiguous byte buffer.
//!
//! For Common Encryption an entry is the sample's initialization vector (`Per_Sample_IV_Size`
//! bytes, none with a constant IV) followed, when the track uses subsample encryption, by a 16-bit
//! subsample count and that many (16-bit clear bytes, 32-bit protected bytes) pairs (§7.2.2). seam
//! never interprets an entry: it copies it with its sample, as it copies the sample's bytes. One
//! buffer plus a 32-bit end per sample costs 4 bytes per sample beyond the entries themselves,
//! with no per-sample heap object.

/// Per-sample auxiliary information, in decode order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuxColumn {
    /// Every entry, back to back.
    data: Vec<u8>,
    /// Where each entry ends in `data`.
    ends: Vec<u32>,
}

/// The entries would pass 4 GiB, which the 32-bit ends cannot address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than 4 GiB of sample auxiliary information in one track")]
pub struct AuxFull;

impl AuxColumn {
    /// No entries.
    pub fn new() -> Self {
        Self::default()
    }

    /// No entries, room for `samples` entries of `bytes` bytes in all.
    pub fn with_capacity(samples: usize, bytes: usize) -> Self {
        AuxColumn {
            data: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(samples),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Bytes of all entries.
    pub fn data_len(&self) -> usize {
        self.data.len()
    }

    /// Every entry, back to back (what a `saio` offset points at when they are stored together).
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Appends one entry.
    pub fn push(&mut self, entry: &[u8]) -> Result<(), AuxFull> {
        let end = self
            .data
            .len()
            .checked_add(entry.len())
            .and_then(|e| u32::try_from(e).ok())
            .ok_or(AuxFull)?;
        self.data.extend_from_slice(entry);
        self.ends.push(end);
        Ok(())
    }

    /// Entry `k`.
    pub fn get(&self, k: usize) -> Option<&[u8]> {
        let end = *self.ends.get(k)? as usize;
        let start = match k.checked_sub(1) {
            Some(p) => *self.ends.get(p)? as usize,
            None => 0,
        };
        self.data.get(start..end)
    }

    /// The entries `range` (clamped), back to back.
    pub fn range_bytes(&self, range: std::ops::Range<usize>) -> &[u8] {
        let end = range.end.min(self.len());
        let start = range.start.min(end);
        let at = |k: usize| match k.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        self.data.get(at(start)..at(end)).unwrap_or_default()
    }

    /// Size of each entry in order.
    pub fn sizes(&self) -> impl Iterator<Item = usize> + '_ {
        let mut prev = 0usize;
        self.ends.iter().map(move |&e| {
            let size = (e as usize).saturating_sub(prev);
            prev = e as usize;
            size
        })
    }

    /// Keeps the first `n` entries.
    pub fn truncate(&mut self, n: usize) {
        if n < self.len() {
            let keep = match n.checked_sub(1) {
                Some(p) => self.ends[p] as usize,
                None => 0,
            };
            self.ends.truncate(n);
            self.data.truncate(keep);
        }
    }

    /// Keeps the entries whose index `keep` accepts.
    pub fn retain_indices(&mut self, mut keep: impl FnMut(usize) -> bool) {
        let mut out = AuxColumn::with_capacity(self.len(), self.data.len());
        for k in 0..self.len() {
            if keep(k) {
                if let Some(e) = self.get(k) {
                    // No larger than the column it comes from.
                    let _ = out.push(e);
                }
            }
        }
        *self = out;
    }

    /// Gives back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.data.shrink_to_fit();
        self.ends.shrink_to_fit();
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.data.capacity() + 4 * self.ends.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_come_back_and_follow_truncate_and_retain() {
        let mut c = AuxColumn::new();
        for k in 0..10u8 {
            c.push(&vec![k; usize::from(k % 3) * 8]).expect("room");
        }
        assert_eq!(c.len(), 10);
        assert_eq!(c.get(0), Some(&[][..]));
        assert_eq!(c.get(2), Some(&[2u8; 16][..]));
        assert_eq!(c.get(10), None);
        assert_eq!(c.range_bytes(1..3), [&[1u8; 8][..], &[2u8; 16]].concat());
        assert_eq!(
            c.sizes().collect::<Vec<_>>(),
            [0, 8, 16, 0, 8, 16, 0, 8, 16, 0]
        );
        c.retain_indices(|k| k % 2 == 1);
        assert_eq!(c.len(), 5);
        assert_eq!(c.get(1), Some(&[3u8; 0][..]));
        assert_eq!(c.get(2), Some(&[5u8; 16][..]));
        c.truncate(3);
        assert_eq!(c.data_len(), 8 + 16);
        assert_eq!(c.range_bytes(0..99).len(), 24);
    }
}
