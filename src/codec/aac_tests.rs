//! Tests for the AAC parsers, using configs and `esds` boxes written by ffmpeg's AAC encoder and
//! hand-built configs checked bit by bit against ISO/IEC 14496-3.

use super::*;

// esds bodies (after version/flags) from `ffmpeg -f lavfi -i sine -t 0.2 -c:a aac a.mp4`
// with `-ac 2` (44.1 kHz stereo) and `sine=sample_rate=48000` (48 kHz mono). ffmpeg appends a sync
// extension saying "no SBR".
const ESDS_44K_STEREO: [u8; 42] = [
    0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x01, 0x00, 0x04, 0x80, 0x80, 0x80, 0x17, 0x40, 0x15, 0x00,
    0x00, 0x00, 0x00, 0x01, 0xfe, 0xd8, 0x00, 0x01, 0xfe, 0xd8, 0x05, 0x80, 0x80, 0x80, 0x05, 0x12,
    0x10, 0x56, 0xe5, 0x00, 0x06, 0x80, 0x80, 0x80, 0x01, 0x02,
];
const ESDS_48K_MONO: [u8; 42] = [
    0x03, 0x80, 0x80, 0x80, 0x25, 0x00, 0x01, 0x00, 0x04, 0x80, 0x80, 0x80, 0x17, 0x40, 0x15, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x1c, 0xc7, 0x00, 0x01, 0x1c, 0xc7, 0x05, 0x80, 0x80, 0x80, 0x05, 0x11,
    0x88, 0x56, 0xe5, 0x00, 0x06, 0x80, 0x80, 0x80, 0x01, 0x02,
];
// The first ADTS header of `ffmpeg -f lavfi -i sine -t 0.2 -ac 2 -c:a aac -f adts a.aac`.
const ADTS_FIRST: [u8; 7] = [0xff, 0xf1, 0x50, 0x80, 0x2b, 0x3f, 0xfc];

const LC_44K_STEREO: [u8; 2] = [0x12, 0x10];
const LC_48K_STEREO: [u8; 2] = [0x11, 0x90];
const LC_48K_MONO: [u8; 2] = [0x11, 0x88];
// Explicit hierarchical SBR: AOT 5, core 22050 Hz stereo, SBR 44100 Hz, core AOT 2.
const HE_AAC: [u8; 4] = [0x2b, 0x92, 0x08, 0x00];
// Explicit PS: AOT 29, core 24000 Hz mono, SBR 48000 Hz, core AOT 2 (25 bits).
const HE_AAC_V2: [u8; 4] = [0xeb, 0x09, 0x88, 0x00];
// Backward-compatible SBR: AAC LC 24000 Hz stereo, sync extension 0x2b7, SBR at 48000 Hz.
const HE_AAC_COMPAT: [u8; 5] = [0x13, 0x10, 0x56, 0xe5, 0x98];
// Backward-compatible SBR and PS: AAC LC 24000 Hz mono, 0x2b7 with SBR at 48000 Hz, 0x548 with PS.
const HE_AAC_V2_COMPAT: [u8; 7] = [0x13, 0x08, 0x56, 0xe5, 0x9d, 0x48, 0x80];
// AAC LC stereo with an explicit 24-bit frequency of 22000 Hz.
const EXPLICIT_22000: [u8; 5] = [0x17, 0x80, 0x2a, 0xf8, 0x10];
// AAC Main 48000 Hz stereo with frameLengthFlag (960).
const MAIN_960: [u8; 2] = [0x09, 0x94];
// ER AAC LD 48000 Hz mono, 480-sample frames, epConfig 0.
const LD_480: [u8; 3] = [0xb9, 0x8c, 0x00];
// AAC Scalable, dependsOnCoreCoder with coreCoderDelay 0x1234, layerNr 5.
const SCALABLE: [u8; 5] = [0x31, 0x92, 0x91, 0xa2, 0x80];
// USAC (AOT 42 through the escape).
const USAC: [u8; 3] = [0xf9, 0x46, 0x40];

fn asc(data: &[u8]) -> AudioSpecificConfig {
    AudioSpecificConfig::parse(data).unwrap()
}

#[test]
fn lc_configs() {
    let c = asc(&LC_44K_STEREO);
    assert_eq!(
        c,
        AudioSpecificConfig {
            object_type: 2,
            sampling_frequency_index: 4,
            sampling_frequency: 44100,
            channel_configuration: 2,
            frame_length: 1024,
            extension_object_type: None,
            extension_sampling_frequency: None,
            raw: Bytes::from_static(&LC_44K_STEREO),
        }
    );
    assert_eq!((c.channels(), c.samples_per_frame()), (2, 1024));
    assert_eq!(
        (c.object_type_name(), c.output_sample_rate()),
        ("AAC LC", 44100)
    );
    let c = asc(&LC_48K_STEREO);
    assert_eq!((c.sampling_frequency, c.channels()), (48000, 2));
    let c = asc(&LC_48K_MONO);
    assert_eq!((c.sampling_frequency, c.channels()), (48000, 1));
}

#[test]
fn explicit_sbr_and_ps() {
    let c = asc(&HE_AAC);
    assert_eq!((c.object_type, c.sampling_frequency), (2, 22050));
    assert_eq!(c.extension_object_type, Some(5));
    assert_eq!(c.extension_sampling_frequency, Some(44100));
    assert_eq!((c.channels(), c.frame_length), (2, 1024));
    assert_eq!(
        (c.object_type_name(), c.output_sample_rate()),
        ("HE-AAC", 44100)
    );
    assert_eq!(c.samples_per_frame(), 1024);

    let c = asc(&HE_AAC_V2);
    assert_eq!(
        (c.object_type, c.sampling_frequency, c.channels()),
        (2, 24000, 1)
    );
    assert_eq!(c.extension_object_type, Some(29));
    assert_eq!(
        (c.object_type_name(), c.output_sample_rate()),
        ("HE-AACv2", 48000)
    );
    // One bit short.
    assert!(AudioSpecificConfig::parse(&HE_AAC_V2[..3]).is_err());

    let c = asc(&HE_AAC_COMPAT);
    assert_eq!((c.object_type, c.sampling_frequency), (2, 24000));
    assert_eq!(c.extension_object_type, Some(5));
    assert_eq!(c.extension_sampling_frequency, Some(48000));
    assert_eq!(c.object_type_name(), "HE-AAC");

    let c = asc(&HE_AAC_V2_COMPAT);
    assert_eq!(
        (c.object_type, c.sampling_frequency, c.channels()),
        (2, 24000, 1)
    );
    assert_eq!(c.extension_object_type, Some(29));
    assert_eq!(c.extension_sampling_frequency, Some(48000));
    // Without the PS extension it is HE-AAC; without the SBR one, plain LC.
    assert_eq!(asc(&HE_AAC_V2_COMPAT[..5]).extension_object_type, Some(5));
    assert_eq!(asc(&HE_AAC_V2_COMPAT[..3]).extension_object_type, None);
}

#[test]
fn ffmpeg_sync_extension_without_sbr() {
    let es = parse_esds(&ESDS_44K_STEREO).unwrap();
    let c = asc(es.decoder_specific_info.as_ref().unwrap());
    assert_eq!(
        (c.object_type, c.sampling_frequency, c.channels()),
        (2, 44100, 2)
    );
    assert_eq!(c.extension_object_type, None);
    assert_eq!(c.object_type_name(), "AAC LC");
    assert_eq!(&c.raw[..], &[0x12, 0x10, 0x56, 0xe5, 0x00]);
}

#[test]
fn other_configs() {
    let c = asc(&EXPLICIT_22000);
    assert_eq!(
        (c.sampling_frequency_index, c.sampling_frequency),
        (15, 22000)
    );
    assert_eq!(c.channels(), 2);
    let c = asc(&MAIN_960);
    assert_eq!((c.object_type_name(), c.frame_length), ("AAC Main", 960));
    assert_eq!(c.samples_per_frame(), 960);
    let c = asc(&LD_480);
    assert_eq!((c.object_type, c.frame_length, c.channels()), (23, 480, 1));
    assert_eq!(c.object_type_name(), "ER AAC LD");
    let c = asc(&SCALABLE);
    assert_eq!((c.object_type, c.frame_length, c.channels()), (6, 1024, 2));
    // Channel configuration 0: program_config_element not parsed.
    let c = asc(&[0x12, 0x00]);
    assert_eq!((c.channel_configuration, c.channels()), (0, 0));
    assert_eq!(asc(&[0x12, 0x38]).channels(), 8);
    assert!(matches!(
        AudioSpecificConfig::parse(&USAC),
        Err(CodecError::Unsupported { .. })
    ));
    // Reserved frequency index 13, explicit frequency 0.
    assert!(AudioSpecificConfig::parse(&[0x16, 0x90]).is_err());
    assert!(AudioSpecificConfig::parse(&[0x17, 0x80, 0x00, 0x00, 0x10]).is_err());
}

#[test]
fn encode_minimal() {
    assert_eq!(AudioSpecificConfig::encode_minimal(2, 4, 2), LC_44K_STEREO);
    assert_eq!(AudioSpecificConfig::encode_minimal(2, 3, 2), LC_48K_STEREO);
    assert_eq!(AudioSpecificConfig::encode_minimal(2, 3, 1), LC_48K_MONO);
    let escaped = AudioSpecificConfig::encode_minimal(42, 3, 2);
    assert_eq!(escaped.len(), 3);
    assert_eq!(escaped, USAC);
}

#[test]
fn truncated_configs_never_panic() {
    let all: [&[u8]; 13] = [
        &HE_AAC_V2_COMPAT,
        &LC_44K_STEREO,
        &LC_48K_STEREO,
        &LC_48K_MONO,
        &HE_AAC,
        &HE_AAC_V2,
        &HE_AAC_COMPAT,
        &EXPLICIT_22000,
        &MAIN_960,
        &LD_480,
        &SCALABLE,
        &USAC,
        &ESDS_44K_STEREO[31..36],
    ];
    for data in all {
        for len in 0..data.len() {
            let _ = AudioSpecificConfig::parse(&data[..len]);
        }
        assert!(AudioSpecificConfig::parse(&data[..1]).is_err());
        for bit in 0..data.len() * 8 {
            let mut bad = data.to_vec();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            if let Ok(c) = AudioSpecificConfig::parse(&bad) {
                let _ = (c.channels(), c.output_sample_rate(), c.object_type_name());
            }
        }
    }
}

#[test]
fn esds_from_ffmpeg() {
    assert_eq!(
        parse_esds(&ESDS_44K_STEREO),
        Ok(EsDescriptor {
            object_type_indication: 0x40,
            stream_type: 5,
            buffer_size_db: 0,
            max_bitrate: 130776,
            avg_bitrate: 130776,
            decoder_specific_info: Some(Bytes::from_static(&[0x12, 0x10, 0x56, 0xe5, 0x00])),
        })
    );
    let es = parse_esds(&ESDS_48K_MONO).unwrap();
    assert_eq!(es.avg_bitrate, 72903);
    let c = asc(es.decoder_specific_info.as_ref().unwrap());
    assert_eq!((c.sampling_frequency, c.channels()), (48000, 1));
}

#[test]
fn esds_variants() {
    // Short size encodings, ES_Descriptor with all optional fields, and an unknown descriptor before
    // the DecoderConfigDescriptor.
    let esds = [
        0x03, 0x23, // ES_Descriptor
        0x00, 0x02, 0xe0, 0x00, 0x07, 0x02, b'a', b'b', 0x00,
        0x09, // ES_ID, flags, optional fields
        0x0a, 0x01, 0x00, // unknown descriptor
        0x04, 0x11, 0x40, 0x15, 0x00, 0x18, 0x00, 0x00, 0x00, 0x01, 0xf4, 0x00, 0x00, 0x01, 0xf4,
        0x05, 0x02, 0x11, 0x90, // DecoderSpecificInfo
        0x06, 0x01, 0x02, // SLConfigDescriptor
    ];
    let es = parse_esds(&esds).unwrap();
    assert_eq!(es.buffer_size_db, 0x1800);
    assert_eq!((es.max_bitrate, es.avg_bitrate), (500, 500));
    assert_eq!(es.decoder_specific_info.as_deref(), Some(&[0x11, 0x90][..]));
    // A bare DecoderConfigDescriptor.
    let es = parse_esds(&esds[15..34]).unwrap();
    assert_eq!(es.decoder_specific_info.as_deref(), Some(&[0x11, 0x90][..]));
    // No DecoderSpecificInfo.
    let bare = [0x04, 0x0d, 0x6b, 0x15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(parse_esds(&bare).unwrap().decoder_specific_info, None);
    // No DecoderConfigDescriptor, wrong tag, size past the end, 5-byte size.
    assert!(parse_esds(&[0x03, 0x03, 0x00, 0x01, 0x00]).is_err());
    assert!(parse_esds(&[0x05, 0x02, 0x11, 0x90]).is_err());
    assert!(parse_esds(&[0x03, 0x30, 0x00, 0x01, 0x00]).is_err());
    assert!(parse_esds(&[0x03, 0x80, 0x80, 0x80, 0x80, 0x03, 0, 1, 0]).is_err());
    // A child larger than its parent.
    let mut bad = ESDS_44K_STEREO;
    bad[12] = 0x1f;
    assert!(parse_esds(&bad).is_err());
}

#[test]
fn truncated_esds_never_panics() {
    for data in [ESDS_44K_STEREO, ESDS_48K_MONO] {
        for len in 0..data.len() {
            let result = parse_esds(&data[..len]);
            assert!(result.is_err(), "length {len}");
        }
        for bit in 0..data.len() * 8 {
            let mut bad = data;
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            let _ = parse_esds(&bad);
        }
    }
}

#[test]
fn adts_from_ffmpeg() {
    let h = AdtsHeader::parse(&ADTS_FIRST).unwrap();
    assert_eq!(
        h,
        AdtsHeader {
            protection_absent: true,
            profile: 1,
            sampling_frequency_index: 4,
            channel_configuration: 2,
            frame_length: 345,
            buffer_fullness: 0x7ff,
            raw_data_blocks: 0,
            header_len: 7,
        }
    );
    let c = h.to_audio_specific_config();
    assert_eq!(c, asc(&LC_44K_STEREO));
    assert_eq!(write_adts_header(&c, 345 - 7), Ok(ADTS_FIRST));
}

#[test]
fn adts_round_trip() {
    for config in [
        &LC_44K_STEREO[..],
        &LC_48K_MONO,
        &HE_AAC,
        &HE_AAC_COMPAT,
        &[0x13, 0xb8],
    ] {
        let c = asc(config);
        for len in [0usize, 1, 200, 8184] {
            let header = write_adts_header(&c, len).unwrap();
            let h = AdtsHeader::parse(&header).unwrap();
            assert_eq!(usize::from(h.frame_length), len + 7);
            assert_eq!((h.profile + 1, h.header_len), (c.object_type, 7));
            assert_eq!(h.sampling_frequency_index, c.sampling_frequency_index);
            assert_eq!(h.channel_configuration, c.channel_configuration);
            assert_eq!(
                h.to_audio_specific_config().sampling_frequency,
                c.sampling_frequency
            );
        }
        assert!(write_adts_header(&c, 8185).is_err());
        assert!(write_adts_header(&c, usize::MAX).is_err());
    }
    assert!(write_adts_header(&asc(&EXPLICIT_22000), 10).is_err());
    assert!(write_adts_header(&asc(&MAIN_960), 10).is_err());
    assert!(write_adts_header(&asc(&LD_480), 10).is_err());
    assert!(write_adts_header(&asc(&[0x12, 0x00]), 10).is_err());
}

#[test]
fn adts_rejects_bad_headers() {
    for len in 0..7 {
        assert!(AdtsHeader::parse(&ADTS_FIRST[..len]).is_err());
    }
    let mut bad = ADTS_FIRST;
    bad[1] = 0xe1; // sync word 0xFFE
    assert!(AdtsHeader::parse(&bad).is_err());
    let mut bad = ADTS_FIRST;
    bad[1] = 0xf3; // layer 1
    assert!(AdtsHeader::parse(&bad).is_err());
    let mut bad = ADTS_FIRST;
    bad[2] = 0x7c; // frequency index 15
    assert!(AdtsHeader::parse(&bad).is_err());
    let mut bad = ADTS_FIRST;
    bad[4] = 0x00;
    bad[5] = 0xdf; // frame length 6
    assert!(AdtsHeader::parse(&bad).is_err());
    // With CRC and four raw data blocks: 7 + 2 × 3 positions + 2 CRC.
    let mut crc = ADTS_FIRST;
    crc[1] = 0xf0;
    crc[6] = 0xff;
    let h = AdtsHeader::parse(&crc).unwrap();
    assert_eq!(
        (h.protection_absent, h.raw_data_blocks, h.header_len),
        (false, 3, 15)
    );
    for bit in 0..56 {
        let mut bad = ADTS_FIRST;
        bad[bit / 8] ^= 0x80 >> (bit % 8);
        if let Ok(h) = AdtsHeader::parse(&bad) {
            let _ = write_adts_header(&h.to_audio_specific_config(), 100);
        }
    }
}

#[test]
fn compare_reports_first_difference() {
    let lc44 = asc(&LC_44K_STEREO);
    assert_eq!(compare(&lc44, &lc44.clone()), None);
    let check = |a: &[u8], b: &[u8], parameter: &str, reference: &str, value: &str| {
        let d = compare(&asc(a), &asc(b)).unwrap();
        assert_eq!(
            (d.parameter, d.reference.as_str(), d.value.as_str()),
            (parameter, reference, value)
        );
    };
    check(&LC_44K_STEREO, &HE_AAC, "codec profile", "AAC LC", "HE-AAC");
    check(&HE_AAC, &HE_AAC_V2, "codec profile", "HE-AAC", "HE-AACv2");
    check(
        &MAIN_960,
        &LC_48K_STEREO,
        "codec profile",
        "AAC Main",
        "AAC LC",
    );
    check(
        &LC_44K_STEREO,
        &LC_48K_STEREO,
        "sample rate",
        "44100 Hz",
        "48000 Hz",
    );
    check(
        &HE_AAC,
        &HE_AAC_COMPAT,
        "sample rate",
        "44100 Hz (core 22050 Hz)",
        "48000 Hz (core 24000 Hz)",
    );
    check(&LC_48K_STEREO, &LC_48K_MONO, "channels", "2", "1");
    check(&[0x11, 0x94], &LC_48K_STEREO, "frame length", "960", "1024");
    // ffmpeg's explicit "no SBR" sync extension says what the two-byte form says (an ADTS header
    // gives the latter for the same stream): the same configuration.
    let ffmpeg = [0x12, 0x10, 0x56, 0xe5, 0x00];
    assert_eq!(compare(&asc(&LC_44K_STEREO), &asc(&ffmpeg)), None);
}
