//! Several AAC frames in one PES packet (opt-in, [`super::TsMuxOptions::audio_frames_per_pes`]).
//!
//! A PES header carries one PTS, that of the first access unit starting in the packet
//! (ISO/IEC 13818-1 §2.4.3.7); readers give each following ADTS frame the previous one's PTS
//! plus one frame, 1024 samples rounded to 90 kHz ticks (seam's demuxer and ffmpeg's parser
//! both do). So a frame joins the pending packet only when its PTS is exactly that, and every
//! frame's PTS survives. The packet is written when it holds the set number of frames, when a
//! frame cannot join, or at the end; its frames never span more than half the mux delay, so the
//! packet still reaches the decoder before its first frame is due.

use crate::codec::aac::AdtsHeader;

/// Frames waiting for their PES packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    /// PTS and DTS of the first frame.
    pub pts: i64,
    /// DTS of the first frame.
    pub dts: i64,
    /// The PTS a reader gives the next frame.
    next_pts: i64,
    /// Frames held.
    pub frames: usize,
    /// The first frame's keyframe flag (the packet's `random_access_indicator`).
    pub key: bool,
    /// The ADTS frames, one after another.
    pub bytes: Vec<u8>,
}

/// Largest payload of a bundled PES packet: its `PES_packet_length` (16 bits) must count it
/// and the 8 bytes of header after the length field with a PTS (§2.4.3.7).
const MAX_PAYLOAD: usize = 65_535 - 8;

/// One frame's duration as readers interpolate it, from its ADTS header: 1024 samples at the
/// header's sampling frequency, rounded to the nearest 90 kHz tick. `None` when the header does
/// not say (then the frame never joins a packet).
pub fn frame_ticks(frame: &[u8]) -> Option<i64> {
    let h = AdtsHeader::parse(frame).ok()?;
    let rate = i64::from(h.to_audio_specific_config().sampling_frequency);
    if rate == 0 {
        return None;
    }
    Some((1024 * 90_000 + rate / 2) / rate)
}

impl Pending {
    /// A packet starting with `frame`. Without a known duration `next_pts` stays `pts`, which
    /// no later frame has (its DTS, and so its PTS, is above): nothing joins.
    pub fn new(pts: i64, dts: i64, key: bool, frame: &[u8], ticks: Option<i64>) -> Self {
        Pending {
            pts,
            dts,
            next_pts: ticks.map_or(pts, |t| pts.saturating_add(t)),
            frames: 1,
            key,
            bytes: frame.to_vec(),
        }
    }

    /// Whether a frame can join: its PTS is the interpolated one, it is not a decode-reordered
    /// frame (PTS = DTS), the packet is below `max_frames` and `max_bytes`, and the packet's
    /// frames stay within `max_span` ticks.
    pub fn accepts(
        &self,
        pts: i64,
        dts: i64,
        len: usize,
        max_frames: usize,
        max_span: i64,
    ) -> bool {
        pts == self.next_pts
            && pts == dts
            && self.frames < max_frames
            && self.bytes.len().saturating_add(len) <= MAX_PAYLOAD
            && dts.saturating_sub(self.dts) <= max_span
    }

    /// Adds a frame that [`Pending::accepts`].
    pub fn push(&mut self, pts: i64, frame: &[u8], ticks: Option<i64>) {
        self.bytes.extend_from_slice(frame);
        self.frames = self.frames.saturating_add(1);
        self.next_pts = ticks.map_or(pts, |t| pts.saturating_add(t));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::aac::AudioSpecificConfig;
    use crate::codec::framing::AdtsTemplate;

    fn frame(asc: &[u8]) -> Vec<u8> {
        let c = AudioSpecificConfig::parse(asc).expect("ASC");
        let mut out = Vec::new();
        AdtsTemplate::from_asc(&c)
            .expect("template")
            .write(&[1, 2, 3], &mut out)
            .expect("frame");
        out
    }

    #[test]
    fn durations() {
        // 48 kHz: 1920 ticks exactly; 44.1 kHz: 2089.8 rounds to 2090.
        assert_eq!(frame_ticks(&frame(&[0x11, 0x90])), Some(1920));
        assert_eq!(frame_ticks(&frame(&[0x12, 0x10])), Some(2090));
        assert_eq!(frame_ticks(&[0, 1, 2]), None);
    }

    #[test]
    fn joining() {
        let f = frame(&[0x11, 0x90]);
        let t = frame_ticks(&f);
        let mut p = Pending::new(1000, 1000, true, &f, t);
        assert!(p.accepts(2920, 2920, f.len(), 3, 90_000));
        assert!(
            !p.accepts(2921, 2921, f.len(), 3, 90_000),
            "not the interpolated PTS"
        );
        assert!(!p.accepts(2920, 2900, f.len(), 3, 90_000), "PTS ≠ DTS");
        assert!(!p.accepts(2920, 2920, f.len(), 1, 90_000), "full");
        assert!(!p.accepts(2920, 2920, f.len(), 3, 1000), "span");
        assert!(
            !p.accepts(2920, 2920, MAX_PAYLOAD, 3, 90_000),
            "PES_packet_length"
        );
        p.push(2920, &f, t);
        assert_eq!((p.frames, p.bytes.len()), (2, 2 * f.len()));
        assert!(p.accepts(4840, 4840, f.len(), 3, 90_000));
        // Unknown duration: nothing joins.
        let q = Pending::new(1000, 1000, true, &f, None);
        assert!(!q.accepts(1000 + 1920, 1000 + 1920, f.len(), 3, 90_000));
    }
}
