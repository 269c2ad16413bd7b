//! The one way to block in the sentry: a task waits for a [`TaskWaker`] to
//! fire, with an optional deadline, and wakes early when interrupted
//! (a signal it must handle, a group exit, a stop). Every blocking syscall
//! (futex, sleeps, pipes, poll/epoll, wait, sockets) goes through
//! [`Task::block`](crate::kernel::Task::block).
//!
//! [`WaitQueue`]s are where events are announced: files keep one for
//! readiness, processes one for child state changes, futexes one per word.
//! A waiter registers a [`Waker`] with an event mask; `notify` calls the
//! wakers whose mask matches. Waker calls run under the queue's lock and
//! must not block.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// Wakes one sentry thread.
#[derive(Default)]
pub struct Parker {
    notified: Mutex<bool>,
    cv: Condvar,
}

impl Parker {
    /// Wakes the thread parked (or next to park) here.
    pub fn unpark(&self) {
        let mut n = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        *n = true;
        self.cv.notify_one();
    }

    /// Sleeps until unparked or `deadline`; consumes the wake-up.
    pub fn park(&self, deadline: Option<Instant>) {
        let mut n = self.notified.lock().unwrap_or_else(|e| e.into_inner());
        while !*n {
            match deadline {
                None => n = self.cv.wait(n).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        break;
                    }
                    n = self.cv.wait_timeout(n, d - now).unwrap_or_else(|e| e.into_inner()).0;
                }
            }
        }
        *n = false;
    }
}

/// Something to call when a wait queue announces events.
pub trait Waker: Send + Sync {
    /// `events` happened (a mask of the queue's event bits).
    fn wake(&self, events: u32);
}

/// A task's waker: remembers that it fired and unparks the task.
pub struct TaskWaker {
    fired: AtomicBool,
    events: std::sync::atomic::AtomicU32,
    parker: Arc<Parker>,
}

impl TaskWaker {
    /// A waker for the thread parked on `parker`.
    pub fn new(parker: Arc<Parker>) -> Arc<TaskWaker> {
        Arc::new(TaskWaker { fired: AtomicBool::new(false), events: 0.into(), parker })
    }

    /// Whether it fired.
    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// The events it was woken with, accumulated.
    pub fn events(&self) -> u32 {
        self.events.load(Ordering::Acquire)
    }

    /// Makes it ready to fire again.
    pub fn reset(&self) {
        self.fired.store(false, Ordering::Release);
        self.events.store(0, Ordering::Release);
    }
}

impl Waker for TaskWaker {
    fn wake(&self, events: u32) {
        self.events.fetch_or(events, Ordering::AcqRel);
        self.fired.store(true, Ordering::Release);
        self.parker.unpark();
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

struct Entry {
    id: u64,
    mask: u32,
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
        self.lock().push(Entry { id, mask, waker });
        id
    }

    /// Removes a registration (a no-op if already gone).
    pub fn unregister(&self, id: u64) {
        self.lock().retain(|e| e.id != id);
    }

    /// Announces `events` to every waiter interested in any of them.
    pub fn notify(&self, events: u32) {
        for e in self.lock().iter() {
            if e.mask & events != 0 {
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

/// A one-shot event tasks can wait for (vfork completion, exec's wait for
/// other threads to exit).
#[derive(Default)]
pub struct Completion {
    done: AtomicBool,
    /// Waiters.
    pub queue: WaitQueue,
}

impl Completion {
    /// A fresh, incomplete completion.
    pub fn new() -> Arc<Completion> {
        Arc::new(Completion::default())
    }

    /// Marks it complete and wakes the waiters.
    pub fn complete(&self) {
        self.done.store(true, Ordering::Release);
        self.queue.notify(EVENT_ANY);
    }

    /// Whether complete.
    pub fn is_done(&self) -> bool {
        self.done.load(Ordering::Acquire)
    }
}
