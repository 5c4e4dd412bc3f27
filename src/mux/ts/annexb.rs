//! What the muxer adds to a video access unit before it goes into a PES packet (ITU-T H.264
//! Annex B and §7.4.1.2.3 order of NAL units in an access unit; H.265 Annex B and §7.4.2.4.4):
//!
//! * an access unit delimiter first, when the unit lacks one. ISO/IEC 13818-1 §2.14.1 requires one
//!   at the start of every H.264 access unit in a transport stream, and players (and ffmpeg's
//!   muxer, which does the same for H.265) rely on it to find picture boundaries;
//! * on a keyframe, the stream's parameter sets (VPS, SPS, PPS) of each kind the unit does not
//!   already carry before its first slice, placed right after the delimiter, so a player that
//!   tunes in at any keyframe can decode it (a transport stream has no out-of-band configuration).
//!
//! Nothing is added to a unit that already has them, so a transport stream's own access units
//! come out byte for byte.

use crate::codec::framing::NalCodec;

/// An H.264 access unit delimiter (§7.3.2.4) with `primary_pic_type` 7 (any slice type), then
/// the RBSP stop bit: the bytes ffmpeg inserts.
const AUD_H264: [u8; 6] = [0, 0, 0, 1, 0x09, 0xf0];
/// An H.265 access unit delimiter (§7.3.2.5): NAL header type 35, layer 0, temporal id plus one
/// 1; `pic_type` 2 (I, P and B slices), then the stop bit.
const AUD_H265: [u8; 7] = [0, 0, 0, 1, 0x46, 0x01, 0x50];

/// How the muxer writes one video access unit: `head`, `payload[..split]`, `middle`,
/// `payload[split..]`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Prepared {
    /// Bytes before the payload (an inserted delimiter).
    pub head: Vec<u8>,
    /// Where in the payload `middle` goes (after the unit's own delimiter, else 0).
    pub split: usize,
    /// Inserted parameter sets, each after a 4-byte start code.
    pub middle: Vec<u8>,
}

/// The `nal_unit_type` of an access unit delimiter.
fn aud_type(codec: NalCodec) -> u8 {
    match codec {
        NalCodec::H264 => 9,
        NalCodec::H265 => 35,
    }
}

/// True for the NAL unit types that carry slices (H.264 Table 7-1: 1 to 5; H.265 Table 7-1:
/// 0 to 31): parameter sets after the first of them come too late for the picture.
fn is_vcl(codec: NalCodec, t: u8) -> bool {
    match codec {
        NalCodec::H264 => (1..=5).contains(&t),
        NalCodec::H265 => t <= 31,
    }
}

/// The parameter set kinds a keyframe needs (H.264: SPS 7, PPS 8; H.265: VPS 32, SPS 33,
/// PPS 34), in the order they are written.
pub fn parameter_set_types(codec: NalCodec) -> &'static [u8] {
    match codec {
        NalCodec::H264 => &[7, 8],
        NalCodec::H265 => &[32, 33, 34],
    }
}

/// The NAL units of an Annex B buffer: for each, the position where the zero bytes before its
/// `00 00 01` start and the position of its first header byte.
struct Nals<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Iterator for Nals<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let rest = self.data.get(self.pos..)?;
        let at = self.pos + rest.windows(3).position(|w| w == [0, 0, 1])?;
        let mut zeros = at;
        while zeros > self.pos && self.data[zeros - 1] == 0 {
            zeros -= 1;
        }
        self.pos = at + 3;
        Some((zeros, at + 3))
    }
}

/// Decides what to add to `payload`, an Annex B access unit. `key`: it is a keyframe, whose
/// missing parameter set kinds come from `parameter_sets` (NAL units without start codes, in
/// the order to write). Err: the payload does not start with a start code (what is wrong, for
/// the error message).
pub fn prepare(
    codec: NalCodec,
    payload: &[u8],
    key: bool,
    insert_aud: bool,
    parameter_sets: &[Vec<u8>],
) -> Result<Prepared, String> {
    let mut nals = Nals {
        data: payload,
        pos: 0,
    };
    let (first_zeros, first) = nals
        .next()
        .ok_or("no Annex B start code (00 00 01): is the access unit length-prefixed?")?;
    if first_zeros != 0 {
        return Err("bytes before the first Annex B start code".into());
    }
    let Some(&first_header) = payload.get(first) else {
        return Err("empty NAL unit at the end of the access unit".into());
    };
    let has_aud = codec.nal_type(first_header) == aud_type(codec);
    let mut out = Prepared::default();
    if !has_aud && insert_aud {
        out.head = match codec {
            NalCodec::H264 => AUD_H264.to_vec(),
            NalCodec::H265 => AUD_H265.to_vec(),
        };
    }
    if !key || parameter_sets.is_empty() {
        return Ok(out);
    }
    // The kinds present before the first slice; the split point after the unit's delimiter.
    let mut present = [false; 3];
    let kinds = parameter_set_types(codec);
    let mut split = if has_aud { payload.len() } else { 0 };
    let mut header = Some(first_header);
    let mut index = 0usize;
    while let Some(h) = header {
        let t = codec.nal_type(h);
        if is_vcl(codec, t) {
            break;
        }
        if let Some(k) = kinds.iter().position(|&x| x == t) {
            present[k] = true;
        }
        let next = nals.next();
        if has_aud && index == 0 {
            split = next.map_or(payload.len(), |(zeros, _)| zeros);
        }
        header = next.and_then(|(_, start)| payload.get(start).copied());
        index += 1;
    }
    for set in parameter_sets {
        let Some(&h) = set.first() else { continue };
        let t = codec.nal_type(h);
        if let Some(k) = kinds.iter().position(|&x| x == t) {
            if !present[k] {
                out.middle.extend_from_slice(&[0, 0, 0, 1]);
                out.middle.extend_from_slice(set);
            }
        }
    }
    if !out.middle.is_empty() {
        out.split = split;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assemble(p: &Prepared, payload: &[u8]) -> Vec<u8> {
        let mut v = p.head.clone();
        v.extend_from_slice(&payload[..p.split]);
        v.extend_from_slice(&p.middle);
        v.extend_from_slice(&payload[p.split..]);
        v
    }

    const SPS: [u8; 4] = [0x67, 0x64, 0x00, 0x1f];
    const PPS: [u8; 3] = [0x68, 0xeb, 0xe3];
    const IDR: [u8; 7] = [0, 0, 0, 1, 0x65, 0x88, 0x84];

    fn sets() -> Vec<Vec<u8>> {
        vec![SPS.to_vec(), PPS.to_vec()]
    }

    #[test]
    fn complete_unit_is_untouched() {
        let mut au = vec![0, 0, 0, 1, 0x09, 0x10, 0, 0, 1];
        au.extend_from_slice(&SPS);
        au.extend_from_slice(&[0, 0, 1]);
        au.extend_from_slice(&PPS);
        au.extend_from_slice(&IDR);
        let p = prepare(NalCodec::H264, &au, true, true, &sets()).expect("prepare");
        assert_eq!(p, Prepared::default());
    }

    #[test]
    fn delimiter_and_sets_inserted() {
        let p = prepare(NalCodec::H264, &IDR, true, true, &sets()).expect("prepare");
        let mut want = AUD_H264.to_vec();
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(&SPS);
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(&PPS);
        want.extend_from_slice(&IDR);
        assert_eq!(assemble(&p, &IDR), want);
        // Not a keyframe: the delimiter only; without insert_aud nothing.
        let p = prepare(NalCodec::H264, &IDR, false, true, &sets()).expect("prepare");
        assert_eq!(assemble(&p, &IDR), [&AUD_H264[..], &IDR[..]].concat());
        let p = prepare(NalCodec::H264, &IDR, false, false, &sets()).expect("prepare");
        assert_eq!(assemble(&p, &IDR), IDR);
    }

    #[test]
    fn missing_pps_goes_after_the_delimiter_and_sps() {
        let mut au = vec![0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1];
        au.extend_from_slice(&SPS);
        au.extend_from_slice(&IDR);
        let p = prepare(NalCodec::H264, &au, true, true, &sets()).expect("prepare");
        assert!(p.head.is_empty());
        assert_eq!(p.split, 5, "right after the unit's own delimiter");
        let mut want = vec![0, 0, 1, 0x09, 0xf0, 0, 0, 0, 1];
        want.extend_from_slice(&PPS);
        want.extend_from_slice(&[0, 0, 0, 1]);
        want.extend_from_slice(&SPS);
        want.extend_from_slice(&IDR);
        assert_eq!(assemble(&p, &au), want);
    }

    #[test]
    fn h265_sets_and_delimiter() {
        let vps = vec![0x40, 0x01, 0x0c];
        let sps = vec![0x42, 0x01, 0x01];
        let pps = vec![0x44, 0x01, 0xc1];
        let idr = [0, 0, 0, 1, 0x26, 0x01, 0xaf]; // IDR_W_RADL (19)
        let p =
            prepare(NalCodec::H265, &idr, true, true, &[vps.clone(), sps, pps]).expect("prepare");
        let out = assemble(&p, &idr);
        assert!(out.starts_with(&AUD_H265));
        assert_eq!(&out[7..11], &[0, 0, 0, 1]);
        assert_eq!(&out[11..14], &vps[..]);
        assert!(out.ends_with(&idr));
    }

    #[test]
    fn refuses_length_prefixed() {
        assert!(prepare(
            NalCodec::H264,
            &[0, 0, 0, 5, 0x65, 1, 2, 3, 4],
            false,
            true,
            &[]
        )
        .is_err());
        assert!(prepare(NalCodec::H264, &[7, 0, 0, 1, 0x65], false, true, &[]).is_err());
        assert!(prepare(NalCodec::H264, &[0, 0, 1], false, true, &[]).is_err());
    }
}
