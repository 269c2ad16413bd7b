//! Extended attributes: get, set, list and remove, by path, by link and by
//! fd, with Linux's checks (xattr_permission): the `user.` namespace on
//! regular files and directories only, with the file's read or write
//! permission and the sticky-directory rule; `trusted.` for CAP_SYS_ADMIN
//! only (and hidden from others' listings); `security.` readable, writable
//! with CAP_SYS_ADMIN; `system.` (POSIX ACLs) not supported. Filesystems
//! keep the values: tmpfs and the overlay's upper layer, and the gofer
//! (the image's own attributes, copied up with their files, and a
//! volume's, which the sandbox may change).

use sentry::abi::Errno;
use sentry::auth::{CAP_FOWNER, CAP_SYS_ADMIN};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::path::{may_access, MAY_READ, MAY_WRITE};
use sentry::vfs::{FileType, Location, Lookup};

/// XATTR_NAME_MAX.
const NAME_MAX: usize = 255;
/// XATTR_SIZE_MAX.
const SIZE_MAX: usize = 65536;
/// XATTR_LIST_MAX.
const LIST_MAX: usize = 65536;

fn by_path(t: &Task, path_addr: u64, follow: bool) -> Result<Location, Errno> {
    let path = t.read_path(path_addr, false)?;
    t.resolve(libc::AT_FDCWD, &path, if follow { Lookup::Follow } else { Lookup::NoFollow })
}

fn by_fd(t: &Task, fd: u64) -> Result<Location, Errno> {
    let f = t.file(fd as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF);
    }
    // Anonymous files (pipes, sockets) have no attributes here.
    f.location.clone().ok_or(Errno::EOPNOTSUPP)
}

fn read_name(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    let name =
        t.mm()
            .read_cstring(addr, NAME_MAX + 1)
            .map_err(|e| if e == Errno::ENAMETOOLONG { Errno::ERANGE } else { e })?;
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(Errno::ERANGE);
    }
    Ok(name)
}

/// xattr_permission(): may the caller read (`write` false) or change the
/// attribute `name` of `loc`?
fn permission(t: &Task, loc: &Location, name: &[u8], write: bool) -> Result<(), Errno> {
    let creds = &t.creds;
    if name.starts_with(b"trusted.") {
        return if creds.capable(CAP_SYS_ADMIN) { Ok(()) } else { Err(Errno::EPERM) };
    }
    if name.starts_with(b"security.") {
        return if !write || creds.capable(CAP_SYS_ADMIN) { Ok(()) } else { Err(Errno::EPERM) };
    }
    if name.starts_with(b"system.") {
        return Err(Errno::EOPNOTSUPP);
    }
    if !name.starts_with(b"user.") {
        return Err(Errno::EOPNOTSUPP);
    }
    let st = loc.stat()?;
    match loc.dentry.inode.file_type() {
        FileType::Regular => {}
        FileType::Directory => {
            if write && st.mode & libc::S_ISVTX != 0 && st.uid != creds.fsuid && !creds.capable(CAP_FOWNER) {
                return Err(Errno::EPERM);
            }
        }
        _ => return Err(if write { Errno::EPERM } else { Errno::ENODATA }),
    }
    if !may_access(&st, creds, if write { MAY_WRITE } else { MAY_READ }) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

fn get(t: &Task, loc: Location, name_addr: u64, value: u64, size: u64) -> SyscallResult {
    let name = read_name(t, name_addr)?;
    permission(t, &loc, &name, false)?;
    let v = match loc.dentry.inode.getxattr(&name) {
        Err(Errno::EOPNOTSUPP) if name.starts_with(b"user.") || name.starts_with(b"trusted.") => Err(Errno::ENODATA),
        r => r,
    }?;
    if size == 0 {
        return Ok(v.len() as u64);
    }
    if (size as usize) < v.len() {
        return Err(Errno::ERANGE.into());
    }
    t.mm().copy_out(value, &v)?;
    Ok(v.len() as u64)
}

fn set(t: &Task, loc: Location, name_addr: u64, value: u64, size: u64, flags: u64) -> SyscallResult {
    if flags & !((libc::XATTR_CREATE | libc::XATTR_REPLACE) as u64) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let name = read_name(t, name_addr)?;
    if size as usize > SIZE_MAX {
        return Err(Errno::E2BIG.into());
    }
    let mut v = vec![0u8; size as usize];
    if size > 0 {
        t.mm().copy_in(value, &mut v)?;
    }
    if loc.mount.readonly() {
        return Err(Errno::EROFS.into());
    }
    permission(t, &loc, &name, true)?;
    loc.dentry.inode.setxattr(&name, &v, flags as u32)?;
    Ok(0)
}

fn list(t: &Task, loc: Location, buf: u64, size: u64) -> SyscallResult {
    let names = match loc.dentry.inode.listxattr() {
        Err(Errno::EOPNOTSUPP) => Vec::new(),
        r => r?,
    };
    let privileged = t.creds.capable(CAP_SYS_ADMIN);
    let mut out = Vec::new();
    for n in names.iter().filter(|n| privileged || !n.starts_with(b"trusted.")) {
        out.extend_from_slice(n);
        out.push(0);
    }
    if out.len() > LIST_MAX {
        return Err(Errno::E2BIG.into());
    }
    if size == 0 {
        return Ok(out.len() as u64);
    }
    if (size as usize) < out.len() {
        return Err(Errno::ERANGE.into());
    }
    t.mm().copy_out(buf, &out)?;
    Ok(out.len() as u64)
}

fn remove(t: &Task, loc: Location, name_addr: u64) -> SyscallResult {
    let name = read_name(t, name_addr)?;
    if loc.mount.readonly() {
        return Err(Errno::EROFS.into());
    }
    permission(t, &loc, &name, true)?;
    match loc.dentry.inode.removexattr(&name) {
        Err(Errno::EOPNOTSUPP) if name.starts_with(b"user.") => Err(Errno::ENODATA.into()),
        r => {
            r?;
            Ok(0)
        }
    }
}

/// getxattr(2).
pub fn getxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    get(t, by_path(t, a.a[0], true)?, a.a[1], a.a[2], a.a[3])
}

/// lgetxattr(2).
pub fn lgetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    get(t, by_path(t, a.a[0], false)?, a.a[1], a.a[2], a.a[3])
}

/// fgetxattr(2).
pub fn fgetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    get(t, by_fd(t, a.a[0])?, a.a[1], a.a[2], a.a[3])
}

/// listxattr(2).
pub fn listxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    list(t, by_path(t, a.a[0], true)?, a.a[1], a.a[2])
}

/// llistxattr(2).
pub fn llistxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    list(t, by_path(t, a.a[0], false)?, a.a[1], a.a[2])
}

/// flistxattr(2).
pub fn flistxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    list(t, by_fd(t, a.a[0])?, a.a[1], a.a[2])
}

/// setxattr(2).
pub fn setxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    set(t, by_path(t, a.a[0], true)?, a.a[1], a.a[2], a.a[3], a.a[4])
}

/// lsetxattr(2).
pub fn lsetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    set(t, by_path(t, a.a[0], false)?, a.a[1], a.a[2], a.a[3], a.a[4])
}

/// fsetxattr(2).
pub fn fsetxattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    set(t, by_fd(t, a.a[0])?, a.a[1], a.a[2], a.a[3], a.a[4])
}

/// removexattr(2).
pub fn removexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    remove(t, by_path(t, a.a[0], true)?, a.a[1])
}

/// lremovexattr(2).
pub fn lremovexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    remove(t, by_path(t, a.a[0], false)?, a.a[1])
}

/// fremovexattr(2).
pub fn fremovexattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    remove(t, by_fd(t, a.a[0])?, a.a[1])
}
