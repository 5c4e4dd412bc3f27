//! A lossless box tree (ISO/IEC 14496-12 §4.2): every box with its exact header form (32-bit size,
//! 64-bit largesize, or size 0 "to the end"), container boxes split into children, every other box
//! kept as raw bytes. `encode(parse(x)) == x` byte for byte; used by `seam probe --boxes` and as a
//! property in tests and fuzzing.

use bytes::Bytes;

use super::reader::{BoxHeader, Ctx};
use crate::error::DemuxError;
use crate::limits::Limits;
use crate::model::FourCC;

/// How a box header spelled its size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SizeForm {
    /// A 32-bit size.
    Normal,
    /// size == 1 followed by a 64-bit largesize.
    Large,
    /// size == 0: the box runs to the end of its parent (or file).
    ToEnd,
}

/// One box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoxNode {
    /// Box type.
    pub kind: FourCC,
    /// Absolute offset of the box in the parsed data.
    pub offset: u64,
    /// How the size was written.
    pub form: SizeForm,
    /// Header bytes (size, type, largesize, uuid) verbatim.
    pub header: Bytes,
    /// The body of a leaf box, or the bytes before the first child of a container (e.g. the
    /// version/flags of `meta`).
    pub body: Bytes,
    /// Children of a container box.
    pub children: Vec<BoxNode>,
    /// The 32-bit zero QuickTime may write after the last child of a list (QTFF: user data lists
    /// "may be terminated by a 32-bit zero"), kept so the tree encodes back to the same bytes;
    /// empty otherwise.
    pub trailer: Bytes,
}

/// Boxes whose body is a sequence of boxes.
const CONTAINERS: [&[u8; 4]; 14] = [
    b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"dinf", b"mvex", b"moof", b"traf",
    b"udta", b"mfra", b"tref", b"gmhd",
];

/// Parses `data` (a whole file or a run of boxes starting at absolute offset `base`).
pub fn parse(
    data: &Bytes,
    base: u64,
    file: &str,
    limits: &Limits,
) -> Result<Vec<BoxNode>, DemuxError> {
    let ctx = Ctx::new(file, "");
    Ok(parse_level(data, base, &ctx, limits, 0)?.0)
}

fn parse_level(
    data: &Bytes,
    base: u64,
    ctx: &Ctx,
    limits: &Limits,
    depth: usize,
) -> Result<(Vec<BoxNode>, Bytes), DemuxError> {
    if depth > limits.max_depth {
        return Err(ctx.limit(
            base,
            format!("boxes nested deeper than {}", limits.max_depth),
        ));
    }
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        if depth > 0 && data[pos..] == [0u8; 4] {
            // QuickTime list terminator: the end of the parent's children, not a box.
            return Ok((out, data.slice(pos..)));
        }
        let offset = base + pos as u64;
        let rest = (data.len() - pos) as u64;
        let h = BoxHeader::parse(&data[pos..], offset, rest, ctx)?;
        let size32 = u32::from_be_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]);
        let form = match size32 {
            0 => SizeForm::ToEnd,
            1 => SizeForm::Large,
            _ => SizeForm::Normal,
        };
        // h.size <= rest and h.header_len <= h.size are checked by BoxHeader::parse.
        let end = pos + h.size as usize;
        let hl = pos + h.header_len as usize;
        let header = data.slice(pos..hl);
        let body = data.slice(hl..end);
        let child_ctx = ctx.child(h.kind);
        // QuickTime's `meta` (iPhone recordings: moov/meta with mdta keys) is a plain container:
        // its first child, hdlr, starts right after the header, where ISO has version and flags.
        let quicktime_meta = &h.kind.0 == b"meta" && body.get(4..8) == Some(&b"hdlr"[..]);
        let (body, (children, trailer)) = if CONTAINERS.contains(&&h.kind.0) || quicktime_meta {
            (
                Bytes::new(),
                parse_level(&body, offset + h.header_len, &child_ctx, limits, depth + 1)?,
            )
        } else if &h.kind.0 == b"meta" && body.len() >= 4 {
            // A full box whose children follow version and flags.
            let kids = body.slice(4..);
            (
                body.slice(..4),
                parse_level(
                    &kids,
                    offset + h.header_len + 4,
                    &child_ctx,
                    limits,
                    depth + 1,
                )?,
            )
        } else {
            (body, (Vec::new(), Bytes::new()))
        };
        out.push(BoxNode {
            kind: h.kind,
            offset,
            form,
            header,
            body,
            children,
            trailer,
        });
        pos = end;
    }
    Ok((out, Bytes::new()))
}

/// Writes boxes back; identical to the parsed bytes.
pub fn encode(nodes: &[BoxNode], out: &mut Vec<u8>) {
    for n in nodes {
        out.extend_from_slice(&n.header);
        out.extend_from_slice(&n.body);
        encode(&n.children, out);
        out.extend_from_slice(&n.trailer);
    }
}

/// Prints the tree, one box per line with offset and size, for `seam probe --boxes`.
pub fn describe(nodes: &[BoxNode], depth: usize, out: &mut String) {
    for n in nodes {
        let size = n.header.len() + n.body.len() + encoded_len(&n.children) + n.trailer.len();
        let form = match n.form {
            SizeForm::Normal => "",
            SizeForm::Large => " (64-bit size)",
            SizeForm::ToEnd => " (size 0: to end)",
        };
        out.push_str(&format!(
            "{:indent$}{} @{} size {}{}\n",
            "",
            n.kind,
            n.offset,
            size,
            form,
            indent = depth * 2
        ));
        describe(&n.children, depth + 1, out);
        if !n.trailer.is_empty() {
            out.push_str(&format!(
                "{:indent$}(32-bit zero terminator)\n",
                "",
                indent = (depth + 1) * 2
            ));
        }
    }
}

fn encoded_len(nodes: &[BoxNode]) -> usize {
    nodes
        .iter()
        .map(|n| n.header.len() + n.body.len() + encoded_len(&n.children) + n.trailer.len())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixture_round_trips_byte_for_byte() {
        let mut n = 0;
        for entry in std::fs::read_dir("fixtures").expect("fixtures dir") {
            let path = entry.expect("entry").path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext != "mp4" && ext != "mov" {
                continue;
            }
            let data = Bytes::from(std::fs::read(&path).expect("read fixture"));
            let tree =
                parse(&data, 0, &path.display().to_string(), &Limits::default()).expect("parse");
            let mut out = Vec::new();
            encode(&tree, &mut out);
            assert!(out == data, "{} does not round trip", path.display());
            n += 1;
        }
        assert!(n >= 10, "only {n} fixtures");
    }

    #[test]
    fn size_forms_are_kept() {
        // free box with a 64-bit size, then an mdat with size 0 (to the end).
        let mut v = Vec::new();
        v.extend_from_slice(&1u32.to_be_bytes());
        v.extend_from_slice(b"free");
        v.extend_from_slice(&20u64.to_be_bytes());
        v.extend_from_slice(b"abcd");
        v.extend_from_slice(&0u32.to_be_bytes());
        v.extend_from_slice(b"mdat");
        v.extend_from_slice(b"payload");
        let data = Bytes::from(v.clone());
        let tree = parse(&data, 0, "t", &Limits::default()).expect("parse");
        assert_eq!(tree[0].form, SizeForm::Large);
        assert_eq!(tree[1].form, SizeForm::ToEnd);
        let mut out = Vec::new();
        encode(&tree, &mut out);
        assert_eq!(out, v);
    }

    #[test]
    fn quicktime_terminators_are_kept() {
        // udta holding one box then a 32-bit zero (QuickTime), inside moov.
        let mut udta = Vec::new();
        udta.extend_from_slice(&20u32.to_be_bytes());
        udta.extend_from_slice(b"udta");
        udta.extend_from_slice(&8u32.to_be_bytes());
        udta.extend_from_slice(b"\xa9nam");
        udta.extend_from_slice(&[0, 0, 0, 0]);
        let mut v = Vec::new();
        v.extend_from_slice(&28u32.to_be_bytes());
        v.extend_from_slice(b"moov");
        v.extend_from_slice(&udta);
        let data = Bytes::from(v.clone());
        let tree = parse(&data, 0, "t.mov", &Limits::default()).expect("parse");
        let u = &tree[0].children[0];
        assert_eq!(u.children.len(), 1);
        assert_eq!(&u.trailer[..], &[0, 0, 0, 0]);
        let mut out = Vec::new();
        encode(&tree, &mut out);
        assert_eq!(out, v);
        let mut text = String::new();
        describe(&tree, 0, &mut text);
        assert!(text.contains("udta @8 size 20"), "{text}");
        // At the top level four zero bytes are still a truncated box header.
        assert!(parse(
            &Bytes::from_static(&[0, 0, 0, 0]),
            0,
            "t",
            &Limits::default()
        )
        .is_err());
    }

    #[test]
    fn quicktime_meta_has_no_version() {
        // moov/meta holding hdlr directly (QuickTime), then an ISO meta with version and flags.
        let hdlr = [&33u32.to_be_bytes()[..], b"hdlr", &[0u8; 25]].concat();
        let qt = [&(8 + 33u32).to_be_bytes()[..], b"meta", &hdlr].concat();
        let iso = [&(12 + 33u32).to_be_bytes()[..], b"meta", &[0u8; 4], &hdlr].concat();
        let data = Bytes::from([qt.clone(), iso.clone()].concat());
        let tree = parse(&data, 0, "t.mov", &Limits::default()).expect("parse");
        assert_eq!(tree[0].children.len(), 1);
        assert!(tree[0].body.is_empty());
        assert_eq!(tree[1].children.len(), 1);
        assert_eq!(tree[1].body.len(), 4);
        let mut out = Vec::new();
        encode(&tree, &mut out);
        assert_eq!(out, data);
    }

    #[test]
    fn nesting_is_bounded() {
        let depth = 100;
        let mut v = Vec::new();
        for i in 0..depth {
            v.extend_from_slice(&(((depth - i) * 8) as u32).to_be_bytes());
            v.extend_from_slice(b"moov");
        }
        let e = parse(&Bytes::from(v), 0, "bomb.mp4", &Limits::default()).unwrap_err();
        assert!(matches!(e, DemuxError::LimitExceeded { .. }), "{e}");
    }
}
