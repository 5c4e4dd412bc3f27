//! Fragmented MP4 layout (ISO/IEC 14496-12 §8.8): an initialization moov with mvex, then one
//! moof + mdat per video GOP (or per second of audio when there is no video), cut further so no
//! fragment's media data passes [`FragmentedOptions::max_fragment_bytes`].
//!
//! A GOP cut by size continues in fragments that start with a non-sync sample. Every trun here
//! carries per-sample flags (`sample_flags_present`), and no `first_sample_flags` (which would
//! override the first sample's flags), so each fragment's first sample is marked sync or
//! non-sync by its own flags: a reader seeking to a fragment boundary sees that a continuation
//! fragment is no random access point.

use bytes::Bytes;

use super::boxes::BoxWriter;
use super::ftyp;
use super::moov::{dinf, edts, mdhd, media_header, mvhd, stsd, tkhd};
use crate::error::MuxError;
use crate::model::TrackKind;
use crate::mux::{Layout, Slice};
use crate::plan::{OutTrack, Payload, StitchPlan};

/// Sample flags (§8.8.3.1): a sync sample depends on no other.
const SYNC_FLAGS: u32 = 0x0200_0000;
/// A non-sync sample depends on others and is marked non-sync.
const NON_SYNC_FLAGS: u32 = 0x0101_0000;

/// Options for [`layout_fragmented_with`].
#[derive(Debug, Clone, Copy)]
pub struct FragmentedOptions {
    /// A new fragment starts before the sample that would make the current fragment's media data
    /// larger than this (a fragment always holds at least one sample of its lead track). Keeps
    /// every `trun` data offset far inside its signed 32-bit field and lets players buffer one
    /// fragment at a time.
    pub max_fragment_bytes: u64,
}

impl Default for FragmentedOptions {
    fn default() -> Self {
        FragmentedOptions {
            max_fragment_bytes: 64 << 20,
        }
    }
}

/// Builds the fragmented layout of `plan` with the default options.
pub fn layout_fragmented(plan: &StitchPlan) -> Result<Layout, MuxError> {
    layout_fragmented_with(plan, &FragmentedOptions::default())
}

/// Builds the fragmented layout of `plan`.
pub fn layout_fragmented_with(
    plan: &StitchPlan,
    options: &FragmentedOptions,
) -> Result<Layout, MuxError> {
    let mut layout = Layout::default();
    let mut head = ftyp(true);
    head.extend_from_slice(&init_moov(plan)?);
    layout.push(Slice::Bytes(Bytes::from(head)));

    let ranges = fragment_ranges(plan, options.max_fragment_bytes);
    for (seq, fr) in ranges.iter().enumerate() {
        let seq = u32::try_from(seq + 1)
            .map_err(|_| MuxError::TooLarge("more than 2^32-1 fragments".into()))?;
        write_fragment(plan, fr, seq, &mut layout)?;
    }
    Ok(layout)
}

/// A track number (1-based track_ID) for track index `i`.
fn track_id(i: usize) -> Result<u32, MuxError> {
    u32::try_from(i + 1).map_err(|_| MuxError::TooLarge("too many tracks".into()))
}

fn init_moov(plan: &StitchPlan) -> Result<Vec<u8>, MuxError> {
    let mut w = BoxWriter::new();
    w.start(b"moov");
    mvhd(
        &mut w,
        plan.movie_timescale,
        plan.duration,
        track_id(plan.tracks.len())?,
    );
    // Protection system headers (ISO/IEC 23001-7 §8.1), as the inputs had them.
    for p in &plan.pssh {
        w.bytes(p);
    }
    for (i, t) in plan.tracks.iter().enumerate() {
        w.start(b"trak");
        tkhd(&mut w, t, track_id(i)?);
        edts(&mut w, &t.edits);
        w.start(b"mdia");
        mdhd(&mut w, t, 0);
        w.bytes(&t.hdlr);
        w.start(b"minf");
        media_header(&mut w, t);
        dinf(&mut w);
        w.start(b"stbl");
        stsd(&mut w, t)?;
        for kind in [b"stts", b"stsc", b"stco"] {
            w.start_full(kind, 0, 0);
            w.u32(0);
            w.end();
        }
        w.start_full(b"stsz", 0, 0);
        w.u32(0);
        w.u32(0);
        w.end();
        w.end(); // stbl
        w.end(); // minf
        w.end(); // mdia
        w.end(); // trak
    }
    w.start(b"mvex");
    w.start_full(b"mehd", 1, 0);
    w.u64(plan.duration);
    w.end();
    for i in 0..plan.tracks.len() {
        w.start_full(b"trex", 0, 0);
        w.u32(track_id(i)?);
        w.u32(1);
        w.u32(0);
        w.u32(0);
        w.u32(0);
        w.end();
    }
    w.end(); // mvex
    if let Some(u) = &plan.udta {
        w.bytes(u);
    }
    w.end();
    Ok(w.into_inner())
}

/// Per fragment, the sample range of each track.
type FragmentRange = Vec<std::ops::Range<usize>>;

/// Splits the tracks into fragments at video sync samples (or about every second without video),
/// and before any lead sample that would take a fragment's media data past `max_bytes`. Other
/// tracks' samples go to the fragment whose lead samples they precede in decode time.
fn fragment_ranges(plan: &StitchPlan, max_bytes: u64) -> Vec<FragmentRange> {
    let lead = plan
        .tracks
        .iter()
        .position(|t| t.kind == TrackKind::Video)
        .unwrap_or(0);
    let Some(lt) = plan.tracks.get(lead) else {
        return Vec::new();
    };
    let n = lt.samples.len();
    // Whether other-track sample `s` of track `t` decodes before lead decode time `lead_dts`
    // (compared across timescales exactly).
    let before = |t: &crate::plan::OutTrack, dts: i64, lead_dts: i64| {
        i128::from(dts) * i128::from(lt.timescale) < i128::from(lead_dts) * i128::from(t.timescale)
    };
    // Frontier of every other track: its first sample not yet given to a fragment.
    let mut frontier = vec![0usize; plan.tracks.len()];
    // Bytes of the other tracks' samples decoding before lead sample `k` (all of them past the
    // last lead sample), moving the frontiers there.
    let take_others = |k: usize, frontier: &mut Vec<usize>| -> u64 {
        let bound = lt.samples.get(k).map(|s| s.dts);
        let mut bytes = 0u64;
        for (ti, t) in plan.tracks.iter().enumerate() {
            if ti == lead {
                continue;
            }
            while let Some(s) = t.samples.get(frontier[ti]) {
                if bound.is_some_and(|b| !before(t, s.dts, b)) {
                    break;
                }
                bytes = bytes.saturating_add(u64::from(s.size));
                frontier[ti] += 1;
            }
        }
        bytes
    };
    // Cut points in the lead track, as sample indices.
    let mut cuts: Vec<usize> = Vec::new();
    let mut next_time = i64::MIN; // audio lead: next one-second cut
    let mut bytes = take_others(0, &mut frontier); // fragment 0 holds what precedes lead sample 0
    let mut entry = lt.samples.first().map_or(0, |s| s.entry);
    for (k, s) in lt.samples.iter().enumerate() {
        // A new sample description (parameter sets that change at a join, always a keyframe)
        // starts a fragment, so a traf's samples share the tfhd's sample_description_index.
        let switch = s.entry != entry;
        entry = s.entry;
        let natural = if switch {
            true
        } else if lt.kind == TrackKind::Video {
            s.sync || k == 0
        } else if s.dts >= next_time {
            next_time = s.dts.saturating_add(i64::from(lt.timescale));
            true
        } else {
            false
        };
        // Including lead sample k brings it and the other tracks' samples up to lead sample k+1.
        let mut peek = frontier.clone();
        let add = u64::from(s.size).saturating_add(take_others(k + 1, &mut peek));
        let over = cuts.last().is_some_and(|&c| c < k) && bytes.saturating_add(add) > max_bytes;
        if natural || over || cuts.is_empty() {
            if !cuts.is_empty() {
                bytes = 0;
            }
            cuts.push(k);
        }
        bytes = bytes.saturating_add(add);
        frontier = peek;
    }
    let mut pos = vec![0usize; plan.tracks.len()];
    let mut out = Vec::with_capacity(cuts.len());
    for f in 0..cuts.len() {
        let end_lead = cuts.get(f + 1).copied().unwrap_or(n);
        let last = f + 1 == cuts.len();
        let mut fr = Vec::with_capacity(plan.tracks.len());
        for (ti, t) in plan.tracks.iter().enumerate() {
            let start = pos[ti];
            let end = if ti == lead {
                end_lead
            } else if last {
                t.samples.len()
            } else {
                // Samples whose decode time is before the next cut's decode time.
                let cut = lt.samples.get(end_lead).map_or(i64::MAX, |c| c.dts);
                let mut e = start;
                while t.samples.get(e).is_some_and(|x| before(t, x.dts, cut)) {
                    e += 1;
                }
                e
            };
            pos[ti] = end;
            fr.push(start..end);
        }
        out.push(fr);
    }
    out
}

fn write_fragment(
    plan: &StitchPlan,
    fr: &FragmentRange,
    seq: u32,
    layout: &mut Layout,
) -> Result<(), MuxError> {
    let mut payload = 0u64;
    let mut track_bytes = Vec::with_capacity(fr.len());
    for (t, r) in plan.tracks.iter().zip(fr) {
        let b = t
            .samples
            .iter_range(r.clone())
            .map(|s| u64::from(s.size))
            .fold(0u64, u64::saturating_add);
        track_bytes.push(b);
        payload = payload.saturating_add(b);
    }
    // A 64-bit mdat header when the payload does not fit 32 bits (only a fragment of one huge
    // sample can get there: fragments are cut by size).
    let mdat_header: u64 = if payload.saturating_add(8) > u64::from(u32::MAX) {
        16
    } else {
        8
    };
    // moof size is fixed by the sample counts; build once with zero data offsets to measure it.
    let moof_len = build_moof(plan, fr, seq, &[])?.len() as u64;
    let mut data_offsets = Vec::with_capacity(fr.len());
    let mut at = moof_len + mdat_header;
    for b in track_bytes {
        data_offsets.push(at);
        at = at.saturating_add(b);
    }
    let moof = build_moof(plan, fr, seq, &data_offsets)?;
    debug_assert_eq!(moof.len() as u64, moof_len);
    let mut head = moof;
    if mdat_header == 16 {
        head.extend_from_slice(&1u32.to_be_bytes());
        head.extend_from_slice(b"mdat");
        head.extend_from_slice(&payload.saturating_add(16).to_be_bytes());
    } else {
        // Fits: checked above.
        head.extend_from_slice(&((payload + 8) as u32).to_be_bytes());
        head.extend_from_slice(b"mdat");
    }
    layout.push(Slice::Bytes(Bytes::from(head)));
    for (t, r) in plan.tracks.iter().zip(fr) {
        for s in t.samples.iter_range(r.clone()) {
            match s.payload {
                Payload::Input { input, offset } => layout.push(Slice::Input {
                    input,
                    offset,
                    len: u64::from(s.size),
                }),
                Payload::Generated(g) => {
                    let bytes = usize::try_from(g)
                        .ok()
                        .and_then(|g| plan.generated.get(g))
                        .ok_or_else(|| {
                            MuxError::TooLarge(format!("generated sample {g} does not exist"))
                        })?;
                    layout.push(Slice::Bytes(bytes.clone()))
                }
                Payload::Spliced {
                    input,
                    offset,
                    generated,
                    at,
                } => {
                    let bytes = usize::try_from(generated)
                        .ok()
                        .and_then(|g| plan.generated.get(g))
                        .ok_or_else(|| {
                            MuxError::TooLarge(format!("generated bytes {generated} do not exist"))
                        })?;
                    let own = u64::from(s.size)
                        .checked_sub(bytes.len() as u64)
                        .ok_or_else(|| {
                            MuxError::TooLarge("a sample smaller than its inserted bytes".into())
                        })?;
                    let at = u64::from(at).min(own);
                    layout.push(Slice::Input {
                        input,
                        offset,
                        len: at,
                    });
                    layout.push(Slice::Bytes(bytes.clone()));
                    layout.push(Slice::Input {
                        input,
                        offset: offset + at,
                        len: own - at,
                    });
                }
            }
        }
    }
    Ok(())
}

fn build_moof(
    plan: &StitchPlan,
    fr: &FragmentRange,
    seq: u32,
    data_offsets: &[u64],
) -> Result<Vec<u8>, MuxError> {
    let mut w = BoxWriter::new();
    w.start(b"moof");
    w.start_full(b"mfhd", 0, 0);
    w.u32(seq);
    w.end();
    for (ti, (t, r)) in plan.tracks.iter().zip(fr).enumerate() {
        // One traf per run of samples with one sample description (the tfhd names it, §8.8.7):
        // the lead track's fragments are cut where its description changes, so only another
        // track switching inside a fragment gets several trafs (allowed, §8.8.6), their data
        // following each other in the mdat.
        let mut data = data_offsets.get(ti).copied();
        let mut start = r.start;
        while start < r.end {
            let entry = t.samples.get(start).map_or(0, |s| s.entry);
            let mut end = start + 1;
            let mut bytes = t.samples.get(start).map_or(0, |s| u64::from(s.size));
            for x in t.samples.iter_range(end..r.end) {
                if x.entry != entry {
                    break;
                }
                bytes = bytes.saturating_add(u64::from(x.size));
                end += 1;
            }
            traf(&mut w, t, track_id(ti)?, start..end, entry, data)?;
            data = data.map(|d| d.saturating_add(bytes));
            start = end;
        }
    }
    w.end();
    Ok(w.into_inner())
}

fn traf(
    w: &mut BoxWriter,
    t: &OutTrack,
    id: u32,
    r: std::ops::Range<usize>,
    entry: u16,
    data: Option<u64>,
) -> Result<(), MuxError> {
    let s = || t.samples.iter_range(r.clone());
    let Some(first) = s().next() else {
        return Ok(());
    };
    w.start(b"traf");
    // default-base-is-moof; sample-description-index-present (0x02) when the samples use another
    // description than trex's default, the first (§8.8.7).
    if entry == 0 {
        w.start_full(b"tfhd", 0, 0x02_0000);
        w.u32(id);
    } else {
        w.start_full(b"tfhd", 0, 0x02_0002);
        w.u32(id);
        w.u32(u32::from(entry) + 1);
    }
    w.end();
    w.start_full(b"tfdt", 1, 0);
    // Output tracks start at decode time 0 (plan::timeline::normalize); a negative one is a plan
    // bug, refused rather than wrapped to 2^64 - n.
    w.u64(u64::try_from(first.dts).map_err(|_| {
        MuxError::TooLarge(format!(
            "track {id}: negative decode time {} in a fragment",
            first.dts
        ))
    })?);
    w.end();
    let has_cts = s().any(|x| x.cts_offset != 0);
    let negative = s().any(|x| x.cts_offset < 0);
    // Per-sample duration, size, flags (and composition offsets); no first_sample_flags, see the
    // module comment.
    let flags = 0x1 | 0x100 | 0x200 | 0x400 | if has_cts { 0x800 } else { 0 };
    w.start_full(b"trun", u8::from(negative), flags);
    w.u32(u32::try_from(s().len()).map_err(|_| {
        MuxError::TooLarge(format!(
            "track {id}: more than 2^32-1 samples in one fragment"
        ))
    })?);
    // The offset from the moof's start to this track's data: signed 32 bits. Fragments are cut
    // by size, so only a fragment of samples totalling over 2 GiB could fail here.
    let offset = data.unwrap_or(0);
    w.i32(i32::try_from(offset).map_err(|_| {
        MuxError::TooLarge(format!(
            "track {id}: trun data offset {offset} does not fit 32 signed bits"
        ))
    })?);
    for x in s() {
        w.u32(x.duration);
        w.u32(x.size);
        w.u32(if x.sync { SYNC_FLAGS } else { NON_SYNC_FLAGS });
        if has_cts {
            // Version 1 (any negative offset) reads these as signed, version 0 as unsigned: the
            // same bits either way since version 0 is used only when none is negative.
            w.i32(x.cts_offset);
        }
    }
    w.end();
    if let Some(enc) = &t.encryption {
        // The fragment's samples' IVs and subsample maps (ISO/IEC 23001-7 §7.2), and saiz/saio
        // pointing at them (ISO/IEC 14496-12 §8.7.8, §8.7.9; offsets count from the moof, the
        // base of default-base-is-moof): readers use either.
        let at = super::cenc::senc(w, enc, r.clone())?;
        super::cenc::saiz(w, enc, r)?;
        super::cenc::saio(w, at as u64, false)?;
    }
    w.end();
    Ok(())
}
