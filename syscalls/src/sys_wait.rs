//! wait4 and waitid.

use sentry::abi::signal::{Rusage, WaitidInfo};
use sentry::abi::{Errno, Timeval};
use sentry::kernel::thread_group::Usage;
use sentry::kernel::wait::{WaitOptions, WaitResult, WaitTarget};
use sentry::kernel::{SyscallArgs, SyscallError, SyscallResult, Task};

use crate::sys_pidfd::pidfd_target_flags;

const WNOHANG: i32 = 1;
const WUNTRACED: i32 = 2;
const WEXITED: i32 = 4;
const WCONTINUED: i32 = 8;
const WNOWAIT: i32 = 0x0100_0000;
const WNOTHREAD: i32 = 0x2000_0000;
const WALL: i32 = 0x4000_0000;
const WCLONE: i32 = 0x8000_0000u32 as i32;

const P_ALL: i32 = 0;
const P_PID: i32 = 1;
const P_PGID: i32 = 2;
const P_PIDFD: i32 = 3;

fn tv(ns: u64) -> Timeval {
    Timeval { tv_sec: (ns / 1_000_000_000) as i64, tv_usec: ((ns % 1_000_000_000) / 1000) as i64 }
}

/// A `struct rusage` with CPU times (and nothing else counted yet).
pub fn rusage_of(u: Usage, maxrss_kb: u64) -> Rusage {
    Rusage { utime: tv(u.user), stime: tv(u.sys), maxrss: maxrss_kb as i64, ..Default::default() }
}

fn write_rusage(t: &Task, addr: u64, r: &WaitResult) -> Result<(), Errno> {
    if addr != 0 {
        t.copy_out(addr, &rusage_of(r.usage, r.maxrss))?;
    }
    Ok(())
}

/// wait4(2).
pub fn wait4(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, wstatus, options, rusage) = (a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3]);
    if options & !(WNOHANG | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH.into());
    }
    let target = match pid {
        p if p < -1 => WaitTarget::Group(-p),
        -1 => WaitTarget::Any,
        0 => WaitTarget::Group(0),
        p => WaitTarget::Pid(p),
    };
    let opts = WaitOptions {
        exited: true,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
        nohang: options & WNOHANG != 0,
        nowait: false,
        clone_only: options & WCLONE != 0,
        all: options & WALL != 0,
        nothread: options & WNOTHREAD != 0,
    };
    match t.wait_child(target, opts)? {
        Some(r) => {
            if wstatus != 0 {
                t.copy_out(wstatus, &r.wait_status)?;
            }
            write_rusage(t, rusage, &r)?;
            Ok(r.pid as u64)
        }
        None => Ok(0),
    }
}

/// waitid(2). As Linux, the siginfo is written whatever the outcome
/// (zeros when no child is reported), and a bad infop turns any result into
/// EFAULT.
pub fn waitid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (idtype, id, infop, options, rusage) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3] as i32, a.a[4]);
    let r = do_waitid(t, idtype, id, options);
    if let Ok(Some(r)) = &r {
        write_rusage(t, rusage, r)?;
    }
    if infop != 0 {
        let info = match &r {
            Ok(Some(r)) => WaitidInfo {
                signo: libc::SIGCHLD,
                errno: 0,
                code: r.code,
                pad: 0,
                pid: r.pid,
                uid: r.uid,
                status: r.status,
            },
            _ => WaitidInfo::default(),
        };
        t.copy_out(infop, &info)?;
    }
    r?;
    Ok(0)
}

fn do_waitid(t: &mut Task, idtype: i32, id: i32, options: i32) -> Result<Option<WaitResult>, SyscallError> {
    if options & !(WNOHANG | WNOWAIT | WEXITED | WUNTRACED | WCONTINUED | WNOTHREAD | WALL | WCLONE) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if options & (WEXITED | WUNTRACED | WCONTINUED) == 0 {
        return Err(Errno::EINVAL.into());
    }
    let mut nohang = options & WNOHANG != 0;
    let mut nonblocking_pidfd = false;
    let target = match idtype {
        P_ALL => WaitTarget::Any,
        P_PID if id > 0 => WaitTarget::Pid(id),
        P_PGID if id >= 0 => WaitTarget::Group(id),
        P_PIDFD if id >= 0 => {
            let (tg, flags) = pidfd_target_flags(t, id)?;
            // A non-blocking pidfd waits as with WNOHANG, and says EAGAIN
            // when the caller did not ask for that.
            nonblocking_pidfd = flags & libc::O_NONBLOCK as u32 != 0;
            nohang |= nonblocking_pidfd;
            WaitTarget::Pid(tg.pid)
        }
        _ => return Err(Errno::EINVAL.into()),
    };
    let opts = WaitOptions {
        exited: options & WEXITED != 0,
        stopped: options & WUNTRACED != 0,
        continued: options & WCONTINUED != 0,
        nohang,
        nowait: options & WNOWAIT != 0,
        clone_only: options & WCLONE != 0,
        all: options & WALL != 0,
        nothread: options & WNOTHREAD != 0,
    };
    let r = t.wait_child(target, opts)?;
    if r.is_none() && nonblocking_pidfd && options & WNOHANG == 0 {
        return Err(Errno::EAGAIN.into());
    }
    Ok(r)
}
