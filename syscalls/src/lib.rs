//! Linux x86_64 system call handlers, one file per family, and the table
//! that maps numbers to them. `runsc boot` hands the table to the kernel.

#![forbid(unsafe_code)]

pub mod sys_clone;
pub mod sys_cwd;
pub mod sys_epoll;
pub mod sys_eventfd;
pub mod sys_exec;
pub mod sys_fallocate;
pub mod sys_file;
pub mod sys_fs_write;
pub mod sys_futex;
pub mod sys_getdents;
pub mod sys_identity;
pub mod sys_info;
pub mod sys_inotify;
pub mod sys_ioctl;
pub mod sys_lock;
pub mod sys_memfd;
pub mod sys_mmap;
pub mod sys_mount;
pub mod sys_mq;
pub mod sys_msg;
pub mod sys_pgrp;
pub mod sys_pidfd;
pub mod sys_pipe;
pub mod sys_poll;
pub mod sys_prctl;
pub mod sys_random;
pub mod sys_read_write;
pub mod sys_rlimit;
pub mod sys_sched;
pub mod sys_sem;
pub mod sys_sendfile;
pub mod sys_shm;
pub mod sys_signal;
pub mod sys_signalfd;
pub mod sys_socket;
pub mod sys_socket_host;
pub mod sys_splice;
pub mod sys_stat;
pub mod sys_statfs;
pub mod sys_sync;
pub mod sys_thread;
pub mod sys_time;
pub mod sys_timer;
pub mod sys_timerfd;
pub mod sys_usage;
pub mod sys_wait;
pub mod sys_xattr;
mod table;
mod unimplemented;

use std::sync::OnceLock;

use sentry::kernel::SyscallEntry;

/// `"SYS_read"` -> `"read"`, at compile time.
pub(crate) const fn strip_sys(s: &'static str) -> &'static str {
    let (_, rest) = s.as_bytes().split_at(4);
    match std::str::from_utf8(rest) {
        Ok(r) => r,
        Err(_) => panic!("syscall constant names are ASCII"),
    }
}

/// Every syscall we know, implemented or not.
pub fn table() -> &'static [SyscallEntry] {
    static ALL: OnceLock<Vec<SyscallEntry>> = OnceLock::new();
    ALL.get_or_init(|| table::IMPLEMENTED.iter().chain(unimplemented::UNIMPLEMENTED.iter()).copied().collect())
}

/// Logs an unsupported sub-operation (an fcntl or ioctl command) once.
pub(crate) fn log_once_unsupported(syscall: &'static str, cmd: u64) {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static SEEN: Mutex<Option<HashSet<(&'static str, u64)>>> = Mutex::new(None);
    let mut g = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    if g.get_or_insert_with(HashSet::new).insert((syscall, cmd)) {
        tracing::warn!("unsupported {syscall} command {cmd:#x}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn numbers_and_names_are_unique() {
        let mut nrs = HashSet::new();
        let mut names = HashSet::new();
        for e in table() {
            assert!(nrs.insert(e.nr), "duplicate number {}", e.nr);
            assert!(names.insert(e.name), "duplicate name {}", e.name);
            assert!((e.nr as usize) < sentry::kernel::syscall::MAX_SYSCALL);
        }
    }

    #[test]
    fn spot_check_numbers() {
        let find = |n: &str| table().iter().find(|e| e.name == n).map(|e| e.nr);
        assert_eq!(find("read"), Some(0));
        assert_eq!(find("getpid"), Some(39));
        assert_eq!(find("openat"), Some(257));
        assert_eq!(find("io_uring_setup"), Some(425));
    }

    #[test]
    fn every_issue_syscall_is_implemented() {
        let required = [
            "read",
            "write",
            "readv",
            "writev",
            "pread64",
            "pwrite64",
            "preadv",
            "pwritev",
            "open",
            "openat",
            "close",
            "close_range",
            "lseek",
            "fstat",
            "stat",
            "lstat",
            "newfstatat",
            "statx",
            "access",
            "faccessat",
            "faccessat2",
            "readlink",
            "readlinkat",
            "getdents64",
            "getcwd",
            "chdir",
            "fchdir",
            "dup",
            "dup2",
            "dup3",
            "fcntl",
            "ioctl",
            "mmap",
            "munmap",
            "mprotect",
            "brk",
            "mremap",
            "madvise",
            "arch_prctl",
            "set_tid_address",
            "set_robust_list",
            "rseq",
            "prlimit64",
            "getrlimit",
            "setrlimit",
            "getrandom",
            "uname",
            "getpid",
            "gettid",
            "getppid",
            "getuid",
            "geteuid",
            "getgid",
            "getegid",
            "getgroups",
            "clock_gettime",
            "clock_getres",
            "gettimeofday",
            "time",
            "nanosleep",
            "clock_nanosleep",
            "exit",
            "exit_group",
            "rt_sigaction",
            "rt_sigprocmask",
            "sched_getaffinity",
            "sched_yield",
            "sysinfo",
            "umask",
            "getcpu",
        ];
        for r in required {
            let e = table().iter().find(|e| e.name == r).unwrap_or_else(|| panic!("{r} missing"));
            assert!(e.handler.is_some(), "{r} has no handler");
        }
    }
}
