//! The task run loop, a state machine (gVisor's task run states): run
//! application code until an event; service a syscall; handle faults;
//! handle signals (which resolves syscall restarts); exit. Each state is a
//! method; the transitions are in `run_loop`.

use crate::kernel::cpu_clock::now_ns;
use std::time::Instant;

use crate::abi::{Errno, SigInfo};
use crate::kernel::signal_deliver::Flow;
use crate::kernel::syscall::{SyscallArgs, SyscallError};
use crate::kernel::task::{LastFault, RunState};
use crate::kernel::Task;
use crate::platform::Event;

/// Why a task leaves the run loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitReason {
    /// exit(2): this thread, with a status.
    Thread(i32),
    /// The process is exiting (exit_group, a fatal signal, execve in
    /// another thread): the status is the thread group's.
    Group,
}

enum State {
    /// Run application code.
    App,
    /// Service the syscall in the registers.
    Syscall,
    /// Look at pending signals and work before returning to the application.
    Signals,
    /// Leave.
    Exit(ExitReason),
}

/// The most times in a row a fault at one address is handled before it
/// counts as unfixable and the application gets SIGSEGV.
const MAX_REFAULTS: u32 = 4;

/// BUS_ADRERR: a nonexistent physical address (a file page past its end).
const BUS_ADRERR: i32 = 2;

impl Task {
    /// Runs the task until it exits, then cleans it up. Runs on the task's
    /// own sentry thread.
    pub fn run(mut self) {
        crate::kernel::set_current(Some(self.shared.clone()));
        let why = self.run_loop();
        self.exit(why);
        crate::kernel::set_current(None);
    }

    fn run_loop(&mut self) -> ExitReason {
        let mut state = State::Signals;
        loop {
            state = match state {
                State::App => self.run_app(),
                State::Syscall => self.run_syscall(),
                State::Signals => match self.handle_signals() {
                    Flow::Run => State::App,
                    Flow::Exit => State::Exit(ExitReason::Group),
                },
                State::Exit(why) => return why,
            };
        }
    }

    /// Runs application code until the next event.
    fn run_app(&mut self) -> State {
        if self.shared.has_work() {
            return State::Signals;
        }
        let aspace = match &self.aspace {
            Some(a) => a.clone(),
            None => match self.mm.address_space() {
                Ok(a) => {
                    self.aspace = Some(a.clone());
                    a
                }
                Err(e) => {
                    tracing::error!(tid = self.tid, "no address space: {e}");
                    return self.platform_failure();
                }
            },
        };
        let start = now_ns();
        self.shared.cpu.enter_app(start, start.saturating_sub(self.sys_start()));
        let ev = self.ctx.switch(&aspace, &mut self.cpu);
        let end = now_ns();
        self.shared.cpu.leave_app(end);
        self.set_sys_start(end);
        match ev {
            Ok(Event::Syscall) => State::Syscall,
            Ok(Event::Fault { signo, code, addr, access }) => self.run_fault(signo, code, addr, access),
            Ok(Event::Interrupt) => State::Signals,
            Ok(Event::HostSignal { signo }) => {
                tracing::debug!(tid = self.tid, signo, "host signal to a stub ignored");
                State::App
            }
            Err(e) => {
                tracing::error!(tid = self.tid, "platform failure: {e}");
                self.platform_failure()
            }
        }
    }

    /// The platform cannot run the task: the process dies as if SIGKILLed.
    fn platform_failure(&mut self) -> State {
        let tg = self.tg.clone();
        self.kernel.kill_group(&tg, crate::kernel::ExitStatus::Signaled { sig: libc::SIGKILL, core: false });
        State::Exit(ExitReason::Group)
    }

    /// A fault: lazily mapped or copy-on-write pages are handled and the
    /// instruction retried; anything else becomes a signal.
    fn run_fault(&mut self, signo: i32, code: i32, addr: u64, access: Option<crate::platform::Access>) -> State {
        use crate::abi::signal::SI_KERNEL;
        use crate::mm::FaultError;
        if signo == libc::SIGSEGV && code == SI_KERNEL {
            // A general-protection fault (a non-canonical address, a
            // privileged instruction): no address, nothing to map.
            self.record_trap(signo, code);
            return self.fault_signal(signo, code, 0);
        }
        if signo == libc::SIGSEGV {
            let last = self.last_fault;
            let repeat = if last.addr == addr { last.repeat + 1 } else { 1 };
            let r = if repeat <= MAX_REFAULTS {
                let write_hint = access.is_none() && self.fault_write_hint(addr);
                match self.mm.handle_fault(addr, access, write_hint) {
                    // The page is mapped as far as its mapping allows: if
                    // another thread mapped it (or broke copy-on-write)
                    // after the host faulted, the instruction now runs;
                    // otherwise it faults again and that is the signal.
                    Err(FaultError::Segv(crate::mm::SEGV_ACCERR)) if repeat == 1 && self.mm.host_mapped(addr) => {
                        Ok(false)
                    }
                    r => r,
                }
            } else {
                Err(FaultError::Segv(crate::mm::SEGV_ACCERR))
            };
            let (signo, code) = match r {
                Ok(mapped) => {
                    self.last_fault = LastFault { addr, repeat, mapped };
                    return State::App;
                }
                Err(FaultError::Segv(c)) => (libc::SIGSEGV, c),
                Err(FaultError::PastEof) => (libc::SIGBUS, BUS_ADRERR),
            };
            self.last_fault = LastFault::default();
            // A page that handling just mapped was not present when the
            // application first touched it.
            self.record_page_fault(addr, repeat > 1 && last.mapped);
            return self.fault_signal(signo, code, addr);
        }
        if signo == libc::SIGBUS && code == BUS_ADRERR {
            self.record_page_fault(addr, false);
        } else {
            self.record_trap(signo, code);
        }
        self.fault_signal(signo, code, addr)
    }

    fn fault_signal(&mut self, signo: i32, code: i32, addr: u64) -> State {
        tracing::debug!(
            tid = self.tid,
            signo,
            code,
            addr = format_args!("{addr:#x}"),
            rip = format_args!("{:#x}", self.cpu.regs.rip),
            rsp = format_args!("{:#x}", self.cpu.regs.rsp),
            "fault"
        );
        if tracing::enabled!(tracing::Level::DEBUG) {
            self.log_fault_context();
        }
        let info = SigInfo::fault(signo, code, addr);
        let me = self.shared.clone();
        self.kernel.force_signal(&me, info);
        State::Signals
    }

    /// For the debug log: the pages of the stack pointer and the words
    /// around it, to tell a corrupted stack from bad registers.
    fn log_fault_context(&self) {
        let sp = self.cpu.regs.rsp;
        tracing::debug!(tid = self.tid, "fault stack page {}", self.mm.describe_page(sp));
        for bad in self.mm.audit_pages() {
            tracing::debug!(tid = self.tid, "fault audit {bad}");
        }
        let mut words = [0u8; 128];
        let from = sp.saturating_sub(64) & !7;
        if self.mm.copy_in(from, &mut words).is_ok() {
            let text: Vec<String> = words
                .chunks(8)
                .enumerate()
                .map(|(k, w)| {
                    format!("{:#x}={:#x}", from + 8 * k as u64, u64::from_le_bytes(w.try_into().unwrap_or([0; 8])))
                })
                .collect();
            tracing::debug!(tid = self.tid, "fault stack words {}", text.join(" "));
        }
    }

    /// Services the syscall in the registers.
    fn run_syscall(&mut self) -> State {
        // The application made progress: a fault at an address it faulted
        // at before is a new one.
        self.last_fault.repeat = 0;
        let r = &self.cpu.regs;
        let args = SyscallArgs { nr: r.orig_rax, a: [r.rdi, r.rsi, r.rdx, r.r10, r.r8, r.r9] };
        let result = self.dispatch(&args);
        match result {
            Ok(v) => self.cpu.regs.rax = v,
            Err(SyscallError::Errno(e)) if is_restart(e) => {
                self.syscall_restart = Some((e, args.nr));
                // What the application sees if the syscall is neither
                // restarted nor interrupted (no signal after all).
                self.cpu.regs.rax = (-(Errno::EINTR.raw() as i64)) as u64;
                return State::Signals;
            }
            Err(SyscallError::Errno(e)) => self.cpu.regs.rax = (-(e.raw() as i64)) as u64,
            Err(SyscallError::NoReturn) => {}
            Err(SyscallError::Exit(code)) => return State::Exit(ExitReason::Thread(code)),
            Err(SyscallError::ExitGroup(code)) => {
                let tg = self.tg.clone();
                self.kernel.kill_group(&tg, crate::kernel::ExitStatus::Exited(code & 0xff));
                return State::Exit(ExitReason::Group);
            }
        }
        if self.shared.has_work() {
            State::Signals
        } else {
            State::App
        }
    }

    /// Blocks until `waker` fires, the deadline passes (ETIMEDOUT) or the
    /// task has work to do (ERESTARTSYS: a signal to handle, a group exit or
    /// stop). The one way tasks wait in the sentry.
    pub fn block(&self, waker: &crate::kernel::block::TaskWaker, deadline: Option<Instant>) -> Result<(), Errno> {
        self.shared.set_run_state(RunState::Sleeping);
        let r = loop {
            if waker.fired() {
                break Ok(());
            }
            if self.shared.has_work() {
                break Err(Errno::ERESTARTSYS);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Err(Errno::ETIMEDOUT);
            }
            self.park(deadline);
        };
        self.shared.set_run_state(RunState::Running);
        r
    }

    /// Sleeps until `deadline` (or forever), interruptibly: Ok at the
    /// deadline, ERESTARTSYS if interrupted.
    pub fn sleep_until(&self, deadline: Option<Instant>) -> Result<(), Errno> {
        let w = self.waker();
        match self.block(&w, deadline) {
            Err(Errno::ETIMEDOUT) | Ok(()) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The errnos that mean "interrupted: restart or fail with EINTR".
pub fn is_restart(e: Errno) -> bool {
    matches!(e, Errno::ERESTARTSYS | Errno::ERESTARTNOINTR | Errno::ERESTARTNOHAND | Errno::ERESTART_RESTARTBLOCK)
}

impl Task {
    /// Waits until `f` has one of `events` ready (or an error or hang-up),
    /// interruptibly; for a file without a wait queue, returns at once.
    /// Callers retry their operation afterwards.
    pub fn wait_ready(&self, f: &crate::vfs::File, events: u32, deadline: Option<Instant>) -> Result<(), Errno> {
        use crate::abi::poll::{POLLERR, POLLHUP};
        let Some(q) = f.ops.wait_queue() else { return Ok(()) };
        let mask = events | POLLERR | POLLHUP;
        let w = self.waker();
        let _reg = crate::waiter::Registration::new(q, mask, w.clone());
        if f.readiness(mask) != 0 {
            return Ok(());
        }
        self.block(&w, deadline)
    }
}
