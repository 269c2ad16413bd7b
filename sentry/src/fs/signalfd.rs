//! signalfd: reading dequeues the reading thread's pending signals (its
//! own, then its process's) that are in the fd's mask, as
//! `signalfd_siginfo` records. Readiness is that of the polling thread;
//! wake-ups come from the process that made the fd (Linux uses the
//! signal-handler table's queue, which the same process shares).

use std::sync::{Arc, Mutex};

use crate::abi::poll::{SignalfdSiginfo, POLLIN, POLLRDNORM};
use crate::abi::{Errno, Pod, SigInfo, Stat};
use crate::kernel::signals::UNBLOCKABLE;
use crate::kernel::{current, ThreadGroup};
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// A signalfd.
pub struct SignalFd {
    mask: Mutex<u64>,
    tg: Arc<ThreadGroup>,
}

impl SignalFd {
    /// A signalfd for the signals in `mask`, made by a task of `tg`.
    pub fn new(tg: Arc<ThreadGroup>, mask: u64) -> SignalFd {
        SignalFd { mask: Mutex::new(mask & !UNBLOCKABLE), tg }
    }

    /// The signalfd behind a file, if it is one.
    pub fn of(ops: &dyn FileOps) -> Option<&SignalFd> {
        ops.as_any().and_then(|a| a.downcast_ref::<SignalFd>())
    }

    /// Changes the mask (signalfd on an existing fd).
    pub fn set_mask(&self, mask: u64) {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner()) = mask & !UNBLOCKABLE;
    }

    fn mask(&self) -> u64 {
        *self.mask.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn record(i: &SigInfo) -> SignalfdSiginfo {
    let mut r = SignalfdSiginfo {
        signo: i.signo as u32,
        errno: i.errno,
        code: i.code,
        pid: i.pid() as u32,
        uid: i.uid(),
        ..Default::default()
    };
    match i.signo {
        libc::SIGCHLD => {
            r.status = i.status();
            r.utime = i.utime() as u64;
            r.stime = i.stime() as u64;
        }
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGTRAP => r.addr = i.addr(),
        _ => {}
    }
    if i.code == crate::abi::signal::SI_TIMER {
        r.tid = i.pid() as u32;
        r.overrun = i.overrun() as u32;
        r.ptr = i.data[1];
        r.int = i.data[1] as i32;
    } else if i.code == crate::abi::signal::SI_QUEUE || i.code == crate::abi::signal::SI_MESGQ {
        r.ptr = i.data[1];
        r.int = i.data[1] as i32;
    }
    r
}

impl FileOps for SignalFd {
    fn fdinfo(&self) -> String {
        format!("sigmask:\t{:016x}\n", self.mask())
    }

    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let size = std::mem::size_of::<SignalfdSiginfo>();
        if buf.len() < size {
            return Err(Errno::EINVAL);
        }
        let Some(t) = current() else { return Err(Errno::EAGAIN) };
        let mask = self.mask();
        let mut n = 0;
        while n + size <= buf.len() {
            let info = {
                let mut gs = t.tg.signals();
                let mut ts = t.signals();
                ts.pending.dequeue(mask).or_else(|| gs.pending.dequeue(mask))
            };
            let Some(info) = info else { break };
            buf[n..n + size].copy_from_slice(record(&info).as_bytes());
            n += size;
        }
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(n)
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
        let Some(t) = current() else { return 0 };
        let pending = {
            let gs = t.tg.signals();
            let ts = t.signals();
            ts.pending.pending() | gs.pending.pending()
        };
        if pending & self.mask() != 0 {
            mask & (POLLIN | POLLRDNORM)
        } else {
            0
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.tg.signalfd_queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
