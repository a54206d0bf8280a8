//! Allocator settings for the dense executor.
//!
//! The dense executor allocates and frees arrays of megabytes many times per trial.
//! glibc's allocator hands such blocks back to the kernel on every free (they are
//! `mmap`ed above 128 KiB, and the heap top is trimmed above 128 KiB), so every new array
//! is paid for again in page faults, and with several threads each first write to a
//! zero page also costs a TLB flush on every core. On the Monte Carlo benchmark
//! (docs/performance.md) that was about a quarter of the time. [`tune`] keeps freed
//! blocks in the process instead: blocks up to 32 MiB come from the heap, the heap is
//! trimmed only when 1 GiB is free at its top, and it grows in steps of 64 MiB. Memory
//! that was once needed stays mapped until the process exits; the executor's own
//! budgets (`num::dense::MAX_ELEMENTS`) bound how much that is.
//!
//! The `tq` binary's global allocator is mimalloc (declared in `src/main.rs`, and in the
//! test binaries that check whole files, `tests/cases.rs` and `tests/problems.rs`; not in
//! the library, since `tests/fuzz.rs` declares a counting allocator of its own): the
//! interpreter, the symbolic normal form and the dense executor's small trials allocate
//! and free many small `Vec`s and `String`s, and glibc's allocator spent up to half of
//! such a run consolidating and unlinking free chunks (`malloc_consolidate`,
//! `unlink_chunk`: docs/performance.md). The allocator changes no value: the arithmetic
//! does not depend on where a block lies. [`tune`] still sets glibc's thresholds for
//! whatever allocates through it.

/// Sets the allocator's thresholds (glibc on Linux; elsewhere nothing). Call once, at
/// the start of `main`, before any thread is started.
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallopt only sets allocator parameters; it is called before any other
        // thread exists, and out-of-range values are rejected by returning 0.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
            libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        }
    }
}
