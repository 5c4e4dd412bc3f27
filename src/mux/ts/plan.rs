//! A [`StitchPlan`] written as an MPEG transport stream (ISO/IEC 13818-1): `seam stitch -o out.ts`,
//! and the segments of HLS output ([`crate::mux::hls::plan`]).
//!
//! **What is carried.** H.264, H.265 and AAC tracks ([`carry`]); other tracks (timecode, other
//! codecs) are left out with a warning. Video samples go from length-prefixed NAL units
//! (ISO/IEC 14496-15 §5.3.2) to Annex B, the writer adding an access unit delimiter and, on
//! keyframes lacking them, the sample entry's parameter sets; raw AAC frames get an ADTS header
//! built from the AudioSpecificConfig. The NAL units and AAC frames themselves are copied
//! bit-exact.
//!
//! **Timing** is the track's presentation as its edit list gives it, rounded once to 90 kHz (see
//! [`carry`]), plus a base of 1.4 s (ffmpeg's default start, so that priming audio and B-frame
//! decode delays stay above zero; raised further if a track starts earlier than −1.4 s). The rare
//! decode time that rounds onto its predecessor's tick (a timescale above 90 kHz and samples less
//! than 11 µs apart) is moved one tick later and counted in [`TsReport::retimed`].
//!
//! **Decode-only frames** hidden by an MP4 edit list cannot be hidden in a transport stream.
//! Those before the first edit (the first input's pre-roll) get times before the presentation
//! start; those at a later join are shown for their own duration, every other track moving
//! later by as much, so A/V sync holds (see [`carry`]); the API warns for each.
//!
//! **Interleaving and mux delay.** Samples of all tracks are written in the order of their exact
//! decode times (compared as fractions of seconds, not rounded ticks; ties go to the lower track
//! index), so no stream runs ahead of another. The writer's PCR is the largest DTS written minus
//! [`super::TsMuxOptions::mux_delay`] (0.7 s by default): every access unit reaches the decoder
//! 0.7 s before its DTS, which is also the most skew between streams this order can produce
//! (none). Memory is one sample's bytes and its Annex B copy; nothing is collected.

use std::io::{self, Write};
use std::ops::Range;

use super::carry::{carry, Carried, NotCarried};
use super::{TsMuxError, TsMuxOptions, TsWriter};
use crate::codec::framing::{length_prefixed_to_annexb, length_prefixed_units, StartCodes};
use crate::plan::{OutSample, Payload, StitchPlan};

/// Where 90 kHz timestamps start: ffmpeg's mpegts muxer default (1.4 s), so files look familiar.
pub const DEFAULT_BASE: i64 = 126_000;

/// Errors of writing a plan as a transport stream.
#[derive(Debug, thiserror::Error)]
pub enum TsOutError {
    /// No track of the plan is H.264, H.265 or AAC.
    #[error("no track can be written to MPEG-TS (H.264, H.265 and AAC only): {0}")]
    NoTracks(String),
    /// A carried codec's sample entry does not parse.
    #[error("track {track}: sample entry: {what}")]
    Entry {
        /// Track ID (index + 1).
        track: usize,
        /// What is wrong.
        what: String,
    },
    /// A sample that cannot be converted (NAL lengths that do not add up, a time out of range).
    #[error("track {track}: sample {sample}: {what}")]
    Sample {
        /// Track ID (index + 1).
        track: usize,
        /// Sample index (decode order).
        sample: usize,
        /// What is wrong.
        what: String,
    },
    /// Reading a sample from its input failed.
    #[error("{input}: reading sample {sample} of track {track}: {source}")]
    Read {
        /// The input's name.
        input: String,
        /// Track ID (index + 1).
        track: usize,
        /// Sample index.
        sample: usize,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The writer refused an access unit, or writing it failed.
    #[error("track {track}: sample {sample}: {source}")]
    Mux {
        /// Track ID (index + 1).
        track: usize,
        /// Sample index.
        sample: usize,
        /// Why.
        #[source]
        source: TsMuxError,
    },
    /// Creating or finishing the writer failed.
    #[error(transparent)]
    Writer(#[from] TsMuxError),
    /// Stopped by a signal.
    #[error("interrupted")]
    Interrupted,
}

impl TsOutError {
    /// The operating system error behind this one, if any (an I/O failure rather than bad data).
    pub fn io_error(&self) -> Option<&io::Error> {
        match self {
            TsOutError::Read { source, .. }
            | TsOutError::Mux {
                source: TsMuxError::Io(source),
                ..
            }
            | TsOutError::Writer(TsMuxError::Io(source)) => Some(source),
            _ => None,
        }
    }

    /// True when reading the input (not writing) failed.
    pub fn is_read(&self) -> bool {
        matches!(self, TsOutError::Read { .. })
    }
}

/// The tracks of a plan as transport stream streams, and the shared 90 kHz base.
#[derive(Debug, Clone)]
pub struct TsTracks {
    /// Carried tracks, in plan order; stream `i` of the writer is `carried[i]`.
    pub carried: Vec<Carried>,
    /// Tracks left out, in words.
    pub warnings: Vec<String>,
    /// Seconds (as `num / den`) the output lasts beyond the plan: decode-only frames shown at
    /// joins (see [`carry`]).
    pub shown_extra: (i128, u64),
}

impl TsTracks {
    /// Decides which tracks are carried and where the clock starts (see the module documentation).
    pub fn new(plan: &StitchPlan) -> Result<Self, TsOutError> {
        let mut carried = Vec::new();
        let mut warnings = Vec::new();
        for (i, t) in plan.tracks.iter().enumerate() {
            if t.samples.is_empty() {
                continue;
            }
            match carry(i, t, plan.movie_timescale) {
                Ok(c) => carried.push(c),
                Err(NotCarried::Codec(what)) => warnings.push(format!(
                    "{} track {}: left out of the MPEG-TS output, which carries H.264, H.265 \
                     and AAC with a channel configuration ({what})",
                    t.kind.as_str(),
                    i + 1
                )),
                Err(NotCarried::Entry(what)) => {
                    return Err(TsOutError::Entry { track: i + 1, what })
                }
            }
        }
        if carried.is_empty() {
            return Err(TsOutError::NoTracks(if warnings.is_empty() {
                "the plan has no samples".into()
            } else {
                warnings.join("; ")
            }));
        }
        // The earliest decode time, before any base: each track's first sample.
        let mut earliest = 0i64;
        for c in &carried {
            if let Some(s) = plan.tracks[c.track].samples.first() {
                let dts = c
                    .map
                    .sample(&s)
                    .map(|t| t.dts)
                    .ok_or_else(|| TsOutError::Sample {
                        track: c.track + 1,
                        sample: 0,
                        what: "timestamp out of range".into(),
                    })?;
                earliest = earliest.min(dts);
            }
        }
        let base = DEFAULT_BASE.saturating_sub(earliest);
        // The first video track shows its decode-only frames at joins; every other track moves
        // later by them from each such join on.
        let mut shown_extra = (0, 1);
        if let Some(r) = carried.iter().position(|c| c.nal.is_some()) {
            let shifts = carried[r].map.make_reference();
            if let Some(&(_, h)) = shifts.last() {
                shown_extra = h;
            }
            for (i, c) in carried.iter_mut().enumerate() {
                if i != r {
                    c.map.set_shifts(shifts.clone());
                }
            }
        }
        for c in &mut carried {
            c.map.set_base(base);
        }
        Ok(TsTracks {
            carried,
            warnings,
            shown_extra,
        })
    }

    /// The writer's streams.
    pub fn streams(&self) -> Vec<super::TsStream> {
        self.carried.iter().map(|c| c.stream.clone()).collect()
    }

    /// The index into [`TsTracks::carried`] of the first video track, else the first audio one.
    pub fn cut_track(&self) -> usize {
        self.carried
            .iter()
            .position(|c| c.nal.is_some())
            .unwrap_or(0)
    }
}

/// The 90 kHz times of each carried track's samples, in decode order, with the one-tick fix-up of
/// colliding decode times (see the module documentation).
#[derive(Debug, Clone, Default)]
pub struct Clock {
    last: Vec<Option<i64>>,
    /// Decode times moved one tick or more.
    pub retimed: u64,
}

impl Clock {
    /// A clock for `n` carried tracks.
    pub fn new(n: usize) -> Self {
        Clock {
            last: vec![None; n],
            retimed: 0,
        }
    }

    /// (DTS, PTS) of the next sample of carried track `i` (samples must come in decode order).
    pub fn next(
        &mut self,
        i: usize,
        c: &Carried,
        k: usize,
        s: &OutSample,
    ) -> Result<(i64, i64), TsOutError> {
        let range = || TsOutError::Sample {
            track: c.track + 1,
            sample: k,
            what: "timestamp out of range".into(),
        };
        let t = c.map.sample(s).ok_or_else(range)?;
        let (mut dts, mut pts) = (t.dts, t.pts);
        let last = self.last.get_mut(i).ok_or_else(range)?;
        if let Some(l) = *last {
            if dts <= l {
                dts = l.checked_add(1).ok_or_else(range)?;
                pts = pts.max(dts);
                self.retimed += 1;
            }
        }
        *last = Some(dts);
        Ok((dts, pts))
    }
}

/// What writing a transport stream did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TsReport {
    /// Bytes written.
    pub bytes: u64,
    /// Access units written, per carried track.
    pub access_units: Vec<u64>,
    /// Decode times moved by rounding collisions.
    pub retimed: u64,
}

/// Writes samples of a plan through a [`TsWriter`], with reusable buffers.
pub struct Muxer<'a> {
    plan: &'a StitchPlan,
    tracks: &'a TsTracks,
    clock: Clock,
    sample: Vec<u8>,
    annexb: Vec<u8>,
    access_units: Vec<u64>,
    done_bytes: u64,
}

impl<'a> Muxer<'a> {
    /// A muxer of `tracks` of `plan`.
    pub fn new(plan: &'a StitchPlan, tracks: &'a TsTracks) -> Self {
        let n = tracks.carried.len();
        Muxer {
            plan,
            tracks,
            clock: Clock::new(n),
            sample: Vec::new(),
            annexb: Vec::new(),
            access_units: vec![0; n],
            done_bytes: 0,
        }
    }

    /// Writes samples `ranges[i]` of each carried track `i`, merged by exact decode time.
    /// `progress` gets the sample bytes read so far.
    pub fn write<W: Write>(
        &mut self,
        w: &mut TsWriter<W>,
        ranges: &[Range<usize>],
        progress: &mut dyn FnMut(u64),
    ) -> Result<(), TsOutError> {
        let plan = self.plan;
        let carried = &self.tracks.carried;
        let mut iters: Vec<_> = carried
            .iter()
            .zip(ranges)
            .map(|(c, r)| {
                let samples = &plan.tracks[c.track].samples;
                r.clone().zip(samples.iter_range(r.clone()))
            })
            .collect();
        let mut heads: Vec<Option<(usize, OutSample)>> =
            iters.iter_mut().map(Iterator::next).collect();
        loop {
            // The head with the smallest exact decode time; ties go to the lower index.
            let mut best: Option<usize> = None;
            for (i, h) in heads.iter().enumerate() {
                let Some((_, s)) = h else { continue };
                best = match best {
                    Some(b) => {
                        let bs = heads[b].as_ref().map(|(_, s)| s);
                        match bs {
                            Some(bs) if carried[i].map.cmp_dts(s, &carried[b].map, bs).is_lt() => {
                                Some(i)
                            }
                            _ => Some(b),
                        }
                    }
                    None => Some(i),
                };
            }
            let Some(i) = best else { break };
            let Some((k, s)) = heads[i].take() else { break };
            heads[i] = iters[i].next();
            if crate::mux::interrupted() {
                return Err(TsOutError::Interrupted);
            }
            self.write_sample(w, i, k, &s)?;
            self.done_bytes = self.done_bytes.saturating_add(u64::from(s.size));
            progress(self.done_bytes);
        }
        Ok(())
    }

    fn write_sample<W: Write>(
        &mut self,
        w: &mut TsWriter<W>,
        i: usize,
        k: usize,
        s: &OutSample,
    ) -> Result<(), TsOutError> {
        let c = &self.tracks.carried[i];
        let track = c.track + 1;
        let (dts, pts) = self.clock.next(i, c, k, s)?;
        let bad = |what: String| TsOutError::Sample {
            track,
            sample: k,
            what,
        };
        let size = usize::try_from(s.size).map_err(|_| bad("sample too large".into()))?;
        let bytes: &[u8] = match s.payload {
            Payload::Input { input, offset } => {
                let src = usize::try_from(input)
                    .ok()
                    .and_then(|n| self.plan.inputs.get(n))
                    .ok_or_else(|| bad(format!("no input {input}")))?;
                self.sample.resize(size, 0);
                src.read_at(offset, &mut self.sample)
                    .map_err(|e| TsOutError::Read {
                        input: src.name().to_string(),
                        track,
                        sample: k,
                        source: e,
                    })?;
                &self.sample
            }
            Payload::Generated(g) => usize::try_from(g)
                .ok()
                .and_then(|g| self.plan.generated.get(g))
                .ok_or_else(|| bad(format!("no generated payload {g}")))?,
            // Input bytes with parameter sets inserted (`--parameter-sets inband`): put together
            // here; the parameter sets then travel in band as the unit's own.
            Payload::Spliced {
                input,
                offset,
                generated,
                at,
            } => {
                let src = usize::try_from(input)
                    .ok()
                    .and_then(|n| self.plan.inputs.get(n))
                    .ok_or_else(|| bad(format!("no input {input}")))?;
                let inserted = usize::try_from(generated)
                    .ok()
                    .and_then(|g| self.plan.generated.get(g))
                    .ok_or_else(|| bad(format!("no generated payload {generated}")))?;
                let own = size
                    .checked_sub(inserted.len())
                    .ok_or_else(|| bad("smaller than its inserted bytes".into()))?;
                let at = usize::try_from(at).unwrap_or(usize::MAX).min(own);
                self.sample.resize(size, 0);
                let read = |buf: &mut [u8], from: u64| {
                    src.read_at(from, buf).map_err(|e| TsOutError::Read {
                        input: src.name().to_string(),
                        track,
                        sample: k,
                        source: e,
                    })
                };
                read(&mut self.sample[..at], offset)?;
                self.sample[at..at + inserted.len()].copy_from_slice(inserted);
                read(&mut self.sample[at + inserted.len()..], offset + at as u64)?;
                &self.sample
            }
        };
        let payload: &[u8] = match c.nal {
            Some((codec, first_length_size)) => {
                // The parameter sets and length size of the entry describing this sample: a
                // keyframe gets its own fragment's SPS/PPS where they change at a join.
                let length_size = match c.entries.get(usize::from(s.entry)) {
                    Some((sets, length_size)) => {
                        if s.sync {
                            w.set_parameter_sets(i, sets)
                                .map_err(|source| TsOutError::Mux {
                                    track,
                                    sample: k,
                                    source,
                                })?;
                        }
                        *length_size
                    }
                    None => first_length_size,
                };
                let units =
                    length_prefixed_units(bytes, length_size).map_err(|e| bad(e.to_string()))?;
                self.annexb.clear();
                length_prefixed_to_annexb(
                    bytes,
                    &units,
                    StartCodes::LongFirst(codec),
                    &mut self.annexb,
                )
                .map_err(|e| bad(e.to_string()))?;
                &self.annexb
            }
            None => bytes,
        };
        w.write_access_unit(i, pts, dts, s.sync, payload)
            .map_err(|source| TsOutError::Mux {
                track,
                sample: k,
                source,
            })?;
        if let Some(n) = self.access_units.get_mut(i) {
            *n += 1;
        }
        Ok(())
    }

    /// What was written so far (`bytes` as given).
    pub fn report(&self, bytes: u64) -> TsReport {
        TsReport {
            bytes,
            access_units: self.access_units.clone(),
            retimed: self.clock.retimed,
        }
    }
}

/// Every sample range of the plan's carried tracks.
fn whole(plan: &StitchPlan, tracks: &TsTracks) -> Vec<Range<usize>> {
    tracks
        .carried
        .iter()
        .map(|c| 0..plan.tracks[c.track].samples.len())
        .collect()
}

/// Total sample bytes of the carried tracks (for progress).
pub fn payload_bytes(plan: &StitchPlan, tracks: &TsTracks) -> u64 {
    tracks
        .carried
        .iter()
        .flat_map(|c| plan.tracks[c.track].samples.iter())
        .map(|s| u64::from(s.size))
        .sum()
}

/// Writes the whole plan to `sink` as one transport stream (see the module documentation).
/// `progress` gets (sample bytes read, total sample bytes).
pub fn write_plan_ts(
    plan: &StitchPlan,
    tracks: &TsTracks,
    sink: &mut dyn Write,
    opts: TsMuxOptions,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<TsReport, TsOutError> {
    let total = payload_bytes(plan, tracks);
    let mut w = TsWriter::new(Counting { inner: sink, n: 0 }, tracks.streams(), opts)?;
    let mut m = Muxer::new(plan, tracks);
    m.write(&mut w, &whole(plan, tracks), &mut |done| {
        progress(done, total)
    })?;
    // `finish` writes what the writer still holds (bundled audio, tables of an empty stream).
    let out = w.finish()?;
    Ok(m.report(out.n))
}

/// Counts the bytes written through it.
pub struct Counting<W> {
    /// The writer.
    pub inner: W,
    /// Bytes written.
    pub n: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let k = self.inner.write(buf)?;
        self.n = self.n.saturating_add(k as u64);
        Ok(k)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::sync::Arc;

    use super::*;
    use crate::demux::ts::{demux_all, Event, TsLimits};
    use crate::source::{FileSource, Source};

    fn fixture_plan(names: &[&str]) -> StitchPlan {
        let sources = names
            .iter()
            .map(|n| {
                Arc::new(
                    FileSource::open(std::path::Path::new(&format!("fixtures/{n}")))
                        .expect("fixture"),
                ) as Arc<dyn Source>
            })
            .collect();
        crate::api::plan_sources(sources, &crate::StitchOptions::default()).expect("plan")
    }

    #[test]
    fn every_sample_becomes_one_access_unit_in_decode_order() {
        let plan = fixture_plan(&["a.mp4", "b.mp4"]);
        let tracks = TsTracks::new(&plan).expect("tracks");
        assert_eq!(tracks.carried.len(), 2);
        let mut out = Vec::new();
        let mut calls = 0;
        let r = write_plan_ts(
            &plan,
            &tracks,
            &mut out,
            TsMuxOptions::default(),
            &mut |_, _| calls += 1,
        )
        .expect("write");
        assert_eq!(r.bytes, out.len() as u64);
        assert_eq!(out.len() % 188, 0);
        assert_eq!(r.retimed, 0);
        let (events, result) = demux_all("t.ts", &out, &TsLimits::default());
        result.expect("demux");
        let mut per_pid: BTreeMap<u16, Vec<(i64, i64, bool)>> = BTreeMap::new();
        let mut last_dts: Option<i64> = None;
        let mut skew = 0i64;
        for e in events {
            if let Event::AccessUnit(au) = e {
                let dts = au.timeline_dts.expect("dts");
                // Interleaved by decode time: no unit comes more than a tick before the last.
                if let Some(l) = last_dts {
                    skew = skew.max(l - dts);
                }
                last_dts = Some(last_dts.map_or(dts, |l| l.max(dts)));
                per_pid.entry(au.pid).or_default().push((
                    au.timeline_pts.expect("pts"),
                    dts,
                    au.random_access,
                ));
            }
        }
        assert!(skew <= 1, "decode order skew {skew}");
        let counts: Vec<usize> = per_pid.values().map(Vec::len).collect();
        let want: Vec<usize> = plan.tracks.iter().map(|t| t.samples.len()).collect();
        assert_eq!(counts, want);
        assert_eq!(
            r.access_units,
            want.iter().map(|&n| n as u64).collect::<Vec<_>>()
        );
        assert_eq!(calls, want.iter().sum::<usize>());
        let video = per_pid.values().next().expect("video");
        assert!(video[0].2, "first video unit is a keyframe");
        // The video's presentation starts at the base: the edit list is applied.
        assert_eq!(video.iter().map(|u| u.0).min(), Some(DEFAULT_BASE + 7200));
        for units in per_pid.values() {
            assert!(units.windows(2).all(|w| w[1].1 > w[0].1));
            assert!(units.iter().all(|u| u.0 >= u.1));
        }
    }

    #[test]
    fn clock_moves_a_colliding_decode_time_one_tick() {
        let plan = fixture_plan(&["a.mp4"]);
        let tracks = TsTracks::new(&plan).expect("tracks");
        let c = &tracks.carried[0];
        let s = plan.tracks[c.track].samples.first().expect("sample");
        let mut clock = Clock::new(1);
        let (d0, p0) = clock.next(0, c, 0, &s).expect("time");
        let (d1, p1) = clock.next(0, c, 1, &s).expect("time");
        assert_eq!((d1, p1), (d0 + 1, p0.max(d0 + 1)));
        assert_eq!(clock.retimed, 1);
    }
}
