//! Contexts of the ptrace platform: a task's stub thread, which its sentry
//! thread traces and runs under PTRACE_SYSEMU.

use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use super::address_space::PtraceAddressSpace;
use super::sys;
use super::thread::{StubThread, INTERRUPT_SIGNAL};
use super::{host, Shared};
use crate::platform::{AddressSpace, Context, CpuState, Event, Interrupt, PlatformError};

/// Interrupts a context from any thread: a SIGCHLD to its stub thread
/// while it runs application code, or a flag checked before it next runs.
pub struct PtraceInterrupt {
    pid: AtomicI32,
    tid: AtomicI32,
    running: AtomicBool,
    pending: AtomicBool,
}

impl Interrupt for PtraceInterrupt {
    fn interrupt(&self) {
        self.pending.store(true, Ordering::SeqCst);
        if self.running.load(Ordering::SeqCst) {
            let tid = self.tid.load(Ordering::SeqCst);
            if tid > 0 {
                sys::tgkill(self.pid.load(Ordering::SeqCst), tid, INTERRUPT_SIGNAL);
            }
        }
    }
}

/// The stub thread a context runs on, in one address space.
struct Bound {
    aspace: Arc<dyn AddressSpace>,
    thread: StubThread,
    /// The CPU the stub thread is bound to (-1: none yet).
    cpu: i32,
}

/// A ptrace context.
pub struct PtraceContext {
    shared: Arc<Shared>,
    bound: Option<Bound>,
    intr: Arc<PtraceInterrupt>,
    /// The CPU the tracer (this sentry thread) is bound to (-1: none).
    cpu: i32,
}

fn data_ptr(a: &Arc<dyn AddressSpace>) -> *const () {
    Arc::as_ptr(a) as *const ()
}

impl PtraceContext {
    pub(super) fn new(shared: Arc<Shared>) -> PtraceContext {
        PtraceContext {
            shared,
            bound: None,
            intr: Arc::new(PtraceInterrupt {
                pid: AtomicI32::new(0),
                tid: AtomicI32::new(0),
                running: AtomicBool::new(false),
                pending: AtomicBool::new(false),
            }),
            cpu: -1,
        }
    }

    /// Moves the context into `aspace`: a new stub thread there, seized by
    /// the calling thread; the old one (if any) exits.
    fn bind(&mut self, aspace: &Arc<dyn AddressSpace>, st: &mut CpuState) -> Result<(), PlatformError> {
        let pas = aspace.as_any().downcast_ref::<PtraceAddressSpace>().ok_or(PlatformError::ForeignAddressSpace)?;
        if self.bound.is_some() {
            // The task keeps its FP state across the move.
            self.load_fp(st)?;
            self.unbind();
        }
        let tid = match pas.take_spare() {
            Some(t) => t,
            None => self.shared.factory.new_thread(pas.pid)?,
        };
        let thread = StubThread::seize(pas.pid, tid)?;
        pas.register(tid);
        self.intr.pid.store(pas.pid, Ordering::SeqCst);
        self.intr.tid.store(tid, Ordering::SeqCst);
        if st.fp().is_some() {
            // The new thread has the leader's FP state, not the task's.
            st.mark_fp_dirty();
        }
        self.bound = Some(Bound { aspace: aspace.clone(), thread, cpu: -1 });
        Ok(())
    }

    fn unbind(&mut self) {
        let Some(b) = self.bound.take() else { return };
        self.intr.tid.store(0, Ordering::SeqCst);
        if let Some(pas) = b.aspace.as_any().downcast_ref::<PtraceAddressSpace>() {
            pas.unregister();
        }
        b.thread.exit(&self.shared.env.template, &self.shared.env.page);
        // Dropping `b.aspace` may release the address space; its thread is
        // gone by now.
        drop(b.aspace);
    }

    /// Runs the bound thread until the next event.
    fn run(&mut self, st: &mut CpuState) -> Result<Event, PlatformError> {
        let Some(b) = self.bound.as_mut() else { return Err(PlatformError::FactoryGone) };
        let tid = b.thread.tid;
        let intr = &self.intr;
        intr.running.store(true, Ordering::SeqCst);
        if intr.pending.swap(false, Ordering::SeqCst) {
            intr.running.store(false, Ordering::SeqCst);
            return Ok(Event::Interrupt);
        }
        let result = (|| {
            let mut regs = st.regs;
            // No syscall restart by the host kernel: the sentry decides.
            regs.orig_rax = u64::MAX;
            sys::set_regs(tid, &regs).map_err(host("PTRACE_SETREGS"))?;
            if let Some(fp) = st.take_dirty_fp() {
                sys::set_xstate(tid, fp).map_err(host("PTRACE_SETREGSET xstate"))?;
            }
            sys::sysemu(tid).map_err(host("PTRACE_SYSEMU"))?;
            loop {
                let (sig, event) = b.thread.wait()?;
                if sig == libc::SIGTRAP | 0x80 {
                    sys::get_regs(tid, &mut st.regs).map_err(host("PTRACE_GETREGS"))?;
                    return Ok(Event::Syscall);
                }
                if event != 0 || matches!(sig, libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU) {
                    // A group-stop (PTRACE_EVENT_STOP) or a stop signal from
                    // outside the sentry: not the application's doing.
                    sys::sysemu(tid).map_err(host("PTRACE_SYSEMU"))?;
                    continue;
                }
                sys::get_regs(tid, &mut st.regs).map_err(host("PTRACE_GETREGS"))?;
                if sig == INTERRUPT_SIGNAL {
                    intr.pending.store(false, Ordering::SeqCst);
                    return Ok(Event::Interrupt);
                }
                let si = sys::get_siginfo(tid).map_err(host("PTRACE_GETSIGINFO"))?;
                let synchronous =
                    matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP)
                        && si.si_code > 0;
                if synchronous {
                    // SAFETY: for these signals with a kernel si_code, the
                    // union holds the fault address.
                    let addr = unsafe { si.si_addr() } as u64;
                    return Ok(Event::Fault { signo: sig, code: si.si_code, addr, access: None });
                }
                return Ok(Event::HostSignal { signo: sig });
            }
        })();
        intr.running.store(false, Ordering::SeqCst);
        st.mark_fp_stale();
        result
    }
}

impl Context for PtraceContext {
    fn switch(&mut self, aspace: &Arc<dyn AddressSpace>, st: &mut CpuState) -> Result<Event, PlatformError> {
        let same = self.bound.as_ref().is_some_and(|b| data_ptr(&b.aspace) == data_ptr(aspace));
        if !same {
            self.bind(aspace, st)?;
        }
        let shared = self.shared.clone();
        let cpus = &shared.cpus;
        let cpu = cpus.choose(self.cpu);
        if cpu != self.cpu {
            sys::bind_to_cpu(0, cpu);
            self.cpu = cpu;
        }
        if let Some(b) = self.bound.as_mut() {
            if b.cpu != cpu {
                sys::bind_to_cpu(b.thread.tid, cpu);
                b.cpu = cpu;
            }
        }
        cpus.enter(cpu);
        let r = self.run(st);
        cpus.leave(cpu);
        r
    }

    fn load_fp(&mut self, st: &mut CpuState) -> Result<(), PlatformError> {
        if st.fp().is_some() {
            return Ok(());
        }
        let Some(b) = self.bound.as_ref() else { return Err(PlatformError::FactoryGone) };
        sys::get_xstate(b.thread.tid, st.fp_buf_for_load()).map_err(host("PTRACE_GETREGSET xstate"))?;
        st.mark_fp_loaded();
        Ok(())
    }

    fn interrupter(&self) -> Arc<dyn Interrupt> {
        self.intr.clone()
    }

    fn release(&mut self) {
        self.unbind();
    }

    fn cpu(&self) -> u32 {
        self.cpu.max(0) as u32
    }
}

impl Drop for PtraceContext {
    fn drop(&mut self) {
        self.unbind();
    }
}
