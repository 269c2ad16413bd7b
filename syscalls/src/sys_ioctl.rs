//! ioctl: generic requests here, device-specific ones in the file.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::{FileType, OffsetMode};

/// ioctl(2).
pub fn ioctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, cmd, arg) = (a.a[0] as i32, a.a[1] as u32, a.a[2]);
    let f = t.file(fd)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
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
        _ => Ok(f.ops.ioctl(cmd, arg, t.mm())?),
    }
}
