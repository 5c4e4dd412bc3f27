//! `--accurate` trims: a frame-accurate smart cut of an input's video after
//! [`crate::plan::apply_trim`].
//!
//! The lossless trim keeps whole GOPs and hides what lies outside START..END with the edit list,
//! which only MP4 players honour. Here the GOP holding START is decoded from its IDR and only its
//! pictures shown from START on are re-encoded (OpenH264, one closed GOP of its own); likewise the
//! GOP holding the last frame before END when it still holds frames shown at or after END (B-frame
//! reordering keeps such a reference frame). Every other sample is copied bit-exact, so nothing
//! before START or after END is left in the track and a TS or HLS output (no edit lists) shows
//! exactly START..END too. The edit list is kept: it still starts presentation at START.
//!
//! The re-encoded pictures need no reordering (decode time = presentation time), but the copied
//! samples after them may be delayed by B-frames (composition offset D on the IDR that follows).
//! The re-encoded pictures take the same delay: decode time = presentation time - D, composition
//! offset D, so decode times keep increasing across the switch; a stream where that does not hold
//! is refused. The new bytes are appended to the input's source as [`super::realize`] does, under
//! sample entries of their own (the planner joins entries that differ in parameter sets only).

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::realize::{entry_with_avcc, video_bitrate, Transcoded};
use super::video::decode::Decoder;
use super::video::encode::{Encoder, EncoderSettings};
use super::video::scale::{Fit, Scaler};
use super::video::{Frame, TranscodeError};
use crate::codec::framing::avcc_from_parameter_sets;
use crate::codec::h264::{avcc_nal_units, AvcDecoderConfig};
use crate::model::{CodecConfig, Media, Sample, SampleTable, TrackKind};
use crate::source::{ConcatSource, MemSource, Source};
use crate::time::{rescale, Rounding};

/// How a smart cut's entries in [`crate::api::StitchReport::transcoded`] start their reason: such
/// an entry counts its own re-encoded samples, not the whole track's.
pub const REASON: &str = "smart cut";

/// True for a report entry made by [`smart_cut`].
pub fn is_smart_cut(t: &Transcoded) -> bool {
    t.reason.starts_with(REASON)
}

/// Largest sample read for re-encoding (as `video::MAX_SAMPLE`).
const MAX_SAMPLE: u32 = 128 << 20;

/// Most samples in one GOP re-encoded at a cut (18 minutes at 30 frames a second): what is made
/// waits in memory for the muxer.
const MAX_SEGMENT: usize = 1 << 15;

/// One GOP to re-encode: the samples decoded (decode order, from an IDR) and which of their
/// pictures are kept (those visible in the trim's window).
struct Segment {
    decode: Range<usize>,
    /// Composition delay given to the re-encoded pictures (the next copied IDR's).
    delay: i64,
    /// Why, for the report.
    reason: String,
}

/// What one segment produced.
struct Made {
    /// `(presentation time, duration, coded bytes, idr)` in presentation order.
    pictures: Vec<(i64, u32, Vec<u8>, bool)>,
    avcc: Bytes,
    seconds: f64,
}

fn err(file: &str, what: String) -> crate::Error {
    TranscodeError::In {
        file: file.to_string(),
        source: Box::new(TranscodeError::Unsupported {
            what: format!("--accurate: {what}"),
        }),
    }
    .into()
}

/// Re-encodes the GOPs at the cut points of `m`'s (first) video track, already trimmed by
/// `apply_trim` (its first media edit presents START..END), so that the track holds no frame
/// outside that window. `input` is `m`'s index among the planned inputs (for the report);
/// `threads` 1 runs the two cut points one after the other, any other value side by side.
pub fn smart_cut(
    m: &mut Media,
    input: usize,
    threads: usize,
) -> Result<Vec<Transcoded>, crate::Error> {
    let name = m.name().to_string();
    let bad = |what: String| err(&name, what);
    let Some(v) = m.tracks.iter().position(|t| t.kind == TrackKind::Video) else {
        return Ok(Vec::new()); // audio is already cut at frame granularity
    };
    let t = &m.tracks[v];
    let Some(edit) = t.edits.iter().find(|e| !e.is_empty()).copied() else {
        return Ok(Vec::new()); // not trimmed
    };
    let ts = u64::from(t.timescale);
    let ms = u64::from(m.movie_timescale);
    let overflow = || bad("times out of range".into());
    let lo = edit.media_time;
    let seg_ticks = i64::try_from(edit.segment_duration)
        .ok()
        .and_then(|d| rescale(d, ms, ts, Rounding::Nearest))
        .ok_or_else(overflow)?;
    // The edit's duration is rounded to a movie tick: a frame starting within half a movie tick
    // of the end is the first one not shown.
    let tol = rescale(1, ms, ts, Rounding::Down).unwrap_or(0) / 2;
    let hi = lo
        .checked_add(seg_ticks)
        .and_then(|h| h.checked_sub(tol))
        .ok_or_else(overflow)?;
    if m.tracks.iter().any(|t| t.samples.aux().is_some()) {
        return Err(bad("encrypted tracks cannot be cut frame-accurately".into()));
    }
    let samples: Vec<Sample> = t.samples.iter().collect();
    let n = samples.len();
    if n == 0 || !matches!(t.entry().map(|e| &e.codec), Some(CodecConfig::H264 { .. })) {
        return Err(bad(format!(
            "video track {}: frame-accurate cuts re-encode H.264 only",
            t.id
        )));
    }
    // The GOP presenting START: the keyframe shown last at or before it (presentation order).
    let key_before = |limit: i64, strict: bool| {
        (0..n)
            .filter(|&i| {
                let c = samples[i].cts();
                samples[i].sync && if strict { c < limit } else { c <= limit }
            })
            .max_by_key(|&i| (samples[i].cts(), i))
    };
    let g0 = key_before(lo, false).unwrap_or(0);
    let next_key = (g0 + 1..n).find(|&i| samples[i].sync).unwrap_or(n);
    let e0 = key_before(hi, true).unwrap_or(g0);
    let frame_end = |s: &Sample| s.cts().saturating_add(i64::from(s.duration));
    // Samples before g0 would show in outputs without edit lists; apply_trim leaves none.
    if samples[..g0].iter().any(|s| frame_end(s) > lo) {
        return Err(bad(
            "a sample decoded before the keyframe at START is shown after START (open GOP)".into(),
        ));
    }
    let needs_start = samples[g0].cts() < lo;
    let needs_end = samples[e0..].iter().any(|s| s.cts() >= hi);
    let (start_end, copy_end, end_seg) = if e0 <= g0 {
        // START and END in one GOP: one segment, nothing copied.
        (
            if needs_start || needs_end {
                n
            } else {
                next_key
            },
            n,
            None,
        )
    } else if needs_end {
        (next_key, e0, Some(e0..n))
    } else {
        (next_key, n, None)
    };
    let start_seg = (needs_start || (e0 <= g0 && needs_end)).then_some(g0..start_end);
    let has_start = start_seg.is_some();
    if !has_start && end_seg.is_none() {
        let mut k = 0usize;
        m.tracks[v].samples.retain(|_| {
            k += 1;
            k > g0
        });
        return Ok(Vec::new());
    }
    let delay_at = |i: usize| samples.get(i).map_or(0, |s| i64::from(s.cts_offset));
    let copy_start = start_seg.as_ref().map_or(g0, |r| r.end);
    let mut segments = Vec::new();
    if let Some(r) = start_seg {
        // START and END in one GOP re-encode in one segment.
        let at = match (needs_start, e0 <= g0 && needs_end) {
            (true, true) => "START and END",
            (false, true) => "END",
            _ => "START",
        };
        segments.push(Segment {
            delay: delay_at(r.end),
            decode: r,
            reason: format!("{REASON} at {at}"),
        });
    }
    if let Some(r) = end_seg {
        segments.push(Segment {
            delay: delay_at(r.start),
            decode: r,
            reason: format!("{REASON} at END"),
        });
    }
    if let Some(s) = segments.iter().find(|s| s.decode.len() > MAX_SEGMENT) {
        return Err(bad(format!(
            "the GOP at a cut has {} samples; at most {MAX_SEGMENT} are re-encoded (their coded \
             bytes are held in memory)",
            s.decode.len()
        )));
    }
    // Each segment starts at an IDR, and so does the copied run after it: an open GOP's leading
    // pictures would reference pictures that are no longer there.
    let mut idr_checks: Vec<usize> = segments.iter().map(|s| s.decode.start).collect();
    if copy_start < copy_end {
        idr_checks.push(copy_start);
    }
    for &i in &idr_checks {
        if !is_idr(&*m.source, &samples[i], entry_length_size(t, &samples[i]))
            .map_err(|e| bad(e.to_string()))?
        {
            return Err(bad(format!(
                "sample {} (a keyframe at {:.3} s) is not an IDR picture: frame-accurate cuts \
                 need closed GOPs",
                i + 1,
                secs(samples[i].cts(), ts)
            )));
        }
    }
    let bitrate = video_bitrate(t);
    let run = |s: &Segment| encode_segment(m, v, &samples, s, (lo, hi), bitrate);
    let made: Vec<Result<Made, TranscodeError>> = if threads == 1 || segments.len() == 1 {
        segments.iter().map(run).collect()
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = segments
                .iter()
                .map(|s| scope.spawn(move || run(s)))
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join().unwrap_or_else(|_| {
                        Err(TranscodeError::Codec {
                            what: "the re-encoding thread panicked".into(),
                        })
                    })
                })
                .collect()
        })
    };
    let made = made
        .into_iter()
        .map(|r| {
            r.map_err(|e| TranscodeError::In {
                file: name.clone(),
                source: Box::new(e),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    // New sample entries first (the re-encoded GOP at START is shown first), one per distinct
    // avcC; the input's entries follow, their indices shifted.
    let t = &m.tracks[v];
    let mut avccs: Vec<&Bytes> = Vec::new();
    for x in &made {
        if !avccs.contains(&&x.avcc) {
            avccs.push(&x.avcc);
        }
    }
    let shift = u16::try_from(avccs.len()).map_err(|_| overflow())?;
    let mut entries = Vec::with_capacity(avccs.len() + t.sample_entries.len());
    for (a, seg) in avccs.iter().zip(&segments) {
        let original = t
            .sample_entries
            .get(usize::from(samples[seg.decode.start].entry))
            .ok_or_else(|| bad("sample entry out of range".into()))?;
        entries.push(
            entry_with_avcc(original, a)
                .ok_or_else(|| bad("cannot build the re-encoded sample description".into()))?,
        );
    }
    // Without a copied sample the input's entries would describe nothing.
    if copy_start < copy_end {
        entries.extend(t.sample_entries.iter().cloned());
    }
    // The new bytes after the input's.
    // The bytes made at START go before the input's, those at END after them: every track's
    // samples stay in increasing byte order, which keeps the MP4 writer's chunks in the input's
    // interleave (one copy run per stretch of the input instead of one per chunk).
    let mut head = Vec::new();
    let mut tail = Vec::new();
    let mut out: Vec<Sample> = Vec::with_capacity(n);
    let mut made_iter = made.iter().zip(&segments);
    if has_start {
        if let Some((x, seg)) = made_iter.next() {
            add_made(x, seg, &avccs, 0, &mut head, &mut out).ok_or_else(overflow)?;
        }
    }
    let prefix = u64::try_from(head.len()).map_err(|_| overflow())?;
    for s in &samples[copy_start..copy_end] {
        let entry = s.entry.checked_add(shift).ok_or_else(overflow)?;
        let offset = s.offset.checked_add(prefix).ok_or_else(overflow)?;
        out.push(Sample {
            entry,
            offset,
            ..*s
        });
    }
    let base = m.source.len().checked_add(prefix).ok_or_else(overflow)?;
    for (x, seg) in made_iter {
        add_made(x, seg, &avccs, base, &mut tail, &mut out).ok_or_else(overflow)?;
    }
    let mut table = SampleTable::new();
    table.reserve(out.len());
    for s in out {
        table.push(s).map_err(|e| bad(e.to_string()))?;
    }
    check_decode_times(&table).map_err(bad)?;
    let report: Vec<Transcoded> = made
        .iter()
        .zip(&segments)
        .map(|(x, seg)| Transcoded {
            input,
            file: name.clone(),
            track: "video".into(),
            output_track: v,
            reason: seg.reason.clone(),
            input_samples: seg.decode.len(),
            output_samples: x.pictures.len(),
            seconds: x.seconds,
        })
        .collect();
    // The other tracks' bytes move by the prefix too.
    if prefix > 0 {
        for (k, t) in m.tracks.iter_mut().enumerate() {
            if k == v {
                continue;
            }
            let mut moved = SampleTable::new();
            moved.reserve(t.samples.len());
            for s in t.samples.iter() {
                let offset = s.offset.checked_add(prefix).ok_or_else(overflow)?;
                moved
                    .push(Sample { offset, ..s })
                    .map_err(|e| bad(e.to_string()))?;
            }
            t.samples = moved;
        }
    }
    let part = |bytes: Vec<u8>, at: &str| -> Arc<dyn Source> {
        Arc::new(MemSource::new(
            format!("{name} (smart cut at {at})"),
            Bytes::from(bytes),
        ))
    };
    let mut parts = Vec::with_capacity(3);
    if !head.is_empty() {
        parts.push(part(head, "START"));
    }
    parts.push(m.source.clone());
    if !tail.is_empty() {
        parts.push(part(tail, "END"));
    }
    m.source = Arc::new(ConcatSource::named(parts, name.clone()));
    let t = &mut m.tracks[v];
    t.sample_entries = entries;
    t.samples = table;
    Ok(report)
}

/// Appends a segment's pictures to `out` (bytes to `data`, which starts at `base` in the new
/// source); `None` on overflow.
fn add_made(
    x: &Made,
    seg: &Segment,
    avccs: &[&Bytes],
    base: u64,
    data: &mut Vec<u8>,
    out: &mut Vec<Sample>,
) -> Option<()> {
    let entry = avccs
        .iter()
        .position(|a| **a == x.avcc)
        .and_then(|p| u16::try_from(p).ok())?;
    for (pts, duration, bytes, idr) in &x.pictures {
        out.push(Sample {
            offset: u64::try_from(data.len()).ok()?.checked_add(base)?,
            dts: pts.checked_sub(seg.delay)?,
            size: u32::try_from(bytes.len()).ok()?,
            duration: *duration,
            cts_offset: i32::try_from(seg.delay).ok()?,
            entry,
            sync: *idr,
        });
        data.extend_from_slice(bytes);
    }
    Some(())
}

fn secs(ticks: i64, ts: u64) -> f64 {
    ticks as f64 / ts.max(1) as f64
}

/// Decode times strictly increase (the muxers and every player need it).
fn check_decode_times(t: &SampleTable) -> Result<(), String> {
    let mut prev: Option<i64> = None;
    for (k, s) in t.iter().enumerate() {
        if prev.is_some_and(|p| s.dts <= p) {
            return Err(format!(
                "decode times would not increase at sample {} (the re-encoded pictures take the \
                 next keyframe's composition delay, and this stream's delay varies)",
                k + 1
            ));
        }
        prev = Some(s.dts);
    }
    Ok(())
}

fn entry_config<'a>(t: &'a crate::model::Track, s: &Sample) -> Option<&'a AvcDecoderConfig> {
    match &t.sample_entries.get(usize::from(s.entry))?.codec {
        CodecConfig::H264 {
            config: Some(c), ..
        } => Some(c),
        _ => None,
    }
}

fn entry_length_size(t: &crate::model::Track, s: &Sample) -> u8 {
    entry_config(t, s).map_or(4, |c| c.length_size)
}

fn read(src: &dyn Source, s: &Sample, buf: &mut Vec<u8>) -> Result<(), TranscodeError> {
    let end = s.offset.checked_add(u64::from(s.size));
    let io = |e: std::io::Error| TranscodeError::Read {
        file: src.name().to_string(),
        sample: 0,
        offset: s.offset,
        source: e,
    };
    if s.size > MAX_SAMPLE || end.is_none_or(|e| e > src.len()) {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("sample of {} bytes runs past the end of the input", s.size),
        )));
    }
    buf.resize(s.size as usize, 0);
    src.read_at(s.offset, buf).map_err(io)
}

/// True when the sample holds an IDR slice (NAL type 5).
fn is_idr(src: &dyn Source, s: &Sample, length_size: u8) -> Result<bool, TranscodeError> {
    let mut buf = Vec::new();
    read(src, s, &mut buf)?;
    let idr = avcc_nal_units(&buf, length_size)
        .filter_map(Result::ok)
        .any(|u| u.first().is_some_and(|b| b & 0x1f == 5));
    Ok(idr)
}

/// Decodes the segment's samples and re-encodes its pictures visible in `lo..hi` (one frame
/// starting before `lo` but still shown at `lo` included) as one closed GOP at the track's size.
fn encode_segment(
    m: &Media,
    v: usize,
    samples: &[Sample],
    seg: &Segment,
    (lo, hi): (i64, i64),
    bitrate: u32,
) -> Result<Made, TranscodeError> {
    let started = Instant::now();
    let t = &m.tracks[v];
    let span = &samples[seg.decode.clone()];
    let first = span.first().ok_or_else(|| TranscodeError::Target {
        what: "empty segment".into(),
    })?;
    if span.iter().any(|s| s.entry != first.entry) {
        return Err(TranscodeError::Unsupported {
            what: "the GOP at a cut switches sample descriptions".into(),
        });
    }
    let avcc = entry_config(t, first).ok_or_else(|| TranscodeError::Unsupported {
        what: "sample description without avcC".into(),
    })?;
    let sps = avcc.first_sps().map_err(|e| TranscodeError::Unsupported {
        what: format!("avcC: {e}"),
    })?;
    // Presentation times of the whole GOP, sorted: each picture lasts until the next one.
    let mut times: Vec<i64> = span.iter().map(Sample::cts).collect();
    times.sort_unstable();
    let ticks: u64 = span.iter().map(|s| u64::from(s.duration)).sum();
    let fps = if ticks == 0 {
        30.0
    } else {
        span.len() as f64 * f64::from(t.timescale) / ticks as f64
    };
    let settings = EncoderSettings {
        width: sps.width,
        height: sps.height,
        bitrate,
        fps: fps.clamp(1.0, 240.0) as f32,
        gop: 0,
    };
    let mut decoder = Decoder::new(avcc)?;
    let mut scaler = Scaler::new(settings.width, settings.height, Fit::default())?;
    let mut encoder: Option<Encoder> = None;
    let mut pictures = Vec::new();
    let mut first_pts: Option<i64> = None;
    let ts = u64::from(t.timescale);
    let mut handle = |frame: Frame, tag: u64| -> Result<(), TranscodeError> {
        let Some(s) = usize::try_from(tag).ok().and_then(|i| span.get(i)) else {
            return Ok(());
        };
        let pts = s.cts();
        let next = times
            .iter()
            .find(|&&x| x > pts)
            .copied()
            .unwrap_or_else(|| pts.saturating_add(i64::from(s.duration.max(1))));
        if next <= lo || pts >= hi {
            return Ok(()); // not shown in the window
        }
        let duration = u32::try_from(next - pts).map_err(|_| TranscodeError::Target {
            what: format!("frame at {pts} lasts too long"),
        })?;
        let base = *first_pts.get_or_insert(pts);
        let ms = rescale(pts - base, ts, 1000, Rounding::Nearest).unwrap_or(0);
        let enc = match encoder.as_mut() {
            Some(e) => e,
            None => encoder.insert(Encoder::new(settings)?),
        };
        let coded = enc.encode(&scaler.scale(frame)?, ms)?;
        if pictures
            .last()
            .is_some_and(|&(p, ..): &(i64, u32, Vec<u8>, bool)| p >= pts)
        {
            return Err(TranscodeError::Frames {
                first_sample: seg.decode.start,
                what: "pictures came out of the decoder out of presentation order".into(),
            });
        }
        pictures.push((pts, duration, coded.data, coded.idr));
        Ok(())
    };
    let mut buf = Vec::new();
    for (k, s) in span.iter().enumerate() {
        read(&*m.source, s, &mut buf)?;
        decoder.decode(&buf, k as u64, &mut handle)?;
    }
    decoder.flush(&mut handle)?;
    let want = span
        .iter()
        .filter(|s| {
            let pts = s.cts();
            let next = times.iter().find(|&&x| x > pts).copied();
            next.is_none_or(|x| x > lo) && pts < hi
        })
        .count();
    if pictures.len() != want {
        return Err(TranscodeError::Frames {
            first_sample: seg.decode.start,
            what: format!(
                "the decoder gave {} of the {want} pictures to re-encode",
                pictures.len()
            ),
        });
    }
    let mut enc = encoder.ok_or_else(|| TranscodeError::Codec {
        what: "no picture to re-encode".into(),
    })?;
    let (Some(sps), Some(pps)) = (enc.sps.take(), enc.pps.take()) else {
        return Err(TranscodeError::Codec {
            what: "encoder wrote no SPS/PPS".into(),
        });
    };
    let avcc = avcc_from_parameter_sets(&[&sps], &[&pps], 4)
        .map_err(|e| TranscodeError::Codec {
            what: format!("encoder's parameter sets: {e}"),
        })?
        .encode();
    Ok(Made {
        pictures,
        avcc: Bytes::from(avcc),
        seconds: started.elapsed().as_secs_f64(),
    })
}
