//! mount(2) and umount2(2) inside the sandbox, for CAP_SYS_ADMIN: new
//! tmpfs (size=, nr_inodes=, mode=, uid=, gid=), proc and sysfs instances,
//! bind mounts of a file or directory (recursive with MS_REC), moves
//! (MS_MOVE), remounts (read-only or read-write; nosuid, nodev and noexec
//! as for new mounts), propagation changes
//! (no-ops: the sandbox has one mount namespace), and pivot_root(2).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use sentry::abi::{dev_make, Errno};
use sentry::auth::CAP_SYS_ADMIN;
use sentry::fs::tmpfs::{Tmpfs, TmpfsOptions};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::{Dentry, FileType, Inode, Location, Lookup, Mount, MountFlags};

const MS_RDONLY: u64 = 1;
const MS_NOSUID: u64 = 2;
const MS_NODEV: u64 = 4;
const MS_NOEXEC: u64 = 8;
const MS_REMOUNT: u64 = 32;
const MS_BIND: u64 = 4096;
const MS_MOVE: u64 = 8192;
const MS_REC: u64 = 16384;
const MS_PROPAGATION: u64 = (1 << 17) | (1 << 18) | (1 << 19) | (1 << 20);

/// Device minors for filesystems mounted inside the sandbox.
static NEXT_MINOR: AtomicU32 = AtomicU32::new(100);

fn read_str(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    t.mm().read_cstring(addr, 4096)
}

/// The per-mount flags `flags` asks for.
fn mount_flags(flags: u64) -> MountFlags {
    let mut f = MountFlags::empty();
    for (bit, flag) in [(MS_NOSUID, MountFlags::NOSUID), (MS_NODEV, MountFlags::NODEV), (MS_NOEXEC, MountFlags::NOEXEC)]
    {
        if flags & bit != 0 {
            f |= flag;
        }
    }
    f
}

fn is_mount_root(l: &Location) -> bool {
    Arc::ptr_eq(&l.dentry, &l.mount.root)
}

/// mount(2).
pub fn mount(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (source, target, fstype, flags, data) = (a.a[0], a.a[1], a.a[2], a.a[3], a.a[4]);
    if !t.creds.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM.into());
    }
    let target_path = t.read_path(target, false)?;
    let at = t.resolve(libc::AT_FDCWD, &target_path, Lookup::Follow)?;
    if flags & MS_PROPAGATION != 0 {
        return if is_mount_root(&at) { Ok(0) } else { Err(Errno::EINVAL.into()) };
    }
    if flags & MS_REMOUNT != 0 {
        if !is_mount_root(&at) {
            return Err(Errno::EINVAL.into());
        }
        at.mount.set_readonly(flags & MS_RDONLY != 0);
        at.mount.set_flags(mount_flags(flags));
        return Ok(0);
    }
    if flags & MS_MOVE != 0 {
        let src = t.resolve(libc::AT_FDCWD, &read_str(t, source)?, Lookup::Follow)?;
        return move_mount(t, &src, &at).map_err(Into::into);
    }
    let minor = NEXT_MINOR.fetch_add(1, Ordering::Relaxed);
    let (root, dev, fs): (Arc<dyn Inode>, u64, &'static str) = if flags & MS_BIND != 0 {
        let src_path = read_str(t, source)?;
        let src = t.resolve(libc::AT_FDCWD, &src_path, Lookup::Follow)?;
        let src_dir = src.dentry.inode.file_type() == FileType::Directory;
        if src_dir != (at.dentry.inode.file_type() == FileType::Directory) {
            return Err(Errno::ENOTDIR.into());
        }
        let mut mounts = t.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner());
        let m = Mount::mount_at(&at, src.dentry.clone(), src.mount.dev, src.mount.readonly(), src.mount.fstype);
        // A bind mount keeps the source mount's flags.
        m.set_flags(src.mount.flags());
        mounts.push(m.clone());
        if flags & MS_REC != 0 {
            bind_children(&mut mounts, &src, &m);
        }
        return Ok(0);
    } else {
        let fstype = read_str(t, fstype)?;
        let data = if data != 0 { read_str(t, data)? } else { Vec::new() };
        if at.dentry.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR.into());
        }
        match fstype.as_slice() {
            b"tmpfs" => {
                (Tmpfs::new_root(t.kernel.mf.clone(), TmpfsOptions::parse(&data)?), dev_make(0, minor), "tmpfs")
            }
            b"proc" => (sentry::fs::proc::new_procfs(Arc::downgrade(&t.kernel)), dev_make(0, minor), "proc"),
            b"sysfs" => {
                let mask = &t.kernel.cpu_mask;
                let cpus: Vec<usize> = (0..mask.len() * 8).filter(|&i| mask[i / 8] & (1 << (i % 8)) != 0).collect();
                (sentry::fs::sysfs::new_sysfs(&cpus), dev_make(0, minor), "sysfs")
            }
            b"mqueue" => (sentry::fs::mqueuefs::new_mqueuefs(t.kernel.ipc.clone()), dev_make(0, minor), "mqueue"),
            _ => return Err(Errno::ENODEV.into()),
        }
    };
    let m = Mount::mount_at(&at, Dentry::new_root(root), dev, flags & MS_RDONLY != 0, fs);
    m.set_flags(mount_flags(flags));
    t.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner()).push(m);
    Ok(0)
}

/// MS_BIND | MS_REC: the mounts inside the source's subtree (`src`, seen
/// through its mount) are bound again at the same places in `copy`, and
/// theirs below them.
pub fn bind_children(mounts: &mut Vec<Arc<Mount>>, src: &Location, copy: &Arc<Mount>) {
    let children: Vec<Arc<Mount>> = mounts
        .iter()
        // Not the copy itself: bound onto its own source's subtree, it is
        // one of the source mount's children.
        .filter(|c| !Arc::ptr_eq(c, copy))
        .filter(|c| c.parent().is_some_and(|(pm, pd)| Arc::ptr_eq(&pm, &src.mount) && src.dentry.is_ancestor_of(&pd)))
        .cloned()
        .collect();
    for c in children {
        let Some((_, pd)) = c.parent() else { continue };
        let at = Location { mount: copy.clone(), dentry: pd };
        let m = Mount::mount_at(&at, c.root.clone(), c.dev, c.readonly(), c.fstype);
        m.set_flags(c.flags());
        mounts.push(m.clone());
        bind_children(mounts, &Location { mount: c.clone(), dentry: c.root.clone() }, &m);
    }
}

/// MS_MOVE: `src` must be the root of a mount other than the root mount
/// (EINVAL), `at` of the same kind (a directory for a directory), and not
/// inside the mount being moved (ELOOP).
fn move_mount(t: &Task, src: &Location, at: &Location) -> Result<u64, Errno> {
    if !is_mount_root(src) || src.mount.parent().is_none() {
        return Err(Errno::EINVAL);
    }
    let src_dir = src.dentry.inode.file_type() == FileType::Directory;
    if src_dir != (at.dentry.inode.file_type() == FileType::Directory) {
        return Err(Errno::ENOTDIR);
    }
    let _mounts = t.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner());
    let mut cur = Some(at.mount.clone());
    while let Some(m) = cur {
        if Arc::ptr_eq(&m, &src.mount) {
            return Err(Errno::ELOOP);
        }
        cur = m.parent().map(|(pm, _)| pm);
    }
    src.mount.move_to(at);
    Ok(0)
}

/// Whether some task has a file open on `mount`, or its working or root
/// directory there (Linux's propagate_mount_busy reference counts). The
/// umount2 caller's own lookup of the mount does not count.
fn in_use(t: &Task, mount: &Arc<Mount>) -> bool {
    let dirs_here = t.kernel.tasks.read().tasks.values().any(|task| {
        let fs = task.resources().fs;
        Arc::ptr_eq(&fs.cwd().mount, mount) || Arc::ptr_eq(&fs.root().mount, mount)
    });
    dirs_here
        || t.kernel.fd_tables().iter().any(|fds| {
            fds.fds()
                .into_iter()
                .any(|fd| fds.get(fd).is_ok_and(|f| f.location.as_ref().is_some_and(|l| Arc::ptr_eq(&l.mount, mount))))
        })
}

/// umount2(2): the mount must not have mounts on it, open files, or
/// tasks' working or root directories in it (EBUSY) unless MNT_DETACH.
pub fn umount2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    const MNT_FORCE: u64 = 1;
    const MNT_DETACH: u64 = 2;
    const MNT_EXPIRE: u64 = 4;
    const UMOUNT_NOFOLLOW: u64 = 8;
    let flags = a.a[1];
    if flags & !(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW) != 0
        || (flags & MNT_EXPIRE != 0 && flags & (MNT_FORCE | MNT_DETACH) != 0)
    {
        return Err(Errno::EINVAL.into());
    }
    if !t.creds.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM.into());
    }
    let path = t.read_path(a.a[0], false)?;
    let follow = if flags & UMOUNT_NOFOLLOW != 0 { Lookup::NoFollow } else { Lookup::Follow };
    // The mount on top of the place named, even where the path ends in
    // `.` or `/` (LOOKUP_MOUNTPOINT).
    let at = t.resolve(libc::AT_FDCWD, &path, follow)?.topmost();
    if !is_mount_root(&at) {
        return Err(Errno::EINVAL.into());
    }
    if at.mount.parent().is_none() {
        return Err(Errno::EBUSY.into());
    }
    let mut mounts = t.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner());
    let busy = mounts.iter().any(|m| m.parent().is_some_and(|(pm, _)| Arc::ptr_eq(&pm, &at.mount)));
    if (busy || in_use(t, &at.mount)) && flags & MNT_DETACH == 0 {
        return Err(Errno::EBUSY.into());
    }
    at.mount.detach();
    // A lazy unmount takes the mounts below it out of the table too.
    let mut gone = vec![at.mount.clone()];
    while let Some(g) = gone.pop() {
        mounts.retain(|m| {
            let below = m.parent().is_some_and(|(pm, _)| Arc::ptr_eq(&pm, &g));
            if below {
                gone.push(m.clone());
            }
            !Arc::ptr_eq(m, &g) && !below
        });
    }
    Ok(0)
}

/// pivot_root(2): the caller's root mount goes onto `put_old` and
/// `new_root` becomes the root; every task whose root or working
/// directory was the old root moves to the new one (Linux's
/// chroot_fs_refs).
pub fn pivot_root(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if !t.creds.capable(CAP_SYS_ADMIN) {
        return Err(Errno::EPERM.into());
    }
    let dir = |t: &mut Task, addr: u64| -> Result<Location, Errno> {
        let path = t.read_path(addr, false)?;
        let l = t.resolve(libc::AT_FDCWD, &path, Lookup::Follow)?;
        if l.dentry.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(l)
    };
    let new = dir(t, a.a[0])?;
    let old = dir(t, a.a[1])?;
    let root = t.fs.root();
    let _mounts = t.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner());
    sentry::vfs::dentry::pivot_root(&new, &old, &root)?;
    let new_root = new.mount_root();
    for task in t.kernel.tasks.read().tasks.values() {
        let fs = task.resources().fs;
        let mut c = fs.lock();
        if c.root.same(&root) {
            c.root = new_root.clone();
        }
        if c.cwd.same(&root) {
            c.cwd = new_root.clone();
        }
    }
    let mut kroot = t.kernel.root.lock().unwrap_or_else(|e| e.into_inner());
    if kroot.as_ref().is_some_and(|r| r.same(&root)) {
        *kroot = Some(new_root);
    }
    Ok(0)
}
