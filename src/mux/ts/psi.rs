//! Program Specific Information the muxer writes (ISO/IEC 13818-1 §2.4.4): one program
//! association section (§2.4.4.3) and one TS program map section (§2.4.4.8), each ending in the
//! `CRC_32` of Annex A, carried after a zero `pointer_field` (§2.4.4.1) in one packet each.

/// CRC-32/MPEG-2 (Annex A, §2.4.4.4): polynomial 0x04C11DB7, register starting at all ones,
/// bits taken most significant first (no reflection), no final XOR. Written out here so the muxer
/// does not lean on the demuxer's checker: the tests compare the two.
const CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = (i as u32) << 24;
        let mut k = 0;
        while k < 8 {
            c = if c & 0x8000_0000 != 0 {
                (c << 1) ^ 0x04c1_1db7
            } else {
                c << 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The CRC-32/MPEG-2 of `data`.
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xffff_ffff, |crc, &b| {
        (crc << 8) ^ CRC_TABLE[usize::from((crc >> 24) as u8 ^ b)]
    })
}

/// `table_id` of the program association section (Table 2-31).
const TABLE_PAT: u8 = 0x00;
/// `table_id` of the TS program map section (Table 2-31).
const TABLE_PMT: u8 = 0x02;

/// One elementary stream of the program map (§2.4.4.8, Table 2-33).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmtEntry {
    /// `stream_type` (Table 2-34).
    pub stream_type: u8,
    /// `elementary_PID`.
    pub pid: u16,
}

/// A long-form section (§2.4.4.2 framing shared by Tables 2-30 and 2-33): header with
/// `section_syntax_indicator` 1, `id` (transport_stream_id or program_number), `version_number`,
/// `current_next_indicator` 1, section 0 of 0, then `body` and the CRC. The body of a PAT or PMT
/// with the stream counts the muxer allows is far below the 1021-byte `section_length` limit.
fn section(table_id: u8, id: u16, version: u8, body: &[u8]) -> Vec<u8> {
    // section_length counts the 5 header bytes after it, the body and the CRC.
    let len = 5 + body.len() + 4;
    let mut s = Vec::with_capacity(3 + len);
    s.push(table_id);
    // section_syntax_indicator 1, '0', 2 reserved bits, 12-bit length.
    s.push(0xb0 | ((len >> 8) as u8 & 0x0f));
    s.push(len as u8);
    s.extend_from_slice(&id.to_be_bytes());
    // 2 reserved bits, version_number (5 bits), current_next_indicator 1.
    s.push(0xc1 | ((version & 0x1f) << 1));
    s.push(0); // section_number
    s.push(0); // last_section_number
    s.extend_from_slice(body);
    let crc = crc32_mpeg2(&s);
    s.extend_from_slice(&crc.to_be_bytes());
    s
}

/// The program association section (§2.4.4.3, Table 2-30) of one program.
pub fn pat(transport_stream_id: u16, program_number: u16, pmt_pid: u16) -> Vec<u8> {
    let mut body = Vec::with_capacity(4);
    body.extend_from_slice(&program_number.to_be_bytes());
    // 3 reserved bits, program_map_PID.
    body.extend_from_slice(&(0xe000 | (pmt_pid & 0x1fff)).to_be_bytes());
    section(TABLE_PAT, transport_stream_id, 0, &body)
}

/// The TS program map section (§2.4.4.8, Table 2-33) of one program, without descriptors.
pub fn pmt(program_number: u16, pcr_pid: u16, streams: &[PmtEntry]) -> Vec<u8> {
    let mut body = Vec::with_capacity(4 + 5 * streams.len());
    // 3 reserved bits, PCR_PID.
    body.extend_from_slice(&(0xe000 | (pcr_pid & 0x1fff)).to_be_bytes());
    // 4 reserved bits, program_info_length 0.
    body.extend_from_slice(&0xf000u16.to_be_bytes());
    for s in streams {
        body.push(s.stream_type);
        body.extend_from_slice(&(0xe000 | (s.pid & 0x1fff)).to_be_bytes());
        body.extend_from_slice(&0xf000u16.to_be_bytes()); // ES_info_length 0
    }
    section(TABLE_PMT, program_number, 0, &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::ts::psi::{check_section, parse_pat, parse_pmt, PatEntry};

    #[test]
    fn crc_check_value() {
        // The catalogue check value of CRC-32/MPEG-2, and the crc crate's answer on other input.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_e6e7);
        let other = crc::Crc::<u32>::new(&crc::CRC_32_MPEG_2);
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        assert_eq!(crc32_mpeg2(&data), other.checksum(&data));
        assert_eq!(crc32_mpeg2(&[]), 0xffff_ffff);
    }

    #[test]
    fn pat_reads_back() {
        let s = pat(1, 1, 0x1000);
        // The register over a section and its CRC is zero (Annex A).
        assert_eq!(crc32_mpeg2(&s), 0);
        let (h, body) = check_section(&s).expect("valid PAT");
        assert_eq!((h.table_id, h.id), (0, 1));
        let mut entries = Vec::new();
        parse_pat(body, &mut entries).expect("PAT body");
        assert_eq!(
            entries,
            [PatEntry {
                program_number: 1,
                pid: 0x1000
            }]
        );
    }

    #[test]
    fn pmt_reads_back() {
        let streams = [
            PmtEntry {
                stream_type: 0x1b,
                pid: 0x100,
            },
            PmtEntry {
                stream_type: 0x0f,
                pid: 0x101,
            },
        ];
        let s = pmt(1, 0x100, &streams);
        assert_eq!(crc32_mpeg2(&s), 0);
        let (h, body) = check_section(&s).expect("valid PMT");
        assert_eq!((h.table_id, h.id), (2, 1));
        let p = parse_pmt(body).expect("PMT body");
        assert_eq!(p.pcr_pid, 0x100);
        let got: Vec<(u8, u16)> = p.streams.iter().map(|s| (s.stream_type, s.pid)).collect();
        assert_eq!(got, [(0x1b, 0x100), (0x0f, 0x101)]);
        // A flipped bit is caught by the demuxer's CRC check.
        let mut bad = s.clone();
        bad[10] ^= 1;
        assert!(check_section(&bad).is_err());
    }
}
