//! Audio placement on the output timeline (see [`place_audio`]): contiguous whole frames, silence
//! for gaps, overlapping packets left out.

use bytes::Bytes;

use super::timeline::{finish_durations, overflow, role_track, Placement, Role};
use super::{Action, Join, OutSample, OutTrack, Payload, Segment};
use crate::codec::aac::AudioSpecificConfig;
use crate::error::PlanError;
use crate::model::{CodecConfig, Track};
use crate::time::{div_round, Rounding};
use crate::transcode::silence::silent_aac_frame;

/// Audio: every packet one frame long and placed right after the previous one.
///
/// One rule decides every packet, at joins and inside an input alike: with `c` the end of the audio
/// placed so far and `ideal` the packet's exact position on the timeline, a gap of half a frame or
/// more is filled with silent frames, a packet that would overlap by more than half a frame is left
/// out (a later input's priming, or overlap with the previous input's padding), and otherwise the
/// packet goes at `c`. So every kept packet is within half a frame of its ideal position, and the
/// error never carries over. A trimmed last packet of an input still decodes to a whole frame, so it
/// is given a whole frame's duration; only the output's final packet keeps its own.
pub(super) fn place_audio(
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
        max_samples: p.max_samples,
        max_generated: p.max_generated,
        generated: 0,
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

        // The output's first audio packet goes exactly where the edit list starts the track: its
        // ideal position differs from that only by the rounding of the start to the movie
        // timescale, which is reported as its error rather than written as a gap the sample
        // table could not express.
        let mut c = cursor.unwrap_or_else(|| {
            i128::from(t.samples[0].dts) - i128::from(sp.media_time) + i128::from(out_media_time)
        });
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
            let dts = i64::try_from(c)
                .map_err(|_| super::locate::overflow_at(m, t, k, "audio", "audio position"))?;
            out.samples.push(OutSample::copied(i, s, dts, 0, true));
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
    p.out_track(samples, segments, edits)
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
