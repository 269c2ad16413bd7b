//! msync(2): the argument checks and the mapped-range check Linux makes,
//! then the write-back. Shared mappings of sandbox-memory files (tmpfs,
//! memfd, the overlay's upper layer, anonymous shared memory) map the
//! file's own pages, so there is nothing to write back; a volume file's
//! page cache goes back to the host file (`MappedFile::write_back`).

use std::sync::Arc;

use crate::abi::{Errno, PAGE_SIZE};
use crate::mm::{MemoryManager, TASK_SIZE};

const MS_ASYNC: i32 = 1;
const MS_INVALIDATE: i32 = 2;
const MS_SYNC: i32 = 4;

impl MemoryManager {
    /// msync(2): EINVAL for unknown flags, MS_ASYNC with MS_SYNC, or an
    /// unaligned start; ENOMEM if part of the range is not mapped (or the
    /// range wraps); an empty range (a length that rounds to 0) is fine.
    pub fn msync(&self, addr: u64, len: u64, flags: i32) -> Result<(), Errno> {
        if flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
            || !addr.is_multiple_of(PAGE_SIZE)
            || (flags & MS_ASYNC != 0 && flags & MS_SYNC != 0)
        {
            return Err(Errno::EINVAL);
        }
        // Rounded as Linux does, wrapping: a huge length becomes 0.
        let len = len.wrapping_add(PAGE_SIZE - 1) & !(PAGE_SIZE - 1);
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        if end == addr {
            return Ok(());
        }
        if end > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        let i = self.read();
        let mut at = addr;
        let mut files = Vec::new();
        while at < end {
            let v = i.vma_at(at).ok_or(Errno::ENOMEM)?;
            if let Some(f) = v.file.as_ref().filter(|_| v.shared) {
                if !files.iter().any(|g: &Arc<dyn crate::mm::MappedFile>| Arc::ptr_eq(g, &f.file)) {
                    files.push(f.file.clone());
                }
            }
            at = v.end;
        }
        drop(i);
        // Host calls, outside the lock.
        if flags != MS_INVALIDATE {
            for f in files {
                f.write_back(flags & MS_SYNC != 0)?;
            }
        }
        Ok(())
    }
}
