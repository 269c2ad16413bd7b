//! POSIX message queues: mq_open, mq_unlink, mq_timedsend,
//! mq_timedreceive, mq_notify, mq_getsetattr.

use std::sync::Arc;
use std::time::Instant;

use sentry::abi::ipc::MqAttr;
use sentry::abi::signal::SigEvent;
use sentry::abi::{Errno, SigInfo};
use sentry::auth::{CAP_FOWNER, CAP_SYS_RESOURCE};
use sentry::ipc::mqueue::{
    queue_bytes, MessageQueue, MqFile, Notify, HARD_MSGMAX, HARD_MSGSIZEMAX, MQ_PRIO_MAX, MSGSIZE_MAX, MSG_MAX,
};
use sentry::kernel::signal_send::Origin;
use sentry::kernel::signals::valid;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;
use sentry::waiter::{Registration, EVENT_ANY};

use crate::sys_time::{deadline_at, read_timespec};

/// NAME_MAX.
const NAME_MAX: usize = 255;
const SIGEV_SIGNAL: i32 = 0;
const SIGEV_NONE: i32 = 1;
const SIGEV_THREAD: i32 = 2;

/// A queue's name as the mqueue filesystem looks it up (glibc has taken
/// the leading slash off): ENOENT for "" (as getname gives), EACCES for
/// ".", ".." and names with a slash.
fn read_name(t: &Task, addr: u64) -> Result<Vec<u8>, Errno> {
    let name = t.mm().read_cstring(addr, libc::PATH_MAX as usize)?;
    if name.is_empty() {
        return Err(Errno::ENOENT);
    }
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name == b"." || name == b".." || name.contains(&b'/') {
        return Err(Errno::EACCES);
    }
    Ok(name)
}

/// The queue behind descriptor `fd` (EBADF if it is not one).
fn queue_of(t: &Task, fd: i32) -> Result<(Arc<File>, Arc<MessageQueue>), Errno> {
    let f = t.file(fd)?;
    let q = f.ops.as_any().and_then(|a| a.downcast_ref::<MqFile>()).map(|m| m.q.clone()).ok_or(Errno::EBADF)?;
    Ok((f, q))
}

/// An absolute CLOCK_REALTIME timeout, read before anything else.
fn timeout(t: &Task, addr: u64) -> Result<Option<Instant>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    Ok(Some(deadline_at(libc::CLOCK_REALTIME, read_timespec(t, addr)?)?))
}

/// mq_open(2).
pub fn mq_open(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (name_addr, oflag, mode, attr_addr) = (a.a[0], a.a[1] as i32, a.a[2] as u32, a.a[3]);
    // The attributes are read whenever given, before the name is looked up.
    let attr: Option<MqAttr> = if attr_addr != 0 { Some(t.copy_in(attr_addr)?) } else { None };
    let name = read_name(t, name_addr)?;
    let acc = oflag & libc::O_ACCMODE;
    if acc == libc::O_ACCMODE {
        return Err(Errno::EINVAL.into());
    }
    let want = match acc {
        libc::O_RDONLY => 4,
        libc::O_WRONLY => 2,
        _ => 6,
    };
    let ns = t.kernel.ipc.clone();
    let q = match ns.mqueues.lookup(&name) {
        Some(q) => {
            if oflag & libc::O_CREAT != 0 && oflag & libc::O_EXCL != 0 {
                return Err(Errno::EEXIST.into());
            }
            if !q.allows(&t.creds, want) {
                return Err(Errno::EACCES.into());
            }
            q
        }
        None => {
            if oflag & libc::O_CREAT == 0 {
                return Err(Errno::ENOENT.into());
            }
            let privileged = t.creds.capable(CAP_SYS_RESOURCE);
            let (maxmsg, msgsize) = if let Some(at) = attr {
                let (mm, ms) = if privileged { (HARD_MSGMAX, HARD_MSGSIZEMAX) } else { (MSG_MAX, MSGSIZE_MAX) };
                if at.maxmsg <= 0 || at.msgsize <= 0 || at.maxmsg > mm || at.msgsize > ms {
                    return Err(Errno::EINVAL.into());
                }
                (at.maxmsg, at.msgsize)
            } else {
                (MSG_MAX, MSGSIZE_MAX)
            };
            let umask = t.fs.lock().umask;
            let bytes = queue_bytes(maxmsg, msgsize);
            let charge = ns.mqueues.charge(t.creds.uid, bytes, t.rlimit(libc::RLIMIT_MSGQUEUE))?;
            let q = Arc::new(MessageQueue::new(
                maxmsg,
                msgsize,
                t.creds.fsuid,
                t.creds.fsgid,
                mode & 0o777 & !umask,
                Some(charge),
            ));
            match ns.mqueues.create(&name, q.clone()) {
                Ok(()) => q,
                // Made by someone else meanwhile.
                Err(e) if oflag & libc::O_EXCL != 0 => return Err(e.into()),
                Err(_) => ns.mqueues.lookup(&name).ok_or(Errno::ENOENT)?,
            }
        }
    };
    let flags = (oflag & (libc::O_ACCMODE | libc::O_NONBLOCK)) as u32;
    let mut path = b"/".to_vec();
    path.extend_from_slice(&name);
    let f = File::new(Arc::new(MqFile { q }), flags, None, path);
    Ok(t.fds.insert(f, true, 0, t.nofile_limit())? as u64)
}

/// mq_unlink(2): the name goes; open descriptors keep the queue. The
/// directory is sticky: only the owner (or CAP_FOWNER) may unlink.
pub fn mq_unlink(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let name = read_name(t, a.a[0])?;
    let ns = t.kernel.ipc.clone();
    let q = ns.mqueues.lookup(&name).ok_or(Errno::ENOENT)?;
    if t.creds.fsuid != q.uid && !t.creds.capable(CAP_FOWNER) {
        return Err(Errno::EPERM.into());
    }
    ns.mqueues.unlink(&name);
    Ok(0)
}

/// mq_timedsend(2).
pub fn mq_timedsend(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, ptr, len, prio) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as u32);
    let deadline = timeout(t, a.a[4])?;
    if prio >= MQ_PRIO_MAX {
        return Err(Errno::EINVAL.into());
    }
    let (f, q) = queue_of(t, fd)?;
    if !f.writable() {
        return Err(Errno::EBADF.into());
    }
    if len as i64 > q.msgsize {
        return Err(Errno::EMSGSIZE.into());
    }
    let mut data = vec![0u8; len as usize];
    t.mm().copy_in(ptr, &mut data)?;
    let w = t.waker();
    let due = loop {
        w.reset();
        let _reg = Registration::new(&q.queue, EVENT_ANY, w.clone());
        match q.try_send(&data, prio) {
            Err(Errno::EAGAIN) if !f.nonblocking() => {}
            r => break r?,
        }
        match t.block(&w, deadline) {
            Ok(()) => {}
            Err(Errno::ETIMEDOUT) => return Err(Errno::ETIMEDOUT.into()),
            Err(e) => return Err(e.into()),
        }
    };
    if let Some(n) = due {
        notify(t, n);
    }
    Ok(0)
}

/// Delivers a registration that a message made due.
fn notify(t: &Task, n: Notify) {
    if n.notify != SIGEV_SIGNAL || n.signo == 0 {
        return;
    }
    if let Some(tg) = n.tg.upgrade() {
        let info = SigInfo::mesgq(n.signo, t.tg.pid, t.creds.uid, n.value);
        t.kernel.send_group_signal(&tg, info, Origin::Sandbox);
    }
}

/// mq_timedreceive(2).
pub fn mq_timedreceive(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, ptr, len, prio_addr) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3]);
    let deadline = timeout(t, a.a[4])?;
    let (f, q) = queue_of(t, fd)?;
    if !f.readable() {
        return Err(Errno::EBADF.into());
    }
    if (len as i64) < q.msgsize {
        return Err(Errno::EMSGSIZE.into());
    }
    let w = t.waker();
    let (data, prio) = loop {
        w.reset();
        let _reg = Registration::new(&q.queue, EVENT_ANY, w.clone());
        match q.try_recv() {
            Err(Errno::EAGAIN) if !f.nonblocking() => {}
            r => break r?,
        }
        q.state().receivers += 1;
        let r = t.block(&w, deadline);
        q.state().receivers -= 1;
        match r {
            Ok(()) => {}
            Err(e) => return Err(e.into()),
        }
    };
    // A copy-out fault loses the message, as in Linux.
    t.mm().copy_out(ptr, &data)?;
    if prio_addr != 0 {
        t.copy_out(prio_addr, &prio)?;
    }
    Ok(data.len() as u64)
}

/// mq_notify(2).
pub fn mq_notify(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, sevp) = (a.a[0] as i32, a.a[1]);
    let ev = if sevp != 0 { Some(t.copy_in::<SigEvent>(sevp)?) } else { None };
    if let Some(ev) = &ev {
        match ev.notify {
            SIGEV_NONE => {}
            // Signal 0 is valid: the notification then sends nothing.
            SIGEV_SIGNAL if ev.signo == 0 || valid(ev.signo) => {}
            SIGEV_SIGNAL => return Err(Errno::EINVAL.into()),
            // Delivered through a netlink socket, which the sandbox does
            // not have: the descriptor in sigev_signo cannot be one.
            SIGEV_THREAD => return Err(Errno::EBADF.into()),
            _ => return Err(Errno::EINVAL.into()),
        }
    }
    let (_, q) = queue_of(t, fd)?;
    let mut s = q.state();
    let mine = s.notify.as_ref().is_some_and(|n| std::ptr::eq(n.tg.as_ptr(), Arc::as_ptr(&t.tg)));
    match ev {
        None => {
            if mine {
                s.notify = None;
            }
        }
        Some(ev) => {
            let live = s.notify.as_ref().is_some_and(|n| n.tg.upgrade().is_some());
            if live {
                return Err(Errno::EBUSY.into());
            }
            s.notify = Some(Notify { tg: Arc::downgrade(&t.tg), notify: ev.notify, signo: ev.signo, value: ev.value });
        }
    }
    Ok(0)
}

/// mq_getsetattr(2): only O_NONBLOCK can change.
pub fn mq_getsetattr(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, new, old) = (a.a[0] as i32, a.a[1], a.a[2]);
    let new_attr = if new != 0 {
        let at: MqAttr = t.copy_in(new)?;
        if at.flags & !(libc::O_NONBLOCK as i64) != 0 {
            return Err(Errno::EINVAL.into());
        }
        Some(at)
    } else {
        None
    };
    let (f, q) = queue_of(t, fd)?;
    let cur = MqAttr {
        flags: (f.flags() & libc::O_NONBLOCK as u32) as i64,
        maxmsg: q.maxmsg,
        msgsize: q.msgsize,
        curmsgs: q.len() as i64,
        pad: [0; 4],
    };
    if let Some(at) = new_attr {
        let fl = f.flags();
        let nb = libc::O_NONBLOCK as u32;
        f.set_flags(if at.flags & nb as i64 != 0 { fl | nb } else { fl & !nb });
    }
    if old != 0 {
        t.copy_out(old, &cur)?;
    }
    Ok(0)
}
