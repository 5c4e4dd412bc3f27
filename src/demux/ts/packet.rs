//! Transport stream packets: the 4-byte header (ISO/IEC 13818-1 §2.4.3.2), the adaptation field
//! (§2.4.3.4) and the framing of a byte stream into 188-byte packets or 192-byte M2TS units
//! (a 4-byte `TP_extra_header` before each packet, as on Blu-ray and AVCHD).

/// `sync_byte` (§2.4.3.3): every transport packet starts with it.
pub const SYNC_BYTE: u8 = 0x47;
/// Size of a transport packet (§2.4.3.1).
pub const PACKET_SIZE: usize = 188;
/// Size of an M2TS unit: a 4-byte `TP_extra_header` and a transport packet.
pub const M2TS_SIZE: usize = 192;
/// The null packet PID (§2.4.3.3, Table 2-3): stuffing, never demuxed.
pub const NULL_PID: u16 = 0x1fff;

/// How packets sit in the byte stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Plain transport stream: 188-byte packets back to back.
    Ts,
    /// M2TS: each packet preceded by a 4-byte `TP_extra_header` (192-byte units).
    M2ts,
}

impl Framing {
    /// Bytes from one unit's start to the next.
    pub fn stride(self) -> usize {
        match self {
            Framing::Ts => PACKET_SIZE,
            Framing::M2ts => M2TS_SIZE,
        }
    }

    /// Bytes before the sync byte inside a unit.
    pub fn sync_pos(self) -> usize {
        match self {
            Framing::Ts => 0,
            Framing::M2ts => M2TS_SIZE - PACKET_SIZE,
        }
    }
}

/// The transport packet header (§2.4.3.2, Table 2-2) and the fields of the adaptation field
/// (§2.4.3.4, Table 2-6) the demuxer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketHeader {
    /// `transport_error_indicator`: at least one uncorrectable bit error in the packet.
    pub transport_error: bool,
    /// `payload_unit_start_indicator`: a PES packet or a PSI section starts in this packet.
    pub payload_unit_start: bool,
    /// `PID`, 13 bits.
    pub pid: u16,
    /// `transport_scrambling_control`, 2 bits; 0 means not scrambled.
    pub scrambling: u8,
    /// `adaptation_field_control` bit 0: the packet carries payload.
    pub has_payload: bool,
    /// `adaptation_field_control` bit 1: the packet has an adaptation field.
    pub has_adaptation: bool,
    /// `continuity_counter`, 4 bits (§2.4.3.3).
    pub continuity_counter: u8,
    /// `discontinuity_indicator` of the adaptation field (§2.4.3.5).
    pub discontinuity: bool,
    /// `random_access_indicator` of the adaptation field: the next PES starting in this PID
    /// begins at an access point (for video, a sequence / IDR access unit).
    pub random_access: bool,
    /// `program_clock_reference` in 27 MHz ticks (`PCR_base * 300 + PCR_extension`).
    pub pcr: Option<u64>,
    /// Offset of the payload inside the 188-byte packet (4, or after the adaptation field).
    pub payload_start: u8,
}

/// Why a packet's header cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketFault {
    /// The first byte is not [`SYNC_BYTE`].
    NoSync,
    /// `adaptation_field_control` is `00`, reserved (§2.4.3.3).
    ReservedAdaptationControl,
    /// `adaptation_field_length` does not fit the packet (§2.4.3.5: at most 183 with no payload,
    /// at most 182 with payload).
    AdaptationLength(u8),
}

impl std::fmt::Display for PacketFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PacketFault::NoSync => write!(f, "packet does not start with sync byte 0x47"),
            PacketFault::ReservedAdaptationControl => {
                write!(f, "adaptation_field_control is the reserved value 00")
            }
            PacketFault::AdaptationLength(n) => {
                write!(f, "adaptation_field_length {n} does not fit the packet")
            }
        }
    }
}

impl PacketHeader {
    /// Parses a 188-byte transport packet's header and adaptation field (§2.4.3.2, §2.4.3.4).
    pub fn parse(p: &[u8; PACKET_SIZE]) -> Result<PacketHeader, PacketFault> {
        if p[0] != SYNC_BYTE {
            return Err(PacketFault::NoSync);
        }
        let afc = (p[3] >> 4) & 0x03;
        if afc == 0 {
            return Err(PacketFault::ReservedAdaptationControl);
        }
        let mut h = PacketHeader {
            transport_error: p[1] & 0x80 != 0,
            payload_unit_start: p[1] & 0x40 != 0,
            pid: (u16::from(p[1] & 0x1f) << 8) | u16::from(p[2]),
            scrambling: p[3] >> 6,
            has_payload: afc & 0x01 != 0,
            has_adaptation: afc & 0x02 != 0,
            continuity_counter: p[3] & 0x0f,
            discontinuity: false,
            random_access: false,
            pcr: None,
            payload_start: 4,
        };
        if h.has_adaptation {
            let len = p[4];
            // §2.4.3.5: 0..=182 when payload follows, exactly 183 when it does not (0..=183 read
            // leniently: a shorter field is followed by bytes nobody reads).
            let max = if h.has_payload { 182 } else { 183 };
            if len > max {
                return Err(PacketFault::AdaptationLength(len));
            }
            if len > 0 {
                let flags = p[5];
                h.discontinuity = flags & 0x80 != 0;
                h.random_access = flags & 0x40 != 0;
                // PCR_flag: 33-bit base, 6 reserved bits, 9-bit extension (Table 2-6).
                if flags & 0x10 != 0 && len >= 7 {
                    let base = (u64::from(p[6]) << 25)
                        | (u64::from(p[7]) << 17)
                        | (u64::from(p[8]) << 9)
                        | (u64::from(p[9]) << 1)
                        | (u64::from(p[10]) >> 7);
                    let ext = (u64::from(p[10] & 0x01) << 8) | u64::from(p[11]);
                    h.pcr = Some(base * 300 + ext);
                }
            }
            h.payload_start = 5 + len;
        }
        Ok(h)
    }

    /// The payload bytes of `p` (empty when the packet has none).
    pub fn payload<'a>(&self, p: &'a [u8; PACKET_SIZE]) -> &'a [u8] {
        if !self.has_payload {
            return &[];
        }
        p.get(usize::from(self.payload_start)..).unwrap_or(&[])
    }
}

/// What the framing detector decides at one candidate sync position (§2.4.3.3: a decoder
/// acquires sync on `sync_byte` repeating at the packet interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Candidate {
    /// Packets start here, with this framing.
    Sync(Framing),
    /// Not a packet start.
    No,
    /// More bytes are needed to decide.
    NeedMore,
}

/// Number of further sync bytes that must repeat at the stride to accept a position.
const CONFIRM: usize = 2;

/// Bytes past a candidate position the detector needs to decide without `at_end`.
pub(crate) const LOOKAHEAD: usize = CONFIRM * M2TS_SIZE + 1;

/// Decides whether the sync byte of a packet sits at `data[q]` with `framing` (or, when `framing`
/// is `None`, with either framing, TS tried first). A position qualifies when the byte there and
/// the bytes [`CONFIRM`] strides further on are all 0x47; at the end of the stream the strides
/// past the end are not required. `min_sync` is the lowest index where an M2TS sync byte may sit
/// (its `TP_extra_header` must lie at or after the start of the unread bytes).
pub(crate) fn candidate(
    data: &[u8],
    q: usize,
    framing: Option<Framing>,
    at_end: bool,
    min_m2ts_sync: usize,
) -> Candidate {
    if data.get(q) != Some(&SYNC_BYTE) {
        return if q < data.len() {
            Candidate::No
        } else {
            Candidate::NeedMore
        };
    }
    let check = |f: Framing| -> Candidate {
        if f == Framing::M2ts && q < min_m2ts_sync {
            return Candidate::No;
        }
        let s = f.stride();
        for k in 1..=CONFIRM {
            match data.get(q + k * s) {
                Some(&SYNC_BYTE) => {}
                Some(_) => return Candidate::No,
                None if at_end => break,
                None => return Candidate::NeedMore,
            }
        }
        Candidate::Sync(f)
    };
    match framing {
        Some(f) => check(f),
        None => match check(Framing::Ts) {
            Candidate::No => check(Framing::M2ts),
            other => other,
        },
    }
}

/// Whether a packet whose sync byte is at `data[q]` is cut short: a position inside it qualifies as
/// a packet start ([`candidate`] with the same framing). `NeedMore` when that cannot be decided yet.
pub(crate) fn cut_short(data: &[u8], q: usize, f: Framing, at_end: bool) -> Candidate {
    let end = (q + f.stride()).min(data.len());
    let mut k = q + 1;
    while k < end {
        let Some(off) = data[k..end].iter().position(|&b| b == SYNC_BYTE) else {
            break;
        };
        k += off;
        match candidate(data, k, Some(f), at_end, 0) {
            Candidate::No => k += 1,
            other => return other,
        }
    }
    if end < q + f.stride() && !at_end {
        Candidate::NeedMore
    } else {
        Candidate::No
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, afc: u8, cc: u8) -> [u8; PACKET_SIZE] {
        let mut p = [0xffu8; PACKET_SIZE];
        p[0] = SYNC_BYTE;
        p[1] = 0x40 | (pid >> 8) as u8;
        p[2] = pid as u8;
        p[3] = (afc << 4) | cc;
        p
    }

    #[test]
    fn header_fields() {
        let p = packet(0x1ABC & 0x1fff, 1, 7);
        let h = PacketHeader::parse(&p).unwrap();
        assert!(h.payload_unit_start && !h.transport_error);
        assert_eq!(h.pid, 0x1ABC);
        assert_eq!(h.continuity_counter, 7);
        assert!(h.has_payload && !h.has_adaptation);
        assert_eq!(h.payload(&p).len(), 184);
    }

    #[test]
    fn adaptation_field_pcr_and_flags() {
        let mut p = packet(0x100, 3, 0);
        p[4] = 7; // adaptation_field_length
        p[5] = 0x80 | 0x40 | 0x10; // discontinuity, random access, PCR
                                   // PCR base 0x1_2345_6789 (33 bits), extension 0x123.
        let base: u64 = 0x1_2345_6789;
        p[6] = (base >> 25) as u8;
        p[7] = (base >> 17) as u8;
        p[8] = (base >> 9) as u8;
        p[9] = (base >> 1) as u8;
        p[10] = (((base & 1) as u8) << 7) | 0x7e | 0x01;
        p[11] = 0x23;
        let h = PacketHeader::parse(&p).unwrap();
        assert!(h.discontinuity && h.random_access);
        assert_eq!(h.pcr, Some(base * 300 + 0x123));
        assert_eq!(h.payload_start, 12);
        assert_eq!(h.payload(&p).len(), 176);
    }

    #[test]
    fn bad_headers() {
        let mut p = packet(0x100, 0, 0);
        assert_eq!(
            PacketHeader::parse(&p),
            Err(PacketFault::ReservedAdaptationControl)
        );
        p = packet(0x100, 3, 0);
        p[4] = 183;
        assert_eq!(
            PacketHeader::parse(&p),
            Err(PacketFault::AdaptationLength(183))
        );
        p = packet(0x100, 2, 0);
        p[4] = 183;
        let h = PacketHeader::parse(&p).unwrap();
        assert!(h.payload(&p).is_empty());
        p[0] = 0x46;
        assert_eq!(PacketHeader::parse(&p), Err(PacketFault::NoSync));
    }

    #[test]
    fn framing_detection() {
        let mut ts = vec![0u8; 3 * PACKET_SIZE];
        for k in 0..3 {
            ts[k * PACKET_SIZE] = SYNC_BYTE;
        }
        assert_eq!(
            candidate(&ts, 0, None, false, 4),
            Candidate::Sync(Framing::Ts)
        );
        assert_eq!(candidate(&ts, 1, None, false, 4), Candidate::No);
        let mut m2ts = vec![0u8; 3 * M2TS_SIZE];
        for k in 0..3 {
            m2ts[4 + k * M2TS_SIZE] = SYNC_BYTE;
        }
        // TS needs 4 + 376 + 1 bytes to be rejected, M2TS 4 + 384 + 1 to be accepted.
        assert_eq!(
            candidate(&m2ts[..300], 4, None, false, 4),
            Candidate::NeedMore
        );
        assert_eq!(
            candidate(&m2ts[..389], 4, None, false, 4),
            Candidate::Sync(Framing::M2ts)
        );
        assert_eq!(
            candidate(&m2ts[..300], 4, None, true, 4),
            Candidate::Sync(Framing::M2ts)
        );
    }
}
