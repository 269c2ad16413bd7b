//! stat, lstat, fstat, newfstatat, statx, access, faccessat, faccessat2,
//! readlink, readlinkat.

use sentry::abi::{dev_split, Errno, Stat, Statx, StatxTimestamp, Timespec};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::path::{may_access, MAY_EXEC, MAY_READ, MAY_WRITE};
use sentry::vfs::{FileType, Lookup};

fn stat_path(t: &Task, dirfd: i32, path_addr: u64, flags: i32) -> Result<Stat, Errno> {
    let path = t.read_path(path_addr, flags & libc::AT_EMPTY_PATH != 0)?;
    if path.is_empty() && dirfd != libc::AT_FDCWD {
        return t.file(dirfd)?.stat();
    }
    t.resolve_at(dirfd, &path, flags)?.stat()
}

/// stat(2).
pub fn stat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let st = stat_path(t, libc::AT_FDCWD, a.a[0], 0)?;
    t.copy_out(a.a[1], &st)?;
    Ok(0)
}

/// lstat(2).
pub fn lstat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let st = stat_path(t, libc::AT_FDCWD, a.a[0], libc::AT_SYMLINK_NOFOLLOW)?;
    t.copy_out(a.a[1], &st)?;
    Ok(0)
}

/// fstat(2).
pub fn fstat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let st = t.file(a.a[0] as i32)?.stat()?;
    t.copy_out(a.a[1], &st)?;
    Ok(0)
}

/// newfstatat(2).
pub fn newfstatat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = a.a[3] as i32;
    if flags & !(libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let st = stat_path(t, a.a[0] as i32, a.a[1], flags)?;
    t.copy_out(a.a[2], &st)?;
    Ok(0)
}

fn ts(t: Timespec) -> StatxTimestamp {
    StatxTimestamp { tv_sec: t.tv_sec, tv_nsec: t.tv_nsec as u32, reserved: 0 }
}

/// statx(2).
pub fn statx(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (dirfd, path_addr, flags, mask, buf) = (a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3] as u32, a.a[4]);
    let known = libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH | libc::AT_NO_AUTOMOUNT | libc::AT_STATX_SYNC_TYPE;
    if flags & !known != 0 || flags & libc::AT_STATX_SYNC_TYPE == libc::AT_STATX_SYNC_TYPE {
        return Err(Errno::EINVAL.into());
    }
    if mask & libc::STATX__RESERVED as u32 != 0 {
        return Err(Errno::EINVAL.into());
    }
    let (st, mnt_id) = if path_addr == 0 && flags & libc::AT_EMPTY_PATH != 0 {
        let f = t.file(dirfd)?;
        (f.stat()?, f.location.as_ref().map_or(0, |l| l.mount.id))
    } else {
        let path = t.read_path(path_addr, flags & libc::AT_EMPTY_PATH != 0)?;
        if path.is_empty() && dirfd != libc::AT_FDCWD {
            let f = t.file(dirfd)?;
            (f.stat()?, f.location.as_ref().map_or(0, |l| l.mount.id))
        } else {
            let loc = t.resolve_at(dirfd, &path, flags)?;
            (loc.stat()?, loc.mount.id)
        }
    };
    let (dmaj, dmin) = dev_split(st.dev);
    let (rmaj, rmin) = dev_split(st.rdev);
    let sx = Statx {
        mask: libc::STATX_BASIC_STATS | libc::STATX_MNT_ID,
        blksize: st.blksize as u32,
        nlink: st.nlink as u32,
        uid: st.uid,
        gid: st.gid,
        mode: st.mode as u16,
        ino: st.ino,
        size: st.size as u64,
        blocks: st.blocks as u64,
        atime: ts(st.atime),
        mtime: ts(st.mtime),
        ctime: ts(st.ctime),
        rdev_major: rmaj,
        rdev_minor: rmin,
        dev_major: dmaj,
        dev_minor: dmin,
        mnt_id: mnt_id as u64,
        ..Default::default()
    };
    t.copy_out(buf, &sx)?;
    Ok(0)
}

fn access_common(t: &Task, dirfd: i32, path_addr: u64, mode: i32, flags: i32) -> SyscallResult {
    if mode & !(libc::R_OK | libc::W_OK | libc::X_OK) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if flags & !(libc::AT_EACCESS | libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let path = t.read_path(path_addr, flags & libc::AT_EMPTY_PATH != 0)?;
    let loc = t.resolve_at(dirfd, &path, flags)?;
    if mode == libc::F_OK {
        return Ok(0);
    }
    let st = loc.stat()?;
    let ftype = loc.dentry.inode.file_type();
    if mode & libc::W_OK != 0
        && loc.mount.readonly()
        && matches!(ftype, FileType::Regular | FileType::Directory | FileType::Symlink)
    {
        return Err(Errno::EROFS.into());
    }
    let mut creds = (*t.creds).clone();
    if flags & libc::AT_EACCESS == 0 {
        // access(2) checks with the real ids.
        creds.fsuid = creds.uid;
        creds.fsgid = creds.gid;
    }
    let mut mask = 0;
    if mode & libc::R_OK != 0 {
        mask |= MAY_READ;
    }
    if mode & libc::W_OK != 0 {
        mask |= MAY_WRITE;
    }
    if mode & libc::X_OK != 0 {
        mask |= MAY_EXEC;
    }
    if !may_access(&st, &creds, mask) {
        return Err(Errno::EACCES.into());
    }
    Ok(0)
}

/// access(2).
pub fn access(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    access_common(t, libc::AT_FDCWD, a.a[0], a.a[1] as i32, 0)
}

/// faccessat(2) (no flags argument).
pub fn faccessat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    access_common(t, a.a[0] as i32, a.a[1], a.a[2] as i32, 0)
}

/// faccessat2(2).
pub fn faccessat2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    access_common(t, a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3] as i32)
}

fn readlink_common(t: &Task, dirfd: i32, path_addr: u64, buf: u64, size: u64) -> SyscallResult {
    let path = t.read_path(path_addr, true)?;
    if (size as i32) <= 0 {
        return Err(Errno::EINVAL.into());
    }
    let loc = if path.is_empty() {
        if dirfd == libc::AT_FDCWD {
            return Err(Errno::ENOENT.into());
        }
        // An empty path reads the link an O_PATH fd refers to; any other
        // file gives ENOENT.
        let loc = t.file(dirfd)?.location.clone().ok_or(Errno::ENOENT)?;
        if loc.dentry.inode.file_type() != sentry::vfs::FileType::Symlink {
            return Err(Errno::ENOENT.into());
        }
        loc
    } else {
        t.resolve(dirfd, &path, Lookup::NoFollow)?
    };
    let target = loc.dentry.inode.readlink()?;
    let n = target.len().min(size as usize);
    t.mm().copy_out(buf, &target[..n])?;
    Ok(n as u64)
}

/// readlink(2).
pub fn readlink(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    readlink_common(t, libc::AT_FDCWD, a.a[0], a.a[1], a.a[2])
}

/// readlinkat(2).
pub fn readlinkat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    readlink_common(t, a.a[0] as i32, a.a[1], a.a[2], a.a[3])
}
