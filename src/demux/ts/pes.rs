//! PES packets (ISO/IEC 13818-1 §2.4.3.6, §2.4.3.7) reassembled per PID into access units that are
//! lists of file byte ranges, and ADTS framing of AAC PES payloads (ISO/IEC 14496-3 §1.A.2, carried
//! as stream_type 0x0F, §2.4.4.9 Table 2-34).

use std::ops::Range;

use super::{AccessUnit, StreamType, TsLimits, TsWarning, WarningKind, TS_MASK};
use crate::codec::aac::AdtsHeader;

/// Largest PES header: 9 fixed bytes and a 255-byte `PES_header_data_length` (§2.4.3.7).
const MAX_HEADER: usize = 9 + 255;

/// What the PES layer hands to the demuxer.
#[derive(Debug)]
pub(crate) enum PesOut {
    /// A complete access unit (timeline fields still empty).
    Au(AccessUnit),
    /// Something was dropped or looked wrong.
    Warn(TsWarning),
}

/// The fields of a PES header the demuxer uses (§2.4.3.7, Table 2-21).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PesHeader {
    /// `stream_id`.
    pub stream_id: u8,
    /// `PES_packet_length`: bytes after this field; 0 means unbounded (video only, §2.4.3.7).
    pub packet_length: u16,
    /// `PTS`, 33 bits.
    pub pts: Option<u64>,
    /// `DTS`, 33 bits.
    pub dts: Option<u64>,
    /// Bytes of header before the payload.
    pub header_len: usize,
}

/// Stream ids whose PES packets have no optional header (§2.4.3.7, the `stream_id` tests of
/// Table 2-21): program_stream_map, padding, private_stream_2, ECM, EMM, DSMCC, H.222.1 type E,
/// program_stream_directory.
fn has_optional_header(stream_id: u8) -> bool {
    !matches!(
        stream_id,
        0xbc | 0xbe | 0xbf | 0xf0 | 0xf1 | 0xf2 | 0xf8 | 0xff
    )
}

/// How many header bytes are needed to parse the header whose first bytes are `h`.
fn header_needed(h: &[u8]) -> usize {
    if h.len() < 6 || !has_optional_header(h[3]) {
        6
    } else if h.len() < 9 {
        9
    } else {
        9 + usize::from(h[8])
    }
}

/// A 33-bit timestamp coded in 5 bytes with marker bits (§2.4.3.7: PTS[32..30], PTS[29..15],
/// PTS[14..0]). Marker bits are not checked (muxers get them wrong and decoders ignore them).
fn timestamp(b: &[u8]) -> u64 {
    (u64::from((b[0] >> 1) & 0x07) << 30)
        | (u64::from(b[1]) << 22)
        | (u64::from(b[2] >> 1) << 15)
        | (u64::from(b[3]) << 7)
        | u64::from(b[4] >> 1)
}

/// Parses a complete PES header (§2.4.3.7): 6 bytes, or 9 plus `PES_header_data_length` for
/// stream ids with the optional header.
pub fn parse_header(h: &[u8]) -> Result<PesHeader, String> {
    if h.len() < 6 || h[..3] != [0, 0, 1] {
        return Err("PES packet does not start with packet_start_code_prefix 00 00 01".into());
    }
    let stream_id = h[3];
    let packet_length = u16::from_be_bytes([h[4], h[5]]);
    let mut out = PesHeader {
        stream_id,
        packet_length,
        pts: None,
        dts: None,
        header_len: 6,
    };
    if !has_optional_header(stream_id) {
        return Ok(out);
    }
    if h.len() < 9 {
        return Err(format!("PES header of {} bytes, needs 9", h.len()));
    }
    if h[6] & 0xc0 != 0x80 {
        return Err(format!(
            "PES header byte 6 is 0x{:02x}, its first bits are not '10'",
            h[6]
        ));
    }
    let flags = h[7] >> 6;
    let data_len = usize::from(h[8]);
    out.header_len = 9 + data_len;
    if h.len() < out.header_len {
        return Err(format!(
            "PES header of {} bytes, PES_header_data_length says {}",
            h.len(),
            out.header_len
        ));
    }
    let fields = &h[9..out.header_len];
    match flags {
        0b00 => {}
        0b01 => return Err("PTS_DTS_flags is the forbidden value '01'".into()),
        0b10 => {
            let b = fields
                .get(..5)
                .ok_or("PES header too short for its PTS (PES_header_data_length below 5)")?;
            out.pts = Some(timestamp(b));
        }
        _ => {
            let b = fields.get(..10).ok_or(
                "PES header too short for its PTS and DTS (PES_header_data_length below 10)",
            )?;
            out.pts = Some(timestamp(&b[..5]));
            out.dts = Some(timestamp(&b[5..]));
        }
    }
    if packet_length != 0 && usize::from(packet_length) + 6 < out.header_len {
        return Err(format!(
            "PES_packet_length {packet_length} is shorter than the {}-byte header",
            out.header_len
        ));
    }
    Ok(out)
}

/// Where a PID's PES reassembly is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// No PES started yet (or the last one was dropped): payload waits for a unit start.
    Idle,
    /// Gathering the PES header.
    Header,
    /// In the payload.
    Data,
}

/// ADTS framing state of an AAC PID: the frame being collected may span TS packets and PES packets.
#[derive(Debug, Default)]
struct Adts {
    header: [u8; 7],
    have: usize,
    /// Payload bytes of the current frame still to come, once its header is parsed.
    left: usize,
    /// Frame duration in 90 kHz ticks (from the last header's sampling frequency).
    duration: u64,
    /// PTS of the last frame, for frames that start where the PES header gave none.
    last_pts: Option<u64>,
}

/// PES reassembly for one elementary PID (§2.4.3.6).
#[derive(Debug)]
pub(crate) struct PesState {
    pid: u16,
    stream_type: StreamType,
    phase: Phase,
    header: Vec<u8>,
    /// Bytes of payload still to come when `PES_packet_length` is not 0.
    remaining: Option<usize>,
    /// File offset of the packet the current PES started in.
    start: u64,
    random_access: bool,
    damaged: bool,
    pts: Option<u64>,
    dts: Option<u64>,
    /// Payload bytes of the current PES received so far.
    received: u64,
    /// Bytes dropped while [`Phase::Idle`], reported at the next unit start.
    orphan: u64,
    orphan_at: u64,
    /// The access unit being built: its pieces, size, start offset.
    pieces: Vec<Range<u64>>,
    size: u64,
    au_start: u64,
    au_pts: Option<u64>,
    au_dts: Option<u64>,
    adts: Option<Adts>,
    /// Pieces of the last access unit: the next one reserves as many (one allocation per AU).
    pieces_hint: usize,
}

impl PesState {
    pub fn new(pid: u16, stream_type: StreamType) -> Self {
        PesState {
            pid,
            stream_type,
            phase: Phase::Idle,
            header: Vec::new(),
            remaining: None,
            start: 0,
            random_access: false,
            damaged: false,
            pts: None,
            dts: None,
            received: 0,
            orphan: 0,
            orphan_at: 0,
            pieces: Vec::new(),
            size: 0,
            au_start: 0,
            au_pts: None,
            au_dts: None,
            adts: (stream_type == StreamType::AacAdts).then(Adts::default),
            pieces_hint: 4,
        }
    }

    pub fn stream_type(&self) -> StreamType {
        self.stream_type
    }

    fn warn(&self, offset: u64, kind: WarningKind, out: &mut Vec<PesOut>) {
        out.push(PesOut::Warn(TsWarning {
            offset,
            pid: Some(self.pid),
            kind,
        }));
    }

    /// Marks the access unit being built as damaged (a continuity error inside it).
    pub fn mark_damaged(&mut self) {
        if self.phase != Phase::Idle {
            self.damaged = true;
        }
    }

    /// Feeds one packet's payload `data`, which starts at file offset `offset`; the packet starts at
    /// `packet`. `unit_start` and `random_access` come from the packet header.
    #[allow(clippy::too_many_arguments)] // one call site, in the per-packet hot path
    pub fn push(
        &mut self,
        packet: u64,
        offset: u64,
        data: &[u8],
        unit_start: bool,
        random_access: bool,
        name: &str,
        limits: &TsLimits,
        out: &mut Vec<PesOut>,
    ) -> Result<(), super::TsError> {
        let mut data = data;
        let mut offset = offset;
        if unit_start {
            self.end_pes(packet, out);
            if self.orphan > 0 {
                self.warn(
                    self.orphan_at,
                    WarningKind::OrphanPayload { bytes: self.orphan },
                    out,
                );
                self.orphan = 0;
            }
            self.phase = Phase::Header;
            self.header.clear();
            self.start = packet;
            self.random_access = random_access;
            self.damaged = false;
            self.remaining = None;
            self.received = 0;
        }
        if self.phase == Phase::Idle {
            if self.orphan == 0 {
                self.orphan_at = offset;
            }
            self.orphan += data.len() as u64;
            return Ok(());
        }
        if self.phase == Phase::Header {
            loop {
                let need = header_needed(&self.header).min(MAX_HEADER);
                if self.header.len() >= need {
                    break;
                }
                let n = (need - self.header.len()).min(data.len());
                self.header.extend_from_slice(&data[..n]);
                data = &data[n..];
                offset += n as u64;
                if n == 0 {
                    return Ok(()); // the header continues in the next packet
                }
            }
            match parse_header(&self.header) {
                Ok(h) => {
                    self.pts = h.pts;
                    self.dts = h.dts;
                    self.remaining = (h.packet_length != 0)
                        .then(|| usize::from(h.packet_length) + 6 - h.header_len);
                    // For ADTS the PTS belongs to the first frame that starts in this PES
                    // (§2.4.3.7); `push_adts` takes it from `self.pts` there.
                    self.phase = Phase::Data;
                }
                Err(rule) => {
                    self.warn(self.start, WarningKind::BadPes { rule }, out);
                    self.phase = Phase::Idle;
                    return Ok(());
                }
            }
        }
        // Phase::Data
        if let Some(rem) = self.remaining {
            if data.len() > rem {
                self.warn(
                    offset + rem as u64,
                    WarningKind::PesOverrun {
                        bytes: (data.len() - rem) as u64,
                    },
                    out,
                );
                data = &data[..rem];
            }
            self.remaining = Some(rem - data.len());
        }
        self.received += data.len() as u64;
        if self.adts.is_some() {
            self.push_adts(packet, offset, data, out);
        } else if !data.is_empty() {
            if self.pieces.is_empty() {
                self.pieces.reserve(self.pieces_hint);
                self.au_start = self.start;
                self.au_pts = self.pts;
                self.au_dts = self.dts;
            }
            let n = data.len() as u64;
            let size = self
                .size
                .checked_add(n)
                .filter(|&s| s <= limits.max_pes_size);
            let Some(size) = size else {
                return Err(super::TsError::LimitExceeded {
                    loc: super::location(name, Some(self.pid), self.start),
                    what: format!(
                        "PES packet larger than the limit of {} bytes",
                        limits.max_pes_size
                    ),
                });
            };
            add_piece(&mut self.pieces, offset, n);
            self.size = size;
        }
        if self.remaining == Some(0) {
            self.end_pes(packet, out);
        }
        Ok(())
    }

    /// Ends the current PES (a new unit start, its length reached, or the end of the stream).
    /// `at` is where the next PES starts (for the warning of a short one).
    pub fn end_pes(&mut self, at: u64, out: &mut Vec<PesOut>) {
        match self.phase {
            Phase::Idle => return,
            Phase::Header => {
                let got = self.header.len();
                self.warn(
                    self.start,
                    WarningKind::TruncatedPes {
                        missing: None,
                        got: got as u64,
                    },
                    out,
                );
            }
            Phase::Data => {
                if let Some(rem) = self.remaining.filter(|&r| r > 0) {
                    self.warn(
                        at,
                        WarningKind::TruncatedPes {
                            missing: Some(rem as u64),
                            got: self.received,
                        },
                        out,
                    );
                    self.damaged = true;
                }
                if self.adts.is_none() && !self.pieces.is_empty() {
                    self.pieces_hint = self.pieces.len().clamp(4, 1024);
                    let au = AccessUnit {
                        pid: self.pid,
                        stream_type: self.stream_type,
                        offset: self.au_start,
                        pts: self.au_pts,
                        dts: self.au_dts,
                        random_access: self.random_access,
                        damaged: self.damaged,
                        pieces: std::mem::take(&mut self.pieces),
                        size: self.size,
                        timeline_pts: None,
                        timeline_dts: None,
                    };
                    self.size = 0;
                    out.push(PesOut::Au(au));
                }
            }
        }
        self.phase = Phase::Idle;
        self.remaining = None;
    }

    /// At the end of the stream: ends the PES and drops a partial ADTS frame.
    pub fn finish(&mut self, end: u64, out: &mut Vec<PesOut>) {
        self.end_pes(end, out);
        if let Some(a) = &mut self.adts {
            if a.have > 0 {
                let at = self.au_start;
                let got = self.size;
                *a = Adts {
                    duration: a.duration,
                    last_pts: a.last_pts,
                    ..Adts::default()
                };
                self.pieces.clear();
                self.size = 0;
                self.warn(at, WarningKind::TruncatedAdts { got }, out);
            }
        }
        if self.orphan > 0 {
            self.warn(
                self.orphan_at,
                WarningKind::OrphanPayload { bytes: self.orphan },
                out,
            );
            self.orphan = 0;
        }
    }

    /// Splits PES payload bytes into ADTS frames (ISO/IEC 14496-3 §1.A.2.2), one access unit each,
    /// header included.
    fn push_adts(&mut self, packet: u64, offset: u64, data: &[u8], out: &mut Vec<PesOut>) {
        if let Some(mut a) = self.adts.take() {
            self.frame_adts(&mut a, packet, offset, data, out);
            self.adts = Some(a);
        }
    }

    fn frame_adts(
        &mut self,
        a: &mut Adts,
        packet: u64,
        mut offset: u64,
        mut data: &[u8],
        out: &mut Vec<PesOut>,
    ) {
        while !data.is_empty() {
            if a.have == 0 {
                // Resynchronise on the 0xFF of a sync word.
                let skip = data.iter().position(|&b| b == 0xff).unwrap_or(data.len());
                if skip > 0 {
                    self.warn(offset, WarningKind::AdtsSync { bytes: skip as u64 }, out);
                    data = &data[skip..];
                    offset += skip as u64;
                    continue;
                }
                self.au_start = packet;
                self.pieces.reserve(2);
                self.au_dts = self.dts.take();
                let pts = self.pts.take();
                self.au_pts = pts.or_else(|| a.last_pts.map(|p| (p + a.duration) & TS_MASK));
                a.last_pts = self.au_pts;
            }
            if a.have < 7 {
                let n = (7 - a.have).min(data.len());
                a.header[a.have..a.have + n].copy_from_slice(&data[..n]);
                a.have += n;
                add_piece(&mut self.pieces, offset, n as u64);
                self.size += n as u64;
                data = &data[n..];
                offset += n as u64;
                if a.have < 7 {
                    return;
                }
                match AdtsHeader::parse(&a.header) {
                    Ok(h) => {
                        a.left = usize::from(h.frame_length) - 7;
                        let rate = h.to_audio_specific_config().sampling_frequency;
                        a.duration = if rate > 0 {
                            (1024 * 90_000 + u64::from(rate) / 2) / u64::from(rate)
                        } else {
                            0
                        };
                    }
                    Err(e) => {
                        let at = self.pieces.first().map_or(offset, |r| r.start);
                        a.have = 0;
                        self.pieces.clear();
                        self.size = 0;
                        self.warn(
                            at,
                            WarningKind::BadAdts {
                                rule: e.to_string(),
                            },
                            out,
                        );
                        continue;
                    }
                }
            }
            let n = a.left.min(data.len());
            a.left -= n;
            if n > 0 {
                add_piece(&mut self.pieces, offset, n as u64);
                self.size += n as u64;
                data = &data[n..];
                offset += n as u64;
            }
            if a.left == 0 {
                a.have = 0;
                out.push(PesOut::Au(AccessUnit {
                    pid: self.pid,
                    stream_type: self.stream_type,
                    offset: self.au_start,
                    pts: self.au_pts,
                    dts: self.au_dts,
                    random_access: true,
                    damaged: self.damaged,
                    pieces: std::mem::take(&mut self.pieces),
                    size: self.size,
                    timeline_pts: None,
                    timeline_dts: None,
                }));
                self.size = 0;
            }
        }
    }
}

/// Appends `[offset, offset + n)` to `pieces`, extending the last range when they touch.
fn add_piece(pieces: &mut Vec<Range<u64>>, offset: u64, n: u64) {
    if n == 0 {
        return;
    }
    if let Some(last) = pieces.last_mut() {
        if last.end == offset {
            last.end += n;
            return;
        }
    }
    pieces.push(offset..offset + n);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts_bytes(prefix: u8, t: u64) -> [u8; 5] {
        [
            (prefix << 4) | (((t >> 30) as u8 & 0x07) << 1) | 1,
            (t >> 22) as u8,
            (((t >> 15) as u8) << 1) | 1,
            (t >> 7) as u8,
            ((t as u8) << 1) | 1,
        ]
    }

    #[test]
    fn header_with_pts_and_dts() {
        let pts = (1u64 << 33) - 1;
        let dts = 0x1_0000_0001;
        let mut h = vec![0, 0, 1, 0xe0, 0, 0, 0x80, 0xc0, 10];
        h.extend_from_slice(&ts_bytes(3, pts));
        h.extend_from_slice(&ts_bytes(1, dts));
        assert_eq!(header_needed(&h[..4]), 6);
        assert_eq!(header_needed(&h[..7]), 9);
        assert_eq!(header_needed(&h), 19);
        let p = parse_header(&h).unwrap();
        assert_eq!((p.pts, p.dts, p.header_len), (Some(pts), Some(dts), 19));
        assert_eq!(p.packet_length, 0);
    }

    #[test]
    fn bad_headers() {
        assert!(parse_header(&[0, 0, 2, 0xe0, 0, 0]).is_err());
        let h = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x40, 0];
        assert!(parse_header(&h).unwrap_err().contains("forbidden"));
        let h = [0, 0, 1, 0xe0, 0, 0, 0x80, 0x80, 2, 0, 0];
        assert!(parse_header(&h).unwrap_err().contains("PTS"));
        let h = [0, 0, 1, 0xe0, 0, 3, 0x80, 0x00, 5, 0, 0, 0, 0, 0];
        assert!(parse_header(&h).unwrap_err().contains("PES_packet_length"));
        // Padding stream: no optional header.
        let p = parse_header(&[0, 0, 1, 0xbe, 0, 4]).unwrap();
        assert_eq!(p.header_len, 6);
    }

    #[test]
    fn pieces_merge_when_adjacent() {
        let mut p = Vec::new();
        add_piece(&mut p, 10, 5);
        add_piece(&mut p, 15, 5);
        add_piece(&mut p, 30, 0);
        add_piece(&mut p, 40, 2);
        assert_eq!(p, vec![10..20, 40..42]);
    }
}
