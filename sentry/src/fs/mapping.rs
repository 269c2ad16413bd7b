//! Adapts an open file to [`MappedFile`] so mmap can copy it in.

use std::sync::Arc;

use crate::abi::Errno;
use crate::mm::MappedFile;
use crate::vfs::File;

/// A file mapped into memory, with what `/proc/[pid]/maps` shows for it.
pub struct FileMapping {
    /// The open file (positional reads).
    pub file: Arc<File>,
    /// Device for maps.
    pub dev: u64,
    /// Inode for maps.
    pub ino: u64,
    /// Path for maps.
    pub path: String,
}

impl MappedFile for FileMapping {
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.file.ops.read(buf, off)
    }

    fn describe(&self) -> (u64, u64, String) {
        (self.dev, self.ino, self.path.clone())
    }

    fn size(&self) -> Result<u64, Errno> {
        Ok(self.file.ops.stat()?.size as u64)
    }

    fn shared_pages(&self, first: u64, count: u64) -> Option<Result<Vec<u64>, Errno>> {
        self.file.ops.shared_pages(first, count)
    }

    fn write_back(&self, sync: bool) -> Result<(), Errno> {
        if sync {
            self.file.ops.sync(true)
        } else {
            self.file.ops.write_back()
        }
    }

    fn cache_key(&self) -> Option<crate::mm::CacheKey> {
        let ro = self.file.ops.unchanging() || self.file.location.as_ref().is_some_and(|l| l.mount.readonly());
        if !ro {
            return None;
        }
        let st = self.file.ops.stat().ok()?;
        Some(crate::mm::CacheKey {
            dev: self.dev,
            ino: st.ino,
            size: st.size as u64,
            mtime: (st.mtime.tv_sec, st.mtime.tv_nsec),
        })
    }
}
