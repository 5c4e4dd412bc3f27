//! `--trim K=START,END`: keeping part of one input, losslessly, before planning.
//!
//! Times are the input's own presentation times: 0 is the first presented instant of its video
//! (its window start, which is where the planner starts the input), or of its earliest track
//! without video. Samples are never modified, only selected, and the track's edit list says what
//! is presented:
//!
//! - video: decoding starts at the last keyframe presented at or before START (with a closed GOP
//!   nothing decoded before it is referenced by what follows); the frames before START are
//!   decode-only and hidden by the edit, which the planner keeps hidden after a join with a media
//!   segment per join (`video::place_plain`). The decode-order suffix presented at or after END is
//!   left out (nothing kept depends on a sample decoded after it), as `trim.rs` does at edit ends.
//! - audio: packets wholly outside START..END are left out, except one before START (the
//!   decoder's pre-roll, as the audio planner keeps at the output's start); the window rule then
//!   cuts at frame granularity and keeps A/V sync.
//! - other tracks keep their samples; their edits move like the others'.
//!
//! Every track gets one media edit presenting exactly START..END of the input's timeline (after
//! an empty edit when the track starts later than START), so all tracks keep their offsets.
//! Frame-accurate cuts without pre-roll (`--accurate`, for outputs without edit lists) re-encode
//! the GOPs at START and END: `transcode::smartcut`, run on the result of this.

use crate::error::PlanError;
use crate::model::{Edit, Media, Track, TrackKind};
use crate::time::{lcm, rescale_i128, Rounding, Ts};

/// The part of an input to keep, in seconds of its own presentation timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trim {
    /// First presented instant kept.
    pub start: Ts,
    /// End of what is kept (exclusive); the input's end when `None`.
    pub end: Option<Ts>,
}

impl Trim {
    /// `START[,END]`, each in seconds (`12.5`) or `[hh:]mm:ss[.frac]`, up to 9 decimals, exact.
    pub fn parse(s: &str) -> Result<Trim, String> {
        let (a, b) = match s.split_once(',') {
            Some((a, b)) => (a, Some(b)),
            None => (s, None),
        };
        let time = |x: &str| {
            parse_seconds(x.trim())
                .ok_or_else(|| format!("bad time {x:?} (seconds like 12.5, or [hh:]mm:ss[.frac])"))
        };
        let start = time(a)?;
        let end = b.map(time).transpose()?;
        let t = Trim { start, end };
        if let Some(end) = end {
            if !before(start, end) {
                return Err(format!(
                    "START {} s is not before END {} s: nothing would be kept",
                    seconds(start),
                    seconds(end)
                ));
            }
        }
        Ok(t)
    }
}

/// `K=START[,END]` as given to `--trim` (K counts the command-line inputs from 1).
pub fn parse_trim_arg(s: &str) -> Result<(usize, Trim), String> {
    let (k, rest) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?}: expected K=START[,END], e.g. 2=5,12.5"))?;
    let k: usize = k
        .trim()
        .parse()
        .ok()
        .filter(|&k| k >= 1)
        .ok_or_else(|| format!("{k:?}: K is the input's number on the command line, from 1"))?;
    Ok((k, Trim::parse(rest)?))
}

/// A parsed time as it was written: exact decimals for a timescale that is a power of ten.
fn seconds(t: Ts) -> String {
    let den = i64::from(t.timescale);
    let digits = t.timescale.checked_ilog10().unwrap_or(0);
    if den == 0 || 10i64.pow(digits) != den || t.value < 0 {
        return t.to_string();
    }
    let (whole, frac) = (t.value / den, t.value % den);
    if digits == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{frac:0width$}", width = digits as usize)
    }
}

/// `a < b`, exactly.
fn before(a: Ts, b: Ts) -> bool {
    i128::from(a.value) * i128::from(b.timescale) < i128::from(b.value) * i128::from(a.timescale)
}

/// Seconds `12.5` or `[hh:]mm:ss[.frac]` as an exact [`Ts`] whose timescale is 10^decimals.
pub fn parse_seconds(s: &str) -> Option<Ts> {
    let parts: Vec<&str> = s.split(':').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
    let (last, leading) = parts.split_last()?;
    let (whole, frac) = match last.split_once('.') {
        Some((w, f)) => (w, f),
        None => (*last, ""),
    };
    if !digits(whole) || (!frac.is_empty() && !digits(frac)) || frac.len() > 9 {
        return None;
    }
    if last.ends_with('.') {
        return None;
    }
    let mut secs: i64 = 0;
    for (i, p) in leading.iter().enumerate() {
        if !digits(p) {
            return None;
        }
        let v: i64 = p.parse().ok()?;
        // Minutes after hours are below 60.
        if i > 0 && v >= 60 {
            return None;
        }
        secs = secs.checked_add(v)?.checked_mul(60)?;
    }
    let w: i64 = whole.parse().ok()?;
    if !leading.is_empty() && w >= 60 {
        return None;
    }
    secs = secs.checked_add(w)?;
    let decimals = u32::try_from(frac.len()).ok()?;
    let den = 10i64.checked_pow(decimals)?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    let value = secs.checked_mul(den)?.checked_add(f)?;
    Some(Ts::new(value, u32::try_from(den).ok()?))
}

/// Where a track is presented in its input, in ticks of a common scale `d`, and the media time
/// presented first. Read as `roles::span` reads it: the first media edit (after any empty ones),
/// lasting as long as the edits after it, never longer than the media; without an edit list,
/// media time is presentation time after ffmpeg's shift for negative composition offsets.
struct Placed {
    start: i128,
    end: i128,
    media_time: i64,
}

fn placed(m: &Media, t: &Track, d: u64) -> Option<Placed> {
    let ms = u64::from(m.movie_timescale);
    let ts = u64::from(t.timescale);
    let to_d = |v: i64, from: u64| rescale_i128(i128::from(v), from, d, Rounding::Nearest);
    let media_end = t
        .samples
        .iter()
        .map(|s| s.cts().saturating_add(i64::from(s.duration)))
        .max()?;
    let min_cts = t.samples.iter().map(|s| s.cts()).min()?;
    let mut empty = 0i64;
    let mut normal: Option<Edit> = None;
    let mut extra = 0u64;
    for e in &t.edits {
        match normal {
            None if e.is_empty() => {
                empty = empty.saturating_add(i64::try_from(e.segment_duration).unwrap_or(i64::MAX))
            }
            None => normal = Some(*e),
            Some(_) => extra = extra.saturating_add(e.segment_duration),
        }
    }
    match normal {
        Some(n) => {
            let start = to_d(empty, ms)?;
            let by_media = to_d(media_end.saturating_sub(n.media_time), ts)?.max(0);
            let dur = if n.segment_duration == 0 {
                by_media
            } else {
                let total = i64::try_from(n.segment_duration.saturating_add(extra)).ok()?;
                to_d(total, ms)?.min(by_media)
            };
            Some(Placed {
                start,
                end: start + dur,
                media_time: n.media_time,
            })
        }
        None => {
            let start = to_d(empty, ms)?
                + to_d(
                    min_cts.saturating_add(super::roles::negative_cts_shift(t)),
                    ts,
                )?;
            Some(Placed {
                start,
                end: start + to_d(media_end.saturating_sub(min_cts), ts)?,
                media_time: min_cts,
            })
        }
    }
}

/// Applies `trim` to `m` (see the module documentation). Refused, naming the input, when START is
/// at or past the input's end, or a track presents nothing between START and END.
pub fn apply_trim(m: &mut Media, trim: &Trim) -> Result<(), PlanError> {
    let name = m.name().to_string();
    let bad = |what: String| PlanError::Trim {
        file: name.clone(),
        what,
    };
    let overflow = || bad("times out of range".into());
    let ms = u64::from(m.movie_timescale);
    // One exact scale for every conversion: the movie's, every track's and the trim's.
    let mut d = lcm(ms, u64::from(trim.start.timescale)).ok_or_else(overflow)?;
    if let Some(e) = trim.end {
        d = lcm(d, u64::from(e.timescale)).ok_or_else(overflow)?;
    }
    for t in &m.tracks {
        d = lcm(d, u64::from(t.timescale)).ok_or_else(overflow)?;
    }
    let spans: Vec<Option<Placed>> = m.tracks.iter().map(|t| placed(m, t, d)).collect();
    let video = m.tracks.iter().position(|t| t.kind == TrackKind::Video);
    let window = match video {
        Some(v) => spans
            .get(v)
            .and_then(|s| s.as_ref())
            .map(|s| (s.start, s.end)),
        None => {
            let lo = spans.iter().flatten().map(|s| s.start).min();
            let hi = spans.iter().flatten().map(|s| s.end).max();
            lo.zip(hi)
        }
    };
    let (origin, input_end) = window.ok_or_else(|| bad("the input has no samples".into()))?;
    let to_d = |t: Ts| {
        rescale_i128(
            i128::from(t.value),
            u64::from(t.timescale),
            d,
            Rounding::Nearest,
        )
    };
    let secs = |v: i128| v as f64 / d as f64;
    let start = origin + to_d(trim.start).ok_or_else(overflow)?;
    if start >= input_end {
        return Err(bad(format!(
            "START {} s is at or past the input's end ({:.3} s)",
            seconds(trim.start),
            secs(input_end - origin)
        )));
    }
    let end = match trim.end {
        Some(e) => (origin + to_d(e).ok_or_else(overflow)?).min(input_end),
        None => input_end,
    };
    if end <= start {
        return Err(bad(format!(
            "START {} s is not before END: nothing would be kept",
            seconds(trim.start)
        )));
    }
    for (t, span) in m.tracks.iter_mut().zip(&spans) {
        let Some(span) = span else { continue };
        let (lo, hi) = (start.max(span.start), end.min(span.end));
        if hi <= lo {
            return Err(bad(format!(
                "{} track {} presents nothing between START and END; not supported",
                t.kind.as_str(),
                t.id
            )));
        }
        let ts = u64::from(t.timescale);
        let conv =
            |v: i128, to: u64, r| rescale_i128(v, d, to, r).and_then(|x| i64::try_from(x).ok());
        let media_lo = conv(lo - span.start, ts, Rounding::Nearest)
            .and_then(|x| x.checked_add(span.media_time))
            .ok_or_else(overflow)?;
        let media_hi = conv(hi - lo, ts, Rounding::Up)
            .and_then(|x| x.checked_add(media_lo))
            .ok_or_else(overflow)?;
        let mut edits = Vec::with_capacity(2);
        let delay = conv(lo - start, ms, Rounding::Nearest).ok_or_else(overflow)?;
        if delay > 0 {
            edits.push(Edit {
                segment_duration: delay.unsigned_abs(),
                media_time: -1,
                media_rate: 0x10000,
            });
        }
        let dur = conv(hi - lo, ms, Rounding::Nearest).ok_or_else(overflow)?;
        edits.push(Edit {
            segment_duration: dur.unsigned_abs(),
            media_time: media_lo,
            media_rate: 0x10000,
        });
        t.edits = edits;
        let keep = match t.kind {
            TrackKind::Video => video_range(t, media_lo, media_hi),
            TrackKind::Audio => audio_range(t, media_lo, media_hi),
            TrackKind::Other => 0..t.samples.len(),
        };
        if keep != (0..t.samples.len()) {
            let mut k = 0usize;
            t.samples.retain(|_| {
                let kept = keep.contains(&k);
                k += 1;
                kept
            });
        }
    }
    m.movie_duration = rescale_i128(end - start, d, ms, Rounding::Nearest)
        .and_then(|x| u64::try_from(x).ok())
        .ok_or_else(overflow)?;
    Ok(())
}

/// Video samples (decode order) to keep for presenting media times `lo..hi`: from the last
/// keyframe presented at or before `lo` (the first sample when there is none) to the last sample
/// not in the decode-order suffix presented at or after `hi`.
fn video_range(t: &Track, lo: i64, hi: i64) -> std::ops::Range<usize> {
    let first = t
        .samples
        .iter()
        .enumerate()
        .rev()
        .find(|(_, s)| s.sync && s.cts() <= lo)
        .map_or(0, |(k, _)| k);
    let mut last = t.samples.len();
    while last > first + 1 {
        match t.samples.get(last - 1) {
            Some(s) if s.cts() >= hi => last -= 1,
            _ => break,
        }
    }
    first..last
}

/// Audio packets (decode order) to keep for presenting media times `lo..hi`: those overlapping
/// it, plus one before (pre-roll).
fn audio_range(t: &Track, lo: i64, hi: i64) -> std::ops::Range<usize> {
    let n = t.samples.len();
    let overlaps = |s: &crate::model::Sample| {
        s.cts().saturating_add(i64::from(s.duration)) > lo && s.cts() < hi
    };
    let first = t.samples.iter().position(|s| overlaps(&s));
    let last = t.samples.iter().rposition(|s| overlaps(&s));
    match (first, last) {
        (Some(f), Some(l)) => f.saturating_sub(1)..(l + 1).min(n),
        _ => 0..n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tests_support::{media, track};

    #[test]
    fn parses_exact_times() {
        assert_eq!(parse_seconds("12.5"), Some(Ts::new(125, 10)));
        assert_eq!(parse_seconds("7.64"), Some(Ts::new(764, 100)));
        assert_eq!(parse_seconds("3"), Some(Ts::new(3, 1)));
        assert_eq!(parse_seconds("01:02.5"), Some(Ts::new(625, 10)));
        assert_eq!(parse_seconds("1:00:01"), Some(Ts::new(3601, 1)));
        for bad in [
            "",
            "a",
            "1:60",
            "1:2:3:4",
            "-1",
            "1.",
            ".5",
            "1.1234567890",
            "1:61:00",
        ] {
            assert_eq!(parse_seconds(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_trim_args() {
        let (k, t) = parse_trim_arg("2=5").unwrap();
        assert_eq!((k, t.start, t.end), (2, Ts::new(5, 1), None));
        let (_, t) = parse_trim_arg("1=3.2,7.64").unwrap();
        assert_eq!(t.end, Some(Ts::new(764, 100)));
        assert!(parse_trim_arg("0=1,2").is_err());
        assert!(parse_trim_arg("1=5,4").unwrap_err().contains("not before"));
        assert!(parse_trim_arg("1=5,5.0").is_err());
        assert!(parse_trim_arg("5").is_err());
    }

    #[test]
    fn audio_keeps_one_packet_of_pre_roll() {
        // 1024-tick packets at 0, 1024, ... 10 packets; keep media 2500..5000.
        let dts: Vec<i64> = (0..10).map(|k| k * 1024).collect();
        let mut m = media(vec![track(48000, &dts)]);
        m.movie_timescale = 48000;
        // No video: the window is the audio's own span; trim 2500..5000 ticks of 48 kHz.
        let trim = Trim {
            start: Ts::new(2500, 48000),
            end: Some(Ts::new(5000, 48000)),
        };
        apply_trim(&mut m, &trim).unwrap();
        let t = &m.tracks[0];
        let kept: Vec<i64> = t.samples.iter().map(|s| s.dts).collect();
        // Packet 2 (2048..3072) holds 2500; packet 1 is its pre-roll; packet 4 (4096..5120) ends it.
        assert_eq!(kept, vec![1024, 2048, 3072, 4096]);
        assert_eq!(t.edits.len(), 1);
        assert_eq!(t.edits[0].media_time, 2500);
        assert_eq!(t.edits[0].segment_duration, 2500);
        assert_eq!(m.movie_duration, 2500);
    }

    #[test]
    fn video_keeps_from_the_keyframe_to_the_last_frame_needed() {
        use crate::model::Sample;
        // Decode order I0 P3 B1 B2 | I4 P7 B5 B6 (presentation numbers), 10 ticks a frame, one
        // frame of reorder delay.
        let frames = [0, 3, 1, 2, 4, 7, 5, 6];
        let mut t = track(1000, &[]);
        t.kind = TrackKind::Video;
        t.samples = frames
            .iter()
            .enumerate()
            .map(|(k, &n)| Sample {
                offset: 10 * k as u64,
                dts: 10 * k as i64,
                size: 10,
                duration: 10,
                cts_offset: i32::try_from(10 * (n - k as i64) + 10).unwrap_or(0),
                entry: 0,
                sync: n % 4 == 0,
            })
            .collect();
        // Show B5 only: from I4; B6 (the decode-order tail, shown from the end on) is left out,
        // P7 stays (B5 needs it).
        assert_eq!(video_range(&t, 60, 70), 4..7);
        // Show frames 2 and 3: from I0; the second GOP is left out; P3 and B2 stay.
        assert_eq!(video_range(&t, 30, 50), 0..4);
        // Before the first frame: from the first sample.
        assert_eq!(video_range(&t, 0, 30), 0..3);
    }

    #[test]
    fn start_past_the_end_is_refused() {
        let mut m = media(vec![track(48000, &[0, 1024])]);
        let trim = Trim {
            start: Ts::new(1, 1),
            end: None,
        };
        let e = apply_trim(&mut m, &trim).unwrap_err().to_string();
        assert!(e.contains("past the input's end"), "{e}");
    }
}
