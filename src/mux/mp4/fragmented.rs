//! Fragmented MP4 layout (ISO/IEC 14496-12 §8.8): an initialization moov with mvex, then one
//! moof + mdat per video GOP (or per second of audio when there is no video).

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

/// Builds the fragmented layout of `plan`.
pub fn layout_fragmented(plan: &StitchPlan) -> Result<Layout, MuxError> {
    let mut layout = Layout::default();
    let mut head = ftyp(true);
    head.extend_from_slice(&init_moov(plan));
    layout.push(Slice::Bytes(Bytes::from(head)));

    let ranges = fragment_ranges(plan);
    for (seq, fr) in ranges.iter().enumerate() {
        write_fragment(plan, fr, seq as u32 + 1, &mut layout)?;
    }
    Ok(layout)
}

fn init_moov(plan: &StitchPlan) -> Vec<u8> {
    let mut w = BoxWriter::new();
    w.start(b"moov");
    mvhd(
        &mut w,
        plan.movie_timescale,
        plan.duration,
        plan.tracks.len() as u32 + 1,
    );
    for (i, t) in plan.tracks.iter().enumerate() {
        w.start(b"trak");
        tkhd(&mut w, t, i as u32 + 1);
        edts(&mut w, &t.edits);
        w.start(b"mdia");
        mdhd(&mut w, t, 0);
        w.bytes(&t.hdlr);
        w.start(b"minf");
        media_header(&mut w, t);
        dinf(&mut w);
        w.start(b"stbl");
        stsd(&mut w, t);
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
        w.u32(i as u32 + 1);
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
    w.into_inner()
}

/// Per fragment, the sample range of each track.
type FragmentRange = Vec<std::ops::Range<usize>>;

/// Splits the tracks into fragments at video sync samples (or about every second without video).
fn fragment_ranges(plan: &StitchPlan) -> Vec<FragmentRange> {
    let lead = plan
        .tracks
        .iter()
        .position(|t| t.kind == TrackKind::Video)
        .unwrap_or(0);
    let Some(lt) = plan.tracks.get(lead) else {
        return Vec::new();
    };
    // Cut points in the lead track, as sample indices.
    let mut cuts: Vec<usize> = Vec::new();
    if lt.kind == TrackKind::Video {
        cuts.extend(
            lt.samples
                .iter()
                .enumerate()
                .filter(|(k, s)| s.sync || *k == 0)
                .map(|(k, _)| k),
        );
    } else {
        let mut next = i64::MIN;
        for (k, s) in lt.samples.iter().enumerate() {
            if s.dts >= next {
                cuts.push(k);
                next = s.dts + i64::from(lt.timescale);
            }
        }
    }
    let mut pos = vec![0usize; plan.tracks.len()];
    let mut out = Vec::with_capacity(cuts.len());
    for f in 0..cuts.len() {
        let end_lead = cuts.get(f + 1).copied().unwrap_or(lt.samples.len());
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
                let cut = &lt.samples[end_lead];
                let mut e = start;
                while e < t.samples.len()
                    && i128::from(t.samples[e].dts) * i128::from(lt.timescale)
                        < i128::from(cut.dts) * i128::from(t.timescale)
                {
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
    // moof size is fixed by the sample counts; build once with zero data offsets to measure it.
    let moof_len = build_moof(plan, fr, seq, &[]).len() as u64;
    let mut data_offsets = Vec::with_capacity(fr.len());
    let mut payload = 0u64;
    for (t, r) in plan.tracks.iter().zip(fr) {
        data_offsets.push(moof_len + 8 + payload);
        payload += t.samples[r.clone()]
            .iter()
            .map(|s| u64::from(s.size))
            .sum::<u64>();
    }
    let moof = build_moof(plan, fr, seq, &data_offsets);
    debug_assert_eq!(moof.len() as u64, moof_len);
    let mdat_size = u32::try_from(payload + 8)
        .map_err(|_| MuxError::TooLarge("a fragment's mdat exceeds 4 GiB".into()))?;
    let mut head = moof;
    head.extend_from_slice(&mdat_size.to_be_bytes());
    head.extend_from_slice(b"mdat");
    layout.push(Slice::Bytes(Bytes::from(head)));
    for (t, r) in plan.tracks.iter().zip(fr) {
        for s in &t.samples[r.clone()] {
            match s.payload {
                Payload::Input { input, offset } => layout.push(Slice::Input {
                    input,
                    offset,
                    len: u64::from(s.size),
                }),
                Payload::Generated(g) => {
                    layout.push(Slice::Bytes(plan.generated[g as usize].clone()))
                }
            }
        }
    }
    Ok(())
}

fn build_moof(plan: &StitchPlan, fr: &FragmentRange, seq: u32, data_offsets: &[u64]) -> Vec<u8> {
    let mut w = BoxWriter::new();
    w.start(b"moof");
    w.start_full(b"mfhd", 0, 0);
    w.u32(seq);
    w.end();
    for (ti, (t, r)) in plan.tracks.iter().zip(fr).enumerate() {
        if r.is_empty() {
            continue;
        }
        traf(
            &mut w,
            t,
            ti as u32 + 1,
            r.clone(),
            data_offsets.get(ti).copied(),
        );
    }
    w.end();
    w.into_inner()
}

fn traf(w: &mut BoxWriter, t: &OutTrack, id: u32, r: std::ops::Range<usize>, data: Option<u64>) {
    let s = &t.samples[r];
    w.start(b"traf");
    w.start_full(b"tfhd", 0, 0x02_0000); // default-base-is-moof
    w.u32(id);
    w.end();
    w.start_full(b"tfdt", 1, 0);
    // Output tracks start at decode time 0 (plan::timeline::normalize), so this never clamps.
    w.u64(u64::try_from(s[0].dts).unwrap_or(0));
    w.end();
    let has_cts = s.iter().any(|x| x.cts_offset != 0);
    let negative = s.iter().any(|x| x.cts_offset < 0);
    let flags = 0x1 | 0x100 | 0x200 | 0x400 | if has_cts { 0x800 } else { 0 };
    w.start_full(b"trun", u8::from(negative), flags);
    w.u32(s.len() as u32);
    // The moof is far smaller than 2 GiB, so the offset to its mdat fits.
    w.i32(data.unwrap_or(0) as i32);
    for x in s {
        w.u32(x.duration);
        w.u32(x.size);
        w.u32(if x.sync { SYNC_FLAGS } else { NON_SYNC_FLAGS });
        if has_cts {
            w.i32(x.cts_offset);
        }
    }
    w.end();
    w.end();
}
