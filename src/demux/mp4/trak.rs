//! Track box and its descendants down to the sample table (ISO/IEC 14496-12 §8.3-§8.7).

use super::cenc;
use super::entry;
use super::reader::{once, Ctx, MemBox};
use super::stbl;
use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{Edit, FourCC, Track, TrackHeader, TrackKind};
use crate::source::Source;

/// Parses one `trak`; also returns where its edit list is, for [`check_edits`] once every
/// fragment is read.
pub(super) fn parse_trak(
    trak: &MemBox,
    src: &dyn Source,
    limits: &Limits,
    scan: &mut super::Scan,
    ctx: &Ctx,
) -> Result<(Track, Option<Location>), DemuxError> {
    let mut header = None;
    let mut id = 0;
    let mut edits = Vec::new();
    let mut edit_loc = None;
    let mut mdia = None;
    let (mut tkhd, mut edts) = (None, None);
    let mut children = trak.children(0);
    while let Some(b) = children.next_box(ctx)? {
        match &b.header.kind.0 {
            b"tkhd" => once(&mut tkhd, b, ctx)?,
            b"edts" => once(&mut edts, b, ctx)?,
            b"mdia" => once(&mut mdia, b, ctx)?,
            _ => {}
        }
    }
    for b in tkhd.into_iter().chain(edts) {
        match &b.header.kind.0 {
            b"tkhd" => {
                let (i, h) = parse_tkhd(&b, &ctx.child("tkhd"))?;
                id = i;
                header = Some(h);
            }
            b"edts" => {
                let c = ctx.child("edts");
                let mut kids = b.children(0);
                let mut elst = None;
                while let Some(e) = kids.next_box(&c)? {
                    if &e.header.kind.0 == b"elst" {
                        once(&mut elst, e, &c)?;
                    }
                }
                if let Some(e) = elst {
                    let ec = c.child("elst");
                    edits = parse_elst(&e, limits, &ec)?;
                    edit_loc = Some(ec.loc(e.header.offset));
                }
            }
            _ => {}
        }
    }
    let Some(header) = header else {
        return Err(ctx.malformed(trak.header.offset, "trak has no tkhd"));
    };
    let Some(mdia) = mdia else {
        return Err(ctx.malformed(trak.header.offset, "trak has no mdia"));
    };
    let mctx = ctx.child("mdia");
    let mut timescale = None;
    let mut declared: Option<(u64, Location)> = None; // mdhd duration and where it is
    let mut language = 0;
    let mut hdlr = None;
    let mut minf = None;
    let mut kids = mdia.children(0);
    while let Some(b) = kids.next_box(&mctx)? {
        match &b.header.kind.0 {
            b"mdhd" => {
                // Media header (§8.4.2); one per mdia, as for [`once`].
                if timescale.is_some() {
                    return Err(mctx.malformed(
                        b.header.offset,
                        "second 'mdhd' box (only one is allowed here)",
                    ));
                }
                let c = mctx.child("mdhd");
                let mut f = b.fields(&c);
                let (version, _) = f.full_header()?;
                f.skip(if version == 1 { 16 } else { 8 })?;
                let at = f.offset();
                let ts = f.u32()?;
                if ts == 0 {
                    return Err(c.malformed(at, "mdhd timescale is 0"));
                }
                // QuickTime defines the time scale as a signed 32-bit value and players read it
                // so (ffmpeg: "Invalid mdhd time scale", then 1 tick per second); a track
                // timescale becomes the output's movie timescale, which would then be unreadable.
                if ts > i32::MAX as u32 {
                    return Err(c.malformed(at, format!("mdhd timescale {ts} is above 2^31-1")));
                }
                timescale = Some(ts);
                let at = f.offset();
                let d = if version == 1 {
                    f.u64()?
                } else {
                    // All ones: "unknown" (§8.4.2.3).
                    Some(f.u32()?)
                        .filter(|&d| d != u32::MAX)
                        .map_or(0, u64::from)
                };
                declared = Some((d, c.loc(at)));
                language = f.u16()?;
            }
            b"hdlr" => once(&mut hdlr, b, &mctx)?,
            b"minf" => once(&mut minf, b, &mctx)?,
            _ => {}
        }
    }
    let (Some(timescale), Some(hdlr), Some(minf)) = (timescale, hdlr, minf) else {
        return Err(mctx.malformed(mdia.header.offset, "mdia needs mdhd, hdlr and minf"));
    };
    // Handler reference (§8.4.3): pre_defined, then handler_type.
    let hctx = mctx.child("hdlr");
    let mut f = hdlr.fields(&hctx);
    f.full_header()?;
    f.skip(4)?;
    let handler = FourCC(f.u32()?.to_be_bytes());
    let kind = match &handler.0 {
        b"vide" => TrackKind::Video,
        b"soun" => TrackKind::Audio,
        _ => TrackKind::Other,
    };

    let ictx = mctx.child("minf");
    let mut media_header = None;
    let mut stbl_box = None;
    let mut kids = minf.children(0);
    while let Some(b) = kids.next_box(&ictx)? {
        match &b.header.kind.0 {
            b"vmhd" | b"smhd" | b"hmhd" | b"nmhd" | b"sthd" | b"gmhd" => {
                media_header = Some(bytes::Bytes::copy_from_slice(&b.raw))
            }
            b"dinf" => check_dinf(&b, &ictx.child("dinf"))?,
            b"stbl" => once(&mut stbl_box, b, &ictx)?,
            _ => {}
        }
    }
    let Some(stbl_box) = stbl_box else {
        return Err(ictx.malformed(minf.header.offset, "minf has no stbl"));
    };
    let sctx = ictx.child("stbl");
    let mut table = stbl::parse_stbl(&stbl_box, src.len(), limits, scan, &sctx)?;
    let sample_entries = entry::parse_stsd(&table.stsd, limits, &sctx.child("stsd"))?;
    if let Some(iv_size) = cenc::protected_iv_size(&sample_entries) {
        read_aux(&mut table, iv_size, src, limits, &sctx)?;
    }
    if let Some((d, loc)) = &declared {
        check_declared_duration(&table.samples, *d, loc, table.truncated)?;
    }
    let track = Track {
        id,
        kind,
        handler,
        timescale,
        language,
        header,
        // Copies of kept boxes let the moov buffer go once parsing ends.
        hdlr: bytes::Bytes::copy_from_slice(&hdlr.raw),
        media_header,
        sample_entries,
        edits,
        samples: table.samples,
    };
    Ok((track, edit_loc))
}

/// Reads the per-sample encryption data of a protected track's sample table: from `senc` when
/// there is one (ffmpeg writes it in `stbl`), else from where `saio` points. A table without either
/// keeps no auxiliary information, and the planner refuses the track.
fn read_aux(
    table: &mut stbl::Table,
    iv_size: u8,
    src: &dyn Source,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<(), DemuxError> {
    cenc::refuse_seig(&table.aux, ctx)?;
    let n = table.samples.len();
    if n == 0 {
        return Ok(());
    }
    let mut col = crate::model::AuxColumn::new();
    let cut = table.truncated;
    let found = match &table.aux.senc {
        Some(senc) => {
            cenc::read_senc(senc, iv_size, n, cut, &mut col, ctx)?;
            true
        }
        None => cenc::read_from_file(&table.aux, src, n, cut, limits, &mut col, ctx)?,
    };
    if found {
        table
            .samples
            .set_aux(col)
            .map_err(|e| ctx.malformed(0, e.to_string()))?;
    }
    Ok(())
}

/// The samples' durations (stts) must add up to about the duration mdhd declares, in the same
/// ticks (§8.4.2.3: the duration of the media). Off by more than twice (plus one longest sample),
/// the stts deltas are damaged: a changed delta makes the frames seconds apart, or a few ticks, and
/// the joined output shows the damage (inputs overlapping, frames a player collapses). A declared
/// duration of 0 (fragmented files, unknown) is not checked; when best effort cut samples off
/// (`truncated`), only media longer than declared is.
fn check_declared_duration(
    samples: &crate::model::SampleTable,
    declared: u64,
    loc: &Location,
    truncated: bool,
) -> Result<(), DemuxError> {
    let (Some(first), Some(last)) = (samples.first(), samples.last()) else {
        return Ok(());
    };
    if declared == 0 {
        return Ok(());
    }
    let sum = i128::from(last.dts) + i128::from(last.duration) - i128::from(first.dts);
    let longest = samples
        .iter()
        .map(|s| i128::from(s.duration))
        .max()
        .unwrap_or(0);
    let declared = i128::from(declared);
    let rule = if sum > 2 * declared + longest {
        format!("the sample durations (stts) add up to {sum} ticks, more than twice the {declared} ticks mdhd declares")
    } else if !truncated && declared > 2 * sum + longest {
        format!(
            "mdhd declares {declared} ticks but the sample durations (stts) add up to only {sum}"
        )
    } else {
        return Ok(());
    };
    Err(DemuxError::Malformed {
        loc: loc.clone(),
        rule,
    })
}

/// The media from the edit's start on must not last more than twice what the edit list presents.
///
/// Edit durations are in movie ticks (mvhd), sample durations in media ticks (mdhd). When the
/// media's samples span more than twice what the edit presents, one of the two
/// timescales (or the sample durations) is wrong: a real edit trims a few frames of priming or
/// padding, not half the track. The samples the edit never presents would be placed on top of the
/// next input's. So it is `Malformed`, located at the `elst`. (The other way round is allowed: a
/// track whose media ends long before its edit is what a recording whose video stopped early
/// looks like, and seam writes such edits itself.) Tracks without samples (an init segment's) or
/// whose edit runs "to the end of the media" (duration 0) have nothing to compare.
pub(super) fn check_edits(
    track: &Track,
    movie_timescale: u32,
    loc: &Location,
) -> Result<(), DemuxError> {
    let mut edits = track.edits.iter().skip_while(|e| e.is_empty());
    let Some(first) = edits.next() else {
        return Ok(());
    };
    if first.segment_duration == 0 || track.samples.is_empty() {
        return Ok(());
    }
    let total = edits.fold(first.segment_duration, |acc, e| {
        acc.saturating_add(e.segment_duration)
    });
    // 128-bit: every product below fits, whatever the file says.
    let presented =
        i128::from(total) * i128::from(track.timescale) / i128::from(movie_timescale.max(1));
    // The media's length by sample start times: one absurd duration of the last sample (a
    // damaged or fuzzed trun, which seam's output then keeps) does not make the media long; many
    // samples presented after the edit do. The first sample's duration is the slack that keeps
    // one- and two-sample tracks valid.
    let (mut min_cts, mut max_cts, mut media_end) = (i64::MAX, i64::MIN, i64::MIN);
    for s in track.samples.iter() {
        min_cts = min_cts.min(s.cts());
        max_cts = max_cts.max(s.cts());
        media_end = media_end.max(s.cts().saturating_add(i64::from(s.duration)));
    }
    // An edit that starts at or after the end of the media presents none of it: the planner
    // would fill the distance with silence (minutes of it for a damaged media_time).
    if first.media_time >= media_end {
        return Err(DemuxError::Malformed {
            loc: loc.clone(),
            rule: format!(
                "edit list starts at media time {} of track {}, at or after the end of its media ({media_end})",
                first.media_time, track.id
            ),
        });
    }
    let slack = track.samples.first().map_or(0, |s| i128::from(s.duration));
    // Measured from where the edit starts: frames before it are decode-only pre-roll, as long as
    // the GOP they open (`ffmpeg -ss 8 -t 1 -c copy` of a 10 s GOP keeps 8 s of them), not damage.
    let media = i128::from(max_cts) - i128::from(min_cts.max(first.media_time));
    if media <= 2 * presented + slack {
        return Ok(());
    }
    let seconds = |ticks: i128| ticks as f64 / f64::from(track.timescale);
    Err(DemuxError::Malformed {
        loc: loc.clone(),
        rule: format!(
            "edit list presents {:.3} s of track {} but its media lasts {:.3} s (movie timescale {movie_timescale}, media timescale {})",
            seconds(presented),
            track.id,
            seconds(media),
            track.timescale
        ),
    })
}

/// Checks after all fragments are read: every sample names an existing sample entry.
pub(super) fn finish(track: &mut Track, ctx: &Ctx) -> Result<(), DemuxError> {
    let n = track.sample_entries.len();
    if let Some(s) = track.samples.iter().find(|s| usize::from(s.entry) >= n) {
        return Err(ctx.malformed(
            s.offset,
            format!(
                "track {}: a sample uses sample description {} but stsd has {n}",
                track.id,
                u32::from(s.entry) + 1
            ),
        ));
    }
    Ok(())
}

/// Track header (§8.3.2).
fn parse_tkhd(b: &MemBox, ctx: &Ctx) -> Result<(u32, TrackHeader), DemuxError> {
    let mut f = b.fields(ctx);
    let (version, flags) = f.full_header()?;
    f.skip(if version == 1 { 16 } else { 8 })?;
    let id = f.u32()?;
    f.skip(4)?; // reserved
    f.skip(if version == 1 { 8 } else { 4 })?; // duration: recomputed on output
    f.skip(8)?; // reserved
    let layer = f.u16()? as i16;
    let alternate_group = f.u16()? as i16;
    let volume = f.u16()? as i16;
    f.skip(2)?;
    let mut matrix = [0i32; 9];
    for m in &mut matrix {
        *m = f.i32()?;
    }
    let width = f.u32()?;
    let height = f.u32()?;
    Ok((
        id,
        TrackHeader {
            flags,
            layer,
            alternate_group,
            volume,
            matrix,
            width,
            height,
        },
    ))
}

/// Edit list (§8.6.6).
fn parse_elst(b: &MemBox, limits: &Limits, ctx: &Ctx) -> Result<Vec<Edit>, DemuxError> {
    let mut f = b.fields(ctx);
    let (version, _) = f.full_header()?;
    let entry = if version == 1 { 20 } else { 12 };
    let n = f.count(entry, limits.max_edits, "edit list entries")?;
    let mut edits = Vec::with_capacity(n);
    for _ in 0..n {
        let (segment_duration, media_time) = if version == 1 {
            (f.u64()?, f.u64()? as i64)
        } else {
            (u64::from(f.u32()?), i64::from(f.i32()?))
        };
        let media_rate = f.i32()?;
        if media_time < -1 {
            return Err(f.malformed(format!("edit media_time {media_time} is below -1")));
        }
        edits.push(Edit {
            segment_duration,
            media_time,
            media_rate,
        });
    }
    Ok(edits)
}

/// Data information (§8.7.1): seam reads sample data only from the file itself.
fn check_dinf(b: &MemBox, ctx: &Ctx) -> Result<(), DemuxError> {
    let mut kids = b.children(0);
    while let Some(d) = kids.next_box(ctx)? {
        if &d.header.kind.0 != b"dref" {
            continue;
        }
        let c = ctx.child("dref");
        let mut inner = d.children(8);
        while let Some(e) = inner.next_box(&c)? {
            let ec = c.child(e.header.kind);
            let mut f = e.fields(&ec);
            let (_, flags) = f.full_header()?;
            if flags & 1 == 0 {
                return Err(ec.unsupported(
                    e.header.offset,
                    "sample data in another file (external data reference)",
                ));
            }
        }
    }
    Ok(())
}
