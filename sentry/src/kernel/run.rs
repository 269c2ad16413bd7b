//! The task loop: run the thread until it traps, service the syscall, repeat.

use crate::abi::Errno;
use crate::kernel::signals;
use crate::kernel::syscall::{SyscallArgs, SyscallError};
use crate::kernel::{strace, Task};
use crate::platform::Event;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit/exit_group with a status.
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
}

impl ExitStatus {
    /// The status a shell reports: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled(s) => 128 + s,
        }
    }
}

impl Task {
    /// Runs the task until its thread group exits.
    pub fn run(mut self) -> ExitStatus {
        crate::kernel::set_current(Some(self.tg.clone()));
        let status = self.run_loop();
        self.tg.mm.release();
        self.kernel.unregister(self.tg.pid);
        crate::kernel::set_current(None);
        status
    }

    fn run_loop(&mut self) -> ExitStatus {
        let aspace = self.tg.mm.address_space().clone();
        loop {
            let ev = match self.ctx.switch(&*aspace, &mut self.regs) {
                Ok(ev) => ev,
                Err(e) => {
                    tracing::error!(tid = self.tid, "platform failure: {e}");
                    return ExitStatus::Signaled(libc::SIGKILL);
                }
            };
            match ev {
                Event::Syscall => {
                    let args = SyscallArgs {
                        nr: self.regs.orig_rax,
                        a: [self.regs.rdi, self.regs.rsi, self.regs.rdx, self.regs.r10, self.regs.r8, self.regs.r9],
                    };
                    match self.dispatch(&args) {
                        Ok(v) => self.regs.rax = v,
                        Err(SyscallError::Errno(e)) => self.regs.rax = (-(e.raw() as i64)) as u64,
                        Err(SyscallError::Exit(c)) | Err(SyscallError::ExitGroup(c)) => {
                            return ExitStatus::Exited(c & 0xff);
                        }
                        Err(SyscallError::Killed(sig)) => return ExitStatus::Signaled(sig),
                    }
                }
                Event::Fault { signo: libc::SIGSEGV, addr, .. } if self.tg.mm.handle_fault(addr) => continue,
                Event::Fault { signo, code, addr } => {
                    tracing::info!(
                        tid = self.tid,
                        signo,
                        code,
                        addr = format_args!("{addr:#x}"),
                        rip = format_args!("{:#x}", self.regs.rip),
                        "fatal fault"
                    );
                    tracing::debug!("maps at fault:\n{}", self.tg.mm.maps_text());
                    return ExitStatus::Signaled(signo);
                }
                Event::Interrupt { signo } => {
                    let handler = self.tg.state().actions[(signo - 1) as usize].handler;
                    if handler == libc::SIG_IGN as u64
                        || (handler == libc::SIG_DFL as u64 && signals::default_ignored(signo))
                    {
                        continue;
                    }
                    if handler != libc::SIG_DFL as u64 {
                        tracing::warn!(signo, "signal handlers are not delivered yet; treating as default action");
                    }
                    return ExitStatus::Signaled(signo);
                }
            }
        }
    }

    /// Looks up and runs the handler for one syscall.
    pub fn dispatch(&mut self, args: &SyscallArgs) -> Result<u64, SyscallError> {
        let entry = self.kernel.table.get(args.nr);
        let Some(handler) = entry.and_then(|e| e.handler) else {
            if self.kernel.table.first_miss(args.nr) {
                let name = entry.map_or("unknown", |e| e.name);
                tracing::warn!("unimplemented syscall: {name} (nr {}) returns ENOSYS", args.nr);
            }
            if self.kernel.strace {
                eprintln!(
                    "[{:>4}] {}(...) = -1 ENOSYS (not implemented)",
                    self.tid,
                    entry.map_or_else(|| format!("syscall_{}", args.nr), |e| e.name.to_string())
                );
            }
            return Err(Errno::ENOSYS.into());
        };
        if !self.kernel.strace {
            return handler(self, args);
        }
        let entry = entry.expect("handler implies entry");
        let pre = strace::format_args(entry, args, &self.tg.mm);
        let start = std::time::Instant::now();
        let r = handler(self, args);
        strace::print(self.tid, entry, args, pre, &r, &self.tg.mm, start.elapsed());
        r
    }
}
