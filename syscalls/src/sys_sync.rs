//! fsync, fdatasync, sync, syncfs, sync_file_range: the sandbox's files
//! live in sandbox memory or behind the gofer; fsync and fdatasync write a
//! volume file's mapped pages back and have the host sync the file, the
//! rest has nothing to wait for (the host kernel writes host files back);
//! the checks are Linux's.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

fn fd_check(t: &Task, fd: u64) -> Result<(), Errno> {
    let f = t.file(fd as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF);
    }
    Ok(())
}

/// fsync(2).
pub fn fsync(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    fd_check(t, a.a[0])?;
    t.file(a.a[0] as i32)?.ops.sync(false)?;
    Ok(0)
}

/// fdatasync(2).
pub fn fdatasync(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    fd_check(t, a.a[0])?;
    t.file(a.a[0] as i32)?.ops.sync(true)?;
    Ok(0)
}

/// sync(2).
pub fn sync(_t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(0)
}

/// syncfs(2).
pub fn syncfs(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    fd_check(t, a.a[0])?;
    Ok(0)
}

/// sync_file_range(2).
pub fn sync_file_range(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (off, len, flags) = (a.a[1] as i64, a.a[2] as i64, a.a[3] as u32);
    let known = libc::SYNC_FILE_RANGE_WAIT_BEFORE | libc::SYNC_FILE_RANGE_WRITE | libc::SYNC_FILE_RANGE_WAIT_AFTER;
    if flags & !known != 0 || off < 0 || len < 0 || off.checked_add(len).is_none() {
        return Err(Errno::EINVAL.into());
    }
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    if f.stat()?.mode & libc::S_IFMT == libc::S_IFIFO {
        return Err(Errno::ESPIPE.into());
    }
    Ok(0)
}
