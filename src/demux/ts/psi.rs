//! Program Specific Information: section reassembly from transport packet payloads
//! (ISO/IEC 13818-1 §2.4.4.1 pointer_field, §2.4.4.2 section framing), the program association
//! table (§2.4.4.3) and the program map table (§2.4.4.8), each section checked by its CRC_32
//! (§2.4.4.4 / Annex A: CRC-32/MPEG-2).

/// CRC-32/MPEG-2 (Annex A): polynomial 0x04C11DB7, initial value all ones, no reflection, no final
/// XOR; the `CRC_32` field makes the register zero at the end of a correct section.
static CRC: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_MPEG_2);

/// Largest `section_length` of a PAT or PMT (§2.4.4.4, §2.4.4.9: at most 0x3FD).
pub const MAX_SECTION_LENGTH: usize = 1021;

/// `table_id` of a program association section (Table 2-31).
pub const TABLE_PAT: u8 = 0x00;
/// `table_id` of a TS program map section (Table 2-31).
pub const TABLE_PMT: u8 = 0x02;

/// Reassembles the sections of one PID from packet payloads (§2.4.4.1, §2.4.4.2). A section that
/// fits inside one payload is handed on without copying; one spread over packets is gathered in a
/// buffer of at most `3 + MAX_SECTION_LENGTH` bytes, allocated once per PID.
#[derive(Debug, Default)]
pub struct SectionAssembler {
    buf: Vec<u8>,
    /// File offset of the first byte of the section being gathered, if one is.
    start: Option<u64>,
}

impl SectionAssembler {
    /// Feeds one packet's payload, which starts at file offset `offset`. `unit_start` is the
    /// packet's `payload_unit_start_indicator` (then the payload begins with a `pointer_field`).
    /// Each complete section is passed to `on_section` with its file offset; a section whose
    /// `section_length` is beyond [`MAX_SECTION_LENGTH`] is reported there as `Err`.
    pub fn push(
        &mut self,
        payload: &[u8],
        offset: u64,
        unit_start: bool,
        mut on_section: impl FnMut(Result<&[u8], String>, u64),
    ) {
        let mut pos;
        if unit_start {
            let Some(&pointer) = payload.first() else {
                return;
            };
            let tail_end = (1 + usize::from(pointer)).min(payload.len());
            // The bytes before the new section finish the one being gathered, if any.
            if self.start.is_some() {
                self.gather(&payload[1..tail_end], &mut on_section);
            }
            self.abandon();
            pos = 1 + usize::from(pointer);
            if pos > payload.len() {
                on_section(
                    Err(format!(
                        "pointer_field {pointer} points past the {}-byte payload",
                        payload.len()
                    )),
                    offset,
                );
                return;
            }
        } else if self.start.is_some() {
            let used = self.gather(payload, &mut on_section);
            pos = used;
            if self.start.is_some() {
                return;
            }
            // Without a unit start, bytes after a finished section are stuffing (§2.4.4.2 allows
            // a new section to start only where pointer_field says, or right after another).
        } else {
            return; // continuation of a section whose start we never saw
        }
        // Sections starting in this payload, back to back, until stuffing (0xFF) or the end.
        while pos < payload.len() {
            let rest = &payload[pos..];
            if rest[0] == 0xff {
                return;
            }
            let start = offset + pos as u64;
            if rest.len() < 3 {
                self.begin(rest, start);
                return;
            }
            let len = section_length(rest);
            if len > MAX_SECTION_LENGTH {
                on_section(
                    Err(format!(
                        "section_length {len} is above the maximum of {MAX_SECTION_LENGTH}"
                    )),
                    start,
                );
                return;
            }
            let total = 3 + len;
            if rest.len() >= total {
                on_section(Ok(&rest[..total]), start);
                pos += total;
            } else {
                self.begin(rest, start);
                return;
            }
        }
    }

    fn begin(&mut self, bytes: &[u8], start: u64) {
        self.buf.clear();
        self.buf.extend_from_slice(bytes);
        self.start = Some(start);
    }

    fn abandon(&mut self) {
        self.buf.clear();
        self.start = None;
    }

    /// Adds bytes to the section being gathered; hands it on when complete. Returns the bytes used.
    fn gather(
        &mut self,
        bytes: &[u8],
        on_section: &mut impl FnMut(Result<&[u8], String>, u64),
    ) -> usize {
        let Some(start) = self.start else {
            return 0;
        };
        let mut used = 0;
        if self.buf.len() < 3 {
            let n = (3 - self.buf.len()).min(bytes.len());
            self.buf.extend_from_slice(&bytes[..n]);
            used = n;
            if self.buf.len() < 3 {
                return used;
            }
        }
        let len = section_length(&self.buf);
        if len > MAX_SECTION_LENGTH {
            on_section(
                Err(format!(
                    "section_length {len} is above the maximum of {MAX_SECTION_LENGTH}"
                )),
                start,
            );
            self.abandon();
            return bytes.len();
        }
        let need = 3 + len - self.buf.len();
        let n = need.min(bytes.len() - used);
        self.buf.extend_from_slice(&bytes[used..used + n]);
        used += n;
        if self.buf.len() == 3 + len {
            on_section(Ok(&self.buf), start);
            self.abandon();
        }
        used
    }
}

/// `section_length` (12 bits) of a section header of at least 3 bytes.
fn section_length(s: &[u8]) -> usize {
    (usize::from(s[1] & 0x0f) << 8) | usize::from(s[2])
}

/// The long-form section header (§2.4.4.3 / §2.4.4.8) of a checked section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionHeader {
    /// `table_id`.
    pub table_id: u8,
    /// `transport_stream_id` (PAT) or `program_number` (PMT).
    pub id: u16,
    /// `version_number`, 5 bits.
    pub version: u8,
    /// `current_next_indicator`: the table applies now (not the next one).
    pub current: bool,
    /// `section_number`.
    pub section_number: u8,
    /// `last_section_number`.
    pub last_section_number: u8,
}

/// Checks a whole long-form section (header to `CRC_32`, §2.4.4.2) and returns its header and the
/// bytes between the 8-byte header and the CRC.
pub fn check_section(s: &[u8]) -> Result<(SectionHeader, &[u8]), String> {
    if s.len() < 12 {
        return Err(format!(
            "section of {} bytes is shorter than the 12 of an empty table",
            s.len()
        ));
    }
    if s[1] & 0x80 == 0 {
        return Err(format!(
            "table_id 0x{:02x}: section_syntax_indicator is 0",
            s[0]
        ));
    }
    let body_end = s.len() - 4;
    let stored = u32::from_be_bytes([
        s[body_end],
        s[body_end + 1],
        s[body_end + 2],
        s[body_end + 3],
    ]);
    let computed = CRC.checksum(&s[..body_end]);
    if stored != computed {
        return Err(format!(
            "table_id 0x{:02x}: CRC_32 0x{stored:08x} does not match the section's 0x{computed:08x}",
            s[0]
        ));
    }
    let h = SectionHeader {
        table_id: s[0],
        id: u16::from_be_bytes([s[3], s[4]]),
        version: (s[5] >> 1) & 0x1f,
        current: s[5] & 0x01 != 0,
        section_number: s[6],
        last_section_number: s[7],
    };
    if h.section_number > h.last_section_number {
        return Err(format!(
            "table_id 0x{:02x}: section_number {} is above last_section_number {}",
            s[0], h.section_number, h.last_section_number
        ));
    }
    Ok((h, &s[8..body_end]))
}

/// One entry of a program association section (§2.4.4.3, Table 2-30).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatEntry {
    /// `program_number`; 0 names the network PID.
    pub program_number: u16,
    /// `program_map_PID` (or `network_PID` for program 0).
    pub pid: u16,
}

/// Parses the body of a checked PAT section (§2.4.4.3) into `out`.
pub fn parse_pat(body: &[u8], out: &mut Vec<PatEntry>) -> Result<(), String> {
    if body.len() % 4 != 0 {
        return Err(format!(
            "PAT: {} bytes of programs is not a multiple of 4",
            body.len()
        ));
    }
    for e in body.chunks_exact(4) {
        out.push(PatEntry {
            program_number: u16::from_be_bytes([e[0], e[1]]),
            pid: (u16::from(e[2] & 0x1f) << 8) | u16::from(e[3]),
        });
    }
    Ok(())
}

/// One elementary stream of a program map section (§2.4.4.8, Table 2-33).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PmtStream {
    /// `stream_type` (Table 2-34).
    pub stream_type: u8,
    /// `elementary_PID`.
    pub pid: u16,
}

/// A program map section (§2.4.4.8).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pmt {
    /// `PCR_PID`; 0x1FFF when no PCR is carried.
    pub pcr_pid: u16,
    /// The elementary streams, in section order.
    pub streams: Vec<PmtStream>,
}

/// Parses the body of a checked PMT section (§2.4.4.8).
pub fn parse_pmt(body: &[u8]) -> Result<Pmt, String> {
    if body.len() < 4 {
        return Err(format!(
            "PMT: {} bytes, PCR_PID and program_info_length need 4",
            body.len()
        ));
    }
    let pcr_pid = (u16::from(body[0] & 0x1f) << 8) | u16::from(body[1]);
    let info_len = (usize::from(body[2] & 0x0f) << 8) | usize::from(body[3]);
    let mut pos = 4usize
        .checked_add(info_len)
        .filter(|&p| p <= body.len())
        .ok_or_else(|| {
            format!(
                "PMT: program_info_length {info_len} runs past the section ({} bytes left)",
                body.len() - 4
            )
        })?;
    let mut streams = Vec::new();
    while pos < body.len() {
        let e = &body[pos..];
        if e.len() < 5 {
            return Err(format!(
                "PMT: elementary stream entry at byte {pos} of the table needs 5 bytes, {} left",
                e.len()
            ));
        }
        let es_info_len = (usize::from(e[3] & 0x0f) << 8) | usize::from(e[4]);
        if 5 + es_info_len > e.len() {
            return Err(format!(
                "PMT: ES_info_length {es_info_len} of PID 0x{:04x} runs past the section",
                (u16::from(e[1] & 0x1f) << 8) | u16::from(e[2])
            ));
        }
        streams.push(PmtStream {
            stream_type: e[0],
            pid: (u16::from(e[1] & 0x1f) << 8) | u16::from(e[2]),
        });
        pos += 5 + es_info_len;
    }
    Ok(Pmt { pcr_pid, streams })
}

/// Builds a complete long-form section with its CRC (for tests and benchmarks).
pub fn build_section(table_id: u8, id: u16, version: u8, body: &[u8]) -> Vec<u8> {
    let len = 5 + body.len() + 4;
    let mut s = vec![
        table_id,
        0xb0 | ((len >> 8) as u8 & 0x0f),
        len as u8,
        (id >> 8) as u8,
        id as u8,
        0xc1 | ((version & 0x1f) << 1),
        0,
        0,
    ];
    s.extend_from_slice(body);
    let crc = CRC.checksum(&s);
    s.extend_from_slice(&crc.to_be_bytes());
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pat() -> Vec<u8> {
        build_section(TABLE_PAT, 1, 0, &[0x00, 0x01, 0xf0, 0x00])
    }

    #[test]
    fn crc_check_value() {
        // The catalogue's check value of CRC-32/MPEG-2.
        assert_eq!(CRC.checksum(b"123456789"), 0x0376_e6e7);
    }

    #[test]
    fn crc_of_a_good_section_is_accepted() {
        let s = pat();
        let (h, body) = check_section(&s).unwrap();
        assert_eq!(h.table_id, TABLE_PAT);
        let mut e = Vec::new();
        parse_pat(body, &mut e).unwrap();
        assert_eq!(
            e,
            vec![PatEntry {
                program_number: 1,
                pid: 0x1000
            }]
        );
        // The register over the whole section, CRC included, is zero (Annex A).
        assert_eq!(CRC.checksum(&s), 0);
    }

    #[test]
    fn bad_crc_is_rejected() {
        let mut s = pat();
        s[9] ^= 0x01;
        let err = check_section(&s).unwrap_err();
        assert!(err.contains("CRC_32"), "{err}");
        let mut s = build_section(
            TABLE_PMT,
            1,
            0,
            &[0xe1, 0x00, 0xf0, 0x00, 0x1b, 0xe1, 0x00, 0xf0, 0x00],
        );
        let n = s.len();
        s[n - 1] ^= 0x80;
        assert!(check_section(&s).unwrap_err().contains("does not match"));
    }

    #[test]
    fn pmt_streams() {
        let body = [
            0xe1, 0x00, 0xf0, 0x02, 0xaa, 0xbb, // PCR PID 0x100, 2 bytes of program info
            0x1b, 0xe1, 0x00, 0xf0, 0x00, // H.264 on 0x100
            0x0f, 0xe1, 0x01, 0xf0, 0x03, 1, 2, 3, // AAC on 0x101 with 3 bytes of descriptors
        ];
        let s = build_section(TABLE_PMT, 1, 3, &body);
        let (h, b) = check_section(&s).unwrap();
        assert_eq!((h.id, h.version, h.current), (1, 3, true));
        let pmt = parse_pmt(b).unwrap();
        assert_eq!(pmt.pcr_pid, 0x100);
        assert_eq!(
            pmt.streams,
            vec![
                PmtStream {
                    stream_type: 0x1b,
                    pid: 0x100
                },
                PmtStream {
                    stream_type: 0x0f,
                    pid: 0x101
                }
            ]
        );
        assert!(parse_pmt(&body[..8]).unwrap_err().contains("5 bytes"));
        assert!(parse_pmt(&body[..16])
            .unwrap_err()
            .contains("ES_info_length"));
    }

    #[test]
    fn sections_spanning_packets_and_sharing_one() {
        let s = pat();
        let mut got = Vec::new();
        let mut a = SectionAssembler::default();
        // pointer_field 0, then the section split over two payloads.
        let mut first = vec![0u8];
        first.extend_from_slice(&s[..5]);
        a.push(&first, 100, true, |r, o| {
            got.push((r.map(|x| x.to_vec()), o))
        });
        assert!(got.is_empty());
        let mut second = s[5..].to_vec();
        second.extend_from_slice(&[0xff; 10]);
        a.push(&second, 300, false, |r, o| {
            got.push((r.map(|x| x.to_vec()), o))
        });
        assert_eq!(got, vec![(Ok(s.clone()), 101)]);
        // Two sections in one payload, then stuffing.
        got.clear();
        let mut both = vec![0u8];
        both.extend_from_slice(&s);
        both.extend_from_slice(&s);
        both.extend_from_slice(&[0xff; 4]);
        a.push(&both, 0, true, |r, o| got.push((r.map(|x| x.to_vec()), o)));
        assert_eq!(got.len(), 2);
        assert_eq!(got[1], (Ok(s.clone()), 1 + s.len() as u64));
    }
}
