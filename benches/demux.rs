//! Demux benchmarks: how fast `probe` turns an input's metadata into a `Media`.
//!
//! * `probe/file/*`: `seam::probe` of the small fixtures from disk (open + metadata reads + parse).
//! * `probe/mem/*`: the same bytes through `MemSource` (parse cost only, no syscalls).
//! * `probe/many_samples`: an in-memory MP4 with ~100k samples, built once by stitching
//!   `fixtures/a.mp4` to itself with `seam::stitch_sources` (a realistic moov: stts/ctts/stss/stsz/
//!   stsc/stco for video and audio). Reported as samples/s.
//!
//! Run: `cargo bench --bench demux`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seam::source::{MemSource, Source};
use seam::{Limits, StitchOptions};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

fn mem(name: &str, bytes: Vec<u8>) -> Arc<dyn Source> {
    Arc::new(MemSource::new(name, bytes))
}

/// `a.mp4` stitched to itself `copies` times, in memory.
fn many_samples(copies: usize) -> (Vec<u8>, u64) {
    let a = std::fs::read(fixture("a.mp4")).expect("fixtures/a.mp4");
    let sources: Vec<Arc<dyn Source>> = (0..copies)
        .map(|i| mem(&format!("a{i}"), a.clone()))
        .collect();
    let (out, report) = seam::stitch_sources(sources, &StitchOptions::default()).expect("stitch");
    (out, report.samples)
}

fn bench_probe(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("probe");
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));

    for name in ["a.mp4", "frag.mp4"] {
        let path = fixture(name);
        let bytes = std::fs::read(&path).expect("fixture");
        let media = seam::probe(&path, &limits).expect("probe");
        let samples: u64 = media.tracks.iter().map(|t| t.samples.len() as u64).sum();
        g.throughput(Throughput::Elements(samples));
        g.bench_function(format!("file/{name}"), |b| {
            b.iter(|| seam::probe(black_box(&path), &limits).unwrap())
        });
        let src = mem(name, bytes);
        g.bench_function(format!("mem/{name}"), |b| {
            b.iter(|| seam::probe_source(black_box(src.clone()), &limits).unwrap())
        });
    }

    // ~145 samples per copy of a.mp4: 700 copies is ~100k samples (~47 MB in memory).
    let (big, samples) = many_samples(700);
    let src = mem("many.mp4", big);
    let probed = seam::probe_source(src.clone(), &limits).expect("probe many");
    let n: u64 = probed.tracks.iter().map(|t| t.samples.len() as u64).sum();
    assert_eq!(n, samples);
    g.throughput(Throughput::Elements(n));
    g.bench_function(format!("mem/many_samples_{n}"), |b| {
        b.iter(|| seam::probe_source(black_box(src.clone()), &limits).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench_probe);
criterion_main!(benches);
