//! futex.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry::abi::{Errno, Timespec};
use sentry::kernel::futex::BITSET_ANY;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

const FUTEX_WAIT: i32 = 0;
const FUTEX_WAKE: i32 = 1;
const FUTEX_REQUEUE: i32 = 3;
const FUTEX_CMP_REQUEUE: i32 = 4;
const FUTEX_WAIT_BITSET: i32 = 9;
const FUTEX_WAKE_BITSET: i32 = 10;
const FUTEX_PRIVATE_FLAG: i32 = 128;
const FUTEX_CLOCK_REALTIME: i32 = 256;

/// Converts a futex timeout to a deadline: relative for FUTEX_WAIT,
/// absolute (on the chosen clock) for FUTEX_WAIT_BITSET.
fn deadline(t: &Task, addr: u64, absolute: bool, realtime: bool) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let ts: Timespec = t.copy_in(addr)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let now = Instant::now();
    if !absolute {
        return Ok(Some(now.checked_add(d).unwrap_or(now + Duration::from_secs(1 << 32))));
    }
    let current = if realtime {
        SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
    } else {
        let m = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).map_err(Errno::from)?;
        Duration::new(m.tv_sec() as u64, m.tv_nsec() as u32)
    };
    Ok(Some(now + d.saturating_sub(current)))
}

/// futex(2): WAIT, WAKE, WAIT_BITSET, WAKE_BITSET, REQUEUE, CMP_REQUEUE.
pub fn futex(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (addr, op, val, timeout, addr2, val3) = (a.a[0], a.a[1] as i32, a.a[2] as u32, a.a[3], a.a[4], a.a[5] as u32);
    let cmd = op & !(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME);
    let realtime = op & FUTEX_CLOCK_REALTIME != 0;
    if realtime && cmd != FUTEX_WAIT && cmd != FUTEX_WAIT_BITSET {
        return Err(Errno::ENOSYS.into());
    }
    let k = t.kernel.clone();
    match cmd {
        FUTEX_WAIT | FUTEX_WAIT_BITSET => {
            let bitset = if cmd == FUTEX_WAIT { BITSET_ANY } else { val3 };
            let dl = deadline(t, timeout, cmd == FUTEX_WAIT_BITSET, realtime)?;
            k.futexes.wait(t.mm(), addr, val, bitset, dl)?;
            Ok(0)
        }
        FUTEX_WAKE | FUTEX_WAKE_BITSET => {
            let bitset = if cmd == FUTEX_WAKE { BITSET_ANY } else { val3 };
            Ok(k.futexes.wake(t.mm(), addr, val, bitset)? as u64)
        }
        FUTEX_REQUEUE | FUTEX_CMP_REQUEUE => {
            let n2 = timeout as u32;
            if (val as i32) < 0 || (n2 as i32) < 0 {
                return Err(Errno::EINVAL.into());
            }
            let cmp = (cmd == FUTEX_CMP_REQUEUE).then_some(val3);
            Ok(k.futexes.requeue(t.mm(), addr, addr2, val, n2, cmp)? as u64)
        }
        _ => {
            crate::log_once_unsupported("futex", cmd as u64);
            Err(Errno::ENOSYS.into())
        }
    }
}
