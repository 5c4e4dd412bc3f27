//! Where input bytes come from: a file opened read-only, or bytes in memory.
//!
//! Parsers read through [`Source::read_at`] (positional reads, no shared cursor), so one source can be
//! read by several tracks and threads. The muxer asks [`Source::file`] for the underlying file to let
//! the kernel copy sample data file-to-file.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

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
    /// The file behind this source, when there is one.
    fn file(&self) -> Option<&File> {
        None
    }
    /// The path behind this source, when there is one.
    fn path(&self) -> Option<&Path> {
        None
    }
}

/// A file opened read-only.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    path: PathBuf,
    name: String,
    len: u64,
}

impl FileSource {
    /// Opens `path` read-only.
    pub fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "is a directory",
            ));
        }
        Ok(FileSource {
            len: meta.len(),
            file,
            name: path.display().to_string(),
            path: path.to_path_buf(),
        })
    }
}

impl Source for FileSource {
    fn name(&self) -> &str {
        &self.name
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
    fn file(&self) -> Option<&File> {
        Some(&self.file)
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
