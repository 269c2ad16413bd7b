//! Futexes: wait queues keyed by [`FutexKey`] (private futexes by address
//! space and address, shared ones by memory-file page), waits through the
//! task's blocker, priority-inheritance (PI) futexes, and the robust-list
//! walk at thread exit.
//!
//! A PI futex word holds its owner's tid, with FUTEX_WAITERS while tasks
//! wait in the kernel and FUTEX_OWNER_DIED after an owner died holding it.
//! The sentry has no priorities to lend, so "inheritance" is the ownership
//! protocol alone: unlock hands the lock to the first waiter, and an owner
//! that exits hands it on the same way.
//!
//! The value check and the queueing happen under the bucket lock, which
//! wakers take too, so no wake-up is lost between them.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::abi::Errno;
use crate::kernel::block::{TaskWaker, Waker};
use crate::kernel::Task;
use crate::mm::{FutexKey, MemoryManager};

/// FUTEX_BITSET_MATCH_ANY.
pub const BITSET_ANY: u32 = u32::MAX;
/// FUTEX_WAITERS.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// FUTEX_OWNER_DIED.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// FUTEX_TID_MASK.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

struct Waiter {
    waker: Arc<TaskWaker>,
    bitset: u32,
    /// Set by the waker that dequeued it.
    woken: std::sync::atomic::AtomicBool,
}

/// A task waiting for a PI futex.
struct PiWaiter {
    tid: i32,
    waker: Arc<TaskWaker>,
    /// Its address space and the word's address there (to hand it the
    /// lock when the owner exits).
    mm: Arc<MemoryManager>,
    addr: u64,
    /// Set when the lock was handed to it.
    granted: std::sync::atomic::AtomicBool,
}

/// The futex wait queues of a kernel.
#[derive(Default)]
pub struct Futexes {
    queues: Mutex<HashMap<FutexKey, VecDeque<Arc<Waiter>>>>,
    pi: Mutex<HashMap<FutexKey, VecDeque<Arc<PiWaiter>>>>,
}

/// What a PI lock attempt found.
enum PiTry {
    Acquired,
    /// Held by this tid (FUTEX_WAITERS now set).
    Held(i32),
}

type Queues = HashMap<FutexKey, VecDeque<Arc<Waiter>>>;

impl Futexes {
    fn lock(&self) -> MutexGuard<'_, Queues> {
        self.queues.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// FUTEX_WAIT(_BITSET): sleeps while `*addr == val` until woken, the
    /// deadline, or a signal (ERESTARTSYS).
    #[allow(clippy::too_many_arguments)]
    pub fn wait(
        &self,
        t: &Task,
        addr: u64,
        private: bool,
        val: u32,
        bitset: u32,
        deadline: Option<Instant>,
    ) -> Result<(), Errno> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let key = t.mm.futex_key(addr, private)?;
        let w = Arc::new(Waiter { waker: t.waker(), bitset, woken: false.into() });
        {
            let mut q = self.lock();
            let cur = t.mm.futex_load(addr)?;
            if cur != val {
                return Err(Errno::EAGAIN);
            }
            q.entry(key).or_default().push_back(w.clone());
        }
        let r = t.block(&w.waker, deadline);
        if w.woken.load(Ordering::Acquire) {
            return Ok(());
        }
        // Timed out or interrupted: leave the queue, unless a waker took us
        // meanwhile (then the wake counts).
        let mut q = self.lock();
        if w.woken.load(Ordering::Acquire) {
            return Ok(());
        }
        remove_waiter(&mut q, &w);
        r
    }

    /// FUTEX_WAKE(_BITSET): wakes up to `n` waiters; returns how many.
    pub fn wake(&self, mm: &MemoryManager, addr: u64, private: bool, n: u32, bitset: u32) -> Result<u32, Errno> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let key = mm.futex_key(addr, private)?;
        let mut q = self.lock();
        Ok(wake_key(&mut q, key, at_least_one(n), bitset))
    }

    /// FUTEX_(CMP_)REQUEUE: wakes `n` waiters on `addr` and moves up to
    /// `n2` more to `addr2`; with `cmp`, only if `*addr` still equals it.
    #[allow(clippy::too_many_arguments)]
    pub fn requeue(
        &self,
        mm: &MemoryManager,
        addr: u64,
        addr2: u64,
        private: bool,
        n: u32,
        n2: u32,
        cmp: Option<u32>,
    ) -> Result<u32, Errno> {
        let key = mm.futex_key(addr, private)?;
        let key2 = mm.futex_key(addr2, private)?;
        let mut q = self.lock();
        if let Some(c) = cmp {
            if mm.futex_load(addr)? != c {
                return Err(Errno::EAGAIN);
            }
        }
        let woke = wake_key(&mut q, key, n, BITSET_ANY);
        let mut moved = VecDeque::new();
        if let Some(v) = q.get_mut(&key) {
            let k = (n2 as usize).min(v.len());
            moved = v.drain(..k).collect();
            if v.is_empty() {
                q.remove(&key);
            }
        }
        let count = moved.len() as u32;
        if !moved.is_empty() {
            q.entry(key2).or_default().extend(moved);
        }
        Ok(woke + count)
    }

    /// FUTEX_WAKE_OP: applies `op` to `*addr2` atomically, wakes up to `n`
    /// waiters on `addr`, and, if the old value of `*addr2` passes the
    /// comparison in `op`, up to `n2` on `addr2`.
    #[allow(clippy::too_many_arguments)]
    pub fn wake_op(
        &self,
        mm: &MemoryManager,
        addr: u64,
        addr2: u64,
        private: bool,
        n: u32,
        n2: u32,
        op: u32,
    ) -> Result<u32, Errno> {
        let key = mm.futex_key(addr, private)?;
        let key2 = mm.futex_key(addr2, private)?;
        let mut q = self.lock();
        let kind = (op >> 28) & 7;
        let cmp = (op >> 24) & 15;
        let mut oparg = (op >> 12) & 0xfff;
        let cmparg = op & 0xfff;
        if (op >> 31) & 1 == 1 {
            // FUTEX_OP_OPARG_SHIFT.
            if oparg > 31 {
                oparg &= 31;
            }
            oparg = 1u32 << oparg;
        }
        // Sign-extend the 12-bit arguments as the kernel does.
        let sext = |v: u32| ((v << 20) as i32 >> 20) as u32;
        let (oparg, cmparg) = if (op >> 31) & 1 == 1 { (oparg, sext(cmparg)) } else { (sext(oparg), sext(cmparg)) };
        let old = mm.with_atomic_u32(addr2, true, |a| {
            let f = |v: u32| match kind {
                0 => Some(oparg),
                1 => Some(v.wrapping_add(oparg)),
                2 => Some(v | oparg),
                3 => Some(v & !oparg),
                4 => Some(v ^ oparg),
                _ => None,
            };
            let mut cur = a.load(Ordering::SeqCst);
            loop {
                let Some(new) = f(cur) else { return Err(Errno::ENOSYS) };
                match a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return Ok(cur),
                    Err(x) => cur = x,
                }
            }
        })??;
        let hit = match cmp {
            0 => old == cmparg,
            1 => old != cmparg,
            2 => (old as i32) < (cmparg as i32),
            3 => (old as i32) <= (cmparg as i32),
            4 => (old as i32) > (cmparg as i32),
            5 => (old as i32) >= (cmparg as i32),
            _ => return Err(Errno::ENOSYS),
        };
        let mut woke = wake_key(&mut q, key, at_least_one(n), BITSET_ANY);
        if hit {
            woke += wake_key(&mut q, key2, at_least_one(n2), BITSET_ANY);
        }
        Ok(woke)
    }
}

impl Futexes {
    fn pi_lock(&self) -> MutexGuard<'_, HashMap<FutexKey, VecDeque<Arc<PiWaiter>>>> {
        self.pi.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// FUTEX_LOCK_PI(2) and FUTEX_TRYLOCK_PI: takes the PI futex at `addr`
    /// for `t`, waiting (unless `trylock`) until the owner hands it over,
    /// the absolute `deadline` (ETIMEDOUT), or a signal (restarted).
    pub fn lock_pi(
        &self,
        t: &Task,
        addr: u64,
        private: bool,
        deadline: Option<Instant>,
        trylock: bool,
    ) -> Result<(), Errno> {
        let key = t.mm.futex_key(addr, private)?;
        let tid = t.tid as u32;
        let w = {
            let mut pi = self.pi_lock();
            let waiting = pi.get(&key).is_some_and(|q| !q.is_empty());
            let found = t.mm.with_atomic_u32(addr, true, |a| {
                let mut cur = a.load(Ordering::SeqCst);
                loop {
                    if cur & FUTEX_TID_MASK == tid {
                        return Err(Errno::EDEADLK);
                    }
                    let (new, r) = if cur & FUTEX_TID_MASK == 0 && !waiting {
                        // Free: take it, keeping FUTEX_OWNER_DIED.
                        ((cur & FUTEX_OWNER_DIED) | tid, PiTry::Acquired)
                    } else if trylock {
                        return Ok(PiTry::Held((cur & FUTEX_TID_MASK) as i32));
                    } else {
                        (cur | FUTEX_WAITERS, PiTry::Held((cur & FUTEX_TID_MASK) as i32))
                    };
                    match a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                        Ok(_) => return Ok(r),
                        Err(x) => cur = x,
                    }
                }
            })??;
            let owner = match found {
                PiTry::Acquired => return Ok(()),
                PiTry::Held(_) if trylock => return Err(Errno::EAGAIN),
                PiTry::Held(owner) => owner,
            };
            if owner != 0 && t.kernel.tasks.task(owner).is_none() {
                // The owner is gone without marking the word (no robust
                // list): Linux gives ESRCH.
                return Err(Errno::ESRCH);
            }
            let w = Arc::new(PiWaiter { tid: t.tid, waker: t.waker(), mm: t.mm.clone(), addr, granted: false.into() });
            pi.entry(key).or_default().push_back(w.clone());
            w
        };
        let r = t.block(&w.waker, deadline);
        let mut pi = self.pi_lock();
        if w.granted.load(Ordering::Acquire) {
            return Ok(());
        }
        if let Some(q) = pi.get_mut(&key) {
            q.retain(|x| !Arc::ptr_eq(x, &w));
            if q.is_empty() {
                pi.remove(&key);
            }
        }
        match r {
            Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOINTR),
            Err(e) => Err(e),
            // Woken without the lock (cannot happen: only a hand-over wakes).
            Ok(()) => Err(Errno::EAGAIN),
        }
    }

    /// FUTEX_UNLOCK_PI: `t` releases the PI futex at `addr`, handing it to
    /// the first waiter if there is one.
    pub fn unlock_pi(&self, t: &Task, addr: u64, private: bool) -> Result<(), Errno> {
        let key = t.mm.futex_key(addr, private)?;
        let tid = t.tid as u32;
        let mut pi = self.pi_lock();
        let next = pi.get(&key).and_then(|q| q.front().cloned());
        let r = t.mm.with_atomic_u32(addr, true, |a| {
            let cur = a.load(Ordering::SeqCst);
            if cur & FUTEX_TID_MASK != tid {
                return Err(Errno::EPERM);
            }
            let new = match &next {
                Some(w) => FUTEX_WAITERS | w.tid as u32,
                None => 0,
            };
            // A changed word (user space set a bit meanwhile) is user
            // space's to sort out, as in Linux.
            a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst).map(drop).map_err(|_| Errno::EAGAIN)
        })?;
        r?;
        if let Some(w) = next {
            hand_over(&mut pi, key, &w);
        }
        Ok(())
    }

    /// A thread exits: each PI futex it owns with waiters goes to the first
    /// waiter, keeping FUTEX_OWNER_DIED (the robust-list walk sets it).
    pub fn exit_pi(&self, tid: i32) {
        let mut pi = self.pi_lock();
        let keys: Vec<FutexKey> = pi.keys().copied().collect();
        for key in keys {
            let Some(w) = pi.get(&key).and_then(|q| q.front().cloned()) else { continue };
            let moved = w.mm.with_atomic_u32(w.addr, true, |a| {
                let mut cur = a.load(Ordering::SeqCst);
                loop {
                    if cur & FUTEX_TID_MASK != tid as u32 {
                        return false;
                    }
                    let new = (cur & FUTEX_OWNER_DIED) | FUTEX_WAITERS | w.tid as u32;
                    match a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                        Ok(_) => return true,
                        Err(x) => cur = x,
                    }
                }
            });
            if moved == Ok(true) {
                hand_over(&mut pi, key, &w);
            }
        }
    }
}

/// Gives the PI futex `key` to its first waiter `w` (the word already
/// names it).
fn hand_over(pi: &mut HashMap<FutexKey, VecDeque<Arc<PiWaiter>>>, key: FutexKey, w: &Arc<PiWaiter>) {
    if let Some(q) = pi.get_mut(&key) {
        q.pop_front();
        if q.is_empty() {
            pi.remove(&key);
        }
    }
    w.granted.store(true, Ordering::Release);
    w.waker.wake(1);
}

fn remove_waiter(q: &mut Queues, w: &Arc<Waiter>) {
    let mut empty = None;
    for (k, v) in q.iter_mut() {
        if let Some(i) = v.iter().position(|x| Arc::ptr_eq(x, w)) {
            v.remove(i);
            if v.is_empty() {
                empty = Some(*k);
            }
            break;
        }
    }
    if let Some(k) = empty {
        q.remove(&k);
    }
}

/// Linux's wake counts are ints, and its loop wakes one waiter before it
/// compares: a count of 0 or less wakes one.
fn at_least_one(n: u32) -> u32 {
    if (n as i32) <= 0 {
        1
    } else {
        n
    }
}

fn wake_key(q: &mut Queues, key: FutexKey, n: u32, bitset: u32) -> u32 {
    let mut woke = 0;
    if let Some(v) = q.get_mut(&key) {
        let mut i = 0;
        while i < v.len() && woke < n {
            if v[i].bitset & bitset != 0 {
                if let Some(w) = v.remove(i) {
                    w.woken.store(true, Ordering::Release);
                    w.waker.wake(1);
                    woke += 1;
                }
            } else {
                i += 1;
            }
        }
        if v.is_empty() {
            q.remove(&key);
        }
    }
    woke
}

/// ROBUST_LIST_LIMIT: the most entries walked.
const ROBUST_LIST_LIMIT: usize = 2048;

impl Task {
    /// Walks the robust futex list at thread exit: each lock still held by
    /// this thread gets FUTEX_OWNER_DIED, and a waiter is woken.
    pub(crate) fn exit_robust_list(&mut self) {
        let (head, len) = std::mem::take(&mut self.robust_list);
        if head != 0 && len == 24 {
            self.walk_robust_list(head);
        }
        self.kernel.futexes.exit_pi(self.tid);
    }

    fn walk_robust_list(&self, head: u64) {
        let Ok([first, offset, pending]) = self.mm.copy_in_obj::<[u64; 3]>(head) else { return };
        let offset = offset as i64 as u64;
        // Entries carry the PI flag in bit 0.
        let mut entry = first;
        for _ in 0..ROBUST_LIST_LIMIT {
            if entry & !1 == head || entry & !1 == 0 {
                break;
            }
            let Ok(next) = self.mm.copy_in_obj::<u64>(entry & !1) else { break };
            if entry & !1 != pending & !1 {
                self.robust_died((entry & !1).wrapping_add(offset), entry & 1 != 0, false);
            }
            entry = next;
        }
        if pending & !1 != 0 {
            self.robust_died((pending & !1).wrapping_add(offset), pending & 1 != 0, true);
        }
    }

    /// The robust futex at `addr` (a PI one if `pi`; `pending`: the lock
    /// the thread was taking or releasing): if this thread owns it, it gets
    /// FUTEX_OWNER_DIED and one waiter is woken (PI waiters get the lock
    /// from `exit_pi`).
    fn robust_died(&self, addr: u64, pi: bool, pending: bool) {
        let tid = self.tid as u32;
        let wake = self.mm.with_atomic_u32(addr, true, |a| {
            let mut cur = a.load(Ordering::SeqCst);
            loop {
                if pending && !pi && cur == 0 {
                    // Died between unlocking and waking: wake for it.
                    return true;
                }
                if cur & FUTEX_TID_MASK != tid {
                    return false;
                }
                let new = (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
                match a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return !pi && cur & FUTEX_WAITERS != 0,
                    Err(x) => cur = x,
                }
            }
        });
        if wake == Ok(true) {
            let _ = self.kernel.futexes.wake(&self.mm, addr, false, 1, BITSET_ANY);
        }
    }
}
