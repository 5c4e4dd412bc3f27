//! After planning: the samples of a merged segment (several files read as one
//! [`ConcatSource`](crate::source::ConcatSource)) are pointed back at their own files, and
//! interleaved by the second.
//!
//! The progressive writer orders chunks, within one planner input's span, by that input's byte
//! order. For an A+V file that is the file's own interleaving; for a segment made of an audio file
//! and a video file it would put all the segment's video before all its audio (a file a player
//! streaming it must read in two places at once). So each sample of a merged segment gets the
//! "slot" (the writer's ordering key) of its segment *and* of the second of the output it is
//! presented in, which interleaves audio and video once per second. Samples of other segments
//! keep one slot per segment. Pointing samples at the files themselves (appended to the plan's
//! inputs; the merged sources stay for names and reports) lets the writer copy them by
//! `copy_file_range` instead of through a buffer.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::segments::Part;
use crate::error::{Error, PlanError};
use crate::plan::{OutSamples, OutTrack, Payload, StitchPlan};
use crate::source::Source;

/// Rewrites `plan` as described above; `parts[i]` lists the files of planner input `i` when it is
/// a merged segment.
pub(super) fn split_merged(
    plan: &mut StitchPlan,
    parts: &[Option<Vec<Part>>],
) -> Result<(), Error> {
    if parts.iter().all(Option::is_none) {
        return Ok(());
    }
    // Where each merged input's files go among the plan's inputs.
    let mut first_index: Vec<Option<u32>> = Vec::with_capacity(parts.len());
    for p in parts {
        match p {
            Some(files) => {
                let at = u32::try_from(plan.inputs.len()).map_err(|_| too_many())?;
                first_index.push(Some(at));
                plan.inputs
                    .extend(files.iter().map(|(s, _)| s.clone() as Arc<dyn Source>));
            }
            None => first_index.push(None),
        }
    }
    // The writer's slot of each sample: (planner input, second of the output) for merged
    // segments, (planner input, 0) otherwise; numbered in that order.
    let keys: Vec<Vec<(u32, i64)>> = plan
        .tracks
        .iter()
        .map(|t| slot_keys(t, plan.movie_timescale, parts))
        .collect();
    let mut numbers: BTreeMap<(u32, i64), u32> = keys.iter().flatten().map(|&k| (k, 0)).collect();
    for (n, v) in numbers.values_mut().enumerate() {
        *v = u32::try_from(n).map_err(|_| too_many())?;
    }
    for (t, keys) in plan.tracks.iter_mut().zip(keys) {
        let mut out = OutSamples::with_capacity(t.samples.len());
        let mut last = 0i64;
        for (mut s, key) in t.samples.iter().zip(keys) {
            if let Payload::Input { input, offset } = s.payload {
                if let (Some(Some(files)), Some(Some(first))) =
                    (parts.get(input as usize), first_index.get(input as usize))
                {
                    // The last file starting at or before the offset.
                    let k = files
                        .partition_point(|(_, base)| *base <= offset)
                        .saturating_sub(1);
                    let base = files.get(k).map_or(0, |f| f.1);
                    s.payload = Payload::Input {
                        input: first + k as u32,
                        offset: offset - base,
                    };
                }
            }
            s.slot = numbers.get(&key).copied().unwrap_or(0);
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
    }
    Ok(())
}

fn too_many() -> Error {
    crate::error::MuxError::TooLarge("more than 2^32 inputs or interleaving slots".into()).into()
}

/// Each sample's (planner input, second) key: the second in which the output presents it,
/// read through the track's first edits (an empty edit, then media from `media_time`).
fn slot_keys(t: &OutTrack, movie_timescale: u32, parts: &[Option<Vec<Part>>]) -> Vec<(u32, i64)> {
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
    t.samples
        .iter()
        .map(|s| {
            let merged = parts.get(s.slot as usize).is_some_and(Option::is_some);
            let second = if merged {
                let ticks =
                    i128::from(empty) * ts + (i128::from(s.dts) - i128::from(media_time)) * ms;
                i64::try_from(ticks.div_euclid(ts * ms).max(0)).unwrap_or(i64::MAX)
            } else {
                0
            };
            (s.slot, second)
        })
        .collect()
}
