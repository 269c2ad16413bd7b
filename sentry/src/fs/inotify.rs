//! inotify: watches on inodes, keyed by (device, inode), and the events the
//! VFS reports for changes made in the sandbox: create, delete, move,
//! modify, attrib, open, access, close, and the watch's own delete, move
//! and removal. A watched directory also hears of its children. Reporting
//! costs one atomic load while nobody watches.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use crate::abi::poll::{POLLIN, POLLRDNORM};
use crate::abi::{Errno, Stat};
use crate::vfs::lock::LockKey;
use crate::vfs::{FileOps, Location, OffsetMode};
use crate::waiter::WaitQueue;

/// IN_ACCESS.
pub const IN_ACCESS: u32 = 0x1;
/// IN_MODIFY.
pub const IN_MODIFY: u32 = 0x2;
/// IN_ATTRIB.
pub const IN_ATTRIB: u32 = 0x4;
/// IN_CLOSE_WRITE.
pub const IN_CLOSE_WRITE: u32 = 0x8;
/// IN_CLOSE_NOWRITE.
pub const IN_CLOSE_NOWRITE: u32 = 0x10;
/// IN_OPEN.
pub const IN_OPEN: u32 = 0x20;
/// IN_MOVED_FROM.
pub const IN_MOVED_FROM: u32 = 0x40;
/// IN_MOVED_TO.
pub const IN_MOVED_TO: u32 = 0x80;
/// IN_CREATE.
pub const IN_CREATE: u32 = 0x100;
/// IN_DELETE.
pub const IN_DELETE: u32 = 0x200;
/// IN_DELETE_SELF.
pub const IN_DELETE_SELF: u32 = 0x400;
/// IN_MOVE_SELF.
pub const IN_MOVE_SELF: u32 = 0x800;
/// Every event a watch can ask for.
pub const IN_ALL_EVENTS: u32 = 0xfff;
/// IN_UNMOUNT.
pub const IN_UNMOUNT: u32 = 0x2000;
/// IN_Q_OVERFLOW.
pub const IN_Q_OVERFLOW: u32 = 0x4000;
/// IN_IGNORED.
pub const IN_IGNORED: u32 = 0x8000;
/// IN_ONLYDIR.
pub const IN_ONLYDIR: u32 = 0x0100_0000;
/// IN_DONT_FOLLOW.
pub const IN_DONT_FOLLOW: u32 = 0x0200_0000;
/// IN_EXCL_UNLINK.
pub const IN_EXCL_UNLINK: u32 = 0x0400_0000;
/// IN_MASK_CREATE.
pub const IN_MASK_CREATE: u32 = 0x1000_0000;
/// IN_MASK_ADD.
pub const IN_MASK_ADD: u32 = 0x2000_0000;
/// IN_ISDIR.
pub const IN_ISDIR: u32 = 0x4000_0000;
/// IN_ONESHOT.
pub const IN_ONESHOT: u32 = 0x8000_0000;

/// /proc/sys/fs/inotify/max_queued_events.
const MAX_EVENTS: usize = 16384;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

struct Event {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Vec<u8>,
}

impl Event {
    /// The bytes read(2) gives: struct inotify_event and the name padded
    /// with NULs to a multiple of 16 (none without a name).
    fn len(&self) -> usize {
        16 + self.padded()
    }

    fn padded(&self) -> usize {
        if self.name.is_empty() {
            0
        } else {
            (self.name.len() + 1).div_ceil(16) * 16
        }
    }
}

#[derive(Default)]
struct State {
    next_wd: i32,
    /// wd -> (inode, mask).
    watches: HashMap<i32, (LockKey, u32)>,
    events: VecDeque<Event>,
}

/// An inotify instance (the open file).
pub struct Inotify {
    state: Mutex<State>,
    queue: WaitQueue,
    me: Weak<Inotify>,
}

/// Watches by inode: the instances and their wd.
type Registry = HashMap<LockKey, Vec<(Weak<Inotify>, i32)>>;

fn registry() -> MutexGuard<'static, Registry> {
    static REG: OnceLock<Mutex<Registry>> = OnceLock::new();
    lock(REG.get_or_init(Default::default))
}

/// Watches anywhere: while 0, nothing is looked up.
static WATCHES: AtomicUsize = AtomicUsize::new(0);

/// Whether anybody watches anything (inotify or dnotify).
pub fn active() -> bool {
    WATCHES.load(Ordering::Relaxed) != 0
}

/// A dnotify notification was added.
pub(crate) fn watch_added() {
    WATCHES.fetch_add(1, Ordering::Relaxed);
}

/// A dnotify notification went.
pub(crate) fn watch_removed() {
    WATCHES.fetch_sub(1, Ordering::Relaxed);
}

impl Inotify {
    /// A new instance.
    pub fn new() -> Arc<Inotify> {
        Arc::new_cyclic(|me| Inotify {
            state: Mutex::new(State { next_wd: 1, ..Default::default() }),
            queue: WaitQueue::new(),
            me: me.clone(),
        })
    }

    /// inotify_add_watch for the inode `key` (the caller resolved the path
    /// and checked IN_ONLYDIR and read permission).
    pub fn add_watch(&self, key: LockKey, mask: u32) -> Result<i32, Errno> {
        let mut s = lock(&self.state);
        let events = mask & (IN_ALL_EVENTS | IN_ONESHOT | IN_EXCL_UNLINK);
        if let Some((&wd, entry)) = s.watches.iter_mut().find(|(_, (k, _))| *k == key) {
            if mask & IN_MASK_CREATE != 0 {
                return Err(Errno::EEXIST);
            }
            entry.1 = if mask & IN_MASK_ADD != 0 { entry.1 | events } else { events };
            return Ok(wd);
        }
        let wd = s.next_wd;
        s.next_wd += 1;
        s.watches.insert(wd, (key, events));
        drop(s);
        registry().entry(key).or_default().push((self.me.clone(), wd));
        WATCHES.fetch_add(1, Ordering::Relaxed);
        Ok(wd)
    }

    /// inotify_rm_watch: EINVAL for an unknown wd; queues IN_IGNORED.
    pub fn rm_watch(&self, wd: i32) -> Result<(), Errno> {
        let key = lock(&self.state).watches.get(&wd).map(|(k, _)| *k).ok_or(Errno::EINVAL)?;
        self.drop_watch(wd, key);
        Ok(())
    }

    fn drop_watch(&self, wd: i32, key: LockKey) {
        if lock(&self.state).watches.remove(&wd).is_none() {
            return;
        }
        let mut reg = registry();
        if let Some(v) = reg.get_mut(&key) {
            v.retain(|(w, d)| !(*d == wd && std::ptr::eq(w.as_ptr(), self)));
            if v.is_empty() {
                reg.remove(&key);
            }
        }
        drop(reg);
        WATCHES.fetch_sub(1, Ordering::Relaxed);
        self.push(Event { wd, mask: IN_IGNORED, cookie: 0, name: Vec::new() });
    }

    fn push(&self, e: Event) {
        {
            let mut s = lock(&self.state);
            if let Some(last) = s.events.back() {
                // Linux folds an event identical to the last one queued.
                if last.wd == e.wd && last.mask == e.mask && last.cookie == e.cookie && last.name == e.name {
                    return;
                }
            }
            if s.events.len() >= MAX_EVENTS {
                if s.events.back().is_some_and(|l| l.mask == IN_Q_OVERFLOW) {
                    return;
                }
                s.events.push_back(Event { wd: -1, mask: IN_Q_OVERFLOW, cookie: 0, name: Vec::new() });
            } else {
                s.events.push_back(e);
            }
        }
        self.queue.notify(POLLIN | POLLRDNORM);
    }

    /// Reports `mask` on watch `wd` if it asked for it; a one-shot watch
    /// goes afterwards.
    fn deliver(&self, wd: i32, mask: u32, cookie: u32, name: &[u8]) {
        let (wanted, oneshot, key) = {
            let s = lock(&self.state);
            let Some(&(key, m)) = s.watches.get(&wd) else { return };
            (m & mask & IN_ALL_EVENTS != 0, m & IN_ONESHOT != 0, key)
        };
        let always = mask & (IN_IGNORED | IN_UNMOUNT) != 0;
        if !wanted && !always {
            return;
        }
        self.push(Event { wd, mask, cookie, name: name.to_vec() });
        if oneshot {
            self.drop_watch(wd, key);
        }
    }

    /// Bytes of queued events (FIONREAD).
    pub fn pending_bytes(&self) -> usize {
        lock(&self.state).events.iter().map(Event::len).sum()
    }
}

impl Drop for Inotify {
    fn drop(&mut self) {
        let watches: Vec<(i32, LockKey)> =
            self.state.get_mut().unwrap_or_else(|e| e.into_inner()).watches.drain().map(|(w, (k, _))| (w, k)).collect();
        let mut reg = registry();
        for (wd, key) in watches {
            if let Some(v) = reg.get_mut(&key) {
                v.retain(|(w, d)| !(*d == wd && std::ptr::eq(w.as_ptr(), self)));
                if v.is_empty() {
                    reg.remove(&key);
                }
            }
            WATCHES.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl FileOps for Inotify {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let mut s = lock(&self.state);
        let Some(first) = s.events.front() else { return Err(Errno::EAGAIN) };
        if first.len() > buf.len() {
            return Err(Errno::EINVAL);
        }
        let mut n = 0;
        while let Some(e) = s.events.front() {
            if n + e.len() > buf.len() {
                break;
            }
            let e = s.events.pop_front().expect("front was some");
            buf[n..n + 4].copy_from_slice(&e.wd.to_ne_bytes());
            buf[n + 4..n + 8].copy_from_slice(&e.mask.to_ne_bytes());
            buf[n + 8..n + 12].copy_from_slice(&e.cookie.to_ne_bytes());
            buf[n + 12..n + 16].copy_from_slice(&(e.padded() as u32).to_ne_bytes());
            let name_at = n + 16;
            buf[name_at..name_at + e.padded()].fill(0);
            buf[name_at..name_at + e.name.len()].copy_from_slice(&e.name);
            n += e.len();
        }
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat { mode: 0o600, nlink: 1, blksize: 4096, ..Default::default() })
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        if lock(&self.state).events.is_empty() {
            0
        } else {
            mask & (POLLIN | POLLRDNORM)
        }
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Ok(self.pending_bytes() as u64)
    }

    fn ioctl(&self, cmd: u32, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        if cmd as u64 == libc::FIONREAD {
            mm.copy_out_obj(arg, &(self.pending_bytes() as i32))?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn fdinfo(&self) -> String {
        use std::fmt::Write as _;
        let s = lock(&self.state);
        let mut watches: Vec<(&i32, &(LockKey, u32))> = s.watches.iter().collect();
        // Linux lists the newest mark first; with no file handle for our
        // filesystems (name_to_handle_at has none), the line ends there.
        watches.sort_by(|a, b| b.0.cmp(a.0));
        let mut out = String::new();
        for (wd, ((dev, ino), mask)) in watches {
            let sdev = crate::abi::kernel_dev(*dev);
            let _ = writeln!(out, "inotify wd:{wd:x} ino:{ino:x} sdev:{sdev:x} mask:{mask:x} ignored_mask:0 ");
        }
        out
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The watch key of a place.
pub fn key_of(loc: &Location) -> Option<LockKey> {
    Some((loc.mount.dev, loc.dentry.inode.stat().ok()?.ino))
}

fn deliver_to(key: LockKey, mask: u32, cookie: u32, name: &[u8]) {
    crate::fs::dnotify::deliver(key, mask);
    let targets: Vec<(Arc<Inotify>, i32)> = match registry().get(&key) {
        Some(v) => v.iter().filter_map(|(w, d)| Some((w.upgrade()?, *d))).collect(),
        None => return,
    };
    for (i, wd) in targets {
        i.deliver(wd, mask, cookie, name);
    }
}

/// An event on `loc` itself: to its own watches and, with its name, to its
/// parent directory's.
pub fn on_inode(loc: &Location, mask: u32) {
    if !active() {
        return;
    }
    let is_dir = loc.dentry.inode.file_type() == crate::vfs::FileType::Directory;
    let flag = if is_dir { IN_ISDIR } else { 0 };
    // The parent hears first, as in fsnotify.
    if let Some(parent) = loc.dentry.parent() {
        let p = Location { mount: loc.mount.clone(), dentry: parent };
        if let Some(k) = key_of(&p) {
            deliver_to(k, mask | flag, 0, &loc.dentry.name());
        }
    }
    if let Some(k) = key_of(loc) {
        deliver_to(k, mask | flag, 0, b"");
    }
}

/// An event on the child `name` of directory `dir` (create, delete, moves).
pub fn on_child(dir: &Location, name: &[u8], mask: u32, is_dir: bool, cookie: u32) {
    if !active() {
        return;
    }
    if let Some(k) = key_of(dir) {
        deliver_to(k, mask | if is_dir { IN_ISDIR } else { 0 }, cookie, name);
    }
}

/// An event on the watches of `key` only (delete_self, move_self); watches
/// of a deleted inode go (IN_IGNORED).
pub fn on_self(key: LockKey, mask: u32) {
    if !active() {
        return;
    }
    deliver_to(key, mask, 0, b"");
    if mask & IN_DELETE_SELF != 0 {
        let targets: Vec<(Arc<Inotify>, i32)> = match registry().get(&key) {
            Some(v) => v.iter().filter_map(|(w, d)| Some((w.upgrade()?, *d))).collect(),
            None => return,
        };
        for (i, wd) in targets {
            i.drop_watch(wd, key);
        }
    }
}

/// A fresh rename cookie.
pub fn cookie() -> u32 {
    static NEXT: AtomicU32 = AtomicU32::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
