//! Files backed by a host fd: stdio handed to the sandbox, and regular files
//! the gofer donated. The sentry reads and writes them directly.
//!
//! Pipes, ttys and sockets among them are non-blocking on the host (runsc
//! reopens stdio pipes and ttys as descriptions of their own): reads and
//! writes return EAGAIN, readiness comes from `host_notify`, and the
//! syscall layer blocks the task as for any file.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use crate::abi::{Errno, Stat, Termios, Winsize};
use crate::fs::host_notify;
use crate::fs::stat_from_host;
use crate::mm::MemoryManager;
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// A file whose data lives behind a host fd.
pub struct HostFile {
    fd: Arc<OwnedFd>,
    mode: OffsetMode,
    tty: bool,
    socket: bool,
    /// Set when the fd is non-blocking and watched for readiness.
    queue: Option<Arc<WaitQueue>>,
    /// The sandbox node it is seen as (the host console as /dev/console or
    /// /dev/tty): stat gives that node's identity, with the host's times.
    shown_as: Option<Stat>,
}

/// Runs a host I/O call until it is not interrupted.
fn retry(mut call: impl FnMut() -> isize) -> Result<usize, Errno> {
    loop {
        let r = call();
        if r >= 0 {
            return Ok(r as usize);
        }
        let e = Errno::last_host();
        if e != Errno::EINTR {
            return Err(e);
        }
    }
}

impl HostFile {
    /// A donated regular file: the sentry keeps the offset and uses pread.
    pub fn regular(fd: Arc<OwnedFd>) -> HostFile {
        HostFile { fd, mode: OffsetMode::Sentry, tty: false, socket: false, queue: None, shown_as: None }
    }

    /// An fd imported from the host (stdio). A regular file's offset and
    /// O_APPEND stay in the host description, shared with the outside.
    /// `nonblocking` says the fd is a non-blocking description of its own
    /// (a reopened pipe or tty), which is then watched for readiness;
    /// sockets are always used without blocking.
    pub fn import(fd: OwnedFd, nonblocking: bool) -> HostFile {
        let raw = fd.as_raw_fd();
        // SAFETY: stat is plain data; zeroed is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on an fd we own into a valid out-pointer.
        let ok = unsafe { libc::fstat(raw, &mut st) } == 0;
        let fmt = if ok { st.st_mode & libc::S_IFMT } else { 0 };
        // SAFETY: isatty has no memory preconditions.
        let tty = unsafe { libc::isatty(raw) } == 1;
        let socket = fmt == libc::S_IFSOCK;
        let mode = if fmt == libc::S_IFREG { OffsetMode::Host } else { OffsetMode::Stream };
        let mut queue = None;
        if nonblocking || socket {
            let q = Arc::new(WaitQueue::new());
            if host_notify::watch(raw, &q) {
                queue = Some(q);
            }
        }
        HostFile { fd: Arc::new(fd), mode, tty, socket, queue, shown_as: None }
    }

    fn raw(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Whether the host fd is a terminal.
    pub fn is_tty(&self) -> bool {
        self.tty
    }

    /// The same host file (one host description), seen as the sandbox
    /// node `node` if given (its stat is that node's, with the host's
    /// times): the host console opened as /dev/console or /dev/tty, or a
    /// stdio fd on it.
    pub fn alias(&self, node: Option<Stat>) -> HostFile {
        HostFile {
            fd: self.fd.clone(),
            mode: self.mode,
            tty: self.tty,
            socket: self.socket,
            queue: self.queue.clone(),
            shown_as: node,
        }
    }

    /// The host socket behind `f`, if it is one (passed in as stdio or by
    /// `--preserve-fds`: socket activation). The sentry serves the socket
    /// calls on it: accept, names, shutdown, send and receive.
    pub fn socket_of(f: &crate::vfs::File) -> Option<&HostFile> {
        f.ops.as_any()?.downcast_ref::<HostFile>().filter(|h| h.socket)
    }

    /// accept4 on the host socket, without blocking: the connection (a
    /// host socket of its own, watched for readiness) and its peer's
    /// address as the host gives it. EAGAIN when none is waiting.
    pub fn accept(&self) -> Result<(HostFile, Vec<u8>), Errno> {
        let mut addr = [0u8; 128];
        let mut len = addr.len() as libc::socklen_t;
        // SAFETY: `addr` is writable for `len` bytes, which accept4 updates.
        let fd = retry(|| unsafe {
            libc::accept4(self.raw(), addr.as_mut_ptr().cast(), &mut len, libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
                as isize
        })?;
        // SAFETY: accept4 returned a fresh fd that we now own.
        let conn = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(fd as i32) };
        let n = (len as usize).min(addr.len());
        Ok((HostFile::import(conn, true), addr[..n].to_vec()))
    }

    /// The host socket's own address (getsockname) or, with `peer`, its
    /// peer's (getpeername), as the host gives it.
    pub fn socket_name(&self, peer: bool) -> Result<Vec<u8>, Errno> {
        let mut addr = [0u8; 128];
        let mut len = addr.len() as libc::socklen_t;
        // SAFETY: `addr` is writable for `len` bytes, which the call updates.
        let r = unsafe {
            if peer {
                libc::getpeername(self.raw(), addr.as_mut_ptr().cast(), &mut len)
            } else {
                libc::getsockname(self.raw(), addr.as_mut_ptr().cast(), &mut len)
            }
        };
        if r != 0 {
            return Err(Errno::last_host());
        }
        Ok(addr[..(len as usize).min(addr.len())].to_vec())
    }

    /// An int-valued option of the host socket (getsockopt).
    pub fn int_option(&self, level: i32, opt: i32) -> Result<i32, Errno> {
        let mut v: libc::c_int = 0;
        let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `v` is writable for `len` bytes, which getsockopt updates.
        let r = unsafe { libc::getsockopt(self.raw(), level, opt, std::ptr::from_mut(&mut v).cast(), &mut len) };
        if r != 0 {
            return Err(Errno::last_host());
        }
        Ok(v)
    }

    /// Sets an int-valued option of the host socket (setsockopt).
    pub fn set_int_option(&self, level: i32, opt: i32, v: i32) -> Result<(), Errno> {
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `v` is readable for `len` bytes.
        let r = unsafe { libc::setsockopt(self.raw(), level, opt, std::ptr::from_ref(&v).cast(), len) };
        if r != 0 {
            return Err(Errno::last_host());
        }
        Ok(())
    }

    /// shutdown(2) of the host socket.
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        // SAFETY: shutdown takes no pointers.
        if unsafe { libc::shutdown(self.raw(), how) } != 0 {
            return Err(Errno::last_host());
        }
        Ok(())
    }

    /// recv on the host socket with `flags` (never blocking).
    pub fn recv(&self, buf: &mut [u8], flags: i32) -> Result<usize, Errno> {
        // SAFETY: `buf` is writable for its length; no address is asked for.
        retry(|| unsafe {
            libc::recvfrom(
                self.raw(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                flags | libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        })
    }

    /// send on the host socket with `flags` (never blocking, never raising
    /// SIGPIPE in the sentry: the caller raises it in the sandbox).
    pub fn send(&self, buf: &[u8], flags: i32) -> Result<usize, Errno> {
        // SAFETY: `buf` is readable for its length; no address is given.
        retry(|| unsafe {
            libc::sendto(
                self.raw(),
                buf.as_ptr().cast(),
                buf.len(),
                flags | libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                std::ptr::null(),
                0,
            )
        })
    }

    /// The host inode number (for `socket:[N]`).
    pub fn host_ino(&self) -> u64 {
        // SAFETY: stat is plain data; zeroed is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on our fd into a valid out-pointer.
        if unsafe { libc::fstat(self.raw(), &mut st) } == 0 {
            st.st_ino
        } else {
            0
        }
    }

    /// The window size of a host terminal (TIOCGWINSZ), if it is one.
    pub fn host_winsize(&self) -> Option<Winsize> {
        let mut ws = Winsize::default();
        // SAFETY: TIOCGWINSZ writes one struct winsize, which `ws` is (the
        // abi layout test checks the sizes match).
        let r = unsafe { libc::ioctl(self.raw(), libc::TIOCGWINSZ, std::ptr::from_mut(&mut ws)) };
        (r == 0).then_some(ws)
    }

    /// The host's device number of a device file, to tell whether two
    /// stdio fds are one terminal.
    pub fn host_rdev(&self) -> Option<u64> {
        // SAFETY: stat is plain data; zeroed is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on our fd into a valid out-pointer.
        (unsafe { libc::fstat(self.raw(), &mut st) } == 0).then_some(st.st_rdev)
    }

    fn ioctl_struct<T: crate::abi::Pod>(
        &self,
        cmd: u64,
        arg: u64,
        mm: &MemoryManager,
        copy_in: bool,
    ) -> Result<u64, Errno> {
        let mut v = if copy_in { mm.copy_in_obj::<T>(arg)? } else { T::default() };
        // SAFETY: `v` is a properly sized, writable struct for this request.
        let r = unsafe { libc::ioctl(self.raw(), cmd, v.as_bytes_mut().as_mut_ptr()) };
        if r < 0 {
            return Err(Errno::last_host());
        }
        if !copy_in {
            mm.copy_out_obj(arg, &v)?;
        }
        Ok(r as u64)
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        if self.queue.is_some() && Arc::strong_count(&self.fd) == 1 {
            host_notify::unwatch(self.raw());
        }
    }
}

impl FileOps for HostFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        if self.mode == OffsetMode::Sentry {
            return self.pread(buf, off);
        }
        if self.socket {
            // SAFETY: `buf` is writable for its length; no address is asked for.
            return retry(|| unsafe {
                libc::recvfrom(
                    self.raw(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            });
        }
        // SAFETY: `buf` is writable for its length.
        retry(|| unsafe { libc::read(self.raw(), buf.as_mut_ptr().cast(), buf.len()) })
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        if self.mode == OffsetMode::Sentry {
            return self.pwrite(buf, off);
        }
        if self.socket {
            // SAFETY: `buf` is readable for its length; no address is given.
            return retry(|| unsafe {
                libc::sendto(
                    self.raw(),
                    buf.as_ptr().cast(),
                    buf.len(),
                    libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
                    std::ptr::null(),
                    0,
                )
            });
        }
        // SAFETY: `buf` is readable for its length.
        retry(|| unsafe { libc::write(self.raw(), buf.as_ptr().cast(), buf.len()) })
    }

    fn readiness(&self, mask: u32) -> u32 {
        if self.queue.is_none() {
            return mask & (crate::abi::poll::READ_EVENTS | crate::abi::poll::WRITE_EVENTS);
        }
        host_notify::poll_now(self.raw(), mask) & (mask | crate::abi::poll::POLLERR | crate::abi::poll::POLLHUP)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        self.queue.as_deref()
    }

    fn stat(&self) -> Result<Stat, Errno> {
        // SAFETY: stat is plain data; zeroed is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on our fd into a valid out-pointer.
        if unsafe { libc::fstat(self.raw(), &mut st) } != 0 {
            return Err(Errno::last_host());
        }
        let host = stat_from_host(&st);
        Ok(match self.shown_as {
            Some(node) => Stat { atime: host.atime, mtime: host.mtime, ctime: host.ctime, ..node },
            None => host,
        })
    }

    fn offset_mode(&self) -> OffsetMode {
        self.mode
    }

    fn positional(&self) -> bool {
        matches!(self.mode, OffsetMode::Sentry | OffsetMode::Host)
    }

    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        // SAFETY: `buf` is writable for its length.
        retry(|| unsafe { libc::pread(self.raw(), buf.as_mut_ptr().cast(), buf.len(), off as i64) })
    }

    fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        // SAFETY: `buf` is readable for its length.
        retry(|| unsafe { libc::pwrite(self.raw(), buf.as_ptr().cast(), buf.len(), off as i64) })
    }

    fn host_seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        // SAFETY: lseek on our fd.
        let r = unsafe { libc::lseek(self.raw(), off, whence) };
        if r < 0 {
            return Err(Errno::last_host());
        }
        Ok(r as u64)
    }

    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        // Only a donated regular file is the sandbox's to sync; stdio's
        // belong to the outside.
        if self.mode != OffsetMode::Sentry {
            return Ok(());
        }
        // SAFETY: fsync/fdatasync on our fd.
        let r = unsafe {
            if data_only {
                libc::fdatasync(self.raw())
            } else {
                libc::fsync(self.raw())
            }
        };
        if r != 0 {
            return Err(Errno::last_host());
        }
        Ok(())
    }

    fn host_write_noappend(&self, buf: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        let iov = libc::iovec { iov_base: buf.as_ptr() as *mut libc::c_void, iov_len: buf.len() };
        let at = off.map_or(-1, |o| o as i64);
        // SAFETY: `iov` describes `buf`, readable for its length, for one
        // pwritev2 on our fd (RWF_NOAPPEND: an old host gives EOPNOTSUPP,
        // as an old Linux would).
        retry(|| unsafe { libc::pwritev2(self.raw(), &iov, 1, at, crate::abi::RWF_NOAPPEND as i32) })
    }

    fn host_status_flags(&self) -> Option<u32> {
        // Only a regular file's O_APPEND lives in the host description
        // (shared with the outside); a stream's flags are the sandbox's.
        if self.mode != OffsetMode::Host {
            return None;
        }
        // SAFETY: F_GETFL on our fd.
        let f = unsafe { libc::fcntl(self.raw(), libc::F_GETFL) };
        (f >= 0).then_some(f as u32)
    }

    fn ioctl(&self, cmd: u32, arg: u64, mm: &MemoryManager) -> Result<u64, Errno> {
        let cmd64 = cmd as u64;
        match cmd64 {
            libc::FIONREAD => {
                if self.mode == OffsetMode::Sentry {
                    return Err(Errno::ENOTTY);
                }
                self.ioctl_struct::<i32>(cmd64, arg, mm, false)
            }
            _ if !self.tty => Err(Errno::ENOTTY),
            libc::TCGETS => self.ioctl_struct::<Termios>(cmd64, arg, mm, false),
            libc::TCSETS | libc::TCSETSW | libc::TCSETSF => self.ioctl_struct::<Termios>(cmd64, arg, mm, true),
            libc::TIOCGWINSZ => self.ioctl_struct::<Winsize>(cmd64, arg, mm, false),
            libc::TIOCSWINSZ => self.ioctl_struct::<Winsize>(cmd64, arg, mm, true),
            // Job control (TIOCGPGRP, TIOCSPGRP...) is the sandbox's own:
            // the syscall layer answers it from the console's state.
            _ => Err(Errno::ENOTTY),
        }
    }

    fn statfs(&self) -> Result<crate::abi::Statfs, Errno> {
        let mut s = crate::abi::Statfs::default();
        // SAFETY: fstatfs writes a struct statfs, which `Statfs` mirrors
        // (size asserted in abi).
        let r = unsafe { libc::syscall(libc::SYS_fstatfs, self.raw(), &mut s as *mut crate::abi::Statfs) };
        if r != 0 {
            return Err(Errno::last_host());
        }
        Ok(s)
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Err(Errno::ENOTTY)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// Makes the host terminal on `fd` the controlling terminal of the calling
/// process, a session leader without one (TIOCSCTTY, not stealing it from
/// another session), so that the host's line discipline signals this
/// process for the terminal's keys and resizes. runsc forwards those.
pub fn control_host_terminal(fd: std::os::fd::BorrowedFd<'_>) -> std::io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument (0: do not steal); no
    // memory is passed.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY, 0) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
