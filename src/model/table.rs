//! [`SampleTable`]: a track's samples in decode order, stored column by column.
//!
//! A [`Sample`] is a value given back on demand ([`SampleTable::get`], [`SampleTable::iter`]);
//! nothing holds one per sample. Typical tables cost 8 to 13 bytes per sample (offset delta and
//! size, plus a composition offset when B-frames reorder, one bit for sync), against 32 for a
//! vector of [`Sample`]s; see [`column`](super::column) for each column's form.

use super::auxinfo::AuxColumn;
use super::column::{BitColumn, OffsetColumn, TimeColumn, U32Column};
use super::Sample;

/// A table is full: it holds at most `u32::MAX - 1` samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("more than {} samples in one track", u32::MAX - 1)]
pub struct TableFull;

/// Samples in decode order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SampleTable {
    offsets: OffsetColumn,
    sizes: U32Column,
    times: TimeColumn,
    /// Composition offsets as `i32` bit patterns.
    cts: U32Column,
    sync: BitColumn,
    entries: U32Column,
    /// Sample auxiliary information (encrypted tracks), one entry per sample when present; kept
    /// here so every truncation or filter of the samples applies to it too. Boxed: 8 bytes in
    /// every clear track's table instead of 48 (a job may hold hundreds of thousands of tables).
    aux: Option<Box<AuxColumn>>,
}

/// Auxiliary information given to a table must have one entry per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{entries} entries of sample auxiliary information for {samples} samples")]
pub struct AuxMismatch {
    /// Entries given.
    pub entries: usize,
    /// Samples in the table.
    pub samples: usize,
}

/// Columns built one at a time (a sample table box gives each field in a box of its own), joined
/// by [`SampleTable::from_columns`].
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) offsets: OffsetColumn,
    pub(crate) sizes: U32Column,
    pub(crate) times: TimeColumn,
    pub(crate) cts: U32Column,
    pub(crate) sync: BitColumn,
    pub(crate) entries: U32Column,
}

impl SampleTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Joins columns of equal length; `None` when their lengths differ.
    pub(crate) fn from_columns(c: Columns) -> Option<Self> {
        let n = c.sizes.len();
        let same = [
            c.offsets.len(),
            c.times.len(),
            c.cts.len(),
            c.sync.len(),
            c.entries.len(),
        ]
        .iter()
        .all(|&l| l == n);
        same.then_some(SampleTable {
            offsets: c.offsets,
            sizes: c.sizes,
            times: c.times,
            cts: c.cts,
            sync: c.sync,
            entries: c.entries,
            aux: None,
        })
    }

    /// Attaches per-sample auxiliary information (one entry per sample).
    pub fn set_aux(&mut self, aux: AuxColumn) -> Result<(), AuxMismatch> {
        if aux.len() != self.len() {
            return Err(AuxMismatch {
                entries: aux.len(),
                samples: self.len(),
            });
        }
        self.aux = Some(Box::new(aux));
        Ok(())
    }

    /// The per-sample auxiliary information, when the track has it.
    pub fn aux(&self) -> Option<&AuxColumn> {
        self.aux.as_deref()
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.sizes.len()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Expects `n` samples in all: dense columns are allocated once at that size.
    pub fn reserve(&mut self, n: usize) {
        self.offsets.reserve(n);
        self.sizes.reserve(n);
        self.times.reserve(n);
        self.cts.reserve(n);
        self.sync.reserve(n);
        self.entries.reserve(n);
    }

    /// Appends a sample. A table with auxiliary information loses it (the new sample has none):
    /// tables are built first and given their auxiliary information after.
    pub fn push(&mut self, s: Sample) -> Result<(), TableFull> {
        if self.len() >= (u32::MAX - 1) as usize {
            return Err(TableFull);
        }
        self.aux = None;
        self.offsets.push(s.offset);
        self.sizes.push(s.size);
        self.times.push(s.dts, s.duration);
        self.cts.push(s.cts_offset as u32);
        self.sync.push(s.sync);
        self.entries.push(u32::from(s.entry));
        Ok(())
    }

    /// Sample `k`.
    pub fn get(&self, k: usize) -> Option<Sample> {
        Some(Sample {
            offset: self.offsets.get(k)?,
            dts: self.times.dts(k)?,
            size: self.sizes.get(k)?,
            duration: self.times.durations.get(k)?,
            cts_offset: self.cts.get(k)? as i32,
            entry: self.entries.get(k)? as u16,
            sync: self.sync.get(k)?,
        })
    }

    /// The first sample.
    pub fn first(&self) -> Option<Sample> {
        self.get(0)
    }

    /// The last sample.
    pub fn last(&self) -> Option<Sample> {
        self.get(self.len().checked_sub(1)?)
    }

    /// Decode time of the last sample, without a search.
    pub(crate) fn last_dts(&self) -> Option<i64> {
        self.times.last_dts()
    }

    /// Sets the last sample's duration.
    pub(crate) fn set_last_duration(&mut self, d: u32) {
        self.times.set_last_duration(d);
    }

    /// Moves every decode time by `delta` (the caller checked the range).
    pub(crate) fn shift_dts(&mut self, delta: i64) {
        self.times.shift(delta);
    }

    /// Adds `delta` to every composition offset; `false` (and nothing changed) on overflow.
    pub(crate) fn add_cts(&mut self, delta: i32) -> bool {
        let mut ok = true;
        let mut check = self.cts.clone();
        check.map_values(|v| match (v as i32).checked_add(delta) {
            Some(x) => x as u32,
            None => {
                ok = false;
                v
            }
        });
        if ok {
            self.cts = check;
        }
        ok
    }

    /// Marks sample `k` sync or not.
    pub fn set_sync(&mut self, k: usize, sync: bool) {
        self.sync.set(k, sync);
    }

    /// True when no sample has a composition offset.
    pub fn no_composition_offsets(&self) -> bool {
        self.cts.all_equal(0)
    }

    /// Number of sync samples.
    pub fn sync_count(&self) -> usize {
        self.sync.count_ones()
    }

    /// Keeps the first `n` samples.
    pub fn truncate(&mut self, n: usize) {
        self.offsets.truncate(n);
        self.sizes.truncate(n);
        self.times.truncate(n);
        self.cts.truncate(n);
        self.sync.truncate(n);
        self.entries.truncate(n);
        if let Some(a) = &mut self.aux {
            a.truncate(n);
        }
    }

    /// Keeps the samples for which `keep` is true (rebuilds the table).
    pub fn retain(&mut self, mut keep: impl FnMut(&Sample) -> bool) {
        let mut out = SampleTable::new();
        // Which samples stay, only when there is auxiliary information to filter alike.
        let mut kept = Vec::with_capacity(if self.aux.is_some() { self.len() } else { 0 });
        for s in self.iter() {
            let k = keep(&s);
            if self.aux.is_some() {
                kept.push(k);
            }
            if k {
                // Fewer samples than before: cannot be full.
                let _ = out.push(s);
            }
        }
        if let Some(mut a) = self.aux.take() {
            a.retain_indices(|k| kept.get(k).copied().unwrap_or(false));
            // One entry per kept sample, as before.
            let _ = out.set_aux(*a);
        }
        *self = out;
    }

    /// Samples in decode order.
    pub fn iter(&self) -> Iter<'_> {
        self.iter_range(0..self.len())
    }

    /// Samples `range` (clamped to the table) in decode order, without walking those before.
    pub fn iter_range(&self, range: std::ops::Range<usize>) -> Iter<'_> {
        let back = range.end.min(self.len());
        let front = range.start.min(back);
        Iter {
            table: self,
            times: self.times.iter_from(front),
            front,
            back,
        }
    }

    /// Gives back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.offsets.shrink_to_fit();
        self.sizes.shrink_to_fit();
        self.times.shrink_to_fit();
        self.cts.shrink_to_fit();
        self.sync.shrink_to_fit();
        self.entries.shrink_to_fit();
        if let Some(a) = &mut self.aux {
            a.shrink_to_fit();
        }
    }

    /// Heap bytes the table holds.
    pub fn heap_bytes(&self) -> usize {
        self.offsets.heap_bytes()
            + self.sizes.heap_bytes()
            + self.times.heap_bytes()
            + self.cts.heap_bytes()
            + self.sync.heap_bytes()
            + self.entries.heap_bytes()
            + self
                .aux
                .as_deref()
                .map_or(0, |a| a.heap_bytes() + std::mem::size_of::<AuxColumn>())
    }
}

impl FromIterator<Sample> for SampleTable {
    /// Collects samples (tests and small tables; samples past the `u32` limit are left out).
    fn from_iter<I: IntoIterator<Item = Sample>>(iter: I) -> Self {
        let mut t = SampleTable::new();
        for s in iter {
            if t.push(s).is_err() {
                break;
            }
        }
        t
    }
}

impl<'a> IntoIterator for &'a SampleTable {
    type Item = Sample;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Samples of a [`SampleTable`] in decode order: forward steps walk the columns without a
/// search; backward steps look each sample up.
pub struct Iter<'a> {
    table: &'a SampleTable,
    times: super::column::TimeIter<'a>,
    front: usize,
    back: usize,
}

impl Iterator for Iter<'_> {
    type Item = Sample;

    fn next(&mut self) -> Option<Sample> {
        if self.front >= self.back {
            return None;
        }
        let k = self.front;
        let (dts, duration) = self.times.next()?;
        let t = self.table;
        self.front += 1;
        Some(Sample {
            offset: t.offsets.get(k)?,
            dts,
            size: t.sizes.get(k)?,
            duration,
            cts_offset: t.cts.get(k)? as i32,
            entry: t.entries.get(k)? as u16,
            sync: t.sync.get(k)?,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Sample> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.table.get(self.back)
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(k: u64) -> Sample {
        Sample {
            offset: 1000 + k * 7,
            dts: (k as i64) * 512 - if k > 300 { 100_000 } else { 0 },
            size: 7 + (k % 3) as u32,
            duration: 512,
            cts_offset: [1024, 0, -512, 512][(k % 4) as usize],
            entry: u16::from(k > 400),
            sync: k % 48 == 0,
        }
    }

    #[test]
    fn gives_back_what_was_pushed() {
        let samples: Vec<Sample> = (0..1000).map(sample).collect();
        let t: SampleTable = samples.iter().copied().collect();
        assert_eq!(t.len(), 1000);
        assert_eq!(t.iter().collect::<Vec<_>>(), samples);
        assert_eq!(
            t.iter().rev().collect::<Vec<_>>(),
            samples.iter().rev().copied().collect::<Vec<_>>()
        );
        for (k, s) in samples.iter().enumerate() {
            assert_eq!(t.get(k), Some(*s));
        }
        assert_eq!(t.get(1000), None);
        assert_eq!(t.sync_count(), samples.iter().filter(|s| s.sync).count());
        assert!(
            t.heap_bytes() < 16 * 1000,
            "compact: {} bytes for 1000 samples",
            t.heap_bytes()
        );
    }

    #[test]
    fn truncate_and_retain() {
        let samples: Vec<Sample> = (0..500).map(sample).collect();
        let mut t: SampleTable = samples.iter().copied().collect();
        t.truncate(333);
        assert_eq!(t.iter().collect::<Vec<_>>(), samples[..333]);
        t.push(sample(999)).expect("room");
        assert_eq!(t.last(), Some(sample(999)));
        t.retain(|s| s.size != 8);
        let mut want: Vec<Sample> = samples[..333].to_vec();
        want.push(sample(999));
        want.retain(|s| s.size != 8);
        assert_eq!(t.iter().collect::<Vec<_>>(), want);
    }

    #[test]
    fn auxiliary_information_follows_the_samples() {
        let mut t: SampleTable = (0..10).map(sample).collect();
        let mut aux = AuxColumn::new();
        for k in 0..9u8 {
            aux.push(&[k; 8]).expect("room");
        }
        assert!(t.set_aux(aux.clone()).is_err(), "one entry per sample");
        aux.push(&[9; 8]).expect("room");
        t.set_aux(aux).expect("as many entries as samples");
        t.truncate(8);
        assert_eq!(t.aux().map(AuxColumn::len), Some(8));
        // Samples 1, 4 and 7 have size 8 (7 + k % 3 == 8).
        t.retain(|s| s.size != 8);
        let a = t.aux().expect("kept");
        assert_eq!(a.len(), t.len());
        assert_eq!(
            (0..a.len())
                .map(|k| a.get(k).map(|e| e[0]))
                .collect::<Vec<_>>(),
            [0u8, 2, 3, 5, 6].map(Some)
        );
        // A pushed sample has no entry: the table no longer claims any.
        t.push(sample(20)).expect("room");
        assert!(t.aux().is_none());
    }

    #[test]
    fn shifts_and_raises() {
        let mut t: SampleTable = (0..100).map(sample).collect();
        t.shift_dts(-512);
        assert!(t.add_cts(512));
        assert_eq!(
            t.get(3).map(|s| (s.dts, s.cts_offset)),
            Some((3 * 512 - 512, 1024))
        );
        assert!(!t.add_cts(i32::MAX));
        assert_eq!(t.get(0).map(|s| s.cts_offset), Some(1536));
    }
}
