//! pipe, pipe2, and the pipe fcntls (F_GETPIPE_SZ, F_SETPIPE_SZ).

use std::sync::Arc;

use sentry::abi::Errno;
use sentry::fs::pipe::{new_pipe, PipeEnd};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

/// O_NOTIFICATION_PIPE (watch queues; not supported).
const O_NOTIFICATION_PIPE: u32 = libc::O_EXCL as u32;

fn do_pipe(t: &mut Task, addr: u64, flags: u32) -> SyscallResult {
    let known = (libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_DIRECT) as u32 | O_NOTIFICATION_PIPE;
    if flags & !known != 0 {
        return Err(Errno::EINVAL.into());
    }
    if flags & O_NOTIFICATION_PIPE != 0 {
        crate::log_once_unsupported("pipe2 flag", O_NOTIFICATION_PIPE as u64);
        return Err(Errno::ENOPKG.into());
    }
    let (r, w) = new_pipe(flags & libc::O_DIRECT as u32 != 0);
    let name = format!("pipe:[{}]", r.pipe().ino()).into_bytes();
    let status = flags & (libc::O_NONBLOCK | libc::O_DIRECT) as u32;
    let rf = File::new(r, libc::O_RDONLY as u32 | status, None, name.clone());
    let wf = File::new(w, libc::O_WRONLY as u32 | status, None, name);
    let cloexec = flags & libc::O_CLOEXEC as u32 != 0;
    let limit = t.nofile_limit();
    let rfd = t.fds.insert(rf, cloexec, 0, limit)?;
    let wfd = match t.fds.insert(wf, cloexec, 0, limit) {
        Ok(fd) => fd,
        Err(e) => {
            let _ = t.fds.remove(rfd);
            return Err(e.into());
        }
    };
    if let Err(e) = t.copy_out(addr, &[rfd, wfd]) {
        let _ = t.fds.remove(rfd);
        let _ = t.fds.remove(wfd);
        return Err(e.into());
    }
    Ok(0)
}

/// pipe(2).
pub fn pipe(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_pipe(t, a.a[0], 0)
}

/// pipe2(2).
pub fn pipe2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_pipe(t, a.a[0], a.a[1] as u32)
}

/// The pipe end an open file is, if it is one.
pub fn pipe_of(f: &Arc<File>) -> Option<&PipeEnd> {
    f.ops.as_any().and_then(|a| a.downcast_ref::<PipeEnd>())
}
