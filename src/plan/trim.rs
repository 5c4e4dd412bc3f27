//! Samples that cannot be written as they are, left out before planning: samples an edit list
//! never presents at the end of a video (or other non-audio) track, and samples of zero bytes.
//!
//! The timeline places the next input right after an input's edit ends. Samples of the earlier
//! input that are presented only after that end would then play over the next input's first
//! frames: the progressive output's single edit would show them, and players that ignore edit
//! lists for movie fragments (ffmpeg) show them in `--fragmented` output, with presentation times
//! going backwards. A track whose media runs on past its edit is common after cutting (a few
//! frames) and is what damaged headers look like (a changed movie timescale or stts delta makes the
//! media seconds or minutes longer than the edit).
//!
//! Only a *suffix* in decode order is dropped, and only samples presented at or after the edit's
//! end: no sample that is presented can depend on a sample decoded after it that is dropped,
//! since every dropped sample comes after every kept one in decode order. Audio is not trimmed
//! here: its planner already leaves out packets past the edit and reports them per join.
//!
//! A sample of zero bytes carries no access unit: decoders have nothing to decode, ffmpeg skips
//! it when reading a sample table, and refuses a `trun` holding one ("error reading header"), so a
//! `--fragmented` output with one cannot be opened. Leaving it out is what players do anyway: the
//! previous video frame stays up for its duration (durations follow from the next decode time),
//! and the audio planner fills the hole with a silent frame, as for any other gap.

use crate::model::{Media, Track, TrackKind};
use crate::time::{rescale, Rounding};

/// Media time (track ticks) where a track's presentation ends, from the same edits the timeline
/// reads (`timeline::span`): the first media edit, plus every edit after it. `None` when the
/// track has no edit list or its edit runs to the end of the media (duration 0).
fn edit_end(m: &Media, t: &Track) -> Option<i64> {
    let mut edits = t.edits.iter().skip_while(|e| e.is_empty());
    let first = edits.next()?;
    if first.segment_duration == 0 {
        return None;
    }
    let total = edits.fold(first.segment_duration, |acc, e| {
        acc.saturating_add(e.segment_duration)
    });
    let total = i64::try_from(total).ok()?;
    let ticks = rescale(
        total,
        u64::from(m.movie_timescale),
        u64::from(t.timescale),
        Rounding::Up,
    )?;
    first.media_time.checked_add(ticks)
}

/// Samples of zero bytes in `t`.
fn empty_samples(t: &Track) -> usize {
    t.samples.iter().filter(|s| s.size == 0).count()
}

/// How many leading samples (decode order) of `t` to keep: all but the longest suffix presented
/// at or after the edit's end; at least one, so the track keeps its role in the plan.
fn kept(m: &Media, t: &Track) -> usize {
    if t.kind == TrackKind::Audio {
        return t.samples.len();
    }
    let Some(end) = edit_end(m, t) else {
        return t.samples.len();
    };
    let mut keep = t.samples.len();
    while keep > 1 {
        match t.samples.get(keep - 1) {
            Some(s) if s.cts() >= end => keep -= 1,
            _ => break,
        }
    }
    keep
}

/// The inputs with unpresented trailing samples left out, or `None` when nothing is dropped (the
/// common case: no copy of the sample tables is made). Each drop is described in `warnings`.
pub(super) fn trim_past_edits(inputs: &[Media], warnings: &mut Vec<String>) -> Option<Vec<Media>> {
    let any = inputs.iter().any(|m| {
        m.tracks
            .iter()
            .any(|t| kept(m, t) < t.samples.len() || empty_samples(t) > 0)
    });
    if !any {
        return None;
    }
    let mut out = inputs.to_vec();
    for m in &mut out {
        let movie_timescale = m.movie_timescale;
        let name = m.name().to_string();
        for ti in 0..m.tracks.len() {
            let keep = kept(m, &m.tracks[ti]);
            let t = &mut m.tracks[ti];
            let n = t.samples.len();
            if keep < n {
                warnings.push(format!(
                    "{name}: track {}: {} of {n} samples are presented only after the end of its edit list (movie timescale {movie_timescale}); left out",
                    t.id,
                    n - keep
                ));
                t.samples.truncate(keep);
            }
            let empty = empty_samples(t);
            // All-empty tracks keep their samples: the track would vanish from the plan, and
            // there is nothing to decode either way.
            if empty > 0 && empty < t.samples.len() {
                warnings.push(format!(
                    "{name}: track {}: {empty} samples of zero bytes (nothing to decode) left out",
                    t.id
                ));
                t.samples.retain(|s| s.size > 0);
            }
        }
    }
    Some(out)
}
