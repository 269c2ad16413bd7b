//! mmap, munmap, mprotect, brk and madvise on a [`MemoryManager`].

use crate::abi::{is_page_aligned, page_down, page_up, Errno};
use crate::mm::{host_prot, MapRequest, MemoryManager, Placement, Vma, MIN_ADDR, TASK_SIZE};
use crate::platform::MapOp;
use std::sync::Arc;

impl MemoryManager {
    /// Maps memory; returns the address.
    pub fn mmap(&self, req: MapRequest) -> Result<u64, Errno> {
        let len = req.len;
        if len == 0 || !is_page_aligned(len) {
            return Err(Errno::EINVAL);
        }
        let mut i = self.write();
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
        // Replace whatever was there (MAP_FIXED).
        self.unmap_locked(&mut i, addr, addr + len)?;
        let anon = req.file.is_none() && req.segment.is_none();
        let seg_off = req.segment.as_ref().map(|s| s.1);
        i.insert_vma(Vma {
            start: addr,
            end: addr + len,
            prot: req.prot,
            shared: req.shared,
            may_write: req.may_write,
            file: req.file,
            name: req.name,
            dontfork: false,
            wipeonfork: false,
            segment: req.segment.map(|s| s.0),
        });
        // A segment's pages are its own (mapped when first touched).
        if let Some(off) = seg_off {
            self.mf.inc_ref(off, len);
            i.insert_pma(crate::mm::Pma { start: addr, end: addr + len, mf_off: off, cow: false, mapped: None });
        }
        // Anonymous memory gets its (sparse, zero) pages now; file contents
        // come in when first touched.
        if anon {
            if let Err(e) = self.back_anon(&mut i, addr, addr + len) {
                i.take_vmas(addr, addr + len);
                return Err(e);
            }
        }
        Ok(addr)
    }

    /// shmdt: unmaps the attachment of a segment that starts at `addr`,
    /// with every other VMA of that segment within its size. EINVAL if no
    /// attachment starts there.
    pub fn detach_segment(&self, addr: u64) -> Result<Arc<dyn crate::mm::Segment>, Errno> {
        let mut i = self.write();
        let seg = match i.vmas.get(&addr).and_then(|v| v.segment.as_ref()) {
            Some(s) => s.segment().clone(),
            None => return Err(Errno::EINVAL),
        };
        let len = seg.size();
        let end = addr.saturating_add(len).min(TASK_SIZE);
        let mine: Vec<(u64, u64)> = i
            .vmas
            .range(addr..end)
            .filter(|(_, v)| v.segment.as_ref().is_some_and(|s| Arc::ptr_eq(s.segment(), &seg)))
            .map(|(_, v)| (v.start, v.end.min(end)))
            .collect();
        for (s, e) in mine {
            self.unmap_locked(&mut i, s, e)?;
        }
        Ok(seg)
    }

    /// munmap(2).
    pub fn munmap(&self, addr: u64, len: u64) -> Result<(), Errno> {
        if !is_page_aligned(addr) || len == 0 {
            return Err(Errno::EINVAL);
        }
        let len = page_up(len).ok_or(Errno::EINVAL)?;
        let end = addr.checked_add(len).filter(|&e| e <= TASK_SIZE).ok_or(Errno::EINVAL)?;
        let mut i = self.write();
        // Never touch the platform's reserved pages.
        if self.overlaps_reserved(addr, end).is_some() {
            return Err(Errno::EINVAL);
        }
        self.unmap_locked(&mut i, addr, end)
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
        let mut i = self.write();
        let first = i.vma_at(addr).ok_or(Errno::ENOMEM)?;
        if prot & libc::PROT_GROWSUP != 0 || (prot & libc::PROT_GROWSDOWN != 0 && first.name != Some("[stack]")) {
            // x86 has no grows-up mappings; only the stack grows down.
            return Err(Errno::EINVAL);
        }
        let prot = prot & all;
        let mut cur = addr;
        let mut result = Ok(());
        let mut ops = Vec::new();
        while cur < end {
            let Some(v) = i.vma_at(cur).cloned() else {
                result = Err(Errno::ENOMEM);
                break;
            };
            if prot & libc::PROT_WRITE != 0 && !v.may_write {
                result = Err(Errno::EACCES);
                break;
            }
            let stop = v.end.min(end);
            i.split_at(cur);
            i.split_at(stop);
            let mut mid = v.slice(cur, stop);
            mid.prot = prot;
            i.vmas.insert(cur, mid.clone());
            // Pages mapped in the host follow; unmapped ones get the new
            // protections when they are mapped.
            let keys: Vec<u64> = i.pmas.range(cur..stop).map(|(&k, _)| k).collect();
            for k in keys {
                let Some(p) = i.pmas.get_mut(&k) else { continue };
                if p.mapped.is_some() {
                    let hp = host_prot(&mid, p.cow);
                    p.mapped = Some(hp);
                    ops.push(MapOp::Protect { addr: p.start, len: p.end - p.start, prot: hp });
                }
            }
            cur = stop;
        }
        self.host_apply(&i, &coalesce(ops))?;
        i.remerge(addr, cur);
        result
    }

    /// brk(2): returns the new (or unchanged) break.
    pub fn brk(&self, new: u64) -> u64 {
        let mut i = self.write();
        let cur = i.brk;
        if new < i.brk_start {
            return cur;
        }
        let (Some(old_end), Some(new_end)) = (page_up(cur), page_up(new)) else { return cur };
        if new_end > old_end {
            if !self.is_free(&i, old_end, new_end) {
                return cur;
            }
            i.insert_vma(Vma {
                start: old_end,
                end: new_end,
                prot: libc::PROT_READ | libc::PROT_WRITE,
                shared: false,
                may_write: true,
                file: None,
                name: Some("[heap]"),
                dontfork: false,
                wipeonfork: false,
                segment: None,
            });
            if self.back_anon(&mut i, old_end, new_end).is_err() {
                i.take_vmas(old_end, new_end);
                return cur;
            }
        } else if new_end < old_end && self.unmap_locked(&mut i, new_end, old_end).is_err() {
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
        let mut i = self.write();
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
                // Shared anonymous memory: its pages read as zero again, for
                // every process that shares them.
                let ps: Vec<_> = i.pmas.range(v.start..v.end).map(|(_, p)| p.slice(v.start, v.end)).collect();
                for p in ps {
                    self.mf.zero(p.mf_off, p.len());
                }
            }
        }
        if advice == libc::MADV_FREE && vs.iter().any(|v| v.shared || v.file.is_some()) {
            return Err(Errno::EINVAL);
        }
        match advice {
            libc::MADV_DONTNEED | libc::MADV_FREE => {
                for v in vs.iter().filter(|v| !v.shared) {
                    self.discard_private(&mut i, v)?;
                }
                // Splitting to find the pages split the VMAs too.
                i.remerge(addr, end);
            }
            libc::MADV_DONTFORK | libc::MADV_DOFORK | libc::MADV_WIPEONFORK | libc::MADV_KEEPONFORK => {
                if advice == libc::MADV_WIPEONFORK && vs.iter().any(|v| v.shared || v.file.is_some()) {
                    return Err(Errno::EINVAL);
                }
                for v in &vs {
                    i.split_at(v.start);
                    i.split_at(v.end);
                    if let Some(w) = i.vmas.get_mut(&v.start) {
                        match advice {
                            libc::MADV_DONTFORK => w.dontfork = true,
                            libc::MADV_DOFORK => w.dontfork = false,
                            libc::MADV_WIPEONFORK => w.wipeonfork = true,
                            _ => w.wipeonfork = false,
                        }
                    }
                }
                i.remerge(addr, end);
            }
            _ => {}
        }
        if covered < len {
            return Err(Errno::ENOMEM);
        }
        Ok(())
    }

    /// MADV_DONTNEED on private memory: the pages are dropped; anonymous
    /// memory reads as zeros and file mappings read the file again.
    fn discard_private(&self, i: &mut crate::mm::Inner, v: &Vma) -> Result<(), Errno> {
        let gone = i.take_pmas(v.start, v.end);
        if gone.is_empty() {
            return Ok(());
        }
        let mapped = gone.iter().any(|p| p.mapped.is_some());
        for p in &gone {
            self.mf.dec_ref(p.mf_off, p.len());
        }
        // Fresh anonymous pages mapped over the old ones replace them in
        // the host as well.
        let replaced = v.anonymous() && i.aspace.is_some() && v.prot != libc::PROT_NONE;
        if mapped && !replaced {
            self.host_apply(i, &[MapOp::Unmap { addr: v.start, len: v.len() }])?;
        }
        if v.anonymous() {
            self.back_anon(i, v.start, v.end)?;
        }
        Ok(())
    }
}

/// Joins adjacent protection changes with the same protections.
pub(super) fn coalesce(ops: Vec<MapOp>) -> Vec<MapOp> {
    let mut out: Vec<MapOp> = Vec::with_capacity(ops.len());
    for op in ops {
        if let (Some(MapOp::Protect { addr, len, prot }), MapOp::Protect { addr: a2, len: l2, prot: p2 }) =
            (out.last_mut(), op)
        {
            if *addr + *len == a2 && *prot == p2 {
                *len += l2;
                continue;
            }
        }
        out.push(op);
    }
    out
}
