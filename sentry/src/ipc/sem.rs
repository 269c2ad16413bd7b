//! System V semaphore sets: semop's all-or-nothing operations, waiting
//! for them, SEM_UNDO adjustments (undone when the process exits), and
//! semctl's values and counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::ipc::{SemBuf, SemidDs};
use crate::abi::Errno;
use crate::ipc::{now_secs, IpcObject, Perm, IPC_NOWAIT, IPC_PRIVATE};
use crate::waiter::WaitQueue;

/// SEMMSL: semaphores per set.
pub const SEMMSL: usize = 32000;
/// SEMMNS: semaphores in all.
pub const SEMMNS: usize = 1_024_000_000;
/// SEMOPM: operations per semop.
pub const SEMOPM: usize = 500;
/// SEMMNI: sets.
pub const SEMMNI: usize = 32000;
/// SEMVMX: the largest value.
pub const SEMVMX: i32 = 32767;
/// SEMAEM: the largest undo adjustment.
pub const SEMAEM: i32 = SEMVMX;
/// SEM_UNDO.
pub const SEM_UNDO: i16 = 0x1000;

/// One semaphore.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sem {
    /// Its value.
    pub val: i32,
    /// The last process to change it.
    pub pid: i32,
}

/// What a blocked semop waits for: (semaphore, for zero?).
type Wait = (u16, bool);

/// A set's changing state.
pub struct SemState {
    /// Key, owner, mode.
    pub perm: Perm,
    /// The semaphores.
    pub sems: Vec<Sem>,
    /// Last semop and change times.
    pub otime: i64,
    /// Last change.
    pub ctime: i64,
    /// Removed: waiters get EIDRM.
    pub removed: bool,
    /// Blocked operations, by waiter, on what each would block.
    waiting: HashMap<u64, Wait>,
    next_waiter: u64,
    /// SEM_UNDO adjustments, by process.
    undo: HashMap<i32, Vec<i32>>,
}

/// A semaphore set.
pub struct SemSet {
    state: Mutex<SemState>,
    /// Woken when values change or the set goes.
    pub queue: WaitQueue,
}

/// How an attempt at a semop went.
pub enum Attempt {
    /// Done.
    Done,
    /// Would block on this semaphore (for zero, or for an increase).
    Block(Wait),
}

impl SemSet {
    /// A set of `n` semaphores, all zero.
    pub fn new(perm: Perm, n: usize) -> SemSet {
        SemSet {
            state: Mutex::new(SemState {
                perm,
                sems: vec![Sem::default(); n],
                otime: 0,
                ctime: now_secs(),
                removed: false,
                waiting: HashMap::new(),
                next_waiter: 0,
                undo: HashMap::new(),
            }),
            queue: WaitQueue::new(),
        }
    }

    /// The state.
    pub fn state(&self) -> MutexGuard<'_, SemState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Number of semaphores.
    pub fn len(&self) -> usize {
        self.state().sems.len()
    }

    /// Whether the set has no semaphores (never: semget refuses).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// IPC_STAT's view.
    pub fn stat(&self) -> SemidDs {
        let s = self.state();
        SemidDs {
            perm: s.perm.to_raw(),
            otime: s.otime,
            ctime: s.ctime,
            nsems: s.sems.len() as u64,
            ..Default::default()
        }
    }

    /// Tries `sops` all at once for process `pid` (Linux's
    /// perform_atomic_semop): applied only if none would block or fail.
    pub fn try_op(&self, sops: &[SemBuf], pid: i32) -> Result<Attempt, Errno> {
        let mut s = self.state();
        if s.removed {
            return Err(Errno::EIDRM);
        }
        let n = s.sems.len();
        let mut vals: Vec<i32> = s.sems.iter().map(|x| x.val).collect();
        let mut undo = s.undo.get(&pid).cloned();
        for op in sops {
            let i = op.num as usize;
            if i >= n {
                return Err(Errno::EFBIG);
            }
            let cur = vals[i];
            if op.op == 0 {
                if cur != 0 {
                    return if op.flg & IPC_NOWAIT as i16 != 0 {
                        Err(Errno::EAGAIN)
                    } else {
                        Ok(Attempt::Block((op.num, true)))
                    };
                }
                continue;
            }
            let new = cur + op.op as i32;
            if new < 0 {
                return if op.flg & IPC_NOWAIT as i16 != 0 {
                    Err(Errno::EAGAIN)
                } else {
                    Ok(Attempt::Block((op.num, false)))
                };
            }
            if new > SEMVMX {
                return Err(Errno::ERANGE);
            }
            if op.flg & SEM_UNDO != 0 {
                let u = undo.get_or_insert_with(|| vec![0; n]);
                let adj = u[i] - op.op as i32;
                if !(-SEMAEM - 1..=SEMAEM).contains(&adj) {
                    return Err(Errno::ERANGE);
                }
                u[i] = adj;
            }
            vals[i] = new;
        }
        for op in sops {
            s.sems[op.num as usize].pid = pid;
        }
        for (sem, v) in s.sems.iter_mut().zip(vals) {
            sem.val = v;
        }
        if let Some(u) = undo {
            s.undo.insert(pid, u);
        }
        s.otime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
        Ok(Attempt::Done)
    }

    /// Records a waiter blocked on `w` (for GETNCNT/GETZCNT); returns its
    /// ticket.
    pub fn add_waiter(&self, w: Wait) -> u64 {
        let mut s = self.state();
        s.next_waiter += 1;
        let id = s.next_waiter;
        s.waiting.insert(id, w);
        id
    }

    /// Forgets a waiter.
    pub fn remove_waiter(&self, id: u64) {
        self.state().waiting.remove(&id);
    }

    /// GETNCNT (`zero` false) or GETZCNT for semaphore `i`.
    pub fn count_waiting(&self, i: u16, zero: bool) -> usize {
        self.state().waiting.values().filter(|w| **w == (i, zero)).count()
    }

    /// SETVAL: sets one value, clearing every process's adjustment of it.
    pub fn set_val(&self, i: usize, v: i32, pid: i32) -> Result<(), Errno> {
        let mut s = self.state();
        if i >= s.sems.len() {
            return Err(Errno::EINVAL);
        }
        if !(0..=SEMVMX).contains(&v) {
            return Err(Errno::ERANGE);
        }
        s.sems[i] = Sem { val: v, pid };
        for u in s.undo.values_mut() {
            u[i] = 0;
        }
        s.ctime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
        Ok(())
    }

    /// SETALL: sets every value, clearing all adjustments.
    pub fn set_all(&self, vals: &[u16], pid: i32) -> Result<(), Errno> {
        let mut s = self.state();
        if vals.iter().any(|&v| v as i32 > SEMVMX) {
            return Err(Errno::ERANGE);
        }
        for (sem, &v) in s.sems.iter_mut().zip(vals) {
            *sem = Sem { val: v as i32, pid };
        }
        s.undo.clear();
        s.ctime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
        Ok(())
    }

    /// IPC_RMID: waiters wake to EIDRM.
    pub fn remove(&self) {
        self.state().removed = true;
        self.queue.notify(crate::waiter::EVENT_ANY);
    }

    /// Process `pid` exits: its adjustments are applied, each value kept
    /// within 0..=SEMVMX (Linux's exit_sem).
    pub fn exit_undo(&self, pid: i32) {
        let mut s = self.state();
        let Some(u) = s.undo.remove(&pid) else { return };
        if s.removed {
            return;
        }
        for (sem, adj) in s.sems.iter_mut().zip(u) {
            if adj != 0 {
                sem.val = (sem.val + adj).clamp(0, SEMVMX);
                sem.pid = pid;
            }
        }
        s.otime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
    }
}

impl IpcObject for SemSet {
    fn perm(&self) -> Perm {
        self.state().perm
    }

    fn forget_key(&self) {
        self.state().perm.key = IPC_PRIVATE;
    }
}

/// The sets a process has SEM_UNDO adjustments in (kept by the process,
/// walked when it exits).
#[derive(Default)]
pub struct UndoList {
    sets: Mutex<Vec<Weak<SemSet>>>,
}

impl UndoList {
    /// Notes that the process adjusts `set`.
    pub fn note(&self, set: &Arc<SemSet>) {
        let mut v = self.sets.lock().unwrap_or_else(|e| e.into_inner());
        if !v.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(set))) {
            v.push(Arc::downgrade(set));
        }
    }

    /// The process `pid` exits.
    pub fn exit(&self, pid: i32) {
        let sets = std::mem::take(&mut *self.sets.lock().unwrap_or_else(|e| e.into_inner()));
        for s in sets.iter().filter_map(Weak::upgrade) {
            s.exit_undo(pid);
        }
    }
}
