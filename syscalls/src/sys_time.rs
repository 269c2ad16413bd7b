//! clock_gettime, clock_getres, gettimeofday, time, nanosleep,
//! clock_nanosleep.

use std::time::Duration;

use sentry::abi::{Errno, Timespec, Timeval, Timezone};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

const NSEC: i64 = 1_000_000_000;

/// Clocks the sandbox reads from the host clock of the same id.
fn valid_clock(id: i32) -> bool {
    matches!(
        id,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_PROCESS_CPUTIME_ID
            | libc::CLOCK_THREAD_CPUTIME_ID
            | libc::CLOCK_MONOTONIC_RAW
            | libc::CLOCK_REALTIME_COARSE
            | libc::CLOCK_MONOTONIC_COARSE
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
            | libc::CLOCK_TAI
    )
}

/// The clocks the vDSO serves from the time page, and whether each is the
/// real-time one.
fn page_clock(id: i32) -> Option<bool> {
    match id {
        libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_COARSE => Some(true),
        libc::CLOCK_MONOTONIC | libc::CLOCK_MONOTONIC_COARSE | libc::CLOCK_MONOTONIC_RAW | libc::CLOCK_BOOTTIME => {
            Some(false)
        }
        _ => None,
    }
}

/// The time on clock `id`: from the vDSO's time page when it serves that
/// clock (so trapped and untrapped reads agree), else from the host.
fn clock(t: &Task, id: i32) -> Result<Timespec, Errno> {
    if let Some(ns) = page_clock(id).and_then(|realtime| t.kernel.vdso.now(realtime)) {
        return Ok(Timespec { tv_sec: ns.div_euclid(NSEC), tv_nsec: ns.rem_euclid(NSEC) });
    }
    host_clock(id)
}

fn host_clock(id: i32) -> Result<Timespec, Errno> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::from_raw(id)).map_err(Errno::from)?;
    Ok(Timespec { tv_sec: ts.tv_sec(), tv_nsec: ts.tv_nsec() })
}

/// clock_gettime(2). CPU-time clocks measure the sentry thread that runs
/// the task (which includes the time spent servicing its syscalls).
pub fn clock_gettime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let id = a.a[0] as i32;
    if !valid_clock(id) {
        return Err(Errno::EINVAL.into());
    }
    let ts = clock(t, id)?;
    t.copy_out(a.a[1], &ts)?;
    Ok(0)
}

/// clock_getres(2).
pub fn clock_getres(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let id = a.a[0] as i32;
    if !valid_clock(id) {
        return Err(Errno::EINVAL.into());
    }
    if a.a[1] != 0 {
        let r = nix::time::clock_getres(nix::time::ClockId::from_raw(id)).map_err(Errno::from)?;
        t.copy_out(a.a[1], &Timespec { tv_sec: r.tv_sec(), tv_nsec: r.tv_nsec() })?;
    }
    Ok(0)
}

/// gettimeofday(2).
pub fn gettimeofday(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] != 0 {
        let ts = clock(t, libc::CLOCK_REALTIME)?;
        t.copy_out(a.a[0], &Timeval { tv_sec: ts.tv_sec, tv_usec: ts.tv_nsec / 1000 })?;
    }
    if a.a[1] != 0 {
        t.copy_out(a.a[1], &Timezone::default())?;
    }
    Ok(0)
}

/// time(2).
pub fn time(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let now = clock(t, libc::CLOCK_REALTIME)?.tv_sec;
    if a.a[0] != 0 {
        t.copy_out(a.a[0], &now)?;
    }
    Ok(now as u64)
}

fn read_timespec(t: &Task, addr: u64) -> Result<Timespec, Errno> {
    let ts: Timespec = t.copy_in(addr)?;
    if ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

fn sleep_for(ts: Timespec) {
    if ts.tv_sec > 0 || ts.tv_nsec > 0 {
        std::thread::sleep(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
    }
}

/// nanosleep(2). Sleeps on the task's sentry thread; signal interruption
/// comes with signal delivery.
pub fn nanosleep(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = read_timespec(t, a.a[0])?;
    sleep_for(ts);
    Ok(0)
}

/// clock_nanosleep(2).
pub fn clock_nanosleep(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, flags) = (a.a[0] as i32, a.a[1] as i32);
    match id {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {}
        _ if valid_clock(id) => return Err(Errno::EOPNOTSUPP.into()),
        _ => return Err(Errno::EINVAL.into()),
    }
    let ts = read_timespec(t, a.a[2])?;
    if flags & libc::TIMER_ABSTIME != 0 {
        let now = host_clock(id)?;
        let (mut s, mut ns) = (ts.tv_sec - now.tv_sec, ts.tv_nsec - now.tv_nsec);
        if ns < 0 {
            s -= 1;
            ns += NSEC;
        }
        if s >= 0 {
            sleep_for(Timespec { tv_sec: s, tv_nsec: ns });
        }
    } else {
        sleep_for(ts);
    }
    Ok(0)
}
