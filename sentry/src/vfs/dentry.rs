//! Dentries (names in the tree, cached), mounts, and the mount table.
//!
//! The mount table says which mount covers a (mount, dentry) place, as
//! Linux's mount hash does: a dentry seen through two mounts (a bind
//! mount) has mounts of its own in each. A dentry counts the mounts on it
//! in any mount, so a walk looks at the table only where one is.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};

use crate::abi::Errno;
use crate::vfs::Inode;

/// A name bound to an inode, with its parent; children are cached, and so
/// are names a lookup found absent (ENOENT), up to [`MAX_ABSENT`] per
/// directory: dynamic loaders, interpreters and shells probe many names that
/// are not there, and each probe would otherwise cost a gofer round trip.
/// Every operation that makes a name ([`Dentry::add_child`]) drops it from
/// `absent`; unlink and rename move or drop the cached children, so the
/// cache stays the truth for everything changed inside the sandbox.
pub struct Dentry {
    place: Mutex<Place>,
    /// The inode.
    pub inode: Arc<dyn Inode>,
    children: Mutex<HashMap<Vec<u8>, Arc<Dentry>>>,
    absent: Mutex<std::collections::HashSet<Vec<u8>>>,
    /// Mounts on this dentry, through any mount (Linux's d_mountpoint).
    mounts_on: AtomicU32,
}

/// Where a dentry is: its name and parent (both change on rename), and
/// whether it was unlinked.
#[derive(Clone)]
struct Place {
    name: Vec<u8>,
    parent: Option<Arc<Dentry>>,
    deleted: bool,
}

/// The most absent names remembered per directory.
pub const MAX_ABSENT: usize = 1024;

/// The most names a lookup is told lie ahead of it.
pub const MAX_AHEAD: usize = 16;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Dentry {
    fn make(name: Vec<u8>, parent: Option<Arc<Dentry>>, inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Arc::new(Dentry {
            place: Mutex::new(Place { name, parent, deleted: false }),
            inode,
            children: Mutex::new(HashMap::new()),
            absent: Mutex::new(Default::default()),
            mounts_on: AtomicU32::new(0),
        })
    }

    /// A filesystem root.
    pub fn new_root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Dentry::make(Vec::new(), None, inode)
    }

    /// The name in the parent (empty for a filesystem root).
    pub fn name(&self) -> Vec<u8> {
        lock(&self.place).name.clone()
    }

    /// The parent within the same filesystem (`None` at the root).
    pub fn parent(&self) -> Option<Arc<Dentry>> {
        lock(&self.place).parent.clone()
    }

    /// Whether the name was unlinked (open files of it live on).
    pub fn deleted(&self) -> bool {
        lock(&self.place).deleted
    }

    /// Looks up (and caches) a child.
    pub fn child(self: &Arc<Dentry>, name: &[u8]) -> Result<Arc<Dentry>, Errno> {
        self.child_ahead(name, std::iter::empty())
    }

    /// Looks up (and caches) a child, telling the filesystem on a miss
    /// which names the walk takes beneath it next (`rest`, up to the first
    /// `.` or `..`; at most [`MAX_AHEAD`]).
    pub fn child_ahead<'a>(
        self: &Arc<Dentry>,
        name: &[u8],
        rest: impl Iterator<Item = &'a [u8]>,
    ) -> Result<Arc<Dentry>, Errno> {
        let dynamic = self.inode.dynamic();
        let mut children = lock(&self.children);
        if !dynamic {
            if let Some(c) = children.get(name) {
                return Ok(c.clone());
            }
            if lock(&self.absent).contains(name) {
                return Err(Errno::ENOENT);
            }
        }
        let ahead: Vec<&[u8]> = rest
            .take_while(|c| *c != b"." && *c != b".." && c.len() <= crate::vfs::path::NAME_MAX)
            .take(MAX_AHEAD)
            .collect();
        let inode = match self.inode.lookup_ahead(name, &ahead) {
            Ok(i) => i,
            Err(Errno::ENOENT) if !dynamic => {
                let mut absent = lock(&self.absent);
                if absent.len() < MAX_ABSENT {
                    absent.insert(name.to_vec());
                }
                return Err(Errno::ENOENT);
            }
            Err(e) => return Err(e),
        };
        let d = Dentry::make(name.to_vec(), Some(self.clone()), inode);
        if !dynamic {
            children.insert(name.to_vec(), d.clone());
        }
        Ok(d)
    }

    /// The cached child `name`: `Ok(None)` if the cache cannot tell
    /// (RESOLVE_CACHED gives EAGAIN then), ENOENT for a cached absence.
    pub fn cached_child(&self, name: &[u8]) -> Result<Option<Arc<Dentry>>, Errno> {
        if self.inode.dynamic() {
            return Ok(None);
        }
        if let Some(c) = lock(&self.children).get(name) {
            return Ok(Some(c.clone()));
        }
        if lock(&self.absent).contains(name) {
            return Err(Errno::ENOENT);
        }
        Ok(None)
    }

    /// Records a name just made in this directory.
    pub fn add_child(self: &Arc<Dentry>, name: &[u8], inode: Arc<dyn Inode>) -> Arc<Dentry> {
        let d = Dentry::make(name.to_vec(), Some(self.clone()), inode);
        lock(&self.absent).remove(name);
        if !self.inode.dynamic() {
            lock(&self.children).insert(name.to_vec(), d.clone());
        }
        d
    }

    /// Forgets a name just removed from this directory; its dentry (held by
    /// open files and working directories) is marked deleted.
    pub fn remove_child(&self, name: &[u8]) {
        if let Some(d) = lock(&self.children).remove(name) {
            lock(&d.place).deleted = true;
        }
        let mut absent = lock(&self.absent);
        if absent.len() < MAX_ABSENT {
            absent.insert(name.to_vec());
        }
    }

    /// Forgets a cached child without marking it deleted (the filesystem
    /// will be asked again).
    pub fn forget_child(&self, name: &[u8]) {
        lock(&self.children).remove(name);
        lock(&self.absent).remove(name);
    }

    /// Moves the cached child `name` to `new_name` in `new_parent` after
    /// the filesystem renamed it (a replaced target is marked deleted); with
    /// `exchange`, the two swap places.
    pub fn move_child(self: &Arc<Dentry>, name: &[u8], new_parent: &Arc<Dentry>, new_name: &[u8], exchange: bool) {
        let moving = lock(&self.children).remove(name);
        let other = lock(&new_parent.children).remove(new_name);
        lock(&new_parent.absent).remove(new_name);
        match (&other, exchange) {
            (Some(o), true) => {
                *lock(&o.place) = Place { name: name.to_vec(), parent: Some(self.clone()), deleted: false };
                lock(&self.children).insert(name.to_vec(), o.clone());
            }
            (Some(o), false) => lock(&o.place).deleted = true,
            (None, true) => {
                // The other side was not cached: look it up afresh.
                lock(&self.absent).remove(name);
            }
            (None, false) => {}
        }
        if !exchange {
            let mut absent = lock(&self.absent);
            if absent.len() < MAX_ABSENT {
                absent.insert(name.to_vec());
            }
        }
        if let Some(m) = moving {
            *lock(&m.place) = Place { name: new_name.to_vec(), parent: Some(new_parent.clone()), deleted: false };
            lock(&new_parent.children).insert(new_name.to_vec(), m);
        }
    }

    /// Whether `self` is `other` or one of its ancestors (rename may not
    /// move a directory beneath itself).
    pub fn is_ancestor_of(self: &Arc<Dentry>, other: &Arc<Dentry>) -> bool {
        let mut cur = Some(other.clone());
        while let Some(d) = cur {
            if Arc::ptr_eq(&d, self) {
                return true;
            }
            cur = d.parent();
        }
        false
    }

    /// Whether something is mounted on this dentry, through any mount
    /// (rmdir, unlink and rename of it are EBUSY).
    pub fn is_mountpoint(&self) -> bool {
        self.mounts_on.load(Ordering::Acquire) > 0
    }
}

/// The mount table: (parent mount id, mountpoint dentry address) to the
/// mount on top there. The mount keeps its mountpoint dentry alive, so
/// the address names it while the entry exists. One table: the sandbox
/// has one mount namespace.
type Table = HashMap<(u32, usize), Arc<Mount>>;

static TABLE: LazyLock<RwLock<Table>> = LazyLock::new(Default::default);

fn key(mount: &Mount, dentry: &Arc<Dentry>) -> (u32, usize) {
    (mount.id, Arc::as_ptr(dentry) as usize)
}

/// The mount covering `dentry` as seen through `mount`, if any.
pub fn covering(mount: &Mount, dentry: &Arc<Dentry>) -> Option<Arc<Mount>> {
    if !dentry.is_mountpoint() {
        return None;
    }
    TABLE.read().unwrap_or_else(|e| e.into_inner()).get(&key(mount, dentry)).cloned()
}

/// The topmost mount's root over `at` (where a new mount stacks).
fn top(at: &Location) -> Location {
    let mut at = at.clone();
    while let Some(m) = covering(&at.mount, &at.dentry) {
        at = Location { dentry: m.root.clone(), mount: m };
    }
    at
}

fn attach(m: &Arc<Mount>, at: &Location) {
    at.dentry.mounts_on.fetch_add(1, Ordering::AcqRel);
    TABLE.write().unwrap_or_else(|e| e.into_inner()).insert(key(&at.mount, &at.dentry), m.clone());
    *lock(&m.parent) = Some((at.mount.clone(), at.dentry.clone()));
}

static NEXT_MOUNT_ID: AtomicU32 = AtomicU32::new(1);

bitflags::bitflags! {
    /// A mount's per-mount flags beside read-only (mount(2)'s MS_NOSUID,
    /// MS_NODEV, MS_NOEXEC).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct MountFlags: u32 {
        /// Set-ID bits and file capabilities are ignored on execve.
        const NOSUID = 1;
        /// Device files cannot be opened.
        const NODEV = 2;
        /// Files cannot be executed.
        const NOEXEC = 4;
    }
}

impl MountFlags {
    /// What a new mount of `fstype` has unless told otherwise: the
    /// sandbox's proc and sysfs are nosuid, nodev and noexec, its device
    /// filesystems nosuid (as a container's are under runc).
    pub fn default_for(fstype: &str) -> MountFlags {
        match fstype {
            "proc" | "sysfs" => MountFlags::NOSUID | MountFlags::NODEV | MountFlags::NOEXEC,
            "devtmpfs" | "devpts" => MountFlags::NOSUID,
            _ => MountFlags::empty(),
        }
    }
}

/// A mounted filesystem.
pub struct Mount {
    /// Mount id (for /proc/self/mountinfo and statx).
    pub id: u32,
    /// The filesystem's root dentry.
    pub root: Arc<Dentry>,
    /// Where it is mounted: (parent mount, mountpoint dentry); MS_MOVE
    /// changes it.
    parent: Mutex<Option<(Arc<Mount>, Arc<Dentry>)>>,
    /// Device number reported for files of this mount.
    pub dev: u64,
    /// Mounted read-only (MS_RDONLY; remount changes it).
    readonly: std::sync::atomic::AtomicBool,
    /// The other per-mount flags ([`MountFlags`] bits).
    flags: AtomicU32,
    /// Filesystem type name.
    pub fstype: &'static str,
    /// What the filesystem adds to its options in mountinfo (a cgroup v1
    /// hierarchy's controllers).
    super_options: std::sync::OnceLock<&'static str>,
}

impl Mount {
    /// A root mount (no parent).
    pub fn new_root(root: Arc<Dentry>, dev: u64, readonly: bool, fstype: &'static str) -> Arc<Mount> {
        Arc::new(Mount {
            id: NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed),
            root,
            parent: Mutex::new(None),
            dev,
            readonly: readonly.into(),
            flags: MountFlags::default_for(fstype).bits().into(),
            fstype,
            super_options: Default::default(),
        })
    }

    /// Mounts `root` on `at` (a directory, or a file for a bind mount of
    /// a file), on top of whatever is mounted there already.
    pub fn mount_at(at: &Location, root: Arc<Dentry>, dev: u64, readonly: bool, fstype: &'static str) -> Arc<Mount> {
        let m = Arc::new(Mount {
            id: NEXT_MOUNT_ID.fetch_add(1, Ordering::Relaxed),
            root,
            parent: Mutex::new(None),
            dev,
            readonly: readonly.into(),
            flags: MountFlags::default_for(fstype).bits().into(),
            fstype,
            super_options: Default::default(),
        });
        attach(&m, &top(at));
        m
    }
}

impl Mount {
    /// Where it is mounted: (parent mount, mountpoint dentry); `None` for
    /// the root mount and detached ones.
    pub fn parent(&self) -> Option<(Arc<Mount>, Arc<Dentry>)> {
        lock(&self.parent).clone()
    }

    /// Mounted read-only.
    pub fn readonly(&self) -> bool {
        self.readonly.load(Ordering::Relaxed)
    }

    /// Remount read-only or read-write.
    pub fn set_readonly(&self, ro: bool) {
        self.readonly.store(ro, Ordering::Relaxed);
    }

    /// Its nosuid, nodev and noexec flags.
    pub fn flags(&self) -> MountFlags {
        MountFlags::from_bits_truncate(self.flags.load(Ordering::Relaxed))
    }

    /// Sets its nosuid, nodev and noexec flags (mount, remount).
    pub fn set_flags(&self, f: MountFlags) {
        self.flags.store(f.bits(), Ordering::Relaxed);
    }

    /// Unmounts it from its mount point (umount2); the caller checked it is
    /// not busy. Mounts on it stay on it, out of sight (a lazy unmount).
    pub fn detach(&self) {
        let Some((pm, at)) = lock(&self.parent).take() else { return };
        let mut t = TABLE.write().unwrap_or_else(|e| e.into_inner());
        let k = key(&pm, &at);
        if t.get(&k).is_some_and(|x| std::ptr::eq(Arc::as_ptr(x), self)) {
            t.remove(&k);
        }
        at.mounts_on.fetch_sub(1, Ordering::AcqRel);
    }

    /// MS_MOVE: takes the mount off its mount point and puts it on `at`.
    pub fn move_to(self: &Arc<Self>, at: &Location) {
        self.detach();
        attach(self, &top(at));
    }
}

/// Whether `from` is at or below `to`, following mount parents
/// (Linux's is_path_reachable).
fn reachable(from: &Location, to: &Location) -> bool {
    let (mut m, mut d) = (from.mount.clone(), from.dentry.clone());
    while !Arc::ptr_eq(&m, &to.mount) {
        match m.parent() {
            Some((pm, pd)) => (m, d) = (pm, pd),
            None => return false,
        }
    }
    to.dentry.is_ancestor_of(&d)
}

/// pivot_root(2)'s move of mounts, with Linux's checks: `new` (the new
/// root, a mount's root) takes the place of `root` (the caller's root, a
/// mount's root), which goes onto `old` (at or below `new`). The root
/// mount of the sandbox has no parent here, where a container's is
/// mounted on the kernel's rootfs; it counts as attached, and the new
/// root takes its place as the tree's top. The caller holds the kernel's
/// mount list lock and moves the tasks' roots and working directories.
pub fn pivot_root(new: &Location, old: &Location, root: &Location) -> Result<(), Errno> {
    let old = old.topmost();
    if new.dentry.deleted() {
        return Err(Errno::ENOENT);
    }
    if Arc::ptr_eq(&new.mount, &root.mount) || Arc::ptr_eq(&old.mount, &root.mount) {
        return Err(Errno::EBUSY);
    }
    let is_root = |l: &Location| Arc::ptr_eq(&l.dentry, &l.mount.root);
    if !is_root(root) || !is_root(new) || new.mount.parent().is_none() {
        return Err(Errno::EINVAL);
    }
    if !reachable(&old, new) || !reachable(new, root) {
        return Err(Errno::EINVAL);
    }
    let root_place = root.mount.parent();
    new.mount.detach();
    root.mount.detach();
    attach(&root.mount, &old);
    if let Some((pm, pd)) = root_place {
        attach(&new.mount, &Location { mount: pm, dentry: pd });
    }
    Ok(())
}

/// ST_RDONLY.
const ST_RDONLY: i64 = 1;
/// ST_VALID: f_flags is meaningful.
const ST_VALID: i64 = 0x20;

impl Mount {
    /// The superblock magic of synthetic filesystems.
    fn magic(&self) -> i64 {
        match self.fstype {
            "proc" => 0x9fa0,
            "sysfs" => 0x6265_6572,
            _ => 0x0102_1994, // tmpfs (our dev)
        }
    }

    /// statfs(2) for a location on this mount.
    pub fn statfs(&self, at: &Location) -> Result<crate::abi::Statfs, Errno> {
        let mut s = match at.dentry.inode.statfs()? {
            Some(s) => s,
            None => crate::abi::Statfs {
                f_type: self.magic(),
                bsize: 4096,
                namelen: 255,
                frsize: 4096,
                ..Default::default()
            },
        };
        let (ma, mi) = crate::abi::dev_split(self.dev);
        s.fsid = [((ma << 8) | mi) as i32, 0];
        if self.readonly() {
            s.flags |= ST_RDONLY;
        } else {
            s.flags &= !ST_RDONLY;
        }
        s.flags |= ST_VALID;
        Ok(s)
    }

    /// Mounted noexec (execve of its files gives EACCES).
    pub fn noexec(&self) -> bool {
        self.flags().contains(MountFlags::NOEXEC)
    }

    /// Mounted nosuid (set-ID bits and file capabilities are ignored on
    /// execve).
    pub fn nosuid(&self) -> bool {
        self.flags().contains(MountFlags::NOSUID)
    }

    /// Mounted nodev (device files cannot be opened: EACCES).
    pub fn nodev(&self) -> bool {
        self.flags().contains(MountFlags::NODEV)
    }

    /// Sets what the filesystem adds to its options in mountinfo (once).
    pub fn set_super_options(&self, opts: &'static str) {
        let _ = self.super_options.set(opts);
    }

    /// The mount's options followed by what the filesystem adds (the
    /// super options mountinfo shows).
    pub fn super_options(&self) -> String {
        match self.super_options.get() {
            Some(extra) => format!("{},{extra}", self.options()),
            None => self.options(),
        }
    }

    /// Mount options as `/proc/[pid]/mounts` shows them.
    pub fn options(&self) -> String {
        // The sandbox's sysfs is always read-only.
        let ro = self.readonly() || self.fstype == "sysfs";
        let f = self.flags();
        let mut s = String::from(if ro { "ro" } else { "rw" });
        for (bit, name) in
            [(MountFlags::NOSUID, ",nosuid"), (MountFlags::NODEV, ",nodev"), (MountFlags::NOEXEC, ",noexec")]
        {
            if f.contains(bit) {
                s.push_str(name);
            }
        }
        s.push_str(",relatime");
        s
    }
}

/// A place in the mount tree: a mount and a dentry within it.
#[derive(Clone)]
pub struct Location {
    /// The mount.
    pub mount: Arc<Mount>,
    /// The dentry.
    pub dentry: Arc<Dentry>,
}

impl Location {
    /// Whether two locations are the same place.
    pub fn same(&self, other: &Location) -> bool {
        Arc::ptr_eq(&self.mount, &other.mount) && Arc::ptr_eq(&self.dentry, &other.dentry)
    }

    /// Stat with the mount's device filled in.
    pub fn stat(&self) -> Result<crate::abi::Stat, Errno> {
        let mut st = self.dentry.inode.stat()?;
        st.dev = self.mount.dev;
        Ok(st)
    }

    /// The topmost mount's root stacked on this place, or the place
    /// itself (Linux's lookup down, as umount2 and pivot_root's put_old
    /// take their paths).
    pub fn topmost(&self) -> Location {
        top(self)
    }

    /// The root of this location's mount.
    pub fn mount_root(&self) -> Location {
        Location { mount: self.mount.clone(), dentry: self.mount.root.clone() }
    }
}
