//! Copy-compatibility: can two inputs' tracks share one output track without re-encoding?
//!
//! H.264 is compared after parsing the avcC parameter sets, H.265 after parsing the hvcC parameter
//! sets, AAC after parsing the AudioSpecificConfig. Other codecs are compared box by box: the
//! entry's fixed fields and its child boxes must be equal, except what does not affect decoding:
//! `btrt` (bitrate statistics) and the visual entry's `compressorname` (a label). `pasp`, `colr`,
//! `fiel` and the like change how the picture is shown, so they must be equal. For H.265 the other
//! child boxes are compared the same way once the hvcC records agree. A mismatch names both files,
//! the track and the parameter, e.g. `b.mp4: video resolution 720x1280 differs from a.mp4:
//! 1280x720`.
//!
//! Per track ([`check_track`]): encrypted tracks are refused (the per-sample encryption data is not
//! carried), and so are tracks whose samples use more than one sample description, since the output
//! track has one. The display matrix of video tracks must agree ([`rotation`]).

use crate::codec::{aac, h264, h265, Difference};
use crate::demux::mp4::entry::split_entry;
use crate::error::PlanError;
use crate::model::{CodecConfig, FourCC, Media, SampleEntry, Track, TrackKind};

/// Child boxes of a sample entry that never affect decoding: `btrt` holds bitrate statistics
/// (ISO/IEC 14496-12 §8.5.2.2).
const IGNORED_BOXES: [&[u8; 4]; 1] = [b"btrt"];

/// Refuses what seam cannot copy into one output track, whatever the other inputs: encrypted
/// samples and samples using several sample descriptions. A description no sample uses is ignored
/// with a warning.
pub fn check_track(
    m: &Media,
    t: &Track,
    track_name: &str,
    warnings: &mut Vec<String>,
) -> Result<(), PlanError> {
    let unsupported = |what: String| PlanError::Unsupported {
        file: m.name().to_string(),
        track: track_name.to_string(),
        what,
    };
    if let Some(e) = t
        .sample_entries
        .iter()
        .find(|e| matches!(e.codec, CodecConfig::Encrypted { .. }))
    {
        return Err(unsupported(describe_encrypted(e)));
    }
    // Which descriptions the samples use, with the first sample of each of the first two.
    let mut used: Vec<(u16, usize)> = Vec::new();
    for (i, entry) in t.samples.iter().map(|s| s.entry).enumerate() {
        if !used.iter().any(|&(e, _)| e == entry) {
            used.push((entry, i));
            if used.len() > 1 {
                break;
            }
        }
    }
    let n = t.sample_entries.len();
    match used.as_slice() {
        [] | [(0, _)] => {
            if n > 1 {
                warnings.push(format!(
                    "{}: {track_name}: track {} has {n} sample descriptions but its samples use only the first; the others are left out",
                    m.name(),
                    t.id
                ));
            }
            Ok(())
        }
        [(e, _)] => Err(unsupported(format!(
            "every sample uses sample description {} of {n}, not the first: not supported yet",
            u32::from(*e) + 1
        ))),
        [(a, _), (b, i), ..] => Err(unsupported(format!(
            "samples use more than one sample description ({} and {} of {n}; sample {} is the first to switch): one output track has one description, so this is not supported yet",
            u32::from(*a) + 1,
            u32::from(*b) + 1,
            i + 1
        ))),
    }
}

/// `encrypted (scheme cenc, key ID 0123…, original format av01): …not supported yet`.
fn describe_encrypted(e: &SampleEntry) -> String {
    let CodecConfig::Encrypted {
        original,
        scheme,
        key_id,
    } = &e.codec
    else {
        return String::new();
    };
    let or_unknown =
        |f: &Option<FourCC>| f.map_or_else(|| "unknown".to_string(), |f| f.to_string());
    let kid = key_id.map_or_else(
        || "unknown".to_string(),
        |k| k.iter().map(|b| format!("{b:02x}")).collect(),
    );
    format!(
        "encrypted {} ({}, scheme {}, key ID {kid}): copying encrypted samples needs their per-sample encryption data (senc/saiz/saio), which is not supported yet",
        or_unknown(original),
        e.format,
        or_unknown(scheme),
    )
}

/// The display rotation of a track header matrix as `90°`, counterclockwise as ffprobe reports
/// it (`rotation=90` for `{0,-1,0, 1,0,0, 0,0,1}` in 16.16), or the matrix itself when it is not
/// a pure rotation by a multiple of 90 degrees.
pub fn rotation(matrix: &[i32; 9]) -> String {
    const ONE: i32 = 0x10000;
    match (matrix[0], matrix[1], matrix[3], matrix[4]) {
        (ONE, 0, 0, ONE) => "0°".into(),
        (0, b, c, 0) if b == -ONE && c == ONE => "90°".into(),
        (a, 0, 0, d) if a == -ONE && d == -ONE => "180°".into(),
        (0, ONE, c, 0) if c == -ONE => "270°".into(),
        _ => format!(
            "matrix [{}]",
            matrix
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

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
    if rt.kind == TrackKind::Video && rt.header.matrix != ot.header.matrix {
        // The output keeps the first input's matrix: a rotated fragment would show sideways.
        let (r, o) = (rotation(&rt.header.matrix), rotation(&ot.header.matrix));
        let parameter = if r == o {
            "display matrix"
        } else {
            "display rotation"
        };
        let full = |m: &[i32; 9]| format!("{m:?}");
        let (r, o) = if r == o {
            (full(&rt.header.matrix), full(&ot.header.matrix))
        } else {
            (r, o)
        };
        return Err(incompatible(Difference {
            parameter,
            reference: r,
            value: o,
        }));
    }
    // Only the first description is written; check_track refuses tracks using others.
    let (Some(re), Some(oe)) = (rt.entry(), ot.entry()) else {
        return Ok(());
    };
    if let Some(d) = difference(re, oe) {
        return Err(incompatible(d));
    }
    if rt.timescale != ot.timescale && rt.kind == TrackKind::Audio {
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
        (
            CodecConfig::H265 {
                width: rw,
                height: rh,
                config: rc,
            },
            CodecConfig::H265 {
                width: ow,
                height: oh,
                config: oc,
            },
        ) => match (rc, oc) {
            (Some(rc), Some(oc)) => match h265::compare(rc, oc) {
                Ok(Some(d)) => Some(d),
                Ok(None) => boxes_difference(reference, other, &[b"hvcC"]),
                Err(e) => differ("hvcC", "valid".into(), format!("unreadable ({e})")),
            },
            _ if (rw, rh) != (ow, oh) => {
                differ("resolution", format!("{rw}x{rh}"), format!("{ow}x{oh}"))
            }
            // hev1 without hvcC carries parameter sets in band; the decoder follows them.
            _ => boxes_difference(reference, other, &[b"hvcC"]),
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
        _ => boxes_difference(reference, other, &[]).or_else(|| {
            // Entries whose layout seam does not know (or that do not split into boxes): bytes.
            split_entry(&reference.raw)
                .zip(split_entry(&other.raw))
                .is_none()
                .then(|| Difference {
                    parameter: "sample description",
                    reference: format!("{} bytes", reference.raw.len()),
                    value: format!("{} bytes (different)", other.raw.len()),
                })
        }),
    }
}

/// Names of the fixed fields of a visual sample entry body (ISO/IEC 14496-12 §12.1.3.2), as
/// (start, end, name); `compressorname` (32..64 of the fields after data_reference_index) is left
/// out on purpose: it is a label.
const VISUAL_FIELDS: [(usize, usize, &str); 7] = [
    (0, 8, "data_reference_index"),
    (8, 24, "reserved fields"),
    (24, 28, "width/height"),
    (28, 36, "resolution (dpi)"),
    (36, 40, "reserved fields"),
    (40, 42, "frame_count"),
    (74, 78, "depth"),
];

/// Names of the fixed fields of an audio sample entry body (§12.2.3.2 and QuickTime sound
/// descriptions v1/v2), as (start, end, name).
const AUDIO_FIELDS: [(usize, usize, &str); 6] = [
    (0, 8, "data_reference_index"),
    (8, 16, "sound description version"),
    (16, 18, "channel count"),
    (18, 20, "sample size"),
    (20, 24, "reserved fields"),
    (24, 28, "sample rate"),
];

/// The first difference between two sample entries compared field by field and child box by child
/// box, ignoring [`IGNORED_BOXES`], the visual `compressorname` and the child boxes in `parsed`
/// (already compared by the caller). `None` when they agree, or when either entry cannot be split
/// (the caller decides).
fn boxes_difference(
    reference: &SampleEntry,
    other: &SampleEntry,
    parsed: &[&[u8; 4]],
) -> Option<Difference> {
    let (r, o) = (split_entry(&reference.raw)?, split_entry(&other.raw)?);
    let differ = |parameter: &'static str, reference: String, value: String| {
        Some(Difference {
            parameter,
            reference,
            value,
        })
    };
    if r.fields != o.fields {
        let visual = r.fields.len() == 78;
        let names: &[(usize, usize, &str)] = if visual {
            &VISUAL_FIELDS
        } else {
            &AUDIO_FIELDS
        };
        for &(start, end, name) in names {
            let (a, b) = (r.fields.get(start..end), o.fields.get(start..end));
            if a != b {
                let hex = |v: Option<&[u8]>| v.map(hex_bytes).unwrap_or_default();
                return differ(name, hex(a), hex(b));
            }
        }
        let tail = if visual { 78 } else { 28 };
        if r.fields.get(tail..) != o.fields.get(tail..) {
            return differ(
                "QuickTime sound description fields",
                hex_bytes(r.fields.get(tail..).unwrap_or_default()),
                hex_bytes(o.fields.get(tail..).unwrap_or_default()),
            );
        }
    }
    let keep = |(kind, _): &&(FourCC, &[u8])| {
        !IGNORED_BOXES.contains(&&kind.0) && !parsed.contains(&&kind.0)
    };
    let rk: Vec<_> = r.children.iter().filter(keep).collect();
    let ok: Vec<_> = o.children.iter().filter(keep).collect();
    for i in 0..rk.len().max(ok.len()) {
        match (rk.get(i), ok.get(i)) {
            (Some((rt, rb)), Some((ot, ob))) if rt == ot => {
                if rb != ob {
                    let at = rb
                        .iter()
                        .zip(ob.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(rb.len().min(ob.len()));
                    return differ(
                        "box",
                        format!(
                            "'{rt}' {} bytes, at {at}: {}",
                            rb.len(),
                            hex_bytes(rb.get(at..).unwrap_or_default())
                        ),
                        format!(
                            "'{ot}' {} bytes, at {at}: {}",
                            ob.len(),
                            hex_bytes(ob.get(at..).unwrap_or_default())
                        ),
                    );
                }
            }
            (r, o) => {
                let name = |b: Option<&&(FourCC, &[u8])>| {
                    b.map_or_else(|| "none".to_string(), |(k, _)| format!("'{k}'"))
                };
                return differ("box", name(r), name(o));
            }
        }
    }
    None
}

/// Up to 8 bytes in hex, `…` when there are more.
fn hex_bytes(v: &[u8]) -> String {
    let mut s: String = v.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if v.len() > 8 {
        s.push('…');
    }
    s
}
