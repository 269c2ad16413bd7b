//! Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time,
//! nanosleep, clock_nanosleep (interruptible, restarted with the original
//! deadline), restart_syscall, and the CPU-time clocks of processes and
//! threads (clock_getcpuclockid, pthread_getcpuclockid).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry::abi::{Errno, Timespec, Timeval, Timezone};
use sentry::kernel::cpu_clock::{self, CpuClock};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

pub(crate) const NSEC: i64 = 1_000_000_000;

/// Clocks the sandbox reads from the host clock of the same id.
fn wall_clock(id: i32) -> bool {
    matches!(
        id,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
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

fn ns_to_ts(ns: u64) -> Timespec {
    Timespec { tv_sec: (ns / NSEC as u64) as i64, tv_nsec: (ns % NSEC as u64) as i64 }
}

/// The time on CPU-time clock `id`, in nanoseconds (EINVAL if the caller
/// may not read it).
pub(crate) fn cpu_time(t: &Task, id: i32) -> Result<u64, Errno> {
    t.charge_sys();
    t.cpu_clock(id)?.read().ok_or(Errno::EINVAL)
}

/// The time on clock `id`: from the vDSO's time page when it serves that
/// clock (so trapped and untrapped reads agree), else from the host, or
/// the task's CPU accounts.
pub(crate) fn clock(t: &Task, id: i32) -> Result<Timespec, Errno> {
    if cpu_clock::decode(id).is_some() {
        return Ok(ns_to_ts(cpu_time(t, id)?));
    }
    if !wall_clock(id) {
        return Err(Errno::EINVAL);
    }
    if let Some(ns) = page_clock(id).and_then(|realtime| t.kernel.vdso.now(realtime)) {
        return Ok(Timespec { tv_sec: ns.div_euclid(NSEC), tv_nsec: ns.rem_euclid(NSEC) });
    }
    host_clock(id)
}

pub(crate) fn host_clock(id: i32) -> Result<Timespec, Errno> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::from_raw(id)).map_err(Errno::from)?;
    Ok(Timespec { tv_sec: ts.tv_sec(), tv_nsec: ts.tv_nsec() })
}

/// clock_gettime(2).
pub fn clock_gettime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = clock(t, a.a[0] as i32)?;
    t.copy_out(a.a[1], &ts)?;
    Ok(0)
}

/// clock_getres(2).
pub fn clock_getres(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let id = a.a[0] as i32;
    let res = if cpu_clock::decode(id).is_some() {
        // The clock must name an existing task.
        cpu_time(t, id)?;
        Timespec { tv_sec: 0, tv_nsec: 1 }
    } else if wall_clock(id) {
        let r = nix::time::clock_getres(nix::time::ClockId::from_raw(id)).map_err(Errno::from)?;
        Timespec { tv_sec: r.tv_sec(), tv_nsec: r.tv_nsec() }
    } else {
        return Err(Errno::EINVAL.into());
    };
    if a.a[1] != 0 {
        t.copy_out(a.a[1], &res)?;
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

/// Reads a timespec argument (EINVAL for negative or unnormalized ones).
pub(crate) fn read_timespec(t: &Task, addr: u64) -> Result<Timespec, Errno> {
    let ts: Timespec = t.copy_in(addr)?;
    if ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= NSEC {
        return Err(Errno::EINVAL);
    }
    Ok(ts)
}

/// The instant `ts` from now.
pub(crate) fn deadline_after(ts: Timespec) -> Instant {
    let d = Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32);
    let now = Instant::now();
    now.checked_add(d).unwrap_or(now + Duration::from_secs(1 << 32))
}

/// The instant clock `id` reads `ts` (an absolute time on a wall clock).
pub(crate) fn deadline_at(id: i32, ts: Timespec) -> Result<Instant, Errno> {
    let now_inst = Instant::now();
    let now = if matches!(id, libc::CLOCK_REALTIME | libc::CLOCK_REALTIME_ALARM | libc::CLOCK_TAI) {
        let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
    } else {
        host_clock(libc::CLOCK_MONOTONIC)?
    };
    let target = ts.tv_sec as i128 * NSEC as i128 + ts.tv_nsec as i128;
    let cur = now.tv_sec as i128 * NSEC as i128 + now.tv_nsec as i128;
    if target <= cur {
        return Ok(now_inst);
    }
    let d = (target - cur).min(u64::MAX as i128) as u64;
    Ok(now_inst.checked_add(Duration::from_nanos(d)).unwrap_or(now_inst + Duration::from_secs(1 << 32)))
}

fn remaining(deadline: Instant) -> Timespec {
    let d = deadline.saturating_duration_since(Instant::now());
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// Sleeps until `deadline`; if interrupted, stores the time left at `rem`
/// and arranges for restart_syscall to sleep on to the same deadline.
fn sleep_rel(t: &mut Task, deadline: Instant, rem: u64) -> SyscallResult {
    if t.sleep_until(Some(deadline)).is_ok() {
        return Ok(0);
    }
    if rem != 0 {
        t.copy_out(rem, &remaining(deadline))?;
    }
    t.restart = Some(Box::new(move |t: &mut Task| sleep_rel(t, deadline, rem)));
    Err(Errno::ERESTART_RESTARTBLOCK.into())
}

/// nanosleep(2).
pub fn nanosleep(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = read_timespec(t, a.a[0])?;
    sleep_rel(t, deadline_after(ts), a.a[1])
}

/// clock_nanosleep(2).
pub fn clock_nanosleep(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, flags) = (a.a[0] as i32, a.a[1] as i32);
    let abs = flags & libc::TIMER_ABSTIME != 0;
    match id {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME | libc::CLOCK_TAI => {}
        libc::CLOCK_THREAD_CPUTIME_ID => return Err(Errno::EOPNOTSUPP.into()),
        _ if cpu_clock::decode(id).is_some() => return cpu_sleep(t, id, abs, a),
        _ if wall_clock(id) => return Err(Errno::EOPNOTSUPP.into()),
        _ => return Err(Errno::EINVAL.into()),
    }
    let ts = read_timespec(t, a.a[2])?;
    if abs {
        let deadline = deadline_at(id, ts)?;
        return match t.sleep_until(Some(deadline)) {
            Ok(()) => Ok(0),
            Err(_) => Err(Errno::ERESTARTNOHAND.into()),
        };
    }
    sleep_rel(t, deadline_after(ts), a.a[3])
}

/// clock_nanosleep on a CPU-time clock: sleeps until the clock reads the
/// target, looking every tick. A thread may not sleep on its own clock.
fn cpu_sleep(t: &mut Task, id: i32, abs: bool, a: &SyscallArgs) -> SyscallResult {
    let (who, thread, _) = cpu_clock::decode(id).ok_or(Errno::EINVAL)?;
    if thread && (who == 0 || who == t.tid) {
        return Err(Errno::EINVAL.into());
    }
    let clock = t.cpu_clock(id)?;
    let ts = read_timespec(t, a.a[2])?;
    let want = ts.tv_sec as u64 * NSEC as u64 + ts.tv_nsec as u64;
    let start = clock.read().ok_or(Errno::EINVAL)?;
    let target = if abs { want } else { start.saturating_add(want) };
    cpu_sleep_until(t, clock, target, if abs { None } else { Some(a.a[3]) })
}

/// Sleeps until `clock` reads `target`; `rem` is where a relative sleep
/// stores the time left when interrupted (it then restarts).
fn cpu_sleep_until(t: &mut Task, clock: CpuClock, target: u64, rem: Option<u64>) -> SyscallResult {
    loop {
        let Some(now) = clock.read() else { return Err(Errno::EINVAL.into()) };
        if now >= target {
            return Ok(0);
        }
        let step = Duration::from_nanos(target - now).min(cpu_clock::TICK);
        if t.sleep_until(Some(Instant::now() + step)).is_err() {
            let Some(rem) = rem else { return Err(Errno::ERESTARTNOHAND.into()) };
            if rem != 0 {
                t.copy_out(rem, &ns_to_ts(target - now))?;
            }
            t.restart = Some(Box::new(move |t: &mut Task| cpu_sleep_until(t, clock, target, Some(rem))));
            return Err(Errno::ERESTART_RESTARTBLOCK.into());
        }
    }
}

/// clock_settime(2): the sandbox's clocks cannot be set. Linux's checks
/// come first: clocks that cannot be set at all (EINVAL), the time's
/// address (EFAULT) and value (EINVAL); then EPERM, as for a caller
/// without CAP_SYS_TIME.
pub fn clock_settime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let id = a.a[0] as i32;
    let settable = id == libc::CLOCK_REALTIME || (id < 0 && cpu_clock::decode(id).is_some());
    if !settable {
        return Err(Errno::EINVAL.into());
    }
    let ts: Timespec = t.copy_in(a.a[1])?;
    if id < 0 {
        // A CPU-time clock: it must exist, and can never be set.
        cpu_time(t, id)?;
        return Err(Errno::EPERM.into());
    }
    if ts.tv_sec < 0 || !(0..NSEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL.into());
    }
    crate::log_once_unsupported("clock_settime (setting the clock)", id as u64);
    Err(Errno::EPERM.into())
}

/// settimeofday(2): as clock_settime, EPERM after Linux's checks.
pub fn settimeofday(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] != 0 {
        let tv: Timeval = t.copy_in(a.a[0])?;
        if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
            return Err(Errno::EINVAL.into());
        }
    }
    if a.a[1] != 0 {
        let tz: Timezone = t.copy_in(a.a[1])?;
        if !(-15 * 60..=15 * 60).contains(&tz.tz_minuteswest) {
            return Err(Errno::EINVAL.into());
        }
    }
    crate::log_once_unsupported("settimeofday (setting the clock)", 0);
    Err(Errno::EPERM.into())
}

/// restart_syscall(2): continues the syscall a signal interrupted.
pub fn restart_syscall(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    match t.restart.take() {
        Some(f) => f(t),
        None => Err(Errno::EINTR.into()),
    }
}
