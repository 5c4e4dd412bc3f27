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
        for t in &media.tracks {
            // FLV samples are byte ranges of the file.
            let at = |k: usize| t.samples.get(k).map_or(0, |s| s.offset);
            mp4::check_composition(t, media.source.name(), &at)?;
        }
        compact(&mut media);
        return Ok((vec![media], notes));
    }
    if ts::sniff(&*source) {
        return ts::open(source, limits);
    }
    if adts::sniff(&head[..n]) || adts_after_id3(&*source) {
        let parsed = adts::open(&*source, limits)?;
        let (mut media, notes) = adts_media(source, parsed)?;
        compact(&mut media);
        return Ok((vec![media], notes));
    }
    Err(DemuxError::Unsupported {
        loc: Location {
            file: source.name().to_string(),
            path: String::new(),
            offset: 0,
        },
        what: "not a recognised container (expected MP4/MOV, MPEG-TS, FLV or ADTS AAC)".into(),
    })
}

/// True when an ID3v2 tag starts the file and [`adts::sniff`] finds ADTS after it (the first 16
/// bytes do not reach past the tag).
fn adts_after_id3(src: &dyn Source) -> bool {
    let mut head = [0u8; 10];
    if src.len() < 10 || src.read_at(0, &mut head).is_err() || &head[..3] != b"ID3" {
        return false;
    }
    // Syncsafe size (ID3v2.4 §3.1), plus the 10-byte header and a 10-byte footer when flagged.
    let size = head[6..10]
        .iter()
        .fold(0u64, |a, &b| (a << 7) | u64::from(b & 0x7f));
    let need = (10 + size + if head[5] & 0x10 != 0 { 10 } else { 0 } + 16).min(src.len());
    let mut buf = vec![0u8; need as usize];
    src.read_at(0, &mut buf).is_ok() && adts::sniff(&buf)
}

/// An ADTS file as an audio-only [`Media`]: each frame's raw payload is a byte range of the file
/// (the header is not part of the sample), frames one after the other at the sample rate. Its
/// start time is that of its first decoded sample, priming included (no edit list: ADTS says
/// nothing about priming).
fn adts_media(
    source: Arc<dyn Source>,
    a: adts::AdtsMedia,
) -> Result<(Media, Vec<String>), DemuxError> {
    use crate::model::{FourCC, Sample, SampleEntry, SampleTable};
    let name = source.name().to_string();
    let notes = a.warnings.iter().map(|w| format!("{name}: {w}")).collect();
    let rate = a.timescale();
    let frame = a.frame_duration();
    let ch = u16::from(a.config.channels());
    let entry = SampleEntry {
        raw: Bytes::from(crate::mux::mp4::entry::mp4a_entry(ch, rate, &a.config.raw)),
        format: FourCC::new(b"mp4a"),
        codec: CodecConfig::Aac {
            channels: ch,
            sample_rate: rate,
            config: a.config.clone(),
        },
    };
    let mut samples = SampleTable::new();
    samples.reserve(a.frames.len());
    let mut dts = 0i64;
    for f in &a.frames {
        samples
            .push(Sample {
                offset: f.offset,
                dts,
                size: f.size,
                duration: frame,
                cts_offset: 0,
                entry: 0,
                sync: true,
            })
            .map_err(|e| DemuxError::LimitExceeded {
                loc: Location {
                    file: name.clone(),
                    path: String::new(),
                    offset: f.offset,
                },
                what: e.to_string(),
            })?;
        dts += i64::from(frame);
    }
    let track = synth::plain_track(1, false, rate, (0, 0), vec![entry], samples);
    let movie_duration =
        crate::time::rescale(dts, u64::from(rate.max(1)), 1000, crate::time::Rounding::Up)
            .and_then(|d| u64::try_from(d).ok())
            .unwrap_or(0);
    Ok((
        Media {
            source,
            format: crate::model::ContainerFormat::Adts,
            major_brand: None,
            movie_timescale: 1000,
            movie_duration,
            tracks: vec![track],
            udta: None,
            meta: None,
            pssh: Box::new([]),
        },
        notes,
    ))
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
