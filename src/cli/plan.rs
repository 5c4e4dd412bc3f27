//! `seam plan`: per fragment and output track, copy or re-encode and why, and the output format.

use std::path::PathBuf;

use serde::Serialize;

use super::probe::{track_info, TrackInfo};
use crate::model::Media;
use crate::plan::{decide, Decision, FragmentDecisions};
use crate::Limits;

/// The format of one output track: the first input that has it sets it.
#[derive(Debug, Serialize)]
struct OutputTrack {
    /// `video`, `audio`, `audio track 2`...
    track: String,
    /// The input setting the format.
    from: String,
    /// Codec, picture size or sample rate, profile...
    format: TrackInfo,
}

/// What `seam stitch` does with these inputs today.
#[derive(Debug, Serialize)]
struct Summary {
    /// Every sample of every kept track is copied (under several sample entries where only the
    /// parameter sets change).
    copy_only: bool,
    /// Fragment tracks that need other parameter sets at their join.
    new_parameter_sets: usize,
    /// Fragment tracks that must be decoded and re-encoded.
    reencode: usize,
    /// Of those, video tracks (`seam stitch` cannot re-encode video yet).
    reencode_video: usize,
    /// Fragment tracks that cannot be joined at all.
    refused: usize,
}

/// Runs `seam plan`; returns the exit code (0 when every input was read).
pub fn run(inputs: &[PathBuf], json: bool) -> u8 {
    let limits = Limits::default();
    let mut medias: Vec<Media> = Vec::new();
    let mut code = 0u8;
    for p in inputs {
        match crate::api::probe_parts(p, &limits, &Default::default()) {
            Ok(mut parts) => medias.append(&mut parts),
            Err(e) => {
                eprintln!("seam: {e}");
                code = code.max(u8::try_from(e.exit_code()).unwrap_or(1));
            }
        }
    }
    if code != 0 {
        return code;
    }
    let fragments = decide(&medias);
    let output = output_tracks(&medias, &fragments);
    let count = |d: Decision| {
        fragments
            .iter()
            .flat_map(|f| &f.tracks)
            .filter(|t| t.decision == d)
            .count()
    };
    let reencode_video = fragments
        .iter()
        .flat_map(|f| &f.tracks)
        .filter(|t| t.decision == Decision::Reencode && t.kind == "video")
        .count();
    let summary = Summary {
        reencode_video,
        copy_only: count(Decision::Reencode) == 0 && count(Decision::Refuse) == 0,
        new_parameter_sets: count(Decision::CopyNewParameterSets),
        reencode: count(Decision::Reencode),
        refused: count(Decision::Refuse),
    };
    if json {
        let v = serde_json::json!({ "output": output, "fragments": fragments, "summary": summary });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_text(&output, &fragments, &summary);
    }
    0
}

/// The output format of each track: the track of the fragment that sets it.
fn output_tracks(medias: &[Media], fragments: &[FragmentDecisions]) -> Vec<OutputTrack> {
    let tracks = fragments.first().map_or(0, |f| f.tracks.len());
    (0..tracks)
        .filter_map(|k| {
            fragments.iter().find_map(|f| {
                let d = f.tracks.get(k)?;
                let m = medias.get(f.input)?;
                let t = m.tracks.get(d.input_track?)?;
                d.sets_format.then(|| OutputTrack {
                    track: d.track.clone(),
                    from: m.name().to_string(),
                    format: track_info(t),
                })
            })
        })
        .collect()
}

fn print_text(output: &[OutputTrack], fragments: &[FragmentDecisions], summary: &Summary) {
    println!("output format:");
    for o in output {
        let f = &o.format;
        let mut line = format!("  {}: {}", o.track, f.codec);
        if let (Some(w), Some(h)) = (f.width, f.height) {
            line.push_str(&format!(" {w}x{h}"));
        }
        if let Some(r) = f.sample_rate {
            line.push_str(&format!(" {r} Hz"));
        }
        if let Some(c) = f.channels {
            line.push_str(&format!(" {c} ch"));
        }
        if let Some(p) = &f.profile {
            line.push_str(&format!(" {p}"));
        }
        if let Some(l) = &f.level {
            line.push_str(&format!(" level {l}"));
        }
        println!("{line} (from {})", o.from);
    }
    for f in fragments {
        println!("{}:", f.file);
        for t in &f.tracks {
            let what = match t.decision {
                Decision::Copy => "copy",
                Decision::CopyNewParameterSets => "copy, new parameter sets",
                Decision::Reencode => "re-encode",
                Decision::Fill => "fill",
                Decision::Drop => "drop",
                Decision::Refuse => "refuse",
            };
            println!("  {}: {what} ({})", t.track, t.reason);
        }
    }
    if summary.copy_only && summary.new_parameter_sets == 0 {
        println!("plan: every sample is copied");
    } else if summary.copy_only {
        println!(
            "plan: every sample is copied; {} fragment(s) hand the decoder new parameter sets \
             (in band by default; `--parameter-sets entries` for sample entries)",
            summary.new_parameter_sets
        );
    } else if summary.refused > 0 || summary.reencode_video > 0 {
        println!(
            "plan: {} fragment track(s) need re-encoding ({} video) and {} cannot be joined; \
             `seam stitch` re-encodes audio only so far and refuses these inputs",
            summary.reencode, summary.reencode_video, summary.refused
        );
    } else {
        println!(
            "plan: {} audio fragment track(s) are re-encoded to the output's format \
             (`--on-mismatch error` refuses them instead); everything else is copied",
            summary.reencode
        );
    }
}
