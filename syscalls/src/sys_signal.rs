//! rt_sigaction, rt_sigprocmask: signal state (delivery comes with the
//! processes work).

use sentry::abi::{Errno, SigAction};
use sentry::kernel::signals::{NSIG, UNBLOCKABLE};
use sentry::kernel::{SyscallArgs, SyscallError, SyscallResult, Task};

/// The sa_flags bits the kernel keeps on x86_64 (UAPI_SA_FLAGS).
const UAPI_SA_FLAGS: u64 = (libc::SA_NOCLDSTOP
    | libc::SA_NOCLDWAIT
    | libc::SA_SIGINFO
    | libc::SA_ONSTACK
    | libc::SA_RESTART
    | libc::SA_NODEFER
    | libc::SA_RESETHAND
    | SA_RESTORER) as u64;
/// SA_RESTORER (x86_64).
const SA_RESTORER: i32 = 0x0400_0000;

/// rt_sigaction(2).
pub fn rt_sigaction(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (sig, act, oact, size) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3]);
    if size != 8 {
        return Err(Errno::EINVAL.into());
    }
    if sig < 1 || sig as usize > NSIG {
        return Err(Errno::EINVAL.into());
    }
    let new = if act != 0 {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno::EINVAL.into());
        }
        let mut n: SigAction = t.copy_in(act)?;
        n.mask &= !UNBLOCKABLE;
        n.flags &= UAPI_SA_FLAGS;
        Some(n)
    } else {
        None
    };
    let old = t.tg.state().actions[(sig - 1) as usize];
    if oact != 0 {
        t.copy_out(oact, &old)?;
    }
    if let Some(n) = new {
        t.tg.state().actions[(sig - 1) as usize] = n;
    }
    Ok(0)
}

/// rt_sigprocmask(2).
pub fn rt_sigprocmask(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (how, set, oset, size) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3]);
    if size != 8 {
        return Err(Errno::EINVAL.into());
    }
    let old = t.sigmask;
    if set != 0 {
        if !matches!(how, libc::SIG_BLOCK | libc::SIG_UNBLOCK | libc::SIG_SETMASK) {
            return Err(Errno::EINVAL.into());
        }
        let s: u64 = t.copy_in(set)?;
        let new = match how {
            libc::SIG_BLOCK => old | s,
            libc::SIG_UNBLOCK => old & !s,
            _ => s,
        };
        if oset != 0 {
            t.copy_out(oset, &old)?;
        }
        t.sigmask = new & !UNBLOCKABLE;
        return Ok(0);
    }
    if oset != 0 {
        t.copy_out(oset, &old)?;
    }
    Ok(0)
}

/// Sends `sig` to the calling thread group: signal 0 only checks; an
/// ignored signal is discarded; otherwise the default action applies
/// (delivery to handlers comes with the processes work).
fn signal_self(t: &Task, sig: i32) -> SyscallResult {
    if !(0..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL.into());
    }
    if sig == 0 {
        return Ok(0);
    }
    let handler = t.tg.state().actions[(sig - 1) as usize].handler;
    let blocked = t.sigmask & sentry::kernel::signals::bit(sig) != 0 && sig != libc::SIGKILL && sig != libc::SIGSTOP;
    if handler == libc::SIG_IGN as u64
        || (handler == libc::SIG_DFL as u64 && sentry::kernel::signals::default_ignored(sig))
        || blocked
        || matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU)
    {
        return Ok(0);
    }
    if handler != libc::SIG_DFL as u64 {
        tracing::warn!(sig, "signal handlers are not delivered yet; applying the default action");
    }
    Err(SyscallError::Killed(sig))
}

/// kill(2): the sandbox has one process so far.
pub fn kill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, sig) = (a.a[0] as i32, a.a[1] as i32);
    if !(0..=NSIG as i32).contains(&sig) {
        return Err(Errno::EINVAL.into());
    }
    if pid == t.tg.pid || pid == 0 || pid == -1 || pid == -t.tg.pid {
        return signal_self(t, sig);
    }
    Err(Errno::ESRCH.into())
}

/// tgkill(2).
pub fn tgkill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (tgid, tid, sig) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    if tgid != t.tg.pid || tid != t.tid {
        return Err(Errno::ESRCH.into());
    }
    signal_self(t, sig)
}

/// tkill(2).
pub fn tkill(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (tid, sig) = (a.a[0] as i32, a.a[1] as i32);
    if tid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    if tid != t.tid {
        return Err(Errno::ESRCH.into());
    }
    signal_self(t, sig)
}

/// MINSIGSTKSZ on x86_64.
const MINSIGSTKSZ: u64 = 2048;
/// SS_AUTODISARM.
const SS_AUTODISARM: i32 = 1 << 31;

/// sigaltstack(2): the alternate stack is recorded for signal delivery.
pub fn sigaltstack(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (ss, oss) = (a.a[0], a.a[1]);
    let old = t.altstack;
    if ss != 0 {
        let new: sentry::abi::StackT = t.copy_in(ss)?;
        let mode = new.ss_flags & !SS_AUTODISARM;
        if mode != libc::SS_DISABLE && mode != libc::SS_ONSTACK && mode != 0 {
            return Err(Errno::EINVAL.into());
        }
        if mode == libc::SS_DISABLE {
            t.altstack = (0, 0);
        } else {
            if new.ss_size < MINSIGSTKSZ {
                return Err(Errno::ENOMEM.into());
            }
            t.altstack = (new.ss_sp, new.ss_size);
        }
    }
    if oss != 0 {
        let cur = sentry::abi::StackT {
            ss_sp: old.0,
            ss_flags: if old.1 == 0 { libc::SS_DISABLE } else { 0 },
            pad: 0,
            ss_size: old.1,
        };
        t.copy_out(oss, &cur)?;
    }
    Ok(0)
}
