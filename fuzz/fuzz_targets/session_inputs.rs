//! Fuzz target `session_inputs`: the property lives in `fuzz/checks.rs`, shared with
//! `tests/fuzz_replay.rs`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::session_inputs(data));
