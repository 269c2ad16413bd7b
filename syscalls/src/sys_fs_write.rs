//! Path operations that change the filesystem: mkdir, mknod, symlink, link,
//! unlink, rmdir, rename, chmod, chown, truncate, utimensat (and their
//! variants). No mounted filesystem is writable yet (the root is read-only
//! until the overlay arrives; /dev and /proc are synthetic), so each call
//! makes Linux's checks in Linux's order (lookup errors, EEXIST, flags) and
//! then fails as Linux does on such a filesystem: EROFS on a read-only
//! mount, EPERM where the filesystem does not support the operation.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::path::Walker;
use sentry::vfs::{FileType, Location, Lookup};

/// What a filesystem that cannot be changed answers once all checks pass.
fn unchangeable(loc: &Location) -> Errno {
    if loc.mount.readonly {
        Errno::EROFS
    } else {
        Errno::EPERM
    }
}

/// The parent of `path` (from `dirfd`) and its last component.
fn parent_of(t: &Task, dirfd: i32, path: &[u8]) -> Result<(Location, Vec<u8>), Errno> {
    let start = t.start_dir(dirfd, path)?;
    let (root, creds) = t.walk_context();
    Walker::new(&root, &creds).walk_parent(&start, path)
}

/// Whether `name` exists in `parent` (without following a final symlink).
fn exists(t: &Task, parent: &Location, name: &[u8]) -> Result<bool, Errno> {
    let (root, creds) = t.walk_context();
    match Walker::new(&root, &creds).walk(parent, name, Lookup::NoFollow) {
        Ok(_) => Ok(true),
        Err(Errno::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// filename_create(): the checks for making a new name at `path`; returns
/// the parent when the name could be created there, EROFS on a read-only
/// mount.
fn create_check(t: &Task, dirfd: i32, path_addr: u64, is_dir: bool) -> Result<Location, Errno> {
    let path = t.read_path(path_addr, false)?;
    let (parent, name) = parent_of(t, dirfd, &path)?;
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EEXIST);
    }
    if exists(t, &parent, &name)? {
        return Err(Errno::EEXIST);
    }
    if !is_dir && path.ends_with(b"/") {
        return Err(Errno::ENOENT);
    }
    if parent.mount.readonly {
        return Err(Errno::EROFS);
    }
    Ok(parent)
}

/// Makes a new name: no mounted filesystem supports it yet.
fn create_at(t: &Task, dirfd: i32, path_addr: u64, is_dir: bool) -> SyscallResult {
    let parent = create_check(t, dirfd, path_addr, is_dir)?;
    Err(unchangeable(&parent).into())
}

/// mkdir(2).
pub fn mkdir(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create_at(t, libc::AT_FDCWD, a.a[0], true)
}

/// mkdirat(2).
pub fn mkdirat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create_at(t, a.a[0] as i32, a.a[1], true)
}

fn mknod_common(t: &Task, dirfd: i32, path: u64, mode: u32) -> SyscallResult {
    match mode & libc::S_IFMT {
        0 | libc::S_IFREG | libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO | libc::S_IFSOCK => {}
        libc::S_IFDIR => return Err(Errno::EPERM.into()),
        _ => return Err(Errno::EINVAL.into()),
    }
    create_at(t, dirfd, path, false)
}

/// mknod(2).
pub fn mknod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    mknod_common(t, libc::AT_FDCWD, a.a[0], a.a[1] as u32)
}

/// mknodat(2).
pub fn mknodat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    mknod_common(t, a.a[0] as i32, a.a[1], a.a[2] as u32)
}

fn symlink_common(t: &Task, target: u64, dirfd: i32, path: u64) -> SyscallResult {
    t.read_path(target, false)?;
    create_at(t, dirfd, path, false)
}

/// symlink(2).
pub fn symlink(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    symlink_common(t, a.a[0], libc::AT_FDCWD, a.a[1])
}

/// symlinkat(2).
pub fn symlinkat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    symlink_common(t, a.a[0], a.a[1] as i32, a.a[2])
}

fn link_common(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: i32) -> SyscallResult {
    if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let old_path = t.read_path(old, flags & libc::AT_EMPTY_PATH != 0)?;
    let follow = if flags & libc::AT_SYMLINK_FOLLOW != 0 { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    let src = t.resolve_at(olddir, &old_path, follow | (flags & libc::AT_EMPTY_PATH))?;
    let parent = create_check(t, newdir, new, false)?;
    if !std::sync::Arc::ptr_eq(&src.mount, &parent.mount) {
        return Err(Errno::EXDEV.into());
    }
    if src.dentry.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM.into());
    }
    Err(unchangeable(&parent).into())
}

/// link(2).
pub fn link(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    link_common(t, libc::AT_FDCWD, a.a[0], libc::AT_FDCWD, a.a[1], 0)
}

/// linkat(2).
pub fn linkat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    link_common(t, a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3], a.a[4] as i32)
}

/// do_unlinkat(): unlink and rmdir check the parent, the last component's
/// kind, then the mount's writability before looking the name up.
fn remove_at(t: &Task, dirfd: i32, path_addr: u64, dir: bool) -> SyscallResult {
    let path = t.read_path(path_addr, false)?;
    let (parent, name) = parent_of(t, dirfd, &path)?;
    if dir {
        match name.as_slice() {
            b".." => return Err(Errno::ENOTEMPTY.into()),
            b"." => return Err(Errno::EINVAL.into()),
            b"" => return Err(Errno::EBUSY.into()),
            _ => {}
        }
    } else if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::EISDIR.into());
    }
    if parent.mount.readonly {
        return Err(Errno::EROFS.into());
    }
    let (root, creds) = t.walk_context();
    let loc = Walker::new(&root, &creds).walk(&parent, &name, Lookup::NoFollow)?;
    let is_dir = loc.dentry.inode.file_type() == FileType::Directory;
    if dir && !is_dir {
        return Err(Errno::ENOTDIR.into());
    }
    if !dir && (is_dir || path.ends_with(b"/")) {
        return Err(if is_dir { Errno::EISDIR } else { Errno::ENOTDIR }.into());
    }
    Err(Errno::EPERM.into())
}

/// unlink(2).
pub fn unlink(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    remove_at(t, libc::AT_FDCWD, a.a[0], false)
}

/// rmdir(2).
pub fn rmdir(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    remove_at(t, libc::AT_FDCWD, a.a[0], true)
}

/// unlinkat(2).
pub fn unlinkat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = a.a[2] as i32;
    if flags & !libc::AT_REMOVEDIR != 0 {
        return Err(Errno::EINVAL.into());
    }
    remove_at(t, a.a[0] as i32, a.a[1], flags & libc::AT_REMOVEDIR != 0)
}

fn rename_common(t: &Task, olddir: i32, old: u64, newdir: i32, new: u64, flags: u32) -> SyscallResult {
    let known = libc::RENAME_NOREPLACE | libc::RENAME_EXCHANGE | libc::RENAME_WHITEOUT;
    if flags & !known != 0
        || (flags & libc::RENAME_NOREPLACE != 0 && flags & libc::RENAME_EXCHANGE != 0)
        || (flags & libc::RENAME_WHITEOUT != 0 && flags & libc::RENAME_EXCHANGE != 0)
    {
        return Err(Errno::EINVAL.into());
    }
    // The old path is looked up before the new one is even read.
    let old_path = t.read_path(old, false)?;
    let (op, oname) = parent_of(t, olddir, &old_path)?;
    let new_path = t.read_path(new, false)?;
    let (np, nname) = parent_of(t, newdir, &new_path)?;
    if !std::sync::Arc::ptr_eq(&op.mount, &np.mount) {
        return Err(Errno::EXDEV.into());
    }
    let bad = |n: &[u8]| n.is_empty() || n == b"." || n == b"..";
    if bad(&oname) {
        return Err(Errno::EBUSY.into());
    }
    if bad(&nname) {
        return Err(if flags & libc::RENAME_NOREPLACE != 0 { Errno::EEXIST } else { Errno::EBUSY }.into());
    }
    if op.mount.readonly {
        return Err(Errno::EROFS.into());
    }
    let (root, creds) = t.walk_context();
    Walker::new(&root, &creds).walk(&op, &oname, Lookup::NoFollow)?;
    Err(Errno::EPERM.into())
}

/// rename(2).
pub fn rename(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    rename_common(t, libc::AT_FDCWD, a.a[0], libc::AT_FDCWD, a.a[1], 0)
}

/// renameat(2).
pub fn renameat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    rename_common(t, a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3], 0)
}

/// renameat2(2).
pub fn renameat2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    rename_common(t, a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3], a.a[4] as u32)
}

/// Attribute changes (chmod, chown, utimes) on an existing file.
fn setattr(loc: &Location) -> SyscallResult {
    Err(unchangeable(loc).into())
}

fn setattr_path(t: &Task, dirfd: i32, path: u64, flags: i32, allowed: i32) -> SyscallResult {
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = t.read_path(path, flags & libc::AT_EMPTY_PATH != 0)?;
    let loc = t.resolve_at(dirfd, &p, flags)?;
    setattr(&loc)
}

fn setattr_fd(t: &Task, fd: u64) -> SyscallResult {
    let f = t.file(fd as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    match &f.location {
        Some(l) => setattr(l),
        // Host stdio: the sandbox does not change host files' attributes.
        None => Err(Errno::EPERM.into()),
    }
}

/// chmod(2).
pub fn chmod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, libc::AT_FDCWD, a.a[0], 0, 0)
}

/// fchmod(2).
pub fn fchmod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_fd(t, a.a[0])
}

/// fchmodat(2) (Linux's fchmodat takes no flags).
pub fn fchmodat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, a.a[0] as i32, a.a[1], 0, 0)
}

/// chown(2).
pub fn chown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, libc::AT_FDCWD, a.a[0], 0, 0)
}

/// lchown(2).
pub fn lchown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, libc::AT_FDCWD, a.a[0], libc::AT_SYMLINK_NOFOLLOW, libc::AT_SYMLINK_NOFOLLOW)
}

/// fchown(2).
pub fn fchown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_fd(t, a.a[0])
}

/// fchownat(2).
pub fn fchownat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, a.a[0] as i32, a.a[1], a.a[4] as i32, libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH)
}

/// utimensat(2), in Linux's order: read the times (EFAULT); both
/// UTIME_OMIT is a no-op that checks nothing else; then the fd or path, and
/// the nanoseconds after the lookup.
pub fn utimensat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (dirfd, path, times, flags) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32);
    let ts = if times != 0 {
        let ts: [sentry::abi::Timespec; 2] = [t.copy_in(times)?, t.copy_in(times + 16)?];
        if ts.iter().all(|x| x.tv_nsec == libc::UTIME_OMIT) {
            return Ok(0);
        }
        Some(ts)
    } else {
        None
    };
    let check_nsec = || -> Result<(), Errno> {
        for x in ts.iter().flatten() {
            let special = x.tv_nsec == libc::UTIME_NOW || x.tv_nsec == libc::UTIME_OMIT;
            if !special && !(0..1_000_000_000).contains(&x.tv_nsec) {
                return Err(Errno::EINVAL);
            }
        }
        Ok(())
    };
    if path == 0 && dirfd != libc::AT_FDCWD {
        if flags != 0 {
            return Err(Errno::EINVAL.into());
        }
        t.file(dirfd)?;
        check_nsec()?;
        return setattr_fd(t, dirfd as u64);
    }
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if path == 0 {
        return Err(Errno::EFAULT.into());
    }
    let p = t.read_path(path, flags & libc::AT_EMPTY_PATH != 0)?;
    let loc = t.resolve_at(dirfd, &p, flags)?;
    check_nsec()?;
    setattr(&loc)
}

/// truncate(2).
pub fn truncate(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[1] as i64) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = t.read_path(a.a[0], false)?;
    let loc = t.resolve(libc::AT_FDCWD, &p, Lookup::Follow)?;
    match loc.dentry.inode.file_type() {
        FileType::Directory => Err(Errno::EISDIR.into()),
        FileType::Regular => setattr(&loc),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// ftruncate(2): no file can be open for writing on an unchangeable
/// filesystem, and other files give EINVAL as on Linux.
pub fn ftruncate(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[1] as i64) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    if !f.writable() {
        return Err(Errno::EINVAL.into());
    }
    match &f.location {
        Some(l) if l.dentry.inode.file_type() == FileType::Regular => setattr(l),
        _ => Err(Errno::EINVAL.into()),
    }
}
