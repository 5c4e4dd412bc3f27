use super::*;
use crate::demux::flv;
use crate::limits::Limits;
use crate::source::MemSource;

const FLV: &[u8] = include_bytes!("../../fixtures/flv/av.flv");

fn fixture() -> flv::FlvMedia {
    flv::open(&MemSource::new("av.flv", FLV.to_vec()), &Limits::default()).expect("fixture")
}

const H264: Mp4Nals = Mp4Nals {
    codec: NalCodec::H264,
    length_size: 4,
    drop_aud_filler: false,
};

fn to_lp(x: &[u8], opts: &Mp4Nals) -> (AnnexBLayout, Vec<u8>) {
    let layout = scan_annexb(x).expect("scan");
    let mut lp = Vec::new();
    annexb_to_length_prefixed(x, &layout, opts, &mut lp).expect("convert");
    assert_eq!(lp.len(), length_prefixed_size(&layout, opts).expect("size"));
    (layout, lp)
}

#[test]
fn fixture_samples_round_trip_through_annexb() {
    let m = fixture();
    let v = m.video.expect("video");
    assert_eq!(v.samples.len(), 50);
    for s in &v.samples {
        let sample = &FLV[s.offset as usize..s.end() as usize];
        let units = length_prefixed_units(sample, 4).expect("units");
        let mut annexb = Vec::new();
        length_prefixed_to_annexb(sample, &units, StartCodes::Four, &mut annexb).expect("annexb");
        assert_eq!(annexb.len(), annexb_size(sample, &units, StartCodes::Four));
        let (layout, lp) = to_lp(&annexb, &H264);
        assert_eq!(lp, sample);
        assert_eq!(layout.units.len(), units.len());
        let mut back = Vec::new();
        annexb_from_layout(&lp, 4, &layout, &mut back).expect("back");
        assert_eq!(back, annexb);
        assert_eq!(annexb_layout_size(&layout), annexb.len());
    }
}

/// An access unit as x264 writes it in Annex B: AUD, SPS and PPS with 4-byte start codes, SEI and
/// slices with 3-byte ones, emulation prevention inside, a filler unit and trailing zeros.
fn access_unit() -> Vec<u8> {
    let mut x = vec![0, 0, 0, 1, 0x09, 0xf0];
    x.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0d, 0xac]);
    x.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xeb, 0xe3, 0xcb]);
    x.extend_from_slice(&[0, 0, 1, 0x06, 0x05, 0x00, 0x00, 0x03, 0x01, 0x80]);
    x.extend_from_slice(&[
        0, 0, 1, 0x65, 0x88, 0x00, 0x00, 0x03, 0x00, 0x00, 0x03, 0x03, 0x21,
    ]);
    x.extend_from_slice(&[0, 0, 0, 1, 0x0c, 0xff, 0xff, 0x80]);
    x.extend_from_slice(&[0, 0, 1, 0x41, 0x9a, 0x00, 0x00]); // trailing_zero_8bits
    x.extend_from_slice(&[0, 0, 0, 1, 0x41, 0x9b]);
    x
}

#[test]
fn long_first_start_codes_give_x264s_access_unit_back() {
    // access_unit() without its filler and trailing zeros is what x264 writes.
    let x: Vec<u8> = [
        &[0, 0, 0, 1, 0x09, 0xf0][..],
        &[0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0d, 0xac],
        &[0, 0, 0, 1, 0x68, 0xeb, 0xe3, 0xcb],
        &[0, 0, 1, 0x06, 0x05, 0x00, 0x00, 0x03, 0x01, 0x80],
        &[0, 0, 1, 0x65, 0x88, 0x84],
    ]
    .concat();
    let (_, lp) = to_lp(&x, &H264);
    let units = length_prefixed_units(&lp, 4).expect("units");
    let codes = StartCodes::LongFirst(NalCodec::H264);
    let mut back = Vec::new();
    length_prefixed_to_annexb(&lp, &units, codes, &mut back).expect("annexb");
    assert_eq!(back, x);
    assert_eq!(annexb_size(&lp, &units, codes), x.len());
}

#[test]
fn layout_round_trip_is_exact() {
    let x = access_unit();
    let (layout, lp) = to_lp(&x, &H264);
    let zeros: Vec<usize> = layout.units.iter().map(|u| u.zeros_before).collect();
    assert_eq!(zeros, [1, 1, 1, 0, 0, 1, 0, 3]);
    let types: Vec<u8> = layout.units.iter().map(|u| u.header & 0x1f).collect();
    assert_eq!(types, [9, 7, 8, 6, 5, 12, 1, 1]);
    // Emulation prevention stays: the slice keeps its 00 00 03 bytes.
    assert_eq!(
        &x[layout.units[4].range.clone()],
        &[0x65, 0x88, 0, 0, 3, 0, 0, 3, 3, 0x21]
    );
    let mut back = Vec::new();
    annexb_from_layout(&lp, 4, &layout, &mut back).expect("back");
    assert_eq!(back, x);
    // 2-byte and 1-byte lengths too.
    for length_size in [1u8, 2] {
        let opts = Mp4Nals {
            length_size,
            ..H264
        };
        let (layout, lp) = to_lp(&x, &opts);
        let mut back = Vec::new();
        annexb_from_layout(&lp, length_size, &layout, &mut back).expect("back");
        assert_eq!(back, x);
    }
}

#[test]
fn aud_and_filler_are_dropped_sei_kept() {
    let x = access_unit();
    let opts = Mp4Nals {
        drop_aud_filler: true,
        ..H264
    };
    let (layout, lp) = to_lp(&x, &opts);
    let units = length_prefixed_units(&lp, 4).expect("units");
    let types: Vec<u8> = units.iter().map(|u| lp[u.start] & 0x1f).collect();
    assert_eq!(types, [7, 8, 6, 5, 1, 1]);
    // annexb(lp(x)) is x without the AUD and filler units (and the zeros before them).
    let mut back = Vec::new();
    annexb_from_layout_without(&lp, &opts, &layout, &mut back).expect("back");
    let mut want = x.clone();
    want.drain(0..6); // 00 00 00 01 09 f0
    let filler = [0u8, 0, 0, 1, 0x0c, 0xff, 0xff, 0x80];
    let at = want.windows(8).position(|w| w == filler).expect("filler");
    want.drain(at..at + 8);
    assert_eq!(back, want);
    // The layout alone says the size; every unit kept or not.
    assert_eq!(
        lp.len(),
        6 * 4 + layout.units.iter().map(|u| u.range.len()).sum::<usize>() - 2 - 4
    );
    // H.265: AUD is type 35 (0x46 0x01), filler 38 (0x4c 0x01).
    let h = [
        0, 0, 0, 1, 0x46, 0x01, 0x50, 0, 0, 1, 0x26, 0x01, 0xaf, 0, 0, 1, 0x4c, 0x01, 0xff,
    ];
    let opts = Mp4Nals {
        codec: NalCodec::H265,
        length_size: 4,
        drop_aud_filler: true,
    };
    let (_, lp) = to_lp(&h, &opts);
    assert_eq!(lp, [0, 0, 0, 3, 0x26, 0x01, 0xaf]);
}

#[test]
fn malformed_annexb_is_refused() {
    let cases: [(&[u8], &str); 5] = [
        (
            &[1, 0, 0, 1, 0x65],
            "non-zero bytes before the first start code",
        ),
        (&[0x65, 0x88], "no start code"),
        (&[0, 0, 1, 0, 0, 1, 0x65], "empty NAL unit"),
        (
            &[0, 0, 1, 0x65, 0, 0, 2, 0x11],
            "bytes 00 00 02 inside a NAL unit",
        ),
        (
            &[0, 0, 1, 0x65, 0, 0, 0, 0x11],
            "bytes 00 00 00 inside a NAL unit",
        ),
    ];
    for (x, want) in cases {
        let e = scan_annexb(x).expect_err(want).to_string();
        assert!(e.contains(want), "{e}");
    }
    assert_eq!(scan_annexb(&[]).expect("empty"), AnnexBLayout::default());
    // A unit too long for a 1-byte length: refused by the size function before writing.
    let mut x = vec![0, 0, 1, 0x65];
    x.extend(std::iter::repeat_n(0x11, 300));
    let layout = scan_annexb(&x).expect("scan");
    let opts = Mp4Nals {
        length_size: 1,
        ..H264
    };
    assert!(length_prefixed_size(&layout, &opts).is_err());
    assert!(annexb_to_length_prefixed(&x, &layout, &opts, &mut Vec::new()).is_err());
    // Length-prefixed samples that do not add up.
    assert!(length_prefixed_units(&[0, 0, 0, 5, 1], 4).is_err());
    assert!(length_prefixed_units(&[0, 0, 0], 4).is_err());
    assert!(length_prefixed_units(&[0, 0, 0, 0], 4).is_err());
    assert!(length_prefixed_units(&[1, 0x65], 3).is_err());
    assert!(length_prefixed_units(&[0, 0, 0, 4, 0x65, 0, 0, 1], 4).is_err());
    assert!(length_prefixed_units(&[0, 0, 0, 2, 0x65, 0], 4).is_err());
}

#[test]
fn avcc_from_in_band_parameter_sets_matches_ffmpeg() {
    let m = fixture();
    let v = m.video.expect("video");
    let c = &v.configs[0];
    let sps: Vec<&[u8]> = c.parsed.sps.iter().map(|u| &u[..]).collect();
    let pps: Vec<&[u8]> = c.parsed.pps.iter().map(|u| &u[..]).collect();
    let built = avcc_from_parameter_sets(&sps, &pps, 4).expect("avcC");
    assert_eq!(built.encode(), c.raw.to_vec());
    // From an Annex B access unit: parameter_sets finds them.
    let mut au = Vec::new();
    for u in sps.iter().chain(&pps) {
        au.extend_from_slice(&[0, 0, 0, 1]);
        au.extend_from_slice(u);
    }
    let layout = scan_annexb(&au).expect("scan");
    let (s, p) = parameter_sets(&au, &layout);
    assert_eq!(avcc_from_parameter_sets(&s, &p, 4).expect("avcC"), built);
    assert!(avcc_from_parameter_sets(&[], &p, 4).is_err());
    assert!(avcc_from_parameter_sets(&s, &[], 4).is_err());
    assert!(avcc_from_parameter_sets(&p, &p, 4).is_err());
    assert!(avcc_from_parameter_sets(&s, &p, 3).is_err());
}

#[test]
fn adts_round_trips_and_gives_the_config() {
    let m = fixture();
    let a = m.audio.expect("audio");
    let asc = &a.configs[0].parsed;
    let t = AdtsTemplate::from_asc(asc).expect("template");
    let mut stream = Vec::new();
    let mut raws = Vec::new();
    for s in &a.samples {
        let raw = &FLV[s.offset as usize..s.end() as usize];
        let before = stream.len();
        t.write(raw, &mut stream).expect("write");
        assert_eq!(
            stream.len() - before,
            AdtsTemplate::frame_size(raw.len()).expect("size")
        );
        raws.push(raw);
    }
    let frames = adts_frames(&stream).expect("frames");
    assert_eq!(frames.len(), raws.len());
    for (f, raw) in frames.iter().zip(&raws) {
        let x = &stream[f.frame.clone()];
        let (t2, r) = adts_to_raw(x).expect("raw");
        assert_eq!(r, *raw);
        let mut back = Vec::new();
        t2.write(r, &mut back).expect("write");
        assert_eq!(back, x);
        let c = asc_from_adts(&f.header).expect("asc");
        // ffmpeg's config adds the (negative) SBR sync extension; the fields agree.
        assert_eq!(
            (c.object_type, c.sampling_frequency, c.channel_configuration),
            (
                asc.object_type,
                asc.sampling_frequency,
                asc.channel_configuration
            )
        );
        assert_eq!(&c.raw[..], &asc.raw[..2]);
    }
    // MPEG-2 ID, private, original/copy, home and copyright bits survive the round trip.
    let x = [0xff, 0xf9, 0x52, 0xbc, 0x01, 0x3f, 0xfc, 0xaa, 0xbb];
    let (t, r) = adts_to_raw(&x).expect("raw");
    assert_eq!(r, [0xaa, 0xbb]);
    let mut back = Vec::new();
    t.write(r, &mut back).expect("write");
    assert_eq!(back, x);
    // A CRC-protected frame: the 9-byte header is stripped, written back without CRC.
    let x = [
        0xff, 0xf0, 0x50, 0x80, 0x01, 0x7f, 0xfc, 0x12, 0x34, 0xaa, 0xbb,
    ];
    let (t, r) = adts_to_raw(&x).expect("raw");
    assert_eq!(r, [0xaa, 0xbb]);
    let mut back = Vec::new();
    t.write(r, &mut back).expect("write");
    assert_eq!(back, [0xff, 0xf1, 0x50, 0x80, 0x01, 0x3f, 0xfc, 0xaa, 0xbb]);
    // Refused: several raw data blocks, a frame past the end, channel configuration 0.
    assert!(adts_frames(&[0xff, 0xf1, 0x50, 0x80, 0x01, 0x1f, 0xfd, 0xaa, 0xbb]).is_err());
    assert!(adts_frames(&[0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc, 0xaa]).is_err());
    let h = AdtsHeader::parse(&[0xff, 0xf1, 0x50, 0x00, 0x01, 0x1f, 0xfc]).expect("header");
    assert!(asc_from_adts(&h).is_err());
    assert!(AdtsTemplate::frame_size(8185).is_err());
}

#[test]
fn hvcc_from_in_band_parameter_sets() {
    use crate::model::CodecConfig;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/hevc_a.mp4");
    let media = crate::demux::open_path(&path, &Limits::default()).expect("hevc fixture");
    let reference = media
        .tracks
        .iter()
        .flat_map(|t| &t.sample_entries)
        .find_map(|e| match &e.codec {
            CodecConfig::H265 {
                config: Some(c), ..
            } => Some(c.clone()),
            _ => None,
        })
        .expect("an hvcC");
    let units = |ty: u8| reference.units(ty);
    let (vps, sps, pps) = (units(32), units(33), units(34));
    fn slices(v: &[bytes::Bytes]) -> Vec<&[u8]> {
        v.iter().map(|u| &u[..]).collect()
    }
    let built =
        hvcc_from_parameter_sets(&slices(&vps), &slices(&sps), &slices(&pps), 4).expect("hvcC");
    assert_eq!(built.ptl, reference.ptl);
    assert_eq!(
        (
            built.chroma_format_idc,
            built.bit_depth_luma,
            built.bit_depth_chroma
        ),
        (
            reference.chroma_format_idc,
            reference.bit_depth_luma,
            reference.bit_depth_chroma
        )
    );
    assert_eq!(built.num_temporal_layers, reference.num_temporal_layers);
    assert_eq!(built.temporal_id_nested, reference.temporal_id_nested);
    assert_eq!(built.length_size, reference.length_size);
    for ty in [32, 33, 34] {
        assert_eq!(built.units(ty), reference.units(ty), "type {ty}");
    }
    // Its encoding parses back equal, and the seam comparison sees no difference.
    let enc = encode_hvcc(&built);
    let back = crate::codec::h265::HevcDecoderConfig::parse(&enc).expect("parse");
    assert_eq!(back, built);
    assert_eq!(crate::codec::h265::compare(&reference, &built), Ok(None));
    // The fixture's record re-encodes to its own bytes (the encoder is exact).
    assert_eq!(
        crate::codec::h265::HevcDecoderConfig::parse(&encode_hvcc(&reference)).expect("parse"),
        reference
    );
    assert!(hvcc_from_parameter_sets(&[], &slices(&sps), &slices(&pps), 4).is_err());
    assert!(hvcc_from_parameter_sets(&slices(&vps), &slices(&pps), &slices(&pps), 4).is_err());
}
