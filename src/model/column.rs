//! Compact columns of per-sample values.
//!
//! A recording of a week holds tens of millions of samples, so a sample table keeps each field in
//! the smallest form that still gives it back exactly: runs of equal values while they are fewer
//! than a quarter of the samples (durations, sample description indices, composition offsets of
//! streams without B-frames), a dense vector otherwise. Offsets are stored as 32-bit deltas from a
//! per-block base; decode times as durations plus the few decode times that do not follow from the
//! previous sample (a fragment's `tfdt` jump), with a checkpoint every [`CHECKPOINT`] samples for
//! random access. No column stores a per-sample heap object.
//!
//! Indices are `u32`: a table holds at most `u32::MAX` samples (far above
//! [`Limits::max_samples`](crate::Limits)); [`SampleTable`](super::SampleTable) refuses more.

/// A column of `u32` values: one value for all, runs of equal values, or one value per sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum U32Column {
    /// `len` copies of `value` (no allocation: most tracks have one duration, one sample
    /// description, no composition offsets).
    Const {
        /// The value.
        value: u32,
        /// Number of values.
        len: u32,
        /// Values expected in all (see [`U32Column::reserve`]).
        hint: u32,
    },
    /// `(first index, value)` pairs in increasing index order; the first starts at 0.
    Runs {
        /// The runs.
        runs: Vec<(u32, u32)>,
        /// Number of values.
        len: u32,
        /// Values expected in all: the capacity a dense form starts with.
        hint: u32,
    },
    /// One value per sample.
    Dense(Vec<u32>),
}

impl Default for U32Column {
    fn default() -> Self {
        U32Column::Const {
            value: 0,
            len: 0,
            hint: 0,
        }
    }
}

impl U32Column {
    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        match self {
            U32Column::Const { len, .. } | U32Column::Runs { len, .. } => *len as usize,
            U32Column::Dense(v) => v.len(),
        }
    }

    /// Appends `count` copies of `value` (the caller keeps the length within `u32`).
    pub(crate) fn push_run(&mut self, value: u32, count: u32) {
        if count == 0 {
            return;
        }
        match self {
            U32Column::Const {
                value: v,
                len,
                hint,
            } => {
                if *len == 0 || *v == value {
                    *v = value;
                    *len += count;
                } else {
                    *self = U32Column::Runs {
                        runs: vec![(0, *v), (*len, value)],
                        len: *len + count,
                        hint: *hint,
                    };
                }
            }
            U32Column::Runs { runs, len, hint } => {
                if runs.last().map(|r| r.1) != Some(value) {
                    runs.push((*len, value));
                }
                *len += count;
                // Runs cost 8 bytes each, dense values 4: switch once runs are the larger.
                if runs.len() > 16 && runs.len() * 2 > *len as usize {
                    let mut dense = Vec::with_capacity((*hint).max(*len) as usize);
                    dense.extend(self.iter());
                    *self = U32Column::Dense(dense);
                }
            }
            U32Column::Dense(v) => v.extend(std::iter::repeat_n(value, count as usize)),
        }
    }

    /// Appends a value.
    pub(crate) fn push(&mut self, value: u32) {
        self.push_run(value, 1);
    }

    /// Expects `n` values in all, so a dense form is allocated once rather than grown by
    /// doubling (a plan's tables would otherwise hold up to twice their size).
    pub(crate) fn reserve(&mut self, n: usize) {
        match self {
            U32Column::Const { hint, .. } | U32Column::Runs { hint, .. } => {
                *hint = u32::try_from(n).unwrap_or(u32::MAX)
            }
            U32Column::Dense(v) => v.reserve(n.saturating_sub(v.len())),
        }
    }

    /// The value at `k`.
    pub(crate) fn get(&self, k: usize) -> Option<u32> {
        match self {
            U32Column::Const { value, len, .. } => (k < *len as usize).then_some(*value),
            U32Column::Runs { runs, len, .. } => {
                if k >= *len as usize {
                    return None;
                }
                let r = runs.partition_point(|r| r.0 as usize <= k);
                runs.get(r.checked_sub(1)?).map(|r| r.1)
            }
            U32Column::Dense(v) => v.get(k).copied(),
        }
    }

    /// The last value, without a search.
    pub(crate) fn last(&self) -> Option<u32> {
        match self {
            U32Column::Const { value, len, .. } => (*len > 0).then_some(*value),
            U32Column::Runs { runs, len, .. } => runs.last().filter(|_| *len > 0).map(|r| r.1),
            U32Column::Dense(v) => v.last().copied(),
        }
    }

    /// Replaces the last value.
    pub(crate) fn set_last(&mut self, value: u32) {
        let n = self.len();
        if n == 0 {
            return;
        }
        match self {
            U32Column::Const { value: v, len, .. } if *len == 1 => *v = value,
            U32Column::Const { value: v, .. } if *v == value => {}
            U32Column::Const { .. } => {
                self.truncate(n - 1);
                self.push(value);
            }
            U32Column::Runs { runs, len, .. } => {
                let last = *len - 1;
                match runs.last_mut() {
                    Some(r) if r.1 == value => {}
                    Some(r) if r.0 == last => {
                        r.1 = value;
                        // Merge with the run before when it now has the same value.
                        let k = runs.len();
                        if k >= 2 && runs[k - 2].1 == value {
                            runs.pop();
                        }
                    }
                    _ => runs.push((last, value)),
                }
            }
            U32Column::Dense(v) => {
                if let Some(x) = v.last_mut() {
                    *x = value;
                }
            }
        }
    }

    /// Keeps the first `n` values.
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            U32Column::Const { len, .. } => *len = (*len).min(n as u32),
            U32Column::Runs { runs, len, .. } => {
                if n < *len as usize {
                    *len = n as u32;
                    let keep = runs.partition_point(|r| (r.0 as usize) < n);
                    runs.truncate(keep);
                }
            }
            U32Column::Dense(v) => v.truncate(n),
        }
    }

    /// Applies `f` to every value.
    pub(crate) fn map_values(&mut self, mut f: impl FnMut(u32) -> u32) {
        match self {
            U32Column::Const { value, len, .. } => {
                if *len > 0 {
                    *value = f(*value);
                }
            }
            U32Column::Runs { runs, .. } => runs.iter_mut().for_each(|r| r.1 = f(r.1)),
            U32Column::Dense(v) => v.iter_mut().for_each(|x| *x = f(*x)),
        }
    }

    /// True when every value equals `value` (or the column is empty).
    pub(crate) fn all_equal(&self, value: u32) -> bool {
        match self {
            U32Column::Const { value: v, len, .. } => *len == 0 || *v == value,
            U32Column::Runs { runs, .. } => runs.iter().all(|r| r.1 == value),
            U32Column::Dense(v) => v.iter().all(|&x| x == value),
        }
    }

    /// Every value in order.
    pub(crate) fn iter(&self) -> U32Iter<'_> {
        self.iter_from(0)
    }

    /// The values from index `k` on.
    pub(crate) fn iter_from(&self, k: usize) -> U32Iter<'_> {
        let run = match self {
            U32Column::Runs { runs, .. } => runs
                .partition_point(|r| r.0 as usize <= k)
                .saturating_sub(1),
            _ => 0,
        };
        U32Iter { col: self, k, run }
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        match self {
            U32Column::Const { .. } => {}
            U32Column::Runs { runs, .. } => runs.shrink_to_fit(),
            U32Column::Dense(v) => v.shrink_to_fit(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            U32Column::Const { .. } => 0,
            U32Column::Runs { runs, .. } => runs.capacity() * 8,
            U32Column::Dense(v) => v.capacity() * 4,
        }
    }
}

/// Forward iterator over a [`U32Column`], one step per value (no search).
pub(crate) struct U32Iter<'a> {
    col: &'a U32Column,
    k: usize,
    run: usize,
}

impl Iterator for U32Iter<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let v = match self.col {
            U32Column::Const { value, len, .. } => {
                if self.k >= *len as usize {
                    return None;
                }
                *value
            }
            U32Column::Dense(v) => *v.get(self.k)?,
            U32Column::Runs { runs, len, .. } => {
                if self.k >= *len as usize {
                    return None;
                }
                while runs
                    .get(self.run + 1)
                    .is_some_and(|r| r.0 as usize <= self.k)
                {
                    self.run += 1;
                }
                runs.get(self.run)?.1
            }
        };
        self.k += 1;
        Some(v)
    }
}

/// Samples per offset block: each block stores one 64-bit base.
const BLOCK: usize = 256;

/// Byte offsets: a 64-bit base per block of [`BLOCK`] samples and a 32-bit delta per sample, or
/// plain 64-bit values once some offset lies before its block's base or 4 GiB past it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OffsetColumn {
    /// Bases and deltas.
    Blocks {
        /// The first offset of each block.
        bases: Vec<u64>,
        /// Offset minus its block's base.
        deltas: Vec<u32>,
    },
    /// One value per sample.
    Wide(Vec<u64>),
}

impl Default for OffsetColumn {
    fn default() -> Self {
        OffsetColumn::Blocks {
            bases: Vec::new(),
            deltas: Vec::new(),
        }
    }
}

impl OffsetColumn {
    /// Number of values.
    pub(crate) fn len(&self) -> usize {
        match self {
            OffsetColumn::Blocks { deltas, .. } => deltas.len(),
            OffsetColumn::Wide(v) => v.len(),
        }
    }

    /// Appends an offset.
    pub(crate) fn push(&mut self, offset: u64) {
        match self {
            OffsetColumn::Blocks { bases, deltas } => {
                if deltas.len() % BLOCK == 0 {
                    bases.push(offset);
                }
                let block_start = deltas.len() - deltas.len() % BLOCK;
                if let Some(base) = bases.last_mut().filter(|b| offset < **b) {
                    // An offset below the block's base (samples of another input in a plan, or a
                    // file storing samples backwards): lower the base when the block still spans
                    // less than 4 GiB.
                    let diff = *base - offset;
                    let block = &mut deltas[block_start..];
                    let fits = u32::try_from(diff)
                        .is_ok_and(|d| block.iter().all(|&x| x.checked_add(d).is_some()));
                    if fits {
                        block.iter_mut().for_each(|x| *x += diff as u32);
                        *base = offset;
                    }
                }
                let base = bases.last().copied().unwrap_or(0);
                match offset.checked_sub(base).and_then(|d| u32::try_from(d).ok()) {
                    Some(d) => deltas.push(d),
                    None => {
                        let mut wide: Vec<u64> = self.iter().collect();
                        wide.push(offset);
                        *self = OffsetColumn::Wide(wide);
                    }
                }
            }
            OffsetColumn::Wide(v) => v.push(offset),
        }
    }

    /// Expects `n` values in all.
    pub(crate) fn reserve(&mut self, n: usize) {
        let more = n.saturating_sub(self.len());
        match self {
            OffsetColumn::Blocks { bases, deltas } => {
                deltas.reserve(more);
                bases.reserve(more.div_ceil(BLOCK) + 1);
            }
            OffsetColumn::Wide(v) => v.reserve(more),
        }
    }

    /// The offset at `k`.
    pub(crate) fn get(&self, k: usize) -> Option<u64> {
        match self {
            OffsetColumn::Blocks { bases, deltas } => {
                let d = *deltas.get(k)?;
                Some(bases.get(k / BLOCK)? + u64::from(d))
            }
            OffsetColumn::Wide(v) => v.get(k).copied(),
        }
    }

    /// Keeps the first `n` values.
    pub(crate) fn truncate(&mut self, n: usize) {
        match self {
            OffsetColumn::Blocks { bases, deltas } => {
                deltas.truncate(n);
                bases.truncate(deltas.len().div_ceil(BLOCK));
            }
            OffsetColumn::Wide(v) => v.truncate(n),
        }
    }

    /// Every value in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map_while(move |k| self.get(k))
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        match self {
            OffsetColumn::Blocks { bases, deltas } => {
                bases.shrink_to_fit();
                deltas.shrink_to_fit();
            }
            OffsetColumn::Wide(v) => v.shrink_to_fit(),
        }
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            OffsetColumn::Blocks { bases, deltas } => bases.capacity() * 8 + deltas.capacity() * 4,
            OffsetColumn::Wide(v) => v.capacity() * 8,
        }
    }
}

/// Samples between decode-time checkpoints.
pub(crate) const CHECKPOINT: usize = 32;

/// Decode times and durations: each sample's duration, the decode times that do not equal the
/// previous sample's decode time plus its duration, and every
/// [`CHECKPOINT`]-th decode time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TimeColumn {
    /// Duration of each sample.
    pub(crate) durations: U32Column,
    /// `(index, decode time)` of the samples that do not follow on from the one before.
    jumps: Vec<(u32, i64)>,
    /// Decode time of samples `0, CHECKPOINT, 2 * CHECKPOINT...`.
    checkpoints: Vec<i64>,
    /// Decode time of the last sample, for the next push (0 when there is none); its duration is
    /// the last of `durations`. Not an `Option<(i64, u32)>`: 16 bytes less in every table.
    last_dts: i64,
}

impl TimeColumn {
    /// Number of samples.
    pub(crate) fn len(&self) -> usize {
        self.durations.len()
    }

    /// Appends a sample at `dts` lasting `duration`.
    pub(crate) fn push(&mut self, dts: i64, duration: u32) {
        let k = self.len();
        let follows = self
            .durations
            .last()
            .is_some_and(|len| self.last_dts.checked_add(i64::from(len)) == Some(dts));
        // The first sample's time is checkpoint 0: a jump is only recorded after it (a track
        // without one allocates nothing for them).
        if !follows && k > 0 {
            self.jumps.push((k as u32, dts));
        }
        if k % CHECKPOINT == 0 {
            self.checkpoints.push(dts);
        }
        self.durations.push(duration);
        self.last_dts = dts;
    }

    /// Expects `n` samples in all.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.durations.reserve(n);
        self.checkpoints
            .reserve(n.saturating_sub(self.len()).div_ceil(CHECKPOINT) + 1);
    }

    /// Sets the last sample's duration (a plan learns it from the next sample's decode time). A
    /// sample pushed next at the last decode time plus this duration then follows on.
    pub(crate) fn set_last_duration(&mut self, duration: u32) {
        self.durations.set_last(duration);
    }

    /// Decode time of the last sample.
    pub(crate) fn last_dts(&self) -> Option<i64> {
        (self.len() > 0).then_some(self.last_dts)
    }

    /// Decode time of sample `k`.
    pub(crate) fn dts(&self, k: usize) -> Option<i64> {
        if k >= self.len() {
            return None;
        }
        let c = k / CHECKPOINT;
        let mut at = c * CHECKPOINT;
        let mut dts = *self.checkpoints.get(c)?;
        let mut j = self.jumps.partition_point(|x| (x.0 as usize) <= at);
        while at < k {
            let d = self.durations.get(at)?;
            at += 1;
            dts = match self.jumps.get(j) {
                Some(&(i, v)) if i as usize == at => {
                    j += 1;
                    v
                }
                _ => dts.wrapping_add(i64::from(d)),
            };
        }
        Some(dts)
    }

    /// Moves every decode time by `delta` (the caller checked it cannot overflow).
    pub(crate) fn shift(&mut self, delta: i64) {
        self.jumps
            .iter_mut()
            .for_each(|j| j.1 = j.1.wrapping_add(delta));
        self.checkpoints
            .iter_mut()
            .for_each(|c| *c = c.wrapping_add(delta));
        if self.len() > 0 {
            self.last_dts = self.last_dts.wrapping_add(delta);
        }
    }

    /// Keeps the first `n` samples.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n >= self.len() {
            return;
        }
        let last = n.checked_sub(1).and_then(|k| self.dts(k)).unwrap_or(0);
        self.durations.truncate(n);
        let keep = self.jumps.partition_point(|x| (x.0 as usize) < n);
        self.jumps.truncate(keep);
        self.checkpoints.truncate(n.div_ceil(CHECKPOINT));
        self.last_dts = last;
    }

    /// Forward iterator of `(dts, duration)`.
    pub(crate) fn iter(&self) -> TimeIter<'_> {
        self.iter_from(0)
    }

    /// Forward iterator of `(dts, duration)` from sample `k` on.
    pub(crate) fn iter_from(&self, k: usize) -> TimeIter<'_> {
        let k = k.min(self.len());
        TimeIter {
            col: self,
            durations: self.durations.iter_from(k),
            k,
            jump: self.jumps.partition_point(|x| (x.0 as usize) < k),
            // Sample k's decode time, used unless k starts a jump.
            next_dts: self.dts(k).unwrap_or(0),
        }
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.durations.shrink_to_fit();
        self.jumps.shrink_to_fit();
        self.checkpoints.shrink_to_fit();
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.durations.heap_bytes() + self.jumps.capacity() * 16 + self.checkpoints.capacity() * 8
    }
}

/// Forward iterator over a [`TimeColumn`].
pub(crate) struct TimeIter<'a> {
    col: &'a TimeColumn,
    durations: U32Iter<'a>,
    k: usize,
    jump: usize,
    next_dts: i64,
}

impl Iterator for TimeIter<'_> {
    type Item = (i64, u32);

    fn next(&mut self) -> Option<(i64, u32)> {
        let d = self.durations.next()?;
        let dts = match self.col.jumps.get(self.jump) {
            Some(&(i, v)) if i as usize == self.k => {
                self.jump += 1;
                v
            }
            _ => self.next_dts,
        };
        self.k += 1;
        self.next_dts = dts.wrapping_add(i64::from(d));
        Some((dts, d))
    }
}

/// One bit per sample.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BitColumn {
    words: Vec<u64>,
    len: usize,
}

impl BitColumn {
    /// Number of bits.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Expects `n` bits in all.
    pub(crate) fn reserve(&mut self, n: usize) {
        self.words
            .reserve(n.saturating_sub(self.len).div_ceil(64) + 1);
    }

    /// Appends a bit.
    pub(crate) fn push(&mut self, bit: bool) {
        if self.len % 64 == 0 {
            self.words.push(0);
        }
        if bit {
            if let Some(w) = self.words.last_mut() {
                *w |= 1 << (self.len % 64);
            }
        }
        self.len += 1;
    }

    /// The bit at `k`.
    pub(crate) fn get(&self, k: usize) -> Option<bool> {
        if k >= self.len {
            return None;
        }
        Some(self.words.get(k / 64)? >> (k % 64) & 1 == 1)
    }

    /// Sets the bit at `k` (ignored past the end).
    pub(crate) fn set(&mut self, k: usize, bit: bool) {
        if k >= self.len {
            return;
        }
        if let Some(w) = self.words.get_mut(k / 64) {
            if bit {
                *w |= 1 << (k % 64);
            } else {
                *w &= !(1 << (k % 64));
            }
        }
    }

    /// Keeps the first `n` bits.
    pub(crate) fn truncate(&mut self, n: usize) {
        if n < self.len {
            self.len = n;
            self.words.truncate(n.div_ceil(64));
            if n % 64 != 0 {
                if let Some(w) = self.words.last_mut() {
                    *w &= (1u64 << (n % 64)) - 1;
                }
            }
        }
    }

    /// Number of set bits.
    pub(crate) fn count_ones(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Gives back spare capacity.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.words.shrink_to_fit();
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn u32_column_runs_then_dense_give_values_back() {
        let values: Vec<u32> = (0..1000u32)
            .map(|k| if k < 300 { 7 } else { k % 5 })
            .collect();
        let mut c = U32Column::default();
        for &v in &values {
            c.push(v);
        }
        assert!(
            matches!(c, U32Column::Dense(_)),
            "alternating values go dense"
        );
        assert_eq!(c.iter().collect::<Vec<_>>(), values);
        for (k, &v) in values.iter().enumerate() {
            assert_eq!(c.get(k), Some(v));
        }
        let mut r = U32Column::default();
        r.push_run(3, 10);
        r.push(4);
        r.set_last(3);
        assert_eq!(
            r,
            U32Column::Runs {
                runs: vec![(0, 3)],
                len: 11,
                hint: 0
            }
        );
        let mut c = U32Column::default();
        c.push_run(5, 3);
        assert!(matches!(
            c,
            U32Column::Const {
                value: 5,
                len: 3,
                ..
            }
        ));
        c.set_last(6);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![5, 5, 6]);
        c.set_last(5);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![5, 5, 5]);
        assert_eq!(c.get(2), Some(5));
        assert_eq!(c.iter_from(1).collect::<Vec<_>>(), vec![5, 5]);
        r.push(9);
        r.truncate(11);
        assert_eq!(r.iter().collect::<Vec<_>>(), vec![3; 11]);
        assert_eq!(r.get(11), None);
    }

    #[test]
    fn offsets_fall_back_to_wide() {
        let mut c = OffsetColumn::default();
        let mut low = OffsetColumn::default();
        for v in [500u64, 20, 7000, 3, 9] {
            low.push(v);
        }
        assert!(matches!(low, OffsetColumn::Blocks { .. }), "lowered base");
        assert_eq!(low.iter().collect::<Vec<_>>(), [500, 20, 7000, 3, 9]);
        let values = [10u64, 20, 5 << 32, 3, 7, u64::MAX];
        for v in values {
            c.push(v);
        }
        assert!(matches!(c, OffsetColumn::Wide(_)));
        assert_eq!(c.iter().collect::<Vec<_>>(), values);
        let mut b = OffsetColumn::default();
        for k in 0..1000u64 {
            b.push(1_000_000 + k * 3);
        }
        assert!(matches!(b, OffsetColumn::Blocks { .. }));
        assert_eq!(b.get(999), Some(1_000_000 + 999 * 3));
        b.truncate(257);
        assert_eq!(b.len(), 257);
        assert_eq!(b.get(256), Some(1_000_000 + 256 * 3));
    }

    #[test]
    fn times_with_jumps_random_and_forward_agree() {
        let mut t = TimeColumn::default();
        let mut expect = Vec::new();
        let mut dts = -50i64;
        for k in 0..500u32 {
            let d = 10 + k % 3;
            if k % 97 == 5 {
                dts -= 1000; // a jump backwards
            }
            t.push(dts, d);
            expect.push((dts, d));
            dts += i64::from(d);
        }
        assert_eq!(t.iter().collect::<Vec<_>>(), expect);
        for (k, e) in expect.iter().enumerate() {
            assert_eq!(t.dts(k), Some(e.0), "sample {k}");
        }
        t.truncate(100);
        assert_eq!(t.len(), 100);
        assert_eq!(t.iter().collect::<Vec<_>>(), expect[..100]);
        t.push(5, 1);
        assert_eq!(t.dts(100), Some(5));
        t.shift(10);
        assert_eq!(t.dts(0), Some(-40));
        assert_eq!(t.dts(100), Some(15));
    }

    #[test]
    fn durations_set_from_next_push_need_no_jumps() {
        let mut t = TimeColumn::default();
        for k in 0..100i64 {
            if k > 0 {
                t.set_last_duration(if k % 2 == 1 { 3 } else { 5 });
            }
            t.push(k * 4 - if k % 2 == 1 { 1 } else { 0 }, 0);
        }
        assert!(t.jumps.is_empty());
        for k in 0..100i64 {
            assert_eq!(
                t.dts(k as usize),
                Some(k * 4 - if k % 2 == 1 { 1 } else { 0 })
            );
        }
    }

    #[test]
    fn bits() {
        let mut b = BitColumn::default();
        for k in 0..130 {
            b.push(k % 3 == 0);
        }
        assert_eq!(b.count_ones(), 44);
        b.set(1, true);
        assert_eq!(b.get(1), Some(true));
        b.truncate(65);
        assert_eq!(b.get(64), Some(false));
        assert_eq!(b.get(65), None);
        assert_eq!(b.count_ones(), 23);
    }
}
