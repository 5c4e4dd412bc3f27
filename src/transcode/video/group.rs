//! Splitting a span at its keyframes into groups that decode, scale and encode independently,
//! and running one group.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::codec::h264::avcc_nal_units;
use crate::time::{rescale, Rounding};

use super::decode::Decoder;
use super::encode::{Coded, Encoder, EncoderSettings};
use super::frame::Rotation;
use super::scale::{Fit, Scaler};
use super::{TranscodeError, VideoSpan};

/// One independent piece of work: the samples it outputs and where decoding must start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Samples (indices into the span, decode order) fed to the decoder, from an IDR (or from the
    /// span's start for the first group, which includes the preroll).
    pub decode: Range<usize>,
    /// The samples whose pictures this group outputs (a suffix of `decode`).
    pub own: Range<usize>,
}

/// What a group produced: coded pictures in presentation order with the sample each shows.
pub struct GroupOutput {
    /// `(sample index, coded picture)`.
    pub coded: Vec<(usize, Coded)>,
    /// The encoder's SPS.
    pub sps: Vec<u8>,
    /// The encoder's PPS.
    pub pps: Vec<u8>,
}

/// True when an access unit holds an IDR slice (NAL type 5).
pub fn is_idr(sample: &[u8], length_size: u8) -> bool {
    avcc_nal_units(sample, length_size)
        .filter_map(Result::ok)
        .any(|u| u.first().is_some_and(|b| b & 0x1f == 5))
}

/// Splits the span's output samples (`preroll..`) into groups that start at IDR pictures.
///
/// Only IDRs start a group. A keyframe that is not an IDR (an open GOP's I picture, which x264
/// marks as a sync sample with `open-gop=1`) has leading B-pictures referencing the previous GOP;
/// decoding from it means starting OpenH264 without an IDR, which it does only with error
/// concealment on, and then flags every later picture as concealed (measured on
/// fixtures/transcode/x264_high_opengop.mp4), so such a GOP stays in its predecessor's group:
/// correct, but an open-GOP stream re-encodes on one thread per IDR period. Groups whose pictures
/// would interleave in presentation order are merged.
pub fn split(
    span: &VideoSpan<'_>,
    idr: &mut dyn FnMut(usize) -> Result<bool, TranscodeError>,
) -> Result<Vec<Group>, TranscodeError> {
    let n = span.samples.len();
    let start = span.preroll;
    let mut starts = vec![start];
    for i in start + 1..n {
        if span.samples[i].sync && idr(i)? {
            starts.push(i);
        }
    }
    let mut merged: Vec<Group> = Vec::with_capacity(starts.len());
    for (j, &s) in starts.iter().enumerate() {
        let end = starts.get(j + 1).copied().unwrap_or(n);
        let g = Group {
            decode: if j == 0 { 0..end } else { s..end },
            own: s..end,
        };
        // Merge into the predecessor when this group's earliest picture is shown before the
        // predecessor's latest: the two outputs could not simply be joined.
        if let Some(last) = merged.last_mut() {
            let max_prev = span.samples[last.own.clone()].iter().map(|s| s.cts()).max();
            let min_this = span.samples[g.own.clone()].iter().map(|s| s.cts()).min();
            if let (Some(a), Some(b)) = (max_prev, min_this) {
                if b <= a {
                    last.own.end = g.own.end;
                    last.decode.end = g.decode.end;
                    continue;
                }
            }
        }
        merged.push(g);
    }
    Ok(merged)
}

/// Everything a worker needs besides its group.
pub struct Job<'a> {
    pub span: &'a VideoSpan<'a>,
    pub rotation: Rotation,
    pub fit: Fit,
    pub settings: EncoderSettings,
    /// The presentation time the encoder's millisecond clock counts from.
    pub base_cts: i64,
    pub done: &'a AtomicU64,
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// Decodes, turns, scales and encodes one group.
pub fn run(job: &Job<'_>, group: &Group) -> Result<GroupOutput, TranscodeError> {
    let span = job.span;
    let mut decoder = Decoder::new(span.avcc)?;
    let mut scaler = Scaler::new(job.settings.width, job.settings.height, job.fit)?;
    let mut encoder = Encoder::new(job.settings)?;
    let mut coded: Vec<(usize, Coded)> = Vec::with_capacity(group.own.len());
    let timescale = u64::from(span.timescale);
    let mut handle = |frame: super::Frame, tag: u64| -> Result<(), TranscodeError> {
        let Ok(idx) = usize::try_from(tag) else {
            return Ok(());
        };
        if !group.own.contains(&idx) {
            return Ok(()); // a picture of the previous GOP, decoded only as a reference
        }
        let cts = span.samples[idx].cts();
        let ms = cts
            .checked_sub(job.base_cts)
            .and_then(|d| rescale(d, timescale, 1000, Rounding::Nearest))
            .ok_or_else(|| TranscodeError::Sample {
                sample: tag,
                what: format!("presentation time {cts} out of range"),
            })?;
        let frame = scaler.scale(job.rotation.apply(frame))?;
        coded.push((idx, encoder.encode(&frame, ms)?));
        let total = job.done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(p) = job.progress {
            p(total);
        }
        Ok(())
    };
    let mut buf = Vec::new();
    for idx in group.decode.clone() {
        span.read_sample(idx, &mut buf)?;
        decoder.decode(&buf, idx as u64, &mut handle)?;
    }
    decoder.flush(&mut handle)?;
    // `handle` borrows `coded` mutably; it is not used past this point.
    check_complete(span, group, &coded)?;
    let (Some(sps), Some(pps)) = (encoder.sps.take(), encoder.pps.take()) else {
        return Err(TranscodeError::Codec {
            what: "encoder wrote no SPS/PPS".into(),
        });
    };
    Ok(GroupOutput { coded, sps, pps })
}

/// Every owned sample decoded exactly once, in presentation order.
fn check_complete(
    span: &VideoSpan<'_>,
    group: &Group,
    coded: &[(usize, Coded)],
) -> Result<(), TranscodeError> {
    let mut seen = vec![false; group.own.len()];
    for (idx, _) in coded {
        let slot = &mut seen[idx - group.own.start];
        if *slot {
            return Err(TranscodeError::Frames {
                first_sample: group.own.start,
                what: format!("sample {idx} was output twice by the decoder"),
            });
        }
        *slot = true;
    }
    if let Some(missing) = seen.iter().position(|s| !s) {
        let got = seen.iter().filter(|s| **s).count();
        return Err(TranscodeError::Frames {
            first_sample: group.own.start,
            what: format!(
                "the decoder gave {got} of {} pictures (first missing: sample {})",
                group.own.len(),
                group.own.start + missing
            ),
        });
    }
    for w in coded.windows(2) {
        let (a, b) = (span.samples[w[0].0].cts(), span.samples[w[1].0].cts());
        if b <= a {
            return Err(TranscodeError::Frames {
                first_sample: group.own.start,
                what: format!(
                    "pictures came out of the decoder out of presentation order (samples {} at {a}, {} at {b})",
                    w[0].0, w[1].0
                ),
            });
        }
    }
    Ok(())
}
