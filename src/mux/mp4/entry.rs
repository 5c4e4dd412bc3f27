//! Sample entries built from typed codec configurations, for inputs that carry no MP4 sample
//! description (TS, FLV): `avc1`/`hvc1` visual entries (ISO/IEC 14496-12 §12.1.3, ISO/IEC 14496-15
//! §5.4.2 and §8.4.1) and `mp4a` audio entries with an `esds` box (ISO/IEC 14496-12 §12.2.3,
//! ISO/IEC 14496-14 §5.6, ISO/IEC 14496-1 §7.2.6).
//!
//! The entries are what ffmpeg's mov muxer writes for the same streams, minus optional boxes
//! (`btrt`, `pasp`, `colr`) that do not affect decoding.

use super::boxes::BoxWriter;

/// A visual sample entry `kind` (`avc1`, `hvc1`) of `width` x `height` holding one configuration
/// box `config_kind` (`avcC`, `hvcC`) with payload `config`.
pub fn visual_entry(
    kind: &[u8; 4],
    width: u16,
    height: u16,
    config_kind: &[u8; 4],
    config: &[u8],
) -> Vec<u8> {
    let mut w = BoxWriter::with_capacity(86 + 8 + config.len());
    w.start(kind);
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index
    w.zeros(16); // pre_defined, reserved, pre_defined[3]
    w.u16(width);
    w.u16(height);
    w.u32(0x0048_0000); // horizresolution 72 dpi
    w.u32(0x0048_0000); // vertresolution
    w.u32(0); // reserved
    w.u16(1); // frame_count
    w.zeros(32); // compressorname (empty Pascal string)
    w.u16(0x0018); // depth
    w.i16(-1); // pre_defined
    w.start(config_kind);
    w.bytes(config);
    w.end();
    w.end();
    w.into_inner()
}

/// An `mp4a` sample entry for AAC with AudioSpecificConfig `asc`.
pub fn mp4a_entry(channels: u16, sample_rate: u32, asc: &[u8]) -> Vec<u8> {
    let mut w = BoxWriter::with_capacity(64 + asc.len());
    w.start(b"mp4a");
    w.zeros(6); // reserved
    w.u16(1); // data_reference_index
    w.zeros(8); // reserved (version 0 sound description)
    w.u16(channels);
    w.u16(16); // samplesize
    w.u16(0); // pre_defined
    w.u16(0); // reserved
              // 16.16 fixed point; rates above 65535 Hz do not fit and are written as 0, as ffmpeg does
              // (the AudioSpecificConfig carries the real rate).
    w.u32(if sample_rate <= 0xffff {
        sample_rate << 16
    } else {
        0
    });
    w.start_full(b"esds", 0, 0);
    // DecoderSpecificInfo (tag 5) inside DecoderConfigDescriptor (tag 4) inside ES_Descriptor
    // (tag 3), with an SLConfigDescriptor (tag 6); sizes in the one-byte form (all under 128
    // bytes for any real AudioSpecificConfig) or four-byte form otherwise.
    let dsi_len = asc.len();
    let dcd_len = 13 + descriptor_len(dsi_len);
    let es_len = 3 + descriptor_len(dcd_len) + 3;
    descriptor(&mut w, 3, es_len);
    w.u16(0); // ES_ID
    w.u8(0); // flags, streamPriority
    descriptor(&mut w, 4, dcd_len);
    w.u8(0x40); // objectTypeIndication: Audio ISO/IEC 14496-3
    w.u8(0x15); // streamType audio (5) << 2 | upStream 0 | reserved 1
    w.zeros(3); // bufferSizeDB
    w.u32(0); // maxBitrate
    w.u32(0); // avgBitrate
    descriptor(&mut w, 5, dsi_len);
    w.bytes(asc);
    descriptor(&mut w, 6, 1);
    w.u8(2); // predefined: MP4
    w.end();
    w.end();
    w.into_inner()
}

/// Bytes a descriptor of `len` payload bytes takes, tag and size included.
fn descriptor_len(len: usize) -> usize {
    len + if len < 0x80 { 2 } else { 5 }
}

/// A descriptor tag and its size (§8.3.3 expandable size).
fn descriptor(w: &mut BoxWriter, tag: u8, len: usize) {
    w.u8(tag);
    if len < 0x80 {
        w.u8(len as u8);
    } else {
        let len = len.min(0x0fff_ffff) as u32;
        w.u8(0x80 | (len >> 21) as u8 & 0x7f);
        w.u8(0x80 | (len >> 14) as u8 & 0x7f);
        w.u8(0x80 | (len >> 7) as u8 & 0x7f);
        w.u8(len as u8 & 0x7f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mp4a_entry_esds_reads_back() {
        let asc = [0x11, 0x90];
        let e = mp4a_entry(2, 48_000, &asc);
        assert_eq!(&e[4..8], b"mp4a");
        assert_eq!(
            u32::from_be_bytes([e[0], e[1], e[2], e[3]]) as usize,
            e.len()
        );
        let esds = e.windows(4).position(|w| w == b"esds").expect("esds") + 8;
        let d = crate::codec::aac::parse_esds(&e[esds..]).expect("parses");
        assert_eq!(d.decoder_specific_info.as_deref(), Some(&asc[..]), "{d:?}");
    }

    #[test]
    fn visual_entry_has_its_size_and_config() {
        let e = visual_entry(b"avc1", 640, 360, b"avcC", &[1, 2, 3]);
        assert_eq!(e.len(), 86 + 11);
        assert_eq!(&e[4..8], b"avc1");
        assert_eq!(&e[32..36], &[2, 128, 1, 104]);
        assert_eq!(&e[e.len() - 7..e.len() - 3], b"avcC");
    }
}
