//! The side path for bytes that cannot be copied: the plan calls it for individual segments.
//!
//! Today it makes silent AAC frames (fdk-aac) for spans where an input has no audio. Re-encoding of
//! video segments whose parameters differ (openh264) will live here too.

pub mod silence;
