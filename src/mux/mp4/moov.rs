//! The movie box of a progressive output (ISO/IEC 14496-12 §8.2-§8.7), built from the plan.

use super::boxes::{BoxWriter, IDENTITY};
use bytes::Bytes;

use crate::error::MuxError;
use crate::model::{Edit, TrackKind};
use crate::plan::{OutTrack, StitchPlan};

/// One track's chunks: samples per chunk and offsets relative to the mdat payload.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChunkTable {
    pub counts: Vec<u32>,
    pub offsets: Vec<u64>,
}

impl ChunkTable {
    pub fn push(&mut self, count: u32, offset: u64) {
        self.counts.push(count);
        self.offsets.push(offset);
    }

    pub fn max_offset(&self) -> u64 {
        self.offsets.iter().copied().max().unwrap_or(0)
    }
}

/// A built moov whose chunk offsets are still relative to the start of the mdat payload.
pub(crate) struct Moov {
    pub bytes: Vec<u8>,
    /// Where each track's chunk offset fields start, and how many there are (4 or 8 bytes each,
    /// back to back in its stco/co64), and where each encrypted track's saio offset is (as wide as
    /// the chunk offsets).
    offset_fields: Vec<(usize, usize)>,
    co64: bool,
}

impl Moov {
    /// True when chunk offsets are 64-bit.
    pub fn is_co64(&self) -> bool {
        self.co64
    }

    /// Adds `base` (where the mdat payload starts in the file) to every chunk offset.
    pub fn patch_offsets(&mut self, base: u64) -> Result<(), MuxError> {
        let width = if self.co64 { 8 } else { 4 };
        let fields = self
            .offset_fields
            .iter()
            .flat_map(|&(start, n)| (0..n).map(move |i| start + i * width));
        for at in fields {
            if self.co64 {
                let mut b = [0u8; 8];
                b.copy_from_slice(&self.bytes[at..at + 8]);
                let v = u64::from_be_bytes(b) + base;
                self.bytes[at..at + 8].copy_from_slice(&v.to_be_bytes());
            } else {
                let mut b = [0u8; 4];
                b.copy_from_slice(&self.bytes[at..at + 4]);
                let v = u32::try_from(u64::from(u32::from_be_bytes(b)) + base)
                    .map_err(|_| MuxError::TooLarge("chunk offset needs co64".into()))?;
                self.bytes[at..at + 4].copy_from_slice(&v.to_be_bytes());
            }
        }
        Ok(())
    }
}

/// Builds moov with chunk offsets relative to the mdat payload (see [`Moov::patch_offsets`]): its
/// size depends only on stco vs co64, so it is built once. `aux_offsets`: where each encrypted
/// track's sample auxiliary information starts in the mdat payload.
pub(crate) fn build_moov(
    plan: &StitchPlan,
    tables: &[ChunkTable],
    aux_offsets: &[Option<u64>],
    co64: bool,
) -> Result<Moov, MuxError> {
    let stats: Vec<TableStats> = plan.tracks.iter().map(TableStats::of).collect();
    // Reserved once: a moov of millions of samples grown by doubling would hold up to twice its
    // size, and its sample tables are most of a job's memory while it is written.
    let estimate = 4096
        + plan.pssh.iter().map(|p| p.len()).sum::<usize>()
        + plan.udta.as_ref().map_or(0, |u| u.len())
        + plan.meta.as_ref().map_or(0, |m| m.len())
        + plan
            .tracks
            .iter()
            .zip(tables)
            .zip(&stats)
            .map(|((t, table), st)| st.bytes(t, table, co64))
            .sum::<usize>();
    let mut w = BoxWriter::with_capacity(estimate);
    let mut offset_fields = Vec::with_capacity(tables.len());
    w.start(b"moov");
    mvhd(
        &mut w,
        plan.movie_timescale,
        plan.duration,
        plan.tracks.len() as u32 + 1,
    );
    // Protection system headers (ISO/IEC 23001-7 §8.1), as the inputs had them.
    for p in &plan.pssh {
        w.bytes(p);
    }
    for (i, ((t, table), st)) in plan.tracks.iter().zip(tables).zip(&stats).enumerate() {
        let aux = aux_offsets.get(i).copied().flatten();
        trak(
            &mut w,
            t,
            (i + 1) as u32,
            (table, aux),
            st,
            &mut offset_fields,
            co64,
        )?;
    }
    if let Some(u) = &plan.udta {
        w.bytes(u);
    }
    if let Some(m) = &plan.meta {
        w.bytes(m);
    }
    w.end();
    Ok(Moov {
        bytes: w.into_inner(),
        offset_fields,
        co64,
    })
}

/// Movie header (§8.2.2).
pub(crate) fn mvhd(w: &mut BoxWriter, timescale: u32, duration: u64, next_track_id: u32) {
    let v1 = duration > u64::from(u32::MAX);
    w.start_full(b"mvhd", u8::from(v1), 0);
    if v1 {
        w.u64(0);
        w.u64(0);
        w.u32(timescale);
        w.u64(duration);
    } else {
        w.u32(0);
        w.u32(0);
        w.u32(timescale);
        w.u32(duration as u32);
    }
    w.u32(0x0001_0000); // rate 1.0
    w.u16(0x0100); // volume 1.0
    w.zeros(10);
    for m in IDENTITY {
        w.i32(m);
    }
    w.zeros(24);
    w.u32(next_track_id);
    w.end();
}

/// Track header (§8.3.2).
pub(crate) fn tkhd(w: &mut BoxWriter, t: &OutTrack, id: u32) {
    let duration = t.presentation_duration();
    let v1 = duration > u64::from(u32::MAX);
    let flags = if t.header.flags & 0x7 == 0 {
        3
    } else {
        t.header.flags
    };
    w.start_full(b"tkhd", u8::from(v1), flags);
    if v1 {
        w.u64(0);
        w.u64(0);
        w.u32(id);
        w.u32(0);
        w.u64(duration);
    } else {
        w.u32(0);
        w.u32(0);
        w.u32(id);
        w.u32(0);
        w.u32(duration as u32);
    }
    w.zeros(8);
    w.u16(t.header.layer as u16);
    w.u16(t.header.alternate_group as u16);
    w.u16(t.header.volume as u16);
    w.u16(0);
    for m in t.header.matrix {
        w.i32(m);
    }
    w.u32(t.header.width);
    w.u32(t.header.height);
    w.end();
}

/// Edit box with its list (§8.6.5, §8.6.6).
pub(crate) fn edts(w: &mut BoxWriter, edits: &[Edit]) {
    if edits.is_empty() {
        return;
    }
    let v1 = edits
        .iter()
        .any(|e| e.segment_duration > u64::from(u32::MAX) || i32::try_from(e.media_time).is_err());
    w.start(b"edts");
    w.start_full(b"elst", u8::from(v1), 0);
    w.u32(edits.len() as u32);
    for e in edits {
        if v1 {
            w.u64(e.segment_duration);
            w.u64(e.media_time as u64);
        } else {
            w.u32(e.segment_duration as u32);
            w.i32(e.media_time as i32);
        }
        w.i32(e.media_rate);
    }
    w.end();
    w.end();
}

/// Media header (§8.4.2).
pub(crate) fn mdhd(w: &mut BoxWriter, t: &OutTrack, duration: u64) {
    let v1 = duration > u64::from(u32::MAX);
    w.start_full(b"mdhd", u8::from(v1), 0);
    if v1 {
        w.u64(0);
        w.u64(0);
        w.u32(t.timescale);
        w.u64(duration);
    } else {
        w.u32(0);
        w.u32(0);
        w.u32(t.timescale);
        w.u32(duration as u32);
    }
    w.u16(t.language & 0x7fff);
    w.u16(0);
    w.end();
}

/// The media header box kept from the input, or a default one for the track kind.
pub(crate) fn media_header(w: &mut BoxWriter, t: &OutTrack) {
    if let Some(h) = &t.media_header {
        w.bytes(h);
        return;
    }
    match t.kind {
        TrackKind::Video => {
            w.start_full(b"vmhd", 0, 1);
            w.zeros(8);
        }
        TrackKind::Audio => {
            w.start_full(b"smhd", 0, 0);
            w.zeros(4);
        }
        TrackKind::Other => w.start_full(b"nmhd", 0, 0),
    }
    w.end();
}

/// Data information: samples are in this file (§8.7.1).
pub(crate) fn dinf(w: &mut BoxWriter) {
    w.start(b"dinf");
    w.start_full(b"dref", 0, 0);
    w.u32(1);
    w.start_full(b"url ", 0, 1);
    w.end();
    w.end();
    w.end();
}

/// Sample description with every entry of the track (§8.5.2.2: entry_count, then the entries;
/// stsc and tfhd index them from 1).
pub(crate) fn stsd(w: &mut BoxWriter, t: &OutTrack) -> Result<(), MuxError> {
    w.start_full(b"stsd", 0, 0);
    w.u32(
        u32::try_from(t.sample_entries.len())
            .map_err(|_| MuxError::TooLarge("too many sample entries".into()))?,
    );
    for e in &t.sample_entries {
        w.bytes(e);
    }
    w.end();
    Ok(())
}

fn trak(
    w: &mut BoxWriter,
    t: &OutTrack,
    id: u32,
    (table, aux): (&ChunkTable, Option<u64>),
    st: &TableStats,
    offset_fields: &mut Vec<(usize, usize)>,
    co64: bool,
) -> Result<(), MuxError> {
    w.start(b"trak");
    tkhd(w, t, id);
    edts(w, &t.edits);
    w.start(b"mdia");
    mdhd(w, t, t.media_duration());
    w.bytes(&t.hdlr);
    w.start(b"minf");
    media_header(w, t);
    dinf(w);
    w.start(b"stbl");
    stsd(w, t)?;
    sample_tables(w, t, table, st, offset_fields, co64)?;
    if let (Some(enc), Some(at)) = (&t.encryption, aux) {
        // Sample auxiliary information (ISO/IEC 14496-12 §8.7.8, §8.7.9): every entry stored
        // together in the mdat, at one offset patched like the chunk offsets.
        super::cenc::saiz(w, enc, 0..t.samples.len())?;
        let field = super::cenc::saio(w, at, co64)?;
        offset_fields.push((field, 1));
    }
    w.end(); // stbl
    w.end(); // minf
    w.end(); // mdia
    w.end(); // trak
    Ok(())
}

/// Run-length encodes `values` as (count, value) pairs.
/// What the sample table boxes of a track will hold, counted in one pass so they can be sized
/// before they are written.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TableStats {
    samples: usize,
    stts_entries: usize,
    ctts_entries: usize,
    any_cts: bool,
    negative_cts: bool,
    sync: usize,
    constant_size: Option<u32>,
}

impl TableStats {
    fn of(t: &OutTrack) -> Self {
        let mut st = TableStats::default();
        let mut prev: Option<(u32, i32, u32)> = None;
        let mut same_size = true;
        for x in t.samples.iter() {
            if let Some((d, c, z)) = prev {
                st.stts_entries += usize::from(d != x.duration);
                st.ctts_entries += usize::from(c != x.cts_offset);
                same_size &= z == x.size;
            } else {
                st.stts_entries = 1;
                st.ctts_entries = 1;
            }
            st.any_cts |= x.cts_offset != 0;
            st.negative_cts |= x.cts_offset < 0;
            st.sync += usize::from(x.sync);
            st.samples += 1;
            prev = Some((x.duration, x.cts_offset, x.size));
        }
        st.constant_size = prev
            .map(|p| p.2)
            .filter(|&z| same_size && z > 0 && st.samples > 0);
        st
    }

    /// Bytes of the whole track box, about (headers estimated generously).
    fn bytes(&self, t: &OutTrack, table: &ChunkTable, co64: bool) -> usize {
        let mut n = 1024
            + t.sample_entries.iter().map(Bytes::len).sum::<usize>()
            + t.hdlr.len()
            + 12 * t.edits.len()
            + super::cenc::stbl_bytes(t.encryption.as_ref());
        n += 8 * self.stts_entries;
        if self.any_cts {
            n += 8 * self.ctts_entries;
        }
        if self.sync < self.samples {
            n += 4 * self.sync;
        }
        if self.constant_size.is_none() {
            n += 4 * self.samples;
        }
        n + table.counts.len() * (12 + if co64 { 8 } else { 4 })
    }
}

/// Writes `(count, value)` entries of the runs of equal values, counting them first: `entries`
/// is their number (from [`TableStats`]); the iterator is walked once more to write them.
fn write_runs<T: PartialEq + Copy>(
    w: &mut BoxWriter,
    entries: usize,
    values: impl Iterator<Item = T>,
    mut put: impl FnMut(&mut BoxWriter, T),
) -> Result<(), MuxError> {
    w.u32(u32::try_from(entries).map_err(|_| MuxError::TooLarge("too many table entries".into()))?);
    let mut run: Option<(u32, T)> = None;
    for v in values {
        match run.as_mut() {
            Some((n, last)) if *last == v => *n += 1,
            _ => {
                if let Some((n, last)) = run {
                    w.u32(n);
                    put(w, last);
                }
                run = Some((1, v));
            }
        }
    }
    if let Some((n, last)) = run {
        w.u32(n);
        put(w, last);
    }
    Ok(())
}

fn sample_tables(
    w: &mut BoxWriter,
    t: &OutTrack,
    table: &ChunkTable,
    st: &TableStats,
    offset_fields: &mut Vec<(usize, usize)>,
    co64: bool,
) -> Result<(), MuxError> {
    let s = &t.samples;
    // stts (§8.6.1.2). (A run is never longer than the track, which holds under 2^32 samples.)
    w.start_full(b"stts", 0, 0);
    write_runs(w, st.stts_entries, s.iter().map(|x| x.duration), |w, d| {
        w.u32(d)
    })?;
    w.end();
    // ctts (§8.6.1.3), version 1 when an offset is negative.
    if st.any_cts {
        w.start_full(b"ctts", u8::from(st.negative_cts), 0);
        write_runs(
            w,
            st.ctts_entries,
            s.iter().map(|x| x.cts_offset),
            |w, o| w.i32(o),
        )?;
        w.end();
    }
    // stss (§8.6.2), absent when every sample is a sync sample.
    if st.sync < st.samples {
        w.start_full(b"stss", 0, 0);
        w.u32(st.sync as u32);
        for (k, _) in s.iter().enumerate().filter(|(_, x)| x.sync) {
            w.u32(k as u32 + 1);
        }
        w.end();
    }
    // stsc (§8.7.4)
    w.start_full(b"stsc", 0, 0);
    // A row per run of chunks with the same sample count and sample description (the chunker never
    // mixes descriptions in a chunk, so a chunk's first sample gives its description).
    let mut rows: Vec<(u32, u32, u32)> = Vec::new();
    let mut first_sample = 0usize;
    for (i, &c) in table.counts.iter().enumerate() {
        let entry = s.get(first_sample).map_or(0, |x| u32::from(x.entry)) + 1;
        if rows.last().map(|r| (r.1, r.2)) != Some((c, entry)) {
            rows.push((i as u32 + 1, c, entry));
        }
        first_sample = first_sample.saturating_add(c as usize);
    }
    w.u32(rows.len() as u32);
    for (first, count, entry) in rows {
        w.u32(first);
        w.u32(count);
        w.u32(entry);
    }
    w.end();
    // stsz (§8.7.3)
    w.start_full(b"stsz", 0, 0);
    match st.constant_size {
        Some(z) => {
            w.u32(z);
            w.u32(s.len() as u32);
        }
        _ => {
            w.u32(0);
            w.u32(s.len() as u32);
            for x in s.iter() {
                w.u32(x.size);
            }
        }
    }
    w.end();
    // stco / co64 (§8.7.5), relative to the mdat payload until patched.
    if co64 {
        w.start_full(b"co64", 0, 0);
        w.u32(table.offsets.len() as u32);
        offset_fields.push((w.buf.len(), table.offsets.len()));
        for o in &table.offsets {
            w.u64(*o);
        }
    } else {
        w.start_full(b"stco", 0, 0);
        w.u32(table.offsets.len() as u32);
        offset_fields.push((w.buf.len(), table.offsets.len()));
        for o in &table.offsets {
            let v = u32::try_from(*o)
                .map_err(|_| MuxError::TooLarge("chunk offset needs co64".into()))?;
            w.u32(v);
        }
    }
    w.end();
    Ok(())
}
