//! getuid, geteuid, getgid, getegid, getgroups.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// getuid(2).
pub fn getuid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.creds.uid as u64)
}

/// geteuid(2).
pub fn geteuid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.creds.euid as u64)
}

/// getgid(2).
pub fn getgid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.creds.gid as u64)
}

/// getegid(2).
pub fn getegid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.creds.egid as u64)
}

/// getgroups(2).
pub fn getgroups(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let size = a.a[0] as i32;
    if size < 0 {
        return Err(Errno::EINVAL.into());
    }
    let groups = t.creds.groups.clone();
    if size == 0 {
        return Ok(groups.len() as u64);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL.into());
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    t.mm().copy_out(a.a[1], &bytes)?;
    Ok(groups.len() as u64)
}
