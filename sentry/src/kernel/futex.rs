//! Futexes: wait queues keyed by the memory-file offset of the futex word,
//! so private and shared futexes work alike across address spaces.

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

use crate::abi::Errno;
use crate::mm::MemoryManager;

struct Waiter {
    bitset: u32,
    woken: Mutex<bool>,
    cv: Condvar,
}

/// The futex wait queues of a kernel.
#[derive(Default)]
pub struct Futexes {
    queues: Mutex<HashMap<u64, Vec<Arc<Waiter>>>>,
}

/// FUTEX_BITSET_MATCH_ANY.
pub const BITSET_ANY: u32 = u32::MAX;

impl Futexes {
    /// FUTEX_WAIT(_BITSET): sleeps while `*addr == val` until woken or until
    /// `deadline`.
    pub fn wait(
        &self,
        mm: &MemoryManager,
        addr: u64,
        val: u32,
        bitset: u32,
        deadline: Option<Instant>,
    ) -> Result<(), Errno> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let w = Arc::new(Waiter { bitset, woken: Mutex::new(false), cv: Condvar::new() });
        let key = {
            let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
            let (cur, key) = mm.futex_load(addr)?;
            if cur != val {
                return Err(Errno::EAGAIN);
            }
            q.entry(key).or_default().push(w.clone());
            key
        };
        let mut woken = w.woken.lock().unwrap_or_else(|e| e.into_inner());
        while !*woken {
            match deadline {
                None => woken = w.cv.wait(woken).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    woken = w.cv.wait_timeout(woken, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        if *woken {
            return Ok(());
        }
        drop(woken);
        // Timed out: leave the queue unless a waker got us meanwhile.
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        if *w.woken.lock().unwrap_or_else(|e| e.into_inner()) {
            return Ok(());
        }
        if let Some(v) = q.get_mut(&key) {
            v.retain(|x| !Arc::ptr_eq(x, &w));
            if v.is_empty() {
                q.remove(&key);
            }
        }
        Err(Errno::ETIMEDOUT)
    }

    fn wake_key(q: &mut HashMap<u64, Vec<Arc<Waiter>>>, key: u64, n: u32, bitset: u32) -> u32 {
        let mut woke = 0;
        if let Some(v) = q.get_mut(&key) {
            let mut i = 0;
            while i < v.len() && woke < n {
                if v[i].bitset & bitset != 0 {
                    let w = v.remove(i);
                    *w.woken.lock().unwrap_or_else(|e| e.into_inner()) = true;
                    w.cv.notify_one();
                    woke += 1;
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

    /// FUTEX_WAKE(_BITSET): wakes up to `n` waiters; returns how many.
    pub fn wake(&self, mm: &MemoryManager, addr: u64, n: u32, bitset: u32) -> Result<u32, Errno> {
        if bitset == 0 {
            return Err(Errno::EINVAL);
        }
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let (_, key) = mm.futex_load(addr)?;
        Ok(Self::wake_key(&mut q, key, n, bitset))
    }

    /// FUTEX_(CMP_)REQUEUE: wakes `n` waiters on `addr` and moves up to
    /// `n2` more to `addr2`; with `cmp`, only if `*addr` still equals it.
    pub fn requeue(
        &self,
        mm: &MemoryManager,
        addr: u64,
        addr2: u64,
        n: u32,
        n2: u32,
        cmp: Option<u32>,
    ) -> Result<u32, Errno> {
        let mut q = self.queues.lock().unwrap_or_else(|e| e.into_inner());
        let (cur, key) = mm.futex_load(addr)?;
        let (_, key2) = mm.futex_load(addr2)?;
        if cmp.is_some_and(|c| c != cur) {
            return Err(Errno::EAGAIN);
        }
        let woke = Self::wake_key(&mut q, key, n, BITSET_ANY);
        let mut moved = Vec::new();
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
}
