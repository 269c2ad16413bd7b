//! Signals: rt_sigaction, rt_sigprocmask, rt_sigpending, rt_sigsuspend,
//! rt_sigtimedwait, rt_sigqueueinfo, rt_tgsigqueueinfo, rt_sigreturn,
//! sigaltstack, kill, tgkill, tkill, pause.

use std::sync::Arc;

use sentry::abi::signal::{SA_KEPT, SI_TKILL, SI_USER};
use sentry::abi::{Errno, SigAction, SigInfo, StackT, Timespec};
use sentry::kernel::signal_frame::altstack_for_user;
use sentry::kernel::signal_send::Origin;
use sentry::kernel::signals::{bit, ignores, valid, UNBLOCKABLE};
use sentry::kernel::{SyscallArgs, SyscallError, SyscallResult, Task, ThreadGroup};

use crate::sys_time::deadline_after;

/// sizeof(sigset_t) in the kernel ABI.
const SIGSET_SIZE: u64 = 8;

/// rt_sigaction(2).
pub fn rt_sigaction(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (sig, act, oact, size) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3]);
    if size != SIGSET_SIZE || !valid(sig) {
        return Err(Errno::EINVAL.into());
    }
    let new = if act != 0 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno::EINVAL.into());
        }
        let mut n: SigAction = t.copy_in(act)?;
        n.mask &= !UNBLOCKABLE;
        n.flags &= SA_KEPT;
        Some(n)
    } else {
        None
    };
    let handlers = t.handlers();
    let old = handlers.get(sig);
    if oact != 0 {
        t.copy_out(oact, &old)?;
    }
    if let Some(n) = new {
        handlers.lock()[(sig - 1) as usize] = n;
        if ignores(&n, sig) {
            // POSIX: pending instances of a now-ignored signal are discarded.
            let mut gs = t.tg.signals();
            gs.pending.discard(bit(sig));
            for th in &gs.threads {
                th.signals().pending.discard(bit(sig));
            }
        }
    }
    Ok(0)
}

/// rt_sigprocmask(2).
pub fn rt_sigprocmask(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (how, set, oset, size) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL.into());
    }
    let old = t.signal_mask();
    let new = if set != 0 {
        if !matches!(how, libc::SIG_BLOCK | libc::SIG_UNBLOCK | libc::SIG_SETMASK) {
            return Err(Errno::EINVAL.into());
        }
        let s: u64 = t.copy_in(set)?;
        Some(match how {
            libc::SIG_BLOCK => old | s,
            libc::SIG_UNBLOCK => old & !s,
            _ => s,
        })
    } else {
        None
    };
    if oset != 0 {
        t.copy_out(oset, &old)?;
    }
    if let Some(n) = new {
        t.set_signal_mask(n);
    }
    Ok(0)
}

/// rt_sigpending(2): blocked signals pending for the thread or the process.
pub fn rt_sigpending(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[1] > SIGSET_SIZE {
        return Err(Errno::EINVAL.into());
    }
    let set = {
        let gs = t.tg.signals();
        let ts = t.shared.signals();
        (ts.pending.pending() | gs.pending.pending()) & ts.mask
    };
    let bytes = set.to_le_bytes();
    t.mm().copy_out(a.a[0], &bytes[..a.a[1] as usize])?;
    Ok(0)
}

/// rt_sigsuspend(2): waits for a signal with a temporary mask; always
/// EINTR (once the handler ran).
pub fn rt_sigsuspend(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[1] != SIGSET_SIZE {
        return Err(Errno::EINVAL.into());
    }
    let mask: u64 = t.copy_in(a.a[0])?;
    let old = t.signal_mask();
    t.shared.signals().saved_mask = Some(old);
    t.set_signal_mask(mask);
    loop {
        if t.sleep_until(None).is_err() {
            return Err(Errno::ERESTARTNOHAND.into());
        }
    }
}

/// pause(2).
pub fn pause(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    loop {
        if t.sleep_until(None).is_err() {
            return Err(Errno::ERESTARTNOHAND.into());
        }
    }
}

/// Takes a pending signal in `set` (the thread's first, then the
/// process's).
fn take_pending(t: &Task, set: u64) -> Option<SigInfo> {
    let mut gs = t.tg.signals();
    let mut ts = t.shared.signals();
    ts.pending.dequeue(set).or_else(|| gs.pending.dequeue(set))
}

/// rt_sigtimedwait(2).
pub fn rt_sigtimedwait(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (uset, uinfo, uts, size) = (a.a[0], a.a[1], a.a[2], a.a[3]);
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL.into());
    }
    let set: u64 = t.copy_in::<u64>(uset)? & !UNBLOCKABLE;
    let deadline = if uts != 0 {
        let ts: Timespec = t.copy_in(uts)?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL.into());
        }
        Some(deadline_after(ts))
    } else {
        None
    };
    let mut got = take_pending(t, set);
    if got.is_none() && deadline.is_none_or(|d| d > std::time::Instant::now()) {
        // Unblock the awaited signals for the wait (they wake us, and are
        // not fatal while we wait for them).
        {
            let mut ts = t.shared.signals();
            ts.sigwait_real = Some(ts.mask);
            ts.mask &= !set;
        }
        let r = t.sleep_until(deadline);
        {
            let mut ts = t.shared.signals();
            if let Some(m) = ts.sigwait_real.take() {
                ts.mask = m;
            }
        }
        got = take_pending(t, set);
        if got.is_none() && r.is_err() {
            return Err(Errno::EINTR.into());
        }
        // Other signals still need handling.
        if t.deliverable() {
            t.shared.kick();
        }
    }
    let Some(info) = got else { return Err(Errno::EAGAIN.into()) };
    if uinfo != 0 {
        t.copy_out(uinfo, &info)?;
    }
    Ok(info.signo as u64)
}

/// Whether `t` may signal `target` (kill's permission check).
fn may_signal(t: &Task, target: &Arc<ThreadGroup>, sig: i32) -> bool {
    let c = &t.creds;
    if c.euid == 0 {
        return true;
    }
    let Some(tc) = target.main_thread().map(|m| m.resources().creds) else { return true };
    if c.uid == tc.uid || c.uid == tc.suid || c.euid == tc.uid || c.euid == tc.suid {
        return true;
    }
    if sig == libc::SIGCONT {
        let tree = t.kernel.tasks.read();
        let sid = |p: i32| tree.procs.get(&p).map(|x| x.sid);
        return sid(t.tg.pid) == sid(target.pid);
    }
    false
}

/// Sends `info` to process `tg` after the permission check (signal 0 only
/// checks).
fn send_checked(t: &Task, tg: &Arc<ThreadGroup>, info: SigInfo) -> Result<(), Errno> {
    if !may_signal(t, tg, info.signo) {
        return Err(Errno::EPERM);
    }
    if info.signo != 0 {
        t.kernel.send_group_signal(tg, info, Origin::Sandbox);
    }
    Ok(())
}

/// kill(2): a process, the caller's process group (0), every process but
/// init and the caller (-1), or a process group (< -1).
pub fn kill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, sig) = (a.a[0] as i32, a.a[1] as i32);
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL.into());
    }
    let info = SigInfo::user(sig, SI_USER, t.tg.pid, t.creds.uid);
    if pid > 0 {
        let tg = t.kernel.thread_group(pid).ok_or(Errno::ESRCH)?;
        send_checked(t, &tg, info)?;
        return Ok(0);
    }
    if pid == i32::MIN {
        return Err(Errno::ESRCH.into());
    }
    let targets: Vec<Arc<ThreadGroup>> = {
        let tree = t.kernel.tasks.read();
        match pid {
            -1 => tree.procs.values().filter(|p| p.tg.pid != 1 && p.tg.pid != t.tg.pid).map(|p| p.tg.clone()).collect(),
            0 => {
                let pgid = tree.procs.get(&t.tg.pid).map_or(0, |p| p.pgid);
                tree.group_members(pgid)
            }
            _ => tree.group_members(-pid),
        }
    };
    if targets.is_empty() {
        return Err(Errno::ESRCH.into());
    }
    let mut ok = false;
    let mut err = Errno::EPERM;
    for tg in &targets {
        match send_checked(t, tg, info) {
            Ok(()) => ok = true,
            Err(e) => err = e,
        }
    }
    if ok {
        Ok(0)
    } else {
        Err(err.into())
    }
}

fn thread_signal(t: &Task, tgid: Option<i32>, tid: i32, info: SigInfo) -> SyscallResult {
    let sig = info.signo;
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL.into());
    }
    let Some(target) = t.kernel.tasks.task(tid) else {
        // A zombie process's leader is still there until it is reaped:
        // signalling it succeeds and does nothing.
        let zombie = t.kernel.thread_group(tid).filter(|tg| tgid.is_none_or(|g| g == tg.pid));
        return match zombie {
            Some(tg) if may_signal(t, &tg, sig) => Ok(0),
            Some(_) => Err(Errno::EPERM.into()),
            None => Err(Errno::ESRCH.into()),
        };
    };
    if tgid.is_some_and(|g| g != target.tg.pid) {
        return Err(Errno::ESRCH.into());
    }
    if !may_signal(t, &target.tg, sig) {
        return Err(Errno::EPERM.into());
    }
    if sig != 0 {
        t.kernel.send_thread_signal(&target, info, Origin::Sandbox);
    }
    Ok(0)
}

/// tgkill(2).
pub fn tgkill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (tgid, tid, sig) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    thread_signal(t, Some(tgid), tid, SigInfo::user(sig, SI_TKILL, t.tg.pid, t.creds.uid))
}

/// tkill(2).
pub fn tkill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (tid, sig) = (a.a[0] as i32, a.a[1] as i32);
    if tid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    thread_signal(t, None, tid, SigInfo::user(sig, SI_TKILL, t.tg.pid, t.creds.uid))
}

/// The siginfo of rt_sigqueueinfo and rt_tgsigqueueinfo: the caller may
/// only claim a kernel or tkill origin when signalling itself.
fn queued_info(t: &Task, sig: i32, uinfo: u64, self_target: bool) -> Result<SigInfo, Errno> {
    let mut info: SigInfo = t.copy_in(uinfo)?;
    if (info.code >= 0 || info.code == SI_TKILL) && !self_target {
        return Err(Errno::EPERM);
    }
    info.signo = sig;
    Ok(info)
}

/// rt_sigqueueinfo(2).
pub fn rt_sigqueueinfo(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, sig) = (a.a[0] as i32, a.a[1] as i32);
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL.into());
    }
    let info = queued_info(t, sig, a.a[2], pid == t.tg.pid)?;
    let tg = t.kernel.thread_group(pid).ok_or(Errno::ESRCH)?;
    send_checked(t, &tg, info)?;
    Ok(0)
}

/// rt_tgsigqueueinfo(2).
pub fn rt_tgsigqueueinfo(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (tgid, tid, sig) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let info = queued_info(t, sig, a.a[3], tgid == t.tg.pid)?;
    thread_signal(t, Some(tgid), tid, info)
}

/// rt_sigreturn(2).
pub fn rt_sigreturn(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    if t.sigreturn().is_err() {
        let me = t.shared.clone();
        t.kernel.force_signal(&me, SigInfo::new(libc::SIGSEGV, sentry::abi::signal::SI_KERNEL));
    }
    Err(SyscallError::NoReturn)
}

/// sigaltstack(2).
pub fn sigaltstack(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (ss, oss) = (a.a[0], a.a[1]);
    let old = altstack_for_user(&t.altstack, t.cpu.regs.rsp);
    if ss != 0 {
        let new: StackT = t.copy_in(ss)?;
        t.set_altstack(&new)?;
    }
    if oss != 0 {
        t.copy_out(oss, &old)?;
    }
    Ok(0)
}
