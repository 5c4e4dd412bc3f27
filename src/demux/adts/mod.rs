//! ADTS demuxer: raw AAC in Audio Data Transport Stream frames (`.aac` files, HLS packed-audio
//! segments, recorder outputs), ISO/IEC 14496-3 §1.A.2 (adts_frame, §1.A.2.1; headers, §1.A.2.2).
//!
//! An ADTS file is a chain of frames, each a 7-byte header (9 with a CRC, `protection_absent` 0)
//! followed by one raw data block of 1024 samples per channel. `aac_frame_length` gives the whole
//! frame's size, so the next header is found without reading the payload. Headers are read through
//! a window of [`DEFAULT_WINDOW`] bytes moved along the file with [`Source::read_at`]: memory is
//! the window plus one 16-byte [`AdtsFrame`] per frame, whatever the file's size, and payload bytes
//! are never copied out of the window.
//!
//! **Tags.** ID3v2 tags (id3.org ID3v2.4.0 structure §3.1: `ID3`, version, flags, a 28-bit
//! syncsafe size, an optional 10-byte footer) are skipped where a frame could start: at the start
//! of the file (HLS packed audio carries its timestamp there, RFC 8216 §3.4) and between frames
//! (concatenated HLS segments). An APEv2 tag (`APETAGEX` footer) and an ID3v1 tag (`TAG`, 128
//! bytes) at the end of the file are skipped too. Both are listed in [`AdtsMedia::tags`]; they are
//! metadata, not damage. An ID3v2 tag of HLS packed audio gives the timestamp of the frame after
//! it ([`AdtsTag::timestamp`], from its `PRIV` frame). A trailer signature that turns out to lie
//! inside the last frame (the frame chain runs through it to the end of the file) is taken for
//! audio.
//!
//! **Damage.** Bytes where no frame starts are skipped up to the next *validated* header: one that
//! parses (sync word `0xFFF`, layer 0, a listed sampling frequency, a frame longer than its header)
//! and whose frame ends where another header, an ID3v2 tag or the audio ends. The first frame is
//! validated the same way (random bytes often look like one header, rarely like two in a row);
//! later frames that chain from the previous one are trusted as long as their configuration is the
//! first frame's. Skipped bytes and a last frame cut short are warnings ([`AdtsWarning`]); the
//! frames found are still given.
//!
//! **Refused.** A validated frame whose sampling frequency, channel configuration or profile
//! differs from the first frame's is [`DemuxError::Unsupported`] (joining it needs a second sample
//! description; a later change will split the stream into configuration runs). So is a frame with
//! more than one raw data block (`number_of_raw_data_blocks_in_frame` > 0): an MP4 sample is one
//! raw data block, and splitting them needs the bitstream parsed (they are rare: encoders write one
//! block per frame). Channel configuration 0 (channels from a program config element in the
//! payload) is refused by [`asc_from_adts`].
//!
//! **Timing.** Every ADTS frame holds 1024 samples per channel (the 960-sample frame length cannot
//! be signalled in ADTS), so with [`AdtsMedia::timescale`] the sample rate, frame `i` starts at tick
//! `1024 * i` and durations are exact. For HE-AAC (implicit SBR, the usual ADTS signalling) the
//! header gives the core rate: the timescale is the core rate and a frame lasts 1024 core samples,
//! as long as the 2048 output samples.

use crate::codec::aac::{AdtsHeader, AudioSpecificConfig, SAMPLING_FREQUENCIES};
use crate::codec::framing::asc_from_adts;
use crate::error::{CodecError, DemuxError, Location};
use crate::limits::Limits;
use crate::source::Source;

mod tags;

pub use tags::{AdtsTag, TagKind};

/// Bytes read per [`Source::read_at`] call.
pub const DEFAULT_WINDOW: usize = 1 << 20;

/// Samples per channel in every ADTS frame (§1.A.2.2: `frameLengthFlag` is not signalled, 0).
pub const SAMPLES_PER_FRAME: u32 = 1024;

/// True when `head` starts like an ADTS file: a header that parses, or an ID3v2 tag followed by
/// one. `head` must reach past the ID3v2 tag for the second case (HLS segments carry tags of about
/// 70 bytes; pass a few KiB).
pub fn sniff(head: &[u8]) -> bool {
    let mut pos = 0usize;
    // Several tags may precede the audio; each is at least 10 bytes, so this ends.
    while let Some(len) = head.get(pos..).and_then(tags::id3v2_len) {
        let Some(next) = usize::try_from(len).ok().and_then(|l| pos.checked_add(l)) else {
            return false;
        };
        pos = next;
    }
    head.get(pos..).is_some_and(|h| {
        AdtsHeader::parse(h).is_ok_and(|h| h.frame_length > u16::from(h.header_len))
    })
}

/// One frame: where its raw data block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsFrame {
    /// File offset of the raw data block (after the header and CRC).
    pub offset: u64,
    /// Bytes of the raw data block (never 0).
    pub size: u32,
    /// Bytes of header before it: 7, or 9 with a CRC.
    pub header_len: u8,
}

impl AdtsFrame {
    /// File offset of the frame's header.
    pub fn start(&self) -> u64 {
        self.offset - u64::from(self.header_len)
    }

    /// The byte after the frame.
    pub fn end(&self) -> u64 {
        self.offset + u64::from(self.size)
    }
}

/// Something skipped or dropped while reading; the rest of the file is usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdtsWarning {
    /// Bytes where no validated frame or ID3v2 tag starts (damage, or a stream cut and resumed).
    #[error("{len} bytes at byte {offset} without an ADTS frame skipped")]
    Skipped {
        /// Where they start.
        offset: u64,
        /// How many.
        len: u64,
    },
    /// The last frame runs past the end of the audio (a cut recording); it is dropped.
    #[error("frame[{frame}] at byte {offset}: truncated: needs {needed} bytes, {available} left; dropped")]
    TruncatedFrame {
        /// The frame (counted from 0).
        frame: u64,
        /// Where its header starts.
        offset: u64,
        /// Bytes the header says the frame has (7 when even the header is cut).
        needed: u64,
        /// Bytes left before the end of the audio.
        available: u64,
    },
}

/// What an ADTS file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdtsMedia {
    /// The first frame's header (every frame has the same configuration).
    pub header: AdtsHeader,
    /// The AudioSpecificConfig it describes (§1.A.2.2 → §1.6.2.1, from [`asc_from_adts`]).
    pub config: AudioSpecificConfig,
    /// The frames in file order.
    pub frames: Vec<AdtsFrame>,
    /// ID3v2, APEv2 and ID3v1 tags skipped, in file order.
    pub tags: Vec<AdtsTag>,
    /// What was skipped or dropped.
    pub warnings: Vec<AdtsWarning>,
    /// The byte after the last frame.
    pub end: u64,
}

impl AdtsMedia {
    /// Ticks per second: the sampling frequency of the header.
    pub fn timescale(&self) -> u32 {
        self.config.sampling_frequency
    }

    /// Frames found.
    pub fn frame_count(&self) -> usize {
        self.frames.len()
    }

    /// Ticks per frame: [`SAMPLES_PER_FRAME`].
    pub fn frame_duration(&self) -> u32 {
        SAMPLES_PER_FRAME
    }

    /// Duration of all frames in [`Self::timescale`] ticks (exact).
    pub fn duration(&self) -> u64 {
        // At most `u64::MAX / 7` frames fit a file, so this cannot overflow.
        (self.frames.len() as u64).saturating_mul(u64::from(SAMPLES_PER_FRAME))
    }
}

/// Reads an ADTS file's frame headers, through windows of [`DEFAULT_WINDOW`] bytes.
pub fn open(src: &dyn Source, limits: &Limits) -> Result<AdtsMedia, DemuxError> {
    open_with_window(src, limits, DEFAULT_WINDOW)
}

/// [`open`] reading `window` bytes at a time (at least what one header check needs). The result
/// never depends on `window`: every decision is made on file positions, and tests and the fuzz
/// check compare a 1 MiB window with tiny ones.
pub fn open_with_window(
    src: &dyn Source,
    limits: &Limits,
    window: usize,
) -> Result<AdtsMedia, DemuxError> {
    let len = src.len();
    let mut d = Demuxer {
        r: Reader {
            src,
            len,
            window: window.max(1),
            buf: Vec::new(),
            start: 0,
        },
        limits,
        audio_end: len,
        trailer: Vec::new(),
        first: None,
        frames: Vec::new(),
        tags: Vec::new(),
        warnings: Vec::new(),
    };
    d.find_trailer()?;
    d.run()?;
    let Some(header) = d.first else {
        return Err(d.malformed("ADTS".into(), 0, format!("no ADTS frame in {len} bytes")));
    };
    let first = d.frames.first().map_or(0, AdtsFrame::start);
    let config = asc_from_adts(&header).map_err(|e| d.codec("frame[0]".into(), first, e))?;
    let end = d.frames.last().map_or(0, AdtsFrame::end);
    d.tags.append(&mut d.trailer);
    d.frames.shrink_to_fit();
    Ok(AdtsMedia {
        header,
        config,
        frames: d.frames,
        tags: d.tags,
        warnings: d.warnings,
        end,
    })
}

/// Positional reads through one window of the file.
struct Reader<'a> {
    src: &'a dyn Source,
    len: u64,
    window: usize,
    /// The bytes of the file from `start`.
    buf: Vec<u8>,
    start: u64,
}

impl Reader<'_> {
    /// Up to `n` bytes at `pos`: fewer only at the end of the file.
    fn get(&mut self, pos: u64, n: usize) -> Result<&[u8], DemuxError> {
        self.get_from(pos, pos, n)
    }

    /// Like [`Reader::get`]; when the window must move, it starts at `anchor` (at most `pos`):
    /// looking ahead of a candidate frame keeps the candidate in the window, so checking the
    /// candidates of a damaged stretch one byte after the other does not read the window again for
    /// each of them.
    fn get_from(&mut self, anchor: u64, pos: u64, n: usize) -> Result<&[u8], DemuxError> {
        let avail = self.len.saturating_sub(pos);
        let n = usize::try_from(avail).map_or(n, |a| a.min(n));
        let end = pos.saturating_add(n as u64);
        let buf_end = self.start.saturating_add(self.buf.len() as u64);
        if pos < self.start || end > buf_end {
            let from = anchor.min(pos);
            let need = usize::try_from(end - from).unwrap_or(usize::MAX);
            let left = self.len.saturating_sub(from);
            let want = usize::try_from(left)
                .map_or(self.window.max(need), |l| l.min(self.window.max(need)));
            self.buf.resize(want, 0);
            self.start = from;
            self.src
                .read_at(from, &mut self.buf)
                .map_err(|e| DemuxError::Io {
                    file: self.src.name().to_string(),
                    source: e,
                })?;
        }
        // `pos - start` is inside the window and `n` bytes follow it (checked or just read).
        let at = usize::try_from(pos - self.start).unwrap_or(usize::MAX);
        Ok(self
            .buf
            .get(at..)
            .and_then(|b| b.get(..n))
            .unwrap_or_default())
    }
}

/// What starts at a position.
enum At {
    /// A frame that is accepted.
    Frame(AdtsHeader),
    /// The last frame, cut short: `needed` bytes, `available` left.
    Truncated { needed: u64, available: u64 },
    /// An ID3v2 tag of this many bytes.
    Id3(u64),
    /// Nothing valid.
    Invalid,
}

struct Demuxer<'a> {
    r: Reader<'a>,
    limits: &'a Limits,
    /// Where the audio ends: the file's end, or the start of its trailing APEv2/ID3v1 tags.
    audio_end: u64,
    /// The trailing tags, until the frames reach them.
    trailer: Vec<AdtsTag>,
    /// The first frame's header.
    first: Option<AdtsHeader>,
    frames: Vec<AdtsFrame>,
    tags: Vec<AdtsTag>,
    warnings: Vec<AdtsWarning>,
}

impl Demuxer<'_> {
    fn loc(&self, path: String, offset: u64) -> Location {
        Location {
            file: self.r.src.name().to_string(),
            path,
            offset,
        }
    }

    fn malformed(&self, path: String, offset: u64, rule: String) -> DemuxError {
        DemuxError::Malformed {
            loc: self.loc(path, offset),
            rule,
        }
    }

    fn unsupported(&self, path: String, offset: u64, what: String) -> DemuxError {
        DemuxError::Unsupported {
            loc: self.loc(path, offset),
            what,
        }
    }

    fn codec(&self, path: String, offset: u64, e: CodecError) -> DemuxError {
        match e {
            CodecError::Malformed { .. } => self.malformed(path, offset, e.to_string()),
            CodecError::Unsupported { .. } => self.unsupported(path, offset, e.to_string()),
        }
    }

    fn push_tag(&mut self, tag: AdtsTag) -> Result<(), DemuxError> {
        // Tags cost 24 bytes each; a file of back-to-back empty ID3v2 headers must not grow the
        // list without bound, and real files carry one or two.
        if self.tags.len() >= self.limits.max_sample_entries {
            return Err(DemuxError::LimitExceeded {
                loc: self.loc("ID3v2 tag".into(), tag.offset),
                what: format!("more than {} ID3v2 tags", self.limits.max_sample_entries),
            });
        }
        self.tags.push(tag);
        Ok(())
    }

    /// Walks the audio: frames, ID3v2 tags, and skipped bytes between them.
    fn run(&mut self) -> Result<(), DemuxError> {
        let mut pos = 0u64;
        // True when `pos` is where the previous frame ended: a header there needs no validation.
        let mut chained = false;
        while pos < self.audio_end {
            match self.at(pos, chained)? {
                At::Id3(len) => {
                    let timestamp = if len <= tags::MAX_TIMESTAMP_TAG {
                        // `len` fits before the audio's end (checked by `at`).
                        tags::hls_timestamp(self.r.get(pos, len as usize)?)
                    } else {
                        None
                    };
                    self.push_tag(AdtsTag {
                        kind: TagKind::Id3v2,
                        offset: pos,
                        len,
                        timestamp,
                    })?;
                    pos = pos.saturating_add(len);
                }
                At::Frame(h) => {
                    self.accept(pos, &h)?;
                    pos = pos.saturating_add(u64::from(h.frame_length));
                    chained = true;
                }
                At::Truncated { needed, available } => {
                    self.warnings.push(AdtsWarning::TruncatedFrame {
                        frame: self.frames.len() as u64,
                        offset: pos,
                        needed,
                        available,
                    });
                    break;
                }
                At::Invalid => {
                    let next = self.resync(pos.saturating_add(1))?;
                    self.warnings.push(AdtsWarning::Skipped {
                        offset: pos,
                        len: next - pos,
                    });
                    pos = next;
                    chained = false;
                }
            }
        }
        Ok(())
    }

    /// Records the frame at `pos`, after checking it against the first frame and the limits.
    fn accept(&mut self, pos: u64, h: &AdtsHeader) -> Result<(), DemuxError> {
        let index = self.frames.len();
        let path = format!("frame[{index}]");
        if h.raw_data_blocks != 0 {
            return Err(self.unsupported(
                path,
                pos,
                format!(
                    "{} raw data blocks in one ADTS frame (an MP4 sample holds one)",
                    u32::from(h.raw_data_blocks) + 1
                ),
            ));
        }
        match self.first {
            None => self.first = Some(*h),
            Some(first) => {
                if let Some(what) = config_change(&first, h) {
                    return Err(self.unsupported(
                        path,
                        pos,
                        format!("configuration change: {what} (a stream of one configuration is required for now)"),
                    ));
                }
            }
        }
        if index >= self.limits.max_samples {
            return Err(DemuxError::LimitExceeded {
                loc: self.loc(path, pos),
                what: format!("more than {} frames (max_samples)", self.limits.max_samples),
            });
        }
        self.frames.push(AdtsFrame {
            offset: pos + u64::from(h.header_len),
            size: u32::from(h.frame_length - u16::from(h.header_len)),
            header_len: h.header_len,
        });
        Ok(())
    }

    /// What starts at `pos`. Unless `chained` (and of the first frame's configuration), a frame
    /// must be validated: it ends where the audio ends, or where a header or ID3v2 tag starts.
    fn at(&mut self, pos: u64, chained: bool) -> Result<At, DemuxError> {
        let audio_end = self.audio_end;
        let bytes = self.r.get(pos, 10)?;
        let available = audio_end - pos;
        if let Some(len) = tags::id3v2_len(bytes) {
            if pos.checked_add(len).is_some_and(|e| e <= audio_end) {
                return Ok(At::Id3(len));
            }
        }
        let h = match AdtsHeader::parse(bytes) {
            Ok(h) if h.frame_length > u16::from(h.header_len) => h,
            Ok(_) => return Ok(At::Invalid), // an empty frame carries no raw data block
            Err(_) => {
                // A cut header: the sync word and layer in the bytes that are left.
                let cut =
                    available < 7 && sync_prefix(&bytes[..bytes.len().min(available as usize)]);
                return Ok(if chained && cut {
                    At::Truncated {
                        needed: 7,
                        available,
                    }
                } else {
                    At::Invalid
                });
            }
        };
        let end = pos + u64::from(h.frame_length);
        if end > audio_end {
            if end <= self.r.len
                && !self.trailer.is_empty()
                && self.ends_well(pos, end, self.r.len)?
            {
                // The trailer's signature is inside this frame: it is audio, not a tag.
                self.trailer.clear();
                self.audio_end = self.r.len;
            } else if chained {
                return Ok(At::Truncated {
                    needed: u64::from(h.frame_length),
                    available,
                });
            } else {
                return Ok(At::Invalid);
            }
        }
        let same = self.first.is_none_or(|f| config_change(&f, &h).is_none());
        if (chained && same) || self.ends_well(pos, end, self.audio_end)? {
            Ok(At::Frame(h))
        } else {
            Ok(At::Invalid)
        }
    }

    /// True when a frame from `start` to `end` is followed by the end of the audio (`audio_end`), a
    /// header (or the start of one cut by the end of the file) or an ID3v2 tag.
    fn ends_well(&mut self, start: u64, end: u64, audio_end: u64) -> Result<bool, DemuxError> {
        if end == audio_end {
            return Ok(true);
        }
        let bytes = self.r.get_from(start, end, 10)?;
        let left = usize::try_from(audio_end.saturating_sub(end)).unwrap_or(usize::MAX);
        let bytes = &bytes[..bytes.len().min(left)];
        Ok(tags::id3v2_len(bytes).is_some()
            || if bytes.len() >= 7 {
                AdtsHeader::parse(bytes).is_ok()
            } else {
                sync_prefix(bytes)
            })
    }

    /// The first position at or after `from` where a validated frame or an ID3v2 tag starts, or
    /// the end of the audio.
    fn resync(&mut self, from: u64) -> Result<u64, DemuxError> {
        let mut c = from;
        while c < self.audio_end {
            // What the window holds from `c` (at least one byte): asking for a whole window at
            // each candidate would move the window at each candidate.
            self.r.get(c, 1)?;
            let at = usize::try_from(c - self.r.start).unwrap_or(usize::MAX);
            let left = usize::try_from(self.audio_end - c).unwrap_or(usize::MAX);
            let chunk = self.r.buf.get(at..).unwrap_or_default();
            let chunk = &chunk[..chunk.len().min(left)];
            if chunk.is_empty() {
                break;
            }
            let Some(i) = chunk.iter().position(|&b| b == 0xff || b == b'I') else {
                c += chunk.len() as u64;
                continue;
            };
            c += i as u64;
            if !matches!(self.at(c, false)?, At::Invalid) {
                return Ok(c);
            }
            c += 1;
        }
        Ok(self.audio_end)
    }

    /// Finds the APEv2 and ID3v1 tags ending the file and sets `audio_end` before them.
    fn find_trailer(&mut self) -> Result<(), DemuxError> {
        let len = self.r.len;
        if len >= 128 && self.r.get(len - 128, 3)? == b"TAG" {
            self.trailer.push(AdtsTag {
                kind: TagKind::Id3v1,
                offset: len - 128,
                len: 128,
                timestamp: None,
            });
            self.audio_end = len - 128;
        }
        if self.audio_end >= 32 {
            let footer = self.audio_end - 32;
            if let Some(size) = tags::ape_len(self.r.get(footer, 32)?) {
                if size <= self.audio_end {
                    let offset = self.audio_end - size;
                    self.trailer.insert(
                        0,
                        AdtsTag {
                            kind: TagKind::Ape,
                            offset,
                            len: size,
                            timestamp: None,
                        },
                    );
                    self.audio_end = offset;
                }
            }
        }
        Ok(())
    }
}

/// True when `bytes` (1 to 6 of them) can begin an ADTS header: `0xFF`, then sync and layer 0.
fn sync_prefix(bytes: &[u8]) -> bool {
    match bytes {
        [0xff] => true,
        [0xff, b1, ..] => b1 & 0xf6 == 0xf0,
        _ => false,
    }
}

/// What differs between the first frame's configuration and `h`'s, in words.
fn config_change(first: &AdtsHeader, h: &AdtsHeader) -> Option<String> {
    let rate = |h: &AdtsHeader| {
        SAMPLING_FREQUENCIES
            .get(usize::from(h.sampling_frequency_index))
            .copied()
            .unwrap_or(0)
    };
    if first.sampling_frequency_index != h.sampling_frequency_index {
        return Some(format!(
            "sample rate {} Hz differs from the first frame's {} Hz",
            rate(h),
            rate(first)
        ));
    }
    if first.channel_configuration != h.channel_configuration {
        return Some(format!(
            "channel configuration {} differs from the first frame's {}",
            h.channel_configuration, first.channel_configuration
        ));
    }
    if first.profile != h.profile {
        return Some(format!(
            "audio object type {} differs from the first frame's {}",
            u16::from(h.profile) + 1,
            u16::from(first.profile) + 1
        ));
    }
    None
}

#[cfg(test)]
mod tests;
