//! An output track's sample entries (ISO/IEC 14496-12 §8.5.2 stsd) and which one each input
//! sample uses.
//!
//! A sample entry describes the samples that point to it (stsc's sample_description_index,
//! §8.7.4; tfhd's, §8.8.7), so a track may switch descriptions between samples. seam uses that
//! where only H.264/H.265 parameter sets differ: the same codec and picture format (width and
//! height from the SPS, chroma format, bit depths) under another profile, level, VUI, entropy coder
//! or NAL length size. Such a join is lossless: the decoder is handed the new parameter sets at the
//! switch, which is a keyframe (a join, or wherever the input itself switched). What changes the
//! picture (resolution, codec, chroma format, bit depth, `pasp`/`colr`...) is still refused, as are
//! differing audio configurations (AAC packets are placed by one rule over one configuration) and
//! encrypted entries that differ.
//!
//! The output's entries are the inputs' distinct ones in first-use order: an entry equal in meaning
//! to one already listed ([`compat::difference`] finds nothing) reuses it, so joining files of one
//! encoder still gives one entry.

use bytes::Bytes;

use super::compat;
use super::roles::{role_track, Role};
use crate::codec::Difference;
use crate::error::{Incompatibility, PlanError};
use crate::model::{CodecConfig, Media, SampleEntry, Track, TrackKind};

/// How a sample entry can share an output track with the track's first.
#[derive(Debug)]
pub(super) enum Class {
    /// Equal in meaning: the same output entry describes both.
    Same,
    /// Same codec and picture format, other parameter sets: written as another output entry.
    NewEntry(Difference),
    /// Decodes or displays differently: not joinable without re-encoding.
    Refused(Difference),
}

/// Width, height, chroma format and bit depths (luma, chroma) from the first SPS.
type PictureFormat = (u32, u32, u32, u8, u8);

/// The picture format of an H.264 or H.265 entry with a decoder configuration record.
fn picture_format(e: &SampleEntry) -> Option<(&'static str, PictureFormat)> {
    match &e.codec {
        CodecConfig::H264 {
            config: Some(c), ..
        } => {
            let s = c.first_sps().ok()?;
            let f = (s.width, s.height, s.chroma_format_idc);
            Some((
                "h264",
                (f.0, f.1, f.2, s.bit_depth_luma, s.bit_depth_chroma),
            ))
        }
        CodecConfig::H265 {
            config: Some(c), ..
        } => {
            let s = c.first_sps().ok()?;
            let f = (s.width, s.height, s.chroma_format_idc);
            Some((
                "h265",
                (f.0, f.1, f.2, s.bit_depth_luma, s.bit_depth_chroma),
            ))
        }
        _ => None,
    }
}

/// Classifies `other` against `reference` (the output track's first entry).
pub(super) fn classify(reference: &SampleEntry, other: &SampleEntry) -> Class {
    let Some(d) = compat::difference(reference, other) else {
        return Class::Same;
    };
    let (Some(rf), Some(of)) = (picture_format(reference), picture_format(other)) else {
        return Class::Refused(d);
    };
    if rf != of {
        return Class::Refused(d);
    }
    // The parameter sets differ only; everything else in the entries (pasp, colr, fiel, clap...)
    // must still agree, or the picture would be shown differently from the switch on.
    let config: &[u8; 4] = if rf.0 == "h264" { b"avcC" } else { b"hvcC" };
    match compat::boxes_difference(reference, other, &[config]) {
        None => Class::NewEntry(d),
        Some(b) => Class::Refused(b),
    }
}

/// The sample entries of one output track and, per input, which output entry each of its entries
/// maps to.
#[derive(Debug, Clone, Default)]
pub(super) struct RoleEntries {
    /// The output entries, verbatim, in first-use order.
    pub(super) entries: Vec<Bytes>,
    /// Per input (indexed like the inputs), input entry index → output entry index; empty for an
    /// input without the track.
    pub(super) maps: Vec<Vec<u16>>,
}

impl RoleEntries {
    /// The output entry describing a sample of input `input` that uses its entry `entry`; entries
    /// no sample uses map to 0 (they are never asked for).
    pub(super) fn out_entry(&self, input: usize, entry: u16) -> u16 {
        self.maps
            .get(input)
            .and_then(|m| m.get(usize::from(entry)))
            .copied()
            .unwrap_or(0)
    }
}

/// The entries a track's samples use, in first-use order, with the first sample of each.
fn used_entries(t: &Track) -> Vec<(u16, usize)> {
    let mut used: Vec<(u16, usize)> = Vec::new();
    for (i, e) in t.samples.iter().map(|s| s.entry).enumerate() {
        if !used.iter().any(|&(u, _)| u == e) {
            used.push((e, i));
        }
    }
    used
}

/// The output entries of an audio or video role and every input's map to them. The first input
/// with the track gives the reference entry (its first used one); every other used entry is
/// [`classify`]d against it. One warning per switch between output entries (at a join or inside an
/// input) says what differs.
pub(super) fn role_entries(
    inputs: &[Media],
    role: Role,
    allow_new: bool,
    warnings: &mut Vec<String>,
) -> Result<RoleEntries, PlanError> {
    let mut out = RoleEntries {
        entries: Vec::new(),
        maps: vec![Vec::new(); inputs.len()],
    };
    // The output entries as parsed, with the input that first used each (for messages).
    let mut listed: Vec<(&SampleEntry, usize)> = Vec::new();
    let mut last: Option<u16> = None;
    for (i, m) in inputs.iter().enumerate() {
        let Some(ti) = role_track(m, role) else {
            continue;
        };
        let t = &m.tracks[ti];
        let label = role.label(t);
        let mut map = vec![0u16; t.sample_entries.len()];
        let mut used = used_entries(t);
        if used.is_empty() && !t.sample_entries.is_empty() {
            used.push((0, 0));
        }
        for (k, first_sample) in used {
            let Some(e) = t.sample_entries.get(usize::from(k)) else {
                return Err(PlanError::Unsupported {
                    file: m.name().to_string(),
                    track: label,
                    what: format!(
                        "sample {} uses sample description {} of {}",
                        first_sample + 1,
                        u32::from(k) + 1,
                        t.sample_entries.len()
                    ),
                });
            };
            let found = listed
                .iter()
                .position(|(l, _)| compat::difference(l, e).is_none());
            let j = match found {
                Some(j) => j,
                None => {
                    let (reference, ri) = match listed.first() {
                        Some(&(r, ri)) => (r, ri),
                        None => (e, i),
                    };
                    match classify(reference, e) {
                        // The first entry listed.
                        Class::Same => {}
                        Class::NewEntry(_) if t.kind == TrackKind::Video && allow_new => {}
                        Class::NewEntry(mut d) if t.kind == TrackKind::Video => {
                            d.reference.push_str(
                                " (the picture format is the same: `--parameter-sets inband`, the \
                                 default, joins them losslessly with the new parameter sets in \
                                 band, `--parameter-sets entries` under several sample entries)",
                            );
                            return Err(refusal(
                                inputs,
                                (ri, reference),
                                (i, k, first_sample),
                                d,
                                &label,
                                t,
                            ));
                        }
                        Class::NewEntry(d) | Class::Refused(d) => {
                            return Err(refusal(
                                inputs,
                                (ri, reference),
                                (i, k, first_sample),
                                d,
                                &label,
                                t,
                            ));
                        }
                    }
                    listed.push((e, i));
                    out.entries.push(e.raw.clone());
                    listed.len() - 1
                }
            };
            let j = u16::try_from(j).map_err(|_| PlanError::Unsupported {
                file: m.name().to_string(),
                track: label.clone(),
                what: "more than 65535 distinct sample descriptions".into(),
            })?;
            if let Some(prev) = last.filter(|&p| p != j) {
                let (pe, pi) = listed[usize::from(prev)];
                let what = compat::difference(pe, e)
                    .map(|d| {
                        format!(
                            "{} {} differs from {}: {}",
                            d.parameter,
                            d.value,
                            inputs[pi].name(),
                            d.reference
                        )
                    })
                    .unwrap_or_default();
                let at = if first_sample == 0 {
                    "from its first sample".to_string()
                } else {
                    format!("from sample {}", first_sample + 1)
                };
                warnings.push(format!(
                    "{}: {label}: {what}; same picture format, so its samples are copied {at} as configuration {} of the track (the parameter sets switch at a keyframe, lossless)",
                    m.name(),
                    j + 1
                ));
            }
            last = Some(j);
            if let Some(slot) = map.get_mut(usize::from(k)) {
                *slot = j;
            }
        }
        out.maps[i] = map;
    }
    Ok(out)
}

/// The error for an entry that cannot share the track: between inputs, today's incompatibility
/// naming both files; inside one input, the two descriptions of that file.
fn refusal(
    inputs: &[Media],
    (ri, _reference): (usize, &SampleEntry),
    (i, k, first_sample): (usize, u16, usize),
    d: Difference,
    label: &str,
    t: &Track,
) -> PlanError {
    if ri == i {
        return PlanError::Unsupported {
            file: inputs[i].name().to_string(),
            track: label.to_string(),
            what: format!(
                "samples switch to sample description {} of {} at sample {}: {} {} differs from {}; one output track can switch only parameter sets of one codec and picture format",
                u32::from(k) + 1,
                t.sample_entries.len(),
                first_sample + 1,
                d.parameter,
                d.value,
                d.reference
            ),
        };
    }
    PlanError::Incompatible(Box::new(Incompatibility {
        file: inputs[i].name().to_string(),
        track: label.to_string(),
        parameter: d.parameter.to_string(),
        value: d.value,
        reference_file: inputs[ri].name().to_string(),
        reference_value: d.reference,
    }))
}

/// The entries of a track copied only when every input's is the same (timecode, metadata...):
/// the first input's first entry, and every sample mapped to it.
pub(super) fn single(inputs: &[Media], role: Role) -> RoleEntries {
    let entry = inputs
        .iter()
        .find_map(|m| role_track(m, role).and_then(|ti| m.tracks[ti].entry()))
        .map(|e| e.raw.clone());
    RoleEntries {
        entries: entry.into_iter().collect(),
        maps: vec![Vec::new(); inputs.len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ContainerFormat;
    use crate::source::FileSource;
    use std::sync::Arc;

    /// The first video sample entry of a fixture.
    fn video_entry(name: &str) -> SampleEntry {
        let src =
            FileSource::open(std::path::Path::new(&format!("fixtures/{name}"))).expect("fixture");
        let m = crate::demux::open(Arc::new(src), &crate::Limits::default()).expect("demux");
        assert_ne!(m.format, ContainerFormat::FragmentedMp4, "{name}");
        m.tracks
            .iter()
            .find(|t| t.kind == TrackKind::Video)
            .and_then(|t| t.entry())
            .cloned()
            .expect("video entry")
    }

    /// `e` with its avcC's lengthSizeMinusOne set to `n` (ISO/IEC 14496-15 §5.3.3.1.2: the low two
    /// bits of the record's fifth byte), re-parsed.
    fn with_length_size(e: &SampleEntry, n: u8) -> SampleEntry {
        let mut raw = e.raw.to_vec();
        let kind = raw.windows(4).position(|w| w == b"avcC").expect("avcC");
        let size = u32::from_be_bytes(raw[kind - 4..kind].try_into().expect("4 bytes")) as usize;
        let record = kind + 4..kind - 4 + size;
        raw[record.start + 4] = 0xfc | n;
        let config = crate::codec::h264::AvcDecoderConfig::parse(&raw[record]).ok();
        let CodecConfig::H264 { width, height, .. } = e.codec else {
            panic!("not H.264")
        };
        SampleEntry {
            raw: Bytes::from(raw),
            format: e.format,
            codec: CodecConfig::H264 {
                width,
                height,
                config,
            },
        }
    }

    #[test]
    fn parameter_sets_only_give_a_new_entry_picture_changes_are_refused() {
        let a = video_entry("a.mp4");
        assert!(matches!(classify(&a, &video_entry("b.mp4")), Class::Same));
        // Another NAL length size: the same picture, read under its own entry.
        let other = with_length_size(&a, 1);
        match classify(&a, &other) {
            Class::NewEntry(d) => assert_eq!(d.parameter, "NAL length size"),
            c => panic!("{c:?}"),
        }
        match classify(&a, &video_entry("portrait.mp4")) {
            Class::Refused(d) => assert_eq!(d.parameter, "resolution"),
            c => panic!("{c:?}"),
        }
        // Another codec.
        assert!(matches!(
            classify(&a, &video_entry("hevc_a.mp4")),
            Class::Refused(_)
        ));
    }
}
