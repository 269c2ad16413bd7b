//! poll, ppoll, select, pselect6: readiness of a set of fds, waiting on
//! each file's wait queue until one is ready, the timeout passes, or a
//! signal comes.

use std::sync::Arc;
use std::time::Instant;

use sentry::abi::poll::{
    PollFd, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM,
};
use sentry::abi::{Errno, Timespec, Timeval};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

use crate::sys_time::{deadline_after, read_timespec};

/// Registrations on the files' queues, removed when dropped.
struct Regs(Vec<(Arc<File>, u64)>);

impl Drop for Regs {
    fn drop(&mut self) {
        for (f, id) in &self.0 {
            if let Some(q) = f.ops.wait_queue() {
                q.unregister(*id);
            }
        }
    }
}

/// The most fds poll takes (RLIMIT_NOFILE applies too).
const MAX_POLL: u64 = 1 << 20;

/// Waits until one of `items` (file or None for a closed fd, events) is
/// ready; returns the ready events of each. `deadline` None: forever.
fn wait_any(t: &Task, items: &[(Option<Arc<File>>, u32)], deadline: Option<Instant>) -> Result<Vec<u32>, Errno> {
    let w = t.waker();
    let mut regs = Regs(Vec::new());
    let mut registered = false;
    loop {
        let mut ready = 0;
        let revents: Vec<u32> = items
            .iter()
            .map(|(f, ev)| {
                let r = match f {
                    None => POLLNVAL,
                    Some(f) => f.readiness(*ev | POLLERR | POLLHUP) & (*ev | POLLERR | POLLHUP | POLLNVAL),
                };
                if r != 0 {
                    ready += 1;
                }
                r
            })
            .collect();
        if ready > 0 || deadline.is_some_and(|d| Instant::now() >= d) {
            return Ok(revents);
        }
        if !registered {
            // Register, then look again before sleeping so that no
            // wake-up is lost in between.
            for (f, ev) in items.iter() {
                if let Some(f) = f {
                    if let Some(q) = f.ops.wait_queue() {
                        let id = q.register(*ev | POLLERR | POLLHUP, w.clone());
                        regs.0.push((f.clone(), id));
                    }
                }
            }
            registered = true;
            continue;
        }
        match t.block(&w, deadline) {
            Ok(()) | Err(Errno::ETIMEDOUT) => w.reset(),
            Err(e) => return Err(e),
        }
    }
}

fn do_poll(t: &mut Task, ufds: u64, nfds: u64, deadline: Option<Instant>) -> Result<u64, Errno> {
    if nfds > MAX_POLL || nfds > t.nofile_limit() {
        return Err(Errno::EINVAL);
    }
    let mut fds: Vec<PollFd> = Vec::with_capacity(nfds as usize);
    for i in 0..nfds {
        fds.push(t.copy_in(ufds + i * 8)?);
    }
    let items: Vec<(Option<Arc<File>>, u32)> = fds
        .iter()
        .map(|p| {
            if p.fd < 0 {
                // Ignored entries: never ready, never NVAL.
                return (None, u32::MAX);
            }
            (t.file(p.fd).ok(), p.events as u16 as u32)
        })
        .collect();
    // Negative fds are skipped entirely.
    let live: Vec<(Option<Arc<File>>, u32)> =
        items.iter().filter(|(_, e)| *e != u32::MAX).map(|(f, e)| (f.clone(), *e)).collect();
    let rev = wait_any(t, &live, deadline)?;
    let mut it = rev.into_iter();
    let mut n = 0;
    for (p, (_, e)) in fds.iter_mut().zip(items.iter()) {
        p.revents = if *e == u32::MAX { 0 } else { it.next().unwrap_or(0) as i16 };
        if p.revents != 0 {
            n += 1;
        }
    }
    for (i, p) in fds.iter().enumerate() {
        t.copy_out(ufds + i as u64 * 8 + 6, &(p.revents as u16))?;
    }
    Ok(n)
}

/// poll(2). Interrupted, it restarts with the time left (restart_syscall),
/// or fails with EINTR after a handler.
pub fn poll(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (ufds, nfds, ms) = (a.a[0], a.a[1], a.a[2] as i32);
    let deadline = if ms < 0 { None } else { Some(Instant::now() + std::time::Duration::from_millis(ms as u64)) };
    poll_until(t, ufds, nfds, deadline)
}

fn poll_until(t: &mut Task, ufds: u64, nfds: u64, deadline: Option<Instant>) -> SyscallResult {
    match do_poll(t, ufds, nfds, deadline) {
        Ok(n) => Ok(n),
        Err(Errno::ERESTARTSYS) => {
            t.restart = Some(Box::new(move |t: &mut Task| poll_until(t, ufds, nfds, deadline)));
            Err(Errno::ERESTART_RESTARTBLOCK.into())
        }
        Err(e) => Err(e.into()),
    }
}

/// Installs the temporary signal mask of ppoll, pselect6 and epoll_pwait:
/// the old one is saved and comes back when the syscall returns (or, if a
/// signal interrupts it, after the handler).
pub(crate) fn push_sigmask(t: &mut Task, addr: u64, size: u64) -> Result<bool, Errno> {
    if addr == 0 {
        return Ok(false);
    }
    if size != 8 {
        return Err(Errno::EINVAL);
    }
    let m: u64 = t.copy_in(addr)?;
    let old = t.signal_mask();
    t.shared.signals().saved_mask = Some(old);
    t.set_signal_mask(m);
    Ok(true)
}

/// Puts the saved mask back unless a signal is to be handled (then the
/// handler's frame takes it).
pub(crate) fn pop_sigmask(t: &mut Task, pushed: bool, interrupted: bool) {
    if !pushed || interrupted {
        return;
    }
    let saved = t.shared.signals().saved_mask.take();
    if let Some(m) = saved {
        t.set_signal_mask(m);
    }
}

/// ppoll(2).
pub fn ppoll(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (ufds, nfds, uts, sigmask, sigsetsize) = (a.a[0], a.a[1], a.a[2], a.a[3], a.a[4]);
    let deadline = if uts != 0 { Some(deadline_after(read_timespec(t, uts)?)) } else { None };
    let pushed = push_sigmask(t, sigmask, sigsetsize)?;
    let r = do_poll(t, ufds, nfds, deadline);
    let interrupted = r == Err(Errno::ERESTARTSYS);
    pop_sigmask(t, pushed, interrupted);
    if uts != 0 {
        let left = deadline.map_or(Timespec::default(), remaining);
        let _ = t.copy_out(uts, &left);
    }
    match r {
        Ok(n) => Ok(n),
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND.into()),
        Err(e) => Err(e.into()),
    }
}

fn remaining(d: Instant) -> Timespec {
    let r = d.saturating_duration_since(Instant::now());
    Timespec { tv_sec: r.as_secs() as i64, tv_nsec: r.subsec_nanos() as i64 }
}

/// The events select's three sets stand for.
const SELECT_IN: u32 = POLLIN | POLLRDNORM | POLLRDBAND | POLLHUP | POLLERR;
const SELECT_OUT: u32 = POLLOUT | POLLWRNORM | POLLWRBAND | POLLERR;
const SELECT_EX: u32 = POLLPRI;

fn read_set(t: &Task, addr: u64, nfds: usize) -> Result<Vec<u64>, Errno> {
    let words = nfds.div_ceil(64);
    if addr == 0 {
        return Ok(vec![0; words]);
    }
    let mut v = vec![0u64; words];
    let mut bytes = vec![0u8; nfds.div_ceil(8)];
    t.mm().copy_in(addr, &mut bytes)?;
    for (i, b) in bytes.iter().enumerate() {
        v[i / 8] |= (*b as u64) << ((i % 8) * 8);
    }
    // Bits past nfds are ignored.
    if !nfds.is_multiple_of(64) {
        if let Some(last) = v.last_mut() {
            *last &= (1u64 << (nfds % 64)) - 1;
        }
    }
    Ok(v)
}

fn write_set(t: &Task, addr: u64, nfds: usize, v: &[u64]) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let mut bytes = vec![0u8; nfds.div_ceil(8)];
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = (v[i / 8] >> ((i % 8) * 8)) as u8;
    }
    t.mm().copy_out(addr, &bytes)
}

/// The common part of select and pselect6; returns the count and whether
/// it was interrupted (ERESTARTSYS).
fn do_select(t: &mut Task, nfds: i32, r: u64, w: u64, e: u64, deadline: Option<Instant>) -> Result<u64, Errno> {
    if nfds < 0 {
        return Err(Errno::EINVAL);
    }
    // Like Linux, fds beyond the fd table's size (a multiple of 64) are
    // ignored; unopened ones below it are EBADF.
    let max_fds = t.fds.fds().last().map_or(0, |&f| f as usize + 1).div_ceil(64).max(1) * 64;
    let nfds = (nfds as usize).min(max_fds);
    let (rs, ws, es) = (read_set(t, r, nfds)?, read_set(t, w, nfds)?, read_set(t, e, nfds)?);
    let mut items = Vec::new();
    let mut fds = Vec::new();
    for fd in 0..nfds {
        let bit = |s: &[u64]| s[fd / 64] & (1 << (fd % 64)) != 0;
        let mut ev = 0;
        if bit(&rs) {
            ev |= SELECT_IN;
        }
        if bit(&ws) {
            ev |= SELECT_OUT;
        }
        if bit(&es) {
            ev |= SELECT_EX;
        }
        if ev != 0 {
            let f = t.file(fd as i32).map_err(|_| Errno::EBADF)?;
            items.push((Some(f), ev));
            fds.push(fd);
        }
    }
    let rev = wait_any(t, &items, deadline)?;
    let (mut ro, mut wo, mut eo) = (vec![0u64; rs.len()], vec![0u64; ws.len()], vec![0u64; es.len()]);
    let mut n = 0;
    for (fd, ev) in fds.iter().zip(rev) {
        let set = |s: &mut Vec<u64>, n: &mut u64| {
            s[fd / 64] |= 1 << (fd % 64);
            *n += 1;
        };
        let want = |s: &[u64]| s[fd / 64] & (1 << (fd % 64)) != 0;
        if want(&rs) && ev & SELECT_IN != 0 {
            set(&mut ro, &mut n);
        }
        if want(&ws) && ev & SELECT_OUT != 0 {
            set(&mut wo, &mut n);
        }
        if want(&es) && ev & SELECT_EX != 0 {
            set(&mut eo, &mut n);
        }
    }
    write_set(t, r, nfds, &ro)?;
    write_set(t, w, nfds, &wo)?;
    write_set(t, e, nfds, &eo)?;
    Ok(n)
}

/// select(2). Like Linux, the timeout is updated to the time left.
pub fn select(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (nfds, r, w, e, utv) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3], a.a[4]);
    let deadline = if utv != 0 {
        let tv: Timeval = t.copy_in(utv)?;
        if tv.tv_sec < 0 || tv.tv_usec < 0 {
            return Err(Errno::EINVAL.into());
        }
        // Out-of-range microseconds are normalized, as Linux does.
        let ns = tv.tv_sec as u128 * 1_000_000_000 + tv.tv_usec as u128 * 1000;
        let d = std::time::Duration::from_nanos(ns.min(u64::MAX as u128) as u64);
        Some(Instant::now().checked_add(d).unwrap_or(Instant::now() + std::time::Duration::from_secs(1 << 32)))
    } else {
        None
    };
    let res = do_select(t, nfds, r, w, e, deadline);
    if let (Some(d), true) = (deadline, utv != 0) {
        let left = remaining(d);
        let _ = t.copy_out(utv, &Timeval { tv_sec: left.tv_sec, tv_usec: left.tv_nsec / 1000 });
    }
    match res {
        Ok(n) => Ok(n),
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND.into()),
        Err(e) => Err(e.into()),
    }
}

/// pselect6(2): the sixth argument points at {sigset pointer, size}.
pub fn pselect6(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (nfds, r, w, e, uts, usig) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3], a.a[4], a.a[5]);
    let deadline = if uts != 0 { Some(deadline_after(read_timespec(t, uts)?)) } else { None };
    let pushed = if usig != 0 {
        let [ss, size]: [u64; 2] = t.copy_in(usig)?;
        push_sigmask(t, ss, size)?
    } else {
        false
    };
    let res = do_select(t, nfds, r, w, e, deadline);
    pop_sigmask(t, pushed, res == Err(Errno::ERESTARTSYS));
    if let (Some(d), true) = (deadline, uts != 0) {
        let _ = t.copy_out(uts, &remaining(d));
    }
    match res {
        Ok(n) => Ok(n),
        Err(Errno::ERESTARTSYS) => Err(Errno::ERESTARTNOHAND.into()),
        Err(e) => Err(e.into()),
    }
}
