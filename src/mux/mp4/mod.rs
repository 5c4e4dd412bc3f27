//! MP4 writer: progressive (ftyp + moov + mdat, moov first) or fragmented (one moof per GOP).

pub(crate) mod boxes;
mod cenc;
pub mod entry;
mod fragmented;
mod moov;
mod progressive;
pub mod shard;

pub use fragmented::{layout_fragmented, layout_fragmented_with, FragmentedOptions};
pub use progressive::{layout_progressive, ProgressiveOptions};
pub use shard::{shard_plan, ShardError};

use boxes::BoxWriter;

/// ftyp for progressive output (§4.3).
pub(crate) fn ftyp(fragmented: bool) -> Vec<u8> {
    let mut w = BoxWriter::new();
    w.start(b"ftyp");
    if fragmented {
        w.bytes(b"iso5");
        w.u32(512);
        w.bytes(b"iso5iso6mp41");
    } else {
        w.bytes(b"isom");
        w.u32(512);
        w.bytes(b"isomiso2avc1mp41");
    }
    w.end();
    w.into_inner()
}
