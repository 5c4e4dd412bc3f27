//! `--fragmented` output cut by size as well as by GOP: with a small
//! `FragmentedOptions::max_fragment_bytes`, GOPs are split over several moof+mdat pairs, every
//! mdat stays within the limit (unless one sample alone is larger), continuation fragments start
//! with a sample marked non-sync, and seam's demuxer and ffprobe read exactly the samples (bytes,
//! decode and composition times, sync flags) of the output cut only by GOP.

mod common;

use std::path::Path;
use std::sync::Arc;

use seam::mux::mp4::{layout_fragmented_with, FragmentedOptions};
use seam::mux::{write_layout, Layout};
use seam::source::{MemSource, Source};
use seam::Limits;

const INPUTS: &[&str] = &["a.mp4", "b.mp4", "c.mp4"];
const SMALL: u64 = 8 << 10;

fn plan() -> seam::plan::StitchPlan {
    let medias: Vec<_> = INPUTS
        .iter()
        .map(|n| seam::probe(&common::fixture(n), &Limits::default()).expect("fixture"))
        .collect();
    seam::api::plan_with(&medias, &Limits::default()).expect("plan")
}

fn bytes(plan: &seam::plan::StitchPlan, layout: &Layout) -> Vec<u8> {
    let mut out = Vec::new();
    write_layout(plan, layout, &mut out, &mut |_, _| {}).expect("write");
    out
}

/// Per track: (data, dts, cts, sync) of every sample, by seam's demuxer.
type Samples = Vec<Vec<(Vec<u8>, i64, i64, bool)>>;

fn read_back(name: &str, data: &[u8]) -> Samples {
    let src: Arc<dyn Source> = Arc::new(MemSource::new(name, data.to_vec()));
    let m = seam::demux::open(src, &Limits::default()).expect("seam reads its output");
    m.tracks
        .iter()
        .map(|t| {
            t.samples
                .iter()
                .map(|s| {
                    let at = usize::try_from(s.offset).expect("offset");
                    let end = at + s.size as usize;
                    (data[at..end].to_vec(), s.dts, s.cts(), s.sync)
                })
                .collect()
        })
        .collect()
}

/// (type, payload size) of every top-level box.
fn top_boxes(data: &[u8]) -> Vec<(String, u64)> {
    common::top_level_boxes(data)
        .iter()
        .map(|b| (b.kind.clone(), b.size - b.header))
        .collect()
}

#[test]
fn fragments_cut_by_size_hold_the_same_samples() {
    let plan = plan();
    let whole = bytes(
        &plan,
        &layout_fragmented_with(&plan, &FragmentedOptions::default()).expect("layout"),
    );
    let small = bytes(
        &plan,
        &layout_fragmented_with(
            &plan,
            &FragmentedOptions {
                max_fragment_bytes: SMALL,
            },
        )
        .expect("layout"),
    );
    let gop_moofs = top_boxes(&whole).iter().filter(|b| b.0 == "moof").count();
    let boxes = top_boxes(&small);
    let moofs = boxes.iter().filter(|b| b.0 == "moof").count();
    assert!(
        moofs > gop_moofs,
        "{moofs} fragments cut by size, {gop_moofs} by GOP"
    );
    // Every mdat within the limit unless it holds one sample larger than the limit: no fixture
    // sample is that large.
    for (kind, size) in &boxes {
        if kind == "mdat" {
            assert!(*size <= SMALL, "mdat of {size} bytes");
        }
    }
    let a = read_back("whole.mp4", &whole);
    let b = read_back("small.mp4", &small);
    assert_eq!(a.len(), b.len());
    for (ta, tb) in a.iter().zip(&b) {
        assert_eq!(ta.len(), tb.len(), "sample count");
        assert!(
            ta == tb,
            "samples differ between the GOP-cut and size-cut outputs"
        );
    }

    // Continuation fragments start with a non-sync sample, marked so in its own flags.
    let src: Arc<dyn Source> = Arc::new(MemSource::new("small.mp4", small.clone()));
    let m = seam::demux::open(src, &Limits::default()).expect("read");
    let video = m
        .tracks
        .iter()
        .find(|t| t.kind == seam::model::TrackKind::Video)
        .expect("video");
    let starts = fragment_first_samples(&small, 1);
    assert_eq!(starts.len(), moofs, "every fragment has video");
    let non_sync_starts = starts
        .iter()
        .filter(|&&k| video.samples.get(k).is_some_and(|s| !s.sync))
        .count();
    assert!(non_sync_starts > 0, "some GOP was split");

    if common::require_ffmpeg() {
        let dir = common::shared_dir();
        let (pa, pb) = (dir.join("whole.mp4"), dir.join("small.mp4"));
        std::fs::write(&pa, &whole).expect("write");
        std::fs::write(&pb, &small).expect("write");
        assert_eq!(packets(&pa), packets(&pb), "ffprobe packets differ");
        let (ok, err) = common::decode_null(&pb);
        assert!(ok && err.is_empty(), "ffmpeg: {err}");
    }
}

/// Index of the first sample of track `id` in each fragment (by counting trun samples in order).
fn fragment_first_samples(data: &[u8], id: u32) -> Vec<usize> {
    let mut out = Vec::new();
    let mut count = 0usize;
    for b in common::top_level_boxes(data) {
        if b.kind != "moof" {
            continue;
        }
        for traf in common::children(data, &b)
            .iter()
            .filter(|c| c.kind == "traf")
        {
            let kids = common::children(data, traf);
            let Some(tfhd) = kids.iter().find(|c| c.kind == "tfhd") else {
                continue;
            };
            let at = (tfhd.offset + tfhd.header + 4) as usize;
            let track = u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes"));
            if track != id {
                continue;
            }
            out.push(count);
            for trun in kids.iter().filter(|c| c.kind == "trun") {
                let at = (trun.offset + trun.header + 4) as usize;
                count += u32::from_be_bytes(data[at..at + 4].try_into().expect("4 bytes")) as usize;
            }
        }
    }
    out
}

/// ffprobe's packets (stream, dts, pts, size, flags), per stream in read order (the two layouts
/// interleave the streams differently).
fn packets(p: &Path) -> Vec<String> {
    let o = std::process::Command::new("ffprobe")
        .args(["-v", "error", "-show_entries"])
        .arg("packet=stream_index,dts,pts,size,flags")
        .args(["-of", "csv=p=0"])
        .arg(p)
        .output()
        .expect("ffprobe");
    assert!(o.status.success());
    let mut lines: Vec<String> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    // Stable: keeps each stream's read order.
    lines.sort_by_key(|l| l.split(',').next().unwrap_or("").to_string());
    lines
}

/// A GOP between 2 and 4 GiB (a.mp4's first GOP with every video sample claiming 200 MiB; the
/// layout only computes, it reads no sample data). Cut by size (the default 64 MiB), every
/// fragment holds one such sample and every trun data offset stays far below 2^31; without the size cut
/// the audio data of that fragment would start past 2^31 from its moof, which is refused instead
/// of wrapping to a negative offset.
#[test]
fn a_gop_over_2_gib_is_cut_and_never_wraps() {
    let mut plan = plan();
    let video = plan
        .tracks
        .iter_mut()
        .find(|t| t.kind == seam::model::TrackKind::Video)
        .expect("video");
    let gop = video
        .samples
        .iter()
        .skip(1)
        .position(|s| s.sync)
        .map_or(12, |k| k + 1);
    let last = video.samples.last().map_or(0, |s| i64::from(s.duration));
    let resized: seam::plan::OutSamples = video
        .samples
        .iter()
        .enumerate()
        .map(|(k, mut s)| {
            if k < gop {
                s.size = 200 << 20;
            }
            s
        })
        .collect();
    video.samples = resized;
    assert_eq!(
        video.samples.last().map_or(0, |s| i64::from(s.duration)),
        last
    );
    let layout = layout_fragmented_with(&plan, &FragmentedOptions::default()).expect("cut by size");
    let moofs: Vec<&[u8]> = layout
        .slices
        .iter()
        .filter_map(|s| match s {
            seam::mux::Slice::Bytes(b) if b.len() >= 8 && &b[4..8] == b"moof" => Some(&b[..]),
            _ => None,
        })
        .collect();
    assert!(
        moofs.len() >= gop,
        "{} fragments for a GOP of {gop}",
        moofs.len()
    );
    for m in &moofs {
        // Every trun's data_offset (right after its sample count) is positive and small.
        let mut at = 0;
        while let Some(k) = m[at..].windows(4).position(|w| w == b"trun") {
            let p = at + k + 4 + 4 + 4; // type, version/flags, sample_count
            let off = i32::from_be_bytes(m[p..p + 4].try_into().expect("4 bytes"));
            // Past the moof; at most one 200 MiB sample plus the rest of the fragment before it.
            assert!(off > 0 && off < 300 << 20, "trun data offset {off}");
            at = p;
        }
    }
    let whole = layout_fragmented_with(
        &plan,
        &FragmentedOptions {
            max_fragment_bytes: u64::MAX,
        },
    );
    match whole {
        Err(seam::error::MuxError::TooLarge(what)) => {
            assert!(what.contains("trun"), "{what}");
            eprintln!("output too large: {what}");
        }
        Err(e) => panic!("expected TooLarge, got {e}"),
        Ok(_) => panic!("a 2.3 GiB fragment was laid out with 32-bit data offsets"),
    }
}
