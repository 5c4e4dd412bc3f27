//! Codec configuration: what seam must understand of a codec to decide whether two streams can be
//! joined without re-encoding. Parsers here see no container; the demuxer adds file locations to
//! their errors.

pub mod aac;
pub mod h264;
pub mod h265;

/// A parameter that differs between two codec configurations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs, e.g. `resolution` or `sample rate`.
    pub parameter: &'static str,
    /// Its value in the reference (earlier) stream, e.g. `1280x720`.
    pub reference: String,
    /// Its value in the other stream, e.g. `720x1280`.
    pub value: String,
}
