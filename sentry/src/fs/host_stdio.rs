//! Which of fds 0-2 were closed when the process started. The Rust runtime
//! opens /dev/null on closed standard fds before `main`, so runsc could not
//! tell a closed stdout from a redirected one; this constructor looks
//! first (it runs from `.init_array`, before the runtime's set-up).

use std::sync::atomic::{AtomicU8, Ordering};

static CLOSED: AtomicU8 = AtomicU8::new(0);

extern "C" fn probe() {
    for fd in 0..3 {
        // SAFETY: F_GETFD on a small integer fd; no memory is touched.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1 {
            CLOSED.fetch_or(1 << fd, Ordering::Relaxed);
        }
    }
}

/// Runs `probe` before `main`.
#[used]
#[link_section = ".init_array"]
static PROBE: extern "C" fn() = probe;

/// Whether `fd` (0, 1 or 2) was closed when the process started.
pub fn closed_at_start(fd: i32) -> bool {
    (0..3).contains(&fd) && CLOSED.load(Ordering::Relaxed) & (1 << fd) != 0
}
