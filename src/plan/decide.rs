//! Per fragment and output track: copy, copy under a new sample entry, re-encode, silence or
//! refuse, each with the reason (`seam plan`, issue 8 item 1).
//!
//! The first input that has a track sets the output format of that track; every other input's
//! track is classified against it with the rules the planner applies ([`entries::classify`] for
//! the sample entries, the display matrix for video). A difference in frame rate alone never
//! forces a re-encode: MP4 carries per-sample durations.

use serde::Serialize;

use super::compat::{self, rotation};
use super::entries::{self, Class};
use super::roles::{kind_count, role_track, Role};
use crate::codec::Difference;
use crate::model::{Media, Track, TrackKind};

/// What seam does with one input's part of one output track.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Decision {
    /// Copied bit-exact under the output's (first) sample entry.
    Copy,
    /// Copied bit-exact; the decoder is handed other parameter sets at the join.
    CopyNewParameterSets,
    /// The picture or audio format differs: the fragment must be decoded and re-encoded.
    Reencode,
    /// The input has no such track: silence (audio) or nothing (other kinds) for its span.
    Fill,
    /// A track other than audio and video missing or different in some input: the planner
    /// leaves the whole track out of the output.
    Drop,
    /// Differs in a way neither copying nor re-encoding resolves (encryption, unknown boxes).
    Refuse,
}

/// Why a fragment's track gets its [`Decision`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrackDecision {
    /// The output track, as messages name it: `video`, `audio`, `audio track 2`...
    pub track: String,
    /// `video`, `audio` or `other`.
    pub kind: &'static str,
    /// Index of the input track playing it (in the input's track list), if the input has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_track: Option<usize>,
    /// The first input with this track sets its output format (and is copied).
    pub sets_format: bool,
    /// What seam does.
    pub decision: Decision,
    /// Why, in words.
    pub reason: String,
    /// The parameter that differs from the output format, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// Its value in the output format.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_value: Option<String>,
    /// Its value in this fragment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// The decisions for one input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FragmentDecisions {
    /// Index of the input (in the order given, parts of playlists and split files counted).
    pub input: usize,
    /// Its name.
    pub file: String,
    /// One entry per output track, in output track order.
    pub tracks: Vec<TrackDecision>,
}

/// The candidate output tracks, in the planner's order: every video role, then audio (as many of
/// each as the input with the most of that kind has), then the first input's other tracks.
pub(super) fn output_roles(inputs: &[Media]) -> Vec<Role> {
    let most = |k| inputs.iter().map(|m| kind_count(m, k)).max().unwrap_or(0);
    let mut roles: Vec<Role> = (0..most(TrackKind::Video)).map(Role::Video).collect();
    roles.extend((0..most(TrackKind::Audio)).map(Role::Audio));
    let others = inputs
        .first()
        .map_or(0, |m| kind_count(m, TrackKind::Other));
    roles.extend((0..others).map(Role::Other));
    roles
}

/// The input and track setting the output format of `role`: the first input that has it.
pub(super) fn reference(inputs: &[Media], role: Role) -> Option<(usize, &Track)> {
    inputs
        .iter()
        .enumerate()
        .find_map(|(i, m)| role_track(m, role).map(|t| (i, &m.tracks[t])))
}

/// Classifies every input's part of every output track.
pub fn decide(inputs: &[Media]) -> Vec<FragmentDecisions> {
    let roles = output_roles(inputs);
    inputs
        .iter()
        .enumerate()
        .map(|(i, m)| FragmentDecisions {
            input: i,
            file: m.name().to_string(),
            tracks: roles
                .iter()
                .map(|&r| TrackDecision {
                    kind: r.kind().0.as_str(),
                    ..decide_track(inputs, i, r)
                })
                .collect(),
        })
        .collect()
}

/// A decision without a differing parameter (`kind` and the track index are filled in later).
fn plain(label: String, decision: Decision, reason: &str) -> TrackDecision {
    TrackDecision {
        track: label,
        kind: "",
        input_track: None,
        sets_format: false,
        decision,
        reason: reason.to_string(),
        parameter: None,
        output_value: None,
        value: None,
    }
}

fn decide_track(inputs: &[Media], input: usize, role: Role) -> TrackDecision {
    let m = &inputs[input];
    let Some((ri, rt)) = reference(inputs, role) else {
        return plain(
            format!("{role:?}"),
            Decision::Refuse,
            "no input has this track",
        );
    };
    let label = role.label(rt);
    if let Role::Other(_) = role {
        return other_track(inputs, input, role, label);
    }
    let Some(ti) = role_track(m, role) else {
        let reason = match rt.kind {
            TrackKind::Audio => {
                format!("no {label} here: silent frames of the output's format fill its span")
            }
            _ => format!("no {label} here: nothing is shown for its span"),
        };
        return plain(label, Decision::Fill, &reason);
    };
    let verdict = decide_present(inputs, input, (ri, rt), ti, label);
    TrackDecision {
        input_track: Some(ti),
        sets_format: ri == input,
        ..verdict
    }
}

/// The decision for an input that has the track (index `ti`), against the reference `rt` of
/// input `ri`.
fn decide_present(
    inputs: &[Media],
    input: usize,
    (ri, rt): (usize, &Track),
    ti: usize,
    label: String,
) -> TrackDecision {
    let m = &inputs[input];
    if ri == input {
        return plain(
            label,
            Decision::Copy,
            "sets the output format of this track",
        );
    }
    let t = &m.tracks[ti];
    if t.kind == TrackKind::Video && t.header.matrix != rt.header.matrix {
        return differing(
            label,
            Decision::Reencode,
            "other display orientation",
            Difference {
                parameter: "display rotation",
                reference: rotation(&rt.header.matrix),
                value: rotation(&t.header.matrix),
            },
        );
    }
    let Some(reference_entry) = rt.entry() else {
        return plain(
            label,
            Decision::Refuse,
            "the output track has no sample description",
        );
    };
    // The entries this input's samples use: the worst verdict among them decides.
    let mut verdict = plain(label.clone(), Decision::Copy, "identical format");
    // One description (the usual case) needs no pass over the samples.
    let mut used: Vec<u16> = if t.sample_entries.len() > 1 {
        let mut u: Vec<u16> = Vec::new();
        for e in t.samples.iter().map(|s| s.entry) {
            if !u.contains(&e) {
                u.push(e);
            }
        }
        u
    } else {
        Vec::new()
    };
    if used.is_empty() {
        used.push(0);
    }
    for k in used {
        let Some(e) = t.sample_entries.get(usize::from(k)) else {
            return plain(
                label,
                Decision::Refuse,
                "a sample uses a missing sample description",
            );
        };
        let d = match entries::classify(reference_entry, e) {
            Class::Same => continue,
            Class::NewEntry(d) if t.kind == TrackKind::Video => differing(
                label.clone(),
                Decision::CopyNewParameterSets,
                "same picture format, other parameter sets",
                d,
            ),
            Class::NewEntry(d) | Class::Refused(d) => refused(label.clone(), t.kind, d),
        };
        if rank(d.decision) > rank(verdict.decision) {
            verdict = d;
        }
    }
    if verdict.decision == Decision::Copy && t.kind == TrackKind::Audio {
        if let Err(e) = compat::check_timescale((&inputs[ri], rt), (m, t), &label) {
            return plain(label, Decision::Reencode, &e.to_string());
        }
    }
    verdict
}

/// Timecode, metadata and other tracks are copied only when every input has the same one (one
/// sample description, same handler and timescale); otherwise the planner drops the track.
fn other_track(inputs: &[Media], input: usize, role: Role, label: String) -> TrackDecision {
    let first = inputs
        .first()
        .and_then(|m| role_track(m, role).map(|t| &m.tracks[t]));
    let same = |m: &Media| {
        let o = role_track(m, role).map(|t| &m.tracks[t]);
        match (first, o) {
            (Some(f), Some(o)) => {
                f.sample_entries.len() == 1
                    && o.sample_entries.len() == 1
                    && f.handler == o.handler
                    && f.timescale == o.timescale
                    && matches!((f.entry(), o.entry()), (Some(a), Some(b)) if a.raw == b.raw)
            }
            _ => false,
        }
    };
    let (decision, reason) = if inputs.iter().all(same) {
        (Decision::Copy, "the same track in every input")
    } else if same(&inputs[input]) {
        (
            Decision::Drop,
            "another input lacks this track or has a different one: it is left out",
        )
    } else {
        (
            Decision::Drop,
            "missing or different here: the track is left out of the output",
        )
    };
    let ti = role_track(&inputs[input], role);
    TrackDecision {
        track: label,
        kind: "",
        input_track: ti,
        sets_format: input == 0 && ti.is_some(),
        decision,
        reason: reason.into(),
        parameter: None,
        output_value: None,
        value: None,
    }
}

/// Severity order: the worst decision among a track's sample entries wins.
fn rank(d: Decision) -> u8 {
    match d {
        Decision::Copy | Decision::Fill | Decision::Drop => 0,
        Decision::CopyNewParameterSets => 1,
        Decision::Reencode => 2,
        Decision::Refuse => 3,
    }
}

/// A difference that sample entries cannot carry: re-encode what a decoder can re-encode (other
/// picture, other audio format, other codec), refuse the rest.
fn refused(label: String, kind: TrackKind, d: Difference) -> TrackDecision {
    let why = match (kind, d.parameter) {
        (TrackKind::Video, "resolution" | "chroma format" | "bit depth") => "other picture format",
        (TrackKind::Audio, "sample rate" | "channels" | "codec profile" | "frame length") => {
            "other audio format"
        }
        (TrackKind::Video | TrackKind::Audio, "codec") => "other codec",
        // Encryption, pasp/colr and unknown boxes: nothing seam can re-encode into the same
        // description.
        _ => return differing(label, Decision::Refuse, "other sample description", d),
    };
    differing(label, Decision::Reencode, why, d)
}

fn differing(label: String, decision: Decision, why: &str, d: Difference) -> TrackDecision {
    TrackDecision {
        track: label,
        kind: "",
        input_track: None,
        sets_format: false,
        decision,
        reason: format!("{why}: {} {} -> {}", d.parameter, d.reference, d.value),
        parameter: Some(d.parameter.to_string()),
        output_value: Some(d.reference),
        value: Some(d.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_decision_wins() {
        assert!(rank(Decision::Refuse) > rank(Decision::Reencode));
        assert!(rank(Decision::Reencode) > rank(Decision::CopyNewParameterSets));
        assert!(rank(Decision::CopyNewParameterSets) > rank(Decision::Copy));
    }

    #[test]
    fn picture_and_audio_format_changes_are_reencoded_others_refused() {
        let d = |p: &'static str| Difference {
            parameter: p,
            reference: "a".into(),
            value: "b".into(),
        };
        let v = refused("video".into(), TrackKind::Video, d("resolution"));
        assert_eq!(v.decision, Decision::Reencode);
        assert_eq!(v.reason, "other picture format: resolution a -> b");
        let a = refused("audio".into(), TrackKind::Audio, d("sample rate"));
        assert_eq!(a.decision, Decision::Reencode);
        let e = refused("video".into(), TrackKind::Video, d("encryption"));
        assert_eq!(e.decision, Decision::Refuse);
        let c = refused("audio".into(), TrackKind::Audio, d("codec"));
        assert_eq!(
            (c.decision, c.reason.as_str()),
            (Decision::Reencode, "other codec: codec a -> b")
        );
    }
}
