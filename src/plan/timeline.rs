//! The output timeline.
//!
//! Inputs are laid back to back: input *i* starts at `T[i]`, the sum of the presentation durations
//! of the inputs before it, kept as an exact integer in a timescale every input timescale divides
//! (the *timeline scale*). All tracks of one input are shifted by that same start, so each input's
//! own A/V offset is kept; every shift is rounded once from the exact start, so nothing drifts over
//! many joins.
//!
//! Video and other tracks keep their sample timing and are moved as a block. Audio must stay
//! contiguous (each packet starts where the previous ends), so at each join the planner picks the
//! first packet of the next input whose ideal position is nearest the end of the audio written so
//! far: the A/V error is at most half a packet and is measured against the exact ideal, never
//! carried to the next join. Spans with no audio get silent frames (see [`super::audio`]).

use super::locate::{overflow_at, overflow_at_payload};
use super::{compat, Action, Join, OutSample, OutTrack, Segment, StitchPlan};
use crate::error::PlanError;
use crate::model::{Edit, Media, Track, TrackKind};
use crate::time::{div_round, lcm, rescale, Rounding};

/// Fallback timeline scale (705,600,000 "flicks" per second) when the timescales' least common
/// multiple is too large: every common video and audio rate divides it.
const FLICKS: u64 = 705_600_000;

/// Where one input track sits within its own input's presentation, in timeline ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Presentation start within the input (empty edits, or start offset without an edit list).
    pub start: i128,
    /// Media time (track ticks) presented at `start`.
    pub media_time: i64,
    /// Presentation duration.
    pub duration: i128,
}

/// Role of an output track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Video,
    Audio,
    Extra(usize),
}

/// Index of the track playing `role` in `m`, if any.
pub(super) fn role_track(m: &Media, role: Role) -> Option<usize> {
    match role {
        Role::Video | Role::Audio => {
            let kind = if role == Role::Video {
                TrackKind::Video
            } else {
                TrackKind::Audio
            };
            m.tracks
                .iter()
                .position(|t| t.kind == kind && !t.samples.is_empty())
        }
        Role::Extra(j) => extras(m).get(j).copied(),
    }
}

/// Tracks beyond the first video and first audio, in file order.
fn extras(m: &Media) -> Vec<usize> {
    let v = role_track(m, Role::Video);
    let a = role_track(m, Role::Audio);
    (0..m.tracks.len())
        .filter(|&i| Some(i) != v && Some(i) != a && !m.tracks[i].samples.is_empty())
        .collect()
}

fn track_label(role: Role, t: &Track) -> String {
    match role {
        Role::Video => "video".into(),
        Role::Audio => "audio".into(),
        Role::Extra(_) => format!("{} track {}", t.handler, t.id),
    }
}

pub(super) fn overflow(m: &Media, track: &str, what: &str) -> PlanError {
    PlanError::Overflow {
        file: m.name().to_string(),
        track: track.to_string(),
        at: None,
        what: what.to_string(),
    }
}

/// Computes where a track sits in its input. `origin` is the earliest start (timeline ticks) of the
/// input's tracks that have no edit list, which is taken as the input's time zero for them.
fn span(m: &Media, t: &Track, tl: u64, warnings: &mut Vec<String>) -> Result<Span, PlanError> {
    let label = format!("track {}", t.id);
    let ms = u64::from(m.movie_timescale);
    let ts = u64::from(t.timescale);
    let to_tl = |v: i64, scale: u64| -> Result<i128, PlanError> {
        crate::time::rescale_i128(i128::from(v), scale, tl, Rounding::Nearest)
            .ok_or_else(|| overflow(m, &label, "timeline position"))
    };
    let media_end = t
        .samples
        .iter()
        .map(|s| s.cts().saturating_add(i64::from(s.duration)))
        .max()
        .unwrap_or(0);
    let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
    let mut empty = 0i64;
    let mut normal: Option<Edit> = None;
    let mut extra = 0u64;
    for e in &t.edits {
        if e.is_empty() {
            if normal.is_none() {
                empty = empty.saturating_add(i64::try_from(e.segment_duration).unwrap_or(i64::MAX));
            }
        } else if normal.is_none() {
            normal = Some(*e);
        } else {
            extra = extra.saturating_add(e.segment_duration);
        }
    }
    if extra > 0 {
        warnings.push(format!(
            "{}: {label}: edit list has several media segments; seam keeps the media from the first one on",
            m.name()
        ));
    }
    match normal {
        Some(n) => {
            if n.media_rate != 0x10000 {
                warnings.push(format!(
                    "{}: {label}: edit rate {:#x} treated as normal speed",
                    m.name(),
                    n.media_rate
                ));
            }
            let duration = if n.segment_duration == 0 {
                // Fragmented files often write 0: "the rest of the media".
                to_tl(media_end.saturating_sub(n.media_time), ts)?
            } else {
                let d = i64::try_from(n.segment_duration.saturating_add(extra)).unwrap_or(i64::MAX);
                to_tl(d, ms)?
            };
            Ok(Span {
                start: to_tl(empty, ms)?,
                media_time: n.media_time,
                duration,
            })
        }
        None => Ok(Span {
            // No edit list: media time maps to presentation time directly; made relative to the
            // input's origin by the caller.
            start: to_tl(empty, ms)? + to_tl(min_cts, ts)?,
            media_time: min_cts,
            duration: to_tl(media_end.saturating_sub(min_cts), ts)?,
        }),
    }
}

/// The timeline scale: the least common multiple of all timescales, or flicks if that is too big.
fn timeline_scale(inputs: &[Media]) -> u64 {
    let mut l = 1u64;
    for m in inputs {
        for s in std::iter::once(m.movie_timescale).chain(m.tracks.iter().map(|t| t.timescale)) {
            match lcm(l, u64::from(s)) {
                Some(v) if v <= 1 << 40 => l = v,
                _ => return FLICKS,
            }
        }
    }
    l
}

/// Builds the whole plan.
pub(super) fn build(inputs: &[Media], limits: &crate::Limits) -> Result<StitchPlan, PlanError> {
    let Some(first) = inputs.first() else {
        return Err(PlanError::NoInputs);
    };
    let mut warnings = Vec::new();
    for m in inputs {
        if role_track(m, Role::Video).is_none() && role_track(m, Role::Audio).is_none() {
            return Err(super::locate::no_tracks(m));
        }
    }

    // Output roles: video and audio when any input has them; extras when every input has a
    // compatible one.
    let mut roles = Vec::new();
    for role in [Role::Video, Role::Audio] {
        let mut reference: Option<(&Media, &Track)> = None;
        for m in inputs {
            if let Some(ti) = role_track(m, role) {
                let t = &m.tracks[ti];
                match reference {
                    None => reference = Some((m, t)),
                    Some(r) => compat::check(r, (m, t), role_label(role))?,
                }
            }
        }
        if reference.is_some() {
            roles.push(role);
        }
    }
    for (j, &ti) in extras(first).iter().enumerate() {
        let t = &first.tracks[ti];
        let mut keep = true;
        for m in &inputs[1..] {
            let ok = role_track(m, Role::Extra(j)).is_some_and(|oi| {
                let o = &m.tracks[oi];
                o.handler == t.handler
                    && o.timescale == t.timescale
                    && matches!((t.entry(), o.entry()), (Some(a), Some(b)) if a.raw == b.raw)
            });
            if !ok {
                warnings.push(format!(
                    "{}: {} dropped: {} has no matching track",
                    first.name(),
                    track_label(Role::Extra(j), t),
                    m.name()
                ));
                keep = false;
                break;
            }
        }
        if keep {
            roles.push(Role::Extra(j));
        }
    }
    for m in &inputs[1..] {
        for (j, &ti) in extras(m).iter().enumerate() {
            if !roles.contains(&Role::Extra(j)) && j >= extras(first).len() {
                warnings.push(format!(
                    "{}: {} dropped: not in every input",
                    m.name(),
                    track_label(Role::Extra(j), &m.tracks[ti])
                ));
            }
        }
    }

    // Spans and input durations on the timeline.
    let tl = timeline_scale(inputs);
    let mut spans: Vec<Vec<Option<Span>>> = Vec::with_capacity(inputs.len());
    let mut starts = Vec::with_capacity(inputs.len() + 1);
    let mut t_acc: i128 = 0;
    for m in inputs {
        let mut row = Vec::with_capacity(roles.len());
        for &role in &roles {
            row.push(match role_track(m, role) {
                Some(ti) => Some(span(m, &m.tracks[ti], tl, &mut warnings)?),
                None => None,
            });
        }
        // Tracks without an edit list: the input's earliest such start is its time zero.
        let no_elst: Vec<usize> = roles
            .iter()
            .enumerate()
            .filter(|(_, &r)| role_track(m, r).is_some_and(|ti| m.tracks[ti].edits.is_empty()))
            .map(|(k, _)| k)
            .collect();
        if let Some(origin) = no_elst
            .iter()
            .filter_map(|&k| row[k].map(|s| s.start))
            .min()
        {
            for &k in &no_elst {
                if let Some(s) = &mut row[k] {
                    s.start -= origin;
                }
            }
        }
        let d = row
            .iter()
            .flatten()
            .map(|s| s.start + s.duration)
            .max()
            .unwrap_or(0)
            .max(0);
        starts.push(t_acc);
        t_acc += d;
        spans.push(row);
    }
    starts.push(t_acc);

    // Movie timescale: the video track's (exact for video edits), else the first track's.
    let movie_timescale = roles
        .iter()
        .find_map(|&r| {
            inputs
                .iter()
                .find_map(|m| role_track(m, r).map(|ti| m.tracks[ti].timescale))
        })
        .unwrap_or(first.movie_timescale);

    let mut tracks = Vec::with_capacity(roles.len());
    let mut generated = Vec::new();
    let mut joins: Vec<Join> = (0..inputs.len())
        .map(|i| Join {
            input: i,
            start: to_scale(starts[i], tl, movie_timescale),
            audio_error: None,
            audio_timescale: 0,
            audio_dropped_head: 0,
            audio_dropped_tail: 0,
            silence_frames: 0,
        })
        .collect();
    for (k, &role) in roles.iter().enumerate() {
        let col: Vec<Option<Span>> = spans.iter().map(|r| r[k]).collect();
        let ctx = Placement {
            inputs,
            role,
            spans: &col,
            starts: &starts,
            tl,
            movie_timescale,
            max_samples: limits.max_samples,
            max_generated: limits.max_generated_samples,
        };
        let track = if role == Role::Audio {
            super::audio::place_audio(&ctx, &mut generated, &mut joins)?
        } else {
            place_plain(&ctx, &mut warnings)?
        };
        tracks.push(track);
    }
    // The movie lasts the exact sum of the inputs' spans; a track may end before it.
    let total = to_scale(t_acc, tl, movie_timescale);
    let duration = tracks
        .iter()
        .map(|t| t.presentation_duration())
        .max()
        .unwrap_or(0)
        .max(total);
    Ok(StitchPlan {
        inputs: inputs.iter().map(|m| m.source.clone()).collect(),
        movie_timescale,
        duration,
        tracks,
        generated,
        input_starts: joins.iter().map(|j| j.start).collect(),
        udta: first.udta.clone(),
        meta: first.meta.clone(),
        warnings,
        joins,
    })
}

pub(super) fn role_label(role: Role) -> &'static str {
    match role {
        Role::Video => "video",
        Role::Audio => "audio",
        Role::Extra(_) => "track",
    }
}

/// Timeline ticks to another scale, rounded to nearest.
fn to_scale(v: i128, tl: u64, scale: u32) -> u64 {
    let r = div_round(v * i128::from(scale), i128::from(tl), Rounding::Nearest);
    u64::try_from(r.max(0)).unwrap_or(u64::MAX)
}

/// What every placement needs.
pub(super) struct Placement<'a> {
    pub(super) inputs: &'a [Media],
    pub(super) role: Role,
    pub(super) spans: &'a [Option<Span>],
    pub(super) starts: &'a [i128],
    pub(super) tl: u64,
    pub(super) movie_timescale: u32,
    /// Most samples an output track may have.
    pub(super) max_samples: usize,
    /// Most samples an output track may generate.
    pub(super) max_generated: usize,
}

impl Placement<'_> {
    /// The first input that has the track, with its track.
    pub(super) fn reference(&self) -> (usize, &Track) {
        // build() only makes roles some input has.
        let (i, ti) = self
            .inputs
            .iter()
            .enumerate()
            .find_map(|(i, m)| role_track(m, self.role).map(|ti| (i, ti)))
            .unwrap_or((0, 0));
        (i, &self.inputs[i].tracks[ti])
    }

    /// The track's start as the output edit list can express it: the empty edit is rounded to the
    /// movie timescale, and every sample position is computed from that rounded start, so each
    /// sample is rounded once relative to what players actually apply.
    pub(super) fn written_start(&self, start: i128) -> i128 {
        let e = to_scale(start, self.tl, self.movie_timescale);
        div_round(
            i128::from(e) * i128::from(self.tl),
            i128::from(self.movie_timescale),
            Rounding::Nearest,
        )
    }

    /// Timeline ticks to output track ticks, rounded once.
    pub(super) fn tl_to_track(&self, v: i128, ts: u32) -> i128 {
        div_round(v * i128::from(ts), i128::from(self.tl), Rounding::Nearest)
    }

    /// The output track's header fields, from the reference input.
    pub(super) fn out_track(
        &self,
        mut samples: Vec<OutSample>,
        segments: Vec<Segment>,
        mut edits: Vec<Edit>,
    ) -> Result<OutTrack, PlanError> {
        let (ri, t) = self.reference();
        normalize(&mut samples, &mut edits)
            .map_err(|what| overflow(&self.inputs[ri], role_label(self.role), &what))?;
        Ok(OutTrack {
            kind: t.kind,
            handler: t.handler,
            timescale: t.timescale,
            language: t.language,
            header: t.header.clone(),
            hdlr: t.hdlr.clone(),
            media_header: t.media_header.clone(),
            sample_entry: t.entry().map(|e| e.raw.clone()).unwrap_or_default(),
            edits,
            samples,
            segments,
        })
    }

    /// The output edit list: an empty edit up to `start`, then `media_time` for `end - start`.
    pub(super) fn edits(&self, start: i128, end: i128, media_time: i64) -> Vec<Edit> {
        let mut out = Vec::with_capacity(2);
        let e = to_scale(start, self.tl, self.movie_timescale);
        if e > 0 {
            out.push(Edit {
                segment_duration: e,
                media_time: -1,
                media_rate: 0x10000,
            });
        }
        out.push(Edit {
            segment_duration: to_scale(end, self.tl, self.movie_timescale).saturating_sub(e),
            media_time,
            media_rate: 0x10000,
        });
        out
    }
}

/// Makes a track start at decode time 0, as MP4 sample tables must (stts holds only durations, so
/// the first decode time is 0 in any progressive file, and tfdt is unsigned), moving the edit's
/// media time along so presentation does not change. If the first presented media time then lies
/// before 0 (composition offsets below the first decode time), every composition offset and the
/// media time are raised together instead, again leaving presentation unchanged.
fn normalize(samples: &mut [OutSample], edits: &mut [Edit]) -> Result<(), String> {
    let Some(d0) = samples.first().map(|s| s.dts) else {
        return Ok(());
    };
    for s in samples.iter_mut() {
        s.dts -= d0;
    }
    // Which edits map media, decided before any media time moves (a shifted media time of -1 must
    // not turn into an empty edit).
    let normal: Vec<usize> = (0..edits.len()).filter(|&k| !edits[k].is_empty()).collect();
    let mut raise = 0i64;
    for &k in &normal {
        edits[k].media_time -= d0;
        raise = raise.max(-edits[k].media_time);
    }
    if raise > 0 {
        let r = i32::try_from(raise).map_err(|_| format!("composition shift {raise} too large"))?;
        for s in samples.iter_mut() {
            s.cts_offset = s
                .cts_offset
                .checked_add(r)
                .ok_or_else(|| "composition offset overflows".to_string())?;
        }
        for &k in &normal {
            edits[k].media_time += raise;
        }
    }
    Ok(())
}

/// Fills in durations from the next sample's decode time and checks they fit.
pub(super) fn finish_durations(
    samples: &mut [OutSample],
    last_duration: i64,
) -> Result<(), String> {
    for k in 0..samples.len() {
        let d = match samples.get(k + 1) {
            Some(next) => next.dts - samples[k].dts,
            None => last_duration,
        };
        samples[k].duration =
            u32::try_from(d).map_err(|_| format!("sample duration {d} does not fit 32 bits"))?;
    }
    Ok(())
}

/// Video and other tracks: each input's samples moved as a block by its start on the timeline.
fn place_plain(p: &Placement, warnings: &mut Vec<String>) -> Result<OutTrack, PlanError> {
    let (ri, rt) = p.reference();
    let ts = rt.timescale;
    let span0 = p.spans[ri].unwrap_or(Span {
        start: 0,
        media_time: 0,
        duration: 0,
    });
    let out_start = p.written_start(p.starts[ri] + span0.start);
    let out_media_time = span0.media_time;
    let mut samples: Vec<OutSample> = Vec::new();
    let mut segments = Vec::new();
    let mut end = out_start;
    let mut last_duration = 0i64;
    for (i, m) in p.inputs.iter().enumerate() {
        let (Some(ti), Some(sp)) = (role_track(m, p.role), p.spans[i]) else {
            continue;
        };
        let t = &m.tracks[ti];
        let label = track_label(p.role, t);
        let in_ts = u64::from(t.timescale);
        let r = |v: i64| rescale(v, in_ts, u64::from(ts), Rounding::Nearest);
        let pres = p.starts[i] + sp.start - out_start;
        let mt = r(sp.media_time).ok_or_else(|| overflow(m, &label, "media time"))?;
        let shift = i128::from(out_media_time) + p.tl_to_track(pres, ts) - i128::from(mt);
        let first_out = samples.len();
        let mut squeezed = 0usize;
        samples.reserve(t.samples.len());
        for (k, s) in t.samples.iter().enumerate() {
            let dts = r(s.dts).map(|v| i128::from(v) + shift);
            let cts = r(s.cts()).map(|v| i128::from(v) + shift);
            let (Some(dts), Some(cts)) = (dts, cts) else {
                return Err(overflow_at(m, t, k, &label, "timestamp"));
            };
            let mut dts = i64::try_from(dts).map_err(|_| overflow_at(m, t, k, &label, "dts"))?;
            // Decode times must strictly increase. When an input with a longer reorder delay follows
            // one with a shorter delay (or a coarser timescale collapses two samples), the first few
            // decode times overlap the previous ones: squeeze those decode times and keep every
            // composition time exact, so presentation and A/V sync do not move.
            let mut pushed_by = None;
            if let Some(prev) = samples.last() {
                if dts <= prev.dts {
                    dts = prev.dts + 1;
                    squeezed += 1;
                    pushed_by = Some(prev.payload);
                }
            }
            // A squeezed decode time out of range comes from the sample that pushed it (typically
            // the last of a damaged earlier input), so that sample is named.
            let cts_offset = i32::try_from(cts - i128::from(dts)).map_err(|_| match pushed_by {
                Some(payload) => {
                    overflow_at_payload(p.inputs, payload, m, &label, "composition offset")
                }
                None => overflow_at(m, t, k, &label, "composition offset"),
            })?;
            samples.push(OutSample::copied(i, s, dts, cts_offset, s.sync));
        }
        if squeezed > 0 {
            warnings.push(format!(
                "{}: {label}: decode times of {squeezed} samples moved to follow the previous input (presentation times unchanged)",
                m.name()
            ));
        }
        if let Some(s) = t.samples.last() {
            last_duration = r(i64::from(s.duration)).unwrap_or(0);
        }
        segments.push(Segment {
            input: i,
            action: Action::Copy {
                track: ti,
                first_sample: 0,
            },
            first: first_out,
            count: samples.len() - first_out,
        });
        end = p.starts[i] + sp.start + sp.duration;
    }
    finish_durations(&mut samples, last_duration)
        .map_err(|e| overflow(&p.inputs[ri], role_label(p.role), &e))?;
    let edits = p.edits(out_start, end, out_media_time);
    p.out_track(samples, segments, edits)
}
