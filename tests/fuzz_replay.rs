//! Replays the fuzz corpora and the saved fuzz findings on the stable toolchain.
//!
//! `cargo test --test fuzz_replay` runs every file of `fuzz/corpus/<target>/`, `fuzz/seeds/` (and
//! `fixtures/` for the MP4 targets) and `tests/regressions/<target>/` through the same property
//! checks the fuzz targets run (`fuzz/checks.rs`, compiled into both), so a corpus file or a fixed
//! crash keeps being tested without nightly or cargo-fuzz. Findings also get a named test below.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use seam::error::PlanError;
use seam::source::{MemSource, Source};
use seam::Limits;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Files directly in `dir`, sorted; none when it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            !name.starts_with('.') && !name.ends_with(".md")
        })
        .collect();
    out.sort();
    out
}

/// The directories whose files are inputs of `target`: its corpus, its seeds, the fixtures (for
/// the MP4 targets) and its saved findings.
fn input_dirs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(ROOT);
    let seeds = match target {
        "mp4_demux" | "mp4_split" => "mp4",
        t => t,
    };
    let mut dirs = vec![
        root.join("fuzz/corpus").join(target),
        root.join("fuzz/seeds").join(seeds),
        root.join("tests/regressions").join(target),
    ];
    if seeds == "mp4" {
        dirs.push(root.join("fixtures"));
    }
    if target == "flv_demux" {
        dirs.push(root.join("fixtures/flv"));
    }
    if target == "ts_demux" {
        dirs.push(root.join("fixtures/ts"));
    }
    dirs
}

/// Runs `check` on every input of `target`; returns how many ran.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let mut n = 0;
    for dir in input_dirs(target) {
        for path in files(&dir) {
            if dir.ends_with("fixtures")
                && !matches!(
                    path.extension().and_then(|e| e.to_str()),
                    Some("mp4" | "mov")
                )
            {
                continue;
            }
            // A fuzzer running meanwhile may replace corpus files; one that vanished is skipped.
            let Ok(data) = std::fs::read(&path) else {
                continue;
            };
            // Printed only when the test fails: names the file that broke the property.
            eprintln!("replaying {}", path.display());
            check(&data);
            n += 1;
        }
    }
    n
}

#[test]
fn mp4_demux() {
    let n = replay("mp4_demux", checks::mp4_demux);
    println!("mp4_demux: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn mp4_split() {
    let n = replay("mp4_split", checks::mp4_split);
    println!("mp4_split: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn h264_config() {
    let n = replay("h264_config", checks::h264_config);
    println!("h264_config: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn aac_config() {
    let n = replay("aac_config", checks::aac_config);
    println!("aac_config: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn ts_demux() {
    let n = replay("ts_demux", checks::ts_demux);
    println!("ts_demux: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn stitch_e2e() {
    let n = replay("stitch_e2e", checks::stitch_e2e);
    println!("stitch_e2e: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn flv_demux() {
    let n = replay("flv_demux", checks::flv_demux);
    println!("flv_demux: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn m3u8() {
    let n = replay("m3u8", checks::m3u8);
    println!("m3u8: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn adts_demux() {
    let n = replay("adts_demux", checks::adts_demux);
    println!("adts_demux: {n} files");
    assert!(n > 0, "empty corpus");
}

#[test]
fn framing() {
    let n = replay("framing", checks::framing);
    println!("framing: {n} files");
    assert!(n > 0, "empty corpus");
}

/// The MP4 corpora also go through the demux check whatever target found them: every file that is
/// an MP4 to one target is an MP4 to the others.
#[test]
fn mp4_split_corpus_through_demux_check() {
    replay("mp4_split", checks::mp4_demux);
}

// ---------------------------------------------------------------------------------------------
// Fuzz findings: the saved input, and the error seam must give for it.
// ---------------------------------------------------------------------------------------------

fn regression(target: &str, name: &str) -> Vec<u8> {
    let path = Path::new(ROOT)
        .join("tests/regressions")
        .join(target)
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The stitch check is only worth something when stitching succeeds: the seeds made from
/// copy-compatible fixtures must stitch, in both output modes.
#[test]
fn compatible_seeds_stitch() {
    for seed in [
        "seed-c+b",
        "seed-c+b-thin",
        "seed-frag+frag_noedts",
        "seed-frag+frag_noedts-thin",
        "seed-a+b-thin",
        "seed-timecode+timecode2-thin",
        // Transport streams and FLV (truncated: a cut drops the access unit or tag it falls
        // in), a TS followed by an FLV, a TS split by bytes (read as one stream), ADTS.
        "seed-b.ts+b.ts",
        "seed-c.flv+c.flv",
        "seed-b.ts+c.flv",
        "seed-cut_1.ts+cut_2.ts",
        "seed-sine.aac+sine.aac",
    ] {
        let data = std::fs::read(Path::new(ROOT).join("fuzz/seeds/stitch_e2e").join(seed)).unwrap();
        let (a, b) = checks::split_input(&data).unwrap();
        for fragmented in [false, true] {
            let sources: Vec<Arc<dyn Source>> = vec![
                Arc::new(MemSource::new("one.mp4", a.to_vec())),
                Arc::new(MemSource::new("two.mp4", b.to_vec())),
            ];
            let opts = seam::StitchOptions {
                fragmented,
                ..Default::default()
            };
            let (out, report) = seam::stitch_sources(sources, &opts)
                .unwrap_or_else(|e| panic!("{seed} (fragmented: {fragmented}): {e}"));
            assert!(report.samples > 0 && !out.is_empty(), "{seed}");
        }
    }
}

/// Demuxes the two files of a saved `stitch_e2e` input and plans them with `limits`.
fn plan_regression(
    file: &str,
    best_effort: bool,
    limits: &Limits,
) -> Result<seam::plan::StitchPlan, seam::Error> {
    let data = regression("stitch_e2e", file);
    let (a, b) = checks::split_input(&data).unwrap();
    let mut medias = Vec::new();
    for (name, d) in [("one.mp4", a), ("two.mp4", b)] {
        let src: Arc<dyn Source> = Arc::new(MemSource::new(name, d.to_vec()));
        let mut m = seam::demux::open_with(src, limits, best_effort)?.0;
        if best_effort {
            seam::plan::close_jumps(&mut m);
        }
        medias.push(m);
    }
    seam::api::plan_with(&medias, limits)
}

fn generated(plan: &seam::plan::StitchPlan) -> usize {
    plan.tracks
        .iter()
        .flat_map(|t| t.samples.iter())
        .filter(|s| matches!(s.payload, seam::plan::Payload::Generated(_)))
        .count()
}

// FOUND BY THE FUZZER, FIXED BY THE LEAD (fb036f0, Limits::max_generated_samples): the planner
// appended one silent OutSample per audio frame for any gap between the audio cursor and the next
// packet, with no bound. Audio packets whose durations claim days (trun sample_duration
// 0xFFFFFFFF, three of them in the 9 KB `plan-silence-fill-strict`, a valid file) made
// `seam::plan` build 12.6 million silent samples (about 1 GB); the fuzzer's input (13 KB, found
// with best_effort) made 4.9 million and hit the 512 MB RSS limit:
//   ==ERROR: libFuzzer: out-of-memory (used: 810Mb; limit: 512Mb)
//   402653184 byte(s) in 1 allocation(s): RawVec<seam::plan::OutSample>::grow_one
//     <- seam::plan::timeline::Filler::fill  src/plan/timeline.rs:749
//     <- place_audio                          src/plan/timeline.rs:616
//     <- seam::plan::timeline::build          src/plan/timeline.rs:319
// Then: PlanError::LimitExceeded beyond Limits::max_generated_samples (default 4.5 million).
// Now the claimed gap lies past the input's window (its video span), so those packets are cut
// as the input's tail and nothing is generated; a jump inside the input is refused as damaged.
fn assert_no_unbounded_silence(r: Result<seam::plan::StitchPlan, seam::Error>, file: &str) {
    match r {
        Err(seam::Error::Plan(
            PlanError::LimitExceeded { .. } | PlanError::TimestampJump { .. },
        )) => {}
        Err(e) => panic!("{file}: expected a limit or a timestamp jump, got {e}"),
        Ok(p) => {
            let n = generated(&p);
            assert!(n < 1000, "{file}: planned {n} generated samples");
        }
    }
}

#[test]
fn silence_for_a_claimed_74_hour_gap_is_refused() {
    let file = "plan-silence-fill-strict";
    assert_no_unbounded_silence(plan_regression(file, false, &Limits::default()), file);
}

#[test]
fn silence_for_the_fuzzers_gap_is_refused() {
    let file = "oom-plan-silence-fill-best-effort";
    assert_no_unbounded_silence(plan_regression(file, true, &Limits::default()), file);
}

/// The third input reached the same code through the "input without audio" path: its second file
/// has video only (its audio was salvaged away) and a video sample whose composition offset
/// (134,217,736 ticks) made its span 2.9 hours, which the planner filled with 491,636 silent
/// frames. A composition offset larger than the track's whole duration (8,192 ticks here) is now
/// `Malformed` (docs/ERRORS.md, "Damaged timing"): the demuxer refuses the file at that trun
/// field, before any planning.
#[test]
fn composition_offset_beyond_the_track_is_refused_before_planning() {
    let file = "oom-plan-silence-fill-no-audio-span";
    match plan_regression(file, true, &Limits::default()) {
        Err(seam::Error::Demux(seam::error::DemuxError::Malformed { loc, rule })) => {
            assert_eq!(loc.file, "two.mp4", "{rule}");
            assert!(loc.path.contains("trun"), "{} {rule}", loc.path);
            assert!(rule.contains("composition offset"), "{rule}");
        }
        Err(e) => panic!("{file}: expected Malformed, got {e}"),
        Ok(p) => panic!("{file}: planned {} generated samples", generated(&p)),
    }
}

// FOUND BY THE FUZZER, FIXED BY THE LEAD (27c43b4, "every output track starts at DTS 0"): with
// audio_late.mp4 (empty edit 278 ms before its audio) as the first input and a video mdhd timescale
// of 13056 (so the movie timescale is 13056), the planner started the output audio at decode time
// -2 and `layout_fragmented` wrote `tfdt` with `w.u64(s[0].dts as u64)` (fragmented.rs:224):
// baseMediaDecodeTime 18446744073709551614, which seam's own demuxer refused:
//   fragmented: seam cannot read its own output: out.mp4: moof[0]/traf[1]/tfdt at byte 1660:
//   baseMediaDecodeTime 18446744073709551614 is too large
// The inputs are valid. (fragmented.rs:224 still casts without a check; the plan now guarantees
// decode times >= 0, which the fuzz check asserts.)
#[test]
fn fragmented_output_of_negative_audio_start_is_readable() {
    let data = regression("stitch_e2e", "fragmented-negative-tfdt");
    let (a, b) = checks::split_input(&data).unwrap();
    let sources: Vec<Arc<dyn Source>> = vec![
        Arc::new(MemSource::new("one.mp4", a.to_vec())),
        Arc::new(MemSource::new("two.mp4", b.to_vec())),
    ];
    let opts = seam::StitchOptions {
        fragmented: true,
        ..Default::default()
    };
    let (out, _) = seam::stitch_sources(sources, &opts).expect("valid inputs stitch");
    let src: Arc<dyn Source> = Arc::new(MemSource::new("out.mp4", out));
    if let Err(e) = seam::demux::open(src, &Limits::default()) {
        panic!("seam cannot read its own fragmented output: {e}");
    }
}

// Fixed (an audio frame is at least one tick); was a weakness in src/plan: the first input's audio track (fragmented,
// salvaged with best_effort) has 45 of its 95 packets with duration 0 and a sample entry that is
// not AAC, so `silence_frame_duration` falls back to the median of the first 64 packet durations:
// 0. `place_audio` then advances its cursor by 0 per packet, and the output puts 22 packets at
// decode time 23296 and 21 more at 46848 (durations 0):
//   fragmented: track 1: dts 23296 then 23296 is not strictly increasing
// The input's own decode times already repeat, so the fuzz check only asserts strictly
// increasing output decode times when the inputs' increase; this test states what would be
// better: an audio frame of at least one tick (or an error), hence increasing output times.
#[test]
fn planned_audio_times_increase_with_zero_duration_packets() {
    let data = regression("stitch_e2e", "audio-zero-frame-duplicate-dts");
    let (a, b) = checks::split_input(&data).unwrap();
    let mut medias = Vec::new();
    for (name, d) in [("one.mp4", a), ("two.mp4", b)] {
        let src: Arc<dyn Source> = Arc::new(MemSource::new(name, d.to_vec()));
        medias.push(
            seam::demux::open_with(src, &Limits::default(), true)
                .unwrap()
                .0,
        );
    }
    let plan = seam::plan(&medias).expect("plans");
    for t in &plan.tracks {
        let v: Vec<_> = t.samples.iter().collect();
        for (i, w) in v.windows(2).enumerate() {
            assert!(
                w[1].dts > w[0].dts,
                "{:?} sample {i}: dts {} then {}",
                t.kind,
                w[0].dts,
                w[1].dts
            );
        }
    }
}

// Found by stitch_e2e (fragmented, best effort): the first input's first seven video samples
// share decode time 0 with composition offsets up to 2048. Squeezed a tick apart they made a
// 7-tick track with composition offsets of 2047, which seam's own demuxer then refused. Now such a
// stall is damage (plan/damage.rs): refused with its location, or with best effort the samples get
// the track's usual duration, and the output re-parses.
#[test]
fn video_samples_sharing_one_decode_time_are_a_stall() {
    let data = regression("stitch_e2e", "zero-duration-video-squeezed");
    checks::stitch_e2e(&data);
    let (a, _) = checks::split_input(&data).unwrap();
    let sources: Vec<Arc<dyn Source>> = vec![Arc::new(MemSource::new("one.mp4", a.to_vec()))];
    match seam::stitch_sources(sources, &seam::StitchOptions::default()) {
        Ok(_) => {}
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("share one decode time") || !e.contains("composition offset"),
                "{e}"
            );
        }
    }
}

// Found by stitch_e2e (from the cut_1.ts+cut_2.ts seed): the audio repeats one PTS (a jump
// backwards) where the video jumps elsewhere. Video part k was paired with audio part k, so a part
// held video at 3.36 s with audio at 2.08 s, and the output's audio edit presented under half its
// media, which seam's demuxer refused. Audio runs now go to the video part they overlap in time.
#[test]
fn ts_audio_runs_pair_with_video_by_time() {
    for name in [
        "ts-parts-audio-edit-shorter-than-media",
        "ts-parts-audio-edit-progressive",
    ] {
        checks::stitch_e2e(&regression("stitch_e2e", name));
    }
}

#[test]
fn length_prefixed_unit_holding_a_start_code_is_refused() {
    use seam::codec::framing::length_prefixed_units;
    let data = regression("framing", "length-prefixed-unit-holding-a-start-code");
    // With 1-byte lengths it is one 16-byte unit holding `00 00 00 01`: refused.
    assert!(length_prefixed_units(&data, 1).is_err());
    for length_size in [1u8, 2, 4] {
        if let Ok(units) = length_prefixed_units(&data, length_size) {
            for u in units {
                let unit = &data[u];
                assert!(
                    !unit.windows(3).any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 2),
                    "length size {length_size}: a unit Annex B cannot carry was accepted"
                );
            }
        }
    }
    checks::framing(&data);
}

#[test]
fn hvcc_of_bit_depth_16_is_refused() {
    use seam::codec::framing::{hvcc_from_parameter_sets, scan_annexb, NalCodec};
    use seam::error::CodecError;
    let data = regression("framing", "hvcc-sps-bit-depth-above-15");
    let layout = scan_annexb(&data).expect("an Annex B buffer");
    let of_type = |ty: u8| -> Vec<&[u8]> {
        let units = layout.units.iter();
        let units = units.filter(|u| NalCodec::H265.nal_type(u.header) == ty);
        units.map(|u| &data[u.range.clone()]).collect()
    };
    let r = hvcc_from_parameter_sets(&of_type(32), &of_type(33), &of_type(34), 4);
    assert!(
        matches!(&r, Err(CodecError::Unsupported { what, .. }) if what.contains("bit depth")),
        "{r:?}"
    );
    checks::framing(&data);
}

/// A small generated corpus for `ts_demux` (no cargo-fuzz needed): every seed with bytes flipped,
/// inserted or deleted at pseudo-random places, judged by the same check.
#[test]
fn ts_demux_mutations() {
    let rounds: usize = std::env::var("SEAM_TS_MUTATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40);
    let mut seed = 0x5eed_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let mut n = 0;
    for path in files(&Path::new(ROOT).join("fuzz/seeds/ts_demux")) {
        let base = std::fs::read(&path).unwrap();
        for _ in 0..rounds {
            let mut d = base.clone();
            for _ in 0..1 + next() % 8 {
                let at = next() % d.len().max(1);
                match next() % 4 {
                    0 if !d.is_empty() => d[at] ^= 1 << (next() % 8),
                    1 if !d.is_empty() => d[at] = [0x47, 0x00, 0xff, 0x01][next() % 4],
                    2 => d.insert(at.min(d.len()), next() as u8),
                    _ if !d.is_empty() => {
                        let end = (at + next() % 400).min(d.len());
                        d.drain(at..end);
                    }
                    _ => {}
                }
            }
            checks::ts_demux(&d);
            n += 1;
        }
    }
    println!("ts_demux_mutations: {n} inputs");
    assert!(n > 0);
}

// FOUND BY THE FUZZER (stitch_e2e, this session's planner): the first input's audio track is not
// audio (a damaged handler) and the second input's AAC entry has no silence generator, so the
// audio track could not start with silence. The planner left the first packet 2.98 s into the
// media and raised every composition offset by 143,032 ticks to present it there, an output that
// seam's own demuxer refuses ("composition offset 143032 ... larger than the track's whole
// duration"). Now the audio edit list starts with an empty edit and audio has no offsets.
#[test]
fn audio_that_cannot_start_with_silence_starts_with_an_empty_edit() {
    let file = "audio-late-start-without-silence";
    let plan = plan_regression(file, false, &Limits::default()).expect("plans");
    let audio = plan
        .tracks
        .iter()
        .find(|t| t.kind == seam::model::TrackKind::Audio)
        .expect("an audio track");
    assert!(audio.samples.iter().all(|s| s.cts_offset == 0));
    assert!(audio.edits.first().is_some_and(|e| e.is_empty()));
    checks::stitch_e2e(&regression("stitch_e2e", file));
}

// FOUND BY THE FUZZER (stitch_e2e, this session's planner): a track of another kind (a damaged
// audio handler) runs 252 s past its input's 2.98 s window (a decode-time jump under the
// best-effort threshold). Its presentation was clipped to the window but every sample was kept,
// so seam's own demuxer refused the output ("edit list presents 2.980 s of track 2 but its media
// lasts 252.734 s"). Now samples presented only after the window end (a decode-order suffix) are
// left out and counted as the input's dropped tail.
#[test]
fn track_outlasting_its_window_is_cut_at_the_window() {
    let file = "other-track-outlasting-the-window";
    // As `stitch_e2e` runs it: best effort, which skips the second file (unreadable).
    let data = regression("stitch_e2e", file);
    let (a, b) = checks::split_input(&data).expect("two inputs");
    let sources: Vec<Arc<dyn Source>> = vec![
        Arc::new(MemSource::new("one.mp4", a.to_vec())),
        Arc::new(MemSource::new("two.mp4", b.to_vec())),
    ];
    let options = seam::StitchOptions {
        best_effort: true,
        limits: checks::stitch_limits(),
        ..seam::StitchOptions::default()
    };
    let plan = seam::api::plan_sources(sources, &options).expect("plans");
    let other = plan
        .tracks
        .iter()
        .position(|t| t.kind == seam::model::TrackKind::Other)
        .expect("the other track");
    let t = &plan.tracks[other];
    assert!(t.samples.len() < 73, "{} samples kept", t.samples.len());
    let dropped: u32 = plan
        .joins
        .iter()
        .flat_map(|j| &j.tracks)
        .filter(|j| j.track == other + 1)
        .map(|j| j.dropped_tail)
        .sum();
    assert_eq!(dropped as usize, 73 - t.samples.len());
    checks::stitch_e2e(&regression("stitch_e2e", file));
}

// FOUND BY THE FUZZER (stitch_e2e, 29 November 2026, after TS/FLV/ADTS seeds were added): an FLV
// video tag whose CompositionTime says 458,912 ms, in a 640 ms track. The FLV demuxer kept it; the
// fragmented output's trun carried it, and seam's MP4 demuxer refused its own output ("composition
// offset ... larger than the track's whole duration"). FLV tracks now get the MP4 demuxer's
// composition rules (`demux::mp4::check_composition`): the input is `Malformed`, located at the
// tag's sample bytes.
#[test]
fn flv_composition_offset_beyond_the_track_is_refused() {
    let data = regression("stitch_e2e", "flv-composition-offset-beyond-track");
    let (a, _) = checks::split_input(&data).unwrap();
    let src: Arc<dyn Source> = Arc::new(MemSource::new("one.flv", a.to_vec()));
    match seam::demux::open(src, &Limits::default()) {
        Err(seam::error::DemuxError::Malformed { loc, rule }) => {
            assert_eq!(loc.file, "one.flv", "{rule}");
            assert_eq!(loc.path, "track 1 sample 14", "{rule}");
            assert_eq!(loc.offset, 24556, "{rule}");
            assert!(rule.contains("composition offset 458912"), "{rule}");
        }
        Err(e) => panic!("expected Malformed, got {e}"),
        Ok(m) => panic!("demuxed {} tracks", m.tracks.len()),
    }
    checks::stitch_e2e(&data);
}

// FOUND BY THE FUZZER (flv_demux, 29 November 2026): an `onMetaData` number that is NaN
// (`videodatarate`). Both reads of the file agreed, but `FlvMedia`'s `==` is false for NaN, so the
// determinism check failed. The check now compares the results' debug text; NaN metadata is kept
// as read (seam only copies samples).
#[test]
fn flv_metadata_nan_is_deterministic() {
    let data = regression("flv_demux", "metadata-nan");
    let src = MemSource::new("fuzz.flv", data.clone());
    let m = seam::demux::flv::open(&src, &Limits::default()).unwrap();
    assert!(m
        .metadata
        .iter()
        .any(|(k, v)| k == "videodatarate" && format!("{v:?}") == "Number(NaN)"));
    checks::flv_demux(&data);
}

// FOUND BY THE FUZZER (stitch_e2e, 29 November 2026): a transport stream whose third video access
// unit has a PTS 2^30 ticks (3.3 hours) after its DTS, in a 1.3 s track. The TS demuxer kept it as
// a composition offset; seam's MP4 demuxer refused the fragmented output ("puts the sample at
// position 24 in presentation order"). TS tracks get the MP4 composition rules too, located at
// the access unit's first transport packet in the file.
#[test]
fn ts_pts_far_after_dts_is_refused() {
    let data = regression("stitch_e2e", "ts-pts-far-after-dts");
    let (_, b) = checks::split_input(&data).unwrap();
    let src: Arc<dyn Source> = Arc::new(MemSource::new("two.ts", b.to_vec()));
    match seam::demux::open(src, &Limits::default()) {
        Err(seam::error::DemuxError::Malformed { loc, rule }) => {
            assert_eq!(loc.file, "two.ts", "{rule}");
            assert_eq!(loc.path, "track 1 sample 3", "{rule}");
            assert_eq!(loc.offset, 11776, "{rule}");
            assert!(rule.contains("composition offset 1073745424"), "{rule}");
        }
        Err(e) => panic!("expected Malformed, got {e}"),
        Ok(m) => panic!("demuxed {} tracks", m.tracks.len()),
    }
    checks::stitch_e2e(&data);
}

#[test]
fn session_inputs() {
    let n = replay("session_inputs", checks::session_inputs);
    println!("session_inputs: {n} files");
    assert!(n > 0, "empty corpus");
}
