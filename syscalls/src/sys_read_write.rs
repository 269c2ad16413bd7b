//! read, write, readv, writev, pread64, pwrite64, preadv, pwritev.

use std::sync::Arc;

use sentry::abi::{Errno, Iovec};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::mm::TASK_SIZE;
use sentry::vfs::File;

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// UIO_MAXIOV.
const IOV_MAX: u64 = 1024;

/// access_ok(): the buffer must lie below the top of user memory.
fn access_ok(addr: u64, len: u64) -> Result<(), Errno> {
    match addr.checked_add(len) {
        Some(end) if end <= TASK_SIZE => Ok(()),
        _ => Err(Errno::EFAULT),
    }
}

fn read_at(task: &Task, f: &File, addr: u64, len: u64, off: Option<u64>) -> Result<usize, Errno> {
    if !f.readable() {
        return Err(Errno::EBADF);
    }
    access_ok(addr, len)?;
    let len = len.min(MAX_RW);
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
    access_ok(addr, len)?;
    let len = len.min(MAX_RW);
    if f.ops.discards() {
        return Ok(len as usize);
    }
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

/// Reads an iovec array as import_iovec does: negative lengths are
/// EINVAL, the total is capped at MAX_RW_COUNT, and each (capped) buffer
/// must pass access_ok.
fn iovecs(task: &Task, addr: u64, cnt: u64) -> Result<Vec<Iovec>, Errno> {
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

fn vectored(task: &Task, f: &File, iovs: &[Iovec], mut off: Option<u64>, write: bool) -> Result<usize, Errno> {
    if f.ops.discards() {
        return Ok(if write { iovs.iter().map(|i| i.len as usize).sum() } else { 0 });
    }
    let mut total = 0usize;
    for iov in iovs {
        if iov.len == 0 {
            continue;
        }
        let r =
            if write { write_at(task, f, iov.base, iov.len, off) } else { read_at(task, f, iov.base, iov.len, off) };
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
    let (f, off) = positional(t, a)?;
    Ok(read_at(t, &f, a.a[1], a.a[2], Some(off))? as u64)
}

/// pwrite64(2).
pub fn pwrite64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    Ok(write_at(t, &f, a.a[1], a.a[2], Some(off))? as u64)
}

/// readv(2).
pub fn readv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    vectored_file(&f, false)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, None, false)? as u64)
}

/// writev(2).
pub fn writev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    vectored_file(&f, true)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, None, true)? as u64)
}

/// preadv(2).
pub fn preadv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    vectored_file(&f, false)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, Some(off), false)? as u64)
}

/// pwritev(2).
pub fn pwritev(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, off) = positional(t, a)?;
    vectored_file(&f, true)?;
    let iovs = iovecs(t, a.a[1], a.a[2])?;
    Ok(vectored(t, &f, &iovs, Some(off), true)? as u64)
}
