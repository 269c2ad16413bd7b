//! Futexes: wait queues keyed by [`FutexKey`] (private futexes by address
//! space and address, shared ones by memory-file page), waits through the
//! task's blocker, wake, requeue, wake-op and futex_waitv. PI futexes are
//! in `futex_pi`, the robust-list walk at thread exit in `futex_robust`.
//!
//! The value check and the queueing happen under the bucket lock, which
//! wakers take too, so no wake-up is lost between them. Lock order: the
//! wait queues, then the PI queues.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::abi::Errno;
use crate::kernel::block::{TaskWaker, Waker};
use crate::kernel::Task;
use crate::mm::{FutexKey, MemoryManager};

pub(crate) use crate::kernel::futex_pi::{PiQueues, PiWaiter};
pub use crate::kernel::futex_pi::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};

/// FUTEX_BITSET_MATCH_ANY.
pub const BITSET_ANY: u32 = u32::MAX;
/// FUTEX_WAITV_MAX: the most futexes one futex_waitv waits on.
pub const WAITV_MAX: usize = 128;

/// A task in a wait queue.
pub(crate) struct Waiter {
    pub(crate) waker: Arc<TaskWaker>,
    pub(crate) bitset: u32,
    /// Set by the waker that dequeued it.
    pub(crate) woken: AtomicBool,
    /// FUTEX_WAIT_REQUEUE_PI: the PI futex it waits to be requeued to.
    pub(crate) requeue_pi: Option<RequeuePi>,
}

/// A FUTEX_WAIT_REQUEUE_PI waiter's target.
pub(crate) struct RequeuePi {
    pub(crate) key2: FutexKey,
    /// The task as a waiter of the PI futex, queued there by
    /// FUTEX_CMP_REQUEUE_PI.
    pub(crate) pi: Arc<PiWaiter>,
    /// Set when moved to the PI futex's queue.
    pub(crate) requeued: AtomicBool,
}

/// One futex of a futex_waitv: its address, the value expected there, and
/// whether it is private.
#[derive(Clone, Copy, Debug)]
pub struct WaitvEntry {
    pub addr: u64,
    pub val: u32,
    pub private: bool,
}

/// The futex wait queues of a kernel.
#[derive(Default)]
pub struct Futexes {
    pub(crate) queues: Mutex<Queues>,
    pub(crate) pi: Mutex<PiQueues>,
}

pub(crate) type Queues = HashMap<FutexKey, VecDeque<Arc<Waiter>>>;

impl Futexes {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Queues> {
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
        let w = Arc::new(Waiter { waker: t.waker(), bitset, woken: false.into(), requeue_pi: None });
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
        if has_requeue_pi_waiter(&q, key) {
            // Linux refuses to wake FUTEX_WAIT_REQUEUE_PI waiters here.
            return Err(Errno::EINVAL);
        }
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
        if has_requeue_pi_waiter(&q, key) {
            return Err(Errno::EINVAL);
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

    /// futex_waitv(2): sleeps while every `*addr == val` until one of the
    /// futexes is woken (its index is returned), the deadline, or a signal
    /// (ERESTARTSYS). A value that differs gives EAGAIN before sleeping.
    pub fn waitv(&self, t: &Task, entries: &[WaitvEntry], deadline: Option<Instant>) -> Result<usize, Errno> {
        let mut keys = Vec::with_capacity(entries.len());
        for e in entries {
            keys.push(t.mm.futex_key(e.addr, e.private)?);
        }
        let waker = t.waker();
        let waiters: Vec<Arc<Waiter>> = entries
            .iter()
            .map(|_| {
                Arc::new(Waiter { waker: waker.clone(), bitset: BITSET_ANY, woken: false.into(), requeue_pi: None })
            })
            .collect();
        {
            let mut q = self.lock();
            for e in entries {
                if t.mm.futex_load(e.addr)? != e.val {
                    return Err(Errno::EAGAIN);
                }
            }
            for (key, w) in keys.iter().zip(&waiters) {
                q.entry(*key).or_default().push_back(w.clone());
            }
        }
        let r = t.block(&waker, deadline);
        // Leave every queue; the last futex found woken is the answer, as in
        // Linux.
        let mut q = self.lock();
        let mut woken = None;
        for (i, w) in waiters.iter().enumerate() {
            if w.woken.load(Ordering::Acquire) {
                woken = Some(i);
            } else {
                remove_waiter(&mut q, w);
            }
        }
        match woken {
            Some(i) => Ok(i),
            None => r.and(Err(Errno::EAGAIN)),
        }
    }
}

/// Whether a FUTEX_WAIT_REQUEUE_PI waiter waits on `key`.
fn has_requeue_pi_waiter(q: &Queues, key: FutexKey) -> bool {
    q.get(&key).is_some_and(|v| v.iter().any(|w| w.requeue_pi.is_some()))
}

pub(crate) fn remove_waiter(q: &mut Queues, w: &Arc<Waiter>) {
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

pub(crate) fn wake_key(q: &mut Queues, key: FutexKey, n: u32, bitset: u32) -> u32 {
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
