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
    /// For an ID3v2 tag of HLS packed audio (RFC 8216 §3.4): the MPEG-2 timestamp (33 bits, 90 kHz)
    /// of the first frame after it, from the `PRIV` frame owned by
    /// `com.apple.streaming.transportStreamTimestamp`.
    pub timestamp: Option<u64>,
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

/// The owner of the `PRIV` frame carrying an HLS packed-audio timestamp (RFC 8216 §3.4).
pub const HLS_TIMESTAMP_OWNER: &[u8] = b"com.apple.streaming.transportStreamTimestamp";

/// ID3v2 tags up to this size are read for an HLS timestamp (Apple's tag is 73 bytes); larger
/// ones (cover art) are skipped unread.
pub const MAX_TIMESTAMP_TAG: u64 = 4096;

/// The HLS packed-audio timestamp in the ID3v2 tag `tag` (header included), if it has one.
///
/// Walks the frames of an ID3v2.3 or 2.4 tag (§4 of the structure document: a 4-character id, a
/// size, syncsafe in 2.4, and 2 flag bytes) until padding, and takes the first `PRIV` frame owned
/// by [`HLS_TIMESTAMP_OWNER`] whose data is 8 bytes: a big-endian number whose low 33 bits are the
/// timestamp. Tags that are unsynchronised, and frames that are compressed or encrypted, are not
/// looked into.
pub fn hls_timestamp(tag: &[u8]) -> Option<u64> {
    let len = usize::try_from(id3v2_len(tag)?).ok()?;
    let (major, flags) = (tag[3], tag[5]);
    if !(3..=4).contains(&major) || flags & 0x80 != 0 {
        return None;
    }
    let footer = if flags & 0x10 != 0 { 10 } else { 0 };
    let body = tag.get(10..len.checked_sub(footer)?)?;
    let be = |b: &[u8]| b.iter().fold(0usize, |a, &x| (a << 8) | usize::from(x));
    let syncsafe = |b: &[u8]| {
        b.iter()
            .all(|&x| x & 0x80 == 0)
            .then(|| b.iter().fold(0usize, |a, &x| (a << 7) | usize::from(x)))
    };
    let mut pos = 0usize;
    if flags & 0x40 != 0 {
        // Extended header: its size counts itself in 2.4, not in 2.3.
        let size = body.get(..4)?;
        pos = if major == 4 {
            syncsafe(size)?
        } else {
            be(size).checked_add(4)?
        };
    }
    while let Some(h) = body.get(pos..pos.checked_add(10)?) {
        if h[0] == 0 {
            break; // padding
        }
        let size = if major == 4 {
            syncsafe(&h[4..8])?
        } else {
            be(&h[4..8])
        };
        let start = pos + 10;
        let data = body.get(start..start.checked_add(size)?)?;
        // Format flags: 2.4 grouping, compression, encryption, unsynchronisation, data length;
        // 2.3 compression, encryption, grouping.
        let format = if major == 4 { h[9] & 0x4f } else { h[9] & 0xe0 };
        if &h[..4] == b"PRIV" && format == 0 {
            if let Some(nul) = data.iter().position(|&b| b == 0) {
                if &data[..nul] == HLS_TIMESTAMP_OWNER {
                    let v: [u8; 8] = data[nul + 1..].try_into().ok()?;
                    return Some(u64::from_be_bytes(v) & 0x1_ffff_ffff);
                }
            }
        }
        pos = start + size;
    }
    None
}
