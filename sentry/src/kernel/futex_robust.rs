//! The robust-futex list walk at thread exit (set_robust_list(2)): each
//! lock the dying thread still holds gets FUTEX_OWNER_DIED and a waiter is
//! woken; PI locks it holds go to their first waiter.

use std::sync::atomic::Ordering;

use crate::kernel::futex::{BITSET_ANY, FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use crate::kernel::Task;

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
