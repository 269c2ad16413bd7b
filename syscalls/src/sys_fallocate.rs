//! fallocate(2): allocation, KEEP_SIZE, PUNCH_HOLE and ZERO_RANGE, in
//! Linux's order of checks (vfs_fallocate).

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::FileType;

/// fallocate(2).
pub fn fallocate(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (mode, off, len) = (a.a[1] as i32, a.a[2] as i64, a.a[3] as i64);
    let f = t.file(a.a[0] as i32)?;
    if off < 0 || len <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let known = libc::FALLOC_FL_KEEP_SIZE
        | libc::FALLOC_FL_PUNCH_HOLE
        | libc::FALLOC_FL_ZERO_RANGE
        | libc::FALLOC_FL_COLLAPSE_RANGE
        | libc::FALLOC_FL_INSERT_RANGE
        | libc::FALLOC_FL_UNSHARE_RANGE;
    if mode & !known != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let punch = mode & libc::FALLOC_FL_PUNCH_HOLE != 0;
    if punch && mode & libc::FALLOC_FL_KEEP_SIZE == 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    if punch && mode & libc::FALLOC_FL_ZERO_RANGE != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    if !f.writable() {
        return Err(Errno::EBADF.into());
    }
    if f.flags() & libc::O_APPEND as u32 != 0 && (punch || mode & libc::FALLOC_FL_ZERO_RANGE != 0) {
        return Err(Errno::EPERM.into());
    }
    let Some(loc) = &f.location else { return Err(Errno::ENODEV.into()) };
    match loc.dentry.inode.file_type() {
        FileType::Regular => {}
        FileType::Directory => return Err(Errno::EISDIR.into()),
        FileType::Fifo => return Err(Errno::ESPIPE.into()),
        _ => return Err(Errno::ENODEV.into()),
    }
    if off.checked_add(len).is_none() {
        return Err(Errno::EFBIG.into());
    }
    if mode & (libc::FALLOC_FL_COLLAPSE_RANGE | libc::FALLOC_FL_INSERT_RANGE | libc::FALLOC_FL_UNSHARE_RANGE) != 0 {
        return Err(Errno::EOPNOTSUPP.into());
    }
    loc.dentry.inode.allocate(mode as u32, off as u64, len as u64)?;
    Ok(0)
}
