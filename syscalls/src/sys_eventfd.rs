//! eventfd, eventfd2.

use std::sync::Arc;

use sentry::abi::Errno;
use sentry::fs::eventfd::EventFd;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

const EFD_SEMAPHORE: i32 = 1;

fn create(t: &mut Task, initval: u64, flags: i32) -> SyscallResult {
    if flags & !(libc::EFD_CLOEXEC | libc::EFD_NONBLOCK | EFD_SEMAPHORE) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let e = Arc::new(EventFd::new(initval as u32 as u64, flags & EFD_SEMAPHORE != 0));
    let status = libc::O_RDWR as u32 | (flags & libc::EFD_NONBLOCK) as u32;
    let f = File::new(e, status, None, b"anon_inode:[eventfd]".to_vec());
    Ok(t.fds.insert(f, flags & libc::EFD_CLOEXEC != 0, 0, t.nofile_limit())? as u64)
}

/// eventfd(2).
pub fn eventfd(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create(t, a.a[0], 0)
}

/// eventfd2(2).
pub fn eventfd2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create(t, a.a[0], a.a[1] as i32)
}
