//! A transport stream as the container-neutral [`Media`], through a *converted view*.
//!
//! A TS access unit is spread over many 188-byte packets and is in Annex B (video) or ADTS (AAC)
//! form; an MP4 sample is contiguous and length-prefixed (ISO/IEC 14496-15 §5.3.2) or raw AAC. The
//! only bytes that change are those framing conversions ([`crate::codec::framing`]: start codes
//! become 4-byte lengths, access unit delimiters and filler data are left out, SEI and parameter
//! sets are kept; the ADTS header is removed). Every other byte of a payload is copied as is.
//!
//! Rather than storing where each access unit's pieces are (one range per transport packet: 8% of
//! the payload's size in memory), the demuxer reads the file twice, the same way both times:
//! * at open, to learn each access unit's timing and its converted size;
//! * when the muxer copies, through [`TsView`]: a [`Source`] whose bytes are the converted access
//!   units back to back, in the order the demuxer completes them. A sample's `offset` is its place
//!   in that view, so the sample table is the same compact one as for MP4, sizes are known before
//!   anything is written, and a muxer copying samples in order reads the file once, in order.
//!
//! A timestamp jump inside the file (a reconnect; [`Event::Discontinuity`]) starts a new [`Media`]
//! over the same view, so the planner joins the parts like separate files.

use std::sync::Arc;

use bytes::Bytes;

use super::recipe::{convert, left_out, over_budget, Kind};
use super::view::{Pass, Selection, TsView};
use super::{Event, StreamType};
use crate::codec::framing::{
    asc_from_adts, avcc_from_parameter_sets, hvcc_from_parameter_sets, scan_annexb, AdtsTemplate,
    NalCodec,
};
use crate::error::{DemuxError, Location};
use crate::limits::Limits;
use crate::model::{
    CodecConfig, ContainerFormat, FourCC, Media, Sample, SampleEntry, SampleTable, Track,
};
use crate::mux::mp4::entry::{mp4a_entry, visual_entry};
use crate::source::Source;
use crate::time::{rescale, Rounding};

/// Where the first transport packet starts (within the first 192 bytes: a file cut from a stream
/// at any byte starts inside a packet) when three consecutive 188-byte packets, or 192-byte M2TS
/// packets, follow: `(sync byte offset, packet size)`.
fn first_packet(src: &dyn Source) -> Option<(usize, usize)> {
    let mut head = [0u8; 192 + 3 * 192];
    let n = (src.len().min(head.len() as u64)) as usize;
    if n < 3 * 188 || src.read_at(0, &mut head[..n]).is_err() {
        return None;
    }
    let head = &head[..n];
    for first in 0..192usize.min(n) {
        for stride in [188usize, 192] {
            if (0..3).all(|k| head.get(first + k * stride) == Some(&0x47)) {
                return Some((first, stride));
            }
        }
    }
    None
}

/// True when the source looks like a transport stream: three sync bytes 188 (or 192, M2TS) bytes
/// apart within its first 192 bytes.
pub fn sniff(src: &dyn Source) -> bool {
    first_packet(src).is_some()
}

/// True when a transport stream does not start the way a file of its own does, with a whole
/// packet that starts a section or a PES packet (`payload_unit_start_indicator`, §2.4.3.3): it is
/// the continuation of a stream split by bytes (a recorder rotating files by size), and is read
/// after the file before it as one stream.
pub fn is_continuation(src: &dyn Source) -> bool {
    let Some((first, stride)) = first_packet(src) else {
        return false;
    };
    let mut h = [0u8; 3];
    let sync = first + stride - 188;
    if src.read_at(sync as u64, &mut h).is_err() {
        return false;
    }
    let starts_unit = h[1] & 0x40 != 0;
    (stride == 188 && sync != 0) || !starts_unit
}

/// One stream's samples while demuxing, per part of the file between timestamp jumps.
#[derive(Default)]
struct Part {
    video: Vec<(i64, i64, u64, u32, bool)>, // (dts, pts, view offset, size, key)
    audio: Vec<(i64, u64, u32)>,            // (pts, view offset, size)
    /// File offset of each video and audio access unit's first packet, to locate errors found
    /// once the tracks are built (freed with the part).
    video_at: Vec<u64>,
    audio_at: Vec<u64>,
}

/// Gives each audio run (audio between its own timestamp jumps) to the video part it overlaps
/// most in time (90 kHz, one unwrapped timeline), or the nearest one within 10 s; runs near no
/// video are left out and said. Without video, the audio runs are the parts. Runs given to one
/// part are kept in order.
fn pair_audio(parts: &mut Vec<Part>, runs: Vec<Part>, name: &str, notes: &mut Vec<String>) {
    let runs: Vec<Part> = runs.into_iter().filter(|r| !r.audio.is_empty()).collect();
    let ranges: Vec<Option<(i64, i64)>> = parts
        .iter()
        .map(|p| {
            let lo = p.video.iter().map(|v| v.1).min()?;
            let hi = p.video.iter().map(|v| v.1).max()?;
            Some((lo, hi))
        })
        .collect();
    if ranges.iter().all(Option::is_none) {
        parts.retain(|p| !p.video.is_empty());
        parts.extend(runs);
        return;
    }
    for run in runs {
        let (Some(lo), Some(hi)) = (
            run.audio.iter().map(|a| a.0).min(),
            run.audio.iter().map(|a| a.0).max(),
        ) else {
            continue;
        };
        let score = |r: &Option<(i64, i64)>| -> Option<(i64, i64)> {
            let (a, b) = (*r)?;
            let overlap = hi.min(b) - lo.max(a);
            let distance = (a - hi).max(lo - b).max(0);
            Some((overlap.max(0), -distance))
        };
        let best = ranges
            .iter()
            .enumerate()
            .filter_map(|(k, r)| score(r).map(|s| (s, k)))
            .max();
        match best {
            Some(((overlap, neg_distance), k)) if overlap > 0 || -neg_distance <= 900_000 => {
                let p = &mut parts[k];
                p.audio.extend(run.audio);
                p.audio_at.extend(run.audio_at);
            }
            _ => notes.push(format!(
                "{name}: {} audio frames at {:.3} s are more than 10 s from any video; left out",
                run.audio.len(),
                lo as f64 / 90_000.0
            )),
        }
    }
}

/// Demuxes a transport stream into one [`Media`] per part between timestamp jumps, all reading
/// from one [`TsView`] of it.
pub fn open(
    file: Arc<dyn Source>,
    limits: &Limits,
) -> Result<(Vec<Media>, Vec<String>), DemuxError> {
    let name = file.name().to_string();
    let mut notes = Vec::new();
    let mut pass = Pass::new(&name);
    let mut sel = Selection::default();
    // Video parts and audio runs are split at their own timestamp jumps and paired by time once
    // all are known (a stream may jump where the other does not: a repeated audio time).
    let mut parts: Vec<Part> = vec![Part::default()];
    let mut audio_runs: Vec<Part> = vec![Part::default()];
    let (mut vpart, mut apart) = (0usize, 0usize);
    let mut view_len = 0u64;
    let mut scratch = Vec::new();
    // One entry per access unit the second pass sees (selected stream, with a PTS).
    let mut recipes = Vec::new();
    let mut left = 0usize; // access units left out (1-byte recipes)
    let mut video_cfg: Option<(SampleEntry, u16, u16)> = None;
    let mut audio_cfg: Option<(SampleEntry, u32)> = None;
    let mut samples = 0usize;
    while let Some(ev) = pass.next(&*file)? {
        match ev {
            Event::Stream {
                pid, stream_type, ..
            } => match stream_type {
                StreamType::H264 | StreamType::H265 if sel.video.is_none() => {
                    let c = if stream_type == StreamType::H264 {
                        NalCodec::H264
                    } else {
                        NalCodec::H265
                    };
                    sel.video = Some((pid, c));
                }
                StreamType::AacAdts if sel.audio.is_none() => sel.audio = Some(pid),
                _ if sel.kind(pid).is_none() => notes.push(format!(
                    "{name}: PID 0x{pid:04x}: a second {} stream is not joined; ignored",
                    if stream_type.is_video() {
                        "video"
                    } else {
                        "audio"
                    }
                )),
                _ => {}
            },
            Event::Discontinuity {
                pid,
                offset,
                before,
                after,
            } => {
                let Some(kind) = sel.kind(pid) else { continue };
                notes.push(format!(
                    "{name}: PID 0x{pid:04x} at byte {offset}: timestamps jump from {:.3} s to {:.3} s; the parts are joined like separate files",
                    before as f64 / 90_000.0,
                    after as f64 / 90_000.0
                ));
                if kind == Kind::Aac {
                    apart += 1;
                    audio_runs.push(Part::default());
                } else {
                    vpart += 1;
                    parts.push(Part::default());
                }
            }
            Event::Warning(w) => notes.push(format!("{name}: {w}")),
            Event::AccessUnit(au) => {
                let Some(kind) = sel.kind(au.pid) else {
                    continue;
                };
                let (Some(pts), dts) = (au.timeline_pts, au.timeline_dts.or(au.timeline_pts))
                else {
                    if au.pts.is_some() {
                        left_out(&mut recipes);
                        left += 1;
                    }
                    notes.push(format!(
                        "{name}: PID 0x{:04x} at byte {}: access unit without a PTS; left out",
                        au.pid, au.offset
                    ));
                    continue;
                };
                if au.pts.is_none() {
                    // Not seen by the second pass (`produce`) either.
                    notes.push(format!(
                        "{name}: PID 0x{:04x} at byte {}: access unit without a PTS; left out",
                        au.pid, au.offset
                    ));
                    continue;
                }
                let dts = dts.unwrap_or(pts);
                pass.gather(&*file, &au, &mut scratch)
                    .map_err(|e| DemuxError::Io {
                        file: name.clone(),
                        source: e,
                    })?;
                let at = recipes.len();
                let size = match convert(kind, &scratch, None, Some(&mut recipes)) {
                    Ok(size) => {
                        // Entries so far: the samples before, this one, and 1-byte left-outs.
                        over_budget(&mut recipes, at, samples + 1 + left);
                        size
                    }
                    Err(why) => {
                        left_out(&mut recipes);
                        left += 1;
                        notes.push(format!(
                            "{name}: PID 0x{:04x} at byte {}: access unit left out: {why}",
                            au.pid, au.offset
                        ));
                        continue;
                    }
                };
                samples += 1;
                if samples > limits.max_samples {
                    return Err(DemuxError::LimitExceeded {
                        loc: Location {
                            file: name,
                            path: format!("PID 0x{:04x}", au.pid),
                            offset: au.offset,
                        },
                        what: format!("more than {} access units", limits.max_samples),
                    });
                }
                let size = u32::try_from(size).unwrap_or(u32::MAX);
                match kind {
                    Kind::Video(codec) => {
                        if video_cfg.is_none() {
                            video_cfg = video_entry(codec, &scratch);
                        }
                        parts[vpart]
                            .video
                            .push((dts, pts, view_len, size, au.random_access));
                        parts[vpart].video_at.push(au.offset);
                    }
                    Kind::Aac => {
                        if audio_cfg.is_none() {
                            audio_cfg = aac_entry(&scratch);
                        }
                        audio_runs[apart].audio.push((pts, view_len, size));
                        audio_runs[apart].audio_at.push(au.offset);
                    }
                }
                view_len += u64::from(size);
            }
        }
    }
    let view: Arc<dyn Source> = Arc::new(TsView::new(
        file.clone(),
        name.clone(),
        sel,
        view_len,
        recipes.into(),
    ));
    pair_audio(&mut parts, audio_runs, &name, &mut notes);
    let mut medias = Vec::new();
    for part in parts {
        let mut tracks = Vec::new();
        if let (false, Some((entry, w, h))) = (part.video.is_empty(), &video_cfg) {
            tracks.push(video_track(&part.video, entry.clone(), (*w, *h)));
        } else if !part.video.is_empty() {
            notes.push(format!(
                "{name}: video without SPS/PPS before its first keyframe; left out"
            ));
        }
        if let (false, Some((entry, rate))) = (part.audio.is_empty(), &audio_cfg) {
            tracks.push(audio_track(
                &part.audio,
                entry.clone(),
                *rate,
                tracks.len() as u32 + 1,
            ));
        }
        if tracks.is_empty() {
            continue;
        }
        for t in &mut tracks {
            // The composition rules of MP4 input (seam must read its own output back): a PTS
            // far from its DTS is damage. Sample k of a track is access unit k of its part.
            let at = if t.kind == crate::model::TrackKind::Video {
                &part.video_at
            } else {
                &part.audio_at
            };
            crate::demux::mp4::check_composition(t, &name, &|k| at.get(k).copied().unwrap_or(0))?;
            t.samples.shrink_to_fit();
        }
        medias.push(Media {
            source: view.clone(),
            format: ContainerFormat::Ts,
            major_brand: None,
            movie_timescale: 90_000,
            movie_duration: 0,
            tracks,
            udta: None,
            meta: None,
            pssh: Box::new([]),
        });
    }
    if medias.is_empty() {
        return Err(DemuxError::Unsupported {
            loc: Location {
                file: name,
                path: String::new(),
                offset: 0,
            },
            what: "no H.264, H.265 or AAC access unit in the transport stream".into(),
        });
    }
    Ok((medias, notes))
}

/// The sample entry for the first keyframe's parameter sets (`None` until they are there).
fn video_entry(codec: NalCodec, au: &[u8]) -> Option<(SampleEntry, u16, u16)> {
    let layout = scan_annexb(au).ok()?;
    let units = |t: u8| -> Vec<&[u8]> {
        layout
            .units
            .iter()
            .filter(|u| codec.nal_type(u.header) == t)
            .filter_map(|u| au.get(u.range.clone()))
            .collect()
    };
    match codec {
        NalCodec::H264 => {
            let c = avcc_from_parameter_sets(&units(7), &units(8), 4).ok()?;
            let sps = c.first_sps().ok()?;
            let (w, h) = (
                u16::try_from(sps.width).ok()?,
                u16::try_from(sps.height).ok()?,
            );
            let raw = visual_entry(b"avc1", w, h, b"avcC", &c.encode());
            Some((
                SampleEntry {
                    raw: Bytes::from(raw),
                    format: FourCC::new(b"avc1"),
                    codec: CodecConfig::H264 {
                        width: w,
                        height: h,
                        config: Some(c),
                    },
                },
                w,
                h,
            ))
        }
        NalCodec::H265 => {
            let c = hvcc_from_parameter_sets(&units(32), &units(33), &units(34), 4).ok()?;
            let sps = c.first_sps().ok()?;
            let (w, h) = (
                u16::try_from(sps.width).ok()?,
                u16::try_from(sps.height).ok()?,
            );
            let raw = visual_entry(
                b"hvc1",
                w,
                h,
                b"hvcC",
                &crate::codec::framing::encode_hvcc(&c),
            );
            Some((
                SampleEntry {
                    raw: Bytes::from(raw),
                    format: FourCC::new(b"hvc1"),
                    codec: CodecConfig::H265 {
                        width: w,
                        height: h,
                        config: Some(c),
                    },
                },
                w,
                h,
            ))
        }
    }
}

/// The `mp4a` entry from the first ADTS header, with the sample rate.
fn aac_entry(frame: &[u8]) -> Option<(SampleEntry, u32)> {
    let (_, header) = AdtsTemplate::from_frame(frame).ok()?;
    let asc = asc_from_adts(&header).ok()?;
    let rate = asc.sampling_frequency;
    let ch = u16::from(asc.channels());
    let raw = mp4a_entry(ch, rate, &asc.raw);
    Some((
        SampleEntry {
            raw: Bytes::from(raw),
            format: FourCC::new(b"mp4a"),
            codec: CodecConfig::Aac {
                channels: ch,
                sample_rate: rate,
                config: asc,
            },
        },
        rate,
    ))
}

fn video_track(v: &[(i64, i64, u64, u32, bool)], entry: SampleEntry, size: (u16, u16)) -> Track {
    let mut t = SampleTable::new();
    t.reserve(v.len());
    let mut last = 0u32;
    for (k, &(dts, pts, offset, bytes, key)) in v.iter().enumerate() {
        let duration = match v.get(k + 1) {
            Some(n) => u32::try_from(n.0 - dts).unwrap_or(0),
            None => last,
        };
        last = duration;
        // Cannot be full: at most Limits::max_samples access units.
        let _ = t.push(Sample {
            offset,
            dts,
            size: bytes,
            duration,
            cts_offset: i32::try_from(pts - dts).unwrap_or(0),
            entry: 0,
            sync: key,
        });
    }
    crate::demux::synth::plain_track(1, true, 90_000, size, vec![entry], t)
}

/// Audio at its sample rate, one frame after the other while the 90 kHz times agree within a
/// tick of rounding (as for FLV's milliseconds).
fn audio_track(a: &[(i64, u64, u32)], entry: SampleEntry, rate: u32, id: u32) -> Track {
    let frame = match &entry.codec {
        CodecConfig::Aac { config, .. } => u32::from(config.frame_length.max(1)),
        _ => 1024,
    };
    let mut t = SampleTable::new();
    t.reserve(a.len());
    let slack = i64::from(rate.div_ceil(90_000)) + 1;
    let mut next: Option<i64> = None;
    for &(pts, offset, size) in a {
        let at = rescale(pts, 90_000, u64::from(rate), Rounding::Nearest).unwrap_or(pts);
        let dts = match next {
            Some(n) if (at - n).abs() <= slack => n,
            _ => at,
        };
        let _ = t.push(Sample {
            offset,
            dts,
            size,
            duration: frame,
            cts_offset: 0,
            entry: 0,
            sync: true,
        });
        next = dts.checked_add(i64::from(frame));
    }
    crate::demux::synth::plain_track(id, false, rate, (0, 0), vec![entry], t)
}
