//! The sandbox's pid namespace: every live task by tid, every process (live
//! or zombie) by pid with its place in the process tree, process groups and
//! sessions, and pid allocation. One RwLock guards it all (gVisor's
//! TaskSet.mu).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::abi::Errno;
use crate::kernel::task::TaskShared;
use crate::kernel::thread_group::{ExitStatus, ThreadGroup};

/// The largest pid (Linux's default pid_max on 64-bit).
pub const PID_MAX: i32 = 4_194_304;

/// A process in the tree.
pub struct Proc {
    /// The process.
    pub tg: Arc<ThreadGroup>,
    /// Parent's pid (0 for init).
    pub parent: i32,
    /// Children's pids.
    pub children: BTreeSet<i32>,
    /// Process group.
    pub pgid: i32,
    /// Session.
    pub sid: i32,
    /// The signal sent to the parent at exit (0: none; SIGCHLD usually).
    pub exit_signal: i32,
    /// Set when the last thread exited: a zombie until reaped.
    pub zombie: Option<ExitStatus>,
    /// CPU time of the zombie (itself and its reaped children), for the
    /// parent's accounts when reaped.
    pub zombie_usage: crate::kernel::thread_group::Usage,
    /// A stop for wait(WUNTRACED) to report: the stop signal.
    pub stop_report: Option<i32>,
    /// A continue for wait(WCONTINUED) to report.
    pub cont_report: bool,
    /// The thread that created it (its death sends PR_SET_PDEATHSIG).
    pub creator: i32,
    /// Real uid (RLIMIT_NPROC counts processes per user).
    pub uid: u32,
    /// The container of the pod it belongs to (0: the sandbox's first;
    /// children inherit their parent's).
    pub container: u32,
}

/// The tree itself.
#[derive(Default)]
pub struct Tree {
    /// Live tasks by tid.
    pub tasks: BTreeMap<i32, Arc<TaskShared>>,
    /// Processes by pid, live and zombie.
    pub procs: BTreeMap<i32, Proc>,
    last: i32,
    /// Pid 1 is kept for init, which has not started yet (helpers such as
    /// a container's startContainer hooks run before it).
    pub init_reserved: bool,
    groups: BTreeMap<i32, usize>,
    sessions: BTreeMap<i32, usize>,
}

impl Tree {
    fn in_use(&self, id: i32) -> bool {
        (id == 1 && self.init_reserved)
            || self.tasks.contains_key(&id)
            || self.procs.contains_key(&id)
            || self.groups.contains_key(&id)
            || self.sessions.contains_key(&id)
    }

    /// Ends [`Tree::init_reserved`]: the next pid allocated is 1.
    pub fn release_init_pid(&mut self) {
        if self.init_reserved {
            self.init_reserved = false;
            self.last = 0;
        }
    }

    /// Allocates a pid/tid: the next free one after the last, wrapping.
    pub fn alloc_id(&mut self) -> Result<i32, Errno> {
        let mut cand = self.last;
        for _ in 0..PID_MAX {
            cand = if cand >= PID_MAX - 1 { 1 } else { cand + 1 };
            if !self.in_use(cand) {
                self.last = cand;
                return Ok(cand);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// Adds a process.
    pub fn add_proc(&mut self, p: Proc) {
        *self.groups.entry(p.pgid).or_default() += 1;
        *self.sessions.entry(p.sid).or_default() += 1;
        if let Some(parent) = self.procs.get_mut(&p.parent) {
            parent.children.insert(p.tg.pid);
        }
        self.procs.insert(p.tg.pid, p);
    }

    fn drop_ref(map: &mut BTreeMap<i32, usize>, id: i32) {
        if let Some(c) = map.get_mut(&id) {
            *c -= 1;
            if *c == 0 {
                map.remove(&id);
            }
        }
    }

    /// Removes a process (reaped), detaching it from its parent.
    pub fn remove_proc(&mut self, pid: i32) -> Option<Proc> {
        let p = self.procs.remove(&pid)?;
        p.tg.reaped.store(true, std::sync::atomic::Ordering::Release);
        p.tg.exit_events.notify(crate::waiter::EVENT_ANY);
        Self::drop_ref(&mut self.groups, p.pgid);
        Self::drop_ref(&mut self.sessions, p.sid);
        if let Some(parent) = self.procs.get_mut(&p.parent) {
            parent.children.remove(&pid);
        }
        Some(p)
    }

    /// Moves `pid` into process group `pgid`.
    pub fn set_pgid(&mut self, pid: i32, pgid: i32) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        let old = std::mem::replace(&mut p.pgid, pgid);
        Self::drop_ref(&mut self.groups, old);
        *self.groups.entry(pgid).or_default() += 1;
    }

    /// Makes `pid` the leader of a new session and process group.
    pub fn set_sid(&mut self, pid: i32) {
        let Some(p) = self.procs.get_mut(&pid) else { return };
        let (og, os) = (p.pgid, p.sid);
        p.pgid = pid;
        p.sid = pid;
        Self::drop_ref(&mut self.groups, og);
        Self::drop_ref(&mut self.sessions, os);
        *self.groups.entry(pid).or_default() += 1;
        *self.sessions.entry(pid).or_default() += 1;
    }

    /// Whether a process group `pgid` exists.
    pub fn group_exists(&self, pgid: i32) -> bool {
        self.groups.contains_key(&pgid)
    }

    /// The live processes of group `pgid`.
    pub fn group_members(&self, pgid: i32) -> Vec<Arc<ThreadGroup>> {
        // Zombies count, as in Linux, until they are reaped.
        self.procs.values().filter(|p| p.pgid == pgid).map(|p| p.tg.clone()).collect()
    }

    /// Where the children of `pid` go when it exits: the nearest live
    /// ancestor that is a child subreaper, else init (pid 1).
    pub fn reaper_for(&self, pid: i32) -> i32 {
        let mut cur = self.procs.get(&pid).map_or(0, |p| p.parent);
        while cur != 0 {
            let Some(p) = self.procs.get(&cur) else { break };
            if p.zombie.is_none() && p.tg.state().subreaper {
                return cur;
            }
            cur = p.parent;
        }
        1
    }

    /// Whether process group `pgid` is orphaned: no member has a parent in
    /// another group of the same session.
    pub fn group_orphaned(&self, pgid: i32) -> bool {
        !self
            .procs
            .values()
            .filter(|p| p.pgid == pgid && p.zombie.is_none())
            .any(|p| self.procs.get(&p.parent).is_some_and(|q| q.zombie.is_none() && q.pgid != pgid && q.sid == p.sid))
    }

    /// Live processes of real user `uid`.
    pub fn processes_of(&self, uid: u32) -> usize {
        self.procs.values().filter(|p| p.zombie.is_none() && p.uid == uid).count()
    }
}

/// The pid namespace.
#[derive(Default)]
pub struct TaskSet {
    tree: RwLock<Tree>,
}

impl TaskSet {
    /// Locks for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, Tree> {
        self.tree.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks for writing.
    pub fn write(&self) -> RwLockWriteGuard<'_, Tree> {
        self.tree.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The live task with `tid`.
    pub fn task(&self, tid: i32) -> Option<Arc<TaskShared>> {
        self.read().tasks.get(&tid).cloned()
    }

    /// The process with `pid` (live or zombie).
    pub fn thread_group(&self, pid: i32) -> Option<Arc<ThreadGroup>> {
        self.read().procs.get(&pid).map(|p| p.tg.clone())
    }

    /// Pids of every process, ascending.
    pub fn pids(&self) -> Vec<i32> {
        self.read().procs.keys().copied().collect()
    }

    /// Pids of the processes of container `c`, ascending.
    pub fn pids_in(&self, c: u32) -> Vec<i32> {
        self.read().procs.iter().filter(|(_, p)| p.container == c).map(|(&pid, _)| pid).collect()
    }

    /// Number of live tasks.
    pub fn task_count(&self) -> usize {
        self.read().tasks.len()
    }
}
