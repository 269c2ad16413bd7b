//! Job control: group stops (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU with their
//! default action) and continuing (SIGCONT, in `signal_send`). The thread
//! that takes the stop signal starts the group stop; every thread stops at
//! its next chance (blocked syscalls are interrupted and restart after the
//! continue); the last one to stop tells the parent.

use crate::kernel::task::RunState;
use crate::kernel::thread_group::StopState;
use crate::kernel::Task;

impl Task {
    /// Starts a group stop for `sig` (unless one is under way or the
    /// process is exiting).
    pub(crate) fn start_group_stop(&mut self, sig: i32) {
        let mut gs = self.tg.signals();
        if gs.exiting.is_some() || gs.stop != StopState::Running {
            return;
        }
        gs.stop = StopState::Stopping { signo: sig, remaining: gs.threads.len() };
        for t in &gs.threads {
            if t.tid() != self.tid {
                t.kick();
            }
        }
    }

    /// Takes part in the current group stop: stops, and sleeps until the
    /// process is continued or killed.
    pub(crate) fn group_stop(&mut self) {
        let done = {
            let mut gs = self.tg.signals();
            let mut ts = self.shared.signals();
            match gs.stop {
                StopState::Stopping { signo, remaining } if !ts.stopped => {
                    ts.stopped = true;
                    if remaining <= 1 {
                        gs.stop = StopState::Stopped { signo };
                        Some(signo)
                    } else {
                        gs.stop = StopState::Stopping { signo, remaining: remaining - 1 };
                        None
                    }
                }
                StopState::Stopped { .. } if !ts.stopped => {
                    // Joined a process already stopped (a new thread).
                    ts.stopped = true;
                    None
                }
                _ => None,
            }
        };
        if let Some(signo) = done {
            let tg = self.tg.clone();
            self.kernel.notify_parent_stop_change(&tg, Some(signo));
        }
        self.shared.set_run_state(RunState::Stopped);
        loop {
            {
                let gs = self.tg.signals();
                if gs.exiting.is_some() || !self.shared.signals().stopped {
                    break;
                }
            }
            self.park(None);
        }
        self.shared.set_run_state(RunState::Running);
    }

    /// A thread leaving the process during a group stop counts as stopped.
    pub(crate) fn leave_group_stop(&self) -> Option<i32> {
        let mut gs = self.tg.signals();
        let ts = self.shared.signals();
        if let StopState::Stopping { signo, remaining } = gs.stop {
            if !ts.stopped {
                if remaining <= 1 {
                    gs.stop = StopState::Stopped { signo };
                    return Some(signo);
                }
                gs.stop = StopState::Stopping { signo, remaining: remaining - 1 };
            }
        }
        None
    }
}
