//! Tests for the H.264 parsers, using parameter sets written by x264 (through ffmpeg) and a few
//! hand-built ones that ffmpeg's `trace_headers` bitstream filter decodes identically.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// x264, `-profile:v high`, 1280x720 at 30 fps.
const HIGH_720_SPS: &str = "6764001facd9405005bb0110000003001000000303c0f1831960";
const HIGH_720_PPS: &str = "68ebe3cb22c0";
// The same at 25 fps: only the VUI timing differs.
const HIGH_720_25_SPS: &str = "6764001facd9405005bb011000000300100000030320f1831960";
// The complete avcC payload ffmpeg wrote for HIGH_720 in an MP4 (with the High-profile extension).
const HIGH_720_AVCC: &str = "0164001fffe1001a6764001facd9405005bb0110000003001000000303c0f1831960\
                             01000668ebe3cb22c0fdf8f800";
// x264 `-profile:v baseline` 640x360 (coded 368, cropped), and its avcC from an MP4.
const BASE_360_SPS: &str = "6742c01ed900a02ff970110000030001000003003c0f162e48";
const BASE_360_AVCC: &str = "0142c01effe100196742c01ed900a02ff970110000030001000003003c0f162e48\
                             01000568cb83cb20";
// 1920x1080 High, coded 1088 with 8 lines cropped, 25 fps.
const HIGH_1080_SPS: &str = "67640028acd940780227e5c044000003000400000300c83c60c658";
// 1920x1080 interlaced (frame_mbs_only_flag 0, 34 map units, crop 2 × CropUnitY 4).
const INTERLACED_1080_SPS: &str = "67640028acd94078044fde0220000003002000000643e2c5b2c0";
const INTERLACED_1080_PPS: &str = "68fba3cb22c0";
// 720x1280 portrait.
const PORTRAIT_SPS: &str = "6764001facd940b40a1b0110000003001000000303c0f1831960";
// 352x288: High 4:4:4 Predictive 4:4:4, High 4:2:2, High 10, High 4:4:4 lossless 4:2:0, and
// High 4:4:4 10-bit 4:4:4.
const HIGH_444_SPS: &str = "67f4000d919b282c12d80880000003008000001e078a14cb";
const HIGH_444_PPS: &str = "68ebe3c44844";
const HIGH_422_SPS: &str = "677a000dbcd9416096c044000003000400000300f03c50a658";
const HIGH_10_SPS: &str = "676e000da6cd9416096c0440000003004000000f03c50a6580";
const HIGH_444_420_SPS: &str = "67f4000daeb202c12d8088000003000800000301e078a15240";
const HIGH_444_10_SPS: &str = "67f4000d90d9b282c12d8088000003000800000301e078a14cb0";
// Main 1440x1080 with a full VUI: Extended_SAR 7:5, overscan, video signal type with colour
// description, chroma location, timing 1001/60000.
const VUI_SPS: &str = "674d4028eca02d0113f2ffe000e000b6a0202034a000007d20001d4c01e30632c0";
// Hand-built High SPS: id 1, SPS scaling matrix (explicit, use-default and 64-entry lists),
// pic_order_cnt_type 1 with a 3-frame cycle, interlaced 720x576 cropped by (2+2)×2 and (1+1)×4,
// full VUI with Extended_SAR 16:11 and timing 1001/60000.
const SYNTH_A_SPS: &str = "676400284b651d1d84388c54521111e3870e1c3870e1c3870e1c3870e1c3870e1c3870e\
                           1c3870e1c3870e1c3870e0d0e1c3870e1c3870e1c3870e1c3870e1c3870e1c3870e1c3\
                           8d0e2888a00961816849db4bff0010000bf7010101f00000303e90000ea6084";
// Hand-built High 4:4:4 SPS: separate_colour_plane_flag 1 (crop units 1×1), 10 bit, 12 scaling
// lists, pic_order_cnt_type 2, 640x368 cropped right 3 and bottom 1, no VUI.
const SYNTH_B_SPS: &str = "67f4003392db087fff01087fffffffffffffff210ffffffffffffffff680a02fe4a4";

fn sps(s: &str) -> Sps {
    Sps::parse(&hex(s)).unwrap()
}

fn config(sps: &[&str], pps: &[&str]) -> AvcDecoderConfig {
    let first = hex(sps[0]);
    AvcDecoderConfig {
        configuration_version: 1,
        profile_indication: first[1],
        profile_compatibility: first[2],
        level_indication: first[3],
        length_size: 4,
        sps: sps.iter().map(|s| Bytes::from(hex(s))).collect(),
        pps: pps.iter().map(|s| Bytes::from(hex(s))).collect(),
        trailing: Bytes::new(),
    }
}

/// Minimal bit writer for hostile parameter sets.
#[derive(Default)]
struct Writer {
    bits: Vec<bool>,
}

impl Writer {
    fn u(&mut self, n: u32, v: u64) -> &mut Self {
        for i in (0..n).rev() {
            self.bits.push((v >> i) & 1 == 1);
        }
        self
    }
    fn ue(&mut self, v: u64) -> &mut Self {
        let v = v + 1;
        let n = 64 - v.leading_zeros();
        self.u(n - 1, 0).u(n, v)
    }
    fn nal(&mut self, header: u8) -> Vec<u8> {
        self.bits.push(true);
        while self.bits.len() % 8 != 0 {
            self.bits.push(false);
        }
        let mut out = vec![header];
        out.extend(
            self.bits
                .chunks(8)
                .map(|c| c.iter().fold(0u8, |a, &b| (a << 1) | u8::from(b))),
        );
        out
    }
}

/// Baseline SPS prefix up to (not including) pic_width_in_mbs_minus1.
fn baseline_prefix() -> Writer {
    let mut w = Writer::default();
    w.u(8, 66).u(8, 0).u(8, 30).ue(0).ue(0).ue(2).ue(1).u(1, 0);
    w
}

#[test]
fn rbsp_removes_emulation_prevention() {
    let plain = [0x67u8, 0x64, 0x00, 0x1f];
    assert!(matches!(nal_to_rbsp(&plain), Cow::Borrowed(_)));
    assert_eq!(
        &*nal_to_rbsp(&[0, 0, 3, 1, 0, 0, 3, 0, 0, 3]),
        &[0, 0, 1, 0, 0, 0, 0][..]
    );
    // A 03 that does not follow two zeros stays; one after a removed 03 too.
    assert_eq!(&*nal_to_rbsp(&[0, 3, 0, 0, 3, 3]), &[0, 3, 0, 0, 3][..]);
    assert_eq!(nal_to_rbsp(&hex(HIGH_720_SPS)).len(), 24);
}

#[test]
fn high_720() {
    assert_eq!(
        sps(HIGH_720_SPS),
        Sps {
            profile_idc: 100,
            constraint_flags: 0,
            level_idc: 31,
            seq_parameter_set_id: 0,
            chroma_format_idc: 1,
            bit_depth_luma: 8,
            bit_depth_chroma: 8,
            frame_mbs_only: true,
            width: 1280,
            height: 720,
            timing: Some((1, 60)),
        }
    );
    assert_eq!(sps(HIGH_720_25_SPS).timing, Some((1, 50)));
}

#[test]
fn baseline_360_is_cropped() {
    let s = sps(BASE_360_SPS);
    assert_eq!(
        (s.profile_idc, s.constraint_flags, s.level_idc),
        (66, 0xc0, 30)
    );
    assert_eq!((s.width, s.height), (640, 360));
    assert_eq!(s.chroma_format_idc, 1);
    assert_eq!(
        profile_name(s.profile_idc, s.constraint_flags),
        "Constrained Baseline"
    );
}

#[test]
fn high_1080_is_cropped() {
    let s = sps(HIGH_1080_SPS);
    assert_eq!((s.width, s.height, s.level_idc), (1920, 1080, 40));
    assert_eq!(s.timing, Some((1, 50)));
    assert!(s.frame_mbs_only);
}

#[test]
fn interlaced_1080() {
    let s = sps(INTERLACED_1080_SPS);
    assert!(!s.frame_mbs_only);
    assert_eq!((s.width, s.height), (1920, 1080));
}

#[test]
fn portrait() {
    let s = sps(PORTRAIT_SPS);
    assert_eq!((s.width, s.height), (720, 1280));
}

#[test]
fn high_profiles_chroma_and_depth() {
    let s = sps(HIGH_444_SPS);
    assert_eq!(
        (s.profile_idc, s.chroma_format_idc, s.bit_depth_luma),
        (244, 3, 8)
    );
    assert_eq!((s.width, s.height, s.level_idc), (352, 288, 13));
    assert_eq!(s.chroma_format(), "4:4:4");
    let s = sps(HIGH_422_SPS);
    assert_eq!(
        (s.profile_idc, s.chroma_format_idc, s.bit_depth_luma),
        (122, 2, 8)
    );
    assert_eq!((s.width, s.height), (352, 288));
    let s = sps(HIGH_10_SPS);
    assert_eq!((s.profile_idc, s.chroma_format_idc), (110, 1));
    assert_eq!((s.bit_depth_luma, s.bit_depth_chroma), (10, 10));
    let s = sps(HIGH_444_420_SPS);
    assert_eq!(
        (s.profile_idc, s.chroma_format_idc, s.bit_depth_luma),
        (244, 1, 8)
    );
    let s = sps(HIGH_444_10_SPS);
    assert_eq!(
        (s.profile_idc, s.chroma_format_idc, s.bit_depth_luma),
        (244, 3, 10)
    );
}

#[test]
fn full_vui() {
    let s = sps(VUI_SPS);
    assert_eq!(
        (s.profile_idc, s.constraint_flags, s.level_idc),
        (77, 0x40, 40)
    );
    assert_eq!((s.width, s.height), (1440, 1080));
    assert_eq!(s.timing, Some((1001, 60000)));
}

#[test]
fn scaling_lists_poc_type_1_and_interlaced_cropping() {
    let s = sps(SYNTH_A_SPS);
    assert_eq!(s.seq_parameter_set_id, 1);
    assert!(!s.frame_mbs_only);
    assert_eq!((s.width, s.height), (712, 568));
    assert_eq!(s.timing, Some((1001, 60000)));
}

#[test]
fn separate_colour_planes_crop_in_samples() {
    let s = sps(SYNTH_B_SPS);
    assert_eq!(
        (s.profile_idc, s.level_idc, s.chroma_format_idc),
        (244, 51, 3)
    );
    assert_eq!((s.bit_depth_luma, s.bit_depth_chroma), (10, 10));
    assert_eq!((s.width, s.height), (637, 367));
    assert_eq!(s.timing, None);
}

#[test]
fn rbsp_input_parses_like_nal() {
    // The RBSP of this SPS holds no 00 00 03 of its own, so it parses without emulation prevention.
    let nal = hex(BASE_360_SPS);
    let rbsp = nal_to_rbsp(&nal).into_owned();
    assert_ne!(rbsp, nal);
    assert_eq!(Sps::parse(&rbsp).unwrap(), sps(BASE_360_SPS));
}

#[test]
fn wrong_nal_type_is_rejected() {
    assert!(Sps::parse(&hex(HIGH_720_PPS)).is_err());
    assert!(Sps::parse(&[]).is_err());
}

#[test]
fn hostile_sps_is_rejected() {
    // Width beyond the limit.
    let nal = baseline_prefix().ue(16384).ue(10).u(3, 0b110).nal(0x67);
    assert!(Sps::parse(&nal).is_err());
    // Cropping with the largest Exp-Golomb values.
    let nal = baseline_prefix()
        .ue(10)
        .ue(10)
        .u(3, 0b111)
        .ue(u64::from(u32::MAX - 1))
        .ue(u64::from(u32::MAX - 1))
        .ue(0)
        .ue(0)
        .u(1, 0)
        .nal(0x67);
    assert!(Sps::parse(&nal).is_err());
    // Cropping that removes exactly the whole width.
    let nal = baseline_prefix()
        .ue(0)
        .ue(0)
        .u(3, 0b111)
        .ue(4)
        .ue(4)
        .ue(0)
        .ue(0)
        .u(1, 0)
        .nal(0x67);
    assert!(Sps::parse(&nal).is_err());
    // Two samples left are fine.
    let nal = baseline_prefix()
        .ue(0)
        .ue(0)
        .u(3, 0b111)
        .ue(3)
        .ue(4)
        .ue(3)
        .ue(4)
        .u(1, 0)
        .nal(0x67);
    assert_eq!(Sps::parse(&nal).map(|s| (s.width, s.height)), Ok((2, 2)));
    // A 33-bit Exp-Golomb prefix.
    let mut w = Writer::default();
    w.u(8, 66).u(8, 0).u(8, 30).u(40, 0).u(8, 0xff);
    assert!(Sps::parse(&w.nal(0x67)).is_err());
    // chroma_format_idc 4.
    let mut w = Writer::default();
    w.u(8, 100)
        .u(8, 0)
        .u(8, 30)
        .ue(0)
        .ue(4)
        .u(32, u64::from(u32::MAX));
    assert!(Sps::parse(&w.nal(0x67)).is_err());
    // num_ref_frames_in_pic_order_cnt_cycle 256.
    let mut w = Writer::default();
    w.u(8, 66)
        .u(8, 0)
        .u(8, 30)
        .ue(0)
        .ue(0)
        .ue(1)
        .u(1, 0)
        .ue(0)
        .ue(0)
        .ue(256);
    w.u(64, u64::MAX);
    assert!(Sps::parse(&w.nal(0x67)).is_err());
}

#[test]
fn truncated_and_corrupted_sps_never_panic() {
    for s in [
        HIGH_720_SPS,
        BASE_360_SPS,
        HIGH_1080_SPS,
        INTERLACED_1080_SPS,
        PORTRAIT_SPS,
        HIGH_444_SPS,
        HIGH_422_SPS,
        HIGH_10_SPS,
        VUI_SPS,
        SYNTH_A_SPS,
        SYNTH_B_SPS,
    ] {
        let nal = hex(s);
        for len in 0..=nal.len() {
            let _ = Sps::parse(&nal[..len]);
        }
        // Cut before the VUI timing ends: must fail.
        assert!(Sps::parse(&nal[..nal.len() / 2]).is_err());
        for bit in 8..nal.len() * 8 {
            let mut bad = nal.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            let _ = Sps::parse(&bad);
        }
    }
}

#[test]
fn avcc_round_trip() {
    for data in [hex(HIGH_720_AVCC), hex(BASE_360_AVCC)] {
        let c = AvcDecoderConfig::parse(&data).unwrap();
        assert_eq!(c.encode(), data);
    }
    let c = AvcDecoderConfig::parse(&hex(HIGH_720_AVCC)).unwrap();
    assert_eq!(
        (
            c.configuration_version,
            c.profile_indication,
            c.profile_compatibility
        ),
        (1, 100, 0)
    );
    assert_eq!((c.level_indication, c.length_size), (31, 4));
    assert_eq!(c.sps, vec![Bytes::from(hex(HIGH_720_SPS))]);
    assert_eq!(c.pps, vec![Bytes::from(hex(HIGH_720_PPS))]);
    assert_eq!(&c.trailing[..], &[0xfd, 0xf8, 0xf8, 0x00]);
    assert_eq!(c.first_sps().unwrap(), sps(HIGH_720_SPS));

    let built = config(&[PORTRAIT_SPS, HIGH_720_SPS], &[HIGH_720_PPS, HIGH_444_PPS]);
    assert_eq!(AvcDecoderConfig::parse(&built.encode()).unwrap(), built);
    let mut two = built.clone();
    two.length_size = 2;
    assert_eq!(AvcDecoderConfig::parse(&two.encode()).unwrap(), two);
    let mut one = built;
    one.length_size = 1;
    assert_eq!(AvcDecoderConfig::parse(&one.encode()).unwrap(), one);
}

#[test]
fn avcc_rejects_bad_records() {
    let good = hex(BASE_360_AVCC);
    let mut bad = good.clone();
    bad[0] = 2;
    assert!(AvcDecoderConfig::parse(&bad).is_err());
    let mut bad = good.clone();
    bad[4] = 0xfe;
    assert!(AvcDecoderConfig::parse(&bad).is_err());
    let mut bad = good.clone();
    bad[7] = 0x30; // SPS length 0x30 > data
    assert!(AvcDecoderConfig::parse(&bad).is_err());
    let mut bad = good;
    bad[5] = 0xe2; // two SPS announced, one present
    assert!(AvcDecoderConfig::parse(&bad).is_err());
    let empty = AvcDecoderConfig::parse(&[1, 66, 0, 30, 0xff, 0xe0, 0]).unwrap();
    assert!(empty.first_sps().is_err());
}

#[test]
fn truncated_avcc_never_panics() {
    for data in [hex(HIGH_720_AVCC), hex(BASE_360_AVCC)] {
        for len in 0..data.len() {
            let result = AvcDecoderConfig::parse(&data[..len]);
            // Truncation inside the parameter sets is an error; inside the extension it is kept.
            if len < data.len() - 4 {
                assert!(result.is_err(), "length {len}");
            }
        }
        for bit in 0..data.len() * 8 {
            let mut bad = data.clone();
            bad[bit / 8] ^= 0x80 >> (bit % 8);
            if let Ok(c) = AvcDecoderConfig::parse(&bad) {
                let _ = c.first_sps();
                let _ = c.encode();
            }
        }
    }
}

#[test]
fn compare_reports_first_difference() {
    let high = AvcDecoderConfig::parse(&hex(HIGH_720_AVCC)).unwrap();
    assert_eq!(compare(&high, &high.clone()), Ok(None));

    let portrait = config(&[PORTRAIT_SPS], &[HIGH_720_PPS]);
    assert_eq!(
        compare(&high, &portrait),
        Ok(Some(Difference {
            parameter: "resolution",
            reference: "1280x720".into(),
            value: "720x1280".into(),
        }))
    );

    let d = compare(
        &config(&[HIGH_10_SPS], &[HIGH_720_PPS]),
        &config(&[HIGH_422_SPS], &[HIGH_720_PPS]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("profile", "High 10", "High 4:2:2")
    );

    let mut level_32 = hex(HIGH_720_SPS);
    level_32[3] = 32;
    let d = compare(&high, &config(&[&hex_string(&level_32)], &[HIGH_720_PPS]))
        .unwrap()
        .unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("level", "3.1", "3.2")
    );

    let d = compare(
        &config(&[HIGH_444_SPS], &[HIGH_444_PPS]),
        &config(&[HIGH_444_420_SPS], &[HIGH_444_PPS]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("chroma format", "4:4:4", "4:2:0")
    );

    let d = compare(
        &config(&[HIGH_444_SPS], &[HIGH_444_PPS]),
        &config(&[HIGH_444_10_SPS], &[HIGH_444_PPS]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("bit depth", "8", "10")
    );

    let mut short = high.clone();
    short.length_size = 2;
    let d = compare(&high, &short).unwrap().unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("NAL length size", "4", "2")
    );

    let d = compare(&high, &config(&[HIGH_720_25_SPS], &[HIGH_720_PPS]))
        .unwrap()
        .unwrap();
    assert_eq!(d.parameter, "SPS");
    assert_eq!(d.reference, "24 bytes, at 19: c0f1831960");
    assert_eq!(d.value, "24 bytes, at 19: 20f1831960");

    let d = compare(&high, &config(&[HIGH_720_SPS], &[INTERLACED_1080_PPS]))
        .unwrap()
        .unwrap();
    assert_eq!(d.parameter, "PPS");
    assert_eq!(d.reference, "6 bytes, at 1: ebe3cb22c0");
    assert_eq!(d.value, "6 bytes, at 1: fba3cb22c0");

    let d = compare(
        &high,
        &config(&[HIGH_720_SPS], &[HIGH_720_PPS, HIGH_720_PPS]),
    )
    .unwrap()
    .unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("PPS", "1 PPS", "2 PPS")
    );

    // The extension bytes of the record and emulation prevention do not matter.
    let base = AvcDecoderConfig::parse(&hex(BASE_360_AVCC)).unwrap();
    let rbsp = nal_to_rbsp(&hex(BASE_360_SPS)).into_owned();
    let mut plain = base.clone();
    plain.sps = vec![Bytes::from(rbsp)];
    plain.trailing = Bytes::from_static(&[0xfd, 0xf8, 0xf8, 0]);
    assert_ne!(plain.encode(), base.encode());
    assert_eq!(compare(&base, &plain), Ok(None));

    // Parse errors surface.
    assert!(compare(&high, &config(&[HIGH_720_PPS], &[HIGH_720_PPS])).is_err());
}

fn hex_string(data: &[u8]) -> String {
    data.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn names() {
    assert_eq!(profile_name(66, 0x40), "Constrained Baseline");
    assert_eq!(profile_name(66, 0x80), "Baseline");
    assert_eq!(profile_name(77, 0), "Main");
    assert_eq!(profile_name(88, 0), "Extended");
    assert_eq!(profile_name(100, 0), "High");
    assert_eq!(profile_name(110, 0), "High 10");
    assert_eq!(profile_name(122, 0), "High 4:2:2");
    assert_eq!(profile_name(244, 0), "High 4:4:4 Predictive");
    assert_eq!(profile_name(44, 0), "profile 44");
    assert_eq!(level_string(31, 0), "3.1");
    assert_eq!(level_string(40, 0), "4");
    assert_eq!(level_string(9, 0), "1b");
    assert_eq!(level_string(11, 0x10), "1b");
    assert_eq!(level_string(11, 0), "1.1");
    assert_eq!(level_string(51, 0), "5.1");
}

#[test]
fn high_profile_level_11_with_constraint_set3_is_not_1b() {
    let mut nal = hex(HIGH_10_SPS);
    nal[2] = 0x10; // constraint_set3_flag: High 10 Intra
    nal[3] = 11;
    let a = config(&[&hex_string(&nal)], &[HIGH_720_PPS]);
    nal[3] = 9;
    let b = config(&[&hex_string(&nal)], &[HIGH_720_PPS]);
    let d = compare(&a, &b).unwrap().unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("level", "1.1", "1b")
    );
}

#[test]
fn avcc_samples() {
    let sample = [0, 0, 0, 2, 0x65, 0xaa, 0, 0, 0, 0, 0, 0, 0, 1, 0x06];
    let units: Vec<_> = avcc_nal_units(&sample, 4).collect();
    assert_eq!(
        units,
        vec![Ok(&[0x65, 0xaa][..]), Ok(&[][..]), Ok(&[0x06][..])]
    );
    let units: Vec<_> = avcc_nal_units(&[0, 3, 1, 2, 3, 1, 9], 2).collect();
    assert_eq!(units.len(), 2);
    assert_eq!(units[0], Ok(&[1, 2, 3][..]));
    assert!(matches!(
        units[1],
        Err(CodecError::Malformed { offset: 5, .. })
    ));
    let units: Vec<_> = avcc_nal_units(&[2, 0x65, 0x88, 5, 1], 1).collect();
    assert_eq!(units.len(), 2);
    assert!(units[0].is_ok() && units[1].is_err());
    assert_eq!(avcc_nal_units(&[0xff; 8], 4).count(), 1);
    assert!(avcc_nal_units(&[0, 1, 0x65], 3).next().unwrap().is_err());
    assert!(avcc_nal_units(&[0, 1, 0x65], 0).next().unwrap().is_err());
    assert_eq!(avcc_nal_units(&[], 4).count(), 0);
    for len in 0..sample.len() {
        for size in 0..6 {
            let _ = avcc_nal_units(&sample[..len], size).count();
        }
    }
}

#[test]
fn annexb_split() {
    let stream = [
        0xaa, 0, 0, 0, 1, 0x67, 0x42, 0, 0, 1, 0x68, 0xce, 0, 0, 0, 0, 1, 0, 0, 1, 0x65, 0x88,
        0x00, 0x00, 0x03, 0x01, 0, 0,
    ];
    let units: Vec<_> = annexb_nal_units(&stream).collect();
    assert_eq!(
        units,
        vec![
            &[0x67, 0x42][..],
            &[0x68, 0xce][..],
            &[0x65, 0x88, 0, 0, 3, 1][..]
        ]
    );
    assert_eq!(annexb_nal_units(&[1, 2, 3]).count(), 0);
    assert_eq!(annexb_nal_units(&[0, 0, 1]).count(), 0);
    for len in 0..stream.len() {
        let _ = annexb_nal_units(&stream[..len]).count();
    }
}
