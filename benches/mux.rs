//! Mux benchmarks: planning and laying out many inputs, and writing a layout.
//!
//! * `plan_layout/N`: `seam::plan` + `layout_progressive` (and `layout_fragmented`) of N probed
//!   inputs (the fixtures a/b/c repeated), reported as input samples/s.
//! * `write_layout/vec`: `seam::mux::write_layout` of a 64-input layout into a `Vec<u8>`, reported as
//!   output bytes/s (memory-to-memory copy speed; the file path uses copy_file_range instead).
//!
//! Run: `cargo bench --bench mux`.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use seam::model::Media;
use seam::mux::mp4::{layout_fragmented, layout_progressive, ProgressiveOptions};
use seam::source::{MemSource, Source};
use seam::Limits;

/// `n` in-memory inputs cycling through a.mp4, b.mp4, c.mp4, probed.
fn inputs(n: usize) -> Vec<Media> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let files: Vec<Vec<u8>> = ["a.mp4", "b.mp4", "c.mp4"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).expect("fixture"))
        .collect();
    (0..n)
        .map(|i| {
            let src: Arc<dyn Source> =
                Arc::new(MemSource::new(format!("in{i}.mp4"), files[i % 3].clone()));
            seam::probe_source(src, &Limits::default()).expect("probe")
        })
        .collect()
}

fn samples(medias: &[Media]) -> u64 {
    medias
        .iter()
        .flat_map(|m| &m.tracks)
        .map(|t| t.samples.len() as u64)
        .sum()
}

fn bench_plan_layout(c: &mut Criterion) {
    let mut g = c.benchmark_group("plan_layout");
    g.sample_size(15)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    for n in [10usize, 100, 1000] {
        let medias = inputs(n);
        g.throughput(Throughput::Elements(samples(&medias)));
        g.bench_with_input(BenchmarkId::new("plan", n), &medias, |b, m| {
            b.iter(|| seam::plan(black_box(m)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("plan+progressive", n), &medias, |b, m| {
            b.iter(|| {
                let plan = seam::plan(black_box(m)).unwrap();
                layout_progressive(&plan, ProgressiveOptions::default()).unwrap()
            })
        });
        let plan = seam::plan(&medias).unwrap();
        g.bench_with_input(BenchmarkId::new("progressive", n), &plan, |b, p| {
            b.iter(|| layout_progressive(black_box(p), ProgressiveOptions::default()).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("fragmented", n), &plan, |b, p| {
            b.iter(|| layout_fragmented(black_box(p)).unwrap())
        });
    }
    g.finish();
}

fn bench_write(c: &mut Criterion) {
    let mut g = c.benchmark_group("write_layout");
    g.sample_size(15)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    let medias = inputs(64);
    let plan = seam::plan(&medias).unwrap();
    let layout = layout_progressive(&plan, ProgressiveOptions::default()).unwrap();
    let len = layout.len();
    g.throughput(Throughput::Bytes(len));
    g.bench_function(format!("vec/64_inputs_{len}B"), |b| {
        b.iter(|| {
            let mut out: Vec<u8> = Vec::with_capacity(len as usize);
            seam::mux::write_layout(&plan, black_box(&layout), &mut out, &mut |_, _| {}).unwrap();
            assert_eq!(out.len() as u64, len);
            out
        })
    });
    g.finish();
}

criterion_group!(benches, bench_plan_layout, bench_write);
criterion_main!(benches);
