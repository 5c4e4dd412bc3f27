//! Muxers: a [`StitchPlan`] in, an output file out.
//!
//! A muxer first turns the plan into a [`Layout`]: a list of [`Slice`]s, each either header bytes it
//! built or a byte range of an input, whose sizes are all known before anything is written (the
//! design of moonfire-nvr's `mp4.rs`). Writing is then a loop over slices; adjacent input ranges are
//! merged so sample data moves in a few large copies, done by the kernel when both ends are files.

pub mod hls;
pub mod mp4;
pub mod output;
pub mod ts;

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

use crate::plan::StitchPlan;
use crate::source::{InputChanged, Source};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Asks running muxers to stop at the next slice boundary (called from a signal handler).
pub fn request_interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// True once [`request_interrupt`] was called.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// One piece of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slice {
    /// Bytes seam built (headers, generated frames).
    Bytes(Bytes),
    /// `len` bytes at `offset` of input `input`.
    Input {
        /// Index into [`StitchPlan::inputs`].
        input: u32,
        /// Offset in that input.
        offset: u64,
        /// Length.
        len: u64,
    },
}

impl Slice {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Slice::Bytes(b) => b.len() as u64,
            Slice::Input { len, .. } => *len,
        }
    }

    /// True for an empty slice.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The whole output as slices.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// The slices in output order.
    pub slices: Vec<Slice>,
}

impl Layout {
    /// Appends a slice, merging it with the previous one when both are adjacent ranges of one input.
    pub fn push(&mut self, s: Slice) {
        if s.is_empty() {
            return;
        }
        if let (
            Some(Slice::Input {
                input: pi,
                offset: po,
                len: pl,
            }),
            Slice::Input { input, offset, len },
        ) = (self.slices.last_mut(), &s)
        {
            if *pi == *input && *po + *pl == *offset {
                *pl += len;
                return;
            }
        }
        self.slices.push(s);
    }

    /// Total length.
    pub fn len(&self) -> u64 {
        self.slices.iter().map(Slice::len).sum()
    }

    /// True when there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of copies from inputs.
    pub fn input_runs(&self) -> usize {
        self.slices
            .iter()
            .filter(|s| matches!(s, Slice::Input { .. }))
            .count()
    }
}

/// Where output bytes go.
pub trait Sink {
    /// Appends bytes.
    fn write_bytes(&mut self, b: &[u8]) -> io::Result<()>;
    /// Appends `len` bytes of `src` from `offset`.
    fn copy_from(&mut self, src: &dyn Source, offset: u64, len: u64) -> io::Result<()>;
    /// The output's name, for messages.
    fn name(&self) -> String {
        "output".into()
    }
}

impl Sink for Vec<u8> {
    fn write_bytes(&mut self, b: &[u8]) -> io::Result<()> {
        self.extend_from_slice(b);
        Ok(())
    }

    fn copy_from(&mut self, src: &dyn Source, offset: u64, len: u64) -> io::Result<()> {
        let n = usize::try_from(len).map_err(|_| io::Error::other("slice too large"))?;
        let at = self.len();
        self.resize(at + n, 0);
        src.read_at(offset, &mut self[at..])
    }
}

/// Largest single copy, so an interrupt is noticed within a fraction of a second.
const COPY_STEP: u64 = 64 << 20;

/// Writes a layout to a sink. `progress` gets (bytes written, total) after each slice.
pub fn write_layout(
    plan: &StitchPlan,
    layout: &Layout,
    sink: &mut dyn Sink,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<(), crate::error::MuxError> {
    let total = layout.len();
    let mut done = 0u64;
    for s in &layout.slices {
        match s {
            Slice::Bytes(b) => sink
                .write_bytes(b)
                .map_err(|e| crate::error::MuxError::Io {
                    path: sink.name().into(),
                    source: e,
                })?,
            Slice::Input { input, offset, len } => {
                let src = &plan.inputs[*input as usize];
                let mut at = 0;
                while at < *len {
                    if interrupted() {
                        return Err(crate::error::MuxError::Interrupted);
                    }
                    let step = (*len - at).min(COPY_STEP);
                    sink.copy_from(&**src, offset + at, step).map_err(|e| {
                        if let Some(changed) = InputChanged::find(&e) {
                            crate::error::MuxError::InputChanged {
                                path: src.name().into(),
                                what: changed.0.clone(),
                            }
                        } else if is_write_side(&e) {
                            crate::error::MuxError::Io {
                                path: sink.name().into(),
                                source: e,
                            }
                        } else {
                            crate::error::MuxError::Copy {
                                input: src.name().into(),
                                output: sink.name().into(),
                                source: e,
                            }
                        }
                    })?;
                    at += step;
                    progress(done + at, total);
                }
            }
        }
        done += s.len();
        progress(done, total);
    }
    if interrupted() {
        return Err(crate::error::MuxError::Interrupted);
    }
    Ok(())
}

/// Errors that can only come from writing (disk full, file too large, quota, read-only file
/// system): the kernel's copy does not say which side failed, these name the output alone.
fn is_write_side(e: &io::Error) -> bool {
    // ENOSPC, EFBIG, EDQUOT, EROFS on Linux.
    matches!(e.raw_os_error(), Some(28 | 27 | 122 | 30))
}
