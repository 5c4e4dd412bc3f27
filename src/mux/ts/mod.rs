//! MPEG transport stream muxing (ISO/IEC 13818-1), as a streaming writer independent of the MP4
//! model: access units in, 188-byte packets out.
//!
//! ```no_run
//! use seam::mux::ts::{TsMuxOptions, TsStream, TsWriter};
//! # fn run(sps: Vec<u8>, pps: Vec<u8>, idr: &[u8], adts: &[u8]) -> Result<(), seam::mux::ts::TsMuxError> {
//! let streams = vec![TsStream::h264(vec![sps, pps]), TsStream::aac_adts()];
//! let mut w = TsWriter::new(Vec::new(), streams, TsMuxOptions::default())?;
//! w.write_access_unit(0, 129_600, 126_000, true, idr)?; // Annex B picture, 90 kHz times
//! w.write_access_unit(1, 126_000, 126_000, true, adts)?; // one ADTS frame
//! let bytes: Vec<u8> = w.finish()?;
//! # Ok(()) }
//! ```
//!
//! **Layout** (the choices ffmpeg's `mpegts` muxer makes, so files look familiar): one program
//! (`program_number` 1, `transport_stream_id` 1), its PMT on PID 0x1000, stream `i` on PID
//! `0x100 + i`; video `stream_id`s 0xE0.., audio 0xC0..; `stream_type` 0x1B H.264, 0x24 H.265,
//! 0x0F AAC in ADTS (§2.4.4.9, Table 2-34). The PCR rides on the first video stream's PID (the
//! first stream's without video). All of it is in [`TsMuxOptions`].
//!
//! **Access units.** Each call writes one PES packet holding one access unit (AAC frames may
//! share one, see below), starting in a fresh transport packet and ending on a packet boundary
//! (adaptation field stuffing, §2.4.3.5):
//! * video is Annex B (convert MP4 samples with [`crate::codec::framing`]). An access unit
//!   delimiter is put first when the unit has none (§2.14.1 for H.264; ffmpeg does it for H.265
//!   too), and a keyframe lacking a parameter set kind gets the stream's (see
//!   [`TsStream::parameter_sets`]); the unit's bytes are otherwise written untouched;
//! * audio is one AAC frame per PES packet by default: every frame carries its own PTS and
//!   nothing is held back between calls, at the cost of a PES header and a partly stuffed packet
//!   per frame, about 160 bytes (60 kb/s at 48 kHz: `fixtures/ts/plain.ts`, 300 kb/s video and
//!   64 kb/s audio, grows by 18 % remuxed, by 3 % with 8 frames per packet; next to a few Mb/s
//!   of video it is 1 to 2 %). [`TsMuxOptions::audio_frames_per_pes`] lets up to 32 consecutive
//!   frames share a packet when each one's PTS is the one readers interpolate (the previous PTS
//!   plus 1024 samples rounded to 90 kHz ticks, exact at 48 kHz), so no PTS changes; held
//!   frames are written when the packet is full, when a frame cannot join, and by
//!   [`TsWriter::finish`]. The payload is a whole ADTS frame, or a raw AAC frame that the
//!   writer frames with the stream's [`AdtsTemplate`].
//!
//! **Timing.** Times are 90 kHz ticks as `i64` on the caller's unbroken timeline; the 33 coded
//! bits are taken modulo 2^33 (§2.4.3.7), so a long recording wraps on its own. They are written
//! as given: a caller who wants ffmpeg's 1.4 s start adds 126 000. The DTS of each stream must
//! increase strictly ([`TsMuxError::NonMonotonicDts`]), and PTS ≥ DTS. Interleaving the streams
//! by DTS is the caller's job. The system clock is **PCR = max DTS so far − mux delay**
//! ([`TsMuxOptions::mux_delay`], 0.7 s by default, ffmpeg's `max_delay`): each access unit
//! arrives at least the delay before it is decoded, so callers may interleave with up to that
//! much skew between streams. A PCR goes in the first packet of every PES of the PCR stream
//! (bundled AAC frames aside), and before an access unit of another stream as a packet of its own
//! (adaptation field only) once [`TsMuxOptions::pcr_period`] (20 ms) has passed. A clock step longer than two periods
//! (video alone at under 50 fps) gets PCR packets one period apart in between, so PCRs are at
//! most 40 ms apart, unless the DTS of consecutive access units are more than a second apart
//! (a pause, not filled).
//! The PAT and PMT go out before the first access unit, before every video keyframe, and before
//! the first access unit at least [`TsMuxOptions::psi_period`] (100 ms) after the last tables.
//! The `random_access_indicator` is set on keyframes (every AAC frame is one).

mod annexb;
mod audio;
pub mod carry;
mod packet;
mod pes;
pub mod plan;
mod psi;
mod remux;

use std::io::Write;

pub use packet::{encode_pcr, PACKET_SIZE};
pub use pes::{encode_timestamp, wrap33};
pub use plan::{write_plan_ts, TsOutError, TsReport, TsTracks};
pub use psi::crc32_mpeg2;
pub use remux::{remux_ts, RemuxReport, SkippedUnit, TsRemuxError};

use crate::codec::aac::{AdtsHeader, AudioSpecificConfig};
use crate::codec::framing::{AdtsTemplate, NalCodec};
use crate::codec::h264::AvcDecoderConfig;
use crate::codec::h265::HevcDecoderConfig;
use crate::error::CodecError;
use packet::{packetize, pcr_of_90k, pcr_only, Continuity, UnitStart};
use psi::PmtEntry;

/// The codecs the muxer carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsCodec {
    /// H.264 video, `stream_type` 0x1B.
    H264,
    /// H.265 video, `stream_type` 0x24.
    H265,
    /// AAC audio in ADTS frames, `stream_type` 0x0F.
    Aac,
}

impl TsCodec {
    /// The PMT `stream_type` (§2.4.4.9, Table 2-34).
    pub fn stream_type(self) -> u8 {
        match self {
            TsCodec::H264 => 0x1b,
            TsCodec::H265 => 0x24,
            TsCodec::Aac => 0x0f,
        }
    }

    /// True for video.
    pub fn is_video(self) -> bool {
        !matches!(self, TsCodec::Aac)
    }

    fn nal_codec(self) -> Option<NalCodec> {
        match self {
            TsCodec::H264 => Some(NalCodec::H264),
            TsCodec::H265 => Some(NalCodec::H265),
            TsCodec::Aac => None,
        }
    }
}

/// One elementary stream of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsStream {
    /// The codec.
    pub codec: TsCodec,
    /// Video: parameter set NAL units without start codes (H.264: SPS, PPS; H.265: VPS, SPS,
    /// PPS), e.g. from `avcC`/`hvcC`. A keyframe that lacks a kind before its first slice gets
    /// this stream's sets of that kind. Empty: nothing is inserted.
    pub parameter_sets: Vec<Vec<u8>>,
    /// AAC: `Some`: payloads are raw AAC frames, framed with this template; `None`: payloads are
    /// whole ADTS frames, written as given.
    pub adts: Option<AdtsTemplate>,
}

impl TsStream {
    /// An H.264 stream with its SPS and PPS NAL units.
    pub fn h264(parameter_sets: Vec<Vec<u8>>) -> Self {
        TsStream {
            codec: TsCodec::H264,
            parameter_sets,
            adts: None,
        }
    }

    /// An H.265 stream with its VPS, SPS and PPS NAL units.
    pub fn h265(parameter_sets: Vec<Vec<u8>>) -> Self {
        TsStream {
            codec: TsCodec::H265,
            parameter_sets,
            adts: None,
        }
    }

    /// An H.264 stream with the SPS and PPS of an `avcC` record (the box payload, ISO/IEC
    /// 14496-15 §5.3.3.1), e.g. an MP4 sample entry's.
    pub fn from_avcc(avcc: &[u8]) -> Result<Self, CodecError> {
        let c = AvcDecoderConfig::parse(avcc)?;
        let sets = c.sps.iter().chain(&c.pps).map(|u| u.to_vec()).collect();
        Ok(TsStream::h264(sets))
    }

    /// An H.265 stream with the VPS, SPS and PPS of an `hvcC` record (the box payload, ISO/IEC
    /// 14496-15 §8.3.3.1); its SEI arrays are not inserted.
    pub fn from_hvcc(hvcc: &[u8]) -> Result<Self, CodecError> {
        let c = HevcDecoderConfig::parse(hvcc)?;
        let sets = [32, 33, 34]
            .into_iter()
            .flat_map(|t| c.units(t))
            .map(|u| u.to_vec())
            .collect();
        Ok(TsStream::h265(sets))
    }

    /// An AAC stream whose payloads are raw frames (MP4 samples) described by an
    /// AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), framed with the ADTS header it maps to
    /// ([`AdtsTemplate::from_asc`]: AAC Main, LC, SSR or LTP with a channel configuration).
    pub fn from_asc(asc: &[u8]) -> Result<Self, CodecError> {
        let c = AudioSpecificConfig::parse(asc)?;
        Ok(TsStream::aac_raw(AdtsTemplate::from_asc(&c)?))
    }

    /// An AAC stream whose payloads are ADTS frames.
    pub fn aac_adts() -> Self {
        TsStream {
            codec: TsCodec::Aac,
            parameter_sets: Vec::new(),
            adts: None,
        }
    }

    /// An AAC stream whose payloads are raw frames (MP4 samples), framed with `template` (see
    /// [`AdtsTemplate::from_asc`]).
    pub fn aac_raw(template: AdtsTemplate) -> Self {
        TsStream {
            codec: TsCodec::Aac,
            parameter_sets: Vec::new(),
            adts: Some(template),
        }
    }
}

/// Identifiers and clock settings. Times are 90 kHz ticks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsMuxOptions {
    /// `transport_stream_id` of the PAT (§2.4.4.5).
    pub transport_stream_id: u16,
    /// `program_number` of the one program (§2.4.4.5).
    pub program_number: u16,
    /// PID of the PMT.
    pub pmt_pid: u16,
    /// PID of stream 0; stream `i` gets `first_pid + i`.
    pub first_pid: u16,
    /// How far the PCR runs behind the largest DTS written (≥ 0).
    pub mux_delay: i64,
    /// Longest wait for a PCR when other streams' access units are written, and the spacing of
    /// PCRs filled into a clock step: 900 (10 ms) to 9000 (100 ms, the most §2.7.2 allows).
    pub pcr_period: i64,
    /// Longest wait for a PAT and PMT repeat (> 0).
    pub psi_period: i64,
    /// Put an access unit delimiter first in video access units that lack one.
    pub insert_aud: bool,
    /// Most AAC frames in one PES packet, 1 to 32. Above 1, consecutive frames share a packet
    /// when each one's PTS is what readers interpolate (see the module documentation).
    pub audio_frames_per_pes: usize,
}

impl Default for TsMuxOptions {
    fn default() -> Self {
        TsMuxOptions {
            transport_stream_id: 1,
            program_number: 1,
            pmt_pid: 0x1000,
            first_pid: 0x100,
            mux_delay: 63_000,
            pcr_period: 1_800,
            psi_period: 9_000,
            insert_aud: true,
            audio_frames_per_pes: 1,
        }
    }
}

/// Errors of the transport stream writer. An access unit refused for what it is (every variant
/// but [`TsMuxError::Io`]) leaves the writer as it was: nothing of it is written. After an I/O
/// error the output may end inside a packet.
#[derive(Debug, thiserror::Error)]
pub enum TsMuxError {
    /// No streams, or too many.
    #[error("invalid stream list: {0}")]
    Streams(String),
    /// An option out of range.
    #[error("invalid option: {0}")]
    Option(String),
    /// A stream index that is not one of the writer's.
    #[error("no stream {stream} (the writer has {count})")]
    UnknownStream {
        /// The index given.
        stream: usize,
        /// Streams of the writer.
        count: usize,
    },
    /// A DTS not above the previous one of its stream.
    #[error("stream {stream}: DTS {dts} is not above the previous DTS {previous}")]
    NonMonotonicDts {
        /// The stream.
        stream: usize,
        /// The previous DTS.
        previous: i64,
        /// The DTS given.
        dts: i64,
    },
    /// A PTS before its DTS.
    #[error("stream {stream}: PTS {pts} is before DTS {dts}")]
    PtsBeforeDts {
        /// The stream.
        stream: usize,
        /// The PTS.
        pts: i64,
        /// The DTS.
        dts: i64,
    },
    /// A timestamp so close to `i64::MIN` that the PCR cannot be computed.
    #[error("stream {stream}: DTS {dts} out of range")]
    TimestampRange {
        /// The stream.
        stream: usize,
        /// The DTS.
        dts: i64,
    },
    /// A payload the stream's codec cannot carry as it is.
    #[error("stream {stream}: access unit {index}: {what}")]
    Payload {
        /// The stream.
        stream: usize,
        /// Access units of the stream written before it.
        index: u64,
        /// What is wrong.
        what: String,
    },
    /// Writing failed.
    #[error("writing the transport stream: {0}")]
    Io(#[from] std::io::Error),
}

#[derive(Debug)]
struct StreamState {
    spec: TsStream,
    pid: u16,
    stream_id: u8,
    cc: Continuity,
    last_dts: Option<i64>,
    written: u64,
    /// AAC frames waiting for their PES packet.
    pending: Option<audio::Pending>,
}

/// The transport stream writer. See the module documentation.
#[derive(Debug)]
pub struct TsWriter<W: Write> {
    out: W,
    opts: TsMuxOptions,
    streams: Vec<StreamState>,
    pcr_stream: usize,
    pat: Vec<u8>,
    pmt: Vec<u8>,
    pat_cc: Continuity,
    pmt_cc: Continuity,
    /// The system clock: max DTS − mux delay so far.
    clock: Option<i64>,
    last_pcr: Option<i64>,
    last_psi: Option<i64>,
    /// Packets of the access unit being written, then written at once.
    buf: Vec<u8>,
    /// An ADTS frame built from a raw one.
    frame: Vec<u8>,
    bytes: u64,
}

/// `stream_id` ranges (§2.4.3.7, Table 2-22): ISO/IEC 13818-3 or 11172-3 or 13818-7 or 14496-3
/// audio stream number 0 to 31, ITU-T H.262 / ISO/IEC 13818-2 / 11172-2 / 14496-2 / H.264 /
/// H.265 video stream number 0 to 15.
const AUDIO_IDS: u8 = 32;
/// The longest clock step filled with PCR packets: one second (50 packets at the default period).
const MAX_PCR_FILL: i64 = 90_000;
const VIDEO_IDS: u8 = 16;

/// Every parameter set of stream `i` must be one (a VPS,) SPS or PPS NAL unit.
fn check_parameter_sets(i: usize, codec: NalCodec, sets: &[Vec<u8>]) -> Result<(), TsMuxError> {
    let kinds = annexb::parameter_set_types(codec);
    for (k, set) in sets.iter().enumerate() {
        match set.first() {
            Some(&h) if kinds.contains(&codec.nal_type(h)) => {}
            _ => {
                return Err(TsMuxError::Streams(format!(
                    "stream {i}: parameter set {k} is not a {} NAL unit",
                    match codec {
                        NalCodec::H264 => "SPS or PPS",
                        NalCodec::H265 => "VPS, SPS or PPS",
                    }
                )))
            }
        }
    }
    Ok(())
}

fn valid_pid(pid: u16) -> bool {
    // 0x0000-0x000F are reserved for tables, 0x1FFF is the null packet PID (Table 2-3).
    (0x0010..=0x1ffe).contains(&pid)
}

impl<W: Write> TsWriter<W> {
    /// A writer of `streams` (at most 16 video and 32 audio) to `out`. Nothing is written until
    /// the first access unit (or [`TsWriter::finish`]).
    pub fn new(out: W, streams: Vec<TsStream>, opts: TsMuxOptions) -> Result<Self, TsMuxError> {
        if streams.is_empty() {
            return Err(TsMuxError::Streams("no streams".into()));
        }
        if opts.mux_delay < 0 || !(900..=9_000).contains(&opts.pcr_period) || opts.psi_period <= 0 {
            return Err(TsMuxError::Option(format!(
                "mux_delay {} must be ≥ 0, pcr_period {} within 900 to 9000 (10 to 100 ms), psi_period {} > 0",
                opts.mux_delay, opts.pcr_period, opts.psi_period
            )));
        }
        if !(1..=32).contains(&opts.audio_frames_per_pes) {
            return Err(TsMuxError::Option(format!(
                "audio_frames_per_pes {} outside 1 to 32",
                opts.audio_frames_per_pes
            )));
        }
        if !valid_pid(opts.pmt_pid) {
            return Err(TsMuxError::Option(format!(
                "PMT PID 0x{:04x} outside 0x0010-0x1ffe",
                opts.pmt_pid
            )));
        }
        let (mut video, mut audio) = (0u8, 0u8);
        let mut states = Vec::with_capacity(streams.len());
        for (i, spec) in streams.into_iter().enumerate() {
            let pid = u16::try_from(i)
                .ok()
                .and_then(|i| opts.first_pid.checked_add(i))
                .filter(|&p| valid_pid(p) && p != opts.pmt_pid)
                .ok_or_else(|| {
                    TsMuxError::Option(format!(
                        "stream {i}: PID 0x{:04x} + {i} is reserved, taken by the PMT or past 0x1ffe",
                        opts.first_pid
                    ))
                })?;
            let stream_id = if spec.codec.is_video() {
                video += 1;
                if video > VIDEO_IDS {
                    return Err(TsMuxError::Streams("more than 16 video streams".into()));
                }
                0xe0 + video - 1
            } else {
                audio += 1;
                if audio > AUDIO_IDS {
                    return Err(TsMuxError::Streams("more than 32 audio streams".into()));
                }
                0xc0 + audio - 1
            };
            if let Some(codec) = spec.codec.nal_codec() {
                check_parameter_sets(i, codec, &spec.parameter_sets)?;
            }
            states.push(StreamState {
                spec,
                pid,
                stream_id,
                cc: Continuity::default(),
                last_dts: None,
                written: 0,
                pending: None,
            });
        }
        let pcr_stream = states
            .iter()
            .position(|s| s.spec.codec.is_video())
            .unwrap_or(0);
        let entries: Vec<PmtEntry> = states
            .iter()
            .map(|s| PmtEntry {
                stream_type: s.spec.codec.stream_type(),
                pid: s.pid,
            })
            .collect();
        let pat = psi::pat(opts.transport_stream_id, opts.program_number, opts.pmt_pid);
        let pmt = psi::pmt(opts.program_number, states[pcr_stream].pid, &entries);
        Ok(TsWriter {
            out,
            opts,
            streams: states,
            pcr_stream,
            pat,
            pmt,
            pat_cc: Continuity::default(),
            pmt_cc: Continuity::default(),
            clock: None,
            last_pcr: None,
            last_psi: None,
            buf: Vec::with_capacity(64 * PACKET_SIZE),
            frame: Vec::new(),
            bytes: 0,
        })
    }

    /// Replaces the parameter sets inserted before the keyframes of video stream `stream` that
    /// lack them (see [`TsStream::parameter_sets`]): where H.264/H.265 parameter sets change at a
    /// join, each keyframe gets those of its own fragment. Unchanged sets cost a comparison.
    pub fn set_parameter_sets(
        &mut self,
        stream: usize,
        sets: &[Vec<u8>],
    ) -> Result<(), TsMuxError> {
        let st = self
            .streams
            .get_mut(stream)
            .ok_or_else(|| TsMuxError::Streams(format!("no stream {stream}")))?;
        let Some(codec) = st.spec.codec.nal_codec() else {
            return Err(TsMuxError::Streams(format!(
                "stream {stream}: parameter sets for an audio stream"
            )));
        };
        if st.spec.parameter_sets != sets {
            check_parameter_sets(stream, codec, sets)?;
            st.spec.parameter_sets = sets.to_vec();
        }
        Ok(())
    }

    /// The PID of stream `stream`.
    pub fn pid(&self, stream: usize) -> Option<u16> {
        self.streams.get(stream).map(|s| s.pid)
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes
    }

    /// Writes one access unit of `stream`: times in 90 kHz ticks (wrapped to 33 bits on
    /// write), `key` for a keyframe (random access point), `payload` Annex B for video, an ADTS
    /// frame (or a raw AAC frame, see [`TsStream::adts`]) for audio.
    pub fn write_access_unit(
        &mut self,
        stream: usize,
        pts: i64,
        dts: i64,
        key: bool,
        payload: &[u8],
    ) -> Result<(), TsMuxError> {
        let count = self.streams.len();
        let st = self
            .streams
            .get(stream)
            .ok_or(TsMuxError::UnknownStream { stream, count })?;
        let bad = |what: String| TsMuxError::Payload {
            stream,
            index: st.written,
            what,
        };
        if let Some(previous) = st.last_dts {
            if dts <= previous {
                return Err(TsMuxError::NonMonotonicDts {
                    stream,
                    previous,
                    dts,
                });
            }
        }
        if pts < dts {
            return Err(TsMuxError::PtsBeforeDts { stream, pts, dts });
        }
        let now = dts
            .checked_sub(self.opts.mux_delay)
            .ok_or(TsMuxError::TimestampRange { stream, dts })?;
        if payload.is_empty() {
            return Err(bad("empty payload".into()));
        }
        // The bytes of the PES payload, in up to four parts.
        let prepared;
        let parts: [&[u8]; 4] = match (st.spec.codec.nal_codec(), &st.spec.adts) {
            (Some(codec), _) => {
                prepared = annexb::prepare(
                    codec,
                    payload,
                    key,
                    self.opts.insert_aud,
                    &st.spec.parameter_sets,
                )
                .map_err(bad)?;
                let (a, b) = payload.split_at(prepared.split);
                [&prepared.head, a, &prepared.middle, b]
            }
            (None, Some(template)) => {
                self.frame.clear();
                template
                    .write(payload, &mut self.frame)
                    .map_err(|e| bad(e.to_string()))?;
                [&self.frame, &[], &[], &[]]
            }
            (None, None) => {
                // One whole ADTS frame (ISO/IEC 14496-3 §1.A.2.2), as stream_type 0x0F carries.
                let h = AdtsHeader::parse(payload).map_err(|e| bad(e.to_string()))?;
                if usize::from(h.frame_length) != payload.len() {
                    return Err(bad(format!(
                        "ADTS frame_length {} but the payload has {} bytes (one frame per access unit)",
                        h.frame_length,
                        payload.len()
                    )));
                }
                [payload, &[], &[], &[]]
            }
        };

        // Everything is checked: from here on the state changes.
        let clock = self.clock.map_or(now, |c| c.max(now));
        self.clock = Some(clock);
        self.buf.clear();
        let due = |last: Option<i64>, period: i64| match last {
            None => true,
            Some(l) => clock.saturating_sub(l) >= period,
        };
        if due(self.last_psi, self.opts.psi_period) || (key && st.spec.codec.is_video()) {
            self.last_psi = Some(clock);
            write_tables(
                &mut self.buf,
                &self.opts,
                &self.pat,
                &self.pmt,
                &mut self.pat_cc,
                &mut self.pmt_cc,
            );
        }
        // An AAC frame that may share a PES packet with the next ones.
        let ticks = if st.spec.codec.is_video() || self.opts.audio_frames_per_pes < 2 || pts != dts
        {
            None
        } else {
            audio::frame_ticks(parts[0])
        };
        let bundled = ticks.is_some();
        // A step of the clock longer than two periods (video alone at under 50 fps) gets PCRs
        // one period apart in between, packets of their own, so PCRs stay within 40 ms (the
        // DVB limit, ETSI TR 101 290 §5.2.2); a step longer than MAX_PCR_FILL is a pause, left
        // as it is rather than filled with packets.
        if let Some(mut last) = self.last_pcr {
            let period = self.opts.pcr_period;
            let gap = clock.saturating_sub(last);
            if gap > period.saturating_mul(2) && gap <= MAX_PCR_FILL {
                let p = &self.streams[self.pcr_stream];
                while clock.saturating_sub(last) > period {
                    last = last.saturating_add(period);
                    pcr_only(&mut self.buf, p.pid, p.cc, pcr_of_90k(last));
                }
                self.last_pcr = Some(last);
            }
        }
        let mut pcr = None;
        if stream == self.pcr_stream && !bundled {
            pcr = Some(pcr_of_90k(clock));
            self.last_pcr = Some(clock);
        } else if due(self.last_pcr, self.opts.pcr_period) {
            self.last_pcr = Some(clock);
            let p = &self.streams[self.pcr_stream];
            pcr_only(&mut self.buf, p.pid, p.cc, pcr_of_90k(clock));
        }
        let max_frames = self.opts.audio_frames_per_pes;
        let max_span = self.opts.mux_delay / 2;
        let st = &mut self.streams[stream];
        st.last_dts = Some(dts);
        st.written = st.written.saturating_add(1);
        if let Some(p) = st
            .pending
            .take_if(|p| !bundled || !p.accepts(pts, dts, parts[0].len(), max_frames, max_span))
        {
            write_pending(&mut self.buf, st, p);
        }
        if bundled {
            match &mut st.pending {
                Some(p) => p.push(pts, parts[0], ticks),
                None => st.pending = Some(audio::Pending::new(pts, dts, key, parts[0], ticks)),
            }
            if let Some(p) = st.pending.take_if(|p| p.frames >= max_frames) {
                write_pending(&mut self.buf, st, p);
            }
        } else {
            let start = UnitStart {
                random_access: key,
                pcr,
            };
            write_pes(&mut self.buf, st, start, pts, dts, &parts);
        }
        self.out.write_all(&self.buf)?;
        self.bytes = self.bytes.saturating_add(self.buf.len() as u64);
        Ok(())
    }

    /// Flushes and returns the output. A writer that was given no access unit still writes its
    /// PAT and PMT, so the output is a valid (empty) transport stream.
    pub fn finish(mut self) -> Result<W, TsMuxError> {
        self.buf.clear();
        for st in &mut self.streams {
            if let Some(p) = st.pending.take() {
                write_pending(&mut self.buf, st, p);
            }
        }
        if self.last_psi.is_none() {
            write_tables(
                &mut self.buf,
                &self.opts,
                &self.pat,
                &self.pmt,
                &mut self.pat_cc,
                &mut self.pmt_cc,
            );
        }
        self.out.write_all(&self.buf)?;
        self.bytes = self.bytes.saturating_add(self.buf.len() as u64);
        self.out.flush()?;
        Ok(self.out)
    }
}

/// One PES packet of `st` holding the concatenation of `parts` (§2.4.3.6), cut into packets.
fn write_pes(
    buf: &mut Vec<u8>,
    st: &mut StreamState,
    start: UnitStart,
    pts: i64,
    dts: i64,
    parts: &[&[u8]; 4],
) {
    let payload_len = parts.iter().map(|p| p.len()).sum::<usize>();
    let mut header = [0u8; pes::MAX_HEADER];
    let n = pes::write_header(
        &mut header,
        st.stream_id,
        wrap33(pts),
        wrap33(dts),
        payload_len,
    );
    let [a, b, c, d] = *parts;
    packetize(buf, st.pid, &mut st.cc, start, &[&header[..n], a, b, c, d]);
}

/// The PES packet of bundled AAC frames.
fn write_pending(buf: &mut Vec<u8>, st: &mut StreamState, p: audio::Pending) {
    let start = UnitStart {
        random_access: p.key,
        pcr: None,
    };
    write_pes(buf, st, start, p.pts, p.dts, &[&p.bytes, &[], &[], &[]]);
}

/// The PAT and the PMT, each in one packet after a zero `pointer_field` (§2.4.4.1); the rest of
/// the packet is stuffing.
fn write_tables(
    buf: &mut Vec<u8>,
    opts: &TsMuxOptions,
    pat: &[u8],
    pmt: &[u8],
    pat_cc: &mut Continuity,
    pmt_cc: &mut Continuity,
) {
    packetize(buf, 0, pat_cc, UnitStart::default(), &[&[0], pat]);
    packetize(
        buf,
        opts.pmt_pid,
        pmt_cc,
        UnitStart::default(),
        &[&[0], pmt],
    );
}

#[cfg(test)]
mod tests;
