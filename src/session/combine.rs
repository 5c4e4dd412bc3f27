//! One output from the video plan and the audio plan of a session.
//!
//! Video and audio are planned separately (each kind's inputs at their wall-clock times, see
//! `segments`), each plan starting at its first input's window. The output starts at the earlier
//! of the two: the later plan's tracks get an empty edit for the difference, and every boundary of
//! the second plan's edit lists (and its join times) is converted to the first plan's movie
//! timescale from the exact wall-clock offset, rounded once. The second plan's inputs (those the
//! first does not already read) and generated frames are appended to the first's (its samples
//! renumbered).
//!
//! **Interleaving.** The progressive writer orders chunks by each sample's `slot`, then by input
//! byte order. Every sample's slot becomes the second of the output in which it is presented, so
//! audio and video are interleaved once per second (a player streaming the file reads it in one
//! place), and within a second each file's bytes stay in file order (copied in long runs).

use std::sync::Arc;

use crate::error::{Error, MuxError, PlanError};
use crate::model::Edit;
use crate::plan::{OutSamples, OutTrack, Payload, StitchPlan};
use crate::time::{div_round, Rounding};

/// A kind's plan and the wall-clock time (session ticks) of its time 0.
pub(super) struct KindPlan {
    pub plan: StitchPlan,
    pub zero: i128,
}

/// The output plan: `first` (video, when there is video) and `second` on one timeline starting
/// at the earlier of their zeros. Returns the plan and its zero (session ticks).
pub(super) fn combine(
    first: KindPlan,
    second: Option<KindPlan>,
    scale: u64,
) -> Result<(StitchPlan, i128), Error> {
    let zero = second
        .as_ref()
        .map_or(first.zero, |s| s.zero.min(first.zero));
    let mut plan = first.plan;
    let ms = i128::from(plan.movie_timescale.max(1));
    let sc = i128::from(scale.max(1));
    // Session ticks plus movie ticks of scale `from`, to movie ticks of the output, rounded once.
    let to_out = |d: i128, ticks: i128, from: i128| -> Result<u64, Error> {
        let v = div_round((d * from + ticks * sc) * ms, sc * from, Rounding::Nearest);
        u64::try_from(v).map_err(|_| too_long())
    };
    let d1 = first.zero - zero;
    // The movie lasts as long as the planners said (their windows), moved like their tracks.
    let mut duration = to_out(d1, i128::from(plan.duration), ms)?;
    for t in &mut plan.tracks {
        t.edits = moved_edits(&t.edits, d1, ms, &to_out)?;
    }
    for j in &mut plan.joins {
        j.start = to_out(d1, i128::from(j.start), ms)?;
    }
    for s in &mut plan.input_starts {
        *s = to_out(d1, i128::from(*s), ms)?;
    }
    let first_tracks = plan.tracks.len();
    let n_generated = u32::try_from(plan.generated.len()).map_err(|_| too_long())?;
    if let Some(KindPlan {
        plan: mut b,
        zero: z2,
    }) = second
    {
        // The second plan's inputs among the output's: a file both plans read (an A+V file's
        // video part and audio part) is one input, so its interleaved bytes copy in long runs.
        let mut map = Vec::with_capacity(b.inputs.len());
        for src in std::mem::take(&mut b.inputs) {
            let at = match plan.inputs.iter().position(|p| Arc::ptr_eq(p, &src)) {
                Some(j) => j,
                None => {
                    plan.inputs.push(src);
                    plan.inputs.len() - 1
                }
            };
            map.push(u32::try_from(at).map_err(|_| too_long())?);
        }
        let input_of = |i: usize| map.get(i).copied().unwrap_or(0);
        let from = i128::from(b.movie_timescale.max(1));
        let d2 = z2 - zero;
        duration = duration.max(to_out(d2, i128::from(b.duration), from)?);
        for mut t in b.tracks {
            t.edits = moved_edits(&t.edits, d2, from, &to_out)?;
            for s in &mut t.segments {
                s.input = input_of(s.input) as usize;
            }
            interleave(&mut t, plan.movie_timescale, Some((&map, n_generated)))?;
            plan.tracks.push(t);
        }
        for mut j in b.joins {
            j.input = input_of(j.input) as usize;
            j.start = to_out(d2, i128::from(j.start), from)?;
            for t in &mut j.tracks {
                t.track += first_tracks;
            }
            plan.joins.push(j);
        }
        for s in b.input_starts {
            plan.input_starts.push(to_out(d2, i128::from(s), from)?);
        }
        for mut t in b.transcoded {
            t.input = input_of(t.input) as usize;
            t.output_track += first_tracks;
            plan.transcoded.push(t);
        }
        plan.generated.extend(b.generated);
        plan.pssh.extend(b.pssh);
        plan.warnings.extend(b.warnings);
        if plan.udta.is_none() {
            plan.udta = b.udta;
            plan.meta = b.meta;
        }
    }
    plan.joins.sort_by_key(|j| j.start);
    plan.duration = plan
        .tracks
        .iter()
        .map(OutTrack::presentation_duration)
        .max()
        .unwrap_or(0)
        .max(duration);
    let movie_timescale = plan.movie_timescale;
    for t in plan.tracks.iter_mut().take(first_tracks) {
        interleave(t, movie_timescale, None)?;
    }
    Ok((plan, zero))
}

/// Audio and video are interleaved in runs of this many seconds of the output (see the module
/// notes): one run per file and period is copied, so longer runs cost fewer copy calls.
const INTERLEAVE_SECONDS: u32 = 1;

fn too_long() -> Error {
    MuxError::TooLarge("session timeline out of range".into()).into()
}

/// `edits` (movie ticks of scale `from`) delayed by `d` session ticks, in the output's movie
/// ticks: every boundary converted from its exact time.
fn moved_edits(
    edits: &[Edit],
    d: i128,
    from: i128,
    to_out: &dyn Fn(i128, i128, i128) -> Result<u64, Error>,
) -> Result<Vec<Edit>, Error> {
    let mut out = Vec::with_capacity(edits.len() + 1);
    let start = to_out(d, 0, from)?;
    if start > 0 {
        out.push(Edit {
            segment_duration: start,
            media_time: -1,
            media_rate: 0x10000,
        });
    }
    let (mut acc, mut prev) = (0i128, start);
    for e in edits {
        acc += i128::from(e.segment_duration);
        let end = to_out(d, acc, from)?;
        let duration = end.saturating_sub(prev);
        prev = end;
        match out.last_mut() {
            // Two empty edits in a row are one.
            Some(last) if last.is_empty() && e.is_empty() => last.segment_duration += duration,
            _ => out.push(Edit {
                segment_duration: duration,
                ..*e
            }),
        }
    }
    Ok(out)
}

/// Sets every sample's slot to the period of the output in which it is presented, read through
/// the track's first edits (an empty edit, then media from `media_time`); with `renumber`
/// (`inputs[i]` for the plan's input `i`, and the first generated index), also points the
/// samples of an appended plan's track at the output's inputs and generated frames.
fn interleave(
    t: &mut OutTrack,
    movie_timescale: u32,
    renumber: Option<(&[u32], u32)>,
) -> Result<(), Error> {
    let empty: u64 = t
        .edits
        .iter()
        .take_while(|e| e.is_empty())
        .map(|e| e.segment_duration)
        .sum();
    let media_time = t
        .edits
        .iter()
        .find(|e| !e.is_empty())
        .map_or(0, |e| e.media_time);
    let (ts, ms) = (
        i128::from(t.timescale.max(1)),
        i128::from(movie_timescale.max(1)),
    );
    let index = |i: u32| {
        renumber.map_or(i, |(inputs, _)| {
            inputs.get(i as usize).copied().unwrap_or(0)
        })
    };
    let generated = renumber.map_or(0, |(_, g)| g);
    rebuild(t, |s| {
        s.payload = match s.payload {
            Payload::Input { input, offset } => Payload::Input {
                input: index(input),
                offset,
            },
            Payload::Generated(g) => Payload::Generated(g + generated),
            Payload::Spliced {
                input,
                offset,
                generated: g,
                at,
            } => Payload::Spliced {
                input: index(input),
                offset,
                generated: g + generated,
                at,
            },
        };
        let ticks = i128::from(empty) * ts + (i128::from(s.dts) - i128::from(media_time)) * ms;
        let period = ts * ms * i128::from(INTERLEAVE_SECONDS);
        s.slot = u32::try_from(ticks.div_euclid(period).max(0)).unwrap_or(u32::MAX);
    })
}

/// Rebuilds a track's samples with `f` applied to each (timing unchanged).
fn rebuild(t: &mut OutTrack, mut f: impl FnMut(&mut crate::plan::OutSample)) -> Result<(), Error> {
    let mut out = OutSamples::with_capacity(t.samples.len());
    let mut last = 0i64;
    for mut s in t.samples.iter() {
        f(&mut s);
        last = i64::from(s.duration);
        out.push(s);
    }
    out.finish(last).map_err(|what| PlanError::Overflow {
        file: String::new(),
        track: t.kind.as_str().into(),
        at: None,
        what,
    })?;
    t.samples = out;
    Ok(())
}
