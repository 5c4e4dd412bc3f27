//! The properties the fuzz targets check, in ONE copy.
//!
//! Each fuzz target (`fuzz/fuzz_targets/*.rs`) and the stable-toolchain replay test
//! (`tests/fuzz_replay.rs`) pull this file in with `#[path = ...] mod checks;`, so a corpus file or a
//! saved crash is judged by exactly the same code under `cargo fuzz run` and under `cargo test`.
//!
//! Every function takes arbitrary bytes and panics (with a message naming the broken property) when
//! seam misbehaves. Errors returned by seam are fine: hostile input must give an `Err`, never a panic,
//! an arithmetic overflow, an allocation the input does not pay for, or an inconsistent result.
#![allow(dead_code)]

use std::sync::Arc;

use seam::codec::{aac, h264, h265};
use seam::demux::mp4::tree;
use seam::demux::ts::{self, Event, TsError, TsLimits};
use seam::error::DemuxError;
use seam::model::{ContainerFormat, Media};
use seam::plan::Payload;
use seam::source::{MemSource, Source};
use seam::{Limits, StitchOptions};

/// Display name of the demuxed input; every located error must name it.
pub const NAME: &str = "fuzz.mp4";

fn source(name: &str, data: &[u8]) -> Arc<dyn Source> {
    Arc::new(MemSource::new(name.to_string(), data.to_vec()))
}

fn demux(name: &str, data: &[u8]) -> Result<Media, DemuxError> {
    seam::demux::open(source(name, data), &Limits::default())
}

/// Properties every demux error has: it names the file, says where (`at byte N`) and is never an I/O
/// error for in-memory bytes (a `MemSource` read fails only when the demuxer reads past the end
/// without checking a size against the file length first).
fn check_error(name: &str, e: &DemuxError) {
    let msg = e.to_string();
    assert!(
        !matches!(e, DemuxError::Io { .. }),
        "demuxer read past the end of an in-memory input: {msg}"
    );
    assert!(msg.contains(name), "error does not name the file: {msg}");
    assert!(msg.contains("at byte"), "error has no byte offset: {msg}");
}

/// Properties of a successfully demuxed input: every sample lies inside the input and names an
/// existing sample entry; the timestamp helpers never overflow; a progressive file's decode times
/// are the running sum of its durations, starting at 0.
fn check_media(m: &Media, len: u64) {
    for (ti, t) in m.tracks.iter().enumerate() {
        assert!(t.timescale > 0, "track {ti}: timescale 0 accepted");
        for (si, s) in t.samples.iter().enumerate() {
            let end = s.offset.checked_add(u64::from(s.size));
            assert!(
                end.is_some_and(|e| e <= len),
                "track {ti} sample {si}: {}+{} lies outside the {len}-byte input",
                s.offset,
                s.size
            );
            assert!(
                usize::from(s.entry) < t.sample_entries.len(),
                "track {ti} sample {si}: sample entry {} of {}",
                s.entry,
                t.sample_entries.len()
            );
            let _ = s.cts();
        }
        let _ = (t.end_dts(), t.media_duration());
        if m.format == ContainerFormat::Mp4 {
            let mut dts = 0i64;
            for (si, s) in t.samples.iter().enumerate() {
                assert_eq!(
                    s.dts, dts,
                    "track {ti} sample {si}: dts is not the sum of durations"
                );
                dts = dts
                    .checked_add(i64::from(s.duration))
                    .expect("sum of stts durations overflows i64");
            }
        }
        for e in &t.sample_entries {
            if let seam::model::CodecConfig::H264 {
                config: Some(c), ..
            } = &e.codec
            {
                let _ = c.first_sps();
            }
        }
    }
}

/// Panics, naming the first difference, unless two demux results describe the same media.
fn assert_same_media(a: &Media, b: &Media, what: &str) {
    assert_eq!(a.format, b.format, "{what}: format");
    assert_eq!(a.major_brand, b.major_brand, "{what}: major brand");
    assert_eq!(
        a.movie_timescale, b.movie_timescale,
        "{what}: movie timescale"
    );
    assert_eq!(a.movie_duration, b.movie_duration, "{what}: movie duration");
    assert_eq!(a.udta, b.udta, "{what}: udta");
    assert_eq!(a.meta, b.meta, "{what}: meta");
    assert_eq!(a.tracks.len(), b.tracks.len(), "{what}: track count");
    for (i, (x, y)) in a.tracks.iter().zip(&b.tracks).enumerate() {
        assert_eq!(x.id, y.id, "{what}: track {i} id");
        assert_eq!(x.kind, y.kind, "{what}: track {i} kind");
        assert_eq!(x.handler, y.handler, "{what}: track {i} handler");
        assert_eq!(x.timescale, y.timescale, "{what}: track {i} timescale");
        assert_eq!(x.language, y.language, "{what}: track {i} language");
        assert_eq!(x.header, y.header, "{what}: track {i} tkhd");
        assert_eq!(x.hdlr, y.hdlr, "{what}: track {i} hdlr");
        assert_eq!(
            x.media_header, y.media_header,
            "{what}: track {i} media header"
        );
        assert_eq!(x.edits, y.edits, "{what}: track {i} edits");
        assert_eq!(
            x.sample_entries.len(),
            y.sample_entries.len(),
            "{what}: track {i} sample entry count"
        );
        for (e, f) in x.sample_entries.iter().zip(&y.sample_entries) {
            assert_eq!(e.raw, f.raw, "{what}: track {i} sample entry bytes");
            assert_eq!(e.format, f.format, "{what}: track {i} sample entry format");
            assert_eq!(
                format!("{:?}", e.codec),
                format!("{:?}", f.codec),
                "{what}: track {i} codec config"
            );
        }
        assert_eq!(
            x.samples.len(),
            y.samples.len(),
            "{what}: track {i} sample count"
        );
        if let Some(k) = x.samples.iter().zip(&y.samples).position(|(s, t)| s != t) {
            panic!(
                "{what}: track {i} sample {k}: {:?} != {:?}",
                x.samples.get(k),
                y.samples.get(k)
            );
        }
    }
}

/// `mp4_demux`: demuxing is deterministic, errors are located, results are bounded by the input;
/// `best_effort` salvage obeys the same bounds and changes nothing in a file that demuxes strictly.
pub fn mp4_demux(data: &[u8]) {
    let first = demux(NAME, data);
    let second = demux(NAME, data);
    let salvaged = seam::demux::open_with(source(NAME, data), &Limits::default(), true);
    match &salvaged {
        Ok((m, _)) => check_media(m, data.len() as u64),
        Err(e) => check_error(NAME, e),
    }
    match (&first, &second) {
        (Ok(a), Ok(b)) => {
            check_media(a, data.len() as u64);
            assert_same_media(a, b, "demuxing the same bytes twice");
            match &salvaged {
                Ok((m, notes)) => {
                    assert!(
                        notes.is_empty(),
                        "best effort dropped from a good file: {notes:?}"
                    );
                    assert_same_media(a, m, "best effort on a good file");
                }
                Err(e) => panic!("best effort fails on a file that demuxes strictly: {e}"),
            }
        }
        (Err(a), Err(b)) => {
            check_error(NAME, a);
            assert_eq!(a.to_string(), b.to_string(), "same bytes, different errors");
        }
        _ => panic!(
            "same bytes, one Ok and one Err: {:?} / {:?}",
            first.as_ref().err(),
            second.as_ref().err()
        ),
    }
}

/// True when the last top-level box has size field 0 ("extends to the end of the file"); appending
/// a box would then grow that box instead of adding one.
fn last_box_is_open_ended(data: &[u8]) -> bool {
    let mut pos = 0usize;
    while let Some(h) = data.get(pos..pos + 8) {
        let size32 = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
        let size = match size32 {
            0 => return true,
            1 => match data.get(pos + 8..pos + 16) {
                Some(b) => u64::from_be_bytes(b.try_into().unwrap()),
                None => return false,
            },
            n => u64::from(n),
        };
        match usize::try_from(size).ok().and_then(|s| pos.checked_add(s)) {
            Some(next) if size >= 8 => pos = next,
            _ => return false,
        }
    }
    false
}

/// `mp4_split`: the MP4 demuxer reads by position rather than from a stream, so instead of feeding
/// the input in pieces this checks that the top-level walk is not sensitive to what follows the
/// boxes it needs: appending a `free` box (of a size taken from the input) to a file that demuxes
/// never changes its tracks or samples. Also: the lossless box tree gives the input back byte for
/// byte (`encode(parse(x)) == x`).
pub fn mp4_split(data: &[u8]) {
    let mem = MemSource::new(NAME, data.to_vec());
    if let Ok(nodes) = tree::parse(mem.bytes(), 0, NAME, &Limits::default()) {
        let mut out = Vec::with_capacity(data.len());
        tree::encode(&nodes, &mut out);
        assert!(out == data, "box tree encode(parse(x)) != x");
        let mut text = String::new();
        tree::describe(&nodes, 0, &mut text);
    }
    let Ok(m) = demux(NAME, data) else {
        return;
    };
    if last_box_is_open_ended(data) {
        return;
    }
    let pad = 8 + usize::from(data.last().copied().unwrap_or(0)) * 3;
    let mut longer = Vec::with_capacity(data.len() + pad);
    longer.extend_from_slice(data);
    longer.extend_from_slice(&(pad as u32).to_be_bytes());
    longer.extend_from_slice(b"free");
    longer.resize(data.len() + pad, 0);
    match demux(NAME, &longer) {
        Ok(n) => assert_same_media(&m, &n, "after appending a free box"),
        Err(e) => panic!("appending a {pad}-byte free box broke a good file: {e}"),
    }
}

/// True when `unit` is a sub-slice of `whole`.
fn within(unit: &[u8], whole: &[u8]) -> bool {
    let (u, w) = (unit.as_ptr() as usize, whole.as_ptr() as usize);
    u >= w && u + unit.len() <= w + whole.len()
}

/// `h264_config`: the avcC record round-trips through `encode`; SPS parsing and NAL unit splitting
/// never panic and stay inside their input.
pub fn h264_config(data: &[u8]) {
    if let Ok(c) = h264::AvcDecoderConfig::parse(data) {
        let encoded = c.encode();
        let again = h264::AvcDecoderConfig::parse(&encoded)
            .unwrap_or_else(|e| panic!("encode() of a parsed avcC does not parse: {e}"));
        assert_eq!(c, again, "avcC parse(encode(parse(x))) != parse(x)");
        assert_eq!(encoded, again.encode(), "avcC encode is not stable");
        for sps in &c.sps {
            let _ = h264::Sps::parse(sps);
        }
        if c.first_sps().is_ok() {
            assert_eq!(
                h264::compare(&c, &c),
                Ok(None),
                "an avcC differs from itself"
            );
        }
    }
    // The input as an SPS, with and without a NAL header byte in front.
    let _ = h264::Sps::parse(data);
    let mut with_header = Vec::with_capacity(data.len() + 1);
    with_header.push(0x67);
    with_header.extend_from_slice(data);
    if let Ok(sps) = h264::Sps::parse(&with_header) {
        assert!(sps.width > 0 && sps.height > 0, "SPS with an empty picture");
        let _ = (
            sps.chroma_format(),
            h264::level_string(sps.level_idc, sps.constraint_flags),
        );
    }
    let rbsp = h264::nal_to_rbsp(data);
    assert!(rbsp.len() <= data.len(), "nal_to_rbsp grew its input");
    for length_size in 0..=5u8 {
        let mut consumed = 0usize;
        let mut iter = h264::avcc_nal_units(data, length_size);
        for unit in iter.by_ref() {
            match unit {
                Ok(u) => {
                    assert!(within(u, data), "NAL unit outside the sample");
                    consumed += usize::from(length_size) + u.len();
                    assert!(consumed <= data.len(), "NAL units longer than the sample");
                }
                Err(_) => break,
            }
        }
        assert!(
            iter.next().is_none(),
            "avcc_nal_units goes on after an error"
        );
    }
    for unit in h264::annexb_nal_units(data) {
        assert!(!unit.is_empty() && within(unit, data), "bad Annex B unit");
    }
    h265_config(data);
}

/// Part of `h264_config`: the same bytes as an H.265 `hvcC` record and as an H.265 SPS (with a
/// NAL header in front) never panic; a record with an SPS equals itself.
fn h265_config(data: &[u8]) {
    if let Ok(c) = h265::HevcDecoderConfig::parse(data) {
        if c.first_sps().is_ok() {
            assert_eq!(
                h265::compare(&c, &c),
                Ok(None),
                "an hvcC differs from itself"
            );
        }
    }
    let mut with_header = Vec::with_capacity(data.len() + 2);
    with_header.extend_from_slice(&[0x42, 0x01]);
    with_header.extend_from_slice(data);
    if let Ok(sps) = h265::Sps::parse(&with_header) {
        assert!(
            sps.width > 0 && sps.height > 0,
            "H.265 SPS with an empty picture"
        );
        assert!(sps.width <= sps.coded_width && sps.height <= sps.coded_height);
        let _ = (
            sps.chroma_format(),
            h265::profile_name(&sps.ptl),
            h265::level_string(&sps.ptl),
        );
    }
}

/// `aac_config`: AudioSpecificConfig, esds and ADTS parsing never panic; a parsed ASC keeps its
/// bytes and parses again to itself; an ADTS header converts to an ASC that parses and round-trips
/// back to the same header fields.
pub fn aac_config(data: &[u8]) {
    if let Ok(asc) = aac::AudioSpecificConfig::parse(data) {
        assert_eq!(&asc.raw[..], data, "ASC raw is not the input");
        let again = aac::AudioSpecificConfig::parse(&asc.raw)
            .unwrap_or_else(|e| panic!("ASC raw does not parse again: {e}"));
        assert_eq!(asc, again, "ASC parse(raw) != parse");
        assert_eq!(aac::compare(&asc, &asc), None, "an ASC differs from itself");
        let _ = (
            asc.samples_per_frame(),
            asc.output_sample_rate(),
            asc.channels(),
            asc.object_type_name(),
        );
        if let Ok(h) = aac::write_adts_header(&asc, data.len()) {
            let parsed = aac::AdtsHeader::parse(&h)
                .unwrap_or_else(|e| panic!("written ADTS header does not parse: {e}"));
            assert_eq!(parsed.profile + 1, asc.object_type, "ADTS profile");
            assert_eq!(
                parsed.sampling_frequency_index, asc.sampling_frequency_index,
                "ADTS frequency index"
            );
            assert_eq!(
                parsed.channel_configuration, asc.channel_configuration,
                "ADTS channels"
            );
            assert_eq!(
                usize::from(parsed.frame_length),
                data.len() + 7,
                "ADTS length"
            );
        }
    }
    if let Ok(es) = aac::parse_esds(data) {
        if let Some(dsi) = &es.decoder_specific_info {
            assert!(
                dsi.len() <= data.len(),
                "DecoderSpecificInfo longer than the esds"
            );
            let _ = aac::AudioSpecificConfig::parse(dsi);
        }
    }
    if let Ok(h) = aac::AdtsHeader::parse(data) {
        assert!(
            h.frame_length >= u16::from(h.header_len),
            "ADTS frame shorter than header"
        );
        let asc = h.to_audio_specific_config();
        let parsed = aac::AudioSpecificConfig::parse(&asc.raw)
            .unwrap_or_else(|e| panic!("ASC made from an ADTS header does not parse: {e}"));
        assert_eq!(parsed.object_type, asc.object_type, "ADTS->ASC object type");
        assert_eq!(
            parsed.sampling_frequency_index, asc.sampling_frequency_index,
            "ADTS->ASC frequency index"
        );
        assert_eq!(
            parsed.channel_configuration, asc.channel_configuration,
            "ADTS->ASC channels"
        );
    }
}

/// Splits a `stitch_e2e` input: the first two bytes (big-endian) give the length of the first file,
/// the rest of the input after it is the second file.
pub fn split_input(data: &[u8]) -> Option<(&[u8], &[u8])> {
    let head = data.get(..2)?;
    let rest = &data[2..];
    let at = usize::from(u16::from_be_bytes([head[0], head[1]])).min(rest.len());
    Some(rest.split_at(at))
}

/// The limits `stitch_e2e` stitches with: the defaults, except at most 100,000 generated (silent)
/// samples per track. The default (4.5 million, about 26 hours of audio) is right for real
/// recordings but would let every few-byte input that claims a day of gap build and then re-read
/// a 200 MB plan, far slower than a fuzz iteration should be and over the 512 MB RSS limit.
pub fn stitch_limits() -> Limits {
    Limits {
        max_generated_samples: 100_000,
        ..Limits::default()
    }
}

/// The bytes a demuxed input's sample offsets point into. For MP4, FLV and ADTS that is the file.
/// A transport stream's samples are offsets in a *converted view* (`seam::demux::ts::TsView`): its
/// selected access units (first H.264/H.265 stream, first AAC stream, each with a PTS) converted to
/// MP4 sample form back to back, in the order the demuxer completes them. This rebuilds that view
/// independently of `TsView` (one push of the whole input, pieces sliced straight from it, no
/// chunks, window or second pass), so a stitched sample's bytes are checked against the
/// converted access unit itself. (The conversions are `codec::framing`'s, whose round trips the
/// `framing` target checks.) The order of the sniffing is `demux::open_all_with`'s.
fn sample_bytes<'a>(name: &str, data: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
    use seam::codec::framing::{
        adts_to_raw, annexb_to_length_prefixed, length_prefixed_size, scan_annexb, Mp4Nals,
        NalCodec,
    };
    use seam::demux::ts::StreamType;
    let head = &data[..data.len().min(16)];
    let src = MemSource::new(name.to_string(), data.to_vec());
    if seam::demux::mp4::sniff(head) || seam::demux::flv::sniff(head) || !ts::sniff(&src) {
        return std::borrow::Cow::Borrowed(data);
    }
    let (events, _) = ts::demux_all(name, data, &TsLimits::default());
    let (mut video, mut audio): (Option<(u16, NalCodec)>, Option<u16>) = (None, None);
    let mut view = Vec::new();
    let mut au_bytes = Vec::new();
    for ev in events {
        match ev {
            Event::Stream {
                pid, stream_type, ..
            } => match stream_type {
                StreamType::H264 if video.is_none() => video = Some((pid, NalCodec::H264)),
                StreamType::H265 if video.is_none() => video = Some((pid, NalCodec::H265)),
                StreamType::AacAdts if audio.is_none() => audio = Some(pid),
                _ => {}
            },
            Event::AccessUnit(au) if au.pts.is_some() => {
                au_bytes.clear();
                for p in &au.pieces {
                    au_bytes.extend_from_slice(&data[p.start as usize..p.end as usize]);
                }
                match video {
                    Some((pid, codec)) if pid == au.pid => {
                        let opts = Mp4Nals {
                            codec,
                            length_size: 4,
                            drop_aud_filler: true,
                        };
                        let Ok(layout) = scan_annexb(&au_bytes) else {
                            continue;
                        };
                        if length_prefixed_size(&layout, &opts).is_ok_and(|n| n > 0) {
                            let at = view.len();
                            if annexb_to_length_prefixed(&au_bytes, &layout, &opts, &mut view)
                                .is_err()
                            {
                                view.truncate(at);
                            }
                        }
                        continue;
                    }
                    _ => {}
                }
                if audio == Some(au.pid) {
                    if let Ok((_, raw)) = adts_to_raw(&au_bytes) {
                        view.extend_from_slice(raw);
                    }
                }
            }
            _ => {}
        }
    }
    std::borrow::Cow::Owned(view)
}

/// `stitch_e2e`: stitches two inputs in memory, progressive (strict) and fragmented (with
/// `best_effort` salvage). When seam succeeds, its own demuxer must read the output back, with the
/// plan's tracks, `report.samples` samples, strictly increasing decode times per track, and every
/// output sample's bytes equal to the plan's payload (bytes copied from an input or generated).
pub fn stitch_e2e(data: &[u8]) {
    let Some((a, b)) = split_input(data) else {
        return;
    };
    let sources = || vec![source("one.mp4", a), source("two.mp4", b)];
    let limits = stitch_limits();
    // What a plan input's sample offsets index, by the input's name: the file itself (MP4, FLV,
    // ADTS), or for a transport stream the converted access units back to back, rebuilt here
    // without the muxer's view. The second file alone is also listed: when it is a continuation
    // but the first file is skipped (best_effort), it is read on its own.
    // Built once, when a stitch first succeeds (most fuzz inputs never get there).
    let mut joined = a.to_vec();
    joined.extend_from_slice(b);
    let inputs_cell = std::cell::OnceCell::new();
    let sample_inputs = || {
        inputs_cell.get_or_init(|| {
            [
                ("one.mp4", a),
                ("two.mp4", b),
                ("one.mp4 + two.mp4", &joined[..]),
            ]
            .into_iter()
            .map(|(name, data)| (name.to_string(), sample_bytes(name, data)))
            .collect::<std::collections::HashMap<_, _>>()
        })
    };
    for (fragmented, best_effort) in [(false, false), (true, true)] {
        let opts = StitchOptions {
            fragmented,
            best_effort,
            limits: limits.clone(),
            ..StitchOptions::default()
        };
        // The plan stitch_sources will write, made separately so the output can be checked
        // against it.
        let plan = seam::api::plan_sources(sources(), &opts);
        let result = seam::stitch_sources(sources(), &opts);
        let plan = match (&plan, &result) {
            (Ok(p), Ok(_)) => p,
            (Err(_), Err(_)) => continue,
            (Ok(_), Err(e)) => panic!("planning succeeds but stitching fails: {e}"),
            (Err(e), Ok(_)) => panic!("stitch succeeded although planning fails: {e}"),
        };
        // The planner starts every output track at decode time 0 (a fragmented output once wrote
        // -2 into tfdt as 2^64 - 2: tests/regressions/stitch_e2e/fragmented-negative-tfdt).
        for (ti, t) in plan.tracks.iter().enumerate() {
            if let Some(s) = t.samples.iter().find(|s| s.dts < 0) {
                panic!("plan track {ti}: negative decode time {}", s.dts);
            }
        }
        let (out, report) = result.unwrap();
        let inputs = sample_inputs();
        let mode = if fragmented {
            "fragmented"
        } else {
            "progressive"
        };
        assert_eq!(report.bytes, out.len() as u64, "{mode}: report.bytes");
        let m = seam::demux::open(source("out.mp4", &out), &limits)
            .unwrap_or_else(|e| panic!("{mode}: seam cannot read its own output: {e}"));
        let want = if fragmented {
            ContainerFormat::FragmentedMp4
        } else {
            ContainerFormat::Mp4
        };
        assert_eq!(m.format, want, "{mode}: output container");
        assert_eq!(
            m.tracks.len(),
            plan.tracks.len(),
            "{mode}: output track count"
        );
        let total: u64 = m.tracks.iter().map(|t| t.samples.len() as u64).sum();
        assert_eq!(
            total, report.samples,
            "{mode}: output samples vs report.samples"
        );
        for (ti, (t, p)) in m.tracks.iter().zip(&plan.tracks).enumerate() {
            assert_eq!(
                t.samples.len(),
                p.samples.len(),
                "{mode}: track {ti} sample count"
            );
            assert_eq!(t.timescale, p.timescale, "{mode}: track {ti} timescale");
            // Always: the planner squeezes repeated video decode times and gives audio frames
            // at least one tick (was a weakness: tests/regressions/stitch_e2e/
            // audio-zero-frame-duplicate-dts).
            let v: Vec<_> = t.samples.iter().collect();
            for w in v.windows(2) {
                assert!(
                    w[1].dts > w[0].dts,
                    "{mode}: track {ti}: dts {} then {} is not strictly increasing",
                    w[0].dts,
                    w[1].dts
                );
            }
            for (si, (s, q)) in t.samples.iter().zip(p.samples.iter()).enumerate() {
                assert_eq!(s.size, q.size, "{mode}: track {ti} sample {si} size");
                assert_eq!(
                    s.duration, q.duration,
                    "{mode}: track {ti} sample {si} duration"
                );
                assert_eq!(s.sync, q.sync, "{mode}: track {ti} sample {si} sync");
                assert_eq!(
                    s.cts_offset, q.cts_offset,
                    "{mode}: track {ti} sample {si} cts"
                );
                let got = &out[s.offset as usize..][..s.size as usize];
                let spliced: Vec<u8>;
                let expected: &[u8] = match q.payload {
                    Payload::Input { input, offset } => {
                        // By name: with best_effort an unreadable input is skipped, so plan
                        // input 0 may be the second file.
                        let name = plan
                            .inputs
                            .get(input as usize)
                            .map(|s| s.name().to_string())
                            .unwrap_or_default();
                        let bytes = inputs.get(&name).unwrap_or_else(|| {
                            panic!("{mode}: plan input {input} ({name:?}) is neither file")
                        });
                        let end = offset.checked_add(u64::from(q.size));
                        if end.is_some_and(|e| e > bytes.len() as u64) {
                            // Past the file: bytes seam made (a re-encoded track's access units
                            // are appended to its input's source), read through the plan's source.
                            let src = &plan.inputs[input as usize];
                            assert!(
                                end.is_some_and(|e| e <= src.len()),
                                "{mode}: track {ti} sample {si}: {offset}+{} outside input \
                                 {name:?} ({} bytes, {} with what seam made)",
                                q.size,
                                bytes.len(),
                                src.len()
                            );
                            let mut made = vec![0u8; q.size as usize];
                            src.read_at(offset, &mut made)
                                .expect("read re-encoded bytes");
                            spliced = made;
                            &spliced
                        } else {
                            &bytes[offset as usize..][..q.size as usize]
                        }
                    }
                    Payload::Generated(g) => &plan.generated[g as usize],
                    // Parameter sets inserted into a keyframe (`--parameter-sets inband`): the
                    // input's bytes around the generated ones.
                    Payload::Spliced {
                        input,
                        offset,
                        generated,
                        at,
                    } => {
                        let name = plan
                            .inputs
                            .get(input as usize)
                            .map(|s| s.name().to_string())
                            .unwrap_or_default();
                        let bytes = inputs.get(&name).unwrap_or_else(|| {
                            panic!("{mode}: plan input {input} ({name:?}) is neither file")
                        });
                        let ins = &plan.generated[generated as usize];
                        let own = q.size as usize - ins.len();
                        let from = &bytes[offset as usize..][..own];
                        spliced = [&from[..at as usize], &ins[..], &from[at as usize..]].concat();
                        &spliced
                    }
                };
                assert!(
                    got == expected,
                    "{mode}: track {ti} sample {si}: bytes differ"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// FLV, M3U8 and codec framing (issue 7 building blocks).

/// Display name of a fuzzed FLV input.
pub const FLV_NAME: &str = "fuzz.flv";

fn flv_open(data: &[u8]) -> Result<seam::demux::flv::FlvMedia, DemuxError> {
    let src = MemSource::new(FLV_NAME.to_string(), data.to_vec());
    seam::demux::flv::open(&src, &Limits::default())
}

fn flv_tracks(m: &seam::demux::flv::FlvMedia) -> [(Vec<seam::demux::flv::FlvSample>, usize); 2] {
    [
        m.video
            .as_ref()
            .map_or((Vec::new(), 0), |t| (t.samples.clone(), t.configs.len())),
        m.audio
            .as_ref()
            .map_or((Vec::new(), 0), |t| (t.samples.clone(), t.configs.len())),
    ]
}

/// `flv_demux`: demuxing is deterministic; errors are located (`fuzz.flv: tag[N] ... at byte`) and
/// never `Io` for bytes in memory; every sample is a non-empty range inside the input naming an
/// existing configuration; the input cut anywhere demuxes too, to a prefix of every track's
/// samples (a cut only drops the tag it falls in, with a warning).
pub fn flv_demux(data: &[u8]) {
    let first = flv_open(data);
    let second = flv_open(data);
    match (&first, &second) {
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "nondeterministic error"),
        // Compared as debug text: an `onMetaData` number may be NaN (fuzz finding
        // tests/regressions/flv_demux/metadata-nan), and NaN != NaN although both reads agree.
        (Ok(a), Ok(b)) => assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "nondeterministic result"
        ),
        _ => panic!("nondeterministic: {first:?} vs {second:?}"),
    }
    let m = match first {
        Err(e) => {
            check_error(FLV_NAME, &e);
            return;
        }
        Ok(m) => m,
    };
    let len = data.len() as u64;
    assert!(m.end <= len, "end {} past the {len}-byte input", m.end);
    for (samples, configs) in flv_tracks(&m) {
        for (i, s) in samples.iter().enumerate() {
            assert!(s.size > 0, "sample {i}: empty");
            assert!(
                s.offset
                    .checked_add(u64::from(s.size))
                    .is_some_and(|e| e <= len),
                "sample {i}: {}+{} outside the {len}-byte input",
                s.offset,
                s.size
            );
            assert!(
                usize::from(s.config) < configs,
                "sample {i}: config {}",
                s.config
            );
            let _ = s.pts();
        }
    }
    let cut = data.len() / 2;
    if cut < m.header.data_offset as usize {
        return; // a cut inside the header is an error, rightly
    }
    let c = flv_open(&data[..cut]).unwrap_or_else(|e| panic!("cut at {cut} fails: {e}"));
    for ((full, _), (part, _)) in flv_tracks(&m).iter().zip(flv_tracks(&c).iter()) {
        assert!(
            part.len() <= full.len() && full[..part.len()] == part[..],
            "cut at {cut}: samples are not a prefix"
        );
    }
}

/// `m3u8`: parsing (the input as UTF-8, lossily) is deterministic and never panics; a media
/// playlist's segments are numbered consecutively, their byte ranges do not overflow and name
/// existing maps; a master playlist's variants are sorted by bandwidth; resolving any URI against a
/// missing folder fails (a URL is always refused, never followed).
pub fn m3u8(data: &[u8]) {
    use seam::demux::hls::playlist::{self, Playlist, PlaylistError, ResolveOptions};
    let text = String::from_utf8_lossy(data);
    let limits = Limits {
        max_playlist_entries: 1000,
        ..Limits::default()
    };
    let a = playlist::parse("fuzz.m3u8", &text, &limits);
    let b = playlist::parse("fuzz.m3u8", &text, &limits);
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "nondeterministic");
    let p = match a {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with("fuzz.m3u8: line "),
                "unlocated error: {msg}"
            );
            let _ = DemuxError::from(e);
            return;
        }
        Ok(p) => p,
    };
    let uris: Vec<String> = match &p {
        Playlist::Media(m) => {
            assert!(m.segments.len() + m.maps.len() <= 1000, "entry limit");
            for (i, s) in m.segments.iter().enumerate() {
                assert_eq!(
                    Some(s.sequence),
                    m.media_sequence.checked_add(i as u64),
                    "segment {i}: sequence"
                );
                if let Some(r) = s.byte_range {
                    assert!(r.offset.checked_add(r.len).is_some(), "segment {i}: range");
                }
                assert!(s.map.is_none_or(|k| k < m.maps.len()), "segment {i}: map");
                let _ = (
                    s.duration.nanos(),
                    s.duration.millis(),
                    s.duration.to_string(),
                );
            }
            let _ = m.duration_nanos();
            m.segments.iter().map(|s| s.uri.clone()).collect()
        }
        Playlist::Master(m) => {
            assert!(
                m.variants
                    .windows(2)
                    .all(|w| w[0].bandwidth <= w[1].bandwidth),
                "variants not sorted"
            );
            m.variants.iter().map(|v| v.uri.clone()).collect()
        }
    };
    let dir = std::path::Path::new("/nonexistent-seam-fuzz-dir");
    for uri in uris.iter().take(20) {
        let r = playlist::resolve_uri("fuzz.m3u8", 1, dir, uri, &ResolveOptions::default());
        match r {
            Ok(p) => panic!("{uri:?} resolved to {} in a missing folder", p.display()),
            Err(PlaylistError::Refused { .. }) => {}
            Err(e) => assert!(!playlist::is_url(uri), "URL {uri:?} not refused: {e}"),
        }
    }
}

/// `framing`: every conversion's size is predicted exactly before writing and conversions round
/// trip: Annex B → length-prefixed → Annex B gives the input back byte for byte (or without its
/// AUD/filler units when they are dropped); length-prefixed → Annex B → length-prefixed gives the
/// sample back; ADTS frames without CRC come back from raw + template; configs built from in-band
/// parameter sets (avcC, hvcC) encode and parse back equal.
pub fn framing(data: &[u8]) {
    use seam::codec::framing::*;
    if let Ok(layout) = scan_annexb(data) {
        assert_eq!(annexb_layout_size(&layout), data.len(), "layout size");
        for codec in [NalCodec::H264, NalCodec::H265] {
            for length_size in [1u8, 2, 4] {
                for drop_aud_filler in [false, true] {
                    let opts = Mp4Nals {
                        codec,
                        length_size,
                        drop_aud_filler,
                    };
                    let Ok(size) = length_prefixed_size(&layout, &opts) else {
                        assert!(
                            annexb_to_length_prefixed(data, &layout, &opts, &mut Vec::new())
                                .is_err()
                        );
                        continue;
                    };
                    let mut lp = Vec::new();
                    annexb_to_length_prefixed(data, &layout, &opts, &mut lp).expect("convert");
                    assert_eq!(lp.len(), size, "predicted length-prefixed size");
                    let mut back = Vec::new();
                    annexb_from_layout_without(&lp, &opts, &layout, &mut back).expect("rebuild");
                    let mut want = Vec::new();
                    for u in &layout.units {
                        if !(drop_aud_filler && codec.is_aud_or_filler(codec.nal_type(u.header))) {
                            want.resize(want.len() + u.zeros_before, 0);
                            want.extend_from_slice(&[0, 0, 1]);
                            want.extend_from_slice(&data[u.range.clone()]);
                        }
                    }
                    want.resize(want.len() + layout.trailing_zeros, 0);
                    assert_eq!(back, want, "Annex B round trip");
                    if !drop_aud_filler {
                        assert_eq!(back, data, "exact Annex B round trip");
                    }
                }
            }
        }
        let (sps, pps) = parameter_sets(data, &layout);
        if let Ok(c) = avcc_from_parameter_sets(&sps, &pps, 4) {
            let enc = c.encode();
            assert_eq!(
                h264::AvcDecoderConfig::parse(&enc).ok(),
                Some(c),
                "avcC round trip"
            );
        }
        let of_type = |ty: u8| -> Vec<&[u8]> {
            let h265 = NalCodec::H265;
            let units = layout
                .units
                .iter()
                .filter(|u| h265.nal_type(u.header) == ty);
            units.map(|u| &data[u.range.clone()]).collect()
        };
        if let Ok(c) = hvcc_from_parameter_sets(&of_type(32), &of_type(33), &of_type(34), 4) {
            let enc = encode_hvcc(&c);
            let back = h265::HevcDecoderConfig::parse(&enc).ok();
            assert_eq!(back, Some(c), "hvcC round trip");
        }
    }
    for length_size in [1u8, 2, 4] {
        if let Ok(units) = length_prefixed_units(data, length_size) {
            for codes in [
                StartCodes::Four,
                StartCodes::LongFirst(NalCodec::H264),
                StartCodes::LongFirst(NalCodec::H265),
            ] {
                let mut annexb = Vec::new();
                length_prefixed_to_annexb(data, &units, codes, &mut annexb).expect("to Annex B");
                let predicted = annexb_size(data, &units, codes);
                assert_eq!(annexb.len(), predicted, "predicted Annex B size");
                let layout = scan_annexb(&annexb).expect("Annex B of valid units scans");
                assert_eq!(layout.units.len(), units.len(), "unit count");
                let opts = Mp4Nals {
                    codec: NalCodec::H264,
                    length_size,
                    drop_aud_filler: false,
                };
                let mut lp = Vec::new();
                annexb_to_length_prefixed(&annexb, &layout, &opts, &mut lp).expect("back");
                assert_eq!(lp, data, "length-prefixed round trip");
            }
        }
    }
    if let Ok(frames) = adts_frames(data) {
        for f in &frames {
            let frame = &data[f.frame.clone()];
            let (t, raw) = adts_to_raw(frame).expect("one frame");
            assert_eq!(raw, &data[f.payload.clone()]);
            let mut out = Vec::new();
            t.write(raw, &mut out).expect("write");
            assert_eq!(
                out.len(),
                AdtsTemplate::frame_size(raw.len()).expect("size"),
                "predicted ADTS size"
            );
            if f.header.protection_absent {
                assert_eq!(out, frame, "ADTS round trip");
            }
            let _ = asc_from_adts(&f.header);
        }
    }
}

/// Display name of the transport stream in `ts_demux`; every error must name it.
pub const TS_NAME: &str = "fuzz.ts";

/// Feeds `data` to a [`ts::TsDemuxer`] in chunks cut at `cuts`; every event and the first error.
pub fn ts_demux_chunks(data: &[u8], cuts: &[usize]) -> (Vec<Event>, Result<(), TsError>) {
    ts::demux_chunks(TS_NAME, data, cuts, &TsLimits::default())
}

/// `ts_demux`: the transport stream push parser never panics; pushing the input in one chunk, in
/// two chunks split at a byte derived from the data, or in small chunks of a size derived from the
/// data gives the same events and the same error; every access unit's pieces lie inside the input,
/// in order, non-empty, not touching (adjacent ranges are merged), and add up to its size; every
/// warning and error offset lies inside the input; errors name the file and say `at byte N`.
pub fn ts_demux(data: &[u8]) {
    let whole = ts::demux_all(TS_NAME, data, &TsLimits::default());
    let len = data.len() as u64;
    // A split point from the data (FNV-1a of the first 16 bytes), and a chunk size of 1 to 256.
    let h = data.iter().take(16).fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100000001b3)
    });
    let cut = (h % (len + 1)) as usize;
    let split = ts_demux_chunks(data, &[cut]);
    assert!(split == whole, "split at byte {cut} changes the result");
    let n = 1 + usize::from(data.last().copied().unwrap_or(0));
    let cuts: Vec<usize> = (n..data.len()).step_by(n).collect();
    let chunked = ts_demux_chunks(data, &cuts);
    assert!(chunked == whole, "chunks of {n} bytes change the result");
    let (events, r) = whole;
    if let Err(e) = &r {
        let msg = e.to_string();
        assert!(msg.contains(TS_NAME), "error does not name the file: {msg}");
        assert!(msg.contains("at byte"), "error has no byte offset: {msg}");
        let loc = match e {
            TsError::Malformed { loc, .. }
            | TsError::Unsupported { loc, .. }
            | TsError::LimitExceeded { loc, .. } => loc,
        };
        assert!(
            loc.offset <= len,
            "error offset {} past the end: {msg}",
            loc.offset
        );
    }
    for e in &events {
        match e {
            Event::AccessUnit(au) => {
                assert!(!au.pieces.is_empty(), "access unit without pieces: {au:?}");
                let mut sum = 0u64;
                let mut prev_end: Option<u64> = None;
                for p in &au.pieces {
                    assert!(
                        p.start < p.end && p.end <= len,
                        "piece {p:?} empty or outside the {len}-byte input"
                    );
                    if let Some(e) = prev_end {
                        assert!(
                            e < p.start,
                            "pieces out of order or unmerged: {:?}",
                            au.pieces
                        );
                    }
                    prev_end = Some(p.end);
                    sum += p.end - p.start;
                }
                assert_eq!(sum, au.size, "pieces do not add up to the size");
                assert!(
                    au.offset < len,
                    "access unit offset {} past the end",
                    au.offset
                );
                assert!(
                    !matches!(au.pts, Some(t) if t > ts::TS_MASK),
                    "PTS over 33 bits"
                );
                assert!(
                    !matches!(au.dts, Some(t) if t > ts::TS_MASK),
                    "DTS over 33 bits"
                );
            }
            Event::Warning(w) => {
                assert!(w.offset <= len, "warning offset past the end: {w}");
                let _ = w.to_string();
            }
            Event::Discontinuity { offset, .. } => {
                assert!(*offset < len, "discontinuity offset past the end");
            }
            Event::Stream { .. } => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ADTS (.aac) demuxer: in a file of its own (this one is long enough), relative to this file.

#[path = "checks_adts.rs"]
mod checks_adts;
// Unused by the other fuzz targets, which include this file too.
#[allow(unused_imports)]
pub use checks_adts::adts_demux;

/// `session_inputs`: the text inputs of recording sessions and batch jobs. A recorder's start-time
/// list (`SECONDS PATH [create|close]`), a batch job file and a file-name start time, parsed from
/// the same bytes: never a panic, the same answer twice, every error located (the list's errors
/// name it and a line, the job's name the field), and every start time read exactly (a list line's
/// seconds, parsed alone, give the same instant).
pub fn session_inputs(data: &[u8]) {
    use std::path::Path;
    let text = String::from_utf8_lossy(data);
    let dir = Path::new("/fuzz");
    let a = seam::session::times::parse_start_times(&text, "fuzz.txt", dir);
    let b = seam::session::times::parse_start_times(&text, "fuzz.txt", dir);
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "nondeterministic list");
    match a {
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.contains("fuzz.txt"), "unlocated list error: {msg}");
        }
        Ok((specs, _)) => {
            for s in &specs {
                assert!(
                    s.path.starts_with(dir) || s.path.is_absolute(),
                    "{:?}",
                    s.path
                );
            }
        }
    }
    let defaults = seam::batch::Defaults::default();
    let j1 = seam::batch::job::parse(&text, dir, &defaults);
    let j2 = seam::batch::job::parse(&text, dir, &defaults);
    assert_eq!(format!("{j1:?}"), format!("{j2:?}"), "nondeterministic job");
    for word in text.split_whitespace().take(64) {
        if let Ok(t) = seam::batch::names::parse_start(word) {
            assert!(t.timescale > 0, "{word}: timescale 0");
        }
    }
}
