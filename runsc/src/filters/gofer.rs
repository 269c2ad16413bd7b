//! The gofer's seccomp policy: serve requests, nothing else. Every open must
//! carry O_NOFOLLOW.

use super::Allow::{self, Any, MaskedEq};

/// The gofer's allowed host syscalls.
pub fn table() -> Vec<Allow> {
    vec![
        // The protocol channel.
        Any(libc::SYS_recvmsg),
        Any(libc::SYS_sendmsg),
        // Walks and opens: relative to a directory fd, never following links.
        MaskedEq { nr: libc::SYS_openat, arg: 2, mask: libc::O_NOFOLLOW as u64, value: libc::O_NOFOLLOW as u64 },
        Any(libc::SYS_newfstatat),
        Any(libc::SYS_fstat),
        Any(libc::SYS_getdents64),
        Any(libc::SYS_readlinkat),
        Any(libc::SYS_fstatfs),
        Any(libc::SYS_fcntl),
        Any(libc::SYS_close),
        // The debug log.
        Any(libc::SYS_write),
        Any(libc::SYS_clock_gettime),
        // Memory allocation and the Rust runtime.
        Any(libc::SYS_mmap),
        Any(libc::SYS_munmap),
        Any(libc::SYS_mremap),
        Any(libc::SYS_madvise),
        Any(libc::SYS_brk),
        Any(libc::SYS_futex),
        Any(libc::SYS_sigaltstack),
        Any(libc::SYS_rt_sigaction),
        Any(libc::SYS_rt_sigprocmask),
        Any(libc::SYS_rt_sigreturn),
        Any(libc::SYS_sched_yield),
        Any(libc::SYS_getrandom),
        Any(libc::SYS_exit),
        Any(libc::SYS_exit_group),
    ]
}
