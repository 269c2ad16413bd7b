//! Readiness of host fds: one sentry thread waits on a host epoll for
//! every pollable host fd the sandbox uses (its stdio pipes, ttys and
//! sockets, which are non-blocking) and wakes the waiters on the file's
//! wait queue. So no sentry thread ever sits in a host `read` it cannot be
//! woken from.
//!
//! Registrations are edge-triggered: waiters register on the queue first,
//! then ask the fd's readiness with a zero-timeout host poll, then block.

use std::collections::HashMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use crate::abi::Errno;
use crate::waiter::WaitQueue;

struct Notifier {
    epfd: OwnedFd,
    queues: Mutex<HashMap<i32, Weak<WaitQueue>>>,
}

static NOTIFIER: OnceLock<Option<Arc<Notifier>>> = OnceLock::new();

fn notifier() -> Option<&'static Arc<Notifier>> {
    NOTIFIER
        .get_or_init(|| {
            // SAFETY: epoll_create1 takes a flag; the fd is checked and owned.
            let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
            if fd < 0 {
                tracing::error!("host notifier: epoll_create1: {}", Errno::last_host());
                return None;
            }
            // SAFETY: epoll_create1 returned a fresh fd that nothing else owns.
            let epfd = unsafe { OwnedFd::from_raw_fd(fd) };
            let n = Arc::new(Notifier { epfd, queues: Mutex::new(HashMap::new()) });
            let n2 = n.clone();
            let r = std::thread::Builder::new().name("host-notify".into()).spawn(move || n2.run());
            if let Err(e) = r {
                tracing::error!("host notifier: {e}");
                return None;
            }
            Some(n)
        })
        .as_ref()
}

/// Starts the notifier now, while its host calls are still allowed (the
/// sentry's seccomp filter has no epoll_create1): a sandbox that may be
/// handed host fds later (`runsc exec`'s stdio) needs it ready.
pub fn start() -> bool {
    notifier().is_some()
}

impl Notifier {
    fn run(&self) {
        let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            // SAFETY: `events` is a valid array of 64 epoll_events.
            let n = unsafe { libc::epoll_wait(self.epfd.as_raw_fd(), events.as_mut_ptr(), 64, -1) };
            if n < 0 {
                if Errno::last_host() == Errno::EINTR {
                    continue;
                }
                tracing::error!("host notifier: epoll_wait: {}", Errno::last_host());
                return;
            }
            for ev in &events[..n as usize] {
                let fd = ev.u64 as i32;
                let q = self.queues.lock().unwrap_or_else(|e| e.into_inner()).get(&fd).and_then(Weak::upgrade);
                if let Some(q) = q {
                    q.notify(ev.events);
                }
            }
        }
    }
}

/// Watches host `fd` for readiness, announcing it on `queue`. False if the
/// fd cannot be watched (then it is always considered ready).
pub fn watch(fd: i32, queue: &Arc<WaitQueue>) -> bool {
    let Some(n) = notifier() else { return false };
    let mut ev = libc::epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLPRI | libc::EPOLLET) as u32,
        u64: fd as u64,
    };
    n.queues.lock().unwrap_or_else(|e| e.into_inner()).insert(fd, Arc::downgrade(queue));
    // SAFETY: epoll_ctl reads `ev`, valid for the call.
    let r = unsafe { libc::epoll_ctl(n.epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) };
    if r != 0 {
        n.queues.lock().unwrap_or_else(|e| e.into_inner()).remove(&fd);
        return false;
    }
    true
}

/// Stops watching `fd` (before it is closed).
pub fn unwatch(fd: i32) {
    let Some(n) = notifier() else { return };
    // SAFETY: EPOLL_CTL_DEL ignores the event argument.
    unsafe { libc::epoll_ctl(n.epfd.as_raw_fd(), libc::EPOLL_CTL_DEL, fd, std::ptr::null_mut()) };
    n.queues.lock().unwrap_or_else(|e| e.into_inner()).remove(&fd);
}

/// The events of `mask` ready on host `fd` now.
pub fn poll_now(fd: i32, mask: u32) -> u32 {
    let mut p = libc::pollfd { fd, events: mask as i16, revents: 0 };
    // SAFETY: poll reads and writes the one pollfd we pass.
    let r = unsafe { libc::poll(&mut p, 1, 0) };
    if r < 0 {
        return 0;
    }
    p.revents as u16 as u32
}
