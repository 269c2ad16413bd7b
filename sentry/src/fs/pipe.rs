//! Pipes: a buffer between a read end and a write end, with Linux's
//! semantics: writes of at most PIPE_BUF bytes are atomic, a read with no
//! writer left sees end of file, a write with no reader left fails with
//! EPIPE (the syscall layer sends SIGPIPE), packet mode (O_DIRECT), and a
//! capacity F_SETPIPE_SZ can change. Neither end blocks here: both return
//! EAGAIN and announce readiness on the pipe's wait queue, and the syscall
//! layer blocks. splice and tee move bytes between two pipes under both
//! locks ([`transfer`]); splice to and from other files goes through
//! [`PipeEnd::room`], [`PipeEnd::push`], [`PipeEnd::take`] and
//! [`PipeEnd::unread`].

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::{Errno, Stat, Timespec};
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// PIPE_BUF: writes up to this size are atomic.
pub const PIPE_BUF: usize = 4096;
/// The default capacity (16 pages).
pub const DEFAULT_CAPACITY: usize = 65536;
/// /proc/sys/fs/pipe-max-size: the most an unprivileged F_SETPIPE_SZ may set.
pub const MAX_SIZE: usize = 1 << 20;

static NEXT_INO: AtomicU64 = AtomicU64::new(100_000);

struct State {
    buf: VecDeque<u8>,
    /// Packet lengths, in packet mode.
    packets: VecDeque<usize>,
    capacity: usize,
    readers: usize,
    writers: usize,
    /// Opens for reading and for writing so far (a FIFO's opener waits
    /// for the other count to move).
    read_opens: u64,
    write_opens: u64,
}

impl State {
    fn free(&self) -> usize {
        self.capacity.saturating_sub(self.buf.len())
    }

    /// Appends `parts`, as packets of at most PIPE_BUF bytes in packet
    /// mode.
    fn put(&mut self, parts: &[&[u8]], packet: bool) {
        let before = self.buf.len();
        for p in parts {
            self.buf.extend(*p);
        }
        if packet {
            let mut left = self.buf.len() - before;
            while left > 0 {
                let p = left.min(PIPE_BUF);
                self.packets.push_back(p);
                left -= p;
            }
        }
    }

    /// Removes the first `n` bytes, shortening a packet cut through.
    fn take(&mut self, n: usize) {
        self.buf.drain(..n);
        let mut left = n;
        while left > 0 {
            let Some(p) = self.packets.front_mut() else { break };
            if *p > left {
                *p -= left;
                break;
            }
            left -= *p;
            self.packets.pop_front();
        }
    }
}

/// What a move between two pipes found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transfer {
    /// This many bytes moved (0: the input has no writer left).
    Moved(usize),
    /// The input is empty and has a writer: wait for it to read.
    InputEmpty,
    /// The output is full: wait for it to write.
    OutputFull,
}

/// splice (`consume`) or tee between two different pipes: up to `len`
/// bytes of what `src` holds go to `dst`, under both locks, so nothing is
/// lost or reordered against other readers and writers. As Linux does, an
/// empty input is looked at before the output: with no writer left that
/// is end of file; then an output with no reader left is EPIPE.
pub fn transfer(src: &PipeEnd, dst: &PipeEnd, len: usize, consume: bool) -> Result<Transfer, Errno> {
    if Arc::ptr_eq(&src.pipe, &dst.pipe) {
        return Err(Errno::EINVAL);
    }
    // Lock in address order: two splices in opposite directions must not
    // deadlock.
    let src_first = Arc::as_ptr(&src.pipe) < Arc::as_ptr(&dst.pipe);
    let (mut a, mut b) = if src_first {
        let a = src.pipe.lock();
        (a, dst.pipe.lock())
    } else {
        let b = dst.pipe.lock();
        (src.pipe.lock(), b)
    };
    let (from, to) = (&mut *a, &mut *b);
    if from.buf.is_empty() {
        return Ok(if from.writers == 0 { Transfer::Moved(0) } else { Transfer::InputEmpty });
    }
    if to.readers == 0 {
        return Err(Errno::EPIPE);
    }
    let n = len.min(from.buf.len()).min(to.free());
    if n == 0 {
        return Ok(Transfer::OutputFull);
    }
    let (x, y) = from.buf.as_slices();
    let k = n.min(x.len());
    to.put(&[&x[..k], &y[..n - k]], dst.packet);
    if consume {
        from.take(n);
    }
    drop((a, b));
    dst.pipe.queue.notify(POLLIN | POLLRDNORM);
    if consume {
        src.pipe.queue.notify(POLLOUT | POLLWRNORM);
    }
    Ok(Transfer::Moved(n))
}

/// A pipe's shared state.
pub struct Pipe {
    state: Mutex<State>,
    queue: WaitQueue,
    ino: u64,
    ctime: Timespec,
}

impl Pipe {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The inode number (for `pipe:[N]` and fstat).
    pub fn ino(&self) -> u64 {
        self.ino
    }
}

/// One end of a pipe (one open file description); both ends for a pipe
/// opened read-write through /proc.
pub struct PipeEnd {
    pipe: Arc<Pipe>,
    read: bool,
    write: bool,
    packet: bool,
    /// For a FIFO: its inode (for stat) and the other side's open count
    /// when this end was opened.
    fifo: Option<(Arc<dyn crate::vfs::Inode>, Option<u64>)>,
}

/// A FIFO's pipe, with no end open yet (made at its first open).
pub fn new_fifo() -> Arc<Pipe> {
    let (r, _w) = new_pipe(false);
    let pipe = r.pipe.clone();
    {
        let mut s = pipe.lock();
        // The two ends just made are dropped below; start from nothing.
        s.read_opens = 0;
        s.write_opens = 0;
    }
    pipe
}

/// Opens an end of a FIFO's pipe for open(2) `flags`: a write-only,
/// non-blocking open with no reader fails with ENXIO. A blocking open
/// that must wait for the other side is told by [`PipeEnd::awaits_partner`].
pub fn open_fifo(pipe: &Arc<Pipe>, flags: u32, inode: Arc<dyn crate::vfs::Inode>) -> Result<Arc<PipeEnd>, Errno> {
    let acc = flags & libc::O_ACCMODE as u32;
    let read = acc == libc::O_RDONLY as u32 || acc == libc::O_RDWR as u32;
    let write = acc == libc::O_WRONLY as u32 || acc == libc::O_RDWR as u32;
    let mut s = pipe.lock();
    if write && !read && s.readers == 0 && flags & libc::O_NONBLOCK as u32 != 0 {
        return Err(Errno::ENXIO);
    }
    // Only an opener that finds no one on the other side waits, until
    // someone opens that side.
    let seen = match (read, write) {
        (true, false) if s.writers == 0 => Some(s.write_opens),
        (false, true) if s.readers == 0 => Some(s.read_opens),
        _ => None,
    };
    if read {
        s.readers += 1;
        s.read_opens += 1;
    }
    if write {
        s.writers += 1;
        s.write_opens += 1;
    }
    drop(s);
    pipe.queue.notify(POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM | POLLHUP);
    Ok(Arc::new(PipeEnd { pipe: pipe.clone(), read, write, packet: false, fifo: Some((inode, seen)) }))
}

/// A new pipe: (read end, write end). `packet`: O_DIRECT.
pub fn new_pipe(packet: bool) -> (Arc<PipeEnd>, Arc<PipeEnd>) {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let pipe = Arc::new(Pipe {
        state: Mutex::new(State {
            buf: VecDeque::new(),
            packets: VecDeque::new(),
            capacity: DEFAULT_CAPACITY,
            readers: 1,
            writers: 1,
            read_opens: 1,
            write_opens: 1,
        }),
        queue: WaitQueue::new(),
        ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
        ctime: Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 },
    });
    (
        Arc::new(PipeEnd { pipe: pipe.clone(), read: true, write: false, packet, fifo: None }),
        Arc::new(PipeEnd { pipe, read: false, write: true, packet, fifo: None }),
    )
}

impl PipeEnd {
    /// Whether this FIFO end, opened only for reading or only for writing,
    /// still waits for the other side's first open since (open(2) blocks
    /// until then unless O_NONBLOCK).
    pub fn awaits_partner(&self) -> bool {
        let Some((_, Some(seen))) = &self.fifo else { return false };
        let s = self.pipe.lock();
        let now = if self.read { s.write_opens } else { s.read_opens };
        now == *seen
    }

    /// The pipe's wait queue.
    pub fn queue(&self) -> &WaitQueue {
        &self.pipe.queue
    }

    /// The pipe.
    pub fn pipe(&self) -> &Arc<Pipe> {
        &self.pipe
    }

    /// F_GETPIPE_SZ.
    pub fn capacity(&self) -> usize {
        self.pipe.lock().capacity
    }

    /// F_SETPIPE_SZ: rounds up to a power-of-two number of pages; EBUSY if
    /// the data already in the pipe would not fit; EPERM past the
    /// unprivileged limit unless `privileged`.
    pub fn set_capacity(&self, want: u64, privileged: bool) -> Result<usize, Errno> {
        if want > i32::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        let pages = (want as usize).div_ceil(4096).max(1).next_power_of_two();
        let size = pages * 4096;
        if size > MAX_SIZE && !privileged {
            return Err(Errno::EPERM);
        }
        let mut s = self.pipe.lock();
        if s.buf.len() > size {
            return Err(Errno::EBUSY);
        }
        s.capacity = size;
        drop(s);
        self.pipe.queue.notify(POLLOUT | POLLWRNORM);
        Ok(size)
    }

    /// Bytes waiting to be read (FIONREAD).
    pub fn available(&self) -> usize {
        self.pipe.lock().buf.len()
    }

    /// Room for a splice into this end: the free bytes (0: wait for a
    /// reader to make some), or EPIPE with no reader left.
    pub fn room(&self) -> Result<usize, Errno> {
        let s = self.pipe.lock();
        if s.readers == 0 {
            return Err(Errno::EPIPE);
        }
        Ok(s.free())
    }

    /// Appends what a splice read after [`PipeEnd::room`] said there was
    /// room (a racing writer may have taken some: the pipe then holds a
    /// little more than its capacity until it is read).
    pub fn push(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.pipe.lock().put(&[data], self.packet);
        self.pipe.queue.notify(POLLIN | POLLRDNORM);
    }

    /// Takes up to `len` bytes for a splice out of this end, as a byte
    /// stream even in packet mode (a packet cut through keeps its rest).
    /// Empty with a writer: EAGAIN; with none: no bytes.
    pub fn take(&self, len: usize) -> Result<Vec<u8>, Errno> {
        let mut s = self.pipe.lock();
        if s.buf.is_empty() {
            return if s.writers == 0 { Ok(Vec::new()) } else { Err(Errno::EAGAIN) };
        }
        let n = len.min(s.buf.len());
        let out: Vec<u8> = s.buf.range(..n).copied().collect();
        s.take(n);
        drop(s);
        self.pipe.queue.notify(POLLOUT | POLLWRNORM);
        Ok(out)
    }

    /// Puts back at the front what [`PipeEnd::take`] took and the output
    /// did not accept.
    pub fn unread(&self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut s = self.pipe.lock();
        for &b in data.iter().rev() {
            s.buf.push_front(b);
        }
        if self.packet {
            s.packets.push_front(data.len());
        }
        drop(s);
        self.pipe.queue.notify(POLLIN | POLLRDNORM);
    }

    /// Sets packet mode (F_SETFL with O_DIRECT).
    pub fn is_packet(&self) -> bool {
        self.packet
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        let mut s = self.pipe.lock();
        if self.write {
            s.writers -= 1;
        }
        if self.read {
            s.readers -= 1;
        }
        drop(s);
        self.pipe.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDNORM | POLLWRNORM);
    }
}

impl FileOps for PipeEnd {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        if !self.read {
            return Err(Errno::EBADF);
        }
        let mut s = self.pipe.lock();
        if s.buf.is_empty() {
            return if s.writers == 0 { Ok(0) } else { Err(Errno::EAGAIN) };
        }
        let n = if self.packet && !s.packets.is_empty() {
            let p = s.packets.pop_front().unwrap_or(0);
            let n = buf.len().min(p);
            for (i, b) in s.buf.drain(..p).enumerate() {
                if i < n {
                    buf[i] = b;
                }
            }
            n
        } else {
            let n = buf.len().min(s.buf.len());
            let (a, b) = s.buf.as_slices();
            let k = n.min(a.len());
            buf[..k].copy_from_slice(&a[..k]);
            buf[k..n].copy_from_slice(&b[..n - k]);
            s.buf.drain(..n);
            n
        };
        drop(s);
        if n > 0 || buf.is_empty() {
            self.pipe.queue.notify(POLLOUT | POLLWRNORM);
        }
        Ok(n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        if !self.write {
            return Err(Errno::EBADF);
        }
        let mut s = self.pipe.lock();
        if s.readers == 0 {
            return Err(Errno::EPIPE);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let free = s.free();
        // Up to PIPE_BUF bytes go in at once or not at all.
        let n = if buf.len() <= PIPE_BUF {
            if free < buf.len() {
                return Err(Errno::EAGAIN);
            }
            buf.len()
        } else {
            if free == 0 {
                return Err(Errno::EAGAIN);
            }
            buf.len().min(free)
        };
        s.put(&[&buf[..n]], self.packet);
        drop(s);
        self.pipe.queue.notify(POLLIN | POLLRDNORM);
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        if let Some((inode, _)) = &self.fifo {
            return inode.stat();
        }
        Ok(Stat {
            ino: self.pipe.ino,
            nlink: 1,
            mode: libc::S_IFIFO | 0o600,
            blksize: 4096,
            atime: self.pipe.ctime,
            mtime: self.pipe.ctime,
            ctime: self.pipe.ctime,
            dev: crate::abi::dev_make(0, 12),
            ..Default::default()
        })
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Ok(self.available() as u64)
    }

    fn readiness(&self, mask: u32) -> u32 {
        let s = self.pipe.lock();
        let mut r = 0;
        if self.write {
            if s.readers == 0 {
                r |= POLLERR;
            }
            if s.capacity.saturating_sub(s.buf.len()) >= PIPE_BUF.min(s.capacity) {
                r |= POLLOUT | POLLWRNORM;
            }
        }
        if self.read {
            if !s.buf.is_empty() {
                r |= POLLIN | POLLRDNORM;
            }
            if s.writers == 0 {
                r |= POLLHUP;
            }
        }
        r & (mask | POLLERR | POLLHUP)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.pipe.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn reopen(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let acc = flags & libc::O_ACCMODE as u32;
        let read = acc == libc::O_RDONLY as u32 || acc == libc::O_RDWR as u32;
        let write = acc == libc::O_WRONLY as u32 || acc == libc::O_RDWR as u32;
        let mut s = self.pipe.lock();
        if write && !read && s.readers == 0 && flags & libc::O_NONBLOCK as u32 != 0 {
            // A FIFO opened for writing with no reader.
            return Err(Errno::ENXIO);
        }
        if read {
            s.readers += 1;
        }
        if write {
            s.writers += 1;
        }
        if read {
            s.read_opens += 1;
        }
        if write {
            s.write_opens += 1;
        }
        Ok(Arc::new(PipeEnd { pipe: self.pipe.clone(), read, write, packet: self.packet, fifo: None }))
    }

    fn ioctl(&self, cmd: u32, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        if cmd as u64 == libc::FIONREAD {
            mm.copy_out_obj(arg, &(self.available() as i32))?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }
}
