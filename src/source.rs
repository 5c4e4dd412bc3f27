//! Where input bytes come from: a file opened read-only, or bytes in memory.
//!
//! Parsers read through [`Source::read_at`] (positional reads, no shared cursor), so one source can be
//! read by several tracks and threads. The muxer asks [`Source::open_file`] for the underlying file
//! to let the kernel copy sample data file-to-file.
//!
//! A job may have hundreds of thousands of inputs (a week of HLS segments) while a process may keep
//! only 1024 files open (the usual `ulimit -n`). A [`FileSource`] therefore does not own a file
//! descriptor: it names its file (path, device, inode, length) and borrows an open descriptor from a
//! [`FilePool`], a small least-recently-used set of open files shared by all sources (at most 64, or
//! a quarter of the soft `RLIMIT_NOFILE`, whichever is smaller). A source whose descriptor was
//! closed is reopened on demand, read-only, and the reopened file must be the same one (device,
//! inode and length), or the read fails with an [`InputChanged`] error.

mod concat;

pub use concat::{ConcatSource, RangeSource};

use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use bytes::Bytes;

/// A random-access, read-only input.
pub trait Source: Send + Sync + std::fmt::Debug {
    /// The name used in messages (the path as the user gave it).
    fn name(&self) -> &str;
    /// Length in bytes.
    fn len(&self) -> u64;
    /// True when the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fills `buf` from `offset`; an error if the source ends first.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()>;
    /// The open file behind this source, when there is one (`Ok(None)` for bytes in memory). The
    /// file may be reopened for this call; hold the returned handle only for one copy, so the number
    /// of open files stays bounded.
    fn open_file(&self) -> io::Result<Option<Arc<File>>> {
        Ok(None)
    }
    /// Checks that the file behind this source is still the one whose metadata was read (same
    /// file, same length); an [`InputChanged`] error says what differs.
    fn check_unchanged(&self) -> io::Result<()> {
        Ok(())
    }
    /// The path behind this source, when there is one.
    fn path(&self) -> Option<&Path> {
        None
    }
    /// For a source made of others ([`ConcatSource`]): the part holding `offset`, the offset in
    /// it and the bytes it has from there, so that a copy reaches each part's own file.
    fn part_at(&self, _offset: u64) -> Option<(&dyn Source, u64, u64)> {
        None
    }
}

/// Why a file source refused to read: its file is no longer the one that was opened. Carried
/// inside an [`io::Error`] (kind `Other`); [`InputChanged::find`] gets it back out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputChanged(pub String);

impl std::fmt::Display for InputChanged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputChanged {}

impl InputChanged {
    /// The change described by `e`, when `e` reports one.
    pub fn find(e: &io::Error) -> Option<&InputChanged> {
        e.get_ref().and_then(|inner| inner.downcast_ref())
    }

    fn error(what: String) -> io::Error {
        io::Error::other(InputChanged(what))
    }
}

/// The most input files seam keeps open at once (the pool's default size is this or a quarter of
/// the soft `RLIMIT_NOFILE`, whichever is smaller).
pub const MAX_OPEN_INPUTS: usize = 64;

/// A bounded, least-recently-used set of open input files shared by [`FileSource`]s.
#[derive(Debug)]
pub struct FilePool {
    capacity: usize,
    state: Mutex<PoolState>,
}

#[derive(Debug, Default)]
struct PoolState {
    /// Incremented on every use; the entry with the smallest `used` is evicted first.
    clock: u64,
    open: Vec<PoolEntry>,
    /// Files opened (first opens and reopens), for tests and statistics.
    opens: u64,
}

#[derive(Debug)]
struct PoolEntry {
    id: u64,
    used: u64,
    file: Arc<File>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

impl FilePool {
    /// A pool keeping at most `capacity` files open (at least one).
    pub fn new(capacity: usize) -> Arc<FilePool> {
        Arc::new(FilePool {
            capacity: capacity.max(1),
            state: Mutex::new(PoolState::default()),
        })
    }

    /// The process-wide pool [`FileSource::open`] uses, sized by [`default_capacity`].
    pub fn global() -> &'static Arc<FilePool> {
        static GLOBAL: OnceLock<Arc<FilePool>> = OnceLock::new();
        GLOBAL.get_or_init(|| FilePool::new(default_capacity()))
    }

    /// The most files this pool keeps open.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Files open now.
    pub fn open_now(&self) -> usize {
        self.lock().open.len()
    }

    /// Files opened so far (first opens and reopens).
    pub fn opens(&self) -> u64 {
        self.lock().opens
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        // A panic while holding the lock leaves the state consistent (a Vec of open files), so a
        // poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The open file of source `id`, opened with `open` when the pool holds none.
    fn get(&self, id: u64, open: impl Fn() -> io::Result<File>) -> io::Result<Arc<File>> {
        let mut st = self.lock();
        st.clock += 1;
        let now = st.clock;
        if let Some(e) = st.open.iter_mut().find(|e| e.id == id) {
            e.used = now;
            return Ok(e.file.clone());
        }
        if st.open.len() >= self.capacity {
            evict_oldest(&mut st);
        }
        let file = match open() {
            // Out of descriptors (other code holds many): close every pooled one and try again.
            Err(e) if e.raw_os_error() == Some(EMFILE) && !st.open.is_empty() => {
                st.open.clear();
                open()?
            }
            r => r?,
        };
        st.opens += 1;
        let file = Arc::new(file);
        st.open.push(PoolEntry {
            id,
            used: now,
            file: file.clone(),
        });
        Ok(file)
    }

    /// Closes source `id`'s file, if open.
    fn forget(&self, id: u64) {
        let mut st = self.lock();
        if let Some(i) = st.open.iter().position(|e| e.id == id) {
            st.open.swap_remove(i);
        }
    }
}

/// `EMFILE` on Linux: the process has too many open files.
const EMFILE: i32 = 24;

fn evict_oldest(st: &mut PoolState) {
    if let Some(i) = st
        .open
        .iter()
        .enumerate()
        .min_by_key(|(_, e)| e.used)
        .map(|(i, _)| i)
    {
        st.open.swap_remove(i);
    }
}

/// The default pool size: [`MAX_OPEN_INPUTS`] or a quarter of the soft `RLIMIT_NOFILE`, whichever
/// is smaller, so the rest of the process (and a library caller) keeps most descriptors.
pub fn default_capacity() -> usize {
    let soft = soft_nofile_limit().unwrap_or(1024);
    MAX_OPEN_INPUTS
        .min(usize::try_from(soft / 4).unwrap_or(usize::MAX))
        .max(1)
}

/// The soft limit on open files, read from `/proc/self/limits` (Linux), which avoids a `libc`
/// dependency and an `unsafe` `getrlimit` call for one number read once per process.
fn soft_nofile_limit() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/limits").ok()?;
    parse_nofile_limit(&text)
}

fn parse_nofile_limit(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .strip_prefix("Max open files")?
        .split_whitespace()
        .next()?;
    if soft == "unlimited" {
        return Some(u64::MAX);
    }
    soft.parse().ok()
}

/// A file opened read-only, its descriptor borrowed from a [`FilePool`].
#[derive(Debug)]
pub struct FileSource {
    id: u64,
    pool: Arc<FilePool>,
    /// The path to reopen: absolute, so a later change of working directory does not matter.
    path: Box<Path>,
    /// The path as the user gave it, for messages; `None` when that is `path` itself (an absolute
    /// UTF-8 path), which saves one allocation per input.
    name: Option<Box<str>>,
    len: u64,
    dev: u64,
    ino: u64,
}

impl FileSource {
    /// Opens `path` read-only, in the process-wide [`FilePool::global`].
    pub fn open(path: &Path) -> io::Result<Self> {
        Self::open_in(path, FilePool::global().clone())
    }

    /// Opens `path` read-only, keeping its descriptor in `pool`.
    pub fn open_in(path: &Path, pool: Arc<FilePool>) -> io::Result<Self> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let file = pool.get(id, || File::open(path))?;
        let meta = match file.metadata() {
            Ok(m) => m,
            Err(e) => {
                pool.forget(id);
                return Err(e);
            }
        };
        if meta.is_dir() {
            pool.forget(id);
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        let name = path.display().to_string();
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(FileSource {
            id,
            pool,
            name: (abs.to_str() != Some(name.as_str())).then(|| name.into_boxed_str()),
            path: abs.into_boxed_path(),
            len: meta.len(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// The open file, reopened (and checked to be the same file) when the pool had closed it.
    fn file(&self) -> io::Result<Arc<File>> {
        self.pool.get(self.id, || {
            let file = File::open(&self.path).map_err(|e| {
                if e.kind() == io::ErrorKind::NotFound {
                    InputChanged::error("it no longer exists".into())
                } else {
                    e
                }
            })?;
            self.same_file(&file.metadata()?)?;
            Ok(file)
        })
    }

    fn same_file(&self, now: &std::fs::Metadata) -> io::Result<()> {
        if now.dev() != self.dev || now.ino() != self.ino {
            return Err(InputChanged::error(format!(
                "it was replaced by another file (device {} inode {}, was device {} inode {})",
                now.dev(),
                now.ino(),
                self.dev,
                self.ino
            )));
        }
        if now.len() != self.len {
            return Err(InputChanged::error(format!(
                "length was {}, now {}",
                self.len,
                now.len()
            )));
        }
        Ok(())
    }
}

impl Drop for FileSource {
    fn drop(&mut self) {
        self.pool.forget(self.id);
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        match &self.name {
            Some(n) => n,
            // Set to None only when the path is valid UTF-8.
            None => self.path.to_str().unwrap_or_default(),
        }
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file()?.read_exact_at(buf, offset)
    }
    fn open_file(&self) -> io::Result<Option<Arc<File>>> {
        self.file().map(Some)
    }
    fn check_unchanged(&self) -> io::Result<()> {
        let now = std::fs::metadata(&self.path).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                InputChanged::error("it no longer exists".into())
            } else {
                e
            }
        })?;
        self.same_file(&now)
    }
    fn path(&self) -> Option<&Path> {
        Some(&self.path)
    }
}

/// Bytes in memory, for tests, fuzzing and callers that already hold the data.
#[derive(Debug, Clone)]
pub struct MemSource {
    name: String,
    data: Bytes,
}

impl MemSource {
    /// Wraps `data` under the display name `name`.
    pub fn new(name: impl Into<String>, data: impl Into<Bytes>) -> Self {
        MemSource {
            name: name.into(),
            data: data.into(),
        }
    }

    /// The bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.data
    }
}

impl Source for MemSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.data.len() as u64
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        let start = usize::try_from(offset).map_err(|_| eof())?;
        let end = start.checked_add(buf.len()).ok_or_else(eof)?;
        let src = self.data.get(start..end).ok_or_else(eof)?;
        buf.copy_from_slice(src);
        Ok(())
    }
}

fn eof() -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, "read past the end")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn nofile_limit_is_the_soft_column() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
                    Max processes             95524                95524                processes \n\
                    Max open files            1024                 524288               files     \n";
        assert_eq!(parse_nofile_limit(text), Some(1024));
        let text = "Max open files            unlimited            unlimited            files\n";
        assert_eq!(parse_nofile_limit(text), Some(u64::MAX));
        assert_eq!(parse_nofile_limit("nothing here"), None);
        assert!(default_capacity() >= 1 && default_capacity() <= MAX_OPEN_INPUTS);
    }

    fn files(dir: &Path, n: usize) -> Vec<PathBuf> {
        (0..n)
            .map(|i| {
                let p = dir.join(format!("f{i}.bin"));
                std::fs::write(&p, [i as u8; 100]).expect("write test file");
                p
            })
            .collect()
    }

    #[test]
    fn pool_keeps_at_most_capacity_files_open_and_reopens() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = FilePool::new(3);
        let sources: Vec<FileSource> = files(dir.path(), 10)
            .iter()
            .map(|p| FileSource::open_in(p, pool.clone()).expect("open"))
            .collect();
        assert_eq!(pool.open_now(), 3);
        for round in 0..2 {
            for (i, s) in sources.iter().enumerate() {
                let mut b = [0u8; 4];
                s.read_at(96, &mut b).expect("read");
                assert_eq!(b, [i as u8; 4], "round {round} source {i}");
                assert!(pool.open_now() <= 3);
            }
        }
        // 10 first opens, then every read of the two rounds reopened (LRU, cyclic access).
        assert_eq!(pool.opens(), 30);
        // The most recently used stays open: reading it again opens nothing.
        sources[9].read_at(0, &mut [0u8; 1]).expect("read");
        assert_eq!(pool.opens(), 30);
        drop(sources);
        assert_eq!(pool.open_now(), 0);
    }

    #[test]
    fn reopen_checks_it_is_the_same_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = FilePool::new(1);
        let paths = files(dir.path(), 3);
        let a = FileSource::open_in(&paths[0], pool.clone()).expect("open");
        let b = FileSource::open_in(&paths[1], pool.clone()).expect("open");
        let c = FileSource::open_in(&paths[2], pool.clone()).expect("open");
        assert!(a.check_unchanged().is_ok());

        // a: grown.
        std::fs::write(&paths[0], [0u8; 101]).expect("rewrite");
        let e = a.read_at(0, &mut [0u8; 1]).expect_err("changed");
        let what = InputChanged::find(&e).expect("an InputChanged error");
        assert!(what.0.contains("length was 100, now 101"), "{what}");
        assert!(InputChanged::find(&a.check_unchanged().expect_err("changed")).is_some());

        // b: replaced by another file of the same length.
        let other = dir.path().join("other.bin");
        std::fs::write(&other, [7u8; 100]).expect("write");
        std::fs::rename(&other, &paths[1]).expect("rename");
        let e = b.open_file().expect_err("replaced");
        assert!(
            InputChanged::find(&e).is_some_and(|w| w.0.contains("replaced")),
            "{e}"
        );

        // c: removed.
        std::fs::remove_file(&paths[2]).expect("remove");
        let e = c.read_at(0, &mut [0u8; 1]).expect_err("removed");
        assert!(InputChanged::find(&e).is_some_and(|w| w.0.contains("no longer exists")));
    }
}
