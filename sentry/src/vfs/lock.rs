//! Advisory file locks: flock(2) locks (owned by an open file description),
//! POSIX record locks (owned by an fd table, Linux's `files_struct`, and
//! dropped when any of its fds for the file is closed) and OFD record locks
//! (owned by an open file description). Each file's locks live here, keyed
//! by (device, inode), with a wait queue that blocked lockers sleep on; the
//! syscall layer does the blocking. A POSIX waiter that would wait on an
//! owner that is itself waiting on it (directly or through others) gets
//! EDEADLK.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::abi::Errno;
use crate::waiter::WaitQueue;

/// Which file: (device, inode).
pub type LockKey = (u64, u64);

/// Who holds a lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// An fd table (POSIX locks), with the locking process's id for F_GETLK.
    Table(u64),
    /// An open file description (flock and OFD locks), by address.
    File(usize),
}

/// A record lock.
#[derive(Clone, Copy, Debug)]
pub struct Record {
    /// Owner.
    pub owner: Owner,
    /// First byte.
    pub start: u64,
    /// One past the last byte (`u64::MAX`: to end of file, whatever it
    /// becomes).
    pub end: u64,
    /// A write (exclusive) lock.
    pub write: bool,
    /// The locking process (F_GETLK's l_pid; -1 for OFD locks).
    pub pid: i32,
}

#[derive(Default)]
struct State {
    /// flock locks: owner and exclusive.
    flocks: Vec<(usize, bool)>,
    records: Vec<Record>,
}

/// One file's locks.
#[derive(Default)]
pub struct FileLocks {
    state: Mutex<State>,
    /// Woken when a lock is released.
    pub queue: WaitQueue,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
struct Table {
    files: HashMap<LockKey, Arc<FileLocks>>,
    /// POSIX owners blocked, and the owner they wait for.
    waiting: HashMap<u64, u64>,
}

fn table() -> MutexGuard<'static, Table> {
    static TABLE: OnceLock<Mutex<Table>> = OnceLock::new();
    lock(TABLE.get_or_init(Default::default))
}

/// Record locks held by fd tables anywhere: when there are none, closing
/// an fd has nothing to look up.
static POSIX_LOCKS: AtomicUsize = AtomicUsize::new(0);

/// The locks of `key`, made on first use.
pub fn locks_of(key: LockKey) -> Arc<FileLocks> {
    table().files.entry(key).or_default().clone()
}

fn overlaps(a: &Record, start: u64, end: u64) -> bool {
    a.start < end && start < a.end
}

impl FileLocks {
    /// flock(2): takes (or converts to) a shared or exclusive lock for
    /// `owner`; on conflict returns EWOULDBLOCK (the caller may wait and
    /// retry). A conversion drops the old lock first, as Linux does.
    pub fn flock(&self, owner: usize, exclusive: bool) -> Result<(), Errno> {
        let mut s = lock(&self.state);
        if let Some(i) = s.flocks.iter().position(|&(o, _)| o == owner) {
            if s.flocks[i].1 == exclusive {
                return Ok(());
            }
            s.flocks.remove(i);
            drop(s);
            self.queue.notify(!0);
            s = lock(&self.state);
        }
        if s.flocks.iter().any(|&(o, x)| o != owner && (x || exclusive)) {
            return Err(Errno::EWOULDBLOCK);
        }
        s.flocks.push((owner, exclusive));
        Ok(())
    }

    /// Drops `owner`'s flock lock.
    pub fn funlock(&self, owner: usize) {
        let mut s = lock(&self.state);
        let before = s.flocks.len();
        s.flocks.retain(|&(o, _)| o != owner);
        if s.flocks.len() != before {
            drop(s);
            self.queue.notify(!0);
        }
    }

    /// The first lock of another owner that conflicts with `want`.
    pub fn conflict(&self, want: &Record) -> Option<Record> {
        let s = lock(&self.state);
        s.records
            .iter()
            .find(|r| r.owner != want.owner && overlaps(r, want.start, want.end) && (r.write || want.write))
            .copied()
    }

    /// Sets (or with `unlock` clears) `want`'s range for its owner; fails
    /// with EAGAIN on a conflict (the caller may wait and retry).
    pub fn set(&self, want: Record, unlock: bool) -> Result<(), Errno> {
        let mut s = lock(&self.state);
        if !unlock
            && s.records
                .iter()
                .any(|r| r.owner != want.owner && overlaps(r, want.start, want.end) && (r.write || want.write))
        {
            return Err(Errno::EAGAIN);
        }
        // Cut the owner's locks out of the range, keeping what lies outside.
        let mut kept = Vec::with_capacity(s.records.len() + 2);
        let mut removed = 0usize;
        for r in s.records.drain(..) {
            if r.owner != want.owner || !overlaps(&r, want.start, want.end) {
                kept.push(r);
                continue;
            }
            removed += 1;
            if r.start < want.start {
                kept.push(Record { end: want.start, ..r });
            }
            if r.end > want.end {
                kept.push(Record { start: want.end, ..r });
            }
        }
        let _ = removed;
        if !unlock {
            kept.push(want);
        }
        // Merge the owner's adjacent or overlapping locks of one type.
        kept.sort_by_key(|r| (r.start, r.end));
        let mut merged: Vec<Record> = Vec::with_capacity(kept.len());
        for r in kept {
            if let Some(m) = merged
                .iter_mut()
                .rev()
                .find(|m| m.owner == r.owner && m.write == r.write && m.end >= r.start && m.start <= r.end)
            {
                m.end = m.end.max(r.end);
                m.start = m.start.min(r.start);
                continue;
            }
            merged.push(r);
        }
        let before = s.records.len();
        s.records = merged;
        let after = s.records.len();
        drop(s);
        if matches!(want.owner, Owner::Table(_)) {
            if after > before {
                POSIX_LOCKS.fetch_add(after - before, Ordering::Relaxed);
            } else {
                POSIX_LOCKS.fetch_sub(before - after, Ordering::Relaxed);
            }
        }
        self.queue.notify(!0);
        Ok(())
    }

    /// Drops every record lock of `owner`.
    pub fn release_records(&self, owner: Owner) {
        let mut s = lock(&self.state);
        let before = s.records.len();
        s.records.retain(|r| r.owner != owner);
        let gone = before - s.records.len();
        drop(s);
        if gone > 0 {
            if matches!(owner, Owner::Table(_)) {
                POSIX_LOCKS.fetch_sub(gone, Ordering::Relaxed);
            }
            self.queue.notify(!0);
        }
    }
}

/// Whether any POSIX record lock is held (closing fds must look).
pub fn any_posix_locks() -> bool {
    POSIX_LOCKS.load(Ordering::Relaxed) != 0
}

/// The fd table `table` closed an fd of `key`: its POSIX locks go.
pub fn close_posix(key: LockKey, table: u64) {
    let l = table_get(key);
    if let Some(l) = l {
        l.release_records(Owner::Table(table));
    }
}

fn table_get(key: LockKey) -> Option<Arc<FileLocks>> {
    table().files.get(&key).cloned()
}

/// An open file description with locks is gone: its flock and OFD locks
/// go.
pub fn release_file(key: LockKey, file: usize) {
    if let Some(l) = table_get(key) {
        l.funlock(file);
        l.release_records(Owner::File(file));
    }
}

/// Records that POSIX owner `me` waits for `holder`; EDEADLK if `holder`
/// waits (through any chain) for `me`.
pub fn start_waiting(me: u64, holder: u64) -> Result<(), Errno> {
    let mut t = table();
    let mut cur = holder;
    for _ in 0..1024 {
        if cur == me {
            return Err(Errno::EDEADLK);
        }
        match t.waiting.get(&cur) {
            Some(&next) => cur = next,
            None => break,
        }
    }
    t.waiting.insert(me, holder);
    Ok(())
}

/// `me` no longer waits.
pub fn stop_waiting(me: u64) {
    table().waiting.remove(&me);
}
