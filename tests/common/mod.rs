//! Shared helpers for the integration tests: running the real `seam` binary, the fixture stitches
//! every test looks at (made once per test process), ffmpeg/ffprobe wrappers with per-file caches,
//! an MP4 top-level box walker and the audio alignment used to check bit-exactness.
//!
//! Tests that need ffmpeg call [`require_ffmpeg`] first: without ffmpeg they print
//! `skipping: ffmpeg not found` and return, unless `SEAM_REQUIRE_FFMPEG=1`, which turns a missing
//! ffmpeg into a failure.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::ffi::OsStr;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The `seam` binary under test.
pub const SEAM: &str = env!("CARGO_BIN_EXE_seam");

/// Samples of one AAC-LC frame.
pub const AAC_FRAME: f64 = 1024.0;
/// The fixtures' audio sample rate.
pub const AUDIO_RATE: f64 = 48000.0;
/// Half an AAC frame at 48 kHz, in seconds: the largest A/V error a join may introduce.
pub const HALF_FRAME_SECONDS: f64 = 0.5 * AAC_FRAME / AUDIO_RATE;
/// At most this many audio packets may be left out at the head and at the tail of each input.
pub const MAX_AUDIO_DROP: usize = 2;

/// The copy-compatible stitches the end-to-end checks run on (fixture names, in order).
pub const SETS: &[&[&str]] = &[
    &["a.mp4", "b.mp4", "c.mp4"],
    &["a.mp4", "moov_last.mp4", "negcts.mp4"],
    &["frag.mp4", "frag_noedts.mp4", "a.mp4"],
    &["a.mp4", "video_only.mp4", "b.mp4"],
    &["a.mp4", "audio_late.mp4", "b.mp4"],
    &["timecode.mov", "timecode2.mov"],
    &["rotated.mp4", "rotated.mp4", "rotated.mp4"],
];

/// Ten inputs, nine joins: errors must not accumulate.
pub const TEN: &[&str] = &[
    "a.mp4", "b.mp4", "c.mp4", "a.mp4", "b.mp4", "c.mp4", "a.mp4", "b.mp4", "c.mp4", "a.mp4",
];

/// A fixture's path.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Runs `seam` with `args`.
pub fn seam<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(SEAM)
        .args(args)
        .output()
        .expect("cannot run the seam binary")
}

/// stdout and stderr of a run, for failure messages.
pub fn describe(o: &Output) -> String {
    format!(
        "exit status {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// SHA-256 of a file's bytes, hex.
pub fn file_sha256(p: &Path) -> String {
    sha256_hex(&std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
}

/// SHA-256, hex.
pub fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

/// The names of the entries of a directory, sorted.
pub fn dir_entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------------------------
// Caches

type MemoMap<K, V> = OnceLock<Mutex<HashMap<K, Arc<OnceLock<V>>>>>;

/// Computes `f` once per key for the whole test process; concurrent callers of one key wait for
/// the first, callers of other keys run in parallel.
fn memo<K: Eq + Hash, V: Clone>(cell: &'static MemoMap<K, V>, key: K, f: impl FnOnce() -> V) -> V {
    let slot = {
        let mut map = cell
            .get_or_init(|| Mutex::new(HashMap::new()))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.entry(key).or_default().clone()
    };
    slot.get_or_init(f).clone()
}

/// Runs the jobs on their own threads and waits for all (the jobs mostly wait for ffmpeg).
pub fn parallel<T: Send>(jobs: Vec<Box<dyn FnOnce() -> T + Send + '_>>) -> Vec<T> {
    std::thread::scope(|s| {
        let handles: Vec<_> = jobs.into_iter().map(|j| s.spawn(j)).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Shared stitched outputs

/// A directory for this test process under cargo's integration-test temp dir. Directories left by
/// earlier processes that are gone are removed.
pub fn shared_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("seam-tests");
        std::fs::create_dir_all(&root).expect("create test temp root");
        if let Ok(rd) = std::fs::read_dir(&root) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.rsplit('-').next().and_then(|p| p.parse::<u32>().ok()) {
                    if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = std::fs::remove_dir_all(e.path());
                    }
                }
            }
        }
        let exe = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "test".into());
        let dir = root.join(format!("{exe}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create test temp dir");
        dir
    })
}

/// A short name for a list of fixtures.
pub fn set_name(inputs: &[&str]) -> String {
    inputs
        .iter()
        .map(|n| n.rsplit_once('.').map_or(*n, |(s, _)| s))
        .collect::<Vec<_>>()
        .join("+")
}

/// The output of `seam stitch` of these fixtures (made once per test process).
pub fn stitched(inputs: &[&str], fragmented: bool) -> PathBuf {
    static CACHE: MemoMap<(Vec<String>, bool), PathBuf> = OnceLock::new();
    let key = (
        inputs.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        fragmented,
    );
    memo(&CACHE, key, || {
        let out = shared_dir().join(format!(
            "{}{}.mp4",
            set_name(inputs),
            if fragmented { ".frag" } else { "" }
        ));
        let mut args: Vec<std::ffi::OsString> = vec!["stitch".into(), "-q".into()];
        if fragmented {
            args.push("--fragmented".into());
        }
        args.push("-o".into());
        args.push(out.clone().into());
        args.extend(inputs.iter().map(|n| fixture(n).into_os_string()));
        let o = seam(&args);
        assert!(
            o.status.success(),
            "seam stitch {:?} failed: {}",
            inputs,
            describe(&o)
        );
        out
    })
}

/// A stitch: its fixtures, whether fragmented, the output file.
pub type Stitched = (&'static [&'static str], bool, PathBuf);

/// The stitched outputs of all [`SETS`] (and [`TEN`] when `ten`), made in parallel, as
/// (inputs, fragmented, output).
pub fn all_outputs(fragmented: &[bool], ten: bool) -> Vec<Stitched> {
    let mut sets: Vec<&'static [&'static str]> = SETS.to_vec();
    if ten {
        sets.push(TEN);
    }
    let mut jobs: Vec<Box<dyn FnOnce() -> Stitched + Send>> = Vec::new();
    for s in sets {
        for &f in fragmented {
            jobs.push(Box::new(move || (s, f, stitched(s, f))));
        }
    }
    parallel(jobs)
}

// ---------------------------------------------------------------------------------------------
// ffmpeg

/// Whether ffmpeg and ffprobe can be run.
pub fn have_ffmpeg() -> bool {
    static HAVE: OnceLock<bool> = OnceLock::new();
    *HAVE.get_or_init(|| {
        ["ffmpeg", "ffprobe"].iter().all(|t| {
            Command::new(t)
                .arg("-version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    })
}

/// True when the test can use ffmpeg. Without it: a failure when `SEAM_REQUIRE_FFMPEG=1`, else a
/// notice and `false` (the caller returns).
pub fn require_ffmpeg() -> bool {
    if have_ffmpeg() {
        return true;
    }
    if std::env::var("SEAM_REQUIRE_FFMPEG").as_deref() == Ok("1") {
        panic!("ffmpeg/ffprobe not found but SEAM_REQUIRE_FFMPEG=1");
    }
    eprintln!("skipping: ffmpeg not found");
    false
}

fn run_tool(tool: &str, args: &[&OsStr]) -> Output {
    let o = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        o.status.success(),
        "{tool} {:?} failed: {}",
        args,
        describe(&o)
    );
    o
}

/// A track kind as ffmpeg's stream specifiers and ffprobe's codec_type name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Video,
    Audio,
}

impl Kind {
    fn spec(self) -> &'static str {
        match self {
            Kind::Video => "v",
            Kind::Audio => "a",
        }
    }

    pub fn codec_type(self) -> &'static str {
        match self {
            Kind::Video => "video",
            Kind::Audio => "audio",
        }
    }
}

/// One line of ffmpeg's framemd5 output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Md5Packet {
    pub dts: i64,
    pub pts: i64,
    pub duration: i64,
    pub size: u64,
    pub md5: String,
}

/// `ffmpeg -v error -i F -map 0:K:0 -c copy -f framemd5 -`, cached per file; empty when the file
/// has no stream of that kind.
pub fn framemd5(path: &Path, kind: Kind) -> Arc<Vec<Md5Packet>> {
    static CACHE: MemoMap<(PathBuf, Kind), Arc<Vec<Md5Packet>>> = OnceLock::new();
    memo(&CACHE, (path.to_path_buf(), kind), || {
        if ffprobe(path).stream(kind).is_none() {
            return Arc::new(Vec::new());
        }
        let map = format!("0:{}:0", kind.spec());
        let o = run_tool(
            "ffmpeg",
            &[
                "-v".as_ref(),
                "error".as_ref(),
                "-i".as_ref(),
                path.as_os_str(),
                "-map".as_ref(),
                map.as_ref(),
                "-c".as_ref(),
                "copy".as_ref(),
                "-f".as_ref(),
                "framemd5".as_ref(),
                "-".as_ref(),
            ],
        );
        let text = String::from_utf8_lossy(&o.stdout);
        let mut v = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            // stream, dts, pts, duration, size, hash[, side data...]
            let f: Vec<&str> = line.split(',').map(str::trim).collect();
            assert!(
                f.len() >= 6,
                "{}: bad framemd5 line {line:?}",
                path.display()
            );
            let num = |s: &str| -> i64 {
                s.parse()
                    .unwrap_or_else(|_| panic!("{}: bad framemd5 line {line:?}", path.display()))
            };
            v.push(Md5Packet {
                dts: num(f[1]),
                pts: num(f[2]),
                duration: num(f[3]),
                size: num(f[4]) as u64,
                md5: f[5].to_string(),
            });
        }
        Arc::new(v)
    })
}

/// One packet as ffprobe reports it (timestamps in the stream's time base).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbePacket {
    pub pts: Option<i64>,
    pub dts: Option<i64>,
    pub duration: Option<i64>,
    pub size: u64,
    pub key: bool,
}

/// One stream as ffprobe reports it.
#[derive(Debug, Clone)]
pub struct ProbeStream {
    pub index: usize,
    pub codec_type: String,
    pub codec_tag_string: String,
    /// Time base as (numerator, denominator).
    pub time_base: (i64, i64),
    pub start_time: Option<f64>,
    pub duration: Option<f64>,
    pub nb_frames: Option<u64>,
    /// The whole JSON object (tags, side data...).
    pub json: Value,
    /// Packets in file order.
    pub packets: Vec<ProbePacket>,
}

impl ProbeStream {
    /// Ticks of the time base to seconds.
    pub fn seconds(&self, ticks: i64) -> f64 {
        ticks as f64 * self.time_base.0 as f64 / self.time_base.1 as f64
    }

    /// start_time + duration.
    pub fn end(&self) -> f64 {
        self.start_time.unwrap_or(0.0) + self.duration.unwrap_or(f64::NAN)
    }

    /// Rotation from the display matrix side data, if any.
    pub fn rotation(&self) -> Option<f64> {
        self.json["side_data_list"]
            .as_array()?
            .iter()
            .find_map(|sd| sd["rotation"].as_f64())
    }

    /// Packets with the key flag.
    pub fn key_packets(&self) -> usize {
        self.packets.iter().filter(|p| p.key).count()
    }
}

/// What ffprobe says about a file.
#[derive(Debug, Clone)]
pub struct Probe {
    pub format_duration: f64,
    pub streams: Vec<ProbeStream>,
}

impl Probe {
    /// The first stream of a kind.
    pub fn stream(&self, kind: Kind) -> Option<&ProbeStream> {
        self.streams
            .iter()
            .find(|s| s.codec_type == kind.codec_type())
    }

    /// The first stream of a kind, or a panic naming the file.
    pub fn expect(&self, kind: Kind, what: &dyn std::fmt::Display) -> &ProbeStream {
        self.stream(kind)
            .unwrap_or_else(|| panic!("{what}: no {} stream", kind.codec_type()))
    }
}

fn json_f64(v: &Value) -> Option<f64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

fn json_i64(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// `ffprobe -show_format -show_streams -show_packets -of json`, cached per file.
pub fn ffprobe(path: &Path) -> Arc<Probe> {
    static CACHE: MemoMap<PathBuf, Arc<Probe>> = OnceLock::new();
    memo(&CACHE, path.to_path_buf(), || {
        let o = run_tool(
            "ffprobe",
            &[
                "-v".as_ref(),
                "error".as_ref(),
                "-show_format".as_ref(),
                "-show_streams".as_ref(),
                "-show_packets".as_ref(),
                "-of".as_ref(),
                "json".as_ref(),
                path.as_os_str(),
            ],
        );
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{}: ffprobe JSON: {e}", path.display()));
        let mut streams: Vec<ProbeStream> = v["streams"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let tb = s["time_base"].as_str().unwrap_or("1/1");
                let (n, d) = tb.split_once('/').unwrap_or(("1", "1"));
                ProbeStream {
                    index: s["index"].as_u64().unwrap_or(0) as usize,
                    codec_type: s["codec_type"].as_str().unwrap_or("").to_string(),
                    codec_tag_string: s["codec_tag_string"].as_str().unwrap_or("").to_string(),
                    time_base: (n.parse().unwrap_or(1), d.parse().unwrap_or(1)),
                    start_time: json_f64(&s["start_time"]),
                    duration: json_f64(&s["duration"]),
                    nb_frames: json_f64(&s["nb_frames"]).map(|x| x as u64),
                    json: s.clone(),
                    packets: Vec::new(),
                }
            })
            .collect();
        for p in v["packets"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
        {
            let idx = p["stream_index"].as_u64().unwrap_or(0) as usize;
            if let Some(s) = streams.iter_mut().find(|s| s.index == idx) {
                s.packets.push(ProbePacket {
                    pts: json_i64(&p["pts"]),
                    dts: json_i64(&p["dts"]),
                    duration: json_i64(&p["duration"]),
                    size: json_i64(&p["size"]).unwrap_or(0) as u64,
                    key: p["flags"].as_str().is_some_and(|f| f.contains('K')),
                });
            }
        }
        Arc::new(Probe {
            format_duration: json_f64(&v["format"]["duration"]).unwrap_or(f64::NAN),
            streams,
        })
    })
}

/// One decoded audio frame: pts (stream time base) and its sample count.
#[derive(Debug, Clone, Copy)]
pub struct AudioFrame {
    pub pts: i64,
    pub nb_samples: i64,
}

/// The decoded frames of the first audio stream (`ffprobe -show_frames`), cached per file.
pub fn audio_frames(path: &Path) -> Arc<Vec<AudioFrame>> {
    static CACHE: MemoMap<PathBuf, Arc<Vec<AudioFrame>>> = OnceLock::new();
    memo(&CACHE, path.to_path_buf(), || {
        let o = run_tool(
            "ffprobe",
            &[
                "-v".as_ref(),
                "error".as_ref(),
                "-select_streams".as_ref(),
                "a:0".as_ref(),
                "-show_entries".as_ref(),
                "frame=pts,nb_samples".as_ref(),
                "-of".as_ref(),
                "json".as_ref(),
                path.as_os_str(),
            ],
        );
        let v: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{}: ffprobe JSON: {e}", path.display()));
        Arc::new(
            v["frames"]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|f| AudioFrame {
                    pts: json_i64(&f["pts"]).unwrap_or(i64::MIN),
                    nb_samples: json_i64(&f["nb_samples"]).unwrap_or(0),
                })
                .collect(),
        )
    })
}

/// `ffmpeg -v error -i F -f null -`: (success, stderr).
pub fn decode_null(path: &Path) -> (bool, String) {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("cannot run ffmpeg");
    (
        o.status.success(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Fetches ffprobe and framemd5 results for these files in parallel (fills the caches).
pub fn prefetch(paths: &[PathBuf]) {
    let mut seen = HashSet::new();
    let mut jobs: Vec<Box<dyn FnOnce() + Send>> = Vec::new();
    for p in paths {
        if !seen.insert(p.clone()) {
            continue;
        }
        for kind in [Kind::Video, Kind::Audio] {
            let p = p.clone();
            jobs.push(Box::new(move || {
                framemd5(&p, kind);
            }));
        }
    }
    parallel(jobs);
}

// ---------------------------------------------------------------------------------------------
// seam's own demuxer

/// seam's model of a file (cached per path).
pub fn seam_media(path: &Path) -> Arc<seam::model::Media> {
    static CACHE: MemoMap<PathBuf, Arc<seam::model::Media>> = OnceLock::new();
    memo(&CACHE, path.to_path_buf(), || {
        Arc::new(
            seam::probe(path, &seam::Limits::default())
                .unwrap_or_else(|e| panic!("seam::probe({}): {e}", path.display())),
        )
    })
}

/// SHA-256 of every sample of the first track of `kind` (empty without one), by seam's demuxer.
pub fn seam_sample_hashes(path: &Path, kind: seam::model::TrackKind) -> Vec<String> {
    let m = seam_media(path);
    let Some(t) = m
        .tracks
        .iter()
        .find(|t| t.kind == kind && !t.samples.is_empty())
    else {
        return Vec::new();
    };
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    t.samples
        .iter()
        .map(|s| {
            let start = s.offset as usize;
            let end = start + s.size as usize;
            assert!(
                end <= bytes.len(),
                "{}: sample at {start}+{} past the end of the file",
                path.display(),
                s.size
            );
            sha256_hex(&bytes[start..end])
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Audio alignment

/// Where one input's audio went in the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioRun {
    /// Generated (silent) packets right before this input's kept audio (or in its span, when it
    /// has no audio).
    pub silence_before: usize,
    /// Generated packets inside the input's kept audio (where its own timestamps leave a gap of
    /// half a frame or more).
    pub silence_inside: usize,
    /// Packets of the input left out at its head.
    pub head: usize,
    /// Packets of the input copied, contiguous.
    pub kept: usize,
    /// Packets of the input left out at its tail.
    pub tail: usize,
    /// Index in the output of the first kept packet.
    pub out_first: usize,
}

/// The output audio explained as, per input, a run of silence then a contiguous sub-range of the
/// input's packets.
#[derive(Debug, Clone)]
pub struct AudioAlignment {
    pub runs: Vec<AudioRun>,
    /// The hash of the silent packets, when there are any.
    pub silence: Option<String>,
}

/// Explains `out` (packet hashes of the output audio) by the inputs' packet hashes; an error says
/// where the output departs from the rules.
pub fn align_audio(out: &[String], inputs: &[Vec<String>]) -> Result<AudioAlignment, String> {
    let all: HashSet<&str> = inputs.iter().flatten().map(String::as_str).collect();
    let mut pos = 0usize;
    let mut silence: Option<String> = None;
    let mut runs = Vec::with_capacity(inputs.len());
    for (i, inp) in inputs.iter().enumerate() {
        let s0 = pos;
        while pos < out.len() && !all.contains(out[pos].as_str()) {
            match &silence {
                None => silence = Some(out[pos].clone()),
                Some(h) if *h != out[pos] => {
                    return Err(format!(
                        "output audio packet {pos} ({}) is in no input and differs from the \
                         earlier generated packets ({h})",
                        out[pos]
                    ))
                }
                Some(_) => {}
            }
            pos += 1;
        }
        let silence_before = pos - s0;
        if inp.is_empty() {
            runs.push(AudioRun {
                silence_before,
                silence_inside: 0,
                head: 0,
                kept: 0,
                tail: 0,
                out_first: pos,
            });
            continue;
        }
        let Some(head) =
            (0..inp.len().min(MAX_AUDIO_DROP + 1)).find(|&j| pos < out.len() && inp[j] == out[pos])
        else {
            return Err(format!(
                "input {i}: output audio packet {pos} is none of the input's first {} packets",
                MAX_AUDIO_DROP + 1
            ));
        };
        // Kept packets are consecutive input packets, possibly with silent packets between them.
        let mut kept = 0;
        let mut silence_inside = 0;
        let mut at = pos;
        while head + kept < inp.len() && at < out.len() {
            if inp[head + kept] == out[at] {
                kept += 1;
                at += 1;
            } else if !all.contains(out[at].as_str())
                && !matches!(silence.as_deref(), Some(h) if h != out[at])
                && out[at..].iter().find(|h| all.contains(h.as_str())) == inp.get(head + kept)
            {
                silence.get_or_insert_with(|| out[at].clone());
                silence_inside += 1;
                at += 1;
            } else {
                break;
            }
        }
        let tail = inp.len() - head - kept;
        if tail > MAX_AUDIO_DROP {
            return Err(format!(
                "input {i}: only packets {head}..{} of {} are copied contiguously (output packets \
                 {pos}..{at}); {tail} left out or changed after them",
                head + kept,
                inp.len()
            ));
        }
        runs.push(AudioRun {
            silence_before,
            silence_inside,
            head,
            kept,
            tail,
            out_first: pos,
        });
        pos = at;
    }
    if pos != out.len() {
        return Err(format!(
            "output audio packets {pos}..{} come after the last input's audio",
            out.len()
        ));
    }
    Ok(AudioAlignment { runs, silence })
}

/// framemd5 hashes of one file's stream of a kind.
pub fn md5s(path: &Path, kind: Kind) -> Vec<String> {
    framemd5(path, kind).iter().map(|p| p.md5.clone()).collect()
}

// ---------------------------------------------------------------------------------------------
// MP4 boxes

/// A box: type, offset of its header, total size.
#[derive(Debug, Clone)]
pub struct Mp4Box {
    pub kind: String,
    pub offset: u64,
    pub size: u64,
    pub header: u64,
}

/// The boxes in `data[start..end]`, one level.
pub fn walk_boxes(data: &[u8], start: u64, end: u64) -> Vec<Mp4Box> {
    let mut v = Vec::new();
    let mut at = start;
    while at < end {
        assert!(at + 8 <= end, "truncated box header at {at}");
        let a = at as usize;
        let size32 = u32::from_be_bytes(data[a..a + 4].try_into().unwrap()) as u64;
        let kind = String::from_utf8_lossy(&data[a + 4..a + 8]).into_owned();
        let (size, header) = match size32 {
            1 => (
                u64::from_be_bytes(data[a + 8..a + 16].try_into().unwrap()),
                16,
            ),
            0 => (end - at, 8),
            s => (s, 8),
        };
        assert!(
            size >= header && at + size <= end,
            "box {kind} at {at}: size {size} runs past {end}"
        );
        v.push(Mp4Box {
            kind,
            offset: at,
            size,
            header,
        });
        at += size;
    }
    v
}

/// The top-level boxes of a file.
pub fn top_level_boxes(data: &[u8]) -> Vec<Mp4Box> {
    walk_boxes(data, 0, data.len() as u64)
}

/// The children of a container box.
pub fn children(data: &[u8], b: &Mp4Box) -> Vec<Mp4Box> {
    walk_boxes(data, b.offset + b.header, b.offset + b.size)
}

/// `ffmpeg -v error -i PATH ARGS... -` with a framemd5/framehash muxer in `args`: the hash column
/// of every line (the sixth field; side data may follow it). Panics when ffmpeg fails.
pub fn frame_hashes(path: &Path, args: &[&str]) -> Vec<String> {
    let o = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(args)
        .arg("-")
        .output()
        .expect("cannot run ffmpeg");
    assert!(
        o.status.success(),
        "ffmpeg {}: {}",
        path.display(),
        describe(&o)
    );
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| l.split(',').nth(5).map(|h| h.trim().to_string()))
        .collect()
}

/// A `secs`-second 320x240 25 fps source for trims: x264 with 2 B-frames and a keyframe every
/// 2 s, AAC of a sweeping tone. Made once per test process in the shared folder as `name`.
pub fn bframe_source(name: &str, secs: u32) -> PathBuf {
    static CACHE: MemoMap<String, PathBuf> = OnceLock::new();
    memo(&CACHE, name.to_string(), || {
        let p = shared_dir().join(name);
        let o = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size=320x240:rate=25:duration={secs}"))
            .args(["-f", "lavfi", "-i"])
            .arg(format!("aevalsrc=sin(2*PI*(200+40*t)*t):s=48000:d={secs}"))
            .args([
                "-c:v", "libx264", "-bf", "2", "-g", "50", "-pix_fmt", "yuv420p",
            ])
            .args(["-c:a", "aac", "-shortest"])
            .arg(&p)
            .output()
            .expect("cannot run ffmpeg");
        assert!(o.status.success(), "making {name}: {}", describe(&o));
        p
    })
}
