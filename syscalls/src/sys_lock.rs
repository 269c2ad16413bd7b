//! Advisory locks: flock(2), fcntl(2)'s record locks (F_GETLK, F_SETLK,
//! F_SETLKW, and the OFD variants), and leases (F_SETLEASE, F_GETLEASE,
//! and the break an open or truncate makes). The lock and lease state is
//! `sentry::vfs::lock`'s and `sentry::vfs::lease`'s; waiting happens
//! here, interruptibly.

use std::sync::Arc;

use sentry::abi::{Errno, Flock};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::lock::{self, Owner, Record};
use sentry::vfs::File;
use sentry::waiter::Registration;

/// The locks of an open file; files not opened by path lock by inode.
fn locks_for(f: &File) -> Arc<lock::FileLocks> {
    let key = f.lock_key().unwrap_or_else(|| (0, f.ops.stat().map_or(0, |s| s.ino)));
    lock::locks_of(key)
}

/// Waits until `attempt` stops failing with `busy`, interruptibly.
fn wait_for(
    t: &Task,
    locks: &lock::FileLocks,
    busy: Errno,
    mut attempt: impl FnMut() -> Result<(), Errno>,
) -> Result<(), Errno> {
    let w = t.waker();
    let _reg = Registration::new(&locks.queue, !0, w.clone());
    loop {
        match attempt() {
            Err(e) if e == busy => {}
            r => return r,
        }
        t.block(&w, None)?;
        w.reset();
    }
}

/// flock(2).
pub fn flock(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    let op = a.a[1] as i32;
    let nb = op & libc::LOCK_NB != 0;
    let locks = locks_for(&f);
    let owner = f.lock_owner();
    match op & !libc::LOCK_NB {
        libc::LOCK_UN => {
            locks.funlock(owner);
            Ok(0)
        }
        libc::LOCK_SH | libc::LOCK_EX => {
            let ex = op & libc::LOCK_EX != 0;
            if nb {
                locks.flock(owner, ex)?;
            } else {
                wait_for(t, &locks, Errno::EWOULDBLOCK, || locks.flock(owner, ex))?;
            }
            Ok(0)
        }
        _ => Err(Errno::EINVAL.into()),
    }
}

/// F_OFD_GETLK.
const F_OFD_GETLK: i32 = 36;
/// F_OFD_SETLK.
const F_OFD_SETLK: i32 = 37;
/// F_OFD_SETLKW.
const F_OFD_SETLKW: i32 = 38;

/// Whether `cmd` is a record-lock command.
pub fn is_lock_cmd(cmd: i32) -> bool {
    matches!(cmd, libc::F_GETLK | libc::F_SETLK | libc::F_SETLKW | F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW)
}

/// The byte range `[start, end)` a `struct flock` names.
fn range(f: &File, fl: &Flock) -> Result<(u64, u64), Errno> {
    let base: i64 = match fl.l_whence as i32 {
        libc::SEEK_SET => 0,
        libc::SEEK_CUR => f.position() as i64,
        libc::SEEK_END => f.stat()?.size,
        _ => return Err(Errno::EINVAL),
    };
    let start = base.checked_add(fl.l_start).ok_or(Errno::EOVERFLOW)?;
    if start < 0 {
        return Err(Errno::EINVAL);
    }
    match fl.l_len {
        0 => Ok((start as u64, u64::MAX)),
        len if len > 0 => {
            let end = start.checked_add(len).ok_or(Errno::EOVERFLOW)?;
            Ok((start as u64, end as u64))
        }
        len => {
            let s = start + len;
            if s < 0 {
                return Err(Errno::EINVAL);
            }
            Ok((s as u64, start as u64))
        }
    }
}

/// fcntl's record-lock commands.
pub fn fcntl_lock(t: &Task, f: &Arc<File>, cmd: i32, arg: u64) -> SyscallResult {
    let mut fl: Flock = t.copy_in(arg)?;
    let ofd = matches!(cmd, F_OFD_GETLK | F_OFD_SETLK | F_OFD_SETLKW);
    if ofd && fl.l_pid != 0 {
        return Err(Errno::EINVAL.into());
    }
    if f.path_only() {
        return Err(Errno::EBADF.into());
    }
    let typ = fl.l_type as i32;
    if !matches!(typ, libc::F_RDLCK | libc::F_WRLCK | libc::F_UNLCK) {
        return Err(Errno::EINVAL.into());
    }
    let (start, end) = range(f, &fl)?;
    let owner = if ofd { Owner::File(f.lock_owner()) } else { Owner::Table(t.fds.id()) };
    let pid = if ofd { -1 } else { t.tg.pid };
    let want = Record { owner, start, end, write: typ == libc::F_WRLCK, pid };
    let locks = locks_for(f);
    if cmd == libc::F_GETLK || cmd == F_OFD_GETLK {
        if typ == libc::F_UNLCK {
            return Err(Errno::EINVAL.into());
        }
        match locks.conflict(&want) {
            Some(r) => {
                fl.l_type = if r.write { libc::F_WRLCK } else { libc::F_RDLCK } as i16;
                fl.l_whence = libc::SEEK_SET as i16;
                fl.l_start = r.start as i64;
                fl.l_len = if r.end == u64::MAX { 0 } else { (r.end - r.start) as i64 };
                fl.l_pid = r.pid;
            }
            None => fl.l_type = libc::F_UNLCK as i16,
        }
        t.copy_out(arg, &fl)?;
        return Ok(0);
    }
    match typ {
        libc::F_RDLCK if !f.readable() => return Err(Errno::EBADF.into()),
        libc::F_WRLCK if !f.writable() => return Err(Errno::EBADF.into()),
        _ => {}
    }
    let unlock = typ == libc::F_UNLCK;
    if unlock || !(cmd == libc::F_SETLKW || cmd == F_OFD_SETLKW) {
        locks.set(want, unlock)?;
        return Ok(0);
    }
    let me = t.fds.id();
    let r = wait_for(t, &locks, Errno::EAGAIN, || match locks.set(want, false) {
        Err(Errno::EAGAIN) => {
            if let (false, Some(Record { owner: Owner::Table(holder), .. })) = (ofd, locks.conflict(&want)) {
                lock::start_waiting(me, holder)?;
            }
            Err(Errno::EAGAIN)
        }
        r => r,
    });
    if !ofd {
        lock::stop_waiting(me);
    }
    r?;
    Ok(0)
}

/// CAP_LEASE.
const CAP_LEASE: u32 = 28;
/// POLL_MSG: the si_code of a lease-break signal.
const POLL_MSG: i32 = 3;

/// The open file descriptions of the sandbox on the inode `key`, other
/// than `me`: (any, any open for writing).
fn other_opens(t: &Task, key: usize, me: &File) -> (bool, bool) {
    let tables = t.kernel.fd_tables();
    let (mut any, mut writer) = (false, false);
    for table in tables {
        for fd in table.fds() {
            let Ok(f) = table.get(fd) else { continue };
            if std::ptr::eq(Arc::as_ptr(&f), me) || sentry::vfs::lease::inode_key(&f) != Some(key) {
                continue;
            }
            any = true;
            writer |= f.writable();
        }
    }
    (any, writer)
}

/// fcntl F_SETLEASE and F_GETLEASE.
pub fn fcntl_lease(t: &Task, f: &Arc<File>, fd: i32, cmd: i32, arg: u64) -> SyscallResult {
    use sentry::vfs::lease;
    if cmd == libc::F_GETLEASE {
        return Ok(lease::get(f) as u64);
    }
    let kind = arg as i32;
    if !matches!(kind, libc::F_RDLCK | libc::F_WRLCK | libc::F_UNLCK) {
        return Err(Errno::EINVAL.into());
    }
    let st = f.stat()?;
    if st.mode & libc::S_IFMT != libc::S_IFREG {
        return Err(Errno::EINVAL.into());
    }
    if t.creds.fsuid != st.uid && !t.creds.capable(CAP_LEASE) {
        return Err(Errno::EACCES.into());
    }
    let key = lease::inode_key(f).ok_or(Errno::EINVAL)?;
    if kind != libc::F_UNLCK {
        let (any, writer) = other_opens(t, key, f);
        let conflict = match kind {
            libc::F_RDLCK => f.writable() || writer,
            _ => any,
        };
        if conflict {
            return Err(Errno::EAGAIN.into());
        }
        sentry::kernel::fasync::default_owner(f, t.tg.pid);
    }
    lease::set(f, fd, kind)?;
    Ok(0)
}

/// Breaks the leases an open (for writing if `write`) or a truncate of
/// the inode `key` conflicts with, and waits until their holders gave
/// them up or the break time ran out; EWOULDBLOCK at once if `nonblock`.
pub fn break_leases(t: &Task, key: usize, write: bool, nonblock: bool) -> Result<(), Errno> {
    use sentry::vfs::lease::{self, Break};
    if !lease::any() {
        return Ok(());
    }
    loop {
        let w = t.waker();
        let _reg = Registration::new(&lease::CHANGED, !0, w.clone());
        let (state, holders) = lease::start_break(key, write);
        use sentry::abi::poll::{POLLIN, POLLMSG, POLLRDNORM};
        let band = POLLIN | POLLRDNORM | POLLMSG;
        for (file, fd) in holders {
            sentry::kernel::fasync::signal_owner(&t.kernel, &file, fd, POLL_MSG, band);
        }
        match state {
            Break::Clear => return Ok(()),
            Break::Wait(_) if nonblock => return Err(Errno::EWOULDBLOCK),
            Break::Wait(until) => match t.block(&w, Some(until)) {
                Ok(()) | Err(Errno::ETIMEDOUT) => {}
                Err(e) => return Err(e),
            },
        }
    }
}
