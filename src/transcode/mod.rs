//! The side path for bytes that cannot be copied: the plan calls it for individual segments.
//!
//! It makes silent AAC frames (fdk-aac) for spans where an input has no audio (`silence`), and
//! re-encodes audio whose format differs from the output track's (`audio`, called by `realize`
//! between demuxing and planning). Re-encoding of video segments (openh264) lives here too.

pub mod audio;
mod fdk;
pub mod realize;
pub mod silence;
