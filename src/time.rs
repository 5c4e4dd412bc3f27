//! Exact media time.
//!
//! Every timestamp in seam is an integer count of ticks of a known timescale. Conversions between
//! timescales go through [`rescale`], the one place where rounding happens, using 128-bit integer
//! arithmetic (never `f64`), so a value is rounded at most once on its way to the output.

use std::fmt;

/// How [`rescale`] rounds a result that is not a whole number of ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rounding {
    /// Towards negative infinity.
    Down,
    /// Towards positive infinity.
    Up,
    /// To the nearest tick, halves away from zero.
    Nearest,
}

/// Converts `value` ticks of `from` Hz into ticks of `to` Hz. `None` when a timescale is zero or the
/// result does not fit in an `i64`.
pub fn rescale(value: i64, from: u64, to: u64, rounding: Rounding) -> Option<i64> {
    rescale_i128(i128::from(value), from, to, rounding).and_then(|v| i64::try_from(v).ok())
}

/// [`rescale`] on 128-bit values, for timeline arithmetic in a large common timescale.
pub fn rescale_i128(value: i128, from: u64, to: u64, rounding: Rounding) -> Option<i128> {
    if from == 0 || to == 0 {
        return None;
    }
    if from == to {
        return Some(value);
    }
    let num = value.checked_mul(i128::from(to))?;
    let den = i128::from(from);
    Some(div_round(num, den, rounding))
}

/// Integer division of `num` by a positive `den` with the given rounding.
pub fn div_round(num: i128, den: i128, rounding: Rounding) -> i128 {
    debug_assert!(den > 0);
    let q = num.div_euclid(den);
    let r = num.rem_euclid(den); // 0 <= r < den, q rounds down
    match rounding {
        Rounding::Down => q,
        Rounding::Up => {
            if r == 0 {
                q
            } else {
                q + 1
            }
        }
        Rounding::Nearest => {
            // Halves away from zero: for negative values a half rounds down.
            let twice = 2 * r;
            if twice > den || (twice == den && num >= 0) {
                q + 1
            } else {
                q
            }
        }
    }
}

/// Greatest common divisor.
pub fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Least common multiple, `None` on overflow or zero.
pub fn lcm(a: u64, b: u64) -> Option<u64> {
    if a == 0 || b == 0 {
        return None;
    }
    (a / gcd(a, b)).checked_mul(b)
}

/// A timestamp that carries its timescale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ts {
    /// Ticks.
    pub value: i64,
    /// Ticks per second.
    pub timescale: u32,
}

impl Ts {
    /// A timestamp of `value` ticks at `timescale` Hz.
    pub const fn new(value: i64, timescale: u32) -> Self {
        Ts { value, timescale }
    }

    /// The same instant in another timescale, rounded once as asked.
    pub fn to_scale(self, timescale: u32, rounding: Rounding) -> Option<Ts> {
        rescale(
            self.value,
            self.timescale.into(),
            timescale.into(),
            rounding,
        )
        .map(|value| Ts { value, timescale })
    }

    /// Seconds, for display only (never for arithmetic).
    pub fn seconds_for_display(self) -> f64 {
        if self.timescale == 0 {
            return 0.0;
        }
        self.value as f64 / f64::from(self.timescale)
    }
}

impl fmt::Display for Ts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.seconds_for_display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_is_exact_when_divisible() {
        assert_eq!(rescale(48000, 48000, 90000, Rounding::Nearest), Some(90000));
        assert_eq!(rescale(1024, 48000, 1000, Rounding::Down), Some(21));
        assert_eq!(rescale(1024, 48000, 1000, Rounding::Up), Some(22));
        assert_eq!(rescale(1024, 48000, 1000, Rounding::Nearest), Some(21));
    }

    #[test]
    fn nearest_rounds_halves_away_from_zero() {
        assert_eq!(div_round(3, 2, Rounding::Nearest), 2);
        assert_eq!(div_round(-3, 2, Rounding::Nearest), -2);
        assert_eq!(div_round(-1, 4, Rounding::Nearest), 0);
        assert_eq!(div_round(-3, 4, Rounding::Nearest), -1);
        assert_eq!(div_round(-3, 4, Rounding::Down), -1);
        assert_eq!(div_round(-3, 4, Rounding::Up), 0);
    }

    #[test]
    fn overflow_is_reported() {
        assert_eq!(rescale(i64::MAX, 1, 2, Rounding::Down), None);
        assert_eq!(rescale(1, 0, 2, Rounding::Down), None);
    }

    #[test]
    fn lcm_works() {
        assert_eq!(lcm(12800, 48000), Some(192_000));
        assert_eq!(lcm(u64::MAX, u64::MAX - 1), None);
    }
}
