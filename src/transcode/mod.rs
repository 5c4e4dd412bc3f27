//! The side path for bytes that cannot be copied: the plan calls it for individual segments.
//!
//! `silence` makes silent AAC frames (fdk-aac) for spans where an input has no audio; `video`
//! re-encodes a span of H.264 video to another picture format (OpenH264, fast_image_resize).

pub mod silence;
pub mod video;
