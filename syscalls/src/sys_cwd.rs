//! getcwd, chdir, fchdir, chroot, umask.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::path::{may_access, path_of, MAY_EXEC};
use sentry::vfs::{FileType, Location, Lookup};

/// getcwd(2).
pub fn getcwd(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (buf, size) = (a.a[0], a.a[1]);
    let mut path = {
        let fs = t.fs.lock();
        if fs.cwd.dentry.deleted() {
            // The working directory was removed.
            return Err(Errno::ENOENT.into());
        }
        path_of(&fs.cwd, &fs.root).unwrap_or_else(|| b"(unreachable)/".to_vec())
    };
    path.push(0);
    if path.len() as u64 > size {
        return Err(Errno::ERANGE.into());
    }
    t.mm().copy_out(buf, &path)?;
    Ok(path.len() as u64)
}

fn set_cwd(t: &Task, loc: Location) -> SyscallResult {
    if loc.dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR.into());
    }
    let st = loc.stat()?;
    if !may_access(&st, &t.creds, MAY_EXEC) {
        return Err(Errno::EACCES.into());
    }
    t.fs.lock().cwd = loc;
    Ok(0)
}

/// chdir(2).
pub fn chdir(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let path = t.read_path(a.a[0], false)?;
    let loc = t.resolve(libc::AT_FDCWD, &path, Lookup::Follow)?;
    set_cwd(t, loc)
}

/// fchdir(2).
pub fn fchdir(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    let loc = f.location.clone().ok_or(Errno::ENOTDIR)?;
    set_cwd(t, loc)
}

/// chroot(2): search permission on the directory, then CAP_SYS_CHROOT.
pub fn chroot(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let path = t.read_path(a.a[0], false)?;
    let loc = t.resolve(libc::AT_FDCWD, &path, Lookup::Follow)?;
    if loc.dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR.into());
    }
    if !may_access(&loc.stat()?, &t.creds, MAY_EXEC) {
        return Err(Errno::EACCES.into());
    }
    if !t.creds.capable(sentry::auth::CAP_SYS_CHROOT) {
        return Err(Errno::EPERM.into());
    }
    t.fs.lock().root = loc;
    Ok(0)
}

/// umask(2).
pub fn umask(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let mut fs = t.fs.lock();
    let old = fs.umask;
    fs.umask = a.a[0] as u32 & 0o777;
    Ok(old as u64)
}
