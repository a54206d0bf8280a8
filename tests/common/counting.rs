//! A global allocator for test binaries that measure memory: the system's, counting the
//! bytes live and their peak. `common::counting_allocator!();` at a test binary's top
//! level installs it and defines `LIVE` and `PEAK` (each `AtomicUsize`); one binary, one
//! allocator, so the count is of the whole process.

/// Installs the counting allocator in the calling test binary (see the module's text).
#[allow(unused_macros)]
macro_rules! counting_allocator {
    () => {
        struct Counting;

        static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        #[allow(dead_code)]
        static PEAK: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

        fn grew(by: usize) {
            use std::sync::atomic::Ordering;
            let now = LIVE.fetch_add(by, Ordering::Relaxed) + by;
            PEAK.fetch_max(now, Ordering::Relaxed);
        }

        // SAFETY: every call is forwarded to the system allocator unchanged; the
        // counters are only statistics.
        unsafe impl std::alloc::GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
                let p = std::alloc::System.alloc(layout);
                if !p.is_null() {
                    grew(layout.size());
                }
                p
            }
            unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
                let p = std::alloc::System.alloc_zeroed(layout);
                if !p.is_null() {
                    grew(layout.size());
                }
                p
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
                std::alloc::System.dealloc(ptr, layout);
                LIVE.fetch_sub(layout.size(), std::sync::atomic::Ordering::Relaxed);
            }
            unsafe fn realloc(
                &self,
                ptr: *mut u8,
                layout: std::alloc::Layout,
                new_size: usize,
            ) -> *mut u8 {
                use std::sync::atomic::Ordering;
                let p = std::alloc::System.realloc(ptr, layout, new_size);
                if !p.is_null() {
                    if new_size >= layout.size() {
                        grew(new_size - layout.size());
                    } else {
                        LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
                    }
                }
                p
            }
        }

        #[global_allocator]
        static ALLOCATOR: Counting = Counting;
    };
}
#[allow(unused_imports)]
pub(crate) use counting_allocator;
