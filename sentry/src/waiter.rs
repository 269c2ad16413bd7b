//! Wait queues: where events are announced. Files keep one for readiness
//! (poll, epoll, blocking I/O), processes one for child state changes,
//! completions one each. A waiter registers a [`Waker`] with an event mask;
//! `notify` calls the wakers whose mask matches. Waker calls run under the
//! queue's lock and must not block or take other locks beyond their own.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Something to call when a wait queue announces events.
pub trait Waker: Send + Sync {
    /// `events` happened (a mask of the queue's event bits).
    fn wake(&self, events: u32);
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Entry {
    id: u64,
    mask: u32,
    exclusive: bool,
    waker: Arc<dyn Waker>,
}

/// Waiters for events on one object.
#[derive(Default)]
pub struct WaitQueue {
    entries: Mutex<Vec<Entry>>,
}

/// Event bit for queues that have a single kind of event.
pub const EVENT_ANY: u32 = u32::MAX;

impl WaitQueue {
    /// An empty queue.
    pub fn new() -> WaitQueue {
        WaitQueue::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers `waker` for events in `mask`; returns its id for
    /// [`unregister`](Self::unregister).
    pub fn register(&self, mask: u32, waker: Arc<dyn Waker>) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Entry { id, mask, exclusive: false, waker });
        id
    }

    /// Registers an exclusive waiter (EPOLLEXCLUSIVE): of the exclusive
    /// waiters an event matches, only the first is woken.
    pub fn register_exclusive(&self, mask: u32, waker: Arc<dyn Waker>) -> u64 {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Entry { id, mask, exclusive: true, waker });
        id
    }

    /// Removes a registration (a no-op if already gone).
    pub fn unregister(&self, id: u64) {
        self.lock().retain(|e| e.id != id);
    }

    /// Announces `events` to every waiter interested in any of them.
    pub fn notify(&self, events: u32) {
        let mut woke_exclusive = false;
        for e in self.lock().iter() {
            if e.mask & events != 0 {
                if e.exclusive {
                    if woke_exclusive {
                        continue;
                    }
                    woke_exclusive = true;
                }
                e.waker.wake(e.mask & events);
            }
        }
    }

    /// Whether anyone waits.
    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }
}

/// A registration that unregisters itself when dropped.
pub struct Registration<'a> {
    queue: &'a WaitQueue,
    id: u64,
}

impl<'a> Registration<'a> {
    /// Registers `waker` on `queue` for `mask`.
    pub fn new(queue: &'a WaitQueue, mask: u32, waker: Arc<dyn Waker>) -> Registration<'a> {
        let id = queue.register(mask, waker);
        Registration { queue, id }
    }
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.queue.unregister(self.id);
    }
}
