//! System V message queues: typed messages, selection by type, and the
//! byte limit (msg_qbytes) that makes senders wait.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use crate::abi::ipc::MsqidDs;
use crate::abi::Errno;
use crate::ipc::{now_secs, IpcObject, Perm, IPC_PRIVATE};
use crate::waiter::WaitQueue;

/// MSGMAX: the largest message.
pub const MSGMAX: usize = 8192;
/// MSGMNB: a queue's default byte limit.
pub const MSGMNB: usize = 16384;
/// MSGMNI: queues.
pub const MSGMNI: usize = 32000;
/// MSG_NOERROR.
pub const MSG_NOERROR: i32 = 0o10000;
/// MSG_EXCEPT.
pub const MSG_EXCEPT: i32 = 0o20000;
/// MSG_COPY.
pub const MSG_COPY: i32 = 0o40000;

/// One message.
#[derive(Clone)]
pub struct Message {
    /// Its type (> 0).
    pub mtype: i64,
    /// Its text.
    pub data: Vec<u8>,
}

/// A queue's changing state.
pub struct MsgState {
    /// Key, owner, mode.
    pub perm: Perm,
    /// The messages, oldest first.
    pub msgs: VecDeque<Message>,
    /// Bytes queued.
    pub bytes: usize,
    /// The byte limit.
    pub qbytes: usize,
    /// Last send, receive and change times.
    pub stime: i64,
    /// Last receive.
    pub rtime: i64,
    /// Last change.
    pub ctime: i64,
    /// Last sender and receiver.
    pub lspid: i32,
    /// Last receiver.
    pub lrpid: i32,
    /// Removed: waiters get EIDRM.
    pub removed: bool,
}

/// A message queue.
pub struct MsgQueue {
    state: Mutex<MsgState>,
    /// Woken when messages come or go, or the queue goes.
    pub queue: WaitQueue,
}

/// How a receive picks a message.
#[derive(Clone, Copy, Debug)]
pub enum Select {
    /// The first (msgtyp 0).
    First,
    /// The first of this type (msgtyp > 0).
    Type(i64),
    /// The first not of this type (MSG_EXCEPT).
    NotType(i64),
    /// The first of the lowest type up to this (msgtyp < 0).
    UpTo(i64),
}

impl MsgQueue {
    /// An empty queue.
    pub fn new(perm: Perm) -> MsgQueue {
        MsgQueue {
            state: Mutex::new(MsgState {
                perm,
                msgs: VecDeque::new(),
                bytes: 0,
                qbytes: MSGMNB,
                stime: 0,
                rtime: 0,
                ctime: now_secs(),
                lspid: 0,
                lrpid: 0,
                removed: false,
            }),
            queue: WaitQueue::new(),
        }
    }

    /// The state.
    pub fn state(&self) -> MutexGuard<'_, MsgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// IPC_STAT's view.
    pub fn stat(&self) -> MsqidDs {
        let s = self.state();
        MsqidDs {
            perm: s.perm.to_raw(),
            stime: s.stime,
            rtime: s.rtime,
            ctime: s.ctime,
            cbytes: s.bytes as u64,
            qnum: s.msgs.len() as u64,
            qbytes: s.qbytes as u64,
            lspid: s.lspid,
            lrpid: s.lrpid,
            ..Default::default()
        }
    }

    /// Queues `m` if it fits (Linux's msg_fits_inqueue); EAGAIN if not.
    pub fn try_send(&self, m: &Message, pid: i32) -> Result<(), Errno> {
        let mut s = self.state();
        if s.removed {
            return Err(Errno::EIDRM);
        }
        if s.bytes + m.data.len() > s.qbytes || s.msgs.len() + 1 > s.qbytes {
            return Err(Errno::EAGAIN);
        }
        s.bytes += m.data.len();
        s.msgs.push_back(m.clone());
        s.lspid = pid;
        s.stime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
        Ok(())
    }

    /// Takes (or with `copy`, copies the `n`th) message that `sel` picks;
    /// a message longer than `max` is E2BIG unless `truncate`. ENOMSG if
    /// there is none.
    pub fn try_recv(
        &self,
        sel: Select,
        max: usize,
        truncate: bool,
        copy: Option<usize>,
        pid: i32,
    ) -> Result<Message, Errno> {
        let mut s = self.state();
        if s.removed {
            return Err(Errno::EIDRM);
        }
        let at = match copy {
            Some(n) => (n < s.msgs.len()).then_some(n),
            None => match sel {
                Select::First => (!s.msgs.is_empty()).then_some(0),
                Select::Type(t) => s.msgs.iter().position(|m| m.mtype == t),
                Select::NotType(t) => s.msgs.iter().position(|m| m.mtype != t),
                Select::UpTo(t) => {
                    let low = s.msgs.iter().filter(|m| m.mtype <= t).map(|m| m.mtype).min();
                    low.and_then(|l| s.msgs.iter().position(|m| m.mtype == l))
                }
            },
        };
        let Some(i) = at else { return Err(Errno::ENOMSG) };
        if copy.is_some() {
            // A copy must fit: E2BIG, or with MSG_NOERROR EINVAL (Linux's
            // copy_msg refuses to truncate).
            if s.msgs[i].data.len() > max {
                return Err(if truncate { Errno::EINVAL } else { Errno::E2BIG });
            }
            return Ok(s.msgs[i].clone());
        }
        if s.msgs[i].data.len() > max && !truncate {
            return Err(Errno::E2BIG);
        }
        let Some(mut m) = s.msgs.remove(i) else { return Err(Errno::ENOMSG) };
        s.bytes -= m.data.len();
        s.lrpid = pid;
        s.rtime = now_secs();
        drop(s);
        self.queue.notify(crate::waiter::EVENT_ANY);
        m.data.truncate(max);
        Ok(m)
    }

    /// IPC_RMID: waiters wake to EIDRM.
    pub fn remove(&self) {
        self.state().removed = true;
        self.queue.notify(crate::waiter::EVENT_ANY);
    }
}

impl IpcObject for MsgQueue {
    fn perm(&self) -> Perm {
        self.state().perm
    }

    fn forget_key(&self) {
        self.state().perm.key = IPC_PRIVATE;
    }
}
