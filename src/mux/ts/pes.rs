//! PES packet headers the muxer writes (ISO/IEC 13818-1 §2.4.3.6 syntax, Table 2-21;
//! §2.4.3.7 semantics): `stream_id`, `PES_packet_length`, `data_alignment_indicator` and the
//! 33-bit PTS, plus the DTS only when it differs from the PTS (§2.4.3.7: "PTS_DTS_flags '11'"
//! is for access units whose decoding and presentation times differ).

use super::packet::TS_MODULO;

/// Largest PES header the muxer writes: 9 fixed bytes and PTS and DTS (5 bytes each).
pub const MAX_HEADER: usize = 19;

/// A 90 kHz time reduced to its 33 coded bits (§2.4.3.7: PTS and DTS count modulo 2^33).
pub fn wrap33(t: i64) -> u64 {
    // rem_euclid of a positive modulus is in 0..2^33: the cast is exact.
    t.rem_euclid(TS_MODULO) as u64
}

/// The 5 bytes of a PTS or DTS (§2.4.3.6): a 4-bit prefix, then bits 32..30, 29..15 and 14..0,
/// each group followed by a marker bit of 1.
pub fn encode_timestamp(prefix: u8, t: u64) -> [u8; 5] {
    [
        (prefix << 4) | (((t >> 30) as u8 & 0x07) << 1) | 1,
        (t >> 22) as u8,
        (((t >> 15) as u8) << 1) | 1,
        (t >> 7) as u8,
        ((t as u8) << 1) | 1,
    ]
}

/// Writes the header of a PES packet carrying `payload_len` bytes into `out` and returns its
/// length. `PES_packet_length` counts the bytes after it; a video packet too long for its 16
/// bits gets 0, "neither specified nor bounded", which §2.4.3.7 allows only for video
/// elementary streams in transport streams (the caller never passes an audio payload that long:
/// an ADTS frame is at most 8191 bytes).
pub fn write_header(
    out: &mut [u8; MAX_HEADER],
    stream_id: u8,
    pts: u64,
    dts: u64,
    payload_len: usize,
) -> usize {
    let with_dts = dts != pts;
    let data_len: u8 = if with_dts { 10 } else { 5 };
    out[..3].copy_from_slice(&[0, 0, 1]); // packet_start_code_prefix
    out[3] = stream_id;
    let after_length = 3 + usize::from(data_len) + payload_len;
    let length = u16::try_from(after_length).unwrap_or(0);
    out[4..6].copy_from_slice(&length.to_be_bytes());
    // '10', PES_scrambling_control 00, PES_priority 0, data_alignment_indicator 1 (every PES
    // starts with an access unit: one picture, or one ADTS frame), copyright 0, original 0.
    out[6] = 0x84;
    // PTS_DTS_flags, no other optional fields.
    out[7] = if with_dts { 0xc0 } else { 0x80 };
    out[8] = data_len;
    if with_dts {
        out[9..14].copy_from_slice(&encode_timestamp(0x3, pts));
        out[14..19].copy_from_slice(&encode_timestamp(0x1, dts));
    } else {
        out[9..14].copy_from_slice(&encode_timestamp(0x2, pts));
    }
    9 + usize::from(data_len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::ts::pes::parse_header;

    #[test]
    fn pts_only_when_equal() {
        let mut h = [0u8; MAX_HEADER];
        let n = write_header(&mut h, 0xc0, 1234, 1234, 100);
        assert_eq!(n, 14);
        let p = parse_header(&h[..n]).expect("header");
        assert_eq!((p.stream_id, p.pts, p.dts), (0xc0, Some(1234), None));
        assert_eq!(p.packet_length, 108);
        assert_eq!(p.header_len, 14);
        assert_eq!(h[9] >> 4, 0x2, "PTS prefix '0010'");
    }

    #[test]
    fn pts_and_dts() {
        let mut h = [0u8; MAX_HEADER];
        let n = write_header(&mut h, 0xe0, 9000, 3000, 70_000);
        assert_eq!(n, 19);
        let p = parse_header(&h[..n]).expect("header");
        assert_eq!((p.pts, p.dts), (Some(9000), Some(3000)));
        // Too long for 16 bits: unbounded (video only).
        assert_eq!(p.packet_length, 0);
        assert_eq!((h[9] >> 4, h[14] >> 4), (0x3, 0x1));
        // Every marker bit is set.
        for t in [&h[9..14], &h[14..19]] {
            assert_eq!((t[0] & 1, t[2] & 1, t[4] & 1), (1, 1, 1));
        }
    }

    #[test]
    fn timestamps_wrap_at_33_bits() {
        assert_eq!(wrap33(TS_MODULO), 0);
        assert_eq!(wrap33(TS_MODULO + 77), 77);
        assert_eq!(wrap33(-1), (1 << 33) - 1);
        assert_eq!(wrap33(3 * TS_MODULO - 2), (1 << 33) - 2);
        let mut h = [0u8; MAX_HEADER];
        let top = (1u64 << 33) - 1;
        let n = write_header(&mut h, 0xe0, wrap33(TS_MODULO + 5), top, 10);
        let p = parse_header(&h[..n]).expect("header");
        assert_eq!((p.pts, p.dts), (Some(5), Some(top)));
        // All 33 bits survive: each group boundary.
        for t in [
            1u64 << 32,
            1 << 30,
            1 << 29,
            1 << 15,
            1 << 14,
            0x1_5555_5555,
        ] {
            let b = encode_timestamp(2, t);
            let back = (u64::from(b[0] >> 1 & 0x07) << 30)
                | (u64::from(b[1]) << 22)
                | (u64::from(b[2] >> 1) << 15)
                | (u64::from(b[3]) << 7)
                | u64::from(b[4] >> 1);
            assert_eq!(back, t);
        }
    }
}
