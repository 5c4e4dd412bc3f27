//! Start times and user ids read from recorders' file names (`--name-pattern`).
//!
//! Per-user cloud recorders name each file after the user and the wall-clock time it starts, e.g.
//! Agora's `100_20190611073246073.aac` (uid 100, 2019-06-11 07:32:46.073 UTC). A pattern is a
//! regular expression with named groups: `uid` (who; what `seam batch --dir` groups by) and
//! `start` (when: 17 digits `yyyyMMddHHmmssSSS` in UTC, or plain seconds such as `1560238366.073`).
//! The pattern is searched in the file name (not the folder), unanchored: write `^...$` to match
//! whole names. These functions are public so that `seam stitch --name-pattern` can use them too.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};

use regex::Regex;

use crate::time::Ts;

/// The group naming the user.
pub const UID_GROUP: &str = "uid";
/// The group naming the start time.
pub const START_GROUP: &str = "start";

/// Most files `seam batch --dir` lists in one folder (a cap before the listing grows unbounded).
pub const MAX_DIR_ENTRIES: usize = 1_000_000;

/// Longest pattern accepted, in bytes (a regex is compiled, and its size is bounded by the regex
/// crate's own limits too).
const MAX_PATTERN_LEN: usize = 4096;

/// A problem with a name pattern or with what it matched.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// The pattern is not a valid regular expression, or lacks a group the caller needs.
    #[error("--name-pattern {pattern:?}: {why}")]
    BadPattern {
        /// The pattern as given.
        pattern: String,
        /// Why.
        why: String,
    },
    /// A file name matched but its `start` group is not a time.
    #[error("{file}: start {value:?} from the name pattern: {why}")]
    BadStart {
        /// The file name.
        file: String,
        /// The file's `uid` group, when the pattern has one (whose output the file belongs to).
        uid: Option<String>,
        /// The text the `start` group matched.
        value: String,
        /// Why.
        why: String,
    },
    /// A file name matched but its `uid` group cannot name an output file.
    #[error("{file}: uid {uid:?} from the name pattern cannot name an output file (empty, `.`, `..` or a path separator)")]
    BadUid {
        /// The file name.
        file: String,
        /// The text the `uid` group matched.
        uid: String,
    },
}

/// A compiled name pattern.
#[derive(Debug, Clone)]
pub struct NamePattern {
    re: Regex,
}

/// What a pattern read from one file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameMatch {
    /// The `uid` group, when the pattern has one.
    pub uid: Option<String>,
    /// The `start` group as an exact time, when the pattern has one.
    pub start: Option<Ts>,
}

impl NamePattern {
    /// Compiles `pattern`; `required` lists the groups the caller needs (`uid`, `start`).
    pub fn new(pattern: &str, required: &[&str]) -> Result<Self, NameError> {
        let bad = |why: String| NameError::BadPattern {
            pattern: pattern.to_string(),
            why,
        };
        if pattern.len() > MAX_PATTERN_LEN {
            return Err(bad(format!("longer than {MAX_PATTERN_LEN} bytes")));
        }
        let re = Regex::new(pattern).map_err(|e| bad(e.to_string()))?;
        for g in required {
            if !re.capture_names().flatten().any(|n| n == *g) {
                return Err(bad(format!(
                    "has no named group `{g}` (write (?P<{g}>...))"
                )));
            }
        }
        Ok(NamePattern { re })
    }

    /// Whether the pattern has a group of this name.
    pub fn has_group(&self, name: &str) -> bool {
        self.re.capture_names().flatten().any(|n| n == name)
    }

    /// Reads `file_name`: `None` when the pattern does not match it.
    pub fn read(&self, file_name: &str) -> Option<Result<NameMatch, NameError>> {
        let caps = self.re.captures(file_name)?;
        let uid = caps.name(UID_GROUP).map(|m| m.as_str().to_string());
        if let Some(u) = &uid {
            if u.is_empty() || u == "." || u == ".." || u.contains(['/', '\\']) {
                return Some(Err(NameError::BadUid {
                    file: file_name.to_string(),
                    uid: u.clone(),
                }));
            }
        }
        let start = match caps.name(START_GROUP) {
            None => None,
            Some(m) => match parse_start(m.as_str()) {
                Ok(t) => Some(t),
                Err(why) => {
                    return Some(Err(NameError::BadStart {
                        file: file_name.to_string(),
                        uid,
                        value: m.as_str().to_string(),
                        why,
                    }))
                }
            },
        };
        Some(Ok(NameMatch { uid, start }))
    }
}

/// A start time from a file name: 17 digits are `yyyyMMddHHmmssSSS` in UTC (milliseconds since
/// 1970-01-01, timescale 1000); anything else must be plain seconds (`1560238366.073`, at most 9
/// decimals, timescale 10^decimals). Both are exact.
pub fn parse_start(s: &str) -> Result<Ts, String> {
    if s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit()) {
        return compact_utc_millis(s).map(|ms| Ts::new(ms, 1000));
    }
    parse_decimal_seconds(s)
}

/// Plain non-negative seconds with at most 9 decimals (`12`, `12.5`), exact, as a [`Ts`] whose
/// timescale is 10^decimals.
pub fn parse_decimal_seconds(s: &str) -> Result<Ts, String> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |x: &str| x.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(frac) || s.ends_with('.') {
        return Err(
            "expected seconds such as 1560238366.073, or 17 digits yyyyMMddHHmmssSSS".into(),
        );
    }
    if frac.len() > 9 {
        return Err("more than 9 decimals".into());
    }
    let too_large = || "too large".to_string();
    let den = 10i64.pow(u32::try_from(frac.len()).map_err(|_| too_large())?);
    let w: i64 = whole.parse().map_err(|_| too_large())?;
    let f: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse().map_err(|_| too_large())?
    };
    let value = w
        .checked_mul(den)
        .and_then(|v| v.checked_add(f))
        .ok_or_else(too_large)?;
    Ok(Ts::new(value, u32::try_from(den).map_err(|_| too_large())?))
}

/// `yyyyMMddHHmmssSSS` (UTC) as milliseconds since 1970-01-01 00:00:00 UTC.
pub fn compact_utc_millis(s: &str) -> Result<i64, String> {
    if s.len() != 17 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("expected 17 digits yyyyMMddHHmmssSSS".into());
    }
    // Every slice is ASCII digits, so parsing cannot fail and the values are small.
    let num = |a: usize, b: usize| s[a..b].parse::<i64>().unwrap_or(0);
    let (y, mo, d) = (num(0, 4), num(4, 6), num(6, 8));
    let (h, mi, sec, ms) = (num(8, 10), num(10, 12), num(12, 14), num(14, 17));
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
        return Err(format!("no such date {y:04}-{mo:02}-{d:02}"));
    }
    if h > 23 || mi > 59 || sec > 59 {
        return Err(format!("no such time {h:02}:{mi:02}:{sec:02}"));
    }
    let days = days_from_civil(y, mo, d);
    Ok((((days * 24 + h) * 60 + mi) * 60 + sec) * 1000 + ms)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`),
/// for years 0..=9999 as 17 digits allow.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `a` against `b`, exactly (different timescales compared by cross-multiplication).
pub fn cmp_ts(a: Ts, b: Ts) -> Ordering {
    (i128::from(a.value) * i128::from(b.timescale))
        .cmp(&(i128::from(b.value) * i128::from(a.timescale)))
}

/// One file a pattern matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedFile {
    /// Its path (the folder joined with its name).
    pub path: PathBuf,
    /// What the pattern read.
    pub name: NameMatch,
}

/// Sorts files by start time (files without one last), then by name: the order their samples
/// play in.
pub fn sort_by_start(files: &mut [NamedFile]) {
    files.sort_by(|a, b| {
        let by_start = match (a.name.start, b.name.start) {
            (Some(x), Some(y)) => cmp_ts(x, y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_start.then_with(|| a.path.cmp(&b.path))
    });
}

/// The files of one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFiles {
    /// The `uid` group.
    pub uid: String,
    /// The user's files, sorted by [`sort_by_start`].
    pub files: Vec<NamedFile>,
    /// The first of the user's files whose start could not be read: the user's output cannot be
    /// made (a segment would be misplaced or left out), but the other users' can.
    pub bad: Option<NameError>,
}

/// A folder grouped by user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grouped {
    /// One entry per uid, sorted by uid (numerically when both are numbers).
    pub users: Vec<UserFiles>,
    /// Names of regular files the pattern did not match (or that are not UTF-8), sorted.
    pub unmatched: Vec<String>,
}

/// Groups file names (not paths) of `dir` by the pattern's `uid`. A name whose start cannot be
/// read marks its user's group bad ([`UserFiles::bad`]); a `uid` that cannot name a file, or a
/// match without `uid`, fails the whole grouping.
pub fn group_names(
    dir: &Path,
    names: impl IntoIterator<Item = String>,
    pattern: &NamePattern,
) -> Result<Grouped, NameError> {
    let mut by_uid: std::collections::BTreeMap<String, Vec<NamedFile>> = Default::default();
    let mut bad: std::collections::BTreeMap<String, NameError> = Default::default();
    let mut unmatched = Vec::new();
    for name in names {
        match pattern.read(&name) {
            None => unmatched.push(name),
            Some(m) => {
                let m = match m {
                    Err(NameError::BadStart {
                        uid: Some(uid),
                        file,
                        value,
                        why,
                    }) => {
                        by_uid.entry(uid.clone()).or_default();
                        let e = NameError::BadStart {
                            uid: Some(uid.clone()),
                            file,
                            value,
                            why,
                        };
                        // The first bad name in name order, whatever order the folder lists.
                        match bad.entry(uid) {
                            std::collections::btree_map::Entry::Vacant(v) => {
                                v.insert(e);
                            }
                            std::collections::btree_map::Entry::Occupied(mut o) => {
                                if bad_file(&e) < bad_file(o.get()) {
                                    o.insert(e);
                                }
                            }
                        }
                        continue;
                    }
                    m => m?,
                };
                let Some(uid) = m.uid.clone() else {
                    return Err(NameError::BadPattern {
                        pattern: pattern.re.as_str().to_string(),
                        why: format!("matched {name:?} without setting group `{UID_GROUP}`"),
                    });
                };
                by_uid.entry(uid).or_default().push(NamedFile {
                    path: dir.join(&name),
                    name: m,
                });
            }
        }
    }
    let mut users: Vec<UserFiles> = by_uid
        .into_iter()
        .map(|(uid, mut files)| {
            sort_by_start(&mut files);
            let bad = bad.remove(&uid);
            UserFiles { uid, files, bad }
        })
        .collect();
    users.sort_by(|a, b| cmp_uid(&a.uid, &b.uid));
    unmatched.sort();
    Ok(Grouped { users, unmatched })
}

fn bad_file(e: &NameError) -> &str {
    match e {
        NameError::BadStart { file, .. } | NameError::BadUid { file, .. } => file,
        NameError::BadPattern { .. } => "",
    }
}

/// Numbers by value (`9` before `10`), then anything else by text.
fn cmp_uid(a: &str, b: &str) -> Ordering {
    let num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if num(a) && num(b) {
        let (ta, tb) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        ta.len()
            .cmp(&tb.len())
            .then_with(|| ta.cmp(tb))
            .then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AGORA: &str = r"(?P<uid>\d+)_(?P<start>\d{17})";

    #[test]
    fn agora_names() {
        let p = NamePattern::new(AGORA, &["uid", "start"]).unwrap();
        let m = p.read("100_20190611073246073.aac").unwrap().unwrap();
        assert_eq!(m.uid.as_deref(), Some("100"));
        // 2019-06-11 07:32:46.073 UTC = 1560238366.073 (date -ud @1560238366).
        assert_eq!(m.start, Some(Ts::new(1_560_238_366_073, 1000)));
        assert!(p.read("notes.txt").is_none());
    }

    #[test]
    fn compact_dates() {
        assert_eq!(compact_utc_millis("19700101000000000"), Ok(0));
        assert_eq!(compact_utc_millis("19700101000000001"), Ok(1));
        // 2000-03-01 is day 11017; 2000 is a leap year (divisible by 400).
        assert_eq!(
            compact_utc_millis("20000229235959999"),
            Ok(11_017 * 86_400_000 - 1)
        );
        assert!(compact_utc_millis("19000229000000000").is_err()); // 1900: not leap
        assert!(compact_utc_millis("20190631000000000").is_err());
        assert!(compact_utc_millis("20191301000000000").is_err());
        assert!(compact_utc_millis("20190611240000000").is_err());
        assert!(compact_utc_millis("20190611076000000").is_err());
        assert!(compact_utc_millis("2019061107324607").is_err());
        assert_eq!(
            compact_utc_millis("99991231235959999"),
            Ok(253_402_300_799_999)
        );
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_start("12.5"), Ok(Ts::new(125, 10)));
        assert_eq!(
            parse_start("1560238366.073"),
            Ok(Ts::new(1_560_238_366_073, 1000))
        );
        assert_eq!(parse_start("7"), Ok(Ts::new(7, 1)));
        for bad in [
            "",
            ".5",
            "5.",
            "-1",
            "1e9",
            "1.0000000001",
            "99999999999999999999",
            "1:30",
        ] {
            assert!(parse_start(bad).is_err(), "{bad}");
        }
        // 18 digits are seconds, not a date; 10^18 fits in i64.
        assert_eq!(
            parse_start("100000000000000000"),
            Ok(Ts::new(100_000_000_000_000_000, 1))
        );
    }

    #[test]
    fn patterns_need_their_groups() {
        assert!(NamePattern::new(r"(?P<uid>\d+)", &["uid", "start"]).is_err());
        assert!(NamePattern::new(r"(", &[]).is_err());
        assert!(NamePattern::new(&"a".repeat(5000), &[]).is_err());
        let p = NamePattern::new(r"(?P<uid>[^_]*)_(?P<start>\d+)", &["uid"]).unwrap();
        assert!(matches!(
            p.read(".._5"),
            Some(Err(NameError::BadUid { .. }))
        ));
        assert!(matches!(p.read("_5"), Some(Err(NameError::BadUid { .. }))));
        let p = NamePattern::new(AGORA, &["uid"]).unwrap();
        assert!(matches!(
            p.read("1_20191399000000000.aac"),
            Some(Err(NameError::BadStart { .. }))
        ));
    }

    #[test]
    fn grouping_sorts_by_start_then_uid() {
        let p = NamePattern::new(AGORA, &["uid", "start"]).unwrap();
        let names = [
            "100_20190611073300000.mp4",
            "100_20190611073246073.aac",
            "9_20190611073246073.aac",
            "100_20190611073246073.mp4",
            "readme.txt",
        ]
        .map(String::from);
        let g = group_names(Path::new("d"), names, &p).unwrap();
        assert_eq!(g.unmatched, vec!["readme.txt"]);
        let uids: Vec<&str> = g.users.iter().map(|u| u.uid.as_str()).collect();
        assert_eq!(uids, ["9", "100"]);
        let files: Vec<String> = g.users[1]
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        assert_eq!(
            files,
            [
                "d/100_20190611073246073.aac",
                "d/100_20190611073246073.mp4",
                "d/100_20190611073300000.mp4"
            ]
        );
    }

    #[test]
    fn a_bad_start_fails_its_user_only() {
        let p = NamePattern::new(AGORA, &["uid", "start"]).unwrap();
        let names = [
            "5_20191399000000000.mp4",
            "5_20190611073246073.aac",
            "5_20190229000000000.mp4",
            "6_20190611073246073.aac",
        ]
        .map(String::from);
        let g = group_names(Path::new("d"), names, &p).unwrap();
        assert_eq!(g.users.len(), 2);
        let e = g.users[0].bad.as_ref().expect("user 5 is bad");
        // The first bad name by name, not by listing order.
        assert!(
            e.to_string().starts_with("5_20190229000000000.mp4: start"),
            "{e}"
        );
        assert_eq!(g.users[0].files.len(), 1);
        assert_eq!(g.users[1].bad, None);
    }

    #[test]
    fn mixed_timescales_compare_exactly() {
        let mut files: Vec<NamedFile> = [("a", Ts::new(1001, 1000)), ("b", Ts::new(10, 10))]
            .into_iter()
            .map(|(n, t)| NamedFile {
                path: PathBuf::from(n),
                name: NameMatch {
                    uid: None,
                    start: Some(t),
                },
            })
            .collect();
        sort_by_start(&mut files);
        assert_eq!(files[0].path, PathBuf::from("b"));
        assert_eq!(cmp_ts(Ts::new(1, 1), Ts::new(1000, 1000)), Ordering::Equal);
    }
}
