//! Sessions with start times: each output's inputs split into video and audio parts, each kind
//! planned at its wall-clock times (gaps held: the last frame lasts until the next, silence fills
//! the audio), the two plans combined on one timeline (see `combine`).
//!
//! With `--gaps skip` every segment is moved earlier by the absences before it, so segments
//! follow each other while everything inside a segment keeps its time (a camera turned off
//! inside a segment is still held). With `--per-segment` each segment is an output of its own.

use std::path::{Path, PathBuf};

use super::combine::{combine, KindPlan};
use super::segments::{self, Opened, Part};
use super::{add_chapters, file_name, segment_path, Gaps, SessionOptions};
use crate::error::{Error, MuxError, PlanError};
use crate::plan::{PlanOptions, StitchPlan, TimelineOptions};
use crate::time::{rescale_i128, Rounding, Ts};

/// The plans of a session's outputs (one, or one per segment), with the path of each.
pub(super) fn plan_session(
    opened: Vec<Opened>,
    output: &Path,
    session: &SessionOptions,
    scale: u64,
    plan_options: (&PlanOptions, crate::transcode::realize::RealizeOptions<'_>),
) -> Result<Vec<(PathBuf, StitchPlan)>, Error> {
    let groups = segments::group(&opened, scale);
    let spans: Vec<(i128, i128)> = groups
        .iter()
        .map(|g| {
            let walls = g.iter().map(|&i| opened[i].wall());
            (
                walls.clone().map(|w| w.0).min().unwrap_or(0),
                walls.map(|w| w.1).max().unwrap_or(0),
            )
        })
        .collect();
    let titles: Vec<String> = groups
        .iter()
        .map(|g| {
            g.iter()
                .map(|&i| file_name(&opened[i].path))
                .collect::<Vec<_>>()
                .join(" + ")
        })
        .collect();
    let outputs: Vec<(PathBuf, Vec<usize>)> = if session.per_segment {
        (0..groups.len())
            .map(|k| (segment_path(output, k), vec![k]))
            .collect()
    } else {
        vec![(output.to_path_buf(), (0..groups.len()).collect())]
    };
    let skip = session.gaps == Gaps::Skip;
    let mut taken: Vec<Option<Opened>> = opened.into_iter().map(Some).collect();
    let mut plans = Vec::with_capacity(outputs.len());
    for (path, segs) in outputs {
        // With skip, each segment moves earlier by the absences before it.
        let mut shifts = Vec::with_capacity(segs.len());
        let (mut shift, mut end) = (0i128, None::<i128>);
        for &k in &segs {
            let (s, e) = spans[k];
            if let (Some(prev), true) = (end, skip) {
                shift += (s - prev).max(0);
            }
            shifts.push(shift);
            end = Some(end.map_or(e, |p| p.max(e)));
        }
        let (mut video, mut audio) = (Vec::new(), Vec::new());
        for (&k, &sh) in segs.iter().zip(&shifts) {
            for &i in &groups[k] {
                let Some(mut o) = taken[i].take() else {
                    continue;
                };
                o.origin -= sh;
                let (v, a) = segments::split(o)?;
                video.extend(v);
                audio.extend(a);
            }
        }
        let held = !skip || session.per_segment;
        let v = plan_kind(video, scale, plan_options, held)?;
        let a = plan_kind(audio, scale, plan_options, held)?;
        let (mut plan, zero) = match (v, a) {
            (Some(v), a) => combine(v, a, scale)?,
            (None, Some(a)) => combine(a, None, scale)?,
            (None, None) => return Err(PlanError::NoInputs.into()),
        };
        crate::mem::release_free_heap();
        if session.chapters {
            let ms = u64::from(plan.movie_timescale.max(1));
            let list = segs
                .iter()
                .zip(&shifts)
                .map(|(&k, &sh)| {
                    let at = rescale_i128(
                        (spans[k].0 - sh - zero).max(0),
                        scale,
                        ms,
                        Rounding::Nearest,
                    )
                    .and_then(|v| u64::try_from(v).ok())
                    .unwrap_or(0);
                    (at, titles[k].clone())
                })
                .collect::<Vec<_>>();
            add_chapters(&mut plan, &list)?;
        }
        plans.push((path, plan));
    }
    Ok(plans)
}

/// Plans one kind's parts at their wall-clock times (in window order); `None` without parts.
/// The plan's time 0 is its first window's start (returned as `zero`, session ticks). Audio
/// whose format differs from the first's is re-encoded first, unless `refuse` (see
/// [`crate::transcode::realize::realize`]).
fn plan_kind(
    parts: Vec<Part>,
    scale: u64,
    (plan_options, refuse): (&PlanOptions, crate::transcode::realize::RealizeOptions<'_>),
    held: bool,
) -> Result<Option<KindPlan>, Error> {
    let mut keyed: Vec<(i128, Part)> = parts
        .into_iter()
        .map(|p| {
            let start = crate::plan::presentation_extent(&p.media, scale).map_or(0, |e| e.0);
            (p.origin + start, p)
        })
        .collect();
    keyed.sort_by_key(|(start, _)| *start);
    let Some(zero) = keyed.first().map(|k| k.0) else {
        return Ok(None);
    };
    let far = || MuxError::BadOptions("start times too far apart".into());
    let timescale = u32::try_from(scale).map_err(|_| far())?;
    let origins = keyed
        .iter()
        .map(|(_, p)| {
            i64::try_from(p.origin)
                .map(|v| Ts::new(v, timescale))
                .map_err(|_| far())
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut medias: Vec<_> = keyed.into_iter().map(|(_, p)| p.media).collect();
    let transcoded = crate::transcode::realize::realize(&mut medias, &refuse)?;
    let timeline = TimelineOptions {
        whole_inputs: true,
        origins: Some(origins),
    };
    let plan = crate::plan::plan_timeline(&medias, plan_options, &timeline).map_err(|e| match e {
        // A held frame's duration is a 32-bit sample duration.
        PlanError::Overflow {
            file,
            track,
            at,
            what,
        } if held => PlanError::Overflow {
            file,
            track,
            at,
            what: format!(
                "{what}: an absence this long cannot be held (--gaps skip joins the segments instead)"
            ),
        },
        e => e,
    })?;
    let mut plan = plan;
    plan.transcoded = transcoded;
    Ok(Some(KindPlan { plan, zero }))
}
