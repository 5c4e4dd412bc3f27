//! The side path for bytes that cannot be copied: the plan calls it for individual segments.
//!
//! `silence` makes silent AAC frames (fdk-aac) for spans where an input has no audio; `audio`
//! re-encodes audio whose format differs from the output track's (fdk-aac, rubato); `video`
//! re-encodes a span of H.264 video to another picture format (OpenH264, fast_image_resize);
//! `realize` runs them between demuxing and planning, for the fragments `plan::decide` marks.

pub mod audio;
mod fdk;
pub mod realize;
pub mod silence;
pub mod smartcut;
pub mod video;
