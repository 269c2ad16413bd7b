//! Operations that change the tree or attributes, over any filesystem:
//! Linux's permission rules (may_create, may_delete with sticky
//! directories, inode_init_owner's setgid inheritance, setattr_prepare's
//! owner and capability checks), read-only mounts, and keeping the dentry
//! cache true. Filesystems do the change itself (see [`Inode`]).

use std::sync::Arc;

use crate::abi::{Errno, Stat, Timespec};
use crate::auth::{Credentials, CAP_CHOWN, CAP_FOWNER, CAP_FSETID};
use crate::fs::inotify;
use crate::vfs::inode::{now, NewNode, SetAttr};
use crate::vfs::path::{may_access, MAY_EXEC, MAY_WRITE};
use crate::vfs::{FileType, Inode, Location};

/// Whether `creds` own the file or may act as its owner (inode_owner_or_capable).
pub fn owner_or_capable(st: &Stat, creds: &Credentials) -> bool {
    st.uid == creds.fsuid || creds.capable(CAP_FOWNER)
}

/// The inode's FS_IMMUTABLE_FL and FS_APPEND_FL (none where unsupported).
pub fn immutable_append(inode: &Arc<dyn Inode>) -> (bool, bool) {
    use crate::vfs::inode::{FS_APPEND_FL, FS_IMMUTABLE_FL};
    let f = inode.attr_flags().unwrap_or(0);
    (f & FS_IMMUTABLE_FL != 0, f & FS_APPEND_FL != 0)
}

/// EPERM for an immutable or append-only inode (attribute changes,
/// truncation, links to it).
pub fn check_unfrozen(inode: &Arc<dyn Inode>) -> Result<(), Errno> {
    match immutable_append(inode) {
        (false, false) => Ok(()),
        _ => Err(Errno::EPERM),
    }
}

/// may_create(): the directory is writable and searchable, on a writable
/// mount.
pub fn may_create(dir: &Location, creds: &Credentials) -> Result<(), Errno> {
    if dir.mount.readonly() {
        return Err(Errno::EROFS);
    }
    if immutable_append(&dir.dentry.inode).0 {
        return Err(Errno::EPERM);
    }
    let st = dir.stat()?;
    if !may_access(&st, creds, MAY_WRITE | MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    Ok(())
}

/// may_delete(): removing or renaming away `victim` from `dir`: write and
/// search on the directory, and in a sticky directory ownership of the
/// file or the directory (or CAP_FOWNER).
pub fn may_delete(dir: &Location, victim: &Arc<dyn Inode>, creds: &Credentials) -> Result<(), Errno> {
    let dst = dir.stat()?;
    if !may_access(&dst, creds, MAY_WRITE | MAY_EXEC) {
        return Err(Errno::EACCES);
    }
    let (dir_immutable, dir_append) = immutable_append(&dir.dentry.inode);
    if dir_immutable || dir_append {
        return Err(Errno::EPERM);
    }
    check_unfrozen(victim)?;
    if dst.mode & libc::S_ISVTX != 0 {
        let vst = victim.stat()?;
        if vst.uid != creds.fsuid && dst.uid != creds.fsuid && !creds.capable(CAP_FOWNER) {
            return Err(Errno::EPERM);
        }
    }
    if dir.mount.readonly() {
        return Err(Errno::EROFS);
    }
    Ok(())
}

/// The owner and mode of a new file in `dir` (inode_init_owner): the
/// fsuid; the directory's group if it is setgid (and new directories
/// inherit the bit), else the fsgid; S_ISGID dropped from a new
/// group-executable file whose group the creator is not in.
pub fn new_node(dir: &Location, creds: &Credentials, mode: u32, rdev: u64, target: Vec<u8>) -> Result<NewNode, Errno> {
    let dst = dir.stat()?;
    let mut mode = mode;
    let gid = if dst.mode & libc::S_ISGID != 0 {
        if mode & libc::S_IFMT == libc::S_IFDIR {
            mode |= libc::S_ISGID;
        } else if mode & libc::S_ISGID != 0
            && mode & libc::S_IXGRP != 0
            && !creds.in_group(dst.gid)
            && !creds.capable(CAP_FSETID)
        {
            mode &= !libc::S_ISGID;
        }
        dst.gid
    } else {
        creds.fsgid
    };
    Ok(NewNode { mode, uid: creds.fsuid, gid, rdev, target })
}

/// Makes `name` in `dir` (checked absent by the caller's lookup); returns
/// where it is.
pub fn create(dir: &Location, name: &[u8], node: &NewNode) -> Result<Location, Errno> {
    let inode = dir.dentry.inode.create(name, node)?;
    let dentry = dir.dentry.add_child(name, inode);
    inotify::on_child(dir, name, inotify::IN_CREATE, node.mode & libc::S_IFMT == libc::S_IFDIR, 0);
    Ok(Location { mount: dir.mount.clone(), dentry })
}

/// Links `src` (a non-directory on `dir`'s mount) as `name` in `dir`.
pub fn link(src: &Location, dir: &Location, name: &[u8]) -> Result<(), Errno> {
    if !Arc::ptr_eq(&src.mount, &dir.mount) {
        return Err(Errno::EXDEV);
    }
    if src.dentry.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM);
    }
    check_unfrozen(&src.dentry.inode)?;
    dir.dentry.inode.link(name, &src.dentry.inode)?;
    dir.dentry.add_child(name, lookup_again(dir, name)?);
    if inotify::active() {
        inotify::on_inode(src, inotify::IN_ATTRIB);
        inotify::on_child(dir, name, inotify::IN_CREATE, false, 0);
    }
    Ok(())
}

/// The inode a filesystem now has at `name` (after link).
fn lookup_again(dir: &Location, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
    dir.dentry.forget_child(name);
    dir.dentry.inode.lookup(name)
}

/// Removes `victim` (the child `name` of `dir`, a directory if `is_dir`).
pub fn remove(dir: &Location, name: &[u8], victim: &Location, is_dir: bool, creds: &Credentials) -> Result<(), Errno> {
    may_delete(dir, &victim.dentry.inode, creds)?;
    if victim.dentry.is_mountpoint() || Arc::ptr_eq(&victim.dentry, &victim.mount.root) {
        return Err(Errno::EBUSY);
    }
    let key = if inotify::active() { victim.stat().ok().map(|s| (victim.mount.dev, s.ino)) } else { None };
    dir.dentry.inode.unlink(name, is_dir)?;
    dir.dentry.remove_child(name);
    if let Some(key) = key {
        // A file's link count changed (IN_ATTRIB); the last link gone, or
        // a directory removed, ends the inode's watches.
        if !is_dir {
            inotify::on_self(key, inotify::IN_ATTRIB);
        }
        if is_dir || victim.dentry.inode.stat().is_ok_and(|s| s.nlink == 0) {
            inotify::on_self(key, inotify::IN_DELETE_SELF);
        }
        inotify::on_child(dir, name, inotify::IN_DELETE, is_dir, 0);
    }
    Ok(())
}

/// Renames `old` (child `oname` of `od`) to `nname` in `nd`; `new` is what
/// is there now, if anything.
#[allow(clippy::too_many_arguments)]
pub fn rename(
    od: &Location,
    oname: &[u8],
    old: &Location,
    nd: &Location,
    nname: &[u8],
    new: Option<&Location>,
    flags: u32,
    creds: &Credentials,
) -> Result<(), Errno> {
    let exchange = flags & libc::RENAME_EXCHANGE != 0;
    let old_dir = old.dentry.inode.file_type() == FileType::Directory;
    if let Some(n) = new {
        if Arc::ptr_eq(&n.dentry.inode, &old.dentry.inode) || Arc::ptr_eq(&n.dentry, &old.dentry) {
            return Ok(());
        }
        let new_dir = n.dentry.inode.file_type() == FileType::Directory;
        if !exchange {
            if old_dir && !new_dir {
                return Err(Errno::ENOTDIR);
            }
            if !old_dir && new_dir {
                return Err(Errno::EISDIR);
            }
        }
    } else if exchange {
        return Err(Errno::ENOENT);
    }
    // A directory cannot move beneath itself.
    if old_dir && old.dentry.is_ancestor_of(&nd.dentry) {
        return Err(Errno::EINVAL);
    }
    if let Some(n) = new {
        // The target may not be an ancestor of the source.
        if n.dentry.inode.file_type() == FileType::Directory && n.dentry.is_ancestor_of(&od.dentry) {
            return Err(if exchange { Errno::EINVAL } else { Errno::ENOTEMPTY });
        }
    }
    may_delete(od, &old.dentry.inode, creds)?;
    match new {
        Some(n) => may_delete(nd, &n.dentry.inode, creds)?,
        None => may_create(nd, creds)?,
    }
    // Moving a directory to another parent rewrites its `..`: it must be
    // writable.
    if old_dir && !Arc::ptr_eq(&od.dentry, &nd.dentry) && !may_access(&old.stat()?, creds, MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    for l in [Some(old), new].into_iter().flatten() {
        if l.dentry.is_mountpoint() {
            return Err(Errno::EBUSY);
        }
    }
    let keys = if inotify::active() {
        let k = |l: &Location| l.stat().ok().map(|s| (l.mount.dev, s.ino));
        Some((k(old), new.and_then(k)))
    } else {
        None
    };
    od.dentry.inode.rename(oname, &nd.dentry.inode, nname, flags)?;
    od.dentry.move_child(oname, &nd.dentry, nname, exchange);
    if let Some((old_key, new_key)) = keys {
        let c = inotify::cookie();
        inotify::on_child(od, oname, inotify::IN_MOVED_FROM, old_dir, c);
        inotify::on_child(nd, nname, inotify::IN_MOVED_TO, old_dir, c);
        if let Some(k) = old_key {
            inotify::on_self(k, inotify::IN_MOVE_SELF);
        }
        if let (Some(k), false) = (new_key, exchange) {
            inotify::on_self(k, inotify::IN_DELETE_SELF);
        }
    }
    Ok(())
}

/// A time for utimensat: `UTIME_NOW`, `UTIME_OMIT` or a time.
#[derive(Clone, Copy, Debug)]
pub enum TimeArg {
    /// Now.
    Now,
    /// Unchanged.
    Omit,
    /// This time.
    At(Timespec),
}

/// chmod: the owner or CAP_FOWNER; S_ISGID is dropped unless the caller
/// is in the file's group or has CAP_FSETID.
pub fn chmod(loc: &Location, mode: u32, creds: &Credentials) -> Result<(), Errno> {
    let st = loc.stat()?;
    if !owner_or_capable(&st, creds) {
        return Err(Errno::EPERM);
    }
    if loc.mount.readonly() {
        return Err(Errno::EROFS);
    }
    check_unfrozen(&loc.dentry.inode)?;
    let mut mode = mode & 0o7777;
    if !creds.in_group(st.gid) && !creds.capable(CAP_FSETID) {
        mode &= !libc::S_ISGID;
    }
    let r = loc.dentry.inode.setattr(&SetAttr { mode: Some(mode), ..Default::default() });
    if r.is_ok() {
        inotify::on_inode(loc, inotify::IN_ATTRIB);
    }
    r
}

/// The mode without S_ISUID, and without S_ISGID if group-executable
/// (Linux's file_remove_privs and chown rule); `None` if nothing changes.
fn privs_removed(mode: u32) -> Option<u32> {
    let old = mode & 0o7777;
    let mut new = old & !libc::S_ISUID;
    if new & libc::S_IXGRP != 0 {
        new &= !libc::S_ISGID;
    }
    (new != old).then_some(new)
}

/// chown: changing the owner needs CAP_CHOWN; the group, CAP_CHOWN or
/// ownership and membership of the new group. A non-directory loses
/// S_ISUID, and S_ISGID when group-executable (unless nothing changes).
pub fn chown(loc: &Location, uid: Option<u32>, gid: Option<u32>, creds: &Credentials) -> Result<(), Errno> {
    let st = loc.stat()?;
    let uid = uid.filter(|&u| u != u32::MAX);
    let gid = gid.filter(|&g| g != u32::MAX);
    let can_chown = creds.capable(CAP_CHOWN);
    if let Some(u) = uid {
        if u != st.uid && !can_chown {
            return Err(Errno::EPERM);
        }
        if u == st.uid && st.uid != creds.fsuid && !can_chown {
            return Err(Errno::EPERM);
        }
    }
    if let Some(g) = gid {
        let allowed = can_chown || (st.uid == creds.fsuid && (g == st.gid || creds.in_group(g)));
        if !allowed {
            return Err(Errno::EPERM);
        }
    }
    if loc.mount.readonly() {
        return Err(Errno::EROFS);
    }
    check_unfrozen(&loc.dentry.inode)?;
    let mut attr = SetAttr { uid, gid, ..Default::default() };
    if loc.dentry.inode.file_type() != FileType::Directory && (uid.is_some() || gid.is_some()) {
        attr.mode = privs_removed(st.mode);
    }
    let r = loc.dentry.inode.setattr(&attr);
    if r.is_ok() {
        inotify::on_inode(loc, inotify::IN_ATTRIB);
    }
    r
}

/// utimensat: explicit times need ownership (or CAP_FOWNER); setting both
/// to now needs ownership or write permission.
pub fn utimes(loc: &Location, atime: TimeArg, mtime: TimeArg, creds: &Credentials) -> Result<(), Errno> {
    let st = loc.stat()?;
    let explicit = matches!(atime, TimeArg::At(_))
        || matches!(mtime, TimeArg::At(_))
        || matches!(atime, TimeArg::Omit) != matches!(mtime, TimeArg::Omit);
    if loc.mount.readonly() {
        return Err(Errno::EROFS);
    }
    check_unfrozen(&loc.dentry.inode)?;
    if !owner_or_capable(&st, creds) {
        if explicit {
            return Err(Errno::EPERM);
        }
        if !may_access(&st, creds, MAY_WRITE) {
            return Err(Errno::EACCES);
        }
    }
    let t = now();
    let pick = |a: TimeArg| match a {
        TimeArg::Now => Some(t),
        TimeArg::Omit => None,
        TimeArg::At(x) => Some(x),
    };
    let r = loc.dentry.inode.setattr(&SetAttr { atime: pick(atime), mtime: pick(mtime), ..Default::default() });
    if r.is_ok() {
        inotify::on_inode(loc, inotify::IN_ATTRIB);
    }
    r
}

/// Sets a regular file's size (truncate, ftruncate, O_TRUNC); the caller
/// checked write access. A non-empty truncation drops S_ISUID and
/// group-executable S_ISGID without CAP_FSETID, as a write does.
pub fn truncate(inode: &Arc<dyn Inode>, size: u64, creds: &Credentials) -> Result<(), Errno> {
    match inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    check_unfrozen(inode)?;
    let st = inode.stat()?;
    let mut attr = SetAttr { size: Some(size), ..Default::default() };
    let t = now();
    attr.mtime = Some(t);
    if !creds.capable(CAP_FSETID) {
        attr.mode = privs_removed(st.mode);
    }
    inode.setattr(&attr)
}
