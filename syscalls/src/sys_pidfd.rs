//! pidfds: pidfd_open, pidfd_send_signal, pidfd_getfd, and the pidfd file
//! itself (readable, for poll, once the process has exited).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use sentry::abi::poll::{POLLHUP, POLLIN, POLLRDNORM};
use sentry::abi::signal::SI_USER;
use sentry::abi::{Errno, SigInfo, Stat};
use sentry::kernel::signal_send::Origin;
use sentry::kernel::signals::valid;
use sentry::kernel::{SyscallArgs, SyscallResult, Task, ThreadGroup};
use sentry::vfs::{File, FileOps, OffsetMode};
use sentry::waiter::WaitQueue;

/// An open pidfd: a reference to a process.
pub struct PidFd {
    /// The process.
    pub tg: Arc<ThreadGroup>,
}

impl FileOps for PidFd {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: libc::S_IFREG | 0o600, nlink: 1, blksize: 4096, ..Default::default() })
    }
    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
    /// Readable once the process has exited; hung up once it is reaped.
    fn readiness(&self, mask: u32) -> u32 {
        if self.tg.reaped.load(Ordering::Acquire) {
            return (mask & (POLLIN | POLLRDNORM)) | POLLHUP;
        }
        if self.tg.signals().threads.is_empty() {
            return mask & (POLLIN | POLLRDNORM);
        }
        0
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.tg.exit_events)
    }
}

/// Installs a pidfd for `tg` in the caller's fd table.
pub fn install_pidfd(t: &Task, tg: Arc<ThreadGroup>, flags: u32) -> Result<i32, Errno> {
    let f = File::new(Arc::new(PidFd { tg }), libc::O_RDWR as u32 | flags, None, b"anon_inode:[pidfd]".to_vec());
    t.fds.insert(f, flags & libc::O_CLOEXEC as u32 != 0, 0, t.nofile_limit())
}

/// The process a pidfd refers to.
pub fn pidfd_target(t: &Task, fd: i32) -> Result<Arc<ThreadGroup>, Errno> {
    Ok(pidfd_target_flags(t, fd)?.0)
}

/// The process a pidfd refers to, and the pidfd's status flags.
pub fn pidfd_target_flags(t: &Task, fd: i32) -> Result<(Arc<ThreadGroup>, u32), Errno> {
    let f = t.file(fd)?;
    let p = f.ops.as_any().and_then(|a| a.downcast_ref::<PidFd>()).ok_or(Errno::EBADF)?;
    Ok((p.tg.clone(), f.flags()))
}

/// pidfd_open(2).
pub fn pidfd_open(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pid, flags) = (a.a[0] as i32, a.a[1] as u32);
    if flags & !(libc::O_NONBLOCK as u32) != 0 || pid <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let Some(tg) = t.kernel.thread_group(pid) else {
        // A thread that is not a process leader.
        return Err(if t.kernel.tasks.task(pid).is_some() { Errno::ENOENT } else { Errno::ESRCH }.into());
    };
    Ok(install_pidfd(t, tg, libc::O_CLOEXEC as u32 | flags)? as u64)
}

/// pidfd_send_signal(2).
pub fn pidfd_send_signal(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, sig, uinfo, flags) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3]);
    if flags != 0 {
        return Err(Errno::EINVAL.into());
    }
    if sig != 0 && !valid(sig) {
        return Err(Errno::EINVAL.into());
    }
    let tg = pidfd_target(t, fd)?;
    // A zombie can still be signalled (to no effect); a reaped process not.
    if tg.reaped.load(Ordering::Acquire) {
        return Err(Errno::ESRCH.into());
    }
    let info = if uinfo != 0 {
        let mut i: SigInfo = t.copy_in(uinfo)?;
        if i.signo != sig {
            return Err(Errno::EINVAL.into());
        }
        if (i.code >= 0 || i.code == sentry::abi::signal::SI_TKILL) && tg.pid != t.tg.pid {
            return Err(Errno::EPERM.into());
        }
        i.signo = sig;
        i
    } else {
        SigInfo::user(sig, SI_USER, t.tg.pid, t.creds.uid)
    };
    if sig != 0 {
        t.kernel.send_group_signal(&tg, info, Origin::Sandbox);
    }
    Ok(0)
}

/// pidfd_getfd(2): a duplicate of another process's fd (the caller must
/// be allowed to ptrace it: same uid or root).
pub fn pidfd_getfd(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (pidfd, target_fd, flags) = (a.a[0] as i32, a.a[1] as i32, a.a[2]);
    if flags != 0 {
        return Err(Errno::EINVAL.into());
    }
    let tg = pidfd_target(t, pidfd)?;
    let main = tg.main_thread().ok_or(Errno::ESRCH)?;
    let res = main.resources();
    if t.creds.euid != 0 && (res.creds.uid != t.creds.uid || res.creds.euid != t.creds.euid) {
        return Err(Errno::EPERM.into());
    }
    let f = res.fds.get(target_fd)?;
    Ok(t.fds.insert(f, true, 0, t.nofile_limit())? as u64)
}
