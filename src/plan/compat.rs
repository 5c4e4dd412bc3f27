//! Copy-compatibility: can two inputs' tracks share one output track without re-encoding?
//!
//! H.264 is compared after parsing the avcC parameter sets, H.265 after parsing the hvcC parameter
//! sets, AAC after parsing the AudioSpecificConfig. Other codecs are compared box by box: the
//! entry's fixed fields and its child boxes must be equal, except what does not affect decoding or
//! display: `btrt` (bitrate statistics), and the visual entry's `compressorname`, resolution (dpi)
//! and QuickTime vendor/quality words (labels). `pasp`, `colr`, `fiel` and the like change how the
//! picture is shown, so they must be equal; for H.264 and H.265 they are compared the same way once
//! the avcC/hvcC records agree. A mismatch names both files, the track and the parameter, e.g.
//! `b.mp4: video resolution 720x1280 differs from a.mp4: 1280x720`.
//!
//! Encrypted tracks (ISO/IEC 23001-7) are copied when every input's track uses the same scheme and
//! key ID; their entries are then compared box by box (`sinf` included), since the codec boxes
//! under a protected entry are not parsed.
//!
//! Per track ([`check_track`]): an encrypted track whose per-sample encryption data was not found
//! is refused. Which sample entries may share an output track (several when only H.264/H.265
//! parameter sets differ) is decided in `entries.rs` with [`difference`]. The display matrix of
//! video tracks must agree ([`rotation`]).

use crate::codec::{aac, h264, h265, Difference};
use crate::demux::mp4::entry::split_entry;
use crate::error::PlanError;
use crate::model::{CodecConfig, FourCC, Media, SampleEntry, Track, TrackKind};

/// Child boxes of a sample entry that never affect decoding: `btrt` holds bitrate statistics
/// (ISO/IEC 14496-12 §8.5.2.2).
const IGNORED_BOXES: [&[u8; 4]; 1] = [b"btrt"];

/// Refuses what seam cannot copy into one output track, whatever the other inputs: encrypted
/// samples without their encryption data. A description no sample uses is left out with a
/// warning.
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
        // The output carries each sample's IV and subsample map (its auxiliary information) with
        // its ciphertext; without them the samples cannot be decrypted.
        if t.samples.aux().is_none() && !t.samples.is_empty() {
            return Err(unsupported(format!(
                "{}: its samples' encryption data (IVs, subsample maps) was not found: no senc, or saiz/saio, for every sample",
                describe_encrypted(e)
            )));
        }
    }
    // Several used descriptions are sorted out by `entries::role_entries` (kept when only H.264/H.265
    // parameter sets differ); descriptions no sample uses are left out of the output.
    let n = t.sample_entries.len();
    if n > 1 {
        let mut used = vec![false; n];
        for s in t.samples.iter() {
            if let Some(u) = used.get_mut(usize::from(s.entry)) {
                *u = true;
            }
        }
        let unused = used.iter().filter(|&&u| !u).count();
        if unused > 0 && !t.samples.is_empty() {
            let which = if n - unused == 1 && used.first() == Some(&true) {
                "the first".to_string()
            } else {
                format!("{} of them", n - unused)
            };
            warnings.push(format!(
                "{}: {track_name}: track {} has {n} sample descriptions but its samples use only {which}; the others are left out",
                m.name(),
                t.id,
            ));
        }
    }
    Ok(())
}

/// `encrypted avc1 (encv, scheme cenc, key ID 0123…)`, or `clear` for an unprotected entry.
pub fn describe_encrypted(e: &SampleEntry) -> String {
    let CodecConfig::Encrypted {
        original,
        scheme,
        key_id,
        ..
    } = &e.codec
    else {
        return format!("clear {}", e.format);
    };
    let or_unknown =
        |f: &Option<FourCC>| f.map_or_else(|| "unknown".to_string(), |f| f.to_string());
    let kid = key_id.map_or_else(
        || "unknown".to_string(),
        |k| k.iter().map(|b| format!("{b:02x}")).collect(),
    );
    format!(
        "encrypted {} ({}, scheme {}, key ID {kid})",
        or_unknown(original),
        e.format,
        or_unknown(scheme),
    )
}

/// The scheme and key ID of a protected entry (`None` for a clear one).
fn protection(e: &SampleEntry) -> Option<(Option<FourCC>, Option<[u8; 16]>)> {
    match &e.codec {
        CodecConfig::Encrypted { scheme, key_id, .. } => Some((*scheme, *key_id)),
        _ => None,
    }
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
    // The sample entries themselves are compared by `entries::role_entries`, which allows those
    // differing only in H.264/H.265 parameter sets as further output entries; the timescale after
    // them ([`check_timescale`]).
    Ok(())
}

/// Checks that `other`'s audio track has the reference's timescale: audio must stay
/// sample-contiguous, and different timescales would need resampled timestamps.
pub fn check_timescale(
    reference: (&Media, &Track),
    other: (&Media, &Track),
    track_name: &str,
) -> Result<(), PlanError> {
    let ((rm, rt), (om, ot)) = (reference, other);
    if rt.timescale != ot.timescale && rt.kind == TrackKind::Audio {
        return Err(PlanError::Incompatible(Box::new(
            crate::error::Incompatibility {
                file: om.name().to_string(),
                track: track_name.to_string(),
                parameter: "timescale".into(),
                value: ot.timescale.to_string(),
                reference_file: rm.name().to_string(),
                reference_value: rt.timescale.to_string(),
            },
        )));
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
    // Encrypted samples are copied as they are: every input must use the same scheme and key, or
    // a player would decrypt some with the wrong one (or try to decrypt clear samples).
    match (protection(reference), protection(other)) {
        (None, None) => {}
        (r, o) if r != o => {
            return differ(
                "encryption",
                describe_encrypted(reference),
                describe_encrypted(other),
            )
        }
        // Same scheme and key: the codec configuration under the protection as for clear
        // entries, then the rest of the entries (sinf included) box by box.
        _ => {
            return protected_difference(reference, other).or_else(|| {
                (split_entry(&reference.raw).is_none() || split_entry(&other.raw).is_none()).then(
                    || Difference {
                        parameter: "sample description",
                        reference: format!("{} bytes", reference.raw.len()),
                        value: format!("{} bytes (different)", other.raw.len()),
                    },
                )
            })
        }
    }
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
                Ok(Some(d)) => Some(d),
                // pasp, colr, fiel... of the first input describe every output sample.
                Ok(None) => boxes_difference(reference, other, &[b"avcC"]),
                Err(e) => differ("avcC", "valid".into(), format!("unreadable ({e})")),
            },
            _ if (rw, rh) != (ow, oh) => {
                differ("resolution", format!("{rw}x{rh}"), format!("{ow}x{oh}"))
            }
            // avc3 carries parameter sets in band; the decoder follows them.
            _ => boxes_difference(reference, other, &[b"avcC"]),
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

/// The first difference between two protected entries of one scheme and key: their `avcC`,
/// `hvcC` or `esds` parsed and compared as for clear entries (esds bitrates ignored), then every
/// other field and child box. `None` when they agree or do not split into boxes.
fn protected_difference(reference: &SampleEntry, other: &SampleEntry) -> Option<Difference> {
    let (r, o) = (split_entry(&reference.raw)?, split_entry(&other.raw)?);
    // A child box's body (after its 8-byte header; split_entry made sure it is whole).
    let body = |p: &crate::demux::mp4::entry::EntryParts<'_>, kind: &[u8; 4]| -> Option<Vec<u8>> {
        p.children
            .iter()
            .find(|(k, _)| &k.0 == kind)
            .and_then(|(_, b)| b.get(8..))
            .map(<[u8]>::to_vec)
    };
    let mut parsed: Vec<&[u8; 4]> = Vec::new();
    if let (Some(rb), Some(ob)) = (body(&r, b"avcC"), body(&o, b"avcC")) {
        if let (Ok(rc), Ok(oc)) = (
            h264::AvcDecoderConfig::parse(&rb),
            h264::AvcDecoderConfig::parse(&ob),
        ) {
            if let Ok(d) = h264::compare(&rc, &oc) {
                if d.is_some() {
                    return d;
                }
                parsed.push(b"avcC");
            }
        }
    }
    if let (Some(rb), Some(ob)) = (body(&r, b"hvcC"), body(&o, b"hvcC")) {
        if let (Ok(rc), Ok(oc)) = (
            h265::HevcDecoderConfig::parse(&rb),
            h265::HevcDecoderConfig::parse(&ob),
        ) {
            if let Ok(d) = h265::compare(&rc, &oc) {
                if d.is_some() {
                    return d;
                }
                parsed.push(b"hvcC");
            }
        }
    }
    if let (Some(rb), Some(ob)) = (body(&r, b"esds"), body(&o, b"esds")) {
        let asc = |b: &[u8]| {
            let es = aac::parse_esds(b.get(4..)?).ok()?;
            aac::AudioSpecificConfig::parse(&es.decoder_specific_info?).ok()
        };
        if let (Some(ra), Some(oa)) = (asc(&rb), asc(&ob)) {
            if let Some(d) = aac::compare(&ra, &oa) {
                return Some(d);
            }
            parsed.push(b"esds");
        }
    }
    boxes_difference(reference, other, &parsed)
}

/// The fixed fields of a visual sample entry body that are compared (ISO/IEC 14496-12 §12.1.3.2),
/// as (start, end, name). Left out on purpose, as they do not change decoding or display: bytes
/// 8..24 (pre_defined/reserved in ISO; version, revision, vendor and temporal/spatial quality in a
/// QuickTime video sample description, which qtmux fills in), 28..36 (horizontal/vertical
/// resolution in dpi) and 42..74 (`compressorname`, a label).
const VISUAL_FIELDS: [(usize, usize, &str); 5] = [
    (0, 8, "data_reference_index"),
    (24, 28, "width/height"),
    (36, 40, "reserved fields"),
    (40, 42, "frame_count"),
    (74, 78, "depth/colour table"),
];

/// The fixed fields of an audio sample entry body that are compared (§12.2.3.2 and QuickTime sound
/// descriptions), as (start, end, name); left out: bytes 10..16 (QuickTime revision level and
/// vendor). The version 1/2 extension after byte 28 is compared as a whole.
const AUDIO_FIELDS: [(usize, usize, &str); 6] = [
    (0, 8, "data_reference_index"),
    (8, 10, "sound description version"),
    (16, 18, "channel count"),
    (18, 20, "sample size"),
    (20, 24, "compression ID/packet size"),
    (24, 28, "sample rate"),
];

/// A `pasp` box saying pixels are square (ISO/IEC 14496-12 §12.1.4: hSpacing equal to vSpacing)
/// says what its absence says; entries written by muxers that add it (ffmpeg's mov muxer) and by
/// those that do not (entries seam builds for TS and FLV inputs) are the same.
fn square_pixels(kind: &FourCC, b: &[u8]) -> bool {
    &kind.0 == b"pasp" && b.len() >= 8 && b.get(b.len() - 8..b.len() - 4) == b.get(b.len() - 4..)
}

/// The first difference between two sample entries compared field by field and child box by child
/// box, ignoring [`IGNORED_BOXES`], the fields left out of [`VISUAL_FIELDS`]/[`AUDIO_FIELDS`] and
/// the child boxes in `parsed` (already compared by the caller). `None` when they agree, or when either entry cannot be split
/// (the caller decides).
pub(super) fn boxes_difference(
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
    let keep = |(kind, b): &&(FourCC, &[u8])| {
        !IGNORED_BOXES.contains(&&kind.0) && !parsed.contains(&&kind.0) && !square_pixels(kind, b)
    };
    let rk: Vec<_> = r.children.iter().filter(keep).collect();
    let ok: Vec<_> = o.children.iter().filter(keep).collect();
    for i in 0..rk.len().max(ok.len()) {
        match (rk.get(i), ok.get(i)) {
            (Some((rt, rb)), Some((ot, ob))) if rt == ot => {
                if rb.len() != ob.len() {
                    return differ(
                        "box",
                        format!("'{rt}' of {} bytes", rb.len()),
                        format!("'{ot}' of {} bytes", ob.len()),
                    );
                }
                if rb != ob {
                    // Same size: the first differing byte of the box (header included) and on.
                    let at = rb
                        .iter()
                        .zip(ob.iter())
                        .position(|(a, b)| a != b)
                        .unwrap_or(0);
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

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    /// A box: size, type, body.
    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut v = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(body);
        v
    }

    /// A `vp09` visual sample entry of 320x240 with `name` as compressorname and `kids` as
    /// children.
    fn visual(name: &[u8], depth: u16, kids: &[Vec<u8>]) -> SampleEntry {
        let mut body = vec![0u8; 6];
        body.extend_from_slice(&1u16.to_be_bytes()); // data_reference_index
        body.extend_from_slice(&[0u8; 16]);
        body.extend_from_slice(&320u16.to_be_bytes());
        body.extend_from_slice(&240u16.to_be_bytes());
        body.extend_from_slice(&0x0048_0000u32.to_be_bytes());
        body.extend_from_slice(&0x0048_0000u32.to_be_bytes());
        body.extend_from_slice(&[0u8; 4]);
        body.extend_from_slice(&1u16.to_be_bytes()); // frame_count
        let mut compressor = [0u8; 32];
        compressor[0] = name.len() as u8;
        compressor[1..=name.len()].copy_from_slice(name);
        body.extend_from_slice(&compressor);
        body.extend_from_slice(&depth.to_be_bytes());
        body.extend_from_slice(&(-1i16).to_be_bytes());
        for k in kids {
            body.extend_from_slice(k);
        }
        SampleEntry {
            raw: Bytes::from(boxed(b"vp09", &body)),
            format: FourCC(*b"vp09"),
            codec: CodecConfig::Video {
                width: 320,
                height: 240,
            },
        }
    }

    /// An `Opus` audio sample entry with a `dOps` body.
    fn opus(dops: &[u8], extra: &[u8]) -> SampleEntry {
        let mut body = vec![0u8; 6];
        body.extend_from_slice(&1u16.to_be_bytes());
        body.extend_from_slice(&[0u8; 8]);
        body.extend_from_slice(&2u16.to_be_bytes());
        body.extend_from_slice(&16u16.to_be_bytes());
        body.extend_from_slice(&[0u8; 4]);
        body.extend_from_slice(&(48000u32 << 16).to_be_bytes());
        body.extend_from_slice(&boxed(b"dOps", dops));
        body.extend_from_slice(extra);
        SampleEntry {
            raw: Bytes::from(boxed(b"Opus", &body)),
            format: FourCC(*b"Opus"),
            codec: CodecConfig::Audio {
                channels: 2,
                sample_rate: 48000,
            },
        }
    }

    fn vpcc(profile: u8) -> Vec<u8> {
        boxed(b"vpcC", &[1, 0, 0, 0, profile, 10, 0x82, 2, 2, 2, 0, 0])
    }

    fn btrt(rate: u32) -> Vec<u8> {
        let mut b = vec![0u8; 4];
        b.extend_from_slice(&rate.to_be_bytes());
        b.extend_from_slice(&rate.to_be_bytes());
        boxed(b"btrt", &b)
    }

    fn pasp(h: u32, v: u32) -> Vec<u8> {
        let mut b = h.to_be_bytes().to_vec();
        b.extend_from_slice(&v.to_be_bytes());
        boxed(b"pasp", &b)
    }

    #[test]
    fn rotations_are_named_as_ffprobe_does() {
        let m = |a: i32, b: i32, c: i32, d: i32| [a, b, 0, c, d, 0, 0, 0, 0x4000_0000];
        const ONE: i32 = 0x10000;
        assert_eq!(rotation(&m(ONE, 0, 0, ONE)), "0°");
        // fixtures/rotated.mp4 (ffprobe: rotation=90).
        assert_eq!(rotation(&m(0, -ONE, ONE, 0)), "90°");
        assert_eq!(rotation(&m(-ONE, 0, 0, -ONE)), "180°");
        assert_eq!(rotation(&m(0, ONE, -ONE, 0)), "270°");
        assert!(
            rotation(&m(-ONE, 0, 0, ONE)).starts_with("matrix ["),
            "a mirror"
        );
    }

    #[test]
    fn btrt_and_compressorname_are_ignored() {
        let a = visual(b"libvpx", 24, &[vpcc(0), btrt(1000)]);
        let b = visual(b"other encoder", 24, &[vpcc(0), btrt(2_000_000)]);
        assert_ne!(a.raw, b.raw);
        assert_eq!(difference(&a, &b), None);
        // No btrt at all on one side.
        let c = visual(b"", 24, &[vpcc(0)]);
        assert_eq!(difference(&a, &c), None);
    }

    #[test]
    fn a_differing_child_box_is_named() {
        let a = visual(b"", 24, &[vpcc(0), pasp(1, 1)]);
        let d = difference(&a, &visual(b"", 24, &[vpcc(1), pasp(1, 1)])).expect("differs");
        assert_eq!(d.parameter, "box");
        assert!(
            d.reference.starts_with("'vpcC' 20 bytes, at 12: 00"),
            "{d:?}"
        );
        assert!(d.value.starts_with("'vpcC' 20 bytes, at 12: 01"), "{d:?}");
        // pasp changes the displayed shape: not ignored, unless it says pixels are square (what its
        // absence says).
        let wide = visual(b"", 24, &[vpcc(0), pasp(4, 3)]);
        let d = difference(&wide, &visual(b"", 24, &[vpcc(0), pasp(3, 3)])).expect("differs");
        assert!(d.reference.starts_with("'pasp'"), "{d:?}");
        assert_eq!(difference(&a, &visual(b"", 24, &[vpcc(0)])), None);
        // A box missing on one side.
        let d = difference(&wide, &visual(b"", 24, &[vpcc(0)])).expect("differs");
        assert_eq!((d.reference.as_str(), d.value.as_str()), ("'pasp'", "none"));
    }

    #[test]
    fn a_differing_field_is_named() {
        let a = visual(b"", 24, &[vpcc(0)]);
        let d = difference(&a, &visual(b"", 32, &[vpcc(0)])).expect("differs");
        assert_eq!(
            (d.parameter, d.reference.as_str(), d.value.as_str()),
            ("depth/colour table", "0018ffff", "0020ffff")
        );
    }

    #[test]
    fn opaque_audio_entries_compare_box_by_box() {
        let a = opus(&[0, 2, 1, 56, 0, 0, 0xbb, 0x80, 0, 0, 0], &[]);
        // The same with a btrt: compatible.
        assert_eq!(
            difference(
                &a,
                &opus(&[0, 2, 1, 56, 0, 0, 0xbb, 0x80, 0, 0, 0], &btrt(9))
            ),
            None
        );
        // Another pre-skip: named as the dOps box.
        let d = difference(
            &a,
            &opus(&[0, 2, 1, 0x38 + 1, 0, 0, 0xbb, 0x80, 0, 0, 0], &[]),
        )
        .expect("differs");
        assert_eq!(d.parameter, "box");
        assert!(d.reference.starts_with("'dOps' 19 bytes, at 11"), "{d:?}");
        // A QuickTime terminator after the children changes nothing.
        assert_eq!(
            difference(
                &a,
                &opus(&[0, 2, 1, 56, 0, 0, 0xbb, 0x80, 0, 0, 0], &[0, 0, 0, 0])
            ),
            None
        );
    }

    #[test]
    fn unsplittable_entries_fall_back_to_bytes() {
        let e = |b: &[u8]| SampleEntry {
            raw: Bytes::from(boxed(b"xyz1", b)),
            format: FourCC(*b"xyz1"),
            codec: CodecConfig::Other,
        };
        let d = difference(&e(b"one"), &e(b"two")).expect("differs");
        assert_eq!(d.parameter, "sample description");
        assert_eq!(difference(&e(b"one"), &e(b"one")), None);
    }

    /// `e` (a vp09 entry) protected: renamed `encv`, with a sinf (frma, schm `cenc`, tenc `kid`).
    fn protect(e: &SampleEntry, kid: u8) -> SampleEntry {
        let mut schm = vec![0u8; 4];
        schm.extend_from_slice(b"cenc");
        schm.extend_from_slice(&0x10000u32.to_be_bytes());
        let mut tenc = vec![0u8; 4 + 2];
        tenc.extend_from_slice(&[1, 8]);
        tenc.extend_from_slice(&[kid; 16]);
        let sinf = [
            boxed(b"frma", b"vp09"),
            boxed(b"schm", &schm),
            boxed(b"schi", &boxed(b"tenc", &tenc)),
        ]
        .concat();
        let mut raw = e.raw.to_vec();
        raw[4..8].copy_from_slice(b"encv");
        raw.extend_from_slice(&boxed(b"sinf", &sinf));
        let size = (raw.len() as u32).to_be_bytes();
        raw[..4].copy_from_slice(&size);
        SampleEntry {
            raw: Bytes::from(raw),
            format: FourCC(*b"encv"),
            codec: CodecConfig::Encrypted {
                original: Some(FourCC(*b"vp09")),
                scheme: Some(FourCC(*b"cenc")),
                key_id: Some([kid; 16]),
                iv_size: Some(8),
            },
        }
    }

    #[test]
    fn encrypted_entries_join_with_the_same_scheme_and_key_only() {
        let a = visual(b"", 24, &[vpcc(0), btrt(1)]);
        let b = visual(b"x", 24, &[vpcc(0), btrt(2)]);
        // Same key: compared as clear entries (btrt and compressorname ignored, sinf equal).
        assert_eq!(difference(&protect(&a, 1), &protect(&b, 1)), None);
        let d = difference(&protect(&a, 1), &protect(&visual(b"", 24, &[vpcc(1)]), 1))
            .expect("codec box differs");
        assert!(d.reference.starts_with("'vpcC'"), "{d:?}");
        // Another key: both named.
        let d = difference(&protect(&a, 1), &protect(&b, 2)).expect("differs");
        assert_eq!(d.parameter, "encryption");
        assert!(d.reference.contains("scheme cenc, key ID 0101"), "{d:?}");
        assert!(d.value.contains("key ID 0202"), "{d:?}");
        // Clear and encrypted, either way round.
        let d = difference(&a, &protect(&b, 1)).expect("differs");
        assert_eq!(
            (d.parameter, d.reference.as_str()),
            ("encryption", "clear vp09")
        );
        let d = difference(&protect(&a, 1), &b).expect("differs");
        assert_eq!(d.value, "clear vp09");
    }
}
