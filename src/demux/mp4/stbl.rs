//! Sample table (ISO/IEC 14496-12 §8.5-§8.7): expands stts, ctts, stss, stsc, stsz/stz2 and
//! stco/co64 into the columns of a [`SampleTable`], checking every count against the bytes that carry it and
//! every sample against the end of the file.

use super::reader::{once, Ctx, MemBox};
use crate::error::DemuxError;
use crate::limits::Limits;
use crate::model::column::{BitColumn, OffsetColumn, TimeColumn, U32Column};
use crate::model::table::Columns;
use crate::model::SampleTable;

/// A parsed sample table.
pub(super) struct Table {
    /// The stsd box, parsed by the entry module.
    pub stsd: Option<MemBox>,
    /// Samples in decode order.
    pub samples: SampleTable,
    /// Best effort dropped samples that lie past the end of the file.
    pub truncated: bool,
    /// senc/saiz/saio and sample groups, for encrypted tracks (`super::cenc`).
    pub aux: super::cenc::AuxBoxes,
}

/// Parses `stbl`. `file_len` bounds sample offsets. Each box fills one column of the table, so no
/// per-sample record is ever built.
pub(super) fn parse_stbl(
    stbl: &MemBox,
    file_len: u64,
    limits: &Limits,
    scan: &mut super::Scan,
    ctx: &Ctx,
) -> Result<Table, DemuxError> {
    let mut stsd = None;
    let (mut stts, mut ctts, mut stss, mut stsc, mut stsz, mut stco) =
        (None, None, None, None, None, None);
    let mut aux = super::cenc::AuxBoxes::default();
    let mut kids = stbl.children(0);
    while let Some(b) = kids.next_box(ctx)? {
        if aux.offer(&b) {
            continue;
        }
        match &b.header.kind.0 {
            b"stsd" => once(&mut stsd, b, ctx)?,
            b"stts" => once(&mut stts, b, ctx)?,
            b"ctts" => once(&mut ctts, b, ctx)?,
            b"stss" => once(&mut stss, b, ctx)?,
            b"stsc" => once(&mut stsc, b, ctx)?,
            b"stsz" | b"stz2" => once(&mut stsz, b, ctx)?,
            b"stco" | b"co64" => once(&mut stco, b, ctx)?,
            _ => {}
        }
    }
    let Some(stsz) = stsz else {
        // No sample size box: a track with no samples (the init segment of a fragmented file).
        return Ok(Table {
            stsd,
            samples: SampleTable::new(),
            truncated: false,
            aux,
        });
    };

    let mut c = Columns {
        sizes: sizes(
            &stsz,
            file_len,
            limits,
            &mut scan.budget,
            &ctx.child(stsz.header.kind),
        )?,
        ..Columns::default()
    };
    let n = c.sizes.len();
    if n == 0 {
        return Ok(Table {
            stsd,
            samples: SampleTable::new(),
            truncated: false,
            aux,
        });
    }
    let (Some(stts), Some(stsc), Some(stco)) = (stts, stsc, stco) else {
        return Err(ctx.malformed(
            stbl.header.offset,
            format!("{n} samples but stts, stsc or stco/co64 is missing"),
        ));
    };
    let complete = offsets(
        &mut c,
        &stsc,
        &stco,
        file_len,
        limits,
        scan.best_effort,
        ctx,
    )?;
    c.times = times(n, &stts, &ctx.child("stts"))?;
    match &ctts {
        Some(ctts) => {
            let bound = times_bound(&c.times);
            c.cts = composition(n, ctts, bound, &ctx.child("ctts"))?;
        }
        None => c.cts.push_run(0, n as u32),
    }
    c.sync = match stss {
        Some(stss) => sync(n, &stss, &ctx.child("stss"))?,
        None => {
            let mut b = BitColumn::default();
            (0..n).for_each(|_| b.push(true));
            b
        }
    };
    let mut samples = SampleTable::from_columns(c).ok_or_else(|| {
        ctx.malformed(
            stbl.header.offset,
            "sample table columns disagree".to_string(),
        )
    })?;
    if let Some(ctts) = ctts {
        check_reorder(&samples, &ctts, &ctx.child("ctts"))?;
    }
    if complete < n {
        // Best effort: keep the decode-order prefix of samples that lie inside the file.
        scan.notes.push(format!(
            "{}: {}: dropped {} of {} samples that lie past the end of the file",
            ctx.file,
            ctx.path,
            n - complete,
            n
        ));
        samples.truncate(complete);
    }
    Ok(Table {
        stsd,
        samples,
        truncated: complete < n,
        aux,
    })
}
/// Sample sizes (§8.7.3): one size per sample.
fn sizes(
    b: &MemBox,
    file_len: u64,
    limits: &Limits,
    budget: &mut u64,
    ctx: &Ctx,
) -> Result<U32Column, DemuxError> {
    // Checked before any allocation: no file holds more samples than bytes.
    let take = |n: usize, at: u64, budget: &mut u64| -> Result<(), DemuxError> {
        if n as u64 > *budget {
            return Err(ctx.malformed(
                at,
                format!("{n} more samples than the {file_len}-byte file can hold"),
            ));
        }
        *budget -= n as u64;
        Ok(())
    };
    let mut f = b.fields(ctx);
    f.full_header()?;
    let mut out = U32Column::default();
    if &b.header.kind.0 == b"stz2" {
        f.skip(3)?;
        let field_size = f.u8()?;
        if !matches!(field_size, 4 | 8 | 16) {
            return Err(f.malformed(format!("stz2 field_size {field_size} is not 4, 8 or 16")));
        }
        let at = f.offset();
        let n = f.count(0, limits.max_samples, "samples")?;
        take(n, at, budget)?;
        let need = (n as u64 * u64::from(field_size)).div_ceil(8);
        if need > f.remaining() as u64 {
            return Err(ctx.malformed(at, format!("{n} samples but {} bytes left", f.remaining())));
        }
        let mut i = 0;
        while i < n {
            match field_size {
                4 => {
                    let byte = f.u8()?;
                    out.push(u32::from(byte >> 4));
                    if i + 1 < n {
                        out.push(u32::from(byte & 15));
                    }
                    i += 2;
                }
                8 => {
                    out.push(u32::from(f.u8()?));
                    i += 1;
                }
                _ => {
                    out.push(u32::from(f.u16()?));
                    i += 1;
                }
            }
        }
        return Ok(out);
    }
    let constant = f.u32()?;
    if constant != 0 {
        let at = f.offset();
        let n = f.count(0, limits.max_samples, "samples")?;
        take(n, at, budget)?;
        // No table backs the count, so bound it by the bytes the samples would need.
        if (n as u64).saturating_mul(u64::from(constant)) > file_len {
            return Err(ctx.malformed(
                at,
                format!("{n} samples of {constant} bytes do not fit in a {file_len}-byte file"),
            ));
        }
        out.push_run(constant, n as u32);
        return Ok(out);
    }
    let at = f.offset();
    let n = f.count(4, limits.max_samples, "samples")?;
    take(n, at, budget)?;
    for _ in 0..n {
        out.push(f.u32()?);
    }
    Ok(out)
}

/// The chunk offset table (§8.7.5), read in place: a file of one sample per chunk has as many
/// chunks as samples, and a copy as 64-bit values would cost 8 bytes per sample while parsing.
struct ChunkOffsets {
    body: bytes::Bytes,
    /// Where the entries start in `body`.
    start: usize,
    wide: bool,
    len: usize,
}

impl ChunkOffsets {
    fn new(b: &MemBox, limits: &Limits, ctx: &Ctx) -> Result<Self, DemuxError> {
        let mut f = b.fields(ctx);
        f.full_header()?;
        let wide = &b.header.kind.0 == b"co64";
        // Checked against the bytes left, so every entry below `len` is inside `body`.
        let len = f.count(if wide { 8 } else { 4 }, limits.max_samples, "chunks")?;
        let body = b.body();
        let start = body.len() - f.remaining();
        Ok(ChunkOffsets {
            body,
            start,
            wide,
            len,
        })
    }

    fn len(&self) -> usize {
        self.len
    }

    /// Chunk `i` (0-based), `None` past the table.
    fn get(&self, i: usize) -> Option<u64> {
        if i >= self.len {
            return None;
        }
        let w = if self.wide { 8 } else { 4 };
        let at = self.start + i * w;
        let b = self.body.get(at..at + w)?;
        Some(if self.wide {
            u64::from_be_bytes(b.try_into().ok()?)
        } else {
            u64::from(u32::from_be_bytes(b.try_into().ok()?))
        })
    }
}

/// Sample-to-chunk (§8.7.4) with chunk offsets: fills the offset and sample entry columns. Returns
/// the number of leading samples that lie inside the file (all of them unless `best_effort`).
#[allow(clippy::too_many_arguments)]
fn offsets(
    c: &mut Columns,
    stsc: &MemBox,
    stco: &MemBox,
    file_len: u64,
    limits: &Limits,
    best_effort: bool,
    ctx: &Ctx,
) -> Result<usize, DemuxError> {
    let n = c.sizes.len();
    let mut complete = n;
    let cctx = ctx.child(stco.header.kind);
    let chunks = ChunkOffsets::new(stco, limits, &cctx)?;
    let sctx = ctx.child("stsc");
    let mut f = stsc.fields(&sctx);
    f.full_header()?;
    let entries = f.count(12, limits.max_samples, "stsc entries")?;
    let mut next = 0usize; // next sample to place
    let mut first = Vec::with_capacity(entries.min(1 << 16));
    let mut rows = Vec::with_capacity(entries.min(1 << 16));
    for _ in 0..entries {
        let at = f.offset();
        let first_chunk = f.u32()?;
        let per_chunk = f.u32()?;
        let sdi = f.u32()?;
        if first_chunk == 0 || first.last().is_some_and(|&p| first_chunk <= p) {
            return Err(sctx.malformed(
                at,
                format!("first_chunk {first_chunk} is not above the previous entry's"),
            ));
        }
        if sdi == 0 || sdi > u32::from(u16::MAX) {
            return Err(sctx.malformed(at, format!("sample_description_index {sdi} is invalid")));
        }
        first.push(first_chunk);
        rows.push((at, per_chunk, sdi - 1));
    }
    let mut offsets = OffsetColumn::default();
    let mut entry_col = U32Column::default();
    let mut sizes = c.sizes.iter();
    for (j, &(at, per_chunk, entry)) in rows.iter().enumerate() {
        let start = first[j] as usize; // 1-based
        let end = match first.get(j + 1) {
            Some(&e) => e as usize,
            None => chunks.len() + 1,
        };
        if start > chunks.len() && per_chunk > 0 && next < n {
            return Err(sctx.malformed(
                at,
                format!("first_chunk {start} but only {} chunks", chunks.len()),
            ));
        }
        for chunk in start..end.min(chunks.len() + 1) {
            let Some(mut pos) = chunks.get(chunk - 1) else {
                break;
            };
            for _ in 0..per_chunk {
                let Some(size) = sizes.next() else {
                    return Err(sctx.malformed(
                        at,
                        format!("stsc describes more than the {n} samples of the sample size box"),
                    ));
                };
                let end = pos.saturating_add(u64::from(size));
                if end > file_len && best_effort {
                    complete = complete.min(next);
                } else if end > file_len {
                    return Err(cctx.malformed(
                        stco.header.offset,
                        format!(
                            "sample {} (chunk {chunk}) at byte {pos} of {size} bytes ends past the end of the {file_len}-byte file",
                            next + 1,
                        ),
                    ));
                }
                offsets.push(pos);
                entry_col.push(entry);
                pos = end;
                next += 1;
            }
        }
    }
    if next != n {
        return Err(sctx.malformed(
            stsc.header.offset,
            format!("stsc and chunk offsets place {next} samples but the sample size box has {n}"),
        ));
    }
    c.offsets = offsets;
    c.entries = entry_col;
    Ok(complete)
}

/// Decoding time to sample (§8.6.1.2).
fn times(n: usize, b: &MemBox, ctx: &Ctx) -> Result<TimeColumn, DemuxError> {
    let mut f = b.fields(ctx);
    f.full_header()?;
    let entries = f.count(8, usize::MAX, "stts entries")?;
    let mut out = TimeColumn::default();
    let mut i = 0usize;
    let mut dts = 0i64;
    for _ in 0..entries {
        let at = f.offset();
        let count = f.u32()? as usize;
        let delta = f.u32()?;
        if count > n - i {
            return Err(ctx.malformed(
                at,
                format!("stts covers more than the {n} samples of the sample size box"),
            ));
        }
        for _ in 0..count {
            out.push(dts, delta);
            dts += i64::from(delta);
        }
        i += count;
    }
    if i != n {
        return Err(ctx.malformed(
            b.header.offset,
            format!("stts covers {i} samples but the sample size box has {n}"),
        ));
    }
    Ok(out)
}

/// The largest composition offset (in either direction) a track can have, in track ticks: its whole
/// decode span, or 16 of its longest samples when that is more (a decoder holds at most 16 frames,
/// H.264 §A.3.1, so no frame is presented later than that; the allowance keeps short tracks of a
/// few B-frames valid). A larger offset puts a sample's presentation outside the track: players
/// that ignore edit lists (ffmpeg on fragments) then present it after the following input.
pub(super) fn composition_bound(samples: &SampleTable) -> u64 {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return 0;
    };
    let span = last
        .dts
        .saturating_add(i64::from(last.duration))
        .saturating_sub(first.dts)
        .unsigned_abs();
    let longest = samples
        .iter()
        .map(|s| u64::from(s.duration))
        .max()
        .unwrap_or(0);
    span.max(longest.saturating_mul(16))
}

/// [`composition_bound`] from the decode times alone (before the table is whole).
fn times_bound(t: &TimeColumn) -> u64 {
    let (mut first, mut end, mut longest) = (None, 0i64, 0u64);
    for (dts, d) in t.iter() {
        first.get_or_insert(dts);
        end = dts.saturating_add(i64::from(d));
        longest = longest.max(u64::from(d));
    }
    let span = end.saturating_sub(first.unwrap_or(0)).unsigned_abs();
    span.max(longest.saturating_mul(16))
}

/// How far a decoder can move a sample between decode order and presentation order: the H.264
/// decoded picture buffer holds at most 16 frames (max_dec_frame_buffering, §A.3.1/E.2.1; HEVC
/// allows fewer), so no frame is presented before more than 16 frames decoded after it, nor after
/// more than 16 decoded before it.
pub(super) const MAX_REORDER: usize = 16;

/// The first sample (decode-order index) whose position in presentation order is more than
/// [`MAX_REORDER`] away from its position in decode order, with that position. Such a composition
/// time is impossible for a decoder to produce: the timing is damaged. Players that drop samples
/// outside the edit list hide it in the input; in a joined output the sample lands among the next
/// input's frames and presentation times go backwards.
pub(super) fn reorder_violation(samples: &SampleTable) -> Option<(usize, usize)> {
    if samples.len() <= MAX_REORDER
        || samples.no_composition_offsets()
        || !may_reorder_too_far(samples)
    {
        return None;
    }
    // (presentation time, decode index) sorted: ties keep decode order. u32: sample counts are
    // bounded by Limits::max_samples, far below 2^32. 16 bytes per sample, for this check only.
    let mut order: Vec<(i64, u32)> = samples
        .iter()
        .enumerate()
        .map(|(k, s)| (s.cts(), k as u32))
        .collect();
    order.sort_unstable();
    order
        .iter()
        .enumerate()
        .filter(|&(p, &(_, k))| p.abs_diff(k as usize) > MAX_REORDER)
        .map(|(p, &(_, k))| (k as usize, p))
        .min()
}

/// A test without allocation that passes every table [`reorder_violation`] passes: a sample's
/// position in presentation order differs from its decode position by at most the larger of the
/// number of samples decoded before it and presented after it, and the number decoded after it and
/// presented before it. Both are counted up to `MAX_REORDER + 1` with the `MAX_REORDER + 1`
/// largest (smallest) presentation times seen so far, scanning forwards (backwards). Only a table
/// that fails it is sorted.
fn may_reorder_too_far(samples: &SampleTable) -> bool {
    const K: usize = MAX_REORDER + 1;
    // The largest presentation times so far, ascending: when all K lie above a sample's, more
    // than MAX_REORDER samples decoded before it are presented after it.
    let mut top: Vec<i64> = Vec::with_capacity(K + 1);
    for s in samples.iter() {
        let c = s.cts();
        if top.len() == K && top.iter().all(|&x| x > c) {
            return true;
        }
        let at = top.partition_point(|&x| x <= c);
        top.insert(at, c);
        if top.len() > K {
            top.remove(0);
        }
    }
    let mut low: Vec<i64> = Vec::with_capacity(K + 1);
    for s in samples.iter().rev() {
        let c = s.cts();
        if low.len() == K && low.iter().all(|&x| x < c) {
            return true;
        }
        let at = low.partition_point(|&x| x < c);
        low.insert(at, c);
        if low.len() > K {
            low.pop();
        }
    }
    false
}

/// Composition time to sample (§8.6.1.3), versions 0 and 1. Version 0 offsets are read as signed,
/// as every mainstream demuxer does, because writers put negative offsets there in practice.
/// Offsets beyond `bound` (see [`composition_bound`]) are `Malformed`.
fn composition(n: usize, b: &MemBox, bound: u64, ctx: &Ctx) -> Result<U32Column, DemuxError> {
    let mut f = b.fields(ctx);
    f.full_header()?;
    let entries = f.count(8, usize::MAX, "ctts entries")?;
    let mut out = U32Column::default();
    let mut i = 0usize;
    for _ in 0..entries {
        let at = f.offset();
        let count = f.u32()? as usize;
        let offset = f.i32()?;
        if count > n - i {
            return Err(ctx.malformed(
                at,
                format!("ctts covers more than the {n} samples of the sample size box"),
            ));
        }
        if count > 0 && i64::from(offset).unsigned_abs() > bound {
            return Err(ctx.malformed(
                at,
                format!(
                    "composition offset {offset} (samples {}..={}) is larger than the track's whole duration of {bound} ticks",
                    i + 1,
                    i + count
                ),
            ));
        }
        for _ in 0..count {
            out.push(offset as u32);
        }
        i += count;
    }
    if i != n {
        return Err(ctx.malformed(
            b.header.offset,
            format!("ctts covers {i} samples but the sample size box has {n}"),
        ));
    }
    Ok(out)
}

/// Refuses composition offsets no decoder can produce ([`reorder_violation`]), naming the ctts
/// entry that gives the sample its offset.
fn check_reorder(samples: &SampleTable, b: &MemBox, ctx: &Ctx) -> Result<(), DemuxError> {
    let Some((k, p)) = reorder_violation(samples) else {
        return Ok(());
    };
    // Locate the entry that gives sample k its offset: walk the entries again.
    let mut f = b.fields(ctx);
    f.full_header()?;
    let entries = f.count(8, usize::MAX, "ctts entries")?;
    let mut first = 0usize;
    let mut at = b.header.offset;
    for _ in 0..entries {
        at = f.offset();
        first += f.u32()? as usize;
        f.u32()?;
        if first > k {
            break;
        }
    }
    Err(ctx.malformed(
        at,
        format!(
            "composition offset {} puts sample {} at position {} in presentation order; a decoder moves a sample at most {MAX_REORDER} places",
            samples.get(k).map_or(0, |s| s.cts_offset),
            k + 1,
            p + 1
        ),
    ))
}

/// Sync sample box (§8.6.2).
fn sync(n: usize, b: &MemBox, ctx: &Ctx) -> Result<BitColumn, DemuxError> {
    let mut f = b.fields(ctx);
    f.full_header()?;
    let entries = f.count(4, usize::MAX, "sync samples")?;
    let mut out = BitColumn::default();
    (0..n).for_each(|_| out.push(false));
    for _ in 0..entries {
        let at = f.offset();
        let k = f.u32()? as usize;
        match k.checked_sub(1).filter(|&i| i < n) {
            Some(i) => out.set(i, true),
            None => {
                return Err(ctx.malformed(at, format!("sync sample {k} is not in 1..={n}")));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demux::mp4::reader::BoxHeader;
    use crate::mux::mp4::boxes::BoxWriter;
    use bytes::Bytes;

    /// An stbl with `n` samples of the given sizes in one chunk at offset 0, sizes in `stz2` with
    /// `field_size` bits.
    fn stbl_with_stz2(sizes: &[u32], field_size: u8) -> MemBox {
        let n = sizes.len() as u32;
        let mut w = BoxWriter::new();
        w.start(b"stbl");
        w.start_full(b"stts", 0, 0);
        w.u32(1);
        w.u32(n);
        w.u32(10);
        w.end();
        w.start_full(b"stsc", 0, 0);
        w.u32(1);
        w.u32(1);
        w.u32(n);
        w.u32(1);
        w.end();
        w.start_full(b"stz2", 0, 0);
        w.bytes(&[0, 0, 0, field_size]);
        w.u32(n);
        match field_size {
            4 => {
                for pair in sizes.chunks(2) {
                    let hi = pair[0] as u8;
                    let lo = pair.get(1).copied().unwrap_or(0) as u8;
                    w.bytes(&[(hi << 4) | lo]);
                }
            }
            8 => sizes.iter().for_each(|&s| w.bytes(&[s as u8])),
            _ => sizes
                .iter()
                .for_each(|&s| w.bytes(&(s as u16).to_be_bytes())),
        }
        w.end();
        w.start_full(b"stco", 0, 0);
        w.u32(1);
        w.u32(0);
        w.end();
        w.end();
        let raw = Bytes::from(w.into_inner());
        let ctx = Ctx::new("t.mp4", "");
        let header = BoxHeader::parse(&raw, 0, raw.len() as u64, &ctx).expect("header");
        MemBox { header, raw }
    }

    fn parse(b: &MemBox) -> Result<Vec<crate::model::Sample>, DemuxError> {
        let mut scan = crate::demux::mp4::Scan {
            budget: 1 << 20,
            best_effort: false,
            notes: Vec::new(),
        };
        let ctx = Ctx::new("t.mp4", "stbl");
        parse_stbl(b, 1 << 20, &Limits::default(), &mut scan, &ctx)
            .map(|t| t.samples.iter().collect())
    }

    #[test]
    fn stz2_field_sizes() {
        for (field, sizes) in [
            (4u8, vec![1u32, 15, 7]),
            (8, vec![200, 3, 255, 9]),
            (16, vec![65535, 1, 4000]),
        ] {
            let samples = parse(&stbl_with_stz2(&sizes, field)).expect("parse");
            let got: Vec<u32> = samples.iter().map(|s| s.size).collect();
            assert_eq!(got, sizes, "field size {field}");
            // One chunk at offset 0: samples follow each other.
            let mut at = 0;
            for s in &samples {
                assert_eq!(s.offset, at);
                at += u64::from(s.size);
            }
            assert!(samples.iter().all(|s| s.sync), "no stss: all sync");
            assert_eq!(
                samples.last().map(|s| s.dts),
                Some(10 * (sizes.len() as i64 - 1))
            );
        }
    }

    #[test]
    fn stz2_bad_field_size_is_malformed() {
        let e = parse(&stbl_with_stz2(&[1, 2], 12)).unwrap_err();
        assert!(matches!(e, DemuxError::Malformed { .. }), "{e}");
    }
}
