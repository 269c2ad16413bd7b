//! Identity: getuid, geteuid, getgid, getegid, getgroups, the set*id
//! family (setuid, setgid, setreuid, setregid, setresuid, setresgid,
//! setfsuid, setfsgid, setgroups), getresuid, getresgid, and the
//! capability sets (capget, capset), with Linux's permission rules
//! (CAP_SETUID, CAP_SETGID) and their effects on capabilities.

use sentry::abi::cap::{CapData, CapHeader};
use sentry::abi::Errno;
use sentry::auth::{Credentials, ALL_CAPS, CAP_SETGID, CAP_SETPCAP, CAP_SETUID};
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

/// NGROUPS_MAX.
const NGROUPS_MAX: usize = 65536;

/// Replaces the caller's ids with `f`'s result, with the capability
/// effects of the uid change.
fn change_ids(t: &mut Task, f: impl FnOnce(&Credentials, &mut Credentials) -> Result<(), Errno>) -> SyscallResult {
    let old = (*t.creds).clone();
    let mut new = old.clone();
    f(&old, &mut new)?;
    let keep = t.tg.state().keepcaps;
    new.fix_caps_after_setuid(&old, keep);
    t.set_creds(new);
    Ok(0)
}

/// An id argument: -1 is "unchanged".
fn id_arg(v: u64) -> Option<u32> {
    let v = v as u32;
    (v != u32::MAX).then_some(v)
}

/// setuid(2).
pub fn setuid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let Some(uid) = id_arg(a.a[0]) else { return Err(Errno::EINVAL.into()) };
    change_ids(t, |old, new| {
        if old.capable(CAP_SETUID) {
            new.uid = uid;
            new.suid = uid;
        } else if uid != old.uid && uid != old.suid {
            return Err(Errno::EPERM);
        }
        new.euid = uid;
        new.fsuid = uid;
        Ok(())
    })
}

/// setgid(2).
pub fn setgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let Some(gid) = id_arg(a.a[0]) else { return Err(Errno::EINVAL.into()) };
    change_ids(t, |old, new| {
        if old.capable(CAP_SETGID) {
            new.gid = gid;
            new.sgid = gid;
        } else if gid != old.gid && gid != old.sgid {
            return Err(Errno::EPERM);
        }
        new.egid = gid;
        new.fsgid = gid;
        Ok(())
    })
}

/// setreuid(2).
pub fn setreuid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (r, e) = (id_arg(a.a[0]), id_arg(a.a[1]));
    change_ids(t, |old, new| {
        let cap = old.capable(CAP_SETUID);
        if let Some(r) = r {
            if r != old.uid && r != old.euid && !cap {
                return Err(Errno::EPERM);
            }
            new.uid = r;
        }
        if let Some(e) = e {
            if e != old.uid && e != old.euid && e != old.suid && !cap {
                return Err(Errno::EPERM);
            }
            new.euid = e;
        }
        if r.is_some() || e.is_some_and(|e| e != old.uid) {
            new.suid = new.euid;
        }
        new.fsuid = new.euid;
        Ok(())
    })
}

/// setregid(2).
pub fn setregid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (r, e) = (id_arg(a.a[0]), id_arg(a.a[1]));
    change_ids(t, |old, new| {
        let cap = old.capable(CAP_SETGID);
        if let Some(r) = r {
            if r != old.gid && r != old.egid && !cap {
                return Err(Errno::EPERM);
            }
            new.gid = r;
        }
        if let Some(e) = e {
            if e != old.gid && e != old.egid && e != old.sgid && !cap {
                return Err(Errno::EPERM);
            }
            new.egid = e;
        }
        if r.is_some() || e.is_some_and(|e| e != old.gid) {
            new.sgid = new.egid;
        }
        new.fsgid = new.egid;
        Ok(())
    })
}

/// setresuid(2).
pub fn setresuid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ids = [id_arg(a.a[0]), id_arg(a.a[1]), id_arg(a.a[2])];
    change_ids(t, |old, new| {
        let mine = [old.uid, old.euid, old.suid];
        if !old.capable(CAP_SETUID) && ids.iter().flatten().any(|i| !mine.contains(i)) {
            return Err(Errno::EPERM);
        }
        new.uid = ids[0].unwrap_or(old.uid);
        new.euid = ids[1].unwrap_or(old.euid);
        new.suid = ids[2].unwrap_or(old.suid);
        new.fsuid = new.euid;
        Ok(())
    })
}

/// setresgid(2).
pub fn setresgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ids = [id_arg(a.a[0]), id_arg(a.a[1]), id_arg(a.a[2])];
    change_ids(t, |old, new| {
        let mine = [old.gid, old.egid, old.sgid];
        if !old.capable(CAP_SETGID) && ids.iter().flatten().any(|i| !mine.contains(i)) {
            return Err(Errno::EPERM);
        }
        new.gid = ids[0].unwrap_or(old.gid);
        new.egid = ids[1].unwrap_or(old.egid);
        new.sgid = ids[2].unwrap_or(old.sgid);
        new.fsgid = new.egid;
        Ok(())
    })
}

/// getresuid(2).
pub fn getresuid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let c = t.creds.clone();
    t.copy_out(a.a[0], &c.uid)?;
    t.copy_out(a.a[1], &c.euid)?;
    t.copy_out(a.a[2], &c.suid)?;
    Ok(0)
}

/// getresgid(2).
pub fn getresgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let c = t.creds.clone();
    t.copy_out(a.a[0], &c.gid)?;
    t.copy_out(a.a[1], &c.egid)?;
    t.copy_out(a.a[2], &c.sgid)?;
    Ok(0)
}

/// setfsuid(2): returns the old fsuid, whether or not it changed.
pub fn setfsuid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let old = (*t.creds).clone();
    let uid = a.a[0] as u32;
    let allowed =
        uid != u32::MAX && ([old.uid, old.euid, old.suid, old.fsuid].contains(&uid) || old.capable(CAP_SETUID));
    if allowed && uid != old.fsuid {
        let mut new = old.clone();
        new.fsuid = uid;
        new.fix_caps_after_setfsuid(&old);
        t.set_creds(new);
    }
    Ok(old.fsuid as u64)
}

/// setfsgid(2): returns the old fsgid, whether or not it changed.
pub fn setfsgid(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let old = (*t.creds).clone();
    let gid = a.a[0] as u32;
    let allowed =
        gid != u32::MAX && ([old.gid, old.egid, old.sgid, old.fsgid].contains(&gid) || old.capable(CAP_SETGID));
    if allowed && gid != old.fsgid {
        let mut new = old.clone();
        new.fsgid = gid;
        t.set_creds(new);
    }
    Ok(old.fsgid as u64)
}

/// setgroups(2).
pub fn setgroups(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let n = a.a[0] as i32;
    if n < 0 || n as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL.into());
    }
    let mut raw = vec![0u8; n as usize * 4];
    t.mm().copy_in(a.a[1], &mut raw)?;
    // A namespace whose setgroups is "deny" refuses even its root.
    if !t.creds.capable(CAP_SETGID) || t.kernel.setgroups_denied() {
        return Err(Errno::EPERM.into());
    }
    let mut groups: Vec<u32> = raw.chunks_exact(4).map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect();
    groups.sort_unstable();
    let mut new = (*t.creds).clone();
    new.groups = groups;
    t.set_creds(new);
    Ok(0)
}

/// Capability header versions.
const CAP_V1: u32 = 0x1998_0330;
const CAP_V2: u32 = 0x2007_1026;
const CAP_V3: u32 = 0x2008_0522;

/// The number of 32-bit words a header version carries, or EINVAL after
/// writing the preferred version back (as Linux's cap_validate_magic).
fn cap_words(t: &Task, hdr: u64) -> Result<(usize, i32), Errno> {
    let h: CapHeader = t.copy_in(hdr)?;
    match h.version {
        CAP_V1 => Ok((1, h.pid)),
        CAP_V2 | CAP_V3 => Ok((2, h.pid)),
        _ => {
            t.copy_out(hdr, &CapHeader { version: CAP_V3, pid: h.pid })?;
            Err(Errno::EINVAL)
        }
    }
}

/// capget(2).
pub fn capget(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (words, pid) = cap_words(t, a.a[0])?;
    if pid < 0 {
        return Err(Errno::EINVAL.into());
    }
    let caps = if pid == 0 || pid == t.tid {
        t.creds.caps
    } else {
        t.kernel.tasks.task(pid).ok_or(Errno::ESRCH)?.resources().creds.caps
    };
    if a.a[1] == 0 {
        return Ok(0);
    }
    for i in 0..words {
        let w = |v: u64| (v >> (32 * i)) as u32;
        let d =
            CapData { effective: w(caps.effective), permitted: w(caps.permitted), inheritable: w(caps.inheritable) };
        t.copy_out(a.a[1] + (i * std::mem::size_of::<CapData>()) as u64, &d)?;
    }
    Ok(0)
}

/// capset(2): only the caller's own sets, within Linux's limits.
pub fn capset(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (words, pid) = cap_words(t, a.a[0])?;
    if pid != 0 && pid != t.tid {
        return Err(Errno::EPERM.into());
    }
    let (mut eff, mut perm, mut inh) = (0u64, 0u64, 0u64);
    for i in 0..words {
        let d: CapData = t.copy_in(a.a[1] + (i * std::mem::size_of::<CapData>()) as u64)?;
        eff |= (d.effective as u64) << (32 * i);
        perm |= (d.permitted as u64) << (32 * i);
        inh |= (d.inheritable as u64) << (32 * i);
    }
    let old = (*t.creds).clone();
    let c = old.caps;
    let limit = if old.capable(CAP_SETPCAP) { c.inheritable | c.bounding } else { c.inheritable | c.permitted };
    if inh & !limit != 0 || inh & !(c.inheritable | c.bounding) != 0 || perm & !c.permitted != 0 || eff & !perm != 0 {
        return Err(Errno::EPERM.into());
    }
    let mut new = old.clone();
    new.caps.effective = eff & ALL_CAPS;
    new.caps.permitted = perm & ALL_CAPS;
    new.caps.inheritable = inh & ALL_CAPS;
    // Ambient capabilities must stay permitted and inheritable.
    new.caps.ambient &= new.caps.permitted & new.caps.inheritable;
    t.set_creds(new);
    Ok(0)
}
