//! eventfd: a 64-bit counter that `write` adds to and `read` takes (all of
//! it, or one in semaphore mode). Neither blocks here; the syscall layer
//! waits on the queue.

use std::sync::Mutex;

use crate::abi::poll::{POLLERR, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::{Errno, Stat};
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// The largest value the counter may hold.
const MAX: u64 = u64::MAX - 1;

/// An eventfd.
pub struct EventFd {
    count: Mutex<u64>,
    semaphore: bool,
    queue: WaitQueue,
    /// Its number among the sandbox's eventfds (fdinfo's eventfd-id).
    id: u32,
}

impl EventFd {
    /// A counter starting at `initval`.
    pub fn new(initval: u64, semaphore: bool) -> EventFd {
        static NEXT_ID: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let id = NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        EventFd { count: Mutex::new(initval), semaphore, queue: WaitQueue::new(), id }
    }

    fn count(&self) -> std::sync::MutexGuard<'_, u64> {
        self.count.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The counter (for /proc fdinfo).
    pub fn value(&self) -> u64 {
        *self.count()
    }
}

impl FileOps for EventFd {
    fn fdinfo(&self) -> String {
        format!(
            "eventfd-count: {:16x}\neventfd-id: {}\neventfd-semaphore: {}\n",
            *self.count(),
            self.id,
            self.semaphore as u8
        )
    }

    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = {
            let mut c = self.count();
            if *c == 0 {
                return Err(Errno::EAGAIN);
            }
            let v = if self.semaphore { 1 } else { *c };
            *c -= v;
            v
        };
        buf[..8].copy_from_slice(&v.to_ne_bytes());
        self.queue.notify(POLLOUT | POLLWRNORM);
        Ok(8)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        if buf.len() < 8 {
            return Err(Errno::EINVAL);
        }
        let v = u64::from_ne_bytes(buf[..8].try_into().map_err(|_| Errno::EINVAL)?);
        if v == u64::MAX {
            return Err(Errno::EINVAL);
        }
        {
            let mut c = self.count();
            if MAX - *c < v {
                return Err(Errno::EAGAIN);
            }
            *c += v;
        }
        if v > 0 {
            self.queue.notify(POLLIN | POLLRDNORM);
        }
        Ok(8)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: 0o600, nlink: 1, blksize: 4096, ..Default::default() })
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        let c = *self.count();
        let mut r = 0;
        if c > 0 {
            r |= POLLIN | POLLRDNORM;
        }
        if c < MAX {
            r |= POLLOUT | POLLWRNORM;
        }
        if c == u64::MAX {
            r |= POLLERR;
        }
        r & (mask | POLLERR)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
