//! Streaming sample-rate conversion with rubato's synchronous FFT resampler: the ratio between
//! two AAC rates is fixed (48000/44100 = 160/147), which is the case it is built for, and it
//! needs no quality settings. Output is trimmed of the resampler's delay and padded at the end,
//! so exactly `round(input × out / in)` frames come out and sample k of the output is the
//! input's instant k / out_rate.

use audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

/// Frames per channel the resampler takes per call.
const CHUNK: usize = 1024;

/// Interleaved f32 in at one rate, interleaved f32 out at another.
pub(super) struct Resample {
    inner: Option<Fft<f32>>,
    channels: usize,
    rates: (u64, u64),
    /// Input frames not yet given to the resampler (interleaved).
    pending: Vec<f32>,
    /// Scratch output of one call (interleaved).
    scratch: Vec<f32>,
    /// Output frames still to drop: the resampler's delay.
    delay_left: usize,
    in_frames: u64,
    out_frames: u64,
}

impl Resample {
    /// A converter from `in_rate` to `out_rate` Hz for `channels` interleaved channels; the
    /// identity when the rates are equal.
    pub(super) fn new(in_rate: u32, out_rate: u32, channels: usize) -> Result<Self, String> {
        let inner = if in_rate == out_rate {
            None
        } else {
            let r = Fft::<f32>::new(
                in_rate as usize,
                out_rate as usize,
                CHUNK,
                1,
                channels,
                FixedSync::Input,
            )
            .map_err(|e| format!("cannot resample {in_rate} Hz to {out_rate} Hz: {e}"))?;
            Some(r)
        };
        let (delay_left, max_out) = inner
            .as_ref()
            .map_or((0, 0), |r| (r.output_delay(), r.output_frames_max()));
        Ok(Resample {
            inner,
            channels,
            rates: (u64::from(in_rate), u64::from(out_rate)),
            pending: Vec::new(),
            scratch: vec![0.0; max_out * channels],
            delay_left,
            in_frames: 0,
            out_frames: 0,
        })
    }

    /// Converts `input` (interleaved), appending what is ready to `out`.
    pub(super) fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), String> {
        self.in_frames += (input.len() / self.channels) as u64;
        if self.inner.is_none() {
            out.extend_from_slice(input);
            self.out_frames += (input.len() / self.channels) as u64;
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let need = CHUNK * self.channels;
        let mut start = 0;
        while self.pending.len() - start >= need {
            let chunk = self.pending[start..start + need].to_vec();
            self.process(&chunk, None, out)?;
            start += need;
        }
        self.pending.drain(..start);
        Ok(())
    }

    /// Converts what is left and pads, so the output has `round(in × out / in_rate)` frames.
    pub(super) fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), String> {
        let (ri, ro) = self.rates;
        let expected = (u128::from(self.in_frames) * u128::from(ro) + u128::from(ri / 2))
            / u128::from(ri.max(1));
        let expected = u64::try_from(expected).map_err(|_| "too many samples")?;
        if self.inner.is_some() {
            let rest = std::mem::take(&mut self.pending);
            let frames = rest.len() / self.channels;
            let mut padded = rest;
            padded.resize(CHUNK * self.channels, 0.0);
            self.process(&padded, Some(frames), out)?;
            // The delay line still holds the end of the signal: feed silence until it is out.
            let silence = vec![0.0; CHUNK * self.channels];
            let mut guard = 0;
            while self.out_frames < expected && guard < 64 {
                self.process(&silence, Some(0), out)?;
                guard += 1;
            }
        }
        // Exactly the expected length: cut the padding's output, or (identity) nothing to do.
        if self.out_frames > expected {
            let extra = (self.out_frames - expected) as usize * self.channels;
            out.truncate(out.len().saturating_sub(extra));
            self.out_frames = expected;
        }
        while self.out_frames < expected {
            out.resize(out.len() + self.channels, 0.0);
            self.out_frames += 1;
        }
        Ok(())
    }

    fn process(
        &mut self,
        chunk: &[f32],
        partial: Option<usize>,
        out: &mut Vec<f32>,
    ) -> Result<(), String> {
        let Some(r) = self.inner.as_mut() else {
            return Ok(());
        };
        let ch = self.channels;
        let input =
            InterleavedSlice::new(chunk, ch, chunk.len() / ch).map_err(|e| e.to_string())?;
        let cap = self.scratch.len() / ch;
        let mut output =
            InterleavedSlice::new_mut(&mut self.scratch, ch, cap).map_err(|e| e.to_string())?;
        let indexing = Indexing {
            input_offset: 0,
            output_offset: 0,
            partial_len: partial,
            active_channels_mask: None,
        };
        let (_, written) = r
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| format!("resampling failed: {e}"))?;
        let skip = written.min(self.delay_left);
        self.delay_left -= skip;
        out.extend_from_slice(&self.scratch[skip * ch..written * ch]);
        self.out_frames += (written - skip) as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: u32, freq: f32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (2.0 * std::f32::consts::PI * freq * i as f32 / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn output_length_is_exact_and_the_signal_is_in_place() {
        for (ri, ro, n) in [
            (44100, 48000, 44100),
            (48000, 44100, 12345),
            (48000, 48000, 777),
        ] {
            let mut r = Resample::new(ri, ro, 1).unwrap();
            let input = sine(ri, 440.0, n);
            let mut out = Vec::new();
            for part in input.chunks(1000) {
                r.push(part, &mut out).unwrap();
            }
            r.finish(&mut out).unwrap();
            let expected = (n as u64 * u64::from(ro) + u64::from(ri) / 2) / u64::from(ri);
            assert_eq!(out.len() as u64, expected, "{ri}->{ro}");
            // Away from the edges, output sample k is the input signal at k / ro seconds (within
            // half a sample: rubato's delay is whole output frames).
            let reference = sine(ro, 440.0, out.len());
            let mid = out.len() / 4..out.len() * 3 / 4;
            let err = mid
                .clone()
                .map(|k| (out[k] - reference[k]).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 0.02, "{ri}->{ro}: max error {err}");
        }
    }

    #[test]
    fn stereo_channels_stay_apart() {
        let mut r = Resample::new(44100, 48000, 2).unwrap();
        let left = sine(44100, 300.0, 8820);
        let input: Vec<f32> = left.iter().flat_map(|&l| [l, 0.0]).collect();
        let mut out = Vec::new();
        r.push(&input, &mut out).unwrap();
        r.finish(&mut out).unwrap();
        assert_eq!(out.len(), 9600 * 2);
        let right_peak = out
            .iter()
            .skip(1)
            .step_by(2)
            .fold(0.0f32, |m, &v| m.max(v.abs()));
        assert!(right_peak < 1e-3, "right channel leaked: {right_peak}");
    }
}
