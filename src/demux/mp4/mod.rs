//! MP4 / QuickTime demuxer (ISO/IEC 14496-12, ISO/IEC 14496-14, QuickTime File Format).
//!
//! Reads only metadata: the top-level boxes are walked with positional reads, `moov` and each `moof`
//! are read into memory (bounded by [`Limits::max_box_size`]) and `mdat` is never touched. The result
//! is a [`Media`] whose samples point at byte ranges of the file.

mod cenc;
pub(crate) mod entry;
mod fragment;
pub(crate) mod reader;
mod stbl;
mod trak;
pub mod tree;

use std::sync::Arc;

use bytes::Bytes;

use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{ContainerFormat, FourCC, Media, Track};
use crate::source::Source;

use fragment::{FragmentState, TrackExtends};
use reader::{BoxHeader, Ctx, MemBox};

/// Top-level box types that identify an ISO BMFF file when sniffing.
pub(crate) const TOP_LEVEL: [&[u8; 4]; 10] = [
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"styp", b"sidx", b"moof", b"pnot",
];

/// True when `head` (the first bytes of a file) looks like ISO BMFF.
pub fn sniff(head: &[u8]) -> bool {
    head.get(4..8)
        .is_some_and(|t| TOP_LEVEL.iter().any(|k| &k[..] == t))
}

/// Reads the box header at `offset` of the file.
fn read_header(src: &dyn Source, offset: u64, ctx: &Ctx) -> Result<BoxHeader, DemuxError> {
    let remaining = src.len() - offset;
    let mut buf = [0u8; 16];
    let n = remaining.min(16) as usize;
    src.read_at(offset, &mut buf[..n]).map_err(|e| io(src, e))?;
    BoxHeader::parse(&buf[..n], offset, remaining, ctx)
}

fn io(src: &dyn Source, e: std::io::Error) -> DemuxError {
    DemuxError::Io {
        file: src.name().to_string(),
        source: e,
    }
}

/// Reads a whole box into memory, within the size limit.
fn read_box(
    src: &dyn Source,
    header: BoxHeader,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<MemBox, DemuxError> {
    if header.size > limits.max_box_size {
        return Err(ctx.limit(
            header.offset,
            format!(
                "box '{}' of {} bytes is larger than the limit of {} bytes",
                header.kind, header.size, limits.max_box_size
            ),
        ));
    }
    // size <= max_box_size, which fits in memory by construction of the limit.
    let mut raw = vec![0u8; header.size as usize];
    src.read_at(header.offset, &mut raw)
        .map_err(|e| io(src, e))?;
    Ok(MemBox {
        header,
        raw: Bytes::from(raw),
    })
}

/// State shared by the whole parse of one file.
pub(crate) struct Scan {
    /// Samples the file may still hold: every sample occupies at least one byte, so no file holds
    /// more samples than bytes. Bounds what count fields can make seam allocate, across all tracks.
    pub budget: u64,
    /// Salvage what is readable from a damaged file instead of failing.
    pub best_effort: bool,
    /// What salvaging dropped, in words.
    pub notes: Vec<String>,
}

/// Parses an MP4 file; with `best_effort`, a truncated last box (an mdat cut short, a final moof
/// cut off) or a sample table that runs past the end of the file is cut back to the last complete
/// sample instead of failing, and what was dropped is returned in words.
pub fn open_with(
    source: Arc<dyn Source>,
    limits: &Limits,
    best_effort: bool,
) -> Result<(Media, Vec<String>), DemuxError> {
    let src = &*source;
    let name = src.name().to_string();
    let top = Ctx::new(&name, "");
    let len = src.len();
    if len == 0 {
        return Err(top.malformed(0, "empty file"));
    }

    let mut major_brand = None;
    let mut scan = Scan {
        budget: len,
        best_effort,
        notes: Vec::new(),
    };
    let mut movie: Option<Movie> = None;
    let mut frags: Option<FragmentState> = None;
    let mut moof_count = 0usize;
    let mut pending_moofs = false;
    // Byte ranges holding metadata (ftyp, moov's boxes, moofs): sample data must not overlap them.
    let mut metadata: Vec<(u64, u64, String)> = Vec::new();
    let mut offset = 0u64;
    while offset < len {
        let header = match read_header(src, offset, &top) {
            Ok(h) => h,
            Err(e) if best_effort && movie.is_some() => {
                // A box cut short by a crash: an mdat is read up to the end of the file, anything
                // else (typically the last moof) is dropped.
                let mut head = [0u8; 8];
                let kind = if len - offset >= 8 && src.read_at(offset, &mut head).is_ok() {
                    FourCC([head[4], head[5], head[6], head[7]])
                } else {
                    FourCC(*b"????")
                };
                if &kind.0 == b"mdat" {
                    scan.notes.push(format!(
                        "{name}: mdat at byte {offset} is cut short; reading it to the end of the file"
                    ));
                    break;
                }
                scan.notes.push(format!(
                    "{name}: dropped the truncated '{kind}' box at byte {offset} ({} bytes left): {e}",
                    len - offset
                ));
                break;
            }
            Err(e) => return Err(e),
        };
        let ctx = top.child(header.kind);
        match &header.kind.0 {
            b"ftyp" => {
                let b = read_box(src, header, limits, &ctx)?;
                let mut f = b.fields(&ctx);
                major_brand = Some(FourCC(f.u32()?.to_be_bytes()));
                metadata.push((header.offset, header.offset + header.size, "ftyp".into()));
            }
            b"moov" => {
                if movie.is_some() {
                    return Err(ctx.malformed(header.offset, "second moov box"));
                }
                let b = read_box(src, header, limits, &ctx)?;
                let m = parse_moov(&b, src, limits, &mut scan, &ctx)?;
                // The moov header and its children, except media data a damaged moov size
                // swallowed (a size of 0 makes the following mdat a child) and padding.
                metadata.push((header.offset, b.body_offset(), "moov".into()));
                let mut kids = b.children(0);
                while let Some(k) = kids.next_box(&ctx)? {
                    if !matches!(&k.header.kind.0, b"mdat" | b"free" | b"skip" | b"wide") {
                        let start = k.header.offset;
                        metadata.push((
                            start,
                            start + k.header.size,
                            format!("moov/{}", k.header.kind),
                        ));
                    }
                }
                if m.fragmented {
                    frags = Some(FragmentState::new(&m.tracks, &m.trex));
                }
                movie = Some(m);
            }
            b"moof" => {
                moof_count += 1;
                if moof_count > limits.max_fragments {
                    return Err(ctx.limit(
                        header.offset,
                        format!("more than {} movie fragments", limits.max_fragments),
                    ));
                }
                let ctx = top.child(format!("moof[{}]", moof_count - 1));
                match (&mut movie, &mut frags) {
                    (Some(m), Some(state)) => {
                        let b = read_box(src, header, limits, &ctx)?;
                        metadata.push((
                            header.offset,
                            header.offset + header.size,
                            ctx.path.clone(),
                        ));
                        fragment::parse_moof(
                            &b,
                            &mut m.tracks,
                            state,
                            &mut scan,
                            src.len(),
                            limits,
                            &ctx,
                        )?;
                    }
                    (Some(_), None) => {
                        return Err(
                            ctx.malformed(header.offset, "moof in a file whose moov has no mvex")
                        )
                    }
                    (None, _) => pending_moofs = true,
                }
            }
            _ => {}
        }
        offset = offset
            .checked_add(header.size)
            .ok_or_else(|| top.malformed(offset, "box size overflows"))?;
    }

    let Some(movie) = movie else {
        return Err(top.malformed(len, "no moov box in the file"));
    };
    if pending_moofs {
        return Err(top.unsupported(0, "movie fragments before the moov box"));
    }
    let format = if movie.fragmented {
        ContainerFormat::FragmentedMp4
    } else {
        ContainerFormat::Mp4
    };
    let mut tracks = movie.tracks;
    if let Some(state) = &mut frags {
        state.check_composition(&tracks)?;
        state.attach_aux(&mut tracks);
    }
    for (t, loc) in tracks.iter_mut().zip(&movie.edit_locs) {
        trak::finish(t, &top)?;
        check_data_outside(t, &metadata, &name)?;
        if let Some(loc) = loc {
            trak::check_edits(t, movie.timescale, loc)?;
        }
    }
    let media = Media {
        source,
        format,
        major_brand,
        movie_timescale: movie.timescale,
        movie_duration: movie.duration,
        tracks,
        udta: movie.udta,
        meta: movie.meta,
        pssh: movie.pssh.into_boxed_slice(),
    };
    Ok((media, scan.notes))
}

/// Sample data must not overlap the file's metadata (ISO/IEC 14496-12 §8.1.1: media data is in
/// mdat boxes). A chunk offset or trun data offset that points into the moov or a moof is damage:
/// the "sample" would be header bytes that the decoder then chokes on, in the joined output too.
/// `metadata` is sorted by start, as the top-level walk finds it.
fn check_data_outside(
    t: &Track,
    metadata: &[(u64, u64, String)],
    file: &str,
) -> Result<(), DemuxError> {
    if metadata.is_empty() {
        return Ok(());
    }
    for (k, s) in t.samples.iter().enumerate() {
        let end = s.offset.saturating_add(u64::from(s.size));
        // The first metadata range ending after the sample starts is the first one it can
        // overlap: the ranges are disjoint and in file order, so their ends are sorted too.
        let i = metadata.partition_point(|(_, stop, _)| *stop <= s.offset);
        let Some((start, _, kind)) = metadata.get(i) else {
            continue;
        };
        if s.size > 0 && *start < end {
            return Err(DemuxError::Malformed {
                loc: Location {
                    file: file.to_string(),
                    path: format!("track {} sample {} (its data)", t.id, k + 1),
                    offset: s.offset,
                },
                rule: format!(
                    "the sample's {} bytes overlap the {kind} box at byte {start}: sample data must lie in media data, not in metadata",
                    s.size
                ),
            });
        }
    }
    Ok(())
}

/// What moov says.
struct Movie {
    timescale: u32,
    duration: u64,
    tracks: Vec<Track>,
    /// Where each track's elst is, for `trak::check_edits`.
    edit_locs: Vec<Option<Location>>,
    trex: Vec<TrackExtends>,
    fragmented: bool,
    udta: Option<Bytes>,
    meta: Option<Bytes>,
    pssh: Vec<Bytes>,
}

/// Movie box (ISO/IEC 14496-12 §8.2.1).
fn parse_moov(
    moov: &MemBox,
    src: &dyn Source,
    limits: &Limits,
    scan: &mut Scan,
    ctx: &Ctx,
) -> Result<Movie, DemuxError> {
    let mut timescale = None;
    let mut duration = 0;
    let mut tracks = Vec::new();
    let mut edit_locs = Vec::new();
    let mut trex = Vec::new();
    let mut fragmented = false;
    let mut udta = None;
    let mut meta = None;
    let mut pssh = Vec::new();
    let mut children = moov.children(0);
    while let Some(b) = children.next_box(ctx)? {
        match &b.header.kind.0 {
            b"mvhd" => {
                let c = ctx.child("mvhd");
                let mut f = b.fields(&c);
                // Movie header (§8.2.2).
                let (version, _) = f.full_header()?;
                if version == 1 {
                    f.skip(16)?;
                    timescale = Some((f.offset(), f.u32()?));
                    duration = f.u64()?;
                } else {
                    f.skip(8)?;
                    timescale = Some((f.offset(), f.u32()?));
                    duration = u64::from(f.u32()?);
                    if duration == u64::from(u32::MAX) {
                        duration = 0;
                    }
                }
            }
            b"trak" => {
                if tracks.len() >= limits.max_tracks {
                    return Err(ctx.limit(
                        b.header.offset,
                        format!("more than {} tracks", limits.max_tracks),
                    ));
                }
                let c = ctx.child(format_args!("trak[{}]", tracks.len()));
                let (t, edit_loc) = trak::parse_trak(&b, src, limits, scan, &c)?;
                tracks.push(t);
                edit_locs.push(edit_loc);
            }
            b"mvex" => {
                fragmented = true;
                trex = fragment::parse_mvex(&b, limits, &ctx.child("mvex"))?;
            }
            // Copies, so the moov buffer is freed once parsing ends.
            b"udta" => udta = Some(Bytes::copy_from_slice(&b.raw)),
            b"meta" => meta = Some(Bytes::copy_from_slice(&b.raw)),
            b"pssh" => {
                // Bounded like tracks: a damaged moov cannot make seam keep millions of them.
                if pssh.len() >= limits.max_tracks {
                    return Err(ctx.limit(b.header.offset, "more pssh boxes than the track limit"));
                }
                pssh.push(Bytes::copy_from_slice(&b.raw));
            }
            _ => {}
        }
    }
    let timescale = match timescale {
        Some((_, 0)) => return Err(ctx.malformed(moov.header.offset, "mvhd timescale is 0")),
        // Signed in QuickTime and in players (see the mdhd rule in trak.rs).
        Some((at, t)) if t > i32::MAX as u32 => {
            return Err(ctx
                .child("mvhd")
                .malformed(at, format!("mvhd timescale {t} is above 2^31-1")))
        }
        Some((_, t)) => t,
        None => return Err(ctx.malformed(moov.header.offset, "moov has no mvhd")),
    };
    Ok(Movie {
        timescale,
        duration,
        tracks,
        edit_locs,
        trex,
        fragmented,
        udta,
        meta,
        pssh,
    })
}

/// The boxes of a file, for tools and tests: type, offset and size of each top-level box.
pub fn top_level_boxes(src: &dyn Source) -> Result<Vec<(FourCC, u64, u64)>, DemuxError> {
    let name = src.name().to_string();
    let ctx = Ctx::new(&name, "");
    let mut out = Vec::new();
    let mut offset = 0;
    while offset < src.len() {
        let h = read_header(src, offset, &ctx)?;
        out.push((h.kind, h.offset, h.size));
        offset += h.size;
    }
    Ok(out)
}

/// The composition rules the MP4 demuxer applies to every input, for a track built from another
/// container (FLV, MPEG-TS): its timing goes into seam's MP4 output unchanged, and seam must be able
/// to read its own output back. A composition offset larger than the track's whole duration
/// ([`stbl::composition_bound`]), or one moving a sample further than a decoder can
/// ([`stbl::reorder_violation`]), is damage (a fuzzed FLV `CompositionTime` of 458 s gave an output
/// whose `trun` seam refused; a TS PTS 2^30 ticks after its DTS did the same). `file_offset`
/// gives sample `k`'s position in the file, which locates the error (a TS sample's `offset` is a
/// position in the converted view, not in the file). A lone sample is not checked: built from a
/// container without durations it lasts 0 ticks, so any composition offset would exceed its
/// "duration".
pub(crate) fn check_composition(
    track: &Track,
    file: &str,
    file_offset: &dyn Fn(usize) -> u64,
) -> Result<(), DemuxError> {
    if track.samples.len() < 2 {
        return Ok(());
    }
    let at = |k: usize| Location {
        file: file.to_string(),
        path: format!("track {} sample {}", track.id, k + 1),
        offset: file_offset(k),
    };
    let bound = stbl::composition_bound(&track.samples);
    if let Some((k, s)) = track
        .samples
        .iter()
        .enumerate()
        .find(|(_, s)| i64::from(s.cts_offset).unsigned_abs() > bound)
    {
        return Err(DemuxError::Malformed {
            loc: at(k),
            rule: format!(
                "composition offset {} of track {} is larger than the track's whole duration of {bound} ticks",
                s.cts_offset, track.id
            ),
        });
    }
    if let Some((k, p)) = stbl::reorder_violation(&track.samples) {
        let cts_offset = track.samples.get(k).map_or(0, |s| s.cts_offset);
        return Err(DemuxError::Malformed {
            loc: at(k),
            rule: format!(
                "composition offset {cts_offset} puts the sample at position {} in presentation order; a decoder moves a sample at most {} places",
                p + 1,
                stbl::MAX_REORDER
            ),
        });
    }
    Ok(())
}
