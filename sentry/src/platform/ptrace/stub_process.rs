//! A traced stub process: attaching, and injecting syscalls at the stub's
//! own `syscall` instruction.

use nix::errno::Errno;

use super::stub::StubPage;
use super::sys::{self, WaitStatus};
use super::{host, zero_regs};
use crate::platform::{PlatformError, Regs};

/// A traced stub process.
pub(super) struct Stub {
    pub(super) pid: i32,
    tracer: i32,
    page: StubPage,
    pub(super) template: Regs,
}

impl Stub {
    /// Attaches to the stopped stub `pid` from the calling thread.
    pub(super) fn attach(pid: i32, page: StubPage) -> Result<Stub, PlatformError> {
        sys::seize(pid, libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD).map_err(host("PTRACE_SEIZE"))?;
        match sys::wait(pid, 0).map_err(host("wait attach"))? {
            WaitStatus::Stopped { .. } => {}
            other => return Err(PlatformError::StubDied { pid, how: format!("{other:?}") }),
        }
        let mut template = zero_regs();
        sys::get_regs(pid, &mut template).map_err(host("PTRACE_GETREGS"))?;
        tracing::debug!(
            pid,
            "stub attached: cs={:#x} ss={:#x} ds={:#x} es={:#x} fs={:#x} gs={:#x} eflags={:#x} rip={:#x} fs_base={:#x}",
            template.cs,
            template.ss,
            template.ds,
            template.es,
            template.fs,
            template.gs,
            template.eflags,
            template.rip,
            template.fs_base
        );
        Ok(Stub { pid, tracer: sys::gettid(), page, template })
    }

    pub(super) fn check_thread(&self) -> Result<(), PlatformError> {
        if sys::gettid() != self.tracer {
            return Err(PlatformError::WrongThread);
        }
        Ok(())
    }

    /// Waits for the stub to stop after a resume, returning the stop signal.
    pub(super) fn wait_stop(&self) -> Result<(i32, i32), PlatformError> {
        match sys::wait(self.pid, 0).map_err(host("waitpid stub"))? {
            WaitStatus::Stopped { sig, event } => Ok((sig, event)),
            WaitStatus::Exited(c) => Err(PlatformError::StubDied { pid: self.pid, how: format!("exited {c}") }),
            WaitStatus::Signaled(s) => {
                Err(PlatformError::StubDied { pid: self.pid, how: format!("killed by signal {s}") })
            }
        }
    }

    /// Executes a host syscall in the stub at `site` and returns its raw result.
    pub(super) fn inject_at(&self, site: u64, nr: i64, args: [u64; 6]) -> Result<i64, PlatformError> {
        self.check_thread()?;
        let mut r = self.template;
        r.rip = site;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        r.r8 = args[4];
        r.r9 = args[5];
        sys::set_regs(self.pid, &r).map_err(host("PTRACE_SETREGS"))?;
        sys::cont(self.pid).map_err(host("PTRACE_CONT"))?;
        loop {
            let (sig, event) = self.wait_stop()?;
            if sig == libc::SIGTRAP && event == 0 {
                break;
            }
            if sig != libc::SIGSTOP {
                let mut cur = zero_regs();
                let _ = sys::get_regs(self.pid, &mut cur);
                let si = sys::get_siginfo(self.pid).ok();
                // SAFETY: reading the fault address of a siginfo the kernel filled.
                let (code, addr) = si.map(|s| (s.si_code, unsafe { s.si_addr() } as u64)).unwrap_or((0, 0));
                tracing::debug!(
                    pid = self.pid,
                    sig,
                    event,
                    code,
                    addr = format_args!("{addr:#x}"),
                    rip = format_args!("{:#x}", cur.rip),
                    rsp = format_args!("{:#x}", cur.rsp),
                    rax = format_args!("{:#x}", cur.rax),
                    "unexpected stop during injection"
                );
                if matches!(sig, libc::SIGSEGV | libc::SIGILL | libc::SIGBUS) {
                    return Err(PlatformError::StubDied {
                        pid: self.pid,
                        how: format!("fault {sig} at {:#x}", cur.rip),
                    });
                }
            }
            // A signal from outside (e.g. SIGINT from a terminal) interrupted
            // the injection: suppress it and keep going.
            sys::cont(self.pid).map_err(host("PTRACE_CONT"))?;
        }
        sys::get_regs(self.pid, &mut r).map_err(host("PTRACE_GETREGS"))?;
        Ok(r.rax as i64)
    }

    pub(super) fn inject(&self, name: &'static str, nr: i64, args: [u64; 6]) -> Result<i64, PlatformError> {
        let r = self.inject_at(self.page.syscall_site, nr, args)?;
        if (-4095..0).contains(&r) {
            return Err(PlatformError::Injected { name, errno: Errno::from_raw(-r as i32) });
        }
        Ok(r)
    }

    /// Makes a new stub process by injecting clone; returns its pid.
    pub(super) fn clone_stub(&self) -> Result<i32, PlatformError> {
        let flags = (libc::CLONE_PARENT | libc::SIGCHLD) as u64;
        let r = self.inject_at(self.page.clone_site, libc::SYS_clone, [flags, 0, 0, 0, 0, 0])?;
        if r < 0 {
            return Err(PlatformError::Injected { name: "clone", errno: Errno::from_raw(-r as i32) });
        }
        Ok(r as i32)
    }

    pub(super) fn kill(&self) {
        sys::kill(self.pid);
        // Reap it; we are its tracer (and our process is its parent).
        let _ = sys::wait(self.pid, 0);
    }
}
