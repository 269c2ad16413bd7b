//! mmap, munmap, mprotect, brk and madvise on a [`MemoryManager`].

use crate::abi::{is_page_aligned, page_down, page_up, Errno};
use crate::mm::{platform_err, MapRequest, MemoryManager, Placement, Vma, MIN_ADDR, TASK_SIZE};

impl MemoryManager {
    /// Maps memory; returns the address.
    pub fn mmap(&self, req: MapRequest) -> Result<u64, Errno> {
        let len = req.len;
        if len == 0 || !is_page_aligned(len) {
            return Err(Errno::EINVAL);
        }
        let mut i = self.lock();
        let addr = match req.placement {
            Placement::Fixed(a) | Placement::FixedNoReplace(a) => {
                let end = a.checked_add(len).ok_or(Errno::ENOMEM)?;
                if !is_page_aligned(a) {
                    return Err(Errno::EINVAL);
                }
                if end > TASK_SIZE || a < MIN_ADDR {
                    return Err(if a < MIN_ADDR { Errno::EPERM } else { Errno::ENOMEM });
                }
                if self.overlaps_reserved(a, end).is_some() {
                    return Err(Errno::ENOMEM);
                }
                if matches!(req.placement, Placement::FixedNoReplace(_)) && !self.is_free(&i, a, end) {
                    return Err(Errno::EEXIST);
                }
                a
            }
            Placement::Hint(h) => {
                let h = page_down(h);
                let (lo, hi) = if req.below_2g { (0x4000_0000, 0x8000_0000) } else { (MIN_ADDR, i.mmap_top) };
                if h != 0
                    && h >= lo
                    && h.checked_add(len).is_some_and(|e| {
                        e <= hi.max(if req.below_2g { hi } else { TASK_SIZE }) && self.is_free(&i, h, e)
                    })
                {
                    h
                } else {
                    self.find_free(&i, len, lo, hi)?
                }
            }
        };
        let mf_off = self.mf.allocate(len)?;
        // File contents are copied in lazily, on first touch; anonymous
        // memory is the (sparse, zero) memory file itself.
        let populated = req.file.is_none();
        // Replace whatever was there (MAP_FIXED). A populated mapping replaces
        // the host mapping below; a lazy one must leave nothing behind.
        self.unmap_locked(&mut i, addr, addr + len, !populated)?;
        let v = Vma {
            start: addr,
            end: addr + len,
            prot: req.prot,
            shared: req.shared,
            may_write: req.may_write,
            owned: true,
            populated,
            mf_off,
            file: req.file,
            name: req.name,
        };
        if let Err(e) = self.host_map(&v) {
            self.mf.free(mf_off, len);
            let _ = self.aspace.unmap(addr, len);
            return Err(e);
        }
        self.insert_merged(&mut i, v);
        Ok(addr)
    }

    /// munmap(2).
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !is_page_aligned(addr) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).filter(|&e| e <= TASK_SIZE).ok_or(Errno::EINVAL)?;
        let mut i = self.lock();
        // Never touch the platform's reserved pages.
        if self.overlaps_reserved(addr, end).is_some() {
            return Err(Errno::EINVAL);
        }
        self.unmap_locked(&mut i, addr, end, true)
    }

    /// mprotect(2). Like Linux, VMAs before a hole are changed even when
    /// the hole then gives ENOMEM.
    pub fn mprotect(&self, addr: u64, len: u64, prot: i32) -> Result<(), Errno> {
        if !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        let all = libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC;
        if prot & !(all | libc::PROT_GROWSDOWN | libc::PROT_GROWSUP) != 0 {
            return Err(Errno::EINVAL);
        }
        if prot & (libc::PROT_GROWSDOWN | libc::PROT_GROWSUP) == libc::PROT_GROWSDOWN | libc::PROT_GROWSUP {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::ENOMEM)?;
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
        let mut i = self.lock();
        let first = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::ENOMEM)?;
        if prot & libc::PROT_GROWSUP != 0 || (prot & libc::PROT_GROWSDOWN != 0 && first.name != Some("[stack]")) {
            // x86 has no grows-up mappings; only the stack grows down.
            return Err(Errno::EINVAL);
        }
        let prot = prot & all;
        let mut cur = addr;
        let mut result = Ok(());
        while cur < end {
            let Some(v) = i.vmas.range(..=cur).next_back().map(|(_, v)| v.clone()).filter(|v| v.end > cur) else {
                result = Err(Errno::ENOMEM);
                break;
            };
            if prot & libc::PROT_WRITE != 0 && !v.may_write {
                result = Err(Errno::EACCES);
                break;
            }
            let stop = v.end.min(end);
            i.vmas.remove(&v.start);
            if v.start < cur {
                i.vmas.insert(v.start, v.slice(v.start, cur));
            }
            if v.end > stop {
                let r = v.slice(stop, v.end);
                i.vmas.insert(r.start, r);
            }
            let mut mid = v.slice(cur, stop);
            mid.prot = prot;
            // Unpopulated parts have no host mapping yet; they get `prot`
            // when populated.
            if mid.populated {
                self.aspace.protect(mid.start, mid.len(), prot).map_err(platform_err)?;
            }
            self.insert_merged(&mut i, mid);
            cur = stop;
        }
        result
    }

    /// brk(2): returns the new (or unchanged) break.
    pub fn brk(&self, new: u64) -> u64 {
        let mut i = self.lock();
        let cur = i.brk;
        if new < i.brk_start {
            return cur;
        }
        let (Some(old_end), Some(new_end)) = (page_up(cur), page_up(new)) else { return cur };
        if new_end > old_end {
            if !self.is_free(&i, old_end, new_end) {
                return cur;
            }
            let len = new_end - old_end;
            let Ok(mf_off) = self.mf.allocate(len) else { return cur };
            if self.aspace.map_file(old_end, len, libc::PROT_READ | libc::PROT_WRITE, mf_off).is_err() {
                self.mf.free(mf_off, len);
                return cur;
            }
            // Extend the previous heap VMA when the memory file is contiguous.
            let prev = i.vmas.range(..old_end).next_back().map(|(_, v)| v.clone());
            match prev {
                Some(p) if p.end == old_end && p.name == Some("[heap]") && p.mf_off + p.len() == mf_off => {
                    if let Some(v) = i.vmas.get_mut(&p.start) {
                        v.end = new_end;
                    }
                }
                _ => {
                    i.vmas.insert(
                        old_end,
                        Vma {
                            start: old_end,
                            end: new_end,
                            prot: libc::PROT_READ | libc::PROT_WRITE,
                            shared: false,
                            may_write: true,
                            owned: true,
                            populated: true,
                            mf_off,
                            file: None,
                            name: Some("[heap]"),
                        },
                    );
                }
            }
        } else if new_end < old_end && self.unmap_locked(&mut i, new_end, old_end, true).is_err() {
            return cur;
        }
        i.brk = new;
        new
    }

    /// madvise(2).
    pub fn madvise(&self, addr: u64, len: u64, advice: i32) -> Result<(), Errno> {
        if !is_page_aligned(addr) {
            return Err(Errno::EINVAL);
        }
        let ok_advice = [
            libc::MADV_NORMAL,
            libc::MADV_RANDOM,
            libc::MADV_SEQUENTIAL,
            libc::MADV_WILLNEED,
            libc::MADV_DONTNEED,
            libc::MADV_FREE,
            libc::MADV_DONTFORK,
            libc::MADV_DOFORK,
            libc::MADV_MERGEABLE,
            libc::MADV_UNMERGEABLE,
            libc::MADV_HUGEPAGE,
            libc::MADV_NOHUGEPAGE,
            libc::MADV_DONTDUMP,
            libc::MADV_DODUMP,
            libc::MADV_WIPEONFORK,
            libc::MADV_KEEPONFORK,
            libc::MADV_COLD,
            libc::MADV_PAGEOUT,
            libc::MADV_REMOVE,
        ];
        if !ok_advice.contains(&advice) {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        if len == 0 {
            return Ok(());
        }
        let end = addr.checked_add(len).ok_or(Errno::EINVAL)?;
        let i = self.lock();
        let vs: Vec<Vma> =
            i.vmas.range(..end).rev().take_while(|(_, v)| v.end > addr).map(|(_, v)| v.slice(addr, end)).collect();
        let covered: u64 = vs.iter().map(|v| v.len()).sum();
        if advice == libc::MADV_REMOVE {
            for v in &vs {
                if v.file.is_none() && !v.shared {
                    return Err(Errno::EINVAL);
                }
                if !(v.shared && v.may_write) {
                    return Err(Errno::EACCES);
                }
                if v.file.is_some() {
                    // Punching holes in files needs a writable filesystem.
                    return Err(Errno::EOPNOTSUPP);
                }
                self.mf.zero(v.mf_off, v.len());
            }
        }
        if advice == libc::MADV_FREE && vs.iter().any(|v| v.shared || v.file.is_some()) {
            return Err(Errno::EINVAL);
        }
        if matches!(advice, libc::MADV_DONTNEED | libc::MADV_FREE) {
            for v in &vs {
                if v.shared || !v.owned || !v.populated {
                    continue;
                }
                self.mf.zero(v.mf_off, v.len());
                if let Some(f) = &v.file {
                    self.fill_from_file(v.mf_off, v.len(), f)?;
                }
            }
        }
        if covered < len {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }
}
