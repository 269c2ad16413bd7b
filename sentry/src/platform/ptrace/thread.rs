//! A traced stub thread: seizing it, injecting syscalls at the stub's own
//! `syscall` instruction, running application code under PTRACE_SYSEMU,
//! and making it exit.
//!
//! Every method must be called from the thread that seized it (a tracee has
//! exactly one tracer thread).

use nix::errno::Errno;

use super::host;
use super::stub::StubPage;
use super::sys::{self, WaitStatus, EVENT_STOP};
use crate::platform::{PlatformError, Regs};

/// Options for every seized stub thread: kill it if its tracer dies, and
/// tell syscall stops apart from SIGTRAP.
const OPTIONS: i32 = libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD;

/// The signal the sentry sends a stub thread to interrupt it (default
/// action: ignore, so it is harmless if it ever reaches an untraced thread).
pub(super) const INTERRUPT_SIGNAL: i32 = libc::SIGCHLD;

/// A traced stub thread.
pub(super) struct StubThread {
    /// The stub process (thread group id).
    pub pid: i32,
    /// The thread.
    pub tid: i32,
}

impl StubThread {
    /// Seizes `tid` of stub process `pid` from the calling thread and stops
    /// it (it is waiting in the stub's pause loop, or already stopped).
    pub(super) fn seize(pid: i32, tid: i32) -> Result<StubThread, PlatformError> {
        sys::seize(tid, OPTIONS).map_err(host("PTRACE_SEIZE"))?;
        sys::interrupt(tid).map_err(host("PTRACE_INTERRUPT"))?;
        let t = StubThread { pid, tid };
        loop {
            match t.wait()? {
                (libc::SIGTRAP, EVENT_STOP) => return Ok(t),
                // A group-stop (the master's own SIGSTOP, or one from
                // outside): it lasts until SIGCONT, which we send; or a
                // signal queued before we attached. Let it go and ask for
                // our stop again.
                (_, EVENT_STOP) => {
                    sys::signal(pid, libc::SIGCONT);
                    sys::cont(tid).map_err(host("PTRACE_CONT"))?;
                    sys::interrupt(tid).map_err(host("PTRACE_INTERRUPT"))?;
                }
                _ => {
                    sys::cont(tid).map_err(host("PTRACE_CONT"))?;
                    sys::interrupt(tid).map_err(host("PTRACE_INTERRUPT"))?;
                }
            }
        }
    }

    /// Waits for the thread to stop, returning (signal, ptrace event).
    pub(super) fn wait(&self) -> Result<(i32, i32), PlatformError> {
        match sys::wait(self.tid, 0).map_err(host("waitpid stub"))? {
            WaitStatus::Stopped { sig, event } => Ok((sig, event)),
            WaitStatus::Exited(c) => Err(PlatformError::StubDied { pid: self.tid, how: format!("exited {c}") }),
            WaitStatus::Signaled(s) => {
                Err(PlatformError::StubDied { pid: self.tid, how: format!("killed by signal {s}") })
            }
        }
    }

    /// Executes a host syscall in the stub at `site` (with the segment
    /// registers of `template`) and returns its raw result. The thread is
    /// left stopped at the `int3` after the `syscall`.
    pub(super) fn inject_at(&self, template: &Regs, site: u64, nr: i64, args: [u64; 6]) -> Result<i64, PlatformError> {
        Ok(self.inject_regs(template, site, nr, args)?.rax as i64)
    }

    /// Runs the `n` calls of the batch table at `table` (in the stub's
    /// address space) through the stub's batch loop; returns the last raw
    /// result and how many calls were left when one failed.
    pub(super) fn inject_batch(
        &self,
        template: &Regs,
        page: &StubPage,
        table: u64,
        n: u64,
    ) -> Result<(i64, u64), PlatformError> {
        let r = self.inject_regs(template, page.batch_site, 0, [table, n, 0, 0, 0, 0])?;
        Ok((r.rax as i64, r.r13))
    }

    /// Runs the stub from `site` with `rax` = `nr` and the syscall argument
    /// registers set, until its next `int3`; returns its registers then.
    fn inject_regs(&self, template: &Regs, site: u64, nr: i64, args: [u64; 6]) -> Result<Regs, PlatformError> {
        let mut r = *template;
        r.rip = site;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        r.r8 = args[4];
        r.r9 = args[5];
        sys::set_regs(self.tid, &r).map_err(host("PTRACE_SETREGS"))?;
        sys::cont(self.tid).map_err(host("PTRACE_CONT"))?;
        loop {
            let (sig, event) = self.wait()?;
            if sig == libc::SIGTRAP && event == 0 {
                break;
            }
            if matches!(sig, libc::SIGSEGV | libc::SIGILL | libc::SIGBUS) && event == 0 {
                let mut cur = crate::platform::zero_regs();
                let _ = sys::get_regs(self.tid, &mut cur);
                return Err(PlatformError::StubDied {
                    pid: self.tid,
                    how: format!("fault {sig} at {:#x} during injection", cur.rip),
                });
            }
            // An interrupt (SIGCHLD), a group-stop or a signal from outside:
            // suppress it and let the syscall finish.
            sys::cont(self.tid).map_err(host("PTRACE_CONT"))?;
        }
        sys::get_regs(self.tid, &mut r).map_err(host("PTRACE_GETREGS"))?;
        Ok(r)
    }

    /// Injects a syscall at the stub's syscall site; a host error becomes
    /// `PlatformError::Injected`.
    pub(super) fn inject(
        &self,
        template: &Regs,
        page: &StubPage,
        name: &'static str,
        nr: i64,
        args: [u64; 6],
    ) -> Result<i64, PlatformError> {
        let r = self.inject_at(template, page.syscall_site, nr, args)?;
        if (-4095..0).contains(&r) {
            return Err(PlatformError::Injected { name, errno: Errno::from_raw(-r as i32) });
        }
        Ok(r)
    }

    /// Makes a new thread in this stub process; it waits in the pause loop
    /// until someone seizes it. Returns its tid.
    pub(super) fn clone_thread(&self, template: &Regs, page: &StubPage) -> Result<i32, PlatformError> {
        let flags = (libc::CLONE_VM
            | libc::CLONE_FS
            | libc::CLONE_FILES
            | libc::CLONE_SIGHAND
            | libc::CLONE_THREAD
            | libc::CLONE_SYSVSEM) as u64;
        self.clone_with(template, page, flags)
    }

    /// Makes a new stub process (a sibling of the master: CLONE_PARENT makes
    /// it a child of the sentry); it waits in the pause loop. Returns its pid.
    pub(super) fn clone_process(&self, template: &Regs, page: &StubPage) -> Result<i32, PlatformError> {
        self.clone_with(template, page, (libc::CLONE_PARENT | libc::SIGCHLD) as u64)
    }

    fn clone_with(&self, template: &Regs, page: &StubPage, flags: u64) -> Result<i32, PlatformError> {
        let r = self.inject_at(template, page.clone_site, libc::SYS_clone, [flags, 0, 0, 0, 0, 0])?;
        if r < 0 {
            return Err(PlatformError::Injected { name: "clone", errno: Errno::from_raw(-r as i32) });
        }
        Ok(r as i32)
    }

    /// Makes the thread exit (only this thread) and reaps it.
    pub(super) fn exit(self, template: &Regs, page: &StubPage) {
        let mut r = *template;
        r.rip = page.syscall_site;
        r.rax = libc::SYS_exit as u64;
        r.orig_rax = u64::MAX;
        r.rdi = 0;
        if sys::set_regs(self.tid, &r).is_err() || sys::cont(self.tid).is_err() {
            // Already gone (its process was killed): reap what is left.
            let _ = sys::wait_flags(self.tid, libc::WNOHANG);
            return;
        }
        loop {
            match sys::wait(self.tid, 0) {
                Ok(WaitStatus::Stopped { .. }) => {
                    if sys::cont(self.tid).is_err() {
                        return;
                    }
                }
                _ => return,
            }
        }
    }
}
