//! open, openat, close, close_range, dup, dup2, dup3, fcntl, lseek.

use sentry::abi::{Errno, O_LARGEFILE, VALID_OPEN_FLAGS};
use sentry::kernel::{fasync, SyscallArgs, SyscallResult, Task};
use sentry::vfs::open;

fn do_open(t: &Task, dirfd: i32, path_addr: u64, flags: u32, mode: u32) -> SyscallResult {
    let path = t.read_path(path_addr, false)?;
    if !t.fds.has_free(t.nofile_limit()) {
        return Err(Errno::EMFILE.into());
    }
    let start = t.start_dir(dirfd, &path)?;
    let (root, creds) = t.walk_context();
    let mode = mode & 0o7777 & !t.fs.umask();
    let file = open::open(&root, &creds, &start, &path, flags, mode)?;
    if flags & libc::O_NONBLOCK as u32 == 0 {
        wait_for_fifo_partner(t, &file)?;
    }
    break_leases_for_open(t, &file, flags)?;
    let fd = t.fds.insert(file, flags & libc::O_CLOEXEC as u32 != 0, 0, t.nofile_limit())?;
    Ok(fd as u64)
}

/// An open breaks the leases in its way (break_lease in do_dentry_open):
/// any open a write lease, an open for writing or truncating a read one.
fn break_leases_for_open(t: &Task, file: &sentry::vfs::File, flags: u32) -> Result<(), Errno> {
    if file.path_only() {
        return Ok(());
    }
    let Some(key) = sentry::vfs::lease::inode_key(file) else { return Ok(()) };
    let write = file.writable() || flags & libc::O_TRUNC as u32 != 0;
    crate::sys_lock::break_leases(t, key, write, flags & libc::O_NONBLOCK as u32 != 0)
}

/// ioctl(TIOCGPTPEER): opens the replica of the pair `term` (its
/// /dev/pts node) with open `flags` and returns the new fd.
pub(crate) fn open_pty_peer(t: &Task, term: &sentry::fs::tty::Terminal, flags: u32) -> SyscallResult {
    let allowed = (libc::O_ACCMODE | libc::O_NOCTTY | libc::O_NONBLOCK | libc::O_CLOEXEC) as u32;
    if flags & !allowed != 0 {
        return Err(Errno::EINVAL.into());
    }
    if !t.fds.has_free(t.nofile_limit()) {
        return Err(Errno::EMFILE.into());
    }
    let (root, creds) = t.walk_context();
    let path = format!("/dev/pts/{}", term.index);
    let file = open::open(&root, &creds, &root, path.as_bytes(), flags | O_LARGEFILE, 0)?;
    let fd = t.fds.insert(file, flags & libc::O_CLOEXEC as u32 != 0, 0, t.nofile_limit())?;
    Ok(fd as u64)
}

/// A FIFO opened only for reading or only for writing waits until the
/// other side opens it (fifo_open's wait_for_partner), interruptibly.
fn wait_for_fifo_partner(t: &Task, file: &sentry::vfs::File) -> Result<(), Errno> {
    let Some(end) = file.ops.as_any().and_then(|a| a.downcast_ref::<sentry::fs::pipe::PipeEnd>()) else {
        return Ok(());
    };
    if !end.awaits_partner() {
        return Ok(());
    }
    let w = t.waker();
    let _reg = sentry::waiter::Registration::new(end.queue(), !0, w.clone());
    while end.awaits_partner() {
        t.block(&w, None)?;
        w.reset();
    }
    Ok(())
}

/// open(2).
pub fn sys_open(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_open(t, libc::AT_FDCWD, a.a[0], (a.a[1] as u32 & VALID_OPEN_FLAGS) | O_LARGEFILE, a.a[2] as u32)
}

/// creat(2): open(path, O_CREAT | O_WRONLY | O_TRUNC, mode).
pub fn creat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = (libc::O_CREAT | libc::O_WRONLY | libc::O_TRUNC) as u32;
    do_open(t, libc::AT_FDCWD, a.a[0], flags | O_LARGEFILE, a.a[1] as u32)
}

/// openat(2).
pub fn openat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_open(t, a.a[0] as i32, a.a[1], (a.a[2] as u32 & VALID_OPEN_FLAGS) | O_LARGEFILE, a.a[3] as u32)
}

/// openat2(2): `struct open_how` (flags, mode, resolve), strictly checked:
/// unknown flags or resolve bits, a mode without O_CREAT/O_TMPFILE, and
/// RESOLVE_BENEATH with RESOLVE_IN_ROOT are EINVAL; a larger struct must be
/// zero past what we know (E2BIG).
pub fn openat2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    use sentry::vfs::path::{
        RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
    };
    const VER0: u64 = 24;
    let (dirfd, how, size) = (a.a[0] as i32, a.a[2], a.a[3]);
    if size < VER0 {
        return Err(Errno::EINVAL.into());
    }
    if size > 4096 {
        return Err(Errno::E2BIG.into());
    }
    let mut raw = vec![0u8; size as usize];
    t.mm().copy_in(how, &mut raw)?;
    if raw[VER0 as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG.into());
    }
    let word = |i: usize| u64::from_ne_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let (flags, mode, resolve) = (word(0), word(1), word(2));
    if flags & !(VALID_OPEN_FLAGS as u64 | O_LARGEFILE as u64) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let known = RESOLVE_NO_XDEV
        | RESOLVE_NO_MAGICLINKS
        | RESOLVE_NO_SYMLINKS
        | RESOLVE_BENEATH
        | RESOLVE_IN_ROOT
        | RESOLVE_CACHED;
    if resolve & !known != 0 || (resolve & RESOLVE_BENEATH != 0 && resolve & RESOLVE_IN_ROOT != 0) {
        return Err(Errno::EINVAL.into());
    }
    let creating = flags & libc::O_CREAT as u64 != 0 || flags & libc::O_TMPFILE as u64 == libc::O_TMPFILE as u64;
    if mode & !0o7777 != 0 || (mode != 0 && !creating) {
        return Err(Errno::EINVAL.into());
    }
    if flags & libc::O_PATH as u64 != 0
        && flags
            & !(libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u64
            & !(O_LARGEFILE as u64)
            != 0
    {
        return Err(Errno::EINVAL.into());
    }
    let path = t.read_path(a.a[1], false)?;
    if !t.fds.has_free(t.nofile_limit()) {
        return Err(Errno::EMFILE.into());
    }
    let start = t.start_dir(dirfd, &path)?;
    let (root, creds) = t.walk_context();
    let flags = flags as u32 | O_LARGEFILE;
    let mode = mode as u32 & !t.fs.umask();
    let file = sentry::vfs::open::open_resolve(&root, &creds, &start, &path, flags, mode, resolve)?;
    if flags & libc::O_NONBLOCK as u32 == 0 {
        wait_for_fifo_partner(t, &file)?;
    }
    let fd = t.fds.insert(file, flags & libc::O_CLOEXEC as u32 != 0, 0, t.nofile_limit())?;
    Ok(fd as u64)
}

/// close(2).
pub fn close(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.fds.remove(a.a[0] as i32)?;
    Ok(0)
}

/// close_range(2).
pub fn close_range(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (first, last, flags) = (a.a[0] as u32, a.a[1] as u32, a.a[2] as u32);
    if flags & !(libc::CLOSE_RANGE_UNSHARE | libc::CLOSE_RANGE_CLOEXEC) != 0 || first > last {
        return Err(Errno::EINVAL.into());
    }
    // The fd table is not shared with anyone yet, so UNSHARE has nothing to do.
    drop(t.fds.close_range(first, last, flags & libc::CLOSE_RANGE_CLOEXEC != 0));
    Ok(0)
}

/// dup(2).
pub fn dup(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    Ok(t.fds.insert(f, false, 0, t.nofile_limit())? as u64)
}

/// dup2(2).
pub fn dup2(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (old, new) = (a.a[0] as i32, a.a[1] as i32);
    let f = t.file(old)?;
    if old == new {
        return Ok(new as u64);
    }
    drop(t.fds.insert_at(new, f, false, t.nofile_limit())?);
    Ok(new as u64)
}

/// dup3(2).
pub fn dup3(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (old, new, flags) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32);
    if flags & !libc::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL.into());
    }
    if old == new {
        return Err(Errno::EINVAL.into());
    }
    let f = t.file(old)?;
    drop(t.fds.insert_at(new, f, flags & libc::O_CLOEXEC != 0, t.nofile_limit())?);
    Ok(new as u64)
}

/// fcntl(2).
pub fn fcntl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let fd = a.a[0] as i32;
    let cmd = a.a[1] as i32;
    let f = t.file(fd)?;
    match cmd {
        libc::F_DUPFD | libc::F_DUPFD_CLOEXEC => {
            let min = a.a[2] as i32;
            let limit = t.nofile_limit();
            if min < 0 || min as u64 >= limit {
                return Err(Errno::EINVAL.into());
            }
            Ok(t.fds.insert(f, cmd == libc::F_DUPFD_CLOEXEC, min, limit)? as u64)
        }
        libc::F_GETFD => Ok(if t.fds.cloexec(fd)? { libc::FD_CLOEXEC as u64 } else { 0 }),
        libc::F_SETFD => {
            t.fds.set_cloexec(fd, a.a[2] as i32 & libc::FD_CLOEXEC != 0)?;
            Ok(0)
        }
        libc::F_GETFL => Ok(f.flags() as u64),
        libc::F_SETFL => {
            if f.path_only() {
                return Err(Errno::EBADF.into());
            }
            let was = f.flags() & libc::O_ASYNC as u32 != 0;
            f.set_flags(a.a[2] as u32);
            let now = f.flags() & libc::O_ASYNC as u32 != 0;
            if was != now {
                sentry::kernel::fasync::set_async(&t.kernel, &f, fd, now);
            }
            Ok(0)
        }
        libc::F_GETOWN => {
            let (kind, id) = f.fasync().owner;
            Ok(if kind == fasync::OWNER_PGRP { -(id as i64) as u64 } else { id as u64 })
        }
        libc::F_SETOWN => {
            let who = a.a[2] as i32;
            let (kind, id) = if who < 0 { (fasync::OWNER_PGRP, who.wrapping_neg()) } else { (fasync::OWNER_PID, who) };
            fasync::set_owner(&t.kernel, &f, kind, id)?;
            Ok(0)
        }
        fasync::F_GETOWN_EX => {
            let (kind, id) = f.fasync().owner;
            t.copy_out(a.a[2], &[kind, id])?;
            Ok(0)
        }
        fasync::F_SETOWN_EX => {
            let [kind, id]: [i32; 2] = t.copy_in(a.a[2])?;
            fasync::set_owner(&t.kernel, &f, kind, id)?;
            Ok(0)
        }
        fasync::F_GETSIG => Ok(f.fasync().sig as u64),
        fasync::F_SETSIG => {
            let sig = a.a[2] as i64;
            if !(0..=64).contains(&sig) {
                return Err(Errno::EINVAL.into());
            }
            f.fasync().sig = sig as i32;
            Ok(0)
        }
        libc::F_GETPIPE_SZ => Ok(crate::sys_pipe::pipe_of(&f).ok_or(Errno::EBADF)?.capacity() as u64),
        libc::F_SETPIPE_SZ => {
            let p = crate::sys_pipe::pipe_of(&f).ok_or(Errno::EBADF)?;
            Ok(p.set_capacity(a.a[2], t.creds.euid == 0)? as u64)
        }
        c if crate::sys_lock::is_lock_cmd(c) => crate::sys_lock::fcntl_lock(t, &f, c, a.a[2]),
        libc::F_NOTIFY => {
            let loc = f.location.as_ref().ok_or(Errno::ENOTDIR)?;
            if loc.dentry.inode.file_type() != sentry::vfs::FileType::Directory {
                return Err(Errno::ENOTDIR.into());
            }
            let key = sentry::fs::inotify::key_of(loc).ok_or(Errno::ENOTDIR)?;
            let arg = a.a[2] as u32;
            if arg & !sentry::fs::dnotify::DN_MULTISHOT != 0 {
                fasync::default_owner(&f, t.tg.pid);
            }
            sentry::fs::dnotify::set(&t.kernel, &f, fd, t.fds.id(), key, arg)?;
            Ok(0)
        }
        libc::F_SETLEASE | libc::F_GETLEASE => crate::sys_lock::fcntl_lease(t, &f, fd, cmd, a.a[2]),
        crate::sys_memfd::F_ADD_SEALS | crate::sys_memfd::F_GET_SEALS => {
            crate::sys_memfd::fcntl_seals(t, &f, cmd, a.a[2])
        }
        _ => {
            crate::log_once_unsupported("fcntl", cmd as u64);
            Err(Errno::EINVAL.into())
        }
    }
}

/// lseek(2).
pub fn lseek(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    Ok(f.seek(a.a[1] as i64, a.a[2] as i32)?)
}

/// fadvise64(2): advice is a hint; the checks are Linux's.
pub fn fadvise64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    if f.stat().is_ok_and(|s| s.mode & libc::S_IFMT == libc::S_IFIFO) {
        return Err(Errno::ESPIPE.into());
    }
    if (a.a[2] as i64) < 0 || !(0..=5).contains(&(a.a[3] as i32)) {
        return Err(Errno::EINVAL.into());
    }
    Ok(0)
}

/// readahead(2): a hint on a readable regular file (EBADF, EINVAL
/// otherwise); the sandbox's files need no warming.
pub fn readahead(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() || !f.readable() {
        return Err(Errno::EBADF.into());
    }
    if f.stat()?.mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno::EINVAL.into());
    }
    Ok(0)
}

/// name_to_handle_at(2): the checks Linux makes, then EOPNOTSUPP: none of
/// the sandbox's filesystems export file handles (as an overlay without
/// `nfs_export` does not).
pub fn name_to_handle_at(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    /// AT_HANDLE_FID.
    const AT_HANDLE_FID: i32 = 0x200;
    /// MAX_HANDLE_SZ.
    const MAX_HANDLE_SZ: u32 = 128;
    let (dirfd, path, handle, flags) = (a.a[0] as i32, a.a[1], a.a[2], a.a[4] as i32);
    if flags & !(libc::AT_SYMLINK_FOLLOW | libc::AT_EMPTY_PATH | AT_HANDLE_FID) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let p = t.read_path(path, flags & libc::AT_EMPTY_PATH != 0)?;
    let follow = if flags & libc::AT_SYMLINK_FOLLOW != 0 { 0 } else { libc::AT_SYMLINK_NOFOLLOW };
    t.resolve_at(dirfd, &p, follow | (flags & libc::AT_EMPTY_PATH))?;
    let bytes: u32 = t.copy_in(handle)?;
    if bytes > MAX_HANDLE_SZ {
        return Err(Errno::EINVAL.into());
    }
    Err(Errno::EOPNOTSUPP.into())
}

/// open_by_handle_at(2): CAP_DAC_READ_SEARCH, then EOPNOTSUPP (no
/// filesystem here exports handles).
pub fn open_by_handle_at(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    if !t.creds.capable(sentry::auth::CAP_DAC_READ_SEARCH) {
        return Err(Errno::EPERM.into());
    }
    Err(Errno::EOPNOTSUPP.into())
}
