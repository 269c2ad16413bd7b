//! inotify_init, inotify_init1, inotify_add_watch, inotify_rm_watch: events
//! for changes made inside the sandbox (`sentry::fs::inotify`).

use std::sync::Arc;

use sentry::abi::Errno;
use sentry::fs::inotify::{Inotify, IN_ALL_EVENTS, IN_DONT_FOLLOW, IN_MASK_ADD, IN_MASK_CREATE, IN_ONLYDIR};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::path::{may_access, MAY_READ};
use sentry::vfs::{File, FileType, Lookup};

fn create(t: &mut Task, flags: i32) -> SyscallResult {
    if flags & !(libc::IN_CLOEXEC | libc::IN_NONBLOCK) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if !t.fds.has_free(t.nofile_limit()) {
        return Err(Errno::EMFILE.into());
    }
    let status = libc::O_RDONLY as u32 | (flags & libc::IN_NONBLOCK) as u32;
    let f = File::new(Inotify::new(), status, None, b"anon_inode:inotify".to_vec());
    Ok(t.fds.insert(f, flags & libc::IN_CLOEXEC != 0, 0, t.nofile_limit())? as u64)
}

/// inotify_init(2).
pub fn inotify_init(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    create(t, 0)
}

/// inotify_init1(2).
pub fn inotify_init1(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    create(t, a.a[0] as i32)
}

fn instance(t: &Task, fd: u64) -> Result<(Arc<File>, ()), Errno> {
    let f = t.file(fd as i32)?;
    if f.ops.as_any().and_then(|a| a.downcast_ref::<Inotify>()).is_none() {
        return Err(Errno::EINVAL);
    }
    Ok((f, ()))
}

/// inotify_add_watch(2).
pub fn inotify_add_watch(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let mask = a.a[2] as u32;
    let (f, ()) = instance(t, a.a[0])?;
    if mask & IN_ALL_EVENTS == 0 {
        return Err(Errno::EINVAL.into());
    }
    if mask & IN_MASK_ADD != 0 && mask & IN_MASK_CREATE != 0 {
        return Err(Errno::EINVAL.into());
    }
    let path = t.read_path(a.a[1], false)?;
    let follow = if mask & IN_DONT_FOLLOW != 0 { Lookup::NoFollow } else { Lookup::Follow };
    let loc = t.resolve(libc::AT_FDCWD, &path, follow)?;
    if mask & IN_ONLYDIR != 0 && loc.dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR.into());
    }
    let st = loc.stat()?;
    if !may_access(&st, &t.creds, MAY_READ) {
        return Err(Errno::EACCES.into());
    }
    let i = f.ops.as_any().and_then(|a| a.downcast_ref::<Inotify>()).ok_or(Errno::EINVAL)?;
    Ok(i.add_watch((loc.mount.dev, st.ino), mask)? as u64)
}

/// inotify_rm_watch(2).
pub fn inotify_rm_watch(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (f, ()) = instance(t, a.a[0])?;
    let i = f.ops.as_any().and_then(|a| a.downcast_ref::<Inotify>()).ok_or(Errno::EINVAL)?;
    i.rm_watch(a.a[1] as i32)?;
    Ok(0)
}
