//! tmpfs: a filesystem in sandbox memory. Directories, regular files (data
//! in memory-file pages, see [`data`]), symlinks, device nodes, fifos and
//! sockets, with hard links, rename, attributes and extended attributes;
//! `size=` and `nr_inodes=` limits give ENOSPC. It is also the overlay's
//! upper layer.

pub mod data;
pub mod file;

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::{Errno, Stat, Statfs};
use crate::mm::MemoryFile;
use crate::vfs::inode::{now, NewNode, SetAttr};
use crate::vfs::{DirEntry, FileOps, FileType, Inode};
use data::FileData;

/// The tmpfs superblock magic.
pub const TMPFS_MAGIC: i64 = 0x0102_1994;

/// Mount options.
#[derive(Clone, Copy, Debug)]
pub struct TmpfsOptions {
    /// Most bytes of file data (`size=`), a page multiple.
    pub size: u64,
    /// Most inodes (`nr_inodes=`).
    pub nr_inodes: u64,
    /// The root directory's mode (`mode=`).
    pub mode: u32,
    /// The root directory's owner.
    pub uid: u32,
    /// The root directory's group.
    pub gid: u32,
    /// File data goes to the memory file's file store (the overlay's
    /// upper layer with `--overlay2=root:self`), if it has one.
    pub in_store: bool,
}

impl TmpfsOptions {
    /// Options from a mount data string (`size=64m,mode=1777,...`), as
    /// mount(2) takes them for tmpfs; the mount flags' names are accepted
    /// and left to the caller.
    pub fn parse(data: &[u8]) -> Result<TmpfsOptions, crate::abi::Errno> {
        use crate::abi::Errno;
        let mut o = TmpfsOptions::default();
        let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
        let number = |v: &str| -> Result<u64, Errno> {
            let (digits, mult) = match v.chars().last() {
                Some('k' | 'K') => (&v[..v.len() - 1], 1u64 << 10),
                Some('m' | 'M') => (&v[..v.len() - 1], 1 << 20),
                Some('g' | 'G') => (&v[..v.len() - 1], 1 << 30),
                _ => (v, 1),
            };
            digits.parse::<u64>().map_err(|_| Errno::EINVAL)?.checked_mul(mult).ok_or(Errno::EINVAL)
        };
        for opt in text.split(',').filter(|s| !s.is_empty()) {
            let (k, v) = opt.split_once('=').unwrap_or((opt, ""));
            match k {
                "size" => o.size = number(v)?.div_ceil(4096) * 4096,
                "nr_inodes" => o.nr_inodes = number(v)?,
                "mode" => o.mode = u32::from_str_radix(v, 8).map_err(|_| Errno::EINVAL)? & 0o7777,
                "uid" => o.uid = v.parse().map_err(|_| Errno::EINVAL)?,
                "gid" => o.gid = v.parse().map_err(|_| Errno::EINVAL)?,
                // Flags that need no work here.
                "rw" | "ro" | "nosuid" | "nodev" | "noexec" | "relatime" | "noatime" | "strictatime" => {}
                _ => return Err(Errno::EINVAL),
            }
        }
        Ok(o)
    }
}

/// Half of the host's RAM (Linux's default tmpfs size), at most half the
/// memory file; read once.
fn half_of_ram() -> u64 {
    static HALF: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *HALF.get_or_init(|| {
        // SAFETY: sysinfo fills the struct it is given; zeroed is valid.
        let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
        // SAFETY: `si` is a valid out-pointer.
        let ram = if unsafe { libc::sysinfo(&mut si) } == 0 { si.totalram * si.mem_unit as u64 } else { 0 };
        let cap = crate::mm::memfile::MEMORY_FILE_SIZE / 2;
        let half = if ram == 0 { cap } else { (ram / 2).min(cap) };
        half & !(crate::abi::PAGE_SIZE - 1)
    })
}

impl Default for TmpfsOptions {
    fn default() -> TmpfsOptions {
        // Linux's defaults: half of RAM, and as many inodes as RAM pages / 2.
        TmpfsOptions { size: half_of_ram(), nr_inodes: 1 << 20, mode: 0o1777, uid: 0, gid: 0, in_store: false }
    }
}

/// One tmpfs instance.
pub struct Tmpfs {
    mf: Arc<MemoryFile>,
    opts: TmpfsOptions,
    pages: AtomicU64,
    inodes: AtomicU64,
    next_ino: AtomicU64,
    /// Serialises changes to the tree (Linux's s_vfs_rename_mutex, taken
    /// for every change of names here).
    tree: Mutex<()>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Tmpfs {
    /// A new, empty tmpfs; returns its root directory.
    pub fn new_root(mf: Arc<MemoryFile>, opts: TmpfsOptions) -> Arc<TmpInode> {
        let fs = Arc::new(Tmpfs {
            mf,
            opts,
            pages: AtomicU64::new(0),
            inodes: AtomicU64::new(0),
            next_ino: AtomicU64::new(1),
            tree: Mutex::new(()),
        });
        let node = NewNode {
            mode: libc::S_IFDIR | (opts.mode & 0o7777),
            uid: opts.uid,
            gid: opts.gid,
            rdev: 0,
            target: Vec::new(),
        };
        let root = TmpInode::make(&fs, &node, None);
        // The inode limit does not count the root.
        root.expect("a new tmpfs has room for its root")
    }

    fn charge_page(&self) -> Result<(), Errno> {
        let max = self.opts.size / crate::abi::PAGE_SIZE;
        self.pages
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |p| (p < max).then_some(p + 1))
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    fn uncharge(&self, pages: u64) {
        self.pages.fetch_sub(pages, Ordering::Relaxed);
    }

    /// statfs(2) figures.
    pub fn statfs(&self) -> Statfs {
        let blocks = self.opts.size / 4096;
        let used = self.pages.load(Ordering::Relaxed);
        let files = self.opts.nr_inodes;
        let inodes = self.inodes.load(Ordering::Relaxed);
        Statfs {
            f_type: TMPFS_MAGIC,
            bsize: 4096,
            blocks,
            bfree: blocks.saturating_sub(used),
            bavail: blocks.saturating_sub(used),
            files,
            ffree: files.saturating_sub(inodes),
            fsid: [0, 0],
            namelen: 255,
            frsize: 4096,
            flags: 0,
            spare: [0; 4],
        }
    }
}

/// A directory's entries, in creation order (readdir offsets stay stable
/// while entries come and go).
#[derive(Default)]
pub struct Dir {
    entries: HashMap<Vec<u8>, (u64, Arc<TmpInode>)>,
    order: BTreeMap<u64, (Vec<u8>, Arc<TmpInode>)>,
    next: u64,
    parent_ino: u64,
}

impl Dir {
    fn insert(&mut self, name: &[u8], inode: Arc<TmpInode>) {
        self.next += 1;
        let serial = self.next;
        if let Some((old, _)) = self.entries.insert(name.to_vec(), (serial, inode.clone())) {
            self.order.remove(&old);
        }
        self.order.insert(serial, (name.to_vec(), inode));
    }

    fn remove(&mut self, name: &[u8]) -> Option<Arc<TmpInode>> {
        let (serial, inode) = self.entries.remove(name)?;
        self.order.remove(&serial);
        Some(inode)
    }

    fn get(&self, name: &[u8]) -> Option<&Arc<TmpInode>> {
        self.entries.get(name).map(|(_, i)| i)
    }
}

/// What kind of object an inode is, with its contents.
pub enum Kind {
    /// A directory.
    Dir(Mutex<Dir>),
    /// A regular file.
    File(Mutex<FileData>),
    /// A symbolic link.
    Symlink(Vec<u8>),
    /// A device node, fifo or socket.
    Special,
}

/// A tmpfs inode.
pub struct TmpInode {
    fs: Arc<Tmpfs>,
    me: Weak<TmpInode>,
    ino: u64,
    ftype: FileType,
    meta: Mutex<Stat>,
    /// The contents.
    pub kind: Kind,
    xattrs: Mutex<BTreeMap<Vec<u8>, Vec<u8>>>,
    /// memfd seals (F_SEAL_*); files made by name carry F_SEAL_SEAL.
    seals: AtomicU32,
    /// A FIFO's pipe, made at its first open.
    pub fifo: Mutex<Option<Arc<crate::fs::pipe::Pipe>>>,
    /// An O_TMPFILE file that may be linked while its link count is zero.
    linkable: std::sync::atomic::AtomicBool,
    /// FS_IOC_SETFLAGS flags.
    attr_flags: AtomicU32,
}

/// F_SEAL_SEAL.
pub const F_SEAL_SEAL: u32 = 1;
/// F_SEAL_SHRINK.
pub const F_SEAL_SHRINK: u32 = 2;
/// F_SEAL_GROW.
pub const F_SEAL_GROW: u32 = 4;
/// F_SEAL_WRITE.
pub const F_SEAL_WRITE: u32 = 8;
/// F_SEAL_FUTURE_WRITE.
pub const F_SEAL_FUTURE_WRITE: u32 = 16;
/// F_SEAL_EXEC.
pub const F_SEAL_EXEC: u32 = 32;

impl Drop for TmpInode {
    fn drop(&mut self) {
        if let Kind::File(d) = &self.kind {
            self.fs.uncharge(lock(d).pages());
        }
        self.fs.inodes.fetch_sub(1, Ordering::Relaxed);
    }
}

impl TmpInode {
    fn make(fs: &Arc<Tmpfs>, node: &NewNode, parent_ino: Option<u64>) -> Result<Arc<TmpInode>, Errno> {
        let root = parent_ino.is_none();
        if !root {
            fs.inodes
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < fs.opts.nr_inodes).then_some(n + 1))
                .map_err(|_| Errno::ENOSPC)?;
        } else {
            fs.inodes.fetch_add(1, Ordering::Relaxed);
        }
        let ino = fs.next_ino.fetch_add(1, Ordering::Relaxed);
        let ftype = FileType::from_mode(node.mode);
        let kind = match ftype {
            FileType::Directory => {
                Kind::Dir(Mutex::new(Dir { parent_ino: parent_ino.unwrap_or(ino), ..Default::default() }))
            }
            FileType::Regular => Kind::File(Mutex::new(FileData::new(fs.mf.clone(), fs.opts.in_store))),
            FileType::Symlink => Kind::Symlink(node.target.clone()),
            _ => Kind::Special,
        };
        let t = now();
        let st = Stat {
            ino,
            nlink: if ftype == FileType::Directory { 2 } else { 1 },
            mode: node.mode,
            uid: node.uid,
            gid: node.gid,
            rdev: node.rdev,
            size: if ftype == FileType::Symlink { node.target.len() as i64 } else { 0 },
            blksize: 4096,
            atime: t,
            mtime: t,
            ctime: t,
            ..Default::default()
        };
        Ok(Arc::new_cyclic(|me| TmpInode {
            fs: fs.clone(),
            me: me.clone(),
            ino,
            ftype,
            meta: Mutex::new(st),
            kind,
            xattrs: Mutex::new(BTreeMap::new()),
            seals: AtomicU32::new(F_SEAL_SEAL),
            fifo: Mutex::new(None),
            linkable: std::sync::atomic::AtomicBool::new(false),
            attr_flags: AtomicU32::new(0),
        }))
    }

    /// A regular file in no directory (memfd_create), with `seals`.
    pub fn new_unlinked(&self, node: &NewNode, seals: u32) -> Result<Arc<TmpInode>, Errno> {
        let f = TmpInode::make(&self.fs, node, Some(self.ino))?;
        lock(&f.meta).nlink = 0;
        f.seals.store(seals, Ordering::Relaxed);
        Ok(f)
    }

    /// The seals (F_GET_SEALS).
    pub fn seals(&self) -> u32 {
        self.seals.load(Ordering::Relaxed)
    }

    /// F_ADD_SEALS: EPERM once F_SEAL_SEAL is set.
    pub fn add_seals(&self, add: u32) -> Result<(), Errno> {
        self.seals
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |s| (s & F_SEAL_SEAL == 0).then_some(s | add))
            .map(|_| ())
            .map_err(|_| Errno::EPERM)
    }

    /// Whether the seals forbid changing the size from `old` to `new`.
    fn size_sealed(&self, old: u64, new: u64) -> bool {
        let s = self.seals();
        (new > old && s & F_SEAL_GROW != 0) || (new < old && s & F_SEAL_SHRINK != 0)
    }

    fn arc(&self) -> Arc<TmpInode> {
        self.me.upgrade().expect("a tmpfs inode in use is alive")
    }

    /// The filesystem it belongs to.
    pub fn fs(&self) -> &Arc<Tmpfs> {
        &self.fs
    }

    fn dir(&self) -> Result<&Mutex<Dir>, Errno> {
        match &self.kind {
            Kind::Dir(d) => Ok(d),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// Updates mtime and ctime (a change of contents).
    pub fn touch_changed(&self) {
        let t = now();
        let mut m = lock(&self.meta);
        m.mtime = t;
        m.ctime = t;
    }

    /// Updates ctime (a change of metadata: links, attributes).
    fn touch_ctime(&self) {
        lock(&self.meta).ctime = now();
    }

    /// Current metadata.
    pub fn stat_now(&self) -> Stat {
        let mut st = *lock(&self.meta);
        if let Kind::File(d) = &self.kind {
            let d = lock(d);
            st.size = d.size as i64;
            st.blocks = (d.pages() * 8) as i64;
        }
        st
    }

    fn add_nlink(&self, delta: i64) {
        let mut m = lock(&self.meta);
        m.nlink = (m.nlink as i64 + delta).max(0) as u64;
        m.ctime = now();
    }

    /// Reads file data at `off`.
    pub fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        match &self.kind {
            Kind::File(d) => Ok(lock(d).read(buf, off)),
            Kind::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// Writes file data at `off` (mtime and ctime change).
    pub fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        let Kind::File(d) = &self.kind else { return Err(Errno::EINVAL) };
        if buf.is_empty() {
            return Ok(0);
        }
        let seals = self.seals();
        if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(Errno::EPERM);
        }
        let mut d = lock(d);
        if seals & F_SEAL_GROW != 0 && off + buf.len() as u64 > d.size {
            return Err(Errno::EPERM);
        }
        let n = d.write(buf, off, &|| self.fs.charge_page())?;
        drop(d);
        self.touch_changed();
        Ok(n)
    }

    /// The memory-file offsets of `count` pages from page `first`, made if
    /// absent (a shared mapping maps them).
    pub fn shared_pages(&self, first: u64, count: u64) -> Result<Vec<u64>, Errno> {
        let Kind::File(d) = &self.kind else { return Err(Errno::ENODEV) };
        let mut d = lock(d);
        (first..first + count).map(|p| d.page_at(p, &|| self.fs.charge_page())).collect()
    }

    /// SEEK_DATA / SEEK_HOLE.
    pub fn seek_data(&self, off: u64, data: bool) -> Option<u64> {
        match &self.kind {
            Kind::File(d) => lock(d).seek_data(off, data),
            _ => None,
        }
    }

    /// Directory entries with `.` and `..`.
    fn list(&self) -> Result<Vec<DirEntry>, Errno> {
        let d = lock(self.dir()?);
        let mut out = Vec::with_capacity(d.entries.len() + 2);
        out.push(DirEntry { ino: self.ino, typ: libc::DT_DIR, name: b".".to_vec() });
        out.push(DirEntry { ino: d.parent_ino, typ: libc::DT_DIR, name: b"..".to_vec() });
        for (name, i) in d.order.values() {
            out.push(DirEntry { ino: i.ino, typ: i.ftype.dirent_type(), name: name.clone() });
        }
        Ok(out)
    }

    fn is_empty_dir(&self) -> bool {
        matches!(&self.kind, Kind::Dir(d) if lock(d).entries.is_empty())
    }
}

fn same_fs(a: &TmpInode, b: &TmpInode) -> bool {
    Arc::ptr_eq(&a.fs, &b.fs)
}

/// Locks two directories in a fixed order (by inode number); the same
/// directory once.
fn lock_two<'a>(a: &'a TmpInode, b: &'a TmpInode) -> Result<(MutexGuard<'a, Dir>, Option<MutexGuard<'a, Dir>>), Errno> {
    if a.ino == b.ino {
        return Ok((lock(a.dir()?), None));
    }
    if a.ino < b.ino {
        let ga = lock(a.dir()?);
        let gb = lock(b.dir()?);
        Ok((ga, Some(gb)))
    } else {
        let gb = lock(b.dir()?);
        let ga = lock(a.dir()?);
        Ok((ga, Some(gb)))
    }
}

impl Inode for TmpInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat_now())
    }

    fn file_type(&self) -> FileType {
        self.ftype
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let d = lock(self.dir()?);
        match d.get(name) {
            Some(i) => Ok(i.clone()),
            None => Err(Errno::ENOENT),
        }
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        match &self.kind {
            Kind::Symlink(t) => Ok(t.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        file::open(self.arc(), flags)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.list()
    }

    fn statfs(&self) -> Result<Option<Statfs>, Errno> {
        Ok(Some(self.fs.statfs()))
    }

    fn create(&self, name: &[u8], node: &NewNode) -> Result<Arc<dyn Inode>, Errno> {
        let _tree = lock(&self.fs.tree);
        let mut d = lock(self.dir()?);
        if d.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        if lock(&self.meta).nlink == 0 {
            // The directory was removed.
            return Err(Errno::ENOENT);
        }
        let child = TmpInode::make(&self.fs, node, Some(self.ino))?;
        d.insert(name, child.clone());
        drop(d);
        if child.file_type() == FileType::Directory {
            self.add_nlink(1);
        }
        self.touch_changed();
        Ok(child)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = target.as_any().and_then(|a| a.downcast_ref::<TmpInode>()).ok_or(Errno::EXDEV)?;
        if !same_fs(self, t) {
            return Err(Errno::EXDEV);
        }
        if t.file_type() == FileType::Directory {
            return Err(Errno::EPERM);
        }
        let _tree = lock(&self.fs.tree);
        let mut d = lock(self.dir()?);
        if d.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        if lock(&t.meta).nlink == 0 && !t.linkable.swap(false, Ordering::Relaxed) {
            // An unlinked file cannot be linked again, except an O_TMPFILE
            // file made without O_EXCL (Linux's I_LINKABLE).
            return Err(Errno::ENOENT);
        }
        d.insert(name, t.arc());
        drop(d);
        t.add_nlink(1);
        self.touch_changed();
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        let _tree = lock(&self.fs.tree);
        let mut d = lock(self.dir()?);
        let child = d.get(name).ok_or(Errno::ENOENT)?.clone();
        let is_dir = child.file_type() == FileType::Directory;
        if dir && !is_dir {
            return Err(Errno::ENOTDIR);
        }
        if !dir && is_dir {
            return Err(Errno::EISDIR);
        }
        if is_dir && !child.is_empty_dir() {
            return Err(Errno::ENOTEMPTY);
        }
        d.remove(name);
        drop(d);
        if is_dir {
            child.add_nlink(-2);
            self.add_nlink(-1);
        } else {
            child.add_nlink(-1);
        }
        self.touch_changed();
        Ok(())
    }

    fn rename(&self, name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<(), Errno> {
        let nd = new_dir.as_any().and_then(|a| a.downcast_ref::<TmpInode>()).ok_or(Errno::EXDEV)?;
        if !same_fs(self, nd) {
            return Err(Errno::EXDEV);
        }
        let exchange = flags & libc::RENAME_EXCHANGE != 0;
        let _tree = lock(&self.fs.tree);
        let (mut od, mut ndg) = lock_two(self, nd)?;
        let src = od.get(name).ok_or(Errno::ENOENT)?.clone();
        let dst = match &ndg {
            Some(g) => g.get(new_name).cloned(),
            None => od.get(new_name).cloned(),
        };
        if exchange && dst.is_none() {
            return Err(Errno::ENOENT);
        }
        if let Some(dst) = &dst {
            if flags & libc::RENAME_NOREPLACE != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(dst, &src) {
                return Ok(());
            }
            let (sd, dd) = (src.file_type() == FileType::Directory, dst.file_type() == FileType::Directory);
            if !exchange {
                if sd && !dd {
                    return Err(Errno::ENOTDIR);
                }
                if !sd && dd {
                    return Err(Errno::EISDIR);
                }
                if dd && !dst.is_empty_dir() {
                    return Err(Errno::ENOTEMPTY);
                }
            }
        }
        let src_dir = src.file_type() == FileType::Directory;
        let dst_dir = dst.as_ref().is_some_and(|d| d.file_type() == FileType::Directory);
        let target = ndg.as_deref_mut().unwrap_or(&mut *od);
        let replaced = target.remove(new_name);
        target.insert(new_name, src.clone());
        drop(ndg);
        od.remove(name);
        if exchange {
            if let Some(r) = &replaced {
                od.insert(name, r.clone());
            }
        }
        drop(od);
        let cross = self.ino != nd.ino;
        if src_dir {
            if let Kind::Dir(d) = &src.kind {
                lock(d).parent_ino = nd.ino;
            }
            if cross {
                self.add_nlink(-1);
                nd.add_nlink(1);
            }
        }
        match (&replaced, exchange) {
            (Some(r), true) => {
                if dst_dir {
                    if let Kind::Dir(d) = &r.kind {
                        lock(d).parent_ino = self.ino;
                    }
                    if cross {
                        nd.add_nlink(-1);
                        self.add_nlink(1);
                    }
                }
                r.touch_ctime();
            }
            (Some(r), false) => {
                if dst_dir {
                    r.add_nlink(-2);
                    nd.add_nlink(-1);
                } else {
                    r.add_nlink(-1);
                }
            }
            (None, _) => {}
        }
        src.touch_ctime();
        self.touch_changed();
        if cross {
            nd.touch_changed();
        }
        Ok(())
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        if let Some(size) = attr.size {
            let Kind::File(d) = &self.kind else {
                return Err(if self.file_type() == FileType::Directory { Errno::EISDIR } else { Errno::EINVAL });
            };
            let mut d = lock(d);
            if self.size_sealed(d.size, size) {
                return Err(Errno::EPERM);
            }
            if size != d.size {
                let freed = d.truncate(size);
                self.fs.uncharge(freed);
                drop(d);
                self.touch_changed();
            }
        }
        let t = now();
        attr.apply(&mut lock(&self.meta), t);
        Ok(())
    }

    fn allocate(&self, mode: u32, off: u64, len: u64) -> Result<(), Errno> {
        let Kind::File(d) = &self.kind else {
            return Err(if self.file_type() == FileType::Directory { Errno::EISDIR } else { Errno::ENODEV });
        };
        let mode = mode as i32;
        let mut d = lock(d);
        let seals = self.seals();
        let zeroing = mode & (libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_ZERO_RANGE) != 0;
        if zeroing && seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Err(Errno::EPERM);
        }
        if mode & libc::FALLOC_FL_KEEP_SIZE == 0 && self.size_sealed(d.size, d.size.max(off.saturating_add(len))) {
            return Err(Errno::EPERM);
        }
        if mode & libc::FALLOC_FL_PUNCH_HOLE != 0 {
            let freed = d.punch(off, len);
            self.fs.uncharge(freed);
        } else if mode & libc::FALLOC_FL_ZERO_RANGE != 0 {
            let freed = d.punch(off, len);
            self.fs.uncharge(freed);
            let keep = mode & libc::FALLOC_FL_KEEP_SIZE != 0;
            d.allocate(off, len, keep, &|| self.fs.charge_page())?;
        } else {
            // shmem_fallocate: a range bigger than the whole filesystem is
            // ENOSPC at once, not after filling it.
            let free =
                (self.fs.opts.size / crate::abi::PAGE_SIZE).saturating_sub(self.fs.pages.load(Ordering::Relaxed));
            let wanted = off.saturating_add(len).div_ceil(crate::abi::PAGE_SIZE) - off / crate::abi::PAGE_SIZE;
            if wanted.saturating_sub(d.pages()) > free {
                return Err(Errno::ENOSPC);
            }
            let keep = mode & libc::FALLOC_FL_KEEP_SIZE != 0;
            d.allocate(off, len, keep, &|| self.fs.charge_page())?;
        }
        drop(d);
        self.touch_changed();
        Ok(())
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        lock(&self.xattrs).get(name).cloned().ok_or(Errno::ENODATA)
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        let mut x = lock(&self.xattrs);
        let exists = x.contains_key(name);
        if flags & libc::XATTR_CREATE as u32 != 0 && exists {
            return Err(Errno::EEXIST);
        }
        if flags & libc::XATTR_REPLACE as u32 != 0 && !exists {
            return Err(Errno::ENODATA);
        }
        x.insert(name.to_vec(), value.to_vec());
        drop(x);
        self.touch_ctime();
        Ok(())
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Ok(lock(&self.xattrs).keys().cloned().collect())
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        lock(&self.xattrs).remove(name).ok_or(Errno::ENODATA)?;
        self.touch_ctime();
        Ok(())
    }

    fn make_linkable(&self) {
        self.linkable.store(true, Ordering::Relaxed);
    }

    fn attr_flags(&self) -> Result<u32, Errno> {
        Ok(self.attr_flags.load(Ordering::Relaxed))
    }

    fn set_attr_flags(&self, flags: u32) -> Result<(), Errno> {
        use crate::vfs::inode::{FS_APPEND_FL, FS_IMMUTABLE_FL, FS_NOATIME_FL, FS_NODUMP_FL};
        // shmem's SHMEM_FL_USER_MODIFIABLE.
        if flags & !(FS_IMMUTABLE_FL | FS_APPEND_FL | FS_NODUMP_FL | FS_NOATIME_FL) != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        self.attr_flags.store(flags, Ordering::Relaxed);
        self.touch_ctime();
        Ok(())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}
