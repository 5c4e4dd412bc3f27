//! Track box and its descendants down to the sample table (ISO/IEC 14496-12 §8.3-§8.7).

use super::entry;
use super::reader::{Ctx, MemBox};
use super::stbl;
use crate::error::DemuxError;
use crate::limits::Limits;
use crate::model::{Edit, FourCC, Track, TrackHeader, TrackKind};
use crate::source::Source;

/// Parses one `trak`.
pub(super) fn parse_trak(
    trak: &MemBox,
    src: &dyn Source,
    limits: &Limits,
    scan: &mut super::Scan,
    ctx: &Ctx,
) -> Result<Track, DemuxError> {
    let mut header = None;
    let mut id = 0;
    let mut edits = Vec::new();
    let mut mdia = None;
    let mut children = trak.children(0);
    while let Some(b) = children.next_box(ctx)? {
        match &b.header.kind.0 {
            b"tkhd" => {
                let (i, h) = parse_tkhd(&b, &ctx.child("tkhd"))?;
                id = i;
                header = Some(h);
            }
            b"edts" => {
                let c = ctx.child("edts");
                let mut kids = b.children(0);
                while let Some(e) = kids.next_box(&c)? {
                    if &e.header.kind.0 == b"elst" {
                        edits = parse_elst(&e, limits, &c.child("elst"))?;
                    }
                }
            }
            b"mdia" => mdia = Some(b),
            _ => {}
        }
    }
    let Some(header) = header else {
        return Err(ctx.malformed(trak.header.offset, "trak has no tkhd"));
    };
    let Some(mdia) = mdia else {
        return Err(ctx.malformed(trak.header.offset, "trak has no mdia"));
    };
    let mctx = ctx.child("mdia");
    let mut timescale = None;
    let mut language = 0;
    let mut hdlr = None;
    let mut minf = None;
    let mut kids = mdia.children(0);
    while let Some(b) = kids.next_box(&mctx)? {
        match &b.header.kind.0 {
            b"mdhd" => {
                // Media header (§8.4.2).
                let c = mctx.child("mdhd");
                let mut f = b.fields(&c);
                let (version, _) = f.full_header()?;
                f.skip(if version == 1 { 16 } else { 8 })?;
                let at = f.offset();
                let ts = f.u32()?;
                if ts == 0 {
                    return Err(c.malformed(at, "mdhd timescale is 0"));
                }
                timescale = Some(ts);
                f.skip(if version == 1 { 8 } else { 4 })?;
                language = f.u16()?;
            }
            b"hdlr" => hdlr = Some(b),
            b"minf" => minf = Some(b),
            _ => {}
        }
    }
    let (Some(timescale), Some(hdlr), Some(minf)) = (timescale, hdlr, minf) else {
        return Err(mctx.malformed(mdia.header.offset, "mdia needs mdhd, hdlr and minf"));
    };
    // Handler reference (§8.4.3): pre_defined, then handler_type.
    let hctx = mctx.child("hdlr");
    let mut f = hdlr.fields(&hctx);
    f.full_header()?;
    f.skip(4)?;
    let handler = FourCC(f.u32()?.to_be_bytes());
    let kind = match &handler.0 {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };

    let ictx = mctx.child("minf");
    let mut media_header = None;
    let mut stbl_box = None;
    let mut kids = minf.children(0);
    while let Some(b) = kids.next_box(&ictx)? {
        match &b.header.kind.0 {
            b"vmhd" | b"smhd" | b"hmhd" | b"nmhd" | b"sthd" | b"gmhd" => {
                media_header = Some(bytes::Bytes::copy_from_slice(&b.raw))
            }
            b"dinf" => check_dinf(&b, &ictx.child("dinf"))?,
            b"stbl" => stbl_box = Some(b),
            _ => {}
        }
    }
    let Some(stbl_box) = stbl_box else {
        return Err(ictx.malformed(minf.header.offset, "minf has no stbl"));
    };
    let sctx = ictx.child("stbl");
    let table = stbl::parse_stbl(&stbl_box, src.len(), limits, scan, &sctx)?;
    let sample_entries = entry::parse_stsd(&table.stsd, limits, &sctx.child("stsd"))?;
    Ok(Track {
        id,
        kind,
        handler,
        timescale,
        language,
        header,
        // Copies of kept boxes let the moov buffer go once parsing ends.
        hdlr: bytes::Bytes::copy_from_slice(&hdlr.raw),
        media_header,
        sample_entries,
        edits,
        samples: table.samples,
    })
}

/// Checks after all fragments are read: every sample names an existing sample entry.
pub(super) fn finish(track: &mut Track, ctx: &Ctx) -> Result<(), DemuxError> {
    let n = track.sample_entries.len();
    if let Some(s) = track.samples.iter().find(|s| usize::from(s.entry) >= n) {
        return Err(ctx.malformed(
            s.offset,
            format!(
                "track {}: a sample uses sample description {} but stsd has {n}",
                track.id,
                u32::from(s.entry) + 1
            ),
        ));
    }
    Ok(())
}

/// Track header (§8.3.2).
fn parse_tkhd(b: &MemBox, ctx: &Ctx) -> Result<(u32, TrackHeader), DemuxError> {
    let mut f = b.fields(ctx);
    let (version, flags) = f.full_header()?;
    f.skip(if version == 1 { 16 } else { 8 })?;
    let id = f.u32()?;
    f.skip(4)?; // reserved
    f.skip(if version == 1 { 8 } else { 4 })?; // duration: recomputed on output
    f.skip(8)?; // reserved
    let layer = f.u16()? as i16;
    let alternate_group = f.u16()? as i16;
    let volume = f.u16()? as i16;
    f.skip(2)?;
    let mut matrix = [0i32; 9];
    for m in &mut matrix {
        *m = f.i32()?;
    }
    let width = f.u32()?;
    let height = f.u32()?;
    Ok((
        id,
        TrackHeader {
            flags,
            layer,
            alternate_group,
            volume,
            matrix,
            width,
            height,
        },
    ))
}

/// Edit list (§8.6.6).
fn parse_elst(b: &MemBox, limits: &Limits, ctx: &Ctx) -> Result<Vec<Edit>, DemuxError> {
    let mut f = b.fields(ctx);
    let (version, _) = f.full_header()?;
    let entry = if version == 1 { 20 } else { 12 };
    let n = f.count(entry, limits.max_edits, "edit list entries")?;
    let mut edits = Vec::with_capacity(n);
    for _ in 0..n {
        let (segment_duration, media_time) = if version == 1 {
            (f.u64()?, f.u64()? as i64)
        } else {
            (u64::from(f.u32()?), i64::from(f.i32()?))
        };
        let media_rate = f.i32()?;
        if media_time < -1 {
            return Err(f.malformed(format!("edit media_time {media_time} is below -1")));
        }
        edits.push(Edit {
            segment_duration,
            media_time,
            media_rate,
        });
    }
    Ok(edits)
}

/// Data information (§8.7.1): seam reads sample data only from the file itself.
fn check_dinf(b: &MemBox, ctx: &Ctx) -> Result<(), DemuxError> {
    let mut kids = b.children(0);
    while let Some(d) = kids.next_box(ctx)? {
        if &d.header.kind.0 != b"dref" {
            continue;
        }
        let c = ctx.child("dref");
        let mut inner = d.children(8);
        while let Some(e) = inner.next_box(&c)? {
            let ec = c.child(e.header.kind);
            let mut f = e.fields(&ec);
            let (_, flags) = f.full_header()?;
            if flags & 1 == 0 {
                return Err(ec.unsupported(
                    e.header.offset,
                    "sample data in another file (external data reference)",
                ));
            }
        }
    }
    Ok(())
}
