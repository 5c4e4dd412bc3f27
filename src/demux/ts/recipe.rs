//! How the second pass over a transport stream ([`super::view::TsView`]) builds each MP4 sample
//! without looking for start codes again: the first pass records, per access unit, which byte
//! ranges of its payload make the sample ("recipes").
//!
//! A recipe is a few bytes: the payload ranges of the NAL units kept (each written after a 4-byte
//! length) or of the raw AAC frame, as LEB128 gaps and lengths. An ordinary video access unit
//! (a delimiter and one slice) takes about 6 bytes, an AAC frame 4. An access unit of many NAL
//! units (more than [`MAX_RANGES`]) is not worth recording: its recipe says "convert again", and
//! the second pass scans it as the first did; so does one past the budget of [`BUDGET`] bytes
//! per access unit on average. So the recipes of a file take at most `BUDGET` bytes per access
//! unit it holds (those left out included), whatever the input.

use std::io;
use std::ops::Range;

use crate::codec::framing::{
    adts_to_raw, annexb_to_length_prefixed, length_prefixed_size, scan_annexb, Mp4Nals, NalCodec,
};

/// The NAL units of one access unit a recipe lists at most.
pub(super) const MAX_RANGES: usize = 16;

/// Bytes of the length written before each NAL unit of an MP4 sample.
pub(super) const LENGTH_SIZE: u8 = 4;

/// What a selected stream becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Video(NalCodec),
    Aac,
}

fn mp4_nals(codec: NalCodec) -> Mp4Nals {
    Mp4Nals {
        codec,
        length_size: LENGTH_SIZE,
        drop_aud_filler: true,
    }
}

/// The size of one access unit in its MP4 sample form, appended to `out` when given; an error
/// (the reason) when it cannot be converted (damaged beyond framing), in which case both passes
/// leave it out. With `recipe`, its recipe is appended there (nothing on an error: the caller
/// records [`left_out`]).
pub(super) fn convert(
    kind: Kind,
    au: &[u8],
    out: Option<&mut Vec<u8>>,
    recipe: Option<&mut Vec<u8>>,
) -> Result<usize, String> {
    match kind {
        Kind::Video(codec) => {
            let layout = scan_annexb(au).map_err(|e| e.to_string())?;
            let opts = mp4_nals(codec);
            let size = length_prefixed_size(&layout, &opts).map_err(|e| e.to_string())?;
            if size == 0 {
                return Err("access unit holds no NAL unit besides delimiters".into());
            }
            if let Some(out) = out {
                annexb_to_length_prefixed(au, &layout, &opts, out).map_err(|e| e.to_string())?;
            }
            if let Some(recipe) = recipe {
                let kept = layout
                    .units
                    .iter()
                    .filter(|u| !codec.is_aud_or_filler(codec.nal_type(u.header)));
                write_ranges(recipe, kept.map(|u| u.range.clone()));
            }
            Ok(size)
        }
        Kind::Aac => {
            let (_, raw) = adts_to_raw(au).map_err(|e| e.to_string())?;
            // `raw` is a slice of `au`: where it starts is a difference of addresses.
            let start = (raw.as_ptr() as usize).wrapping_sub(au.as_ptr() as usize);
            if let Some(out) = out {
                out.extend_from_slice(raw);
            }
            if let Some(recipe) = recipe {
                write_ranges(recipe, std::iter::once(start..start + raw.len()));
            }
            Ok(raw.len())
        }
    }
}

/// Average recipe bytes per access unit a file may use (ordinary ones take 4 to 6): past it, an
/// access unit's recipe becomes "convert again" ([`over_budget`]), so a hostile stream of access
/// units made of many tiny NAL units costs at most this per access unit, not [`MAX_RANGES`] ranges.
pub(super) const BUDGET: usize = 16;

/// Replaces the recipe just written from `at` on by "convert again" when the recipes exceed
/// [`BUDGET`] bytes per recorded access unit (`entries`, this one included).
pub(super) fn over_budget(recipe: &mut Vec<u8>, at: usize, entries: usize) {
    if recipe.len() > BUDGET.saturating_mul(entries) && recipe.len() > at + 1 {
        recipe.truncate(at);
        push_varint(recipe, 1);
    }
}

/// Records an access unit both passes leave out.
pub(super) fn left_out(recipe: &mut Vec<u8>) {
    push_varint(recipe, 0);
}

/// Records `ranges` (increasing, not overlapping), or "convert again" when there are too many.
fn write_ranges(recipe: &mut Vec<u8>, ranges: impl Iterator<Item = Range<usize>> + Clone) {
    let n = ranges.clone().count();
    if n > MAX_RANGES {
        push_varint(recipe, 1);
        return;
    }
    push_varint(recipe, n as u64 + 2);
    let mut end = 0usize;
    for r in ranges {
        push_varint(recipe, r.start.saturating_sub(end) as u64);
        push_varint(recipe, r.len() as u64);
        end = r.end;
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

/// One access unit's recipe, as read back.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// Left out by the first pass.
    LeftOut,
    /// Scan and convert the payload again.
    Convert,
    /// This many payload ranges follow ([`Recipes::range`]).
    Ranges(usize),
}

/// Reads recipes back in order.
pub(super) struct Recipes<'a> {
    data: &'a [u8],
    at: usize,
    /// Payload offset where the previous range ended.
    end: u64,
}

fn out_of_step() -> io::Error {
    io::Error::other("TS view out of step with its first pass")
}

impl<'a> Recipes<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Recipes {
            data,
            at: 0,
            end: 0,
        }
    }

    fn varint(&mut self) -> io::Result<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.data.get(self.at).ok_or_else(out_of_step)?;
            self.at += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(out_of_step())
    }

    /// The next access unit's entry.
    pub(super) fn entry(&mut self) -> io::Result<Entry> {
        self.end = 0;
        Ok(match self.varint()? {
            0 => Entry::LeftOut,
            1 => Entry::Convert,
            n => Entry::Ranges(usize::try_from(n - 2).map_err(|_| out_of_step())?),
        })
    }

    /// The next range of the current entry (payload offsets).
    pub(super) fn range(&mut self) -> io::Result<Range<u64>> {
        let start = self
            .end
            .checked_add(self.varint()?)
            .ok_or_else(out_of_step)?;
        let end = start.checked_add(self.varint()?).ok_or_else(out_of_step)?;
        self.end = end;
        Ok(start..end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds the sample from a recipe the way the second pass does, from a flat payload.
    fn replay(kind: Kind, au: &[u8], recipe: &[u8]) -> Option<Vec<u8>> {
        let mut r = Recipes::new(recipe);
        let mut out = Vec::new();
        match r.entry().ok()? {
            Entry::LeftOut => return None,
            Entry::Convert => {
                convert(kind, au, Some(&mut out), None).ok()?;
            }
            Entry::Ranges(n) => {
                for _ in 0..n {
                    let g = r.range().ok()?;
                    let bytes = &au[g.start as usize..g.end as usize];
                    if matches!(kind, Kind::Video(_)) {
                        out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
                    }
                    out.extend_from_slice(bytes);
                }
            }
        }
        assert_eq!(r.at, recipe.len(), "one entry, read to its end");
        Some(out)
    }

    fn record(kind: Kind, au: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let mut direct = Vec::new();
        let mut recipe = Vec::new();
        match convert(kind, au, Some(&mut direct), Some(&mut recipe)) {
            Ok(size) => assert_eq!(size, direct.len()),
            Err(_) => left_out(&mut recipe),
        }
        (direct, recipe)
    }

    #[test]
    fn recipes_rebuild_the_converted_samples() {
        let video = Kind::Video(NalCodec::H264);
        // AUD, SPS, PPS, SEI, a slice with trailing zeros, 3- and 4-byte start codes.
        let au = [
            &[0, 0, 0, 1, 0x09, 0xf0][..],
            &[0, 0, 0, 1, 0x67, 0x42, 0x00, 0x1e][..],
            &[0, 0, 1, 0x68, 0xce, 0x38, 0x80][..],
            &[0, 0, 1, 0x06, 0x05, 0x01, 0xff, 0x80][..],
            &[
                0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x00, 0x03, 0x01, 0x20, 0, 0,
            ][..],
        ]
        .concat();
        let (direct, recipe) = record(video, &au);
        assert_eq!(replay(video, &au, &recipe), Some(direct));
        assert!(recipe.len() <= 10, "{} bytes", recipe.len());

        // Many NAL units: "convert again".
        let many: Vec<u8> = (0..MAX_RANGES + 1)
            .flat_map(|k| [0, 0, 1, 0x01, k as u8 + 1])
            .collect();
        let (direct, recipe) = record(video, &many);
        assert_eq!(recipe, [1]);
        assert_eq!(replay(video, &many, &recipe), Some(direct));

        // Damaged: left out.
        let (_, recipe) = record(video, &[0, 0, 1, 0x65, 0, 0, 2, 7]);
        assert_eq!(recipe, [0]);
        assert_eq!(replay(video, &[], &recipe), None);

        // ADTS, without and with CRC.
        for crc in [false, true] {
            let payload = [0x21u8, 0x10, 0x05, 0x00, 0xa0, 0x19, 0x33];
            let header_len = if crc { 9 } else { 7 };
            let len = header_len + payload.len();
            let mut frame = vec![
                0xff,
                if crc { 0xf0 } else { 0xf1 },
                0x50,
                0x80 | ((len >> 11) as u8 & 3),
                (len >> 3) as u8,
                ((len as u8 & 7) << 5) | 0x1f,
                0xfc,
            ];
            if crc {
                frame.extend_from_slice(&[0x12, 0x34]);
            }
            frame.extend_from_slice(&payload);
            let (direct, recipe) = record(Kind::Aac, &frame);
            assert_eq!(direct, payload);
            assert_eq!(replay(Kind::Aac, &frame, &recipe), Some(direct));
        }
    }

    #[test]
    fn recipes_stay_within_their_budget() {
        let video = Kind::Video(NalCodec::H264);
        // MAX_RANGES NAL units of 1 byte: ~33 recipe bytes each, over the budget.
        let au: Vec<u8> = (0..MAX_RANGES)
            .flat_map(|k| [0, 0, 1, 0x01, k as u8 + 1])
            .collect();
        let mut recipe = Vec::new();
        for entries in 1..=100 {
            let at = recipe.len();
            convert(video, &au, None, Some(&mut recipe)).unwrap();
            over_budget(&mut recipe, at, entries);
            assert!(recipe.len() <= BUDGET * entries, "{} bytes", recipe.len());
        }
        // And every entry still reads back.
        let mut r = Recipes::new(&recipe);
        for _ in 0..100 {
            if let Entry::Ranges(n) = r.entry().unwrap() {
                for _ in 0..n {
                    r.range().unwrap();
                }
            }
        }
        assert_eq!(r.at, recipe.len());
    }

    #[test]
    fn varints_round_trip_and_truncation_is_an_error() {
        let mut v = Vec::new();
        for x in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            push_varint(&mut v, x);
        }
        let mut r = Recipes::new(&v);
        for x in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            assert_eq!(r.varint().unwrap(), x);
        }
        assert!(r.varint().is_err());
        assert!(Recipes::new(&[0x80]).varint().is_err());
    }
}
