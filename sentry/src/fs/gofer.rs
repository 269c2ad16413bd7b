//! The gofer client filesystem: the sandbox's view of a tree the gofer
//! serves. Walks are gofer round trips (cached in dentries); opening a
//! regular file gets its host fd from the gofer once per inode, after which
//! reads need no round trip.

use std::os::fd::OwnedFd;
use std::sync::{Arc, OnceLock};

use gofer::proto::{Request, Response, WireStat, ROOT_FID};
use gofer::Client;

use crate::abi::{Errno, Stat, Timespec};
use crate::fs::host::HostFile;
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

/// A file the gofer serves.
pub struct GoferInode {
    client: Arc<Client>,
    fid: u64,
    stat: WireStat,
    host: OnceLock<Arc<OwnedFd>>,
    link: OnceLock<Vec<u8>>,
}

impl GoferInode {
    /// The root of the served tree.
    pub fn root(client: Arc<Client>) -> Result<Arc<GoferInode>, Errno> {
        let (r, _) = call(&client, &Request::Stat { fid: ROOT_FID })?;
        let Response::Stat(stat) = r else { return Err(Errno::EIO) };
        Ok(Arc::new(GoferInode { client, fid: ROOT_FID, stat, host: OnceLock::new(), link: OnceLock::new() }))
    }

    fn host_fd(&self) -> Result<Arc<OwnedFd>, Errno> {
        if let Some(fd) = self.host.get() {
            return Ok(fd.clone());
        }
        let (r, fd) = call(&self.client, &Request::Open { fid: self.fid, flags: libc::O_RDONLY as u32 })?;
        match (r, fd) {
            (Response::Opened, Some(fd)) => Ok(self.host.get_or_init(|| Arc::new(fd)).clone()),
            _ => Err(Errno::EIO),
        }
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
        if let Some(fd) = self.host.get() {
            // A donated fd gives fresh metadata (size) without a round trip.
            return HostFile::regular(fd.clone()).stat();
        }
        Ok(to_stat(&self.stat))
    }

    fn file_type(&self) -> FileType {
        FileType::from_mode(self.stat.mode)
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        if self.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let (r, _) = call(&self.client, &Request::Walk { fid: self.fid, name: name.to_vec() })?;
        let Response::Walked { fid, stat } = r else { return Err(Errno::EIO) };
        Ok(Arc::new(GoferInode {
            client: self.client.clone(),
            fid,
            stat,
            host: OnceLock::new(),
            link: OnceLock::new(),
        }))
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
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 || flags & libc::O_TRUNC as u32 != 0 {
            return Err(Errno::EROFS);
        }
        match self.file_type() {
            FileType::Regular => Ok(Arc::new(HostFile::regular(self.host_fd()?))),
            FileType::Directory => {
                Ok(Arc::new(GoferDir { client: self.client.clone(), fid: self.fid, stat: to_stat(&self.stat) }))
            }
            _ => {
                // Host devices, FIFOs and sockets: the gofer refuses them.
                call(&self.client, &Request::Open { fid: self.fid, flags })?;
                Err(Errno::EACCES)
            }
        }
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
