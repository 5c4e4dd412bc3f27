//! Which input sample a planning error comes from, so the message names the damaged input and a
//! place in it (`sample 12 of track 1 (data at byte 4567)`) rather than the input being placed
//! when the error surfaced. Only used on error paths: the searches are linear.

use super::Payload;
use crate::error::{PlanError, SampleRef};
use crate::model::{Media, Track};

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
