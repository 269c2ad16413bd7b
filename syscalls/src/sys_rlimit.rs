//! getrlimit, setrlimit, prlimit64.

use std::sync::Arc;

use sentry::abi::{Errno, Rlimit};
use sentry::kernel::limits::RLIM_NLIMITS;
use sentry::kernel::{SyscallArgs, SyscallResult, Task, ThreadGroup};

/// fs.nr_open: the most RLIMIT_NOFILE may be.
const NR_OPEN: u64 = 1 << 20;

fn prlimit(t: &Task, tg: &Arc<ThreadGroup>, resource: u64, new: Option<Rlimit>, old_addr: u64) -> SyscallResult {
    if resource >= RLIM_NLIMITS as u64 {
        return Err(Errno::EINVAL.into());
    }
    let r = resource as usize;
    if let Some(n) = new {
        if n.cur > n.max {
            return Err(Errno::EINVAL.into());
        }
        if r == libc::RLIMIT_NOFILE as usize && n.max > NR_OPEN {
            return Err(Errno::EPERM.into());
        }
    }
    let old = {
        let mut st = tg.state();
        let old = st.rlimits[r];
        if let Some(n) = new {
            if n.max > old.max && t.creds.euid != 0 {
                return Err(Errno::EPERM.into());
            }
            st.rlimits[r] = n;
        }
        old
    };
    if old_addr != 0 {
        if let Err(e) = t.copy_out(old_addr, &old) {
            if new.is_some() {
                tg.state().rlimits[r] = old;
            }
            return Err(e.into());
        }
    }
    if r == libc::RLIMIT_CPU as usize && new.is_some() {
        sentry::kernel::cpu_clock::watch_cpu_limit(&t.kernel, tg);
    }
    Ok(0)
}

/// getrlimit(2).
pub fn getrlimit(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] >= RLIM_NLIMITS as u64 {
        return Err(Errno::EINVAL.into());
    }
    if a.a[1] == 0 {
        return Err(Errno::EFAULT.into());
    }
    let tg = t.tg.clone();
    prlimit(t, &tg, a.a[0], None, a.a[1])
}

/// setrlimit(2).
pub fn setrlimit(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] >= RLIM_NLIMITS as u64 {
        return Err(Errno::EINVAL.into());
    }
    let new: Rlimit = t.copy_in(a.a[1])?;
    let tg = t.tg.clone();
    prlimit(t, &tg, a.a[0], Some(new), 0)
}

/// prlimit64(2): the caller's or, with the permission to, another
/// process's limits.
pub fn prlimit64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let pid = a.a[0] as i32;
    let tg = if pid == 0 || pid == t.tg.pid {
        t.tg.clone()
    } else {
        let tg = t.kernel.thread_group(pid).ok_or(Errno::ESRCH)?;
        let target = tg.main_thread().ok_or(Errno::ESRCH)?.resources().creds;
        let c = &t.creds;
        let same = c.uid == target.uid
            && c.uid == target.euid
            && c.uid == target.suid
            && c.gid == target.gid
            && c.gid == target.egid
            && c.gid == target.sgid;
        if c.euid != 0 && !same {
            return Err(Errno::EPERM.into());
        }
        tg
    };
    let new = if a.a[2] != 0 { Some(t.copy_in::<Rlimit>(a.a[2])?) } else { None };
    prlimit(t, &tg, a.a[1], new, a.a[3])
}
