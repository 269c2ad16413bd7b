//! Inter-process communication in the sandbox's IPC namespace: System V
//! shared memory (`shm`), semaphores (`sem`) and message queues (`msg`),
//! and POSIX message queues (`mqueue`).
//!
//! System V objects live in a [`Registry`] per kind: ids are an index and
//! a sequence number (Linux's `seq << 15 | index`), keys map to indexes,
//! and every object carries its [`Perm`]. Permission checks are Linux's
//! `ipcperms`: the owner's, group's or others' bits, or CAP_IPC_OWNER.
//!
//! Lock order: a registry's lock before an object's; an object's lock is
//! never held while taking the memory manager's.

pub mod mqueue;
pub mod msg;
pub mod sem;
pub mod shm;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::ipc::IpcPerm;
use crate::abi::Errno;
use crate::auth::Credentials;

/// IPC_PRIVATE.
pub const IPC_PRIVATE: i32 = 0;
/// IPC_CREAT.
pub const IPC_CREAT: i32 = 0o1000;
/// IPC_EXCL.
pub const IPC_EXCL: i32 = 0o2000;
/// IPC_NOWAIT.
pub const IPC_NOWAIT: i32 = 0o4000;
/// IPC_RMID.
pub const IPC_RMID: i32 = 0;
/// IPC_SET.
pub const IPC_SET: i32 = 1;
/// IPC_STAT.
pub const IPC_STAT: i32 = 2;
/// IPC_INFO.
pub const IPC_INFO: i32 = 3;
/// IPCMNI: indexes per kind.
pub const IPCMNI: i32 = 32768;
/// CAP_IPC_OWNER.
const CAP_IPC_OWNER: u32 = 15;
/// CAP_SYS_ADMIN.
const CAP_SYS_ADMIN: u32 = 21;

/// The current time in seconds since the epoch (the *_time fields).
pub fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// An object's key, owner, creator and mode.
#[derive(Clone, Copy, Debug, Default)]
pub struct Perm {
    /// The key (IPC_PRIVATE once removed).
    pub key: i32,
    /// Owner.
    pub uid: u32,
    /// Owner's group.
    pub gid: u32,
    /// Creator.
    pub cuid: u32,
    /// Creator's group.
    pub cgid: u32,
    /// Permission bits, and kind-specific flags above them.
    pub mode: u16,
    /// Sequence number (in the id).
    pub seq: u16,
}

impl Perm {
    /// A new object's permissions, owned by `creds`' effective ids.
    pub fn new(key: i32, flags: i32, creds: &Credentials) -> Perm {
        Perm {
            key,
            uid: creds.euid,
            gid: creds.egid,
            cuid: creds.euid,
            cgid: creds.egid,
            mode: (flags & 0o777) as u16,
            seq: 0,
        }
    }

    /// ipcperms: whether `creds` may access with the `requested` bits
    /// (read 4, write 2, in any of the three positions).
    pub fn allows(&self, creds: &Credentials, requested: i32) -> bool {
        let req = ((requested >> 6) | (requested >> 3) | requested) & 7;
        let granted = if creds.euid == self.uid || creds.euid == self.cuid {
            (self.mode >> 6) as i32
        } else if creds.in_group(self.gid) || creds.in_group(self.cgid) || creds.egid == self.gid {
            (self.mode >> 3) as i32
        } else {
            self.mode as i32
        } & 7;
        req & !granted == 0 || creds.capable(CAP_IPC_OWNER)
    }

    /// Whether `creds` may change or remove the object (IPC_SET, IPC_RMID).
    pub fn may_change(&self, creds: &Credentials) -> bool {
        creds.euid == self.uid || creds.euid == self.cuid || creds.capable(CAP_SYS_ADMIN)
    }

    /// The `struct ipc64_perm`.
    pub fn to_raw(&self) -> IpcPerm {
        IpcPerm {
            key: self.key,
            uid: self.uid,
            gid: self.gid,
            cuid: self.cuid,
            cgid: self.cgid,
            mode: self.mode,
            seq: self.seq,
            ..Default::default()
        }
    }

    /// IPC_SET: owner and permission bits.
    pub fn set(&mut self, raw: &IpcPerm) {
        self.uid = raw.uid;
        self.gid = raw.gid;
        self.mode = (self.mode & !0o777) | (raw.mode & 0o777);
    }
}

/// An object a [`Registry`] holds.
pub trait IpcObject: Send + Sync {
    /// Its permissions.
    fn perm(&self) -> Perm;
    /// Sets its key to IPC_PRIVATE (on removal while still in use).
    fn forget_key(&self);
}

struct RegInner<T> {
    objs: BTreeMap<i32, (i32, Arc<T>)>,
    keys: HashMap<i32, i32>,
    seq: u16,
    next_index: i32,
}

/// The objects of one kind in a namespace.
pub struct Registry<T> {
    inner: Mutex<RegInner<T>>,
    max: usize,
}

impl<T: IpcObject> Registry<T> {
    /// A registry of at most `max` objects.
    pub fn new(max: usize) -> Registry<T> {
        Registry {
            inner: Mutex::new(RegInner { objs: BTreeMap::new(), keys: HashMap::new(), seq: 0, next_index: 0 }),
            max,
        }
    }

    fn lock(&self) -> MutexGuard<'_, RegInner<T>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// ipcget: the id of the object with `key` (after the permission
    /// check and `check`), or a new one made by `make` (given its
    /// permissions, sequence number filled in).
    pub fn get(
        &self,
        key: i32,
        flags: i32,
        creds: &Credentials,
        check: impl FnOnce(&T) -> Result<(), Errno>,
        make: impl FnOnce(Perm) -> Result<T, Errno>,
    ) -> Result<i32, Errno> {
        let mut r = self.lock();
        if key != IPC_PRIVATE {
            if let Some(&idx) = r.keys.get(&key) {
                if flags & IPC_CREAT != 0 && flags & IPC_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                let (id, obj) = r.objs.get(&idx).map(|(id, o)| (*id, o.clone())).ok_or(Errno::ENOENT)?;
                if !obj.perm().allows(creds, flags & 0o777) {
                    return Err(Errno::EACCES);
                }
                check(&obj)?;
                return Ok(id);
            }
            if flags & IPC_CREAT == 0 {
                return Err(Errno::ENOENT);
            }
        }
        if r.objs.len() >= self.max {
            return Err(Errno::ENOSPC);
        }
        // The next free index at or after the last one used, cyclically.
        let mut idx = r.next_index;
        for _ in 0..IPCMNI {
            if !r.objs.contains_key(&idx) {
                break;
            }
            idx = (idx + 1) % IPCMNI;
        }
        if r.objs.contains_key(&idx) {
            return Err(Errno::ENOSPC);
        }
        let seq = r.seq;
        r.seq = (r.seq + 1) % (i32::MAX / IPCMNI) as u16;
        let mut perm = Perm::new(key, flags, creds);
        perm.seq = seq;
        let obj = Arc::new(make(perm)?);
        let id = seq as i32 * IPCMNI + idx;
        r.objs.insert(idx, (id, obj));
        if key != IPC_PRIVATE {
            r.keys.insert(key, idx);
        }
        r.next_index = (idx + 1) % IPCMNI;
        Ok(id)
    }

    /// The object with `id` (EINVAL if none: bad index or stale sequence).
    pub fn find(&self, id: i32) -> Result<Arc<T>, Errno> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let r = self.lock();
        match r.objs.get(&(id % IPCMNI)) {
            Some((oid, o)) if *oid == id => Ok(o.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The object at index `idx` and its id (SHM_STAT and friends).
    pub fn at_index(&self, idx: i32) -> Result<(i32, Arc<T>), Errno> {
        let r = self.lock();
        r.objs.get(&idx).map(|(id, o)| (*id, o.clone())).ok_or(Errno::EINVAL)
    }

    /// Removes the object with `id`, if it is still `obj`.
    pub fn remove(&self, id: i32, obj: &T) {
        if id < 0 {
            return;
        }
        let mut r = self.lock();
        let idx = id % IPCMNI;
        if r.objs.get(&idx).is_some_and(|(oid, o)| *oid == id && std::ptr::eq(Arc::as_ptr(o), obj)) {
            r.objs.remove(&idx);
            let key = obj.perm().key;
            if key != IPC_PRIVATE && r.keys.get(&key) == Some(&idx) {
                r.keys.remove(&key);
            }
        }
    }

    /// Makes the object's key private: it stays (by id) but a get by key
    /// no longer finds it.
    pub fn hide(&self, id: i32, obj: &Arc<T>) {
        let mut r = self.lock();
        let key = obj.perm().key;
        if key != IPC_PRIVATE && r.keys.get(&key) == Some(&(id % IPCMNI)) {
            r.keys.remove(&key);
        }
        obj.forget_key();
    }

    /// Number of objects.
    pub fn count(&self) -> usize {
        self.lock().objs.len()
    }

    /// The highest index in use (-1: none), for IPC_INFO's return value.
    pub fn max_index(&self) -> i32 {
        self.lock().objs.keys().next_back().copied().unwrap_or(-1)
    }

    /// Every object.
    pub fn all(&self) -> Vec<Arc<T>> {
        self.lock().objs.values().map(|(_, o)| o.clone()).collect()
    }
}

/// A sandbox's IPC namespace.
pub struct IpcNamespace {
    /// Shared memory segments.
    pub shm: Registry<shm::ShmSegment>,
    /// Semaphore sets.
    pub sem: Registry<sem::SemSet>,
    /// Message queues.
    pub msg: Registry<msg::MsgQueue>,
    /// POSIX message queues by name.
    pub mqueues: mqueue::MqNamespace,
}

impl Default for IpcNamespace {
    fn default() -> IpcNamespace {
        IpcNamespace {
            shm: Registry::new(shm::SHMMNI),
            sem: Registry::new(sem::SEMMNI),
            msg: Registry::new(msg::MSGMNI),
            mqueues: Default::default(),
        }
    }
}
