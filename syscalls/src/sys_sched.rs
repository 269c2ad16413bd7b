//! Scheduling: sched_yield, sched_getaffinity, sched_setaffinity,
//! sched_getparam, sched_setparam, sched_getscheduler, sched_setscheduler,
//! sched_get_priority_max/min, sched_rr_get_interval, getpriority,
//! setpriority, sched_getattr, sched_setattr.
//!
//! The attributes are recorded per task with Linux's checks and errnos; the
//! host schedules the sandbox's threads as it likes (they all run at the
//! sentry's priority).

use std::sync::Arc;

use sentry::abi::{Errno, Timespec};
use sentry::kernel::task::SchedAttr;
use sentry::kernel::{SyscallArgs, SyscallResult, Task, TaskShared};

const SCHED_RESET_ON_FORK: i32 = 0x4000_0000;
const SCHED_DEADLINE: i32 = 6;
const SCHED_FLAG_RESET_ON_FORK: u64 = 1;
/// sizeof(struct sched_attr), first version.
const SCHED_ATTR_SIZE_VER0: u32 = 48;
const PRIO_PROCESS: i32 = 0;
const PRIO_PGRP: i32 = 1;
const PRIO_USER: i32 = 2;

/// The task `pid` names (0: the caller); ESRCH for none (negative pids
/// included: callers that give EINVAL for those check first).
fn target(t: &Task, pid: i32) -> Result<Arc<TaskShared>, Errno> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    if pid == 0 || pid == t.tid {
        return Ok(t.shared.clone());
    }
    t.kernel.tasks.task(pid).ok_or(Errno::ESRCH)
}

/// Whether the caller may change `other`'s scheduling (same user, or root).
fn may_change(t: &Task, other: &TaskShared) -> bool {
    if t.creds.euid == 0 || std::ptr::eq(other, &*t.shared) {
        return true;
    }
    let c = other.resources().creds;
    t.creds.euid == c.uid || t.creds.euid == c.euid
}

fn rt(policy: i32) -> bool {
    policy == libc::SCHED_FIFO || policy == libc::SCHED_RR
}

/// Checks a policy and priority; EPERM for real-time ones beyond
/// RLIMIT_RTPRIO unless root.
fn check_policy(t: &Task, policy: i32, prio: i32) -> Result<(), Errno> {
    match policy {
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE => {
            if prio != 0 {
                return Err(Errno::EINVAL);
            }
        }
        libc::SCHED_FIFO | libc::SCHED_RR => {
            if !(1..=99).contains(&prio) {
                return Err(Errno::EINVAL);
            }
            if t.creds.euid != 0 && prio as u64 > t.rlimit(libc::RLIMIT_RTPRIO) {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(())
}

/// sched_yield(2).
pub fn sched_yield(_t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    std::thread::yield_now();
    Ok(0)
}

/// sched_getaffinity(2): the task's mask, limited to the sandbox's CPUs.
pub fn sched_getaffinity(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, len, addr) = (a.a[0] as i32, a.a[1] as usize, a.a[2]);
    let task = target(t, pid)?;
    let all = t.kernel.cpu_mask.clone();
    if len < all.len() || len % 8 != 0 {
        return Err(Errno::EINVAL.into());
    }
    let mine = task.sched().affinity.clone();
    let mask: Vec<u8> = if mine.is_empty() {
        all
    } else {
        all.iter().enumerate().map(|(i, b)| b & mine.get(i).copied().unwrap_or(0)).collect()
    };
    t.mm().copy_out(addr, &mask)?;
    Ok(mask.len() as u64)
}

/// sched_setaffinity(2).
pub fn sched_setaffinity(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, len, addr) = (a.a[0] as i32, a.a[1] as usize, a.a[2]);
    let task = target(t, pid)?;
    let all = t.kernel.cpu_mask.clone();
    let mut want = vec![0u8; len.min(4096)];
    t.mm().copy_in(addr, &mut want)?;
    if !may_change(t, &task) {
        return Err(Errno::EPERM.into());
    }
    let effective: Vec<u8> = all.iter().enumerate().map(|(i, b)| b & want.get(i).copied().unwrap_or(0)).collect();
    if effective.iter().all(|&b| b == 0) {
        return Err(Errno::EINVAL.into());
    }
    task.sched().affinity = effective;
    Ok(0)
}

/// sched_getscheduler(2).
pub fn sched_getscheduler(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[0] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let task = target(t, a.a[0] as i32)?;
    let s = task.sched();
    Ok((s.policy | if s.reset_on_fork { SCHED_RESET_ON_FORK } else { 0 }) as u64)
}

/// sched_setscheduler(2).
pub fn sched_setscheduler(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, policy) = (a.a[0] as i32, a.a[1] as i32);
    if a.a[2] == 0 || pid < 0 {
        return Err(Errno::EINVAL.into());
    }
    let prio: i32 = t.copy_in(a.a[2])?;
    let task = target(t, pid)?;
    let reset = policy & SCHED_RESET_ON_FORK != 0;
    let policy = policy & !SCHED_RESET_ON_FORK;
    check_policy(t, policy, prio)?;
    if !may_change(t, &task) {
        return Err(Errno::EPERM.into());
    }
    let mut s = task.sched();
    s.policy = policy;
    s.priority = prio;
    s.reset_on_fork = reset;
    Ok(0)
}

/// sched_getparam(2).
pub fn sched_getparam(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[1] == 0 || (a.a[0] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let task = target(t, a.a[0] as i32)?;
    let prio = task.sched().priority;
    t.copy_out(a.a[1], &prio)?;
    Ok(0)
}

/// sched_setparam(2).
pub fn sched_setparam(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[1] == 0 || (a.a[0] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let prio: i32 = t.copy_in(a.a[1])?;
    let task = target(t, a.a[0] as i32)?;
    let policy = task.sched().policy;
    check_policy(t, policy, prio)?;
    if !may_change(t, &task) {
        return Err(Errno::EPERM.into());
    }
    task.sched().priority = prio;
    Ok(0)
}

/// sched_get_priority_max(2).
pub fn sched_get_priority_max(_t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    match a.a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(99),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// sched_get_priority_min(2).
pub fn sched_get_priority_min(_t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    match a.a[0] as i32 {
        libc::SCHED_FIFO | libc::SCHED_RR => Ok(1),
        libc::SCHED_OTHER | libc::SCHED_BATCH | libc::SCHED_IDLE | SCHED_DEADLINE => Ok(0),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// sched_rr_get_interval(2): Linux's default round-robin slice (100 ms)
/// for SCHED_RR, none for SCHED_FIFO, and a fair-share slice otherwise.
pub fn sched_rr_get_interval(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[0] as i32) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let task = target(t, a.a[0] as i32)?;
    let policy = task.sched().policy;
    let ts = match policy {
        libc::SCHED_RR => Timespec { tv_sec: 0, tv_nsec: 100_000_000 },
        libc::SCHED_FIFO => Timespec { tv_sec: 0, tv_nsec: 0 },
        _ => Timespec { tv_sec: 0, tv_nsec: 3_000_000 },
    };
    t.copy_out(a.a[1], &ts)?;
    Ok(0)
}

/// The tasks `which`/`who` names for getpriority/setpriority.
fn prio_targets(t: &Task, which: i32, who: i32) -> Result<Vec<Arc<TaskShared>>, Errno> {
    let tree = t.kernel.tasks.read();
    let v: Vec<Arc<TaskShared>> = match which {
        PRIO_PROCESS => {
            if who == 0 {
                vec![t.shared.clone()]
            } else {
                tree.tasks.get(&who).cloned().into_iter().collect()
            }
        }
        PRIO_PGRP => {
            let pgid = if who == 0 { tree.procs.get(&t.tg.pid).map_or(0, |p| p.pgid) } else { who };
            tree.procs.values().filter(|p| p.pgid == pgid).flat_map(|p| p.tg.threads()).collect()
        }
        PRIO_USER => {
            let uid = if who == 0 { t.creds.uid } else { who as u32 };
            tree.tasks.values().filter(|x| x.resources().creds.uid == uid).cloned().collect()
        }
        _ => return Err(Errno::EINVAL),
    };
    if v.is_empty() {
        return Err(Errno::ESRCH);
    }
    Ok(v)
}

/// getpriority(2): 20 - nice of the highest-priority match (the raw
/// syscall's convention).
pub fn getpriority(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let v = prio_targets(t, a.a[0] as i32, a.a[1] as i32)?;
    let best = v.iter().map(|x| x.sched().nice).min().unwrap_or(0);
    Ok((20 - best) as u64)
}

/// setpriority(2).
pub fn setpriority(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let nice = (a.a[2] as i32).clamp(-20, 19);
    let v = prio_targets(t, a.a[0] as i32, a.a[1] as i32)?;
    let mut err = None;
    for x in &v {
        if !may_change(t, x) {
            err = Some(Errno::EPERM);
            continue;
        }
        let mut s = x.sched();
        let floor = 20 - t.rlimit(libc::RLIMIT_NICE).min(40) as i32;
        if nice < s.nice && t.creds.euid != 0 && nice < floor {
            err = Some(Errno::EACCES);
            continue;
        }
        s.nice = nice;
    }
    match err {
        Some(e) => Err(e.into()),
        None => Ok(0),
    }
}

/// `struct sched_attr` (first version) as bytes.
fn attr_bytes(a: &SchedAttr) -> [u8; 48] {
    let mut b = [0u8; 48];
    b[0..4].copy_from_slice(&SCHED_ATTR_SIZE_VER0.to_le_bytes());
    b[4..8].copy_from_slice(&(a.policy as u32).to_le_bytes());
    let flags = if a.reset_on_fork { SCHED_FLAG_RESET_ON_FORK } else { 0 };
    b[8..16].copy_from_slice(&flags.to_le_bytes());
    b[16..20].copy_from_slice(&a.nice.to_le_bytes());
    b[20..24].copy_from_slice(&(a.priority as u32).to_le_bytes());
    b
}

/// sched_getattr(2).
pub fn sched_getattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, uattr, size, flags) = (a.a[0] as i32, a.a[1], a.a[2] as u32, a.a[3]);
    if uattr == 0 || flags != 0 || pid < 0 || !(SCHED_ATTR_SIZE_VER0..=4096).contains(&size) {
        return Err(Errno::EINVAL.into());
    }
    let task = target(t, pid)?;
    let b = attr_bytes(&task.sched());
    let n = (size as usize).min(b.len());
    let mut out = vec![0u8; n];
    out.copy_from_slice(&b[..n]);
    out[0..4].copy_from_slice(&(n as u32).to_le_bytes());
    t.mm().copy_out(uattr, &out)?;
    Ok(0)
}

/// sched_setattr(2).
pub fn sched_setattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, uattr, flags) = (a.a[0] as i32, a.a[1], a.a[2]);
    if uattr == 0 || flags != 0 || pid < 0 {
        return Err(Errno::EINVAL.into());
    }
    let size: u32 = t.copy_in(uattr)?;
    let size = if size == 0 { SCHED_ATTR_SIZE_VER0 } else { size };
    if !(SCHED_ATTR_SIZE_VER0..=4096).contains(&size) {
        // Linux writes back the size it supports.
        let _ = t.copy_out(uattr, &SCHED_ATTR_SIZE_VER0);
        return Err(Errno::E2BIG.into());
    }
    let mut b = [0u8; 48];
    t.mm().copy_in(uattr, &mut b)?;
    let word = |at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let policy = word(4) as i32;
    let aflags = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8]));
    let nice = word(16) as i32;
    let prio = word(20) as i32;
    if aflags & !SCHED_FLAG_RESET_ON_FORK != 0 {
        return Err(Errno::EINVAL.into());
    }
    if policy == SCHED_DEADLINE {
        crate::log_once_unsupported("sched_setattr policy", SCHED_DEADLINE as u64);
        return Err(Errno::EINVAL.into());
    }
    check_policy(t, policy, prio)?;
    let task = target(t, pid)?;
    if !may_change(t, &task) {
        return Err(Errno::EPERM.into());
    }
    let mut s = task.sched();
    if !rt(policy) {
        let nice = nice.clamp(-20, 19);
        if nice < s.nice && t.creds.euid != 0 {
            return Err(Errno::EPERM.into());
        }
        s.nice = nice;
    }
    s.policy = policy;
    s.priority = prio;
    s.reset_on_fork = aflags & SCHED_FLAG_RESET_ON_FORK != 0;
    Ok(0)
}
