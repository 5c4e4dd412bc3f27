//! Which input sample a planning error comes from, so the message names the damaged input and a
//! place in it (`sample 12 of track 1 (data at byte 4567)`) rather than the input being placed
//! when the error surfaced. Only used on error paths: the searches are linear.

use super::Payload;
use crate::error::{PlanError, SampleRef};
use crate::model::{Media, Track};
use crate::source::Source;

/// `Overflow` located at sample `k` of track `t` of input `m`.
pub(super) fn overflow_at(m: &Media, t: &Track, k: usize, track: &str, what: &str) -> PlanError {
    PlanError::Overflow {
        file: m.name().to_string(),
        track: track.to_string(),
        at: Some(SampleRef {
            track_id: t.id,
            index: k,
            offset: t.samples.get(k).map_or(0, |s| s.offset),
        }),
        what: what.to_string(),
    }
}

/// `Overflow` located at the input sample an output sample was copied from (found by its byte
/// offset); without one (a generated sample), at the input named by `fallback`.
pub(super) fn overflow_at_payload(
    inputs: &[Media],
    payload: Payload,
    fallback: &Media,
    track: &str,
    what: &str,
) -> PlanError {
    if let Payload::Input { input, offset } = payload {
        if let Some(m) = usize::try_from(input).ok().and_then(|i| inputs.get(i)) {
            for t in &m.tracks {
                if let Some(k) = t.samples.iter().position(|s| s.offset == offset) {
                    return overflow_at(m, t, k, track, what);
                }
            }
        }
    }
    PlanError::Overflow {
        file: fallback.name().to_string(),
        track: track.to_string(),
        at: None,
        what: what.to_string(),
    }
}

/// `NoTracks` for input `m`, located at its moov box (found again by walking the top-level box
/// headers: a few small reads, on this error path only) and listing the tracks it does have.
pub(super) fn no_tracks(m: &Media) -> PlanError {
    // No video or audio track at all (NoSamples covers tracks without samples).
    let moov = find_moov(&*m.source);
    let tracks = m
        .tracks
        .iter()
        .map(|t| {
            format!(
                "track {} {}: {} samples",
                t.id,
                t.kind.as_str(),
                t.samples.len()
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    PlanError::NoTracks {
        file: m.name().to_string(),
        moov,
        tracks,
    }
}

/// Offset of the first top-level `moov` box, walking box headers until one is found or a header
/// cannot be read (a damaged tail after the moov does not matter here).
pub(super) fn find_moov(src: &dyn Source) -> Option<u64> {
    let len = src.len();
    let mut offset = 0u64;
    while offset.checked_add(8).is_some_and(|e| e <= len) {
        let mut head = [0u8; 16];
        src.read_at(offset, &mut head[..8]).ok()?;
        if &head[4..8] == b"moov" {
            return Some(offset);
        }
        let size = match u32::from_be_bytes([head[0], head[1], head[2], head[3]]) {
            1 => {
                src.read_at(offset.checked_add(8)?, &mut head[8..]).ok()?;
                u64::from_be_bytes(head[8..16].try_into().ok()?)
            }
            s => u64::from(s),
        };
        if size < 8 {
            return None;
        }
        offset = offset.checked_add(size)?;
    }
    None
}
