//! MPEG transport stream demuxing (ISO/IEC 13818-1), as a push parser that needs no model.
//!
//! [`TsDemuxer`] takes byte chunks of any size ([`TsDemuxer::push`], then [`TsDemuxer::finish`])
//! and produces [`Event`]s: access units as lists of **file byte ranges** of their payload (no
//! payload is copied; a PES spread over 500 transport packets is 500 ranges, adjacent ones merged),
//! with their 33-bit PTS/DTS and the same times unwrapped onto one monotonic `i64` timeline per
//! program ([`Unwrapper`]), timestamp jumps ([`Event::Discontinuity`]) and typed warnings for
//! everything dropped or damaged, each with its byte offset. Feeding a stream in one chunk or split
//! at any byte gives the same events.
//!
//! Layers: `packet.rs` (§2.4.3.2 packets, §2.4.3.4 adaptation field, 188/192-byte framing and
//! resynchronisation), `psi.rs` (§2.4.4 PAT/PMT sections and their CRC), `pes.rs` (§2.4.3.6 PES
//! reassembly, ADTS framing for AAC).

mod events;
mod media;
pub mod packet;
pub mod pes;
pub mod psi;
mod recipe;
mod time;
mod view;

pub(crate) use events::location;
pub use events::{AccessUnit, Event, TsError, TsWarning, WarningKind};
pub use media::{is_continuation, open, sniff};
pub use time::Unwrapper;
pub use view::TsView;

use crate::error::Location;
use packet::{candidate, cut_short, Candidate, Framing, PacketHeader, NULL_PID, PACKET_SIZE};
use pes::{PesOut, PesState};
use psi::{SectionAssembler, TABLE_PAT, TABLE_PMT};

/// The 33 bits of a PTS, DTS or PCR base (§2.4.3.7).
pub const TS_MASK: u64 = (1 << 33) - 1;
/// The 90 kHz clock of PTS and DTS (§2.4.3.7).
pub const TS_CLOCK: u64 = 90_000;
/// A decode time further than this past the expected one (or going backwards) is reported as an
/// [`Event::Discontinuity`]: one second.
pub const JUMP_THRESHOLD: i64 = 90_000;

/// The `stream_type`s seam demuxes (§2.4.4.9, Table 2-34).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamType {
    /// 0x1B: AVC video (ITU-T H.264), Annex B byte stream with access unit delimiters.
    H264,
    /// 0x24: HEVC video (ITU-T H.265), Annex B byte stream.
    H265,
    /// 0x0F: ISO/IEC 13818-7 / 14496-3 AAC in ADTS frames.
    AacAdts,
}

impl StreamType {
    /// The stream type for a PMT `stream_type` value, if seam handles it.
    pub fn from_code(code: u8) -> Option<StreamType> {
        match code {
            0x1b => Some(StreamType::H264),
            0x24 => Some(StreamType::H265),
            0x0f => Some(StreamType::AacAdts),
            _ => None,
        }
    }

    /// The PMT `stream_type` value.
    pub fn code(self) -> u8 {
        match self {
            StreamType::H264 => 0x1b,
            StreamType::H265 => 0x24,
            StreamType::AacAdts => 0x0f,
        }
    }

    /// True for video.
    pub fn is_video(self) -> bool {
        matches!(self, StreamType::H264 | StreamType::H265)
    }
}

/// Caps on what a transport stream may make the demuxer hold, checked before growing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TsLimits {
    /// PIDs tracked (PMTs and elementary streams; the PAT is not counted), and programs.
    pub max_pids: usize,
    /// Payload bytes of one PES packet (`PES_packet_length` 0 makes video PES unbounded).
    pub max_pes_size: u64,
}

impl Default for TsLimits {
    fn default() -> Self {
        TsLimits {
            max_pids: 64,
            max_pes_size: 64 << 20,
        }
    }
}

#[derive(Debug)]
struct Program {
    number: u16,
    pmt_pid: u16,
    version: Option<u8>,
    unwrap: Unwrapper,
}

#[derive(Debug)]
enum PidKind {
    Pat(SectionAssembler),
    Pmt(SectionAssembler),
    Es {
        program: usize,
        pes: Box<PesState>,
        last_dts: Option<i64>,
        last_step: i64,
    },
}

#[derive(Debug)]
struct PidState {
    pid: u16,
    /// The last PSI section handled on this PID: a repeat of it is skipped before its CRC.
    last_section: Vec<u8>,
    last_cc: Option<u8>,
    duplicate_seen: bool,
    scrambled_warned: bool,
    kind: PidKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    /// `pos` is the start of the next unit.
    Locked,
    /// Looking for packets; bytes from `since` on are not accounted for. `pos` is the next
    /// candidate sync byte.
    Lost { since: u64 },
}

/// Bytes kept between pushes while a decision needs more input (at most a few packets).
const CARRY_MAX: usize = 2048;
/// The most bytes past the kept position `process` may need to decide: a unit, the sync byte after
/// it, and a candidate inside it with its lookahead ([`cut_short`]).
const NEED: usize = 4 + packet::M2TS_SIZE + packet::LOOKAHEAD;
// Joining a carry of under NEED bytes with new ones up to CARRY_MAX always gets past the carry.
const _: () = assert!(CARRY_MAX >= 2 * NEED);

/// The push parser. See the module documentation.
#[derive(Debug)]
pub struct TsDemuxer {
    name: String,
    limits: TsLimits,
    /// Stream offset the next push must start at.
    next: u64,
    carry: Vec<u8>,
    carry_base: u64,
    framing: Option<Framing>,
    sync: Sync,
    pos: u64,
    /// PID → index + 1 into `pids` (0: not tracked).
    slots: Vec<u16>,
    pids: Vec<PidState>,
    programs: Vec<Program>,
    events: Vec<Event>,
    scratch: Vec<PesOut>,
    packets: u64,
    pat_seen: bool,
    pmt_seen: bool,
    failed: Option<TsError>,
    finished: bool,
}

impl TsDemuxer {
    /// A demuxer for the stream called `name` (used in error messages).
    pub fn new(name: impl Into<String>, limits: TsLimits) -> Self {
        let mut d = TsDemuxer {
            name: name.into(),
            limits,
            next: 0,
            carry: Vec::with_capacity(CARRY_MAX),
            carry_base: 0,
            framing: None,
            sync: Sync::Lost { since: 0 },
            pos: 0,
            slots: vec![0; 1 << 13],
            pids: Vec::new(),
            programs: Vec::new(),
            events: Vec::new(),
            scratch: Vec::new(),
            packets: 0,
            pat_seen: false,
            pmt_seen: false,
            failed: None,
            finished: false,
        };
        d.pids.push(PidState {
            pid: 0,
            last_section: Vec::new(),
            last_cc: None,
            duplicate_seen: false,
            scrambled_warned: false,
            kind: PidKind::Pat(SectionAssembler::default()),
        });
        d.slots[0] = 1;
        d
    }

    /// The framing found (TS or M2TS), once packets were found.
    pub fn framing(&self) -> Option<Framing> {
        self.framing
    }

    /// Transport packets read so far.
    pub fn packets(&self) -> u64 {
        self.packets
    }

    /// Takes the events produced so far.
    pub fn events(&mut self) -> std::vec::Drain<'_, Event> {
        self.events.drain(..)
    }

    fn err_at(&self, pid: Option<u16>, offset: u64) -> Location {
        location(&self.name, pid, offset)
    }

    /// Feeds the bytes of the stream that start at `offset`; chunks must follow each other. Take
    /// the events it produced with [`TsDemuxer::events`] after each push (they are held until then).
    pub fn push(&mut self, offset: u64, bytes: &[u8]) -> Result<(), TsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished || offset != self.next {
            let what = if self.finished {
                "push after finish".to_string()
            } else {
                format!("chunk starts at byte {offset}, the stream is at byte {}: chunks must be contiguous", self.next)
            };
            return Err(TsError::Unsupported {
                loc: self.err_at(None, offset),
                what,
            });
        }
        self.next =
            self.next
                .checked_add(bytes.len() as u64)
                .ok_or_else(|| TsError::LimitExceeded {
                    loc: location(&self.name, None, offset),
                    what: "stream longer than 2^64 bytes".into(),
                })?;
        let r = self.push_inner(bytes, false);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Ends the stream: processes what is held back, ends every PES in progress, and fails when
    /// the stream had no usable transport packets, PAT or PMT.
    pub fn finish(&mut self) -> Result<(), TsError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let r = self.finish_inner();
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    fn finish_inner(&mut self) -> Result<(), TsError> {
        self.push_inner(&[], true)?;
        let end = self.next;
        if let Sync::Lost { since } = self.sync {
            if since < end {
                self.events.push(Event::Warning(TsWarning {
                    offset: since,
                    pid: None,
                    kind: WarningKind::SkippedBytes { bytes: end - since },
                }));
            }
            self.sync = Sync::Lost { since: end };
        }
        for i in 0..self.pids.len() {
            if let PidKind::Es { pes, .. } = &mut self.pids[i].kind {
                pes.finish(end, &mut self.scratch);
                self.drain_scratch(i);
            }
        }
        if self.packets == 0 {
            return Err(TsError::Malformed {
                loc: self.err_at(None, 0),
                rule: "no transport packets: sync byte 0x47 never repeats every 188 or 192 bytes"
                    .into(),
            });
        }
        if !self.pat_seen {
            return Err(TsError::Malformed {
                loc: self.err_at(Some(0), 0),
                rule: "no valid program association table (PAT)".into(),
            });
        }
        if !self.pmt_seen {
            return Err(TsError::Malformed {
                loc: self.err_at(None, 0),
                rule: "no valid program map table (PMT) for the programs of the PAT".into(),
            });
        }
        Ok(())
    }

    fn push_inner(&mut self, mut bytes: &[u8], at_end: bool) -> Result<(), TsError> {
        // Bytes held back from the last push are joined with just enough new ones to get past
        // them; the rest is processed in place, never copied.
        while !self.carry.is_empty() {
            let old_end = self.carry_base + self.carry.len() as u64;
            let take = (CARRY_MAX - self.carry.len()).min(bytes.len());
            self.carry.extend_from_slice(&bytes[..take]);
            let rest = &bytes[take..];
            let last = at_end && rest.is_empty();
            let carry = std::mem::take(&mut self.carry);
            let r = self.process(self.carry_base, &carry, last);
            self.carry = carry;
            let keep = r?;
            if keep >= old_end {
                // Past the held-back bytes: go on from `keep` in the new bytes themselves.
                bytes = &bytes[(keep - old_end) as usize..];
                self.carry.clear();
                self.carry_base = keep;
                break;
            }
            self.carry.drain(..(keep - self.carry_base) as usize);
            self.carry_base = keep;
            bytes = rest;
            if bytes.is_empty() {
                if last {
                    self.carry.clear();
                    self.carry_base = self.next;
                }
                return Ok(());
            }
        }
        let base = self.carry_base;
        let keep = self.process(base, bytes, at_end)?;
        if !at_end {
            self.carry
                .extend_from_slice(&bytes[(keep - base) as usize..]);
            self.carry_base = keep;
        } else {
            self.carry_base = self.next;
        }
        Ok(())
    }

    /// Processes `data` (stream bytes from `base` on) as far as it can decide; returns the stream
    /// offset from which bytes must be kept for the next call.
    fn process(&mut self, base: u64, data: &[u8], at_end: bool) -> Result<u64, TsError> {
        let end = base + data.len() as u64;
        loop {
            match self.sync {
                Sync::Locked => {
                    let f = self.framing.unwrap_or(Framing::Ts);
                    let i = (self.pos - base) as usize;
                    let Some(unit) = data.get(i..i + f.stride()) else {
                        if at_end && self.pos < end {
                            self.events.push(Event::Warning(TsWarning {
                                offset: self.pos,
                                pid: None,
                                kind: WarningKind::TruncatedPacket {
                                    bytes: end - self.pos,
                                },
                            }));
                            self.pos = end;
                        }
                        return Ok(self.pos.min(end));
                    };
                    let sp = f.sync_pos();
                    let Some(p) = unit
                        .get(sp..sp + PACKET_SIZE)
                        .and_then(|p| <&[u8; PACKET_SIZE]>::try_from(p).ok())
                    else {
                        return Ok(self.pos);
                    };
                    if p[0] != packet::SYNC_BYTE {
                        self.sync = Sync::Lost { since: self.pos };
                        self.pos += sp as u64 + 1;
                        continue;
                    }
                    // The next packet's sync byte should follow. When it does not, either bytes
                    // were lost inside this packet (a real packet starts inside it: drop this one
                    // and resynchronise there) or garbage follows a whole packet (keep it).
                    let next = i + f.stride() + sp;
                    match data.get(next) {
                        Some(&packet::SYNC_BYTE) => {}
                        None if at_end => {}
                        None => return Ok(self.pos),
                        Some(_) => match cut_short(data, i + sp, f, at_end) {
                            Candidate::NeedMore => return Ok(self.pos),
                            Candidate::Sync(_) => {
                                self.sync = Sync::Lost { since: self.pos };
                                self.pos += sp as u64 + 1;
                                continue;
                            }
                            Candidate::No => {}
                        },
                    }
                    let at = self.pos + sp as u64;
                    self.pos += f.stride() as u64;
                    self.packet(at, p)?;
                }
                Sync::Lost { since } => {
                    let i = (self.pos - base) as usize;
                    if i >= data.len() {
                        return Ok(self.pos.saturating_sub(4).max(base).min(end));
                    }
                    let min_m2ts = (since + 4).saturating_sub(base) as usize;
                    match candidate(data, i, self.framing, at_end, min_m2ts) {
                        Candidate::Sync(f) => {
                            self.framing = Some(f);
                            let unit = self.pos - f.sync_pos() as u64;
                            if unit > since {
                                self.events.push(Event::Warning(TsWarning {
                                    offset: since,
                                    pid: None,
                                    kind: WarningKind::SkippedBytes {
                                        bytes: unit - since,
                                    },
                                }));
                            }
                            self.sync = Sync::Locked;
                            self.pos = unit;
                        }
                        Candidate::No => {
                            let next = data[i + 1..]
                                .iter()
                                .position(|&b| b == packet::SYNC_BYTE)
                                .map_or(data.len(), |k| i + 1 + k);
                            self.pos = base + next as u64;
                        }
                        Candidate::NeedMore => {
                            return Ok(self.pos.saturating_sub(4).max(base));
                        }
                    }
                }
            }
        }
    }

    fn warn(&mut self, offset: u64, pid: Option<u16>, kind: WarningKind) {
        self.events
            .push(Event::Warning(TsWarning { offset, pid, kind }));
    }

    /// One 188-byte transport packet at file offset `at` (§2.4.3.2).
    fn packet(&mut self, at: u64, p: &[u8; PACKET_SIZE]) -> Result<(), TsError> {
        self.packets += 1;
        let h = match PacketHeader::parse(p) {
            Ok(h) => h,
            Err(fault) => {
                let pid = (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]);
                if self.slots[usize::from(pid)] != 0 {
                    self.warn(at, Some(pid), WarningKind::BadPacket { fault });
                }
                return Ok(());
            }
        };
        if h.pid == NULL_PID {
            return Ok(());
        }
        let slot = usize::from(self.slots[usize::from(h.pid)]);
        if slot == 0 {
            return Ok(());
        }
        let i = slot - 1;
        if h.transport_error {
            self.warn(at, Some(h.pid), WarningKind::TransportError);
            if let PidKind::Es { pes, .. } = &mut self.pids[i].kind {
                pes.mark_damaged();
            }
            return Ok(());
        }
        if h.scrambling != 0 {
            if !self.pids[i].scrambled_warned {
                self.pids[i].scrambled_warned = true;
                self.warn(at, Some(h.pid), WarningKind::Scrambled);
            }
            return Ok(());
        }
        if !h.has_payload {
            return Ok(());
        }
        // §2.4.3.3: the counter goes up by one per packet with payload; a packet may be sent twice
        // in a row (the duplicate is dropped); the discontinuity_indicator allows any value.
        let st = &mut self.pids[i];
        let cc = h.continuity_counter;
        if let (Some(last), false) = (st.last_cc, h.discontinuity) {
            if cc == last && !st.duplicate_seen {
                st.duplicate_seen = true;
                return Ok(());
            }
            let expected = (last + 1) & 0x0f;
            if cc != expected {
                if let PidKind::Es { pes, .. } = &mut st.kind {
                    pes.mark_damaged();
                }
                st.last_cc = Some(cc);
                st.duplicate_seen = false;
                self.warn(
                    at,
                    Some(h.pid),
                    WarningKind::Continuity {
                        expected,
                        found: cc,
                    },
                );
            }
        }
        let st = &mut self.pids[i];
        st.last_cc = Some(cc);
        st.duplicate_seen = false;
        let payload = h.payload(p);
        let payload_at = at + u64::from(h.payload_start);
        match &mut st.kind {
            PidKind::Es { pes, .. } => {
                pes.push(
                    at,
                    payload_at,
                    payload,
                    h.payload_unit_start,
                    h.random_access,
                    &self.name,
                    &self.limits,
                    &mut self.scratch,
                )?;
                self.drain_scratch(i);
            }
            PidKind::Pat(asm) | PidKind::Pmt(asm) => {
                let mut asm = std::mem::take(asm);
                let mut sections: Vec<(Result<Vec<u8>, String>, u64)> = Vec::new();
                asm.push(payload, payload_at, h.payload_unit_start, |s, off| {
                    sections.push((s.map(<[u8]>::to_vec), off));
                });
                if let PidKind::Pat(a) | PidKind::Pmt(a) = &mut self.pids[i].kind {
                    *a = asm;
                }
                for (s, off) in sections {
                    match s {
                        Ok(s) => self.section(i, h.pid, &s, off)?,
                        Err(rule) => self.warn(off, Some(h.pid), WarningKind::BadSection { rule }),
                    }
                }
            }
        }
        Ok(())
    }

    /// A complete PSI section of the PID in slot `i` (§2.4.4).
    fn section(&mut self, i: usize, pid: u16, s: &[u8], off: u64) -> Result<(), TsError> {
        let is_pat = matches!(self.pids[i].kind, PidKind::Pat(_));
        // Tables repeat every few hundred milliseconds, unchanged.
        if self.pids[i].last_section == s {
            return Ok(());
        }
        let (hdr, body) = match psi::check_section(s) {
            Ok(x) => x,
            Err(rule) => {
                self.warn(off, Some(pid), WarningKind::BadSection { rule });
                return Ok(());
            }
        };
        if !hdr.current {
            return Ok(());
        }
        if s.len() <= psi::MAX_SECTION_LENGTH + 3 {
            self.pids[i].last_section.clear();
            self.pids[i].last_section.extend_from_slice(s);
        }
        if is_pat {
            if hdr.table_id != TABLE_PAT {
                return Ok(());
            }
            let mut entries = Vec::new();
            if let Err(rule) = psi::parse_pat(body, &mut entries) {
                self.warn(off, Some(pid), WarningKind::BadSection { rule });
                return Ok(());
            }
            self.pat_seen = true;
            for e in entries {
                if e.program_number == 0 || e.pid == NULL_PID || e.pid == 0 {
                    continue; // network PID
                }
                if let Some(p) = self
                    .programs
                    .iter_mut()
                    .find(|p| p.number == e.program_number)
                {
                    if p.pmt_pid == e.pid {
                        continue;
                    }
                    p.pmt_pid = e.pid;
                    p.version = None;
                } else {
                    if self.programs.len() >= self.limits.max_pids {
                        return Err(TsError::LimitExceeded {
                            loc: self.err_at(Some(pid), off),
                            what: format!("more than {} programs in the PAT", self.limits.max_pids),
                        });
                    }
                    self.programs.push(Program {
                        number: e.program_number,
                        pmt_pid: e.pid,
                        version: None,
                        unwrap: Unwrapper::default(),
                    });
                }
                self.track(e.pid, off, || PidKind::Pmt(SectionAssembler::default()))?;
            }
            return Ok(());
        }
        if hdr.table_id != TABLE_PMT {
            return Ok(());
        }
        let Some(prog) = self
            .programs
            .iter()
            .position(|p| p.number == hdr.id && p.pmt_pid == pid)
        else {
            return Ok(()); // another program's PMT sharing the PID
        };
        if self.programs[prog].version == Some(hdr.version) {
            return Ok(());
        }
        let pmt = match psi::parse_pmt(body) {
            Ok(p) => p,
            Err(rule) => {
                self.warn(off, Some(pid), WarningKind::BadSection { rule });
                return Ok(());
            }
        };
        self.programs[prog].version = Some(hdr.version);
        self.pmt_seen = true;
        for s in pmt.streams {
            let Some(st) = StreamType::from_code(s.stream_type) else {
                self.warn(
                    off,
                    Some(s.pid),
                    WarningKind::UnsupportedStream {
                        stream_type: s.stream_type,
                    },
                );
                continue;
            };
            let slot = usize::from(self.slots[usize::from(s.pid)]);
            if slot != 0 {
                let same = match &self.pids[slot - 1].kind {
                    PidKind::Es { pes, .. } => pes.stream_type() == st,
                    _ => true, // a PSI PID named as a stream: keep it PSI
                };
                if same {
                    continue;
                }
            }
            self.track(s.pid, off, || PidKind::Es {
                program: prog,
                pes: Box::new(PesState::new(s.pid, st)),
                last_dts: None,
                last_step: 0,
            })?;
            self.events.push(Event::Stream {
                program: hdr.id,
                pid: s.pid,
                stream_type: st,
            });
        }
        Ok(())
    }

    /// Starts tracking `pid` (or replaces what it was), within [`TsLimits::max_pids`].
    fn track(&mut self, pid: u16, off: u64, kind: impl FnOnce() -> PidKind) -> Result<(), TsError> {
        let slot = usize::from(self.slots[usize::from(pid)]);
        if slot != 0 {
            if let PidKind::Es { pes, .. } = &mut self.pids[slot - 1].kind {
                pes.finish(off, &mut self.scratch);
                self.drain_scratch(slot - 1);
            }
            self.pids[slot - 1].kind = kind();
            self.pids[slot - 1].last_section.clear();
            return Ok(());
        }
        // The PAT's own slot is not counted.
        if self.pids.len() > self.limits.max_pids {
            return Err(TsError::LimitExceeded {
                loc: self.err_at(Some(pid), off),
                what: format!(
                    "more than {} PIDs in the PAT and PMTs",
                    self.limits.max_pids
                ),
            });
        }
        self.pids.push(PidState {
            pid,
            last_section: Vec::new(),
            last_cc: None,
            duplicate_seen: false,
            scrambled_warned: false,
            kind: kind(),
        });
        self.slots[usize::from(pid)] = self.pids.len() as u16;
        Ok(())
    }

    /// Turns what the PES layer produced for slot `i` into events: timestamps unwrapped on the
    /// program's timeline, jumps reported.
    fn drain_scratch(&mut self, i: usize) {
        if self.scratch.is_empty() {
            return;
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        for out in scratch.drain(..) {
            match out {
                PesOut::Warn(w) => self.events.push(Event::Warning(w)),
                PesOut::Au(mut au) => {
                    let pid = self.pids[i].pid;
                    if let PidKind::Es {
                        program,
                        last_dts,
                        last_step,
                        ..
                    } = &mut self.pids[i].kind
                    {
                        let unwrap = &mut self.programs[*program].unwrap;
                        au.timeline_dts = au.dts.or(au.pts).map(|t| unwrap.unwrap(t));
                        au.timeline_pts = au.pts.map(|t| unwrap.unwrap(t));
                        if let Some(d) = au.timeline_dts {
                            if let Some(prev) = *last_dts {
                                let expected = prev.saturating_add((*last_step).max(0));
                                if d <= prev || d > expected.saturating_add(JUMP_THRESHOLD) {
                                    self.events.push(Event::Discontinuity {
                                        pid,
                                        offset: au.offset,
                                        before: expected,
                                        after: d,
                                    });
                                    *last_step = 0;
                                } else {
                                    *last_step = d.saturating_sub(prev);
                                }
                            }
                            *last_dts = Some(d);
                        }
                    }
                    self.events.push(Event::AccessUnit(au));
                }
            }
        }
        self.scratch = scratch;
    }
}

/// Demuxes a whole in-memory stream in one push: every event, and the first error.
pub fn demux_all(name: &str, data: &[u8], limits: &TsLimits) -> (Vec<Event>, Result<(), TsError>) {
    demux_chunks(name, data, &[], limits)
}

/// Demuxes an in-memory stream pushed in chunks cut at `cuts` (sorted byte positions inside
/// `data`): every event, and the first error. Any cutting gives the same result as one push (the
/// split-at-any-byte property the tests and the fuzz target check).
pub fn demux_chunks(
    name: &str,
    data: &[u8],
    cuts: &[usize],
    limits: &TsLimits,
) -> (Vec<Event>, Result<(), TsError>) {
    let mut d = TsDemuxer::new(name, limits.clone());
    let mut events = Vec::new();
    let mut start = 0;
    for &c in cuts.iter().chain(std::iter::once(&data.len())) {
        let end = c.clamp(start, data.len());
        let r = d.push(start as u64, &data[start..end]);
        events.extend(d.events());
        if let Err(e) = r {
            return (events, Err(e));
        }
        start = end;
    }
    let r = d.finish();
    events.extend(d.events());
    (events, r)
}

#[cfg(test)]
mod fixture_tests;
#[cfg(test)]
mod tests;
