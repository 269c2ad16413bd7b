//! Task and process exit: the robust futex list and clear_child_tid, the
//! vfork parent, the platform thread, leaving the thread group; for the
//! last thread, the process exit: reparenting its children, becoming a
//! zombie (or being reaped at once if the parent ignores SIGCHLD) and
//! telling the parent. When init exits, every other process is killed, as
//! when a pid namespace's init dies.

use std::sync::Arc;

use crate::abi::signal::{CLD_DUMPED, CLD_EXITED, CLD_KILLED};
use crate::abi::SigInfo;
use crate::kernel::block::EVENT_ANY;
use crate::kernel::run::ExitReason;
use crate::kernel::signal_send::Origin;
use crate::kernel::task::RunState;
use crate::kernel::task_set::Tree;
use crate::kernel::thread_group::{ExitStatus, ThreadGroup};
use crate::kernel::{Kernel, Task};

/// Nanoseconds per clock tick (USER_HZ = 100).
pub const NS_PER_TICK: u64 = 10_000_000;

impl Task {
    /// Cleans up after the run loop and removes the task.
    pub(crate) fn exit(mut self, why: ExitReason) {
        let code = match why {
            ExitReason::Thread(c) => c & 0xff,
            ExitReason::Group => 0,
        };
        self.exit_robust_list();
        self.sample_maxrss();
        self.release_child_tid();
        self.complete_vfork();
        self.ctx.release();
        // The address space goes before the parent hears of the exit (as
        // Linux's exit_mm precedes exit_notify): shared memory detaches.
        let empty = Arc::new(crate::mm::MemoryManager::new(self.kernel.mf.clone(), self.kernel.platform.clone()));
        self.set_mm(empty);
        self.charge_sys();
        self.shared.set_run_state(RunState::Dead);
        // Files close before the parent hears of the exit (a pipe's reader
        // sees end of file by the time wait4 returns).
        let empty = Arc::new(crate::vfs::FdTable::new());
        self.set_fds(empty);
        let stop_done = self.leave_group_stop();
        let kernel = self.kernel.clone();
        if let Some(signo) = stop_done {
            kernel.notify_parent_stop_change(&self.tg, Some(signo));
        }
        kernel.remove_task(&self, code);
        drop(self);
        kernel.task_gone();
    }

    /// Records the resident set of the task's address space in the
    /// process's peak (ru_maxrss); returns the peak in KiB.
    pub fn sample_maxrss(&self) -> u64 {
        let rss = self.mm.backed_bytes() / 1024;
        let mut st = self.tg.state();
        st.usage.maxrss = st.usage.maxrss.max(rss);
        st.usage.maxrss
    }

    /// mm_release: a thread that set clear_child_tid gets 0 written there
    /// and one futex waiter woken (pthread_join), if others share the mm.
    pub(crate) fn release_child_tid(&mut self) {
        let addr = std::mem::take(&mut self.clear_child_tid);
        if addr != 0 && Arc::strong_count(&self.mm) > 1 && self.mm.copy_out_obj(addr, &0u32).is_ok() {
            let _ = self.kernel.futexes.wake(&self.mm, addr, false, 1, crate::kernel::futex::BITSET_ANY);
        }
    }

    /// Wakes a vfork parent waiting for this task to exec or exit.
    pub(crate) fn complete_vfork(&self) {
        if let Some(c) = self.shared.vfork_done.lock().unwrap_or_else(|e| e.into_inner()).take() {
            c.complete();
        }
    }
}

impl Kernel {
    /// Removes an exiting task from the tree and its thread group; the last
    /// thread's exit is the process's.
    fn remove_task(&self, t: &Task, code: i32) {
        let me = &t.shared;
        let tg = t.tg.clone();
        let mut pdeath: Vec<(Arc<ThreadGroup>, i32)> = Vec::new();
        let mut notices: Vec<(Arc<ThreadGroup>, SigInfo)> = Vec::new();
        let mut leader = false;
        {
            let mut tree = self.tasks.write();
            tree.tasks.remove(&t.tid);
            let (last, status) = {
                let mut gs = tg.signals();
                gs.threads.retain(|x| !Arc::ptr_eq(x, me));
                (gs.threads.is_empty(), gs.exiting.unwrap_or(ExitStatus::Exited(code)))
            };
            {
                let mut st = tg.state();
                let used = me.cpu.sample();
                st.usage.dead_threads += used;
                for (d, v) in st.io_dead.iter_mut().zip(me.io.sample()) {
                    *d += v;
                }
                let tag = tree.procs.get(&tg.pid).map_or(0, |p| p.container);
                *self.exited_cpu.lock().unwrap_or_else(|e| e.into_inner()).entry(tag).or_default() += used;
            }
            // PR_SET_PDEATHSIG: sent when the thread that made a child exits.
            if let Some(p) = tree.procs.get(&tg.pid) {
                for c in &p.children {
                    if let Some(cp) = tree.procs.get(c) {
                        let sig = cp.tg.state().pdeathsig;
                        if cp.creator == t.tid && sig != 0 && cp.zombie.is_none() {
                            pdeath.push((cp.tg.clone(), sig));
                        }
                    }
                }
            }
            if last {
                leader = tree.procs.get(&tg.pid).is_some_and(|p| p.sid == tg.pid);
                self.process_exit(&mut tree, &tg, status, &mut notices);
            }
        }
        tg.thread_exits.notify(EVENT_ANY);
        if leader {
            // A session leader's end takes the session's controlling
            // terminal away (disassociate_ctty).
            self.ttys.session_ended(tg.pid, true);
        }
        for (c, sig) in pdeath {
            // As Linux's SEND_SIG_NOINFO: from the exiting thread's process.
            let info = SigInfo::user(sig, crate::abi::signal::SI_USER, tg.pid, t.creds.uid);
            self.send_group_signal(&c, info, Origin::Sandbox);
        }
        for (p, info) in notices {
            self.send_group_signal(&p, info, Origin::Sandbox);
            p.child_events.notify(EVENT_ANY);
        }
    }

    /// The last thread of `tg` exited.
    fn process_exit(
        &self,
        tree: &mut Tree,
        tg: &Arc<ThreadGroup>,
        status: ExitStatus,
        notices: &mut Vec<(Arc<ThreadGroup>, SigInfo)>,
    ) {
        let pid = tg.pid;
        *tg.exit_status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        tg.timers.clear();
        tg.sem_undo.exit(pid);
        // Children go to the reaper (a subreaper ancestor, or init).
        let reaper = tree.reaper_for(pid);
        let children: Vec<i32> = tree.procs.get(&pid).map(|p| p.children.iter().copied().collect()).unwrap_or_default();
        for c in children {
            if pid == 1 {
                // Init is gone: so is everything else in the namespace.
                if let Some(cp) = tree.procs.get(&c) {
                    self.kill_group(&cp.tg, ExitStatus::Signaled { sig: libc::SIGKILL, core: false });
                }
            }
            if let Some(cp) = tree.procs.get_mut(&c) {
                cp.parent = reaper;
            }
            let zombie = tree.procs.get(&c).and_then(|cp| cp.zombie.map(|z| (cp.uid, z, cp.exit_signal)));
            if let Some(r) = tree.procs.get_mut(&reaper) {
                r.children.insert(c);
                if let Some((uid, z, sig)) = zombie {
                    if sig != 0 {
                        notices.push((r.tg.clone(), child_info(c, uid, z)));
                    }
                }
            }
        }
        if let Some(p) = tree.procs.get_mut(&pid) {
            p.children.clear();
        }
        if pid == 1 {
            // Every other process dies with init.
            let others: Vec<Arc<ThreadGroup>> =
                tree.procs.values().filter(|p| p.tg.pid != 1).map(|p| p.tg.clone()).collect();
            for o in others {
                self.kill_group(&o, ExitStatus::Signaled { sig: libc::SIGKILL, core: false });
            }
            tree.remove_proc(1);
            self.init_exited(status);
            tg.exit_events.notify(EVENT_ANY);
            return;
        }
        let usage = {
            let st = tg.state();
            let mut u = st.usage.dead_threads;
            u += st.usage.children;
            u
        };
        let Some(p) = tree.procs.get_mut(&pid) else { return };
        p.zombie = Some(status);
        tg.exit_events.notify(EVENT_ANY);
        p.zombie_usage = usage;
        p.stop_report = None;
        p.cont_report = false;
        let (parent, uid, exit_signal) = (p.parent, p.uid, p.exit_signal);
        let Some(parent_tg) = tree.procs.get(&parent).map(|q| q.tg.clone()) else {
            tree.remove_proc(pid);
            return;
        };
        let act = parent_tg.handlers().get(libc::SIGCHLD);
        let autoreap = exit_signal == libc::SIGCHLD
            && (act.handler == libc::SIG_IGN as u64 || act.flags & libc::SA_NOCLDWAIT as u64 != 0);
        if autoreap {
            // SA_NOCLDWAIT with a handler still gets the signal; SIG_IGN
            // does not.
            tree.remove_proc(pid);
            if act.handler != libc::SIG_IGN as u64 {
                notices.push((parent_tg, child_info(pid, uid, status)));
            } else {
                parent_tg.child_events.notify(EVENT_ANY);
            }
            return;
        }
        if exit_signal != 0 {
            let mut info = child_info(pid, uid, status);
            info.signo = exit_signal;
            notices.push((parent_tg, info));
        } else {
            parent_tg.child_events.notify(EVENT_ANY);
        }
    }
}

/// The SIGCHLD siginfo for a child that ended with `status`.
pub fn child_info(pid: i32, uid: u32, status: ExitStatus) -> SigInfo {
    let (code, st) = match status {
        ExitStatus::Exited(c) => (CLD_EXITED, c),
        ExitStatus::Signaled { sig, core: true } => (CLD_DUMPED, sig),
        ExitStatus::Signaled { sig, core: false } => (CLD_KILLED, sig),
    };
    SigInfo::child(code, pid, uid, st, 0, 0)
}
