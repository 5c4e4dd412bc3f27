//! Demuxers: container bytes in, [`Media`] out.
//!
//! Each format lives in its own module and reads through a [`Source`]; [`open`] picks the demuxer by
//! looking at the first bytes.

pub mod mp4;

use std::path::Path;
use std::sync::Arc;

use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::Media;
use crate::source::{FileSource, Source};

/// Opens `path` read-only and demuxes it.
pub fn open_path(path: &Path, limits: &Limits) -> Result<Media, DemuxError> {
    open_path_with(path, limits, false).map(|(m, _)| m)
}

/// [`open_path`] with the `best_effort` salvage of [`open_with`].
pub fn open_path_with(
    path: &Path,
    limits: &Limits,
    best_effort: bool,
) -> Result<(Media, Vec<String>), DemuxError> {
    let src = FileSource::open(path).map_err(|e| DemuxError::Io {
        file: path.display().to_string(),
        source: e,
    })?;
    open_with(Arc::new(src), limits, best_effort)
}

/// Demuxes a source, choosing the format from its first bytes.
pub fn open(source: Arc<dyn Source>, limits: &Limits) -> Result<Media, DemuxError> {
    open_with(source, limits, false).map(|(m, _)| m)
}

/// Like [`open`]; with `best_effort`, salvages what is readable from a damaged input (a truncated
/// last fragment or mdat) and returns what it dropped, in words.
pub fn open_with(
    source: Arc<dyn Source>,
    limits: &Limits,
    best_effort: bool,
) -> Result<(Media, Vec<String>), DemuxError> {
    let mut head = [0u8; 16];
    let n = source.len().min(16) as usize;
    source
        .read_at(0, &mut head[..n])
        .map_err(|e| DemuxError::Io {
            file: source.name().to_string(),
            source: e,
        })?;
    if n == 0 {
        return Err(malformed(&*source, "empty file"));
    }
    if mp4::sniff(&head[..n]) {
        return mp4::open_with(source, limits, best_effort);
    }
    Err(DemuxError::Unsupported {
        loc: Location {
            file: source.name().to_string(),
            path: String::new(),
            offset: 0,
        },
        what: "not a recognised container (expected MP4/MOV)".into(),
    })
}

fn malformed(src: &dyn Source, rule: &str) -> DemuxError {
    DemuxError::Malformed {
        loc: Location {
            file: src.name().to_string(),
            path: String::new(),
            offset: 0,
        },
        rule: rule.into(),
    }
}
