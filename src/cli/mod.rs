//! The `seam` command line.
//!
//! Exit codes: 0 success, 1 bad or incompatible input, 2 usage error, 3 I/O error,
//! 130 interrupted (Ctrl-C / SIGTERM; nothing is left behind).

mod batch;
mod plan;
mod probe;
mod session_cli;

use session_cli::SessionArgs;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::{Error, Limits, StitchOptions};

/// Stitch video recording fragments into one file, losslessly.
#[derive(Parser, Debug)]
#[command(name = "seam", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Join inputs back to back into one MP4, MPEG-TS or HLS output, copying every sample
    /// bit-exact.
    Stitch {
        /// Output file; its extension picks the format: `.ts`/`.m2ts`/`.mts` MPEG-TS, `.m3u8` an
        /// HLS playlist with MPEG-TS segments beside it, anything else MP4.
        #[arg(short, long)]
        output: PathBuf,
        /// Input files, in playback order.
        #[arg(required_unless_present_any = ["inputs_from", "start_times"])]
        inputs: Vec<PathBuf>,
        /// Read more input paths, one per line, from this file (`-` for standard input), after
        /// those on the command line: a week of HLS segments does not fit in a command line.
        #[arg(long, value_name = "FILE")]
        inputs_from: Option<PathBuf>,
        /// Overwrite the output if it exists.
        #[arg(short = 'y', long = "overwrite")]
        overwrite: bool,
        /// Write fragmented MP4 (one moof per GOP, cut at 64 MiB) instead of moov-first MP4.
        #[arg(long)]
        fragmented: bool,
        /// Target segment duration in seconds (exact decimals such as 2.002): HLS segments
        /// (default 6), or, with an MP4 output, MP4 shards OUT_00000.mp4, OUT_00001.mp4...
        /// Segments and shards start at keyframes.
        #[arg(long, value_name = "SECONDS", value_parser = parse_segment_duration)]
        segment_duration: Option<crate::mux::hls::TargetDuration>,
        /// HLS output: fragmented MP4 segments (with an EXT-X-MAP init section) instead of TS.
        #[arg(long)]
        hls_fmp4: bool,
        /// H.264/H.265 inputs whose parameter sets differ (same picture size, other profile,
        /// level, entropy coder...): `inband` (default: one avc3/hev1 sample entry, the new
        /// SPS/PPS carried in the keyframes), `entries` (one sample entry per configuration) or
        /// `refuse`. Measured in ffmpeg, GStreamer and Chromium: docs/PARAMETER_SETS.md.
        #[arg(long, value_enum, default_value = "inband")]
        parameter_sets: ParameterSets,
        /// Keep only START..END seconds of the K-th input (from 1, counted over the inputs
        /// given): `--trim 2=5,12.5`, `--trim 1=01:30` (to its end). Times are the input's own
        /// presentation times ([hh:]mm:ss[.frac] or seconds, exact). The cut starts at the
        /// keyframe at or before START; frames before START are decoded but hidden by the edit
        /// list (MP4; a TS/HLS output shows them: use --accurate). Repeat for other inputs.
        #[arg(long, value_name = "K=START[,END]", value_parser = parse_trim)]
        trim: Vec<(usize, crate::plan::Trim)>,
        /// Make --trim frame-accurate (a smart cut): the frames from START to the next keyframe
        /// (and those of the GOP holding END, when B-frames kept frames past END) are re-encoded
        /// with OpenH264, every other GOP is copied bit-exact. Exact in TS/HLS outputs too.
        #[arg(long, requires = "trim")]
        accurate: bool,
        /// A fragment the output cannot copy (another audio sample rate or channel count):
        /// `transcode` re-encodes it to the output's format (default), `error` refuses the job.
        /// `seam plan` lists those fragments and why.
        #[arg(long, value_enum, default_value = "transcode")]
        on_mismatch: OnMismatchArg,
        /// Threads for re-encoding video (default: all cores); the output is the same for any
        /// count.
        #[arg(long, value_name = "N", default_value_t = 0)]
        threads: usize,
        /// A re-encoded picture of another shape is scaled to fit inside the output's, with
        /// black bars (default).
        #[arg(long, conflicts_with_all = ["fill", "stretch"])]
        fit: bool,
        /// ... scaled to cover the output's, the overflow cropped.
        #[arg(long, conflicts_with = "stretch")]
        fill: bool,
        /// ... scaled to the output's size, ignoring its aspect ratio.
        #[arg(long)]
        stretch: bool,
        /// Print nothing but errors.
        #[arg(short, long)]
        quiet: bool,
        /// Print the result as JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Salvage what is readable from damaged inputs (a truncated last fragment or mdat) and
        /// say what was dropped, instead of failing.
        #[arg(long)]
        best_effort: bool,
        /// For a master HLS playlist input: the variant to read, by index in bandwidth order
        /// (0 = lowest); the highest bandwidth when absent.
        #[arg(long, value_name = "N")]
        variant: Option<usize>,
        /// Let HLS playlists name segments outside their folder (absolute paths, `..`, links out).
        #[arg(long)]
        allow_any_path: bool,
        #[command(flatten)]
        session: SessionArgs,
    },
    /// Write many sessions, one output each, in parallel: from a JSON job file, or from a
    /// recorder's folder grouped by user (--dir with --name-pattern).
    Batch(batch::BatchArgs),
    /// Describe inputs and whether they can be joined without re-encoding.
    Probe {
        /// Input files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
        /// Print the box tree (offsets and sizes) instead; sample data is not read.
        #[arg(long, conflicts_with = "json")]
        boxes: bool,
    },
    /// Say, per input and track, whether it is copied or must be re-encoded and why, and the
    /// output format chosen (the first input with each track sets it).
    Plan {
        /// Input files, in playback order.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Print JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

/// `--on-mismatch` ([`crate::api::OnMismatch`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OnMismatchArg {
    /// Re-encode the fragment to the output's format.
    Transcode,
    /// Refuse the job.
    Error,
    /// Start a new output (OUT_00000.mp4, OUT_00001.mp4...) at each fragment that cannot be
    /// copied into the current one.
    Split,
}

/// What to do with inputs whose H.264/H.265 parameter sets differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ParameterSets {
    /// Refuse them, naming what differs.
    Refuse,
    /// Several sample entries in one track.
    Entries,
    /// One avc3/hev1 sample entry, parameter sets in band.
    Inband,
}

/// Runs the CLI with the process arguments; returns the exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    // Ctrl-C and SIGTERM stop the copy at the next step; the temporary output is then removed.
    let _ = ctrlc::set_handler(crate::mux::request_interrupt);
    let code = match cli.command {
        Command::Stitch {
            output,
            mut inputs,
            inputs_from,
            overwrite,
            fragmented,
            segment_duration,
            hls_fmp4,
            parameter_sets,
            quiet,
            json,
            best_effort,
            variant,
            allow_any_path,
            trim,
            accurate,
            on_mismatch,
            threads,
            fit: _,
            fill,
            stretch,
            session,
        } => match inputs_from.map(|f| read_input_list(&f)) {
            Some(Err(e)) => {
                // The list could not be read: an I/O error, like an unreadable input.
                eprintln!("seam: {e}");
                3
            }
            listed => {
                inputs.extend(listed.and_then(Result::ok).unwrap_or_default());
                let options = StitchOptions {
                    overwrite,
                    fragmented,
                    best_effort,
                    segment_duration,
                    hls_fmp4,
                    parameter_sets: match parameter_sets {
                        ParameterSets::Refuse => crate::plan::ParameterSets::Refuse,
                        ParameterSets::Entries => crate::plan::ParameterSets::Entries,
                        ParameterSets::Inband => crate::plan::ParameterSets::Inband,
                    },
                    trims: trim,
                    accurate,
                    on_mismatch: match on_mismatch {
                        OnMismatchArg::Transcode => crate::api::OnMismatch::Transcode,
                        OnMismatchArg::Error => crate::api::OnMismatch::Error,
                        OnMismatchArg::Split => crate::api::OnMismatch::Split,
                    },
                    threads,
                    fit: if fill {
                        crate::transcode::video::Fit::Fill
                    } else if stretch {
                        crate::transcode::video::Fit::Stretch
                    } else {
                        crate::transcode::video::Fit::Fit
                    },
                    spool_dir: None,
                    reencode_progress: None,
                    limits: Limits::default(),
                    hls: crate::demux::hls::HlsOptions {
                        variant,
                        allow_any_path,
                    },
                };
                if session.any() {
                    session_cli::run(&output, &inputs, &session, options, quiet, json)
                } else if options.on_mismatch == crate::api::OnMismatch::Split {
                    run_split(&output, &inputs, &options, quiet, json)
                } else {
                    run_stitch(&output, &inputs, options, quiet, json)
                }
            }
        },
        Command::Batch(args) => batch::run(args),
        Command::Probe {
            inputs,
            json,
            boxes,
        } => {
            if boxes {
                probe::run_boxes(&inputs)
            } else {
                probe::run(&inputs, json)
            }
        }
        Command::Plan { inputs, json } => plan::run(&inputs, json),
    };
    ExitCode::from(code)
}

/// `seam stitch --on-mismatch split`: one output per run of copy-compatible inputs.
fn run_split(
    output: &std::path::Path,
    inputs: &[PathBuf],
    options: &StitchOptions,
    quiet: bool,
    json: bool,
) -> u8 {
    let paths: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let started = std::time::Instant::now();
    let written = match crate::api_split::stitch_split(&paths, output, options) {
        Ok(w) => w,
        Err(e) => return fail(&e, json),
    };
    if json {
        let outputs: Vec<_> = written
            .iter()
            .map(|(p, r)| serde_json::json!({ "output": p.display().to_string(), "report": r }))
            .collect();
        let v = serde_json::json!({
            "ok": true,
            "outputs": outputs,
            "seconds": started.elapsed().as_secs_f64(),
        });
        println!("{v}");
    } else if !quiet {
        for (p, r) in &written {
            for w in &r.warnings {
                eprintln!("seam: warning: {w}");
            }
            eprintln!(
                "seam: wrote {} ({} bytes, {:.3} s, {} samples copied)",
                p.display(),
                r.bytes,
                r.duration_seconds,
                r.copied_samples
            );
        }
    }
    0
}

/// `--segment-duration`: seconds as an exact decimal ([`crate::mux::hls::TargetDuration::parse`]).
fn parse_segment_duration(s: &str) -> Result<crate::mux::hls::TargetDuration, String> {
    crate::mux::hls::TargetDuration::parse(s).map_err(|e| e.to_string())
}

/// `--trim K=START[,END]` ([`crate::plan::parse_trim_arg`]).
fn parse_trim(s: &str) -> Result<(usize, crate::plan::Trim), String> {
    crate::plan::parse_trim_arg(s)
}

/// Input paths listed one per line (blank lines and lines starting with `#` skipped).
fn read_input_list(file: &std::path::Path) -> Result<Vec<PathBuf>, String> {
    let text = if file.as_os_str() == "-" {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t).map(|_| t)
    } else {
        std::fs::read_to_string(file)
    }
    .map_err(|e| format!("{}: {e}", file.display()))?;
    let paths: Vec<PathBuf> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(PathBuf::from)
        .collect();
    if paths.is_empty() {
        return Err(format!("{}: lists no input", file.display()));
    }
    Ok(paths)
}

fn fail(e: &Error, json: bool) -> u8 {
    if json {
        let v =
            serde_json::json!({ "ok": false, "error": e.to_string(), "exit_code": e.exit_code() });
        println!("{v}");
    }
    eprintln!("seam: {e}");
    u8::try_from(e.exit_code()).unwrap_or(1)
}

fn run_stitch(
    output: &std::path::Path,
    inputs: &[PathBuf],
    options: StitchOptions,
    quiet: bool,
    json: bool,
) -> u8 {
    let paths: Vec<&std::path::Path> = inputs.iter().map(|p| p.as_path()).collect();
    let show_bar = !quiet && std::io::stderr().is_terminal();
    let bar = show_bar.then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    });
    let mut progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            if b.length() != Some(total) {
                // Writing starts (after any re-encoding): rate and eta count from here.
                b.reset();
                b.set_length(total);
            }
            b.set_position(done);
        }
    };
    // Re-encoding comes before writing: its own counter of frames.
    let frames = show_bar.then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} re-encoding: {pos} frames {per_sec}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut options = options;
    if let Some(f) = &frames {
        let f = f.clone();
        options.reencode_progress =
            Some(crate::api::FramesProgress(std::sync::Arc::new(move |n| {
                f.set_position(n)
            })));
    }
    let started = std::time::Instant::now();
    let result = crate::stitch_with_progress(&paths, output, &options, &mut progress);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    if let Some(f) = &frames {
        f.finish_and_clear();
    }
    match result {
        Ok(r) => {
            if !quiet {
                for w in &r.warnings {
                    eprintln!("seam: warning: {w}");
                }
            }
            if json {
                let v = serde_json::json!({
                    "ok": true,
                    "output": output.display().to_string(),
                    "report": r,
                    "seconds": started.elapsed().as_secs_f64(),
                });
                println!("{v}");
            } else if !quiet {
                eprintln!(
                    "seam: wrote {} ({} bytes, {:.3} s, {} samples copied, {} re-encoded, {} generated, {} dropped) in {:.2} s",
                    output.display(),
                    r.bytes,
                    r.duration_seconds,
                    r.copied_samples,
                    r.reencoded_samples,
                    r.generated_samples,
                    r.dropped_samples,
                    started.elapsed().as_secs_f64()
                );
                if let (Some(first), Some(last)) = (r.files.first(), r.files.last()) {
                    eprintln!("seam:   {} files: {first} .. {last}", r.files.len());
                }
                for t in &r.transcoded {
                    eprintln!(
                        "seam:   re-encoded {} {}: {} samples into {} ({}) in {:.2} s",
                        t.file, t.track, t.input_samples, t.output_samples, t.reason, t.seconds
                    );
                }
                for line in join_lines(&r) {
                    eprintln!("seam:   {line}");
                }
            }
            0
        }
        Err(e) => fail(&e, json),
    }
}

/// One line per join and track where something was left out or generated.
fn join_lines(r: &crate::StitchReport) -> Vec<String> {
    let mut out = Vec::new();
    for j in &r.joins {
        for t in &j.tracks {
            let c = &t.counts;
            let mut parts = Vec::new();
            if c.dropped() > 0 {
                parts.push(format!(
                    "{} dropped ({} head, {} inside, {} tail; {:.3} s)",
                    c.dropped(),
                    c.dropped_head,
                    c.dropped_inside,
                    c.dropped_tail,
                    t.dropped_seconds
                ));
            }
            if c.generated > 0 {
                parts.push(format!(
                    "{} silent frames generated ({:.3} s)",
                    c.generated, t.generated_seconds
                ));
            }
            if c.decode_only > 0 {
                parts.push(format!("{} decode-only frames hidden", c.decode_only));
            }
            if !parts.is_empty() {
                out.push(format!(
                    "{} at {:.3} s: {} track {}: {}",
                    j.file,
                    j.start_seconds,
                    c.kind.as_str(),
                    c.track,
                    parts.join(", ")
                ));
            }
        }
    }
    out
}
