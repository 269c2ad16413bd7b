//! wait4 and waitid: waiting for a child to exit, stop or continue, and
//! reaping zombies. Children belong to the process, so any thread may wait
//! for any child of its process.

use crate::abi::signal::{CLD_CONTINUED, CLD_STOPPED};
use crate::abi::Errno;
use crate::kernel::block::{Registration, EVENT_ANY};
use crate::kernel::exit::child_info;
use crate::kernel::thread_group::Usage;
use crate::kernel::Task;

/// Which children to wait for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitTarget {
    /// The child with this pid.
    Pid(i32),
    /// Children in this process group (0: the caller's).
    Group(i32),
    /// Any child.
    Any,
}

/// What to wait for (WEXITED, WUNTRACED/WSTOPPED, WCONTINUED, WNOHANG,
/// WNOWAIT, __WCLONE, __WALL).
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitOptions {
    /// Exited children.
    pub exited: bool,
    /// Stopped children.
    pub stopped: bool,
    /// Continued children.
    pub continued: bool,
    /// Do not block.
    pub nohang: bool,
    /// Leave the child waitable.
    pub nowait: bool,
    /// Only "clone" children (exit signal other than SIGCHLD).
    pub clone_only: bool,
    /// Both kinds of children.
    pub all: bool,
    /// Only children made by the calling thread (__WNOTHREAD).
    pub nothread: bool,
}

/// A child's state change.
#[derive(Clone, Copy, Debug)]
pub struct WaitResult {
    /// The child's pid.
    pub pid: i32,
    /// Its real uid.
    pub uid: u32,
    /// CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED or CLD_CONTINUED.
    pub code: i32,
    /// Exit status or signal (waitid's si_status).
    pub status: i32,
    /// The status word wait4 stores.
    pub wait_status: i32,
    /// CPU time of the child (for an exited child).
    pub usage: Usage,
    /// Its peak resident set, or its reaped descendants', in KiB (for an
    /// exited child).
    pub maxrss: u64,
}

impl Task {
    /// Waits for a child's state change; `None` with WNOHANG when none is
    /// ready. ECHILD when no child matches.
    pub fn wait_child(&mut self, target: WaitTarget, opts: WaitOptions) -> Result<Option<WaitResult>, Errno> {
        let w = self.waker();
        let _reg = Registration::new(&self.tg.child_events, EVENT_ANY, w.clone());
        loop {
            w.reset();
            if let Some(r) = self.try_wait(target, opts)? {
                return Ok(Some(r));
            }
            if opts.nohang {
                return Ok(None);
            }
            self.block(&w, None)?;
        }
    }

    fn try_wait(&self, target: WaitTarget, opts: WaitOptions) -> Result<Option<WaitResult>, Errno> {
        let mut tree = self.kernel.tasks.write();
        let me = tree.procs.get(&self.tg.pid).ok_or(Errno::ECHILD)?;
        let my_pgid = me.pgid;
        let candidates: Vec<i32> = me
            .children
            .iter()
            .copied()
            .filter(|c| {
                let Some(p) = tree.procs.get(c) else { return false };
                let target_ok = match target {
                    WaitTarget::Pid(pid) => *c == pid,
                    WaitTarget::Group(0) => p.pgid == my_pgid,
                    WaitTarget::Group(g) => p.pgid == g,
                    WaitTarget::Any => true,
                };
                let is_clone = p.exit_signal != libc::SIGCHLD;
                // A child whose creating thread is gone counts as the
                // leader's (Linux hands it to a live thread).
                let mine = p.creator == self.tid || (self.tid == self.tg.pid && !tree.tasks.contains_key(&p.creator));
                target_ok && (opts.all || is_clone == opts.clone_only) && (!opts.nothread || mine)
            })
            .collect();
        if candidates.is_empty() {
            return Err(Errno::ECHILD);
        }
        for c in candidates {
            let Some(p) = tree.procs.get_mut(&c) else { continue };
            if let Some(z) = p.zombie.filter(|_| opts.exited) {
                let info = child_info(c, p.uid, z);
                let r = WaitResult {
                    pid: c,
                    uid: p.uid,
                    code: info.code,
                    status: info.status(),
                    wait_status: z.wait_status(),
                    usage: p.zombie_usage,
                    maxrss: {
                        let u = p.tg.state().usage;
                        u.maxrss.max(u.children_maxrss)
                    },
                };
                if !opts.nowait {
                    let gone = tree.remove_proc(c);
                    if let Some(g) = gone {
                        let mut st = self.tg.state();
                        st.usage.children += g.zombie_usage;
                        st.usage.children_maxrss = st.usage.children_maxrss.max(r.maxrss);
                    }
                }
                return Ok(Some(r));
            }
            if let Some(sig) = p.stop_report.filter(|_| opts.stopped) {
                if !opts.nowait {
                    p.stop_report = None;
                }
                return Ok(Some(WaitResult {
                    pid: c,
                    uid: p.uid,
                    code: CLD_STOPPED,
                    status: sig,
                    wait_status: (sig << 8) | 0x7f,
                    usage: Usage::default(),
                    maxrss: 0,
                }));
            }
            if p.cont_report && opts.continued {
                if !opts.nowait {
                    p.cont_report = false;
                }
                return Ok(Some(WaitResult {
                    pid: c,
                    uid: p.uid,
                    code: CLD_CONTINUED,
                    status: libc::SIGCONT,
                    wait_status: 0xffff,
                    usage: Usage::default(),
                    maxrss: 0,
                }));
            }
        }
        Ok(None)
    }
}
