//! Between demuxing and planning: the fragments [`crate::plan::decide`] marks for re-encoding are
//! re-encoded, and each such track is replaced by one whose samples are the new access units.
//!
//! The new bytes are appended to the input's source ([`ConcatSource`] of the input and the bytes
//! made), so a re-encoded sample is a byte range like any other: the planner, the report and
//! every muxer handle it without knowing it was made, and output sizes stay known before writing.
//! The new track takes the output track's sample description and timescale (so it is copied under
//! the output's entry) and keeps the input's edit list, rescaled: it is presented where the
//! original was, with the original's own priming hidden.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;

use super::audio::{reencode_track, AudioError, AudioTarget, ReencodedAudio};
use super::video::{self, Encoded, Fit, VideoSpan, VideoTarget};
use crate::model::{CodecConfig, Edit, Media, Sample, SampleEntry, SampleTable, Track, TrackKind};
use crate::plan::{decide, Decision, FragmentDecisions};
use crate::source::{ConcatSource, MemSource, Source};
use crate::time::{rescale, Rounding};

/// One re-encoded track, for the report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transcoded {
    /// Index of the input (as planned: parts of playlists and split files counted).
    pub input: usize,
    /// Its name.
    pub file: String,
    /// The output track, as messages name it (`audio`, `audio track 2`...).
    pub track: String,
    /// Its index among the output tracks (its `tkhd` track ID minus one).
    pub output_track: usize,
    /// Why it was re-encoded.
    pub reason: String,
    /// Samples read from the input track.
    pub input_samples: usize,
    /// Access units made.
    pub output_samples: usize,
    /// Wall-clock seconds spent.
    pub seconds: f64,
}

/// How [`realize`] runs.
#[derive(Clone, Copy, Default)]
pub struct RealizeOptions<'a> {
    /// Re-encode nothing (`--on-mismatch error`): the planner then refuses what differs.
    pub refuse: bool,
    /// Threads for video re-encoding (0: all cores).
    pub threads: usize,
    /// How a picture of another shape fills the output's.
    pub fit: Fit,
    /// Where re-encoded video waits for the muxer (beside the output); memory when `None`.
    pub spool_dir: Option<&'a std::path::Path>,
    /// Called with the number of video frames re-encoded so far, across fragments.
    pub progress: Option<&'a (dyn Fn(u64) + Send + Sync)>,
}

/// Re-encodes what the inputs need so that every track joins: audio whose sample rate, channel
/// count or object type differs from the output track's, and H.264 video of another picture
/// size or orientation (to the output's size and upright, OpenH264). Does nothing when something
/// else stops the join (a refusal: the planner then names it) or when `options.refuse`.
pub fn realize(
    medias: &mut [Media],
    options: &RealizeOptions<'_>,
) -> Result<Vec<Transcoded>, crate::Error> {
    if options.refuse || medias.len() < 2 {
        return Ok(Vec::new());
    }
    let decisions = decide(medias);
    if decisions
        .iter()
        .any(|f| f.tracks.iter().any(|t| t.decision == Decision::Refuse))
    {
        return Ok(Vec::new());
    }
    let video = video_jobs(medias, &decisions)?;
    let mut out = Vec::new();
    let mut done_before = 0u64;
    for job in &video {
        let started = Instant::now();
        let encoded = run_video(medias, job, options, done_before)?;
        done_before += encoded.samples.len() as u64;
        let m = &mut medias[job.id.input];
        let mut report = job.id.report(m, encoded.samples.len());
        replace_video(m, job, encoded)?;
        report.seconds = started.elapsed().as_secs_f64();
        out.push(report);
    }
    out.extend(realize_audio(medias, &decisions)?);
    Ok(out)
}

fn realize_audio(
    medias: &mut [Media],
    decisions: &[FragmentDecisions],
) -> Result<Vec<Transcoded>, AudioError> {
    let jobs = audio_jobs(medias, decisions);
    let done = run_parallel(medias, &jobs);
    let mut out = Vec::with_capacity(jobs.len());
    for (job, result) in jobs.iter().zip(done) {
        let (encoded, seconds) = result?;
        let m = &mut medias[job.id.input];
        let mut report = job.id.report(m, encoded.sizes.len());
        replace_track(m, job, encoded)?;
        report.seconds = seconds;
        out.push(report);
    }
    Ok(out)
}

/// Which input track a job re-encodes, and why: what the report says of it.
struct JobId {
    input: usize,
    track: usize,
    label: String,
    output_track: usize,
    reason: String,
}

impl JobId {
    fn from(f: &FragmentDecisions, k: usize, ti: usize) -> JobId {
        let d = &f.tracks[k];
        JobId {
            input: f.input,
            track: ti,
            label: d.track.clone(),
            output_track: k,
            reason: d.reason.clone(),
        }
    }

    /// The report of this job on `m` (before its track is replaced).
    fn report(&self, m: &Media, output_samples: usize) -> Transcoded {
        Transcoded {
            input: self.input,
            file: m.name().to_string(),
            track: self.label.clone(),
            output_track: self.output_track,
            reason: self.reason.clone(),
            input_samples: m.tracks[self.track].samples.len(),
            output_samples,
            seconds: 0.0,
        }
    }
}

/// One track to re-encode, and the output track it must match.
struct Job {
    id: JobId,
    target: AudioTarget,
    /// The output track's sample description and timescale.
    reference: (crate::model::SampleEntry, u32),
}

/// One video track to re-encode to the output track's picture format.
struct VideoJob {
    id: JobId,
    target: VideoTarget,
    /// The output track's sample description (its avcC is replaced by the encoder's).
    reference_entry: SampleEntry,
    /// The output track's display matrix and tkhd size: the re-encoded pictures are upright in
    /// the output's frame.
    reference_header: crate::model::TrackHeader,
}

/// The output track that `k` names, from the fragment that sets its format.
fn reference_track<'a>(
    medias: &'a [Media],
    decisions: &[FragmentDecisions],
    k: usize,
) -> Option<&'a Track> {
    decisions.iter().find_map(|g| {
        let r = g.tracks.get(k)?;
        r.sets_format
            .then(|| medias[g.input].tracks.get(r.input_track?))
            .flatten()
    })
}

/// The video tracks to re-encode. H.264 to H.264 only: another codec on either side is an error
/// naming the fragment (OpenH264 decodes and encodes H.264).
fn video_jobs(
    medias: &[Media],
    decisions: &[FragmentDecisions],
) -> Result<Vec<VideoJob>, crate::Error> {
    let mut jobs = Vec::new();
    for f in decisions {
        for (k, d) in f.tracks.iter().enumerate() {
            if d.decision != Decision::Reencode || d.kind != "video" {
                continue;
            }
            let Some(ti) = d.input_track else { continue };
            let m = &medias[f.input];
            let cannot = |what: String| {
                crate::Error::from(video::TranscodeError::In {
                    file: m.name().to_string(),
                    source: Box::new(video::TranscodeError::Unsupported { what }),
                })
            };
            let Some(rt) = reference_track(medias, decisions, k) else {
                continue;
            };
            let (Some(re), Some(e)) = (rt.entry(), m.tracks[ti].entry()) else {
                continue;
            };
            let CodecConfig::H264 {
                config: Some(rc), ..
            } = &re.codec
            else {
                return Err(cannot(format!(
                    "{} ({}): the output's video is {}, and seam re-encodes to H.264 only",
                    d.track,
                    d.reason,
                    re.codec.name(re.format)
                )));
            };
            if !matches!(
                e.codec,
                CodecConfig::H264 {
                    config: Some(_),
                    ..
                }
            ) {
                return Err(cannot(format!(
                    "{} ({}): seam decodes H.264 (with avcC) only, this fragment is {}",
                    d.track,
                    d.reason,
                    e.codec.name(e.format)
                )));
            }
            if m.tracks[ti].sample_entries.len() > 1 {
                return Err(cannot(format!(
                    "{}: re-encoding a track with {} sample descriptions is not supported",
                    d.track,
                    m.tracks[ti].sample_entries.len()
                )));
            }
            let sps = rc
                .first_sps()
                .map_err(|e| cannot(format!("output avcC: {e}")))?;
            jobs.push(VideoJob {
                id: JobId::from(f, k, ti),
                target: VideoTarget {
                    width: sps.width,
                    height: sps.height,
                    fit: Fit::default(),
                    bitrate: video_bitrate(rt),
                    gop: longest_gop(rt),
                    fps: None,
                },
                reference_entry: re.clone(),
                reference_header: rt.header.clone(),
            });
        }
    }
    Ok(jobs)
}

/// The bit rate of the copied track, so quality does not jump at the join (at least 100 kb/s).
pub(crate) fn video_bitrate(t: &Track) -> u32 {
    let bytes: u64 = t.samples.iter().map(|s| u64::from(s.size)).sum();
    let ticks = u64::try_from(t.media_duration()).unwrap_or(0).max(1);
    let bits = u128::from(bytes) * 8 * u128::from(t.timescale) / u128::from(ticks);
    u32::try_from(bits.max(100_000)).unwrap_or(u32::MAX)
}

/// The copied track's longest keyframe interval in frames: the re-encoded fragment seeks alike.
fn longest_gop(t: &Track) -> u32 {
    let (mut longest, mut run) = (0u32, 0u32);
    for s in t.samples.iter() {
        if s.sync && run > 0 {
            longest = longest.max(run);
            run = 0;
        }
        run = run.saturating_add(1);
    }
    longest.max(run)
}

fn run_video(
    medias: &[Media],
    job: &VideoJob,
    options: &RealizeOptions<'_>,
    done_before: u64,
) -> Result<Encoded, crate::Error> {
    let m = &medias[job.id.input];
    let t = &m.tracks[job.id.track];
    let Some(CodecConfig::H264 {
        config: Some(avcc), ..
    }) = t.entry().map(|e| &e.codec)
    else {
        return Err(video::TranscodeError::Unsupported {
            what: "not H.264".into(),
        }
        .into());
    };
    let samples: Vec<Sample> = t.samples.iter().collect();
    let span = VideoSpan {
        source: &*m.source,
        avcc,
        timescale: t.timescale,
        matrix: t.header.matrix,
        samples: &samples,
        preroll: 0,
    };
    let target = VideoTarget {
        fit: options.fit,
        ..job.target
    };
    let progress = options.progress.map(|p| move |n: u64| p(done_before + n));
    let run = video::Options {
        threads: options.threads,
        spool_dir: options.spool_dir,
        progress: progress.as_ref().map(|p| p as &(dyn Fn(u64) + Sync)),
    };
    Ok(video::reencode(&span, &target, &run)?)
}

/// Replaces the job's track of `m` by the re-encoded pictures, appended to its source. Every
/// picture keeps its presentation time (the encoder does not reorder: decode time = presentation
/// time), so the input's edit list still applies.
fn replace_video(m: &mut Media, job: &VideoJob, e: Encoded) -> Result<(), crate::Error> {
    let name = m.name().to_string();
    let fail = |what: String| {
        crate::Error::from(video::TranscodeError::In {
            file: name.clone(),
            source: Box::new(video::TranscodeError::Target { what }),
        })
    };
    let base = m.source.len();
    let source: Arc<dyn Source> = Arc::new(ConcatSource::named(
        vec![m.source.clone(), e.data.clone()],
        name.clone(),
    ));
    let entry = entry_with_avcc(&job.reference_entry, &e.avcc)
        .ok_or_else(|| fail("cannot build the re-encoded sample description".into()))?;
    let mut samples = SampleTable::new();
    samples.reserve(e.samples.len());
    for s in &e.samples {
        samples
            .push(Sample {
                offset: base + s.offset,
                dts: s.dts,
                size: s.size,
                duration: s.duration,
                cts_offset: s.cts_offset,
                entry: 0,
                sync: s.sync,
            })
            .map_err(|err| fail(err.to_string()))?;
    }
    let old = &m.tracks[job.id.track];
    let track = Track {
        id: old.id,
        kind: old.kind,
        handler: old.handler,
        timescale: e.timescale,
        language: old.language,
        header: job.reference_header.clone(),
        hdlr: old.hdlr.clone(),
        media_header: old.media_header.clone(),
        sample_entries: vec![entry],
        edits: old.edits.clone(),
        samples,
    };
    m.tracks[job.id.track] = track;
    m.source = source;
    Ok(())
}

/// The output's sample description with its `avcC` replaced by `avcc`: the other boxes (`pasp`,
/// `colr`...) describe the output picture, which the re-encoded one now is.
pub(crate) fn entry_with_avcc(reference: &SampleEntry, avcc: &Bytes) -> Option<SampleEntry> {
    let parts = crate::demux::mp4::entry::split_entry(&reference.raw)?;
    let mut body = Vec::with_capacity(reference.raw.len() + avcc.len());
    body.extend_from_slice(&reference.raw[4..8]);
    body.extend_from_slice(parts.fields);
    let mut replaced = false;
    for (kind, bytes) in &parts.children {
        if &kind.0 == b"avcC" {
            body.extend_from_slice(&u32::try_from(avcc.len() + 8).ok()?.to_be_bytes());
            body.extend_from_slice(b"avcC");
            body.extend_from_slice(avcc);
            replaced = true;
        } else {
            body.extend_from_slice(bytes);
        }
    }
    if !replaced {
        return None;
    }
    let mut raw = u32::try_from(body.len() + 4).ok()?.to_be_bytes().to_vec();
    raw.extend_from_slice(&body);
    let config = crate::codec::h264::AvcDecoderConfig::parse(avcc).ok()?;
    let CodecConfig::H264 { width, height, .. } = reference.codec else {
        return None;
    };
    Some(SampleEntry {
        raw: Bytes::from(raw),
        format: reference.format,
        codec: CodecConfig::H264 {
            width,
            height,
            config: Some(config),
        },
    })
}

fn audio_jobs(medias: &[Media], decisions: &[FragmentDecisions]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for f in decisions {
        for (k, d) in f.tracks.iter().enumerate() {
            if d.decision != Decision::Reencode || d.kind != "audio" {
                continue;
            }
            let Some(ti) = d.input_track else { continue };
            let reference = decisions.iter().find_map(|g| {
                let r = g.tracks.get(k)?;
                r.sets_format
                    .then(|| medias[g.input].tracks.get(r.input_track?))
                    .flatten()
            });
            let Some(rt) = reference else { continue };
            let (Some(entry), true) = (rt.entry(), rt.kind == TrackKind::Audio) else {
                continue;
            };
            let CodecConfig::Aac { config, .. } = &entry.codec else {
                continue;
            };
            jobs.push(Job {
                id: JobId::from(f, k, ti),
                target: AudioTarget {
                    asc: config.clone(),
                    bitrate: bitrate_of(rt, config.channels()),
                    timescale: rt.timescale,
                },
                reference: (entry.clone(), rt.timescale),
            });
        }
    }
    jobs
}

/// The bit rate of the track the re-encoded audio joins, so quality does not jump at the join:
/// its bytes over its duration, within what AAC encoders accept (16 to 320 kb/s per channel).
fn bitrate_of(t: &Track, channels: u8) -> u32 {
    let bytes: u64 = t.samples.iter().map(|s| u64::from(s.size)).sum();
    let ticks = u64::try_from(t.media_duration()).unwrap_or(0).max(1);
    let bits = u128::from(bytes) * 8 * u128::from(t.timescale) / u128::from(ticks);
    let ch = u128::from(channels.max(1));
    u32::try_from(bits.clamp(16_000 * ch, 320_000 * ch)).unwrap_or(128_000)
}

type JobResult = Result<(ReencodedAudio, f64), AudioError>;

/// Runs the jobs on up to as many threads as there are cores, results in job order.
fn run_parallel(medias: &[Media], jobs: &[Job]) -> Vec<JobResult> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut results: Vec<Option<JobResult>> = (0..jobs.len()).map(|_| None).collect();
    for (chunk, slots) in jobs.chunks(threads).zip(results.chunks_mut(threads)) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|job| {
                    s.spawn(move || {
                        let m = &medias[job.id.input];
                        let started = Instant::now();
                        reencode_track(&*m.source, &m.tracks[job.id.track], &job.target)
                            .map(|r| (r, started.elapsed().as_secs_f64()))
                    })
                })
                .collect();
            for (slot, h) in slots.iter_mut().zip(handles) {
                *slot = Some(h.join().unwrap_or_else(|_| {
                    Err(AudioError::Encode {
                        file: String::new(),
                        what: "the re-encoding thread panicked".into(),
                    })
                }));
            }
        });
    }
    results.into_iter().flatten().collect()
}

/// Replaces the job's track of `m` by the re-encoded access units, appended to its source.
fn replace_track(m: &mut Media, job: &Job, r: ReencodedAudio) -> Result<(), AudioError> {
    let name = m.name().to_string();
    let fail = |what: String| AudioError::Encode {
        file: name.clone(),
        what,
    };
    let base = m.source.len();
    let made: Arc<dyn Source> = Arc::new(MemSource::new(
        format!("{name} (re-encoded audio)"),
        Bytes::clone(&r.data),
    ));
    let source: Arc<dyn Source> = Arc::new(ConcatSource::named(
        vec![m.source.clone(), made],
        name.clone(),
    ));
    let old = &m.tracks[job.id.track];
    let (entry, timescale) = job.reference.clone();
    let mut samples = SampleTable::new();
    samples.reserve(r.sizes.len());
    let mut offset = base;
    for (k, &size) in r.sizes.iter().enumerate() {
        let dts = i64::try_from(k)
            .ok()
            .and_then(|k| k.checked_mul(i64::from(r.frame_duration)))
            .and_then(|d| d.checked_add(r.first_dts))
            .ok_or_else(|| fail("decode time overflow".into()))?;
        samples
            .push(Sample {
                offset,
                dts,
                size,
                duration: r.frame_duration,
                cts_offset: 0,
                entry: 0,
                sync: true,
            })
            .map_err(|e| fail(e.to_string()))?;
        offset += u64::from(size);
    }
    let edits = old
        .edits
        .iter()
        .map(|e| {
            let media_time = if e.is_empty() {
                Some(-1)
            } else {
                rescale(
                    e.media_time,
                    u64::from(old.timescale),
                    u64::from(timescale),
                    Rounding::Nearest,
                )
            };
            media_time
                .map(|media_time| Edit { media_time, ..*e })
                .ok_or_else(|| fail("edit list time overflow".into()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let track = Track {
        id: old.id,
        kind: old.kind,
        handler: old.handler,
        timescale,
        language: old.language,
        header: old.header.clone(),
        hdlr: old.hdlr.clone(),
        media_header: old.media_header.clone(),
        sample_entries: vec![entry],
        edits,
        samples,
    };
    m.tracks[job.id.track] = track;
    m.source = source;
    Ok(())
}
