//! Copy-compatibility: can two inputs' tracks share one output track without re-encoding?
//!
//! H.264 is compared after parsing the avcC parameter sets, AAC after parsing the
//! AudioSpecificConfig; other codecs must have byte-identical sample entries. A mismatch names both
//! files, the track and the parameter, e.g. `b.mp4: video 720x1280 differs from a.mp4: 1280x720`.

use crate::codec::{aac, h264, Difference};
use crate::error::PlanError;
use crate::model::{CodecConfig, Media, SampleEntry, Track};

/// Checks that `other`'s track can be copied into the output track modelled on `reference`'s.
pub fn check(
    reference: (&Media, &Track),
    other: (&Media, &Track),
    track_name: &str,
) -> Result<(), PlanError> {
    let (rm, rt) = reference;
    let (om, ot) = other;
    let incompatible = |d: Difference| {
        PlanError::Incompatible(Box::new(crate::error::Incompatibility {
            file: om.name().to_string(),
            track: track_name.to_string(),
            parameter: d.parameter.to_string(),
            value: d.value,
            reference_file: rm.name().to_string(),
            reference_value: d.reference,
        }))
    };
    let Some(re) = rt.entry() else {
        return Ok(());
    };
    for entry in &ot.sample_entries {
        if let Some(d) = difference(re, entry) {
            return Err(incompatible(d));
        }
    }
    if rt.timescale != ot.timescale && rt.kind == crate::model::TrackKind::Audio {
        // Audio must stay sample-contiguous; different timescales would need resampled timestamps.
        return Err(incompatible(Difference {
            parameter: "timescale",
            reference: rt.timescale.to_string(),
            value: ot.timescale.to_string(),
        }));
    }
    Ok(())
}

/// The first parameter that differs between two sample entries, `None` when they are compatible.
pub fn difference(reference: &SampleEntry, other: &SampleEntry) -> Option<Difference> {
    if reference.raw == other.raw {
        return None;
    }
    let codec = |e: &SampleEntry| e.codec.name(e.format);
    let differ = |parameter, r: String, o: String| {
        Some(Difference {
            parameter,
            reference: r,
            value: o,
        })
    };
    match (&reference.codec, &other.codec) {
        (
            CodecConfig::H264 {
                width: rw,
                height: rh,
                config: rc,
            },
            CodecConfig::H264 {
                width: ow,
                height: oh,
                config: oc,
            },
        ) => match (rc, oc) {
            (Some(rc), Some(oc)) => match h264::compare(rc, oc) {
                Ok(d) => d,
                Err(e) => differ("avcC", "valid".into(), format!("unreadable ({e})")),
            },
            _ if (rw, rh) != (ow, oh) => {
                differ("resolution", format!("{rw}x{rh}"), format!("{ow}x{oh}"))
            }
            // avc3 carries parameter sets in band; the decoder follows them.
            _ => None,
        },
        (CodecConfig::Aac { config: rc, .. }, CodecConfig::Aac { config: oc, .. }) => {
            aac::compare(rc, oc)
        }
        (
            CodecConfig::Video {
                width: rw,
                height: rh,
            },
            CodecConfig::Video {
                width: ow,
                height: oh,
            },
        ) if (rw, rh) != (ow, oh) => {
            differ("resolution", format!("{rw}x{rh}"), format!("{ow}x{oh}"))
        }
        (
            CodecConfig::Audio {
                channels: rc,
                sample_rate: rr,
            },
            CodecConfig::Audio {
                channels: oc,
                sample_rate: or,
            },
        ) if (rc, rr) != (oc, or) => {
            if rr != or {
                differ("sample rate", format!("{rr} Hz"), format!("{or} Hz"))
            } else {
                differ("channels", rc.to_string(), oc.to_string())
            }
        }
        _ if codec(reference) != codec(other) => differ("codec", codec(reference), codec(other)),
        _ => differ(
            "sample description",
            format!("{} bytes", reference.raw.len()),
            format!("{} bytes (different)", other.raw.len()),
        ),
    }
}
