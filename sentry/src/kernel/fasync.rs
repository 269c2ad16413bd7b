//! Signal-driven I/O: an open file's owner (F_SETOWN, F_SETOWN_EX), the
//! signal it raises (F_SETSIG), and O_ASYNC, which sends that signal to
//! the owner when the file becomes readable or writable (Linux's fasync).
//!
//! A file with O_ASYNC has a waker on its wait queue. Wakers run under the
//! queue's lock, so the waker only queues the event; a sentry thread sends
//! the signals, with no queue lock held.

use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, OnceLock, Weak};

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDBAND, POLLRDNORM, POLLWRBAND, POLLWRNORM};
use crate::abi::{Errno, SigInfo};
use crate::kernel::signal_send::Origin;
use crate::kernel::Kernel;
use crate::vfs::File;
use crate::waiter::Waker;

/// fcntl F_SETSIG.
pub const F_SETSIG: i32 = 10;
/// fcntl F_GETSIG.
pub const F_GETSIG: i32 = 11;
/// fcntl F_SETOWN_EX.
pub const F_SETOWN_EX: i32 = 15;
/// fcntl F_GETOWN_EX.
pub const F_GETOWN_EX: i32 = 16;

/// F_OWNER_TID.
pub const OWNER_TID: i32 = 0;
/// F_OWNER_PID.
pub const OWNER_PID: i32 = 1;
/// F_OWNER_PGRP.
pub const OWNER_PGRP: i32 = 2;

/// An open file's signal-driven I/O settings.
#[derive(Default)]
pub struct FileAsync {
    /// (F_OWNER_* kind, id); id 0: no owner.
    pub owner: (i32, i32),
    /// F_SETSIG's signal (0: SIGIO without details).
    pub sig: i32,
    /// The waker's registration on the file's wait queue, while O_ASYNC.
    registration: Option<u64>,
}

/// The waker O_ASYNC puts on a file's wait queue.
struct AsyncWaker {
    file: Weak<File>,
    fd: i32,
    kernel: Weak<Kernel>,
}

/// Work for the sigio thread.
enum Job {
    /// A file with O_ASYNC saw these events.
    Ready(Arc<AsyncWaker>, u32),
    /// Send a file's signal to its owner: (kernel, file, fd, si_code,
    /// si_band).
    Signal(Weak<Kernel>, Weak<File>, i32, i32, u32),
}

struct Pending {
    queue: Mutex<VecDeque<Job>>,
    cv: Condvar,
}

static PENDING: OnceLock<Arc<Pending>> = OnceLock::new();

/// The delivery queue, its thread started on first use.
fn pending() -> &'static Arc<Pending> {
    PENDING.get_or_init(|| {
        let p = Arc::new(Pending { queue: Mutex::new(VecDeque::new()), cv: Condvar::new() });
        let q = p.clone();
        let spawned = std::thread::Builder::new().name("sigio".into()).spawn(move || deliver_loop(&q));
        if let Err(e) = spawned {
            tracing::warn!("sigio thread: {e}");
        }
        p
    })
}

impl Waker for Arc<AsyncWaker> {
    fn wake(&self, events: u32) {
        let p = pending();
        p.queue.lock().unwrap_or_else(|e| e.into_inner()).push_back(Job::Ready(self.clone(), events));
        p.cv.notify_one();
    }
}

fn deliver_loop(p: &Pending) {
    loop {
        let job = {
            let mut q = p.queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                if let Some(x) = q.pop_front() {
                    break x;
                }
                q = p.cv.wait(q).unwrap_or_else(|e| e.into_inner());
            }
        };
        match job {
            Job::Ready(w, events) => deliver(&w, events),
            Job::Signal(k, f, fd, code, band) => {
                if let (Some(k), Some(f)) = (k.upgrade(), f.upgrade()) {
                    signal_owner(&k, &f, fd, code, band);
                }
            }
        }
    }
}

/// Sends `file`'s signal to its owner later, from the sigio thread: for
/// callers that may hold VFS locks (which come after the signal locks).
pub fn signal_owner_later(k: Weak<Kernel>, file: Weak<File>, fd: i32, code: i32, band: u32) {
    let p = pending();
    p.queue.lock().unwrap_or_else(|e| e.into_inner()).push_back(Job::Signal(k, file, fd, code, band));
    p.cv.notify_one();
}

/// si_code and si_band for a readiness change (Linux's band_table). Data
/// and room come first: a pipe tells its ends POLL_IN and POLL_OUT even
/// when the other side went away.
fn code_and_band(events: u32) -> Option<(i32, u32)> {
    if events & (POLLIN | POLLRDNORM) != 0 {
        return Some((1, POLLIN | POLLRDNORM));
    }
    if events & (POLLOUT | POLLWRNORM) != 0 {
        return Some((2, POLLOUT | POLLWRNORM | POLLWRBAND));
    }
    if events & POLLPRI != 0 {
        return Some((5, POLLPRI | POLLRDBAND));
    }
    if events & POLLHUP != 0 {
        return Some((6, POLLHUP | POLLERR));
    }
    if events & POLLERR != 0 {
        return Some((4, POLLERR));
    }
    None
}

fn deliver(w: &AsyncWaker, events: u32) {
    let (Some(file), Some(k)) = (w.file.upgrade(), w.kernel.upgrade()) else { return };
    // Each end hears of its own direction: a pipe's write end (on the
    // same queue) is not told that data arrived.
    let mut dir = POLLERR | POLLHUP | POLLPRI;
    if file.readable() {
        dir |= POLLIN | POLLRDNORM;
    }
    if file.writable() {
        dir |= POLLOUT | POLLWRNORM;
    }
    let events = events & dir;
    let Some((code, band)) = code_and_band(events) else { return };
    signal_owner(&k, &file, w.fd, code, band);
}

/// Sends `file`'s signal to its owner: F_SETSIG's with `code`, `band` and
/// `fd` in the siginfo, or plain SIGIO.
pub fn signal_owner(k: &Kernel, file: &File, fd: i32, code: i32, band: u32) {
    let (owner, sig) = {
        let a = file.fasync();
        (a.owner, a.sig)
    };
    if owner.1 == 0 {
        return;
    }
    let info = if sig == 0 {
        SigInfo::new(libc::SIGIO, crate::abi::signal::SI_KERNEL)
    } else {
        SigInfo::poll(sig, code, band as i64, fd)
    };
    match owner.0 {
        OWNER_TID => {
            if let Some(t) = k.tasks.task(owner.1) {
                k.send_thread_signal(&t, info, Origin::Sandbox);
            }
        }
        OWNER_PGRP => {
            let members = k.tasks.read().group_members(owner.1);
            for tg in members {
                k.send_group_signal(&tg, info, Origin::Sandbox);
            }
        }
        _ => {
            if let Some(tg) = k.thread_group(owner.1) {
                k.send_group_signal(&tg, info, Origin::Sandbox);
            }
        }
    }
}

/// O_ASYNC turned on (`on`) or off for `file`, open as `fd`: adds or
/// removes its waker. Files that never block (regular files) take the
/// flag and raise nothing, as in Linux.
pub fn set_async(k: &Arc<Kernel>, file: &Arc<File>, fd: i32, on: bool) {
    let Some(q) = file.ops.wait_queue() else { return };
    let mut a = file.fasync();
    match (on, a.registration) {
        (true, None) => {
            let w = Arc::new(AsyncWaker { file: Arc::downgrade(file), fd, kernel: Arc::downgrade(k) });
            let mask = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP | POLLPRI;
            a.registration = Some(q.register(mask, Arc::new(w)));
        }
        (false, Some(id)) => {
            q.unregister(id);
            a.registration = None;
        }
        _ => {}
    }
}

/// Takes the waker off the queue when the description goes away.
pub fn release(file: &File) {
    let id = file.fasync().registration.take();
    if let (Some(id), Some(q)) = (id, file.ops.wait_queue()) {
        q.unregister(id);
    }
}

/// Makes the calling process `file`'s owner unless it has one (as
/// F_SETLEASE does).
pub fn default_owner(file: &File, pid: i32) {
    let mut a = file.fasync();
    if a.owner.1 == 0 {
        a.owner = (OWNER_PID, pid);
    }
}

/// F_SETOWN_EX and F_SETOWN's checks: a known kind (EINVAL) and, unless
/// 0, a live target (ESRCH).
pub fn set_owner(k: &Kernel, file: &File, kind: i32, id: i32) -> Result<(), Errno> {
    if !matches!(kind, OWNER_TID | OWNER_PID | OWNER_PGRP) {
        return Err(Errno::EINVAL);
    }
    if id < 0 {
        return Err(Errno::EINVAL);
    }
    if id != 0 {
        let tree = k.tasks.read();
        let exists = match kind {
            OWNER_TID => tree.tasks.contains_key(&id),
            OWNER_PID => tree.procs.contains_key(&id) || tree.tasks.contains_key(&id),
            _ => tree.group_exists(id),
        };
        if !exists {
            return Err(Errno::ESRCH);
        }
    }
    file.fasync().owner = (kind, id);
    Ok(())
}
