//! Encrypted output tracks (ISO/IEC 23001-7): each output sample's auxiliary information (its IV
//! and subsample map) gathered in output order, so the muxers write it beside the sample.
//!
//! The samples' ciphertext is copied bit-exact like any payload; what makes it decryptable is the
//! sample entry's `sinf` (scheme and key ID, equal in every input: `compat`) and each sample's own
//! entry, found here through the plan's [`Segment`]s: a copied run of output samples is a run of
//! consecutive input samples, so output sample `first + j` has the entry of input sample
//! `first_sample + j`. Every such pairing is checked against the sample's input byte offset, so a
//! planner that one day skips a sample inside a run fails here instead of writing wrong IVs.
//! Generated samples (silence) are clear bytes in an encrypted track, which no player decrypts
//! right: a plan needing them is refused.

use super::{Action, OutTrack, Payload, StitchPlan};
use crate::error::PlanError;
use crate::model::{AuxColumn, CodecConfig, Media, Track};

/// The encryption data of an output track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutEncryption {
    /// Bytes of IV at the start of each entry (`tenc` default_Per_Sample_IV_Size; 0 with a
    /// constant IV).
    pub iv_size: u8,
    /// True when the entries carry subsample maps (the `senc` flag 0x2).
    pub subsamples: bool,
    /// One entry per output sample, in decode order.
    pub aux: AuxColumn,
}

/// The input track a copied segment reads.
fn source(inputs: &[Media], input: usize, track: usize) -> Option<(&Media, &Track)> {
    let m = inputs.get(input)?;
    Some((m, m.tracks.get(track)?))
}

/// The per-sample IV size when `t` is protected.
fn iv_size(t: &Track) -> Option<u8> {
    match t.entry()?.codec {
        CodecConfig::Encrypted { iv_size, .. } => Some(iv_size.unwrap_or(0)),
        _ => None,
    }
}

/// Gives every output track whose inputs are encrypted its [`OutEncryption`], and the plan the
/// inputs' `pssh` boxes (each distinct one once, in input order).
pub(super) fn attach(plan: &mut StitchPlan, inputs: &[Media]) -> Result<(), PlanError> {
    for m in inputs {
        for p in &m.pssh {
            if !plan.pssh.contains(p) {
                plan.pssh.push(p.clone());
            }
        }
    }
    for t in &mut plan.tracks {
        t.encryption = track(t, inputs)?;
    }
    Ok(())
}

fn track(t: &OutTrack, inputs: &[Media]) -> Result<Option<OutEncryption>, PlanError> {
    let label = t.kind.as_str();
    // Encrypted when the track's first copied input track is (compat made them all alike).
    let reference = t.segments.iter().find_map(|s| match s.action {
        Action::Copy { track, .. } => source(inputs, s.input, track),
        Action::Silence => None,
    });
    let Some(iv_size) = reference.and_then(|(_, rt)| iv_size(rt)) else {
        return Ok(None);
    };
    let internal = |file: &str, what: String| PlanError::Unsupported {
        file: file.to_string(),
        track: label.to_string(),
        what: format!("encrypted track: {what} (a planner bug, refused rather than written wrong)"),
    };
    let mut aux = AuxColumn::with_capacity(t.samples.len(), 0);
    for seg in &t.segments {
        let file = inputs.get(seg.input).map_or("?", |m| m.name());
        let Action::Copy {
            track,
            first_sample,
        } = seg.action
        else {
            return Err(PlanError::Unsupported {
                file: file.to_string(),
                track: label.to_string(),
                what: format!(
                    "{} silent frames would be needed in an encrypted track (a gap in its audio, or an input without it); generated frames are clear and cannot be mixed with encrypted ones",
                    seg.count
                ),
            });
        };
        if seg.first != aux.len() {
            return Err(internal(
                file,
                format!(
                    "segments do not follow each other (output sample {})",
                    seg.first
                ),
            ));
        }
        let Some((m, it)) = source(inputs, seg.input, track) else {
            return Err(internal(file, "a segment names no input track".into()));
        };
        let Some(entries) = it.samples.aux() else {
            // compat::check_track refuses protected tracks without encryption data.
            return Err(internal(
                m.name(),
                "input track has no encryption data".into(),
            ));
        };
        let outs = t.samples.iter_range(seg.first..seg.first + seg.count);
        let ins = it
            .samples
            .iter_range(first_sample..first_sample + seg.count);
        if outs.len() != seg.count || ins.len() != seg.count {
            return Err(internal(m.name(), "a segment runs past its samples".into()));
        }
        for (j, (o, i)) in outs.zip(ins).enumerate() {
            let expected = Payload::Input {
                input: seg.input as u32,
                offset: i.offset,
            };
            let entry = entries.get(first_sample + j);
            let (true, Some(entry)) = (o.payload == expected && o.size == i.size, entry) else {
                return Err(internal(
                    m.name(),
                    format!(
                        "output sample {} is not input sample {}",
                        seg.first + j,
                        first_sample + j + 1
                    ),
                ));
            };
            aux.push(entry).map_err(|e| PlanError::LimitExceeded {
                file: m.name().to_string(),
                what: e.to_string(),
            })?;
        }
    }
    if aux.len() != t.samples.len() {
        let file = reference.map_or("?", |(m, _)| m.name());
        return Err(internal(file, "segments do not cover every sample".into()));
    }
    // One senc flag for the whole output track: every entry has a subsample map, or none does.
    let with_map = aux.sizes().filter(|&z| z > usize::from(iv_size)).count();
    if with_map != 0 && with_map != aux.len() {
        let file = reference.map_or("?", |(m, _)| m.name());
        return Err(PlanError::Unsupported {
            file: file.to_string(),
            track: label.to_string(),
            what: format!(
                "{with_map} of {} encrypted samples have subsample maps and the others not: one track's senc describes all samples alike",
                aux.len()
            ),
        });
    }
    if let Some(bad) = aux.sizes().find(|&z| z < usize::from(iv_size)) {
        let file = reference.map_or("?", |(m, _)| m.name());
        return Err(PlanError::Unsupported {
            file: file.to_string(),
            track: label.to_string(),
            what: format!(
                "sample encryption entry of {bad} bytes, shorter than the {iv_size}-byte IV"
            ),
        });
    }
    aux.shrink_to_fit();
    Ok(Some(OutEncryption {
        iv_size,
        subsamples: with_map != 0,
        aux,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{tests_support, FourCC, SampleEntry};
    use crate::plan::Payload;

    /// An encrypted audio-only input whose entry for sample `k` is `[tag, k, 0...]`.
    fn encrypted(dts: &[i64], tag: u8) -> Media {
        let mut t = tests_support::track(48_000, dts);
        t.sample_entries = vec![SampleEntry {
            raw: bytes::Bytes::from_static(b"\0\0\0\x08enca"),
            format: FourCC(*b"enca"),
            codec: CodecConfig::Encrypted {
                original: Some(FourCC(*b"mp4a")),
                scheme: Some(FourCC(*b"cenc")),
                key_id: Some([1; 16]),
                iv_size: Some(8),
            },
        }];
        let mut aux = AuxColumn::new();
        for k in 0..dts.len() {
            aux.push(&[tag, k as u8, 0, 0, 0, 0, 0, 0]).expect("room");
        }
        t.samples.set_aux(aux).expect("one per sample");
        tests_support::media(vec![t])
    }

    #[test]
    fn each_output_sample_gets_its_input_samples_entry() {
        // The second input's second packet overlaps the first: dropped inside its input, so the
        // copied run is split there and the entries stay with their samples.
        let a = encrypted(&[0, 1024, 2048, 3072], 1);
        let b = encrypted(&[0, 1024, 1100, 2048, 3072], 2);
        let plan = crate::plan::plan(&[a, b], &Default::default()).expect("plan");
        let t = &plan.tracks[0];
        let enc = t.encryption.as_ref().expect("encrypted");
        assert_eq!((enc.iv_size, enc.subsamples), (8, false));
        assert_eq!(enc.aux.len(), t.samples.len());
        assert!(t.samples.len() < 9, "a packet was dropped");
        // Input 1's run is split at the dropped packet (its third, at 1100).
        let firsts: Vec<(usize, usize)> = t
            .segments
            .iter()
            .filter_map(|s| match s.action {
                Action::Copy { first_sample, .. } => Some((s.input, first_sample)),
                Action::Silence => None,
            })
            .collect();
        assert_eq!(firsts, [(0, 0), (1, 0), (1, 3)]);
        for (k, s) in t.samples.iter().enumerate() {
            let e = enc.aux.get(k).expect("entry");
            let Payload::Input { input, offset } = s.payload else {
                panic!("sample {k} is generated");
            };
            assert_eq!(usize::from(e[0]), input as usize + 1, "sample {k}: input");
            assert_eq!(u64::from(e[1]) * 10, offset, "sample {k}: input sample");
        }
    }
}
