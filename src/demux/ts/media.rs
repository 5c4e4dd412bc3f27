//! A transport stream as the container-neutral [`Media`], through a *converted view*.
//!
//! A TS access unit is spread over many 188-byte packets and is in Annex B (video) or ADTS (AAC)
//! form; an MP4 sample is contiguous and length-prefixed (ISO/IEC 14496-15 §5.3.2) or raw AAC. The
//! only bytes that change are those framing conversions ([`crate::codec::framing`]: start codes
//! become 4-byte lengths, access unit delimiters and filler data are left out, SEI and parameter
//! sets are kept; the ADTS header is removed). Every other byte of a payload is copied as is.
//!
//! Rather than storing where each access unit's pieces are (one range per transport packet: 8% of
//! the payload's size in memory), the demuxer reads the file twice, the same way both times:
//! * at open, to learn each access unit's timing and its converted size;
//! * when the muxer copies, through [`TsView`]: a [`Source`] whose bytes are the converted access
//!   units back to back, in the order the demuxer completes them. A sample's `offset` is its place
//!   in that view, so the sample table is the same compact one as for MP4, sizes are known before
//!   anything is written, and a muxer copying samples in order reads the file once, in order.
//!
//! A timestamp jump inside the file (a reconnect; [`Event::Discontinuity`]) starts a new [`Media`]
//! over the same view, so the planner joins the parts like separate files.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use bytes::Bytes;

use super::recipe::{convert, left_out, Entry, Kind, Recipes, LENGTH_SIZE};
use super::{AccessUnit, Event, StreamType, TsDemuxer, TsLimits};
use crate::codec::framing::{
    asc_from_adts, avcc_from_parameter_sets, hvcc_from_parameter_sets, scan_annexb, AdtsTemplate,
    NalCodec,
};
use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{
    CodecConfig, ContainerFormat, FourCC, Media, Sample, SampleEntry, SampleTable, Track,
};
use crate::mux::mp4::entry::{mp4a_entry, visual_entry};
use crate::source::Source;
use crate::time::{rescale, Rounding};

/// Bytes read from the file per step.
const CHUNK: usize = 2 << 20;
/// Converted bytes a [`TsView`] keeps behind the furthest read, so a muxer may read a little
/// backwards (a fragment's audio after its video) without the file being demuxed again.
const WINDOW: u64 = 16 << 20;

/// The streams a file's view carries: its first video and first AAC stream.
#[derive(Debug, Clone, Default)]
struct Selection {
    video: Option<(u16, NalCodec)>,
    audio: Option<u16>,
}

impl Selection {
    fn kind(&self, pid: u16) -> Option<Kind> {
        match self.video {
            Some((p, c)) if p == pid => return Some(Kind::Video(c)),
            _ => {}
        }
        (self.audio == Some(pid)).then_some(Kind::Aac)
    }
}

/// Buffers (read chunks, blocks of converted access units) kept for the next pass or view: fresh
/// megabyte buffers cost a page fault per 4 KiB when first written, more than the copying into
/// them. At most [`POOL_MAX`] are kept, about what two live views hold at once.
static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
const POOL_MAX: usize = 32;

/// An empty buffer of at least `capacity` bytes, from the pool when it has one.
fn take_buffer(capacity: usize) -> Vec<u8> {
    let pooled = POOL.lock().ok().and_then(|mut p| {
        let k = p.iter().position(|b| b.capacity() >= capacity)?;
        Some(p.swap_remove(k))
    });
    let mut v = pooled.unwrap_or_else(|| Vec::with_capacity(capacity));
    v.clear();
    v
}

/// Returns a buffer to the pool (dropped when the pool is full).
fn give_buffer(v: Vec<u8>) {
    if v.capacity() == 0 {
        return;
    }
    if let Ok(mut p) = POOL.lock() {
        if p.len() < POOL_MAX {
            p.push(v);
        }
    }
}

/// Runs the demuxer over a file, chunk by chunk, handing out events. The last two chunks stay in
/// memory: an access unit is handed out when the next one starts, so its pieces are almost always
/// there, and gathering it costs copies rather than one read per 184-byte piece.
struct Pass {
    demuxer: TsDemuxer,
    pos: u64,
    events: VecDeque<Event>,
    done: bool,
    /// The chunk read last, ending at `pos`, and the one before it.
    chunk: Vec<u8>,
    prev: Vec<u8>,
}

impl Pass {
    fn new(name: &str) -> Self {
        Pass {
            demuxer: TsDemuxer::new(name, TsLimits::default()),
            pos: 0,
            events: VecDeque::new(),
            done: false,
            chunk: take_buffer(CHUNK),
            prev: take_buffer(CHUNK),
        }
    }

    /// The next event, `None` at the end of the file.
    fn next(&mut self, src: &dyn Source) -> Result<Option<Event>, DemuxError> {
        loop {
            if let Some(e) = self.events.pop_front() {
                return Ok(Some(e));
            }
            if self.done {
                return Ok(None);
            }
            let len = src.len();
            let n = (len - self.pos.min(len)).min(CHUNK as u64) as usize;
            if n == 0 {
                self.demuxer.finish()?;
                self.done = true;
            } else {
                std::mem::swap(&mut self.chunk, &mut self.prev);
                // A no-op but for the first chunks and the last: read() overwrites it all.
                self.chunk.resize(n, 0);
                src.read_at(self.pos, &mut self.chunk)
                    .map_err(|e| DemuxError::Io {
                        file: src.name().to_string(),
                        source: e,
                    })?;
                self.demuxer.push(self.pos, &self.chunk)?;
                self.pos += n as u64;
            }
            self.events.extend(self.demuxer.events());
        }
    }

    /// Appends the file's bytes `start..end` to `out` from the chunks in memory; false (and
    /// nothing appended) when they do not hold them all.
    fn copy_file_bytes(&self, start: u64, end: u64, out: &mut Vec<u8>) -> bool {
        let Some(chunk_at) = self.pos.checked_sub(self.chunk.len() as u64) else {
            return false;
        };
        let Some(prev_at) = chunk_at.checked_sub(self.prev.len() as u64) else {
            return false;
        };
        if start < prev_at || end > self.pos || start > end {
            return false;
        }
        // Offsets below are within the chunks: checked just above.
        if start < chunk_at {
            let e = end.min(chunk_at);
            out.extend_from_slice(&self.prev[(start - prev_at) as usize..(e - prev_at) as usize]);
        }
        if end > chunk_at {
            let s = start.max(chunk_at);
            out.extend_from_slice(&self.chunk[(s - chunk_at) as usize..(end - chunk_at) as usize]);
        }
        true
    }

    /// Reads an access unit's pieces into `buf`.
    fn gather(&self, src: &dyn Source, au: &AccessUnit, buf: &mut Vec<u8>) -> io::Result<()> {
        buf.clear();
        let size =
            usize::try_from(au.size).map_err(|_| io::Error::other("access unit too large"))?;
        buf.reserve(size);
        for p in &au.pieces {
            if !self.copy_file_bytes(p.start, p.end, buf) {
                let n = usize::try_from(p.end - p.start)
                    .map_err(|_| io::Error::other("piece too large"))?;
                let at = buf.len();
                buf.resize(at + n, 0);
                src.read_at(p.start, &mut buf[at..])?;
            }
        }
        Ok(())
    }

    /// Appends an access unit's sample to `out` by its recipe's `n` ranges, copied from the
    /// chunks in memory; false (`out` as it was) when a range is not there or does not fit.
    fn copy_ranges(
        &self,
        au: &AccessUnit,
        kind: Kind,
        recipes: &mut Recipes,
        n: usize,
        out: &mut Vec<u8>,
    ) -> io::Result<bool> {
        let before = out.len();
        let mut ok = true;
        // The piece the copy is in, and the payload offset it starts at.
        let (mut k, mut base) = (0usize, 0u64);
        // All n ranges are read, copied or not, so the next entry is in step.
        for _ in 0..n {
            let r = recipes.range()?;
            if !ok {
                continue;
            }
            if let Kind::Video(_) = kind {
                let len = u32::try_from(r.end - r.start)
                    .map_err(|_| io::Error::other("NAL unit too large"))?;
                out.extend_from_slice(&len.to_be_bytes()[4 - usize::from(LENGTH_SIZE)..]);
            }
            let mut at = r.start;
            while ok && at < r.end {
                let Some(p) = au.pieces.get(k) else {
                    ok = false;
                    break;
                };
                let piece_end = base + (p.end - p.start);
                if at >= piece_end {
                    (k, base) = (k + 1, piece_end);
                    continue;
                }
                let to = r.end.min(piece_end);
                ok = self.copy_file_bytes(p.start + (at - base), p.start + (to - base), out);
                at = to;
            }
        }
        if !ok {
            out.truncate(before);
        }
        Ok(ok)
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        give_buffer(std::mem::take(&mut self.chunk));
        give_buffer(std::mem::take(&mut self.prev));
    }
}

/// The converted access units of a transport stream, back to back (see the module comment).
#[derive(Debug)]
pub struct TsView {
    file: Arc<dyn Source>,
    name: String,
    selection: Selection,
    len: u64,
    /// How to build each access unit's sample (see [`super::recipe`]).
    recipes: Arc<[u8]>,
    /// Identifies the view's reader in [`READERS`].
    id: u64,
}

/// Views with a reader at most: a job of many TS inputs keeps a reader (chunks and a window of
/// converted bytes, up to ~40 MB) for the few views being copied, not one per input. A view whose
/// reader was dropped demuxes again from its start when read.
const LIVE_READERS: usize = 2;

/// The live readers, most recently used first.
static READERS: Mutex<Vec<(u64, ViewReader)>> = Mutex::new(Vec::new());

/// Next [`TsView::id`].
static NEXT_VIEW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Converted access units travel from the producer thread to the reader packed back to back in
/// blocks of about this many bytes (an access unit is never split): one channel message, one
/// wake-up and one reused allocation per block rather than per access unit.
const BLOCK: usize = 1 << 20;

/// Blocks converted ahead of the reads, at most this many: the demuxing and conversion run on a
/// thread of their own while the muxer copies what is ready (the two overlap on two cores).
const PREFETCH: usize = 4;

/// Where a [`TsView`]'s reading has got to.
struct ViewReader {
    /// Blocks of converted access units in view order, from the producer thread; closed at the
    /// end of the stream (dropping the receiver stops the thread).
    rx: std::sync::mpsc::Receiver<io::Result<Vec<u8>>>,
    /// Blocks from view offset `start` on, each with its view offset (dropped from the front one
    /// by one, so keeping a window costs no copying).
    blocks: VecDeque<(u64, Vec<u8>)>,
    start: u64,
    /// View offset just past the last block held.
    end: u64,
}

impl Drop for ViewReader {
    fn drop(&mut self) {
        for (_, b) in self.blocks.drain(..) {
            give_buffer(b);
        }
    }
}

impl std::fmt::Debug for ViewReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ViewReader {{ start: {}, end: {} }}",
            self.start, self.end
        )
    }
}

impl TsView {
    fn fresh_reader(&self) -> ViewReader {
        let (tx, rx) = std::sync::mpsc::sync_channel(PREFETCH);
        let (file, name, selection, recipes) = (
            self.file.clone(),
            self.name.clone(),
            self.selection.clone(),
            self.recipes.clone(),
        );
        std::thread::spawn(move || {
            if let Err(e) = produce(&*file, &name, &selection, &recipes, &tx) {
                let _ = tx.send(Err(e));
            }
        });
        ViewReader {
            rx,
            blocks: VecDeque::new(),
            start: 0,
            end: 0,
        }
    }
}

/// The producer thread of a [`ViewReader`]: demuxes the file again and sends its converted
/// access units in blocks, built by the recipes of the first pass (`open` below), which took its
/// decisions for the same access units in the same order: those of the selected streams with a
/// PTS. Returns when done or when the reader is dropped.
fn produce(
    file: &dyn Source,
    name: &str,
    selection: &Selection,
    recipes: &[u8],
    tx: &std::sync::mpsc::SyncSender<io::Result<Vec<u8>>>,
) -> io::Result<()> {
    let mut pass = Pass::new(name);
    let mut recipes = Recipes::new(recipes);
    let mut scratch = Vec::new();
    let mut block = take_buffer(BLOCK);
    while let Some(ev) = pass.next(file).map_err(io::Error::other)? {
        let Event::AccessUnit(au) = ev else { continue };
        let Some(kind) = selection.kind(au.pid) else {
            continue;
        };
        if au.pts.is_none() {
            continue;
        }
        let entry = recipes.entry()?;
        if entry == Entry::LeftOut {
            continue;
        }
        // Converted, an access unit grows by at most a byte per 3-byte start code: send the
        // block first if it might not fit (a block never reallocates).
        if !block.is_empty() && (block.len() as u64).saturating_add(au.size * 2) > BLOCK as u64 {
            let next = take_buffer(BLOCK);
            if tx.send(Ok(std::mem::replace(&mut block, next))).is_err() {
                return Ok(()); // the reader was dropped
            }
        }
        let done = match entry {
            Entry::Ranges(n) => pass.copy_ranges(&au, kind, &mut recipes, n, &mut block)?,
            _ => false,
        };
        if !done {
            // Pieces outside the chunks in memory, or a recipe saying so: the first pass's way.
            pass.gather(file, &au, &mut scratch)?;
            let at = block.len();
            if convert(kind, &scratch, Some(&mut block), None).is_err() {
                block.truncate(at);
                return Err(io::Error::other(format!(
                    "{name}: an access unit at byte {} no longer converts (changed during the run?)",
                    au.offset
                )));
            }
        }
    }
    if !block.is_empty() {
        let _ = tx.send(Ok(block));
    }
    Ok(())
}

impl Source for TsView {
    fn name(&self) -> &str {
        &self.name
    }

    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let mut readers = READERS
            .lock()
            .map_err(|_| io::Error::other("TS readers poisoned"))?;
        let mine = readers
            .iter()
            .position(|(id, r)| *id == self.id && offset >= r.start);
        let reader = match mine {
            Some(k) => readers.remove(k).1,
            None => {
                readers.retain(|(id, _)| *id != self.id);
                self.fresh_reader()
            }
        };
        readers.insert(0, (self.id, reader));
        readers.truncate(LIVE_READERS);
        let r = &mut readers[0].1;
        let end = offset + out.len() as u64;
        while r.end < end {
            let converted = match r.rx.recv() {
                Ok(c) => c?,
                Err(_) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "{}: the stream ended early (changed during the run?)",
                            self.name
                        ),
                    ))
                }
            };
            if converted.is_empty() {
                continue;
            }
            let at = r.end;
            r.end += converted.len() as u64;
            r.blocks.push_back((at, converted));
            // Keep at most WINDOW bytes before the read.
            let keep_from = offset.saturating_sub(WINDOW);
            while r
                .blocks
                .front()
                .is_some_and(|(s, b)| s + b.len() as u64 <= keep_from)
            {
                if let Some((s, b)) = r.blocks.pop_front() {
                    r.start = s + b.len() as u64;
                    give_buffer(b);
                }
            }
        }
        // Copy from the blocks holding offset..end.
        let mut k = r
            .blocks
            .partition_point(|(s, b)| s + b.len() as u64 <= offset);
        let mut at = offset;
        let mut done = 0usize;
        while done < out.len() {
            let (s, b) = r
                .blocks
                .get(k)
                .ok_or_else(|| io::Error::other("TS view out of step"))?;
            let from =
                usize::try_from(at - s).map_err(|_| io::Error::other("TS view out of step"))?;
            let n = (b.len() - from).min(out.len() - done);
            out[done..done + n].copy_from_slice(&b[from..from + n]);
            done += n;
            at += n as u64;
            k += 1;
        }
        if end >= self.len {
            // Read to the end: its buffers are not needed any more.
            readers.remove(0);
        }
        Ok(())
    }

    fn check_unchanged(&self) -> io::Result<()> {
        self.file.check_unchanged()
    }

    fn path(&self) -> Option<&std::path::Path> {
        self.file.path()
    }
}

/// Where the first transport packet starts (within the first 192 bytes: a file cut from a stream
/// at any byte starts inside a packet) when three consecutive 188-byte packets, or 192-byte M2TS
/// packets, follow: `(sync byte offset, packet size)`.
fn first_packet(src: &dyn Source) -> Option<(usize, usize)> {
    let mut head = [0u8; 192 + 3 * 192];
    let n = (src.len().min(head.len() as u64)) as usize;
    if n < 3 * 188 || src.read_at(0, &mut head[..n]).is_err() {
        return None;
    }
    let head = &head[..n];
    for first in 0..192usize.min(n) {
        for stride in [188usize, 192] {
            if (0..3).all(|k| head.get(first + k * stride) == Some(&0x47)) {
                return Some((first, stride));
            }
        }
    }
    None
}

/// True when the source looks like a transport stream: three sync bytes 188 (or 192, M2TS) bytes
/// apart within its first 192 bytes.
pub fn sniff(src: &dyn Source) -> bool {
    first_packet(src).is_some()
}

/// True when a transport stream does not start the way a file of its own does, with a whole
/// packet that starts a section or a PES packet (`payload_unit_start_indicator`, §2.4.3.3): it is
/// the continuation of a stream split by bytes (a recorder rotating files by size), and is read
/// after the file before it as one stream.
pub fn is_continuation(src: &dyn Source) -> bool {
    let Some((first, stride)) = first_packet(src) else {
        return false;
    };
    let mut h = [0u8; 3];
    let sync = first + stride - 188;
    if src.read_at(sync as u64, &mut h).is_err() {
        return false;
    }
    let starts_unit = h[1] & 0x40 != 0;
    (stride == 188 && sync != 0) || !starts_unit
}

/// One stream's samples while demuxing, per part of the file between timestamp jumps.
#[derive(Default)]
struct Part {
    video: Vec<(i64, i64, u64, u32, bool)>, // (dts, pts, view offset, size, key)
    audio: Vec<(i64, u64, u32)>,            // (pts, view offset, size)
    /// File offset of each video and audio access unit's first packet, to locate errors found
    /// once the tracks are built (freed with the part).
    video_at: Vec<u64>,
    audio_at: Vec<u64>,
}

/// Gives each audio run (audio between its own timestamp jumps) to the video part it overlaps
/// most in time (90 kHz, one unwrapped timeline), or the nearest one within 10 s; runs near no
/// video are left out and said. Without video, the audio runs are the parts. Runs given to one
/// part are kept in order.
fn pair_audio(parts: &mut Vec<Part>, runs: Vec<Part>, name: &str, notes: &mut Vec<String>) {
    let runs: Vec<Part> = runs.into_iter().filter(|r| !r.audio.is_empty()).collect();
    let ranges: Vec<Option<(i64, i64)>> = parts
        .iter()
        .map(|p| {
            let lo = p.video.iter().map(|v| v.1).min()?;
            let hi = p.video.iter().map(|v| v.1).max()?;
            Some((lo, hi))
        })
        .collect();
    if ranges.iter().all(Option::is_none) {
        parts.retain(|p| !p.video.is_empty());
        parts.extend(runs);
        return;
    }
    for run in runs {
        let (Some(lo), Some(hi)) = (
            run.audio.iter().map(|a| a.0).min(),
            run.audio.iter().map(|a| a.0).max(),
        ) else {
            continue;
        };
        let score = |r: &Option<(i64, i64)>| -> Option<(i64, i64)> {
            let (a, b) = (*r)?;
            let overlap = hi.min(b) - lo.max(a);
            let distance = (a - hi).max(lo - b).max(0);
            Some((overlap.max(0), -distance))
        };
        let best = ranges
            .iter()
            .enumerate()
            .filter_map(|(k, r)| score(r).map(|s| (s, k)))
            .max();
        match best {
            Some(((overlap, neg_distance), k)) if overlap > 0 || -neg_distance <= 900_000 => {
                let p = &mut parts[k];
                p.audio.extend(run.audio);
                p.audio_at.extend(run.audio_at);
            }
            _ => notes.push(format!(
                "{name}: {} audio frames at {:.3} s are more than 10 s from any video; left out",
                run.audio.len(),
                lo as f64 / 90_000.0
            )),
        }
    }
}

/// Demuxes a transport stream into one [`Media`] per part between timestamp jumps, all reading
/// from one [`TsView`] of it.
pub fn open(
    file: Arc<dyn Source>,
    limits: &Limits,
) -> Result<(Vec<Media>, Vec<String>), DemuxError> {
    let name = file.name().to_string();
    let mut notes = Vec::new();
    let mut pass = Pass::new(&name);
    let mut sel = Selection::default();
    // Video parts and audio runs are split at their own timestamp jumps and paired by time once
    // all are known (a stream may jump where the other does not: a repeated audio time).
    let mut parts: Vec<Part> = vec![Part::default()];
    let mut audio_runs: Vec<Part> = vec![Part::default()];
    let (mut vpart, mut apart) = (0usize, 0usize);
    let mut view_len = 0u64;
    let mut scratch = Vec::new();
    // One entry per access unit the second pass sees (selected stream, with a PTS).
    let mut recipes = Vec::new();
    let mut video_cfg: Option<(SampleEntry, u16, u16)> = None;
    let mut audio_cfg: Option<(SampleEntry, u32)> = None;
    let mut samples = 0usize;
    while let Some(ev) = pass.next(&*file)? {
        match ev {
            Event::Stream {
                pid, stream_type, ..
            } => match stream_type {
                StreamType::H264 | StreamType::H265 if sel.video.is_none() => {
                    let c = if stream_type == StreamType::H264 {
                        NalCodec::H264
                    } else {
                        NalCodec::H265
                    };
                    sel.video = Some((pid, c));
                }
                StreamType::AacAdts if sel.audio.is_none() => sel.audio = Some(pid),
                _ if sel.kind(pid).is_none() => notes.push(format!(
                    "{name}: PID 0x{pid:04x}: a second {} stream is not joined; ignored",
                    if stream_type.is_video() {
                        "video"
                    } else {
                        "audio"
                    }
                )),
                _ => {}
            },
            Event::Discontinuity {
                pid,
                offset,
                before,
                after,
            } => {
                let Some(kind) = sel.kind(pid) else { continue };
                notes.push(format!(
                    "{name}: PID 0x{pid:04x} at byte {offset}: timestamps jump from {:.3} s to {:.3} s; the parts are joined like separate files",
                    before as f64 / 90_000.0,
                    after as f64 / 90_000.0
                ));
                if kind == Kind::Aac {
                    apart += 1;
                    audio_runs.push(Part::default());
                } else {
                    vpart += 1;
                    parts.push(Part::default());
                }
            }
            Event::Warning(w) => notes.push(format!("{name}: {w}")),
            Event::AccessUnit(au) => {
                let Some(kind) = sel.kind(au.pid) else {
                    continue;
                };
                let (Some(pts), dts) = (au.timeline_pts, au.timeline_dts.or(au.timeline_pts))
                else {
                    if au.pts.is_some() {
                        left_out(&mut recipes);
                    }
                    notes.push(format!(
                        "{name}: PID 0x{:04x} at byte {}: access unit without a PTS; left out",
                        au.pid, au.offset
                    ));
                    continue;
                };
                if au.pts.is_none() {
                    // Not seen by the second pass (`produce`) either.
                    notes.push(format!(
                        "{name}: PID 0x{:04x} at byte {}: access unit without a PTS; left out",
                        au.pid, au.offset
                    ));
                    continue;
                }
                let dts = dts.unwrap_or(pts);
                pass.gather(&*file, &au, &mut scratch)
                    .map_err(|e| DemuxError::Io {
                        file: name.clone(),
                        source: e,
                    })?;
                let size = match convert(kind, &scratch, None, Some(&mut recipes)) {
                    Ok(size) => size,
                    Err(why) => {
                        left_out(&mut recipes);
                        notes.push(format!(
                            "{name}: PID 0x{:04x} at byte {}: access unit left out: {why}",
                            au.pid, au.offset
                        ));
                        continue;
                    }
                };
                samples += 1;
                if samples > limits.max_samples {
                    return Err(DemuxError::LimitExceeded {
                        loc: Location {
                            file: name,
                            path: format!("PID 0x{:04x}", au.pid),
                            offset: au.offset,
                        },
                        what: format!("more than {} access units", limits.max_samples),
                    });
                }
                let size = u32::try_from(size).unwrap_or(u32::MAX);
                match kind {
                    Kind::Video(codec) => {
                        if video_cfg.is_none() {
                            video_cfg = video_entry(codec, &scratch);
                        }
                        parts[vpart]
                            .video
                            .push((dts, pts, view_len, size, au.random_access));
                        parts[vpart].video_at.push(au.offset);
                    }
                    Kind::Aac => {
                        if audio_cfg.is_none() {
                            audio_cfg = aac_entry(&scratch);
                        }
                        audio_runs[apart].audio.push((pts, view_len, size));
                        audio_runs[apart].audio_at.push(au.offset);
                    }
                }
                view_len += u64::from(size);
            }
        }
    }
    let view: Arc<dyn Source> = Arc::new(TsView {
        file: file.clone(),
        name: name.clone(),
        selection: sel,
        len: view_len,
        recipes: recipes.into(),
        id: NEXT_VIEW.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    });
    pair_audio(&mut parts, audio_runs, &name, &mut notes);
    let mut medias = Vec::new();
    for part in parts {
        let mut tracks = Vec::new();
        if let (false, Some((entry, w, h))) = (part.video.is_empty(), &video_cfg) {
            tracks.push(video_track(&part.video, entry.clone(), (*w, *h)));
        } else if !part.video.is_empty() {
            notes.push(format!(
                "{name}: video without SPS/PPS before its first keyframe; left out"
            ));
        }
        if let (false, Some((entry, rate))) = (part.audio.is_empty(), &audio_cfg) {
            tracks.push(audio_track(
                &part.audio,
                entry.clone(),
                *rate,
                tracks.len() as u32 + 1,
            ));
        }
        if tracks.is_empty() {
            continue;
        }
        for t in &mut tracks {
            // The composition rules of MP4 input (seam must read its own output back): a PTS
            // far from its DTS is damage. Sample k of a track is access unit k of its part.
            let at = if t.kind == crate::model::TrackKind::Video {
                &part.video_at
            } else {
                &part.audio_at
            };
            crate::demux::mp4::check_composition(t, &name, &|k| at.get(k).copied().unwrap_or(0))?;
            t.samples.shrink_to_fit();
        }
        medias.push(Media {
            source: view.clone(),
            format: ContainerFormat::Ts,
            major_brand: None,
            movie_timescale: 90_000,
            movie_duration: 0,
            tracks,
            udta: None,
            meta: None,
            pssh: Box::new([]),
        });
    }
    if medias.is_empty() {
        return Err(DemuxError::Unsupported {
            loc: Location {
                file: name,
                path: String::new(),
                offset: 0,
            },
            what: "no H.264, H.265 or AAC access unit in the transport stream".into(),
        });
    }
    Ok((medias, notes))
}

/// The sample entry for the first keyframe's parameter sets (`None` until they are there).
fn video_entry(codec: NalCodec, au: &[u8]) -> Option<(SampleEntry, u16, u16)> {
    let layout = scan_annexb(au).ok()?;
    let units = |t: u8| -> Vec<&[u8]> {
        layout
            .units
            .iter()
            .filter(|u| codec.nal_type(u.header) == t)
            .filter_map(|u| au.get(u.range.clone()))
            .collect()
    };
    match codec {
        NalCodec::H264 => {
            let c = avcc_from_parameter_sets(&units(7), &units(8), 4).ok()?;
            let sps = c.first_sps().ok()?;
            let (w, h) = (
                u16::try_from(sps.width).ok()?,
                u16::try_from(sps.height).ok()?,
            );
            let raw = visual_entry(b"avc1", w, h, b"avcC", &c.encode());
            Some((
                SampleEntry {
                    raw: Bytes::from(raw),
                    format: FourCC::new(b"avc1"),
                    codec: CodecConfig::H264 {
                        width: w,
                        height: h,
                        config: Some(c),
                    },
                },
                w,
                h,
            ))
        }
        NalCodec::H265 => {
            let c = hvcc_from_parameter_sets(&units(32), &units(33), &units(34), 4).ok()?;
            let sps = c.first_sps().ok()?;
            let (w, h) = (
                u16::try_from(sps.width).ok()?,
                u16::try_from(sps.height).ok()?,
            );
            let raw = visual_entry(
                b"hvc1",
                w,
                h,
                b"hvcC",
                &crate::codec::framing::encode_hvcc(&c),
            );
            Some((
                SampleEntry {
                    raw: Bytes::from(raw),
                    format: FourCC::new(b"hvc1"),
                    codec: CodecConfig::H265 {
                        width: w,
                        height: h,
                        config: Some(c),
                    },
                },
                w,
                h,
            ))
        }
    }
}

/// The `mp4a` entry from the first ADTS header, with the sample rate.
fn aac_entry(frame: &[u8]) -> Option<(SampleEntry, u32)> {
    let (_, header) = AdtsTemplate::from_frame(frame).ok()?;
    let asc = asc_from_adts(&header).ok()?;
    let rate = asc.sampling_frequency;
    let ch = u16::from(asc.channels());
    let raw = mp4a_entry(ch, rate, &asc.raw);
    Some((
        SampleEntry {
            raw: Bytes::from(raw),
            format: FourCC::new(b"mp4a"),
            codec: CodecConfig::Aac {
                channels: ch,
                sample_rate: rate,
                config: asc,
            },
        },
        rate,
    ))
}

fn video_track(v: &[(i64, i64, u64, u32, bool)], entry: SampleEntry, size: (u16, u16)) -> Track {
    let mut t = SampleTable::new();
    t.reserve(v.len());
    let mut last = 0u32;
    for (k, &(dts, pts, offset, bytes, key)) in v.iter().enumerate() {
        let duration = match v.get(k + 1) {
            Some(n) => u32::try_from(n.0 - dts).unwrap_or(0),
            None => last,
        };
        last = duration;
        // Cannot be full: at most Limits::max_samples access units.
        let _ = t.push(Sample {
            offset,
            dts,
            size: bytes,
            duration,
            cts_offset: i32::try_from(pts - dts).unwrap_or(0),
            entry: 0,
            sync: key,
        });
    }
    crate::demux::synth::plain_track(1, true, 90_000, size, vec![entry], t)
}

/// Audio at its sample rate, one frame after the other while the 90 kHz times agree within a
/// tick of rounding (as for FLV's milliseconds).
fn audio_track(a: &[(i64, u64, u32)], entry: SampleEntry, rate: u32, id: u32) -> Track {
    let frame = match &entry.codec {
        CodecConfig::Aac { config, .. } => u32::from(config.frame_length.max(1)),
        _ => 1024,
    };
    let mut t = SampleTable::new();
    t.reserve(a.len());
    let slack = i64::from(rate.div_ceil(90_000)) + 1;
    let mut next: Option<i64> = None;
    for &(pts, offset, size) in a {
        let at = rescale(pts, 90_000, u64::from(rate), Rounding::Nearest).unwrap_or(pts);
        let dts = match next {
            Some(n) if (at - n).abs() <= slack => n,
            _ => at,
        };
        let _ = t.push(Sample {
            offset,
            dts,
            size,
            duration: frame,
            cts_offset: 0,
            entry: 0,
            sync: true,
        });
        next = dts.checked_add(i64::from(frame));
    }
    crate::demux::synth::plain_track(id, false, rate, (0, 0), vec![entry], t)
}
