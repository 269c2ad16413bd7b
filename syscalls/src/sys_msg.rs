//! System V message queues: msgget, msgsnd, msgrcv, msgctl.

use sentry::abi::ipc::{MsgInfo, MsqidDs};
use sentry::abi::Errno;
use sentry::ipc::msg::{Message, MsgQueue, Select, MSGMAX, MSGMNB, MSGMNI, MSG_COPY, MSG_EXCEPT, MSG_NOERROR};
use sentry::ipc::{now_secs, IpcObject, IPC_INFO, IPC_NOWAIT, IPC_RMID, IPC_SET, IPC_STAT};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::waiter::{Registration, EVENT_ANY};

const MSG_STAT: i32 = 11;
const MSG_INFO: i32 = 12;
const MSG_STAT_ANY: i32 = 13;
/// MSGSSZ, MSGPOOL, MSGSEG: the traditional limits msginfo reports.
const MSGSSZ: i32 = 16;
const MSGPOOL: i32 = (MSGMNI * MSGMNB / 1024) as i32;
const MSGSEG: u16 = 0xffff;
/// CAP_SYS_RESOURCE.
const CAP_SYS_RESOURCE: u32 = 24;

/// msgget(2).
pub fn msgget(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (key, flags) = (a.a[0] as i32, a.a[1] as i32);
    let id = t.kernel.ipc.msg.get(key, flags, &t.creds, |_| Ok(()), |perm| Ok(MsgQueue::new(perm)))?;
    Ok(id as u64)
}

/// Waits for a change of the queue `w` is registered on; a signal ends
/// the call (msgsnd and msgrcv are never restarted after a handler).
fn wait_change(t: &Task, w: &std::sync::Arc<sentry::kernel::block::TaskWaker>) -> Result<(), Errno> {
    t.block(w, None).map_err(|_| Errno::ERESTARTNOHAND)
}

/// msgsnd(2).
pub fn msgsnd(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, msgp, size, flags) = (a.a[0] as i32, a.a[1], a.a[2] as i64, a.a[3] as i32);
    let mtype: i64 = t.copy_in(msgp)?;
    if size > MSGMAX as i64 || size < 0 || id < 0 {
        return Err(Errno::EINVAL.into());
    }
    if mtype < 1 {
        return Err(Errno::EINVAL.into());
    }
    let mut data = vec![0u8; size as usize];
    t.mm().copy_in(msgp + 8, &mut data)?;
    let q = t.kernel.ipc.msg.find(id)?;
    if !q.perm().allows(&t.creds, 0o222) {
        return Err(Errno::EACCES.into());
    }
    let m = Message { mtype, data };
    let w = t.waker();
    loop {
        w.reset();
        let _reg = Registration::new(&q.queue, EVENT_ANY, w.clone());
        match q.try_send(&m, t.tg.pid) {
            Err(Errno::EAGAIN) if flags & IPC_NOWAIT == 0 => {}
            r => return Ok(r.map(|_| 0)?),
        }
        wait_change(t, &w)?;
    }
}

/// msgrcv(2).
pub fn msgrcv(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, msgp, size, typ, flags) = (a.a[0] as i32, a.a[1], a.a[2] as i64, a.a[3] as i64, a.a[4] as i32);
    if id < 0 || size < 0 {
        return Err(Errno::EINVAL.into());
    }
    let copy = if flags & MSG_COPY != 0 {
        if flags & MSG_EXCEPT != 0 || flags & IPC_NOWAIT == 0 {
            return Err(Errno::EINVAL.into());
        }
        // A negative index finds nothing.
        Some(if typ < 0 { usize::MAX } else { typ as usize })
    } else {
        None
    };
    let max = if copy.is_some() { (size as usize).min(MSGMAX) } else { size as usize };
    let q = t.kernel.ipc.msg.find(id)?;
    if !q.perm().allows(&t.creds, 0o444) {
        return Err(Errno::EACCES.into());
    }
    let sel = match typ {
        0 => Select::First,
        t if t > 0 && flags & MSG_EXCEPT != 0 => Select::NotType(t),
        t if t > 0 => Select::Type(t),
        t => Select::UpTo(t.saturating_neg()),
    };
    let w = t.waker();
    let m = loop {
        w.reset();
        let _reg = Registration::new(&q.queue, EVENT_ANY, w.clone());
        match q.try_recv(sel, max, flags & MSG_NOERROR != 0, copy, t.tg.pid) {
            Err(Errno::ENOMSG) if flags & IPC_NOWAIT == 0 => {}
            r => break r?,
        }
        wait_change(t, &w)?;
    };
    // A copy-out fault loses the message, as in Linux.
    t.copy_out(msgp, &m.mtype)?;
    t.mm().copy_out(msgp + 8, &m.data)?;
    Ok(m.data.len() as u64)
}

/// msgctl(2).
pub fn msgctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, cmd, buf) = (a.a[0] as i32, a.a[1] as i32, a.a[2]);
    if id < 0 || cmd < 0 {
        return Err(Errno::EINVAL.into());
    }
    let ns = t.kernel.ipc.clone();
    match cmd {
        IPC_INFO | MSG_INFO => {
            let mut info = MsgInfo {
                msgpool: MSGPOOL,
                msgmap: MSGMNB as i32,
                msgmax: MSGMAX as i32,
                msgmnb: MSGMNB as i32,
                msgmni: MSGMNI as i32,
                msgssz: MSGSSZ,
                msgtql: MSGMNB as i32,
                msgseg: MSGSEG,
                pad: 0,
            };
            if cmd == MSG_INFO {
                let all = ns.msg.all();
                info.msgpool = all.len() as i32;
                info.msgmap = all.iter().map(|q| q.state().msgs.len() as i32).sum();
                info.msgtql = all.iter().map(|q| q.state().bytes as i32).sum();
            }
            t.copy_out(buf, &info)?;
            Ok(ns.msg.max_index().max(0) as u64)
        }
        MSG_STAT | MSG_STAT_ANY => {
            let (full, q) = ns.msg.at_index(id)?;
            if cmd == MSG_STAT && !q.perm().allows(&t.creds, 0o444) {
                return Err(Errno::EACCES.into());
            }
            t.copy_out(buf, &q.stat())?;
            Ok(full as u64)
        }
        IPC_STAT => {
            let q = ns.msg.find(id)?;
            if !q.perm().allows(&t.creds, 0o444) {
                return Err(Errno::EACCES.into());
            }
            t.copy_out(buf, &q.stat())?;
            Ok(0)
        }
        IPC_SET => {
            let ds: MsqidDs = t.copy_in(buf)?;
            let q = ns.msg.find(id)?;
            {
                let mut s = q.state();
                if !s.perm.may_change(&t.creds) {
                    return Err(Errno::EPERM.into());
                }
                if ds.qbytes > MSGMNB as u64 && !t.creds.capable(CAP_SYS_RESOURCE) {
                    return Err(Errno::EPERM.into());
                }
                s.qbytes = ds.qbytes as usize;
                s.perm.set(&ds.perm);
                s.ctime = now_secs();
            }
            // Senders may fit now.
            q.queue.notify(EVENT_ANY);
            Ok(0)
        }
        IPC_RMID => {
            let q = ns.msg.find(id)?;
            if !q.perm().may_change(&t.creds) {
                return Err(Errno::EPERM.into());
            }
            ns.msg.remove(id, &q);
            q.remove();
            Ok(0)
        }
        _ => Err(Errno::EINVAL.into()),
    }
}
