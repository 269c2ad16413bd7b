//! Open overlay files: the open file of whichever layer holds the file,
//! with the overlay's inode number; directories list the merged entries.

use std::sync::Arc;

use crate::abi::{Errno, Stat};
use crate::fs::overlay::{dir, OvInode};
use crate::mm::MemoryManager;
use crate::vfs::{DirEntry, FileOps, FileType, Inode, OffsetMode};

/// Opens an overlay inode: writers of regular files get the upper copy.
pub fn open(n: Arc<OvInode>, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
    if n.ftype == FileType::Directory {
        return Ok(Arc::new(OvDir { n }));
    }
    let acc = flags & libc::O_ACCMODE as u32;
    if n.ftype == FileType::Regular && acc != libc::O_RDONLY as u32 {
        super::copy_up::copy_up(&n)?;
    }
    let lower_backed = n.upper().is_none();
    let inner = n.current().open(flags)?;
    Ok(Arc::new(OvFile { inner, ino: n.ino, lower_backed }))
}

/// An open non-directory.
pub struct OvFile {
    inner: Arc<dyn FileOps>,
    ino: u64,
    lower_backed: bool,
}

impl FileOps for OvFile {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inner.read(buf, off)
    }
    fn write(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.inner.write(buf, off)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        let mut st = self.inner.stat()?;
        st.ino = self.ino;
        Ok(st)
    }
    fn offset_mode(&self) -> OffsetMode {
        self.inner.offset_mode()
    }
    fn positional(&self) -> bool {
        self.inner.positional()
    }
    fn pread(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inner.pread(buf, off)
    }
    fn pwrite(&self, buf: &[u8], off: u64) -> Result<usize, Errno> {
        self.inner.pwrite(buf, off)
    }
    fn seek_data(&self, off: u64, data: bool) -> Result<u64, Errno> {
        self.inner.seek_data(off, data)
    }
    fn ioctl(&self, cmd: u32, arg: u64, mm: &MemoryManager) -> Result<u64, Errno> {
        self.inner.ioctl(cmd, arg, mm)
    }
    fn readable_bytes(&self) -> Result<u64, Errno> {
        self.inner.readable_bytes()
    }
    fn shared_pages(&self, first: u64, count: u64) -> Option<Result<Vec<u64>, Errno>> {
        self.inner.shared_pages(first, count)
    }
    fn write_back(&self) -> Result<(), Errno> {
        self.inner.write_back()
    }
    fn sync(&self, data_only: bool) -> Result<(), Errno> {
        self.inner.sync(data_only)
    }
    fn seq_seek(&self) -> bool {
        self.inner.seq_seek()
    }
    fn discards(&self) -> bool {
        self.inner.discards()
    }
    fn host_seek(&self, off: i64, whence: i32) -> Result<u64, Errno> {
        self.inner.host_seek(off, whence)
    }
    fn readiness(&self, mask: u32) -> u32 {
        self.inner.readiness(mask)
    }
    fn wait_queue(&self) -> Option<&crate::waiter::WaitQueue> {
        self.inner.wait_queue()
    }
    fn reopen(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        self.inner.reopen(flags)
    }
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        // Syscalls on one kind of file (a FIFO's pipe, a memfd) see the
        // layer's own file.
        self.inner.as_any()
    }
    fn host_status_flags(&self) -> Option<u32> {
        self.inner.host_status_flags()
    }
    fn host_write_noappend(&self, buf: &[u8], off: Option<u64>) -> Result<usize, Errno> {
        self.inner.host_write_noappend(buf, off)
    }
    fn flush(&self) {
        self.inner.flush()
    }
    fn unchanging(&self) -> bool {
        // The lower layer is the image: read-only for the sandbox's life.
        self.lower_backed
    }
}

/// An open directory.
pub struct OvDir {
    n: Arc<OvInode>,
}

impl FileOps for OvDir {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.n.stat()
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        dir::merged(&self.n)
    }
}
