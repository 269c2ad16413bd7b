//! The run loop's signal state: before a task returns to the application,
//! it takes its pending signals one by one (Linux's `get_signal`) and acts
//! on them: ignore, a default action (terminate, stop, continue), or a
//! handler, for which it resolves the interrupted syscall's restart errno
//! and builds a frame. Group exits, group stops and execve's end of the
//! other threads are noticed here too.

use crate::abi::signal::{SA_KEPT, SI_KERNEL};
use crate::abi::{Errno, SigAction, SigInfo, StackT};
use crate::kernel::signal_send::start_group_exit;
use crate::kernel::signals::{bit, default_action, DefaultAction, UNBLOCKABLE};
use crate::kernel::strace;
use crate::kernel::thread_group::{ExitStatus, StopState};
use crate::kernel::Task;

/// What the task does after looking at its signals.
pub(crate) enum Flow {
    /// Back to the application.
    Run,
    /// The task exits (its process is exiting, or execve in another thread
    /// ends it).
    Exit,
}

enum Step {
    /// Nothing (left) to do.
    Done,
    /// Exit.
    Exit,
    /// Take part in a group stop.
    Stop,
    /// A stop signal with the default action: stop the group, unless the
    /// process group is orphaned (then TSTP, TTIN and TTOU are discarded).
    MaybeStop(i32),
    /// Run the handler.
    Deliver(SigInfo, SigAction),
}

/// MINSIGSTKSZ on x86_64.
const MINSIGSTKSZ: u64 = 2048;

impl Task {
    /// Handles everything pending; see [`Flow`].
    pub(crate) fn handle_signals(&mut self) -> Flow {
        loop {
            match self.next_signal() {
                Step::Done => {
                    if self.kernel.any_frozen() {
                        if let Some(hold) = self.kernel.hold_for(self.tg.pid) {
                            // Held until thawed (the time held is no CPU
                            // time); a signal's kick (SIGKILL) or the
                            // thaw's wakes us to look again.
                            self.park(None);
                            drop(hold);
                            continue;
                        }
                    }
                    self.finish_restart(None);
                    self.restore_saved_mask();
                    return Flow::Run;
                }
                Step::Exit => return Flow::Exit,
                Step::Stop => self.group_stop(),
                Step::MaybeStop(sig) => {
                    let orphaned = sig != libc::SIGSTOP && {
                        let tree = self.kernel.tasks.read();
                        tree.procs.get(&self.tg.pid).is_some_and(|p| tree.group_orphaned(p.pgid))
                    };
                    if !orphaned {
                        self.start_group_stop(sig);
                    }
                }
                Step::Deliver(info, act) => {
                    self.finish_restart(Some(&act));
                    if self.kernel.strace {
                        strace::print_signal(self.tid, &info, false);
                    }
                    let oldmask = {
                        let mut ts = self.shared.signals();
                        let old = ts.saved_mask.take().unwrap_or(ts.mask);
                        let mut m = ts.mask | act.mask;
                        if act.flags & libc::SA_NODEFER as u64 == 0 {
                            m |= bit(info.signo);
                        }
                        ts.mask = m & !UNBLOCKABLE;
                        old
                    };
                    if act.flags & libc::SA_RESETHAND as u64 != 0 {
                        let h = self.handlers();
                        let mut acts = h.lock();
                        let a = &mut acts[(info.signo - 1) as usize];
                        if a.handler == act.handler {
                            // Only the handler goes back to SIG_DFL; the
                            // flags and mask stay, as in Linux.
                            a.handler = libc::SIG_DFL as u64;
                        }
                    }
                    if self.setup_frame(&info, &act, oldmask).is_err() {
                        // Cannot write the frame: SIGSEGV, which now kills.
                        tracing::info!(tid = self.tid, sig = info.signo, "bad signal frame: forcing SIGSEGV");
                        let me = self.shared.clone();
                        self.kernel.force_signal(&me, SigInfo::new(libc::SIGSEGV, SI_KERNEL));
                        continue;
                    }
                    // Further signals are delivered on top of this frame.
                    if self.deliverable() {
                        continue;
                    }
                    return Flow::Run;
                }
            }
        }
    }

    fn next_signal(&mut self) -> Step {
        let tg = self.tg.clone();
        let mut gs = tg.signals();
        if gs.exiting.is_some() {
            return Step::Exit;
        }
        if gs.execer.is_some_and(|e| e != self.tid) {
            return Step::Exit;
        }
        match gs.stop {
            StopState::Stopping { .. } | StopState::Stopped { .. } => return Step::Stop,
            StopState::Running => {}
        }
        loop {
            let info = {
                let mut ts = self.shared.signals();
                let allowed = !ts.mask | UNBLOCKABLE;
                match ts.pending.dequeue(allowed) {
                    Some(i) => Some(i),
                    None => gs.pending.dequeue(allowed),
                }
            };
            let Some(mut info) = info else {
                // Senders set the flag after queueing, under the group lock
                // we hold: nothing can slip in between.
                self.shared.clear_work();
                return Step::Done;
            };
            if info.code == crate::abi::signal::SI_TIMER {
                let overrun = self.tg.timers.on_dequeue(info.pid());
                info.set_overrun(overrun);
            }
            let sig = info.signo;
            let act = self.handlers().get(sig);
            if act.handler == libc::SIG_IGN as u64 && sig != libc::SIGKILL {
                continue;
            }
            if act.handler != libc::SIG_DFL as u64 && sig != libc::SIGKILL && sig != libc::SIGSTOP {
                return Step::Deliver(info, SigAction { flags: act.flags & SA_KEPT, ..act });
            }
            let action = default_action(sig);
            if tg.pid == 1
                && matches!(action, DefaultAction::Stop | DefaultAction::Terminate | DefaultAction::Core)
                && sig != libc::SIGKILL
                && !from_outside_or_forced(&info)
            {
                // Init gets no default action it did not ask for from its
                // own namespace (a signal queued while blocked).
                continue;
            }
            match action {
                DefaultAction::Ignore | DefaultAction::Continue => continue,
                DefaultAction::Stop => return Step::MaybeStop(sig),
                DefaultAction::Terminate | DefaultAction::Core => {
                    if self.kernel.strace {
                        strace::print_signal(self.tid, &info, true);
                    }
                    // The sandbox writes no core files (as with RLIMIT_CORE 0), so
                    // the status never says one was dumped.
                    tracing::info!(tid = self.tid, sig, code = info.code, "killed by signal");
                    start_group_exit(&mut gs, ExitStatus::Signaled { sig, core: false });
                    return Step::Exit;
                }
            }
        }
    }

    /// Whether a signal the task does not block is pending.
    pub fn deliverable(&self) -> bool {
        let gs = self.tg.signals();
        let ts = self.shared.signals();
        (ts.pending.pending() | gs.pending.pending()) & !ts.mask != 0
    }

    /// Resolves a restart errno left by the last syscall: after a handler,
    /// EINTR unless the syscall restarts (ERESTARTNOINTR, or ERESTARTSYS
    /// with SA_RESTART); with no handler, restart (restart_syscall for
    /// ERESTART_RESTARTBLOCK).
    pub(crate) fn finish_restart(&mut self, handler: Option<&SigAction>) {
        let Some((e, nr)) = self.syscall_restart.take() else { return };
        let restart = match handler {
            None => true,
            Some(a) => {
                e == Errno::ERESTARTNOINTR || (e == Errno::ERESTARTSYS && a.flags & libc::SA_RESTART as u64 != 0)
            }
        };
        if restart {
            self.cpu.regs.rip = self.cpu.regs.rip.wrapping_sub(2);
            self.cpu.regs.rax = if e == Errno::ERESTART_RESTARTBLOCK { libc::SYS_restart_syscall as u64 } else { nr };
        } else {
            self.cpu.regs.rax = (-(Errno::EINTR.raw() as i64)) as u64;
            self.restart = None;
        }
    }

    /// Puts back a mask saved by sigsuspend, ppoll or pselect when no
    /// handler took it into its frame.
    fn restore_saved_mask(&mut self) {
        let mut ts = self.shared.signals();
        if let Some(m) = ts.saved_mask.take() {
            ts.mask = m;
        }
    }

    /// Sets the signal mask; a signal it unblocks gets handled before the
    /// task returns to the application.
    pub fn set_signal_mask(&mut self, mask: u64) {
        self.shared.signals().mask = mask & !UNBLOCKABLE;
        if self.deliverable() {
            self.shared.set_work();
        }
    }

    /// The signal mask.
    pub fn signal_mask(&self) -> u64 {
        self.shared.signals().mask
    }

    /// sigaltstack's checks and update; the caller reports the old stack.
    pub fn set_altstack(&mut self, new: &StackT) -> Result<(), Errno> {
        use crate::abi::signal::{SS_AUTODISARM, SS_DISABLE, SS_ONSTACK};
        if crate::kernel::signal_frame::on_altstack(&self.altstack, self.cpu.regs.rsp) {
            return Err(Errno::EPERM);
        }
        let mode = new.ss_flags & !SS_AUTODISARM;
        if mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0 {
            return Err(Errno::EINVAL);
        }
        if mode == SS_DISABLE {
            self.altstack = StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 };
            return Ok(());
        }
        if new.ss_size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        }
        // The flags are kept as given (SS_ONSTACK too): the frame's
        // uc_stack reports them so.
        self.altstack = StackT { ss_sp: new.ss_sp, ss_flags: new.ss_flags, pad: 0, ss_size: new.ss_size };
        Ok(())
    }
}

/// Whether a signal to init may take its default action: it came from
/// outside the sandbox (runsc forwards signals as SI_USER from pid 0, the
/// pid Linux shows for a sender in an ancestor namespace), or it is a
/// hardware fault (which Linux forces, clearing init's protection).
fn from_outside_or_forced(info: &SigInfo) -> bool {
    let fault = matches!(info.signo, libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP)
        && info.code > 0;
    fault || (info.code == crate::abi::signal::SI_USER && info.pid() == 0)
}
