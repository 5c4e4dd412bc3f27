//! Memory kept per input beyond its samples: N small inputs against one input holding the same
//! samples (their join), counted by a global allocator that tracks live heap bytes. One test in this
//! binary, so no other test allocates while it measures.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::PathBuf;
use std::sync::atomic::{AtomicIsize, Ordering};

use common::*;

struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call forwards to the system allocator unchanged; the counter is only arithmetic.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        LIVE.fetch_add(l.size() as isize, Ordering::Relaxed);
        System.alloc(l)
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        LIVE.fetch_sub(l.size() as isize, Ordering::Relaxed);
        System.dealloc(p, l)
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        LIVE.fetch_add(n as isize - l.size() as isize, Ordering::Relaxed);
        System.realloc(p, l, n)
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

/// Live heap bytes of the demuxed inputs (headers shared with the previous input, as `stitch`
/// does) plus their plan, without the spare capacity of the plan's sample tables.
fn heap_of(paths: &[PathBuf]) -> (isize, usize) {
    let limits = seam::Limits::default();
    let before = live();
    let mut medias: Vec<seam::model::Media> = Vec::with_capacity(paths.len());
    for p in paths {
        let mut m = seam::probe(p, &limits).expect("demux");
        if let Some(prev) = medias.last() {
            seam::demux::share_headers(&mut m, prev);
        }
        medias.push(m);
    }
    let mut plan = seam::plan(&medias).expect("plan");
    // The plan's sample tables grow by doubling, so their spare capacity depends on how the same
    // samples were pushed; it is not a per-input cost.
    for t in &mut plan.tracks {
        t.samples.shrink_to_fit();
    }
    let bytes = live() - before;
    let samples = plan.tracks.iter().map(|t| t.samples.len()).sum();
    drop((medias, plan));
    (bytes, samples)
}

#[test]
fn per_input_overhead_beyond_samples_is_under_2_kb() {
    const N: usize = 400;
    let dir = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = (0..N)
        .map(|i| {
            let p = dir.path().join(format!("f{i:04}.mp4"));
            std::fs::copy(fixture("a.mp4"), &p).expect("copy");
            p
        })
        .collect();
    let joined = dir.path().join("joined.mp4");
    let refs: Vec<&std::path::Path> = paths.iter().map(PathBuf::as_path).collect();
    seam::stitch(&refs, &joined, &Default::default()).expect("stitch");

    // Warm up lazily initialised statics (the file pool) outside the measurement.
    let _ = heap_of(&paths[..1]);
    let (small, small_samples) = heap_of(&paths);
    let (big, big_samples) = heap_of(std::slice::from_ref(&joined));
    assert_eq!(
        small_samples, big_samples,
        "both plans have the same samples"
    );
    let per_input = (small - big) / N as isize;
    eprintln!(
        "{N} inputs: {small} B, one input with the same samples: {big} B, {per_input} B per input"
    );
    assert!(
        per_input < 2048,
        "{per_input} bytes kept per input beyond its samples"
    );
}
