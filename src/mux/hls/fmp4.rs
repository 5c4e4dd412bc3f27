//! HLS with fragmented MP4 segments (RFC 8216 §3.3, `--hls-fmp4`): the fragmented MP4 layout of
//! the plan ([`crate::mux::mp4::layout_fragmented`]: one `moof`+`mdat` per GOP, more when a GOP
//! passes 64 MiB) cut into files. The initialization section is its `ftyp`+`moov` (with `mvex`);
//! each media segment is a run of whole fragments, so it starts with a `moof` whose first video
//! sample is a keyframe, and `tfdt` keeps every fragment's decode time absolute.
//!
//! Segments are cut like the TS ones ([`super::segment`]'s grid rule) on the fragments' start
//! times: a fragment starts a new segment when it starts at or after the next multiple of the
//! target duration from the first fragment. A segment lasts until the next one starts (the last
//! until the end of the cut track), in the cut track's ticks (`tfdt` of its `traf`).

use std::ops::Range;

use super::{HlsError, HlsOutput, SegmentInfo, TargetDuration};
use crate::error::MuxError;
use crate::mux::{write_layout, Layout, Slice};
use crate::plan::StitchPlan;

/// What went wrong writing fMP4 HLS.
#[derive(Debug, thiserror::Error)]
pub enum Fmp4HlsError {
    /// Laying out or copying the fragments.
    #[error(transparent)]
    Mux(#[from] MuxError),
    /// The HLS output (files, playlist).
    #[error(transparent)]
    Hls(#[from] HlsError),
    /// The fragmented layout is not what this writer expects.
    #[error("fragmented layout: {0}")]
    Layout(String),
}

/// The decode time `tfdt` gives track `track_id` in the `moof` box `moof` (ISO/IEC 14496-12
/// §8.8.12), if that track has a `traf` there.
fn tfdt_of(moof: &[u8], track_id: u32) -> Option<u64> {
    let u32_at = |b: &[u8], at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
    };
    let mut pos = 8; // moof header
    while pos + 8 <= moof.len() {
        let size = u32_at(moof, pos)? as usize;
        if size < 8 || pos + size > moof.len() {
            return None;
        }
        if moof.get(pos + 4..pos + 8)? == b"traf" {
            let traf = &moof[pos..pos + size];
            let (mut id, mut dts) = (None, None);
            let mut p = 8;
            while p + 8 <= traf.len() {
                let s = u32_at(traf, p)? as usize;
                if s < 8 || p + s > traf.len() {
                    return None;
                }
                match traf.get(p + 4..p + 8)? {
                    b"tfhd" => id = u32_at(traf, p + 12),
                    b"tfdt" => {
                        dts = if traf.get(p + 8)? == &1 {
                            Some(u64::from_be_bytes(
                                traf.get(p + 12..p + 20)?.try_into().ok()?,
                            ))
                        } else {
                            u32_at(traf, p + 12).map(u64::from)
                        }
                    }
                    _ => {}
                }
                p += s;
            }
            if id == Some(track_id) {
                return dts;
            }
        }
        pos += size;
    }
    None
}

/// Writes `plan` as fMP4 HLS through `out`: returns the segments written.
pub fn write_plan_hls_fmp4(
    plan: &StitchPlan,
    out: &mut HlsOutput,
    target: TargetDuration,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<SegmentInfo>, Fmp4HlsError> {
    let layout = crate::mux::mp4::layout_fragmented(plan)?;
    // The cut track: the first video track, else the first track.
    let cut = plan
        .tracks
        .iter()
        .position(|t| t.kind == crate::model::TrackKind::Video)
        .unwrap_or(0);
    let track = plan
        .tracks
        .get(cut)
        .ok_or_else(|| Fmp4HlsError::Layout("no track".into()))?;
    let track_id = u32::try_from(cut + 1).map_err(|_| Fmp4HlsError::Layout("track id".into()))?;
    let timescale = track.timescale.max(1);
    let end = track
        .samples
        .last()
        .map_or(0, |s| s.dts.saturating_add(i64::from(s.duration)));
    let end = u64::try_from(end).unwrap_or(0);

    // Fragments: where each starts in the slice list, and its cut-track decode time (fragments
    // without the cut track belong to the segment before).
    let is_moof = |s: &Slice| matches!(s, Slice::Bytes(b) if b.get(4..8) == Some(b"moof"));
    let starts: Vec<usize> = layout
        .slices
        .iter()
        .enumerate()
        .filter(|(_, s)| is_moof(s))
        .map(|(k, _)| k)
        .collect();
    let Some(&first_moof) = starts.first() else {
        return Err(Fmp4HlsError::Layout("no fragment".into()));
    };
    let times: Vec<Option<u64>> = starts
        .iter()
        .map(|&k| match &layout.slices[k] {
            Slice::Bytes(b) => tfdt_of(b, track_id),
            _ => None,
        })
        .collect();

    // Group fragments into segments on the target grid.
    let (num, den) = target.as_fraction();
    let step = |n: u64| -> u64 {
        // n target durations in track ticks, rounded down (exact integers: num/den seconds).
        u64::try_from(
            u128::from(n) * u128::from(num) * u128::from(timescale) / u128::from(den.max(1)),
        )
        .unwrap_or(u64::MAX)
    };
    let t0 = times.iter().flatten().next().copied().unwrap_or(0);
    let mut groups: Vec<(Range<usize>, u64)> = Vec::new(); // fragment range, start time
    let mut boundary = 1u64;
    for (f, t) in times.iter().enumerate() {
        match (t, groups.last_mut()) {
            (Some(t), Some(_)) if t.saturating_sub(t0) >= step(boundary) => {
                while t.saturating_sub(t0) >= step(boundary) {
                    boundary += 1;
                }
                groups.push((f..f + 1, *t));
            }
            (_, Some(g)) => g.0.end = f + 1,
            (t, None) => groups.push((f..f + 1, t.unwrap_or(t0))),
        }
    }

    // The initialization section: everything before the first moof.
    let total = layout.len();
    let mut done = 0u64;
    let mut step_progress = |n: u64| {
        done += n;
        progress(done, total);
    };
    let init = Layout {
        slices: layout.slices[..first_moof].to_vec(),
    };
    {
        let mut w = out.init_writer()?;
        write_layout(plan, &init, &mut w, &mut |_, _| {})?;
        w.close()?;
    }
    step_progress(init.len());
    let mut infos = Vec::with_capacity(groups.len());
    for (k, (frags, start)) in groups.iter().enumerate() {
        let from = starts[frags.start];
        let to = starts
            .get(frags.end)
            .copied()
            .unwrap_or(layout.slices.len());
        let seg = Layout {
            slices: layout.slices[from..to].to_vec(),
        };
        {
            let mut w = out.segment_writer(k)?;
            write_layout(plan, &seg, &mut w, &mut |_, _| {})?;
            w.close()?;
        }
        step_progress(seg.len());
        let next = groups.get(k + 1).map_or(end, |g| g.1);
        infos.push(SegmentInfo {
            duration: next.saturating_sub(*start),
            timescale,
            discontinuity_before: false,
        });
    }
    Ok(infos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tfdt_is_found_for_its_track() {
        let mut w = crate::mux::mp4::boxes::BoxWriter::new();
        w.start(b"moof");
        w.start_full(b"mfhd", 0, 0);
        w.u32(1);
        w.end();
        for (id, dts) in [(2u32, 5u64), (1, 90_000)] {
            w.start(b"traf");
            w.start_full(b"tfhd", 0, 0x02_0000);
            w.u32(id);
            w.end();
            w.start_full(b"tfdt", 1, 0);
            w.u64(dts);
            w.end();
            w.end();
        }
        w.end();
        let moof = w.into_inner();
        assert_eq!(tfdt_of(&moof, 1), Some(90_000));
        assert_eq!(tfdt_of(&moof, 2), Some(5));
        assert_eq!(tfdt_of(&moof, 3), None);
        assert_eq!(tfdt_of(&moof[..20], 1), None);
    }
}
