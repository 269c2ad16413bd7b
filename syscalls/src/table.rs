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
    sys!(SYS_rt_sigaction, sys_signal::rt_sigaction, FULL, [Signal, Hex, Hex, Int]),
    sys!(SYS_rt_sigprocmask, sys_signal::rt_sigprocmask, FULL, [Int, Hex, Hex, Int]),
    sys!(SYS_rt_sigreturn, sys_signal::rt_sigreturn, FULL, []),
    sys!(SYS_rt_sigpending, sys_signal::rt_sigpending, FULL, [Hex, Int]),
    sys!(SYS_rt_sigsuspend, sys_signal::rt_sigsuspend, FULL, [Hex, Int]),
    sys!(SYS_rt_sigtimedwait, sys_signal::rt_sigtimedwait, FULL, [Hex, Hex, Hex, Int]),
    sys!(SYS_rt_sigqueueinfo, sys_signal::rt_sigqueueinfo, FULL, [Int, Signal, Hex]),
    sys!(SYS_rt_tgsigqueueinfo, sys_signal::rt_tgsigqueueinfo, FULL, [Int, Int, Signal, Hex]),
    sys!(SYS_pause, sys_signal::pause, FULL, []),
    sys!(SYS_clone, sys_clone::clone, Support::Partial("no namespaces (EPERM)"), [Hex, Hex, Hex, Hex, Hex]),
    sys!(SYS_clone3, sys_clone::clone3, Support::Partial("no namespaces, set_tid or cgroups"), [Hex, Int]),
    sys!(SYS_fork, sys_clone::fork, FULL, []),
    sys!(SYS_vfork, sys_clone::vfork, FULL, []),
    sys!(SYS_execve, sys_exec::execve, FULL, [Path, Hex, Hex]),
    sys!(SYS_execveat, sys_exec::execveat, FULL, [Fd, Path, Hex, Hex, Hex]),
    sys!(SYS_wait4, sys_wait::wait4, FULL, [Int, Hex, Hex, Hex]),
    sys!(SYS_waitid, sys_wait::waitid, FULL, [Int, Int, Hex, Hex, Hex]),
    sys!(SYS_getrusage, sys_usage::getrusage, Support::Partial("CPU times and maxrss only"), [Int, Hex]),
    sys!(SYS_times, sys_usage::times, FULL, [Hex]),
    sys!(SYS_setpgid, sys_pgrp::setpgid, FULL, [Int, Int]),
    sys!(SYS_getpgid, sys_pgrp::getpgid, FULL, [Int]),
    sys!(SYS_getpgrp, sys_pgrp::getpgrp, FULL, []),
    sys!(SYS_setsid, sys_pgrp::setsid, FULL, []),
    sys!(SYS_getsid, sys_pgrp::getsid, FULL, [Int]),
    sys!(SYS_sched_setaffinity, sys_sched::sched_setaffinity, FULL, [Int, Int, Hex]),
    sys!(SYS_sched_getparam, sys_sched::sched_getparam, FULL, [Int, Hex]),
    sys!(SYS_sched_setparam, sys_sched::sched_setparam, FULL, [Int, Hex]),
    sys!(SYS_sched_getscheduler, sys_sched::sched_getscheduler, FULL, [Int]),
    sys!(SYS_sched_setscheduler, sys_sched::sched_setscheduler, FULL, [Int, Int, Hex]),
    sys!(SYS_sched_get_priority_max, sys_sched::sched_get_priority_max, FULL, [Int]),
    sys!(SYS_sched_get_priority_min, sys_sched::sched_get_priority_min, FULL, [Int]),
    sys!(SYS_sched_rr_get_interval, sys_sched::sched_rr_get_interval, FULL, [Int, Hex]),
    sys!(SYS_getpriority, sys_sched::getpriority, FULL, [Int, Int]),
    sys!(SYS_setpriority, sys_sched::setpriority, FULL, [Int, Int, Int]),
    sys!(SYS_sched_getattr, sys_sched::sched_getattr, FULL, [Int, Hex, Int, Hex]),
    sys!(SYS_sched_setattr, sys_sched::sched_setattr, Support::Partial("no SCHED_DEADLINE"), [Int, Hex, Hex]),
    sys!(SYS_getitimer, sys_timer::getitimer, FULL, [Int, Hex]),
    sys!(SYS_setitimer, sys_timer::setitimer, FULL, [Int, Hex, Hex]),
    sys!(SYS_alarm, sys_timer::alarm, FULL, [Int]),
    sys!(SYS_timer_create, sys_timer::timer_create, Support::Partial("wall clocks only"), [Int, Hex, Hex]),
    sys!(SYS_timer_settime, sys_timer::timer_settime, FULL, [Int, Hex, Hex, Hex]),
    sys!(SYS_timer_gettime, sys_timer::timer_gettime, FULL, [Int, Hex]),
    sys!(SYS_timer_getoverrun, sys_timer::timer_getoverrun, FULL, [Int]),
    sys!(SYS_timer_delete, sys_timer::timer_delete, FULL, [Int]),
    sys!(SYS_restart_syscall, sys_time::restart_syscall, FULL, []),
    sys!(SYS_get_robust_list, sys_thread::get_robust_list, FULL, [Int, Hex, Hex]),
    sys!(SYS_pipe, sys_pipe::pipe, FULL, [Hex]),
    sys!(SYS_poll, sys_poll::poll, FULL, [Hex, Int, Int]),
    sys!(SYS_ppoll, sys_poll::ppoll, FULL, [Hex, Int, Hex, Hex, Int]),
    sys!(SYS_select, sys_poll::select, FULL, [Int, Hex, Hex, Hex, Hex]),
    sys!(SYS_pselect6, sys_poll::pselect6, FULL, [Int, Hex, Hex, Hex, Hex, Hex]),
    sys!(SYS_epoll_create, sys_epoll::epoll_create, FULL, [Int]),
    sys!(SYS_epoll_create1, sys_epoll::epoll_create1, FULL, [Hex]),
    sys!(SYS_epoll_ctl, sys_epoll::epoll_ctl, FULL, [Fd, Int, Fd, Hex]),
    sys!(SYS_epoll_wait, sys_epoll::epoll_wait, FULL, [Fd, Hex, Int, Int]),
    sys!(SYS_epoll_pwait, sys_epoll::epoll_pwait, FULL, [Fd, Hex, Int, Int, Hex, Int]),
    sys!(SYS_epoll_pwait2, sys_epoll::epoll_pwait2, FULL, [Fd, Hex, Int, Hex, Hex, Int]),
    sys!(SYS_eventfd, sys_eventfd::eventfd, FULL, [Int]),
    sys!(SYS_eventfd2, sys_eventfd::eventfd2, FULL, [Int, Hex]),
    sys!(SYS_timerfd_create, sys_timerfd::timerfd_create, Support::Partial("no TFD_IOC_SET_TICKS"), [Int, Hex]),
    sys!(
        SYS_timerfd_settime,
        sys_timerfd::timerfd_settime,
        Support::Partial("CANCEL_ON_SET is accepted; the clock is never set"),
        [Fd, Hex, Hex, Hex]
    ),
    sys!(SYS_timerfd_gettime, sys_timerfd::timerfd_gettime, FULL, [Fd, Hex]),
    sys!(SYS_signalfd, sys_signalfd::signalfd, FULL, [Fd, Hex, Int]),
    sys!(SYS_signalfd4, sys_signalfd::signalfd4, FULL, [Fd, Hex, Int, Hex]),
    sys!(SYS_pipe2, sys_pipe::pipe2, Support::Partial("no notification pipes"), [Hex, Hex]),
    sys!(SYS_clock_settime, sys_time::clock_settime, Support::Partial("clocks cannot be set: EPERM"), [Int, Hex]),
    sys!(SYS_settimeofday, sys_time::settimeofday, Support::Partial("clocks cannot be set: EPERM"), [Hex, Hex]),
    sys!(SYS_shmget, sys_shm::shmget, FULL, [Int, Int, Oct]),
    sys!(SYS_shmat, sys_shm::shmat, FULL, [Int, Hex, Oct]),
    sys!(SYS_shmdt, sys_shm::shmdt, FULL, [Hex]),
    sys!(SYS_shmctl, sys_shm::shmctl, FULL, [Int, Int, Hex]),
    sys!(SYS_semget, sys_sem::semget, FULL, [Int, Int, Oct]),
    sys!(SYS_semop, sys_sem::semop, FULL, [Int, Hex, Int]),
    sys!(SYS_semtimedop, sys_sem::semtimedop, FULL, [Int, Hex, Int, Hex]),
    sys!(SYS_semctl, sys_sem::semctl, FULL, [Int, Int, Int, Hex]),
    sys!(SYS_msgget, sys_msg::msgget, FULL, [Int, Oct]),
    sys!(SYS_msgsnd, sys_msg::msgsnd, FULL, [Int, Hex, Int, Oct]),
    sys!(SYS_msgrcv, sys_msg::msgrcv, FULL, [Int, Hex, Int, Int, Oct]),
    sys!(SYS_msgctl, sys_msg::msgctl, FULL, [Int, Int, Hex]),
    sys!(
        SYS_mq_open,
        sys_mq::mq_open,
        Support::Partial("no /dev/mqueue filesystem; SIGEV_THREAD notification is EBADF"),
        [Path, Hex, Oct, Hex]
    ),
    sys!(SYS_mq_unlink, sys_mq::mq_unlink, FULL, [Path]),
    sys!(SYS_mq_timedsend, sys_mq::mq_timedsend, FULL, [Fd, InBuf, Int, Int, Hex]),
    sys!(SYS_mq_timedreceive, sys_mq::mq_timedreceive, FULL, [Fd, OutBuf, Int, Hex, Hex]),
    sys!(SYS_mq_notify, sys_mq::mq_notify, Support::Partial("SIGEV_SIGNAL and SIGEV_NONE"), [Fd, Hex]),
    sys!(SYS_mq_getsetattr, sys_mq::mq_getsetattr, FULL, [Fd, Hex, Hex]),
    sys!(
        SYS_personality,
        sys_prctl::personality,
        Support::Partial("ADDR_NO_RANDOMIZE acts; other flags are kept"),
        [Hex]
    ),
    sys!(SYS_socket, sys_socket::socket, Support::Partial("AF_UNIX only"), [Int, Int, Int]),
    sys!(SYS_socketpair, sys_socket::socketpair, Support::Partial("AF_UNIX only"), [Int, Int, Int, Hex]),
    sys!(SYS_bind, sys_socket::bind, FULL, [Fd, Hex, Int]),
    sys!(SYS_listen, sys_socket::listen, FULL, [Fd, Int]),
    sys!(SYS_connect, sys_socket::connect, FULL, [Fd, Hex, Int]),
    sys!(SYS_accept, sys_socket::accept, FULL, [Fd, Hex, Hex]),
    sys!(SYS_accept4, sys_socket::accept4, FULL, [Fd, Hex, Hex, Hex]),
    sys!(SYS_getsockname, sys_socket::getsockname, FULL, [Fd, Hex, Hex]),
    sys!(SYS_getpeername, sys_socket::getpeername, FULL, [Fd, Hex, Hex]),
    sys!(SYS_shutdown, sys_socket::shutdown, FULL, [Fd, Int]),
    sys!(SYS_sendto, sys_socket::sendto, FULL, [Fd, InBuf, Int, Hex, Hex, Int]),
    sys!(SYS_recvfrom, sys_socket::recvfrom, FULL, [Fd, OutBuf, Int, Hex, Hex, Hex]),
    sys!(SYS_sendmsg, sys_socket::sendmsg, FULL, [Fd, Hex, Hex]),
    sys!(SYS_recvmsg, sys_socket::recvmsg, FULL, [Fd, Hex, Hex]),
    sys!(SYS_sendmmsg, sys_socket::sendmmsg, FULL, [Fd, Hex, Int, Hex]),
    sys!(SYS_recvmmsg, sys_socket::recvmmsg, FULL, [Fd, Hex, Int, Hex, Hex]),
    sys!(SYS_setsockopt, sys_socket::setsockopt, Support::Partial("SOL_SOCKET options"), [Fd, Int, Int, Hex, Int]),
    sys!(SYS_getsockopt, sys_socket::getsockopt, Support::Partial("SOL_SOCKET options"), [Fd, Int, Int, Hex, Hex]),
    sys!(SYS_pidfd_open, sys_pidfd::pidfd_open, FULL, [Int, Hex]),
    sys!(SYS_pidfd_send_signal, sys_pidfd::pidfd_send_signal, FULL, [Fd, Signal, Hex, Hex]),
    sys!(SYS_pidfd_getfd, sys_pidfd::pidfd_getfd, FULL, [Fd, Fd, Hex]),
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
    sys!(SYS_sched_yield, sys_sched::sched_yield, FULL, []),
    sys!(SYS_mremap, sys_mmap::mremap, Support::Partial("no MREMAP_DONTUNMAP"), [Hex, Int, Int, Hex, Hex]),
    sys!(SYS_madvise, sys_mmap::madvise, FULL, [Hex, Int, Int]),
    sys!(
        SYS_mincore,
        sys_mmap::mincore,
        Support::Partial("a file's pages count once this process touched them"),
        [Hex, Int, Hex]
    ),
    sys!(SYS_dup, sys_file::dup, FULL, [Fd]),
    sys!(SYS_dup2, sys_file::dup2, FULL, [Fd, Fd]),
    sys!(SYS_nanosleep, sys_time::nanosleep, FULL, [Hex, Hex]),
    sys!(SYS_getpid, sys_thread::getpid, FULL, []),
    sys!(SYS_exit, sys_thread::exit, FULL, [Int]),
    sys!(SYS_uname, sys_info::uname, FULL, [Hex]),
    sys!(SYS_fcntl, sys_file::fcntl, Support::Partial("no locks, leases or seals"), [Fd, Int, Hex]),
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
    sys!(SYS_setuid, sys_identity::setuid, FULL, [Int]),
    sys!(SYS_setgid, sys_identity::setgid, FULL, [Int]),
    sys!(SYS_setreuid, sys_identity::setreuid, FULL, [Int, Int]),
    sys!(SYS_setregid, sys_identity::setregid, FULL, [Int, Int]),
    sys!(SYS_setresuid, sys_identity::setresuid, FULL, [Int, Int, Int]),
    sys!(SYS_setresgid, sys_identity::setresgid, FULL, [Int, Int, Int]),
    sys!(SYS_getresuid, sys_identity::getresuid, FULL, [Hex, Hex, Hex]),
    sys!(SYS_getresgid, sys_identity::getresgid, FULL, [Hex, Hex, Hex]),
    sys!(SYS_setfsuid, sys_identity::setfsuid, FULL, [Int]),
    sys!(SYS_setfsgid, sys_identity::setfsgid, FULL, [Int]),
    sys!(SYS_setgroups, sys_identity::setgroups, FULL, [Int, Hex]),
    sys!(SYS_capget, sys_identity::capget, FULL, [Hex, Hex]),
    sys!(SYS_capset, sys_identity::capset, FULL, [Hex, Hex]),
    sys!(SYS_getgroups, sys_identity::getgroups, FULL, [Int, Hex]),
    sys!(SYS_setrlimit, sys_rlimit::setrlimit, FULL, [Int, Hex]),
    sys!(SYS_arch_prctl, sys_thread::arch_prctl, Support::Partial("FS and GS bases only"), [Hex, Hex]),
    sys!(SYS_gettid, sys_thread::gettid, FULL, []),
    sys!(SYS_time, sys_time::time, FULL, [Hex]),
    sys!(SYS_sched_getaffinity, sys_sched::sched_getaffinity, FULL, [Int, Int, Hex]),
    sys!(SYS_set_tid_address, sys_thread::set_tid_address, FULL, [Hex]),
    sys!(SYS_clock_gettime, sys_time::clock_gettime, FULL, [Int, Hex]),
    sys!(SYS_clock_getres, sys_time::clock_getres, FULL, [Int, Hex]),
    sys!(SYS_clock_nanosleep, sys_time::clock_nanosleep, FULL, [Int, Hex, Hex, Hex]),
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
    sys!(SYS_futex, sys_futex::futex, FULL, [Hex, Hex, Int, Hex, Hex, Hex]),
    sys!(SYS_futex_waitv, sys_futex::futex_waitv, FULL, [Hex, Int, Hex, Hex, Int]),
    sys!(SYS_kill, sys_signal::kill, FULL, [Int, Signal]),
    sys!(SYS_tgkill, sys_signal::tgkill, FULL, [Int, Int, Signal]),
    sys!(SYS_tkill, sys_signal::tkill, FULL, [Int, Signal]),
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
    sys!(SYS_sigaltstack, sys_signal::sigaltstack, FULL, [Hex, Hex]),
    sys!(SYS_fadvise64, sys_file::fadvise64, FULL, [Fd, Int, Int, Int]),
    sys!(
        SYS_sendfile,
        sys_sendfile::sendfile,
        Support::Partial("copies through a sentry buffer; unseekable input read past a short write is lost"),
        [Fd, Fd, Hex, Int]
    ),
    sys!(SYS_getdents64, sys_getdents::getdents64, FULL, [Fd, Hex, Int]),
];
