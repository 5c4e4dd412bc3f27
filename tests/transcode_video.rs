//! The video re-encode path (`seam::transcode::video`) on real files: OpenH264's decode coverage
//! against ffmpeg's decoder, and re-encodes checked by ffmpeg (clean decode, frame count, size,
//! SSIM against ffmpeg's own scaling of the source) and for determinism across thread counts.
//!
//! Fixtures: fixtures/make_transcode.sh (fixtures/transcode/), fixtures/make.sh (portrait,
//! rotated).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use common::*;
use seam::codec::h264::AvcDecoderConfig;
use seam::model::{CodecConfig, Media, Sample};
use seam::transcode::video::{self, Encoded, Fit, Options, TranscodeError, VideoSpan, VideoTarget};
use sha2::{Digest, Sha256};

/// A file's first video track as a span of all its samples.
struct Input {
    media: Media,
    avcc: AvcDecoderConfig,
    samples: Vec<Sample>,
}

impl Input {
    fn open(path: &Path) -> Input {
        let media = seam::probe(path, &seam::Limits::default()).expect("probe");
        let track = media.video().expect("video track");
        let avcc = match &track.entry().expect("sample entry").codec {
            CodecConfig::H264 {
                config: Some(c), ..
            } => c.clone(),
            other => panic!("{}: not H.264 with avcC: {other:?}", path.display()),
        };
        let samples = track.samples.iter().collect();
        Input {
            media,
            avcc,
            samples,
        }
    }

    fn span(&self) -> VideoSpan<'_> {
        let track = self.media.video().expect("video track");
        VideoSpan {
            source: &*self.media.source,
            avcc: &self.avcc,
            timescale: track.timescale,
            matrix: track.header.matrix,
            samples: &self.samples,
            preroll: 0,
        }
    }
}

fn transcode_fixture(name: &str) -> PathBuf {
    fixture(&format!("transcode/{name}"))
}

/// The decode-coverage classes: fixture, description, whether OpenH264 decodes every picture
/// bit-exact (`Some(true)`), decodes them all with small differences in B-pictures
/// (`Some(false)`), or is refused up front (`None`).
const CLASSES: &[(&str, &str, Option<bool>)] = &[
    (
        "x264_high_bpyramid.mp4",
        "x264 High, 3 B-frames, B-pyramid",
        Some(false),
    ),
    (
        "x264_high_opengop.mp4",
        "x264 High, B-pyramid, open GOP",
        Some(false),
    ),
    ("x264_main.mp4", "x264 Main, 2 B-frames", Some(false)),
    ("x264_baseline.mp4", "x264 Constrained Baseline", Some(true)),
    (
        "phone_like.mp4",
        "phone-like: High, no B, 4 slices, 90 kHz",
        Some(true),
    ),
    (
        "obs_like.mp4",
        "OBS-like: x264 High CBR, 2 B-frames",
        Some(false),
    ),
    (
        "gst_x264enc.mp4",
        "GStreamer x264enc High, B-pyramid",
        Some(true),
    ),
    ("x264_interlaced.mp4", "x264 High interlaced (MBAFF)", None),
];

/// Lowest PSNR (dB) of a picture OpenH264 decodes differently from ffmpeg.
const MIN_PSNR: f64 = 40.0;

/// ffmpeg's decode of `path` as raw yuv420p pictures.
fn ffmpeg_pictures(path: &Path, size: usize) -> Vec<Vec<u8>> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args([
            "-fps_mode",
            "passthrough",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "rawvideo",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(o.status.success(), "{}", describe(&o));
    o.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

/// PSNR of two pictures of the same size (all planes), 99 for identical ones.
fn psnr(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    let se: u64 = a
        .iter()
        .zip(b)
        .map(|(&x, &y)| u64::from(x.abs_diff(y)).pow(2))
        .sum();
    if se == 0 {
        return 99.0;
    }
    let mse = se as f64 / a.len() as f64;
    10.0 * (255.0 * 255.0 / mse).log10()
}

/// Decodes every class with OpenH264 and compares each picture with ffmpeg's decode.
#[test]
fn openh264_decode_coverage_against_ffmpeg() {
    if !require_ffmpeg() {
        return;
    }
    let mut table = vec![
        "| class | frames (ffmpeg) | decoded by OpenH264 | identical | lowest PSNR |".to_string(),
    ];
    table.push("|---|---|---|---|---|".into());
    let mut failures = Vec::new();
    for &(name, class, expected) in CLASSES {
        let path = transcode_fixture(name);
        let input = Input::open(&path);
        let mut ours: Vec<Vec<u8>> = Vec::new();
        let result = video::decode(&input.span(), &mut |_, frame| {
            ours.push(frame.packed());
            Ok(())
        });
        let size = ours.first().map_or(320 * 240 * 3 / 2, Vec::len);
        let reference = ffmpeg_pictures(&path, size);
        let identical = ours.iter().zip(&reference).filter(|(a, b)| a == b).count();
        let lowest = ours
            .iter()
            .zip(&reference)
            .map(|(a, b)| psnr(a, b))
            .fold(99.0f64, f64::min);
        let outcome = match &result {
            Ok(()) => format!("{}", ours.len()),
            Err(e) => format!("refused: {e}"),
        };
        let lowest_text = if result.is_ok() {
            format!("{lowest:.1} dB")
        } else {
            "-".into()
        };
        table.push(format!(
            "| {class} | {} | {outcome} | {identical} | {lowest_text} |",
            reference.len()
        ));
        let complete = result.is_ok() && ours.len() == reference.len();
        match expected {
            Some(true) if !(complete && identical == reference.len()) => {
                failures.push(format!("{name}: expected bit-exact, got {outcome}, {identical} identical"))
            }
            Some(false) if !(complete && lowest >= MIN_PSNR) => failures.push(format!(
                "{name}: expected every picture within {MIN_PSNR} dB, got {outcome}, lowest {lowest:.1} dB"
            )),
            None if !matches!(result, Err(TranscodeError::Unsupported { .. })) => {
                failures.push(format!("{name}: expected a refusal, got {outcome}"))
            }
            _ => {}
        }
    }
    eprintln!("{}", table.join("\n"));
    assert!(failures.is_empty(), "{failures:?}\n{}", table.join("\n"));
}

/// Writes an Annex B elementary stream: SPS and PPS before every IDR.
fn write_annexb(encoded: &Encoded, path: &Path) {
    let avcc = AvcDecoderConfig::parse(&encoded.avcc).expect("our avcC parses");
    let mut out = Vec::new();
    for s in &encoded.samples {
        if s.sync {
            for unit in avcc.sps.iter().chain(avcc.pps.iter()) {
                out.extend_from_slice(&[0, 0, 0, 1]);
                out.extend_from_slice(unit);
            }
        }
        let mut buf = vec![0u8; s.size as usize];
        encoded
            .data
            .read_at(s.offset, &mut buf)
            .expect("spool read");
        for unit in seam::codec::h264::avcc_nal_units(&buf, 4) {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(unit.expect("our samples are well formed"));
        }
    }
    std::fs::write(path, out).expect("write .h264");
}

/// ffprobe's decoded frame count and size of a raw H.264 stream.
fn probe_h264(path: &Path) -> (usize, u32, u32) {
    let o = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-select_streams", "v:0"])
        .args([
            "-show_entries",
            "stream=nb_read_frames,width,height",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("ffprobe");
    let text = String::from_utf8_lossy(&o.stdout);
    let f: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(f.len(), 3, "ffprobe said {text:?}");
    (
        f[2].parse().unwrap(),
        f[0].parse().unwrap(),
        f[1].parse().unwrap(),
    )
}

/// SSIM (All) of `ours` against `source` passed through ffmpeg filter `filter`, frame by frame.
fn ssim(ours: &Path, source: &Path, filter: &str) -> f64 {
    // setpts=N/(25*TB): both inputs counted in frames, whatever their timebases.
    let graph = format!("[0:v]setpts=N/(25*TB)[a];[1:v]{filter},setpts=N/(25*TB)[b];[a][b]ssim");
    let o = Command::new("ffmpeg")
        .args(["-v", "info", "-nostdin", "-i"])
        .arg(ours)
        .arg("-i")
        .arg(source)
        .args(["-lavfi", &graph, "-f", "null", "-"])
        .output()
        .expect("ffmpeg ssim");
    let err = String::from_utf8_lossy(&o.stderr);
    let all = err
        .lines()
        .filter(|l| l.contains("SSIM"))
        .find_map(|l| l.split("All:").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok());
    all.unwrap_or_else(|| panic!("no SSIM in ffmpeg output:\n{err}"))
}

fn target(width: u32, height: u32, fit: Fit) -> VideoTarget {
    VideoTarget {
        width,
        height,
        fit,
        bitrate: 800_000,
        gop: 0,
        fps: None,
    }
}

/// Re-encodes `name` to `t` on `threads` threads, checks it with ffmpeg and returns it.
fn reencode_checked(
    path: &Path,
    t: &VideoTarget,
    threads: usize,
    reference_filter: &str,
    min_ssim: f64,
) -> Encoded {
    let input = Input::open(path);
    let dir = tempfile::tempdir().unwrap();
    let progress = Mutex::new(0u64);
    let report = |n: u64| {
        let mut p = progress.lock().unwrap();
        *p = (*p).max(n);
    };
    let options = Options {
        threads,
        spool_dir: Some(dir.path()),
        progress: Some(&report),
    };
    let encoded = video::reencode(&input.span(), t, &options).expect("reencode");
    assert_eq!(
        encoded.samples.len(),
        input.samples.len(),
        "one picture per input frame"
    );
    assert_eq!(
        *progress.lock().unwrap(),
        input.samples.len() as u64,
        "progress counts every frame"
    );
    assert!(encoded.samples[0].sync, "starts with an IDR");
    // Exact timing: presentation times are the input's, the total duration too.
    let mut input_pts: Vec<i64> = input.samples.iter().map(Sample::cts).collect();
    input_pts.sort_unstable();
    let ours: Vec<i64> = encoded.samples.iter().map(|s| s.dts).collect();
    assert_eq!(ours, input_pts, "presentation times kept");
    let total_in: u64 = input.samples.iter().map(|s| u64::from(s.duration)).sum();
    let total_out: u64 = encoded.samples.iter().map(|s| u64::from(s.duration)).sum();
    assert_eq!(total_out, total_in, "duration kept");
    let h264 = dir.path().join("out.h264");
    write_annexb(&encoded, &h264);
    let (clean, errors) = decode_null(&h264);
    assert!(clean && errors.is_empty(), "ffmpeg decode errors: {errors}");
    assert_eq!(probe_h264(&h264), (input.samples.len(), t.width, t.height));
    let s = ssim(&h264, path, reference_filter);
    eprintln!("{}: SSIM {s:.4} ({threads} threads)", path.display());
    assert!(s >= min_ssim, "SSIM {s} < {min_ssim}");
    encoded
}

/// All the coded bytes and timing of a re-encode, as one hash.
fn digest(e: &Encoded) -> String {
    let mut h = Sha256::new();
    h.update(&e.avcc);
    for s in &e.samples {
        let mut buf = vec![0u8; s.size as usize];
        e.data.read_at(s.offset, &mut buf).unwrap();
        h.update(&buf);
        h.update(format!(
            "{} {} {} {}",
            s.dts, s.cts_offset, s.duration, s.sync
        ));
    }
    format!("{:x}", h.finalize())
}

#[test]
fn portrait_fragment_becomes_pillarboxed_landscape() {
    if !require_ffmpeg() {
        return;
    }
    // 240x320 into 320x240: scaled to 180x240 with 70-column bars, as ffmpeg's scale+pad does.
    let t = target(320, 240, Fit::Fit);
    let filter = "scale=180:240,pad=320:240:70:0:black";
    let one = reencode_checked(&fixture("portrait.mp4"), &t, 1, filter, 0.9);
    let two = reencode_checked(&fixture("portrait.mp4"), &t, 2, filter, 0.9);
    assert_eq!(
        digest(&one),
        digest(&two),
        "byte-identical for 1 and 2 threads"
    );
}

#[test]
fn fill_and_stretch_modes_match_ffmpeg_crop_and_scale() {
    if !require_ffmpeg() {
        return;
    }
    // Fill: the middle 240x180 of the portrait picture, scaled to 320x240.
    let fill = target(320, 240, Fit::Fill);
    reencode_checked(
        &fixture("portrait.mp4"),
        &fill,
        2,
        "crop=240:180:0:70,scale=320:240",
        0.9,
    );
    let stretch = target(320, 240, Fit::Stretch);
    reencode_checked(&fixture("portrait.mp4"), &stretch, 2, "scale=320:240", 0.9);
}

#[test]
fn rotated_fragment_is_turned_upright() {
    if !require_ffmpeg() {
        return;
    }
    // rotated.mp4: coded 320x240 with a 90° display matrix, shown 240x320. ffmpeg's decode turns
    // it (autorotate), so the SSIM is only high when seam turns it the same way.
    let t = target(240, 320, Fit::Fit);
    reencode_checked(&fixture("rotated.mp4"), &t, 2, "null", 0.9);
}

#[test]
fn open_gops_and_keyframe_interval_are_handled_deterministically() {
    if !require_ffmpeg() {
        return;
    }
    // Open GOPs: the leading B-frames of each GOP need the previous GOP decoded first.
    let mut t = target(160, 120, Fit::Fit);
    t.gop = 10;
    let path = transcode_fixture("x264_high_opengop.mp4");
    let one = reencode_checked(&path, &t, 1, "scale=160:120", 0.9);
    let two = reencode_checked(&path, &t, 2, "scale=160:120", 0.9);
    assert_eq!(
        digest(&one),
        digest(&two),
        "byte-identical for 1 and 2 threads"
    );
    // IDRs every 10 frames inside each group of 24, and at each group start.
    let idr: Vec<usize> = (0..one.samples.len())
        .filter(|&i| one.samples[i].sync)
        .collect();
    assert!(
        idr.contains(&0) && idr.contains(&10) && idr.contains(&20),
        "{idr:?}"
    );
    assert!(idr.len() >= 6, "{idr:?}");
    // Memory and file spools give the same bytes.
    let input = Input::open(&path);
    let mem = video::reencode(
        &input.span(),
        &t,
        &Options {
            threads: 2,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(digest(&mem), digest(&one));
}

#[test]
fn closed_gop_b_pyramid_reencode_is_deterministic_across_threads() {
    if !require_ffmpeg() {
        return;
    }
    let t = target(320, 240, Fit::Fit);
    let path = transcode_fixture("x264_high_bpyramid.mp4");
    let one = reencode_checked(&path, &t, 1, "null", 0.9);
    let three = reencode_checked(&path, &t, 3, "null", 0.9);
    assert_eq!(digest(&one), digest(&three));
}

#[test]
fn interlaced_input_is_refused_with_a_reason() {
    let input = Input::open(&transcode_fixture("x264_interlaced.mp4"));
    let err = video::reencode(
        &input.span(),
        &target(320, 240, Fit::Fit),
        &Options::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("interlaced"), "{err}");
}

#[test]
fn hostile_sizes_are_refused_before_allocating() {
    let mut input = Input::open(&fixture("a.mp4"));
    // An output larger than OpenH264 can encode.
    let err = video::reencode(
        &input.span(),
        &target(8192, 8192, Fit::Fit),
        &Options::default(),
    )
    .unwrap_err();
    assert!(matches!(err, TranscodeError::Target { .. }), "{err}");
    // A sample claiming 4 GiB.
    input.samples[3].size = u32::MAX;
    let err = video::reencode(
        &input.span(),
        &target(320, 240, Fit::Fit),
        &Options::default(),
    )
    .unwrap_err();
    assert!(
        matches!(err, TranscodeError::Read { sample: 3, .. }),
        "{err}"
    );
}
