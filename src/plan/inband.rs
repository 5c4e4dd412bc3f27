//! `--parameter-sets inband`: one `avc3`/`hev1` sample entry per video track, the parameter sets
//! of each configuration carried in band at the keyframe where it starts.
//!
//! ISO/IEC 14496-15 §5.4.2 (`avc3`) and §8.4.1 (`hev1`) let parameter sets travel in the samples
//! as well as in the decoder configuration record; a decoder reading such a track applies the SPS
//! and PPS it meets in the stream, the way it reads a transport stream. So where H.264/H.265
//! inputs of one picture format differ only in parameter sets (another profile, level, VUI,
//! entropy coder), the output keeps one sample entry, the first configuration's with its type
//! renamed, and the samples where a configuration starts (a keyframe: a join, or where an input
//! switched descriptions itself) get that configuration's (VPS,) SPS and PPS NAL units,
//! length-prefixed like the sample's own, inserted before their first NAL unit (after an access
//! unit delimiter, which must stay first: H.264 §7.4.1.2.3, H.265 §7.4.2.4.4). So does every
//! other keyframe of such a track, and its first sample: a player seeking into the second
//! fragment, or an MP4 shard or HLS segment starting there, meets the right parameter sets
//! before its first picture instead of the record's (the sets are some tens of bytes per
//! keyframe, as a transport stream carries them). Every byte of the input sample is copied as is
//! around the insertion ([`Payload::Spliced`]); the sample's size grows by the inserted bytes,
//! known here, so the MP4 writer still lays out moov first in one pass.
//!
//! This runs on a plan made with several entries allowed ([`super::entries`]), and rewrites only
//! video tracks that ended up with more than one entry: a join of one encoder's files keeps its
//! `avc1` entry and is written exactly as before.

use bytes::Bytes;

use super::{OutTrack, Payload, StitchPlan};
use crate::codec::h264::AvcDecoderConfig;
use crate::codec::h265::HevcDecoderConfig;
use crate::demux::mp4::entry::split_entry;
use crate::error::PlanError;
use crate::model::TrackKind;
use crate::source::Source;

/// One entry's configuration: the codec, the NAL length size and its parameter sets in the order a
/// decoder needs them.
#[derive(Debug, PartialEq, Eq)]
struct Config {
    hevc: bool,
    length_size: u8,
    sets: Vec<Bytes>,
}

/// The child box `kind` of a sample entry, payload only.
fn child<'a>(entry: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    split_entry(entry)?
        .children
        .into_iter()
        .find(|(k, _)| &k.0 == kind)
        .and_then(|(_, b)| b.get(8..))
}

/// The configuration of an `avc1`/`avc3`/`hvc1`/`hev1` entry with its record; `None` otherwise.
fn config(entry: &[u8]) -> Option<Config> {
    match entry.get(4..8)? {
        b"avc1" | b"avc3" => {
            let c = AvcDecoderConfig::parse(child(entry, b"avcC")?).ok()?;
            let sets = c.sps.iter().chain(&c.pps).cloned().collect();
            Some(Config {
                hevc: false,
                length_size: c.length_size,
                sets,
            })
        }
        b"hvc1" | b"hev1" => {
            let c = HevcDecoderConfig::parse(child(entry, b"hvcC")?).ok()?;
            // VPS (32), SPS (33), PPS (34): the order they are activated in; SEI arrays are
            // declarative (§8.3.3.1) and left in the record.
            let mut sets = Vec::new();
            for t in [32u8, 33, 34] {
                for a in c.arrays.iter().filter(|a| a.nal_type == t) {
                    sets.extend(a.units.iter().cloned());
                }
            }
            Some(Config {
                hevc: true,
                length_size: c.length_size,
                sets,
            })
        }
        _ => None,
    }
}

/// The parameter sets as the sample's own NAL units are stored: each after a big-endian length of
/// `length_size` bytes. `None` when one does not fit its length field.
fn length_prefixed(c: &Config) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for s in &c.sets {
        let len = u32::try_from(s.len()).ok()?;
        let n = usize::from(c.length_size);
        if n < 4 && len >> (8 * n) != 0 {
            return None;
        }
        out.extend_from_slice(&len.to_be_bytes()[4 - n..]);
        out.extend_from_slice(s);
    }
    Some(out)
}

/// How many bytes of the sample at `offset` of `src` precede where parameter sets may go: the
/// access unit delimiter when the sample opens with one, else 0.
fn insertion_point(src: &dyn Source, offset: u64, size: u32, c: &Config) -> std::io::Result<u32> {
    let n = usize::from(c.length_size);
    if size as usize <= n {
        return Ok(0);
    }
    let mut head = [0u8; 5];
    src.read_at(offset, &mut head[..n + 1])?;
    let len = head[..n].iter().fold(0u64, |a, &b| (a << 8) | u64::from(b));
    let nal_type = if c.hevc {
        (head[n] >> 1) & 0x3f
    } else {
        head[n] & 0x1f
    };
    let aud = if c.hevc {
        nal_type == 35
    } else {
        nal_type == 9
    };
    let end = len.saturating_add(n as u64);
    Ok(match u32::try_from(end) {
        Ok(end) if aud && end <= size => end,
        _ => 0,
    })
}

/// Bytes of a visual sample entry before its child boxes: the box header and the
/// VisualSampleEntry fields (ISO/IEC 14496-12 §12.1.3).
const VISUAL_HEADER: usize = 8 + 78;

/// Clears `array_completeness` in every NAL unit array of the entry's `hvcC` (ISO/IEC 14496-15
/// §8.3.3.1: 1 says no NAL unit of that type is in the stream, which the inserted parameter sets
/// would contradict; `hev1` allows 0). Leaves the entry as it is where the record does not parse.
fn clear_completeness(entry: &mut [u8]) {
    let mut at = VISUAL_HEADER;
    while let Some(h) = entry.get(at..at + 8) {
        let len = u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize;
        if len < 8 || at + len > entry.len() {
            return;
        }
        if &h[4..8] == b"hvcC" {
            // 22 bytes of fields, then numOfArrays; each array: completeness and type, count,
            // then (length, unit) pairs.
            let record = &mut entry[at + 8..at + len];
            let Some(&arrays) = record.get(22) else {
                return;
            };
            let mut p = 23;
            for _ in 0..arrays {
                let Some(head) = record.get(p..p + 3) else {
                    return;
                };
                let count = u16::from_be_bytes([head[1], head[2]]);
                record[p] &= 0x7f;
                p += 3;
                for _ in 0..count {
                    let Some(l) = record.get(p..p + 2) else {
                        return;
                    };
                    p += 2 + usize::from(u16::from_be_bytes([l[0], l[1]]));
                }
            }
            return;
        }
        at += len;
    }
}

/// Rewrites every video track of `plan` with several H.264/H.265 sample entries to one in-band
/// entry (see the module documentation).
pub(super) fn apply(plan: &mut StitchPlan) -> Result<(), PlanError> {
    for ti in 0..plan.tracks.len() {
        let t = &plan.tracks[ti];
        if t.kind != TrackKind::Video || t.sample_entries.len() < 2 || t.encryption.is_some() {
            continue;
        }
        let rewritten = rewrite(plan, ti)?;
        plan.tracks[ti] = rewritten;
    }
    Ok(())
}

/// The error for a track that cannot carry its configurations in band.
fn refuse(plan: &StitchPlan, t: &OutTrack, what: String) -> PlanError {
    let file = t
        .segments
        .first()
        .and_then(|s| plan.inputs.get(s.input))
        .map_or_else(|| "output".to_string(), |s| s.name().to_string());
    PlanError::Unsupported {
        file,
        track: "video".into(),
        what: format!(
            "{what}; `--parameter-sets entries` writes one sample entry per configuration instead"
        ),
    }
}

fn rewrite(plan: &mut StitchPlan, ti: usize) -> Result<OutTrack, PlanError> {
    let t = &plan.tracks[ti];
    let mut configs = Vec::with_capacity(t.sample_entries.len());
    for (k, e) in t.sample_entries.iter().enumerate() {
        let c = config(e).ok_or_else(|| {
            refuse(
                plan,
                t,
                format!(
                    "sample description {} is not H.264 or H.265 with a decoder configuration record",
                    k + 1
                ),
            )
        })?;
        configs.push(c);
    }
    let first = &configs[0];
    if let Some(c) = configs
        .iter()
        .find(|c| c.hevc != first.hevc || c.length_size != first.length_size)
    {
        return Err(refuse(
            plan,
            t,
            format!(
                "NAL length size {} differs from {}: one in-band sample entry reads every sample with one length size",
                c.length_size, first.length_size
            ),
        ));
    }
    // The inserted bytes of each configuration, as generated payloads.
    let mut generated = Vec::with_capacity(configs.len());
    for c in &configs {
        let bytes = length_prefixed(c).ok_or_else(|| {
            refuse(
                plan,
                t,
                "a parameter set too long for its length field".into(),
            )
        })?;
        let len = u32::try_from(bytes.len())
            .map_err(|_| refuse(plan, t, "parameter sets too large".into()))?;
        let index = u32::try_from(plan.generated.len())
            .map_err(|_| refuse(plan, t, "too many generated payloads".into()))?;
        plan.generated.push(Bytes::from(bytes));
        generated.push((index, len));
    }
    let t = &plan.tracks[ti];
    let mut samples = super::OutSamples::with_capacity(t.samples.len());
    let mut prev: Option<u16> = None;
    let mut last_duration = 0i64;
    for (k, s) in t.samples.iter().enumerate() {
        let mut o = s;
        o.entry = 0;
        last_duration = i64::from(s.duration);
        if prev != Some(s.entry) || s.sync {
            let c = usize::from(s.entry);
            let (Some(&(g, len)), Some(cfg)) = (generated.get(c), configs.get(c)) else {
                return Err(refuse(
                    plan,
                    t,
                    format!("sample {} names no sample description", k + 1),
                ));
            };
            let Payload::Input { input, offset } = s.payload else {
                return Err(refuse(
                    plan,
                    t,
                    format!("sample {} is not copied from an input", k + 1),
                ));
            };
            let src = usize::try_from(input)
                .ok()
                .and_then(|i| plan.inputs.get(i))
                .ok_or_else(|| refuse(plan, t, format!("sample {} names no input", k + 1)))?;
            let at = insertion_point(&**src, offset, s.size, cfg).map_err(|e| {
                PlanError::Unsupported {
                    file: src.name().to_string(),
                    track: "video".into(),
                    what: format!("cannot read the sample at byte {offset}: {e}"),
                }
            })?;
            o.payload = Payload::Spliced {
                input,
                offset,
                generated: g,
                at,
            };
            o.size = s.size.checked_add(len).ok_or_else(|| {
                refuse(
                    plan,
                    t,
                    format!("sample {} too large with its parameter sets", k + 1),
                )
            })?;
        }
        prev = Some(s.entry);
        samples.push(o);
    }
    samples
        .finish(last_duration)
        .map_err(|e| refuse(plan, t, e))?;
    let mut entry = t.sample_entries[0].to_vec();
    // avc1 -> avc3, hvc1 -> hev1: the same entry, saying parameter sets may be in band.
    let kind: &[u8; 4] = if first.hevc { b"hev1" } else { b"avc3" };
    if let Some(k) = entry.get_mut(4..8) {
        k.copy_from_slice(kind);
    }
    if first.hevc {
        clear_completeness(&mut entry);
    }
    let mut out = t.clone();
    out.samples = samples;
    out.sample_entries = vec![Bytes::from(entry)];
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_sets_are_length_prefixed_like_samples() {
        let c = Config {
            hevc: false,
            length_size: 4,
            sets: vec![
                Bytes::from_static(&[0x67, 1, 2]),
                Bytes::from_static(&[0x68, 3]),
            ],
        };
        assert_eq!(
            length_prefixed(&c).expect("fits"),
            [0, 0, 0, 3, 0x67, 1, 2, 0, 0, 0, 2, 0x68, 3]
        );
        let two = Config {
            length_size: 2,
            ..c
        };
        assert_eq!(
            length_prefixed(&two).expect("fits"),
            [0, 3, 0x67, 1, 2, 0, 2, 0x68, 3]
        );
        let one = Config {
            hevc: false,
            length_size: 1,
            sets: vec![Bytes::from(vec![0x67; 300])],
        };
        assert!(
            length_prefixed(&one).is_none(),
            "300 bytes need more than one length byte"
        );
    }

    #[test]
    fn hev1_entries_say_parameter_sets_may_be_in_band() {
        let src = crate::source::FileSource::open(std::path::Path::new(
            "fixtures/param_sets/ff_hevc_a.mp4",
        ))
        .expect("fixture");
        let m =
            crate::demux::open(std::sync::Arc::new(src), &crate::Limits::default()).expect("demux");
        let e = m.video().and_then(|t| t.entry()).expect("entry");
        let mut raw = e.raw.to_vec();
        let parse = |raw: &[u8]| {
            HevcDecoderConfig::parse(child(raw, b"hvcC").expect("hvcC")).expect("parses")
        };
        assert!(
            parse(&raw).arrays.iter().any(|a| a.complete),
            "x265 marks them complete"
        );
        clear_completeness(&mut raw);
        let after = parse(&raw);
        assert!(after.arrays.iter().all(|a| !a.complete));
        // Nothing else changed.
        let before = parse(&e.raw);
        assert_eq!(after.arrays.len(), before.arrays.len());
        for (a, b) in after.arrays.iter().zip(&before.arrays) {
            assert_eq!((a.nal_type, &a.units), (b.nal_type, &b.units));
        }
        assert_eq!(raw.len(), e.raw.len());
    }

    #[test]
    fn insertion_goes_after_an_access_unit_delimiter() {
        let h264 = Config {
            hevc: false,
            length_size: 4,
            sets: Vec::new(),
        };
        // AUD (type 9, 2 bytes) then an IDR slice.
        let aud = crate::source::MemSource::new(
            "aud",
            Bytes::from_static(&[0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 2, 0x65, 0x88]),
        );
        assert_eq!(insertion_point(&aud, 0, 12, &h264).expect("reads"), 6);
        let idr =
            crate::source::MemSource::new("idr", Bytes::from_static(&[0, 0, 0, 2, 0x65, 0x88]));
        assert_eq!(insertion_point(&idr, 0, 6, &h264).expect("reads"), 0);
        // H.265 AUD: type 35 in bits 1..7 of the first header byte (0x46 0x01).
        let h265 = Config { hevc: true, ..h264 };
        let aud = crate::source::MemSource::new(
            "aud",
            Bytes::from_static(&[0, 0, 0, 3, 0x46, 0x01, 0x50, 0, 0, 0, 3, 0x26, 0x01, 0xaf]),
        );
        assert_eq!(insertion_point(&aud, 0, 14, &h265).expect("reads"), 7);
        // A delimiter claiming more than the sample holds: insert at the start.
        assert_eq!(insertion_point(&aud, 0, 5, &h265).expect("reads"), 0);
    }
}
