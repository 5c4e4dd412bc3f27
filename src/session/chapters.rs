//! Chapters as a Nero `chpl` box in the movie's `udta`: what ffmpeg's MP4 muxer writes for
//! chapters and what its demuxer reads back (`ffprobe -show_chapters`; each chapter ends where
//! the next starts, the last at the end of the movie). Layout (as ffmpeg's `mov_write_chpl_tag`
//! and `mov_read_chpl`): version 1 and flags 0, 4 reserved bytes, an 8-bit chapter count, then per
//! chapter a 64-bit start in units of 100 ns and a title of at most 255 bytes after its 8-bit
//! length. A QuickTime chapter track (a text track referenced by `tref/chap`) is not written.

use bytes::Bytes;

/// Most chapters the 8-bit count can hold.
pub const MAX_CHAPTERS: usize = 255;

/// One chapter: its start in 100 ns units and its title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chapter {
    /// Start, in 100 ns units from the start of the movie.
    pub start: u64,
    /// Title (cut to 255 bytes at a character boundary).
    pub title: String,
}

/// The `chpl` box for `chapters` (at most [`MAX_CHAPTERS`]; the caller checks).
pub fn chpl(chapters: &[Chapter]) -> Vec<u8> {
    let mut body = vec![1u8, 0, 0, 0, 0, 0, 0, 0];
    body.push(chapters.len().min(MAX_CHAPTERS) as u8);
    for c in chapters.iter().take(MAX_CHAPTERS) {
        body.extend_from_slice(&c.start.to_be_bytes());
        let mut end = c.title.len().min(255);
        while !c.title.is_char_boundary(end) {
            end -= 1;
        }
        body.push(end as u8);
        body.extend_from_slice(&c.title.as_bytes()[..end]);
    }
    boxed(b"chpl", &body)
}

fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 8);
    out.extend_from_slice(&((body.len() + 8) as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// `udta` (the input's, verbatim, or a new one) with `chpl` as its last child, replacing any
/// `chpl` it had. An input `udta` whose children do not parse is replaced whole.
pub fn udta_with_chapters(udta: Option<&Bytes>, chapters: &[Chapter]) -> Bytes {
    let mut body = Vec::new();
    if let Some(u) = udta.filter(|u| u.len() >= 8 && &u[4..8] == b"udta") {
        let children = &u[8..];
        let mut at = 0usize;
        let mut kept = Vec::new();
        let mut ok = true;
        while at + 8 <= children.len() {
            let size = u32::from_be_bytes([
                children[at],
                children[at + 1],
                children[at + 2],
                children[at + 3],
            ]) as usize;
            if size == 0 && children[at..].iter().all(|&b| b == 0) {
                // QuickTime's 32-bit zero terminator.
                break;
            }
            if size < 8 || at + size > children.len() {
                ok = false;
                break;
            }
            if &children[at + 4..at + 8] != b"chpl" {
                kept.extend_from_slice(&children[at..at + size]);
            }
            at += size;
        }
        if ok {
            body = kept;
        }
    }
    body.extend_from_slice(&chpl(chapters));
    Bytes::from(boxed(b"udta", &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chpl_layout_and_udta_merge() {
        let c = [
            Chapter {
                start: 0,
                title: "a.mp4".into(),
            },
            Chapter {
                start: 30_000_000,
                title: "b".into(),
            },
        ];
        let b = chpl(&c);
        assert_eq!(&b[4..8], b"chpl");
        assert_eq!(b.len(), 8 + 8 + 1 + (8 + 1 + 5) + (8 + 1 + 1));
        assert_eq!(b[16], 2);
        assert_eq!(&b[17..25], &0u64.to_be_bytes());
        // An input udta keeps its other children and loses its own chpl.
        let other = boxed(b"\xa9too", b"seam");
        let old = chpl(&c[..1]);
        let udta = Bytes::from(boxed(b"udta", &[other.clone(), old].concat()));
        let merged = udta_with_chapters(Some(&udta), &c);
        assert_eq!(&merged[..], &boxed(b"udta", &[other, b].concat())[..]);
        let long = Chapter {
            start: 0,
            title: "é".repeat(200),
        };
        let b = chpl(&[long]);
        assert_eq!(b[17 + 8], 254, "cut at a character boundary");
    }
}
