//! Address spaces and contexts of the ptrace platform: a stub process runs
//! the application thread under PTRACE_SYSEMU, and its mappings change by
//! injection.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

use super::host;
use super::stub_process::Stub;
use super::sys;
use crate::platform::{AddressSpace, Context, Event, PlatformError, Prot, Regs};

/// An address space backed by a stub process.
pub struct PtraceAddressSpace {
    stub: Stub,
    memfd: i32,
    dead: AtomicBool,
    /// The CPU the stub is bound to (-1: none yet).
    cpu: AtomicI32,
}

impl PtraceAddressSpace {
    /// An address space for the attached `stub`, which maps `memfd`.
    pub(super) fn new(stub: Stub, memfd: i32) -> PtraceAddressSpace {
        PtraceAddressSpace { stub, memfd, dead: AtomicBool::new(false), cpu: AtomicI32::new(-1) }
    }

    /// Keeps the stub on the CPU its tracer runs on, as gVisor does: each
    /// stop and resume then wakes a thread on the same CPU instead of
    /// sending an interprocessor interrupt, which is slow (and very slow
    /// under virtualization).
    ///
    /// The tracer thread is bound to the same CPU the first time: the
    /// scheduler would otherwise keep moving it away from its stub (measured
    /// here: 55 µs per trapped syscall unbound, 10 µs bound).
    fn follow_cpu(&self) {
        let cpu = sys::current_cpu();
        if cpu >= 0 && self.cpu.swap(cpu, Ordering::Relaxed) != cpu {
            sys::bind_to_cpu(0, cpu);
            sys::bind_to_cpu(self.stub.pid, cpu);
        }
    }

    /// Runs the application thread until the next event.
    fn run(&self, regs: &mut Regs) -> Result<Event, PlatformError> {
        self.stub.check_thread()?;
        let pid = self.stub.pid;
        self.follow_cpu();
        sys::set_regs(pid, regs).map_err(host("PTRACE_SETREGS"))?;
        sys::sysemu(pid).map_err(host("PTRACE_SYSEMU"))?;
        loop {
            let (sig, event) = self.stub.wait_stop()?;
            if sig == libc::SIGTRAP | 0x80 {
                sys::get_regs(pid, regs).map_err(host("PTRACE_GETREGS"))?;
                return Ok(Event::Syscall);
            }
            if event != 0
                || sig == libc::SIGSTOP
                || sig == libc::SIGTSTP
                || sig == libc::SIGTTIN
                || sig == libc::SIGTTOU
            {
                // Group-stop or ptrace event: not the application's doing.
                sys::sysemu(pid).map_err(host("PTRACE_SYSEMU"))?;
                continue;
            }
            sys::get_regs(pid, regs).map_err(host("PTRACE_GETREGS"))?;
            let si = sys::get_siginfo(pid).map_err(host("PTRACE_GETSIGINFO"))?;
            let synchronous = matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP)
                && si.si_code > 0;
            if synchronous {
                // SAFETY: for these signals with a kernel si_code, the union
                // holds the fault address.
                let addr = unsafe { si.si_addr() } as u64;
                return Ok(Event::Fault { signo: sig, code: si.si_code, addr });
            }
            return Ok(Event::Interrupt { signo: sig });
        }
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn map_file(&self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        self.stub.inject("mmap", libc::SYS_mmap, [addr, len, prot as u64, flags, self.memfd as u64, offset])?;
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.stub.inject("munmap", libc::SYS_munmap, [addr, len, 0, 0, 0, 0]).map(drop)
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.stub.inject("mprotect", libc::SYS_mprotect, [addr, len, prot as u64, 0, 0, 0]).map(drop)
    }

    fn release(&self) {
        if !self.dead.swap(true, Ordering::SeqCst) {
            if self.stub.check_thread().is_ok() {
                self.stub.kill();
            } else {
                sys::kill(self.stub.pid);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        self.release();
    }
}

/// A ptrace context: the thread state lives in the stub; this only dispatches.
pub(super) struct PtraceContext;

impl Context for PtraceContext {
    fn switch(&mut self, aspace: &dyn AddressSpace, regs: &mut Regs) -> Result<Event, PlatformError> {
        let a = aspace.as_any().downcast_ref::<PtraceAddressSpace>().ok_or(PlatformError::WrongThread)?;
        a.run(regs)
    }
}
