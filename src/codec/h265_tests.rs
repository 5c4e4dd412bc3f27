//! Tests for the H.265 parsers, using parameter sets written by x265 (through ffmpeg, the
//! `fixtures/hevc_*.mp4` files) and edited copies of them.

use super::*;

fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0);
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// x265 (ffmpeg `-c:v libx265 -preset ultrafast`), Main, level 2, 320x240 (fixtures/hevc_a.mp4).
const VPS: &str = "40010c01ffff01600000030090000003000003003c959009";
const SPS_240: &str =
    "42010101600000030090000003000003003ca00a080f16595912930bc05a020000030002000003003210";
const PPS: &str = "4401c073c089";
// The same encoder at 320x180: coded 320x192 with a conformance window of 12 lines
// (fixtures/hevc_180.mp4).
const SPS_180: &str =
    "42010101600000030090000003000003003ca00a080c1f3e595912930bc05a020000030002000003003210";
// The first 23 bytes of both records (ffmpeg writes the SEI array after the parameter sets).
const HEAD: &str = "0101600000009000000000003cf000fcfdf8f800000f04";

/// An hvcC payload with arrays VPS, SPS, PPS (one unit each).
fn record(sps: &str, pps: &str) -> Vec<u8> {
    let mut v = hex(HEAD);
    v[22] = 3;
    for (t, unit) in [(32u8, VPS), (33, sps), (34, pps)] {
        let u = hex(unit);
        v.push(0x80 | t);
        v.extend_from_slice(&1u16.to_be_bytes());
        v.extend_from_slice(&(u.len() as u16).to_be_bytes());
        v.extend_from_slice(&u);
    }
    v
}

#[test]
fn parses_the_x265_record() {
    let c = HevcDecoderConfig::parse(&record(SPS_240, PPS)).unwrap();
    assert_eq!(c.configuration_version, 1);
    assert_eq!(c.ptl.profile_idc, 1);
    assert!(!c.ptl.high_tier);
    assert_eq!(c.ptl.level_idc, 60);
    assert_eq!(
        (c.chroma_format_idc, c.bit_depth_luma, c.bit_depth_chroma),
        (1, 8, 8)
    );
    assert_eq!(c.length_size, 4);
    assert_eq!(c.arrays.len(), 3);
    assert_eq!(c.units(NAL_PPS), vec![Bytes::from(hex(PPS))]);
    let sps = c.first_sps().unwrap();
    assert_eq!((sps.width, sps.height), (320, 240));
    assert_eq!((sps.coded_width, sps.coded_height), (320, 240));
    assert_eq!(
        sps.ptl, c.ptl,
        "record and SPS state the same profile/tier/level"
    );
    assert_eq!(sps.chroma_format(), "4:2:0");
    assert_eq!((sps.bit_depth_luma, sps.bit_depth_chroma), (8, 8));
    assert_eq!(profile_name(&sps.ptl), "Main");
    assert_eq!(level_string(&sps.ptl), "2");
}

#[test]
fn conformance_window_crops_the_coded_size() {
    let sps = Sps::parse(&hex(SPS_180)).unwrap();
    assert_eq!((sps.coded_width, sps.coded_height), (320, 192));
    assert_eq!((sps.width, sps.height), (320, 180));
}

#[test]
fn compare_names_the_field() {
    let a = HevcDecoderConfig::parse(&record(SPS_240, PPS)).unwrap();
    assert_eq!(compare(&a, &a.clone()).unwrap(), None);
    let b = HevcDecoderConfig::parse(&record(SPS_180, PPS)).unwrap();
    let d = compare(&a, &b).unwrap().unwrap();
    assert_eq!(
        (d.parameter, d.reference.as_str(), d.value.as_str()),
        ("resolution", "320x240", "320x180")
    );
    // Another PPS (init_qp changed): same resolution and profile, the PPS is named.
    let c = HevcDecoderConfig::parse(&record(SPS_240, "4401c173c089")).unwrap();
    let d = compare(&a, &c).unwrap().unwrap();
    assert_eq!(d.parameter, "PPS");
    // The NAL length size.
    let mut r = record(SPS_240, PPS);
    r[21] = (r[21] & !3) | 1;
    let e = HevcDecoderConfig::parse(&r).unwrap();
    assert_eq!(
        compare(&a, &e).unwrap().unwrap().parameter,
        "NAL length size"
    );
}

#[test]
fn compare_names_level_and_tier() {
    let a = HevcDecoderConfig::parse(&record(SPS_240, PPS)).unwrap();
    // general_level_idc: byte 17 of the NAL unit (three emulation prevention bytes before it).
    let mut sps = hex(SPS_240);
    assert_eq!(sps[17], 60);
    sps[17] = 93;
    let s: String = sps.iter().map(|b| format!("{b:02x}")).collect();
    let b = HevcDecoderConfig::parse(&record(&s, PPS)).unwrap();
    let d = compare(&a, &b).unwrap().unwrap();
    assert_eq!((d.parameter, d.value.as_str()), ("level", "3.1"));
    sps[3] |= 0x20; // general_tier_flag
    let s: String = sps.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        level_string(&Sps::parse(&hex(&s)).unwrap().ptl),
        "3.1 High tier"
    );
}

#[test]
fn names_of_profiles_and_levels() {
    let mut ptl = Sps::parse(&hex(SPS_240)).unwrap().ptl;
    ptl.profile_idc = 2;
    assert_eq!(profile_name(&ptl), "Main 10");
    // profile_idc 0: the profile is the first compatibility flag set (§A.3).
    ptl.profile_idc = 0;
    ptl.compatibility_flags = 1 << (31 - 2);
    assert_eq!(profile_name(&ptl), "Main 10");
    ptl.profile_idc = 30;
    assert_eq!(profile_name(&ptl), "profile 30");
    ptl.level_idc = 120;
    assert_eq!(level_string(&ptl), "4");
    ptl.level_idc = 153;
    assert_eq!(level_string(&ptl), "5.1");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let full = record(SPS_180, PPS);
    for n in 0..full.len() {
        assert!(HevcDecoderConfig::parse(&full[..n]).is_err(), "{n} bytes");
    }
    let sps = hex(SPS_180);
    // The fields read end inside the SPS; every cut before them is an error.
    for n in 0..20 {
        assert!(Sps::parse(&sps[..n]).is_err(), "{n} bytes");
    }
}

#[test]
fn hostile_counts_are_checked_before_allocating() {
    let mut r = hex(HEAD);
    r[22] = 255;
    let e = HevcDecoderConfig::parse(&r).unwrap_err();
    assert!(e.to_string().contains("255 NAL unit arrays"), "{e}");
    // One array claiming 65535 units in 3 bytes.
    let mut r = hex(HEAD);
    r[22] = 1;
    r.extend_from_slice(&[0xa1, 0xff, 0xff, 0, 1, 0]);
    let e = HevcDecoderConfig::parse(&r).unwrap_err();
    assert!(e.to_string().contains("65535 NAL units"), "{e}");
    // A unit longer than the record.
    let mut r = hex(HEAD);
    r[22] = 1;
    r.extend_from_slice(&[0xa1, 0, 1, 0x10, 0, 1, 2]);
    assert!(HevcDecoderConfig::parse(&r).is_err());
}

#[test]
fn rejects_what_is_not_an_sps() {
    assert!(Sps::parse(&hex(VPS)).is_err());
    assert!(Sps::parse(&[]).is_err());
    let mut r = record(SPS_240, PPS);
    r[0] = 0;
    let e = HevcDecoderConfig::parse(&r).unwrap_err();
    assert!(e.to_string().contains("configurationVersion is 0"), "{e}");
    // A record without an SPS parses, but has no first SPS to compare.
    let mut r = hex(HEAD);
    r[22] = 0;
    let c = HevcDecoderConfig::parse(&r).unwrap();
    assert!(c.first_sps().is_err());
}

#[test]
fn every_byte_changed_never_panics() {
    // A poor man's fuzz run over the x265 record: each byte set to a few values in turn.
    let base = record(SPS_180, PPS);
    for i in 0..base.len() {
        for v in [0x00, 0x01, 0x7f, 0x80, 0xff, base[i] ^ 0x10] {
            let mut r = base.clone();
            r[i] = v;
            if let Ok(c) = HevcDecoderConfig::parse(&r) {
                if let Ok(sps) = c.first_sps() {
                    assert!(sps.width > 0 && sps.width <= sps.coded_width);
                    assert!(sps.height > 0 && sps.height <= sps.coded_height);
                    let _ = (profile_name(&sps.ptl), level_string(&sps.ptl));
                    assert_eq!(compare(&c, &c), Ok(None));
                }
            }
        }
    }
}
