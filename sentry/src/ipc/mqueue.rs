//! POSIX message queues: named queues of prioritized messages, opened as
//! files (reading one gives its status line; poll says whether it has
//! messages or room), with one process's notification registration.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::poll::{POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::{Errno, Stat};
use crate::kernel::ThreadGroup;
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// MQ_PRIO_MAX.
pub const MQ_PRIO_MAX: u32 = 32768;
/// fs.mqueue.msg_max and msg_default.
pub const MSG_MAX: i64 = 10;
/// fs.mqueue.msgsize_max and msgsize_default.
pub const MSGSIZE_MAX: i64 = 8192;
/// HARD_MSGMAX: the most a privileged caller may ask for.
pub const HARD_MSGMAX: i64 = 65536;
/// HARD_MSGSIZEMAX.
pub const HARD_MSGSIZEMAX: i64 = 16 << 20;

/// A registered notification.
pub struct Notify {
    /// The process to tell.
    pub tg: Weak<ThreadGroup>,
    /// SIGEV_SIGNAL or SIGEV_NONE.
    pub notify: i32,
    /// The signal.
    pub signo: i32,
    /// sigev_value.
    pub value: u64,
}

/// A queue's changing state.
pub struct MqState {
    /// Messages by (priority, highest first; arrival order).
    msgs: BTreeMap<(std::cmp::Reverse<u32>, u64), Vec<u8>>,
    seq: u64,
    /// Bytes queued.
    pub bytes: u64,
    /// Receivers blocked now (a message for them is not a notification).
    pub receivers: usize,
    /// The registration, if any.
    pub notify: Option<Notify>,
}

/// A POSIX message queue.
pub struct MessageQueue {
    /// Its limits.
    pub maxmsg: i64,
    /// The largest message.
    pub msgsize: i64,
    /// Owner and mode.
    pub uid: u32,
    /// Owner's group.
    pub gid: u32,
    /// Permission bits.
    pub mode: u32,
    state: Mutex<MqState>,
    /// Woken when messages come or go.
    pub queue: WaitQueue,
    ino: u64,
    /// What it counts against its creator's RLIMIT_MSGQUEUE, until it is
    /// gone.
    _charge: Option<Charge>,
}

/// Bytes of POSIX message queues charged to each real uid.
type Charges = Arc<Mutex<HashMap<u32, u64>>>;

/// A queue's charge against a user's RLIMIT_MSGQUEUE; released on drop.
pub struct Charge {
    charges: Charges,
    uid: u32,
    bytes: u64,
}

impl Drop for Charge {
    fn drop(&mut self) {
        let mut c = self.charges.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(b) = c.get_mut(&self.uid) {
            *b = b.saturating_sub(self.bytes);
            if *b == 0 {
                c.remove(&self.uid);
            }
        }
    }
}

/// sizeof(struct msg_msg) and sizeof(struct posix_msg_tree_node) on x86_64,
/// which Linux counts with a queue's messages.
const MSG_MSG_SIZE: u64 = 48;
const TREE_NODE_SIZE: u64 = 48;

/// What a queue of `maxmsg` messages of up to `msgsize` bytes counts
/// against RLIMIT_MSGQUEUE, as Linux reckons it.
pub fn queue_bytes(maxmsg: i64, msgsize: i64) -> u64 {
    let (m, s) = (maxmsg.max(0) as u64, msgsize.max(0) as u64);
    m.saturating_mul(s)
        .saturating_add(m.saturating_mul(MSG_MSG_SIZE))
        .saturating_add(m.min(u64::from(MQ_PRIO_MAX)).saturating_mul(TREE_NODE_SIZE))
}

static NEXT_INO: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(300_000);

impl MessageQueue {
    /// An empty queue.
    pub fn new(maxmsg: i64, msgsize: i64, uid: u32, gid: u32, mode: u32, charge: Option<Charge>) -> MessageQueue {
        MessageQueue {
            maxmsg,
            msgsize,
            uid,
            gid,
            mode,
            state: Mutex::new(MqState { msgs: BTreeMap::new(), seq: 0, bytes: 0, receivers: 0, notify: None }),
            queue: WaitQueue::new(),
            ino: NEXT_INO.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            _charge: charge,
        }
    }

    /// Its attributes, as the mqueue filesystem shows its file.
    pub fn stat(&self) -> Stat {
        Stat {
            ino: self.ino,
            nlink: 1,
            mode: libc::S_IFREG | self.mode,
            uid: self.uid,
            gid: self.gid,
            // The mqueue filesystem's FILENT_SIZE, whatever the line says.
            size: 80,
            blksize: 4096,
            ..Default::default()
        }
    }

    /// Its inode number.
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// The state.
    pub fn state(&self) -> MutexGuard<'_, MqState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Messages queued.
    pub fn len(&self) -> usize {
        self.state().msgs.len()
    }

    /// Whether no message is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues a message if there is room (EAGAIN if not). Returns the
    /// notification due, if this made the queue non-empty with nobody
    /// waiting to receive: it is then unregistered.
    pub fn try_send(&self, data: &[u8], prio: u32) -> Result<Option<Notify>, Errno> {
        let mut s = self.state();
        if s.msgs.len() as i64 >= self.maxmsg {
            return Err(Errno::EAGAIN);
        }
        let was_empty = s.msgs.is_empty();
        s.seq += 1;
        let seq = s.seq;
        s.msgs.insert((std::cmp::Reverse(prio), seq), data.to_vec());
        s.bytes += data.len() as u64;
        let due = if was_empty && s.receivers == 0 { s.notify.take() } else { None };
        drop(s);
        self.queue.notify(POLLIN | POLLRDNORM);
        Ok(due)
    }

    /// Takes the oldest message of the highest priority (EAGAIN if none).
    pub fn try_recv(&self) -> Result<(Vec<u8>, u32), Errno> {
        let mut s = self.state();
        let Some(((std::cmp::Reverse(prio), _), data)) = s.msgs.pop_first() else { return Err(Errno::EAGAIN) };
        s.bytes -= data.len() as u64;
        drop(s);
        self.queue.notify(POLLOUT | POLLWRNORM);
        Ok((data, prio))
    }

    /// Whether `uid`/`gid` may access with the `want` bits (4 read, 2
    /// write); root may always.
    pub fn allows(&self, creds: &crate::auth::Credentials, want: u32) -> bool {
        let bits = if creds.fsuid == self.uid {
            self.mode >> 6
        } else if creds.in_group(self.gid) {
            self.mode >> 3
        } else {
            self.mode
        } & 7;
        bits & want == want || creds.capable(crate::auth::CAP_DAC_OVERRIDE)
    }
}

/// An open queue: the file a descriptor refers to.
pub struct MqFile {
    /// The queue.
    pub q: Arc<MessageQueue>,
}

impl MqFile {
    fn status(&self) -> Vec<u8> {
        let s = self.q.state();
        let (notify, signo, pid) = match &s.notify {
            Some(n) => (n.notify, if n.notify == 0 { n.signo } else { 0 }, n.tg.upgrade().map_or(0, |t| t.pid)),
            None => (0, 0, 0),
        };
        format!("QSIZE:{:<10} NOTIFY:{:<5} SIGNO:{:<5} NOTIFY_PID:{:<6}\n", s.bytes, notify, signo, pid).into_bytes()
    }
}

impl FileOps for MqFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let text = self.status();
        let off = off as usize;
        if off >= text.len() {
            return Ok(0);
        }
        let n = buf.len().min(text.len() - off);
        buf[..n].copy_from_slice(&text[off..off + n]);
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.q.stat())
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Sentry
    }

    fn readiness(&self, mask: u32) -> u32 {
        let n = self.q.len() as i64;
        let mut r = 0;
        if n > 0 {
            r |= POLLIN | POLLRDNORM;
        }
        if n < self.q.maxmsg {
            r |= POLLOUT | POLLWRNORM;
        }
        r & mask
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.q.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    /// A process closing any descriptor of the queue drops its
    /// notification registration (Linux's mqueue_flush_file).
    fn flush(&self) {
        let Some(t) = crate::kernel::current() else { return };
        let mut s = self.q.state();
        if s.notify.as_ref().is_some_and(|n| std::ptr::eq(n.tg.as_ptr(), Arc::as_ptr(&t.tg))) {
            s.notify = None;
        }
    }
}

/// The queues by name (the mqueue filesystem's one directory).
#[derive(Default)]
pub struct MqNamespace {
    names: Mutex<HashMap<Vec<u8>, Arc<MessageQueue>>>,
    charges: Charges,
}

impl MqNamespace {
    fn names(&self) -> MutexGuard<'_, HashMap<Vec<u8>, Arc<MessageQueue>>> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The queue named `name`, if any.
    pub fn lookup(&self, name: &[u8]) -> Option<Arc<MessageQueue>> {
        self.names().get(name).cloned()
    }

    /// Adds a queue (EEXIST if the name is taken).
    pub fn create(&self, name: &[u8], q: Arc<MessageQueue>) -> Result<(), Errno> {
        let mut n = self.names();
        if n.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        n.insert(name.to_vec(), q);
        Ok(())
    }

    /// Charges a new queue of `bytes` (see [`queue_bytes`]) to real uid
    /// `uid`, whose RLIMIT_MSGQUEUE is `limit`: EMFILE if it would go over,
    /// as in Linux (no capability exempts).
    pub fn charge(&self, uid: u32, bytes: u64, limit: u64) -> Result<Charge, Errno> {
        let mut c = self.charges.lock().unwrap_or_else(|e| e.into_inner());
        let cur = c.get(&uid).copied().unwrap_or(0);
        match cur.checked_add(bytes) {
            Some(total) if total <= limit => {
                c.insert(uid, total);
                Ok(Charge { charges: self.charges.clone(), uid, bytes })
            }
            _ => Err(Errno::EMFILE),
        }
    }

    /// Removes a name (open descriptors keep the queue).
    pub fn unlink(&self, name: &[u8]) -> Option<Arc<MessageQueue>> {
        self.names().remove(name)
    }

    /// Every queue, by name (sorted).
    pub fn list(&self) -> Vec<(Vec<u8>, Arc<MessageQueue>)> {
        let mut v: Vec<_> = self.names().iter().map(|(n, q)| (n.clone(), q.clone())).collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}
