//! seam stitches video recording fragments into one file, copying every sample bit-exact.
//!
//! Data flows one way: **demux → model → plan → mux**.
//!
//! * [`mod@demux`] reads an input's metadata into a [`model::Media`]: tracks whose samples reference byte
//!   ranges of the input file.
//! * [`mod@plan`] checks that the inputs can be joined, lays them on one timeline and decides, sample by
//!   sample, what the output holds ([`plan::StitchPlan`]).
//! * [`mux`] writes the plan: header boxes it builds plus byte ranges copied from the inputs.
//! * [`transcode`] is the side path the plan calls when bytes must be made rather than copied
//!   (today: silent AAC frames for spans where a fragment has no audio).
//!
//! The [`api`] functions wrap the whole flow: [`probe`], [`plan()`] and [`stitch`].
#![warn(missing_docs)]

pub mod api;
mod api_out;
pub mod api_split;
pub mod batch;
pub mod codec;
pub mod demux;
pub mod error;
pub mod limits;
mod mem;
pub mod model;
pub mod mux;
pub mod plan;
pub mod session;
pub mod source;
pub mod time;
pub mod transcode;

#[doc(hidden)]
pub mod cli;

pub use api::{
    plan, probe, probe_source, stitch, stitch_sources, stitch_with_progress, JoinReport,
    JoinTrackReport, OutputFormat, StitchOptions, StitchReport,
};
pub use error::{Error, Location};
pub use limits::Limits;
