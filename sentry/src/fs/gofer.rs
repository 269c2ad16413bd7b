//! The gofer client filesystem: the sandbox's view of a tree the gofer
//! serves. Walks are gofer round trips (cached in dentries); a walk that
//! misses with more names to go fetches them all in one (`WalkMany`), and
//! the lookups after it take what it fetched. Opening a regular file gets
//! its host fd from the gofer once per inode (and once more for writing),
//! after which reads and writes need no round trip.
//!
//! A writable volume's tree can also change on the host while the sandbox
//! runs: such inodes (`revalidate`) ask the gofer for fresh metadata on
//! every stat and are not cached by the dentry cache, so host changes are
//! seen at once. A volume's regular files open as [`GoferFile`]s, whose
//! shared mappings map one page cache per host file (`gofer_cache`).

use std::os::fd::OwnedFd;
use std::sync::{Arc, OnceLock, Weak};

use gofer::proto::{Request, Response, WireSetattr, WireStat, MAX_WALK, ROOT_FID};
use gofer::Client;

use std::sync::Mutex;

use crate::abi::{Errno, Stat, Timespec};
use crate::fs::gofer_cache::{PageCache, Volume};
use crate::fs::host::HostFile;
use crate::vfs::inode::{NewNode, SetAttr};
use crate::vfs::{DirEntry, FileOps, FileType, Inode};

/// Sends a request and maps transport failures to EIO.
fn call(client: &Client, req: &Request) -> Result<(Response, Option<OwnedFd>), Errno> {
    match client.call(req) {
        Ok((Response::Error(e), _)) => Err(Errno::from_raw(e)),
        Ok(r) => Ok(r),
        Err(e) => {
            tracing::error!("gofer: {e}");
            Err(Errno::EIO)
        }
    }
}

fn to_stat(w: &WireStat) -> Stat {
    Stat {
        dev: w.dev,
        ino: w.ino,
        nlink: w.nlink,
        mode: w.mode,
        uid: w.uid,
        gid: w.gid,
        pad0: 0,
        rdev: w.rdev,
        size: w.size as i64,
        blksize: w.blksize as i64,
        blocks: w.blocks as i64,
        atime: Timespec { tv_sec: w.atime.0, tv_nsec: w.atime.1 },
        mtime: Timespec { tv_sec: w.mtime.0, tv_nsec: w.mtime.1 },
        ctime: Timespec { tv_sec: w.ctime.0, tv_nsec: w.ctime.1 },
        unused: [0; 3],
    }
}

/// A child fetched ahead of its lookup: its name and the inode (or the
/// lookup's error).
type Ahead = (Vec<u8>, Result<Arc<GoferInode>, Errno>);

/// A file the gofer serves.
pub struct GoferInode {
    me: Weak<GoferInode>,
    /// A FIFO's pipe, made at its first open (an image file's; a volume's
    /// FIFOs are the volume's, shared by its inodes of the host file).
    fifo: OnceLock<Arc<crate::fs::pipe::Pipe>>,
    client: Arc<Client>,
    fid: u64,
    stat: Mutex<WireStat>,
    ftype: FileType,
    host: OnceLock<Arc<OwnedFd>>,
    host_rw: OnceLock<Arc<OwnedFd>>,
    link: OnceLock<Vec<u8>>,
    revalidate: bool,
    /// The volume, for a volume's files (their page caches).
    volume: Option<Arc<Volume>>,
    /// Children a multi-name walk fetched ahead of their lookup (or found
    /// missing), each taken by the first lookup of its name.
    ahead: Mutex<Vec<Ahead>>,
    /// The image's xattr names of the file (fetched once: the image does
    /// not change; `ls -l` asks for every file).
    xattr_names: OnceLock<Vec<Vec<u8>>>,
}

impl GoferInode {
    /// The root of the served tree (the image: unchanging).
    pub fn root(client: Arc<Client>) -> Result<Arc<GoferInode>, Errno> {
        GoferInode::root_with(client, None)
    }

    /// The root of a volume: its tree may change on the host; shared
    /// mappings of its files keep their page caches in `mf`.
    pub fn volume_root(client: Arc<Client>, mf: Arc<crate::mm::MemoryFile>) -> Result<Arc<GoferInode>, Errno> {
        GoferInode::root_with(client, Some(Volume::new(mf)))
    }

    fn root_with(client: Arc<Client>, volume: Option<Arc<Volume>>) -> Result<Arc<GoferInode>, Errno> {
        let (r, _) = call(&client, &Request::Stat { fid: ROOT_FID })?;
        let Response::Stat(stat) = r else { return Err(Errno::EIO) };
        Ok(GoferInode::make(client, ROOT_FID, stat, volume))
    }

    fn make(client: Arc<Client>, fid: u64, stat: WireStat, volume: Option<Arc<Volume>>) -> Arc<GoferInode> {
        Arc::new_cyclic(|me| GoferInode {
            me: me.clone(),
            fifo: OnceLock::new(),
            client,
            fid,
            ftype: FileType::from_mode(stat.mode),
            stat: Mutex::new(stat),
            host: OnceLock::new(),
            host_rw: OnceLock::new(),
            link: OnceLock::new(),
            revalidate: volume.is_some(),
            volume,
            ahead: Mutex::new(Vec::new()),
            xattr_names: OnceLock::new(),
        })
    }

    /// Takes the child `name` fetched ahead, if there is one.
    fn take_ahead(&self, name: &[u8]) -> Option<Result<Arc<GoferInode>, Errno>> {
        let mut a = self.ahead.lock().unwrap_or_else(|e| e.into_inner());
        let i = a.iter().position(|(n, _)| n == name)?;
        Some(a.swap_remove(i).1)
    }

    /// Walks `name` and the names after it in one round trip; the first
    /// child is returned, the rest wait in their parents' `ahead` lists
    /// (with a missing name's ENOENT).
    fn walk_many(&self, name: &[u8], rest: &[&[u8]]) -> Result<Arc<GoferInode>, Errno> {
        let names: Vec<Vec<u8>> =
            std::iter::once(name).chain(rest.iter().copied()).take(MAX_WALK).map(<[u8]>::to_vec).collect();
        let (r, _) = call(&self.client, &Request::WalkMany { fid: self.fid, names: names.clone() })?;
        let Response::WalkedMany { walked, error } = r else { return Err(Errno::EIO) };
        let inodes: Vec<Arc<GoferInode>> = walked
            .into_iter()
            .map(|(fid, stat)| GoferInode::make(self.client.clone(), fid, stat, self.volume.clone()))
            .collect();
        let Some(first) = inodes.first().cloned() else {
            return Err(if error == 0 { Errno::EIO } else { Errno::from_raw(error) });
        };
        for (k, pair) in inodes.windows(2).enumerate() {
            pair[0].ahead.lock().unwrap_or_else(|e| e.into_inner()).push((names[k + 1].clone(), Ok(pair[1].clone())));
        }
        if error == libc::ENOENT {
            if let (Some(last), Some(missing)) = (inodes.last(), names.get(inodes.len())) {
                last.ahead.lock().unwrap_or_else(|e| e.into_inner()).push((missing.clone(), Err(Errno::ENOENT)));
            }
        }
        Ok(first)
    }

    fn cached(&self) -> WireStat {
        *self.stat.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn open_host(&self, write: bool) -> Result<Arc<OwnedFd>, Errno> {
        let cell = if write { &self.host_rw } else { &self.host };
        if let Some(fd) = cell.get() {
            return Ok(fd.clone());
        }
        let flags = if write { libc::O_RDWR } else { libc::O_RDONLY } as u32;
        let (r, fd) = call(&self.client, &Request::Open { fid: self.fid, flags })?;
        match (r, fd) {
            (Response::Opened, Some(fd)) => Ok(cell.get_or_init(|| Arc::new(fd)).clone()),
            _ => Err(Errno::EIO),
        }
    }

    fn walked(&self, r: Response) -> Result<Arc<dyn Inode>, Errno> {
        let Response::Walked { fid, stat } = r else { return Err(Errno::EIO) };
        Ok(GoferInode::make(self.client.clone(), fid, stat, self.volume.clone()))
    }

    fn downcast(i: &Arc<dyn Inode>) -> Result<&GoferInode, Errno> {
        i.as_any().and_then(|a| a.downcast_ref::<GoferInode>()).ok_or(Errno::EXDEV)
    }
}

impl Drop for GoferInode {
    fn drop(&mut self) {
        if self.fid != ROOT_FID {
            let _ = self.client.call(&Request::Clunk { fid: self.fid });
        }
    }
}

impl Inode for GoferInode {
    fn stat(&self) -> Result<Stat, Errno> {
        if let Some(fd) = self.host_rw.get().or(self.host.get()) {
            // A donated fd gives fresh metadata (size) without a round trip.
            return HostFile::regular(fd.clone()).stat();
        }
        if self.revalidate {
            let (r, _) = call(&self.client, &Request::Stat { fid: self.fid })?;
            let Response::Stat(st) = r else { return Err(Errno::EIO) };
            *self.stat.lock().unwrap_or_else(|e| e.into_inner()) = st;
            return Ok(to_stat(&st));
        }
        Ok(to_stat(&self.cached()))
    }

    fn file_type(&self) -> FileType {
        self.ftype
    }

    fn dynamic(&self) -> bool {
        self.revalidate
    }

    fn create(&self, name: &[u8], node: &NewNode) -> Result<Arc<dyn Inode>, Errno> {
        let req = Request::Make {
            fid: self.fid,
            name: name.to_vec(),
            mode: node.mode,
            rdev: node.rdev,
            uid: node.uid,
            gid: node.gid,
            target: node.target.clone(),
        };
        let (r, _) = call(&self.client, &req)?;
        self.walked(r)
    }

    fn link(&self, name: &[u8], target: &Arc<dyn Inode>) -> Result<(), Errno> {
        let t = GoferInode::downcast(target)?;
        if !Arc::ptr_eq(&t.client, &self.client) {
            return Err(Errno::EXDEV);
        }
        call(&self.client, &Request::Link { fid: self.fid, name: name.to_vec(), target: t.fid })?;
        Ok(())
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        call(&self.client, &Request::Unlink { fid: self.fid, name: name.to_vec(), dir })?;
        Ok(())
    }

    fn rename(&self, name: &[u8], new_dir: &Arc<dyn Inode>, new_name: &[u8], flags: u32) -> Result<(), Errno> {
        let nd = GoferInode::downcast(new_dir)?;
        if !Arc::ptr_eq(&nd.client, &self.client) {
            return Err(Errno::EXDEV);
        }
        let req =
            Request::Rename { fid: self.fid, name: name.to_vec(), new_fid: nd.fid, new_name: new_name.to_vec(), flags };
        call(&self.client, &req)?;
        Ok(())
    }

    fn setattr(&self, attr: &SetAttr) -> Result<(), Errno> {
        let t = |x: Option<Timespec>| x.map(|t| (t.tv_sec, t.tv_nsec));
        let wire = WireSetattr {
            mode: attr.mode,
            uid: attr.uid,
            gid: attr.gid,
            size: attr.size,
            atime: t(attr.atime),
            mtime: t(attr.mtime),
        };
        let (r, _) = call(&self.client, &Request::Setattr { fid: self.fid, attr: wire })?;
        if let Response::Stat(st) = r {
            *self.stat.lock().unwrap_or_else(|e| e.into_inner()) = st;
        }
        if let (Some(size), Some(v)) = (attr.size, &self.volume) {
            let st = self.cached();
            if let Some(c) = v.existing(st.dev, st.ino) {
                c.truncate(size);
            }
        }
        Ok(())
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn getxattr(&self, name: &[u8]) -> Result<Vec<u8>, Errno> {
        if !self.revalidate && !self.listxattr()?.iter().any(|n| n == name) {
            return Err(Errno::ENODATA);
        }
        let (r, _) = call(&self.client, &Request::Getxattr { fid: self.fid, name: name.to_vec() })?;
        let Response::Value(v) = r else { return Err(Errno::EIO) };
        Ok(v)
    }

    fn setxattr(&self, name: &[u8], value: &[u8], flags: u32) -> Result<(), Errno> {
        let req = Request::Setxattr { fid: self.fid, name: name.to_vec(), value: value.to_vec(), flags };
        call(&self.client, &req)?;
        Ok(())
    }

    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        if let Some(n) = self.xattr_names.get() {
            return Ok(n.clone());
        }
        let (r, _) = call(&self.client, &Request::Listxattr { fid: self.fid })?;
        let Response::Names(n) = r else { return Err(Errno::EIO) };
        if self.revalidate {
            return Ok(n);
        }
        Ok(self.xattr_names.get_or_init(|| n).clone())
    }

    fn removexattr(&self, name: &[u8]) -> Result<(), Errno> {
        call(&self.client, &Request::Removexattr { fid: self.fid, name: name.to_vec() })?;
        Ok(())
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        if let Some(r) = self.take_ahead(name) {
            return Ok(r?);
        }
        let (r, _) = call(&self.client, &Request::Walk { fid: self.fid, name: name.to_vec() })?;
        self.walked(r)
    }

    fn lookup_ahead(&self, name: &[u8], rest: &[&[u8]]) -> Result<Arc<dyn Inode>, Errno> {
        // A tree the host may change is asked afresh each time.
        if rest.is_empty() || self.revalidate || self.file_type() != FileType::Directory {
            return self.lookup(name);
        }
        if let Some(r) = self.take_ahead(name) {
            return Ok(r?);
        }
        Ok(self.walk_many(name, rest)?)
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        if self.file_type() != FileType::Symlink {
            return Err(Errno::EINVAL);
        }
        if let Some(l) = self.link.get() {
            return Ok(l.clone());
        }
        let (r, _) = call(&self.client, &Request::Readlink { fid: self.fid })?;
        let Response::Link(t) = r else { return Err(Errno::EIO) };
        Ok(self.link.get_or_init(|| t).clone())
    }

    fn statfs(&self) -> Result<Option<crate::abi::Statfs>, Errno> {
        let (r, _) = call(&self.client, &Request::Statfs { fid: self.fid })?;
        let Response::Statfs(s) = r else { return Err(Errno::EIO) };
        Ok(Some(crate::abi::Statfs {
            f_type: s.fs_type as i64,
            bsize: s.bsize as i64,
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bavail,
            files: s.files,
            ffree: s.ffree,
            fsid: [0, 0],
            namelen: s.namelen as i64,
            frsize: s.frsize as i64,
            flags: s.flags as i64,
            spare: [0; 4],
        }))
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let write = flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32;
        match self.file_type() {
            // (The VFS truncated already for O_TRUNC; the mount's
            // writability was checked too.)
            FileType::Regular => {
                let fd = self.open_host(write)?;
                match &self.volume {
                    Some(v) => {
                        let st = self.cached();
                        let cache = v.cache(st.dev, st.ino);
                        Ok(Arc::new(GoferFile { host: HostFile::regular(fd.clone()), fd, cache, write }))
                    }
                    None => Ok(Arc::new(HostFile::regular(fd))),
                }
            }
            FileType::Directory => {
                Ok(Arc::new(GoferDir { client: self.client.clone(), fid: self.fid, stat: to_stat(&self.cached()) }))
            }
            // A FIFO is a pipe of the sandbox's between the sandbox's
            // openers (the host's never reach it).
            FileType::Fifo => {
                let st = self.cached();
                let pipe = match &self.volume {
                    Some(v) => v.fifo(st.dev, st.ino),
                    None => self.fifo.get_or_init(crate::fs::pipe::new_fifo).clone(),
                };
                let me: Arc<dyn Inode> = self.me.upgrade().ok_or(Errno::ESTALE)?;
                Ok(crate::fs::pipe::open_fifo(&pipe, flags, me)?)
            }
            _ => {
                // Host devices and sockets: the gofer refuses them.
                call(&self.client, &Request::Open { fid: self.fid, flags })?;
                Err(Errno::EACCES)
            }
        }
    }
}

/// An open regular file of a volume: its donated host fd, with the host
/// file's page cache (see `gofer_cache`) between it and shared mappings.
pub struct GoferFile {
    host: HostFile,
    fd: Arc<OwnedFd>,
    cache: Arc<PageCache>,
    write: bool,
}

impl FileOps for GoferFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.pread(buf, off)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.pwrite(buf, off)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        self.host.stat()
    }

    fn offset_mode(&self) -> crate::vfs::OffsetMode {
        self.host.offset_mode()
    }

    fn positional(&self) -> bool {
        true
    }

    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let n = self.host.pread(buf, off)?;
        self.cache.overlay(&mut buf[..n], off);
        Ok(n)
    }

    fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        let n = self.host.pwrite(buf, off)?;
        self.cache.update(&buf[..n], off);
        Ok(n)
    }

    fn statfs(&self) -> Result<crate::abi::Statfs, Errno> {
        self.host.statfs()
    }

    fn shared_pages(&self, first: u64, count: u64) -> Option<Result<Vec<u64>, Errno>> {
        if self.write {
            self.cache.set_writer(self.fd.clone());
        }
        Some(self.cache.pages(&self.fd, first, count))
    }

    fn write_back(&self) -> Result<(), Errno> {
        self.cache.write_back()
    }

    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        self.cache.write_back()?;
        self.host.sync(data_only)
    }

    fn release(&self) {
        if let Err(e) = self.cache.write_back() {
            tracing::warn!("volume file: writing back a shared mapping's pages: {e}");
        }
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// An open directory of the gofer filesystem.
pub struct GoferDir {
    client: Arc<Client>,
    fid: u64,
    stat: Stat,
}

impl FileOps for GoferDir {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut out = Vec::new();
        let mut cookie = 0;
        loop {
            let (r, _) = call(&self.client, &Request::Readdir { fid: self.fid, cookie })?;
            let Response::Dirents { entries, next, eof } = r else { return Err(Errno::EIO) };
            out.extend(entries.into_iter().map(|d| DirEntry { ino: d.ino, typ: d.typ, name: d.name }));
            if eof || next == cookie {
                return Ok(out);
            }
            cookie = next;
        }
    }
}
