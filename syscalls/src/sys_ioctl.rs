//! ioctl: generic requests here, device-specific ones in the file.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::{FileType, OffsetMode};

/// FS_IOC_GETFLAGS.
const FS_IOC_GETFLAGS: u64 = 0x8008_6601;
/// FS_IOC_SETFLAGS.
const FS_IOC_SETFLAGS: u64 = 0x4008_6602;
/// FS_IOC32_GETFLAGS.
const FS_IOC32_GETFLAGS: u64 = 0x8004_6601;
/// FS_IOC32_SETFLAGS.
const FS_IOC32_SETFLAGS: u64 = 0x4004_6602;
/// CAP_LINUX_IMMUTABLE.
const CAP_LINUX_IMMUTABLE: u32 = 9;

/// ioctl(2).
pub fn ioctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, cmd, arg) = (a.a[0] as i32, a.a[1] as u32, a.a[2]);
    let f = t.file(fd)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    if let Some(any) = f.ops.as_any() {
        use sentry::fs::tty::pty::{MasterFile, ReplicaFile, TIOCGPTPEER};
        if let Some(m) = any.downcast_ref::<MasterFile>() {
            if cmd == TIOCGPTPEER {
                return crate::sys_file::open_pty_peer(t, m.terminal(), arg as u32);
            }
            if !matches!(cmd as u64, libc::FIOCLEX | libc::FIONCLEX | libc::FIONBIO | libc::FIOASYNC) {
                return Ok(sentry::fs::tty::pty::ioctl(t, m.terminal(), true, cmd, arg)?);
            }
        }
        if any.downcast_ref::<sentry::fs::host::HostFile>().is_some_and(|h| h.is_tty()) {
            if let Some(r) = t.kernel.ttys.console_ioctl(t, cmd, arg) {
                return Ok(r?);
            }
        }
        if let Some(r) = any.downcast_ref::<ReplicaFile>() {
            if !matches!(cmd as u64, libc::FIOCLEX | libc::FIONCLEX | libc::FIONBIO | libc::FIOASYNC) {
                return Ok(sentry::fs::tty::pty::ioctl(t, r.terminal(), false, cmd, arg)?);
            }
        }
    }
    match cmd as u64 {
        libc::FIOCLEX => {
            t.fds.set_cloexec(fd, true)?;
            Ok(0)
        }
        libc::FIONCLEX => {
            t.fds.set_cloexec(fd, false)?;
            Ok(0)
        }
        libc::FIOASYNC => {
            let on: i32 = t.copy_in(arg)?;
            let fl = f.flags();
            let async_bit = libc::O_ASYNC as u32;
            f.set_flags(if on != 0 { fl | async_bit } else { fl & !async_bit });
            if (fl & async_bit != 0) != (on != 0) {
                sentry::kernel::fasync::set_async(&t.kernel, &f, fd, on != 0);
            }
            Ok(0)
        }
        libc::FIONBIO => {
            let on: i32 = t.copy_in(arg)?;
            let fl = f.flags();
            f.set_flags(if on != 0 { fl | libc::O_NONBLOCK as u32 } else { fl & !(libc::O_NONBLOCK as u32) });
            Ok(0)
        }
        libc::FIONREAD if f.ops.offset_mode() == OffsetMode::Sentry => {
            let is_reg = f.location.as_ref().is_some_and(|l| l.dentry.inode.file_type() == FileType::Regular);
            if !is_reg {
                return Err(Errno::ENOTTY.into());
            }
            // Linux reports size - position, negative past EOF.
            let n = (f.stat()?.size - f.position() as i64) as i32;
            t.copy_out(arg, &n)?;
            Ok(0)
        }
        FS_IOC_GETFLAGS | FS_IOC32_GETFLAGS => {
            let loc = f.location.as_ref().ok_or(Errno::ENOTTY)?;
            let flags = loc.dentry.inode.attr_flags()?;
            t.copy_out(arg, &(flags as i32))?;
            Ok(0)
        }
        FS_IOC_SETFLAGS | FS_IOC32_SETFLAGS => {
            let loc = f.location.as_ref().ok_or(Errno::ENOTTY)?;
            let new: i32 = t.copy_in(arg)?;
            let old = loc.dentry.inode.attr_flags()?;
            // vfs_fileattr_set: the owner (or CAP_FOWNER), a writable
            // mount, CAP_LINUX_IMMUTABLE to change immutable or append.
            if !sentry::vfs::ops::owner_or_capable(&loc.stat()?, &t.creds) {
                return Err(Errno::EPERM.into());
            }
            if loc.mount.readonly() {
                return Err(Errno::EROFS.into());
            }
            let guarded = sentry::vfs::inode::FS_IMMUTABLE_FL | sentry::vfs::inode::FS_APPEND_FL;
            if (old ^ new as u32) & guarded != 0 && !t.creds.capable(CAP_LINUX_IMMUTABLE) {
                return Err(Errno::EPERM.into());
            }
            loc.dentry.inode.set_attr_flags(new as u32)?;
            Ok(0)
        }
        _ => Ok(f.ops.ioctl(cmd, arg, t.mm())?),
    }
}
