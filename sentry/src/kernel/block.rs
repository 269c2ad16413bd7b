//! The one way to block in the sentry: a task waits for a [`TaskWaker`] to
//! fire, with an optional deadline, and wakes early when interrupted
//! (a signal it must handle, a group exit, a stop). Every blocking syscall
//! (futex, sleeps, pipes, poll/epoll, wait, sockets) goes through
//! [`Task::block`](crate::kernel::Task::block).
//!
//! Events are announced on [`WaitQueue`]s (in `crate::waiter`, below the
//! VFS, which uses them for file readiness).

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

pub use crate::waiter::{Registration, WaitQueue, Waker, EVENT_ANY};

/// Wakes one sentry thread.
///
/// A thread about to sleep first yields for a moment (50 µs): a wake-up
/// that comes soon (the other end of a pipe or futex answering) then costs
/// neither a host futex sleep nor waking an idle CPU, which on a virtual
/// machine is the slowest part of a round trip. Yielding rather than
/// spinning lets a thread that shares the CPU run meanwhile.
#[derive(Default)]
pub struct Parker {
    /// EMPTY, NOTIFIED or SLEEPING.
    state: AtomicU32,
    lock: Mutex<()>,
    cv: Condvar,
}

const EMPTY: u32 = 0;
const NOTIFIED: u32 = 1;
const SLEEPING: u32 = 2;

/// How long a thread yields before it sleeps.
const SPIN: Duration = Duration::from_micros(50);

impl Parker {
    /// Wakes the thread parked (or next to park) here.
    pub fn unpark(&self) {
        if self.state.swap(NOTIFIED, Ordering::AcqRel) == SLEEPING {
            // Taking the lock waits until the sleeper is inside `wait`.
            drop(self.lock.lock().unwrap_or_else(|e| e.into_inner()));
            self.cv.notify_one();
        }
    }

    /// Consumes a wake-up, if there is one.
    fn take(&self) -> bool {
        self.state.compare_exchange(NOTIFIED, EMPTY, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Sleeps until unparked or `deadline`; consumes the wake-up.
    pub fn park(&self, deadline: Option<Instant>) {
        let start = Instant::now();
        let spin_end = deadline.map_or(start + SPIN, |d| d.min(start + SPIN));
        loop {
            if self.take() {
                return;
            }
            if Instant::now() >= spin_end {
                break;
            }
            std::thread::yield_now();
        }
        let mut g = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if self.state.compare_exchange(EMPTY, SLEEPING, Ordering::AcqRel, Ordering::Acquire).is_err() {
                // Notified meanwhile.
                self.state.store(EMPTY, Ordering::Release);
                return;
            }
            match deadline {
                None => g = self.cv.wait(g).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now < d {
                        g = self.cv.wait_timeout(g, d - now).unwrap_or_else(|e| e.into_inner()).0;
                    }
                }
            }
            // Woken, timed out or spurious: back to EMPTY unless notified.
            if self.state.swap(EMPTY, Ordering::AcqRel) == NOTIFIED || deadline.is_some_and(|d| Instant::now() >= d) {
                return;
            }
        }
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
