//! HTTP Live Streaming inputs: playlists (RFC 8216) naming local segment files.

pub mod playlist;
