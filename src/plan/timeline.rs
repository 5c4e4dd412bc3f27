//! The output timeline.
//!
//! Inputs are laid back to back: input *i* starts at `T[i]`, the sum of the windows of the inputs
//! before it, kept as an exact integer in a timescale every input timescale divides (the *timeline
//! scale*). An input's window is its video presentation span (the span of all its tracks when it
//! has no video): audio before its first or after its last frame is cut at frame granularity, so
//! joins never leave a hole or a frozen frame in the picture. All tracks of one input are shifted
//! by that same start, so each input's own A/V offset is kept; every shift is rounded once from the
//! exact start, so nothing drifts over many joins.
//!
//! Video and other tracks keep their sample timing and are moved as a block (see
//! [`super::video`]). Audio must stay contiguous (each packet starts where the previous ends), so
//! every audio track, first or not, is placed packet by packet by one rule (see [`super::audio`]).

use super::entries::RoleEntries;
use super::roles::{kind_count, overflow, role_track, span, Role, Span};
use super::{compat, Join, OutSamples, OutTrack, Segment, StitchPlan};
use crate::error::PlanError;
use crate::model::{Edit, Media, Track, TrackKind};
use crate::time::{div_round, lcm, rescale_i128, Rounding, Ts};

/// Fallback timeline scale (705,600,000 "flicks" per second) when the timescales' least common
/// multiple is too large: every common video and audio rate divides it.
const FLICKS: u64 = 705_600_000;

/// The timeline scale: the least common multiple of all timescales (the inputs' and those of
/// explicit `origins`), or flicks if that is too big.
fn timeline_scale(inputs: &[Media], origins: &[Ts]) -> u64 {
    let mut l = 1u64;
    let given = origins.iter().map(|o| o.timescale);
    for m in inputs {
        for s in std::iter::once(m.movie_timescale)
            .chain(m.tracks.iter().map(|t| t.timescale))
            .chain(given.clone())
        {
            match lcm(l, u64::from(s)) {
                Some(v) if v <= 1 << 40 => l = v,
                _ => return FLICKS,
            }
        }
    }
    l
}

/// Why an input without a video or audio track with samples cannot be joined.
fn no_media(m: &Media) -> PlanError {
    let file = m.name().to_string();
    let av = m
        .tracks
        .iter()
        .filter(|t| t.kind != TrackKind::Other)
        .count();
    if av == 0 {
        return super::locate::no_tracks(m);
    }
    let what = if m.format == crate::model::ContainerFormat::FragmentedMp4 {
        "an initialisation segment (moov with mvex, no movie fragments): there is no media to join; give the init segment and its media segments as one file (cat init.mp4 seg*.m4s)"
    } else {
        "its video and audio tracks hold no samples (an empty recording)"
    };
    PlanError::NoSamples {
        file,
        moov: super::locate::find_moov(&*m.source),
        what: what.to_string(),
    }
}

/// Every sample of `t` uses its first sample description (extra tracks are written with that one).
fn single_entry(t: &Track) -> bool {
    t.samples.iter().all(|s| s.entry == 0)
}

/// Builds the whole plan.
pub(super) fn build(
    inputs: &[Media],
    limits: &crate::Limits,
    sample_entries: bool,
    timeline: &super::TimelineOptions,
) -> Result<StitchPlan, PlanError> {
    let Some(first) = inputs.first() else {
        return Err(PlanError::NoInputs);
    };
    let mut warnings = Vec::new();
    for m in inputs {
        if kind_count(m, TrackKind::Video) == 0 && kind_count(m, TrackKind::Audio) == 0 {
            return Err(no_media(m));
        }
        for t in m.tracks.iter().filter(|t| !t.samples.is_empty()) {
            if t.kind != TrackKind::Other {
                compat::check_track(m, t, t.kind.as_str(), &mut warnings)?;
            }
        }
        super::damage::check_jumps(m)?;
    }
    // The output tracks, and each one's sample entries with the one each input sample uses.
    let (roles, role_entries) = output_roles(inputs, sample_entries, &mut warnings)?;

    // Each input's window on the timeline: its video presentation span when it has video (audio
    // outside it is cut at frame granularity, so joins leave no hole in the picture), else the span
    // of all its tracks. Spans become relative to the window start.
    let origins = timeline.origins.as_deref().unwrap_or(&[]);
    if timeline.origins.is_some() && origins.len() != inputs.len() {
        return Err(PlanError::Unsupported {
            file: first.name().to_string(),
            track: "timeline".into(),
            what: format!("{} origins for {} inputs", origins.len(), inputs.len()),
        });
    }
    let tl = timeline_scale(inputs, origins);
    let mut spans: Vec<Vec<Option<Span>>> = Vec::with_capacity(inputs.len());
    let mut starts = Vec::with_capacity(inputs.len() + 1);
    let mut t_acc: i128 = 0;
    // With explicit origins: the first window's start on the shared clock (the output's 0).
    let mut zero: Option<i128> = None;
    for m in inputs {
        let mut row = Vec::with_capacity(roles.len());
        for &role in &roles {
            row.push(match role_track(m, role) {
                Some(ti) => {
                    let t = &m.tracks[ti];
                    Some(span(m, t, tl, &role.label(t), &mut warnings)?)
                }
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
        let video = roles
            .iter()
            .position(|&r| r == Role::Video(0))
            .and_then(|k| row[k]);
        let (w0, w1) = match video {
            Some(v) if !timeline.whole_inputs => (v.start, v.end()),
            Some(_) => (
                row.iter().flatten().map(|s| s.start).min().unwrap_or(0),
                row.iter().flatten().map(Span::end).max().unwrap_or(0),
            ),
            None => (0, row.iter().flatten().map(Span::end).max().unwrap_or(0)),
        };
        for s in row.iter_mut().flatten() {
            s.start -= w0;
        }
        if let Some(o) = origins.get(spans.len()) {
            // The window starts at its own time on the shared clock, counted from the first
            // input's window start; the gap before it (held) belongs to the previous window.
            let at = rescale_i128(
                i128::from(o.value),
                u64::from(o.timescale),
                tl,
                Rounding::Nearest,
            )
            .and_then(|v| v.checked_add(w0))
            .ok_or_else(|| overflow(m, "timeline", "origin"))?;
            let at = at - *zero.get_or_insert(at);
            if starts.last().is_some_and(|&prev| at < prev) {
                return Err(PlanError::Unsupported {
                    file: m.name().to_string(),
                    track: "timeline".into(),
                    what: "its window starts before the previous input's".into(),
                });
            }
            starts.push(at);
            t_acc = at + (w1 - w0).max(0);
        } else {
            starts.push(t_acc);
            t_acc += (w1 - w0).max(0);
        }
        spans.push(row);
    }
    starts.push(t_acc);

    // Each output track's timescale, and the movie's: the first track's (video when there is
    // video: exact for video edits).
    let out_timescales: Vec<u32> = roles.iter().map(|&r| out_timescale(inputs, r)).collect();
    let movie_timescale = out_timescales
        .first()
        .copied()
        .unwrap_or(first.movie_timescale);

    let mut tracks = Vec::with_capacity(roles.len());
    let mut generated = Vec::new();
    let mut joins: Vec<Join> = (0..inputs.len())
        .map(|i| Join {
            input: i,
            start: to_scale(starts[i], tl, movie_timescale),
            tracks: Vec::with_capacity(roles.len()),
        })
        .collect();
    for (k, &role) in roles.iter().enumerate() {
        let col: Vec<Option<Span>> = spans.iter().map(|r| r[k]).collect();
        let ctx = Placement {
            inputs,
            role,
            track_index: tracks.len(),
            timescale: out_timescales[k],
            spans: &col,
            entries: &role_entries[k],
            starts: &starts,
            tl,
            movie_timescale,
            max_samples: limits.max_samples,
            max_generated: limits.max_generated_samples,
        };
        let track = match role {
            Role::Audio(_) => {
                super::audio::place_audio(&ctx, &mut generated, &mut joins, &mut warnings)?
            }
            _ => super::video::place_plain(&ctx, &mut joins, &mut warnings)?,
        };
        if track.samples.is_empty() {
            // Every sample of it lay outside the inputs' windows: no track at all.
            let (ri, rt) = ctx.reference();
            warnings.push(format!(
                "{}: {}: no sample inside any input's window; track left out",
                inputs[ri].name(),
                role.label(rt)
            ));
            for j in &mut joins {
                j.tracks.retain(|t| t.track != tracks.len() + 1);
            }
            continue;
        }
        tracks.push(track);
    }
    // The movie lasts the exact sum of the inputs' windows; a track may end before it.
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
        pssh: Vec::new(),
        warnings,
        joins,
        transcoded: Vec::new(),
    })
}

/// Most ticks per second an output video track gets from [`out_timescale`] (ISMV's 10 MHz).
const MAX_OUT_TIMESCALE: u64 = 10_000_000;

/// An output track's timescale. Video takes the least common multiple of its inputs' timescales
/// (12800 and 90000 give 1152000), so every input's frame times stay exact instead of being
/// rounded to the first input's ticks; beyond [`MAX_OUT_TIMESCALE`], the first input's. Audio and
/// other tracks keep the first input's (audio inputs must share it to be copied).
fn out_timescale(inputs: &[Media], role: Role) -> u32 {
    let mut scales = inputs
        .iter()
        .filter_map(|m| role_track(m, role).map(|ti| m.tracks[ti].timescale));
    let first = scales.next().unwrap_or(1000);
    if !matches!(role, Role::Video(_)) {
        return first;
    }
    let mut l = u64::from(first);
    for s in scales {
        match lcm(l, u64::from(s)) {
            Some(v) if v <= MAX_OUT_TIMESCALE => l = v,
            _ => return first,
        }
    }
    u32::try_from(l).unwrap_or(first)
}

/// The output tracks: the n-th video and the n-th audio track when any input has them (checked
/// copy-compatible with the first input that has them); other tracks when every input has a
/// matching one.
fn output_roles(
    inputs: &[Media],
    sample_entries: bool,
    warnings: &mut Vec<String>,
) -> Result<(Vec<Role>, Vec<RoleEntries>), PlanError> {
    let first = &inputs[0];
    let mut roles = Vec::new();
    let mut entries = Vec::new();
    for kind in [TrackKind::Video, TrackKind::Audio] {
        let n = inputs
            .iter()
            .map(|m| kind_count(m, kind))
            .max()
            .unwrap_or(0);
        for j in 0..n {
            let role = match kind {
                TrackKind::Video => Role::Video(j),
                _ => Role::Audio(j),
            };
            // Checked in this order: display matrix, sample entries, timescale.
            let tracks: Vec<(&Media, &Track)> = inputs
                .iter()
                .filter_map(|m| role_track(m, role).map(|ti| (m, &m.tracks[ti])))
                .collect();
            let Some((&reference, rest)) = tracks.split_first() else {
                continue;
            };
            for &(m, t) in rest {
                compat::check(reference, (m, t), &role.label(t))?;
            }
            entries.push(super::entries::role_entries(
                inputs,
                role,
                sample_entries,
                warnings,
            )?);
            for &(m, t) in rest {
                compat::check_timescale(reference, (m, t), &role.label(t))?;
            }
            roles.push(role);
        }
    }
    let others = kind_count(first, TrackKind::Other);
    for j in 0..others {
        let role = Role::Other(j);
        let Some(fi) = role_track(first, role) else {
            continue;
        };
        let t = &first.tracks[fi];
        let missing = inputs[1..].iter().find(|m| {
            !role_track(m, role).is_some_and(|oi| {
                let o = &m.tracks[oi];
                // One output description: both tracks must use only their first (and these
                // must be equal).
                single_entry(t)
                    && single_entry(o)
                    && o.handler == t.handler
                    && o.timescale == t.timescale
                    && matches!((t.entry(), o.entry()), (Some(a), Some(b)) if a.raw == b.raw)
            })
        });
        match missing {
            Some(m) => warnings.push(format!(
                "{}: {} dropped: {} has no matching track",
                first.name(),
                role.label(t),
                m.name()
            )),
            None => {
                roles.push(role);
                entries.push(super::entries::single(inputs, role));
            }
        }
    }
    for m in &inputs[1..] {
        for j in others..kind_count(m, TrackKind::Other) {
            if let Some(ti) = role_track(m, Role::Other(j)) {
                warnings.push(format!(
                    "{}: {} dropped: not in every input",
                    m.name(),
                    Role::Other(j).label(&m.tracks[ti])
                ));
            }
        }
    }
    Ok((roles, entries))
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
    /// Index of the output track being placed.
    pub(super) track_index: usize,
    /// Ticks per second of the output track (see [`out_timescale`]).
    pub(super) timescale: u32,
    pub(super) spans: &'a [Option<Span>],
    /// The output track's sample entries and each input's map to them.
    pub(super) entries: &'a RoleEntries,
    pub(super) starts: &'a [i128],
    pub(super) tl: u64,
    pub(super) movie_timescale: u32,
    /// Most samples an output track may have.
    pub(super) max_samples: usize,
    /// Most samples an output track may generate.
    pub(super) max_generated: usize,
}

impl Placement<'_> {
    /// The output sample entry of a sample of input `input` using its entry `entry`.
    pub(super) fn out_entry(&self, input: usize, entry: u16) -> u16 {
        self.entries.out_entry(input, entry)
    }

    /// Samples of this role's track over all inputs: the output track's size when nothing is
    /// dropped or generated, reserved once (a doubling vector would hold up to twice the plan).
    pub(super) fn input_samples(&self) -> usize {
        self.inputs
            .iter()
            .filter_map(|m| role_track(m, self.role).map(|ti| m.tracks[ti].samples.len()))
            .sum()
    }

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
        mut samples: OutSamples,
        segments: Vec<Segment>,
        mut pieces: Vec<EditPiece>,
    ) -> Result<OutTrack, PlanError> {
        let (ri, t) = self.reference();
        normalize(&mut samples, &mut pieces)
            .map_err(|what| overflow(&self.inputs[ri], &self.role.label(t), &what))?;
        let edits = self.edits(&pieces);
        Ok(OutTrack {
            kind: t.kind,
            handler: t.handler,
            timescale: self.timescale,
            language: t.language,
            header: t.header.clone(),
            hdlr: t.hdlr.clone(),
            media_header: t.media_header.clone(),
            sample_entries: self.entries.entries.clone(),
            edits,
            samples,
            segments,
            encryption: None,
        })
    }

    /// The output edit list: an empty edit up to the first piece's start, then one edit per piece.
    /// Every boundary is rounded once to the movie timescale, so the durations add up exactly.
    fn edits(&self, pieces: &[EditPiece]) -> Vec<Edit> {
        let mut out = Vec::with_capacity(pieces.len() + 1);
        let Some(first) = pieces.first() else {
            return out;
        };
        let e = to_scale(first.start, self.tl, self.movie_timescale);
        if e > 0 {
            out.push(Edit {
                segment_duration: e,
                media_time: -1,
                media_rate: 0x10000,
            });
        }
        for p in pieces {
            out.push(Edit {
                segment_duration: to_scale(p.end, self.tl, self.movie_timescale)
                    .saturating_sub(to_scale(p.start, self.tl, self.movie_timescale)),
                media_time: p.media_time,
                media_rate: 0x10000,
            });
        }
        out
    }
}

/// One media segment of an output edit list: timeline `start..end` presents the output media from
/// `media_time` (output track ticks) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct EditPiece {
    pub(super) start: i128,
    pub(super) end: i128,
    pub(super) media_time: i64,
}

/// Makes a track start at decode time 0, as MP4 sample tables must (stts holds only durations, so
/// the first decode time is 0 in any progressive file, and tfdt is unsigned), moving the edit's
/// media time along so presentation does not change. If the first presented media time then lies
/// before 0 (composition offsets below the first decode time), every composition offset and the
/// media time are raised together instead, again leaving presentation unchanged.
fn normalize(samples: &mut OutSamples, pieces: &mut [EditPiece]) -> Result<(), String> {
    let Some(d0) = samples.first().map(|s| s.dts) else {
        return Ok(());
    };
    samples.shift_dts(d0.checked_neg().ok_or("first decode time out of range")?);
    let mut raise = 0i64;
    for p in pieces.iter_mut() {
        p.media_time -= d0;
        raise = raise.max(-p.media_time);
    }
    if raise > 0 {
        let r = i32::try_from(raise).map_err(|_| format!("composition shift {raise} too large"))?;
        samples.add_cts(r)?;
        for p in pieces.iter_mut() {
            p.media_time += raise;
        }
    }
    Ok(())
}

/// Fills in durations from the next sample's decode time and checks they fit.
pub(super) fn finish_durations(samples: &mut OutSamples, last_duration: i64) -> Result<(), String> {
    samples.finish(last_duration)
}
