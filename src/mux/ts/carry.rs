//! How one output track of a [`StitchPlan`](crate::plan::StitchPlan) is carried in a transport stream: its [`TsStream`]
//! (from the MP4 sample entry kept verbatim in the plan) and the map from its track ticks to the
//! 90 kHz clock of PES timestamps.
//!
//! **Sample entries.** `avc1`/`avc3` carry an `avcC` (ISO/IEC 14496-15 §5.4.2), `hvc1`/`hev1` an
//! `hvcC` (§8.4.1), `mp4a` an `esds` (ISO/IEC 14496-14 §5.6), possibly inside a QuickTime `wave`.
//! The NAL length size comes from the decoder configuration record; `avc3`/`hev1` without one
//! carry their parameter sets in band and use 4-byte lengths (what every writer uses).
//!
//! **Time.** A transport stream has no edit list (ISO/IEC 13818-1 §2.4.3.7: a PES timestamp *is*
//! the presentation time), so each track's edit list is applied to every sample: a sample
//! presented by media edit `e` (ISO/IEC 14496-12 §8.6.6) is at `e`'s presentation start + (its
//! composition time − `e`'s `media_time`); samples before the first edit (priming, the first
//! input's pre-roll) go through the first edit, before the start.
//!
//! **Decode-only frames at joins.** The planner gives a join a media edit of its own when the
//! joined input hides frames behind its edit list (`ffmpeg -ss X -c copy` pre-roll). Those frames
//! are needed to decode the next ones, and a transport stream cannot hide a frame, so they are
//! shown, for their own duration: the first video track (the *reference*) is read through its
//! first media edit alone (its media timeline as it is), and every other track moves later by the
//! duration of the frames shown, from each such join on ([`TimeMap::make_reference`]). A/V sync
//! stays exact on both sides of the join; the output is longer than the MP4 by those frames, and
//! the audio pauses for as long (there is no audio for the cut pre-roll). The alternatives were
//! worse: one offset for every track drifts the audio off the video by the hidden duration at
//! every such join, and squeezing the frames into the previous frame's slot gives presentation
//! times that go backwards (ffmpeg warns, players flash them).
//!
//! Decode times are lowered by the track's most negative composition offset (the
//! `compositionToDTSShift` of ISO/IEC 14496-12 §8.6.1.4), so PTS ≥ DTS as §2.4.3.7 requires.
//! Each time is rounded once to 90 kHz ([`crate::time::div_round`], nearest).

use std::cmp::Ordering;

use crate::codec::aac::parse_esds;
use crate::codec::framing::NalCodec;
use crate::codec::h264::AvcDecoderConfig;
use crate::codec::h265::HevcDecoderConfig;
use crate::demux::mp4::entry::split_entry;
use crate::model::TrackKind;
use crate::plan::{OutSample, OutTrack};
use crate::time::{div_round, Rounding};

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
    /// The writer's stream description (its parameter sets: the first sample entry's).
    pub stream: TsStream,
    /// Video: the NAL unit length size (1, 2 or 4) and the codec, of the first sample entry.
    pub nal: Option<(NalCodec, u8)>,
    /// Video: per sample entry of the track, its parameter sets (as [`TsStream::parameter_sets`])
    /// and NAL unit length size. A track whose H.264/H.265 parameter sets change at a join has
    /// several; each keyframe gets those of the entry describing it.
    pub entries: Vec<(Vec<Vec<u8>>, u8)>,
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
    let entry: &[u8] = t.sample_entries.first().map_or(&[], |e| &e[..]);
    let (stream, nal) = carry_entry(t, entry)?;
    // Several entries (H.264/H.265 parameter sets that change at a join, same picture format):
    // the writer switches the parameter sets it inserts before keyframes to each sample's entry's.
    let mut entries = Vec::new();
    if let Some((codec, _)) = nal {
        for (k, e) in t.sample_entries.iter().enumerate() {
            match carry_entry(t, e)? {
                (s, Some((c, length_size))) if c == codec => {
                    entries.push((s.parameter_sets, length_size));
                }
                _ => {
                    return Err(NotCarried::Entry(format!(
                        "sample description {} is not {} like the first",
                        k + 1,
                        entry_format(entry)
                    )))
                }
            }
        }
    }
    Ok(Carried {
        track,
        stream,
        nal,
        entries,
        map: TimeMap::new(t, movie_timescale),
    })
}

fn entry_format(entry: &[u8]) -> String {
    String::from_utf8_lossy(entry.get(4..8).unwrap_or_default()).into_owned()
}

/// The stream one sample entry of track `t` describes, and its NAL codec and length size (video).
fn carry_entry(
    t: &OutTrack,
    entry: &[u8],
) -> Result<(TsStream, Option<(NalCodec, u8)>), NotCarried> {
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
    Ok((stream, nal))
}

/// Where a sample's composition time falls in the track's edit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Presented by media edit `e` (or before the first edit, or past the last: mapped through
    /// that edit).
    Edit(usize),
    /// Between two media edits: a decode-only frame hidden at a join; `e` is the next edit.
    Hidden(usize),
}

/// One sample's times on the 90 kHz clock, base included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timed {
    /// Decode time.
    pub dts: i64,
    /// Presentation time.
    pub pts: i64,
}

/// Seconds as `num / den`.
type Frac = (i128, u64);

/// Track ticks to presentation time through the track's edit list (see the module
/// documentation): a time `x` presented by media edit `e` (starting at `P` movie ticks, mapping
/// media from `m`) is `(x − m) · movie_timescale + P · timescale` over
/// `timescale · movie_timescale` seconds, plus the join shift at that time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeMap {
    /// Media edits: presentation start and duration (movie ticks), media time (track ticks);
    /// media times increasing. Never empty (a track without edits presents media as it is).
    edits: Vec<(u64, u64, i64)>,
    timescale: u32,
    movie_timescale: u32,
    /// How far decode times are lowered (−the most negative composition offset, track ticks).
    pub dts_shift: i64,
    /// Added to every 90 kHz time (see [`TimeMap::set_base`]).
    base: i64,
    /// The reference track (the first video track) is read through its first media edit alone:
    /// its decode-only frames at joins show, for their own duration.
    single: bool,
    /// Other tracks move later by the reference's shown decode-only frames: from movie tick
    /// `P` (a join) on, by `H` seconds (cumulative). Sorted by `P`.
    shifts: Vec<(u64, Frac)>,
}

impl TimeMap {
    fn new(t: &OutTrack, movie_timescale: u32) -> Self {
        let min_cts = t.samples.iter().map(|s| s.cts_offset).min().unwrap_or(0);
        let mut m = TimeMap::from_edits(&t.edits, t.timescale, movie_timescale);
        m.dts_shift = i64::from(min_cts.min(0)).saturating_neg();
        m
    }

    fn from_edits(edits: &[crate::model::Edit], timescale: u32, movie_timescale: u32) -> Self {
        let mut media = Vec::new();
        let mut p = 0u64;
        for e in edits {
            if !e.is_empty() {
                media.push((p, e.segment_duration, e.media_time));
            }
            p = p.saturating_add(e.segment_duration);
        }
        // The planner's edits map increasing media; anything else is read through its first
        // media edit alone.
        if !media.windows(2).all(|w| w[0].2 < w[1].2) {
            media.truncate(1);
        }
        if media.is_empty() {
            media.push((p, u64::MAX, 0));
        }
        TimeMap {
            edits: media,
            timescale,
            movie_timescale,
            dts_shift: 0,
            base: 0,
            single: false,
            shifts: Vec::new(),
        }
    }

    /// Sets the 90 kHz time presentation 0 maps to.
    pub fn set_base(&mut self, base: i64) {
        self.base = base;
    }

    /// Makes this the reference track and returns the shifts the other tracks take: at each
    /// later media edit (a join after decode-only frames), the time those frames take, summed.
    pub fn make_reference(&mut self) -> Vec<(u64, Frac)> {
        self.single = true;
        let (ts, mts) = (i128::from(self.timescale), i128::from(self.movie_timescale));
        let Some(&(p0, _, m0)) = self.edits.first() else {
            return Vec::new();
        };
        let den = u64::from(self.timescale) * u64::from(self.movie_timescale);
        self.edits
            .iter()
            .skip(1)
            .map(|&(p, _, m)| {
                // (m − m0) / ts − (P − P0) / mts: media between edit starts not presented.
                let num =
                    (i128::from(m) - i128::from(m0)) * mts - (i128::from(p) - i128::from(p0)) * ts;
                (p, (num, den))
            })
            .filter(|(_, (num, _))| *num > 0)
            .collect()
    }

    /// Sets the shifts of a track other than the reference.
    pub fn set_shifts(&mut self, shifts: Vec<(u64, Frac)>) {
        self.shifts = shifts;
    }

    /// Where composition time `c` falls.
    pub fn place(&self, c: i64) -> Placement {
        let n = self.edits.partition_point(|e| e.2 <= c);
        let Some(e) = n.checked_sub(1) else {
            return Placement::Edit(0);
        };
        let (_, d, m) = self.edits[e];
        // c < m + d · timescale / movie_timescale, exactly.
        let inside = (i128::from(c) - i128::from(m)) * i128::from(self.movie_timescale)
            < i128::from(d) * i128::from(self.timescale);
        if inside || e + 1 == self.edits.len() {
            Placement::Edit(e)
        } else {
            Placement::Hidden(e + 1)
        }
    }

    /// The edit a sample with composition time `c` is read through.
    fn edit_of(&self, c: i64) -> usize {
        if self.single {
            return 0;
        }
        match self.place(c) {
            Placement::Edit(e) | Placement::Hidden(e) => e,
        }
    }

    /// Track time `x` through edit `e`, in seconds.
    fn seconds(&self, x: i64, e: usize) -> Option<Frac> {
        let &(p, _, m) = self.edits.get(e)?;
        let ts = u64::from(self.timescale);
        let mts = u64::from(self.movie_timescale);
        let num = (i128::from(x) - i128::from(m))
            .checked_mul(i128::from(mts))?
            .checked_add(i128::from(p).checked_mul(i128::from(ts))?)?;
        Some((num, ts.checked_mul(mts)?))
    }

    /// The join shift for presentation time `t` (seconds), if any.
    fn shift_at(&self, t: Frac) -> Option<Frac> {
        let mts = u64::from(self.movie_timescale);
        let n = self.shifts.partition_point(|&(p, _)| {
            cmp_fraction(t.0, t.1, i128::from(p), mts) != Ordering::Less
        });
        n.checked_sub(1).map(|k| self.shifts[k].1)
    }

    /// `x + shift` on the 90 kHz clock, base included, rounded once.
    fn ticks(&self, x: Frac, shift: Option<Frac>) -> Option<i64> {
        let clock = i128::from(TS_CLOCK);
        let (num, den) = match shift {
            None => (x.0.checked_mul(clock)?, i128::from(x.1)),
            Some((hn, hd)) => {
                // x.0/x.1 + hn/hd over the product of the denominators (up to 2^96).
                let num =
                    x.0.checked_mul(i128::from(hd))?
                        .checked_add(hn.checked_mul(i128::from(x.1))?)?;
                (
                    num.checked_mul(clock)?,
                    i128::from(x.1).checked_mul(i128::from(hd))?,
                )
            }
        };
        if den <= 0 {
            return None;
        }
        i64::try_from(div_round(num, den, Rounding::Nearest))
            .ok()?
            .checked_add(self.base)
    }

    /// The sample's times on the 90 kHz clock.
    pub fn sample(&self, s: &OutSample) -> Option<Timed> {
        let c = s.dts.checked_add(i64::from(s.cts_offset))?;
        let e = self.edit_of(c);
        let pts = self.seconds(c, e)?;
        let shift = self.shift_at(pts);
        Some(Timed {
            dts: self.ticks(self.seconds(s.dts.checked_sub(self.dts_shift)?, e)?, shift)?,
            pts: self.ticks(pts, shift)?,
        })
    }

    /// The end of the sample's presentation (PTS + duration) on the 90 kHz clock.
    pub fn sample_end(&self, s: &OutSample) -> Option<i64> {
        let c = s.dts.checked_add(i64::from(s.cts_offset))?;
        let e = self.edit_of(c);
        let shift = self.shift_at(self.seconds(c, e)?);
        self.ticks(
            self.seconds(c.checked_add(i64::from(s.duration))?, e)?,
            shift,
        )
    }

    /// The sample's decode time in seconds, and its shift.
    fn dts_seconds(&self, s: &OutSample) -> Option<(Frac, Option<Frac>)> {
        let c = s.dts.checked_add(i64::from(s.cts_offset))?;
        let e = self.edit_of(c);
        let shift = self.shift_at(self.seconds(c, e)?);
        Some((self.seconds(s.dts.checked_sub(self.dts_shift)?, e)?, shift))
    }

    /// Compares the decode times of two samples of (possibly) different tracks: exactly, or
    /// after rounding to 90 kHz ticks when a join shift applies (its denominator is too large
    /// for an exact comparison).
    pub fn cmp_dts(&self, a: &OutSample, other: &TimeMap, b: &OutSample) -> Ordering {
        match (self.dts_seconds(a), other.dts_seconds(b)) {
            (Some((x, None)), Some((y, None))) => cmp_fraction(x.0, x.1, y.0, y.1),
            (Some((x, hx)), Some((y, hy))) => self.ticks(x, hx).cmp(&other.ticks(y, hy)),
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

    use crate::model::Edit;

    fn edit(segment_duration: u64, media_time: i64) -> Edit {
        Edit {
            segment_duration,
            media_time,
            media_rate: 0x10000,
        }
    }

    fn at(m: &TimeMap, c: i64) -> Option<i64> {
        match m.place(c) {
            Placement::Edit(e) => m.ticks(m.seconds(c, e)?, None),
            Placement::Hidden(_) => None,
        }
    }

    #[test]
    fn the_first_media_edit_and_empty_edits_set_presentation() {
        // A 0.6 s empty edit, then audio from media time 1024 (priming) at 48 kHz.
        let mut m = TimeMap::from_edits(&[edit(600, -1), edit(10_000, 1024)], 48_000, 1000);
        assert_eq!(at(&m, 1024), Some(54_000));
        // Priming before the edit comes out before it.
        assert_eq!(at(&m, 0), Some(54_000 - 1920));
        m.set_base(126_000);
        assert_eq!(at(&m, 1024), Some(180_000));
        // 1/3 of a tick rounds to the nearest.
        let v = TimeMap::from_edits(&[], 270_000, 1000);
        assert_eq!(at(&v, 1), Some(0));
        assert_eq!(at(&v, 2), Some(1));
    }

    #[test]
    fn frames_between_edits_are_hidden_and_later_edits_keep_their_times() {
        // 25 fps at 12800: edit 0 presents media 0..2 s, edit 1 media from 2.5 s (0.5 s of
        // decode-only frames between) at presentation 2 s.
        let m = TimeMap::from_edits(&[edit(2000, 0), edit(3000, 32_000)], 12_800, 1000);
        assert_eq!(m.place(25_088), Placement::Edit(0));
        assert_eq!(m.place(25_600), Placement::Hidden(1));
        assert_eq!(m.place(31_999), Placement::Hidden(1));
        assert_eq!(m.place(32_000), Placement::Edit(1));
        assert_eq!(at(&m, 32_000), Some(180_000));
        assert_eq!(at(&m, 32_512), Some(183_600));
        // Past the last edit: mapped through it.
        assert_eq!(m.place(1_000_000), Placement::Edit(1));
        // Before the first: mapped through it.
        assert_eq!(m.place(-512), Placement::Edit(0));
        assert_eq!(at(&m, -512), Some(-3600));

        // As the reference track, it is read through edit 0: the hidden 0.5 s shows, and the
        // other tracks move later by it from the join (2 s) on.
        let mut r = m.clone();
        let shifts = r.make_reference();
        assert_eq!(shifts.len(), 1);
        assert_eq!(shifts[0].0, 2000);
        assert_eq!(
            cmp_fraction(shifts[0].1 .0, shifts[0].1 .1, 1, 2),
            Ordering::Equal
        );
        let s = |dts: i64| OutSample {
            payload: crate::plan::Payload::Generated(0),
            size: 1,
            dts,
            duration: 512,
            cts_offset: 0,
            sync: true,
            slot: 0,
            entry: 0,
        };
        assert_eq!(r.sample(&s(32_000)).map(|t| t.pts), Some(225_000));
        assert_eq!(r.sample(&s(25_600)).map(|t| t.pts), Some(180_000));
        // Audio at 48 kHz with one edit: before the join unshifted, from it on 0.5 s later.
        let mut a = TimeMap::from_edits(&[edit(5000, 0)], 48_000, 1000);
        a.set_shifts(shifts);
        assert_eq!(a.sample(&s(95_000)).map(|t| t.pts), Some(178_125));
        assert_eq!(a.sample(&s(96_000)).map(|t| t.pts), Some(225_000));
        // The shift follows the sample's start.
        assert_eq!(a.sample_end(&s(95_488)), Some(180_000));
    }
}
