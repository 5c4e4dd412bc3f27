//! Re-encoding one input's audio track to the output track's AAC configuration (issue 8 item 6):
//! a fragment recorded at 44.1 kHz, or in mono, joins a 48 kHz stereo output.
//!
//! Pipeline, streamed access unit by access unit (memory does not grow with the fragment's
//! length beyond the encoded frames, a few KB per second):
//!
//! 1. decode each AAC access unit with libfdk-aac (LC, HE-AAC, HE-AACv2), inserting silence where
//!    the track's decode times leave a gap;
//! 2. map channels (mono -> stereo duplicates, stereo -> mono averages);
//! 3. resample with rubato's synchronous FFT resampler (`resample.rs`), exactly
//!    `round(n × out / in)` frames out, sample k at instant k / out_rate;
//! 4. encode with libfdk-aac to the output's object type, rate and channel configuration at the
//!    bit rate of the track it joins. The encoder's delay (`nDelay` plus the frame it buffers) is
//!    made a whole number of frames by leading silence, and those frames are dropped, so decoded output frame k is input
//!    instant k × frame / rate: the re-encoded fragment keeps its place and duration, and A/V sync
//!    holds at both of its joins.

mod resample;

use bytes::Bytes;

use super::fdk::decoder::Decoder;
use super::fdk::encoder::Encoder;
use super::silence::Target;
use crate::codec::aac::AudioSpecificConfig;
use crate::model::{CodecConfig, Track};
use crate::source::Source;
use crate::time::{rescale, Rounding};
use resample::Resample;

/// What the re-encoded track must look like: the output track's configuration.
#[derive(Debug, Clone)]
pub struct AudioTarget {
    /// The output track's AudioSpecificConfig.
    pub asc: AudioSpecificConfig,
    /// Bits per second (constant bit rate).
    pub bitrate: u32,
    /// The output track's timescale.
    pub timescale: u32,
}

/// A re-encoded track: access units back to back in `data`, each `frame_duration` ticks long.
#[derive(Debug, Clone)]
pub struct ReencodedAudio {
    /// The access units, concatenated.
    pub data: Bytes,
    /// Size of each access unit, in order.
    pub sizes: Vec<u32>,
    /// Decode time of the first access unit, in the target timescale (the input's first decode
    /// time, rescaled).
    pub first_dts: i64,
    /// Duration of each access unit, in the target timescale.
    pub frame_duration: u32,
    /// PCM frames decoded from the input (per channel, at its rate, gaps filled).
    pub decoded_frames: u64,
    /// Silent PCM frames inserted for gaps between the input's access units.
    pub gap_frames: u64,
}

/// Why a track could not be re-encoded.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The input or target is outside what the pipeline handles.
    #[error("cannot re-encode {file}: {what}")]
    Unsupported {
        /// The input.
        file: String,
        /// What is not supported.
        what: String,
    },
    /// Decoding sample `sample` (from 1) at byte `offset` failed.
    #[error("{file}: audio sample {sample} at byte {offset}: {what}")]
    Decode {
        /// The input.
        file: String,
        /// Sample number, from 1.
        sample: usize,
        /// Byte offset in the input.
        offset: u64,
        /// What the decoder said.
        what: String,
    },
    /// Reading the input failed.
    #[error("{file}: reading audio sample at byte {offset}: {source}")]
    Io {
        /// The input.
        file: String,
        /// Byte offset in the input.
        offset: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Resampling or encoding failed.
    #[error("{file}: re-encoding audio: {what}")]
    Encode {
        /// The input.
        file: String,
        /// What failed.
        what: String,
    },
}

/// Largest access unit read (an AAC frame is at most 6144 bits per channel; 8 channels).
const MAX_AU: u32 = 6144 / 8 * 8;

/// Re-encodes `track` of `source` to `target`.
pub fn reencode_track(
    source: &dyn Source,
    track: &Track,
    target: &AudioTarget,
) -> Result<ReencodedAudio, AudioError> {
    let file = source.name().to_string();
    let unsupported = |what: String| AudioError::Unsupported {
        file: file.clone(),
        what,
    };
    let encode_err = |what: String| AudioError::Encode {
        file: file.clone(),
        what,
    };
    let Some(CodecConfig::Aac { config, .. }) = track.entry().map(|e| &e.codec) else {
        let codec = track
            .entry()
            .map_or("none".into(), |e| e.codec.name(e.format));
        return Err(unsupported(format!(
            "audio codec {codec} (only AAC is decoded)"
        )));
    };
    let enc_target = Target::from_asc(&target.asc).map_err(|e| unsupported(e.to_string()))?;
    let mut settings = enc_target.settings();
    settings.bitrate = Some(target.bitrate);
    let out_rate = settings.sample_rate;
    let out_channels = settings.channels as usize;
    let mut decoder = Decoder::open(&config.raw).map_err(&unsupported)?;
    let mut encoder = Encoder::open(&settings).map_err(&unsupported)?;
    let frame = encoder.frame_length().map_err(&encode_err)?;
    // What an ideal decoder (ffmpeg's) outputs lags the encoder's input by nDelay (2048 for LC,
    // measured against ffmpeg's decode); fdk's own decoder adds its `outputDelay`, which the
    // decoding side below removes.
    let delay = encoder.delay().map_err(&encode_err)?;
    let mut au = vec![0u8; encoder.max_out_bytes().map_err(&encode_err)?];
    // Leading silence that makes the encoder's delay a whole number of frames.
    let lead = (frame - delay % frame) % frame;
    let drop_frames = (delay + lead) / frame;

    let mut sink = Sink {
        encoder: &mut encoder,
        au: &mut au,
        frame_samples: frame * out_channels,
        pcm: vec![0i16; lead * out_channels],
        data: Vec::new(),
        sizes: Vec::new(),
    };
    let mut resampler: Option<Resample> = None;
    let mut in_channels = 0usize;
    let mut in_rate = 0u32;
    let mut buf = Vec::new();
    let mut floats = Vec::new();
    let mut resampled = Vec::new();
    let mut expected_dts: Option<i64> = None;
    let (mut decoded_frames, mut gap_frames) = (0u64, 0u64);
    // Decoded samples (per channel) still to discard: the decoder's own output delay.
    let mut delay_left: Option<usize> = None;
    let mut output_delay = 0usize;
    let first_dts = track.samples.first().map_or(0, |s| s.dts);
    for (k, s) in track.samples.iter().enumerate() {
        let offset = s.offset;
        if s.size > MAX_AU {
            return Err(AudioError::Decode {
                file: file.clone(),
                sample: k + 1,
                offset,
                what: format!("{} bytes, more than an AAC frame can hold", s.size),
            });
        }
        buf.resize(s.size as usize, 0);
        source
            .read_at(offset, &mut buf)
            .map_err(|e| AudioError::Io {
                file: file.clone(),
                offset,
                source: e,
            })?;
        let (info, pcm) = decoder.decode(&buf).map_err(|what| AudioError::Decode {
            file: file.clone(),
            sample: k + 1,
            offset,
            what,
        })?;
        if resampler.is_none() {
            in_channels = info.channels;
            in_rate = info.sample_rate;
            check_channels(in_channels, out_channels).map_err(&unsupported)?;
            resampler = Some(Resample::new(in_rate, out_rate, out_channels).map_err(&unsupported)?);
        } else if (info.channels, info.sample_rate) != (in_channels, in_rate) {
            return Err(unsupported(format!(
                "the stream changes from {in_channels} channels at {in_rate} Hz to {} at {} Hz",
                info.channels, info.sample_rate
            )));
        }
        let Some(r) = resampler.as_mut() else {
            continue;
        };
        floats.clear();
        // A gap in the input's decode times (a dropped packet) is silence of that length, so
        // what follows stays at its time.
        if let Some(expected) = expected_dts {
            let gap = s.dts.saturating_sub(expected);
            let gap_pcm = rescale(
                gap,
                u64::from(track.timescale),
                u64::from(in_rate),
                Rounding::Nearest,
            )
            .unwrap_or(0);
            if gap_pcm > i64::try_from(info.frame_size / 2).unwrap_or(0) {
                let n = usize::try_from(gap_pcm)
                    .unwrap_or(0)
                    .min(in_rate as usize * 3600);
                floats.resize(n * out_channels, 0.0);
                gap_frames += n as u64;
                decoded_frames += n as u64;
            }
        }
        expected_dts = Some(s.dts.saturating_add(i64::from(s.duration)));
        output_delay = info.output_delay;
        let left = delay_left.get_or_insert(info.output_delay);
        let skip = (*left).min(pcm.len() / in_channels.max(1));
        *left -= skip;
        let pcm = &pcm[skip * in_channels..];
        map_channels(pcm, in_channels, out_channels, &mut floats);
        decoded_frames += (pcm.len() / in_channels.max(1)) as u64;
        resampled.clear();
        r.push(&floats, &mut resampled).map_err(&encode_err)?;
        sink.push(&resampled).map_err(&encode_err)?;
    }
    let Some(mut r) = resampler else {
        return Err(unsupported("the track has no samples".into()));
    };
    // The decoder's delay line holds the end of the stream: as many samples as were skipped at
    // its start.
    let mut owed = skipped_total(&delay_left, output_delay);
    while owed > 0 {
        let (_, pcm) = decoder.flush().map_err(&encode_err)?;
        let n = (pcm.len() / in_channels.max(1)).min(owed);
        if n == 0 {
            break;
        }
        floats.clear();
        map_channels(
            &pcm[..n * in_channels],
            in_channels,
            out_channels,
            &mut floats,
        );
        decoded_frames += n as u64;
        owed -= n;
        resampled.clear();
        r.push(&floats, &mut resampled).map_err(&encode_err)?;
        sink.push(&resampled).map_err(&encode_err)?;
    }
    resampled.clear();
    r.finish(&mut resampled).map_err(&encode_err)?;
    sink.push(&resampled).map_err(&encode_err)?;
    // As many frames as the resampler gave out (it rounds to nearest).
    let out_frames = (u128::from(decoded_frames) * u128::from(out_rate) + u128::from(in_rate / 2))
        / u128::from(in_rate.max(1));
    let out_frames = u64::try_from(out_frames).unwrap_or(u64::MAX);
    let wanted = usize::try_from(out_frames.div_ceil(frame as u64)).unwrap_or(usize::MAX);
    sink.finish(drop_frames + wanted).map_err(&encode_err)?;
    let (data, sizes) = (sink.data, sink.sizes);
    // The first `drop_frames` access units carry the encoder's delay; keep `wanted` after them.
    let start: usize = sizes.iter().take(drop_frames).map(|&s| s as usize).sum();
    let kept: Vec<u32> = sizes
        .iter()
        .skip(drop_frames)
        .take(wanted)
        .copied()
        .collect();
    let end = start + kept.iter().map(|&s| s as usize).sum::<usize>();
    let frame_duration = rescale(
        i64::try_from(frame).unwrap_or(0),
        u64::from(out_rate),
        u64::from(target.timescale),
        Rounding::Nearest,
    )
    .and_then(|d| u32::try_from(d).ok())
    .filter(|&d| d > 0)
    .ok_or_else(|| {
        unsupported(format!(
            "timescale {} for {out_rate} Hz audio",
            target.timescale
        ))
    })?;
    let first_dts = rescale(
        first_dts,
        u64::from(track.timescale),
        u64::from(target.timescale),
        Rounding::Nearest,
    )
    .ok_or_else(|| unsupported("first decode time out of range".into()))?;
    Ok(ReencodedAudio {
        data: Bytes::from(data).slice(start..end),
        sizes: kept,
        first_dts,
        frame_duration,
        decoded_frames,
        gap_frames,
    })
}

/// The PCM waiting for the encoder, and what it produced.
struct Sink<'a> {
    encoder: &'a mut Encoder,
    au: &'a mut Vec<u8>,
    /// Interleaved samples per encoder frame.
    frame_samples: usize,
    pcm: Vec<i16>,
    data: Vec<u8>,
    sizes: Vec<u32>,
}

impl Sink<'_> {
    fn push(&mut self, samples: &[f32]) -> Result<(), String> {
        self.pcm.extend(samples.iter().map(|&v| to_i16(v)));
        let mut start = 0;
        while self.pcm.len() - start >= self.frame_samples {
            let n = self
                .encoder
                .encode(&self.pcm[start..start + self.frame_samples], self.au)?;
            self.keep(n)?;
            start += self.frame_samples;
        }
        self.pcm.drain(..start);
        Ok(())
    }

    /// Pads the last frame with silence and drains the encoder until `frames` access units
    /// exist (or it has nothing more).
    fn finish(&mut self, frames: usize) -> Result<(), String> {
        if !self.pcm.is_empty() {
            self.pcm.resize(self.frame_samples, 0);
            let pcm = std::mem::take(&mut self.pcm);
            let n = self.encoder.encode(&pcm, self.au)?;
            self.keep(n)?;
        }
        let silence = vec![0i16; self.frame_samples];
        // Silence, not end-of-stream flushing: the encoder's delay line then ends in frames
        // that decode like every other (a flushed last frame may be shortened).
        let mut guard = 0;
        while self.sizes.len() < frames && guard < 16 {
            let n = self.encoder.encode(&silence, self.au)?;
            self.keep(n)?;
            guard += 1;
        }
        if self.sizes.len() < frames {
            return Err(format!(
                "the encoder gave {} access units, {frames} expected",
                self.sizes.len()
            ));
        }
        Ok(())
    }

    fn keep(&mut self, n: usize) -> Result<(), String> {
        if n > 0 {
            let au = self
                .au
                .get(..n)
                .ok_or("encoder output larger than its buffer")?;
            self.data.extend_from_slice(au);
            self.sizes
                .push(u32::try_from(n).map_err(|_| "access unit too large")?);
        }
        Ok(())
    }
}

/// Samples the decoder's delay made us skip at the start (owed at the end).
fn skipped_total(left: &Option<usize>, output_delay: usize) -> usize {
    left.map_or(0, |l| output_delay.saturating_sub(l))
}

/// Channel layouts the pipeline maps between: equal counts, or mono <-> stereo.
fn check_channels(from: usize, to: usize) -> Result<(), String> {
    if from == to || (from, to) == (1, 2) || (from, to) == (2, 1) {
        Ok(())
    } else {
        Err(format!(
            "{from} channels to {to} (only equal counts, or mono <-> stereo)"
        ))
    }
}

/// Interleaved i16 with `from` channels to interleaved f32 with `to` channels, appended to `out`.
fn map_channels(pcm: &[i16], from: usize, to: usize, out: &mut Vec<f32>) {
    let f = |v: i16| f32::from(v) / 32768.0;
    match (from, to) {
        (1, 2) => out.extend(pcm.iter().flat_map(|&v| [f(v), f(v)])),
        (2, 1) => out.extend(pcm.chunks_exact(2).map(|c| (f(c[0]) + f(c[1])) / 2.0)),
        _ => out.extend(pcm.iter().map(|&v| f(v))),
    }
}

/// f32 in [-1, 1) to i16, rounded, saturating.
fn to_i16(v: f32) -> i16 {
    (v * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests;
