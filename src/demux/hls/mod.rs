//! HTTP Live Streaming inputs: playlists (RFC 8216) naming local segment files.

mod input;
pub mod playlist;

pub use input::{expand, is_playlist, HlsOptions};
