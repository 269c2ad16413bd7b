//! System V shared memory: shmget, shmat, shmdt, shmctl.

use std::sync::Arc;

use sentry::abi::ipc::{ShmInfo64, ShmUsage, ShmidDs};
use sentry::abi::{page_down, Errno, PAGE_SIZE};
use sentry::ipc::shm::{ShmSegment, SHMMAX, SHMMIN, SHMMNI, SHM_LOCKED};
use sentry::ipc::{now_secs, IpcObject, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::mm::{MapRequest, Placement, Segment, SegmentRef};

const SHM_RDONLY: i32 = 0o10000;
const SHM_RND: i32 = 0o20000;
const SHM_REMAP: i32 = 0o40000;
const SHM_EXEC: i32 = 0o100000;
const SHM_LOCK: i32 = 11;
const SHM_UNLOCK: i32 = 12;
const SHM_STAT: i32 = 13;
const SHM_INFO: i32 = 14;
const SHM_STAT_ANY: i32 = 15;
/// CAP_IPC_LOCK.
const CAP_IPC_LOCK: u32 = 14;

/// shmget(2).
pub fn shmget(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (key, size, flags) = (a.a[0] as i32, a.a[1], a.a[2] as i32);
    let k = t.kernel.clone();
    let id = k.ipc.shm.get(
        key,
        flags,
        &t.creds,
        |seg| if seg.size < size { Err(Errno::EINVAL) } else { Ok(()) },
        |perm| {
            // Beyond MAX_LFS_FILESIZE the backing file cannot be made.
            if !(SHMMIN..=SHMMAX).contains(&size) || size > i64::MAX as u64 {
                return Err(Errno::EINVAL);
            }
            ShmSegment::new(perm, size, &k.mf, &k.ipc, t.tg.pid)
        },
    )?;
    k.ipc.shm.find(id)?.registered(id);
    Ok(id as u64)
}

/// shmat(2).
pub fn shmat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, mut addr, flags) = (a.a[0] as i32, a.a[1], a.a[2] as i32);
    if id < 0 {
        return Err(Errno::EINVAL.into());
    }
    if addr != 0 {
        if !addr.is_multiple_of(PAGE_SIZE) {
            if flags & SHM_RND == 0 {
                return Err(Errno::EINVAL.into());
            }
            addr = page_down(addr);
            if addr == 0 && flags & SHM_REMAP != 0 {
                return Err(Errno::EINVAL.into());
            }
        }
    } else if flags & SHM_REMAP != 0 {
        return Err(Errno::EINVAL.into());
    }
    let rdonly = flags & SHM_RDONLY != 0;
    let mut prot = libc::PROT_READ;
    let mut want = 0o444;
    if !rdonly {
        prot |= libc::PROT_WRITE;
        want |= 0o222;
    }
    if flags & SHM_EXEC != 0 {
        prot |= libc::PROT_EXEC;
    }
    let seg = t.kernel.ipc.shm.find(id)?;
    if !seg.perm().allows(&t.creds, want) {
        return Err(Errno::EACCES.into());
    }
    if addr != 0 && flags & SHM_REMAP == 0 && addr.checked_add(seg.len()).is_none() {
        return Err(Errno::EINVAL.into());
    }
    let placement = match addr {
        0 => Placement::Hint(0),
        a if flags & SHM_REMAP != 0 => Placement::Fixed(a),
        a => Placement::FixedNoReplace(a),
    };
    let attach = SegmentRef::new(seg.clone() as Arc<dyn Segment>);
    let req = MapRequest {
        placement,
        len: seg.len(),
        prot,
        shared: true,
        file: None,
        name: None,
        may_write: !rdonly,
        below_2g: false,
        segment: Some((attach, seg.mf_off)),
    };
    let at = t.mm().mmap(req).map_err(|e| if e == Errno::EEXIST { Errno::EINVAL } else { e })?;
    {
        let mut s = seg.state();
        s.atime = now_secs();
        s.lpid = t.tg.pid;
    }
    Ok(at)
}

/// shmdt(2).
pub fn shmdt(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let addr = a.a[0];
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL.into());
    }
    t.mm().detach_segment(addr)?.detached_by(t.tg.pid);
    Ok(0)
}

/// shmctl(2).
pub fn shmctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, cmd, buf) = (a.a[0] as i32, a.a[1] as i32, a.a[2]);
    if cmd < 0 || id < 0 {
        return Err(Errno::EINVAL.into());
    }
    let ns = t.kernel.ipc.clone();
    match cmd {
        IPC_INFO => {
            let info = ShmInfo64 {
                shmmax: SHMMAX,
                shmmin: SHMMIN,
                shmmni: SHMMNI as u64,
                shmseg: SHMMNI as u64,
                shmall: SHMMAX,
                unused: [0; 4],
            };
            t.copy_out(buf, &info)?;
            Ok(ns.shm.max_index().max(0) as u64)
        }
        SHM_INFO => {
            let all = ns.shm.all();
            let pages: u64 = all.iter().map(|s| s.len() / PAGE_SIZE).sum();
            let u = ShmUsage { used_ids: all.len() as i32, shm_tot: pages, shm_rss: pages, ..Default::default() };
            t.copy_out(buf, &u)?;
            Ok(ns.shm.max_index().max(0) as u64)
        }
        SHM_STAT | SHM_STAT_ANY => {
            let (full, seg) = ns.shm.at_index(id)?;
            if cmd == SHM_STAT && !seg.perm().allows(&t.creds, 0o444) {
                return Err(Errno::EACCES.into());
            }
            t.copy_out(buf, &seg.stat())?;
            Ok(full as u64)
        }
        IPC_STAT => {
            let seg = ns.shm.find(id)?;
            if !seg.perm().allows(&t.creds, 0o444) {
                return Err(Errno::EACCES.into());
            }
            t.copy_out(buf, &seg.stat())?;
            Ok(0)
        }
        IPC_SET => {
            let ds: ShmidDs = t.copy_in(buf)?;
            let seg = ns.shm.find(id)?;
            let mut s = seg.state();
            if !s.perm.may_change(&t.creds) {
                return Err(Errno::EPERM.into());
            }
            s.perm.set(&ds.perm);
            s.ctime = now_secs();
            Ok(0)
        }
        IPC_RMID => {
            let seg = ns.shm.find(id)?;
            if !seg.perm().may_change(&t.creds) {
                return Err(Errno::EPERM.into());
            }
            seg.remove(&ns, id);
            Ok(0)
        }
        SHM_LOCK | SHM_UNLOCK => {
            let seg = ns.shm.find(id)?;
            let mut s = seg.state();
            if !t.creds.capable(CAP_IPC_LOCK) && t.creds.euid != s.perm.uid && t.creds.euid != s.perm.cuid {
                return Err(Errno::EPERM.into());
            }
            if cmd == SHM_LOCK {
                s.perm.mode |= SHM_LOCKED;
            } else {
                s.perm.mode &= !SHM_LOCKED;
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL.into()),
    }
}
