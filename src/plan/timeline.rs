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
//! carried to the next join. Spans with no audio get silent frames.

use bytes::Bytes;

use super::{compat, Action, Join, OutSample, OutTrack, Payload, Segment, StitchPlan};
use crate::codec::aac::AudioSpecificConfig;
use crate::error::PlanError;
use crate::model::{CodecConfig, Edit, Media, Track, TrackKind};
use crate::time::{div_round, lcm, rescale, Rounding};
use crate::transcode::silence::silent_aac_frame;

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
enum Role {
    Video,
    Audio,
    Extra(usize),
}

/// Index of the track playing `role` in `m`, if any.
fn role_track(m: &Media, role: Role) -> Option<usize> {
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

fn overflow(m: &Media, track: &str, what: &str) -> PlanError {
    PlanError::Overflow {
        file: m.name().to_string(),
        track: track.to_string(),
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
pub(super) fn build(inputs: &[Media]) -> Result<StitchPlan, PlanError> {
    let Some(first) = inputs.first() else {
        return Err(PlanError::NoInputs);
    };
    let mut warnings = Vec::new();
    for m in inputs {
        if role_track(m, Role::Video).is_none() && role_track(m, Role::Audio).is_none() {
            return Err(PlanError::NoTracks {
                file: m.name().to_string(),
            });
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
        };
        let track = if role == Role::Audio {
            place_audio(&ctx, &mut generated, &mut joins)?
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

fn role_label(role: Role) -> &'static str {
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
struct Placement<'a> {
    inputs: &'a [Media],
    role: Role,
    spans: &'a [Option<Span>],
    starts: &'a [i128],
    tl: u64,
    movie_timescale: u32,
}

impl Placement<'_> {
    /// The first input that has the track, with its track.
    fn reference(&self) -> (usize, &Track) {
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
    fn written_start(&self, start: i128) -> i128 {
        let e = to_scale(start, self.tl, self.movie_timescale);
        div_round(
            i128::from(e) * i128::from(self.tl),
            i128::from(self.movie_timescale),
            Rounding::Nearest,
        )
    }

    /// Timeline ticks to output track ticks, rounded once.
    fn tl_to_track(&self, v: i128, ts: u32) -> i128 {
        div_round(v * i128::from(ts), i128::from(self.tl), Rounding::Nearest)
    }

    /// The output track's header fields, from the reference input.
    fn out_track(
        &self,
        samples: Vec<OutSample>,
        segments: Vec<Segment>,
        edits: Vec<Edit>,
    ) -> OutTrack {
        let (_, t) = self.reference();
        OutTrack {
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
        }
    }

    /// The output edit list: an empty edit up to `start`, then `media_time` for `end - start`.
    fn edits(&self, start: i128, end: i128, media_time: i64) -> Vec<Edit> {
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

/// Fills in durations from the next sample's decode time and checks they fit.
fn finish_durations(samples: &mut [OutSample], last_duration: i64) -> Result<(), String> {
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
        for s in &t.samples {
            let dts = r(s.dts).map(|v| i128::from(v) + shift);
            let cts = r(s.cts()).map(|v| i128::from(v) + shift);
            let (Some(dts), Some(cts)) = (dts, cts) else {
                return Err(overflow(m, &label, "timestamp"));
            };
            let mut dts = i64::try_from(dts).map_err(|_| overflow(m, &label, "dts"))?;
            // Decode times must strictly increase. When an input with a longer reorder delay follows
            // one with a shorter delay (or a coarser timescale collapses two samples), the first few
            // decode times overlap the previous ones: squeeze those decode times and keep every
            // composition time exact, so presentation and A/V sync do not move.
            if let Some(prev) = samples.last() {
                if dts <= prev.dts {
                    dts = prev.dts + 1;
                    squeezed += 1;
                }
            }
            let cts_offset = i32::try_from(cts - i128::from(dts))
                .map_err(|_| overflow(m, &label, "composition offset"))?;
            samples.push(OutSample {
                payload: Payload::Input {
                    input: i as u32,
                    offset: s.offset,
                },
                size: s.size,
                dts,
                duration: 0,
                cts_offset,
                sync: s.sync,
                slot: i as u32,
            });
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
    Ok(p.out_track(samples, segments, edits))
}

/// Audio: every packet one frame long and placed right after the previous one.
///
/// One rule decides every packet, at joins and inside an input alike: with `c` the end of the audio
/// placed so far and `ideal` the packet's exact position on the timeline, a gap of half a frame or
/// more is filled with silent frames, a packet that would overlap by more than half a frame is left
/// out (a later input's priming, or overlap with the previous input's padding), and otherwise the
/// packet goes at `c`. So every kept packet is within half a frame of its ideal position, and the
/// error never carries over. A trimmed last packet of an input still decodes to a whole frame, so it
/// is given a whole frame's duration; only the output's final packet keeps its own.
fn place_audio(
    p: &Placement,
    generated: &mut Vec<Bytes>,
    joins: &mut [Join],
) -> Result<OutTrack, PlanError> {
    let (ri, rt) = p.reference();
    let ts = rt.timescale;
    // An output whose first input has no audio starts with silence at 0; otherwise it starts where
    // the first input's audio starts, with its media time (priming is skipped by the edit list).
    let (out_start, out_media_time) = match p.spans[0] {
        Some(sp) if ri == 0 => (p.written_start(sp.start), sp.media_time),
        _ => (0, 0),
    };
    let frame = silence_frame_duration(rt);
    let mut filler = Filler {
        reference: rt,
        frame,
        index: None,
        can_fill: true,
    };
    let mut out = AudioOut::default();
    let mut cursor: Option<i128> = None; // output media time where the next packet goes
    let mut end = out_start;
    let mut final_duration = frame;

    // Output media time of a timeline position.
    let media_at =
        |v: i128| -> i128 { i128::from(out_media_time) + p.tl_to_track(v - out_start, ts) };

    for (i, m) in p.inputs.iter().enumerate() {
        let next_start = p.starts[i + 1];
        let Some((ti, sp)) = role_track(m, Role::Audio).zip(p.spans[i]) else {
            // No audio here: silence up to the end of this input's span.
            let c = cursor.unwrap_or(i128::from(out_media_time));
            let n = filler.fill(&mut out, generated, c, media_at(next_start), i, m.name())?;
            joins[i].silence_frames += n;
            cursor = Some(c + i128::from(n) * i128::from(frame));
            if n > 0 {
                end = next_start;
                final_duration = frame;
            }
            continue;
        };
        let t = &m.tracks[ti];
        let shift = media_at(p.starts[i] + sp.start) - i128::from(sp.media_time);
        let ideal = |k: usize| i128::from(t.samples[k].dts) + shift;
        // Packets that start at or after the end of this input's edit are padding, never presented.
        let window_end = media_at(p.starts[i] + sp.start + sp.duration);
        joins[i].audio_timescale = ts;

        let mut c = cursor.unwrap_or_else(|| ideal(0));
        let mut copy_start: Option<(usize, usize)> = None; // (first input sample, first output sample)
        let mut kept = 0usize;
        let mut next = 0usize; // input packets before this one were kept or dropped
        for k in 0..t.samples.len() {
            // A packet that would start at or after the end of this input's presentation is
            // padding: it would never be heard, or would overlap the next input.
            if ideal(k) >= window_end || (kept > 0 && c >= window_end) {
                break;
            }
            next = k + 1;
            let gap = ideal(k) - c;
            if 2 * gap >= i128::from(frame) {
                let n = filler.fill(&mut out, generated, c, ideal(k), i, m.name())?;
                if n > 0 {
                    if let Some((first_sample, first)) = copy_start.take() {
                        out.copy_segment(i, ti, first_sample, first);
                    }
                    joins[i].silence_frames += n;
                    c += i128::from(n) * i128::from(frame);
                } else {
                    // No silence for this codec: jump, leaving a hole in the timestamps.
                    c = ideal(k);
                }
            } else if -2 * gap > i128::from(frame) {
                if kept == 0 {
                    joins[i].audio_dropped_head += 1;
                }
                continue;
            }
            if kept == 0 {
                joins[i].audio_error = i64::try_from(c - ideal(k)).ok();
            }
            let s = &t.samples[k];
            if copy_start.is_none() {
                copy_start = Some((k, out.samples.len()));
            }
            let dts = i64::try_from(c).map_err(|_| overflow(m, "audio", "audio position"))?;
            out.samples.push(OutSample {
                payload: Payload::Input {
                    input: i as u32,
                    offset: s.offset,
                },
                size: s.size,
                dts,
                duration: 0,
                cts_offset: 0,
                sync: true,
                slot: i as u32,
            });
            final_duration = i64::from(s.duration);
            c += i128::from(frame);
            kept += 1;
        }
        if let Some((first_sample, first)) = copy_start {
            out.copy_segment(i, ti, first_sample, first);
        }
        joins[i].audio_dropped_tail = (t.samples.len() - next) as u32;
        cursor = Some(c);
        end = p.starts[i] + sp.start + sp.duration;
    }
    let AudioOut {
        mut samples,
        segments,
    } = out;
    finish_durations(&mut samples, final_duration)
        .map_err(|e| overflow(&p.inputs[ri], "audio", &e))?;
    // The track ends where its last input's audio presentation ends, or where its media ends.
    let media_end = samples
        .last()
        .map_or(out_media_time, |s| s.dts + i64::from(s.duration));
    let media_end_tl = out_start
        + div_round(
            i128::from(media_end - out_media_time) * i128::from(p.tl),
            i128::from(ts),
            Rounding::Down,
        );
    let edits = p.edits(out_start, end.min(media_end_tl), out_media_time);
    Ok(p.out_track(samples, segments, edits))
}

/// Output audio samples and their segments, built in order.
#[derive(Default)]
struct AudioOut {
    samples: Vec<OutSample>,
    segments: Vec<Segment>,
}

impl AudioOut {
    /// Records the copied run from output sample `first` to the end.
    fn copy_segment(&mut self, input: usize, track: usize, first_sample: usize, first: usize) {
        self.segments.push(Segment {
            input,
            action: Action::Copy {
                track,
                first_sample,
            },
            first,
            count: self.samples.len() - first,
        });
    }
}

/// Makes silent frames on demand.
struct Filler<'a> {
    reference: &'a Track,
    frame: i64,
    index: Option<u32>,
    /// False once the codec is known to have no silence generator.
    can_fill: bool,
}

impl Filler<'_> {
    /// Appends the whole number of silent frames that best fills `from..to`; returns how many.
    fn fill(
        &mut self,
        out: &mut AudioOut,
        generated: &mut Vec<Bytes>,
        from: i128,
        to: i128,
        input: usize,
        file: &str,
    ) -> Result<u32, PlanError> {
        let n = fill_count(to - from, self.frame);
        if n == 0 || !self.can_fill {
            return Ok(0);
        }
        if !matches!(
            self.reference.entry().map(|e| &e.codec),
            Some(CodecConfig::Aac { .. })
        ) {
            // Other codecs: no silence generator yet; the caller leaves a hole instead.
            self.can_fill = false;
            return Ok(0);
        }
        let (index, size) = silence(self.reference, &mut self.index, generated, file)?;
        let n = u32::try_from(n).map_err(|_| PlanError::Silence {
            file: file.to_string(),
            what: format!("a gap of {n} frames"),
        })?;
        let first = out.samples.len();
        let mut at = i64::try_from(from).map_err(|_| PlanError::Silence {
            file: file.to_string(),
            what: "position overflows".into(),
        })?;
        for _ in 0..n {
            out.samples.push(silent_sample(index, size, at, input));
            at += self.frame;
        }
        out.segments.push(Segment {
            input,
            action: Action::Silence,
            first,
            count: n as usize,
        });
        Ok(n)
    }
}

/// Number of whole frames that best fill a gap (none for gaps under half a frame).
fn fill_count(gap: i128, frame: i64) -> i64 {
    if frame <= 0 || gap * 2 < i128::from(frame) {
        return 0;
    }
    i64::try_from(div_round(gap, i128::from(frame), Rounding::Nearest)).unwrap_or(0)
}

/// The duration of one audio frame in track ticks (from the reference track's packets).
fn silence_frame_duration(t: &Track) -> i64 {
    if let Some(CodecConfig::Aac { config, .. }) = t.entry().map(|e| &e.codec) {
        let sr = u64::from(config.sampling_frequency.max(1));
        let f = u64::from(config.frame_length) * u64::from(t.timescale);
        if f % sr == 0 {
            return (f / sr) as i64;
        }
    }
    // Most common packet duration.
    let mut d: Vec<u32> = t.samples.iter().map(|s| s.duration).take(64).collect();
    d.sort_unstable();
    i64::from(d.get(d.len() / 2).copied().unwrap_or(1024))
}

fn silent_sample(index: u32, size: u32, dts: i64, slot: usize) -> OutSample {
    OutSample {
        payload: Payload::Generated(index),
        size,
        dts,
        duration: 0,
        cts_offset: 0,
        sync: true,
        slot: slot as u32,
    }
}

/// The generated silent frame (made once), as (index, size).
fn silence(
    reference: &Track,
    index: &mut Option<u32>,
    generated: &mut Vec<Bytes>,
    file: &str,
) -> Result<(u32, u32), PlanError> {
    if let Some(i) = *index {
        return Ok((i, generated[i as usize].len() as u32));
    }
    let asc: &AudioSpecificConfig = match reference.entry().map(|e| &e.codec) {
        Some(CodecConfig::Aac { config, .. }) => config,
        _ => {
            return Err(PlanError::Silence {
                file: file.to_string(),
                what: "the audio codec is not AAC".into(),
            })
        }
    };
    let frame = silent_aac_frame(asc).map_err(|e| PlanError::Silence {
        file: file.to_string(),
        what: e.to_string(),
    })?;
    let i = generated.len() as u32;
    let len = frame.len() as u32;
    generated.push(frame);
    *index = Some(i);
    Ok((i, len))
}
