//! Explicit limits on what a parser accepts, checked before anything is allocated.

/// Caps applied to every count and size read from an input file.
///
/// The defaults are generous for real recordings (a 24-hour 60 fps recording with 48 kHz audio has
/// about 9.3 million samples) and small enough that a hostile file cannot make seam allocate more than a
/// few hundred megabytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Tracks per file.
    pub max_tracks: usize,
    /// Samples per track.
    pub max_samples: usize,
    /// Box nesting depth.
    pub max_depth: usize,
    /// Size of a metadata box that is read into memory (moov, moof, sample entries).
    pub max_box_size: u64,
    /// Sample description entries per track.
    pub max_sample_entries: usize,
    /// Entries in an edit list.
    pub max_edits: usize,
    /// Movie fragments (moof boxes) per file.
    pub max_fragments: usize,
    /// Entries in an HLS playlist.
    pub max_playlist_entries: usize,
    /// Input files (segments) per job. Inputs are named by the caller, not read from a file, so
    /// this only bounds memory: about 1 KB per input beyond its samples while planning.
    pub max_segments: usize,
    /// Samples the plan may generate (silent audio frames) per output track. A tiny file can claim
    /// hours of gap; this caps what that costs (each generated sample is ~50 bytes of plan).
    pub max_generated_samples: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_tracks: 64,
            max_samples: 16_000_000,
            max_depth: 32,
            max_box_size: 512 << 20,
            max_sample_entries: 256,
            max_edits: 4096,
            max_fragments: 1_000_000,
            max_playlist_entries: 100_000,
            // A week of 2-second HLS segments is 302,400; at ~1 KB each beyond their samples,
            // a million inputs cost about 1 GB.
            max_segments: 1_000_000,
            // About 26 hours of 48 kHz AAC.
            max_generated_samples: 4_500_000,
        }
    }
}
