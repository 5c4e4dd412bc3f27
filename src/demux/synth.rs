//! MP4 track headers for inputs that have none (TS, FLV): what the MP4 muxer writes for a track
//! read from another container (handler, media header, track header fields).

use bytes::Bytes;

use crate::model::{FourCC, SampleEntry, SampleTable, Track, TrackHeader, TrackKind};
use crate::mux::mp4::boxes::BoxWriter;

/// The identity display matrix (ISO/IEC 14496-12 §8.3.2).
const IDENTITY: [i32; 9] = [0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x4000_0000];

/// A video (`video`) or audio track with the given sample entries and samples, no edit list.
pub(crate) fn plain_track(
    id: u32,
    video: bool,
    timescale: u32,
    (width, height): (u16, u16),
    sample_entries: Vec<SampleEntry>,
    samples: SampleTable,
) -> Track {
    Track {
        id,
        kind: if video {
            TrackKind::Video
        } else {
            TrackKind::Audio
        },
        handler: FourCC::new(if video { b"vide" } else { b"soun" }),
        timescale,
        language: 0x55c4, // "und"
        header: TrackHeader {
            flags: 3,
            layer: 0,
            alternate_group: 0,
            volume: if video { 0 } else { 0x100 },
            matrix: IDENTITY,
            width: u32::from(width) << 16,
            height: u32::from(height) << 16,
        },
        hdlr: Bytes::from(hdlr(video)),
        media_header: Some(Bytes::from(media_header(video))),
        sample_entries,
        edits: Vec::new(),
        samples,
    }
}

/// Handler reference box (§8.4.3).
pub(crate) fn hdlr(video: bool) -> Vec<u8> {
    let mut w = BoxWriter::new();
    w.start_full(b"hdlr", 0, 0);
    w.u32(0); // pre_defined
    w.bytes(if video { b"vide" } else { b"soun" });
    w.zeros(12);
    w.bytes(if video {
        b"VideoHandler\0"
    } else {
        b"SoundHandler\0"
    });
    w.end();
    w.into_inner()
}

/// `vmhd` (§12.1.2) or `smhd` (§12.2.2).
pub(crate) fn media_header(video: bool) -> Vec<u8> {
    let mut w = BoxWriter::new();
    if video {
        w.start_full(b"vmhd", 0, 1);
        w.zeros(8); // graphicsmode, opcolor
    } else {
        w.start_full(b"smhd", 0, 0);
        w.zeros(4); // balance, reserved
    }
    w.end();
    w.into_inner()
}
