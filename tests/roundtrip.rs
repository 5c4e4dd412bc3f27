//! What seam writes, seam reads back identically: for every layout (progressive with stco,
//! progressive forced to co64, fragmented), demuxing the output gives, per track, exactly the
//! plan's samples: same bytes, decode times, composition offsets and sync flags.

use std::path::Path;
use std::sync::Arc;

use seam::mux::mp4::{layout_fragmented, layout_progressive, ProgressiveOptions};
use seam::mux::{write_layout, Layout};
use seam::plan::{Payload, StitchPlan};
use seam::source::{MemSource, Source};
use seam::Limits;

const SETS: &[&[&str]] = &[
    &["a.mp4", "b.mp4", "c.mp4"],
    &["a.mp4", "moov_last.mp4", "negcts.mp4", "audio_late.mp4"],
    &["a.mp4", "video_only.mp4", "b.mp4"],
    &["frag.mp4", "frag_noedts.mp4", "a.mp4"],
    &["timecode.mov", "timecode2.mov"],
];

fn plan_of(set: &[&str]) -> StitchPlan {
    let limits = Limits::default();
    let medias: Vec<_> = set
        .iter()
        .map(|f| seam::probe(&Path::new("fixtures").join(f), &limits).expect("probe"))
        .collect();
    seam::plan(&medias).expect("plan")
}

fn payload(plan: &StitchPlan, p: Payload, size: u32) -> Vec<u8> {
    match p {
        Payload::Input { input, offset } => {
            let mut b = vec![0u8; size as usize];
            plan.inputs[input as usize]
                .read_at(offset, &mut b)
                .expect("read input");
            b
        }
        Payload::Generated(g) => plan.generated[g as usize].to_vec(),
        // Parameter sets inserted `at` bytes into the input's sample (`--parameter-sets inband`).
        Payload::Spliced {
            input,
            offset,
            generated,
            at,
        } => {
            let inserted = &plan.generated[generated as usize];
            let own = payload(
                plan,
                Payload::Input { input, offset },
                size - inserted.len() as u32,
            );
            [&own[..at as usize], &inserted[..], &own[at as usize..]].concat()
        }
    }
}

fn check(set: &[&str], plan: &StitchPlan, layout: &Layout, what: &str) {
    let mut out = Vec::new();
    write_layout(plan, layout, &mut out, &mut |_, _| {}).expect("write");
    assert_eq!(out.len() as u64, layout.len(), "{what}: layout length");
    let src = Arc::new(MemSource::new("out.mp4", out));
    let media = seam::probe_source(src.clone(), &Limits::default())
        .unwrap_or_else(|e| panic!("{set:?} {what}: output does not re-parse: {e}"));
    assert_eq!(
        media.tracks.len(),
        plan.tracks.len(),
        "{set:?} {what}: tracks"
    );
    for (k, (got, want)) in media.tracks.iter().zip(&plan.tracks).enumerate() {
        assert_eq!(got.timescale, want.timescale, "{what}: track {k} timescale");
        assert_eq!(got.edits, want.edits, "{set:?} {what}: track {k} edits");
        assert_eq!(
            got.samples.len(),
            want.samples.len(),
            "{what}: track {k} count"
        );
        for (n, (g, w)) in got.samples.iter().zip(&want.samples).enumerate() {
            let ctx = format!("{set:?} {what}: track {k} sample {n}");
            assert_eq!(g.dts, w.dts, "{ctx}: dts");
            assert_eq!(g.duration, w.duration, "{ctx}: duration");
            assert_eq!(g.cts_offset, w.cts_offset, "{ctx}: cts offset");
            assert_eq!(g.sync, w.sync, "{ctx}: sync");
            assert_eq!(g.size, w.size, "{ctx}: size");
            let mut bytes = vec![0u8; g.size as usize];
            src.read_at(g.offset, &mut bytes).expect("read output");
            assert!(
                bytes == payload(plan, w.payload, w.size),
                "{ctx}: bytes differ"
            );
        }
    }
}

#[test]
fn progressive_output_reads_back_identically() {
    for set in SETS {
        let plan = plan_of(set);
        let layout = layout_progressive(&plan, ProgressiveOptions::default()).expect("layout");
        check(set, &plan, &layout, "progressive");
    }
}

#[test]
fn co64_output_reads_back_identically() {
    for set in SETS {
        let plan = plan_of(set);
        let layout =
            layout_progressive(&plan, ProgressiveOptions { force_co64: true }).expect("layout");
        // ftyp, moov and the mdat header: the leading byte slices.
        let head: Vec<u8> = layout
            .slices
            .iter()
            .map_while(|s| match s {
                seam::mux::Slice::Bytes(b) => Some(b.to_vec()),
                _ => None,
            })
            .flatten()
            .collect();
        assert!(
            head.windows(4).any(|w| w == b"co64") && !head.windows(4).any(|w| w == b"stco"),
            "forced co64 layout has no co64 box"
        );
        check(set, &plan, &layout, "co64");
    }
}

#[test]
fn fragmented_output_reads_back_identically() {
    for set in SETS {
        let plan = plan_of(set);
        let layout = layout_fragmented(&plan).expect("layout");
        check(set, &plan, &layout, "fragmented");
    }
}

#[test]
fn copies_are_merged_into_few_runs() {
    // a.mp4 b.mp4 c.mp4 are interleaved A/V files: each input's sample data should be one copy.
    let plan = plan_of(&["a.mp4", "b.mp4", "c.mp4"]);
    let layout = layout_progressive(&plan, ProgressiveOptions::default()).expect("layout");
    assert!(
        layout.input_runs() <= 6,
        "{} copy runs for 3 inputs",
        layout.input_runs()
    );
}

/// A fragmented recording cut from a live stream starts at a large decode time (tfdt) and has no
/// edit list. Its own time zero is where its samples start, so stitching it must give exactly the
/// same output as the same file starting at 0.
#[test]
fn large_tfdt_without_edit_list_stitches_like_zero() {
    let original = std::fs::read("fixtures/frag.mp4").expect("fixture");
    let mut shifted = original.clone();
    // Ten hours into the stream: the same time for every track, in each track's timescale
    // (track 1 is video at 12800 Hz, track 2 audio at 48000 Hz); the tfdt follows its tfhd.
    let mut patched = 0;
    let mut track = 0u32;
    let mut i = 0;
    while i + 20 <= shifted.len() {
        if &shifted[i + 4..i + 8] == b"tfhd" {
            track = u32::from_be_bytes([
                shifted[i + 12],
                shifted[i + 13],
                shifted[i + 14],
                shifted[i + 15],
            ]);
        }
        if &shifted[i + 4..i + 8] == b"tfdt" && shifted[i + 8] == 1 {
            let at = i + 12;
            let mut b = [0u8; 8];
            b.copy_from_slice(&shifted[at..at + 8]);
            let rate: u64 = if track == 1 { 12_800 } else { 48_000 };
            let v = u64::from_be_bytes(b) + 36_000 * rate;
            shifted[at..at + 8].copy_from_slice(&v.to_be_bytes());
            patched += 1;
        }
        i += 1;
    }
    assert!(patched >= 10, "patched {patched} tfdt boxes");
    let a = std::fs::read("fixtures/a.mp4").expect("fixture");
    let stitch = |first: Vec<u8>| {
        let sources: Vec<Arc<dyn Source>> = vec![
            Arc::new(MemSource::new("frag.mp4", first)),
            Arc::new(MemSource::new("a.mp4", a.clone())),
        ];
        seam::stitch_sources(sources, &seam::StitchOptions::default())
            .expect("stitch")
            .0
    };
    let want = stitch(original);
    let got = stitch(shifted);
    assert!(
        got == want,
        "output differs when the input starts at a large tfdt"
    );
}

/// Silence for a span without audio is capped by `Limits::max_generated_samples`.
#[test]
fn generated_silence_is_limited() {
    let limits = Limits {
        max_generated_samples: 10,
        ..Limits::default()
    };
    let medias: Vec<_> = ["a.mp4", "video_only.mp4", "b.mp4"]
        .iter()
        .map(|f| seam::probe(&Path::new("fixtures").join(f), &limits).expect("probe"))
        .collect();
    match seam::api::plan_with(&medias, &limits) {
        Err(seam::Error::Plan(seam::error::PlanError::LimitExceeded { file, .. })) => {
            assert!(file.ends_with("video_only.mp4"), "{file}")
        }
        other => panic!(
            "expected LimitExceeded, got {:?}",
            other.map(|p| p.duration)
        ),
    }
    // The default limit allows the 1.2 s gap (56 frames).
    assert!(seam::plan(&medias).is_ok());
}
