//! getrusage and times: CPU time of the caller, its process, and its reaped
//! children. Application time is measured by the run loop around each
//! return to the application; system time is the task's sentry thread's
//! CPU time.

use sentry::abi::signal::Tms;
use sentry::abi::Errno;
use sentry::kernel::exit::NS_PER_TICK;
use sentry::kernel::thread_group::Usage;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

use crate::sys_wait::rusage_of;

const RUSAGE_SELF: i32 = 0;
const RUSAGE_CHILDREN: i32 = -1;
const RUSAGE_THREAD: i32 = 1;

/// The whole process's CPU time so far.
pub fn process_usage(t: &Task) -> Usage {
    t.charge_sys();
    t.tg.cpu_usage()
}

/// getrusage(2).
pub fn getrusage(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let rss = t.sample_maxrss();
    let r = match a.a[0] as i32 {
        RUSAGE_SELF => rusage_of(process_usage(t), rss),
        RUSAGE_THREAD => {
            t.charge_sys();
            rusage_of(t.shared.cpu.sample(), rss)
        }
        RUSAGE_CHILDREN => {
            let st = t.tg.state();
            rusage_of(st.usage.children, st.usage.children_maxrss)
        }
        _ => return Err(Errno::EINVAL.into()),
    };
    t.copy_out(a.a[1], &r)?;
    Ok(0)
}

/// times(2): CPU times in clock ticks; returns the ticks since boot.
pub fn times(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] != 0 {
        let me = process_usage(t);
        let ch = t.tg.state().usage.children;
        let tick = |ns: u64| (ns / NS_PER_TICK) as i64;
        let tms = Tms { utime: tick(me.user), stime: tick(me.sys), cutime: tick(ch.user), cstime: tick(ch.sys) };
        t.copy_out(a.a[0], &tms)?;
    }
    Ok(t.kernel.boot.elapsed().as_nanos() as u64 / NS_PER_TICK)
}
