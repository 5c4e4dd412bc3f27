//! The VOD media playlist (RFC 8216 §4.3), rendered from integer segment durations.
//!
//! Layout, in the order §4.3 lists the tags:
//!
//! ```text
//! #EXTM3U
//! #EXT-X-VERSION:3                 (7 for fMP4 segments)
//! #EXT-X-TARGETDURATION:6
//! #EXT-X-MEDIA-SEQUENCE:0
//! #EXT-X-PLAYLIST-TYPE:VOD
//! #EXT-X-INDEPENDENT-SEGMENTS
//! #EXT-X-MAP:URI="out_init.mp4"    (fMP4 only)
//! #EXTINF:6.006,
//! out_00000.ts
//! #EXT-X-DISCONTINUITY             (before a segment that follows a join, when asked)
//! #EXTINF:4.5,
//! out_00001.ts
//! #EXT-X-ENDLIST
//! ```
//!
//! **Version** (§7): decimal `#EXTINF` durations need version 3; `#EXT-X-MAP` in a playlist
//! without `#EXT-X-I-FRAMES-ONLY` needs 6. fMP4 playlists say 7, as Apple's HLS authoring
//! specification and ffmpeg do.
//!
//! **`#EXTINF`** (§4.3.2.1): the exact tick count rounded once to the nearest microsecond
//! ([`crate::time::rescale`], halves up), written as a decimal with trailing zeros dropped but at
//! least three decimals: 540540 ticks at 90 kHz → `6.006`, 2 s → `2.000`, 1001 ticks at 30 kHz →
//! `0.033367`. No floating point is involved, so the text never shows binary-float artefacts, and
//! the sum of the written durations is within half a microsecond per segment of the exact total.
//!
//! **`#EXT-X-TARGETDURATION`** (§4.3.3.1): "The EXTINF duration of each Media Segment in the
//! Playlist file, when rounded to the nearest integer, MUST be less than or equal to the target
//! duration". The writer rounds each *written* `#EXTINF` value (not the exact duration, which could
//! round the other way) to the nearest integer, halves up (the larger choice satisfies either
//! reading of "nearest" for x.5), takes the maximum, and writes at least 1 (a target of 0 confuses
//! players).
//!
//! **Names**: segment `k` of a playlist `<stem>.m3u8` is `<stem>_<k>.ts` (or `.m4s`), `k` written
//! with at least five digits (`out_00000.ts`, ..., `out_99999.ts`, `out_100000.ts`); the fMP4
//! initialization section is `<stem>_init.mp4`. URIs are relative, so the files sit beside the
//! playlist and the folder can be moved as a whole.

use std::fmt::Write as _;

use super::segmenter::Segment;
use super::HlsError;
use crate::time::{rescale, Rounding};

/// The container of the segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentFormat {
    /// MPEG-2 transport stream segments (§3.2).
    Ts,
    /// Fragmented MP4 segments with an initialization section (§3.3).
    Fmp4,
}

impl SegmentFormat {
    /// The segment file extension.
    pub fn extension(self) -> &'static str {
        match self {
            SegmentFormat::Ts => "ts",
            SegmentFormat::Fmp4 => "m4s",
        }
    }

    /// `#EXT-X-VERSION` (see the module documentation).
    pub fn version(self) -> u32 {
        match self {
            SegmentFormat::Ts => 3,
            SegmentFormat::Fmp4 => 7,
        }
    }
}

/// What the playlist needs to know of one segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    /// Exact duration in `timescale` ticks.
    pub duration: u64,
    /// Ticks per second.
    pub timescale: u32,
    /// Write `#EXT-X-DISCONTINUITY` before it (§4.3.2.3): its timestamps do not continue the
    /// previous segment's, or its encoding parameters differ.
    pub discontinuity_before: bool,
}

impl SegmentInfo {
    /// The playlist entry of a segment cut from a track of `timescale`.
    pub fn from_segment(seg: &Segment, timescale: u32) -> Self {
        SegmentInfo {
            duration: seg.duration,
            timescale,
            discontinuity_before: false,
        }
    }
}

/// How the playlist names its files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlaylistOptions<'a> {
    /// The playlist's file name without `.m3u8`; segment names start with it.
    pub stem: &'a str,
    /// The segment container.
    pub format: SegmentFormat,
}

/// The URI (and file name) of segment `k`.
pub fn segment_uri(stem: &str, k: usize, format: SegmentFormat) -> String {
    format!("{stem}_{k:05}.{}", format.extension())
}

/// The URI (and file name) of the fMP4 initialization section.
pub fn init_uri(stem: &str) -> String {
    format!("{stem}_init.mp4")
}

/// Refuses stems that would not survive as a URI line or a quoted string (§4.1, §4.2).
pub fn check_stem(stem: &str) -> Result<(), HlsError> {
    let bad = |why| {
        Err(HlsError::BadName {
            name: stem.to_string(),
            why,
        })
    };
    if stem.is_empty() {
        return bad("empty name");
    }
    if stem.starts_with('#') {
        // A line starting with '#' is a tag or a comment, never a URI (§4.1).
        return bad("a URI line cannot start with '#'");
    }
    if stem.chars().any(char::is_control) {
        return bad("control characters (a line break would end the URI)");
    }
    if stem.contains('"') {
        // The initialization section's URI is a quoted-string, which cannot contain '"' (§4.2).
        return bad("'\"' cannot appear in a quoted-string");
    }
    if stem.contains('/') {
        return bad("'/' would put the segments in another folder");
    }
    if stem.trim() != stem {
        return bad("leading or trailing white space");
    }
    Ok(())
}

/// A segment duration in whole microseconds, rounded to the nearest (halves up).
pub fn extinf_micros(duration: u64, timescale: u32) -> Result<u64, HlsError> {
    let ticks = i64::try_from(duration).map_err(|_| HlsError::Overflow("segment duration"))?;
    rescale(ticks, u64::from(timescale), 1_000_000, Rounding::Nearest)
        .and_then(|us| u64::try_from(us).ok())
        .ok_or(if timescale == 0 {
            HlsError::ZeroTimescale
        } else {
            HlsError::Overflow("segment duration in microseconds")
        })
}

/// Renders microseconds as the `#EXTINF` decimal: at least three decimals, at most six, no
/// trailing zeros past the third.
fn render_micros(us: u64) -> String {
    let mut frac = format!("{:06}", us % 1_000_000);
    while frac.len() > 3 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}.{frac}", us / 1_000_000)
}

/// The `#EXTINF` duration text of a segment (see the module documentation).
pub fn extinf(duration: u64, timescale: u32) -> Result<String, HlsError> {
    extinf_micros(duration, timescale).map(render_micros)
}

/// `#EXT-X-TARGETDURATION` for these segments (see the module documentation).
pub fn target_duration(segments: &[SegmentInfo]) -> Result<u64, HlsError> {
    let mut max = 1;
    for s in segments {
        let us = extinf_micros(s.duration, s.timescale)?;
        // Halves up: 6.5 s needs a target of 7 under either reading of "nearest".
        // `us` came from an i64, so adding half a second cannot overflow a u64.
        max = max.max((us + 500_000) / 1_000_000);
    }
    Ok(max)
}

/// The text of a VOD media playlist listing `segments` named by `opts`.
pub fn media_playlist(
    segments: &[SegmentInfo],
    opts: PlaylistOptions<'_>,
) -> Result<String, HlsError> {
    check_stem(opts.stem)?;
    if segments.is_empty() {
        return Err(HlsError::NoSegments);
    }
    let mut s = String::new();
    // fmt::Write on a String cannot fail.
    let _ = writeln!(s, "#EXTM3U");
    let _ = writeln!(s, "#EXT-X-VERSION:{}", opts.format.version());
    let _ = writeln!(s, "#EXT-X-TARGETDURATION:{}", target_duration(segments)?);
    let _ = writeln!(s, "#EXT-X-MEDIA-SEQUENCE:0");
    // VOD (§4.3.3.5): the playlist will not change; players may seek anywhere.
    let _ = writeln!(s, "#EXT-X-PLAYLIST-TYPE:VOD");
    // §4.3.5.1: every segment starts with a sync sample (the segmenter's rule).
    let _ = writeln!(s, "#EXT-X-INDEPENDENT-SEGMENTS");
    if opts.format == SegmentFormat::Fmp4 {
        let _ = writeln!(s, "#EXT-X-MAP:URI=\"{}\"", init_uri(opts.stem));
    }
    for (k, seg) in segments.iter().enumerate() {
        // A discontinuity before the first segment says nothing (§4.3.2.3 is about a change
        // between two segments); it is written anyway when asked, which players accept.
        if seg.discontinuity_before {
            let _ = writeln!(s, "#EXT-X-DISCONTINUITY");
        }
        let _ = writeln!(s, "#EXTINF:{},", extinf(seg.duration, seg.timescale)?);
        let _ = writeln!(s, "{}", segment_uri(opts.stem, k, opts.format));
    }
    let _ = writeln!(s, "#EXT-X-ENDLIST");
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(duration: u64, timescale: u32) -> SegmentInfo {
        SegmentInfo {
            duration,
            timescale,
            discontinuity_before: false,
        }
    }

    #[test]
    fn extinf_is_exact_decimal_text() {
        assert_eq!(extinf(540_540, 90_000).expect("extinf"), "6.006");
        assert_eq!(extinf(180_000, 90_000).expect("extinf"), "2.000");
        assert_eq!(extinf(6, 1).expect("extinf"), "6.000");
        assert_eq!(extinf(1001, 30_000).expect("extinf"), "0.033367");
        assert_eq!(extinf(1, 3).expect("extinf"), "0.333333");
        assert_eq!(extinf(2, 3).expect("extinf"), "0.666667");
        assert_eq!(extinf(441, 44_100).expect("extinf"), "0.010");
        // Half a microsecond rounds up.
        assert_eq!(extinf(1, 2_000_000).expect("extinf"), "0.000001");
        assert_eq!(extinf(0, 90_000).expect("extinf"), "0.000");
        assert!(matches!(extinf(1, 0), Err(HlsError::ZeroTimescale)));
        assert!(matches!(extinf(u64::MAX, 1), Err(HlsError::Overflow(_))));
    }

    #[test]
    fn target_duration_rounds_each_written_extinf_to_the_nearest_integer() {
        let t = |s: &[SegmentInfo]| target_duration(s).expect("target");
        assert_eq!(t(&[seg(540_540, 90_000)]), 6);
        assert_eq!(t(&[seg(6_400_000, 1_000_000), seg(2, 1)]), 6);
        assert_eq!(t(&[seg(6_499_999, 1_000_000)]), 6);
        assert_eq!(t(&[seg(6_500_000, 1_000_000)]), 7);
        assert_eq!(t(&[seg(7, 1), seg(6_600_000, 1_000_000)]), 7);
        // 6.4999996 s is written as 6.5, which rounds to 7: the written value decides.
        assert_eq!(extinf(64_999_996, 10_000_000).expect("extinf"), "6.500");
        assert_eq!(t(&[seg(64_999_996, 10_000_000)]), 7);
        // Short segments still get a target of 1.
        assert_eq!(t(&[seg(1, 10)]), 1);
    }

    #[test]
    fn ts_playlist_text() {
        let segs = [
            seg(540_540, 90_000),
            SegmentInfo {
                discontinuity_before: true,
                ..seg(405_000, 90_000)
            },
            seg(1_001, 30_000),
        ];
        let text = media_playlist(
            &segs,
            PlaylistOptions {
                stem: "out",
                format: SegmentFormat::Ts,
            },
        )
        .expect("playlist");
        assert_eq!(
            text,
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:0\n\
             #EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXTINF:6.006,\nout_00000.ts\n\
             #EXT-X-DISCONTINUITY\n#EXTINF:4.500,\nout_00001.ts\n\
             #EXTINF:0.033367,\nout_00002.ts\n#EXT-X-ENDLIST\n"
        );
    }

    #[test]
    fn fmp4_playlist_has_version_7_and_a_map() {
        let text = media_playlist(
            &[seg(6, 1)],
            PlaylistOptions {
                stem: "rec",
                format: SegmentFormat::Fmp4,
            },
        )
        .expect("playlist");
        assert!(text.contains("#EXT-X-VERSION:7\n"), "{text}");
        assert!(
            text.contains("#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MAP:URI=\"rec_init.mp4\"\n"),
            "{text}"
        );
        assert!(text.contains("#EXTINF:6.000,\nrec_00000.m4s\n"), "{text}");
    }

    #[test]
    fn names() {
        assert_eq!(segment_uri("a b", 7, SegmentFormat::Ts), "a b_00007.ts");
        assert_eq!(
            segment_uri("x", 123_456, SegmentFormat::Fmp4),
            "x_123456.m4s"
        );
        for bad in ["", "#x", "a\nb", "a\"b", "a/b", " a", "a\t"] {
            assert!(
                matches!(check_stem(bad), Err(HlsError::BadName { .. })),
                "{bad:?}"
            );
        }
        assert!(check_stem("réc-2024.01_x").is_ok());
        let opts = PlaylistOptions {
            stem: "out",
            format: SegmentFormat::Ts,
        };
        assert!(matches!(
            media_playlist(&[], opts),
            Err(HlsError::NoSegments)
        ));
    }
}
