//! Video re-encode benchmarks (`seam::transcode::video`), reported as frames/s:
//!
//! * `decode/{720p,1080p}`: OpenH264 decoding of a 60-frame x264 High clip with B-frames.
//! * `scale/*`: fast_image_resize on YUV 4:2:0 planes: a 720x1280 portrait picture fitted
//!   (pillarboxed) into 1280x720, and 1080p scaled to 720p.
//! * `encode/{720p,1080p}`: OpenH264 encoding at 3 Mbit/s (720p) and 6 Mbit/s (1080p).
//! * `reencode/portrait_720p/threads_{1,2}`: the whole path (decode, turn, scale, encode, join) of
//!   a 4 s 720x1280 portrait clip to 1280x720 on 1 and 2 threads.
//!
//! The inputs are made with ffmpeg (libx264) in a temporary directory; without ffmpeg the
//! benchmarks are skipped. Run: `cargo bench --bench transcode`.

use std::hint::black_box;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use seam::model::{CodecConfig, Media, Sample};
use seam::transcode::video::decode::Decoder;
use seam::transcode::video::encode::{Encoder, EncoderSettings};
use seam::transcode::video::scale::{Fit, Scaler};
use seam::transcode::video::{self, Frame, Options, VideoSpan, VideoTarget};

/// Makes an x264 High clip with B-frames (GOP of 30 at 30 fps).
fn make_clip(dir: &Path, name: &str, size: &str, frames: u32) -> Option<std::path::PathBuf> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size={size}:rate=30,format=yuv420p"))
        .args([
            "-frames:v",
            &frames.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
        ])
        .args([
            "-profile:v",
            "high",
            "-bf",
            "3",
            "-g",
            "30",
            "-keyint_min",
            "30",
        ])
        .args(["-sc_threshold", "0", "-crf", "23"])
        .arg(&path)
        .status()
        .ok()?;
    status.success().then_some(path)
}

struct Clip {
    media: Media,
    samples: Vec<Sample>,
    avcc: seam::codec::h264::AvcDecoderConfig,
}

impl Clip {
    fn open(path: &Path) -> Clip {
        let media = seam::probe(path, &seam::Limits::default()).expect("probe");
        let track = media.video().expect("video");
        let avcc = match &track.entry().expect("entry").codec {
            CodecConfig::H264 {
                config: Some(c), ..
            } => c.clone(),
            _ => panic!("not H.264"),
        };
        let samples = track.samples.iter().collect();
        Clip {
            media,
            samples,
            avcc,
        }
    }

    fn span(&self) -> VideoSpan<'_> {
        let track = self.media.video().expect("video");
        VideoSpan {
            source: &*self.media.source,
            avcc: &self.avcc,
            timescale: track.timescale,
            matrix: track.header.matrix,
            samples: &self.samples,
            preroll: 0,
        }
    }

    /// Every picture, decoded.
    fn frames(&self) -> Vec<Frame> {
        let mut out = Vec::new();
        video::decode(&self.span(), &mut |_, f| {
            out.push(f);
            Ok(())
        })
        .expect("decode");
        out
    }

    fn sample_bytes(&self) -> Vec<Vec<u8>> {
        self.samples
            .iter()
            .map(|s| {
                let mut buf = vec![0u8; s.size as usize];
                self.media.source.read_at(s.offset, &mut buf).expect("read");
                buf
            })
            .collect()
    }
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (Some(p720), Some(p1080), Some(portrait)) = (
        make_clip(dir.path(), "720p.mp4", "1280x720", 60),
        make_clip(dir.path(), "1080p.mp4", "1920x1080", 60),
        make_clip(dir.path(), "portrait.mp4", "720x1280", 120),
    ) else {
        eprintln!("skipping: ffmpeg with libx264 not found");
        return;
    };
    let clips = [("720p", Clip::open(&p720)), ("1080p", Clip::open(&p1080))];

    let mut g = c.benchmark_group("decode");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    for (name, clip) in &clips {
        let bytes = clip.sample_bytes();
        g.throughput(Throughput::Elements(bytes.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| {
                let mut d = Decoder::new(&clip.avcc).expect("decoder");
                let mut n = 0usize;
                let mut count = |_: Frame, _: u64| {
                    n += 1;
                    Ok(())
                };
                for (i, s) in bytes.iter().enumerate() {
                    d.decode(s, i as u64, &mut count).expect("decode");
                }
                d.flush(&mut count).expect("flush");
                black_box(n)
            })
        });
    }
    g.finish();

    let portrait_clip = Clip::open(&portrait);
    let portrait_frame = portrait_clip.frames().swap_remove(0);
    let frame_1080 = clips[1].1.frames().swap_remove(0);
    let mut g = c.benchmark_group("scale");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(1));
    for (name, frame, w, h) in [
        ("portrait_720x1280_fit_1280x720", &portrait_frame, 1280, 720),
        ("1080p_to_720p", &frame_1080, 1280, 720),
    ] {
        let mut s = Scaler::new(w, h, Fit::Fit).expect("scaler");
        g.bench_function(name, |b| {
            b.iter(|| black_box(s.scale(frame.clone()).expect("scale")))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("encode");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    for ((name, clip), bitrate) in clips.iter().zip([3_000_000, 6_000_000]) {
        let frames = clip.frames();
        let (width, height) = (frames[0].width, frames[0].height);
        g.throughput(Throughput::Elements(frames.len() as u64));
        g.bench_function(*name, |b| {
            b.iter(|| {
                let settings = EncoderSettings {
                    width,
                    height,
                    bitrate,
                    fps: 30.0,
                    gop: 30,
                };
                let mut e = Encoder::new(settings).expect("encoder");
                for (i, f) in frames.iter().enumerate() {
                    black_box(e.encode(f, i as i64 * 33).expect("encode"));
                }
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("reencode/portrait_720p");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(portrait_clip.samples.len() as u64));
    let target = VideoTarget {
        width: 1280,
        height: 720,
        fit: Fit::Fit,
        bitrate: 3_000_000,
        gop: 0,
        fps: None,
    };
    for threads in [1, 2] {
        g.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                let options = Options {
                    threads,
                    ..Default::default()
                };
                black_box(
                    video::reencode(&portrait_clip.span(), &target, &options).expect("reencode"),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
