//! M3U8 playlists (RFC 8216, HTTP Live Streaming): media playlists (segments) and master playlists
//! (variant streams), and the resolver that turns segment URIs into local file paths.
//!
//! Parsing is line based (§4.1): `#EXT` lines are tags, other `#` lines comments, the rest URIs.
//! Attribute lists (§4.2) are parsed with quoted strings. Durations are kept exactly as the decimal
//! the playlist writes ([`Duration`], up to nanoseconds). Tags seam does not use are ignored; tags
//! it does not know are ignored with a [`PlaylistWarning`]. Encrypted segments (`#EXT-X-KEY` with a
//! method other than `NONE`) are refused: their bytes cannot be copied into an MP4.
//!
//! The resolver ([`MediaPlaylist::resolve`]) refuses URLs (anything with a scheme: `http:`,
//! `https:`, `file:`..., or `//host`) because seam reads local files only, and, unless
//! [`ResolveOptions::allow_any_path`] is set, paths that leave the playlist's folder: absolute
//! paths, `..` components, and symbolic links pointing outside (checked on the canonical path).
//! A URI is used as the file name it spells (no percent-decoding, no query stripping), the way
//! ffmpeg's `file` protocol opens it; a segment that does not exist is a [`PlaylistError::Io`]
//! naming it.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use crate::error::{DemuxError, Location};
use crate::limits::Limits;

/// An exact segment duration: `num / 10^scale` seconds, as written in `#EXTINF` (§4.3.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Duration {
    /// The decimal digits as an integer.
    pub num: u64,
    /// Digits after the decimal point (0 to 9).
    pub scale: u8,
}

impl Duration {
    /// The denominator, `10^scale`.
    pub fn den(&self) -> u64 {
        10u64.pow(u32::from(self.scale))
    }

    /// The duration in nanoseconds (exact), saturating.
    pub fn nanos(&self) -> u64 {
        self.num
            .saturating_mul(10u64.pow(9 - u32::from(self.scale.min(9))))
    }

    /// The duration in milliseconds, rounded down.
    pub fn millis(&self) -> u64 {
        self.nanos() / 1_000_000
    }

    /// Parses a decimal-floating-point (§4.2): digits, optionally `.` and digits. Digits after the
    /// ninth decimal are dropped (below a nanosecond).
    pub fn parse(s: &str) -> Option<Duration> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let frac = &frac[..frac.len().min(9)];
        let mut num: u64 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            num = num.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        }
        Some(Duration {
            num,
            scale: frac.len() as u8,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let den = self.den();
        if self.scale == 0 {
            write!(f, "{}", self.num)
        } else {
            write!(
                f,
                "{}.{:0width$}",
                self.num / den,
                self.num % den,
                width = usize::from(self.scale)
            )
        }
    }
}

/// A byte range of a resource: `len` bytes from `offset` (§4.3.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// The Media Initialization Section of the following segments (`#EXT-X-MAP`, §4.3.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Map {
    /// The URI as written.
    pub uri: String,
    /// The path: the URI until [`MediaPlaylist::resolve`], then the checked local path.
    pub path: PathBuf,
    /// `BYTERANGE`, when given (offset 0 when it has none).
    pub byte_range: Option<ByteRange>,
    /// Line of the tag (from 1).
    pub line: usize,
}

/// A media segment (§3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The URI as written.
    pub uri: String,
    /// The path: the URI until [`MediaPlaylist::resolve`], then the checked local path.
    pub path: PathBuf,
    /// `#EXT-X-BYTERANGE`, with an implicit offset resolved.
    pub byte_range: Option<ByteRange>,
    /// `#EXTINF` duration.
    pub duration: Duration,
    /// `#EXTINF` title (may be empty).
    pub title: String,
    /// `#EXT-X-DISCONTINUITY` before this segment.
    pub discontinuity_before: bool,
    /// The `#EXT-X-MAP` in force, as an index into [`MediaPlaylist::maps`].
    pub map: Option<usize>,
    /// Media sequence number (§4.3.3.2).
    pub sequence: u64,
    /// Line of the URI (from 1).
    pub line: usize,
}

/// A media playlist (§4.3.3): its segments in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MediaPlaylist {
    /// `#EXT-X-VERSION`.
    pub version: Option<u32>,
    /// `#EXT-X-TARGETDURATION` in seconds (required by §4.3.3.1; a warning when missing).
    pub target_duration: Option<u64>,
    /// `#EXT-X-MEDIA-SEQUENCE` (0 when absent).
    pub media_sequence: u64,
    /// `#EXT-X-ENDLIST` was present.
    pub end_list: bool,
    /// The segments.
    pub segments: Vec<Segment>,
    /// Every `#EXT-X-MAP`, in order.
    pub maps: Vec<Map>,
    /// What was ignored.
    pub warnings: Vec<PlaylistWarning>,
}

/// A variant stream of a master playlist (`#EXT-X-STREAM-INF`, §4.3.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variant {
    /// The URI of its media playlist.
    pub uri: String,
    /// The path: the URI until [`MasterPlaylist::resolve`], then the checked local path.
    pub path: PathBuf,
    /// `BANDWIDTH` in bits per second.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`.
    pub average_bandwidth: Option<u64>,
    /// `RESOLUTION` as (width, height).
    pub resolution: Option<(u32, u32)>,
    /// `CODECS`, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: Option<String>,
    /// Line of the URI (from 1).
    pub line: usize,
}

/// A master playlist (§4.3.4): its variants sorted by bandwidth, lowest first (stable: equal
/// bandwidths keep playlist order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MasterPlaylist {
    /// `#EXT-X-VERSION`.
    pub version: Option<u32>,
    /// The variants.
    pub variants: Vec<Variant>,
    /// What was ignored.
    pub warnings: Vec<PlaylistWarning>,
}

/// A parsed playlist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Playlist {
    /// Segments.
    Media(MediaPlaylist),
    /// Variant streams.
    Master(MasterPlaylist),
}

/// Something ignored in a playlist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaylistWarning {
    /// A tag seam does not know.
    #[error("line {line}: unknown tag {tag} ignored")]
    UnknownTag {
        /// The line (from 1).
        line: usize,
        /// The tag name, e.g. `#EXT-X-FOO`.
        tag: String,
    },
    /// No `#EXT-X-TARGETDURATION` in a media playlist.
    #[error("no #EXT-X-TARGETDURATION")]
    NoTargetDuration,
    /// Tags after the last URI that apply to no segment.
    #[error("line {line}: {tag} applies to no segment (no URI follows)")]
    Dangling {
        /// The line.
        line: usize,
        /// The tag.
        tag: String,
    },
}

/// Errors reading or resolving a playlist. Lines count from 1.
#[derive(Debug, thiserror::Error)]
pub enum PlaylistError {
    /// The playlist breaks a rule of RFC 8216.
    #[error("{file}: line {line}: {what}")]
    Malformed {
        /// The playlist.
        file: String,
        /// The line.
        line: usize,
        /// The rule broken.
        what: String,
    },
    /// Valid, but seam cannot use it (encryption).
    #[error("{file}: line {line}: unsupported: {what}")]
    Unsupported {
        /// The playlist.
        file: String,
        /// The line.
        line: usize,
        /// What.
        what: String,
    },
    /// More entries than [`Limits::max_playlist_entries`].
    #[error("{file}: line {line}: limit exceeded: {what}")]
    LimitExceeded {
        /// The playlist.
        file: String,
        /// The line.
        line: usize,
        /// Which limit.
        what: String,
    },
    /// A URI seam refuses to follow: a URL, or a path leaving the playlist's folder.
    #[error("{file}: line {line}: refused {uri:?}: {why}")]
    Refused {
        /// The playlist.
        file: String,
        /// The line.
        line: usize,
        /// The URI.
        uri: String,
        /// Why.
        why: String,
    },
    /// Reading the playlist or finding a segment failed.
    #[error("{file}: {source}")]
    Io {
        /// The playlist or segment path.
        file: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl From<PlaylistError> for DemuxError {
    /// The demux error of the same kind, located at `line N` (the byte offset is that of the
    /// line's start when known; 0 here). Refusals are `Unsupported`.
    fn from(e: PlaylistError) -> DemuxError {
        let loc = |file: String, line: usize| Location {
            file,
            path: format!("line {line}"),
            offset: 0,
        };
        match e {
            PlaylistError::Malformed { file, line, what } => DemuxError::Malformed {
                loc: loc(file, line),
                rule: what,
            },
            PlaylistError::Unsupported { file, line, what } => DemuxError::Unsupported {
                loc: loc(file, line),
                what,
            },
            PlaylistError::LimitExceeded { file, line, what } => DemuxError::LimitExceeded {
                loc: loc(file, line),
                what,
            },
            PlaylistError::Refused {
                file,
                line,
                uri,
                why,
            } => DemuxError::Unsupported {
                loc: loc(file, line),
                what: format!("{uri:?}: {why}"),
            },
            PlaylistError::Io { file, source } => DemuxError::Io { file, source },
        }
    }
}

/// An attribute value (§4.2): a quoted string (quotes removed) or anything else, verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttrValue {
    /// `"..."`.
    Quoted(String),
    /// A decimal integer, float, hexadecimal sequence, enumerated string or resolution.
    Plain(String),
}

impl AttrValue {
    /// The value's text.
    pub fn as_str(&self) -> &str {
        match self {
            AttrValue::Quoted(s) | AttrValue::Plain(s) => s,
        }
    }
}

/// Parses an attribute list (§4.2): `NAME=value` pairs separated by commas; names are
/// `[A-Z0-9-]+`; quoted strings hold no `"`, CR or LF; a name may appear once.
pub fn parse_attributes(s: &str) -> Result<Vec<(String, AttrValue)>, String> {
    let mut out: Vec<(String, AttrValue)> = Vec::new();
    let mut rest = s;
    while !rest.is_empty() {
        let Some((name, after)) = rest.split_once('=') else {
            return Err(format!("attribute {rest:?} has no '='"));
        };
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(format!("bad attribute name {name:?}"));
        }
        let (value, after) = if let Some(q) = after.strip_prefix('"') {
            let Some(end) = q.find('"') else {
                return Err(format!("attribute {name}: unterminated quoted string"));
            };
            (AttrValue::Quoted(q[..end].to_string()), &q[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (AttrValue::Plain(after[..end].to_string()), &after[end..])
        };
        if out.iter().any(|(n, _)| n == name) {
            return Err(format!("attribute {name} appears twice"));
        }
        out.push((name.to_string(), value));
        rest = match after.strip_prefix(',') {
            Some(r) if !r.is_empty() => r,
            Some(_) => return Err("attribute list ends with ','".into()),
            None if after.is_empty() => after,
            None => {
                return Err(format!(
                    "attribute {name}: unexpected {after:?} after value"
                ))
            }
        };
    }
    Ok(out)
}

fn attr<'a>(attrs: &'a [(String, AttrValue)], name: &str) -> Option<&'a AttrValue> {
    attrs.iter().find(|(n, _)| n == name).map(|(_, v)| v)
}

/// Parses `n[@o]` (§4.3.2.2).
fn parse_byte_range(s: &str) -> Option<(u64, Option<u64>)> {
    let (n, o) = match s.split_once('@') {
        Some((n, o)) => (n, Some(o)),
        None => (s, None),
    };
    let num = |t: &str| -> Option<u64> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    Some((
        num(n)?,
        match o {
            Some(o) => Some(num(o)?),
            None => None,
        },
    ))
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Tags that are valid but do not change what seam reads.
const IGNORED_TAGS: &[&str] = &[
    "#EXT-X-PROGRAM-DATE-TIME",
    "#EXT-X-INDEPENDENT-SEGMENTS",
    "#EXT-X-PLAYLIST-TYPE",
    "#EXT-X-DISCONTINUITY-SEQUENCE",
    "#EXT-X-START",
    "#EXT-X-DATERANGE",
    "#EXT-X-ALLOW-CACHE",
    "#EXT-X-I-FRAMES-ONLY",
    "#EXT-X-MEDIA",
    "#EXT-X-I-FRAME-STREAM-INF",
    "#EXT-X-SESSION-DATA",
    "#EXT-X-SESSION-KEY",
];

/// Parses a playlist's text; `file` names it in errors.
pub fn parse(file: &str, text: &str, limits: &Limits) -> Result<Playlist, PlaylistError> {
    Parser::new(file, limits).run(text)
}

struct Parser<'a> {
    file: &'a str,
    limits: &'a Limits,
    line: usize,
    media: MediaPlaylist,
    variants: Vec<Variant>,
    // Tags waiting for the next URI line.
    extinf: Option<(Duration, String, usize)>,
    byte_range: Option<(u64, Option<u64>, usize)>,
    discontinuity: Option<usize>,
    stream_inf: Option<(Vec<(String, AttrValue)>, usize)>,
    map: Option<usize>,
    /// URI and end of the previous segment's byte range, for implicit offsets.
    previous_range: Option<(String, u64)>,
    media_tags: bool,
}

impl<'a> Parser<'a> {
    fn new(file: &'a str, limits: &'a Limits) -> Self {
        Parser {
            file,
            limits,
            line: 0,
            media: MediaPlaylist::default(),
            variants: Vec::new(),
            extinf: None,
            byte_range: None,
            discontinuity: None,
            stream_inf: None,
            map: None,
            previous_range: None,
            media_tags: false,
        }
    }

    fn malformed<T>(&self, what: impl Into<String>) -> Result<T, PlaylistError> {
        Err(PlaylistError::Malformed {
            file: self.file.to_string(),
            line: self.line,
            what: what.into(),
        })
    }

    fn entries(&self) -> usize {
        self.media.segments.len() + self.variants.len() + self.media.maps.len()
    }

    fn check_limit(&self) -> Result<(), PlaylistError> {
        if self.entries() >= self.limits.max_playlist_entries {
            return Err(PlaylistError::LimitExceeded {
                file: self.file.to_string(),
                line: self.line,
                what: format!(
                    "more than {} playlist entries",
                    self.limits.max_playlist_entries
                ),
            });
        }
        Ok(())
    }

    fn run(mut self, text: &str) -> Result<Playlist, PlaylistError> {
        let mut lines = text.split('\n');
        self.line = 1;
        let first = lines.next().unwrap_or("");
        if first.trim_end_matches('\r') != "#EXTM3U" {
            return self.malformed("the first line is not #EXTM3U");
        }
        for (i, raw) in lines.enumerate() {
            self.line = i + 2;
            // CRLF line ends, and stray trailing blanks (never meaningful: a quoted string ends
            // with its quote).
            let line = raw.trim_end_matches(['\r', ' ', '\t']);
            if line.trim().is_empty() {
                continue;
            }
            if line.starts_with("#EXT") {
                self.tag(line)?;
            } else if line.starts_with('#') {
                continue; // a comment
            } else {
                self.uri(line.trim())?;
            }
        }
        for (pending, tag) in [
            (self.extinf.as_ref().map(|e| e.2), "#EXTINF"),
            (self.byte_range.as_ref().map(|b| b.2), "#EXT-X-BYTERANGE"),
            (self.discontinuity, "#EXT-X-DISCONTINUITY"),
            (self.stream_inf.as_ref().map(|s| s.1), "#EXT-X-STREAM-INF"),
        ] {
            if let Some(line) = pending {
                let w = PlaylistWarning::Dangling {
                    line,
                    tag: tag.into(),
                };
                self.media.warnings.push(w);
            }
        }
        if !self.variants.is_empty() {
            let mut variants = self.variants;
            variants.sort_by_key(|v| v.bandwidth);
            return Ok(Playlist::Master(MasterPlaylist {
                version: self.media.version,
                variants,
                warnings: self.media.warnings,
            }));
        }
        if self.media.target_duration.is_none() {
            self.media.warnings.push(PlaylistWarning::NoTargetDuration);
        }
        Ok(Playlist::Media(self.media))
    }

    fn master_and_media(&self) -> Result<(), PlaylistError> {
        if self.media_tags && (!self.variants.is_empty() || self.stream_inf.is_some()) {
            return self.malformed("master playlist tags and media segment tags in one playlist");
        }
        Ok(())
    }

    fn tag(&mut self, line: &str) -> Result<(), PlaylistError> {
        let (name, value) = match line.split_once(':') {
            Some((n, v)) => (n, Some(v)),
            None => (line, None),
        };
        let need = |p: &Self| -> Result<&str, PlaylistError> {
            match value {
                Some(v) => Ok(v),
                None => p.malformed(format!("{name} without a value")),
            }
        };
        match name {
            "#EXTM3U" => {}
            "#EXT-X-VERSION" => {
                let v = need(self)?;
                match parse_decimal(v).and_then(|v| u32::try_from(v).ok()) {
                    Some(v) => self.media.version = Some(v),
                    None => return self.malformed(format!("bad #EXT-X-VERSION {v:?}")),
                }
            }
            "#EXT-X-TARGETDURATION" => {
                self.media_tags = true;
                let v = need(self)?;
                match parse_decimal(v) {
                    Some(v) => self.media.target_duration = Some(v),
                    None => return self.malformed(format!("bad #EXT-X-TARGETDURATION {v:?}")),
                }
            }
            "#EXT-X-MEDIA-SEQUENCE" => {
                self.media_tags = true;
                if !self.media.segments.is_empty() {
                    return self.malformed("#EXT-X-MEDIA-SEQUENCE after the first segment");
                }
                let v = need(self)?;
                match parse_decimal(v) {
                    Some(v) => self.media.media_sequence = v,
                    None => return self.malformed(format!("bad #EXT-X-MEDIA-SEQUENCE {v:?}")),
                }
            }
            "#EXTINF" => {
                self.media_tags = true;
                let v = need(self)?;
                let (d, title) = v.split_once(',').unwrap_or((v, ""));
                let Some(d) = Duration::parse(d.trim()) else {
                    return self.malformed(format!("bad #EXTINF duration {d:?}"));
                };
                self.extinf = Some((d, title.to_string(), self.line));
            }
            "#EXT-X-BYTERANGE" => {
                self.media_tags = true;
                let v = need(self)?;
                let Some((n, o)) = parse_byte_range(v) else {
                    return self.malformed(format!("bad #EXT-X-BYTERANGE {v:?}"));
                };
                self.byte_range = Some((n, o, self.line));
            }
            "#EXT-X-DISCONTINUITY" => {
                self.media_tags = true;
                self.discontinuity = Some(self.line);
            }
            "#EXT-X-ENDLIST" => {
                self.media_tags = true;
                self.media.end_list = true;
            }
            "#EXT-X-MAP" => {
                self.media_tags = true;
                let attrs = parse_attributes(need(self)?).or_else(|e| self.malformed(e))?;
                let Some(AttrValue::Quoted(uri)) = attr(&attrs, "URI") else {
                    return self.malformed("#EXT-X-MAP without a quoted URI");
                };
                let byte_range = match attr(&attrs, "BYTERANGE") {
                    None => None,
                    Some(AttrValue::Quoted(r)) => match parse_byte_range(r) {
                        Some((len, offset)) => Some(ByteRange {
                            offset: offset.unwrap_or(0),
                            len,
                        }),
                        None => return self.malformed(format!("bad #EXT-X-MAP BYTERANGE {r:?}")),
                    },
                    Some(_) => return self.malformed("#EXT-X-MAP BYTERANGE is not quoted"),
                };
                self.check_limit()?;
                self.media.maps.push(Map {
                    uri: uri.clone(),
                    path: PathBuf::from(uri),
                    byte_range,
                    line: self.line,
                });
                self.map = Some(self.media.maps.len() - 1);
            }
            "#EXT-X-KEY" => {
                self.media_tags = true;
                let attrs = parse_attributes(need(self)?).or_else(|e| self.malformed(e))?;
                let method = attr(&attrs, "METHOD").map(|m| m.as_str().to_string());
                if method.as_deref() != Some("NONE") {
                    return Err(PlaylistError::Unsupported {
                        file: self.file.to_string(),
                        line: self.line,
                        what: format!(
                            "encrypted segments (#EXT-X-KEY METHOD={})",
                            method.unwrap_or_default()
                        ),
                    });
                }
            }
            "#EXT-X-STREAM-INF" => {
                let attrs = parse_attributes(need(self)?).or_else(|e| self.malformed(e))?;
                self.stream_inf = Some((attrs, self.line));
            }
            n if IGNORED_TAGS.contains(&n) => {}
            n => self.media.warnings.push(PlaylistWarning::UnknownTag {
                line: self.line,
                tag: n.to_string(),
            }),
        }
        self.master_and_media()
    }

    fn uri(&mut self, uri: &str) -> Result<(), PlaylistError> {
        self.check_limit()?;
        if let Some((attrs, _)) = self.stream_inf.take() {
            return self.variant(uri, attrs);
        }
        let Some((duration, title, _)) = self.extinf.take() else {
            return self.malformed(format!("URI {uri:?} without #EXTINF or #EXT-X-STREAM-INF"));
        };
        let byte_range = match self.byte_range.take() {
            None => None,
            Some((len, offset, _)) => {
                let offset = match offset {
                    Some(o) => o,
                    None => match &self.previous_range {
                        Some((prev, end)) if prev == uri => *end,
                        _ => {
                            return self.malformed(
                                "#EXT-X-BYTERANGE without offset, and the previous segment is not a range of the same URI",
                            )
                        }
                    },
                };
                let Some(end) = offset.checked_add(len) else {
                    return self.malformed("byte range overflows");
                };
                self.previous_range = Some((uri.to_string(), end));
                Some(ByteRange { offset, len })
            }
        };
        if byte_range.is_none() {
            self.previous_range = None;
        }
        let sequence = self
            .media
            .media_sequence
            .checked_add(self.media.segments.len() as u64);
        let Some(sequence) = sequence else {
            return self.malformed("media sequence number overflows");
        };
        self.media.segments.push(Segment {
            uri: uri.to_string(),
            path: PathBuf::from(uri),
            byte_range,
            duration,
            title,
            discontinuity_before: self.discontinuity.take().is_some(),
            map: self.map,
            sequence,
            line: self.line,
        });
        self.master_and_media()
    }

    fn variant(&mut self, uri: &str, attrs: Vec<(String, AttrValue)>) -> Result<(), PlaylistError> {
        let Some(bw) = attr(&attrs, "BANDWIDTH") else {
            return self.malformed("#EXT-X-STREAM-INF without BANDWIDTH");
        };
        let Some(bandwidth) = parse_decimal(bw.as_str()) else {
            return self.malformed(format!("bad BANDWIDTH {:?}", bw.as_str()));
        };
        let average_bandwidth = match attr(&attrs, "AVERAGE-BANDWIDTH") {
            None => None,
            Some(v) => match parse_decimal(v.as_str()) {
                Some(v) => Some(v),
                None => return self.malformed(format!("bad AVERAGE-BANDWIDTH {:?}", v.as_str())),
            },
        };
        let resolution = match attr(&attrs, "RESOLUTION") {
            None => None,
            Some(v) => {
                let r = v.as_str().split_once('x').and_then(|(w, h)| {
                    Some((
                        u32::try_from(parse_decimal(w)?).ok()?,
                        u32::try_from(parse_decimal(h)?).ok()?,
                    ))
                });
                match r {
                    Some(r) => Some(r),
                    None => return self.malformed(format!("bad RESOLUTION {:?}", v.as_str())),
                }
            }
        };
        let codecs = match attr(&attrs, "CODECS") {
            None => None,
            Some(AttrValue::Quoted(c)) => Some(c.clone()),
            Some(_) => return self.malformed("CODECS is not a quoted string"),
        };
        self.variants.push(Variant {
            uri: uri.to_string(),
            path: PathBuf::from(uri),
            bandwidth,
            average_bandwidth,
            resolution,
            codecs,
            line: self.line,
        });
        self.master_and_media()
    }
}

/// How segment URIs become paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResolveOptions {
    /// Follow absolute paths, `..` and symbolic links out of the playlist's folder.
    pub allow_any_path: bool,
}

/// True when `uri` has a scheme (RFC 3986 §3.1: a letter, then letters, digits, `+`, `-`, `.`,
/// then `:`) or is a network-path reference (`//host/...`).
pub fn is_url(uri: &str) -> bool {
    if uri.starts_with("//") {
        return true;
    }
    let Some((scheme, _)) = uri.split_once(':') else {
        return false;
    };
    let mut b = scheme.bytes();
    b.next().is_some_and(|c| c.is_ascii_alphabetic())
        && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
}

/// Resolves one URI against `dir` (the playlist's folder). See the module documentation.
pub fn resolve_uri(
    file: &str,
    line: usize,
    dir: &Path,
    uri: &str,
    opts: &ResolveOptions,
) -> Result<PathBuf, PlaylistError> {
    let refuse = |why: &str| PlaylistError::Refused {
        file: file.to_string(),
        line,
        uri: uri.to_string(),
        why: why.to_string(),
    };
    if uri.is_empty() {
        return Err(refuse("empty URI"));
    }
    if is_url(uri) {
        return Err(refuse("a URL (seam reads local files only)"));
    }
    let rel = Path::new(uri);
    if opts.allow_any_path {
        return Ok(dir.join(rel));
    }
    if rel.is_absolute() {
        return Err(refuse(
            "an absolute path (outside the playlist's folder; allow_any_path permits it)",
        ));
    }
    if rel.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(refuse(
            "a '..' path (outside the playlist's folder; allow_any_path permits it)",
        ));
    }
    let io = |path: &Path, e: std::io::Error| PlaylistError::Io {
        file: path.display().to_string(),
        source: e,
    };
    let base = dir.canonicalize().map_err(|e| io(dir, e))?;
    let joined = dir.join(rel);
    let full = joined.canonicalize().map_err(|e| io(&joined, e))?;
    if !full.starts_with(&base) {
        return Err(refuse(
            "a symbolic link out of the playlist's folder (allow_any_path permits it)",
        ));
    }
    Ok(full)
}

impl MediaPlaylist {
    /// Replaces every segment's and map's `path` by the local file its URI names, relative to
    /// `dir` (the playlist's folder); `file` names the playlist in errors.
    pub fn resolve(
        &mut self,
        file: &str,
        dir: &Path,
        opts: &ResolveOptions,
    ) -> Result<(), PlaylistError> {
        for m in &mut self.maps {
            m.path = resolve_uri(file, m.line, dir, &m.uri, opts)?;
        }
        for s in &mut self.segments {
            s.path = resolve_uri(file, s.line, dir, &s.uri, opts)?;
        }
        Ok(())
    }

    /// The playlist's total duration (sum of `#EXTINF`) in nanoseconds, saturating.
    pub fn duration_nanos(&self) -> u64 {
        self.segments
            .iter()
            .fold(0u64, |a, s| a.saturating_add(s.duration.nanos()))
    }
}

impl MasterPlaylist {
    /// Replaces every variant's `path` by the local playlist its URI names, as
    /// [`MediaPlaylist::resolve`] does for segments.
    pub fn resolve(
        &mut self,
        file: &str,
        dir: &Path,
        opts: &ResolveOptions,
    ) -> Result<(), PlaylistError> {
        for v in &mut self.variants {
            v.path = resolve_uri(file, v.line, dir, &v.uri, opts)?;
        }
        Ok(())
    }
}

/// Reads, parses and resolves the playlist at `path` (segment and map paths of a media playlist,
/// variant paths of a master playlist). The file may be at
/// most 1 KB per allowed entry plus 1 MB (checked before reading).
pub fn load(
    path: &Path,
    limits: &Limits,
    opts: &ResolveOptions,
) -> Result<Playlist, PlaylistError> {
    let file = path.display().to_string();
    let io = |e| PlaylistError::Io {
        file: file.clone(),
        source: e,
    };
    let len = std::fs::metadata(path).map_err(io)?.len();
    let max = (limits.max_playlist_entries as u64)
        .saturating_mul(1024)
        .saturating_add(1 << 20);
    if len > max {
        return Err(PlaylistError::LimitExceeded {
            file,
            line: 0,
            what: format!("playlist of {len} bytes (limit {max})"),
        });
    }
    let bytes = std::fs::read(path).map_err(io)?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Err(PlaylistError::Malformed {
            file,
            line: 0,
            what: "not UTF-8 (RFC 8216 §4.1)".into(),
        });
    };
    let mut p = parse(&file, &text, limits)?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    match &mut p {
        Playlist::Media(m) => m.resolve(&file, dir, opts)?,
        Playlist::Master(m) => m.resolve(&file, dir, opts)?,
    }
    Ok(p)
}

#[cfg(test)]
#[path = "playlist_tests.rs"]
mod tests;
