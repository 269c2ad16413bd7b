//! futex(2): WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE,
//! WAKE_OP, LOCK_PI, LOCK_PI2, TRYLOCK_PI, UNLOCK_PI, private and shared,
//! with relative (WAIT) and absolute (WAIT_BITSET, LOCK_PI: on
//! CLOCK_REALTIME, LOCK_PI2: on either clock) timeouts.

use std::time::Instant;

use sentry::abi::{Errno, Timespec};
use sentry::kernel::futex::BITSET_ANY;
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
    if realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI2 {
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
        _ => {
            crate::log_once_unsupported("futex", cmd as u64);
            Err(Errno::ENOSYS.into())
        }
    }
}
