//! Process groups and sessions: setpgid, getpgid, getpgrp, setsid, getsid.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// setpgid(2).
pub fn setpgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, pgid) = (a.a[0] as i32, a.a[1] as i32);
    let me = t.tg.pid;
    let pid = if pid == 0 { me } else { pid };
    let pgid = if pgid == 0 { pid } else { pgid };
    // Checked after the defaults, as Linux: setpgid(-1, 0) is EINVAL.
    if pgid < 0 {
        return Err(Errno::EINVAL.into());
    }
    let mut tree = t.kernel.tasks.write();
    let my_sid = tree.procs.get(&me).ok_or(Errno::ESRCH)?.sid;
    let target = tree.procs.get(&pid).filter(|p| p.zombie.is_none()).ok_or(Errno::ESRCH)?;
    if pid != me {
        if target.parent != me {
            return Err(Errno::ESRCH.into());
        }
        if target.sid != my_sid {
            return Err(Errno::EPERM.into());
        }
        if target.tg.state().execed {
            return Err(Errno::EACCES.into());
        }
    }
    if target.sid == pid {
        // A session leader's group is fixed.
        return Err(Errno::EPERM.into());
    }
    if pgid != pid {
        let ok = tree.procs.values().any(|p| p.pgid == pgid && p.sid == my_sid && p.zombie.is_none());
        if !ok {
            return Err(Errno::EPERM.into());
        }
    }
    tree.set_pgid(pid, pgid);
    Ok(0)
}

fn lookup(t: &Task, pid: i32, f: impl Fn(&sentry::kernel::task_set::Proc) -> i32) -> SyscallResult {
    if pid < 0 {
        return Err(Errno::ESRCH.into());
    }
    let pid = if pid == 0 { t.tg.pid } else { pid };
    let tree = t.kernel.tasks.read();
    tree.procs.get(&pid).map(|p| f(p) as u64).ok_or(Errno::ESRCH.into())
}

/// getpgid(2).
pub fn getpgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    lookup(t, a.a[0] as i32, |p| p.pgid)
}

/// getpgrp(2).
pub fn getpgrp(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    lookup(t, 0, |p| p.pgid)
}

/// getsid(2).
pub fn getsid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    lookup(t, a.a[0] as i32, |p| p.sid)
}

/// setsid(2).
pub fn setsid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    let me = t.tg.pid;
    let mut tree = t.kernel.tasks.write();
    // Not for a process group leader, nor if a group has its pid.
    if tree.procs.values().any(|p| p.pgid == me) {
        return Err(Errno::EPERM.into());
    }
    tree.set_sid(me);
    Ok(me as u64)
}
