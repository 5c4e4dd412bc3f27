//! How one output track of a [`StitchPlan`] is carried in a transport stream: its [`TsStream`]
//! (from the MP4 sample entry kept verbatim in the plan) and the map from its track ticks to the
//! 90 kHz clock of PES timestamps.
//!
//! **Sample entries.** `avc1`/`avc3` carry an `avcC` (ISO/IEC 14496-15 §5.4.2), `hvc1`/`hev1` an
//! `hvcC` (§8.4.1), `mp4a` an `esds` (ISO/IEC 14496-14 §5.6), possibly inside a QuickTime `wave`.
//! The NAL length size comes from the decoder configuration record; `avc3`/`hev1` without one
//! carry their parameter sets in band and use 4-byte lengths (what every writer uses).
//!
//! **Time.** A transport stream has no edit list (ISO/IEC 13818-1 §2.4.3.7: a PES timestamp *is*
//! the presentation time), so the track's edit list is applied to every sample: presentation =
//! media time − the first media edit's `media_time` + the empty edits before it. Later media edits
//! (one per join whose input hides decode-only frames, see `plan::timeline`) cannot be honoured:
//! the frames they hide are needed to decode the next ones, so they are kept and shown, exactly as
//! in fragmented MP4 output whose players apply one edit to the whole track; the caller warns.
//! Decode times are lowered by the track's most negative composition offset (the
//! `compositionToDTSShift` of ISO/IEC 14496-12 §8.6.1.4), so PTS ≥ DTS as §2.4.3.7 requires.
//! Each time is rounded once to 90 kHz ([`crate::time::rescale_i128`], nearest).

use std::cmp::Ordering;

use crate::codec::aac::parse_esds;
use crate::codec::framing::NalCodec;
use crate::codec::h264::AvcDecoderConfig;
use crate::codec::h265::HevcDecoderConfig;
use crate::demux::mp4::entry::split_entry;
use crate::model::TrackKind;
use crate::plan::{OutSample, OutTrack};
use crate::time::{rescale_i128, Rounding};

use super::TsStream;

/// PES timestamps tick at 90 kHz (§2.4.3.7).
pub const TS_CLOCK: u32 = 90_000;

/// Why a track cannot be carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotCarried {
    /// A codec the transport stream writer has no `stream_type` for: skipped with a warning.
    Codec(String),
    /// A sample entry of a carried codec that does not parse: an error.
    Entry(String),
}

/// A carried track: its stream and the length of its NAL unit prefixes (video).
#[derive(Debug, Clone)]
pub struct Carried {
    /// The plan's track index.
    pub track: usize,
    /// The writer's stream description.
    pub stream: TsStream,
    /// Video: the NAL unit length size (1, 2 or 4) and the codec.
    pub nal: Option<(NalCodec, u8)>,
    /// The track's time map.
    pub map: TimeMap,
}

/// The children of a sample entry, `wave`'s children included (QuickTime sound descriptions).
fn child<'a>(entry: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    let parts = split_entry(entry)?;
    for (k, b) in &parts.children {
        if &k.0 == kind {
            return b.get(8..);
        }
        if &k.0 == b"wave" {
            let mut rest = b.get(8..)?;
            while rest.len() >= 8 {
                let len =
                    usize::try_from(u32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?;
                if len < 8 || len > rest.len() {
                    break;
                }
                if rest.get(4..8)? == kind {
                    return rest.get(8..len);
                }
                rest = rest.get(len..)?;
            }
        }
    }
    None
}

/// The stream a track becomes, or why it cannot.
pub fn carry(track: usize, t: &OutTrack, movie_timescale: u32) -> Result<Carried, NotCarried> {
    let entry: &[u8] = &t.sample_entry;
    let format = entry.get(4..8).unwrap_or_default();
    let name = String::from_utf8_lossy(format).into_owned();
    let (stream, nal) = match format {
        b"avc1" | b"avc3" => match child(entry, b"avcC") {
            Some(avcc) => {
                let c = AvcDecoderConfig::parse(avcc)
                    .map_err(|e| NotCarried::Entry(format!("avcC: {e}")))?;
                let s = TsStream::from_avcc(avcc)
                    .map_err(|e| NotCarried::Entry(format!("avcC: {e}")))?;
                (s, Some((NalCodec::H264, c.length_size)))
            }
            None if format == b"avc3" => (TsStream::h264(Vec::new()), Some((NalCodec::H264, 4))),
            None => return Err(NotCarried::Entry("avc1 without avcC".into())),
        },
        b"hvc1" | b"hev1" => match child(entry, b"hvcC") {
            Some(hvcc) => {
                let c = HevcDecoderConfig::parse(hvcc)
                    .map_err(|e| NotCarried::Entry(format!("hvcC: {e}")))?;
                let s = TsStream::from_hvcc(hvcc)
                    .map_err(|e| NotCarried::Entry(format!("hvcC: {e}")))?;
                (s, Some((NalCodec::H265, c.length_size)))
            }
            None if format == b"hev1" => (TsStream::h265(Vec::new()), Some((NalCodec::H265, 4))),
            None => return Err(NotCarried::Entry("hvc1 without hvcC".into())),
        },
        b"mp4a" => {
            let esds = child(entry, b"esds")
                .ok_or_else(|| NotCarried::Codec("mp4a without esds".into()))?;
            let es = parse_esds(esds.get(4..).unwrap_or_default())
                .map_err(|e| NotCarried::Entry(format!("esds: {e}")))?;
            // 0x40: ISO/IEC 14496-3 audio; others (MP3 0x6b...) have no ADTS form.
            if es.object_type_indication != 0x40 {
                return Err(NotCarried::Codec(format!(
                    "mp4a with objectTypeIndication 0x{:02x}",
                    es.object_type_indication
                )));
            }
            let asc = es
                .decoder_specific_info
                .ok_or_else(|| NotCarried::Entry("AAC without an AudioSpecificConfig".into()))?;
            let s = TsStream::from_asc(&asc).map_err(|e| NotCarried::Codec(format!("AAC: {e}")))?;
            (s, None)
        }
        _ => return Err(NotCarried::Codec(name)),
    };
    // The writer's stream kind must agree with the track's (an `avc1` entry in a sound track
    // would get a video stream_id).
    let video = nal.is_some();
    if (t.kind == TrackKind::Video) != video || t.kind == TrackKind::Other {
        return Err(NotCarried::Codec(format!(
            "{name} in a {} track",
            t.kind.as_str()
        )));
    }
    Ok(Carried {
        track,
        stream,
        nal,
        map: TimeMap::new(t, movie_timescale),
    })
}

/// Track ticks to presentation time (see the module documentation): a time `x` in track ticks
/// is `(x − media_time) · movie_timescale + empty · timescale` over `timescale · movie_timescale`
/// seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeMap {
    /// The first media edit's `media_time` (track ticks), plus the decode time shift.
    media_time: i64,
    /// Empty edits before it, movie ticks.
    empty: u64,
    timescale: u32,
    movie_timescale: u32,
    /// How far decode times are lowered (−the most negative composition offset, track ticks).
    pub dts_shift: i64,
    /// Added to every 90 kHz time (see [`TimeMap::set_base`]).
    base: i64,
}

impl TimeMap {
    fn new(t: &OutTrack, movie_timescale: u32) -> Self {
        let mut empty = 0u64;
        let mut media_time = 0;
        for e in &t.edits {
            if e.is_empty() {
                empty = empty.saturating_add(e.segment_duration);
            } else {
                media_time = e.media_time;
                break;
            }
        }
        let min_cts = t.samples.iter().map(|s| s.cts_offset).min().unwrap_or(0);
        TimeMap {
            media_time,
            empty,
            timescale: t.timescale,
            movie_timescale,
            dts_shift: i64::from(min_cts.min(0)).saturating_neg(),
            base: 0,
        }
    }

    /// Sets the 90 kHz time presentation 0 maps to.
    pub fn set_base(&mut self, base: i64) {
        self.base = base;
    }

    /// Presentation time of track time `x` as a fraction of seconds `(num, den)`.
    fn seconds(&self, x: i64) -> Option<(i128, u64)> {
        let ts = u64::from(self.timescale);
        let mts = u64::from(self.movie_timescale);
        let num = (i128::from(x) - i128::from(self.media_time))
            .checked_mul(i128::from(mts))?
            .checked_add(i128::from(self.empty).checked_mul(i128::from(ts))?)?;
        Some((num, ts.checked_mul(mts)?))
    }

    /// Track time `x` on the 90 kHz clock, base included.
    pub fn ticks(&self, x: i64) -> Option<i64> {
        let (num, den) = self.seconds(x)?;
        let t = rescale_i128(num, den, u64::from(TS_CLOCK), Rounding::Nearest)?;
        i64::try_from(t).ok()?.checked_add(self.base)
    }

    /// The sample's (DTS, PTS) on the 90 kHz clock.
    pub fn sample(&self, s: &OutSample) -> Option<(i64, i64)> {
        let dts = s.dts.checked_sub(self.dts_shift)?;
        let pts = s.dts.checked_add(i64::from(s.cts_offset))?;
        Some((self.ticks(dts)?, self.ticks(pts)?))
    }

    /// Compares the exact decode times of two samples of (possibly) different tracks.
    pub fn cmp_dts(&self, a: &OutSample, other: &TimeMap, b: &OutSample) -> Ordering {
        let x = self.seconds(a.dts.saturating_sub(self.dts_shift));
        let y = other.seconds(b.dts.saturating_sub(other.dts_shift));
        match (x, y) {
            (Some((an, ad)), Some((bn, bd))) => cmp_fraction(an, ad, bn, bd),
            // Out of range only for absurd times, which fail later anyway.
            _ => Ordering::Equal,
        }
    }
}

/// Compares `an / ad` with `bn / bd` (denominators positive) exactly: whole parts first, then
/// the remainders cross-multiplied (each below its denominator, so the products fit 128 bits).
pub fn cmp_fraction(an: i128, ad: u64, bn: i128, bd: u64) -> Ordering {
    let (ad128, bd128) = (i128::from(ad.max(1)), i128::from(bd.max(1)));
    let (aq, ar) = (an.div_euclid(ad128), an.rem_euclid(ad128));
    let (bq, br) = (bn.div_euclid(bd128), bn.rem_euclid(bd128));
    aq.cmp(&bq).then_with(|| {
        // 0 ≤ remainder < denominator ≤ 2^64: the casts are lossless, the products < 2^128.
        let l = (ar as u128).checked_mul(u128::from(bd.max(1)));
        let r = (br as u128).checked_mul(u128::from(ad.max(1)));
        l.cmp(&r)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_compare_exactly() {
        assert_eq!(cmp_fraction(1, 3, 1, 3), Ordering::Equal);
        assert_eq!(cmp_fraction(1, 3, 333_333, 1_000_000), Ordering::Greater);
        assert_eq!(cmp_fraction(-1, 3, -1, 4), Ordering::Less);
        // Values near the limits, where a plain cross-multiplication would overflow.
        let big = i128::from(i64::MAX) * i128::from(u32::MAX);
        assert_eq!(
            cmp_fraction(big, u64::MAX, big + 1, u64::MAX),
            Ordering::Less
        );
        assert_eq!(
            cmp_fraction(big, u64::MAX - 1, big, u64::MAX),
            Ordering::Greater
        );
    }

    #[test]
    fn the_first_media_edit_and_empty_edits_set_presentation() {
        let mut m = TimeMap {
            media_time: 1024,
            empty: 600,
            timescale: 48_000,
            movie_timescale: 1000,
            dts_shift: 0,
            base: 0,
        };
        // Media time 1024 is presented after the 0.6 s empty edit.
        assert_eq!(m.ticks(1024), Some(54_000));
        // Priming before the edit comes out before it.
        assert_eq!(m.ticks(0), Some(54_000 - 1920));
        m.set_base(126_000);
        assert_eq!(m.ticks(1024), Some(180_000));
        // 1/3 of a tick rounds to the nearest.
        let v = TimeMap {
            media_time: 0,
            empty: 0,
            timescale: 270_000,
            movie_timescale: 1000,
            dts_shift: 0,
            base: 0,
        };
        assert_eq!(v.ticks(1), Some(0));
        assert_eq!(v.ticks(2), Some(1));
    }
}
