//! Residency: which of an address space's pages have memory behind them
//! (mincore(2), and the resident sizes `/proc/[pid]/status` reports), from
//! the memory file's own residency.

use crate::abi::Errno;
use crate::mm::MemoryManager;

/// Resident bytes of an address space by kind (see
/// [`MemoryManager::resident`]), and its stack's size.
#[derive(Clone, Copy, Debug, Default)]
pub struct Resident {
    pub anon: u64,
    pub file: u64,
    pub shmem: u64,
    pub stack: u64,
}

impl Resident {
    /// VmRSS.
    pub fn total(&self) -> u64 {
        self.anon + self.file + self.shmem
    }
}

impl MemoryManager {
    /// mincore(2): a byte per page of `[addr, addr+len)`, bit 0 set where
    /// the page is resident (touched, through this mapping or another that
    /// shares the pages). EINVAL if `addr` is not page-aligned, ENOMEM if any
    /// of the range is not mapped. A file's pages count only once this
    /// process has them (Linux also counts its page cache).
    pub fn mincore(&self, addr: u64, len: u64) -> Result<Vec<u8>, Errno> {
        let page = crate::abi::PAGE_SIZE;
        if !addr.is_multiple_of(page) {
            return Err(Errno::EINVAL);
        }
        let len = crate::abi::page_up(len).ok_or(Errno::ENOMEM)?;
        let end = addr.checked_add(len).filter(|&e| e <= crate::mm::TASK_SIZE).ok_or(Errno::ENOMEM)?;
        let i = self.read();
        let mut at = addr;
        while at < end {
            let v = i.vma_at(at).ok_or(Errno::ENOMEM)?;
            at = v.end;
        }
        let mut out = vec![0u8; (len / page) as usize];
        for (_, p) in i.pmas.range(..end).rev().take_while(|(_, p)| p.end > addr) {
            let (s, e) = (p.start.max(addr), p.end.min(end));
            for pg in (s..e).step_by(page as usize) {
                if self.mf.resident(p.mf_off + (pg - p.start)) {
                    out[((pg - addr) / page) as usize] = 1;
                }
            }
        }
        Ok(out)
    }

    /// The memory-file ranges behind this address space's mappings, as
    /// (offset, length): to count a group of processes' memory with each
    /// page once, however many of them map it.
    pub fn backing(&self) -> Vec<(u64, u64)> {
        self.read().pmas.values().map(|p| (p.mf_off, p.len())).collect()
    }

    /// Resident memory by kind, as `/proc/[pid]/status` reports it: pages of
    /// the memory file behind the mappings that were touched. A file's
    /// pages come from the page cache in chunks, so they count once read,
    /// whether or not this process touched them.
    pub fn resident(&self) -> Resident {
        let i = self.read();
        let mut r = Resident::default();
        for p in i.pmas.values() {
            let Some(v) = i.vma_at(p.start) else { continue };
            let bytes = self.mf.resident_bytes(p.mf_off, p.len());
            if v.shared && (v.file.is_none() || v.segment.is_some()) {
                r.shmem += bytes;
            } else if v.file.is_some() {
                r.file += bytes;
            } else {
                r.anon += bytes;
            }
        }
        r.stack = i.vmas.values().filter(|v| v.name == Some("[stack]")).map(|v| v.len()).sum();
        r
    }
}
