//! `seam probe`: what each input holds and whether the inputs can be joined by copying.

use std::path::PathBuf;

use serde::Serialize;

use crate::codec::{h264, h265};
use crate::model::{CodecConfig, Media, Track};
use crate::Limits;

/// One input, as `probe` reports it.
#[derive(Debug, Serialize)]
pub struct ProbeInfo {
    /// File name.
    pub file: String,
    /// `mp4` or `fragmented-mp4`.
    pub format: &'static str,
    /// Seconds, from the movie header.
    pub duration: f64,
    /// Tracks.
    pub tracks: Vec<TrackInfo>,
}

/// One track, as `probe` reports it.
#[derive(Debug, Serialize)]
pub struct TrackInfo {
    /// track_ID.
    pub id: u32,
    /// video, audio or other.
    pub kind: &'static str,
    /// Handler four-character code.
    pub handler: String,
    /// Codec name.
    pub codec: String,
    /// Width in pixels (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Codec profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Codec level.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// Sample rate (audio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sample_rate: Option<u32>,
    /// Channels (audio).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channels: Option<u32>,
    /// Track timescale.
    pub timescale: u32,
    /// Seconds of media (sum of sample durations).
    pub duration: f64,
    /// Number of samples.
    pub samples: usize,
    /// Number of sync samples (key frames).
    pub keyframes: usize,
    /// Longest distance between key frames, in samples (video).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_gop: Option<usize>,
    /// Edit list entries.
    pub edits: usize,
}

impl TrackInfo {
    /// Picture size from the sample entry, replaced by the parameter set's (after cropping) when
    /// it parses, with its profile and level.
    fn set_picture(&mut self, entry: (u16, u16), sps: Option<((u32, u32), String, String)>) {
        self.width = Some(u32::from(entry.0));
        self.height = Some(u32::from(entry.1));
        if let Some(((w, h), profile, level)) = sps {
            self.width = Some(w);
            self.height = Some(h);
            self.profile = Some(profile);
            self.level = Some(level);
        }
    }
}

/// Describes one parsed input.
pub fn describe(m: &Media) -> ProbeInfo {
    ProbeInfo {
        file: m.name().to_string(),
        format: match m.format {
            crate::model::ContainerFormat::Mp4 => "mp4",
            crate::model::ContainerFormat::FragmentedMp4 => "fragmented-mp4",
            crate::model::ContainerFormat::Flv => "flv",
            crate::model::ContainerFormat::Ts => "ts",
            crate::model::ContainerFormat::Adts => "adts",
        },
        // Fragmented files often leave the movie duration at 0: fall back to the longest track.
        duration: if m.movie_duration > 0 {
            m.movie_duration as f64 / f64::from(m.movie_timescale.max(1))
        } else {
            m.tracks
                .iter()
                .map(|t| t.media_duration() as f64 / f64::from(t.timescale.max(1)))
                .fold(0.0, f64::max)
        },
        tracks: m.tracks.iter().map(track_info).collect(),
    }
}

pub(crate) fn track_info(t: &Track) -> TrackInfo {
    let mut info = TrackInfo {
        id: t.id,
        kind: t.kind.as_str(),
        handler: t.handler.to_string(),
        codec: t
            .entry()
            .map(|e| e.codec.name(e.format))
            .unwrap_or_else(|| "none".into()),
        width: None,
        height: None,
        profile: None,
        level: None,
        sample_rate: None,
        channels: None,
        timescale: t.timescale,
        duration: t.media_duration() as f64 / f64::from(t.timescale.max(1)),
        samples: t.samples.len(),
        keyframes: t.samples.iter().filter(|s| s.sync).count(),
        max_gop: None,
        edits: t.edits.len(),
    };
    match t.entry().map(|e| &e.codec) {
        Some(CodecConfig::H264 {
            width,
            height,
            config,
        }) => {
            let sps = config.as_ref().and_then(|c| c.first_sps().ok()).map(|sps| {
                (
                    (sps.width, sps.height),
                    h264::profile_name(sps.profile_idc, sps.constraint_flags),
                    h264::level_string(sps.level_idc, sps.constraint_flags),
                )
            });
            info.set_picture((*width, *height), sps);
        }
        Some(CodecConfig::H265 {
            width,
            height,
            config,
        }) => {
            let sps = config.as_ref().and_then(|c| c.first_sps().ok()).map(|sps| {
                (
                    (sps.width, sps.height),
                    h265::profile_name(&sps.ptl),
                    h265::level_string(&sps.ptl),
                )
            });
            info.set_picture((*width, *height), sps);
        }
        Some(CodecConfig::Video { width, height }) => {
            info.width = Some(u32::from(*width));
            info.height = Some(u32::from(*height));
        }
        Some(CodecConfig::Aac {
            channels, config, ..
        }) => {
            info.sample_rate = Some(config.sampling_frequency);
            info.channels = Some(match config.channels() {
                0 => u32::from(*channels),
                c => u32::from(c),
            });
            info.profile = Some(config.object_type_name().to_string());
        }
        Some(CodecConfig::Audio {
            channels,
            sample_rate,
        }) => {
            info.sample_rate = Some(*sample_rate);
            info.channels = Some(u32::from(*channels));
        }
        _ => {}
    }
    if t.kind == crate::model::TrackKind::Video {
        let mut gop = 0usize;
        let mut run = 0usize;
        for s in &t.samples {
            if s.sync && run > 0 {
                gop = gop.max(run);
                run = 0;
            }
            run += 1;
        }
        info.max_gop = Some(gop.max(run));
    }
    info
}

/// Runs `seam probe`.
pub fn run(inputs: &[PathBuf], json: bool) -> u8 {
    let limits = Limits::default();
    let mut medias = Vec::new();
    let mut infos = Vec::new();
    let mut code = 0u8;
    let mut errors = Vec::new();
    let mut all_read = true;
    for p in inputs {
        match crate::api::probe_parts(p, &limits, &Default::default()) {
            Ok(parts) => {
                for m in parts {
                    infos.push(describe(&m));
                    medias.push(m);
                }
            }
            Err(e) => {
                all_read = false;
                code = code.max(u8::try_from(e.exit_code()).unwrap_or(1));
                errors.push(e.to_string());
            }
        }
    }
    let compat = if medias.len() == 1 {
        // Nothing to join: planning a single input would only cost time and memory.
        Compat {
            copy_compatible: true,
            reason: None,
            warnings: Vec::new(),
        }
    } else if all_read && !medias.is_empty() {
        match crate::plan(&medias) {
            Ok(p) => Compat {
                copy_compatible: true,
                reason: None,
                warnings: p.warnings,
            },
            Err(e) => Compat {
                copy_compatible: false,
                reason: Some(e.to_string()),
                warnings: Vec::new(),
            },
        }
    } else {
        Compat {
            copy_compatible: false,
            reason: Some("not every input could be read".into()),
            warnings: Vec::new(),
        }
    };
    if json {
        let v = serde_json::json!({ "inputs": infos, "errors": errors, "compatibility": compat });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        for i in &infos {
            print_text(i);
        }
        for e in &errors {
            eprintln!("seam: {e}");
        }
        if inputs.len() > 1 {
            match &compat.reason {
                None => println!("copy-compatible: yes"),
                Some(r) => println!("copy-compatible: no: {r}"),
            }
            for w in &compat.warnings {
                println!("  note: {w}");
            }
        }
    }
    code
}

/// Whether the inputs can be joined by copying.
#[derive(Debug, Serialize)]
struct Compat {
    copy_compatible: bool,
    reason: Option<String>,
    warnings: Vec<String>,
}

fn print_text(i: &ProbeInfo) {
    println!("{}: {} {:.3} s", i.file, i.format, i.duration);
    for t in &i.tracks {
        let mut line = format!("  track {} {} {}", t.id, t.kind, t.codec);
        if let (Some(w), Some(h)) = (t.width, t.height) {
            line += &format!(" {w}x{h}");
        }
        if let Some(p) = &t.profile {
            line += &format!(" {p}");
        }
        if let Some(l) = &t.level {
            line += &format!(" level {l}");
        }
        if let Some(r) = t.sample_rate {
            line += &format!(" {r} Hz");
        }
        if let Some(c) = t.channels {
            line += &format!(" {c} ch");
        }
        line += &format!(
            ", {:.3} s, {} samples, {} keyframes",
            t.duration, t.samples, t.keyframes
        );
        if let Some(g) = t.max_gop {
            line += &format!(", GOP up to {g}");
        }
        println!("{line}");
    }
}

/// Runs `seam probe --boxes`: the box tree of each input; `mdat` is listed, never read.
pub fn run_boxes(inputs: &[PathBuf]) -> u8 {
    let mut code = 0;
    for p in inputs {
        match box_tree(p) {
            Ok(text) => {
                println!("{}:", p.display());
                print!("{text}");
            }
            Err(e) => {
                eprintln!("seam: {e}");
                code = code.max(u8::try_from(e.exit_code()).unwrap_or(1));
            }
        }
    }
    code
}

fn box_tree(p: &std::path::Path) -> Result<String, crate::Error> {
    use crate::demux::mp4::{top_level_boxes, tree};
    use crate::source::{FileSource, Source};
    let limits = Limits::default();
    let src = FileSource::open(p).map_err(|e| crate::error::DemuxError::Io {
        file: p.display().to_string(),
        source: e,
    })?;
    let io = |e| crate::error::DemuxError::Io {
        file: p.display().to_string(),
        source: e,
    };
    let mut text = String::new();
    for (kind, offset, size) in top_level_boxes(&src)? {
        if &kind.0 == b"mdat" || size > limits.max_box_size {
            text.push_str(&format!("{kind} @{offset} size {size} (not read)\n"));
            continue;
        }
        let mut buf = vec![0u8; size as usize];
        src.read_at(offset, &mut buf).map_err(io)?;
        let nodes = tree::parse(&bytes::Bytes::from(buf), offset, src.name(), &limits)?;
        tree::describe(&nodes, 0, &mut text);
    }
    Ok(text)
}
