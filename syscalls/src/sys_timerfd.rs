//! timerfd_create, timerfd_settime, timerfd_gettime.

use std::time::Duration;

use sentry::abi::signal::ItimerSpec;
use sentry::abi::{Errno, Timespec};
use sentry::fs::timerfd::TimerFd;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

use crate::sys_time::{deadline_after, deadline_at, NSEC};

const TFD_TIMER_ABSTIME: i32 = 1;
const TFD_TIMER_CANCEL_ON_SET: i32 = 2;

/// timerfd_create(2).
pub fn timerfd_create(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (clock, flags) = (a.a[0] as i32, a.a[1] as i32);
    if flags & !(libc::TFD_CLOEXEC | libc::TFD_NONBLOCK) != 0 {
        return Err(Errno::EINVAL.into());
    }
    match clock {
        libc::CLOCK_REALTIME | libc::CLOCK_MONOTONIC | libc::CLOCK_BOOTTIME => {}
        libc::CLOCK_REALTIME_ALARM | libc::CLOCK_BOOTTIME_ALARM => {
            if t.creds.euid != 0 {
                return Err(Errno::EPERM.into());
            }
        }
        _ => return Err(Errno::EINVAL.into()),
    }
    let tf = TimerFd::new(&t.kernel, clock);
    let status = libc::O_RDWR as u32 | (flags & libc::TFD_NONBLOCK) as u32;
    let f = File::new(tf, status, None, b"anon_inode:[timerfd]".to_vec());
    Ok(t.fds.insert(f, flags & libc::TFD_CLOEXEC != 0, 0, t.nofile_limit())? as u64)
}

fn ts(d: Duration) -> Timespec {
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

fn dur(ts: Timespec) -> Result<Duration, Errno> {
    if ts.tv_sec < 0 || !(0..NSEC).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

/// timerfd_settime(2).
pub fn timerfd_settime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, flags, new, old) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3]);
    if flags & !(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let spec: ItimerSpec = t.copy_in(new)?;
    let f = t.file(fd)?;
    let tf = TimerFd::of(&*f.ops).ok_or(Errno::EINVAL)?;
    let value = dur(spec.value)?;
    let interval = dur(spec.interval)?;
    let at = if value.is_zero() {
        None
    } else if flags & TFD_TIMER_ABSTIME != 0 {
        Some(deadline_at(tf.clock, spec.value)?)
    } else {
        Some(deadline_after(spec.value))
    };
    let (ov, oi) = tf.set(at, interval);
    tf.set_flags(flags);
    if old != 0 {
        t.copy_out(old, &ItimerSpec { interval: ts(oi), value: ts(ov) })?;
    }
    Ok(0)
}

/// timerfd_gettime(2).
pub fn timerfd_gettime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    let tf = TimerFd::of(&*f.ops).ok_or(Errno::EINVAL)?;
    let (v, i) = tf.get();
    t.copy_out(a.a[1], &ItimerSpec { interval: ts(i), value: ts(v) })?;
    Ok(0)
}
