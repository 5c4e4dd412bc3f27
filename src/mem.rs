//! Giving freed heap memory back to the operating system.
//!
//! The models of many small inputs are many small heap blocks. When they are dropped after
//! planning, glibc's allocator keeps the freed blocks (it returns memory only from the top of the
//! heap, and blocks of the plan sit above them), so the process would hold them until exit while the
//! writer allocates its own tables beside them. Measured with 10,000 inputs of 145 samples: peak RSS
//! 256 MB before, 201 MB with the trim and header sharing (one input holding the same 1.45 M
//! samples: 188 MB); the trim alone accounts for most of it.

/// Asks the allocator to return free heap pages to the operating system (glibc's `malloc_trim`;
/// nothing elsewhere).
pub(crate) fn release_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> std::os::raw::c_int;
        }
        // SAFETY: malloc_trim(3) is part of glibc's malloc, which this program is linked against on
        // linux-gnu; it takes a plain integer, is thread-safe, and only releases pages of free
        // chunks (madvise) without moving or touching any live allocation.
        unsafe {
            malloc_trim(0);
        }
    }
}
