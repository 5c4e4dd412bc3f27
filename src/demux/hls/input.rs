//! A local HLS playlist as stitch inputs (RFC 8216): its segments read back to back as one stream
//! per run between `#EXT-X-DISCONTINUITY` tags, each run then joined like a separate file.
//!
//! A run is a [`ConcatSource`] of its segments (each limited to its `#EXT-X-BYTERANGE`), after the
//! run's `#EXT-X-MAP` initialization section for fMP4 segments: TS segments concatenated are one
//! transport stream, and an init section followed by `moof`/`mdat` segments is one fragmented MP4
//! file, so the demuxers read a run as they read a file, and a segment cut inside a PES or a GOP
//! continues in the next. A master playlist gives its highest-bandwidth variant, or the one
//! [`HlsOptions::variant`] names. URLs are always refused and paths out of the playlist's folder
//! unless [`HlsOptions::allow_any_path`] (see [`super::playlist::resolve_uri`]).

use std::path::Path;
use std::sync::Arc;

use super::playlist::{load, ByteRange, MediaPlaylist, Playlist, ResolveOptions};
use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::source::{ConcatSource, FileSource, RangeSource, Source};

/// How playlists are read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HlsOptions {
    /// Which variant of a master playlist: its 0-based index in bandwidth order (lowest first);
    /// `None` for the highest bandwidth.
    pub variant: Option<usize>,
    /// Follow segment paths outside the playlist's folder (absolute, `..`, symbolic links).
    pub allow_any_path: bool,
}

/// True when `path` names a playlist (`.m3u8`/`.m3u`, any case) or starts with `#EXTM3U`.
pub fn is_playlist(path: &Path) -> bool {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(ext.as_deref(), Some("m3u8" | "m3u")) {
        return true;
    }
    let mut head = [0u8; 7];
    std::fs::File::open(path)
        .and_then(|f| std::os::unix::fs::FileExt::read_exact_at(&f, &mut head, 0))
        .is_ok_and(|_| &head == b"#EXTM3U")
}

/// A playlist's run sources and notes.
pub type Expanded = (Vec<Arc<dyn Source>>, Vec<String>);

/// The sources of a playlist's runs, in order, with notes (playlist warnings, the variant picked).
pub fn expand(path: &Path, limits: &Limits, opts: &HlsOptions) -> Result<Expanded, DemuxError> {
    let resolve = ResolveOptions {
        allow_any_path: opts.allow_any_path,
    };
    let name = path.display().to_string();
    let mut notes = Vec::new();
    let media = match load(path, limits, &resolve)? {
        Playlist::Media(m) => m,
        Playlist::Master(master) => {
            let n = master.variants.len();
            let k = opts.variant.unwrap_or(n.saturating_sub(1));
            let Some(v) = master.variants.get(k) else {
                return Err(DemuxError::Unsupported {
                    loc: Location {
                        file: name,
                        path: String::new(),
                        offset: 0,
                    },
                    what: format!("variant {k} asked for; the master playlist has {n}"),
                });
            };
            notes.push(format!(
                "{name}: variant {k} of {n} ({} b/s{}): {}",
                v.bandwidth,
                v.resolution
                    .map_or(String::new(), |(w, h)| format!(", {w}x{h}")),
                v.path.display()
            ));
            match load(&v.path, limits, &resolve)? {
                Playlist::Media(m) => m,
                Playlist::Master(_) => {
                    return Err(DemuxError::Unsupported {
                        loc: Location {
                            file: v.path.display().to_string(),
                            path: String::new(),
                            offset: 0,
                        },
                        what: "a master playlist naming another master playlist".into(),
                    })
                }
            }
        }
    };
    notes.extend(media.warnings.iter().map(|w| format!("{name}: {w}")));
    Ok((runs(&name, &media)?, notes))
}

/// One source per run of segments between discontinuities (or init section changes).
fn runs(name: &str, m: &MediaPlaylist) -> Result<Vec<Arc<dyn Source>>, DemuxError> {
    let mut out = Vec::new();
    let mut run: Vec<Arc<dyn Source>> = Vec::new();
    let mut run_map: Option<usize> = None;
    let mut first_seq = 0u64;
    let flush = |run: &mut Vec<Arc<dyn Source>>, first: u64, last: u64, out: &mut Vec<_>| {
        if run.is_empty() {
            return;
        }
        let parts = std::mem::take(run);
        let label = format!("{name} [segments {first}..={last}]");
        out.push(Arc::new(ConcatSource::named(parts, label)) as Arc<dyn Source>);
    };
    let mut last_seq = 0u64;
    for s in &m.segments {
        if s.discontinuity_before || s.map != run_map || run.is_empty() {
            flush(&mut run, first_seq, last_seq, &mut out);
            first_seq = s.sequence;
            run_map = s.map;
            if let Some(map) = s.map.and_then(|k| m.maps.get(k)) {
                run.push(open(&map.path, map.byte_range)?);
            }
        }
        run.push(open(&s.path, s.byte_range)?);
        last_seq = s.sequence;
    }
    flush(&mut run, first_seq, last_seq, &mut out);
    Ok(out)
}

fn open(path: &Path, range: Option<ByteRange>) -> Result<Arc<dyn Source>, DemuxError> {
    let file = FileSource::open(path).map_err(|e| DemuxError::Io {
        file: path.display().to_string(),
        source: e,
    })?;
    let file: Arc<dyn Source> = Arc::new(file);
    Ok(match range {
        Some(r) => Arc::new(RangeSource::new(file, r.offset, r.len).map_err(|e| {
            DemuxError::Malformed {
                loc: Location {
                    file: path.display().to_string(),
                    path: "EXT-X-BYTERANGE".into(),
                    offset: r.offset,
                },
                rule: e.to_string(),
            }
        })?),
        None => file,
    })
}
