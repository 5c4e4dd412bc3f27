//! Transport stream demux throughput: `seam::demux::ts::TsDemuxer` over a 64 MiB stream in memory,
//! made by repeating the packets of `fixtures/ts/plain.ts` with their continuity counters carried
//! on (so only the timestamp restart at each repetition is reported: one jump per stream per
//! 100 KB). Pushed in 1 MiB chunks, events drained after each push, as a reader would.
//!
//! Run: `cargo bench --bench ts` (reports bytes/s).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seam::demux::ts::{Event, TsDemuxer, TsLimits};

const SIZE: usize = 64 << 20;

/// `plain.ts` repeated to `SIZE` bytes, continuity counters renumbered per PID.
fn stream() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ts/plain.ts");
    let one = std::fs::read(path).expect("fixtures/ts/plain.ts");
    let mut cc = vec![0u8; 8192];
    let mut out = Vec::with_capacity(SIZE + one.len());
    while out.len() < SIZE {
        for p in one.chunks_exact(188) {
            let mut p = p.to_vec();
            let pid = (usize::from(p[1] & 0x1f) << 8) | usize::from(p[2]);
            if p[3] & 0x10 != 0 {
                p[3] = (p[3] & 0xf0) | cc[pid];
                cc[pid] = (cc[pid] + 1) & 0x0f;
            }
            out.extend_from_slice(&p);
        }
    }
    out
}

/// Demuxes `data` in 1 MiB chunks; returns the number of access units.
fn demux(data: &[u8]) -> usize {
    let mut d = TsDemuxer::new("bench.ts", TsLimits::default());
    let mut aus = 0;
    let mut at = 0u64;
    for chunk in data.chunks(1 << 20) {
        d.push(at, chunk).expect("push");
        at += chunk.len() as u64;
        aus += d
            .events()
            .filter(|e| matches!(e, Event::AccessUnit(_)))
            .count();
    }
    d.finish().expect("finish");
    aus + d
        .events()
        .filter(|e| matches!(e, Event::AccessUnit(_)))
        .count()
}

fn bench_ts(c: &mut Criterion) {
    let data = stream();
    let aus = demux(&data);
    eprintln!(
        "ts: {} MB, {} access units, {} packets",
        data.len() >> 20,
        aus,
        data.len() / 188
    );
    let mut g = c.benchmark_group("ts");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function("demux_64MiB", |b| b.iter(|| demux(black_box(&data))));
    g.finish();
}

criterion_group!(benches, bench_ts);
criterion_main!(benches);
