//! signalfd, signalfd4.

use std::sync::Arc;

use sentry::abi::Errno;
use sentry::fs::signalfd::SignalFd;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

fn do_signalfd(t: &mut Task, fd: i32, umask: u64, size: u64, flags: i32) -> SyscallResult {
    if flags & !(libc::SFD_CLOEXEC | libc::SFD_NONBLOCK) != 0 || size != 8 {
        return Err(Errno::EINVAL.into());
    }
    let mask: u64 = t.copy_in(umask)?;
    if fd != -1 {
        let f = t.file(fd)?;
        let s = SignalFd::of(&*f.ops).ok_or(Errno::EINVAL)?;
        s.set_mask(mask);
        return Ok(fd as u64);
    }
    let s = Arc::new(SignalFd::new(t.tg.clone(), mask));
    let status = libc::O_RDWR as u32 | (flags & libc::SFD_NONBLOCK) as u32;
    let f = File::new(s, status, None, b"anon_inode:[signalfd]".to_vec());
    Ok(t.fds.insert(f, flags & libc::SFD_CLOEXEC != 0, 0, t.nofile_limit())? as u64)
}

/// signalfd(2).
pub fn signalfd(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_signalfd(t, a.a[0] as i32, a.a[1], a.a[2], 0)
}

/// signalfd4(2).
pub fn signalfd4(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_signalfd(t, a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32)
}
