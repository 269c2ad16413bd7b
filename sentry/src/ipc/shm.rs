//! System V shared memory segments: memory-file pages that processes
//! attach (shmat) as shared mappings. Each VMA of a segment is an
//! attachment ([`crate::mm::Segment`]), so `shm_nattch` counts them as
//! Linux does (forks and splits included); a segment removed with
//! IPC_RMID lives on, by id only, until its last attachment goes.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::ipc::ShmidDs;
use crate::abi::{page_up, Errno};
use crate::ipc::{now_secs, IpcNamespace, IpcObject, Perm, IPC_PRIVATE};
use crate::mm::{MemoryFile, Segment};

/// SHMMNI.
pub const SHMMNI: usize = 4096;
/// SHMMIN.
pub const SHMMIN: u64 = 1;
/// SHMMAX (and SHMALL, in pages' worth): Linux's defaults.
pub const SHMMAX: u64 = u64::MAX - (1 << 24);
/// SHM_DEST: removed, destroyed at the last detach.
pub const SHM_DEST: u16 = 0o1000;
/// SHM_LOCKED.
pub const SHM_LOCKED: u16 = 0o2000;

/// What changes of a segment.
pub struct ShmState {
    /// Key, owner, mode (with SHM_DEST, SHM_LOCKED).
    pub perm: Perm,
    /// Last attach, detach and change times.
    pub atime: i64,
    /// Last detach.
    pub dtime: i64,
    /// Last change.
    pub ctime: i64,
    /// Creator's pid.
    pub cpid: i32,
    /// Last attacher's or detacher's pid.
    pub lpid: i32,
}

/// A shared memory segment.
pub struct ShmSegment {
    state: Mutex<ShmState>,
    /// Its size, as asked.
    pub size: u64,
    /// Its pages in the memory file.
    pub mf_off: u64,
    mf: Arc<MemoryFile>,
    nattch: AtomicU64,
    /// Its id and namespace, to go away at the last detach once removed.
    id: AtomicI32,
    ns: Weak<IpcNamespace>,
    /// Its pages were given back.
    freed: AtomicBool,
}

impl ShmSegment {
    /// A new segment of `size` bytes.
    pub fn new(
        perm: Perm,
        size: u64,
        mf: &Arc<MemoryFile>,
        ns: &Arc<IpcNamespace>,
        pid: i32,
    ) -> Result<ShmSegment, Errno> {
        let len = page_up(size).ok_or(Errno::ENOMEM)?;
        let mf_off = mf.allocate(len).map_err(|_| Errno::ENOMEM)?;
        Ok(ShmSegment {
            state: Mutex::new(ShmState { perm, atime: 0, dtime: 0, ctime: now_secs(), cpid: pid, lpid: 0 }),
            size,
            mf_off,
            mf: mf.clone(),
            nattch: AtomicU64::new(0),
            id: AtomicI32::new(-1),
            ns: Arc::downgrade(ns),
            freed: AtomicBool::new(false),
        })
    }

    /// Records the segment's id (after registration).
    pub fn registered(&self, id: i32) {
        self.id.store(id, Ordering::Relaxed);
    }

    /// The state.
    pub fn state(&self) -> MutexGuard<'_, ShmState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The length of its pages.
    pub fn len(&self) -> u64 {
        page_up(self.size).unwrap_or(self.size)
    }

    /// Whether the segment has no bytes (never: SHMMIN is 1).
    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    /// Attachments now.
    pub fn nattch(&self) -> u64 {
        self.nattch.load(Ordering::Acquire)
    }

    /// IPC_STAT's view.
    pub fn stat(&self) -> ShmidDs {
        let s = self.state();
        ShmidDs {
            perm: s.perm.to_raw(),
            segsz: self.size,
            atime: s.atime,
            dtime: s.dtime,
            ctime: s.ctime,
            cpid: s.cpid,
            lpid: s.lpid,
            nattch: self.nattch(),
            ..Default::default()
        }
    }

    /// IPC_RMID: destroyed now if nothing is attached, else at the last
    /// detach; either way its key is free at once.
    pub fn remove(self: &Arc<Self>, ns: &IpcNamespace, id: i32) {
        {
            let mut s = self.state();
            s.perm.mode |= SHM_DEST;
            s.ctime = now_secs();
        }
        ns.shm.hide(id, self);
        self.destroy_if_unused();
    }

    fn destroy_if_unused(&self) {
        if self.nattch() != 0 || self.state().perm.mode & SHM_DEST == 0 {
            return;
        }
        if self.freed.swap(true, Ordering::AcqRel) {
            return;
        }
        // The segment's own reference on its pages; mappings hold theirs.
        self.mf.dec_ref(self.mf_off, self.len());
        if let Some(ns) = self.ns.upgrade() {
            ns.shm.remove(self.id.load(Ordering::Relaxed), self);
        }
    }
}

impl Segment for ShmSegment {
    fn attach(&self) {
        self.nattch.fetch_add(1, Ordering::AcqRel);
    }

    fn detach(&self) {
        if self.nattch.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.destroy_if_unused();
        }
    }

    fn size(&self) -> u64 {
        self.len()
    }

    fn detached_by(&self, pid: i32) {
        let mut s = self.state();
        s.dtime = now_secs();
        s.lpid = pid;
    }
}

impl IpcObject for ShmSegment {
    fn perm(&self) -> Perm {
        self.state().perm
    }

    fn forget_key(&self) {
        self.state().perm.key = IPC_PRIVATE;
    }
}

impl Drop for ShmSegment {
    fn drop(&mut self) {
        // A segment never removed (its namespace went away).
        if !self.freed.load(Ordering::Acquire) {
            self.mf.dec_ref(self.mf_off, self.len());
        }
    }
}
