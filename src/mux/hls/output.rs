//! Writing an HLS output atomically: a playlist plus many segment files.
//!
//! Segments are written under their final names into a temporary folder beside the playlist
//! (`.<playlist name>.XXXXXX.seam-tmp`, on the same file system, so a rename moves them). When
//! everything is written, [`HlsOutput::finish`] renames the segments into place and the playlist
//! last. A run that fails or is interrupted before `finish` leaves nothing: dropping the
//! [`HlsOutput`] removes the temporary folder. A playlist therefore only ever appears when every
//! segment it names is complete, the same promise [`crate::mux::output::OutputFile`] makes for an
//! MP4.
//!
//! Before renaming anything, `finish` checks every target: none may be an input, and none may
//! exist unless overwriting was allowed. If a rename still fails (a full or vanished folder), the
//! segments already moved that did not exist before are removed again, and no playlist is written.
//! Segments of an earlier, longer output with the same name (`out_00012.ts` when the new output has
//! 10 segments) are left alone: seam never deletes files it did not write.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::playlist::{
    check_stem, init_uri, media_playlist, segment_uri, PlaylistOptions, SegmentFormat, SegmentInfo,
};
use super::HlsError;
use crate::error::MuxError;
use crate::mux::Sink;
use crate::source::Source;

/// An HLS output being written (see the module documentation).
pub struct HlsOutput {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    playlist: PathBuf,
    stem: String,
    format: SegmentFormat,
    inputs: Vec<PathBuf>,
    overwrite: bool,
    /// Names of the files closed successfully in the temporary folder.
    closed: BTreeSet<String>,
}

fn io_err(path: &Path, source: io::Error) -> HlsError {
    HlsError::Mux(MuxError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl HlsOutput {
    /// Starts an output whose playlist will be `playlist` (segments named after its stem, see
    /// [`super::playlist`]). Fails early when the playlist is one of `inputs` or, unless
    /// `overwrite`, exists; segment names are checked in [`HlsOutput::finish`].
    pub fn create(
        playlist: &Path,
        format: SegmentFormat,
        inputs: &[&Path],
        overwrite: bool,
    ) -> Result<Self, HlsError> {
        let stem = playlist
            .file_stem()
            .map(|s| {
                s.to_str().map(str::to_string).ok_or(HlsError::BadName {
                    name: s.to_string_lossy().into_owned(),
                    why: "not UTF-8 (playlists are UTF-8 text, RFC 8216 §4.1)",
                })
            })
            .transpose()?
            .unwrap_or_default();
        check_stem(&stem)?;
        let inputs: Vec<PathBuf> = inputs.iter().map(|p| p.to_path_buf()).collect();
        check_target(playlist, &inputs, overwrite)?;
        let dir = match playlist.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = playlist
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".seam-tmp")
            .tempdir_in(&dir)
            .map_err(|e| io_err(&dir, e))?;
        Ok(HlsOutput {
            tmp,
            dir,
            playlist: playlist.to_path_buf(),
            stem,
            format,
            inputs,
            overwrite,
            closed: BTreeSet::new(),
        })
    }

    /// The temporary folder (removed on drop).
    pub fn temp_dir(&self) -> &Path {
        self.tmp.path()
    }

    /// The file name of the fMP4 initialization section (beside the playlist).
    pub fn init_name(&self) -> String {
        init_uri(&self.stem)
    }

    /// The file name of segment `k` (beside the playlist).
    pub fn segment_name(&self, k: usize) -> String {
        segment_uri(&self.stem, k, self.format)
    }

    /// A writer for segment `k` (a temporary file; writing it again starts it over). It counts as
    /// written once [`SegmentFile::close`] succeeded.
    pub fn segment_writer(&mut self, k: usize) -> Result<SegmentFile<'_>, HlsError> {
        let name = self.segment_name(k);
        self.open(name)
    }

    /// A writer for the fMP4 initialization section (`<stem>_init.mp4`, `#EXT-X-MAP`).
    pub fn init_writer(&mut self) -> Result<SegmentFile<'_>, HlsError> {
        let name = init_uri(&self.stem);
        self.open(name)
    }

    fn open(&mut self, name: String) -> Result<SegmentFile<'_>, HlsError> {
        self.closed.remove(&name);
        let path = self.tmp.path().join(&name);
        let file = File::create(&path).map_err(|e| io_err(&path, e))?;
        Ok(SegmentFile {
            out: BufWriter::with_capacity(1 << 20, file),
            target: self.dir.join(&name),
            name,
            closed: &mut self.closed,
        })
    }

    /// Writes the playlist for `segments` (segment `k` is the one written as `k`) and moves
    /// everything into place, the playlist last. Fails, moving nothing, when a listed segment was
    /// not written and closed, a written one is not listed, or a target may not be replaced.
    pub fn finish(self, segments: &[SegmentInfo]) -> Result<(), HlsError> {
        let text = media_playlist(
            segments,
            PlaylistOptions {
                stem: &self.stem,
                format: self.format,
            },
        )?;
        let mut names = Vec::with_capacity(segments.len() + 2);
        if self.format == SegmentFormat::Fmp4 {
            let init = init_uri(&self.stem);
            if !self.closed.contains(&init) {
                return Err(HlsError::NoInitSection);
            }
            names.push(init);
        }
        for k in 0..segments.len() {
            let name = self.segment_name(k);
            if !self.closed.contains(&name) {
                return Err(HlsError::SegmentMismatch {
                    index: k,
                    what: "was not written (or not closed)",
                });
            }
            names.push(name);
        }
        if let Some(extra) = self.closed.iter().find(|n| !names.contains(n)) {
            return Err(HlsError::Unlisted(extra.clone()));
        }
        let playlist_name = self
            .playlist
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tmp_playlist = self.tmp.path().join(&playlist_name);
        std::fs::write(&tmp_playlist, text).map_err(|e| io_err(&self.playlist, e))?;

        // Every target is checked before the first rename, so a refusal moves nothing.
        let mut moves: Vec<(PathBuf, PathBuf, bool)> = Vec::with_capacity(names.len() + 1);
        for name in &names {
            let target = self.dir.join(name);
            let existed = check_target(&target, &self.inputs, self.overwrite)?;
            moves.push((self.tmp.path().join(name), target, existed));
        }
        let existed = check_target(&self.playlist, &self.inputs, self.overwrite)?;
        moves.push((tmp_playlist, self.playlist.clone(), existed));

        for (i, (from, to, _)) in moves.iter().enumerate() {
            if let Err(e) = std::fs::rename(from, to) {
                // Take back what this run added, so no partial set of segments stays behind.
                for (_, moved, existed) in &moves[..i] {
                    if !existed {
                        let _ = std::fs::remove_file(moved);
                    }
                }
                return Err(io_err(to, e));
            }
        }
        // The temporary folder is empty now; dropping `self.tmp` removes it.
        Ok(())
    }
}

/// Refuses a target that is one of the inputs, or that exists when not overwriting, or is a
/// folder. True when it exists (and may be replaced).
fn check_target(target: &Path, inputs: &[PathBuf], overwrite: bool) -> Result<bool, HlsError> {
    let Ok(meta) = std::fs::metadata(target) else {
        return Ok(false);
    };
    for input in inputs {
        if let Ok(im) = std::fs::metadata(input) {
            if im.dev() == meta.dev() && im.ino() == meta.ino() {
                return Err(MuxError::OutputIsInput(target.to_path_buf()).into());
            }
        }
    }
    if !overwrite {
        return Err(MuxError::OutputExists(target.to_path_buf()).into());
    }
    if meta.is_dir() {
        return Err(io_err(
            target,
            io::Error::new(io::ErrorKind::InvalidInput, "is a directory"),
        ));
    }
    Ok(true)
}

/// One segment (or the initialization section) being written into the temporary folder. Call
/// [`SegmentFile::close`]: a writer dropped without it leaves its segment unwritten, and
/// [`HlsOutput::finish`] refuses to list it.
pub struct SegmentFile<'a> {
    out: BufWriter<File>,
    name: String,
    target: PathBuf,
    closed: &'a mut BTreeSet<String>,
}

impl SegmentFile<'_> {
    /// The file's final path, for messages.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Flushes the file and records it as written.
    pub fn close(mut self) -> Result<(), HlsError> {
        self.out.flush().map_err(|e| io_err(&self.target, e))?;
        self.closed.insert(std::mem::take(&mut self.name));
        Ok(())
    }
}

impl Write for SegmentFile<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.out.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.out.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

impl Sink for SegmentFile<'_> {
    fn name(&self) -> String {
        self.target.display().to_string()
    }

    fn write_bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.out.write_all(b)
    }

    fn copy_from(&mut self, src: &dyn Source, offset: u64, len: u64) -> io::Result<()> {
        // What was buffered goes first; then the copy writes to the file itself.
        self.out.flush()?;
        crate::mux::output::copy_into_file(self.out.get_mut(), src, offset, len)
    }
}
