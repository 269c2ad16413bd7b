//! The overlay root: a read-only lower layer (the image, through the gofer)
//! under a writable upper layer (tmpfs in sandbox memory), as gVisor's
//! `--overlay2=root:memory` and Linux's overlayfs do. Lookups look in the
//! upper layer first; the first change to a lower file copies it up
//! (data, mode, owner, times) with its ancestors; removing a lower name
//! leaves a whiteout (a 0:0 character device, Linux's format) in the upper
//! directory, and a directory made over a whiteout is opaque
//! (`trusted.overlay.opaque`). Inode numbers stay those of the lower file
//! across copy-up, so open files and `find`'s loop detection see one file.
//!
//! As in Linux without `redirect_dir`, renaming a directory that has a
//! lower layer gives EXDEV (`mv` then copies).
//!
//! A lower file with several names (hard links) stays one file, as with
//! Linux's `index=on` (Docker's `index=off` breaks such links): its first
//! copy-up is remembered by the lower (dev, ino), and each other name links
//! to that copy when next used; its link count is the upper copy's plus
//! the lower names still showing.

mod copy_up;
mod dir;
mod file;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use crate::abi::{Errno, Stat, Statfs};
use crate::vfs::inode::{NewNode, SetAttr};
use crate::vfs::{DirEntry, FileOps, FileType, Inode};

/// The overlayfs superblock magic.
pub const OVERLAYFS_MAGIC: i64 = 0x794c_7630;

/// Upper-layer inode numbers are moved above any lower one.
const UPPER_INO_BASE: u64 = 1 << 40;

/// The opaque-directory xattr.
const OPAQUE_XATTR: &[u8] = b"trusted.overlay.opaque";

/// A child's (lower, upper) inodes.
type Layers = (Option<Arc<dyn Inode>>, Option<Arc<dyn Inode>>);

/// One overlay.
pub struct Overlay {
    /// Serialises copy-up and changes of names (Linux's rename lock).
    tree: Mutex<()>,
    /// Upper inode numbers of copied-up files and the (lower) numbers the
    /// overlay shows for them, for readdir's d_ino.
    renumber: Mutex<HashMap<u64, u64>>,
    /// Lower files with several names, some of which left the lower view.
    links: Mutex<HashMap<(u64, u64), LowerLinks>>,
}

/// A lower regular file with several names (its lower dev, ino and link
/// count).
#[derive(Clone, Copy)]
struct LowerId {
    dev: u64,
    ino: u64,
    nlink: u32,
}

/// What became of a lower file with several names: the upper copy they
/// share once one was copied up, and how many of its lower names no longer
/// show (copied up, removed or covered).
#[derive(Default)]
struct LowerLinks {
    upper: Option<Arc<dyn Inode>>,
    gone: u32,
}

/// Whether a lower-layer name lies under an overlay name (so removing it
/// needs a whiteout): no, yes, or not known yet (look).
const COVERS_NO: u8 = 0;
const COVERS_YES: u8 = 1;
const COVERS_UNKNOWN: u8 = 2;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// An overlay inode: its lower and upper inodes (either may be absent, not
/// both), and where it is, for copying up its ancestors.
pub struct OvInode {
    fs: Arc<Overlay>,
    me: Weak<OvInode>,
    ino: u64,
    ftype: FileType,
    place: Mutex<Option<(Arc<OvInode>, Vec<u8>)>>,
    lower: Option<Arc<dyn Inode>>,
    upper: OnceLock<Arc<dyn Inode>>,
    /// Children looked up or made, so one name keeps one inode.
    children: Mutex<HashMap<Vec<u8>, Weak<OvInode>>>,
    /// COVERS_*: whether its name hides a lower-layer name.
    covers: AtomicU8,
    /// The lower file, if it is regular with several names.
    shared: Option<LowerId>,
}

/// Whether an upper-layer inode is a whiteout.
fn is_whiteout(i: &Arc<dyn Inode>) -> bool {
    i.file_type() == FileType::CharDevice && i.stat().is_ok_and(|s| s.rdev == 0)
}

/// Whether an upper directory hides the lower one.
fn is_opaque(i: &Arc<dyn Inode>) -> bool {
    i.getxattr(OPAQUE_XATTR).is_ok_and(|v| v == b"y")
}

fn whiteout_node() -> NewNode {
    NewNode { mode: libc::S_IFCHR, uid: 0, gid: 0, rdev: 0, target: Vec::new() }
}

impl Overlay {
    /// An overlay of `upper` (an empty tmpfs root) on `lower`; returns its
    /// root.
    pub fn new_root(lower: Arc<dyn Inode>, upper: Arc<dyn Inode>) -> Result<Arc<OvInode>, Errno> {
        let st = lower.stat()?;
        // The upper root takes the lower root's attributes.
        upper.setattr(&SetAttr {
            mode: Some(st.mode & 0o7777),
            uid: Some(st.uid),
            gid: Some(st.gid),
            atime: Some(st.atime),
            mtime: Some(st.mtime),
            ..Default::default()
        })?;
        let fs = Arc::new(Overlay {
            tree: Mutex::new(()),
            renumber: Mutex::new(HashMap::new()),
            links: Mutex::new(HashMap::new()),
        });
        let root = OvInode::make(&fs, None, Some(lower), Some(upper), Some(st.ino));
        Ok(root)
    }
}

impl OvInode {
    fn make(
        fs: &Arc<Overlay>,
        place: Option<(Arc<OvInode>, Vec<u8>)>,
        lower: Option<Arc<dyn Inode>>,
        upper: Option<Arc<dyn Inode>>,
        ino: Option<u64>,
    ) -> Arc<OvInode> {
        let any = upper.as_ref().or(lower.as_ref()).expect("an overlay inode has a layer");
        let ftype = any.file_type();
        let lower_st =
            lower.as_ref().filter(|_| ino.is_none() || ftype == FileType::Regular).and_then(|l| l.stat().ok());
        let shared = lower_st.filter(|s| ftype == FileType::Regular && s.nlink > 1).map(|s| LowerId {
            dev: s.dev,
            ino: s.ino,
            nlink: s.nlink.min(u32::MAX as u64) as u32,
        });
        let ino = ino.unwrap_or_else(|| match &lower {
            Some(_) => lower_st.map_or(0, |s| s.ino),
            None => upper.as_ref().and_then(|u| u.stat().ok()).map_or(0, |s| s.ino + UPPER_INO_BASE),
        });
        Self::make_shared(fs, place, lower, upper, ino, ftype, shared)
    }

    fn make_shared(
        fs: &Arc<Overlay>,
        place: Option<(Arc<OvInode>, Vec<u8>)>,
        lower: Option<Arc<dyn Inode>>,
        upper: Option<Arc<dyn Inode>>,
        ino: u64,
        ftype: FileType,
        shared: Option<LowerId>,
    ) -> Arc<OvInode> {
        let cell = OnceLock::new();
        if let Some(u) = upper {
            let _ = cell.set(u);
        }
        let covers = if lower.is_some() { COVERS_YES } else { COVERS_UNKNOWN };
        Arc::new_cyclic(|me| OvInode {
            fs: fs.clone(),
            me: me.clone(),
            ino,
            ftype,
            place: Mutex::new(place),
            lower,
            upper: cell,
            children: Mutex::new(HashMap::new()),
            covers: AtomicU8::new(covers),
            shared,
        })
    }

    fn arc(&self) -> Arc<OvInode> {
        self.me.upgrade().expect("an overlay inode in use is alive")
    }

    fn upper(&self) -> Option<&Arc<dyn Inode>> {
        self.upper.get()
    }

    /// The layer that answers now: upper if copied up. A lower name of a
    /// file another name of which was copied up links to that copy first
    /// (if that fails, the lower file answers).
    fn current(&self) -> &Arc<dyn Inode> {
        if self.upper().is_none() && self.shared.is_some_and(|id| self.fs.shared_upper(id).is_some()) {
            let _ = copy_up::copy_up(self);
        }
        self.upper().or(self.lower.as_ref()).expect("an overlay inode has a layer")
    }

    /// The link count shown: for a lower file with several names, the
    /// upper copy's links plus its lower names still showing.
    fn nlink(&self, st: &Stat) -> u64 {
        let Some(id) = self.shared else { return st.nlink };
        let gone = lock(&self.fs.links).get(&(id.dev, id.ino)).map_or(0, |l| l.gone);
        let lower_left = u64::from(id.nlink.saturating_sub(gone));
        if self.upper().is_some() {
            st.nlink + lower_left
        } else {
            lower_left
        }
    }

    /// One of the lower names of this file leaves the lower view (removed,
    /// or covered by another file).
    fn lower_name_gone(&self) {
        if let Some(id) = self.shared.filter(|_| self.upper().is_none()) {
            lock(&self.fs.links).entry((id.dev, id.ino)).or_default().gone += 1;
        }
    }

    /// Whether a lower directory shows through this (upper) directory.
    fn merges_lower(&self) -> bool {
        match (&self.lower, self.upper()) {
            (Some(l), Some(u)) => l.file_type() == FileType::Directory && !is_opaque(u),
            (Some(_), None) => true,
            _ => false,
        }
    }

    /// The child `name` as the layers give it (no cache); `ahead` are the
    /// names the walk looks up beneath it next (for the lower layer).
    fn lookup_layers(&self, name: &[u8], ahead: &[&[u8]]) -> Result<Layers, Errno> {
        let mut upper = None;
        if let Some(u) = self.upper() {
            match u.lookup(name) {
                Ok(c) if is_whiteout(&c) => return Err(Errno::ENOENT),
                Ok(c) => upper = Some(c),
                Err(Errno::ENOENT) => {}
                Err(e) => return Err(e),
            }
        }
        let mut lower = None;
        let look_lower = match &upper {
            // A non-directory upper hides the lower; an upper directory
            // merges with a lower directory unless opaque.
            Some(u) => u.file_type() == FileType::Directory && !is_opaque(u),
            None => true,
        };
        if look_lower && self.merges_lower() {
            if let Some(l) = &self.lower {
                match l.lookup_ahead(name, ahead) {
                    Ok(c) => {
                        let dir_pair = upper.is_some() && c.file_type() != FileType::Directory;
                        if !dir_pair {
                            lower = Some(c);
                        }
                    }
                    Err(Errno::ENOENT) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if upper.is_none() && lower.is_none() {
            return Err(Errno::ENOENT);
        }
        Ok((lower, upper))
    }

    /// The child `name`, one inode per name while it is in use.
    fn child(&self, name: &[u8]) -> Result<Arc<OvInode>, Errno> {
        self.child_ahead(name, &[])
    }

    /// The child `name`, telling the lower layer the names looked up
    /// beneath it next.
    fn child_ahead(&self, name: &[u8], ahead: &[&[u8]]) -> Result<Arc<OvInode>, Errno> {
        if let Some(c) = lock(&self.children).get(name).and_then(Weak::upgrade) {
            return Ok(c);
        }
        let (lower, upper) = self.lookup_layers(name, ahead)?;
        let ino = upper.as_ref().and_then(|u| u.stat().ok()).and_then(|s| lock(&self.fs.renumber).get(&s.ino).copied());
        let known_absent = lower.is_none() && !self.merges_lower();
        let c = OvInode::make(&self.fs, Some((self.arc(), name.to_vec())), lower, upper, ino);
        if known_absent {
            c.covers.store(COVERS_NO, Ordering::Relaxed);
        }
        lock(&self.children).insert(name.to_vec(), Arc::downgrade(&c));
        Ok(c)
    }

    /// Whether the lower layer has the name of `child` in this directory
    /// (so removing or moving it away needs a whiteout).
    fn lower_has(&self, child: &OvInode, name: &[u8]) -> bool {
        match child.covers.load(Ordering::Relaxed) {
            COVERS_NO => false,
            COVERS_YES => true,
            _ => {
                let has = self.merges_lower() && self.lower.as_ref().is_some_and(|l| l.lookup(name).is_ok());
                child.covers.store(if has { COVERS_YES } else { COVERS_NO }, Ordering::Relaxed);
                has
            }
        }
    }

    /// Removes a whiteout at `name` in the (copied-up) upper directory;
    /// returns whether there was one.
    fn clear_whiteout(&self, upper: &Arc<dyn Inode>, name: &[u8]) -> Result<bool, Errno> {
        match upper.lookup(name) {
            Ok(c) if is_whiteout(&c) => {
                upper.unlink(name, false)?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    fn downcast(i: &Arc<dyn Inode>) -> Result<&OvInode, Errno> {
        i.as_any().and_then(|a| a.downcast_ref::<OvInode>()).ok_or(Errno::EXDEV)
    }
}

impl Inode for OvInode {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut st = self.current().stat()?;
        st.ino = self.ino;
        st.nlink = self.nlink(&st);
        Ok(st)
    }

    fn file_type(&self) -> FileType {
        self.ftype
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.ftype != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(self.child(name)?)
    }

    fn lookup_ahead(&self, name: &[u8], rest: &[&[u8]]) -> Result<Arc<dyn Inode>, Errno> {
        if self.ftype != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(self.child_ahead(name, rest)?)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        self.current().readlink()
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        file::open(self.arc(), flags)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        dir::merged(self)
    }

    fn statfs(&self) -> Result<Option<Statfs>, Errno> {
        let mut s = match self.fs_upper_statfs()? {
            Some(s) => s,
            None => return Ok(None),
        };
        s.f_type = OVERLAYFS_MAGIC;
        Ok(Some(s))
    }

    fn create(&self, name: &[u8], node: &NewNode) -> Result<Arc<dyn Inode>, Errno> {
        let upper = copy_up::copy_up(self)?;
        let _tree = lock(&self.fs.tree);
        if let Ok(c) = upper.lookup(name) {
            if !is_whiteout(&c) {
                return Err(Errno::EEXIST);
            }
        }
        let had_whiteout = self.clear_whiteout(&upper, name)?;
        let made = upper.create(name, node)?;
        if had_whiteout && made.file_type() == FileType::Directory {
            made.setxattr(OPAQUE_XATTR, b"y", 0)?;
        }
        let c = OvInode::make(&self.fs, Some((self.arc(), name.to_vec())), None, Some(made), None);
        c.covers.store(if had_whiteout { COVERS_YES } else { COVERS_NO }, Ordering::Relaxed);
        lock(&self.children).insert(name.to_vec(), Arc::downgrade(&c));
        Ok(c)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = OvInode::downcast(target)?;
        let tu = copy_up::copy_up(t)?;
        let upper = copy_up::copy_up(self)?;
        let _tree = lock(&self.fs.tree);
        let had_whiteout = self.clear_whiteout(&upper, name)?;
        upper.link(name, &tu)?;
        let place = Some((self.arc(), name.to_vec()));
        let c = OvInode::make_shared(&self.fs, place, None, Some(tu), t.ino, t.ftype, t.shared);
        c.covers.store(if had_whiteout { COVERS_YES } else { COVERS_NO }, Ordering::Relaxed);
        lock(&self.children).insert(name.to_vec(), Arc::downgrade(&c));
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        let child = self.child(name)?;
        let is_dir = child.ftype == FileType::Directory;
        if dir && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !dir && is_dir {
            return Err(Errno::EISDIR);
        }
        if is_dir && !dir::is_empty(&child)? {
            return Err(Errno::ENOTEMPTY);
        }
        let upper = copy_up::copy_up(self)?;
        let _tree = lock(&self.fs.tree);
        let needs_whiteout = self.lower_has(&child, name);
        if let Some(cu) = child.upper() {
            if is_dir {
                dir::clear_whiteouts(cu)?;
            }
            upper.unlink(name, is_dir)?;
        }
        child.lower_name_gone();
        if needs_whiteout {
            upper.create(name, &whiteout_node())?;
        }
        lock(&self.children).remove(name);
        Ok(())
    }

    fn rename(&self, name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<(), Errno> {
        let nd = OvInode::downcast(new_dir)?;
        if flags & libc::RENAME_WHITEOUT != 0 {
            return Err(Errno::EINVAL);
        }
        let src = self.child(name)?;
        let dst = match nd.child(new_name) {
            Ok(d) => Some(d),
            Err(Errno::ENOENT) => None,
            Err(e) => return Err(e),
        };
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        if let Some(d) = &dst {
            if Arc::ptr_eq(d, &src) {
                return Ok(());
            }
            if flags & libc::RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if !exchange && d.ftype == FileType::Directory && !dir::is_empty(d)? {
                return Err(Errno::ENOTEMPTY);
            }
        }
        // A directory with a lower layer cannot move (no redirect_dir).
        let lower_dir = |n: &OvInode| n.ftype == FileType::Directory && n.lower.is_some();
        if lower_dir(&src) || (exchange && dst.as_deref().is_some_and(lower_dir)) {
            return Err(Errno::EXDEV);
        }
        copy_up::copy_up(&src)?;
        if let Some(d) = &dst {
            if exchange {
                copy_up::copy_up(d)?;
            }
        }
        let ou = copy_up::copy_up(self)?;
        let nu = copy_up::copy_up(nd)?;
        let _tree = lock(&self.fs.tree);
        let src_lower = self.lower_has(&src, name);
        let had_whiteout = nd.clear_whiteout(&nu, new_name)?;
        let dst_lower = match &dst {
            Some(d) => nd.lower_has(d, new_name),
            None => had_whiteout,
        };
        if let Some(d) = &dst {
            if !exchange && d.ftype == FileType::Directory {
                if let Some(du) = d.upper() {
                    dir::clear_whiteouts(du)?;
                }
            }
        }
        ou.rename(name, &nu, new_name, flags)?;
        if let Some(d) = dst.as_ref().filter(|_| !exchange) {
            d.lower_name_gone();
        }
        if !exchange {
            if src_lower {
                ou.create(name, &whiteout_node())?;
            }
            if dst_lower && src.ftype == FileType::Directory {
                // The moved directory replaces a lower one: hide it.
                if let Some(su) = src.upper() {
                    su.setxattr(OPAQUE_XATTR, b"y", 0)?;
                }
            }
        }
        // Move the cached inodes.
        let mut oc = lock(&self.children);
        oc.remove(name);
        drop(oc);
        let mut nc = lock(&nd.children);
        nc.remove(new_name);
        nc.insert(new_name.to_vec(), Arc::downgrade(&src));
        drop(nc);
        *lock(&src.place) = Some((nd.arc(), new_name.to_vec()));
        let flag = |b: bool| if b { COVERS_YES } else { COVERS_NO };
        src.covers.store(flag(dst_lower), Ordering::Relaxed);
        if exchange {
            if let Some(d) = &dst {
                lock(&self.children).insert(name.to_vec(), Arc::downgrade(d));
                *lock(&d.place) = Some((self.arc(), name.to_vec()));
                d.covers.store(flag(src_lower), Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        let upper = if attr.size == Some(0) { copy_up::copy_up_truncated(self)? } else { copy_up::copy_up(self)? };
        upper.setattr(attr)
    }

    fn allocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        copy_up::copy_up(self)?.allocate(mode, off, len)
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        if name.starts_with(b"trusted.overlay.") {
            return Err(Errno::ENODATA);
        }
        match self.current().getxattr(name) {
            // A layer without attributes (a host filesystem without
            // them): none there.
            Err(Errno::EOPNOTSUPP) => Err(Errno::ENODATA),
            r => r,
        }
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        if name.starts_with(b"trusted.overlay.") {
            return Err(Errno::EPERM);
        }
        copy_up::copy_up(self)?.setxattr(name, value, flags)
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        let mut names = match self.current().listxattr() {
            Ok(n) => n,
            Err(Errno::EOPNOTSUPP) => Vec::new(),
            Err(e) => return Err(e),
        };
        names.retain(|n| !n.starts_with(b"trusted.overlay."));
        Ok(names)
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        if name.starts_with(b"trusted.overlay.") {
            return Err(Errno::ENODATA);
        }
        copy_up::copy_up(self)?.removexattr(name)
    }

    fn attr_flags(&self) -> Result<u32, Errno> {
        match self.current().attr_flags() {
            // The image's flags are not served: none.
            Err(Errno::ENOTTY) if self.upper().is_none() => Ok(0),
            r => r,
        }
    }

    fn set_attr_flags(&self, flags: u32) -> Result<(), Errno> {
        copy_up::copy_up(self)?.set_attr_flags(flags)
    }

    fn make_linkable(&self) {
        if let Some(u) = self.upper() {
            u.make_linkable();
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

impl Overlay {
    /// The upper copy of lower file `id`, once one of its names was
    /// copied up.
    fn shared_upper(&self, id: LowerId) -> Option<Arc<dyn Inode>> {
        lock(&self.links).get(&(id.dev, id.ino)).and_then(|l| l.upper.clone())
    }
}

impl OvInode {
    /// statfs of the upper layer (the root's; every upper inode is on it).
    fn fs_upper_statfs(&self) -> Result<Option<Statfs>, Errno> {
        let mut cur = self.arc();
        loop {
            if let Some(u) = cur.upper() {
                return u.statfs();
            }
            let parent = lock(&cur.place).as_ref().map(|(p, _)| p.clone());
            match parent {
                Some(p) => cur = p,
                None => return cur.current().statfs(),
            }
        }
    }
}
