//! Demuxers: container bytes in, [`Media`] out.
//!
//! Each format lives in its own module and reads through a [`Source`]; [`open`] picks the demuxer by
//! looking at the first bytes.

pub mod adts;
pub mod flv;
pub mod hls;
pub mod mp4;
pub(crate) mod synth;
pub mod ts;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;

use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{CodecConfig, Media};
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
/// last fragment or mdat) and returns what it dropped, in words. A file that [`open_all_with`]
/// reads as several parts gives its first.
pub fn open_with(
    source: Arc<dyn Source>,
    limits: &Limits,
    best_effort: bool,
) -> Result<(Media, Vec<String>), DemuxError> {
    let (medias, notes) = open_all_with(source, limits, best_effort)?;
    match medias.into_iter().next() {
        Some(m) => Ok((m, notes)),
        None => Err(DemuxError::Unsupported {
            loc: Location::default(),
            what: "no media".into(),
        }),
    }
}

/// Demuxes a source into the parts it holds: one [`Media`] for MP4 and FLV, one per run between
/// timestamp jumps for a transport stream (each part joins the next like a separate file).
pub fn open_all_with(
    source: Arc<dyn Source>,
    limits: &Limits,
    best_effort: bool,
) -> Result<(Vec<Media>, Vec<String>), DemuxError> {
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
        let (mut media, notes) = mp4::open_with(source, limits, best_effort)?;
        compact(&mut media);
        return Ok((vec![media], notes));
    }
    if flv::sniff(&head[..n]) {
        let parsed = flv::open(&*source, limits)?;
        let mut notes = Vec::new();
        let mut media = flv::to_media(source, parsed, &mut notes)?;
        compact(&mut media);
        return Ok((vec![media], notes));
    }
    if ts::sniff(&*source) {
        return ts::open(source, limits);
    }
    Err(DemuxError::Unsupported {
        loc: Location {
            file: source.name().to_string(),
            path: String::new(),
            offset: 0,
        },
        what: "not a recognised container (expected MP4/MOV, MPEG-TS or FLV)".into(),
    })
}

/// Gives back the spare capacity of an input's model: a job may hold hundreds of thousands of
/// inputs until planning ends, so every byte kept per input counts (tracks are pushed one by one,
/// fragment sample tables grow per `trun`).
pub fn compact(media: &mut Media) {
    media.tracks.shrink_to_fit();
    for t in &mut media.tracks {
        t.samples.shrink_to_fit();
        t.edits.shrink_to_fit();
        t.sample_entries.shrink_to_fit();
    }
}

/// Makes `media` share the header bytes it has in common with `prev` (usually the previous input:
/// fragments of one recording carry the same sample entries, handler, media header and user
/// data). Equal bytes are replaced by a reference to `prev`'s, so N fragments of one recording keep
/// one copy of them instead of N. Nothing else changes: only byte-equal values are shared.
pub fn share_headers(media: &mut Media, prev: &Media) {
    share_opt(&mut media.udta, &prev.udta);
    share_opt(&mut media.meta, &prev.meta);
    for (t, p) in media.tracks.iter_mut().zip(&prev.tracks) {
        share(&mut t.hdlr, &p.hdlr);
        share_opt(&mut t.media_header, &p.media_header);
        for (e, pe) in t.sample_entries.iter_mut().zip(&p.sample_entries) {
            if e.raw != pe.raw {
                continue;
            }
            e.raw = pe.raw.clone();
            match (&mut e.codec, &pe.codec) {
                (
                    CodecConfig::H264 {
                        config: Some(c), ..
                    },
                    CodecConfig::H264 {
                        config: Some(pc), ..
                    },
                ) => {
                    for (u, pu) in c.sps.iter_mut().zip(&pc.sps) {
                        share(u, pu);
                    }
                    for (u, pu) in c.pps.iter_mut().zip(&pc.pps) {
                        share(u, pu);
                    }
                    share(&mut c.trailing, &pc.trailing);
                }
                (CodecConfig::Aac { config, .. }, CodecConfig::Aac { config: pc, .. }) => {
                    share(&mut config.raw, &pc.raw);
                }
                _ => {}
            }
        }
    }
}

fn share(b: &mut Bytes, prev: &Bytes) {
    if !b.is_empty() && *b == *prev {
        *b = prev.clone();
    }
}

fn share_opt(b: &mut Option<Bytes>, prev: &Option<Bytes>) {
    if let (Some(b), Some(prev)) = (b, prev) {
        share(b, prev);
    }
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
