//! Sample descriptions (ISO/IEC 14496-12 §8.5.2, visual and audio sample entries §12.1.3 and
//! §12.2.3; avcC from ISO/IEC 14496-15 §5.4.2, hvcC §8.4.1; esds from ISO/IEC 14496-14 §5.6;
//! QuickTime sound description versions 1 and 2, `wave`, and the 32-bit zero that ends QuickTime
//! child lists; protection `sinf` from ISO/IEC 14496-12 §8.12 and ISO/IEC 23001-7).
//!
//! Each entry is kept verbatim for the output; seam parses what it needs to compare inputs.

use super::reader::{Ctx, MemBox};
use crate::codec::{aac, h264, h265};
use crate::error::{CodecError, DemuxError};
use crate::limits::Limits;
use crate::model::{CodecConfig, FourCC, SampleEntry};

/// Parses an `stsd` box into its entries; no stsd (a track without samples) gives none.
pub(super) fn parse_stsd(
    stsd: &Option<MemBox>,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<Vec<SampleEntry>, DemuxError> {
    let Some(stsd) = stsd else {
        return Ok(Vec::new());
    };
    let mut f = stsd.fields(ctx);
    f.full_header()?;
    let n = f.count(8, limits.max_sample_entries, "sample entries")?;
    let mut kids = stsd.children(8);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let Some(b) = kids.next_box(ctx)? else {
            return Err(ctx.malformed(
                stsd.header.offset,
                format!("stsd says {n} entries but holds {i}"),
            ));
        };
        let ectx = ctx.child(format_args!("{}[{i}]", b.header.kind));
        let codec = parse_entry(&b, &ectx)?;
        out.push(SampleEntry {
            // A copy, so the moov buffer is freed once parsing ends.
            raw: bytes::Bytes::copy_from_slice(&b.raw),
            format: b.header.kind,
            codec,
        });
    }
    Ok(out)
}

fn codec_err(ctx: &Ctx, offset: u64, e: CodecError) -> DemuxError {
    match e {
        CodecError::Malformed { .. } => ctx.malformed(offset, e.to_string()),
        CodecError::Unsupported { .. } => ctx.unsupported(offset, e.to_string()),
    }
}

const VISUAL: [&[u8; 4]; 13] = [
    b"avc1", b"avc2", b"avc3", b"avc4", b"hvc1", b"hev1", b"mp4v", b"av01", b"vp09", b"vp08",
    b"dvh1", b"dvhe", b"encv",
];

/// Bytes of a VisualSampleEntry before its child boxes (§12.1.3.2): SampleEntry's 6 reserved bytes
/// and data_reference_index, then 70 bytes of fields (sizes, resolution, compressorname, depth).
const VISUAL_FIELDS: usize = 78;

/// Bytes of an AudioSampleEntry before its child boxes (§12.2.3.2), by the QuickTime sound
/// description version in its first reserved word: version 1 adds 16 bytes (samples per packet,
/// bytes per packet, bytes per frame, bytes per sample), version 2 adds 36 (a f64 sample rate among
/// them). `None` for other versions.
fn audio_fields(version: u16) -> Option<usize> {
    match version {
        0 => Some(28),
        1 => Some(28 + 16),
        2 => Some(28 + 36),
        _ => None,
    }
}

fn is_audio_entry(kind: FourCC) -> bool {
    &kind.0 == b"mp4a" || &kind.0 == b"enca" || is_audio_fourcc(kind)
}

/// Where the child boxes of a sample entry start in its body, for the entry types whose fields
/// seam knows; `None` for others.
fn children_at(kind: FourCC, body: &[u8]) -> Option<usize> {
    if VISUAL.contains(&&kind.0) {
        Some(VISUAL_FIELDS)
    } else if is_audio_entry(kind) {
        audio_fields(u16::from_be_bytes([*body.get(8)?, *body.get(9)?]))
    } else {
        None
    }
}

/// A sample entry split into its fixed fields and its child boxes, for comparing entries of codecs
/// seam does not parse (see `plan::compat`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryParts<'a> {
    /// The body bytes before the first child box.
    pub fields: &'a [u8],
    /// Each child box, whole (header included), with its type.
    pub children: Vec<(FourCC, &'a [u8])>,
}

/// Splits a verbatim sample entry (as kept in [`SampleEntry::raw`]); `None` when its type's layout
/// is unknown or its children do not parse (the caller then compares bytes).
pub(crate) fn split_entry(raw: &[u8]) -> Option<EntryParts<'_>> {
    let size = usize::try_from(u32::from_be_bytes(raw.get(..4)?.try_into().ok()?)).ok()?;
    if size != raw.len() || size < 8 {
        return None;
    }
    let kind = FourCC(raw.get(4..8)?.try_into().ok()?);
    let body = &raw[8..];
    let at = children_at(kind, body)?;
    let fields = body.get(..at)?;
    let mut children = Vec::new();
    let mut pos = at;
    while pos < body.len() {
        let rest = &body[pos..];
        if rest == [0u8; 4] {
            break; // QuickTime terminator
        }
        let len = usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
        if len < 8 || len > rest.len() {
            return None;
        }
        children.push((FourCC(rest[4..8].try_into().ok()?), &rest[..len]));
        pos += len;
    }
    Some(EntryParts { fields, children })
}

fn parse_entry(b: &MemBox, ctx: &Ctx) -> Result<CodecConfig, DemuxError> {
    let kind = b.header.kind;
    if &kind.0 == b"encv" || &kind.0 == b"enca" {
        let body = b.body();
        let Some(at) = children_at(kind, &body) else {
            let version = body
                .get(8..10)
                .map_or(0, |v| u16::from_be_bytes([v[0], v[1]]));
            return Err(ctx.unsupported(
                b.header.offset,
                format!("sound description version {version}"),
            ));
        };
        return parse_protected(b, at, ctx);
    }
    if VISUAL.contains(&&kind.0) {
        // SampleEntry (6 reserved, data_reference_index) then VisualSampleEntry fields.
        let mut f = b.fields(ctx);
        f.skip(8 + 16)?;
        let width = f.u16()?;
        let height = f.u16()?;
        f.skip(50)?;
        let is_avc = &kind.0 == b"avc1" || &kind.0 == b"avc3";
        let is_hevc = &kind.0 == b"hvc1" || &kind.0 == b"hev1";
        if !is_avc && !is_hevc {
            return Ok(CodecConfig::Video { width, height });
        }
        let mut avc = None;
        let mut hevc = None;
        let mut kids = b.children(VISUAL_FIELDS);
        while let Some(c) = kids.next_box_qt(ctx)? {
            match &c.header.kind.0 {
                b"avcC" if is_avc => {
                    let cctx = ctx.child("avcC");
                    avc = Some(
                        h264::AvcDecoderConfig::parse(&c.body())
                            .map_err(|e| codec_err(&cctx, c.body_offset(), e))?,
                    );
                }
                b"hvcC" if is_hevc => {
                    let cctx = ctx.child("hvcC");
                    hevc = Some(
                        h265::HevcDecoderConfig::parse(&c.body())
                            .map_err(|e| codec_err(&cctx, c.body_offset(), e))?,
                    );
                }
                _ => {}
            }
        }
        if is_hevc {
            // hev1 may carry its parameter sets in band only (ISO/IEC 14496-15 §8.4.1).
            if hevc.is_none() && &kind.0 == b"hvc1" {
                return Err(ctx.malformed(b.header.offset, "hvc1 entry without hvcC"));
            }
            return Ok(CodecConfig::H265 {
                width,
                height,
                config: hevc,
            });
        }
        if avc.is_none() && &kind.0 == b"avc1" {
            return Err(ctx.malformed(b.header.offset, "avc1 entry without avcC"));
        }
        return Ok(CodecConfig::H264 {
            width,
            height,
            config: avc,
        });
    }
    if is_audio_entry(kind) {
        let mut f = b.fields(ctx);
        f.skip(8)?;
        // AudioSampleEntry; QuickTime reuses the reserved words as version and revision.
        let version = f.u16()?;
        f.skip(6)?;
        let mut channels = f.u16()?;
        f.skip(6)?;
        let mut sample_rate = f.u32()? >> 16;
        let Some(children_at) = audio_fields(version) else {
            return Err(ctx.unsupported(
                b.header.offset,
                format!("sound description version {version}"),
            ));
        };
        if version == 2 {
            // QuickTime v2: sizeOfStructOnly, audioSampleRate (f64), numAudioChannels...
            f.skip(4)?;
            let rate = f64::from_bits(f.u64()?);
            let ch = f.u32()?;
            if rate.is_finite() && rate >= 1.0 && rate <= f64::from(u32::MAX) {
                sample_rate = rate as u32;
            }
            channels = u16::try_from(ch).unwrap_or(u16::MAX);
        }
        if &kind.0 == b"mp4a" {
            if let Some((esds, at)) = find_esds(b, children_at, ctx)? {
                let ectx = ctx.child("esds");
                let es = aac::parse_esds(esds.get(4..).unwrap_or_default())
                    .map_err(|e| codec_err(&ectx, at, e))?;
                if es.object_type_indication == 0x40 {
                    let Some(dsi) = es.decoder_specific_info else {
                        return Err(ectx.malformed(at, "AAC without an AudioSpecificConfig"));
                    };
                    let config = aac::AudioSpecificConfig::parse(&dsi)
                        .map_err(|e| codec_err(&ectx, at, e))?;
                    return Ok(CodecConfig::Aac {
                        channels,
                        sample_rate,
                        config,
                    });
                }
            }
        }
        return Ok(CodecConfig::Audio {
            channels,
            sample_rate,
        });
    }
    Ok(CodecConfig::Other)
}

/// A protected sample entry: the original format, scheme and default key ID from its `sinf`
/// (ISO/IEC 14496-12 §8.12: frma, schm; ISO/IEC 23001-7 §8.2: tenc). Missing boxes leave `None`:
/// the planner refuses every encrypted track anyway, and says what it found.
fn parse_protected(b: &MemBox, children_at: usize, ctx: &Ctx) -> Result<CodecConfig, DemuxError> {
    let mut original = None;
    let mut scheme = None;
    let mut key_id = None;
    let mut iv_size = None;
    let mut kids = b.children(children_at);
    while let Some(c) = kids.next_box_qt(ctx)? {
        if &c.header.kind.0 != b"sinf" {
            continue;
        }
        let sctx = ctx.child("sinf");
        let mut inner = c.children(0);
        while let Some(p) = inner.next_box(&sctx)? {
            let pctx = sctx.child(p.header.kind);
            match &p.header.kind.0 {
                b"frma" => original = Some(FourCC(p.fields(&pctx).u32()?.to_be_bytes())),
                b"schm" => {
                    let mut f = p.fields(&pctx);
                    f.full_header()?;
                    scheme = Some(FourCC(f.u32()?.to_be_bytes()));
                }
                b"schi" => {
                    let mut schi = p.children(0);
                    while let Some(t) = schi.next_box(&pctx)? {
                        if &t.header.kind.0 != b"tenc" {
                            continue;
                        }
                        let tctx = pctx.child("tenc");
                        let mut f = t.fields(&tctx);
                        f.full_header()?;
                        // reserved, reserved or crypt/skip pattern, isProtected, then
                        // Per_Sample_IV_Size (ISO/IEC 23001-7 §8.2.2).
                        f.skip(3)?;
                        let at = f.offset();
                        let size = f.u8()?;
                        if !matches!(size, 0 | 8 | 16) {
                            return Err(tctx.malformed(
                                at,
                                format!("default_Per_Sample_IV_Size {size} is not 0, 8 or 16"),
                            ));
                        }
                        iv_size = Some(size);
                        let mut kid = [0u8; 16];
                        let hi = f.u64()?.to_be_bytes();
                        let lo = f.u64()?.to_be_bytes();
                        kid[..8].copy_from_slice(&hi);
                        kid[8..].copy_from_slice(&lo);
                        key_id = Some(kid);
                    }
                }
                _ => {}
            }
        }
    }
    Ok(CodecConfig::Encrypted {
        original,
        scheme,
        key_id,
        iv_size,
    })
}

fn is_audio_fourcc(kind: FourCC) -> bool {
    matches!(
        &kind.0,
        b"Opus"
            | b"fLaC"
            | b"ac-3"
            | b"ec-3"
            | b"alaw"
            | b"ulaw"
            | b"sowt"
            | b"twos"
            | b"lpcm"
            | b".mp3"
    )
}

/// Finds the esds box among the entry's children, or inside a QuickTime `wave` box.
fn find_esds(
    b: &MemBox,
    children_at: usize,
    ctx: &Ctx,
) -> Result<Option<(bytes::Bytes, u64)>, DemuxError> {
    let mut kids = b.children(children_at);
    while let Some(c) = kids.next_box_qt(ctx)? {
        match &c.header.kind.0 {
            b"esds" => return Ok(Some((c.body(), c.body_offset()))),
            b"wave" => {
                let wctx = ctx.child("wave");
                let mut inner = c.children(0);
                while let Some(w) = inner.next_box_qt(&wctx)? {
                    if &w.header.kind.0 == b"esds" {
                        return Ok(Some((w.body(), w.body_offset())));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::mp4::reader::BoxHeader;
    use bytes::Bytes;

    /// qtmux's avc1 from fixtures/qtmux.mov: children avcC, btrt, colr, fiel, pasp, then the
    /// QuickTime 32-bit zero.
    fn qtmux_avc1() -> Vec<u8> {
        let data = std::fs::read("fixtures/qtmux.mov").expect("fixture");
        let at = data.windows(4).position(|w| w == b"avc1").expect("avc1") - 4;
        let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        data[at..at + size].to_vec()
    }

    fn entry(raw: &[u8]) -> Result<CodecConfig, DemuxError> {
        let ctx = Ctx::new("t.mov", "stsd/avc1[0]");
        let header = BoxHeader::parse(raw, 100, raw.len() as u64, &ctx)?;
        parse_entry(
            &MemBox {
                header,
                raw: Bytes::copy_from_slice(raw),
            },
            &ctx,
        )
    }

    #[test]
    fn quicktime_terminator_ends_the_children() {
        let raw = qtmux_avc1();
        assert_eq!(&raw[raw.len() - 4..], &[0, 0, 0, 0]);
        assert!(matches!(
            entry(&raw),
            Ok(CodecConfig::H264 {
                width: 320,
                height: 240,
                config: Some(_)
            })
        ));
        let parts = split_entry(&raw).expect("splits");
        let kinds: Vec<String> = parts.children.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(kinds, ["avcC", "btrt", "colr", "fiel", "pasp"]);
        assert_eq!(parts.fields.len(), VISUAL_FIELDS);
    }

    #[test]
    fn four_other_bytes_are_still_a_truncated_box() {
        let mut raw = qtmux_avc1();
        let n = raw.len();
        raw[n - 1] = 1;
        let e = entry(&raw).unwrap_err();
        assert!(
            e.to_string().ends_with(&format!(
                "at byte {}: box header needs 8 bytes, 4 left",
                100 + n - 4
            )),
            "{e}"
        );
        assert!(split_entry(&raw).is_none());
    }

    #[test]
    fn split_entry_refuses_what_does_not_add_up() {
        let raw = qtmux_avc1();
        // Size field larger than the bytes.
        let mut bad = raw.clone();
        bad[3] = bad[3].wrapping_add(1);
        assert!(split_entry(&bad).is_none());
        // A child claiming more than is left.
        let mut bad = raw.clone();
        bad[8 + VISUAL_FIELDS + 3] = 0xff;
        assert!(split_entry(&bad).is_none());
        // Unknown entry type.
        let mut other = raw;
        other[4..8].copy_from_slice(b"xyz1");
        assert!(split_entry(&other).is_none());
        assert!(split_entry(&[0, 0, 0, 4]).is_none());
    }
}
