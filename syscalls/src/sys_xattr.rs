//! Extended attributes: the sandbox exposes none yet. Lookups resolve the
//! path (so ENOENT and friends are Linux's), then get and list report
//! EOPNOTSUPP, as for a filesystem without xattr support; set and remove
//! report EROFS on read-only mounts.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::{Location, Lookup};

/// XATTR_NAME_MAX.
const NAME_MAX: usize = 255;

fn by_path(t: &Task, path_addr: u64, follow: bool) -> Result<Location, Errno> {
    let path = t.read_path(path_addr, false)?;
    t.resolve(libc::AT_FDCWD, &path, if follow { Lookup::Follow } else { Lookup::NoFollow })
}

fn by_fd(t: &Task, fd: u64) -> Result<Option<Location>, Errno> {
    let f = t.file(fd as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF);
    }
    Ok(f.location.clone())
}

fn check_name(t: &Task, addr: u64) -> Result<(), Errno> {
    let name =
        t.mm().read_cstring(addr, NAME_MAX).map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if name.is_empty() {
        return Err(Errno::ERANGE);
    }
    Ok(())
}

fn get(t: &Task, loc: Option<Location>, name: u64) -> SyscallResult {
    check_name(t, name)?;
    drop(loc);
    Err(Errno::EOPNOTSUPP.into())
}

fn set(t: &Task, loc: Option<Location>, name: u64) -> SyscallResult {
    check_name(t, name)?;
    if loc.is_some_and(|l| l.mount.readonly) {
        return Err(Errno::EROFS.into());
    }
    Err(Errno::EOPNOTSUPP.into())
}

/// getxattr(2).
pub fn getxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], true)?;
    get(t, Some(loc), a.a[1])
}

/// lgetxattr(2).
pub fn lgetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], false)?;
    get(t, Some(loc), a.a[1])
}

/// fgetxattr(2).
pub fn fgetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_fd(t, a.a[0])?;
    get(t, loc, a.a[1])
}

/// listxattr(2).
pub fn listxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    by_path(t, a.a[0], true)?;
    Err(Errno::EOPNOTSUPP.into())
}

/// llistxattr(2).
pub fn llistxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    by_path(t, a.a[0], false)?;
    Err(Errno::EOPNOTSUPP.into())
}

/// flistxattr(2).
pub fn flistxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    by_fd(t, a.a[0])?;
    Err(Errno::EOPNOTSUPP.into())
}

/// setxattr(2).
pub fn setxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], true)?;
    set(t, Some(loc), a.a[1])
}

/// lsetxattr(2).
pub fn lsetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], false)?;
    set(t, Some(loc), a.a[1])
}

/// fsetxattr(2).
pub fn fsetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_fd(t, a.a[0])?;
    set(t, loc, a.a[1])
}

/// removexattr(2).
pub fn removexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], true)?;
    set(t, Some(loc), a.a[1])
}

/// lremovexattr(2).
pub fn lremovexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_path(t, a.a[0], false)?;
    set(t, Some(loc), a.a[1])
}

/// fremovexattr(2).
pub fn fremovexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let loc = by_fd(t, a.a[0])?;
    set(t, loc, a.a[1])
}
