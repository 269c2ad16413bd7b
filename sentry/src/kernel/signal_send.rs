//! Sending signals: queueing them on a process or a thread, choosing the
//! thread that takes a process-directed one, starting a group exit for a
//! fatal one, and the side effects of stop and continue signals (Linux's
//! `__send_signal` and `complete_signal`).

use std::sync::Arc;

use crate::abi::signal::{CLD_CONTINUED, SI_USER};
use crate::abi::{SigAction, SigInfo};
use crate::kernel::signals::{bit, default_action, ignores, DefaultAction, STOP_SIGNALS};
use crate::kernel::task::TaskShared;
use crate::kernel::thread_group::{ExitStatus, GroupSignals, StopState, ThreadGroup};
use crate::kernel::Kernel;

/// Where a signal comes from, for init's protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A task of the sandbox (kill, tgkill) or an event in it (a timer,
    /// SIGPIPE, SIGCHLD): init's protection applies.
    Sandbox,
    /// Outside the sandbox's pid namespace (runsc forwarding a signal), or
    /// forced by the sandbox's kernel (a fault, RLIMIT_CPU's SIGKILL): init
    /// gets it even with SIG_DFL.
    Outside,
}

impl Kernel {
    /// Sends a process-directed signal to `tg`.
    pub fn send_group_signal(&self, tg: &Arc<ThreadGroup>, info: SigInfo, origin: Origin) {
        self.send(tg, None, info, origin);
    }

    /// Sends a thread-directed signal to `t`.
    pub fn send_thread_signal(&self, t: &Arc<TaskShared>, info: SigInfo, origin: Origin) {
        let tg = t.tg.clone();
        self.send(&tg, Some(t), info, origin);
    }

    /// Sends a synchronous signal (a fault) to `t`: if it is blocked or
    /// ignored, the action becomes SIG_DFL and it is unblocked, so that the
    /// thread cannot just run into the fault again.
    pub fn force_signal(&self, t: &Arc<TaskShared>, info: SigInfo) {
        let sig = info.signo;
        let blocked = {
            let mut ts = t.signals();
            let b = ts.mask & bit(sig) != 0;
            ts.mask &= !bit(sig);
            b
        };
        let handlers = t.tg.handlers();
        let mut acts = handlers.lock();
        let act = &mut acts[(sig - 1) as usize];
        if blocked || act.handler == libc::SIG_IGN as u64 {
            *act = SigAction::default();
        }
        drop(acts);
        self.send_thread_signal(t, info, Origin::Outside);
    }

    fn send(&self, tg: &Arc<ThreadGroup>, target: Option<&Arc<TaskShared>>, info: SigInfo, origin: Origin) {
        let sig = info.signo;
        let mut continued = false;
        {
            let mut gs = tg.signals();
            if gs.exiting.is_some() {
                return;
            }
            if STOP_SIGNALS & bit(sig) != 0 {
                // A stop cancels a pending continue.
                discard_everywhere(&mut gs, bit(libc::SIGCONT));
            } else if sig == libc::SIGCONT {
                discard_everywhere(&mut gs, STOP_SIGNALS);
                continued = resume_group(&mut gs);
            }
            let act = tg.handlers().get(sig);
            let receiver = target.cloned().or_else(|| main_thread(tg, &gs));
            // Blocked, or waited for in sigtimedwait (Linux's real_blocked).
            let blocked = receiver.as_ref().is_some_and(|t| {
                let s = t.signals();
                s.mask & bit(sig) != 0 || s.sigwait_real.is_some_and(|m| m & bit(sig) != 0)
            });
            // An ignored signal is dropped now, unless blocked (the handler
            // may change before it is unblocked).
            if sig != libc::SIGKILL && !blocked && ignores(&act, sig) {
                drop(gs);
                self.after_continue(tg, continued);
                return;
            }
            // Init gets only the signals it handles, unless they come from
            // outside its namespace; a blocked one is queued (the handler
            // may change), and dropped at delivery if still SIG_DFL.
            if tg.pid == 1 && origin == Origin::Sandbox && !blocked && act.handler == libc::SIG_DFL as u64 {
                drop(gs);
                self.after_continue(tg, continued);
                return;
            }
            let queued = match target {
                Some(t) => t.signals().pending.enqueue(info),
                None => gs.pending.enqueue(info),
            };
            if queued {
                complete(tg, &mut gs, target, sig, &act);
            }
        }
        tg.signalfd_queue.notify(crate::abi::poll::POLLIN);
        self.after_continue(tg, continued);
    }

    /// After SIGCONT resumed a stopped process: tell its parent.
    fn after_continue(&self, tg: &Arc<ThreadGroup>, continued: bool) {
        if continued {
            self.notify_parent_stop_change(tg, None);
        }
    }

    /// Reports a stop (`Some(signo)`) or a continue (`None`) of `tg` to its
    /// parent: for wait(WUNTRACED/WCONTINUED), and SIGCHLD unless the
    /// parent set SA_NOCLDSTOP.
    pub(crate) fn notify_parent_stop_change(&self, tg: &Arc<ThreadGroup>, stopped: Option<i32>) {
        let (parent, uid) = {
            let mut tree = self.tasks.write();
            let Some(p) = tree.procs.get_mut(&tg.pid) else { return };
            match stopped {
                Some(s) => {
                    p.stop_report = Some(s);
                    p.cont_report = false;
                }
                None => {
                    p.cont_report = true;
                    p.stop_report = None;
                }
            }
            let (parent, uid) = (p.parent, p.uid);
            (tree.procs.get(&parent).map(|q| q.tg.clone()), uid)
        };
        let Some(parent) = parent else { return };
        let nocldstop = parent.handlers().get(libc::SIGCHLD).flags & libc::SA_NOCLDSTOP as u64 != 0;
        if !nocldstop {
            let (code, status) = match stopped {
                Some(s) => (crate::abi::signal::CLD_STOPPED, s),
                None => (CLD_CONTINUED, libc::SIGCONT),
            };
            let info = SigInfo::child(code, tg.pid, uid, status, 0, 0);
            self.send_group_signal(&parent, info, Origin::Outside);
        }
        parent.child_events.notify(crate::kernel::block::EVENT_ANY);
    }

    /// Kills every thread of `tg` (SIGKILL semantics): the group exits with
    /// `status` at the threads' next chance.
    pub fn kill_group(&self, tg: &Arc<ThreadGroup>, status: ExitStatus) {
        let mut gs = tg.signals();
        start_group_exit(&mut gs, status);
    }

    /// Sends `sig` from outside the sandbox (`runsc kill`) to process `pid`,
    /// or to every process with `pid` None (`runsc kill --all`). Returns
    /// whether a process received it.
    pub fn signal_from_host(&self, pid: Option<i32>, sig: i32) -> bool {
        self.signal_from_host_in(None, pid, sig)
    }

    /// [`signal_from_host`](Self::signal_from_host) within one container
    /// of the pod (`container` Some): `pid` must be one of its processes,
    /// and "every process" means its own.
    pub fn signal_from_host_in(&self, container: Option<u32>, pid: Option<i32>, sig: i32) -> bool {
        let targets: Vec<Arc<ThreadGroup>> = {
            let tree = self.tasks.read();
            let ours = |p: &crate::kernel::task_set::Proc| container.is_none_or(|c| p.container == c);
            match pid {
                Some(p) => tree.procs.get(&p).filter(|p| ours(p)).map(|p| p.tg.clone()).into_iter().collect(),
                None => tree.procs.values().filter(|p| ours(p)).map(|p| p.tg.clone()).collect(),
            }
        };
        for tg in &targets {
            self.send_group_signal(tg, SigInfo::user(sig, SI_USER, 0, 0), Origin::Outside);
        }
        !targets.is_empty()
    }

    /// Forwards a signal from outside the sandbox to its init (pid 1); the
    /// ones a terminal raises (SIGINT, SIGQUIT, SIGTSTP, SIGWINCH) go to
    /// the foreground group of the host console instead, when init runs on
    /// one.
    pub fn signal_init_from_host(&self, sig: i32) {
        let terminal = matches!(sig, libc::SIGINT | libc::SIGQUIT | libc::SIGTSTP | libc::SIGWINCH);
        if terminal && self.ttys.console_signal(sig) {
            return;
        }
        if let Some(tg) = self.thread_group(1) {
            // SI_USER from pid 0: a sender outside the namespace, as Linux
            // shows one.
            self.send_group_signal(&tg, SigInfo::user(sig, SI_USER, 0, 0), Origin::Outside);
        }
    }
}

/// The thread a process-directed signal goes to first.
fn main_thread(tg: &ThreadGroup, gs: &GroupSignals) -> Option<Arc<TaskShared>> {
    gs.threads.iter().find(|t| t.tid() == tg.pid).or_else(|| gs.threads.first()).cloned()
}

/// Discards `set` from every pending queue of the process.
fn discard_everywhere(gs: &mut GroupSignals, set: u64) {
    gs.pending.discard(set);
    for t in &gs.threads {
        t.signals().pending.discard(set);
    }
}

/// SIGCONT: ends a group stop. Returns whether the process was stopped
/// (or stopping), so its parent hears of it.
fn resume_group(gs: &mut GroupSignals) -> bool {
    if gs.stop == StopState::Running {
        return false;
    }
    gs.stop = StopState::Running;
    for t in &gs.threads {
        t.signals().stopped = false;
        t.parker.unpark();
    }
    true
}

/// Starts a group exit: every thread exits at its next chance.
pub(crate) fn start_group_exit(gs: &mut GroupSignals, status: ExitStatus) {
    if gs.exiting.is_some() {
        return;
    }
    gs.exiting = Some(status);
    gs.stop = StopState::Running;
    for t in &gs.threads {
        t.signals().stopped = false;
        t.kick();
    }
}

/// Picks the thread that takes the signal just queued and wakes it; a fatal
/// signal ends the whole process right away.
fn complete(tg: &ThreadGroup, gs: &mut GroupSignals, target: Option<&Arc<TaskShared>>, sig: i32, act: &SigAction) {
    // As Linux's wants_signal: not blocked, and not stopped (a stopped
    // process keeps a fatal signal pending until SIGCONT).
    let wants = |t: &TaskShared| {
        let s = t.signals();
        sig == libc::SIGKILL || (s.mask & bit(sig) == 0 && !s.stopped)
    };
    let chosen = match target {
        Some(t) => wants(t).then(|| t.clone()),
        None => {
            let main = main_thread(tg, gs);
            match main {
                Some(m) if wants(&m) => Some(m),
                _ => gs.threads.iter().find(|t| wants(t)).cloned(),
            }
        }
    };
    let Some(chosen) = chosen else { return };
    let fatal = sig == libc::SIGKILL
        || (act.handler == libc::SIG_DFL as u64
            && matches!(default_action(sig), DefaultAction::Terminate | DefaultAction::Core)
            // A thread waiting for it in sigtimedwait takes it instead.
            && chosen.signals().sigwait_real.is_none_or(|m| m & bit(sig) == 0));
    if fatal {
        // No core files are written (as with RLIMIT_CORE 0).
        start_group_exit(gs, ExitStatus::Signaled { sig, core: false });
        return;
    }
    chosen.kick();
}
