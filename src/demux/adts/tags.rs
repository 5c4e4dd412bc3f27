//! Tags around ADTS audio: ID3v2 before or between frames, APEv2 and ID3v1 at the end. Only their
//! sizes are read; their contents are metadata seam does not copy.

/// Which kind of tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagKind {
    /// ID3v2 (id3.org ID3v2.4.0 structure §3.1; versions 2.2 to 2.4 share the header).
    Id3v2,
    /// APEv2 (or APEv1) tag at the end of the file, found by its `APETAGEX` footer.
    Ape,
    /// ID3v1: `TAG` and 125 bytes, the last 128 bytes of the file.
    Id3v1,
}

/// A tag skipped over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsTag {
    /// Which kind.
    pub kind: TagKind,
    /// File offset of its first byte.
    pub offset: u64,
    /// Its size in bytes, header and footer included.
    pub len: u64,
}

/// The size of the ID3v2 tag starting `data` (header, body and footer), or `None` when `data`
/// (at least 10 bytes) does not start with a valid ID3v2 header.
///
/// §3.1: `ID3`, major version and revision (never `0xFF`), flags, then the body size as four
/// bytes of 7 bits (syncsafe: the top bit of each is 0). The size excludes the 10-byte header and
/// the 10-byte footer flag 0x10 adds.
pub fn id3v2_len(data: &[u8]) -> Option<u64> {
    let h: &[u8; 10] = data.get(..10)?.try_into().ok()?;
    if &h[..3] != b"ID3" || h[3] == 0xff || h[4] == 0xff {
        return None;
    }
    if h[6..10].iter().any(|&b| b & 0x80 != 0) {
        return None;
    }
    let body = h[6..10]
        .iter()
        .fold(0u64, |acc, &b| (acc << 7) | u64::from(b));
    let footer = if h[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + body + footer)
}

/// The size of the APE tag whose 32-byte footer is `footer`, header included, or `None` when it is
/// not an APE tag footer.
///
/// APEv2 footer: `APETAGEX`, version, tag size (items and footer, not the header), item count,
/// flags (bit 31: the tag has a 32-byte header; bit 29: this is the header), 8 reserved bytes; all
/// little-endian.
pub fn ape_len(footer: &[u8]) -> Option<u64> {
    let f: &[u8; 32] = footer.get(..32)?.try_into().ok()?;
    if &f[..8] != b"APETAGEX" {
        return None;
    }
    let le = |at: usize| u32::from_le_bytes([f[at], f[at + 1], f[at + 2], f[at + 3]]);
    let (size, flags) = (u64::from(le(12)), le(20));
    if size < 32 || flags & (1 << 29) != 0 {
        return None;
    }
    let header = if flags & (1 << 31) != 0 { 32 } else { 0 };
    Some(size + header)
}
