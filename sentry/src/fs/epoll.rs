//! epoll instances: a set of watched files, each with an event mask and
//! user data, and a ready list filled by wakers registered on the watched
//! files' wait queues. Level-triggered items stay on the ready list while
//! they are ready; edge-triggered ones leave it when reported until their
//! next event; one-shot ones are disarmed until re-armed with MOD.
//!
//! Lock order: a watched file's wait-queue lock before `Epoll::state`
//! (wakers run under the former) before `Epoll::queue`'s lock. So epoll_ctl
//! never registers or unregisters on a file's queue while holding `state`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::poll::{EPOLLET, EPOLLEXCLUSIVE, EPOLLONESHOT, EPOLLWAKEUP, POLLERR, POLLHUP, POLLIN, POLLRDNORM};
use crate::abi::{Errno, Stat};
use crate::vfs::{File, FileOps, OffsetMode};
use crate::waiter::{WaitQueue, Waker};

/// An item's key: the fd it was added as and the file description.
type Key = (i32, usize);

/// EPOLL_MAX_NESTS.
const MAX_NESTS: u32 = 4;

struct Item {
    file: Weak<File>,
    events: u32,
    data: u64,
    reg: Option<u64>,
    waker: Arc<ItemWaker>,
    queued: bool,
    disabled: bool,
}

#[derive(Default)]
struct State {
    items: BTreeMap<Key, Item>,
    ready: VecDeque<Key>,
}

/// An epoll instance.
pub struct Epoll {
    state: Mutex<State>,
    queue: WaitQueue,
    me: Weak<Epoll>,
}

struct ItemWaker {
    epoll: Weak<Epoll>,
    key: Key,
}

impl Waker for ItemWaker {
    fn wake(&self, _events: u32) {
        if let Some(e) = self.epoll.upgrade() {
            e.mark_ready(self.key);
        }
    }
}

/// The event bits that are flags, not events.
const FLAGS: u32 = EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP;

fn key_of(fd: i32, f: &Arc<File>) -> Key {
    (fd, Arc::as_ptr(f) as usize)
}

impl Epoll {
    /// A new, empty instance.
    pub fn new() -> Arc<Epoll> {
        Arc::new_cyclic(|me| Epoll { state: Mutex::new(State::default()), queue: WaitQueue::new(), me: me.clone() })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mark_ready(&self, key: Key) {
        {
            let mut s = self.lock();
            let Some(it) = s.items.get_mut(&key) else { return };
            if it.queued || it.disabled {
                return;
            }
            it.queued = true;
            s.ready.push_back(key);
        }
        self.queue.notify(POLLIN | POLLRDNORM);
    }

    /// The epoll behind a file, if it is one.
    pub fn of(f: &File) -> Option<&Epoll> {
        f.ops.as_any().and_then(|a| a.downcast_ref::<Epoll>())
    }

    /// Whether `other` is this epoll or (transitively) watched by it, or
    /// the nesting is deeper than Linux allows.
    fn reaches(&self, other: &Epoll, depth: u32) -> bool {
        if std::ptr::eq(self, other) || depth > MAX_NESTS {
            return true;
        }
        let files: Vec<Arc<File>> = self.lock().items.values().filter_map(|i| i.file.upgrade()).collect();
        files.iter().filter_map(|f| Epoll::of(f)).any(|inner| inner.reaches(other, depth + 1))
    }

    /// EPOLL_CTL_ADD.
    pub fn add(&self, fd: i32, f: &Arc<File>, events: u32, data: u64) -> Result<(), Errno> {
        let Some(q) = f.ops.wait_queue() else { return Err(Errno::EPERM) };
        if events & EPOLLEXCLUSIVE != 0 {
            if events
                & !(EPOLLEXCLUSIVE
                    | EPOLLET
                    | EPOLLWAKEUP
                    | crate::abi::poll::READ_EVENTS
                    | crate::abi::poll::WRITE_EVENTS
                    | POLLERR
                    | POLLHUP)
                != 0
            {
                return Err(Errno::EINVAL);
            }
            if Epoll::of(f).is_some() {
                return Err(Errno::EINVAL);
            }
        }
        if let Some(inner) = Epoll::of(f) {
            if inner.reaches(self, 1) {
                return Err(Errno::ELOOP);
            }
        }
        let key = key_of(fd, f);
        let waker = Arc::new(ItemWaker { epoll: self.me.clone(), key });
        {
            let mut s = self.lock();
            if s.items.contains_key(&key) {
                return Err(Errno::EEXIST);
            }
            s.items.insert(
                key,
                Item {
                    file: Arc::downgrade(f),
                    events,
                    data,
                    reg: None,
                    waker: waker.clone(),
                    queued: false,
                    disabled: false,
                },
            );
        }
        let mask = (events & !FLAGS) | POLLERR | POLLHUP;
        let id = if events & EPOLLEXCLUSIVE != 0 { q.register_exclusive(mask, waker) } else { q.register(mask, waker) };
        let stale = {
            let mut s = self.lock();
            match s.items.get_mut(&key) {
                Some(it) => {
                    it.reg = Some(id);
                    false
                }
                None => true,
            }
        };
        if stale {
            q.unregister(id);
        }
        if f.readiness(mask) != 0 {
            self.mark_ready(key);
        }
        Ok(())
    }

    /// EPOLL_CTL_MOD.
    pub fn modify(&self, fd: i32, f: &Arc<File>, events: u32, data: u64) -> Result<(), Errno> {
        let key = key_of(fd, f);
        let q = f.ops.wait_queue().ok_or(Errno::EPERM)?;
        let (old_reg, waker) = {
            let mut s = self.lock();
            let it = s.items.get_mut(&key).ok_or(Errno::ENOENT)?;
            if events & EPOLLEXCLUSIVE != 0 || it.events & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            it.events = events;
            it.data = data;
            it.disabled = false;
            (it.reg.take(), it.waker.clone())
        };
        if let Some(id) = old_reg {
            q.unregister(id);
        }
        let mask = (events & !FLAGS) | POLLERR | POLLHUP;
        let id = q.register(mask, waker);
        let stale = {
            let mut s = self.lock();
            match s.items.get_mut(&key) {
                Some(it) => {
                    it.reg = Some(id);
                    false
                }
                None => true,
            }
        };
        if stale {
            q.unregister(id);
        }
        if f.readiness(mask) != 0 {
            self.mark_ready(key);
        }
        Ok(())
    }

    /// EPOLL_CTL_DEL.
    pub fn delete(&self, fd: i32, f: &Arc<File>) -> Result<(), Errno> {
        let key = key_of(fd, f);
        let it = {
            let mut s = self.lock();
            let it = s.items.remove(&key).ok_or(Errno::ENOENT)?;
            s.ready.retain(|k| *k != key);
            it
        };
        if let (Some(id), Some(q)) = (it.reg, f.ops.wait_queue()) {
            q.unregister(id);
        }
        Ok(())
    }

    /// Takes up to `max` ready events: (events, data).
    pub fn harvest(&self, max: usize) -> Vec<(u32, u64)> {
        let mut s = self.lock();
        let mut out = Vec::new();
        let mut again = Vec::new();
        let mut dead = Vec::new();
        let n = s.ready.len();
        for _ in 0..n {
            if out.len() >= max {
                break;
            }
            let Some(key) = s.ready.pop_front() else { break };
            let Some(it) = s.items.get_mut(&key) else { continue };
            it.queued = false;
            if it.disabled {
                continue;
            }
            let Some(f) = it.file.upgrade() else {
                dead.push(key);
                continue;
            };
            let want = (it.events & !FLAGS) | POLLERR | POLLHUP;
            let ev = f.readiness(want) & want;
            if ev == 0 {
                continue;
            }
            out.push((ev, it.data));
            if it.events & EPOLLONESHOT != 0 {
                it.disabled = true;
            } else if it.events & EPOLLET == 0 {
                again.push(key);
            }
        }
        for k in again {
            if let Some(it) = s.items.get_mut(&k) {
                it.queued = true;
                s.ready.push_back(k);
            }
        }
        for k in dead {
            s.items.remove(&k);
        }
        out
    }

    /// Whether some item is ready (without taking events).
    fn any_ready(&self) -> bool {
        let files: Vec<(Arc<File>, u32)> = {
            let s = self.lock();
            s.ready
                .iter()
                .filter_map(|k| s.items.get(k))
                .filter(|it| !it.disabled)
                .filter_map(|it| it.file.upgrade().map(|f| (f, (it.events & !FLAGS) | POLLERR | POLLHUP)))
                .collect()
        };
        files.iter().any(|(f, m)| f.readiness(*m) & m != 0)
    }

    /// Where waiters for this instance register.
    pub fn queue(&self) -> &WaitQueue {
        &self.queue
    }
}

impl FileOps for Epoll {
    fn fdinfo(&self) -> String {
        use std::fmt::Write;
        let items: Vec<(i32, u32, u64, Option<Arc<File>>)> = self
            .lock()
            .items
            .iter()
            // Linux keeps EPOLLERR and EPOLLHUP in every interest, and only
            // the flags in a fired one-shot one.
            .map(|(&(fd, _), i)| {
                let events = if i.disabled { i.events & FLAGS } else { i.events | POLLERR | POLLHUP };
                (fd, events, i.data, i.file.upgrade())
            })
            .collect();
        let mut s = String::new();
        for (fd, events, data, file) in items {
            let Some(f) = file else { continue };
            let st = f.stat().unwrap_or_default();
            // The superblock's dev_t as the kernel keeps it (MKDEV).
            let (ma, mi) = crate::abi::dev_split(st.dev);
            let sdev = (u64::from(ma) << 20) | u64::from(mi);
            let _ = writeln!(
                s,
                "tfd: {fd:8} events: {events:8x} data: {data:16x}  pos:{} ino:{:x} sdev:{sdev:x}",
                f.position(),
                st.ino
            );
        }
        s
    }

    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: 0o600, nlink: 1, blksize: 4096, ..Default::default() })
    }
    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }
    fn readiness(&self, mask: u32) -> u32 {
        if self.any_ready() {
            mask & (POLLIN | POLLRDNORM)
        } else {
            0
        }
    }
    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
