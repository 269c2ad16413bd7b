//! /proc/config.gz: the configuration of the kernel the sentry emulates,
//! gzip-compressed as Linux's is (test suites read it to decide what to
//! test). Options for facilities behind syscalls follow the syscall table:
//! set only when the sentry implements their calls.

use std::io::Write as _;

use crate::kernel::Kernel;

/// Options that are always what they say: the sentry has these, and not
/// those marked unset.
const FIXED: &[(&str, bool)] = &[
    ("64BIT", true),
    ("X86_64", true),
    ("X86", true),
    ("MMU", true),
    ("SMP", true),
    ("MULTIUSER", true),
    ("PROC_FS", true),
    ("PROC_SYSCTL", true),
    ("SYSFS", true),
    ("TMPFS", true),
    ("TMPFS_XATTR", true),
    ("TMPFS_POSIX_ACL", false),
    ("SHMEM", true),
    ("OVERLAY_FS", true),
    ("UNIX98_PTYS", true),
    ("NET", true),
    ("UNIX", true),
    ("INET", false),
    ("FILE_LOCKING", true),
    ("FSNOTIFY", true),
    ("INOTIFY_USER", true),
    ("DNOTIFY", true),
    ("FANOTIFY", false),
    ("EPOLL", true),
    ("SIGNALFD", true),
    ("TIMERFD", true),
    ("EVENTFD", true),
    ("FUTEX", true),
    ("FUTEX_PI", true),
    ("POSIX_TIMERS", true),
    ("SYSVIPC", true),
    ("POSIX_MQUEUE", true),
    ("MEMFD_CREATE", true),
    ("NAMESPACES", false),
    ("USER_NS", false),
    ("PID_NS", false),
    ("NET_NS", false),
    ("CGROUPS", false),
    ("MODULES", false),
    ("SWAP", false),
    ("QUOTA", false),
    ("HUGETLBFS", false),
    ("TRANSPARENT_HUGEPAGE", false),
    ("UID16", false),
];

/// Options that stand for syscalls: set if the first one is implemented.
const BY_SYSCALL: &[(&str, i64)] = &[
    ("ADVISE_SYSCALLS", libc::SYS_madvise),
    ("AIO", libc::SYS_io_setup),
    ("IO_URING", libc::SYS_io_uring_setup),
    ("BPF_SYSCALL", libc::SYS_bpf),
    ("USERFAULTFD", libc::SYS_userfaultfd),
    ("KCMP", libc::SYS_kcmp),
    ("MEMBARRIER", libc::SYS_membarrier),
    ("RSEQ", libc::SYS_rseq),
    ("SECCOMP", libc::SYS_seccomp),
    ("FHANDLE", libc::SYS_name_to_handle_at),
    ("CROSS_MEMORY_ATTACH", libc::SYS_process_vm_readv),
    ("PERF_EVENTS", libc::SYS_perf_event_open),
    ("KEYS", libc::SYS_add_key),
    ("SYSFS_SYSCALL", libc::SYS_sysfs),
];

fn line(out: &mut String, name: &str, on: bool) {
    if on {
        out.push_str(&format!("CONFIG_{name}=y\n"));
    } else {
        out.push_str(&format!("# CONFIG_{name} is not set\n"));
    }
}

/// The configuration text.
pub fn text(k: &Kernel) -> String {
    let mut s = format!(
        "#\n# Automatically generated file; DO NOT EDIT.\n# Linux/x86_64 {} Kernel Configuration (runsc sentry)\n#\n",
        crate::kernel::uts::RELEASE
    );
    for &(name, on) in FIXED {
        line(&mut s, name, on);
    }
    for &(name, nr) in BY_SYSCALL {
        let on = k.table.get(nr as u64).is_some_and(|e| e.handler.is_some());
        line(&mut s, name, on);
    }
    s
}

/// The gzip-compressed configuration.
pub fn gzipped(k: &Kernel) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(text(k).as_bytes());
    enc.finish().unwrap_or_default()
}
