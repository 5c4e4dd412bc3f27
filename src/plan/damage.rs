//! Timestamp jumps inside one input: a damaged `tfdt` (or a recorder that lost its clock) makes a
//! track's decode time leap far ahead or go backwards between two samples. Taken at face value, a
//! 24 KB file would become a day of silence or a frozen frame. A forward jump larger than the whole
//! track's own duration (and than [`MIN_JUMP_SECONDS`]), or any backward one, is refused with its
//! location; `--best-effort` closes it instead (the samples after it follow on as if it had not
//! happened) and says so. A single sample lasting longer than [`MIN_JUMP_SECONDS`] and than all the
//! others together (a hundred times them, for video, whose frames may stay up long), a damaged
//! `trun`/`tfhd` duration, is the same damage seen from the other side: closing it gives the
//! sample the track's usual duration. Three or more video samples sharing one decode time (zero
//! durations inside the track) are damage too: a decoder cannot decode several frames at one
//! instant, and squeezing them a tick apart would leave their presentation times far beyond the
//! decode times (composition offsets larger than the track); closing gives each the usual
//! duration.

use crate::error::PlanError;
use crate::model::{Media, Track};

/// A forward gap shorter than this is never a jump: recorders leave real holes of a few seconds.
pub const MIN_JUMP_SECONDS: u64 = 10;

/// One jump: before sample `index`, decode time moves by `gap` ticks more than the previous
/// sample's duration (negative: backwards); or, with `long`, sample `index` itself lasts `gap`
/// ticks more than the track's usual duration.
struct Jump {
    index: usize,
    gap: i64,
    long: bool,
    /// Samples from `index` on sharing one decode time (0: not a stall).
    stall: usize,
}

/// A run of this many samples sharing one decode time is a stall.
const MIN_STALL: usize = 3;

/// The track's usual sample duration: the median of its first 64.
fn usual_duration(t: &Track) -> u32 {
    let mut d: Vec<u32> = t.samples.iter().map(|s| s.duration).take(64).collect();
    d.sort_unstable();
    d.get(d.len() / 2).copied().unwrap_or(0)
}

/// The longest media duration among `m`'s other tracks, in `t`'s ticks.
fn longest_other(m: &Media, t: &Track) -> Option<i64> {
    m.tracks
        .iter()
        .filter(|o| !std::ptr::eq(*o, t) && !o.samples.is_empty())
        .filter_map(|o| {
            crate::time::rescale(
                o.media_duration(),
                u64::from(o.timescale.max(1)),
                u64::from(t.timescale),
                crate::time::Rounding::Up,
            )
        })
        .max()
}

fn jumps(t: &Track, other: Option<i64>) -> Vec<Jump> {
    let total: i64 = t.samples.iter().map(|s| i64::from(s.duration)).sum();
    let min = i64::from(t.timescale).saturating_mul(MIN_JUMP_SECONDS as i64);
    let usual = i64::from(usual_duration(t));
    let mut out = Vec::new();
    let mut prev: Option<(i64, i64)> = None;
    for (k, s) in t.samples.iter().enumerate() {
        if let Some((dts, duration)) = prev {
            let gap = s.dts.saturating_sub(dts.saturating_add(duration));
            if s.dts < dts || (gap > total && gap > min) {
                out.push(Jump {
                    index: k,
                    gap,
                    long: false,
                    stall: 0,
                });
            }
        }
        let d = i64::from(s.duration);
        // An audio packet decodes to a fixed, short frame: lasting longer than all the others is
        // damage. A video frame may legitimately stay up long (a still screen share), so only one
        // lasting a hundred times all the others, or ten times another whole track, is.
        let others = (total - d).max(0);
        let bound = if t.kind == crate::model::TrackKind::Audio {
            others
        } else {
            others.saturating_mul(100)
        };
        // Or ten times as long as the whole of another track of the same file.
        let beyond_other = other.is_some_and(|o| d > o.saturating_mul(10));
        if d > min && (d > bound || beyond_other) {
            out.push(Jump {
                index: k,
                gap: d - usual,
                long: true,
                stall: 0,
            });
        }
        prev = Some((s.dts, d));
    }
    if t.kind != crate::model::TrackKind::Audio {
        out.extend(stalls(t));
        out.sort_by_key(|j| j.index);
    }
    out
}

/// Runs of [`MIN_STALL`] or more samples sharing one decode time.
fn stalls(t: &Track) -> Vec<Jump> {
    let mut out = Vec::new();
    let mut run_start = 0usize;
    let mut run_dts = None;
    let n = t.samples.len();
    let close = |start: usize, end: usize, out: &mut Vec<Jump>| {
        if end - start >= MIN_STALL {
            out.push(Jump {
                index: start,
                gap: 0,
                long: false,
                stall: end - start,
            });
        }
    };
    for (k, s) in t.samples.iter().enumerate() {
        if run_dts != Some(s.dts) {
            close(run_start, k, &mut out);
            run_start = k;
            run_dts = Some(s.dts);
        }
    }
    close(run_start, n, &mut out);
    out
}

fn describe(t: &Track, j: &Jump) -> String {
    let secs = j.gap as f64 / f64::from(t.timescale.max(1));
    let held: i64 = t.samples.iter().map(|s| i64::from(s.duration)).sum();
    let held = held as f64 / f64::from(t.timescale.max(1));
    if j.stall > 0 {
        let at = t.samples.get(j.index).map_or(0, |s| s.dts) as f64 / f64::from(t.timescale.max(1));
        format!(
            "samples {}..={} share one decode time ({at:.3} s): a decoder cannot decode them at one instant",
            j.index,
            j.index + j.stall - 1
        )
    } else if j.long {
        let scale = f64::from(t.timescale.max(1));
        let d = t.samples.get(j.index).map_or(0, |s| s.duration);
        format!(
            "sample {} lasts {:.3} s, where the track's samples usually last {:.3} s",
            j.index,
            f64::from(d) / scale,
            f64::from(usual_duration(t)) / scale
        )
    } else if j.gap < 0 {
        format!(
            "decode time goes back {:.3} s before sample {}",
            -secs, j.index
        )
    } else {
        format!(
            "decode time jumps {secs:.3} s ahead before sample {} (the track holds {held:.3} s of samples)",
            j.index
        )
    }
}

/// Refuses an input whose timestamps jump (see the module documentation).
pub(super) fn check_jumps(m: &Media) -> Result<(), PlanError> {
    for t in &m.tracks {
        if let Some(j) = jumps(t, longest_other(m, t)).first() {
            let offset = t.samples.get(j.index).map_or(0, |s| s.offset);
            return Err(PlanError::TimestampJump {
                file: m.name().to_string(),
                track: format!("{} track {}", t.kind.as_str(), t.id),
                offset,
                what: describe(t, j),
            });
        }
    }
    Ok(())
}

/// Closes every timestamp jump of `m` (the samples after a jump follow the one before it) and
/// returns one warning per jump closed. Used by `--best-effort`.
pub fn close_jumps(m: &mut Media) -> Vec<String> {
    let name = m.name().to_string();
    let mut warnings = Vec::new();
    let others: Vec<Option<i64>> = m.tracks.iter().map(|t| longest_other(m, t)).collect();
    for (t, other) in m.tracks.iter_mut().zip(others) {
        let found = jumps(t, other);
        if found.is_empty() {
            continue;
        }
        for j in &found {
            warnings.push(format!(
                "{name}: {} track {}: {}; closed (best effort)",
                t.kind.as_str(),
                t.id,
                describe(t, j)
            ));
        }
        let usual = usual_duration(t);
        let mut fix = 0i64;
        let mut next = found.iter().peekable();
        let mut fixed = crate::model::SampleTable::new();
        let mut stalled = 0usize;
        for (k, mut s) in t.samples.iter().enumerate() {
            s.dts = s.dts.saturating_sub(fix);
            if stalled > 0 {
                // Inside a stall: this sample decodes one usual duration after the one before.
                stalled -= 1;
                fix = fix.saturating_sub(i64::from(usual));
                s.dts = s.dts.saturating_add(i64::from(usual));
                if stalled > 0 && s.duration == 0 {
                    s.duration = usual;
                }
            }
            while let Some(j) = next.next_if(|j| j.index == k) {
                if j.stall > 0 {
                    stalled = j.stall - 1;
                    if s.duration == 0 {
                        s.duration = usual;
                    }
                    continue;
                }
                if j.long {
                    // Its own duration is the damage; the samples after it move back by it.
                    s.duration = usual;
                } else {
                    s.dts = s.dts.saturating_sub(j.gap);
                }
                fix = fix.saturating_add(j.gap);
            }
            // As many samples as before: cannot be full.
            let _ = fixed.push(s);
        }
        // The same samples in the same order: an encrypted track keeps its entries.
        if let Some(aux) = t.samples.aux() {
            let _ = fixed.set_aux(aux.clone());
        }
        t.samples = fixed;
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forward_jump_beyond_the_track_is_found_and_closed() {
        let mut t = crate::model::tests_support::track(48_000, &[0, 1024, 2048, 4_000_000_000]);
        let found = jumps(&t, None);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].index, 3);
        let mut m = crate::model::tests_support::media(vec![t.clone()]);
        let w = close_jumps(&mut m);
        assert_eq!(w.len(), 1);
        t = m.tracks.remove(0);
        let d: Vec<i64> = t.samples.iter().map(|s| s.dts).collect();
        assert_eq!(d, vec![0, 1024, 2048, 3072]);
        assert!(check_jumps(&m).is_ok());
    }

    #[test]
    fn samples_sharing_one_decode_time_are_a_stall() {
        let mut t = crate::model::tests_support::track(1000, &[0, 40, 80, 80, 80, 80, 120]);
        t.kind = crate::model::TrackKind::Video;
        let mut v: Vec<crate::model::Sample> = t.samples.iter().collect();
        for (k, s) in v.iter_mut().enumerate() {
            s.duration = if (2..5).contains(&k) { 0 } else { 40 };
        }
        t.samples = v.into_iter().collect();
        let found = jumps(&t, None);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].index, found[0].stall), (2, 4));
        let mut m = crate::model::tests_support::media(vec![t]);
        assert!(check_jumps(&m).is_err());
        assert_eq!(close_jumps(&mut m).len(), 1);
        let d: Vec<(i64, u32)> = m.tracks[0]
            .samples
            .iter()
            .map(|s| (s.dts, s.duration))
            .collect();
        assert_eq!(
            d,
            vec![
                (0, 40),
                (40, 40),
                (80, 40),
                (120, 40),
                (160, 40),
                (200, 40),
                (240, 40)
            ]
        );
        assert!(check_jumps(&m).is_ok());
        // Two samples at one time (a squeezable collision) are not a stall; audio never is.
        let t = crate::model::tests_support::track(1000, &[0, 40, 40, 80]);
        assert!(stalls(&t).is_empty());
    }

    #[test]
    fn small_or_proportionate_gaps_are_not_jumps() {
        // 5 s hole in a 2-sample track: under MIN_JUMP_SECONDS.
        let t = crate::model::tests_support::track(1000, &[0, 5000]);
        assert!(jumps(&t, None).is_empty());
        // 20 s hole in a track holding 60 s of samples: a real gap, filled by the planner.
        let mut dts: Vec<i64> = (0..60).map(|k| k * 1000).collect();
        dts.push(80_000);
        let t = crate::model::tests_support::track(1000, &dts);
        assert!(jumps(&t, None).is_empty());
    }

    #[test]
    fn one_sample_lasting_longer_than_the_track_is_closed() {
        let mut t = crate::model::tests_support::track(1000, &[0, 1024, 2048]);
        let mut v: Vec<crate::model::Sample> = t.samples.iter().collect();
        v[1].duration = 20_000_000;
        v[2].dts = 1024 + 20_000_000;
        t.samples = v.into_iter().collect();
        let found = jumps(&t, None);
        assert_eq!(found.len(), 1);
        assert!(found[0].long);
        let mut m = crate::model::tests_support::media(vec![t]);
        assert!(check_jumps(&m).is_err());
        assert_eq!(close_jumps(&mut m).len(), 1);
        let d: Vec<(i64, u32)> = m.tracks[0]
            .samples
            .iter()
            .map(|s| (s.dts, s.duration))
            .collect();
        assert_eq!(d, vec![(0, 1024), (1024, 1024), (2048, 1024)]);
        assert!(check_jumps(&m).is_ok());
    }

    #[test]
    fn backward_jump_is_found() {
        let t = crate::model::tests_support::track(1000, &[0, 1000, 500]);
        let found = jumps(&t, None);
        assert_eq!(found.len(), 1);
        assert!(found[0].gap < 0);
    }
}
