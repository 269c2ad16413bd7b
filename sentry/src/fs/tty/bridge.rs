//! A sandbox terminal joined to a host one, for a process exec'd with a
//! terminal (`runsc exec --tty`): the process gets a pts pair of the
//! sandbox's own, so it has a real /dev/pts/N with the sandbox's line
//! discipline and job control (^C is the sandbox's to turn into SIGINT),
//! and a thread copies bytes between the pair's master and the host
//! terminal runsc handed over (which runsc put in raw mode: the host's
//! line discipline passes every byte through). The host terminal's window
//! size is copied in at the start, whenever runsc asks ([`Bridge::resize`],
//! on the SIGWINCH it gets as the host terminal's session leader), and
//! checked every half second besides (a client may resize the terminal
//! before runsc holds it, or in a way that signals no one).
//!
//! The copying ends when the host side hangs up (the client closed its
//! master: the pair is hung up in turn, and the session gets SIGHUP) or
//! when every replica in the sandbox is closed and the output is written.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::pty::{MasterFile, ReplicaFile};
use super::{Terminal, Ttys};
use crate::abi::Errno;
use crate::fs::host::HostFile;
use crate::vfs::FileOps;
use crate::waiter::{Registration, Waker, EVENT_ANY};

/// How much is copied at once, each way.
const CHUNK: usize = 4096;

/// How often the host terminal's size is looked at, and the longest wait
/// for a wake-up.
const SIZE_CHECK: Duration = Duration::from_millis(500);

/// A flag a waker sets and the copying thread waits on.
#[derive(Default)]
struct Event {
    set: Mutex<bool>,
    cv: Condvar,
}

impl Waker for Event {
    fn wake(&self, _events: u32) {
        *self.set.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.cv.notify_one();
    }
}

impl Event {
    /// Waits until woken (or `limit` passes, as a guard against a lost
    /// wake-up), and clears the flag.
    fn wait(&self, limit: Duration) {
        let set = self.set.lock().unwrap_or_else(|e| e.into_inner());
        let (mut set, _) = self.cv.wait_timeout_while(set, limit, |s| !*s).unwrap_or_else(|e| e.into_inner());
        *set = false;
    }
}

/// A pair joined to a host terminal.
pub struct Bridge {
    term: Arc<Terminal>,
    host: Arc<HostFile>,
    /// Set when the copying has ended.
    done: Mutex<bool>,
    done_cv: Condvar,
}

impl Bridge {
    /// Makes a pair for `uid`, joins its master to `host` (a non-blocking
    /// host terminal, watched for readiness) and starts copying; returns
    /// the bridge and the pair's replica, opened (the process's stdio).
    pub fn start(ttys: &Arc<Ttys>, host: HostFile, uid: u32) -> Result<(Arc<Bridge>, Arc<ReplicaFile>), Errno> {
        if !host.is_tty() || host.wait_queue().is_none() {
            return Err(Errno::ENOTTY);
        }
        let term = ttys.new_pair(uid)?;
        let master = MasterFile::new(term.clone());
        term.lock().locked = false;
        let replica = ReplicaFile::open(term.clone())?;
        if let Some(ws) = host.host_winsize() {
            term.lock().winsize = ws;
        }
        let bridge = Arc::new(Bridge { term, host: Arc::new(host), done: Mutex::new(false), done_cv: Condvar::new() });
        let b = bridge.clone();
        std::thread::Builder::new()
            .name(format!("tty-bridge-{}", bridge.term.index))
            .spawn(move || {
                b.copy(&master);
                drop(master);
                *b.done.lock().unwrap_or_else(|e| e.into_inner()) = true;
                b.done_cv.notify_all();
            })
            .map_err(|_| Errno::EAGAIN)?;
        Ok((bridge, replica))
    }

    /// The sandbox's pair.
    pub fn terminal(&self) -> &Arc<Terminal> {
        &self.term
    }

    /// Takes the host terminal's window size again (it was resized).
    pub fn resize(&self) {
        if let Some(ws) = self.host.host_winsize() {
            self.term.resize(ws);
        }
    }

    /// Waits up to `limit` for the copying to end (the process exited: its
    /// last output reaches the host before its status does).
    pub fn wait_done(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut done = self.done.lock().unwrap_or_else(|e| e.into_inner());
        while !*done {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            done = self.done_cv.wait_timeout(done, left).unwrap_or_else(|e| e.into_inner()).0;
        }
        true
    }

    /// Copies both ways until either side is finished.
    fn copy(&self, master: &MasterFile) {
        let event = Arc::new(Event::default());
        let _on_master = Registration::new(&self.term.master_queue, EVENT_ANY, event.clone());
        let host_queue = self.host.wait_queue();
        let _on_host = host_queue.map(|q| Registration::new(q, EVENT_ANY, event.clone()));
        let mut inbound = Pending::default();
        let mut outbound = Pending::default();
        let mut sized = Instant::now();
        loop {
            let mut moved = false;
            // Keys: host to the sandbox's line discipline.
            if inbound.is_empty() {
                match inbound.fill(|b| self.host.read(b, 0)) {
                    Ok(0) => return,
                    Ok(_) => moved = true,
                    Err(Errno::EAGAIN) => {}
                    // EIO: the host side hung up.
                    Err(_) => return,
                }
            }
            if !inbound.is_empty() {
                match inbound.drain(|b| master.write(b, 0)) {
                    Ok(_) => moved = true,
                    Err(Errno::EAGAIN) => {}
                    Err(_) => return,
                }
            }
            // Output: the sandbox's terminal to the host.
            let mut replicas_gone = false;
            if outbound.is_empty() {
                match outbound.fill(|b| master.read(b, 0)) {
                    Ok(_) => moved = true,
                    Err(Errno::EAGAIN) => {}
                    // EIO: every replica is closed and the output is read.
                    Err(_) => replicas_gone = true,
                }
            }
            if !outbound.is_empty() {
                match outbound.drain(|b| self.host.write(b, 0)) {
                    Ok(_) => moved = true,
                    Err(Errno::EAGAIN) => {}
                    Err(_) => return,
                }
            }
            if replicas_gone && outbound.is_empty() {
                return;
            }
            if sized.elapsed() >= SIZE_CHECK {
                self.resize();
                sized = Instant::now();
            }
            if !moved {
                event.wait(SIZE_CHECK);
            }
        }
    }
}

/// Bytes read from one side and not yet written to the other.
struct Pending {
    buf: Box<[u8; CHUNK]>,
    start: usize,
    end: usize,
}

impl Default for Pending {
    fn default() -> Pending {
        Pending { buf: Box::new([0; CHUNK]), start: 0, end: 0 }
    }
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Reads into the empty buffer with `read`.
    fn fill(&mut self, read: impl FnOnce(&mut [u8]) -> Result<usize, Errno>) -> Result<usize, Errno> {
        let n = read(&mut self.buf[..])?;
        self.start = 0;
        self.end = n.min(CHUNK);
        Ok(n)
    }

    /// Writes what is pending with `write`, keeping what it did not take.
    fn drain(&mut self, write: impl FnOnce(&[u8]) -> Result<usize, Errno>) -> Result<usize, Errno> {
        let n = write(&self.buf[self.start..self.end])?;
        self.start = (self.start + n).min(self.end);
        Ok(n)
    }
}
