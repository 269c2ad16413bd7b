//! read, write, readv, writev, pread64, pwrite64, preadv, pwritev,
//! preadv2, pwritev2.

use std::sync::Arc;

use sentry::abi::poll::{READ_EVENTS, WRITE_EVENTS};
use sentry::abi::{Errno, Iovec};
use sentry::abi::{RWF_APPEND, RWF_DSYNC, RWF_HIPRI, RWF_NOAPPEND, RWF_NOWAIT, RWF_SYNC};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::mm::TASK_SIZE;
use sentry::vfs::File;

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// UIO_MAXIOV.
const IOV_MAX: u64 = 1024;

/// Checks that `[addr, addr+len)` is mapped (writable with `write`) before
/// a syscall commits to anything, like Linux's early copy checks.
pub(crate) fn check_user(t: &Task, addr: u64, len: u64, write: bool) -> Result<(), Errno> {
    access_ok(addr, len)?;
    let mut done = 0;
    while done < len {
        let n = if write {
            t.mm().io_into(addr + done, len - done, |b| Ok(b.len()))?
        } else {
            t.mm().io_from(addr + done, len - done, |b| Ok(b.len()))?
        };
        if n == 0 {
            return Err(Errno::EFAULT);
        }
        done += n as u64;
    }
    Ok(())
}

/// access_ok(): the buffer must lie below the top of user memory.
fn access_ok(addr: u64, len: u64) -> Result<(), Errno> {
    match addr.checked_add(len) {
        Some(end) if end <= TASK_SIZE => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

/// One read into `[addr, addr+len)` without blocking.
fn read_once(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    let mut pos = off;
    let r = task.mm().io_into(addr, len, |buf| match pos.as_mut() {
        Some(p) => {
            let n = f.pread(buf, *p)?;
            *p += n as u64;
            Ok(n)
        }
        None => f.read(buf),
    });
    match r {
        // Linux looks for end of file before it touches the buffer.
        Err(Errno::EFAULT) if f.at_eof(off) => Ok(0),
        r => r,
    }
}

pub(crate) fn read_at(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    read_at_mode(task, f, addr, len, off, true)
}

/// A read that blocks (if the file does) only with `block`.
fn read_at_mode(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>, block: bool) -> Result<usize, Errno> {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    access_ok(addr, len)?;
    let len = len.min(MAX_RW);
    if sentry::net::unix::UnixSocket::of(f).is_some() {
        return crate::sys_socket::read_socket(task, f, &[Iovec { base: addr, len }]);
    }
    if f.ops.discards() {
        return Ok(0);
    }
    if len == 0 {
        // Still ask the file: directories say EISDIR even for 0 bytes.
        return match off {
            Some(o) => f.pread(&mut [], o),
            None => f.read(&mut []),
        };
    }
    let deadline = f.ops.read_timeout().map(|d| std::time::Instant::now() + d);
    loop {
        match read_once(task, f, addr, len, off) {
            Err(Errno::EAGAIN) if block && !f.nonblocking() && f.ops.wait_queue().is_some() => {
                match task.wait_ready(f, READ_EVENTS, deadline) {
                    Err(Errno::ETIMEDOUT) => return Ok(0),
                    r => r?,
                }
            }
            r => return r,
        }
    }
}

pub(crate) fn write_at(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    write_at_mode(task, f, addr, len, off, false)
}

/// [`write_at`]; with `noappend` (pwritev2's RWF_NOAPPEND), O_APPEND is
/// ignored: the write goes to `off`, or to the file offset.
fn write_at_mode(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>, noappend: bool) -> Result<usize, Errno> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    access_ok(addr, len)?;
    let len = len.min(MAX_RW);
    if sentry::net::unix::UnixSocket::of(f).is_some() {
        return crate::sys_socket::write_socket(task, f, &[Iovec { base: addr, len }]);
    }
    if f.ops.discards() {
        return Ok(len as usize);
    }
    if len == 0 {
        return Ok(0);
    }
    // A stream (pipe, socket, tty) that blocks takes all of a blocking
    // write, a piece at a time; other files take what they take.
    let stream = f.ops.wait_queue().is_some();
    let mut done = 0u64;
    loop {
        let mut pos = off.map(|o| o + done);
        let r = task.mm().io_from(addr + done, len - done, |buf| match pos.as_mut() {
            _ if noappend => {
                let n = f.write_noappend(buf, pos)?;
                if let Some(p) = pos.as_mut() {
                    *p += n as u64;
                }
                Ok(n)
            }
            Some(p) => {
                let n = f.pwrite(buf, *p)?;
                *p += n as u64;
                Ok(n)
            }
            None => f.write(buf),
        });
        match r {
            Ok(n) => {
                done += n as u64;
                if done == len || !stream || f.nonblocking() {
                    return Ok(done as usize);
                }
            }
            Err(Errno::EAGAIN) if stream && !f.nonblocking() => {}
            Err(_) if done > 0 => return Ok(done as usize),
            Err(e) => {
                if e == Errno::EPIPE {
                    raise_sigpipe(task);
                }
                return Err(e);
            }
        }
        if let Err(e) = task.wait_ready(f, WRITE_EVENTS, None) {
            return if done > 0 { Ok(done as usize) } else { Err(e) };
        }
    }
}

/// Sends SIGPIPE to the task's thread group, for a write to a pipe or
/// stream with no reader left.
pub(crate) fn raise_sigpipe(task: &Task) {
    task.kernel.send_group_signal(
        &task.tg,
        sentry::abi::SigInfo::new(libc::SIGPIPE, sentry::abi::signal::SI_KERNEL),
        sentry::kernel::signal_send::Origin::Sandbox,
    );
}

/// Reads an iovec array as import_iovec does: negative lengths are
/// EINVAL, the total is capped at MAX_RW_COUNT, and each (capped) buffer
/// must pass access_ok.
pub(crate) fn iovecs(task: &Task, addr: u64, cnt: u64) -> Result<Vec<Iovec>, Errno> {
    if cnt as i32 as i64 > IOV_MAX as i64 || (cnt as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let cnt = cnt as i32 as u64;
    let mut raw: Vec<Iovec> = vec![Iovec::default(); cnt as usize];
    for (i, iov) in raw.iter_mut().enumerate() {
        *iov = task.copy_in(addr + i as u64 * 16)?;
    }
    let mut total: u64 = 0;
    for iov in &mut raw {
        if (iov.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        access_ok(iov.base, iov.len)?;
        iov.len = iov.len.min(MAX_RW - total);
        total += iov.len;
    }
    Ok(raw)
}

fn vectored(task: &Task, f: &File, iovs: &[Iovec], off: Option<u64>, write: bool) -> Result<usize, Errno> {
    let dir = if write { Dir::Write { noappend: false } } else { Dir::Read { may_wait: true } };
    vectored_mode(task, f, iovs, off, dir)
}

/// The direction of a vectored transfer, with its flags.
#[derive(Clone, Copy)]
enum Dir {
    /// A read; without `may_wait` (RWF_NOWAIT), it takes only what is
    /// there.
    Read { may_wait: bool },
    /// A write; with `noappend` (RWF_NOAPPEND), O_APPEND is ignored.
    Write { noappend: bool },
}

fn vectored_mode(task: &Task, f: &File, iovs: &[Iovec], mut off: Option<u64>, dir: Dir) -> Result<usize, Errno> {
    let write = matches!(dir, Dir::Write { .. });
    if sentry::net::unix::UnixSocket::of(f).is_some() {
        if !(if write { f.writable() } else { f.readable() }) {
            return Err(Errno::EBADF);
        }
        return if write {
            crate::sys_socket::write_socket(task, f, iovs)
        } else {
            crate::sys_socket::read_socket(task, f, iovs)
        };
    }
    if f.ops.discards() {
        return Ok(if write { iovs.iter().map(|i| i.len as usize).sum() } else { 0 });
    }
    let mut total = 0usize;
    for iov in iovs {
        if iov.len == 0 {
            continue;
        }
        // Only the first buffer may wait for data: later ones take what
        // is there.
        let r = match dir {
            Dir::Write { noappend } => write_at_mode(task, f, iov.base, iov.len, off, noappend),
            Dir::Read { may_wait } => read_at_mode(task, f, iov.base, iov.len, off, may_wait && total == 0),
        };
        match r {
            Ok(n) => {
                total += n;
                if let Some(o) = off.as_mut() {
                    *o += n as u64;
                }
                if (n as u64) < iov.len {
                    break;
                }
            }
            Err(e) if total == 0 => return Err(e),
            Err(_) => break,
        }
    }
    Ok(total)
}

fn offset(v: u64) -> Result<u64, Errno> {
    if (v as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(v)
}

/// The file and offset of a positional call (pread64, preadv, ...):
/// negative offsets are EINVAL, then ESPIPE for unseekable files, as in
/// ksys_pread64 (the access mode is checked later, by the read itself).
fn positional(t: &Task, a: &SyscallArgs) -> Result<(Arc<File>, u64), Errno> {
    let f = t.file(a.a[0] as i32)?;
    let off = offset(a.a[3])?;
    if f.path_only() {
        return Err(Errno::EBADF);
    }
    if !f.ops.positional() {
        return Err(Errno::ESPIPE);
    }
    Ok((f, off))
}

/// A file for readv/writev and friends, checked for the access mode.
fn vectored_file(f: &File, write: bool) -> Result<(), Errno> {
    if (write && !f.writable()) || (!write && !f.readable()) {
        return Err(Errno::EBADF);
    }
    Ok(())
}

/// Counts a read-like (`write` false) or write-like call that reached
/// the file, and the bytes it moved (/proc/[pid]/io's rchar, syscr...).
fn account(t: &Task, write: bool, r: Result<usize, Errno>) -> SyscallResult {
    t.shared.io.add(write, *r.as_ref().unwrap_or(&0) as u64);
    Ok(r? as u64)
}

/// read(2).
pub fn read(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    account(t, false, read_at(t, &f, a.a[1], a.a[2], None))
}

/// write(2).
pub fn write(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    account(t, true, write_at(t, &f, a.a[1], a.a[2], None))
}

/// pread64(2).
pub fn pread64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    account(t, false, read_at(t, &f, a.a[1], a.a[2], Some(off)))
}

/// pwrite64(2).
pub fn pwrite64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    account(t, true, write_at(t, &f, a.a[1], a.a[2], Some(off)))
}

/// readv(2).
pub fn readv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    vectored_file(&f, false)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    account(t, false, vectored(t, &f, &iovs, None, false))
}

/// writev(2).
pub fn writev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    vectored_file(&f, true)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    account(t, true, vectored(t, &f, &iovs, None, true))
}

/// preadv(2).
pub fn preadv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    vectored_file(&f, false)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    account(t, false, vectored(t, &f, &iovs, Some(off), false))
}

/// pwritev(2).
pub fn pwritev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    vectored_file(&f, true)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    account(t, true, vectored(t, &f, &iovs, Some(off), true))
}

/// preadv2/pwritev2: an offset of -1 means the file's own; RWF_NOWAIT
/// reads take only what is there (EAGAIN if nothing), RWF_APPEND writes go
/// to the end, RWF_NOAPPEND writes ignore O_APPEND (POSIX's pwrite), the
/// sync and priority hints change nothing here (writes are in the page
/// cache at once). Both append flags are EINVAL; reads ignore them. Other
/// flags (RWF_ATOMIC, RWF_DONTCACHE: no filesystem of ours has them) are
/// EOPNOTSUPP.
fn vectored2(t: &Task, a: &SyscallArgs, write: bool) -> SyscallResult {
    let flags = a.a[5];
    let f = t.file(a.a[0] as i32)?;
    if flags & !(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT | RWF_APPEND | RWF_NOAPPEND) != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    if flags & (RWF_APPEND | RWF_NOAPPEND) == RWF_APPEND | RWF_NOAPPEND {
        return Err(Errno::EINVAL.into());
    }
    let mut off = if a.a[3] as i64 == -1 {
        None
    } else {
        let (_, off) = positional(t, a)?;
        Some(off)
    };
    vectored_file(&f, write)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    let noappend = flags & RWF_NOAPPEND != 0;
    if write && flags & RWF_APPEND != 0 && f.ops.positional() {
        off = Some(f.stat()?.size as u64);
    }
    let dir = if write { Dir::Write { noappend } } else { Dir::Read { may_wait: flags & RWF_NOWAIT == 0 } };
    Ok(vectored_mode(t, &f, &iovs, off, dir)? as u64)
}

/// preadv2(2).
pub fn preadv2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let r = vectored2(t, a, false);
    t.shared.io.add(false, *r.as_ref().unwrap_or(&0));
    r
}

/// pwritev2(2).
pub fn pwritev2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let r = vectored2(t, a, true);
    t.shared.io.add(true, *r.as_ref().unwrap_or(&0));
    r
}
