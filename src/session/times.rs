//! Where start times come from: a recorder's log (`--start-times LIST`) and, where a container
//! carries one, the input itself.
//!
//! **The log.** One line per event, `SECONDS PATH [create|close]` (the recorder's own format;
//! a line without a keyword is a `create`). `SECONDS` is an exact decimal (up to 9 decimals; any
//! epoch the whole session shares) read by [`crate::plan::parse_seconds`], never through `f64`.
//! `PATH` is relative to the list's folder and may contain spaces. `close` lines are allowed and
//! ignored (an input ends where its media ends), and a path may appear several times as long as
//! every `create` line gives it the same time. Blank lines and lines starting with `#` are skipped.
//!
//! **Container times.** Only an ADTS file's HLS timestamp (the ID3v2 `PRIV` frame of
//! `com.apple.streaming.transportStreamTimestamp` before its first frame, 90 kHz) is used, as the
//! time of its first decoded sample, priming included (ADTS says nothing about priming). The
//! `mvhd` creation time is *not* used: it has one-second resolution (a session needs its inputs
//! within 15 ms of each other), and muxers write the time the file was made or closed, or 0, as
//! often as the time its first sample was recorded.

use std::path::{Path, PathBuf};

use super::InputSpec;
use crate::error::{Error, MuxError};
use crate::time::Ts;

fn bad(msg: String) -> Error {
    MuxError::BadOptions(msg).into()
}

/// The inputs a start-time list names (one per distinct created path, in order of start time,
/// ties in list order), each with its start time, and warnings about lines that were ignored.
pub fn read_start_times(list: &Path) -> Result<(Vec<InputSpec>, Vec<String>), Error> {
    let text = std::fs::read_to_string(list).map_err(|e| MuxError::Io {
        path: list.to_path_buf(),
        source: e,
    })?;
    let dir = list.parent().unwrap_or(Path::new(""));
    parse_start_times(&text, &list.display().to_string(), dir)
}

/// [`read_start_times`] on the list's text (`name` in messages, paths relative to `dir`).
pub fn parse_start_times(
    text: &str,
    name: &str,
    dir: &Path,
) -> Result<(Vec<InputSpec>, Vec<String>), Error> {
    // (path, start, line of its create)
    let mut created: Vec<(PathBuf, Ts, usize)> = Vec::new();
    let mut closed_only: Vec<(PathBuf, usize)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (secs, rest) = line.split_once(char::is_whitespace).ok_or_else(|| {
            bad(format!(
                "{name} line {line_no}: expected SECONDS PATH [create|close], got {line:?}"
            ))
        })?;
        let start = crate::plan::parse_seconds(secs).ok_or_else(|| {
            bad(format!(
                "{name} line {line_no}: bad time {secs:?} (seconds, up to 9 decimals)"
            ))
        })?;
        let rest = rest.trim();
        let (path, close) = match rest.rsplit_once(char::is_whitespace) {
            Some((p, "create")) => (p.trim_end(), false),
            Some((p, "close")) => (p.trim_end(), true),
            _ => (rest, false),
        };
        if path.is_empty() || path == "create" || path == "close" {
            return Err(bad(format!("{name} line {line_no}: no path")));
        }
        let path = dir.join(path);
        if close {
            closed_only.push((path, line_no));
            continue;
        }
        match created.iter().find(|(p, _, _)| *p == path) {
            Some((_, t, first)) if !same_time(*t, start) => {
                return Err(bad(format!(
                    "{name} line {line_no}: {} created again at {secs} s (line {first} gave another time)",
                    path.display()
                )));
            }
            Some(_) => {}
            None => created.push((path, start, line_no)),
        }
    }
    let warnings = closed_only
        .into_iter()
        .filter(|(p, _)| !created.iter().any(|(c, _, _)| c == p))
        .map(|(p, l)| {
            format!(
                "{name} line {l}: {} is closed but never created; ignored",
                p.display()
            )
        })
        .collect();
    if created.is_empty() {
        return Err(bad(format!("{name}: lists no input (no create line)")));
    }
    // Stable: equal times keep the list's order.
    created.sort_by(|a, b| compare(a.1, b.1));
    Ok((
        created
            .into_iter()
            .map(|(path, start, _)| InputSpec {
                path,
                start: Some(start),
                trim: None,
            })
            .collect(),
        warnings,
    ))
}

/// Gives each of `inputs` (paths as given on the command line) its time from `listed`; an input
/// the list does not name is refused.
pub fn match_inputs(inputs: &[PathBuf], listed: &[InputSpec]) -> Result<Vec<InputSpec>, Error> {
    let key = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let keys: Vec<PathBuf> = listed.iter().map(|l| key(&l.path)).collect();
    inputs
        .iter()
        .map(|p| {
            let k = key(p);
            keys.iter()
                .position(|l| *l == k)
                .map(|i| InputSpec {
                    path: p.clone(),
                    start: listed[i].start,
                    trim: None,
                })
                .ok_or_else(|| {
                    bad(format!(
                        "{}: not in the start-time list (no create line names it)",
                        p.display()
                    ))
                })
        })
        .collect()
}

/// Orders two exact times (128-bit cross products: no rounding).
pub(super) fn compare(a: Ts, b: Ts) -> std::cmp::Ordering {
    (i128::from(a.value) * i128::from(b.timescale))
        .cmp(&(i128::from(b.value) * i128::from(a.timescale)))
}

fn same_time(a: Ts, b: Ts) -> bool {
    compare(a, b).is_eq()
}

/// The start time an input's container gives, if any: an ADTS file's HLS timestamp (90 kHz) in
/// an ID3v2 tag before its first frame.
pub fn container_start(source: &dyn crate::source::Source, limits: &crate::Limits) -> Option<Ts> {
    let a = crate::demux::adts::open(source, limits).ok()?;
    let first = a.frames.first()?.start();
    let t = a
        .tags
        .iter()
        .filter(|t| t.offset < first)
        .find_map(|t| t.timestamp)?;
    Some(Ts::new(i64::try_from(t).ok()?, 90_000))
}

/// Container timestamps are 33-bit (90 kHz): each is moved by a multiple of 2^33 to lie nearest
/// the first one, so a session crossing the wrap (every 26.5 hours) stays in order.
pub fn unwrap_33(times: &mut [Ts]) {
    const WRAP: i64 = 1 << 33;
    let Some(first) = times.first().map(|t| t.value) else {
        return;
    };
    for t in times.iter_mut().skip(1) {
        let d = (t.value - first).rem_euclid(WRAP);
        t.value = if d > WRAP / 2 {
            first + d - WRAP
        } else {
            first + d
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorder_log_with_close_lines_and_repeats() {
        let text = "# uid 100\n\
                    1560238366.073 100_a.aac create\n\
                    1560238366.223 100_v.mp4\n\
                    1560238376.000 100_a.aac close\n\
                    1560238366.073 100_a.aac create\n\
                    1560238360.5 my file.mp4 create\n\
                    1560238399 gone.mp4 close\n";
        let (specs, warnings) = parse_start_times(text, "log", Path::new("/d")).expect("parses");
        let names: Vec<_> = specs.iter().map(|s| s.path.clone()).collect();
        assert_eq!(
            names,
            vec![
                PathBuf::from("/d/my file.mp4"),
                PathBuf::from("/d/100_a.aac"),
                PathBuf::from("/d/100_v.mp4")
            ]
        );
        assert_eq!(specs[1].start, Some(Ts::new(1_560_238_366_073, 1000)));
        assert_eq!(specs[0].start, Some(Ts::new(15_602_383_605, 10)));
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(warnings[0].contains("gone.mp4"), "{warnings:?}");
    }

    #[test]
    fn container_times_unwrap_around_the_33_bit_wrap() {
        let wrap = 1i64 << 33;
        let mut t = [
            Ts::new(wrap - 90_000, 90_000),
            Ts::new(450_000, 90_000),
            Ts::new(wrap - 180_000, 90_000),
        ];
        unwrap_33(&mut t);
        let v: Vec<i64> = t.iter().map(|t| t.value).collect();
        assert_eq!(v, [wrap - 90_000, wrap + 450_000, wrap - 180_000]);
    }

    #[test]
    fn conflicting_creates_and_bad_lines_are_refused() {
        let e = parse_start_times("1 a.aac\n2 a.aac create\n", "log", Path::new(""))
            .expect_err("two times");
        assert!(e.to_string().contains("log line 2"), "{e}");
        for bad in ["x a.aac", "1.5", "1 create", "-1 a.aac", "1 a.aac close\n"] {
            assert!(
                parse_start_times(bad, "log", Path::new("")).is_err(),
                "{bad:?} accepted"
            );
        }
    }
}
