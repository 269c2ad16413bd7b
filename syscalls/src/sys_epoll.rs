//! epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait,
//! epoll_pwait2.

use std::sync::Arc;
use std::time::Instant;

use sentry::abi::poll::{EpollEvent, EPOLLEXCLUSIVE};
use sentry::abi::{Errno, Timespec};
use sentry::fs::epoll::Epoll;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;
use sentry::waiter::Registration;

use crate::sys_poll::{pop_sigmask, push_sigmask};
use crate::sys_time::deadline_after;

const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;
/// EP_MAX_EVENTS: INT_MAX / sizeof(struct epoll_event).
const MAX_EVENTS: i32 = i32::MAX / 12;

fn create(t: &mut Task, cloexec: bool) -> SyscallResult {
    let e = Epoll::new();
    let f = File::new(e, libc::O_RDWR as u32, None, b"anon_inode:[eventpoll]".to_vec());
    Ok(t.fds.insert(f, cloexec, 0, t.nofile_limit())? as u64)
}

/// epoll_create(2).
pub fn epoll_create(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[0] as i32) <= 0 {
        return Err(Errno::EINVAL.into());
    }
    create(t, false)
}

/// epoll_create1(2).
pub fn epoll_create1(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = a.a[0] as i32;
    if flags & !libc::EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL.into());
    }
    create(t, flags != 0)
}

fn epoll_file(t: &Task, fd: i32) -> Result<Arc<File>, Errno> {
    let f = t.file(fd)?;
    Epoll::of(&f).ok_or(Errno::EINVAL)?;
    Ok(f)
}

/// epoll_ctl(2).
pub fn epoll_ctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (epfd, op, fd, uev) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3]);
    let ev: EpollEvent = if op != EPOLL_CTL_DEL { t.copy_in(uev)? } else { EpollEvent::default() };
    let ef = t.file(epfd)?;
    let target = t.file(fd)?;
    let e = Epoll::of(&ef).ok_or(Errno::EINVAL)?;
    if epfd == fd || Arc::ptr_eq(&ef, &target) {
        return Err(Errno::EINVAL.into());
    }
    let events = ev.events;
    let data = ev.data;
    match op {
        EPOLL_CTL_ADD => e.add(fd, &target, events, data)?,
        EPOLL_CTL_MOD => {
            if events & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL.into());
            }
            e.modify(fd, &target, events, data)?
        }
        EPOLL_CTL_DEL => e.delete(fd, &target)?,
        _ => return Err(Errno::EINVAL.into()),
    }
    Ok(0)
}

/// Waits for events on an epoll; ERESTARTSYS when interrupted.
fn wait(t: &mut Task, epfd: i32, uevents: u64, max: i32, deadline: Option<Instant>) -> Result<u64, Errno> {
    if max <= 0 || max > MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let f = epoll_file(t, epfd)?;
    let e = Epoll::of(&f).ok_or(Errno::EINVAL)?;
    // The buffer must be writable whatever comes.
    crate::sys_read_write::check_user(t, uevents, max as u64 * 12, true)?;
    let w = t.waker();
    let mut reg: Option<Registration<'_>> = None;
    loop {
        let got = e.harvest(max as usize);
        if !got.is_empty() {
            for (i, (events, data)) in got.iter().enumerate() {
                t.copy_out(uevents + i as u64 * 12, &EpollEvent { events: *events, data: *data })?;
            }
            return Ok(got.len() as u64);
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(0);
        }
        if reg.is_none() {
            reg = Some(Registration::new(e.queue(), u32::MAX, w.clone()));
            continue;
        }
        match t.block(&w, deadline) {
            Ok(()) | Err(Errno::ETIMEDOUT) => w.reset(),
            Err(err) => return Err(err),
        }
    }
}

fn ms_deadline(ms: i32) -> Option<Instant> {
    (ms >= 0).then(|| Instant::now() + std::time::Duration::from_millis(ms as u64))
}

/// epoll_wait(2): EINTR when a signal interrupts it (never restarted).
pub fn epoll_wait(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    match wait(t, a.a[0] as i32, a.a[1], a.a[2] as i32, ms_deadline(a.a[3] as i32)) {
        Err(Errno::ERESTARTSYS) => Err(Errno::EINTR.into()),
        r => Ok(r?),
    }
}

fn pwait(t: &mut Task, a: &SyscallArgs, deadline: Option<Instant>) -> SyscallResult {
    let pushed = push_sigmask(t, a.a[4], a.a[5])?;
    let r = wait(t, a.a[0] as i32, a.a[1], a.a[2] as i32, deadline);
    pop_sigmask(t, pushed, r == Err(Errno::ERESTARTSYS));
    match r {
        Err(Errno::ERESTARTSYS) => Err(Errno::EINTR.into()),
        r => Ok(r?),
    }
}

/// epoll_pwait(2).
pub fn epoll_pwait(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    pwait(t, a, ms_deadline(a.a[3] as i32))
}

/// epoll_pwait2(2): a timespec timeout.
pub fn epoll_pwait2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let deadline = if a.a[3] != 0 {
        let ts: Timespec = t.copy_in(a.a[3])?;
        if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
            return Err(Errno::EINVAL.into());
        }
        Some(deadline_after(ts))
    } else {
        None
    };
    pwait(t, a, deadline)
}
