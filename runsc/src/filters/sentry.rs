//! The sentry's seccomp policy: the host syscalls `runsc boot` makes after
//! confinement. It never opens a host path (no open/openat/stat by name).

use super::Allow::{self, Any, MaskedEq, OneOf};

/// The sentry's allowed host syscalls.
pub fn table() -> Vec<Allow> {
    let mut t = vec![
        // ptrace platform: run stubs, inject syscalls, wait for stops, keep
        // stubs on their tracer's CPU, kill them at exit.
        Any(libc::SYS_ptrace),
        Any(libc::SYS_wait4),
        Any(libc::SYS_kill),
        Any(libc::SYS_sched_setaffinity),
        Any(libc::SYS_sched_getaffinity),
        Any(libc::SYS_getcpu),
        Any(libc::SYS_gettid),
        Any(libc::SYS_getpid),
        // Memory file: punch holes when memory is freed.
        Any(libc::SYS_fallocate),
        // Application I/O on donated and imported host fds.
        Any(libc::SYS_read),
        Any(libc::SYS_write),
        Any(libc::SYS_pread64),
        Any(libc::SYS_pwrite64),
        Any(libc::SYS_lseek),
        Any(libc::SYS_fstat),
        // glibc's fstat(): newfstatat(fd, "", AT_EMPTY_PATH).
        MaskedEq {
            nr: libc::SYS_newfstatat,
            arg: 3,
            mask: libc::AT_EMPTY_PATH as u64,
            value: libc::AT_EMPTY_PATH as u64,
        },
        Any(libc::SYS_fstatfs),
        Any(libc::SYS_fcntl),
        Any(libc::SYS_close),
        OneOf {
            nr: libc::SYS_ioctl,
            arg: 1,
            values: &[
                libc::TCGETS,
                libc::TCSETS,
                libc::TCSETSW,
                libc::TCSETSF,
                libc::TIOCGWINSZ,
                libc::TIOCSWINSZ,
                libc::FIONREAD,
            ],
        },
        // The gofer channel.
        Any(libc::SYS_sendmsg),
        Any(libc::SYS_recvmsg),
        // Time, sleeping, host memory figures for sysinfo.
        Any(libc::SYS_clock_getres),
        Any(libc::SYS_clock_nanosleep),
        Any(libc::SYS_nanosleep),
        Any(libc::SYS_sysinfo),
        // Memory protection changes (the Rust runtime's thread stacks).
        Any(libc::SYS_mprotect),
    ];
    t.extend(super::runtime());
    t
}
