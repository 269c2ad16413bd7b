//! read, write, readv, writev, pread64, pwrite64, preadv, pwritev.

use sentry::abi::{Errno, Iovec};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// UIO_MAXIOV.
const IOV_MAX: u64 = 1024;

fn read_at(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW);
    if len == 0 {
        return Ok(0);
    }
    let mut pos = off;
    task.mm().io_into(addr, len, |buf| match pos.as_mut() {
        Some(p) => {
            let n = f.pread(buf, *p)?;
            *p += n as u64;
            Ok(n)
        }
        None => f.read(buf),
    })
}

fn write_at(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    if !f.writable() {
        return Err(Errno::EBADF);
    }
    let len = len.min(MAX_RW);
    if len == 0 {
        return Ok(0);
    }
    let mut pos = off;
    task.mm().io_from(addr, len, |buf| match pos.as_mut() {
        Some(p) => {
            let n = f.pwrite(buf, *p)?;
            *p += n as u64;
            Ok(n)
        }
        None => f.write(buf),
    })
}

fn iovecs(task: &Task, addr: u64, cnt: u64) -> Result<Vec<Iovec>, Errno> {
    if cnt as i64 > IOV_MAX as i64 || (cnt as i64) < 0 {
        return Err(Errno::EINVAL);
    }
    let mut v = Vec::with_capacity(cnt as usize);
    let mut total: u64 = 0;
    for i in 0..cnt {
        let iov: Iovec = task.copy_in(addr + i * 16)?;
        if iov.len as i64 > i64::MAX || iov.len > isize::MAX as u64 {
            return Err(Errno::EINVAL);
        }
        total = total.checked_add(iov.len).filter(|&t| t <= isize::MAX as u64).ok_or(Errno::EINVAL)?;
        v.push(iov);
    }
    Ok(v)
}

fn vectored(task: &Task, f: &File, iovs: &[Iovec], mut off: Option<u64>, write: bool) -> Result<usize, Errno> {
    let mut total = 0usize;
    for iov in iovs {
        if iov.len == 0 {
            continue;
        }
        let r = if write { write_at(task, f, iov.base, iov.len, off) } else { read_at(task, f, iov.base, iov.len, off) };
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

/// read(2).
pub fn read(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    Ok(read_at(t, &f, a.a[1], a.a[2], None)? as u64)
}

/// write(2).
pub fn write(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    Ok(write_at(t, &f, a.a[1], a.a[2], None)? as u64)
}

/// pread64(2).
pub fn pread64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    let off = offset(a.a[3])?;
    if !f.readable() {
        return Err(Errno::EBADF.into());
    }
    if !f.ops.positional() {
        return Err(Errno::ESPIPE.into());
    }
    Ok(read_at(t, &f, a.a[1], a.a[2], Some(off))? as u64)
}

/// pwrite64(2).
pub fn pwrite64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    let off = offset(a.a[3])?;
    if !f.writable() {
        return Err(Errno::EBADF.into());
    }
    if !f.ops.positional() {
        return Err(Errno::ESPIPE.into());
    }
    Ok(write_at(t, &f, a.a[1], a.a[2], Some(off))? as u64)
}

/// readv(2).
pub fn readv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if !f.readable() {
        return Err(Errno::EBADF.into());
    }
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, None, false)? as u64)
}

/// writev(2).
pub fn writev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if !f.writable() {
        return Err(Errno::EBADF.into());
    }
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, None, true)? as u64)
}

/// preadv(2).
pub fn preadv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if !f.readable() {
        return Err(Errno::EBADF.into());
    }
    let off = offset(a.a[3])?;
    if !f.ops.positional() {
        return Err(Errno::ESPIPE.into());
    }
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, Some(off), false)? as u64)
}

/// pwritev(2).
pub fn pwritev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if !f.writable() {
        return Err(Errno::EBADF.into());
    }
    let off = offset(a.a[3])?;
    if !f.ops.positional() {
        return Err(Errno::ESPIPE.into());
    }
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, Some(off), true)? as u64)
}
