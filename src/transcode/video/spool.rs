//! Where re-encoded bytes wait for the muxer: an unnamed temporary file beside the output (gone
//! when the last handle closes, also after a crash) or, without a directory, memory.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Arc;

use crate::source::{MemSource, Source};

use super::TranscodeError;

/// Name the spooled bytes go by in messages.
const NAME: &str = "re-encoded video";

/// Appends coded pictures and hands them out as a [`Source`].
pub enum Spool {
    /// In memory.
    Memory(Vec<u8>),
    /// In a temporary file.
    File {
        /// The file (buffered writes).
        writer: io::BufWriter<File>,
        /// Bytes written.
        len: u64,
        /// The directory, for messages.
        dir: String,
    },
}

impl Spool {
    /// A spool in `dir`, or in memory.
    pub fn new(dir: Option<&Path>) -> Result<Spool, TranscodeError> {
        match dir {
            None => Ok(Spool::Memory(Vec::new())),
            Some(dir) => {
                let file = tempfile::tempfile_in(dir).map_err(|source| TranscodeError::Spool {
                    path: dir.display().to_string(),
                    source,
                })?;
                Ok(Spool::File {
                    writer: io::BufWriter::with_capacity(1 << 20, file),
                    len: 0,
                    dir: dir.display().to_string(),
                })
            }
        }
    }

    /// Appends `data`; returns its offset and size.
    pub fn append(&mut self, data: &[u8]) -> Result<(u64, u32), TranscodeError> {
        let size = u32::try_from(data.len()).map_err(|_| TranscodeError::Codec {
            what: format!("coded picture of {} bytes", data.len()),
        })?;
        match self {
            Spool::Memory(buf) => {
                let offset = buf.len() as u64;
                buf.extend_from_slice(data);
                Ok((offset, size))
            }
            Spool::File { writer, len, dir } => {
                let offset = *len;
                writer
                    .write_all(data)
                    .map_err(|source| TranscodeError::Spool {
                        path: dir.clone(),
                        source,
                    })?;
                *len += u64::from(size);
                Ok((offset, size))
            }
        }
    }

    /// The bytes written, readable by offset.
    pub fn finish(self) -> Result<Arc<dyn Source>, TranscodeError> {
        match self {
            Spool::Memory(buf) => Ok(Arc::new(MemSource::new(NAME, buf))),
            Spool::File { writer, len, dir } => {
                let file = writer.into_inner().map_err(|e| TranscodeError::Spool {
                    path: dir.clone(),
                    source: e.into_error(),
                })?;
                Ok(Arc::new(SpoolFile {
                    file: Arc::new(file),
                    len,
                }))
            }
        }
    }
}

/// A finished spool file.
#[derive(Debug)]
struct SpoolFile {
    file: Arc<File>,
    len: u64,
}

impl Source for SpoolFile {
    fn name(&self) -> &str {
        NAME
    }
    fn len(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<()> {
        self.file.read_exact_at(buf, offset)
    }
    fn open_file(&self) -> io::Result<Option<Arc<File>>> {
        Ok(Some(self.file.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_and_file_spools_give_back_what_was_appended() {
        let dir = tempfile::tempdir().unwrap();
        for d in [None, Some(dir.path())] {
            let mut s = Spool::new(d).unwrap();
            assert_eq!(s.append(b"abc").unwrap(), (0, 3));
            assert_eq!(s.append(b"defgh").unwrap(), (3, 5));
            let src = s.finish().unwrap();
            assert_eq!(src.len(), 8);
            let mut buf = [0u8; 5];
            src.read_at(3, &mut buf).unwrap();
            assert_eq!(&buf, b"defgh");
        }
        // The file is unnamed: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
