//! Open tmpfs files: regular files read and write the inode's pages;
//! directories list their entries.

use std::sync::Arc;

use crate::abi::{Errno, Stat};
use crate::fs::pipe;
use crate::fs::tmpfs::{Kind, TmpInode};
use crate::vfs::{DirEntry, FileOps, Inode};

/// Opens a tmpfs inode.
pub fn open(inode: Arc<TmpInode>, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    if inode.file_type() == crate::vfs::FileType::Fifo {
        let pipe = inode.fifo.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert_with(pipe::new_fifo).clone();
        return Ok(pipe::open_fifo(&pipe, flags, inode)?);
    }
    match &inode.kind {
        Kind::File(_) => Ok(Arc::new(TmpFile { inode })),
        Kind::Dir(_) => Ok(Arc::new(TmpDir { inode })),
        Kind::Symlink(_) => Err(Errno::ELOOP),
        Kind::Special => {
            // Device nodes made in the sandbox have no driver behind them
            // (Linux gives ENXIO for a device number with no driver);
            // sockets cannot be opened.
            Err(Errno::ENXIO)
        }
    }
}

/// An open regular file.
pub struct TmpFile {
    /// The inode.
    pub inode: Arc<TmpInode>,
}

impl FileOps for TmpFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inode.read(buf, off)
    }

    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.inode.write(buf, off)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat_now())
    }

    fn seek_data(&self, off: u64, data: bool) -> Result<u64, Errno> {
        self.inode.seek_data(off, data).ok_or(Errno::ENXIO)
    }

    fn shared_pages(&self, first: u64, count: u64) -> Option<Result<Vec<u64>, Errno>> {
        Some(self.inode.shared_pages(first, count))
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// An open directory.
pub struct TmpDir {
    inode: Arc<TmpInode>,
}

impl FileOps for TmpDir {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.inode.stat_now())
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        self.inode.readdir()
    }
}
