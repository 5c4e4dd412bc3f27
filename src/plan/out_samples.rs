//! [`OutSamples`]: an output track's samples, stored column by column like the input's
//! [`SampleTable`], so a plan costs about as much per sample as the table it was made from.
//!
//! Durations are not given by the planner: each is the next sample's decode time minus this one's
//! (the last one's is set by [`OutSamples::finish`]), so decode times cost nothing to store.

use super::{OutSample, Payload};
use crate::model::column::U32Column;
use crate::model::{Sample, SampleTable};

/// `origin` of a generated sample.
const GENERATED: u32 = u32::MAX;

/// Output samples in decode order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutSamples {
    /// Offset (input bytes) or generated index, size, timing and sync.
    table: SampleTable,
    /// The input each sample comes from, or [`GENERATED`].
    origin: U32Column,
    /// The input whose span each sample belongs to.
    slot: U32Column,
    /// The [`Payload::Spliced`] samples, few (one per parameter-set change): sample index,
    /// generated index and insertion point, in increasing sample index.
    spliced: Vec<(u32, u32, u32)>,
    /// The first sample that could not be stored as asked (a duration beyond 32 bits, a table
    /// beyond `u32::MAX` samples), reported by [`OutSamples::finish`].
    fault: Option<String>,
}

impl OutSamples {
    /// No samples.
    pub fn new() -> Self {
        Self::default()
    }

    /// No samples, room for `n` (the samples of the inputs' tracks: an output track has about as
    /// many).
    pub fn with_capacity(n: usize) -> Self {
        let mut out = Self::default();
        out.table.reserve(n);
        out
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Appends a sample; the previous sample's duration becomes the gap between their decode
    /// times. `s.duration` is ignored (see [`OutSamples::finish`]).
    pub fn push(&mut self, s: OutSample) {
        if let Some(prev) = self.table.last_dts() {
            let d = i128::from(s.dts) - i128::from(prev);
            match u32::try_from(d) {
                Ok(d) => self.table.set_last_duration(d),
                Err(_) => self.fault(format!("sample duration {d} does not fit 32 bits")),
            }
        }
        let (origin, offset) = match s.payload {
            Payload::Input { input, offset } => (input, offset),
            Payload::Generated(i) => (GENERATED, u64::from(i)),
            Payload::Spliced {
                input,
                offset,
                generated,
                at,
            } => {
                match u32::try_from(self.table.len()) {
                    Ok(k) => self.spliced.push((k, generated, at)),
                    Err(_) => self.fault("more than 2^32 samples".into()),
                }
                (input, offset)
            }
        };
        let pushed = self.table.push(Sample {
            offset,
            dts: s.dts,
            size: s.size,
            duration: 0,
            cts_offset: s.cts_offset,
            entry: s.entry,
            sync: s.sync,
        });
        if let Err(e) = pushed {
            self.fault(e.to_string());
            return;
        }
        self.origin.push(origin);
        self.slot.push(s.slot);
    }

    fn fault(&mut self, what: String) {
        self.fault.get_or_insert(what);
    }

    /// Sets the last sample's duration; the first fault met while pushing, if any, as an error.
    pub fn finish(&mut self, last_duration: i64) -> Result<(), String> {
        if let Some(f) = self.fault.take() {
            return Err(f);
        }
        if !self.is_empty() {
            let d = u32::try_from(last_duration)
                .map_err(|_| format!("sample duration {last_duration} does not fit 32 bits"))?;
            self.table.set_last_duration(d);
        }
        Ok(())
    }

    /// Moves every decode time by `delta` (decode times stay in range: callers move them towards 0).
    pub(crate) fn shift_dts(&mut self, delta: i64) {
        self.table.shift_dts(delta);
    }

    /// Adds `delta` to every composition offset; an error when one would overflow.
    pub(crate) fn add_cts(&mut self, delta: i32) -> Result<(), String> {
        if self.table.add_cts(delta) {
            Ok(())
        } else {
            Err("composition offset overflows".into())
        }
    }

    fn assemble(&self, k: usize, s: Sample, origin: u32, slot: u32) -> OutSample {
        let spliced = if self.spliced.is_empty() {
            None
        } else {
            u32::try_from(k).ok().and_then(|k| {
                self.spliced
                    .binary_search_by_key(&k, |&(i, _, _)| i)
                    .ok()
                    .map(|j| self.spliced[j])
            })
        };
        let payload = if origin == GENERATED {
            Payload::Generated(u32::try_from(s.offset).unwrap_or(u32::MAX))
        } else if let Some((_, generated, at)) = spliced {
            Payload::Spliced {
                input: origin,
                offset: s.offset,
                generated,
                at,
            }
        } else {
            Payload::Input {
                input: origin,
                offset: s.offset,
            }
        };
        OutSample {
            payload,
            size: s.size,
            dts: s.dts,
            duration: s.duration,
            cts_offset: s.cts_offset,
            sync: s.sync,
            slot,
            entry: s.entry,
        }
    }

    /// Sample `k`.
    pub fn get(&self, k: usize) -> Option<OutSample> {
        Some(self.assemble(
            k,
            self.table.get(k)?,
            self.origin.get(k)?,
            self.slot.get(k)?,
        ))
    }

    /// The first sample.
    pub fn first(&self) -> Option<OutSample> {
        self.get(0)
    }

    /// The last sample.
    pub fn last(&self) -> Option<OutSample> {
        self.get(self.len().checked_sub(1)?)
    }

    /// Samples in decode order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = OutSample> + ExactSizeIterator + '_ {
        self.iter_range(0..self.len())
    }

    /// Samples `range` (clamped) in decode order, without walking those before.
    pub fn iter_range(
        &self,
        range: std::ops::Range<usize>,
    ) -> impl DoubleEndedIterator<Item = OutSample> + ExactSizeIterator + '_ {
        let back = range.end.min(self.len());
        let front = range.start.min(back);
        let mut origin = self.origin.iter_from(front);
        let mut slot = self.slot.iter_from(front);
        let fwd = self.table.iter_range(front..back).map(move |s| {
            (
                s,
                origin.next().unwrap_or(GENERATED),
                slot.next().unwrap_or(0),
            )
        });
        Iter {
            out: self,
            fwd,
            front,
            back,
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.table.heap_bytes()
            + self.origin.heap_bytes()
            + self.slot.heap_bytes()
            + self.spliced.capacity() * std::mem::size_of::<(u32, u32, u32)>()
    }

    /// Gives back spare capacity.
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit();
        self.origin.shrink_to_fit();
        self.slot.shrink_to_fit();
        self.spliced.shrink_to_fit();
    }
}

impl FromIterator<OutSample> for OutSamples {
    /// Collects samples whose durations follow from their decode times (tests).
    fn from_iter<I: IntoIterator<Item = OutSample>>(iter: I) -> Self {
        let mut out = OutSamples::new();
        let mut last = 0;
        for s in iter {
            last = i64::from(s.duration);
            out.push(s);
        }
        let _ = out.finish(last);
        out
    }
}

impl<'a> IntoIterator for &'a OutSamples {
    type Item = OutSample;
    type IntoIter = Box<dyn DoubleEndedIterator<Item = OutSample> + 'a>;

    fn into_iter(self) -> Self::IntoIter {
        Box::new(self.iter())
    }
}

/// Forward steps walk the columns; backward steps look each sample up.
struct Iter<'a, F> {
    out: &'a OutSamples,
    fwd: F,
    front: usize,
    back: usize,
}

impl<F: Iterator<Item = (Sample, u32, u32)>> Iterator for Iter<'_, F> {
    type Item = OutSample;

    fn next(&mut self) -> Option<OutSample> {
        if self.front >= self.back {
            return None;
        }
        let k = self.front;
        self.front += 1;
        let (s, origin, slot) = self.fwd.next()?;
        Some(self.out.assemble(k, s, origin, slot))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<F: Iterator<Item = (Sample, u32, u32)>> DoubleEndedIterator for Iter<'_, F> {
    fn next_back(&mut self) -> Option<OutSample> {
        if self.front >= self.back {
            return None;
        }
        self.back -= 1;
        self.out.get(self.back)
    }
}

impl<F: Iterator<Item = (Sample, u32, u32)>> ExactSizeIterator for Iter<'_, F> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_follow_decode_times() {
        let mut o = OutSamples::new();
        for k in 0..100i64 {
            o.push(OutSample {
                payload: if k % 10 == 3 {
                    Payload::Generated(1)
                } else {
                    Payload::Input {
                        input: (k / 50) as u32,
                        offset: 100 + k as u64,
                    }
                },
                size: 5,
                dts: k * 1024 + (k % 2),
                duration: 0,
                cts_offset: (k % 3) as i32,
                sync: k % 7 == 0,
                slot: (k / 50) as u32,
                entry: (k / 50) as u16,
            });
        }
        assert_eq!(o.last().map(|s| s.duration), Some(0));
        o.finish(1024).expect("fits");
        let v: Vec<OutSample> = o.iter().collect();
        assert_eq!(v.len(), 100);
        for (k, s) in v.iter().enumerate() {
            let k = k as i64;
            assert_eq!(s.dts, k * 1024 + (k % 2));
            let want = if k == 99 {
                1024
            } else {
                1024 + ((k + 1) % 2) - (k % 2)
            };
            assert_eq!(i64::from(s.duration), want);
            assert_eq!(Some(*s), o.get(k as usize));
        }
        assert_eq!(v[3].payload, Payload::Generated(1));
        assert_eq!(
            v[60].payload,
            Payload::Input {
                input: 1,
                offset: 160
            }
        );
        assert_eq!(o.iter().next_back(), o.last());
        // The sample entry index is carried through the table's entries column.
        assert_eq!((v[49].entry, v[50].entry), (0, 1));
    }

    #[test]
    fn spliced_samples_come_back_with_their_insertion() {
        let s = |k: i64, payload| OutSample {
            payload,
            size: 10,
            dts: k * 10,
            duration: 0,
            cts_offset: 0,
            sync: k % 4 == 0,
            slot: 0,
            entry: 0,
        };
        let mut o = OutSamples::new();
        for k in 0..12i64 {
            let offset = 100 + 10 * k as u64;
            o.push(s(
                k,
                if k % 4 == 0 {
                    Payload::Spliced {
                        input: 0,
                        offset,
                        generated: k as u32 / 4,
                        at: k as u32,
                    }
                } else {
                    Payload::Input { input: 0, offset }
                },
            ));
        }
        o.finish(10).expect("fits");
        let v: Vec<OutSample> = o.iter().collect();
        for (k, x) in v.iter().enumerate() {
            let offset = 100 + 10 * k as u64;
            let want = if k % 4 == 0 {
                Payload::Spliced {
                    input: 0,
                    offset,
                    generated: k as u32 / 4,
                    at: k as u32,
                }
            } else {
                Payload::Input { input: 0, offset }
            };
            assert_eq!(x.payload, want, "sample {k}");
            assert_eq!(o.get(k), Some(*x), "get({k})");
        }
        assert_eq!(
            o.iter_range(8..12).next().map(|x| x.payload),
            Some(v[8].payload)
        );
        assert_eq!(o.iter().next_back(), o.last());
    }

    #[test]
    fn backwards_decode_time_is_a_fault() {
        let s = |dts| OutSample {
            payload: Payload::Generated(0),
            size: 1,
            dts,
            duration: 0,
            cts_offset: 0,
            sync: true,
            slot: 0,
            entry: 0,
        };
        let mut o = OutSamples::new();
        o.push(s(10));
        o.push(s(5));
        assert!(o.finish(1).is_err());
    }
}
