//! Timers: alarm, setitimer, getitimer, and POSIX timers (timer_create,
//! timer_settime, timer_gettime, timer_getoverrun, timer_delete).

use std::time::Duration;

use sentry::abi::signal::SigEvent;
use sentry::abi::signal::{ItimerSpec, ItimerVal};
use sentry::abi::{Errno, Timespec, Timeval};
use sentry::kernel::cpu_clock;
use sentry::kernel::signals::valid;
use sentry::kernel::timers::{Itimer, SIGEV_NONE, SIGEV_SIGNAL, SIGEV_THREAD_ID};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

use crate::sys_time::{deadline_after, deadline_at, NSEC};

fn tv_to_dur(tv: Timeval) -> Result<Duration, Errno> {
    if tv.tv_sec < 0 || !(0..1_000_000).contains(&tv.tv_usec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

fn dur_to_tv(d: Duration) -> Timeval {
    Timeval { tv_sec: d.as_secs() as i64, tv_usec: d.subsec_micros() as i64 }
}

fn ts_to_dur(ts: Timespec) -> Result<Duration, Errno> {
    if ts.tv_sec < 0 || !(0..NSEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

fn dur_to_ts(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

fn get_itimer(t: &Task, which: i32) -> Result<Itimer, Errno> {
    match which {
        libc::ITIMER_REAL => Ok(t.tg.timers.real()),
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => {
            t.charge_sys();
            Ok(t.tg.timers.cpu(which == libc::ITIMER_PROF, t.tg.cpu_usage()))
        }
        _ => Err(Errno::EINVAL),
    }
}

fn set_itimer(t: &Task, which: i32, new: Itimer) -> Result<Itimer, Errno> {
    match which {
        libc::ITIMER_REAL => Ok(t.tg.timers.set_real(&t.kernel, &t.tg, new)),
        libc::ITIMER_VIRTUAL | libc::ITIMER_PROF => {
            t.charge_sys();
            Ok(t.tg.timers.set_cpu(&t.kernel, &t.tg, which == libc::ITIMER_PROF, new))
        }
        _ => Err(Errno::EINVAL),
    }
}

/// getitimer(2).
pub fn getitimer(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let cur = get_itimer(t, a.a[0] as i32)?;
    t.copy_out(a.a[1], &ItimerVal { interval: dur_to_tv(cur.interval), value: dur_to_tv(cur.value) })?;
    Ok(0)
}

/// setitimer(2). A null new value disarms, as Linux allows.
pub fn setitimer(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let which = a.a[0] as i32;
    get_itimer(t, which)?;
    let new = if a.a[1] != 0 {
        let v: ItimerVal = t.copy_in(a.a[1])?;
        Itimer { value: tv_to_dur(v.value)?, interval: tv_to_dur(v.interval)? }
    } else {
        Itimer::default()
    };
    let old = set_itimer(t, which, new)?;
    if a.a[2] != 0 {
        t.copy_out(a.a[2], &ItimerVal { interval: dur_to_tv(old.interval), value: dur_to_tv(old.value) })?;
    }
    Ok(0)
}

/// alarm(2): the seconds left of the previous alarm, rounded.
pub fn alarm(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let secs = a.a[0] as u32;
    let new = Itimer { value: Duration::from_secs(secs as u64), interval: Duration::ZERO };
    let old = t.tg.timers.set_real(&t.kernel, &t.tg, new);
    let mut left = old.value.as_secs() + u64::from(old.value.subsec_micros() >= 500_000);
    if left == 0 && !old.value.is_zero() {
        left = 1;
    }
    Ok(left)
}

/// Wall clocks a POSIX timer may use.
fn timer_clock_ok(id: i32) -> bool {
    matches!(
        id,
        libc::CLOCK_REALTIME
            | libc::CLOCK_MONOTONIC
            | libc::CLOCK_BOOTTIME
            | libc::CLOCK_REALTIME_ALARM
            | libc::CLOCK_BOOTTIME_ALARM
            | libc::CLOCK_TAI
    )
}

/// SIGEV_THREAD.
const SIGEV_THREAD: i32 = 2;

/// timer_create(2).
pub fn timer_create(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (clock, sevp, out) = (a.a[0] as i32, a.a[1], a.a[2]);
    let cpu = if cpu_clock::decode(clock).is_some() {
        Some(t.cpu_clock(clock)?)
    } else if timer_clock_ok(clock) {
        None
    } else if matches!(clock, libc::CLOCK_MONOTONIC_RAW | libc::CLOCK_REALTIME_COARSE | libc::CLOCK_MONOTONIC_COARSE) {
        // Clocks without timers.
        return Err(Errno::EOPNOTSUPP.into());
    } else {
        return Err(Errno::EINVAL.into());
    };
    let (notify, signo, value, tid) = if sevp != 0 {
        let ev: SigEvent = t.copy_in(sevp)?;
        match ev.notify {
            SIGEV_NONE => (SIGEV_NONE, 0, Some(ev.value), 0),
            // SIGEV_THREAD (2) is the C library's; to the kernel it is
            // SIGEV_SIGNAL.
            SIGEV_SIGNAL | SIGEV_THREAD | SIGEV_THREAD_ID => {
                if !valid(ev.signo) {
                    return Err(Errno::EINVAL.into());
                }
                if ev.notify == SIGEV_THREAD_ID {
                    let ok = t.kernel.tasks.task(ev.tid).is_some_and(|x| std::sync::Arc::ptr_eq(&x.tg, &t.tg));
                    if !ok {
                        return Err(Errno::EINVAL.into());
                    }
                }
                let notify = if ev.notify == SIGEV_THREAD { SIGEV_SIGNAL } else { ev.notify };
                (notify, ev.signo, Some(ev.value), ev.tid)
            }
            _ => return Err(Errno::EINVAL.into()),
        }
    } else {
        // Without a sigevent: SIGALRM, with the timer id as the value.
        (SIGEV_SIGNAL, libc::SIGALRM, None, 0)
    };
    let id = t.tg.timers.create(clock, cpu, notify, signo, value, tid)?;
    if let Err(e) = t.copy_out(out, &id) {
        let _ = t.tg.timers.delete(&t.kernel, id);
        return Err(e.into());
    }
    Ok(0)
}

/// timer_settime(2).
pub fn timer_settime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, flags, new, old) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3]);
    let clock = t.tg.timers.clock_of(id)?;
    if new == 0 {
        return Err(Errno::EINVAL.into());
    }
    let spec: ItimerSpec = t.copy_in(new)?;
    let value = ts_to_dur(spec.value)?;
    let interval = ts_to_dur(spec.interval)?;
    if let Some(c) = t.tg.timers.cpu_clock_of(id)? {
        t.charge_sys();
        let at = if value.is_zero() {
            None
        } else if flags & libc::TIMER_ABSTIME != 0 {
            Some(value.as_nanos() as u64)
        } else {
            Some(c.read().unwrap_or(0).saturating_add(value.as_nanos() as u64))
        };
        let prev = t.tg.timers.settime_cpu(&t.kernel, &t.tg, id, at, interval)?;
        if old != 0 {
            t.copy_out(old, &ItimerSpec { interval: dur_to_ts(prev.interval), value: dur_to_ts(prev.value) })?;
        }
        return Ok(0);
    }
    let at = if value.is_zero() {
        None
    } else if flags & libc::TIMER_ABSTIME != 0 {
        Some(deadline_at(clock, spec.value)?)
    } else {
        Some(deadline_after(spec.value))
    };
    let prev = t.tg.timers.settime(&t.kernel, &t.tg, id, at, interval)?;
    if old != 0 {
        t.copy_out(old, &ItimerSpec { interval: dur_to_ts(prev.interval), value: dur_to_ts(prev.value) })?;
    }
    Ok(0)
}

/// timer_gettime(2).
pub fn timer_gettime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let cur = t.tg.timers.get(a.a[0] as i32)?;
    t.copy_out(a.a[1], &ItimerSpec { interval: dur_to_ts(cur.interval), value: dur_to_ts(cur.value) })?;
    Ok(0)
}

/// timer_getoverrun(2).
pub fn timer_getoverrun(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Ok(t.tg.timers.overrun(a.a[0] as i32)? as u64)
}

/// timer_delete(2).
pub fn timer_delete(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.tg.timers.delete(&t.kernel, a.a[0] as i32)?;
    Ok(0)
}
