//! 33-bit PTS/DTS (ISO/IEC 13818-1 §2.4.3.7) on a monotonic `i64` timeline.

use super::TS_MASK;

/// Turns 33-bit timestamps into one monotonic `i64` timeline: each value is placed at the
/// unwrapped time nearest the previous one, so crossing 2^33 (26.5 hours at 90 kHz) continues
/// upwards and small steps back (B-frame PTS, audio before video) stay small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unwrapper {
    last: Option<i64>,
}

impl Unwrapper {
    /// The unwrapped time of the 33-bit timestamp `ts`.
    pub fn unwrap(&mut self, ts: u64) -> i64 {
        let ts = (ts & TS_MASK) as i64;
        let t = match self.last {
            None => ts,
            Some(last) => {
                const PERIOD: i64 = 1 << 33;
                const HALF: i64 = 1 << 32;
                let diff = (ts - last.rem_euclid(PERIOD)).rem_euclid(PERIOD);
                let step = if diff >= HALF { diff - PERIOD } else { diff };
                last.saturating_add(step)
            }
        };
        self.last = Some(t);
        t
    }
}
