//! timerfd: a timer whose expiries are counted and read as a u64; it fires
//! from the kernel's timer thread and announces readiness on its queue.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::abi::poll::{POLLIN, POLLRDNORM};
use crate::abi::{Errno, Stat};
use crate::kernel::timers::TimerId;
use crate::kernel::Kernel;
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

#[derive(Default)]
struct State {
    deadline: Option<Instant>,
    interval: Duration,
    ticks: u64,
    scheduled: Option<TimerId>,
    /// The flags of the last timerfd_settime (fdinfo shows them).
    settime_flags: i32,
}

/// A timerfd.
pub struct TimerFd {
    /// The clock (CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME...).
    pub clock: i32,
    state: Mutex<State>,
    queue: WaitQueue,
    kernel: Weak<Kernel>,
    me: Weak<TimerFd>,
}

impl TimerFd {
    /// A disarmed timer on `clock`.
    pub fn new(kernel: &Arc<Kernel>, clock: i32) -> Arc<TimerFd> {
        Arc::new_cyclic(|me| TimerFd {
            clock,
            state: Mutex::new(State::default()),
            queue: WaitQueue::new(),
            kernel: Arc::downgrade(kernel),
            me: me.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The timerfd behind a file, if it is one.
    pub fn of(ops: &dyn FileOps) -> Option<&TimerFd> {
        ops.as_any().and_then(|a| a.downcast_ref::<TimerFd>())
    }

    /// Records the flags timerfd_settime was given.
    pub fn set_flags(&self, flags: i32) {
        self.lock().settime_flags = flags;
    }

    /// Time to the next expiry (zero: disarmed) and the interval.
    pub fn get(&self) -> (Duration, Duration) {
        let s = self.lock();
        let left = s
            .deadline
            .map_or(Duration::ZERO, |d| d.saturating_duration_since(Instant::now()).max(Duration::from_nanos(1)));
        (left, s.interval)
    }

    /// Arms the timer to expire at `at` (None: disarm), then every
    /// `interval`; returns the old setting. Unread expiries are dropped.
    pub fn set(&self, at: Option<Instant>, interval: Duration) -> (Duration, Duration) {
        let old = self.get();
        let Some(k) = self.kernel.upgrade() else { return old };
        let mut s = self.lock();
        if let Some(id) = s.scheduled.take() {
            k.timers.cancel(id);
        }
        s.ticks = 0;
        s.deadline = at;
        s.interval = interval;
        if let Some(at) = at {
            s.scheduled = Some(self.schedule(&k, at));
        }
        old
    }

    fn schedule(&self, k: &Kernel, at: Instant) -> TimerId {
        let me = self.me.clone();
        k.timers.schedule(
            at,
            Box::new(move || {
                if let Some(t) = me.upgrade() {
                    t.fire(at);
                }
            }),
        )
    }

    fn fire(&self, at: Instant) {
        let Some(k) = self.kernel.upgrade() else { return };
        {
            let mut s = self.lock();
            if s.deadline != Some(at) {
                return;
            }
            s.ticks += 1;
            if s.interval.is_zero() {
                s.deadline = None;
                s.scheduled = None;
            } else {
                let now = Instant::now();
                let mut next = at + s.interval;
                while next <= now {
                    next += s.interval;
                    s.ticks += 1;
                }
                s.deadline = Some(next);
                s.scheduled = Some(self.schedule(&k, next));
            }
        }
        self.queue.notify(POLLIN | POLLRDNORM);
    }
}

impl Drop for TimerFd {
    fn drop(&mut self) {
        let s = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let (Some(id), Some(k)) = (s.scheduled.take(), self.kernel.upgrade()) {
            k.timers.cancel(id);
        }
    }
}

impl FileOps for TimerFd {
    fn fdinfo(&self) -> String {
        let (value, interval) = self.get();
        let (ticks, flags) = {
            let s = self.lock();
            (s.ticks, s.settime_flags)
        };
        format!(
            "clockid: {}\nticks: {ticks}\nsettime flags: 0{flags:o}\nit_value: ({}, {})\nit_interval: ({}, {})\n",
            self.clock,
            value.as_secs(),
            value.subsec_nanos(),
            interval.as_secs(),
            interval.subsec_nanos()
        )
    }

    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let n = {
            let mut s = self.lock();
            if s.ticks == 0 {
                return Err(Errno::EAGAIN);
            }
            std::mem::take(&mut s.ticks)
        };
        buf[..8].copy_from_slice(&n.to_ne_bytes());
        Ok(8)
    }

    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: 0o600, nlink: 1, blksize: 4096, ..Default::default() })
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        if self.lock().ticks > 0 {
            mask & (POLLIN | POLLRDNORM)
        } else {
            0
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
