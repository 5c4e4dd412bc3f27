//! Audio placement on the output timeline (see [`place_audio`]): contiguous whole frames, silence
//! for gaps, overlapping packets and packets outside the input's window left out. Every audio track
//! of the output is placed by this one rule.

use bytes::Bytes;

use super::roles::{overflow, role_track};
use super::timeline::{finish_durations, EditPiece, Placement};
use super::{Action, Join, JoinTrack, OutSample, OutSamples, OutTrack, Payload, Segment};
use crate::codec::aac::AudioSpecificConfig;
use crate::error::PlanError;
use crate::model::{CodecConfig, Track};
use crate::time::{div_round, Rounding};
use crate::transcode::silence::silent_aac_frame;

/// Audio: every packet one frame long and placed right after the previous one.
///
/// One rule decides every packet, at joins and inside an input alike: with `c` the end of the audio
/// placed so far and `ideal` the packet's exact position on the timeline, a packet outside the
/// input's window (before its first or after its last video frame, by more than half a frame) is
/// left out, a gap of half a frame or more is filled with silent frames, a packet that would
/// overlap by more than half a frame is left out (a later input's priming, or overlap with the
/// previous input's padding), and otherwise the packet goes at `c`. So every kept packet is within
/// half a frame of its ideal position, and the error never carries over. The output's very first
/// packets are the exception that makes the start exact: the packet holding the first presented
/// instant and the one before it (the decoder's pre-roll, e.g. AAC priming) are kept, and the
/// output edit list starts presentation inside them. A trimmed last packet of an input still
/// decodes to a whole frame, so it is given a whole frame's duration; only the output's final
/// packet keeps its own.
pub(super) fn place_audio(
    p: &Placement,
    generated: &mut Vec<Bytes>,
    joins: &mut [Join],
    warnings: &mut Vec<String>,
) -> Result<OutTrack, PlanError> {
    let (ri, rt) = p.reference();
    let ts = rt.timescale;
    let label = p.role.label(rt);
    let frame = silence_frame_duration(rt);
    let mut filler = Filler {
        reference: rt,
        frame,
        index: None,
        can_fill: true,
        max_samples: p.max_samples,
        max_generated: p.max_generated,
        generated: 0,
    };
    let mut out = AudioOut {
        samples: OutSamples::with_capacity(p.input_samples()),
        segments: Vec::new(),
    };
    // The output media clock: timeline position x is output media tick
    // `out_media_time + tl_to_track(x - out_start)`. When the first input has this track, the
    // clock is that input's own media clock (so its first packets and the edit keep their exact
    // times); otherwise it starts at 0 with silence.
    let first = match p.spans[0].zip(role_track(&p.inputs[0], p.role)) {
        Some((sp, ti)) if ri == 0 => first_packets(p, &p.inputs[0].tracks[ti], sp)?,
        _ => None,
    };
    let opens = first.is_some();
    let FirstPackets {
        out_start,
        media_time: out_media_time,
        first_kept,
        holding,
        first_at,
    } = first.unwrap_or_default();
    let media_at =
        |v: i128| -> i128 { i128::from(out_media_time) + p.tl_to_track(v - out_start, ts) };
    let mut cursor: Option<i128> = None; // output media time where the next packet goes
    let mut end = out_start;
    let mut final_duration = frame;

    for (i, m) in p.inputs.iter().enumerate() {
        let mut stats = JoinTrack::new(p.track_index + 1, rt.kind, ts);
        let next_start = p.starts[i + 1];
        let Some((ti, sp)) = role_track(m, p.role).zip(p.spans[i]) else {
            // No audio here: silence up to the end of this input's window.
            let c = cursor.unwrap_or(i128::from(out_media_time));
            let n = filler.fill(&mut out, generated, c, media_at(next_start), i, m.name())?;
            stats.generated += n;
            stats.generated_ticks += u64::from(n) * frame.unsigned_abs();
            cursor = Some(c + i128::from(n) * i128::from(frame));
            if n > 0 {
                end = next_start;
                final_duration = frame;
                warnings.push(format!(
                    "{}: no {label}: {n} silent frames ({:.3} s) generated",
                    m.name(),
                    (i128::from(n) * i128::from(frame)) as f64 / f64::from(ts.max(1)),
                ));
            }
            joins[i].tracks.push(stats);
            continue;
        };
        let t = &m.tracks[ti];
        let apres = p.starts[i] + sp.start;
        // Exact positions: the packet at media time `sp.media_time` is presented at `apres`.
        let base = media_at(apres) - i128::from(sp.media_time);
        let ideal = |k: usize| t.samples.get(k).map_or(0, |s| i128::from(s.dts)) + base;
        // The window this input's audio may fill: its own window, and no longer than its edit.
        let lo = media_at(p.starts[i]);
        let hi = media_at(next_start.min(apres + sp.duration));

        // The output's first audio input keeps its start exact (see `first_packets`); every other
        // input drops what lies before its window.
        let opening = i == 0 && opens;
        let skip = if opening { first_kept } else { 0 };
        let mut c = cursor.unwrap_or(first_at);
        let mut copy_start: Option<(usize, usize)> = None; // (first input sample, first output sample)
        let mut kept = 0usize;
        let mut next = 0usize; // input packets before this one were kept or dropped
        let drop = |stats: &mut JoinTrack, kept: usize| {
            if kept == 0 {
                stats.dropped_head += 1;
            } else {
                stats.dropped_inside += 1;
            }
            // What is lost is one decoded frame, whatever duration the table gives the packet (a
            // muxer may stretch a priming packet's to cover a hole after it).
            stats.dropped_ticks += frame.unsigned_abs();
        };
        for k in 0..t.samples.len() {
            // A packet that would start at or after the end of this input's window would never be
            // heard with its picture, or would overlap the next input.
            if ideal(k) >= hi || (kept > 0 && c >= hi) {
                break;
            }
            next = k + 1;
            if k < skip || (kept == 0 && !opening && 2 * (lo - ideal(k)) > i128::from(frame)) {
                // Before the output's first kept packet, or before this input's first frame.
                drop(&mut stats, kept);
                continue;
            }
            let gap = ideal(k) - c;
            if opening && kept == 0 {
                // The output's first packet: placed where `first_packets` put it.
            } else if 2 * gap >= i128::from(frame) {
                let n = filler.fill(&mut out, generated, c, ideal(k), i, m.name())?;
                if n > 0 {
                    if let Some((first_sample, first)) = copy_start.take() {
                        out.copy_segment(i, ti, first_sample, first);
                    }
                    stats.generated += n;
                    stats.generated_ticks += u64::from(n) * frame.unsigned_abs();
                    if kept > 0 {
                        stats.generated_inside += n;
                        warnings.push(format!(
                            "{}: {label}: {n} silent frames ({:.3} s) inserted inside the input, \
                             where its audio timestamps have a gap before packet {k}",
                            m.name(),
                            (i128::from(n) * i128::from(frame)) as f64 / f64::from(ts.max(1)),
                        ));
                    }
                    c += i128::from(n) * i128::from(frame);
                } else {
                    // No silence for this codec: jump, leaving a hole in the timestamps.
                    c = ideal(k);
                }
            } else if -2 * gap > i128::from(frame) {
                drop(&mut stats, kept);
                // The copied run ends here: a segment is a run of consecutive input samples
                // (the encryption data of each output sample is found through it).
                if let Some((first_sample, first)) = copy_start.take() {
                    out.copy_segment(i, ti, first_sample, first);
                }
                continue;
            }
            // The error is that of the first packet heard (the output's pre-roll packet is not).
            if (opening && k == holding) || (!opening && kept == 0) {
                stats.error = i64::try_from(c - ideal(k)).ok();
            }
            let Some(s) = t.samples.get(k) else { break };
            if copy_start.is_none() {
                copy_start = Some((k, out.samples.len()));
            }
            let dts = i64::try_from(c)
                .map_err(|_| super::locate::overflow_at(m, t, k, &label, "audio position"))?;
            out.samples.push(OutSample::copied(
                i,
                &s,
                dts,
                0,
                true,
                p.out_entry(i, s.entry),
            ));
            final_duration = i64::from(s.duration);
            c += i128::from(frame);
            kept += 1;
        }
        if let Some((first_sample, first)) = copy_start {
            out.copy_segment(i, ti, first_sample, first);
        }
        if stats.error.is_none() && kept > 0 {
            // Only the pre-roll packet was kept: its own error.
            let k = next.saturating_sub(kept);
            let placed = c - i128::from(frame) * kept as i128;
            stats.error = i64::try_from(placed - ideal(k)).ok();
        }
        let tail = t.samples.len() - next;
        stats.dropped_tail += u32::try_from(tail).unwrap_or(u32::MAX);
        stats.dropped_ticks += tail as u64 * frame.unsigned_abs();
        stats.copied = u32::try_from(kept).unwrap_or(u32::MAX);
        joins[i].tracks.push(stats);
        cursor = Some(c);
        end = next_start.min(apres + sp.duration);
    }
    let AudioOut {
        mut samples,
        segments,
    } = out;
    finish_durations(&mut samples, final_duration)
        .map_err(|e| overflow(&p.inputs[ri], &label, &e))?;
    // The track ends where its last input's window ends, or where its media ends.
    let media_end = samples
        .last()
        .map_or(out_media_time, |s| s.dts + i64::from(s.duration));
    let media_end_tl = out_start
        + div_round(
            i128::from(media_end - out_media_time) * i128::from(p.tl),
            i128::from(ts),
            Rounding::Down,
        );
    // Audio whose first packets could not be preceded by silence (a codec seam has no silent
    // frame for) starts later: its edit starts presenting where its first packet is, after an
    // empty edit, rather than before it (which would need composition offsets on audio).
    let (start, media_time) = match samples.first() {
        Some(f) if f.dts > out_media_time => {
            let late = div_round(
                i128::from(f.dts - out_media_time) * i128::from(p.tl),
                i128::from(ts),
                Rounding::Nearest,
            );
            (p.written_start(out_start + late), f.dts)
        }
        _ => (out_start, out_media_time),
    };
    let piece = EditPiece {
        start,
        end: end.min(media_end_tl).max(start),
        media_time,
    };
    p.out_track(samples, segments, vec![piece])
}

/// Where the output's audio starts when the first input has it (all zero otherwise: the output
/// then starts at 0 with silence).
#[derive(Default)]
struct FirstPackets {
    /// Timeline position where presentation of the track starts (rounded as the edit list
    /// writes it).
    out_start: i128,
    /// Media time presented there (the first input's media clock).
    media_time: i64,
    /// Index of the first packet kept.
    first_kept: usize,
    /// Index of the packet holding the first presented instant.
    holding: usize,
    /// Where it goes, in output media ticks: right before the packet holding the start, which
    /// keeps its exact time (a muxer that stretched the priming packet's duration leaves a gap
    /// between the two that the decoder must not hear as a gap).
    first_at: i128,
}

/// The output starts presenting audio at the later of the first input's window start and its
/// audio's own start; the packet holding that instant and the one before it (the decoder's
/// pre-roll: AAC priming, or MDCT overlap when audio is cut before the first video frame) are
/// kept, and the edit list starts inside them, so the first input's audio start is exact.
/// `None` when the first input's audio starts only after its window (none of it is kept): the
/// output then starts at 0 like one whose first input has no audio.
fn first_packets(
    p: &Placement,
    t: &Track,
    sp: super::Span,
) -> Result<Option<FirstPackets>, PlanError> {
    let m = &p.inputs[0];
    let label = p.role.label(t);
    let ts = u64::from(t.timescale);
    let apres = p.starts[0] + sp.start;
    let at = apres.max(p.starts[0]);
    let into = crate::time::rescale_i128(at - apres, p.tl, ts, Rounding::Nearest)
        .ok_or_else(|| overflow(m, &label, "audio start"))?;
    let mut media = i128::from(sp.media_time) + into;
    let first_dts = t.samples.first().map_or(0, |s| i128::from(s.dts));
    let mut start = at;
    if media < first_dts {
        // The edit starts before the first packet: presentation starts at the first packet.
        let late = crate::time::rescale_i128(first_dts - media, ts, p.tl, Rounding::Nearest)
            .ok_or_else(|| overflow(m, &label, "audio start"))?;
        start += late;
        media = first_dts;
    }
    if start >= p.starts[1] {
        return Ok(None);
    }
    let holding = t
        .samples
        .iter()
        .rposition(|s| i128::from(s.dts) <= media)
        .unwrap_or(0);
    // The edit list can only start presentation at a whole movie tick: the packets keep their
    // media times, so they all move by that rounding (reported as the error of the first one).
    let out_start = p.written_start(start);
    let media_time = media;
    let first_kept = holding.saturating_sub(1);
    let frame = silence_frame_duration(t);
    let holding_dts = t.samples.get(holding).map_or(0, |s| i128::from(s.dts));
    Ok(Some(FirstPackets {
        out_start,
        media_time: i64::try_from(media_time).map_err(|_| overflow(m, &label, "audio start"))?,
        first_kept,
        holding,
        first_at: holding_dts - i128::from(frame) * (holding - first_kept) as i128,
    }))
}

/// Output audio samples and their segments, built in order.
#[derive(Default)]
struct AudioOut {
    samples: OutSamples,
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
    /// Most samples the track may hold.
    max_samples: usize,
    /// Most silent frames it may generate, and how many it has.
    max_generated: usize,
    generated: usize,
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
        if matches!(
            self.reference.entry().map(|e| &e.codec),
            Some(CodecConfig::Encrypted { .. })
        ) {
            // Silent frames would be clear bytes among encrypted ones: players decrypt every
            // sample of the track with the key, so they would decode garbage (or fail).
            return Err(PlanError::Unsupported {
                file: file.to_string(),
                track: "audio".into(),
                what: format!(
                    "{n} silent frames would be needed in an encrypted audio track (a gap in its audio, or an input without audio); generated frames cannot be encrypted"
                ),
            });
        }
        let room = self
            .max_samples
            .saturating_sub(out.samples.len())
            .min(self.max_generated.saturating_sub(self.generated));
        if usize::try_from(n).map_or(true, |n| n > room) {
            return Err(PlanError::LimitExceeded {
                file: file.to_string(),
                what: format!(
                    "filling a gap needs {n} silent audio frames, {} already generated; limits \
                     allow {} generated and {} samples per track in total",
                    self.generated, self.max_generated, self.max_samples
                ),
            });
        }
        self.generated += n as usize;
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
        if f % sr == 0 && f > 0 {
            return (f / sr) as i64;
        }
    }
    // The median packet duration; at least one tick, so decode times always increase even when a
    // damaged file gives its packets no duration.
    let mut d: Vec<u32> = t.samples.iter().map(|s| s.duration).take(64).collect();
    d.sort_unstable();
    i64::from(d.get(d.len() / 2).copied().unwrap_or(1024).max(1))
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
        // An audio track has one output entry: every input's is the reference's in meaning (same
        // AudioSpecificConfig), and the silent frame is encoded for it.
        entry: 0,
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
