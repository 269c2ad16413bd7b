//! The x86_64 syscall table: number, name, handler, completeness and
//! argument kinds for every syscall we know. Numbers come from `libc::SYS_*`
//! by name, so an entry cannot carry a wrong number.

use sentry::kernel::ArgKind::{Fd, Hex, InBuf, Int, Oct, OutBuf, Path, Signal};
use sentry::kernel::{Support, SyscallEntry};

use crate::*;

macro_rules! sys {
    ($name:ident, $handler:path, $support:expr, [$($arg:expr),*]) => {
        SyscallEntry {
            nr: libc::$name as u64,
            name: crate::strip_sys(stringify!($name)),
            handler: Some($handler),
            support: $support,
            args: &[$($arg),*],
        }
    };
}

const FULL: Support = Support::Full;

/// Implemented syscalls.
pub static IMPLEMENTED: &[SyscallEntry] = &[
    sys!(SYS_read, sys_read_write::read, FULL, [Fd, OutBuf, Int]),
    sys!(SYS_write, sys_read_write::write, FULL, [Fd, InBuf, Int]),
    sys!(
        SYS_open,
        sys_file::sys_open,
        Support::Partial("read-only root; files cannot be created yet"),
        [Path, Hex, Oct]
    ),
    sys!(SYS_close, sys_file::close, FULL, [Fd]),
    sys!(SYS_creat, sys_file::creat, Support::Partial("read-only root; files cannot be created yet"), [Path, Oct]),
    sys!(SYS_stat, sys_stat::stat, FULL, [Path, Hex]),
    sys!(SYS_fstat, sys_stat::fstat, FULL, [Fd, Hex]),
    sys!(SYS_lstat, sys_stat::lstat, FULL, [Path, Hex]),
    sys!(SYS_lseek, sys_file::lseek, FULL, [Fd, Int, Int]),
    sys!(
        SYS_mmap,
        sys_mmap::mmap,
        Support::Partial("shared file mappings are private snapshots"),
        [Hex, Int, Hex, Hex, Fd, Hex]
    ),
    sys!(SYS_mprotect, sys_mmap::mprotect, FULL, [Hex, Int, Hex]),
    sys!(SYS_munmap, sys_mmap::munmap, FULL, [Hex, Int]),
    sys!(SYS_brk, sys_mmap::brk, FULL, [Hex]),
    sys!(
        SYS_rt_sigaction,
        sys_signal::rt_sigaction,
        Support::Partial("state only; no delivery yet"),
        [Signal, Hex, Hex, Int]
    ),
    sys!(
        SYS_rt_sigprocmask,
        sys_signal::rt_sigprocmask,
        Support::Partial("state only; no delivery yet"),
        [Int, Hex, Hex, Int]
    ),
    sys!(
        SYS_ioctl,
        sys_ioctl::ioctl,
        Support::Partial("FIOCLEX, FIONCLEX, FIONBIO, FIONREAD, tty requests"),
        [Fd, Hex, Hex]
    ),
    sys!(SYS_pread64, sys_read_write::pread64, FULL, [Fd, OutBuf, Int, Int]),
    sys!(SYS_pwrite64, sys_read_write::pwrite64, FULL, [Fd, InBuf, Int, Int]),
    sys!(SYS_readv, sys_read_write::readv, FULL, [Fd, Hex, Int]),
    sys!(SYS_writev, sys_read_write::writev, FULL, [Fd, Hex, Int]),
    sys!(SYS_access, sys_stat::access, FULL, [Path, Oct]),
    sys!(SYS_sched_yield, sys_thread::sched_yield, FULL, []),
    sys!(SYS_mremap, sys_mmap::mremap, Support::Partial("no MREMAP_DONTUNMAP"), [Hex, Int, Int, Hex, Hex]),
    sys!(SYS_madvise, sys_mmap::madvise, FULL, [Hex, Int, Int]),
    sys!(SYS_dup, sys_file::dup, FULL, [Fd]),
    sys!(SYS_dup2, sys_file::dup2, FULL, [Fd, Fd]),
    sys!(SYS_nanosleep, sys_time::nanosleep, Support::Partial("not interruptible by signals yet"), [Hex, Hex]),
    sys!(SYS_getpid, sys_thread::getpid, FULL, []),
    sys!(SYS_exit, sys_thread::exit, FULL, [Int]),
    sys!(SYS_uname, sys_info::uname, FULL, [Hex]),
    sys!(SYS_fcntl, sys_file::fcntl, Support::Partial("no locks, leases, seals or pipe sizes"), [Fd, Int, Hex]),
    sys!(SYS_getcwd, sys_cwd::getcwd, FULL, [Hex, Int]),
    sys!(SYS_chdir, sys_cwd::chdir, FULL, [Path]),
    sys!(SYS_fchdir, sys_cwd::fchdir, FULL, [Fd]),
    sys!(SYS_readlink, sys_stat::readlink, FULL, [Path, OutBuf, Int]),
    sys!(SYS_umask, sys_cwd::umask, FULL, [Oct]),
    sys!(SYS_gettimeofday, sys_time::gettimeofday, FULL, [Hex, Hex]),
    sys!(SYS_getrlimit, sys_rlimit::getrlimit, FULL, [Int, Hex]),
    sys!(SYS_sysinfo, sys_info::sysinfo, FULL, [Hex]),
    sys!(SYS_getuid, sys_identity::getuid, FULL, []),
    sys!(SYS_getgid, sys_identity::getgid, FULL, []),
    sys!(SYS_geteuid, sys_identity::geteuid, FULL, []),
    sys!(SYS_getegid, sys_identity::getegid, FULL, []),
    sys!(SYS_getppid, sys_thread::getppid, FULL, []),
    sys!(SYS_getgroups, sys_identity::getgroups, FULL, [Int, Hex]),
    sys!(SYS_setrlimit, sys_rlimit::setrlimit, FULL, [Int, Hex]),
    sys!(SYS_arch_prctl, sys_thread::arch_prctl, Support::Partial("FS and GS bases only"), [Hex, Hex]),
    sys!(SYS_gettid, sys_thread::gettid, FULL, []),
    sys!(SYS_time, sys_time::time, FULL, [Hex]),
    sys!(SYS_sched_getaffinity, sys_thread::sched_getaffinity, FULL, [Int, Int, Hex]),
    sys!(SYS_set_tid_address, sys_thread::set_tid_address, FULL, [Hex]),
    sys!(SYS_clock_gettime, sys_time::clock_gettime, FULL, [Int, Hex]),
    sys!(SYS_clock_getres, sys_time::clock_getres, FULL, [Int, Hex]),
    sys!(
        SYS_clock_nanosleep,
        sys_time::clock_nanosleep,
        Support::Partial("not interruptible by signals yet"),
        [Int, Hex, Hex, Hex]
    ),
    sys!(SYS_exit_group, sys_thread::exit_group, FULL, [Int]),
    sys!(
        SYS_openat,
        sys_file::openat,
        Support::Partial("read-only root; files cannot be created yet"),
        [Fd, Path, Hex, Oct]
    ),
    sys!(SYS_newfstatat, sys_stat::newfstatat, FULL, [Fd, Path, Hex, Hex]),
    sys!(SYS_readlinkat, sys_stat::readlinkat, FULL, [Fd, Path, OutBuf, Int]),
    sys!(SYS_faccessat, sys_stat::faccessat, FULL, [Fd, Path, Oct]),
    sys!(SYS_set_robust_list, sys_thread::set_robust_list, FULL, [Hex, Int]),
    sys!(SYS_dup3, sys_file::dup3, FULL, [Fd, Fd, Hex]),
    sys!(SYS_preadv, sys_read_write::preadv, FULL, [Fd, Hex, Int, Int]),
    sys!(SYS_pwritev, sys_read_write::pwritev, FULL, [Fd, Hex, Int, Int]),
    sys!(SYS_prlimit64, sys_rlimit::prlimit64, FULL, [Int, Int, Hex, Hex]),
    sys!(SYS_getcpu, sys_thread::getcpu, FULL, [Hex, Hex, Hex]),
    sys!(SYS_getrandom, sys_random::getrandom, FULL, [Hex, Int, Hex]),
    sys!(SYS_statx, sys_stat::statx, FULL, [Fd, Path, Hex, Hex, Hex]),
    sys!(
        SYS_rseq,
        sys_thread::rseq,
        Support::Partial("cpu_id set at registration; tasks stay on one CPU"),
        [Hex, Int, Hex, Hex]
    ),
    sys!(SYS_close_range, sys_file::close_range, FULL, [Int, Int, Hex]),
    sys!(SYS_faccessat2, sys_stat::faccessat2, FULL, [Fd, Path, Oct, Hex]),
    sys!(
        SYS_futex,
        sys_futex::futex,
        Support::Partial("WAIT, WAKE, *_BITSET, REQUEUE, CMP_REQUEUE; no PI or WAKE_OP"),
        [Hex, Hex, Int, Hex, Hex, Hex]
    ),
    sys!(SYS_kill, sys_signal::kill, Support::Partial("own process only; default actions only"), [Int, Signal]),
    sys!(SYS_tgkill, sys_signal::tgkill, Support::Partial("own thread only; default actions only"), [Int, Int, Signal]),
    sys!(SYS_tkill, sys_signal::tkill, Support::Partial("own thread only; default actions only"), [Int, Signal]),
    sys!(
        SYS_getxattr,
        sys_xattr::getxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Path, Hex, Int]
    ),
    sys!(
        SYS_lgetxattr,
        sys_xattr::lgetxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Path, Hex, Int]
    ),
    sys!(
        SYS_fgetxattr,
        sys_xattr::fgetxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Fd, Path, Hex, Int]
    ),
    sys!(SYS_listxattr, sys_xattr::listxattr, Support::Partial("no xattrs are exposed: EOPNOTSUPP"), [Path, Hex, Int]),
    sys!(
        SYS_llistxattr,
        sys_xattr::llistxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Hex, Int]
    ),
    sys!(SYS_flistxattr, sys_xattr::flistxattr, Support::Partial("no xattrs are exposed: EOPNOTSUPP"), [Fd, Hex, Int]),
    sys!(
        SYS_setxattr,
        sys_xattr::setxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Path, Hex, Int, Hex]
    ),
    sys!(
        SYS_lsetxattr,
        sys_xattr::lsetxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Path, Hex, Int, Hex]
    ),
    sys!(
        SYS_fsetxattr,
        sys_xattr::fsetxattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Fd, Path, Hex, Int, Hex]
    ),
    sys!(SYS_removexattr, sys_xattr::removexattr, Support::Partial("no xattrs are exposed: EOPNOTSUPP"), [Path, Path]),
    sys!(
        SYS_lremovexattr,
        sys_xattr::lremovexattr,
        Support::Partial("no xattrs are exposed: EOPNOTSUPP"),
        [Path, Path]
    ),
    sys!(SYS_fremovexattr, sys_xattr::fremovexattr, Support::Partial("no xattrs are exposed: EOPNOTSUPP"), [Fd, Path]),
    sys!(
        SYS_mkdir,
        sys_fs_write::mkdir,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Oct]
    ),
    sys!(
        SYS_mkdirat,
        sys_fs_write::mkdirat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Oct]
    ),
    sys!(
        SYS_mknod,
        sys_fs_write::mknod,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Oct, Hex]
    ),
    sys!(
        SYS_mknodat,
        sys_fs_write::mknodat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Oct, Hex]
    ),
    sys!(
        SYS_symlink,
        sys_fs_write::symlink,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Path]
    ),
    sys!(
        SYS_symlinkat,
        sys_fs_write::symlinkat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Fd, Path]
    ),
    sys!(
        SYS_link,
        sys_fs_write::link,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Path]
    ),
    sys!(
        SYS_linkat,
        sys_fs_write::linkat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Fd, Path, Hex]
    ),
    sys!(
        SYS_unlink,
        sys_fs_write::unlink,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path]
    ),
    sys!(
        SYS_rmdir,
        sys_fs_write::rmdir,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path]
    ),
    sys!(
        SYS_unlinkat,
        sys_fs_write::unlinkat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Hex]
    ),
    sys!(
        SYS_rename,
        sys_fs_write::rename,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Path]
    ),
    sys!(
        SYS_renameat,
        sys_fs_write::renameat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Fd, Path]
    ),
    sys!(
        SYS_renameat2,
        sys_fs_write::renameat2,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Fd, Path, Hex]
    ),
    sys!(
        SYS_chmod,
        sys_fs_write::chmod,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Oct]
    ),
    sys!(
        SYS_fchmod,
        sys_fs_write::fchmod,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Oct]
    ),
    sys!(
        SYS_fchmodat,
        sys_fs_write::fchmodat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Oct]
    ),
    sys!(
        SYS_chown,
        sys_fs_write::chown,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Int, Int]
    ),
    sys!(
        SYS_lchown,
        sys_fs_write::lchown,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Int, Int]
    ),
    sys!(
        SYS_fchown,
        sys_fs_write::fchown,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Int, Int]
    ),
    sys!(
        SYS_fchownat,
        sys_fs_write::fchownat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Int, Int, Hex]
    ),
    sys!(
        SYS_utimensat,
        sys_fs_write::utimensat,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Path, Hex, Hex]
    ),
    sys!(
        SYS_truncate,
        sys_fs_write::truncate,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Path, Int]
    ),
    sys!(
        SYS_ftruncate,
        sys_fs_write::ftruncate,
        Support::Partial("no writable filesystem yet: EROFS/EPERM after Linux's checks"),
        [Fd, Int]
    ),
    sys!(SYS_statfs, sys_statfs::statfs, FULL, [Path, Hex]),
    sys!(SYS_fstatfs, sys_statfs::fstatfs, FULL, [Fd, Hex]),
    sys!(
        SYS_prctl,
        sys_prctl::prctl,
        Support::Partial("names, dumpable, pdeathsig, no_new_privs, subreaper, keepcaps"),
        [Int, Hex, Hex, Hex, Hex]
    ),
    sys!(
        SYS_sigaltstack,
        sys_signal::sigaltstack,
        Support::Partial("recorded; used once signals are delivered"),
        [Hex, Hex]
    ),
    sys!(SYS_fadvise64, sys_file::fadvise64, FULL, [Fd, Int, Int, Int]),
    sys!(
        SYS_sendfile,
        sys_sendfile::sendfile,
        Support::Partial("copies through a sentry buffer; unseekable input read past a short write is lost"),
        [Fd, Fd, Hex, Int]
    ),
    sys!(SYS_getdents64, sys_getdents::getdents64, FULL, [Fd, Hex, Int]),
];
