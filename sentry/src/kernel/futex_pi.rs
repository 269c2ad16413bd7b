//! Priority-inheritance (PI) futexes: FUTEX_LOCK_PI(2), TRYLOCK_PI,
//! UNLOCK_PI, the requeue of condition-variable waiters onto a PI futex
//! (FUTEX_WAIT_REQUEUE_PI, FUTEX_CMP_REQUEUE_PI), and the hand-over of the
//! locks a dying thread holds.
//!
//! A PI futex word holds its owner's tid, with FUTEX_WAITERS while tasks
//! wait in the kernel and FUTEX_OWNER_DIED after an owner died holding it.
//! The sentry has no priorities to lend, so "inheritance" is the ownership
//! protocol alone: unlock hands the lock to the first waiter, and an owner
//! that exits hands it on the same way.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, MutexGuard};
use std::time::Instant;

use crate::abi::Errno;
use crate::kernel::block::{TaskWaker, Waker};
use crate::kernel::futex::{remove_waiter, Futexes, RequeuePi, Waiter, BITSET_ANY};
use crate::kernel::Task;
use crate::mm::{FutexKey, MemoryManager};

/// FUTEX_WAITERS.
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
/// FUTEX_OWNER_DIED.
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
/// FUTEX_TID_MASK.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;

/// A task waiting for a PI futex.
pub(crate) struct PiWaiter {
    tid: i32,
    waker: Arc<TaskWaker>,
    /// Its address space and the word's address there (to hand it the
    /// lock when the owner exits).
    mm: Arc<MemoryManager>,
    addr: u64,
    /// Set when the lock was handed to it.
    granted: AtomicBool,
}

/// The PI futexes' wait queues.
pub(crate) type PiQueues = HashMap<FutexKey, VecDeque<Arc<PiWaiter>>>;

/// What a PI lock attempt found.
enum PiTry {
    Acquired,
    /// Held by this tid (FUTEX_WAITERS now set unless trying only).
    Held(i32),
}

/// Tries to take the PI futex word at `addr` for `tid`: free (and nobody
/// queued in the kernel, `queued`) it becomes `tid`'s, keeping
/// FUTEX_OWNER_DIED (and with FUTEX_WAITERS if `set_waiters`); held, it
/// gets FUTEX_WAITERS unless `trylock`. EDEADLK if `tid` holds it.
fn try_take(
    mm: &MemoryManager,
    addr: u64,
    tid: u32,
    queued: bool,
    trylock: bool,
    set_waiters: bool,
) -> Result<PiTry, Errno> {
    mm.with_atomic_u32(addr, true, |a| {
        let mut cur = a.load(Ordering::SeqCst);
        loop {
            if cur & FUTEX_TID_MASK == tid {
                return Err(Errno::EDEADLK);
            }
            let (new, r) = if cur & FUTEX_TID_MASK == 0 && !queued {
                let waiters = if set_waiters { FUTEX_WAITERS } else { 0 };
                ((cur & FUTEX_OWNER_DIED) | waiters | tid, PiTry::Acquired)
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
    })?
}

impl Futexes {
    fn pi_lock(&self) -> MutexGuard<'_, PiQueues> {
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
            let found = try_take(&t.mm, addr, tid, waiting, trylock, false)?;
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
fn hand_over(pi: &mut PiQueues, key: FutexKey, w: &Arc<PiWaiter>) {
    if let Some(q) = pi.get_mut(&key) {
        q.pop_front();
        if q.is_empty() {
            pi.remove(&key);
        }
    }
    w.granted.store(true, Ordering::Release);
    w.waker.wake(1);
}

impl Futexes {
    /// FUTEX_WAIT_REQUEUE_PI: sleeps on the plain futex `addr` while
    /// `*addr == val`, to be requeued onto the PI futex `addr2` by
    /// FUTEX_CMP_REQUEUE_PI; returns once it owns `addr2`. A timeout
    /// (absolute `deadline`) gives ETIMEDOUT; a signal restarts the wait
    /// before the requeue and gives EAGAIN after it, as in Linux.
    #[allow(clippy::too_many_arguments)]
    pub fn wait_requeue_pi(
        &self,
        t: &Task,
        addr: u64,
        val: u32,
        addr2: u64,
        private: bool,
        deadline: Option<Instant>,
    ) -> Result<(), Errno> {
        let key = t.mm.futex_key(addr, private)?;
        let key2 = t.mm.futex_key(addr2, private)?;
        if key == key2 {
            return Err(Errno::EINVAL);
        }
        let waker = t.waker();
        let pw = Arc::new(PiWaiter {
            tid: t.tid,
            waker: waker.clone(),
            mm: t.mm.clone(),
            addr: addr2,
            granted: false.into(),
        });
        let rq = RequeuePi { key2, pi: pw.clone(), requeued: false.into() };
        let w =
            Arc::new(Waiter { waker: waker.clone(), bitset: BITSET_ANY, woken: false.into(), requeue_pi: Some(rq) });
        {
            let mut q = self.lock();
            if t.mm.futex_load(addr)? != val {
                return Err(Errno::EAGAIN);
            }
            q.entry(key).or_default().push_back(w.clone());
        }
        let r = t.block(&waker, deadline);
        let mut q = self.lock();
        let mut pi = self.pi_lock();
        if pw.granted.load(Ordering::Acquire) {
            return Ok(());
        }
        let requeued = w.requeue_pi.as_ref().is_some_and(|rq| rq.requeued.load(Ordering::Acquire));
        if requeued {
            if let Some(v) = pi.get_mut(&key2) {
                v.retain(|x| !Arc::ptr_eq(x, &pw));
                if v.is_empty() {
                    pi.remove(&key2);
                }
            }
            return match r {
                Err(Errno::ETIMEDOUT) => Err(Errno::ETIMEDOUT),
                _ => Err(Errno::EAGAIN),
            };
        }
        remove_waiter(&mut q, &w);
        match r {
            Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOINTR),
            Err(e) => Err(e),
            Ok(()) => Err(Errno::EAGAIN),
        }
    }

    /// FUTEX_CMP_REQUEUE_PI: if `*addr == cmp`, takes the PI futex `addr2`
    /// for the first FUTEX_WAIT_REQUEUE_PI waiter on `addr` if it is free
    /// (waking it), and moves waiters onto `addr2`'s queue, up to
    /// `nr_requeue` beyond the one woken. Returns how many were woken or
    /// moved. `nr_wake` must be 1.
    #[allow(clippy::too_many_arguments)]
    pub fn cmp_requeue_pi(
        &self,
        t: &Task,
        addr: u64,
        addr2: u64,
        private: bool,
        nr_wake: u32,
        nr_requeue: i32,
        cmp: u32,
    ) -> Result<u32, Errno> {
        if nr_wake != 1 || nr_requeue < 0 {
            return Err(Errno::EINVAL);
        }
        let key = t.mm.futex_key(addr, private)?;
        let key2 = t.mm.futex_key(addr2, private)?;
        if key == key2 {
            return Err(Errno::EINVAL);
        }
        let mut q = self.lock();
        let mut pi = self.pi_lock();
        if t.mm.futex_load(addr)? != cmp {
            return Err(Errno::EAGAIN);
        }
        let Some(v) = q.get_mut(&key) else { return Ok(0) };
        let target = |w: &Waiter| match &w.requeue_pi {
            Some(rq) if rq.key2 == key2 => Ok(()),
            _ => Err(Errno::EINVAL),
        };
        let mut count: i64 = 0;
        if let Some(top) = v.front().cloned() {
            target(&top)?;
            let Some(rq) = &top.requeue_pi else { return Err(Errno::EINVAL) };
            let queued = pi.get(&key2).is_some_and(|p| !p.is_empty());
            match try_take(&t.mm, addr2, rq.pi.tid as u32, queued, false, true)? {
                PiTry::Acquired => {
                    v.pop_front();
                    rq.pi.granted.store(true, Ordering::Release);
                    top.woken.store(true, Ordering::Release);
                    top.waker.wake(1);
                    count = 1;
                }
                PiTry::Held(owner) => {
                    if owner != 0 && t.kernel.tasks.task(owner).is_none() {
                        return Err(Errno::ESRCH);
                    }
                }
            }
        }
        // Linux counts the woken waiter against nr_wake (1), and moves
        // waiters while count - nr_wake < nr_requeue.
        let mut error = None;
        while let Some(w) = v.front() {
            if count > i64::from(nr_requeue) {
                break;
            }
            if let Err(e) = target(w) {
                error = Some(e);
                break;
            }
            let Some(w) = v.pop_front() else { break };
            let Some(rq) = &w.requeue_pi else { break };
            rq.requeued.store(true, Ordering::Release);
            pi.entry(key2).or_default().push_back(rq.pi.clone());
            count += 1;
        }
        if v.is_empty() {
            q.remove(&key);
        }
        match error {
            Some(e) => Err(e),
            None => Ok(count as u32),
        }
    }
}
