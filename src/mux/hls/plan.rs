//! A [`StitchPlan`] written as HLS with MPEG-TS segments (RFC 8216 §3.2): `seam stitch -o
//! out.m3u8`.
//!
//! The cut track is the first carried video track, else the first audio one
//! ([`TsTracks::cut_track`]); [`segment`] cuts it at keyframes on the target-duration grid, using
//! the 90 kHz presentation times the segments are written with, and every other track follows by
//! time ([`audio_ranges`], decode times for tracks other than the cut one: they are what orders
//! the samples of a stream). Each segment is a transport stream of its own from a fresh
//! [`TsWriter`]: it starts with the PAT and PMT and, for the cut track, a keyframe, so it decodes
//! alone (RFC 8216 §3.2 requires the tables in every segment; §4.3.5.1
//! `EXT-X-INDEPENDENT-SEGMENTS`); continuity counters restart, which a reader of a new segment
//! expects anyway. Timestamps continue across segments (one base for the whole output, see
//! [`crate::mux::ts::plan`]), so no `EXT-X-DISCONTINUITY` is needed.
//!
//! Segment durations are the segmenter's exact 90 kHz tick counts; the playlist is written last
//! through [`HlsOutput`], which moves everything into place only when all segments are complete.

use std::ops::Range;

use super::{audio_ranges, segment, HlsError, HlsOutput, SampleTime, SegmentInfo, TargetDuration};
use crate::mux::ts::carry::TS_CLOCK;
use crate::mux::ts::plan::{payload_bytes, Clock, Counting, Muxer, TsOutError, TsReport, TsTracks};
use crate::mux::ts::{TsMuxOptions, TsWriter};
use crate::plan::StitchPlan;

/// Errors of HLS output.
#[derive(Debug, thiserror::Error)]
pub enum HlsOutError {
    /// Cutting or writing the playlist and segments.
    #[error(transparent)]
    Hls(#[from] HlsError),
    /// Writing a segment's transport stream.
    #[error("segment {segment}: {source}")]
    Ts {
        /// The segment number.
        segment: usize,
        /// Why.
        #[source]
        source: TsOutError,
    },
    /// Preparing the tracks.
    #[error(transparent)]
    Tracks(TsOutError),
}

/// What an HLS output holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HlsReport {
    /// The segments listed, in order.
    pub segments: Vec<SegmentInfo>,
    /// Bytes of all segments, and the access units written per carried track.
    pub ts: TsReport,
}

/// The 90 kHz times of carried track `i`'s samples (`pts` = DTS for tracks other than the cut
/// one, see the module documentation).
fn times(
    plan: &StitchPlan,
    tracks: &TsTracks,
    i: usize,
    by_pts: bool,
) -> Result<Vec<SampleTime>, TsOutError> {
    let c = &tracks.carried[i];
    let samples = &plan.tracks[c.track].samples;
    let mut clock = Clock::new(tracks.carried.len());
    let mut out = Vec::with_capacity(samples.len());
    for (k, s) in samples.iter().enumerate() {
        let (dts, pts) = clock.next(i, c, k, &s)?;
        // The sample's end, rounded once like its start; a duration that rounds to nothing
        // stays 0 (the segmenter only needs the largest end).
        let end = c.map.sample_end(&s).ok_or(TsOutError::Sample {
            track: c.track + 1,
            sample: k,
            what: "timestamp out of range".into(),
        })?;
        let start = if by_pts { pts } else { dts };
        out.push(SampleTime {
            dts,
            pts: start,
            duration: u32::try_from(end.saturating_sub(pts).max(0)).unwrap_or(u32::MAX),
            keyframe: s.sync,
        });
    }
    Ok(out)
}

/// Cuts the plan into segments and writes them and the playlist through `out`.
/// `progress` gets (sample bytes read, total sample bytes).
pub fn write_plan_hls(
    plan: &StitchPlan,
    tracks: &TsTracks,
    out: &mut HlsOutput,
    target: TargetDuration,
    opts: &TsMuxOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<HlsReport, HlsOutError> {
    let cut = tracks.cut_track();
    let cut_times = times(plan, tracks, cut, true).map_err(HlsOutError::Tracks)?;
    let segments = segment(cut_times.iter().copied(), TS_CLOCK, target)?;
    drop(cut_times);
    // Per carried track, its sample range in each segment.
    let mut per_track: Vec<Vec<Range<usize>>> = Vec::with_capacity(tracks.carried.len());
    for i in 0..tracks.carried.len() {
        if i == cut {
            per_track.push(segments.iter().map(|s| s.samples()).collect());
        } else {
            let t = times(plan, tracks, i, false).map_err(HlsOutError::Tracks)?;
            per_track.push(audio_ranges(&segments, TS_CLOCK, &t, TS_CLOCK)?);
        }
    }
    let total = payload_bytes(plan, tracks);
    let mut m = Muxer::new(plan, tracks);
    let mut bytes = 0u64;
    let mut infos = Vec::with_capacity(segments.len());
    for (k, seg) in segments.iter().enumerate() {
        let ranges: Vec<Range<usize>> = per_track
            .iter()
            .map(|r| r.get(k).cloned().unwrap_or(0..0))
            .collect();
        let ts_err = |source| HlsOutError::Ts { segment: k, source };
        let file = out.segment_writer(k)?;
        let mut w = TsWriter::new(
            Counting { inner: file, n: 0 },
            tracks.streams(),
            opts.clone(),
        )
        .map_err(|e| ts_err(TsOutError::Writer(e)))?;
        m.write(&mut w, &ranges, &mut |done| progress(done, total))
            .map_err(ts_err)?;
        let done = w.finish().map_err(|e| ts_err(TsOutError::Writer(e)))?;
        bytes = bytes.saturating_add(done.n);
        done.inner.close()?;
        infos.push(SegmentInfo::from_segment(seg, TS_CLOCK));
    }
    Ok(HlsReport {
        segments: infos,
        ts: m.report(bytes),
    })
}
