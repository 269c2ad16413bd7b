//! Thin wrappers over the host's ptrace, wait, signal and affinity calls.
//! This is the only place in the ptrace platform that calls them.

use nix::errno::Errno;

use crate::platform::Regs;

/// `PTRACE_EVENT_STOP` (group-stop or PTRACE_INTERRUPT under PTRACE_SEIZE).
pub const EVENT_STOP: i32 = 128;
/// `NT_X86_XSTATE`, the XSAVE register set.
const NT_X86_XSTATE: usize = 0x202;

/// Result of a host wait.
#[derive(Clone, Copy, Debug)]
pub enum WaitStatus {
    /// Stopped; `sig` is the stop signal and `event` the ptrace event (status >> 16).
    Stopped { sig: i32, event: i32 },
    /// Exited with a status.
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
}

/// Waits for a state change of `pid` (`__WALL` plus `extra` flags), retrying
/// on EINTR. With `WNOHANG` in `extra`, `Ok(None)` means nothing changed.
pub fn wait_flags(pid: i32, extra: i32) -> Result<Option<WaitStatus>, Errno> {
    let mut status: libc::c_int = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer for the duration of the call.
        let r = unsafe { libc::waitpid(pid, &mut status, libc::__WALL | extra) };
        if r < 0 {
            let e = Errno::last();
            if e == Errno::EINTR {
                continue;
            }
            return Err(e);
        }
        if r == 0 {
            return Ok(None);
        }
        break;
    }
    Ok(Some(if libc::WIFSTOPPED(status) {
        WaitStatus::Stopped { sig: libc::WSTOPSIG(status), event: status >> 16 }
    } else if libc::WIFEXITED(status) {
        WaitStatus::Exited(libc::WEXITSTATUS(status))
    } else {
        WaitStatus::Signaled(libc::WTERMSIG(status))
    }))
}

/// Waits (blocking) for a state change of `pid`.
pub fn wait(pid: i32, extra: i32) -> Result<WaitStatus, Errno> {
    loop {
        if let Some(s) = wait_flags(pid, extra & !libc::WNOHANG)? {
            return Ok(s);
        }
    }
}

fn ptrace(req: libc::c_uint, pid: i32, addr: usize, data: usize) -> Result<libc::c_long, Errno> {
    // SAFETY: every caller passes `addr`/`data` that are either integers or
    // pointers valid for the request (see each wrapper).
    let r = unsafe { libc::ptrace(req, pid, addr, data) };
    if r < 0 {
        return Err(Errno::last());
    }
    Ok(r)
}

/// PTRACE_SEIZE with `options`.
pub fn seize(pid: i32, options: i32) -> Result<(), Errno> {
    ptrace(libc::PTRACE_SEIZE, pid, 0, options as usize).map(drop)
}

/// PTRACE_INTERRUPT: stops a seized tracee (it reports PTRACE_EVENT_STOP).
pub fn interrupt(pid: i32) -> Result<(), Errno> {
    ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0).map(drop)
}

/// PTRACE_GETREGS.
pub fn get_regs(pid: i32, regs: &mut Regs) -> Result<(), Errno> {
    ptrace(libc::PTRACE_GETREGS, pid, 0, regs as *mut Regs as usize).map(drop)
}

/// PTRACE_SETREGS.
pub fn set_regs(pid: i32, regs: &Regs) -> Result<(), Errno> {
    ptrace(libc::PTRACE_SETREGS, pid, 0, regs as *const Regs as usize).map(drop)
}

/// PTRACE_GETREGSET of the XSAVE area into `buf`; returns the bytes filled.
pub fn get_xstate(pid: i32, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut iov = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    ptrace(libc::PTRACE_GETREGSET, pid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as usize)?;
    Ok(iov.iov_len)
}

/// PTRACE_SETREGSET of the XSAVE area from `buf`.
pub fn set_xstate(pid: i32, buf: &[u8]) -> Result<(), Errno> {
    // The kernel only reads through the iovec for SETREGSET.
    let mut iov = libc::iovec { iov_base: buf.as_ptr() as *mut libc::c_void, iov_len: buf.len() };
    ptrace(libc::PTRACE_SETREGSET, pid, NT_X86_XSTATE, &mut iov as *mut libc::iovec as usize).map(drop)
}

/// PTRACE_CONT with no signal.
pub fn cont(pid: i32) -> Result<(), Errno> {
    ptrace(libc::PTRACE_CONT, pid, 0, 0).map(drop)
}

/// PTRACE_SYSEMU with no signal.
pub fn sysemu(pid: i32) -> Result<(), Errno> {
    ptrace(libc::PTRACE_SYSEMU, pid, 0, 0).map(drop)
}

/// PTRACE_GETSIGINFO.
pub fn get_siginfo(pid: i32) -> Result<libc::siginfo_t, Errno> {
    // SAFETY: siginfo_t is plain data; all-zero is a valid value.
    let mut si: libc::siginfo_t = unsafe { std::mem::zeroed() };
    ptrace(libc::PTRACE_GETSIGINFO, pid, 0, &mut si as *mut _ as usize)?;
    Ok(si)
}

/// Sends SIGKILL to a host process.
pub fn kill(pid: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Sends `sig` to a host process.
pub fn signal(pid: i32, sig: i32) {
    // SAFETY: kill has no memory-safety preconditions.
    unsafe {
        libc::kill(pid, sig);
    }
}

/// Sends `sig` to the host thread `tid` of process `tgid`.
pub fn tgkill(tgid: i32, tid: i32, sig: i32) {
    // SAFETY: tgkill takes integers only.
    unsafe {
        libc::syscall(libc::SYS_tgkill, tgid, tid, sig);
    }
}

/// The calling thread's host tid.
pub fn gettid() -> i32 {
    // SAFETY: gettid has no preconditions.
    unsafe { libc::gettid() }
}

/// The CPUs the calling thread may run on.
pub fn allowed_cpus() -> Vec<i32> {
    // SAFETY: cpu_set_t is plain data; zeroed is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: sched_getaffinity writes a cpu_set_t of the size passed.
    let r = unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if r != 0 {
        return vec![0];
    }
    // SAFETY: CPU_ISSET reads the set's bit array within CPU_SETSIZE.
    let cpus: Vec<i32> =
        (0..libc::CPU_SETSIZE as usize).filter(|&c| unsafe { libc::CPU_ISSET(c, &set) }).map(|c| c as i32).collect();
    if cpus.is_empty() {
        vec![0]
    } else {
        cpus
    }
}

/// Restricts the host thread `tid` (0: the caller) to `cpu` (best effort:
/// a failure only costs speed).
pub fn bind_to_cpu(tid: i32, cpu: i32) {
    // SAFETY: cpu_set_t is plain data; zeroed is an empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: CPU_SET indexes the set's bit array; `cpu` comes from the
    // allowed set, below CPU_SETSIZE. sched_setaffinity reads `set`, a valid
    // cpu_set_t of the size passed.
    unsafe {
        libc::CPU_SET(cpu as usize, &mut set);
        libc::sched_setaffinity(tid, std::mem::size_of::<libc::cpu_set_t>(), &set);
    }
}
