//! Futexes: wait queues keyed by [`FutexKey`] (private futexes by address
//! space and address, shared ones by memory-file page), waits through the
//! task's blocker, and the robust-list walk at thread exit.
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

/// The futex wait queues of a kernel.
#[derive(Default)]
pub struct Futexes {
    queues: Mutex<HashMap<FutexKey, VecDeque<Arc<Waiter>>>>,
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
        Ok(wake_key(&mut q, key, n, bitset))
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
        let mut woke = wake_key(&mut q, key, n, BITSET_ANY);
        if hit {
            woke += wake_key(&mut q, key2, n2, BITSET_ANY);
        }
        Ok(woke)
    }
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
        if head == 0 || len != 24 {
            return;
        }
        let Ok([first, offset, pending]) = self.mm.copy_in_obj::<[u64; 3]>(head) else { return };
        let offset = offset as i64;
        let mut entry = first;
        for _ in 0..ROBUST_LIST_LIMIT {
            if entry == head || entry == 0 {
                break;
            }
            let Ok(next) = self.mm.copy_in_obj::<u64>(entry) else { break };
            if entry != pending {
                self.robust_died(entry.wrapping_add(offset as u64));
            }
            entry = next;
        }
        if pending != 0 {
            self.robust_died(pending.wrapping_add(offset as u64));
        }
    }

    fn robust_died(&self, addr: u64) {
        let tid = self.tid as u32;
        let wake = self.mm.with_atomic_u32(addr, true, |a| {
            let mut cur = a.load(Ordering::SeqCst);
            loop {
                if cur & FUTEX_TID_MASK != tid {
                    return false;
                }
                let new = (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
                match a.compare_exchange(cur, new, Ordering::SeqCst, Ordering::SeqCst) {
                    Ok(_) => return cur & FUTEX_WAITERS != 0,
                    Err(x) => cur = x,
                }
            }
        });
        if wake == Ok(true) {
            let _ = self.kernel.futexes.wake(&self.mm, addr, false, 1, BITSET_ANY);
        }
    }
}
