//! getrlimit, setrlimit, prlimit64.

use sentry::abi::{Errno, Rlimit};
use sentry::kernel::limits::RLIM_NLIMITS;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// fs.nr_open: the most RLIMIT_NOFILE may be.
const NR_OPEN: u64 = 1 << 20;

fn prlimit(t: &Task, resource: u64, new: Option<Rlimit>, old_addr: u64) -> SyscallResult {
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
    let mut st = t.tg.state();
    let old = st.rlimits[r];
    if let Some(n) = new {
        if n.max > old.max && st.creds.euid != 0 {
            return Err(Errno::EPERM.into());
        }
    }
    if old_addr != 0 {
        t.copy_out(old_addr, &old)?;
    }
    if let Some(n) = new {
        st.rlimits[r] = n;
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
    prlimit(t, a.a[0], None, a.a[1])
}

/// setrlimit(2).
pub fn setrlimit(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] >= RLIM_NLIMITS as u64 {
        return Err(Errno::EINVAL.into());
    }
    let new: Rlimit = t.copy_in(a.a[1])?;
    prlimit(t, a.a[0], Some(new), 0)
}

/// prlimit64(2).
pub fn prlimit64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let pid = a.a[0] as i32;
    if pid != 0 && pid != t.tg.pid {
        return Err(Errno::ESRCH.into());
    }
    let new = if a.a[2] != 0 { Some(t.copy_in::<Rlimit>(a.a[2])?) } else { None };
    prlimit(t, a.a[1], new, a.a[3])
}
