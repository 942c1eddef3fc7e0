//! Giving a burst's memory back to the system.
//!
//! Why: glibc's allocator keeps freed memory in its per-thread arenas, and
//! after freeing a large block it raises its mmap threshold, so the next
//! blocks of that size come from the arenas too. After 256 concurrent
//! sessions the server stayed at about 1 GiB of RSS, idle, indefinitely
//! (measured with `upload-bench --sessions 256 --session-size 32M`). A
//! `malloc_trim(0)` every few seconds hands free arena pages back (glibc
//! ≥ 2.8 releases free pages inside arenas, not only at the top), at the
//! cost of a walk over the arenas, on a blocking thread. The arenas are
//! also capped at two per core (glibc's default is eight per core): with
//! fewer arenas, less free memory is stranded in partly used pages that a
//! trim cannot release; RSS after the burst went from 28 to 24 MiB (idle:
//! 12 MiB) at no measurable CPU cost. Other allocators were tried: mimalloc
//! kept as much (pages of exited blocking-pool threads stay with their
//! abandoned segments), and a fixed mmap threshold cost 20% more CPU in
//! page faults.

use std::time::Duration;

/// How often free memory is handed back.
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// Caps glibc's arenas at two per core. Call before the runtime's threads
/// start allocating; a no-op where the allocator is not glibc's.
pub(crate) fn limit_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let arenas = libc::c_int::try_from(2 * boxup_server::cores()).unwrap_or(libc::c_int::MAX);
        set_arena_max(arenas);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // one FFI call, see SAFETY below
fn set_arena_max(arenas: libc::c_int) {
    // SAFETY: mallopt takes plain integers and is thread-safe; M_ARENA_MAX
    // only bounds how many arenas glibc creates from now on.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

/// Starts the periodic trim on the current runtime (a no-op where the
/// allocator is not glibc's).
pub(crate) fn spawn_trimmer() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        let mut every = tokio::time::interval(TRIM_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if tokio::task::spawn_blocking(trim).await.is_err() {
                return;
            }
        }
    });
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)] // one FFI call, see SAFETY below
fn trim() {
    // SAFETY: malloc_trim takes no pointers and is thread-safe (it locks
    // each arena while it walks it); it only releases memory that is free.
    unsafe {
        libc::malloc_trim(0);
    }
}
