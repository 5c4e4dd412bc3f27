//! Per-sample encryption data of Common Encryption tracks (ISO/IEC 23001-7): the sample encryption
//! box `senc` (§7.2) and the sample auxiliary information boxes `saiz`/`saio` (ISO/IEC 14496-12
//! §8.7.8, §8.7.9) that point at the same entries.
//!
//! Each sample's entry (its IV and subsample map, §7.2.2) is read into the track's
//! [`AuxColumn`] without interpreting it: the output carries it unchanged with the sample's
//! ciphertext. Entries come from `senc` when the box is there (it holds them in the `moof` or
//! `stbl` already read), else from the range that `saio` and `saiz` describe, read from the file.
//! Key rotation (`seig` sample groups, §6) would give samples keys other than the sample entry's;
//! the output drops sample groups, so such tracks are refused rather than written undecryptable.

use super::reader::{Ctx, MemBox};
use crate::error::DemuxError;
use crate::limits::Limits;
use crate::model::{AuxColumn, CodecConfig, SampleEntry};
use crate::source::Source;

/// senc flag: the entries carry subsample maps (§7.2.1).
const SUBSAMPLES: u32 = 0x2;
/// senc flag (PIFF 1.1 / early drafts): the box overrides the track's algorithm, IV size and KID.
const OVERRIDE: u32 = 0x1;

/// The auxiliary-information boxes found in one `stbl` or `traf`.
#[derive(Default)]
pub(super) struct AuxBoxes {
    pub senc: Option<MemBox>,
    pub saiz: Option<MemBox>,
    pub saio: Option<MemBox>,
    /// Where a `seig` sample group (sgpd or sbgp) is, when there is one.
    pub seig: Option<u64>,
}

impl AuxBoxes {
    /// Keeps `b` when it is one of the boxes this module reads; true when it was.
    pub fn offer(&mut self, b: &MemBox) -> bool {
        match &b.header.kind.0 {
            b"senc" => set_first(&mut self.senc, b),
            // Auxiliary information of another type (aux_info_type present and not a CENC
            // scheme) is not the encryption data.
            b"saiz" if cenc_type(b) => set_first(&mut self.saiz, b),
            b"saio" if cenc_type(b) => set_first(&mut self.saio, b),
            b"sgpd" | b"sbgp" => {
                // FullBox header then grouping_type (§8.9.2, §8.9.3).
                if b.body().get(4..8) == Some(b"seig") && self.seig.is_none() {
                    self.seig = Some(b.header.offset);
                }
            }
            _ => return false,
        }
        true
    }
}

fn set_first(slot: &mut Option<MemBox>, b: &MemBox) {
    if slot.is_none() {
        *slot = Some(b.clone());
    }
}

/// True when a saiz/saio box has no aux_info_type or a Common Encryption scheme as its type.
fn cenc_type(b: &MemBox) -> bool {
    let body = b.body();
    let flags = body.get(1..4).map_or(0, |f| f[2] & 1);
    if flags == 0 {
        return true;
    }
    matches!(body.get(4..8), Some(b"cenc" | b"cbcs" | b"cens" | b"cbc1"))
}

/// The per-sample IV size of a track's protected sample entry, `None` when no entry is protected.
pub(super) fn protected_iv_size(entries: &[SampleEntry]) -> Option<u8> {
    entries.iter().find_map(|e| match e.codec {
        CodecConfig::Encrypted { iv_size, .. } => Some(iv_size.unwrap_or(0)),
        _ => None,
    })
}

/// Refuses key rotation: a `seig` group gives samples their own key IDs and IV sizes.
pub(super) fn refuse_seig(boxes: &AuxBoxes, ctx: &Ctx) -> Result<(), DemuxError> {
    match boxes.seig {
        Some(at) => Err(ctx.unsupported(
            at,
            "key rotation ('seig' sample groups giving samples other key IDs) in an encrypted track",
        )),
        None => Ok(()),
    }
}

/// Appends the entries of the first `samples` samples a `senc` box describes. `cut` allows the box
/// to describe more (best effort dropped samples past the end of the file).
pub(super) fn read_senc(
    senc: &MemBox,
    iv_size: u8,
    samples: usize,
    cut: bool,
    out: &mut AuxColumn,
    ctx: &Ctx,
) -> Result<(), DemuxError> {
    let ctx = ctx.child("senc");
    let mut f = senc.fields(&ctx);
    let (_, flags) = f.full_header()?;
    if flags & OVERRIDE != 0 {
        return Err(ctx.unsupported(
            senc.header.offset,
            "senc overriding the track's IV size and key ID (flag 0x1, PIFF)",
        ));
    }
    let per = usize::from(iv_size) + if flags & SUBSAMPLES != 0 { 2 } else { 0 };
    let at = f.offset();
    // Every entry takes at least `per` bytes: checked before anything is read.
    let count = f.count(per, usize::MAX, "senc entries")?;
    if count < samples || (count > samples && !cut) {
        return Err(ctx.malformed(
            at,
            format!("senc has {count} entries for {samples} samples"),
        ));
    }
    for _ in 0..samples {
        // The entry is copied whole: the IV, then the subsample count and pairs.
        let start = f.offset();
        let mut len = usize::from(iv_size);
        f.skip(len)?;
        if flags & SUBSAMPLES != 0 {
            let n = usize::from(f.u16()?);
            f.skip(6 * n)?;
            len += 2 + 6 * n;
        }
        let body_at = usize::try_from(start - senc.body_offset())
            .map_err(|_| ctx.malformed(start, "senc entry offset"))?;
        let entry = senc.body().slice(body_at..body_at + len);
        out.push(&entry)
            .map_err(|e| ctx.limit(start, e.to_string()))?;
    }
    Ok(())
}

/// What a `saiz` box says: a size for every sample, or one default size.
pub(super) struct Saiz {
    default: u8,
    sizes: Vec<u8>,
    count: usize,
}

impl Saiz {
    fn size(&self, k: usize) -> usize {
        if self.default != 0 {
            usize::from(self.default)
        } else {
            self.sizes.get(k).copied().map_or(0, usize::from)
        }
    }

    /// Bytes of the first `n` entries.
    fn total(&self, n: usize) -> usize {
        if self.default != 0 {
            n * usize::from(self.default)
        } else {
            self.sizes.iter().take(n).map(|&s| usize::from(s)).sum()
        }
    }
}

/// Sample auxiliary information sizes (ISO/IEC 14496-12 §8.7.8).
pub(super) fn parse_saiz(b: &MemBox, limits: &Limits, ctx: &Ctx) -> Result<Saiz, DemuxError> {
    let ctx = ctx.child("saiz");
    let mut f = b.fields(&ctx);
    let (_, flags) = f.full_header()?;
    if flags & 1 != 0 {
        f.skip(8)?; // aux_info_type, aux_info_type_parameter
    }
    let default = f.u8()?;
    let entry = if default == 0 { 1 } else { 0 };
    let count = f.count(entry, limits.max_samples, "sample_info_size entries")?;
    let sizes = if default == 0 {
        f.bytes(count)?.to_vec()
    } else {
        Vec::new()
    };
    Ok(Saiz {
        default,
        sizes,
        count,
    })
}

/// Sample auxiliary information offsets (§8.7.9): the first entry's offset, and how many there
/// are (seam reads entries stored together: one offset).
pub(super) fn parse_saio(b: &MemBox, ctx: &Ctx) -> Result<(u64, usize), DemuxError> {
    let ctx = ctx.child("saio");
    let mut f = b.fields(&ctx);
    let (version, flags) = f.full_header()?;
    if flags & 1 != 0 {
        f.skip(8)?;
    }
    let width = if version == 0 { 4 } else { 8 };
    let at = f.offset();
    let n = f.count(width, usize::MAX, "saio offsets")?;
    if n != 1 {
        return Err(ctx.unsupported(
            at,
            format!("saio with {n} offsets (auxiliary information stored in several places; seam reads one contiguous run)"),
        ));
    }
    let offset = if version == 0 {
        u64::from(f.u32()?)
    } else {
        f.u64()?
    };
    Ok((offset, n))
}

/// Splits `data` (the entries of the first `samples` samples, back to back) by the saiz sizes.
fn split(
    data: &[u8],
    saiz: &Saiz,
    samples: usize,
    out: &mut AuxColumn,
    ctx: &Ctx,
    at: u64,
) -> Result<(), DemuxError> {
    let mut pos = 0usize;
    for k in 0..samples {
        let end = pos + saiz.size(k);
        let entry = data
            .get(pos..end)
            .ok_or_else(|| ctx.malformed(at, "sample auxiliary information is cut short"))?;
        out.push(entry).map_err(|e| ctx.limit(at, e.to_string()))?;
        pos = end;
    }
    Ok(())
}

/// Checks the saiz count against the samples (more only when best effort cut samples off).
fn check_count(
    saiz: &Saiz,
    samples: usize,
    cut: bool,
    b: &MemBox,
    ctx: &Ctx,
) -> Result<(), DemuxError> {
    if saiz.count < samples || (saiz.count > samples && !cut) {
        return Err(ctx.child("saiz").malformed(
            b.header.offset,
            format!("saiz has {} entries for {samples} samples", saiz.count),
        ));
    }
    Ok(())
}

/// Appends the entries of a sample table's `samples` samples from where `saio` points in the file.
pub(super) fn read_from_file(
    boxes: &AuxBoxes,
    src: &dyn Source,
    samples: usize,
    cut: bool,
    limits: &Limits,
    out: &mut AuxColumn,
    ctx: &Ctx,
) -> Result<bool, DemuxError> {
    let (Some(zb), Some(ob)) = (&boxes.saiz, &boxes.saio) else {
        return Ok(false);
    };
    let saiz = parse_saiz(zb, limits, ctx)?;
    check_count(&saiz, samples, cut, zb, ctx)?;
    let (offset, _) = parse_saio(ob, ctx)?;
    let total = saiz.total(samples);
    let octx = ctx.child("saio");
    let end = offset.checked_add(total as u64).filter(|&e| e <= src.len());
    if end.is_none() {
        return Err(octx.malformed(
            ob.header.offset,
            format!(
                "{total} bytes of sample auxiliary information at byte {offset} run past the end of the {}-byte file",
                src.len()
            ),
        ));
    }
    if total as u64 > limits.max_box_size {
        return Err(octx.limit(
            ob.header.offset,
            format!("{total} bytes of sample auxiliary information, more than the box size limit"),
        ));
    }
    let mut data = vec![0u8; total];
    src.read_at(offset, &mut data).map_err(|e| DemuxError::Io {
        file: src.name().to_string(),
        source: e,
    })?;
    split(&data, &saiz, samples, out, &octx, offset)?;
    Ok(true)
}

/// Appends the entries of a track fragment's `samples` samples from where `saio` points, which
/// must be inside the `moof` (ffmpeg, shaka-packager and Bento4 point into the traf's `senc`).
/// `base` is the traf's base data offset (§8.8.7.1), which saio offsets count from.
#[allow(clippy::too_many_arguments)]
pub(super) fn read_from_moof(
    boxes: &AuxBoxes,
    moof: &MemBox,
    base: u64,
    samples: usize,
    cut: bool,
    limits: &Limits,
    out: &mut AuxColumn,
    ctx: &Ctx,
) -> Result<bool, DemuxError> {
    let (Some(zb), Some(ob)) = (&boxes.saiz, &boxes.saio) else {
        return Ok(false);
    };
    let saiz = parse_saiz(zb, limits, ctx)?;
    check_count(&saiz, samples, cut, zb, ctx)?;
    let (offset, _) = parse_saio(ob, ctx)?;
    let octx = ctx.child("saio");
    let total = saiz.total(samples) as u64;
    let start = base.checked_add(offset);
    let inside = start
        .and_then(|s| s.checked_sub(moof.header.offset))
        .filter(|&rel| rel.saturating_add(total) <= moof.header.size);
    let Some(rel) = inside else {
        return Err(octx.unsupported(
            ob.header.offset,
            "saio pointing outside its moof (seam reads a fragment's auxiliary information from the fragment)",
        ));
    };
    // rel + total <= moof size, which is in memory.
    let data = moof.raw.slice(rel as usize..(rel + total) as usize);
    split(
        &data,
        &saiz,
        samples,
        out,
        &octx,
        base.saturating_add(offset),
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::mp4::reader::BoxHeader;
    use bytes::Bytes;

    fn mem(raw: Vec<u8>, ctx: &Ctx) -> MemBox {
        let header = BoxHeader::parse(&raw, 0, raw.len() as u64, ctx).expect("header");
        MemBox {
            header,
            raw: Bytes::from(raw),
        }
    }

    fn senc(flags: u32, entries: &[&[u8]], count: u32) -> Vec<u8> {
        let mut body = flags.to_be_bytes().to_vec();
        body.extend_from_slice(&count.to_be_bytes());
        for e in entries {
            body.extend_from_slice(e);
        }
        let mut raw = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        raw.extend_from_slice(b"senc");
        raw.extend_from_slice(&body);
        raw
    }

    #[test]
    fn senc_entries_with_subsamples() {
        let ctx = Ctx::new("t.mp4", "traf");
        let a: &[u8] = &[1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 0, 5, 0, 0, 0, 100];
        let b: &[u8] = &[9; 8];
        let mut b2 = b.to_vec();
        b2.extend_from_slice(&[0, 0]);
        let raw = senc(2, &[a, &b2], 2);
        let mut out = AuxColumn::new();
        read_senc(&mem(raw.clone(), &ctx), 8, 2, false, &mut out, &ctx).expect("reads");
        assert_eq!(out.get(0), Some(a));
        assert_eq!(out.get(1), Some(&b2[..]));
        // Fewer samples than entries: only when best effort cut the fragment.
        let mut out = AuxColumn::new();
        assert!(read_senc(&mem(raw.clone(), &ctx), 8, 1, false, &mut out, &ctx).is_err());
        read_senc(&mem(raw, &ctx), 8, 1, true, &mut out, &ctx).expect("cut");
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn senc_counts_are_checked_before_reading() {
        let ctx = Ctx::new("t.mp4", "traf");
        // A count of 2^32-1 entries of 8 bytes in a 24-byte box.
        let raw = senc(0, &[&[0; 8]], u32::MAX);
        let mut out = AuxColumn::new();
        let e = read_senc(&mem(raw, &ctx), 8, 1, false, &mut out, &ctx).unwrap_err();
        assert!(e.to_string().contains("senc entries"), "{e}");
        // A subsample count running past the box.
        let raw = senc(2, &[&[0, 0, 0, 0, 0, 0, 0, 0, 0, 9]], 1);
        let e = read_senc(&mem(raw, &ctx), 8, 1, false, &mut out, &ctx).unwrap_err();
        assert!(e.to_string().contains("truncated"), "{e}");
        // PIFF overrides are refused by name.
        let raw = senc(1, &[], 0);
        let e = read_senc(&mem(raw, &ctx), 8, 0, false, &mut out, &ctx).unwrap_err();
        assert!(e.to_string().contains("PIFF"), "{e}");
    }
}
