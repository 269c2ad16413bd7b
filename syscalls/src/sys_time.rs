//! Clocks and sleeping: clock_gettime, clock_getres, gettimeofday, time,
//! nanosleep, clock_nanosleep (interruptible, restarted with the original
//! deadline), restart_syscall, and the CPU-time clocks of processes and
//! threads (clock_getcpuclockid, pthread_getcpuclockid).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sentry::abi::{Errno, Timespec, Timeval, Timezone};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

pub(crate) const NSEC: i64 = 1_000_000_000;

/// A CPU-time clock id, decoded (Linux's CPUCLOCK_* encoding: the pid or
/// tid inverted above three bits of clock type and per-thread flag).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CpuClock {
    /// Pid or tid (0: the caller's).
    pub id: i32,
    /// Per-thread.
    pub thread: bool,
    /// User time only (CPUCLOCK_VIRT).
    pub virt: bool,
}

/// Decodes a CPU-time clock id (CLOCK_PROCESS_CPUTIME_ID and
/// CLOCK_THREAD_CPUTIME_ID included); None if `id` is not one.
pub(crate) fn cpu_clock(id: i32) -> Option<CpuClock> {
    match id {
        libc::CLOCK_PROCESS_CPUTIME_ID => Some(CpuClock { id: 0, thread: false, virt: false }),
        libc::CLOCK_THREAD_CPUTIME_ID => Some(CpuClock { id: 0, thread: true, virt: false }),
        _ if id < 0 => {
            let which = id & 3;
            if which == 3 {
                return None;
            }
            Some(CpuClock { id: !(id >> 3), thread: id & 4 != 0, virt: which == 1 })
        }
        _ => None,
    }
}

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

/// The CPU time of a CPU clock, in nanoseconds.
pub(crate) fn cpu_time(t: &Task, c: CpuClock) -> Result<u64, Errno> {
    use std::sync::atomic::Ordering::Relaxed;
    t.sample_stime();
    let pick = |u: u64, s: u64| if c.virt { u } else { u + s };
    if c.thread {
        let task = if c.id == 0 { t.shared.clone() } else { t.kernel.tasks.task(c.id).ok_or(Errno::EINVAL)? };
        if c.id != 0 && !std::sync::Arc::ptr_eq(&task.tg, &t.tg) {
            // Thread clocks of other processes are not readable.
            return Err(Errno::EINVAL);
        }
        return Ok(pick(task.utime.load(Relaxed), task.stime.load(Relaxed)));
    }
    let tg = if c.id == 0 { t.tg.clone() } else { t.kernel.thread_group(c.id).ok_or(Errno::EINVAL)? };
    let dead = tg.state().usage.dead_threads;
    let (u, s) = tg
        .threads()
        .iter()
        .fold((dead.user, dead.sys), |(u, s), th| (u + th.utime.load(Relaxed), s + th.stime.load(Relaxed)));
    Ok(pick(u, s))
}

/// The time on clock `id`: from the vDSO's time page when it serves that
/// clock (so trapped and untrapped reads agree), else from the host, or
/// the task's CPU accounts.
pub(crate) fn clock(t: &Task, id: i32) -> Result<Timespec, Errno> {
    if let Some(c) = cpu_clock(id) {
        return Ok(ns_to_ts(cpu_time(t, c)?));
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
    let res = if let Some(c) = cpu_clock(id) {
        // The clock must name an existing task.
        cpu_time(t, c)?;
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
        _ if cpu_clock(id).is_some_and(|c| c.thread) => return Err(Errno::EINVAL.into()),
        _ if cpu_clock(id).is_some() => return cpu_sleep(t, id, abs, a),
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

/// clock_nanosleep on a process CPU-time clock: sleeps until the process
/// has used that much CPU time (checked every millisecond).
fn cpu_sleep(t: &mut Task, id: i32, abs: bool, a: &SyscallArgs) -> SyscallResult {
    let c = cpu_clock(id).ok_or(Errno::EINVAL)?;
    let ts = read_timespec(t, a.a[2])?;
    let want = ts.tv_sec as u64 * NSEC as u64 + ts.tv_nsec as u64;
    let start = cpu_time(t, c)?;
    let target = if abs { want } else { start.saturating_add(want) };
    loop {
        let now = cpu_time(t, c)?;
        if now >= target {
            return Ok(0);
        }
        if t.sleep_until(Some(Instant::now() + Duration::from_millis(1))).is_err() {
            if !abs && a.a[3] != 0 {
                t.copy_out(a.a[3], &ns_to_ts(target - now))?;
            }
            return Err(Errno::EINTR.into());
        }
    }
}

/// restart_syscall(2): continues the syscall a signal interrupted.
pub fn restart_syscall(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    match t.restart.take() {
        Some(f) => f(t),
        None => Err(Errno::EINTR.into()),
    }
}
