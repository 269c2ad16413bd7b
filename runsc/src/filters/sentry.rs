//! The sentry's seccomp policy: the host syscalls `runsc boot` makes after
//! confinement. It never opens a host path (no open/openat/stat by name).

use super::Allow::{self, Any, MaskedEq, OneOf};

/// The flags glibc's pthread_create passes to clone.
const THREAD_CLONE_FLAGS: u64 = (libc::CLONE_VM
    | libc::CLONE_FS
    | libc::CLONE_FILES
    | libc::CLONE_SIGHAND
    | libc::CLONE_THREAD
    | libc::CLONE_SYSVSEM
    | libc::CLONE_SETTLS
    | libc::CLONE_PARENT_SETTID
    | libc::CLONE_CHILD_CLEARTID) as u64;

/// Syscalls that fail with an errno instead of killing: clone3 gives
/// ENOSYS so that glibc uses clone, whose flags the filter checks; opening
/// a path gives ENOENT (the sentry never does, but glibc probes
/// /sys/devices/system/cpu/online when malloc makes an arena for a new
/// thread, and falls back to sched_getaffinity).
pub fn errno_table() -> Vec<(i64, u32)> {
    vec![
        (libc::SYS_clone3, libc::ENOSYS as u32),
        (libc::SYS_openat, libc::ENOENT as u32),
        (libc::SYS_open, libc::ENOENT as u32),
    ]
}

/// The int options the sandbox may set on a host socket it was handed
/// (and read; TCP_NODELAY is 1, TCP_KEEPIDLE/INTVL/CNT 4-6).
const HOST_SETTABLE: &[u64] = &[
    libc::SO_KEEPALIVE as u64,
    libc::SO_REUSEADDR as u64,
    libc::SO_RCVBUF as u64,
    libc::SO_SNDBUF as u64,
    libc::TCP_NODELAY as u64,
    libc::TCP_KEEPIDLE as u64,
    libc::TCP_KEEPINTVL as u64,
    libc::TCP_KEEPCNT as u64,
];

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
        // RWF_NOAPPEND writes to an imported host file with O_APPEND.
        OneOf { nr: libc::SYS_pwritev2, arg: 5, values: &[sentry::abi::RWF_NOAPPEND] },
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
        // fsync and fdatasync of volume files (donated fds).
        Any(libc::SYS_fsync),
        Any(libc::SYS_fdatasync),
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
        // Whether the application has touched a memory-file page (a page
        // fault's error code).
        Any(libc::SYS_mincore),
        // A sentry thread per task, and the timer thread: glibc's
        // pthread_create. clone3's flags are in memory where a filter cannot
        // see them, so it fails with ENOSYS (`errno_table`) and glibc falls
        // back to clone, allowed only with the flags of a new thread.
        OneOf { nr: libc::SYS_clone, arg: 0, values: &[THREAD_CLONE_FLAGS] },
        Any(libc::SYS_clone3),
        // Refused by `errno_table` (stacked filters: the stricter action
        // wins, so these must not kill here).
        Any(libc::SYS_openat),
        Any(libc::SYS_open),
        Any(libc::SYS_set_robust_list),
        Any(libc::SYS_rseq),
        // Reading the caller's personality (for init's ASLR setting).
        OneOf { nr: libc::SYS_personality, arg: 0, values: &[0xffff_ffff] },
        // Naming threads (PR_SET_NAME) only.
        OneOf { nr: libc::SYS_prctl, arg: 0, values: &[libc::PR_SET_NAME as u64] },
        // Interrupting a stub thread that runs application code.
        Any(libc::SYS_tgkill),
        // The thread that forwards signals from runsc to the sandbox.
        Any(libc::SYS_rt_sigtimedwait),
        // Readiness of host fds: the notifier thread's epoll, and a
        // zero-timeout poll to ask one fd.
        Any(libc::SYS_epoll_wait),
        Any(libc::SYS_epoll_pwait),
        Any(libc::SYS_epoll_ctl),
        Any(libc::SYS_poll),
        // The control socket (OCI containers): one connection at a time,
        // each with a read timeout.
        Any(libc::SYS_accept4),
        OneOf { nr: libc::SYS_setsockopt, arg: 2, values: &[libc::SO_RCVTIMEO as u64] },
        // The int options of a host socket the sandbox was handed
        // (sys_socket_host's INT_OPTIONS).
        OneOf { nr: libc::SYS_setsockopt, arg: 2, values: HOST_SETTABLE },
        OneOf { nr: libc::SYS_getsockopt, arg: 2, values: HOST_SETTABLE },
        OneOf {
            nr: libc::SYS_getsockopt,
            arg: 2,
            values: &[
                libc::SO_TYPE as u64,
                libc::SO_DOMAIN as u64,
                libc::SO_PROTOCOL as u64,
                libc::SO_ACCEPTCONN as u64,
                libc::SO_ERROR as u64,
            ],
        },
        // Ending the accept loop of a pod container's control socket when
        // the container is destroyed; shutdown of a host socket the
        // sandbox was handed.
        OneOf {
            nr: libc::SYS_shutdown,
            arg: 1,
            values: &[libc::SHUT_RD as u64, libc::SHUT_WR as u64, libc::SHUT_RDWR as u64],
        },
        // A stdio or --preserve-fds socket, used without blocking; its
        // connections (accept4, above) and its names.
        Any(libc::SYS_recvfrom),
        Any(libc::SYS_sendto),
        Any(libc::SYS_getsockname),
        Any(libc::SYS_getpeername),
    ];
    t.extend(super::runtime());
    t
}
