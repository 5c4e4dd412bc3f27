//! Writing the per-sample encryption data of encrypted tracks (ISO/IEC 23001-7): `senc` (§7.2) in
//! each `traf` of fragmented output, and `saiz`/`saio` (ISO/IEC 14496-12 §8.7.8, §8.7.9) saying
//! where each sample's entry is: in the mdat for progressive output, in the `senc` for fragments
//! (as ffmpeg and shaka-packager write them). The entries themselves are the inputs' bytes.

use super::boxes::BoxWriter;
use crate::error::MuxError;
use crate::plan::OutEncryption;

/// senc flag: entries carry subsample maps (§7.2.1).
const SUBSAMPLES: u32 = 0x2;

/// Entry sizes of samples `range`: one default size when they are all equal, else each (a saiz
/// size is one byte, so a longer entry cannot be described).
fn sizes(
    enc: &OutEncryption,
    range: std::ops::Range<usize>,
) -> Result<(u8, Option<Vec<u8>>), MuxError> {
    let mut all = Vec::with_capacity(range.len());
    for z in enc.aux.sizes().skip(range.start).take(range.len()) {
        all.push(u8::try_from(z).map_err(|_| {
            MuxError::TooLarge(format!(
                "a sample's encryption data of {z} bytes (more than 255 subsample bytes) cannot be described by saiz"
            ))
        })?);
    }
    match all.first() {
        Some(&d) if d > 0 && all.iter().all(|&z| z == d) => Ok((d, None)),
        _ => Ok((0, Some(all))),
    }
}

/// Writes `saiz` for samples `range` (its aux_info_type is the scheme's: flags 0).
pub(crate) fn saiz(
    w: &mut BoxWriter,
    enc: &OutEncryption,
    range: std::ops::Range<usize>,
) -> Result<(), MuxError> {
    let n = u32::try_from(range.len())
        .map_err(|_| MuxError::TooLarge("more than 2^32-1 samples in saiz".into()))?;
    let (default, each) = sizes(enc, range)?;
    w.start_full(b"saiz", 0, 0);
    w.bytes(&[default]);
    w.u32(n);
    if let Some(each) = each {
        w.bytes(&each);
    }
    w.end();
    Ok(())
}

/// Writes `saio` with one offset (every entry stored together) and returns where that offset
/// field is in `w`, for the caller to fill in. 64-bit offsets when `wide`.
pub(crate) fn saio(w: &mut BoxWriter, offset: u64, wide: bool) -> Result<usize, MuxError> {
    w.start_full(b"saio", u8::from(wide), 0);
    w.u32(1);
    let at = w.buf.len();
    if wide {
        w.u64(offset);
    } else {
        w.u32(u32::try_from(offset).map_err(|_| {
            MuxError::TooLarge("sample auxiliary information offset needs 64 bits".into())
        })?);
    }
    w.end();
    Ok(at)
}

/// Writes `senc` for samples `range` and returns where its first entry starts in `w`.
pub(crate) fn senc(
    w: &mut BoxWriter,
    enc: &OutEncryption,
    range: std::ops::Range<usize>,
) -> Result<usize, MuxError> {
    let flags = if enc.subsamples { SUBSAMPLES } else { 0 };
    w.start_full(b"senc", 0, flags);
    w.u32(
        u32::try_from(range.len())
            .map_err(|_| MuxError::TooLarge("more than 2^32-1 samples in senc".into()))?,
    );
    let at = w.buf.len();
    w.bytes(enc.aux.range_bytes(range));
    w.end();
    Ok(at)
}

/// Bytes the boxes of this module add to a progressive track's stbl, at most.
pub(crate) fn stbl_bytes(enc: Option<&OutEncryption>) -> usize {
    enc.map_or(0, |e| 64 + e.aux.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AuxColumn;

    fn enc(entries: &[&[u8]]) -> OutEncryption {
        let mut aux = AuxColumn::new();
        for e in entries {
            aux.push(e).expect("room");
        }
        OutEncryption {
            iv_size: 8,
            subsamples: false,
            aux,
        }
    }

    #[test]
    fn saiz_uses_a_default_size_when_it_can() {
        let e = enc(&[&[1; 8], &[2; 8], &[3; 8]]);
        let mut w = BoxWriter::new();
        saiz(&mut w, &e, 0..3).expect("fits");
        assert_eq!(
            w.into_inner(),
            [&[0, 0, 0, 17][..], b"saiz", &[0, 0, 0, 0, 8, 0, 0, 0, 3]].concat()
        );
        let e = enc(&[&[1; 8], &[2; 16], &[3; 8]]);
        let mut w = BoxWriter::new();
        saiz(&mut w, &e, 1..3).expect("fits");
        let body: &[u8] = &[0, 0, 0, 0, 0, 0, 0, 0, 2, 16, 8];
        assert_eq!(w.into_inner(), [&[0, 0, 0, 19][..], b"saiz", body].concat());
        let e = enc(&[&[0; 300]]);
        assert!(saiz(&mut BoxWriter::new(), &e, 0..1).is_err());
    }

    #[test]
    fn senc_holds_the_range_and_says_where() {
        let e = enc(&[&[1; 8], &[2; 8], &[3; 8]]);
        let mut w = BoxWriter::new();
        let at = senc(&mut w, &e, 1..3).expect("fits");
        let b = w.into_inner();
        assert_eq!(at, 16);
        assert_eq!(&b[at..], [[2u8; 8], [3u8; 8]].concat());
        assert_eq!(&b[8..12], &[0, 0, 0, 0]);
    }
}
