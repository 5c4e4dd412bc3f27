//! [`super::TimelineOptions`]: inputs at explicit origins (gaps held) and windows spanning all
//! tracks, on the session fixtures (`fixtures/make_sessions.sh`).

use super::{plan, plan_timeline, PlanOptions, TimelineOptions};
use crate::model::{Media, TrackKind};
use crate::time::Ts;

fn open(name: &str) -> Media {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/sessions")
        .join(name);
    crate::demux::open_path(&p, &crate::Limits::default()).expect("fixture")
}

#[test]
fn origins_hold_the_gap_and_default_lays_end_to_end() {
    let inputs = [open("v1.mp4"), open("v2.mp4")];
    let opts = PlanOptions::default();
    // Back to back: 8 s; the same through plan_timeline with default options.
    let a = plan(&inputs, &opts).expect("plan");
    let b = plan_timeline(&inputs, &opts, &TimelineOptions::default()).expect("plan");
    assert_eq!(a.duration, 8 * u64::from(a.movie_timescale));
    assert_eq!(b.duration, a.duration);
    // v2 at 7.5 s of the same clock (origins need not start at 0): its window starts there, and
    // v1's last decoded frame lasts until v2's first decode time (3.54 s: 7.5 - 3.96).
    let timeline = TimelineOptions {
        whole_inputs: true,
        origins: Some(vec![Ts::new(1_000_000, 1000), Ts::new(1_007_500, 1000)]),
    };
    let p = plan_timeline(&inputs, &opts, &timeline).expect("plan");
    let ms = u64::from(p.movie_timescale);
    assert_eq!(p.duration, 115 * ms / 10);
    assert_eq!(p.input_starts, vec![0, 75 * ms / 10]);
    let v = &p.tracks[0];
    assert_eq!(v.kind, TrackKind::Video);
    let held = v.samples.get(99).expect("v1's last");
    assert_eq!(u64::from(held.duration) * 100, 354 * u64::from(v.timescale));
    // Decreasing origins are refused.
    let back = TimelineOptions {
        whole_inputs: true,
        origins: Some(vec![Ts::new(10, 1), Ts::new(5, 1)]),
    };
    let e = plan_timeline(&inputs, &opts, &back).expect_err("refused");
    assert!(
        e.to_string().contains("starts before the previous input"),
        "{e}"
    );
    let short = TimelineOptions {
        whole_inputs: true,
        origins: Some(vec![Ts::new(0, 1)]),
    };
    assert!(plan_timeline(&inputs, &opts, &short).is_err());
}

#[test]
fn whole_input_windows_keep_audio_before_the_video() {
    // One input whose audio starts 0.5 s before its video: with video windows the audio before
    // the first frame is cut; with whole-input windows the output starts with the audio.
    let mut m = open("v2.mp4");
    let a = open("a2.m4a");
    let mut at = a.tracks[0].clone();
    let v = &mut m.tracks[0];
    // The video 0.5 s late (an empty edit of 500 movie ticks); the audio from the M4A. The
    // audio's bytes are not read by planning.
    v.edits.insert(
        0,
        crate::model::Edit {
            segment_duration: 500,
            media_time: -1,
            media_rate: 0x10000,
        },
    );
    at.edits.iter_mut().for_each(|e| {
        e.segment_duration = crate::time::rescale(
            e.segment_duration as i64,
            u64::from(a.movie_timescale),
            u64::from(m.movie_timescale),
            crate::time::Rounding::Nearest,
        )
        .unwrap_or(0) as u64
    });
    m.tracks.push(at);
    let opts = PlanOptions::default();
    let video_window = plan(std::slice::from_ref(&m), &opts).expect("plan");
    let whole = plan_timeline(
        std::slice::from_ref(&m),
        &opts,
        &TimelineOptions {
            whole_inputs: true,
            origins: None,
        },
    )
    .expect("plan");
    let ms = u64::from(whole.movie_timescale);
    assert_eq!(video_window.duration, 4 * ms);
    assert_eq!(whole.duration, 45 * ms / 10);
    // The video starts after an empty edit of 0.5 s; the audio at 0.
    let v = &whole.tracks[0];
    assert_eq!(v.edits[0].media_time, -1);
    assert_eq!(v.edits[0].segment_duration, ms / 2);
    let a = &whole.tracks[1];
    assert_ne!(a.edits[0].media_time, -1);
    assert_eq!(whole.joins[0].audio_error(), Some(0));
}
