//! Returns the C heap's free memory to the operating system.
//!
//! The server's Rust allocations go through jemalloc (D40), but C code allocates with glibc's `malloc`: SQLite
//! above all, which sqlx runs on one thread per connection, so glibc gives each connection its own arena. After a
//! long load those arenas keep ~10 MB of freed pages resident for good (glibc trims an arena only from its top;
//! freed pages in the middle stay). `malloc_trim(0)` walks every arena and hands such pages back with
//! `MADV_DONTNEED` (docs/benchmarks.md, "What an idle server keeps"). This crate holds that one foreign call, so
//! the server crate itself keeps `forbid(unsafe_code)`.
#![deny(unsafe_code)]

/// Give the C heap's free pages back to the kernel; `true` when any memory was released. Takes each arena's
/// lock in turn, so call it when the process is idle. A no-op where the C library is not glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes no pointer and only walks glibc's own arenas under their locks; it is safe to
    // call from any thread at any time (glibc's malloc is thread-safe).
    #[allow(unsafe_code)]
    let released = unsafe { libc::malloc_trim(0) };
    released == 1
}

/// Give the C heap's free pages back to the kernel: nothing to do with this C library.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn freed_c_heap_pages_are_released() {
        // Fill a thread's arena with many small C allocations (as SQLite's page cache does), free them, and the
        // trim finds pages to release. Small blocks, so they come from an arena, not from mmap.
        std::thread::spawn(|| {
            // SAFETY: each pointer comes from malloc and is freed exactly once, below.
            #[allow(unsafe_code)]
            unsafe {
                let blocks: Vec<*mut libc::c_void> = (0..20_000).map(|_| libc::malloc(512)).collect();
                assert!(blocks.iter().all(|b| !b.is_null()));
                // Keep every 64th block so that the arena cannot shrink from its top alone.
                for (i, b) in blocks.iter().enumerate() {
                    if i % 64 != 0 {
                        libc::free(*b);
                    }
                }
                assert!(release_free_memory(), "freed pages in the middle of the arena were not released");
                for b in blocks.iter().step_by(64) {
                    libc::free(*b);
                }
            }
        })
        .join()
        .unwrap();
    }
}
