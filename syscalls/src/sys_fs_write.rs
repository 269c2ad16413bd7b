//! Path operations that change the filesystem: mkdir, mknod, symlink, link,
//! unlink, rmdir, rename, chmod, chown, truncate, utimensat (and their
//! variants). Each makes Linux's checks in Linux's order (lookup errors,
//! EEXIST, flags, EROFS, permissions; see `sentry::vfs::ops`) and then asks
//! the filesystem; synthetic filesystems (/proc, /dev) answer EPERM.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::ops::{self, TimeArg};
use sentry::vfs::path::{may_access, Walker, MAY_WRITE};
use sentry::vfs::{FileType, Location, Lookup};

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
/// the parent and the name when the name could be created there.
fn create_check(t: &Task, dirfd: i32, path_addr: u64, is_dir: bool) -> Result<(Location, Vec<u8>), Errno> {
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
    ops::may_create(&parent, &t.creds)?;
    Ok((parent, name))
}

/// Makes a new name with `mode` (type and permissions, before the umask).
fn create_at(t: &Task, dirfd: i32, path_addr: u64, mode: u32, rdev: u64, target: Vec<u8>) -> SyscallResult {
    let is_dir = mode & libc::S_IFMT == libc::S_IFDIR;
    let (parent, name) = create_check(t, dirfd, path_addr, is_dir)?;
    let creds = t.creds.clone();
    let perm = if mode & libc::S_IFMT == libc::S_IFLNK { 0o777 } else { mode & 0o7777 & !t.fs.umask() };
    let node = ops::new_node(&parent, &creds, (mode & libc::S_IFMT) | perm, rdev, target)?;
    ops::create(&parent, &name, &node)?;
    Ok(0)
}

/// mkdir(2).
pub fn mkdir(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create_at(t, libc::AT_FDCWD, a.a[0], libc::S_IFDIR | (a.a[1] as u32 & 0o7777), 0, Vec::new())
}

/// mkdirat(2).
pub fn mkdirat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create_at(t, a.a[0] as i32, a.a[1], libc::S_IFDIR | (a.a[2] as u32 & 0o7777), 0, Vec::new())
}

fn mknod_common(t: &Task, dirfd: i32, path: u64, mode: u32, dev: u64) -> SyscallResult {
    let mode = match mode & libc::S_IFMT {
        0 => mode | libc::S_IFREG,
        libc::S_IFREG | libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO | libc::S_IFSOCK => mode,
        libc::S_IFDIR => return Err(Errno::EPERM.into()),
        _ => return Err(Errno::EINVAL.into()),
    };
    let device = matches!(mode & libc::S_IFMT, libc::S_IFCHR | libc::S_IFBLK);
    if device && !t.creds.capable(sentry::auth::CAP_MKNOD) {
        // Checked after the name (create_check) by Linux; EEXIST first.
        create_check(t, dirfd, path, false)?;
        return Err(Errno::EPERM.into());
    }
    // The syscall takes a 32-bit dev_t (new_decode_dev).
    let dev = dev as u32;
    let (major, minor) = ((dev & 0xfff00) >> 8, (dev & 0xff) | ((dev >> 12) & 0xfff00));
    let rdev = if device { sentry::abi::dev_make(major, minor) } else { 0 };
    create_at(t, dirfd, path, mode, rdev, Vec::new())
}

/// mknod(2).
pub fn mknod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    mknod_common(t, libc::AT_FDCWD, a.a[0], a.a[1] as u32, a.a[2])
}

/// mknodat(2).
pub fn mknodat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    mknod_common(t, a.a[0] as i32, a.a[1], a.a[2] as u32, a.a[3])
}

fn symlink_common(t: &Task, target: u64, dirfd: i32, path: u64) -> SyscallResult {
    let target = t.read_path(target, false)?;
    create_at(t, dirfd, path, libc::S_IFLNK | 0o777, 0, target)
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
    let (parent, name) = create_check(t, newdir, new, false)?;
    if !std::sync::Arc::ptr_eq(&src.mount, &parent.mount) {
        return Err(Errno::EXDEV.into());
    }
    if src.dentry.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM.into());
    }
    // may_linkat with protected_hardlinks=1: the owner, CAP_FOWNER, or a
    // regular file that is not setuid/setgid-executable and is readable and
    // writable by the caller.
    let st = src.stat()?;
    let creds = t.creds.clone();
    if !ops::owner_or_capable(&st, &creds) {
        let safe = st.mode & libc::S_IFMT == libc::S_IFREG
            && st.mode & libc::S_ISUID == 0
            && !(st.mode & libc::S_ISGID != 0 && st.mode & libc::S_IXGRP != 0)
            && may_access(&st, &creds, sentry::vfs::path::MAY_READ | MAY_WRITE);
        if !safe {
            return Err(Errno::EPERM.into());
        }
    }
    ops::link(&src, &parent, &name)?;
    Ok(0)
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
    if parent.mount.readonly() {
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
    ops::remove(&parent, &name, &loc, dir, &creds)?;
    Ok(0)
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
    if op.mount.readonly() {
        return Err(Errno::EROFS.into());
    }
    let (root, creds) = t.walk_context();
    let old = Walker::new(&root, &creds).walk(&op, &oname, Lookup::NoFollow)?;
    let new = match Walker::new(&root, &creds).walk(&np, &nname, Lookup::NoFollow) {
        Ok(l) => Some(l),
        Err(Errno::ENOENT) => None,
        Err(e) => return Err(e.into()),
    };
    if new.is_some() && flags & libc::RENAME_NOREPLACE != 0 {
        return Err(Errno::EEXIST.into());
    }
    // A trailing slash needs directories.
    let old_dir = old.dentry.inode.file_type() == FileType::Directory;
    if !old_dir && (old_path.ends_with(b"/") || new_path.ends_with(b"/")) {
        return Err(Errno::ENOTDIR.into());
    }
    if flags & libc::RENAME_WHITEOUT != 0 && !creds.capable(sentry::auth::CAP_MKNOD) {
        return Err(Errno::EPERM.into());
    }
    ops::rename(&op, &oname, &old, &np, &nname, new.as_ref(), flags, &creds)?;
    Ok(0)
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

/// An attribute change, given the file.
enum Change {
    Mode(u32),
    Owner(Option<u32>, Option<u32>),
    Times(TimeArg, TimeArg),
}

fn apply(t: &Task, loc: &Location, change: Change) -> SyscallResult {
    let creds = t.creds.clone();
    match change {
        Change::Mode(m) => ops::chmod(loc, m, &creds)?,
        Change::Owner(u, g) => ops::chown(loc, u, g, &creds)?,
        Change::Times(a, m) => ops::utimes(loc, a, m, &creds)?,
    }
    Ok(0)
}

fn setattr_path(t: &Task, dirfd: i32, path: u64, flags: i32, allowed: i32, change: Change) -> SyscallResult {
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = t.read_path(path, flags & libc::AT_EMPTY_PATH != 0)?;
    let loc = t.resolve_at(dirfd, &p, flags)?;
    apply(t, &loc, change)
}

fn setattr_fd(t: &Task, fd: u64, change: Change) -> SyscallResult {
    let f = t.file(fd as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    match &f.location {
        Some(l) => apply(t, l, change),
        // Host stdio: the sandbox does not change host files' attributes.
        None => Err(Errno::EPERM.into()),
    }
}

fn owner(a: u64, b: u64) -> Change {
    Change::Owner(Some(a as u32), Some(b as u32))
}

/// chmod(2).
pub fn chmod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, libc::AT_FDCWD, a.a[0], 0, 0, Change::Mode(a.a[1] as u32))
}

/// fchmod(2).
pub fn fchmod(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_fd(t, a.a[0], Change::Mode(a.a[1] as u32))
}

/// fchmodat(2) (Linux's fchmodat takes no flags).
pub fn fchmodat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, a.a[0] as i32, a.a[1], 0, 0, Change::Mode(a.a[2] as u32))
}

/// chown(2).
pub fn chown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_path(t, libc::AT_FDCWD, a.a[0], 0, 0, owner(a.a[1], a.a[2]))
}

/// lchown(2).
pub fn lchown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let nf = libc::AT_SYMLINK_NOFOLLOW;
    setattr_path(t, libc::AT_FDCWD, a.a[0], nf, nf, owner(a.a[1], a.a[2]))
}

/// fchown(2).
pub fn fchown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    setattr_fd(t, a.a[0], owner(a.a[1], a.a[2]))
}

/// fchownat(2).
pub fn fchownat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let allowed = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH;
    setattr_path(t, a.a[0] as i32, a.a[1], a.a[4] as i32, allowed, owner(a.a[2], a.a[3]))
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
        return setattr_fd(t, dirfd as u64, times_change(ts));
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
    apply(t, &loc, times_change(ts))
}

/// utime(2): `struct utimbuf` (whole seconds) or NULL for now.
pub fn utime(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = if a.a[1] != 0 {
        let [at, mt]: [i64; 2] = [t.copy_in(a.a[1])?, t.copy_in(a.a[1] + 8)?];
        Some([sentry::abi::Timespec { tv_sec: at, tv_nsec: 0 }, sentry::abi::Timespec { tv_sec: mt, tv_nsec: 0 }])
    } else {
        None
    };
    times_at(t, libc::AT_FDCWD, a.a[0], ts)
}

/// The `struct timeval[2]` of utimes and futimesat, as timespecs.
fn timevals(t: &Task, addr: u64) -> Result<Option<[sentry::abi::Timespec; 2]>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    let tv: [sentry::abi::Timeval; 2] = [t.copy_in(addr)?, t.copy_in(addr + 16)?];
    let mut out = [sentry::abi::Timespec::default(); 2];
    for (o, v) in out.iter_mut().zip(tv) {
        if !(0..1_000_000).contains(&v.tv_usec) {
            return Err(Errno::EINVAL);
        }
        *o = sentry::abi::Timespec { tv_sec: v.tv_sec, tv_nsec: v.tv_usec * 1000 };
    }
    Ok(Some(out))
}

/// utimes(2).
pub fn utimes(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = timevals(t, a.a[1])?;
    times_at(t, libc::AT_FDCWD, a.a[0], ts)
}

/// futimesat(2): a NULL path means the fd itself.
pub fn futimesat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let ts = timevals(t, a.a[2])?;
    if a.a[1] == 0 {
        return setattr_fd(t, a.a[0], times_change(ts));
    }
    times_at(t, a.a[0] as i32, a.a[1], ts)
}

fn times_at(t: &Task, dirfd: i32, path: u64, ts: Option<[sentry::abi::Timespec; 2]>) -> SyscallResult {
    let p = t.read_path(path, false)?;
    let loc = t.resolve_at(dirfd, &p, 0)?;
    apply(t, &loc, times_change(ts))
}

fn times_change(ts: Option<[sentry::abi::Timespec; 2]>) -> Change {
    let arg = |x: sentry::abi::Timespec| match x.tv_nsec {
        libc::UTIME_NOW => TimeArg::Now,
        libc::UTIME_OMIT => TimeArg::Omit,
        _ => TimeArg::At(x),
    };
    match ts {
        Some([a, m]) => Change::Times(arg(a), arg(m)),
        None => Change::Times(TimeArg::Now, TimeArg::Now),
    }
}

/// truncate(2).
pub fn truncate(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if (a.a[1] as i64) < 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = t.read_path(a.a[0], false)?;
    let loc = t.resolve(libc::AT_FDCWD, &p, Lookup::Follow)?;
    match loc.dentry.inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR.into()),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL.into()),
    }
    if loc.mount.readonly() {
        return Err(Errno::EROFS.into());
    }
    let creds = t.creds.clone();
    if !may_access(&loc.stat()?, &creds, MAY_WRITE) {
        return Err(Errno::EACCES.into());
    }
    // vfs_truncate breaks leases as an open for writing would.
    crate::sys_lock::break_leases(t, sentry::vfs::lease::key_of(&loc.dentry.inode), true, false)?;
    ops::truncate(&loc.dentry.inode, a.a[1], &creds)?;
    Ok(0)
}

/// ftruncate(2): regular files open for writing.
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
        Some(l) if l.dentry.inode.file_type() == FileType::Regular => {
            ops::truncate(&l.dentry.inode, a.a[1], &t.creds.clone())?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL.into()),
    }
}
