//! libfdk-aac (bundled C++ sources, built by `fdk-aac-sys`) behind two small RAII owners: the
//! encoder (silent frames, re-encoded audio) and the decoder (re-encoded audio).

pub(crate) mod decoder;
pub(crate) mod encoder;
