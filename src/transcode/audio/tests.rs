//! The pipeline on streams made here: AAC-LC encoded by libfdk-aac at one rate and layout,
//! re-encoded to another, decoded again and compared with the signal it must carry.

use super::*;
use crate::codec::aac::AudioSpecificConfig;
use crate::model::{FourCC, Sample, SampleEntry, SampleTable};
use crate::source::MemSource;
use crate::transcode::fdk::encoder::Settings;

/// The test signal at `t` seconds: a sweep from 200 Hz up by 400 Hz per second, whose
/// alignment with itself is unique (a steady tone would match every period).
fn sweep(t: f64) -> f32 {
    (2.0 * std::f64::consts::PI * (200.0 * t + 200.0 * t * t)).sin() as f32 * 0.5
}

/// `secs` seconds of a 440 Hz tone (0.5 amplitude) as AAC-LC at `rate` with `channels`:
/// a source holding the access units and a track over them (timescale = rate, 1024 per frame).
/// The track starts at decode time `start`.
fn tone_track(
    rate: u32,
    channels: u32,
    secs: f64,
    start: i64,
) -> (MemSource, Track, AudioSpecificConfig) {
    let settings = Settings {
        aot: 2,
        sample_rate: rate,
        channel_mode: channels,
        channels,
        bitrate: Some(96_000 * channels),
    };
    let mut enc = Encoder::open(&settings).expect("encoder");
    let asc =
        AudioSpecificConfig::parse(&enc.audio_specific_config().expect("asc")).expect("parse");
    let mut out = vec![0u8; enc.max_out_bytes().expect("max")];
    let total = (secs * f64::from(rate)) as usize;
    let (mut data, mut sizes) = (Vec::new(), Vec::new());
    let mut t = 0usize;
    while sizes.len() * 1024 < total + 4096 {
        let pcm: Vec<i16> = (t..t + 1024)
            .flat_map(|i| {
                let v = sweep(i as f64 / f64::from(rate));
                std::iter::repeat((v * 32767.0) as i16).take(channels as usize)
            })
            .collect();
        t += 1024;
        let n = enc.encode(&pcm, &mut out).expect("encode");
        if n > 0 {
            data.extend_from_slice(&out[..n]);
            sizes.push(n as u32);
        }
    }
    let mut table = SampleTable::new();
    let mut offset = 0u64;
    for (k, &size) in sizes.iter().enumerate() {
        table
            .push(Sample {
                offset,
                dts: start + k as i64 * 1024,
                size,
                duration: 1024,
                cts_offset: 0,
                entry: 0,
                sync: true,
            })
            .expect("push");
        offset += u64::from(size);
    }
    let entry = SampleEntry {
        raw: Bytes::from(crate::mux::mp4::entry::mp4a_entry(
            channels as u16,
            rate,
            &asc.raw,
        )),
        format: FourCC::new(b"mp4a"),
        codec: CodecConfig::Aac {
            channels: channels as u16,
            sample_rate: rate,
            config: asc.clone(),
        },
    };
    let track = crate::demux::synth::plain_track(1, false, rate, (0, 0), vec![entry], table);
    (MemSource::new("tone.aac", data), track, asc)
}

/// Decodes access units back to back; returns interleaved PCM and the channel count, without
/// the decoder's own output delay (so sample k is what an ideal decoder, like ffmpeg's, gives).
fn decode_all(asc: &AudioSpecificConfig, data: &[u8], sizes: &[u32]) -> (Vec<i16>, usize) {
    let mut dec = Decoder::open(&asc.raw).expect("decoder");
    let (mut pcm, mut channels, mut at, mut delay) = (Vec::new(), 0, 0usize, 0);
    for &s in sizes {
        let (info, frame) = dec.decode(&data[at..at + s as usize]).expect("decode");
        channels = info.channels;
        delay = info.output_delay;
        pcm.extend_from_slice(frame);
        at += s as usize;
    }
    (pcm.split_off((delay * channels).min(pcm.len())), channels)
}

/// The lag (in samples) at which `signal` best matches the sweep at `rate`, searched within
/// ±`range`, over 2048 samples from the middle of the signal.
fn best_lag(signal: &[f32], rate: u32, range: i64) -> i64 {
    let reference: Vec<f32> = (0..signal.len() as i64 + range)
        .map(|i| sweep((i - range) as f64 / f64::from(rate)))
        .collect();
    let reference = |i: i64| reference[usize::try_from(i + range).unwrap_or(0)];
    let (from, to) = (signal.len() / 2, signal.len() / 2 + 2048);
    (-range..=range)
        .max_by(|&a, &b| {
            let score = |lag: i64| -> f32 {
                (from..to)
                    .map(|i| signal[i] * reference(i as i64 - lag))
                    .sum()
            };
            score(a).total_cmp(&score(b))
        })
        .unwrap_or(0)
}

/// The (mono) source's tone keeps its place: the re-encoded stream, decoded, is the tone at lag
/// 0 (not shifted by the encoder's or resampler's delay), and lasts as long as the input.
fn check(in_rate: u32, in_ch: u32, out_rate: u32, out_ch: u32) {
    let (src, track, _) = tone_track(in_rate, in_ch, 2.0, 0);
    let out_asc_bytes = AudioSpecificConfig::encode_minimal(
        2,
        STANDARD_INDEX
            .iter()
            .position(|&r| r == out_rate)
            .expect("rate") as u8,
        out_ch as u8,
    );
    let asc = AudioSpecificConfig::parse(&out_asc_bytes).expect("asc");
    let target = AudioTarget {
        asc: asc.clone(),
        bitrate: 64_000 * out_ch,
        timescale: out_rate,
    };
    let r = reencode_track(&src, &track, &target).expect("reencode");
    assert_eq!(r.frame_duration, 1024);
    assert_eq!(r.first_dts, 0);
    assert_eq!(r.gap_frames, 0);
    let in_frames = track.samples.len() as u64 * 1024;
    assert_eq!(r.decoded_frames, in_frames);
    let expected = (in_frames * u64::from(out_rate))
        .div_ceil(u64::from(in_rate))
        .div_ceil(1024);
    assert!(
        (r.sizes.len() as i64 - expected as i64).abs() <= 1,
        "{} access units for {expected} expected",
        r.sizes.len()
    );
    let (pcm, channels) = decode_all(&asc, &r.data, &r.sizes);
    assert_eq!(channels, out_ch as usize);
    let first: Vec<f32> = pcm
        .iter()
        .step_by(channels)
        .map(|&v| f32::from(v) / 32768.0)
        .collect();
    // The input's own encoder delay (fdk's, at its rate) stays in the stream, as it would in the
    // original: compare against the input decoded the same way.
    let (orig, och) = decode_all(
        &tone_track(in_rate, in_ch, 2.0, 0).2,
        &src.bytes()[..],
        &sizes_of(&track),
    );
    let orig: Vec<f32> = orig
        .iter()
        .step_by(och)
        .map(|&v| f32::from(v) / 32768.0)
        .collect();
    let lag_in = best_lag(&orig, in_rate, 9000);
    let lag_out = best_lag(&first, out_rate, 9000);
    let lag_in_out = lag_in * i64::from(out_rate) / i64::from(in_rate);
    assert!(
        (lag_out - lag_in_out).abs() <= 2,
        "{in_rate}/{in_ch} -> {out_rate}/{out_ch}: tone at lag {lag_out}, input's at {lag_in_out}"
    );
}

fn sizes_of(t: &Track) -> Vec<u32> {
    t.samples.iter().map(|s| s.size).collect()
}

const STANDARD_INDEX: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

#[test]
fn resampled_audio_keeps_its_place_and_length() {
    check(44100, 2, 48000, 2);
    check(48000, 2, 44100, 2);
}

#[test]
fn mono_and_stereo_are_mapped() {
    check(48000, 1, 48000, 2);
    check(44100, 1, 48000, 2);
    check(32000, 2, 48000, 2);
    check(44100, 2, 48000, 1);
}

#[test]
fn gaps_in_decode_times_become_silence() {
    let (src, mut track, asc) = tone_track(48000, 2, 1.0, 0);
    // Move the second half 10 frames later: a hole of 10240 samples.
    let n = track.samples.len();
    let mut table = SampleTable::new();
    for (k, mut s) in track.samples.iter().enumerate() {
        if k >= n / 2 {
            s.dts += 10 * 1024;
        }
        table.push(s).expect("push");
    }
    track.samples = table;
    let target = AudioTarget {
        asc,
        bitrate: 128_000,
        timescale: 48000,
    };
    let r = reencode_track(&src, &track, &target).expect("reencode");
    assert_eq!(r.gap_frames, 10 * 1024);
    assert_eq!(r.decoded_frames, (n as u64 + 10) * 1024);
    assert_eq!(r.sizes.len(), n + 10);
}

#[test]
fn other_codecs_and_layouts_are_refused_by_name() {
    assert!(check_channels(6, 2)
        .unwrap_err()
        .contains("6 channels to 2"));
    let (src, mut track, asc) = tone_track(48000, 2, 0.2, 0);
    track.sample_entries[0].codec = CodecConfig::Audio {
        channels: 2,
        sample_rate: 48000,
    };
    let target = AudioTarget {
        asc,
        bitrate: 128_000,
        timescale: 48000,
    };
    let e = reencode_track(&src, &track, &target)
        .unwrap_err()
        .to_string();
    assert!(e.contains("only AAC"), "{e}");
}
