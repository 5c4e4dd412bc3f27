//! [`TsView`]: the converted access units of a transport stream, back to back, as a [`Source`]
//! (see [`super::media`] for why the file is read twice). A view's reader demuxes the file again
//! on a producer thread, builds each sample by its recipe from the first pass
//! ([`super::recipe`]) and hands the samples over in blocks; buffers are pooled across passes and
//! views.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use super::recipe::{convert, Entry, Kind, Recipes, LENGTH_SIZE};
use super::{AccessUnit, Event, TsDemuxer, TsLimits};
use crate::codec::framing::NalCodec;
use crate::error::DemuxError;
use crate::source::Source;

/// The streams a file's view carries: its first video and first AAC stream.
#[derive(Debug, Clone, Default)]
pub(super) struct Selection {
    pub(super) video: Option<(u16, NalCodec)>,
    pub(super) audio: Option<u16>,
}

impl Selection {
    pub(super) fn kind(&self, pid: u16) -> Option<Kind> {
        match self.video {
            Some((p, c)) if p == pid => return Some(Kind::Video(c)),
            _ => {}
        }
        (self.audio == Some(pid)).then_some(Kind::Aac)
    }
}

/// Bytes read from the file per step.
const CHUNK: usize = 2 << 20;
/// Converted bytes a [`TsView`] keeps behind the furthest read at most, so a muxer may read a
/// little backwards (a fragment's audio after its video) without the file being demuxed again.
/// It keeps 1.25 times the furthest any read has gone back so far ([`BACK`]; 0 for a moov-first MP4,
/// which reads views in order, ~3.5 MB for TS output and ~8.5 MB for fragmented MP4 at 40 Mb/s)
/// plus a block, within this bound: a muxer reading further back pays a second demux of the view
/// once, then the views after it keep more.
const WINDOW: u64 = 16 << 20;

/// How far behind the furthest read of its view any read has gone, over all views.
static BACK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Converted bytes a reader keeps behind its furthest read.
fn keep_behind() -> u64 {
    let back = BACK.load(std::sync::atomic::Ordering::Relaxed);
    back.saturating_add(back / 4)
        .saturating_add(BLOCK as u64)
        .min(WINDOW)
}

/// Buffers (read chunks, blocks of converted access units) kept for the next pass or view: fresh
/// megabyte buffers cost a page fault per 4 KiB when first written, more than the copying into
/// them. At most [`POOL_MAX`] are kept, about what a live view cycles through (its prefetched
/// blocks, its window behind the reads, its read chunks).
static POOL: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
const POOL_MAX: usize = 16;

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
pub(super) struct Pass {
    demuxer: TsDemuxer,
    pos: u64,
    events: VecDeque<Event>,
    done: bool,
    /// The chunk read last, ending at `pos`, and the one before it.
    chunk: Vec<u8>,
    prev: Vec<u8>,
}

impl Pass {
    pub(super) fn new(name: &str) -> Self {
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
    pub(super) fn next(&mut self, src: &dyn Source) -> Result<Option<Event>, DemuxError> {
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
    #[inline]
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
    pub(super) fn gather(
        &self,
        src: &dyn Source,
        au: &AccessUnit,
        buf: &mut Vec<u8>,
    ) -> io::Result<()> {
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
    /// View offset just past the furthest read so far.
    furthest: u64,
}

impl ViewReader {
    /// Gives back the blocks wholly before view offset `keep_from`.
    fn trim(&mut self, keep_from: u64) {
        while self
            .blocks
            .front()
            .is_some_and(|(s, b)| s + b.len() as u64 <= keep_from)
        {
            if let Some((s, b)) = self.blocks.pop_front() {
                self.start = s + b.len() as u64;
                give_buffer(b);
            }
        }
    }
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
    /// The view of `file` for the selected streams, `len` converted bytes long, built by
    /// `recipes` (one entry per access unit the first pass saw).
    pub(super) fn new(
        file: Arc<dyn Source>,
        name: String,
        selection: Selection,
        len: u64,
        recipes: Arc<[u8]>,
    ) -> Self {
        TsView {
            file,
            name,
            selection,
            len,
            recipes,
            id: NEXT_VIEW.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
        }
    }

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
            furthest: 0,
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
        let note_back = |furthest: u64| {
            if offset < furthest {
                BACK.fetch_max(furthest - offset, std::sync::atomic::Ordering::Relaxed);
            }
        };
        let mine = match readers.iter().position(|(id, _)| *id == self.id) {
            Some(k) => {
                let (_, r) = readers.remove(k);
                note_back(r.furthest);
                // Reading before what it kept: demux again from the start.
                (offset >= r.start).then_some(r)
            }
            None => None,
        };
        let reader = mine.unwrap_or_else(|| self.fresh_reader());
        // Kept after a read to the end too: a muxer may still read a little backwards (the last
        // audio after the last video); the least recently used reader goes.
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
            // Drop what lies before both this read and the window behind the furthest read.
            let keep_from = offset.min(r.furthest.saturating_sub(keep_behind()));
            r.trim(keep_from);
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
        r.furthest = r.furthest.max(end);
        let keep_from = offset.min(r.furthest.saturating_sub(keep_behind()));
        r.trim(keep_from);
        Ok(())
    }

    fn check_unchanged(&self) -> io::Result<()> {
        self.file.check_unchanged()
    }

    fn path(&self) -> Option<&std::path::Path> {
        self.file.path()
    }
}
