//! Sample descriptions (ISO/IEC 14496-12 §8.5.2, visual and audio sample entries §12.1.3 and
//! §12.2.3; avcC from ISO/IEC 14496-15 §5.4.2; esds from ISO/IEC 14496-14 §5.6; QuickTime sound
//! description versions 1 and 2).
//!
//! Each entry is kept verbatim for the output; seam parses what it needs to compare inputs.

use super::reader::{Ctx, MemBox};
use crate::codec::{aac, h264};
use crate::error::{CodecError, DemuxError};
use crate::limits::Limits;
use crate::model::{CodecConfig, FourCC, SampleEntry};

/// Parses an `stsd` box into its entries; no stsd (a track without samples) gives none.
pub(super) fn parse_stsd(
    stsd: &Option<MemBox>,
    limits: &Limits,
    ctx: &Ctx,
) -> Result<Vec<SampleEntry>, DemuxError> {
    let Some(stsd) = stsd else {
        return Ok(Vec::new());
    };
    let mut f = stsd.fields(ctx);
    f.full_header()?;
    let n = f.count(8, limits.max_sample_entries, "sample entries")?;
    let mut kids = stsd.children(8);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let Some(b) = kids.next_box(ctx)? else {
            return Err(ctx.malformed(
                stsd.header.offset,
                format!("stsd says {n} entries but holds {i}"),
            ));
        };
        let ectx = ctx.child(format_args!("{}[{i}]", b.header.kind));
        let codec = parse_entry(&b, &ectx)?;
        out.push(SampleEntry {
            // A copy, so the moov buffer is freed once parsing ends.
            raw: bytes::Bytes::copy_from_slice(&b.raw),
            format: b.header.kind,
            codec,
        });
    }
    Ok(out)
}

fn codec_err(ctx: &Ctx, offset: u64, e: CodecError) -> DemuxError {
    match e {
        CodecError::Malformed { .. } => ctx.malformed(offset, e.to_string()),
        CodecError::Unsupported { .. } => ctx.unsupported(offset, e.to_string()),
    }
}

const VISUAL: [&[u8; 4]; 12] = [
    b"avc1", b"avc2", b"avc3", b"avc4", b"hvc1", b"hev1", b"mp4v", b"av01", b"vp09", b"vp08",
    b"dvh1", b"dvhe",
];

fn parse_entry(b: &MemBox, ctx: &Ctx) -> Result<CodecConfig, DemuxError> {
    let kind = b.header.kind;
    if VISUAL.contains(&&kind.0) {
        // SampleEntry (6 reserved, data_reference_index) then VisualSampleEntry fields.
        let mut f = b.fields(ctx);
        f.skip(8 + 16)?;
        let width = f.u16()?;
        let height = f.u16()?;
        f.skip(50)?;
        let children_at = 78;
        if &kind.0 == b"avc1" || &kind.0 == b"avc3" {
            let mut config = None;
            let mut kids = b.children(children_at);
            while let Some(c) = kids.next_box(ctx)? {
                if &c.header.kind.0 == b"avcC" {
                    let cctx = ctx.child("avcC");
                    config = Some(
                        h264::AvcDecoderConfig::parse(&c.body())
                            .map_err(|e| codec_err(&cctx, c.body_offset(), e))?,
                    );
                }
            }
            if config.is_none() && &kind.0 == b"avc1" {
                return Err(ctx.malformed(b.header.offset, "avc1 entry without avcC"));
            }
            return Ok(CodecConfig::H264 {
                width,
                height,
                config,
            });
        }
        return Ok(CodecConfig::Video { width, height });
    }
    if &kind.0 == b"mp4a" || is_audio_fourcc(kind) {
        let mut f = b.fields(ctx);
        f.skip(8)?;
        // AudioSampleEntry; QuickTime reuses the reserved words as version and revision.
        let version = f.u16()?;
        f.skip(6)?;
        let mut channels = f.u16()?;
        f.skip(6)?;
        let mut sample_rate = f.u32()? >> 16;
        let mut children_at = 28;
        match version {
            0 => {}
            1 => children_at += 16,
            2 => {
                // QuickTime v2: sizeOfStructOnly, audioSampleRate (f64), numAudioChannels...
                f.skip(4)?;
                let rate = f64::from_bits(f.u64()?);
                let ch = f.u32()?;
                children_at += 36;
                if rate.is_finite() && rate >= 1.0 && rate <= f64::from(u32::MAX) {
                    sample_rate = rate as u32;
                }
                channels = u16::try_from(ch).unwrap_or(u16::MAX);
            }
            v => {
                return Err(
                    ctx.unsupported(b.header.offset, format!("sound description version {v}"))
                )
            }
        }
        if &kind.0 == b"mp4a" {
            if let Some((esds, at)) = find_esds(b, children_at, ctx)? {
                let ectx = ctx.child("esds");
                let es = aac::parse_esds(esds.get(4..).unwrap_or_default())
                    .map_err(|e| codec_err(&ectx, at, e))?;
                if es.object_type_indication == 0x40 {
                    let Some(dsi) = es.decoder_specific_info else {
                        return Err(ectx.malformed(at, "AAC without an AudioSpecificConfig"));
                    };
                    let config = aac::AudioSpecificConfig::parse(&dsi)
                        .map_err(|e| codec_err(&ectx, at, e))?;
                    return Ok(CodecConfig::Aac {
                        channels,
                        sample_rate,
                        config,
                    });
                }
            }
        }
        return Ok(CodecConfig::Audio {
            channels,
            sample_rate,
        });
    }
    Ok(CodecConfig::Other)
}

fn is_audio_fourcc(kind: FourCC) -> bool {
    matches!(
        &kind.0,
        b"Opus"
            | b"fLaC"
            | b"ac-3"
            | b"ec-3"
            | b"alaw"
            | b"ulaw"
            | b"sowt"
            | b"twos"
            | b"lpcm"
            | b".mp3"
    )
}

/// Finds the esds box among the entry's children, or inside a QuickTime `wave` box.
fn find_esds(
    b: &MemBox,
    children_at: usize,
    ctx: &Ctx,
) -> Result<Option<(bytes::Bytes, u64)>, DemuxError> {
    let mut kids = b.children(children_at);
    while let Some(c) = kids.next_box(ctx)? {
        match &c.header.kind.0 {
            b"esds" => return Ok(Some((c.body(), c.body_offset()))),
            b"wave" => {
                let wctx = ctx.child("wave");
                let mut inner = c.children(0);
                while let Some(w) = inner.next_box(&wctx)? {
                    if &w.header.kind.0 == b"esds" {
                        return Ok(Some((w.body(), w.body_offset())));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}
