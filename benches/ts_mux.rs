//! Transport stream mux throughput: `seam::mux::ts::TsWriter` writing the access units of
//! `fixtures/ts/plain.ts` over and over (timestamps moved on by the fixture's length each time)
//! until about 64 MiB of output, into memory.
//!
//! Run: `cargo bench --bench ts_mux` (reports output bytes/s).

use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seam::demux::ts::{demux_all, Event, StreamType, TsLimits};
use seam::mux::ts::{TsMuxOptions, TsStream, TsWriter};

const SIZE: usize = 64 << 20;

/// One access unit: stream index, PTS, DTS, key, payload.
type Unit = (usize, i64, i64, bool, Vec<u8>);

/// The fixture's streams and access units (interleaved by DTS), and its length in ticks.
fn units() -> (Vec<TsStream>, Vec<Unit>, i64) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/ts/plain.ts");
    let data = std::fs::read(path).expect("fixtures/ts/plain.ts");
    let (events, r) = demux_all("plain.ts", &data, &TsLimits::default());
    r.expect("demux");
    let mut pids = Vec::new();
    let mut streams = Vec::new();
    let mut units = Vec::new();
    for e in events {
        match e {
            Event::Stream {
                pid, stream_type, ..
            } => {
                pids.push(pid);
                streams.push(match stream_type {
                    StreamType::H264 => TsStream::h264(Vec::new()),
                    StreamType::H265 => TsStream::h265(Vec::new()),
                    StreamType::AacAdts => TsStream::aac_adts(),
                });
            }
            Event::AccessUnit(a) => {
                let s = pids.iter().position(|&p| p == a.pid).expect("announced");
                let mut b = Vec::new();
                for r in &a.pieces {
                    b.extend_from_slice(&data[r.start as usize..r.end as usize]);
                }
                let (pts, dts) = (a.timeline_pts.expect("pts"), a.timeline_dts.expect("dts"));
                units.push((s, pts, dts, a.random_access, b));
            }
            _ => {}
        }
    }
    units.sort_by_key(|u| (u.2, u.0));
    let first = units.first().map_or(0, |u| u.2);
    let last = units.iter().map(|u| u.2).max().unwrap_or(0);
    (streams, units, last - first + 3600)
}

/// Muxes the units repeatedly until `SIZE` bytes; returns the output length.
fn mux(streams: &[TsStream], units: &[Unit], span: i64) -> usize {
    let mut w = TsWriter::new(
        Vec::with_capacity(SIZE + (1 << 20)),
        streams.to_vec(),
        TsMuxOptions::default(),
    )
    .expect("writer");
    let mut shift = 0;
    while (w.bytes_written() as usize) < SIZE {
        for (s, pts, dts, key, payload) in units {
            w.write_access_unit(*s, pts + shift, dts + shift, *key, payload)
                .expect("write");
        }
        shift += span;
    }
    w.finish().expect("finish").len()
}

fn bench_ts_mux(c: &mut Criterion) {
    let (streams, units, span) = units();
    let size = mux(&streams, &units, span);
    eprintln!(
        "ts_mux: {} MB out, {} access units per pass",
        size >> 20,
        units.len()
    );
    let mut g = c.benchmark_group("ts_mux");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Bytes(size as u64));
    g.bench_function("mux_64MiB", |b| {
        b.iter(|| mux(black_box(&streams), black_box(&units), span))
    });
    g.finish();
}

criterion_group!(benches, bench_ts_mux);
criterion_main!(benches);
