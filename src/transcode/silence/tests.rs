//! Tests of the silent frame: decoded by fdk-aac and by ffmpeg.

use super::syntax::*;
use super::*;
use fdk_aac::dec::{Decoder, Transport};

/// Writes bits MSB first.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    bits: usize,
}

impl BitWriter {
    fn put(&mut self, n: u32, value: u32) {
        for i in (0..n).rev() {
            if self.bits % 8 == 0 {
                self.bytes.push(0);
            }
            let bit = ((value >> i) & 1) as u8;
            let last = self.bytes.len() - 1;
            self.bytes[last] |= bit << (7 - self.bits % 8);
            self.bits += 1;
        }
    }
}

fn rate_index(rate: u32) -> u8 {
    STANDARD_RATES
        .iter()
        .position(|&r| r == rate)
        .expect("standard rate") as u8
}

fn channel_count(config: u8) -> usize {
    if config == 7 {
        8
    } else {
        usize::from(config)
    }
}

/// An AAC-LC AudioSpecificConfig.
fn lc(rate: u32, config: u8) -> AudioSpecificConfig {
    let mut w = BitWriter::default();
    w.put(5, 2);
    w.put(4, u32::from(rate_index(rate)));
    w.put(4, u32::from(config));
    w.put(3, 0); // frameLengthFlag, dependsOnCoreCoder, extensionFlag
    AudioSpecificConfig {
        object_type: 2,
        sampling_frequency_index: rate_index(rate),
        sampling_frequency: rate,
        channel_configuration: config,
        frame_length: 1024,
        extension_object_type: None,
        extension_sampling_frequency: None,
        raw: Bytes::from(w.bytes),
    }
}

/// An HE-AAC (`aot` 5) or HE-AACv2 (`aot` 29) AudioSpecificConfig with `output_rate` twice
/// the core rate, signalled hierarchically or backward-compatibly.
fn he(aot: u8, output_rate: u32, config: u8, hierarchical: bool) -> AudioSpecificConfig {
    let core = output_rate / 2;
    let mut w = BitWriter::default();
    if hierarchical {
        w.put(5, u32::from(aot));
        w.put(4, u32::from(rate_index(core)));
        w.put(4, u32::from(config));
        w.put(4, u32::from(rate_index(output_rate)));
        w.put(5, 2);
        w.put(3, 0);
    } else {
        w.put(5, 2);
        w.put(4, u32::from(rate_index(core)));
        w.put(4, u32::from(config));
        w.put(3, 0);
        w.put(11, 0x2b7);
        w.put(5, 5);
        w.put(1, 1); // sbrPresentFlag
        w.put(4, u32::from(rate_index(output_rate)));
        if aot == 29 {
            w.put(11, 0x548);
            w.put(1, 1); // psPresentFlag
        }
    }
    // As `AudioSpecificConfig::parse` reports both signallings: the core type, 2.
    AudioSpecificConfig {
        object_type: 2,
        sampling_frequency_index: rate_index(core),
        sampling_frequency: core,
        channel_configuration: config,
        frame_length: 1024,
        extension_object_type: Some(aot),
        extension_sampling_frequency: Some(output_rate),
        raw: Bytes::from(w.bytes),
    }
}

/// Output channels and samples per channel a decoder must produce for `asc`.
fn expected_shape(asc: &AudioSpecificConfig) -> (usize, usize) {
    let ext = asc.extension_object_type;
    if ext == Some(29) {
        (2, 2048)
    } else if ext == Some(5) {
        (channel_count(asc.channel_configuration), 2048)
    } else {
        (channel_count(asc.channel_configuration), 1024)
    }
}

fn decoder(asc: &AudioSpecificConfig) -> Decoder {
    let mut decoder = Decoder::new(Transport::Raw);
    decoder.config_raw(&asc.raw).expect("decoder takes the ASC");
    // fdk downmixes to at most 6 channels unless told otherwise.
    decoder
        .set_max_output_channels(8)
        .expect("8 output channels");
    decoder
}

/// Decodes one access unit; returns its interleaved PCM.
fn decode(decoder: &mut Decoder, au: &[u8], what: &str) -> Vec<i16> {
    let consumed = decoder.fill(au).expect("fill");
    assert_eq!(
        consumed,
        au.len(),
        "{what}: decoder took the whole access unit"
    );
    let mut pcm = vec![0i16; 2048 * 8 * 2];
    decoder
        .decode_frame(&mut pcm)
        .unwrap_or_else(|e| panic!("{what}: decode failed: {e}"));
    pcm.truncate(decoder.decoded_frame_size());
    pcm
}

/// Makes the frame and checks that fdk's decoder turns it, repeated, into silence of the
/// right shape.
fn check(asc: &AudioSpecificConfig) -> Bytes {
    let what = format!(
        "AOT {}/{:?} {} Hz (ext {:?}) config {}",
        asc.object_type,
        asc.extension_object_type,
        asc.sampling_frequency,
        asc.extension_sampling_frequency,
        asc.channel_configuration
    );
    let frame = silent_aac_frame(asc).unwrap_or_else(|e| panic!("{what}: {e}"));
    let (channels, frame_size) = expected_shape(asc);
    let mut decoder = decoder(asc);
    for i in 0..4 {
        let pcm = decode(&mut decoder, &frame, &what);
        let info = decoder.stream_info();
        // fdk outputs mono HE-AAC as stereo (it might turn out to carry parametric stereo).
        let mono_sbr = channels == 1 && frame_size == 2048 && info.numChannels == 2;
        if !mono_sbr {
            assert_eq!(info.numChannels as usize, channels, "{what}: channels");
        }
        assert_eq!(info.frameSize as usize, frame_size, "{what}: frame size");
        let channels = info.numChannels as usize;
        assert_eq!(pcm.len(), channels * frame_size, "{what}: samples");
        let peak = pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!(peak <= 1, "{what}: repeat {i}: peak {peak}");
    }
    frame
}

#[test]
fn lc_every_standard_rate_and_channel_configuration() {
    for rate in STANDARD_RATES {
        for config in 1..=7 {
            let frame = check(&lc(rate, config));
            assert!(
                frame.len() < 64,
                "{rate} Hz config {config}: {} bytes",
                frame.len()
            );
        }
    }
}

#[test]
fn lc_frame_is_small_and_deterministic() {
    let asc = lc(48000, 2);
    let a = silent_aac_frame(&asc).expect("frame");
    let b = silent_aac_frame(&asc).expect("frame");
    assert_eq!(a, b);
    println!("48000 Hz stereo silent frame: {:02x?}", &a[..]);
    println!(
        "44100 Hz mono: {:02x?}",
        &silent_aac_frame(&lc(44100, 1)).expect("frame")[..]
    );
}

#[test]
fn he_aac_rates_and_channel_configurations() {
    for rate in [
        16000, 22050, 24000, 32000, 44100, 48000, 64000, 88200, 96000,
    ] {
        for config in [1, 2, 6] {
            for hierarchical in [true, false] {
                check(&he(5, rate, config, hierarchical));
            }
        }
    }
}

#[test]
fn he_aac_v2_mono_and_stereo_configuration() {
    for rate in [16000, 22050, 24000, 32000, 44100, 48000, 96000] {
        for config in [1, 2] {
            for hierarchical in [true, false] {
                check(&he(29, rate, config, hierarchical));
            }
        }
    }
}

/// Encodes `frames` access units of a loud two-tone signal for `asc`, at a constant
/// `bitrate` (so with other SBR settings than the silence's).
fn tone_frames(asc: &AudioSpecificConfig, frames: usize, bitrate: u32) -> Vec<Vec<u8>> {
    let target = Target::from_asc(asc).expect("target");
    let settings = Settings {
        bitrate: Some(bitrate),
        ..target.settings()
    };
    let mut encoder = Encoder::open(&settings).expect("encoder");
    let frame_length = encoder.frame_length().expect("frame length");
    let channels = target.channels as usize;
    let mut out = vec![0u8; encoder.max_out_bytes().expect("size")];
    let mut aus = Vec::new();
    let mut t = 0usize;
    while aus.len() < frames {
        let mut input = Vec::with_capacity(frame_length * channels);
        for _ in 0..frame_length {
            let x = t as f64 / f64::from(target.encoder_rate);
            let s = 8000.0 * (2.0 * std::f64::consts::PI * 440.0 * x).sin()
                + 4000.0 * (2.0 * std::f64::consts::PI * 9000.0 * x).sin();
            for c in 0..channels {
                input.push((s * (1.0 - 0.1 * c as f64)) as i16);
            }
            t += 1;
        }
        let size = encoder.encode(&input, &mut out).expect("encode");
        if size > 0 {
            aus.push(out[..size].to_vec());
        }
    }
    aus
}

/// After real audio, the silent frame outputs the audio's tail (the overlap, and the
/// decoder's delay lines: fdk's default concealment delays output by a frame) and then exact
/// silence: it does not depend on the previous frame, even with other SBR settings.
#[test]
fn silence_after_audio_settles_to_zero() {
    let cases = [
        (lc(48000, 2), 128000),
        (lc(44100, 6), 320000),
        (lc(16000, 1), 48000),
        (he(5, 48000, 2, true), 32000),
        (he(5, 48000, 2, true), 96000),
        (he(5, 32000, 1, false), 24000),
        (he(5, 44100, 6, true), 160000),
        (he(29, 44100, 2, true), 24000),
        (he(29, 48000, 1, false), 40000),
    ];
    for (asc, bitrate) in cases {
        let what = format!(
            "AOT {}/{:?} config {} at {bitrate} bit/s",
            asc.object_type, asc.extension_object_type, asc.channel_configuration
        );
        let frame = silent_aac_frame(&asc).expect("frame");
        let mut decoder = decoder(&asc);
        let mut loud = 0;
        for au in tone_frames(&asc, 30, bitrate) {
            let pcm = decode(&mut decoder, &au, &what);
            loud = loud.max(pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
        }
        assert!(loud > 1000, "{what}: the tone decodes loud ({loud})");
        let mut peaks = Vec::new();
        for _ in 0..10 {
            let pcm = decode(&mut decoder, &frame, &what);
            peaks.push(pcm.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
        }
        println!("{what}: peaks after the tone: {peaks:?}");
        assert!(peaks[6..].iter().all(|&p| p <= 1), "{what}: {peaks:?}");
    }
}

#[test]
fn object_type_5_or_29_counts_as_sbr() {
    for aot in [5, 29] {
        let mut asc = he(aot, 44100, 2, true);
        let expected = Target::from_asc(&asc).expect("target");
        asc.object_type = aot;
        asc.extension_object_type = None;
        asc.extension_sampling_frequency = None;
        assert_eq!(Target::from_asc(&asc).expect("target"), expected);
    }
}

#[test]
fn unsupported_configurations() {
    let mut asc = lc(48000, 2);
    asc.frame_length = 960;
    assert!(matches!(
        silent_aac_frame(&asc),
        Err(SilenceError::Unsupported(_))
    ));
    let mut asc = lc(48000, 2);
    asc.object_type = 1;
    assert!(matches!(
        silent_aac_frame(&asc),
        Err(SilenceError::Unsupported(_))
    ));
    let mut asc = lc(48000, 2);
    asc.channel_configuration = 0;
    assert!(matches!(
        silent_aac_frame(&asc),
        Err(SilenceError::Unsupported(_))
    ));
    let mut asc = lc(48000, 2);
    asc.sampling_frequency = 47999;
    assert!(matches!(
        silent_aac_frame(&asc),
        Err(SilenceError::Unsupported(_))
    ));
    let mut asc = he(5, 48000, 2, true);
    asc.extension_sampling_frequency = Some(24000);
    assert!(matches!(
        silent_aac_frame(&asc),
        Err(SilenceError::Unsupported(_))
    ));
    assert!(matches!(
        silent_aac_frame(&he(29, 48000, 6, true)),
        Err(SilenceError::Unsupported(_))
    ));
}

#[test]
fn inspect_rejects_spectral_data_and_truncation() {
    let target = Target::from_asc(&lc(48000, 1)).expect("target");
    // SCE, tag 0, global_gain 100, ics_info with max_sfb 1, one section with codebook 1.
    let mut w = BitWriter::default();
    w.put(3, ID_SCE);
    w.put(4, 0);
    w.put(8, 100);
    w.put(4, 0); // reserved, ONLY_LONG, window_shape
    w.put(6, 1);
    w.put(1, 0);
    w.put(4, 1);
    w.put(5, 1);
    w.put(8, 0);
    w.put(3, ID_END);
    let err = check_silent_au(&w.bytes, &target).expect_err("spectral data");
    assert!(err.contains("codebook 1"), "{err}");
    let frame = silent_aac_frame(&lc(48000, 1)).expect("frame");
    assert!(check_silent_au(&frame, &target).is_ok());
    assert!(check_silent_au(&frame[..1], &target).is_err());
    // A stereo frame is not a mono one.
    let stereo = silent_aac_frame(&lc(48000, 2)).expect("frame");
    assert!(check_silent_au(&stereo, &target).is_err());
}

/// A 7-byte ADTS header (MPEG-4, no CRC) for an AAC-LC frame of `payload` bytes.
fn adts_header(asc: &AudioSpecificConfig, payload: usize) -> [u8; 7] {
    let len = payload + 7;
    let mut w = BitWriter::default();
    w.put(12, 0xfff);
    w.put(1, 0); // MPEG-4
    w.put(2, 0); // layer
    w.put(1, 1); // protection_absent
    w.put(2, 1); // profile: AAC LC (object type - 1)
    w.put(4, u32::from(asc.sampling_frequency_index));
    w.put(1, 0); // private
    w.put(3, u32::from(asc.channel_configuration));
    w.put(4, 0); // original, home, copyright id bit and start
    w.put(13, len as u32);
    w.put(11, 0x7ff); // buffer fullness: VBR
    w.put(2, 0); // one raw data block
    let mut header = [0u8; 7];
    header.copy_from_slice(&w.bytes);
    header
}

fn ffmpeg_available() -> bool {
    std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

#[test]
fn ffmpeg_decodes_repeated_frame_as_adts() {
    if !ffmpeg_available() {
        println!("NOTICE: ffmpeg not on PATH, skipping the ffmpeg decode check");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    // ADTS cannot signal SBR explicitly: the HE-AAC cases rely on ffmpeg finding the SBR
    // (and PS) payloads in the frames, as for any implicitly signalled stream.
    let cases = [
        (lc(48000, 2), 2, 1024),
        (lc(44100, 1), 1, 1024),
        (lc(16000, 1), 1, 1024),
        (lc(7350, 1), 1, 1024),
        (lc(48000, 6), 6, 1024),
        (lc(48000, 7), 8, 1024),
        (he(5, 48000, 2, true), 2, 2048),
        (he(29, 44100, 1, true), 2, 2048),
    ];
    for (asc, channels, frame_size) in cases {
        let (rate, config) = (asc.sampling_frequency, asc.channel_configuration);
        let frame = silent_aac_frame(&asc).expect("frame");
        let path = dir.path().join(format!("silence-{rate}-{config}.aac"));
        let mut file = Vec::new();
        for _ in 0..50 {
            file.extend_from_slice(&adts_header(&asc, frame.len()));
            file.extend_from_slice(&frame);
        }
        std::fs::write(&path, &file).expect("write");
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&path)
            .args(["-f", "null", "-"])
            .output()
            .expect("run ffmpeg");
        assert!(out.status.success(), "{rate}/{config}: ffmpeg failed");
        assert!(
            out.stdout.is_empty() && out.stderr.is_empty(),
            "{rate}/{config}: ffmpeg said {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // And the decoded samples are all zero.
        let out = std::process::Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&path)
            .args(["-f", "s16le", "-"])
            .output()
            .expect("run ffmpeg");
        assert!(
            out.status.success() && out.stderr.is_empty(),
            "{rate}/{config}"
        );
        let samples = out.stdout.len() / 2;
        assert_eq!(
            samples,
            50 * frame_size * channels,
            "{rate}/{config}: samples"
        );
        let peak = out
            .stdout
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]).unsigned_abs())
            .max()
            .unwrap_or(0);
        assert!(peak <= 1, "{rate}/{config}: ffmpeg peak {peak}");
    }
}
