//! futex(2): WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE,
//! WAKE_OP, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI, WAIT_REQUEUE_PI,
//! CMP_REQUEUE_PI, private and shared, with relative (WAIT) and absolute
//! (WAIT_BITSET, WAIT_REQUEUE_PI, LOCK_PI2: on either clock; LOCK_PI: on
//! CLOCK_REALTIME) timeouts; and futex_waitv(2).

use std::time::Instant;

use sentry::abi::{Errno, FutexWaitv, Timespec};
use sentry::kernel::futex::{WaitvEntry, BITSET_ANY, WAITV_MAX};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

use crate::sys_time::{deadline_after, deadline_at};

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAKE_OP: i32 = 5;
const FUTEX_LOCK_PI: i32 = 6;
const FUTEX_UNLOCK_PI: i32 = 7;
const FUTEX_TRYLOCK_PI: i32 = 8;
const FUTEX_LOCK_PI2: i32 = 13;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE_BITSET: i32 = 10;
const FUTEX_WAIT_REQUEUE_PI: i32 = 11;
const FUTEX_CMP_REQUEUE_PI: i32 = 12;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;

/// The deadline of a futex wait: relative for FUTEX_WAIT, absolute (on
/// the chosen clock) for FUTEX_WAIT_BITSET.
fn deadline(t: &Task, addr: u64, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ts: Timespec = t.copy_in(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    if !absolute {
        return Ok(Some(deadline_after(ts)));
    }
    let clock = if realtime { libc::CLOCK_REALTIME } else { libc::CLOCK_MONOTONIC };
    Ok(Some(deadline_at(clock, ts)?))
}

/// A futex wait; interrupted, an untimed wait restarts as it was, a timed
/// one through restart_syscall with the same deadline.
fn wait(t: &mut Task, addr: u64, private: bool, val: u32, bitset: u32, dl: Option<Instant>) -> SyscallResult {
    let k = t.kernel.clone();
    match k.futexes.wait(t, addr, private, val, bitset, dl) {
        Ok(()) => Ok(0),
        Err(Errno::ERESTARTSYS) if dl.is_some() => {
            t.restart = Some(Box::new(move |t: &mut Task| wait(t, addr, private, val, bitset, dl)));
            Err(Errno::ERESTART_RESTARTBLOCK.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// futex(2).
pub fn futex(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (addr, op, val, timeout, addr2, val3) = (a.a[0], a.a[1] as i32, a.a[2] as u32, a.a[3], a.a[4], a.a[5] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime && !matches!(cmd, FUTEX_WAIT_BITSET | FUTEX_WAIT_REQUEUE_PI | FUTEX_LOCK_PI2) {
        return Err(Errno::ENOSYS.into());
    }
    let k = t.kernel.clone();
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { BITSET_ANY } else { val3 };
            let dl = deadline(t, timeout, cmd == FUTEX_WAIT_BITSET, realtime)?;
            wait(t, addr, private, val, bitset, dl)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { BITSET_ANY } else { val3 };
            Ok(k.futexes.wake(&t.mm, addr, private, val, bitset)? as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let n2 = timeout as u32;
            if (val as i32) < 0 || (n2 as i32) < 0 {
                return Err(Errno::EINVAL.into());
            }
            let cmp = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            Ok(k.futexes.requeue(&t.mm, addr, addr2, private, val, n2, cmp)? as u64)
        }
        FUTEX_WAKE_OP => Ok(k.futexes.wake_op(&t.mm, addr, addr2, private, val, timeout as u32, val3)? as u64),
        FUTEX_LOCK_PI | FUTEX_LOCK_PI2 => {
            // LOCK_PI's timeout is on CLOCK_REALTIME whatever the flags say.
            let dl = deadline(t, timeout, true, realtime || cmd == FUTEX_LOCK_PI)?;
            k.futexes.lock_pi(t, addr, private, dl, false)?;
            Ok(0)
        }
        FUTEX_TRYLOCK_PI => {
            k.futexes.lock_pi(t, addr, private, None, true)?;
            Ok(0)
        }
        FUTEX_UNLOCK_PI => {
            k.futexes.unlock_pi(t, addr, private)?;
            Ok(0)
        }
        FUTEX_WAIT_REQUEUE_PI => {
            let dl = deadline(t, timeout, true, realtime)?;
            k.futexes.wait_requeue_pi(t, addr, val, addr2, private, dl)?;
            Ok(0)
        }
        FUTEX_CMP_REQUEUE_PI => {
            Ok(k.futexes.cmp_requeue_pi(t, addr, addr2, private, val, timeout as i32, val3)? as u64)
        }
        _ => {
            crate::log_once_unsupported("futex", cmd as u64);
            Err(Errno::ENOSYS.into())
        }
    }
}

/// FUTEX2_SIZE_U32: the only futex size x86_64 Linux supports.
const FUTEX2_SIZE_U32: u32 = 0x02;
/// FUTEX2_SIZE_MASK.
const FUTEX2_SIZE_MASK: u32 = 0x03;
/// FUTEX2_PRIVATE.
const FUTEX2_PRIVATE: u32 = 128;

/// futex_waitv(2): waits on up to 128 futexes at once; returns the index
/// of the one woken. The timeout is absolute, on CLOCK_MONOTONIC or
/// CLOCK_REALTIME.
pub fn futex_waitv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (waiters, nr, flags, timeout, clockid) = (a.a[0], a.a[1] as u32 as usize, a.a[2] as u32, a.a[3], a.a[4] as i32);
    if flags != 0 || nr == 0 || nr > WAITV_MAX || waiters == 0 {
        return Err(Errno::EINVAL.into());
    }
    let dl = if timeout != 0 {
        if clockid != libc::CLOCK_REALTIME && clockid != libc::CLOCK_MONOTONIC {
            return Err(Errno::EINVAL.into());
        }
        deadline(t, timeout, true, clockid == libc::CLOCK_REALTIME)?
    } else {
        None
    };
    let mut entries = [WaitvEntry { addr: 0, val: 0, private: false }; WAITV_MAX];
    for (i, e) in entries[..nr].iter_mut().enumerate() {
        let w: FutexWaitv = t.copy_in(waiters + (i * std::mem::size_of::<FutexWaitv>()) as u64)?;
        if w.flags & !(FUTEX2_SIZE_MASK | FUTEX2_PRIVATE) != 0
            || w.reserved != 0
            || w.flags & FUTEX2_SIZE_MASK != FUTEX2_SIZE_U32
            || w.val > u64::from(u32::MAX)
        {
            return Err(Errno::EINVAL.into());
        }
        *e = WaitvEntry { addr: w.uaddr, val: w.val as u32, private: w.flags & FUTEX2_PRIVATE != 0 };
    }
    let k = t.kernel.clone();
    // Interrupted, the call restarts with the same absolute deadline.
    Ok(k.futexes.waitv(t, &entries[..nr], dl)? as u64)
}
