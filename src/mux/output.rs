//! The output file: written to a temporary file beside the target and renamed over it only when
//! everything succeeded, so a failed or interrupted run leaves neither a half file nor a temp file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::MuxError;
use crate::mux::Sink;
use crate::source::Source;

/// A temporary output file that becomes `target` on [`OutputFile::commit`] and disappears when
/// dropped uncommitted.
pub struct OutputFile {
    tmp: tempfile::NamedTempFile,
    target: PathBuf,
}

impl OutputFile {
    /// Creates the temporary file next to `target` after checking that `target` is not one of
    /// `inputs` and, unless `overwrite`, does not exist.
    pub fn create(target: &Path, inputs: &[&Path], overwrite: bool) -> Result<Self, MuxError> {
        if let Ok(meta) = std::fs::metadata(target) {
            for input in inputs {
                if let Ok(im) = std::fs::metadata(input) {
                    if im.dev() == meta.dev() && im.ino() == meta.ino() {
                        return Err(MuxError::OutputIsInput(target.to_path_buf()));
                    }
                }
            }
            if !overwrite {
                return Err(MuxError::OutputExists(target.to_path_buf()));
            }
            if meta.is_dir() {
                return Err(MuxError::Io {
                    path: target.to_path_buf(),
                    source: io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
                });
            }
            if !meta.is_file() {
                // A device or FIFO (`-o /dev/null`): renaming the temporary file onto it would
                // replace the device node with a regular file.
                return Err(MuxError::Io {
                    path: target.to_path_buf(),
                    source: io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "is not a regular file (seam writes a temporary file and renames it)",
                    ),
                });
            }
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A new file gets the usual 0666 less the umask (tempfile's default is 0600); an
        // overwritten one keeps its mode.
        let mode = std::fs::metadata(target)
            .map(|m| m.permissions().mode() & 0o7777)
            .unwrap_or(0o666);
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".seam-tmp")
            .permissions(std::fs::Permissions::from_mode(mode))
            .tempfile_in(&dir)
            .map_err(|e| MuxError::Io {
                path: dir.clone(),
                source: e,
            })?;
        Ok(OutputFile {
            tmp,
            target: target.to_path_buf(),
        })
    }

    /// The path of the temporary file.
    pub fn temp_path(&self) -> &Path {
        self.tmp.path()
    }

    /// Moves the finished file into place.
    pub fn commit(self) -> Result<(), MuxError> {
        let target = self.target.clone();
        self.tmp.as_file().flush().map_err(|e| MuxError::Io {
            path: target.clone(),
            source: e,
        })?;
        self.tmp.persist(&target).map_err(|e| MuxError::Io {
            path: target,
            source: e.error,
        })?;
        Ok(())
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tmp.as_file_mut().write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.tmp.as_file_mut().write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tmp.as_file_mut().flush()
    }
}

impl Sink for OutputFile {
    fn name(&self) -> String {
        self.target.display().to_string()
    }

    fn write_bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.tmp.as_file_mut().write_all(b)
    }

    fn copy_from(&mut self, src: &dyn Source, offset: u64, len: u64) -> io::Result<()> {
        copy_into_file(self.tmp.as_file_mut(), src, offset, len)
    }
}

/// Appends `len` bytes of `src` from `offset` to the file `out`: by the kernel (copy_file_range,
/// sendfile) when `src` is a file, else through a 1 MiB buffer. Shared by every file sink.
pub(crate) fn copy_into_file(
    out: &mut File,
    src: &dyn Source,
    offset: u64,
    len: u64,
) -> io::Result<()> {
    match src.open_file()? {
        Some(file) => {
            // std's io::copy between files uses copy_file_range(2), then sendfile(2): the data
            // never enters user space. The handle comes from the input pool and is dropped
            // after this run, so the pool may close it again.
            let mut reader: &File = &file;
            reader.seek(SeekFrom::Start(offset))?;
            let n = io::copy(&mut reader.take(len), out)?;
            if n != len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "{}: input ended early (changed during the run?)",
                        src.name()
                    ),
                ));
            }
            Ok(())
        }
        // A source made of parts (an input with re-encoded bytes appended): each part's own
        // range, so file parts still copy in the kernel.
        None if src.part_at(offset).is_some() => {
            let mut at = 0;
            while at < len {
                let Some((part, off, avail)) = src.part_at(offset + at) else {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!("{}: read past the end", src.name()),
                    ));
                };
                let n = (len - at).min(avail);
                copy_into_file(out, part, off, n)?;
                at += n;
            }
            Ok(())
        }
        None => {
            let mut buf = vec![0u8; len.min(1 << 20) as usize];
            let mut at = 0;
            while at < len {
                let n = (len - at).min(buf.len() as u64) as usize;
                src.read_at(offset + at, &mut buf[..n])?;
                out.write_all(&buf[..n])?;
                at += n as u64;
            }
            Ok(())
        }
    }
}
