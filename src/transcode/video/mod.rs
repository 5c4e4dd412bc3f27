//! Re-encoding a span of H.264 video to another picture format: decode (OpenH264), turn per the
//! display matrix, scale (`fast_image_resize`), encode (OpenH264), one GOP group per task on a
//! rayon pool, joined in order.
//!
//! The planner calls [`reencode`] for a segment that cannot be copied. The output is the same
//! bytes for any thread count: each group is coded by its own single-threaded encoder from the
//! same input, and groups are joined in span order. Pictures in memory are bounded by the
//! threads (each worker holds its decoder's reference pictures and one picture in flight); coded
//! bytes are bounded by one batch of `threads` groups, then appended to the spool (a temporary file
//! in [`Options::spool_dir`], deleted when the last handle closes, or memory without one).

pub mod decode;
pub mod encode;
pub mod frame;
mod group;
pub mod scale;
mod spool;

use std::path::Path;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use bytes::Bytes;

use crate::codec::framing::avcc_from_parameter_sets;
use crate::codec::h264::AvcDecoderConfig;
use crate::model::Sample;
use crate::source::Source;

pub use encode::EncoderSettings;

/// Largest sample read (an H.264 access unit at level 6.2 is at most 30 MB, MaxCPB 800 Mbit/s
/// over a second is 100 MB): a hostile size never turns into a huge allocation.
const MAX_SAMPLE: u32 = 128 << 20;

/// Largest output picture in macroblocks (level 5.2, the most OpenH264 encodes: 4096x2304).
const MAX_OUTPUT_MBS: u64 = 36_864;
pub use frame::{Frame, Rotation};
pub use scale::Fit;

/// Why a span could not be re-encoded.
#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// A sample could not be read from its input.
    #[error("{file}: cannot read sample {sample} at offset {offset}: {source}")]
    Read {
        /// The input's name.
        file: String,
        /// Sample index in the span.
        sample: usize,
        /// Byte offset of the sample.
        offset: u64,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A sample's bytes are malformed (NAL unit lengths).
    #[error("sample {sample}: {what}")]
    Sample {
        /// Sample index in the span.
        sample: u64,
        /// What is wrong.
        what: String,
    },
    /// OpenH264 reported a decoding error.
    #[error("OpenH264 could not decode{}: state {state:#x} (see DECODING_STATE in codec_def.h)", sample.map(|s| format!(" sample {s}")).unwrap_or_default())]
    Decode {
        /// The sample being decoded (`None` while flushing).
        sample: Option<u64>,
        /// OpenH264's `DECODING_STATE` bits.
        state: i32,
    },
    /// The decoder did not give back one picture per sample, in presentation order.
    #[error("group starting at sample {first_sample}: {what}")]
    Frames {
        /// First sample the group outputs.
        first_sample: usize,
        /// What went wrong.
        what: String,
    },
    /// The input uses a feature the re-encode path cannot handle.
    #[error("cannot re-encode: {what}")]
    Unsupported {
        /// Which feature.
        what: String,
    },
    /// The requested output is invalid.
    #[error("output: {what}")]
    Target {
        /// What is wrong with it.
        what: String,
    },
    /// The scaler failed.
    #[error("scaling: {what}")]
    Scale {
        /// fast_image_resize's message.
        what: String,
    },
    /// OpenH264 failed outside decoding (creation, encoding).
    #[error("OpenH264: {what}")]
    Codec {
        /// What failed.
        what: String,
    },
    /// The spool could not be written.
    #[error("cannot write the re-encoded video to {path}: {source}")]
    Spool {
        /// Where the spool is.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// An error inside the span, with the input it happened in.
    #[error("{file}: {source}")]
    In {
        /// The input's name.
        file: String,
        /// The error.
        source: Box<TranscodeError>,
    },
}

/// The samples to re-encode, in decode order, and what is needed to decode them.
pub struct VideoSpan<'a> {
    /// Where the sample bytes are.
    pub source: &'a dyn Source,
    /// The sample entry's decoder configuration (SPS, PPS, NAL length size).
    pub avcc: &'a AvcDecoderConfig,
    /// Timescale of the sample times.
    pub timescale: u32,
    /// The track header matrix (display rotation).
    pub matrix: [i32; 9],
    /// The samples. The first one must be a keyframe the decoder can start at (an IDR).
    pub samples: &'a [Sample],
    /// How many leading samples are decoded only as references, not output (for a span that
    /// starts inside an open GOP: the caller passes samples from the previous IDR on).
    pub preroll: usize,
}

impl VideoSpan<'_> {
    /// Reads sample `idx` into `buf`.
    fn read_sample(&self, idx: usize, buf: &mut Vec<u8>) -> Result<(), TranscodeError> {
        let s = self.samples[idx];
        let end = s.offset.checked_add(u64::from(s.size));
        if s.size > MAX_SAMPLE || end.is_none_or(|e| e > self.source.len()) {
            return Err(TranscodeError::Read {
                file: self.source.name().to_string(),
                sample: idx,
                offset: s.offset,
                source: std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "sample of {} bytes is larger than {MAX_SAMPLE} or runs past the end of the file ({} bytes)",
                        s.size,
                        self.source.len()
                    ),
                ),
            });
        }
        buf.resize(s.size as usize, 0);
        self.source
            .read_at(s.offset, buf)
            .map_err(|source| TranscodeError::Read {
                file: self.source.name().to_string(),
                sample: idx,
                offset: s.offset,
                source,
            })
    }

    fn check(&self) -> Result<Rotation, TranscodeError> {
        let sps = self
            .avcc
            .first_sps()
            .map_err(|e| TranscodeError::Unsupported {
                what: format!("avcC: {e}"),
            })?;
        if sps.chroma_format_idc != 1 || sps.bit_depth_luma != 8 || sps.bit_depth_chroma != 8 {
            return Err(TranscodeError::Unsupported {
                what: format!(
                    "OpenH264 decodes 8-bit 4:2:0 only; this stream is {} at {} bits",
                    sps.chroma_format(),
                    sps.bit_depth_luma
                ),
            });
        }
        if !sps.frame_mbs_only {
            return Err(TranscodeError::Unsupported {
                what: "interlaced H.264 (field pictures or MBAFF): OpenH264 decodes progressive frames only".into(),
            });
        }
        if self.preroll >= self.samples.len() {
            return Err(TranscodeError::Target {
                what: format!(
                    "span of {} samples has nothing after its preroll of {}",
                    self.samples.len(),
                    self.preroll
                ),
            });
        }
        if self.timescale == 0 {
            return Err(TranscodeError::Target {
                what: "timescale 0".into(),
            });
        }
        Rotation::from_matrix(&self.matrix)
    }
}

/// The output picture format and rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoTarget {
    /// Output width (even).
    pub width: u32,
    /// Output height (even).
    pub height: u32,
    /// How a picture of another aspect ratio is fitted.
    pub fit: Fit,
    /// Bitrate in bits per second (the caller measures it on the copied fragments).
    pub bitrate: u32,
    /// Keyframe interval in frames (0: one IDR per input GOP). Every group starts with an IDR.
    pub gop: u32,
    /// Frame rate `(num, den)` the rate control budgets for; `None`: the span's mean rate. Timing
    /// is not changed: every picture keeps its presentation time.
    pub fps: Option<(u32, u32)>,
}

/// How to run a re-encode.
#[derive(Clone, Copy, Default)]
pub struct Options<'a> {
    /// Worker threads (0: all cores).
    pub threads: usize,
    /// Directory for the spool file (beside the output); `None` keeps the coded bytes in memory.
    pub spool_dir: Option<&'a Path>,
    /// Called with the number of pictures re-encoded so far (from any worker thread).
    pub progress: Option<&'a (dyn Fn(u64) + Sync)>,
}

/// One re-encoded picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodedSample {
    /// Offset of its bytes in [`Encoded::data`].
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
    /// Decode time in the input's timescale: its presentation time (the encoder does not reorder).
    pub dts: i64,
    /// Always 0.
    pub cts_offset: i32,
    /// Duration in the input's timescale: to the next picture's presentation time; the last one
    /// ends where the input span ends (first presentation time plus the sum of its durations).
    pub duration: u32,
    /// True for IDR pictures.
    pub sync: bool,
}

/// The re-encoded span.
#[derive(Debug)]
pub struct Encoded {
    /// The `avcC` payload for the sample entry (4-byte NAL lengths).
    pub avcc: Bytes,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// Timescale of the sample times (the input's).
    pub timescale: u32,
    /// The pictures in decode (= presentation) order.
    pub samples: Vec<EncodedSample>,
    /// Where the sample bytes are.
    pub data: Arc<dyn Source>,
}

/// Decodes every sample of `span` with one decoder, in order, and hands each output picture
/// (presentation order, `preroll` ones left out) to `out` with its sample index. For tests and
/// decode coverage measurements; [`reencode`] runs groups in parallel instead.
pub fn decode(
    span: &VideoSpan<'_>,
    out: &mut dyn FnMut(usize, Frame) -> Result<(), TranscodeError>,
) -> Result<(), TranscodeError> {
    span.check()?;
    let wrap = |e| TranscodeError::In {
        file: span.source.name().to_string(),
        source: Box::new(e),
    };
    let mut decoder = decode::Decoder::new(span.avcc).map_err(wrap)?;
    let mut handle = |frame: Frame, tag: u64| match usize::try_from(tag) {
        Ok(i) if i >= span.preroll && i < span.samples.len() => out(i, frame),
        _ => Ok(()),
    };
    let mut buf = Vec::new();
    for idx in 0..span.samples.len() {
        span.read_sample(idx, &mut buf)?;
        decoder
            .decode(&buf, idx as u64, &mut handle)
            .map_err(wrap)?;
    }
    decoder.flush(&mut handle).map_err(wrap)
}

/// Re-encodes `span` to `target`. See the module documentation for memory and determinism.
pub fn reencode(
    span: &VideoSpan<'_>,
    target: &VideoTarget,
    options: &Options<'_>,
) -> Result<Encoded, TranscodeError> {
    let rotation = span.check()?;
    let mbs = u64::from(target.width.div_ceil(16)) * u64::from(target.height.div_ceil(16));
    if target.width > 4096 || target.height > 4096 || mbs > MAX_OUTPUT_MBS || target.bitrate == 0 {
        return Err(TranscodeError::Target {
            what: format!(
                "{}x{} at {} bit/s: OpenH264 encodes up to 4096 on a side and {MAX_OUTPUT_MBS} macroblocks (level 5.2) at a non-zero bitrate",
                target.width, target.height, target.bitrate
            ),
        });
    }
    let wrap = |e: TranscodeError| match e {
        e @ (TranscodeError::Read { .. } | TranscodeError::Spool { .. }) => e,
        e => TranscodeError::In {
            file: span.source.name().to_string(),
            source: Box::new(e),
        },
    };
    let settings = EncoderSettings {
        width: target.width,
        height: target.height,
        bitrate: target.bitrate,
        fps: frame_rate(span, target)?,
        gop: target.gop,
    };
    let owned = &span.samples[span.preroll..];
    let base_cts = owned.iter().map(Sample::cts).min().unwrap_or(0);
    let mut buf = Vec::new();
    let mut idr = |i: usize| -> Result<bool, TranscodeError> {
        span.read_sample(i, &mut buf)?;
        Ok(group::is_idr(&buf, span.avcc.length_size))
    };
    let groups = group::split(span, &mut idr).map_err(wrap)?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TranscodeError::Codec {
            what: format!("cannot start {threads} worker threads: {e}"),
        })?;
    let done = AtomicU64::new(0);
    let job = group::Job {
        span,
        rotation,
        fit: target.fit,
        settings,
        base_cts,
        done: &done,
        progress: options.progress,
    };
    let mut spool = spool::Spool::new(options.spool_dir)?;
    let mut coded_order: Vec<(usize, u64, u32, bool)> = Vec::with_capacity(owned.len());
    let mut parameter_sets: Option<(Vec<u8>, Vec<u8>)> = None;
    for batch in groups.chunks(threads) {
        use rayon::prelude::*;
        let results: Vec<Result<group::GroupOutput, TranscodeError>> =
            pool.install(|| batch.par_iter().map(|g| group::run(&job, g)).collect());
        for result in results {
            let out = result.map_err(wrap)?;
            match &parameter_sets {
                None => parameter_sets = Some((out.sps.clone(), out.pps.clone())),
                Some((sps, pps)) if *sps == out.sps && *pps == out.pps => {}
                Some(_) => {
                    return Err(TranscodeError::Codec {
                        what: "groups were encoded with different SPS/PPS".into(),
                    })
                }
            }
            for (idx, coded) in out.coded {
                let (offset, size) = spool.append(&coded.data)?;
                coded_order.push((idx, offset, size, coded.idr));
            }
        }
    }
    let (sps, pps) = parameter_sets.ok_or_else(|| TranscodeError::Codec {
        what: "no picture was encoded".into(),
    })?;
    let avcc = avcc_from_parameter_sets(&[&sps], &[&pps], 4)
        .map_err(|e| TranscodeError::Codec {
            what: format!("encoder's parameter sets: {e}"),
        })?
        .encode();
    let samples = timing(span, &coded_order)?;
    Ok(Encoded {
        avcc: Bytes::from(avcc),
        width: target.width,
        height: target.height,
        timescale: span.timescale,
        samples,
        data: spool.finish()?,
    })
}

/// The frame rate the encoder's rate control budgets for.
fn frame_rate(span: &VideoSpan<'_>, target: &VideoTarget) -> Result<f32, TranscodeError> {
    // A rate-control hint only (no timestamp is derived from it), so a float is fine here.
    let fps = match target.fps {
        Some((num, den)) if num > 0 && den > 0 => f64::from(num) / f64::from(den),
        Some((num, den)) => {
            return Err(TranscodeError::Target {
                what: format!("frame rate {num}/{den}"),
            })
        }
        None => {
            let owned = &span.samples[span.preroll..];
            let ticks: u64 = owned.iter().map(|s| u64::from(s.duration)).sum();
            if ticks == 0 {
                30.0
            } else {
                owned.len() as f64 * f64::from(span.timescale) / ticks as f64
            }
        }
    };
    Ok(fps.clamp(1.0, 240.0) as f32)
}

/// Output timing: each picture keeps its presentation time; durations run to the next one.
fn timing(
    span: &VideoSpan<'_>,
    coded: &[(usize, u64, u32, bool)],
) -> Result<Vec<EncodedSample>, TranscodeError> {
    let owned = &span.samples[span.preroll..];
    let first = owned.iter().map(Sample::cts).min().unwrap_or(0);
    let total: i64 = owned.iter().map(|s| i64::from(s.duration)).sum();
    let end = first
        .checked_add(total)
        .ok_or_else(|| TranscodeError::Target {
            what: "span duration overflows".into(),
        })?;
    let mut out = Vec::with_capacity(coded.len());
    for (k, &(idx, offset, size, sync)) in coded.iter().enumerate() {
        let pts = span.samples[idx].cts();
        let next = match coded.get(k + 1) {
            Some(&(n, ..)) => span.samples[n].cts(),
            None if end > pts => end,
            None => pts + i64::from(span.samples[idx].duration.max(1)),
        };
        let duration = next
            .checked_sub(pts)
            .filter(|d| *d > 0)
            .and_then(|d| u32::try_from(d).ok())
            .ok_or_else(|| TranscodeError::Frames {
                first_sample: span.preroll,
                what: format!(
                    "picture of sample {idx} at {pts} is not before the next one at {next}"
                ),
            })?;
        out.push(EncodedSample {
            offset,
            size,
            dts: pts,
            cts_offset: 0,
            duration,
            sync,
        });
    }
    Ok(out)
}
