//! Open file descriptions: a file's operations plus the state open(2)
//! creates (status flags, offset).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use crate::abi::{Errno, Stat};
use crate::mm::{MappedFile, MemoryManager};
use crate::vfs::{DirEntry, Location};

/// Who keeps a file's offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetMode {
    /// The sentry keeps it in the [`File`]; `read`/`write` get the offset.
    Sentry,
    /// A host fd shared with the outside keeps it (stdio redirected to a
    /// file): `read`/`write` use the host offset; lseek goes to the host.
    Host,
    /// Not seekable (pipes, ttys, most character devices): lseek gives
    /// ESPIPE.
    Stream,
    /// Offsets are accepted and meaningless (/dev/null, /dev/zero): reads
    /// and writes ignore them, pread works, lseek always gives 0.
    Noop,
}

/// What a kind of file does. Offsets are passed in; the [`File`] keeps them.
pub trait FileOps: Send + Sync {
    /// Reads at `off` (ignored unless [`OffsetMode::Sentry`]).
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno>;

    /// Writes at `off` (ignored unless [`OffsetMode::Sentry`]).
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// Metadata (without `dev`, which the caller fills for mounted files).
    fn stat(&self) -> Result<Stat, Errno>;

    /// How the offset is kept.
    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Sentry
    }

    /// Whether pread/pwrite work (false gives ESPIPE).
    fn positional(&self) -> bool {
        matches!(self.offset_mode(), OffsetMode::Sentry | OffsetMode::Noop)
    }

    /// pread at `off` (differs from `read` only for host-offset files).
    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.read(buf, off)
    }

    /// pwrite at `off` (differs from `write` only for host-offset files).
    fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.write(buf, off)
    }

    /// Whether lseek accepts only SEEK_SET and SEEK_CUR (generated files,
    /// like Linux's seq_file).
    fn seq_seek(&self) -> bool {
        false
    }

    /// statfs for files not on a sandbox mount (imported host fds).
    fn statfs(&self) -> Result<crate::abi::Statfs, Errno> {
        Err(Errno::ENOSYS)
    }

    /// For /dev/null: reads return 0 and writes succeed without touching
    /// the application's buffer at all.
    fn discards(&self) -> bool {
        false
    }

    /// Host lseek for [`OffsetMode::Host`] files.
    fn host_seek(&self, _off: i64, _whence: i32) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }

    /// SEEK_DATA (`data`) or SEEK_HOLE from `off`: the default treats the
    /// whole file as data, as Linux does for filesystems without holes.
    fn seek_data(&self, off: u64, data: bool) -> Result<u64, Errno> {
        let size = self.stat()?.size as u64;
        if off >= size {
            return Err(Errno::ENXIO);
        }
        Ok(if data { off } else { size })
    }

    /// Whether the contents cannot change while the sandbox runs (a file
    /// of the image's lower layer): private mappings may then share cached
    /// pages.
    fn unchanging(&self) -> bool {
        false
    }

    /// The memory-file pages of the file (see
    /// `crate::mm::MappedFile::shared_pages`), for files kept in sandbox
    /// memory.
    fn shared_pages(&self, _first: u64, _count: u64) -> Option<Result<Vec<u64>, Errno>> {
        None
    }

    /// Directory listing.
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// ioctl(2). `mm` gives access to the argument memory.
    fn ioctl(&self, _cmd: u32, _arg: u64, _mm: &MemoryManager) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }

    /// How long a blocking read waits before it returns 0 (a terminal in
    /// non-canonical mode with VTIME and no VMIN); `None`: until data.
    fn read_timeout(&self) -> Option<std::time::Duration> {
        None
    }

    /// Bytes readable without blocking (FIONREAD).
    fn readable_bytes(&self) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }

    /// The file as a mapping source (regular files only).
    fn mappable(self: Arc<Self>) -> Option<Arc<dyn MappedFile>> {
        None
    }

    /// The events of `mask` (POLLIN, POLLOUT...) that are ready now, plus
    /// POLLERR and POLLHUP if they hold. A file that never blocks is always
    /// ready to read and write.
    fn readiness(&self, mask: u32) -> u32 {
        mask & (crate::abi::poll::READ_EVENTS | crate::abi::poll::WRITE_EVENTS)
    }

    /// Where changes of readiness are announced, for files whose readiness
    /// changes (pipes, sockets, eventfds...). `None`: always ready.
    fn wait_queue(&self) -> Option<&crate::waiter::WaitQueue> {
        None
    }

    /// A new open file description of the same object, for opening it
    /// through `/proc/[pid]/fd/N` (pipes allow it; other anonymous files
    /// give ENXIO).
    fn reopen(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ENXIO)
    }

    /// The operations as `Any`, for syscalls that work on one kind of file
    /// (pidfds, eventfds...).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// Host status flags, for files whose O_APPEND/O_NONBLOCK live in a host
    /// file description shared with the outside.
    fn host_status_flags(&self) -> Option<u32> {
        None
    }

    /// A write that ignores O_APPEND (pwritev2's RWF_NOAPPEND), for a file
    /// whose O_APPEND is in the host description
    /// ([`FileOps::host_status_flags`]): at `off`, or at the host's offset.
    fn host_write_noappend(&self, _buf: &[u8], _off: Option<u64>) -> Result<usize, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// The type-specific lines of `/proc/[pid]/fdinfo/N`, after the
    /// common ones (an epoll's targets, an eventfd's count, a signalfd's
    /// mask), in Linux's format.
    fn fdinfo(&self) -> String {
        String::new()
    }

    /// Writes what the sentry holds of the file's contents (pages a
    /// shared mapping changed) back to where the file lives: msync.
    fn write_back(&self) -> Result<(), Errno> {
        Ok(())
    }

    /// fsync(2) (`data_only`: fdatasync): [`FileOps::write_back`], then the
    /// host's own sync for a file kept on the host.
    fn sync(&self, _data_only: bool) -> Result<(), Errno> {
        self.write_back()
    }

    /// The open file description is gone (its last reference dropped):
    /// for objects that others hold beyond it (a socket's peer).
    fn release(&self) {}

    /// A descriptor of it was closed by the current task (Linux's
    /// `flush`, called on every close).
    fn flush(&self) {}
}

/// An open file description.
pub struct File {
    /// The operations.
    pub ops: Arc<dyn FileOps>,
    flags: AtomicU32,
    offset: Mutex<u64>,
    /// Where it was opened (None for anonymous files and host stdio).
    pub location: Option<Location>,
    /// The name `/proc/[pid]/fd` shows.
    pub name: Vec<u8>,
    dir_cache: Mutex<Option<Arc<Vec<DirEntry>>>>,
    /// Set once it took a flock or OFD lock (released when it goes).
    locked: std::sync::atomic::AtomicBool,
    fasync: Mutex<crate::kernel::fasync::FileAsync>,
}

/// Flags that F_SETFL may change.
pub const SETFL_MASK: u32 =
    (libc::O_APPEND | libc::O_NONBLOCK | libc::O_ASYNC | libc::O_DIRECT | libc::O_NOATIME) as u32;

impl Drop for File {
    fn drop(&mut self) {
        if crate::fs::inotify::active() && !self.is_path() {
            if let Some(l) = &self.location {
                let m = if self.writable() {
                    crate::fs::inotify::IN_CLOSE_WRITE
                } else {
                    crate::fs::inotify::IN_CLOSE_NOWRITE
                };
                crate::fs::inotify::on_inode(l, m);
            }
        }
        if self.locked.load(Ordering::Relaxed) {
            if let Some(key) = self.lock_key() {
                crate::vfs::lock::release_file(key, self.lock_owner());
            }
        }
        // Only a file that has O_ASYNC on has a waker to take off.
        if self.flags.load(Ordering::Relaxed) & libc::O_ASYNC as u32 != 0 {
            crate::kernel::fasync::release(self);
        }
        crate::vfs::lease::release(self);
        self.ops.release();
    }
}

impl File {
    /// A new description with status `flags` (access mode included).
    pub fn new(ops: Arc<dyn FileOps>, flags: u32, location: Option<Location>, name: Vec<u8>) -> Arc<File> {
        Arc::new(File {
            ops,
            flags: AtomicU32::new(
                flags
                    & !(libc::O_CLOEXEC as u32
                        | libc::O_CREAT as u32
                        | libc::O_EXCL as u32
                        | libc::O_NOCTTY as u32
                        | libc::O_TRUNC as u32),
            ),
            offset: Mutex::new(0),
            location,
            name,
            dir_cache: Mutex::new(None),
            locked: std::sync::atomic::AtomicBool::new(false),
            fasync: Mutex::new(Default::default()),
        })
    }

    /// Which file locks apply to: (device, inode), for files opened by
    /// path.
    pub fn lock_key(&self) -> Option<crate::vfs::lock::LockKey> {
        let loc = self.location.as_ref()?;
        let ino = self.ops.stat().ok()?.ino;
        Some((loc.mount.dev, ino))
    }

    /// This description as a lock owner (flock and OFD locks); marks it as
    /// holding locks.
    pub fn lock_owner(&self) -> usize {
        self.locked.store(true, Ordering::Relaxed);
        self as *const File as usize
    }

    /// The signal-driven I/O settings (F_SETOWN, F_SETSIG, O_ASYNC).
    pub fn fasync(&self) -> std::sync::MutexGuard<'_, crate::kernel::fasync::FileAsync> {
        self.fasync.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Status flags (F_GETFL).
    pub fn flags(&self) -> u32 {
        let f = self.flags.load(Ordering::Relaxed);
        match self.ops.host_status_flags() {
            Some(h) => (f & !(libc::O_APPEND as u32)) | (h & libc::O_APPEND as u32),
            None => f,
        }
    }

    /// Sets the changeable status flags (F_SETFL).
    pub fn set_flags(&self, new: u32) {
        let old = self.flags.load(Ordering::Relaxed);
        self.flags.store((old & !SETFL_MASK) | (new & SETFL_MASK), Ordering::Relaxed);
    }

    /// The flags open(2) fixed for good (access mode, O_PATH): read from the
    /// description itself, never from the host, since every read and write
    /// checks them.
    fn fixed_flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    fn is_path(&self) -> bool {
        self.fixed_flags() & libc::O_PATH as u32 != 0
    }

    /// Opened for reading.
    pub fn readable(&self) -> bool {
        let acc = self.fixed_flags() & libc::O_ACCMODE as u32;
        !self.is_path() && (acc == libc::O_RDONLY as u32 || acc == libc::O_RDWR as u32)
    }

    /// Opened for writing.
    pub fn writable(&self) -> bool {
        let acc = self.fixed_flags() & libc::O_ACCMODE as u32;
        !self.is_path() && (acc == libc::O_WRONLY as u32 || acc == libc::O_RDWR as u32)
    }

    /// Opened with O_PATH.
    pub fn path_only(&self) -> bool {
        self.is_path()
    }

    /// O_NONBLOCK is set.
    pub fn nonblocking(&self) -> bool {
        self.flags() & libc::O_NONBLOCK as u32 != 0
    }

    /// Events ready now (see [`FileOps::readiness`]); an O_PATH file has
    /// none.
    pub fn readiness(&self, mask: u32) -> u32 {
        if self.is_path() {
            return crate::abi::poll::POLLNVAL;
        }
        self.ops.readiness(mask)
    }

    fn offset(&self) -> std::sync::MutexGuard<'_, u64> {
        self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reports an access (`write` false) or a change to inotify.
    fn notify(&self, write: bool, n: usize) {
        if n > 0 && crate::fs::inotify::active() {
            if let Some(l) = &self.location {
                let m = if write { crate::fs::inotify::IN_MODIFY } else { crate::fs::inotify::IN_ACCESS };
                crate::fs::inotify::on_inode(l, m);
            }
        }
    }

    /// read(2) into `buf` at the file offset.
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = self.read_inner(buf)?;
        self.notify(false, n);
        Ok(n)
    }

    fn read_inner(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        match self.ops.offset_mode() {
            OffsetMode::Sentry => {
                let mut off = self.offset();
                let n = self.ops.read(buf, *off)?;
                *off += n as u64;
                Ok(n)
            }
            _ => self.ops.read(buf, 0),
        }
    }

    /// write(2) from `buf` at the file offset (or the end with O_APPEND).
    pub fn write(&self, buf: &[u8]) -> Result<usize, Errno> {
        let n = self.write_inner(buf)?;
        self.notify(true, n);
        Ok(n)
    }

    fn write_inner(&self, buf: &[u8]) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        match self.ops.offset_mode() {
            OffsetMode::Sentry => {
                let mut off = self.offset();
                if self.flags() & libc::O_APPEND as u32 != 0 {
                    *off = self.ops.stat()?.size as u64;
                }
                let n = self.ops.write(buf, *off)?;
                *off += n as u64;
                Ok(n)
            }
            _ => self.ops.write(buf, 0),
        }
    }

    /// pread(2).
    pub fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if !self.ops.positional() {
            return Err(Errno::ESPIPE);
        }
        let n = self.ops.pread(buf, off)?;
        self.notify(false, n);
        Ok(n)
    }

    /// pwrite(2). (Linux ignores the offset with O_APPEND; so do we.)
    pub fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if !self.ops.positional() {
            return Err(Errno::ESPIPE);
        }
        let off = if self.flags() & libc::O_APPEND as u32 != 0 { self.ops.stat()?.size as u64 } else { off };
        let n = self.ops.pwrite(buf, off)?;
        self.notify(true, n);
        Ok(n)
    }

    /// A write that ignores O_APPEND (pwritev2 with RWF_NOAPPEND): at
    /// `off` (POSIX's pwrite), or at the file offset, which moves on.
    pub fn write_noappend(&self, buf: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if off.is_some() && !self.ops.positional() {
            return Err(Errno::ESPIPE);
        }
        let n = if self.ops.host_status_flags().is_some_and(|h| h & libc::O_APPEND as u32 != 0) {
            self.ops.host_write_noappend(buf, off)?
        } else {
            match (off, self.ops.offset_mode()) {
                (Some(o), _) => self.ops.pwrite(buf, o)?,
                (None, OffsetMode::Sentry) => {
                    let mut pos = self.offset();
                    let n = self.ops.write(buf, *pos)?;
                    *pos += n as u64;
                    n
                }
                (None, _) => self.ops.write(buf, 0)?,
            }
        };
        self.notify(true, n);
        Ok(n)
    }

    /// lseek(2).
    pub fn seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        if !(libc::SEEK_SET..=libc::SEEK_HOLE).contains(&whence) {
            return Err(Errno::EINVAL);
        }
        if self.ops.seq_seek() && whence != libc::SEEK_SET && whence != libc::SEEK_CUR {
            return Err(Errno::EINVAL);
        }
        match self.ops.offset_mode() {
            OffsetMode::Stream => Err(Errno::ESPIPE),
            OffsetMode::Noop => Ok(0),
            OffsetMode::Host => self.ops.host_seek(off, whence),
            OffsetMode::Sentry => {
                let mut cur = self.offset();
                let base: i64 = match whence {
                    libc::SEEK_SET => 0,
                    libc::SEEK_CUR => *cur as i64,
                    libc::SEEK_END => self.ops.stat()?.size,
                    libc::SEEK_DATA | libc::SEEK_HOLE => {
                        if off < 0 {
                            return Err(Errno::ENXIO);
                        }
                        let r = self.ops.seek_data(off as u64, whence == libc::SEEK_DATA)?;
                        *cur = r;
                        return Ok(r);
                    }
                    _ => return Err(Errno::EINVAL),
                };
                let new = base.checked_add(off).ok_or(Errno::EINVAL)?;
                if new < 0 {
                    return Err(Errno::EINVAL);
                }
                *cur = new as u64;
                if new == 0 {
                    // Rewinding a directory re-reads it.
                    *self.dir_cache.lock().unwrap_or_else(|e| e.into_inner()) = None;
                }
                Ok(new as u64)
            }
        }
    }

    /// Whether a read at `off` (or the file offset) is at end of file, so
    /// that it returns 0 without touching the buffer.
    pub fn at_eof(&self, off: Option<u64>) -> bool {
        match self.ops.offset_mode() {
            OffsetMode::Sentry => {
                let pos = off.unwrap_or_else(|| self.position());
                self.ops.stat().is_ok_and(|s| s.mode & libc::S_IFMT == libc::S_IFREG && pos >= s.size as u64)
            }
            OffsetMode::Stream => {
                let r = self.ops.readiness(crate::abi::poll::POLLIN);
                r & crate::abi::poll::POLLHUP != 0 && r & crate::abi::poll::POLLIN == 0
            }
            _ => false,
        }
    }

    /// The current offset (for FIONREAD).
    pub fn position(&self) -> u64 {
        *self.offset()
    }

    /// Metadata with the mount's device.
    pub fn stat(&self) -> Result<Stat, Errno> {
        let mut st = self.ops.stat()?;
        if let Some(loc) = &self.location {
            st.dev = loc.mount.dev;
        }
        Ok(st)
    }

    /// Directory entries from the current position, for getdents; `take`
    /// is called with each entry and its next offset until it returns false;
    /// the position advances past the entries taken.
    pub fn readdir_with(&self, mut take: impl FnMut(&DirEntry, u64) -> bool) -> Result<(), Errno> {
        if self.path_only() {
            return Err(Errno::EBADF);
        }
        let mut off = self.offset();
        let entries = {
            let mut cache = self.dir_cache.lock().unwrap_or_else(|e| e.into_inner());
            match &*cache {
                Some(e) if *off != 0 => e.clone(),
                _ => {
                    let e = Arc::new(self.ops.readdir()?);
                    *cache = Some(e.clone());
                    e
                }
            }
        };
        let mut i = *off as usize;
        while i < entries.len() {
            if !take(&entries[i], (i + 1) as u64) {
                break;
            }
            i += 1;
        }
        *off = i as u64;
        Ok(())
    }
}
