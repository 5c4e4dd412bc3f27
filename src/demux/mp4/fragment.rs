//! Movie fragments (ISO/IEC 14496-12 §8.8): mvex/trex defaults, moof/traf/tfhd/tfdt/trun.

use super::cenc::{self, AuxBoxes};
use super::reader::{once, Ctx, MemBox};
use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{AuxColumn, Sample, Track};

/// Track extends defaults (§8.8.3).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TrackExtends {
    pub track_id: u32,
    pub sample_description_index: u32,
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
}

/// Per-track state carried from one moof to the next.
pub(super) struct FragmentState {
    trex: Vec<TrackExtends>,
    /// Decode time after the last sample read, per track (used when a traf has no tfdt).
    next_dts: Vec<i64>,
    /// Per track, the largest composition offset read from a trun (magnitude) and where its field
    /// is, checked against the track's whole duration once every fragment is read.
    largest_cts: Vec<Option<(u64, Location)>>,
    sequence: Option<u32>,
    /// Per track, the encryption data read so far: `Some` while every sample of a protected
    /// track has its entry (`cenc`), `None` for clear tracks and once a fragment lacks it.
    aux: Vec<Option<AuxColumn>>,
    /// Per track, the per-sample IV size of its protected sample entry.
    iv_size: Vec<Option<u8>>,
}

impl FragmentState {
    pub fn new(tracks: &[Track], trex: &[TrackExtends]) -> Self {
        FragmentState {
            trex: tracks
                .iter()
                .map(|t| {
                    trex.iter()
                        .find(|x| x.track_id == t.id)
                        .copied()
                        .unwrap_or(TrackExtends {
                            track_id: t.id,
                            sample_description_index: 1,
                            ..Default::default()
                        })
                })
                .collect(),
            next_dts: tracks.iter().map(Track::end_dts).collect(),
            largest_cts: vec![None; tracks.len()],
            sequence: None,
            aux: tracks
                .iter()
                .map(|t| {
                    cenc::protected_iv_size(&t.sample_entries)?;
                    match t.samples.aux() {
                        Some(a) => Some(a.clone()),
                        None if t.samples.is_empty() => Some(AuxColumn::new()),
                        None => None,
                    }
                })
                .collect(),
            iv_size: tracks
                .iter()
                .map(|t| cenc::protected_iv_size(&t.sample_entries))
                .collect(),
        }
    }

    /// After the last fragment: gives each protected track the encryption data of all its
    /// samples, when every fragment carried it (appending samples dropped what moov gave).
    pub fn attach_aux(&mut self, tracks: &mut [Track]) {
        for (t, aux) in tracks.iter_mut().zip(self.aux.iter_mut()) {
            if let Some(a) = aux.take() {
                // A count mismatch leaves the track without: the planner refuses it by name.
                let _ = t.samples.set_aux(a);
            }
        }
    }

    /// After the last fragment: every trun composition offset must fit the track's whole duration
    /// (the rule and its reason: [`super::stbl::composition_bound`]).
    pub fn check_composition(&self, tracks: &[Track]) -> Result<(), DemuxError> {
        for (t, largest) in tracks.iter().zip(&self.largest_cts) {
            let Some((offset, loc)) = largest else {
                continue;
            };
            if let Some((k, p)) = super::stbl::reorder_violation(&t.samples) {
                let (offset, cts_offset) = t
                    .samples
                    .get(k)
                    .map_or((0, 0), |s| (s.offset, s.cts_offset));
                return Err(DemuxError::Malformed {
                    loc: Location {
                        file: loc.file.clone(),
                        path: format!("track {} sample {} (its data)", t.id, k + 1),
                        offset,
                    },
                    rule: format!(
                        "composition offset {cts_offset} puts the sample at position {} in presentation order; a decoder moves a sample at most {} places",
                        p + 1,
                        super::stbl::MAX_REORDER
                    ),
                });
            }
            let bound = super::stbl::composition_bound(&t.samples);
            if *offset > bound {
                return Err(DemuxError::Malformed {
                    loc: loc.clone(),
                    rule: format!(
                        "composition offset {offset} of track {} is larger than the track's whole duration of {bound} ticks",
                        t.id
                    ),
                });
            }
        }
        Ok(())
    }
}

/// Parses `mvex` into its trex boxes.
pub(super) fn parse_mvex(
    mvex: &MemBox,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<Vec<TrackExtends>, DemuxError> {
    let mut out = Vec::new();
    let mut kids = mvex.children(0);
    while let Some(b) = kids.next_box(ctx)? {
        if &b.header.kind.0 != b"trex" {
            continue;
        }
        if out.len() >= limits.max_tracks {
            return Err(ctx.limit(b.header.offset, "more trex boxes than the track limit"));
        }
        let c = ctx.child("trex");
        let mut f = b.fields(&c);
        f.full_header()?;
        out.push(TrackExtends {
            track_id: f.u32()?,
            sample_description_index: f.u32()?,
            duration: f.u32()?,
            size: f.u32()?,
            flags: f.u32()?,
        });
    }
    Ok(out)
}

/// True when sample flags (§8.8.3.1) mark a non-sync sample.
fn is_non_sync(flags: u32) -> bool {
    flags & 0x0001_0000 != 0
}

/// Parses one `moof`, appending its samples to `tracks`.
pub(super) fn parse_moof(
    moof: &MemBox,
    tracks: &mut [Track],
    state: &mut FragmentState,
    scan: &mut super::Scan,
    file_len: u64,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<(), DemuxError> {
    let moof_start = moof.header.offset;
    // Without base-data-offset or default-base-is-moof, the first traf's base is the moof and each
    // later traf's base is the end of the previous traf's data (§8.8.7.1).
    let mut implicit_base = moof_start;
    let mut kids = moof.children(0);
    let mut traf_index = 0;
    while let Some(b) = kids.next_box(ctx)? {
        match &b.header.kind.0 {
            b"mfhd" => {
                let c = ctx.child("mfhd");
                let mut f = b.fields(&c);
                f.full_header()?;
                let seq = f.u32()?;
                state.sequence = Some(seq);
            }
            b"traf" => {
                let c = ctx.child(format_args!("traf[{traf_index}]"));
                traf_index += 1;
                implicit_base = parse_traf(
                    &b,
                    moof,
                    moof_start,
                    implicit_base,
                    tracks,
                    state,
                    scan,
                    file_len,
                    limits,
                    &c,
                )?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Parses one `traf`; returns the end of its data (the implicit base of the next traf).
#[allow(clippy::too_many_arguments)]
fn parse_traf(
    traf: &MemBox,
    moof: &MemBox,
    moof_start: u64,
    implicit_base: u64,
    tracks: &mut [Track],
    state: &mut FragmentState,
    scan: &mut super::Scan,
    file_len: u64,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<u64, DemuxError> {
    let mut kids = traf.children(0);
    let mut tfhd = None;
    let mut tfdt = None;
    let mut truns = Vec::new();
    let mut aux = AuxBoxes::default();
    while let Some(b) = kids.next_box(ctx)? {
        if aux.offer(&b) {
            continue;
        }
        match &b.header.kind.0 {
            b"tfhd" => once(&mut tfhd, b, ctx)?,
            b"tfdt" => once(&mut tfdt, b, ctx)?,
            b"trun" => truns.push(b),
            _ => {}
        }
    }
    let Some(tfhd) = tfhd else {
        return Err(ctx.malformed(traf.header.offset, "traf has no tfhd"));
    };

    // Track fragment header (§8.8.7).
    let hctx = ctx.child("tfhd");
    let mut f = tfhd.fields(&hctx);
    let (_, flags) = f.full_header()?;
    let at = f.offset();
    let track_id = f.u32()?;
    let Some(ti) = tracks.iter().position(|t| t.id == track_id) else {
        return Err(hctx.malformed(at, format!("track_ID {track_id} is not in moov")));
    };
    let trex = state.trex[ti];
    let base = if flags & 0x1 != 0 {
        f.u64()?
    } else if flags & 0x2_0000 != 0 {
        moof_start
    } else {
        implicit_base
    };
    let sdi = if flags & 0x2 != 0 {
        f.u32()?
    } else {
        trex.sample_description_index
    };
    let default_duration = if flags & 0x8 != 0 {
        f.u32()?
    } else {
        trex.duration
    };
    let default_size = if flags & 0x10 != 0 {
        f.u32()?
    } else {
        trex.size
    };
    let default_flags = if flags & 0x20 != 0 {
        f.u32()?
    } else {
        trex.flags
    };
    if sdi == 0 || sdi > u32::from(u16::MAX) {
        return Err(hctx.malformed(at, format!("sample_description_index {sdi} is invalid")));
    }
    let entry = (sdi - 1) as u16;

    // Track fragment decode time (§8.8.12).
    let mut dts = state.next_dts[ti];
    if let Some(b) = tfdt {
        let c = ctx.child("tfdt");
        let mut f = b.fields(&c);
        let (version, _) = f.full_header()?;
        let at = f.offset();
        let t = if version == 1 {
            f.u64()?
        } else {
            u64::from(f.u32()?)
        };
        let base_time = i64::try_from(t)
            .map_err(|_| c.malformed(at, format!("baseMediaDecodeTime {t} is too large")))?;
        // Decode times of a track only go forward: a fragment starting before the end of the
        // samples already read would give two samples one decode time, or reverse their order.
        if base_time < dts && !tracks[ti].samples.is_empty() {
            if !scan.best_effort {
                return Err(c.malformed(
                    at,
                    format!(
                        "baseMediaDecodeTime {t} is before the end of track {}'s earlier samples ({dts})",
                        tracks[ti].id
                    ),
                ));
            }
            let last_dts = tracks[ti].samples.last().map_or(i64::MIN, |s| s.dts);
            if base_time > last_dts {
                // Best effort: the tfdt falls inside the last sample, so that sample's duration
                // is what is damaged (a duration of days, say): cut it to end at the tfdt, as
                // players do by trusting the tfdt.
                if let Some(last) = tracks[ti].samples.last_dts() {
                    tracks[ti]
                        .samples
                        .set_last_duration(u32::try_from(base_time - last).unwrap_or(u32::MAX));
                }
                scan.notes.push(format!(
                    "{}: {} at byte {at}: baseMediaDecodeTime {t} is before the end of track {}'s earlier samples ({dts}); the last earlier sample's duration is cut to end there",
                    c.file, c.path, tracks[ti].id
                ));
                dts = base_time;
            } else {
                // Best effort: the tfdt would reorder samples; the fragment follows the earlier
                // ones instead (tfdt ignored).
                scan.notes.push(format!(
                    "{}: {} at byte {at}: baseMediaDecodeTime {t} goes back before the end of track {}'s earlier samples ({dts}); ignored, the fragment follows them",
                    c.file, c.path, tracks[ti].id
                ));
            }
        } else {
            dts = base_time;
        }
    }

    let first_new = tracks[ti].samples.len();
    let traf_aux = TrafAux {
        boxes: &aux,
        moof,
        base,
        first_new,
    };
    let track = &mut tracks[ti];
    let mut data_end = base;
    let mut cursor = base;
    for (ri, trun) in truns.iter().enumerate() {
        // Track fragment run (§8.8.8).
        let c = ctx.child(format_args!("trun[{ri}]"));
        let mut f = trun.fields(&c);
        let (version, flags) = f.full_header()?;
        let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
            .iter()
            .filter(|&&bit| flags & bit != 0)
            .count();
        let count_at = f.offset();
        let count = f.u32()? as usize;
        let opt = 4 * usize::from(flags & 0x1 != 0) + 4 * usize::from(flags & 0x4 != 0);
        if count.saturating_mul(per_sample) > f.remaining().saturating_sub(opt) {
            return Err(c.malformed(
                count_at,
                format!("{count} samples but {} bytes left", f.remaining()),
            ));
        }
        // No file holds more samples than bytes; checked before reserving space for them.
        if count as u64 > scan.budget {
            return Err(c.malformed(
                count_at,
                format!("{count} more samples than the {file_len}-byte file can hold"),
            ));
        }
        scan.budget -= count as u64;
        if track.samples.len().saturating_add(count) > limits.max_samples {
            return Err(c.limit(
                count_at,
                format!(
                    "more than {} samples in track {}",
                    limits.max_samples, track.id
                ),
            ));
        }
        if flags & 0x1 != 0 {
            let at = f.offset();
            let off = f.i32()?;
            cursor = base.checked_add_signed(i64::from(off)).ok_or_else(|| {
                c.malformed(at, format!("data_offset {off} points before the file"))
            })?;
        }
        let first_flags = if flags & 0x4 != 0 {
            Some(f.u32()?)
        } else {
            None
        };
        for i in 0..count {
            let duration = if flags & 0x100 != 0 {
                f.u32()?
            } else {
                default_duration
            };
            let size = if flags & 0x200 != 0 {
                f.u32()?
            } else {
                default_size
            };
            let mut sflags = if flags & 0x400 != 0 {
                f.u32()?
            } else {
                default_flags
            };
            if i == 0 {
                if let Some(ff) = first_flags {
                    sflags = ff;
                }
            }
            let cts_offset = if flags & 0x800 != 0 {
                let at = f.offset();
                let v = f.u32()?;
                if version == 0 && v > i32::MAX as u32 {
                    return Err(c.malformed(at, format!("composition offset {v} does not fit")));
                }
                // Version 1 offsets are signed: the same bits read as i32.
                let v = v as i32;
                let magnitude = i64::from(v).unsigned_abs();
                if state.largest_cts[ti]
                    .as_ref()
                    .is_none_or(|(m, _)| magnitude > *m)
                {
                    state.largest_cts[ti] = Some((magnitude, c.loc(at)));
                }
                v
            } else {
                0
            };
            let end = cursor.saturating_add(u64::from(size));
            if end > file_len && scan.best_effort {
                // Best effort: the fragment was cut short; keep the samples before the cut. The
                // durations of the dropped samples are still in the trun, and a later fragment
                // without tfdt starts after them: summing them keeps its decode times where the
                // file puts them instead of pulling them back into the hole (where they would
                // be presented before frames already shown).
                let mut after = dts.saturating_add(i64::from(duration));
                for _ in i + 1..count {
                    let d = if flags & 0x100 != 0 {
                        f.u32()?
                    } else {
                        default_duration
                    };
                    f.skip(per_sample - 4 * usize::from(flags & 0x100 != 0))?;
                    after = after.saturating_add(i64::from(d));
                }
                scan.notes.push(format!(
                    "{}: {}: dropped {} of {count} samples of track {} that lie past the end of the file",
                    c.file,
                    c.path,
                    count - i,
                    track.id
                ));
                state.next_dts[ti] = after;
                read_traf_aux(&traf_aux, track, ti, state, true, limits, ctx)?;
                return Ok(data_end.max(cursor));
            }
            if end > file_len {
                return Err(c.malformed(
                    trun.header.offset,
                    format!(
                        "sample {i} at byte {cursor} of {size} bytes ends past the end of the {file_len}-byte file"
                    ),
                ));
            }
            track
                .samples
                .push(Sample {
                    offset: cursor,
                    dts,
                    size,
                    duration,
                    cts_offset,
                    entry,
                    sync: !is_non_sync(sflags),
                })
                .map_err(|e| c.limit(trun.header.offset, e.to_string()))?;
            cursor = end;
            dts = dts.checked_add(i64::from(duration)).ok_or_else(|| {
                c.malformed(trun.header.offset, "decode time overflows".to_string())
            })?;
        }
        data_end = data_end.max(cursor);
    }
    state.next_dts[ti] = dts;
    read_traf_aux(&traf_aux, track, ti, state, false, limits, ctx)?;
    Ok(data_end)
}

/// A traf's encryption boxes and where its samples start in the track.
struct TrafAux<'a> {
    boxes: &'a AuxBoxes,
    moof: &'a MemBox,
    /// The traf's base data offset (saio offsets count from it).
    base: u64,
    /// The track's sample count before this traf.
    first_new: usize,
}

/// Appends the encryption data of a traf's samples to its protected track's (ISO/IEC 23001-7
/// §7.2: `senc`, else `saiz`/`saio` pointing into the moof). `cut`: best effort dropped samples
/// of this traf, so the boxes may describe more samples than were kept.
fn read_traf_aux(
    t: &TrafAux,
    track: &Track,
    ti: usize,
    state: &mut FragmentState,
    cut: bool,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<(), DemuxError> {
    let Some(iv_size) = state.iv_size[ti] else {
        return Ok(());
    };
    cenc::refuse_seig(t.boxes, ctx)?;
    let Some(col) = state.aux[ti].as_mut() else {
        return Ok(());
    };
    let n = track.samples.len() - t.first_new;
    if n == 0 {
        return Ok(());
    }
    let found = match &t.boxes.senc {
        Some(senc) => {
            cenc::read_senc(senc, iv_size, n, cut, col, ctx)?;
            true
        }
        None => cenc::read_from_moof(t.boxes, t.moof, t.base, n, cut, limits, col, ctx)?,
    };
    if !found {
        // This fragment's samples have no encryption data: the track cannot be copied.
        state.aux[ti] = None;
    }
    Ok(())
}
