//! Video and other tracks on the output timeline: each input's samples moved as a block.

use super::locate::{overflow_at, overflow_at_payload};
use super::roles::{overflow, role_track, Span};
use super::timeline::{finish_durations, EditPiece, Placement};
use super::{Action, Join, JoinTrack, OutSample, OutSamples, OutTrack, Segment};
use crate::error::PlanError;
use crate::time::{rescale, Rounding};

/// Places every input's samples of the track, shifted by the input's start on the timeline.
///
/// Presentation is exact: a sample's output composition time is its input composition time plus
/// the input's start, rounded once. The output media timeline normally runs in step with the
/// presentation, under one edit. An input whose media overlaps what is already placed (samples
/// before its edit's start, as `ffmpeg -ss X -c copy` writes, or after the previous input's edit
/// end) gets its media placed after the previous input's instead, and the output edit list gains
/// a segment at that join, so those decode-only frames stay hidden after the join.
pub(super) fn place_plain(
    p: &Placement,
    joins: &mut [Join],
    warnings: &mut Vec<String>,
) -> Result<OutTrack, PlanError> {
    let (ri, rt) = p.reference();
    let ts = p.timescale;
    let span0 = p.spans[ri].unwrap_or(Span {
        start: 0,
        media_time: 0,
        duration: 0,
    });
    let out_start = p.written_start(p.starts[ri] + span0.start.max(0));
    // Media presented at the start: the span's media time, moved along when the track starts
    // before its input's window (a second video or a timecode track that leads the video).
    // (In output ticks: the output timescale is a multiple of every input's.)
    let lead = p.tl_to_track((-span0.start).max(0), ts);
    let out_media_time = rescale(
        span0.media_time,
        u64::from(rt.timescale),
        u64::from(ts),
        Rounding::Nearest,
    )
    .and_then(|v| i64::try_from(i128::from(v) + lead).ok())
    .ok_or_else(|| overflow(&p.inputs[ri], &p.role.label(rt), "media time"))?;
    let mut samples = OutSamples::with_capacity(p.input_samples());
    let mut segments = Vec::new();
    let mut pieces: Vec<EditPiece> = Vec::new();
    let mut last_duration = 0i64;
    // Extra output media ticks added to the presentation-aligned position (grows at each join
    // whose media would overlap what is already placed), and where the placed media ends.
    let mut extra: i128 = 0;
    let mut media_end: Option<i128> = None;
    let mut prev_post_roll = false;
    let leads = Leads::new(p, ts);
    // The current edit segment's composition offset added to every sample's (see `Leads`).
    let mut lead_pad: i128 = 0;
    let mut last_dts: Option<i128> = None;
    for (i, m) in p.inputs.iter().enumerate() {
        let mut stats = JoinTrack::new(p.track_index + 1, rt.kind, ts);
        let (Some(ti), Some(sp)) = (role_track(m, p.role), p.spans[i]) else {
            joins[i].tracks.push(stats);
            continue;
        };
        let t = &m.tracks[ti];
        let label = p.role.label(t);
        let in_ts = u64::from(t.timescale);
        let r = |v: i64| rescale(v, in_ts, u64::from(ts), Rounding::Nearest);
        let pres = p.starts[i] + sp.start;
        let mt = r(sp.media_time).ok_or_else(|| overflow(m, &label, "media time"))?;
        // Output media position presented at `pres`, if media ran in step with presentation.
        let aligned = i128::from(out_media_time) + p.tl_to_track(pres - out_start, ts);
        let mut shift = aligned + extra - i128::from(mt);
        // Samples outside the input's presentation: before its edit's start (decode-only
        // pre-roll), or from its edit's end on.
        let media_lo = sp.media_time;
        let media_hi = sp.media_time.saturating_add(
            i64::try_from(sp.duration * i128::from(t.timescale) / i128::from(p.tl))
                .unwrap_or(i64::MAX),
        );
        let (mut pre_roll, mut post_roll) = (0u32, 0u32);
        for s in t.samples.iter() {
            pre_roll += u32::from(s.cts() < media_lo);
            post_roll += u32::from(s.cts() >= media_hi);
        }
        stats.decode_only = pre_roll + post_roll;
        let min_cts = t.samples.iter().map(|s| s.cts()).min().unwrap_or(0);
        let first_cts = r(min_cts).ok_or_else(|| overflow(m, &label, "composition time"))?;
        let mut new_piece = pieces.is_empty();
        if let Some(end) = media_end.filter(|_| pre_roll > 0 || prev_post_roll) {
            // Under one edit these frames would show during the previous input: place this
            // input's media after what is placed, and start a new edit segment here.
            new_piece |= end - (i128::from(first_cts) + shift + lead_pad) > 0;
        }
        if new_piece {
            lead_pad = leads.pad(i);
            let first_dts = t.samples.first().and_then(|s| r(s.dts)).map(i128::from);
            // Presented media after what is placed, and decode times after the last placed
            // one (a squeezed decode time would move the segment's start for ffmpeg).
            let deficit = [
                media_end.map(|end| end - (i128::from(first_cts) + shift + lead_pad)),
                last_dts.zip(first_dts).map(|(l, f)| l + 1 - (f + shift)),
            ]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(0);
            if deficit > 0 && !pieces.is_empty() {
                extra += deficit;
                shift += deficit;
            }
        }
        prev_post_roll = post_roll > 0;
        // The part of this input's presentation inside its window.
        let window = (p.starts[i], p.starts[i + 1]);
        let piece_start = pres.max(window.0);
        let piece_end = (pres + sp.duration).min(window.1).max(piece_start);
        // The first segment presents exactly `out_media_time` at `out_start`, from which every
        // sample position was computed; later ones where their input's media lands.
        let media_at_start = if pieces.is_empty() {
            i128::from(out_media_time) + lead_pad
        } else {
            i128::from(mt) + shift + lead_pad + p.tl_to_track(piece_start - pres, ts)
        };
        let media_time =
            i64::try_from(media_at_start).map_err(|_| overflow(m, &label, "edit media time"))?;
        match pieces.last_mut() {
            Some(last) if !new_piece => last.end = piece_end.max(last.end),
            _ => {
                if let Some(last) = pieces.last_mut() {
                    // The previous segment lasts until this one starts.
                    last.end = last.end.max(piece_start);
                }
                pieces.push(EditPiece {
                    start: piece_start,
                    end: piece_end,
                    media_time,
                });
            }
        }

        // Samples presented only from the end of the input's window on (a second video or a
        // timecode track outlasting the video, or frames after an edit's end) would show over the
        // next input: the decode-order suffix of them is left out (nothing kept depends on a
        // sample decoded after it) and counted.
        let window_end_media =
            i128::from(mt) + shift + lead_pad + p.tl_to_track(window.1 - pres, ts);
        let mut keep = t.samples.len();
        while let Some(s) = keep.checked_sub(1).and_then(|k| t.samples.get(k)) {
            match r(s.cts()) {
                Some(c) if i128::from(c) + shift + lead_pad >= window_end_media => keep -= 1,
                _ => break,
            }
        }
        stats.dropped_tail = u32::try_from(t.samples.len() - keep).unwrap_or(u32::MAX);
        stats.decode_only = stats.decode_only.saturating_sub(stats.dropped_tail);

        let first_out = samples.len();
        let mut squeezed = 0usize;
        for (k, s) in t.samples.iter().take(keep).enumerate() {
            let dts = r(s.dts).map(|v| i128::from(v) + shift);
            let cts = r(s.cts()).map(|v| i128::from(v) + shift + lead_pad);
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
            let end = cts + r(i64::from(s.duration)).map_or(0, i128::from);
            media_end = Some(media_end.map_or(end, |e| e.max(end)));
            samples.push(OutSample::copied(
                i,
                &s,
                dts,
                cts_offset,
                s.sync,
                p.out_entry(i, s.entry),
            ));
            last_dts = Some(i128::from(dts));
        }
        if squeezed > 0 {
            warnings.push(format!(
                "{}: {label}: decode times of {squeezed} samples moved to follow the previous input (presentation times unchanged)",
                m.name()
            ));
        }
        if let Some(s) = keep.checked_sub(1).and_then(|k| t.samples.get(k)) {
            last_duration = r(i64::from(s.duration)).unwrap_or(0);
        }
        stats.copied = u32::try_from(samples.len() - first_out).unwrap_or(u32::MAX);
        joins[i].tracks.push(stats);
        segments.push(Segment {
            input: i,
            action: Action::Copy {
                track: ti,
                first_sample: 0,
            },
            first: first_out,
            count: samples.len() - first_out,
        });
    }
    finish_durations(&mut samples, last_duration)
        .map_err(|e| overflow(&p.inputs[ri], &p.role.label(rt), &e))?;
    p.out_track(samples, segments, pieces)
}

/// ffmpeg (5.1's `mov_fix_index`) times each media edit segment of a track from its decode
/// times: the first sample in decode order that the segment presents is put at the segment's
/// start plus its composition offset, and one correction for the whole track then makes the first
/// segment start at 0. A later segment therefore shows at its place only when its lead (edit
/// media time minus the decode time of that sample) equals the first segment's. A cut inside a
/// GOP has a longer lead than a start at a keyframe (the B-frames presented first are decoded
/// after the P-frame they need), so each segment's samples get a composition offset `pad` that
/// brings every lead to the largest: presentation is unchanged (the edit's media time moves
/// with it) and decode times do not move.
struct Leads {
    /// Per input: its lead in output ticks, when the input has samples the edit presents.
    lead: Vec<Option<i128>>,
    /// The largest lead; `None` when the track will have one edit segment (nothing to align).
    target: Option<i128>,
}

impl Leads {
    fn new(p: &Placement, ts: u32) -> Leads {
        let mut lead = Vec::with_capacity(p.inputs.len());
        let mut several = false;
        let mut seen = false;
        let mut prev_post_roll = false;
        for (m, sp) in p.inputs.iter().zip(p.spans) {
            let (Some(ti), Some(sp)) = (role_track(m, p.role), sp) else {
                lead.push(None);
                continue;
            };
            let t = &m.tracks[ti];
            let r = |v: i64| {
                rescale(v, u64::from(t.timescale), u64::from(ts), Rounding::Nearest).map(i128::from)
            };
            let lo = sp.media_time;
            let hi = sp.media_time.saturating_add(
                i64::try_from(sp.duration * i128::from(t.timescale) / i128::from(p.tl))
                    .unwrap_or(i64::MAX),
            );
            let pre_roll = t.samples.iter().any(|s| s.cts() < lo);
            several |= seen && (pre_roll || prev_post_roll);
            prev_post_roll = t.samples.iter().any(|s| s.cts() >= hi);
            seen = true;
            let first = t.samples.iter().find(|s| s.cts() >= lo && s.cts() < hi);
            lead.push(
                first
                    .and_then(|s| Some(r(lo)? - r(s.dts)?))
                    // A lead of seconds is damaged timing, not a reorder delay: left alone.
                    .filter(|&l| l >= 0 && l <= 10 * i128::from(ts)),
            );
        }
        let target = if several {
            lead.iter().flatten().copied().max()
        } else {
            None
        };
        Leads { lead, target }
    }

    /// The composition offset added to the samples of a segment starting with input `i`.
    fn pad(&self, i: usize) -> i128 {
        match (self.target, self.lead.get(i).copied().flatten()) {
            (Some(t), Some(l)) => t - l,
            _ => 0,
        }
    }
}
