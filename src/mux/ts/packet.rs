//! Transport packets as the muxer writes them (ISO/IEC 13818-1 §2.4.3.2 packet header, §2.4.3.4
//! adaptation field with its PCR, §2.4.3.5 semantics): one PES packet or PSI section is cut into
//! 188-byte packets, the first with `payload_unit_start_indicator`, and the last one is filled up
//! with adaptation field stuffing so the next unit starts in a fresh packet (§2.4.3.5: stuffing
//! bytes of the adaptation field, `0xFF`).

/// Size of a transport packet (§2.4.3.2).
pub const PACKET_SIZE: usize = 188;
/// Bytes after the 4-byte packet header.
pub const BODY_SIZE: usize = PACKET_SIZE - 4;
/// The sync byte (§2.4.3.3).
pub const SYNC_BYTE: u8 = 0x47;
/// The 33 bits of PTS, DTS and PCR base (§2.4.3.7, §2.4.3.5).
pub const TS_MODULO: i64 = 1 << 33;

/// `adaptation_field_control` bits (Table 2-5), already shifted into byte 3.
const AFC_PAYLOAD: u8 = 0x10;
const AFC_ADAPTATION: u8 = 0x20;

/// Adaptation field flag bits (§2.4.3.4, Table 2-6 syntax).
const RANDOM_ACCESS: u8 = 0x40;
const PCR_FLAG: u8 = 0x10;

/// Per-PID `continuity_counter` (§2.4.3.3): 4 bits, incremented by each packet carrying payload
/// and not by packets with an adaptation field only.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Continuity(u8);

impl Continuity {
    /// The counter for the next packet with payload, then advanced.
    fn next(&mut self) -> u8 {
        let c = self.0;
        self.0 = (self.0 + 1) & 0x0f;
        c
    }

    /// The counter a packet without payload repeats: the last one sent (§2.4.3.3: "shall not be
    /// incremented when the adaptation_field_control of the packet equals '00' or '10'").
    fn current(self) -> u8 {
        self.0.wrapping_sub(1) & 0x0f
    }
}

/// What the first packet of a unit carries in its adaptation field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitStart {
    /// `random_access_indicator`: the unit starts a keyframe (§2.4.3.5).
    pub random_access: bool,
    /// `program_clock_reference` in 27 MHz units, already reduced modulo 2^33 × 300.
    pub pcr: Option<u64>,
}

/// The 6 bytes of a `program_clock_reference` (§2.4.3.4): 33-bit base (90 kHz), 6 reserved bits
/// set to one, 9-bit extension (27 MHz remainder, < 300). `pcr` is in 27 MHz units.
pub fn encode_pcr(pcr: u64) -> [u8; 6] {
    let base = (pcr / 300) & ((1 << 33) - 1);
    let ext = pcr % 300;
    [
        (base >> 25) as u8,
        (base >> 17) as u8,
        (base >> 9) as u8,
        (base >> 1) as u8,
        (((base & 1) as u8) << 7) | 0x7e | ((ext >> 8) as u8 & 0x01),
        ext as u8,
    ]
}

/// The 27 MHz PCR of a 90 kHz time, wrapped to the 33-bit base (§2.4.2.2: PCR_base counts 90 kHz
/// modulo 2^33; the extension stays 0 since the muxer's clock is the 90 kHz DTS).
pub fn pcr_of_90k(t: i64) -> u64 {
    // rem_euclid of a positive modulus is non-negative and below 2^33: the cast is exact.
    (t.rem_euclid(TS_MODULO) as u64) * 300
}

fn header(out: &mut [u8], pid: u16, unit_start: bool, afc: u8, cc: u8) {
    out[0] = SYNC_BYTE;
    out[1] = (if unit_start { 0x40 } else { 0 }) | ((pid >> 8) as u8 & 0x1f);
    out[2] = pid as u8;
    out[3] = afc | (cc & 0x0f);
}

/// Appends the packets of one unit (a PES packet or a pointer field and section) whose bytes are
/// the concatenation of `parts`, to `out`. `start` fills the first packet's adaptation field;
/// the last packet is completed with adaptation field stuffing. An empty unit writes nothing.
pub fn packetize(
    out: &mut Vec<u8>,
    pid: u16,
    cc: &mut Continuity,
    start: UnitStart,
    parts: &[&[u8]],
) {
    let total: usize = parts.iter().map(|p| p.len()).sum();
    let mut left = total;
    let mut part = 0usize;
    let mut in_part = 0usize;
    let mut first = true;
    while left > 0 {
        // Adaptation field content this packet needs, length byte excluded.
        let (flags, pcr) = if first {
            let mut f = 0u8;
            if start.random_access {
                f |= RANDOM_ACCESS;
            }
            if start.pcr.is_some() {
                f |= PCR_FLAG;
            }
            (f, start.pcr)
        } else {
            (0, None)
        };
        let needed = if flags != 0 {
            1 + pcr.map_or(0, |_| 6)
        } else {
            0
        };
        // Payload room with the mandatory field (plus its length byte) alone.
        let room = BODY_SIZE - if needed > 0 { 1 + needed } else { 0 };
        let take = left.min(room);
        // Adaptation field bytes after the length byte: what is needed, grown by stuffing when
        // the payload does not fill the packet.
        let af_total = BODY_SIZE - take; // length byte included; 0 means no field
        let at = out.len();
        out.resize(at + PACKET_SIZE, 0xff);
        let p = &mut out[at..];
        let afc = AFC_PAYLOAD | if af_total > 0 { AFC_ADAPTATION } else { 0 };
        header(p, pid, first, afc, cc.next());
        if af_total > 0 {
            let af_len = af_total - 1;
            p[4] = af_len as u8; // ≤ 183
            if af_len > 0 {
                p[5] = flags;
                if let Some(pcr) = pcr {
                    p[6..12].copy_from_slice(&encode_pcr(pcr));
                }
                // The rest up to the payload stays 0xFF: stuffing_byte (§2.4.3.5).
            }
        }
        // Copy `take` bytes of the parts into the payload.
        let mut dst = 4 + af_total;
        let mut need = take;
        while need > 0 {
            let src = &parts[part][in_part..];
            let n = src.len().min(need);
            p[dst..dst + n].copy_from_slice(&src[..n]);
            dst += n;
            need -= n;
            in_part += n;
            if in_part == parts[part].len() {
                part += 1;
                in_part = 0;
            }
        }
        left -= take;
        first = false;
    }
}

/// Appends a packet with only an adaptation field carrying `pcr` (27 MHz) on `pid`
/// (`adaptation_field_control` '10', counter not incremented, §2.4.3.3).
pub fn pcr_only(out: &mut Vec<u8>, pid: u16, cc: Continuity, pcr: u64) {
    let at = out.len();
    out.resize(at + PACKET_SIZE, 0xff);
    let p = &mut out[at..];
    header(p, pid, false, AFC_ADAPTATION, cc.current());
    p[4] = (BODY_SIZE - 1) as u8;
    p[5] = PCR_FLAG;
    p[6..12].copy_from_slice(&encode_pcr(pcr));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::ts::packet::PacketHeader;

    fn parse(p: &[u8]) -> PacketHeader {
        let a: &[u8; PACKET_SIZE] = p.try_into().expect("one packet");
        PacketHeader::parse(a).expect("valid packet")
    }

    #[test]
    fn pcr_fields() {
        // base = 0x1_2345_6789 (33 bits), ext = 299.
        let pcr = 0x1_2345_6789u64 * 300 + 299;
        let b = encode_pcr(pcr);
        let base = (u64::from(b[0]) << 25)
            | (u64::from(b[1]) << 17)
            | (u64::from(b[2]) << 9)
            | (u64::from(b[3]) << 1)
            | u64::from(b[4] >> 7);
        let ext = (u64::from(b[4] & 1) << 8) | u64::from(b[5]);
        assert_eq!((base, ext), (0x1_2345_6789, 299));
        assert_eq!(b[4] & 0x7e, 0x7e, "reserved bits are ones");
        // Wrap: 2^33 + 5 ticks is 5 ticks; negative times count back from 2^33.
        assert_eq!(pcr_of_90k(TS_MODULO + 5), 1500);
        assert_eq!(pcr_of_90k(-1), ((1u64 << 33) - 1) * 300);
    }

    #[test]
    fn one_packet_unit_is_stuffed() {
        for len in [1usize, 100, 182, 183, 184] {
            let data = vec![0xabu8; len];
            let mut out = Vec::new();
            let mut cc = Continuity::default();
            packetize(&mut out, 0x100, &mut cc, UnitStart::default(), &[&data]);
            assert_eq!(out.len(), PACKET_SIZE, "len {len}");
            let h = parse(&out);
            assert!(h.payload_unit_start);
            assert_eq!(
                h.payload(out[..].try_into().expect("packet")),
                &data[..],
                "len {len}"
            );
            if len == 183 {
                // A one-byte adaptation field: just its length, 0 (§2.4.3.5).
                assert_eq!(out[4], 0);
            }
            if len < 183 {
                assert_eq!(out[5], 0, "no flags");
                assert!(out[6..PACKET_SIZE - len].iter().all(|&b| b == 0xff));
            }
        }
    }

    #[test]
    fn every_length_packs_tightly() {
        // Each unit length up to 5 packets, with and without a PCR: the payload comes back whole,
        // in the fewest packets the first packet's adaptation field allows.
        for with_pcr in [false, true] {
            let start = UnitStart {
                random_access: with_pcr,
                pcr: with_pcr.then_some(1),
            };
            let first_room = if with_pcr { BODY_SIZE - 8 } else { BODY_SIZE };
            for len in 1..=5 * BODY_SIZE {
                let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let (a, b) = data.split_at(len / 3);
                let mut out = Vec::new();
                packetize(
                    &mut out,
                    0x42,
                    &mut Continuity::default(),
                    start,
                    &[a, &[], b],
                );
                let want = 1 + len.saturating_sub(first_room).div_ceil(BODY_SIZE);
                assert_eq!(out.len(), want * PACKET_SIZE, "len {len}");
                let mut back = Vec::new();
                for p in out.chunks_exact(PACKET_SIZE) {
                    let h = parse(p);
                    assert_eq!(h.pcr.is_some(), with_pcr && back.is_empty(), "len {len}");
                    back.extend_from_slice(h.payload(p.try_into().expect("packet")));
                }
                assert_eq!(back, data, "len {len}");
            }
        }
    }

    #[test]
    fn split_parts_and_counters() {
        let a = vec![1u8; 300];
        let b = vec![2u8; 250];
        let mut out = Vec::new();
        let mut cc = Continuity(14);
        let start = UnitStart {
            random_access: true,
            pcr: Some(42 * 300),
        };
        packetize(&mut out, 0x101, &mut cc, start, &[&a, &b]);
        let mut payload = Vec::new();
        let mut ccs = Vec::new();
        for (k, p) in out.chunks_exact(PACKET_SIZE).enumerate() {
            let h = parse(p);
            assert_eq!(h.pid, 0x101);
            assert_eq!(h.payload_unit_start, k == 0);
            ccs.push(h.continuity_counter);
            payload.extend_from_slice(h.payload(p.try_into().expect("packet")));
        }
        assert_eq!(ccs, [14, 15, 0, 1]);
        assert_eq!(payload.len(), 550);
        assert_eq!(&payload[..300], &a[..]);
        assert_eq!(&payload[300..], &b[..]);
        // First packet: adaptation field of 7 bytes + length: RAI and PCR.
        assert_eq!(out[4], 7);
        assert_eq!(out[5], RANDOM_ACCESS | PCR_FLAG);
        assert_eq!(&out[6..12], &encode_pcr(42 * 300));
        // A PCR-only packet repeats the last counter.
        let mut more = Vec::new();
        pcr_only(&mut more, 0x101, cc, 7);
        let h = parse(&more);
        assert_eq!(h.continuity_counter, 1);
        assert!(!h.has_payload);
    }
}
