//! File leases (fcntl F_SETLEASE, F_GETLEASE): a read lease is broken by
//! an open for writing (or a truncate), a write lease by any open. The
//! holder is told with its file's signal (F_SETSIG, else SIGIO) and must
//! give the lease up (or downgrade a write lease to a read lease for an
//! opener that only reads) within the lease-break time, after which the
//! lease goes anyway; the opener waits until then, or fails with
//! EWOULDBLOCK if it opened with O_NONBLOCK.
//!
//! Leases belong to open file descriptions and are keyed by the inode
//! object they were taken on. Files with no lease never take the table's
//! lock: a count of leases guards every hook.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::vfs::File;
use crate::waiter::WaitQueue;

/// /proc/sys/fs/lease-break-time: how long a holder has to give a lease up.
pub const BREAK_TIME: Duration = Duration::from_secs(45);

/// One lease.
struct Lease {
    file: Weak<File>,
    /// The description's address (its identity while it lives).
    file_id: usize,
    /// The fd it was taken through (si_fd of the break signal).
    fd: i32,
    /// F_RDLCK or F_WRLCK.
    kind: i32,
    /// While being broken: what it must become (F_RDLCK or F_UNLCK), and
    /// when it goes to that anyway.
    breaking: Option<(i32, Instant)>,
}

#[derive(Default)]
struct Table {
    by_inode: HashMap<usize, Vec<Lease>>,
}

static TABLE: LazyLock<Mutex<Table>> = LazyLock::new(Default::default);
/// Leases held: hooks return at once while 0.
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// Where openers waiting for a break sleep.
pub static CHANGED: LazyLock<WaitQueue> = LazyLock::new(WaitQueue::new);

fn table() -> MutexGuard<'static, Table> {
    TABLE.lock().unwrap_or_else(|e| e.into_inner())
}

fn recount(t: &Table) {
    COUNT.store(t.by_inode.values().map(Vec::len).sum(), Ordering::Release);
}

/// Whether any lease is held (opens and truncates skip the break work
/// otherwise).
pub fn any() -> bool {
    COUNT.load(Ordering::Acquire) != 0
}

/// The identity leases are keyed by: the inode object's address.
pub fn key_of(inode: &Arc<dyn crate::vfs::Inode>) -> usize {
    Arc::as_ptr(inode) as *const () as usize
}

/// The inode identity of a file opened by path (None for others).
pub fn inode_key(file: &File) -> Option<usize> {
    Some(key_of(&file.location.as_ref()?.dentry.inode))
}

fn file_id(file: &File) -> usize {
    file as *const File as usize
}

/// F_GETLEASE: the lease `file` holds (F_UNLCK if none); while it is
/// being broken, what it must become.
pub fn get(file: &File) -> i32 {
    if COUNT.load(Ordering::Acquire) == 0 {
        return libc::F_UNLCK;
    }
    let Some(key) = inode_key(file) else { return libc::F_UNLCK };
    let t = table();
    t.by_inode
        .get(&key)
        .and_then(|v| v.iter().find(|l| l.file_id == file_id(file)))
        .map_or(libc::F_UNLCK, |l| l.breaking.map_or(l.kind, |(to, _)| to))
}

/// F_SETLEASE of `kind` on `file` (open as `fd`), after the caller checked
/// the other opens. F_UNLCK removes the lease, and with it the file's
/// owner and F_SETSIG signal, as Linux's lease_modify does. A change
/// keeps a break under way: a lease being broken to F_UNLCK may become a
/// read lease, but the break goes on.
pub fn set(file: &Arc<File>, fd: i32, kind: i32) -> Result<(), crate::abi::Errno> {
    let Some(key) = inode_key(file) else { return Err(crate::abi::Errno::EINVAL) };
    let id = file_id(file);
    let mut t = table();
    let list = t.by_inode.entry(key).or_default();
    let existing = list.iter().position(|l| l.file_id == id);
    let mut had = false;
    match existing {
        Some(i) if kind == libc::F_UNLCK => {
            list.remove(i);
            had = true;
        }
        Some(i) => {
            let l = &mut list[i];
            l.kind = kind;
            l.fd = fd;
            // A downgrade (or unlock) that a break asked for ends it.
            if matches!(l.breaking, Some((to, _)) if to == kind || kind == libc::F_UNLCK) {
                l.breaking = None;
            }
        }
        None if kind != libc::F_UNLCK => {
            list.push(Lease { file: Arc::downgrade(file), file_id: id, fd, kind, breaking: None })
        }
        None => {}
    }
    if list.is_empty() {
        t.by_inode.remove(&key);
    }
    recount(&t);
    drop(t);
    if had {
        unset_owner(file);
    }
    CHANGED.notify(crate::waiter::EVENT_ANY);
    Ok(())
}

/// A lease ended by F_UNLCK or a finished break: the file loses its owner
/// and F_SETSIG signal (f_delown, signum = 0).
fn unset_owner(file: &File) {
    let mut a = file.fasync();
    a.owner = (crate::kernel::fasync::OWNER_PID, 0);
    a.sig = 0;
}

/// The description went away: so does its lease.
pub fn release(file: &File) {
    if COUNT.load(Ordering::Acquire) == 0 {
        return;
    }
    let Some(key) = inode_key(file) else { return };
    let id = file_id(file);
    let mut t = table();
    let Some(list) = t.by_inode.get_mut(&key) else { return };
    let before = list.len();
    list.retain(|l| l.file_id != id);
    let changed = list.len() != before;
    if list.is_empty() {
        t.by_inode.remove(&key);
    }
    recount(&t);
    drop(t);
    if changed {
        CHANGED.notify(crate::waiter::EVENT_ANY);
    }
}

/// Whether an open of the inode `key` (for writing if `write`) conflicts
/// with a lease (Linux's any_leases_conflict).
fn conflicts(list: &[Lease], write: bool) -> bool {
    list.iter().any(|l| write || l.kind == libc::F_WRLCK)
}

/// What a breaker must do next.
pub enum Break {
    /// No lease is in the way.
    Clear,
    /// Leases are being broken; wait until this time at the latest.
    Wait(Instant),
}

/// An open (for writing if `write`) or truncate of the inode `key`:
/// starts breaking the leases in its way and returns the holders to
/// signal (file, fd), then whether to wait. Leases whose break time ran
/// out are taken away (or downgraded) here.
pub fn start_break(key: usize, write: bool) -> (Break, Vec<(Arc<File>, i32)>) {
    if COUNT.load(Ordering::Acquire) == 0 {
        return (Break::Clear, Vec::new());
    }
    let now = Instant::now();
    let mut t = table();
    let Some(list) = t.by_inode.get_mut(&key) else { return (Break::Clear, Vec::new()) };
    // Breaks whose time is up take effect.
    let mut ended = Vec::new();
    list.retain_mut(|l| match l.breaking {
        Some((to, at)) if at <= now => {
            l.breaking = None;
            l.kind = to;
            if to == libc::F_UNLCK {
                ended.push(l.file.clone());
            }
            to != libc::F_UNLCK
        }
        _ => true,
    });
    let mut notify = Vec::new();
    let mut until = None::<Instant>;
    if conflicts(list, write) {
        for l in list.iter_mut() {
            if !(write || l.kind == libc::F_WRLCK) {
                continue;
            }
            let to = if write { libc::F_UNLCK } else { libc::F_RDLCK };
            match l.breaking {
                // Already being broken at least that far.
                Some((cur, at)) if cur == libc::F_UNLCK || cur == to => until = Some(until.map_or(at, |u| u.min(at))),
                _ => {
                    let at = now + BREAK_TIME;
                    l.breaking = Some((to, at));
                    until = Some(until.map_or(at, |u| u.min(at)));
                    if let Some(f) = l.file.upgrade() {
                        notify.push((f, l.fd));
                    }
                }
            }
        }
    }
    if list.is_empty() {
        t.by_inode.remove(&key);
    }
    recount(&t);
    drop(t);
    for f in ended.iter().filter_map(Weak::upgrade) {
        unset_owner(&f);
    }
    (until.map_or(Break::Clear, Break::Wait), notify)
}
