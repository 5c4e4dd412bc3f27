//! An FLV file as the container-neutral [`Media`]: the AVC and AAC tags' payloads are already in
//! MP4 sample form (length-prefixed NAL units, raw AAC frames; FLV spec v10.1 §E.4.3.1 and
//! §E.4.2.2), so every sample is a plain byte range of the file and is copied bit-exact. Sample
//! descriptions are built from the sequence headers ([`crate::mux::mp4::entry`]).
//!
//! Timing: FLV timestamps are milliseconds. Video keeps them (timescale 1000); each sample lasts
//! until the next one's decode time, the last as long as the one before it. Audio gets its sample
//! rate as timescale and 1024 ticks per AAC frame; a frame whose millisecond timestamp is within
//! the rounding of the previous frame's end follows it exactly, so the millisecond rounding of a
//! recorder does not become jitter (a real gap keeps its time).

use std::sync::Arc;

use bytes::Bytes;

use super::{FlvMedia, FlvSample};
use crate::demux::synth::plain_track;
use crate::error::{DemuxError, Location};
use crate::model::{CodecConfig, ContainerFormat, FourCC, Media, Sample, SampleEntry, SampleTable};
use crate::mux::mp4::entry::{mp4a_entry, visual_entry};
use crate::source::Source;
use crate::time::{rescale, Rounding};

/// Builds the model of a demuxed FLV file; its warnings, in words, go to `notes`.
pub fn to_media(
    source: Arc<dyn Source>,
    flv: FlvMedia,
    notes: &mut Vec<String>,
) -> Result<Media, DemuxError> {
    let name = source.name().to_string();
    notes.extend(flv.warnings.iter().map(|w| format!("{name}: {w}")));
    let mut tracks = Vec::new();
    if let Some(v) = flv.video.filter(|v| !v.samples.is_empty()) {
        let mut entries = Vec::with_capacity(v.configs.len());
        let (mut w0, mut h0) = (0u16, 0u16);
        for c in &v.configs {
            let sps = c.parsed.first_sps().ok();
            let w = sps
                .as_ref()
                .map_or(0, |s| u16::try_from(s.width).unwrap_or(0));
            let h = sps
                .as_ref()
                .map_or(0, |s| u16::try_from(s.height).unwrap_or(0));
            if entries.is_empty() {
                (w0, h0) = (w, h);
            }
            entries.push(SampleEntry {
                raw: Bytes::from(visual_entry(b"avc1", w, h, b"avcC", &c.raw)),
                format: FourCC::new(b"avc1"),
                codec: CodecConfig::H264 {
                    width: w,
                    height: h,
                    config: Some(c.parsed.clone()),
                },
            });
        }
        let samples = video_samples(&v.samples).map_err(|e| limit(&name, "video", e))?;
        tracks.push(plain_track(1, true, 1000, (w0, h0), entries, samples));
    }
    if let Some(a) = flv.audio.filter(|a| !a.samples.is_empty()) {
        let Some(first) = a.configs.first() else {
            return Err(malformed(
                &name,
                "audio",
                "AAC frames without a sequence header",
            ));
        };
        let rate = first.parsed.sampling_frequency;
        if rate == 0 {
            return Err(malformed(&name, "audio", "AAC sample rate 0"));
        }
        let frame = u32::from(first.parsed.frame_length.max(1));
        let mut entries = Vec::with_capacity(a.configs.len());
        for c in &a.configs {
            let ch = u16::from(c.parsed.channels());
            entries.push(SampleEntry {
                raw: Bytes::from(mp4a_entry(ch, c.parsed.sampling_frequency, &c.raw)),
                format: FourCC::new(b"mp4a"),
                codec: CodecConfig::Aac {
                    channels: ch,
                    sample_rate: c.parsed.sampling_frequency,
                    config: c.parsed.clone(),
                },
            });
        }
        let samples =
            audio_samples(&a.samples, rate, frame).map_err(|e| limit(&name, "audio", e))?;
        let id = tracks.len() as u32 + 1;
        tracks.push(plain_track(id, false, rate, (0, 0), entries, samples));
    }
    let movie_duration = tracks
        .iter()
        .map(|t| {
            let end = rescale(t.end_dts(), u64::from(t.timescale), 1000, Rounding::Up);
            end.and_then(|e| u64::try_from(e).ok()).unwrap_or(0)
        })
        .max()
        .unwrap_or(0);
    Ok(Media {
        source,
        format: ContainerFormat::Flv,
        major_brand: None,
        movie_timescale: 1000,
        movie_duration,
        tracks,
        udta: None,
        meta: None,
        pssh: Box::new([]),
    })
}

fn malformed(file: &str, path: &str, rule: &str) -> DemuxError {
    DemuxError::Malformed {
        loc: Location {
            file: file.to_string(),
            path: path.to_string(),
            offset: 0,
        },
        rule: rule.to_string(),
    }
}

fn limit(file: &str, path: &str, e: crate::model::TableFull) -> DemuxError {
    DemuxError::LimitExceeded {
        loc: Location {
            file: file.to_string(),
            path: path.to_string(),
            offset: 0,
        },
        what: e.to_string(),
    }
}

/// Video samples: millisecond times, each lasting until the next decode time.
fn video_samples(s: &[FlvSample]) -> Result<SampleTable, crate::model::TableFull> {
    let mut t = SampleTable::new();
    t.reserve(s.len());
    let mut last_duration = 0u32;
    for (k, x) in s.iter().enumerate() {
        let duration = match s.get(k + 1) {
            // A decode time going backwards is damage the planner locates; this sample lasts 0.
            Some(n) => u32::try_from(n.dts - x.dts).unwrap_or(0),
            None => last_duration,
        };
        last_duration = duration;
        t.push(Sample {
            offset: x.offset,
            dts: x.dts,
            size: x.size,
            duration,
            cts_offset: x.cts_offset,
            entry: x.config,
            sync: x.keyframe,
        })?;
    }
    Ok(t)
}

/// Audio samples at the sample rate, `frame` ticks each (see the module comment).
fn audio_samples(
    s: &[FlvSample],
    rate: u32,
    frame: u32,
) -> Result<SampleTable, crate::model::TableFull> {
    let mut t = SampleTable::new();
    t.reserve(s.len());
    // One millisecond, rounded up, in sample-rate ticks: the rounding a recorder's timestamps have.
    let slack = i64::from(rate.div_ceil(1000));
    let mut next: Option<i64> = None;
    for x in s {
        let at = i64::try_from(i128::from(x.dts) * i128::from(rate) / 1000).unwrap_or(i64::MAX);
        let dts = match next {
            Some(n) if (at - n).abs() <= slack => n,
            _ => at,
        };
        t.push(Sample {
            offset: x.offset,
            dts,
            size: x.size,
            duration: frame,
            cts_offset: 0,
            entry: x.config,
            sync: true,
        })?;
        next = dts.checked_add(i64::from(frame));
    }
    Ok(t)
}
