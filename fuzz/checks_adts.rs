//! The `adts_demux` property (a submodule of `checks.rs`, so the fuzz target and
//! `tests/fuzz_replay.rs` share it like the others).

use seam::codec::aac;
use seam::source::MemSource;
use seam::Limits;

use super::check_error;

/// Display name of a fuzzed ADTS input.
pub const ADTS_NAME: &str = "fuzz.aac";

/// `adts_demux`: `demux::adts::open` (1 MiB window) and `open_with_window` with windows of 7 and
/// 4096 bytes and one of 1 to 32 bytes (from the last input byte) give the same result, so reading
/// in chunks never changes what is found; errors are located (`fuzz.aac: ... at byte N`) and never
/// `Io`; when Ok: at least one frame, frames strictly after one another (header offsets
/// increasing, no overlap) and inside the input, each starting with a header that parses to its
/// header length and size with the first frame's configuration and that `codec::framing` splits the
/// same way; tags (HLS timestamps of 33 bits) and warnings inside the input; duration is 1024
/// ticks per frame at the header's sample rate.
pub fn adts_demux(data: &[u8]) {
    use seam::codec::framing::adts_frames;
    use seam::demux::adts::{self, AdtsWarning};
    let src = MemSource::new(ADTS_NAME.to_string(), data.to_vec());
    let limits = Limits::default();
    let full = adts::open(&src, &limits);
    let small = 1 + usize::from(data.last().copied().unwrap_or(0) % 32);
    for w in [small, 7, 4096] {
        let other = adts::open_with_window(&src, &limits, w);
        match (&full, &other) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "window {w} gives another result"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "window {w}"),
            _ => panic!("window {w}: {full:?} vs {other:?}"),
        }
    }
    let _ = adts::sniff(data);
    let m = match full {
        Err(e) => {
            check_error(ADTS_NAME, &e);
            return;
        }
        Ok(m) => m,
    };
    let len = data.len() as u64;
    assert!(!m.frames.is_empty(), "Ok without frames");
    assert!(m.timescale() > 0, "timescale 0");
    assert_eq!(m.duration(), m.frames.len() as u64 * 1024, "duration");
    assert_eq!(m.config.sampling_frequency, m.timescale());
    let mut prev_end = 0u64;
    for (i, f) in m.frames.iter().enumerate() {
        assert!(
            matches!(f.header_len, 7 | 9),
            "frame {i}: header {}",
            f.header_len
        );
        assert!(f.size > 0, "frame {i}: empty");
        assert!(
            f.start() >= prev_end,
            "frame {i} at {} overlaps the previous one",
            f.start()
        );
        assert!(
            f.end() <= len,
            "frame {i}: {}+{} outside the {len}-byte input",
            f.offset,
            f.size
        );
        prev_end = f.end();
        let bytes = &data[f.start() as usize..f.end() as usize];
        let h = aac::AdtsHeader::parse(bytes).unwrap_or_else(|e| panic!("frame {i}: {e}"));
        assert_eq!(h.header_len, f.header_len, "frame {i}: header length");
        assert_eq!(u32::from(h.frame_length), u32::from(f.header_len) + f.size);
        let first = &m.header;
        assert_eq!(
            (
                h.profile,
                h.sampling_frequency_index,
                h.channel_configuration
            ),
            (
                first.profile,
                first.sampling_frequency_index,
                first.channel_configuration
            ),
            "frame {i}: configuration"
        );
        let split = adts_frames(bytes).unwrap_or_else(|e| panic!("frame {i}: framing: {e}"));
        assert_eq!(split.len(), 1, "frame {i}: framing splits it");
        assert_eq!(split[0].payload.start, usize::from(f.header_len));
    }
    assert_eq!(m.end, prev_end, "end");
    for t in &m.tags {
        assert!(
            t.offset.checked_add(t.len).is_some_and(|e| e <= len),
            "tag {t:?} outside"
        );
        assert!(
            t.timestamp.is_none_or(|v| v < 1 << 33),
            "tag {t:?}: timestamp beyond 33 bits"
        );
    }
    for w in &m.warnings {
        match w {
            AdtsWarning::Skipped { offset, len: n } => {
                assert!(*n > 0 && offset + n <= len, "{w}")
            }
            AdtsWarning::TruncatedFrame { offset, .. } => assert!(*offset < len, "{w}"),
        }
    }
}
