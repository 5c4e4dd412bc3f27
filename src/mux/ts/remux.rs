//! Transport stream to transport stream: every access unit the demuxer
//! ([`crate::demux::ts::demux_all`]) finds, written again by [`TsWriter`] with its PTS and DTS on
//! the demuxer's unwrapped program timeline (wrapped to 33 bits again on write) and its
//! `random_access_indicator` as the keyframe flag. Used to test the muxer against the demuxer
//! and ffmpeg, and to clean up a recorder's stream (continuity, tables, stuffing).

use std::io::Write;

use super::{TsMuxError, TsMuxOptions, TsStream, TsWriter};
use crate::demux::ts::{demux_all, Event, StreamType, TsError, TsLimits, TsWarning};

/// Errors of [`remux_ts`].
#[derive(Debug, thiserror::Error)]
pub enum TsRemuxError {
    /// The input could not be demuxed.
    #[error(transparent)]
    Demux(#[from] TsError),
    /// The input has no H.264, H.265 or AAC stream.
    #[error("{0}: no H.264, H.265 or AAC stream")]
    NoStreams(String),
    /// An access unit without a PTS (a PES header without `PTS_DTS_flags`).
    #[error("{name}: PID 0x{pid:04x}: access unit at byte {offset} has no PTS")]
    NoTimestamp {
        /// The input.
        name: String,
        /// Its PID.
        pid: u16,
        /// Its file offset.
        offset: u64,
    },
    /// Writing an access unit failed.
    #[error("{name}: PID 0x{pid:04x}: access unit at byte {offset}: {source}")]
    Mux {
        /// The input.
        name: String,
        /// Its PID.
        pid: u16,
        /// Its file offset.
        offset: u64,
        /// Why.
        source: TsMuxError,
    },
    /// The writer failed outside an access unit (creating it, flushing).
    #[error(transparent)]
    Writer(#[from] TsMuxError),
}

/// What [`remux_ts`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RemuxReport {
    /// The input PIDs, in output stream order (output PID `first_pid + i`).
    pub pids: Vec<u16>,
    /// Access units written, per output stream.
    pub access_units: Vec<u64>,
    /// Of those, units the demuxer marked damaged (written as they are).
    pub damaged: u64,
    /// Access units the writer refused, left out: a decode time not above the previous one
    /// (damaged timestamps, or a jump back), a PTS before the DTS, a payload that is not Annex
    /// B or ADTS (damaged bytes).
    pub skipped: Vec<SkippedUnit>,
    /// What the demuxer stepped over.
    pub warnings: Vec<TsWarning>,
}

/// An access unit [`remux_ts`] left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedUnit {
    /// Its PID in the input.
    pub pid: u16,
    /// File offset of the packet it starts in.
    pub offset: u64,
    /// Why the writer refused it.
    pub reason: String,
}

/// Re-muxes the transport stream `data` (called `name` in messages) to `out`: its H.264, H.265
/// and AAC streams in PMT order, every access unit in the order the demuxer completes them.
/// Units the writer refuses are left out and listed in [`RemuxReport::skipped`] (after a jump
/// back in time, that is every unit until the stream passes its previous decode time); only
/// a write error stops the remux ([`TsRemuxError::Mux`]).
pub fn remux_ts<W: Write>(
    name: &str,
    data: &[u8],
    out: W,
    opts: TsMuxOptions,
) -> Result<(W, RemuxReport), TsRemuxError> {
    let (events, result) = demux_all(name, data, &TsLimits::default());
    result?;
    let mut report = RemuxReport::default();
    let mut streams = Vec::new();
    for e in &events {
        if let Event::Stream {
            pid, stream_type, ..
        } = e
        {
            if !report.pids.contains(pid) {
                report.pids.push(*pid);
                streams.push(match stream_type {
                    StreamType::H264 => TsStream::h264(Vec::new()),
                    StreamType::H265 => TsStream::h265(Vec::new()),
                    StreamType::AacAdts => TsStream::aac_adts(),
                });
            }
        }
    }
    if streams.is_empty() {
        return Err(TsRemuxError::NoStreams(name.to_string()));
    }
    report.access_units = vec![0; streams.len()];
    let mut w = TsWriter::new(out, streams, opts)?;
    let mut bytes = Vec::new();
    for e in events {
        let au = match e {
            Event::AccessUnit(au) => au,
            Event::Warning(warning) => {
                report.warnings.push(warning);
                continue;
            }
            Event::Stream { .. } | Event::Discontinuity { .. } => continue,
        };
        let Some(stream) = report.pids.iter().position(|&p| p == au.pid) else {
            continue;
        };
        let (Some(pts), Some(dts)) = (au.timeline_pts, au.timeline_dts) else {
            return Err(TsRemuxError::NoTimestamp {
                name: name.to_string(),
                pid: au.pid,
                offset: au.offset,
            });
        };
        bytes.clear();
        for r in &au.pieces {
            // The demuxer's ranges lie inside `data`; a range that does not is skipped rather
            // than trusted.
            let piece = usize::try_from(r.start)
                .ok()
                .zip(usize::try_from(r.end).ok())
                .and_then(|(s, e)| data.get(s..e))
                .unwrap_or_default();
            bytes.extend_from_slice(piece);
        }
        match w.write_access_unit(stream, pts, dts, au.random_access, &bytes) {
            Ok(()) => {}
            Err(source @ TsMuxError::Io(_)) => {
                return Err(TsRemuxError::Mux {
                    name: name.to_string(),
                    pid: au.pid,
                    offset: au.offset,
                    source,
                })
            }
            Err(refused) => {
                report.skipped.push(SkippedUnit {
                    pid: au.pid,
                    offset: au.offset,
                    reason: refused.to_string(),
                });
                continue;
            }
        }
        if let Some(n) = report.access_units.get_mut(stream) {
            *n = n.saturating_add(1);
        }
        if au.damaged {
            report.damaged = report.damaged.saturating_add(1);
        }
    }
    Ok((w.finish()?, report))
}
