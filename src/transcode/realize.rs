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
use crate::model::{CodecConfig, Edit, Media, Sample, SampleTable, Track, TrackKind};
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

/// Re-encodes what the inputs need so that every track joins: today, audio whose sample rate,
/// channel count or object type differs from the output track's. Does nothing when something
/// else stops the join (video to re-encode, a refusal: the planner then names it) or when
/// `refuse` (`--on-mismatch error`).
pub fn realize(medias: &mut [Media], refuse: bool) -> Result<Vec<Transcoded>, AudioError> {
    if refuse || medias.len() < 2 {
        return Ok(Vec::new());
    }
    let decisions = decide(medias);
    let blocked = decisions.iter().any(|f| {
        f.tracks.iter().enumerate().any(|(k, t)| {
            t.decision == Decision::Refuse
                || (t.decision == Decision::Reencode
                    && kind_of(medias, &decisions, k) != Some(TrackKind::Audio))
        })
    });
    if blocked {
        return Ok(Vec::new());
    }
    let jobs = audio_jobs(medias, &decisions);
    let done = run_parallel(medias, &jobs);
    let mut out = Vec::with_capacity(jobs.len());
    for (job, result) in jobs.iter().zip(done) {
        let (encoded, seconds) = result?;
        let m = &mut medias[job.input];
        let input_samples = m.tracks[job.track].samples.len();
        let output_samples = encoded.sizes.len();
        replace_track(m, job, encoded)?;
        out.push(Transcoded {
            input: job.input,
            file: m.name().to_string(),
            track: job.label.clone(),
            output_track: job.output_track,
            reason: job.reason.clone(),
            input_samples,
            output_samples,
            seconds,
        });
    }
    Ok(out)
}

/// One track to re-encode, and the output track it must match.
struct Job {
    input: usize,
    track: usize,
    label: String,
    output_track: usize,
    reason: String,
    target: AudioTarget,
    /// The output track's sample description and timescale.
    reference: (crate::model::SampleEntry, u32),
}

/// The kind of output track `k` (from the fragment that sets its format).
fn kind_of(medias: &[Media], decisions: &[FragmentDecisions], k: usize) -> Option<TrackKind> {
    decisions.iter().find_map(|f| {
        let d = f.tracks.get(k)?;
        let t = medias.get(f.input)?.tracks.get(d.input_track?)?;
        Some(t.kind)
    })
}

fn audio_jobs(medias: &[Media], decisions: &[FragmentDecisions]) -> Vec<Job> {
    let mut jobs = Vec::new();
    for f in decisions {
        for (k, d) in f.tracks.iter().enumerate() {
            if d.decision != Decision::Reencode {
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
                input: f.input,
                track: ti,
                label: d.track.clone(),
                output_track: k,
                reason: d.reason.clone(),
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
                        let m = &medias[job.input];
                        let started = Instant::now();
                        reencode_track(&*m.source, &m.tracks[job.track], &job.target)
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
    let old = &m.tracks[job.track];
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
    m.tracks[job.track] = track;
    m.source = source;
    Ok(())
}
