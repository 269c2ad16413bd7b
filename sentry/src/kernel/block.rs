//! The one way to block in the sentry: a task waits for a [`TaskWaker`] to
//! fire, with an optional deadline, and wakes early when interrupted
//! (a signal it must handle, a group exit, a stop). Every blocking syscall
//! (futex, sleeps, pipes, poll/epoll, wait, sockets) goes through
//! [`Task::block`](crate::kernel::Task::block).
//!
//! Events are announced on [`WaitQueue`]s (in `crate::waiter`, below the
//! VFS, which uses them for file readiness).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

pub use crate::waiter::{Registration, WaitQueue, Waker, EVENT_ANY};

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
