//! mremap on a [`MemoryManager`]: runs of mergeable VMAs move as one, and
//! their pages move with them (no copy).

use crate::abi::{is_page_aligned, page_up, Errno};
use crate::mm::{Inner, MemoryManager, Pma, Vma, VmaFile, MIN_ADDR, TASK_SIZE};
use crate::platform::MapOp;

impl MemoryManager {
    /// The VMA slices covering `[start, end)`, which must be mapped without
    /// holes by VMAs Linux would have merged into one (same protections,
    /// sharing and backing); otherwise EFAULT, as for a range that crosses
    /// VMAs.
    fn pieces(i: &Inner, start: u64, end: u64) -> Result<Vec<Vma>, Errno> {
        let mut out: Vec<Vma> = Vec::new();
        let mut cur = start;
        while cur < end {
            let v = i.vma_at(cur).ok_or(Errno::EFAULT)?;
            if let Some(prev) = out.last() {
                if !prev.mergeable_with(v) {
                    return Err(Errno::EFAULT);
                }
            }
            out.push(v.slice(cur, end));
            cur = v.end;
        }
        Ok(out)
    }

    /// mremap(2).
    pub fn mremap(&self, old: u64, old_len: u64, new_len: u64, flags: i32, new_addr: u64) -> Result<u64, Errno> {
        let known = libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED | libc::MREMAP_DONTUNMAP;
        if flags & !known != 0 || !is_page_aligned(old) {
            return Err(Errno::EINVAL);
        }
        let maymove = flags & libc::MREMAP_MAYMOVE != 0;
        let fixed = flags & libc::MREMAP_FIXED != 0;
        let dontunmap = flags & libc::MREMAP_DONTUNMAP != 0;
        if (fixed || dontunmap) && !maymove {
            return Err(Errno::EINVAL);
        }
        let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
        let new_len = page_up(new_len).ok_or(Errno::EINVAL)?;
        if new_len == 0 || new_len > TASK_SIZE || (dontunmap && old_len != new_len) {
            return Err(Errno::EINVAL);
        }
        let mut i = self.write();
        let first = i.vma_at(old).cloned().ok_or(Errno::EFAULT)?;
        if old_len == 0 {
            // Duplicating a mapping needs a shared memory object; private
            // mappings give EINVAL, and shared ones are not supported yet.
            return Err(Errno::EINVAL);
        }
        if dontunmap && first.shared {
            return Err(Errno::EINVAL);
        }
        let old_end = old.checked_add(old_len).ok_or(Errno::EFAULT)?;
        let pieces = Self::pieces(&i, old, old_end)?;
        if fixed {
            if !is_page_aligned(new_addr) {
                return Err(Errno::EINVAL);
            }
            let ne = new_addr.checked_add(new_len).ok_or(Errno::EINVAL)?;
            if new_addr < old_end && old < ne {
                return Err(Errno::EINVAL);
            }
            if ne > TASK_SIZE || new_addr < MIN_ADDR || self.overlaps_reserved(new_addr, ne).is_some() {
                return Err(Errno::ENOMEM);
            }
            self.unmap_locked(&mut i, new_addr, ne)?;
            return self.move_locked(&mut i, &pieces, old, old_len, new_addr, new_len, dontunmap);
        }
        if dontunmap {
            let dest = self.find_free(&i, new_len, MIN_ADDR, i.mmap_top)?;
            return self.move_locked(&mut i, &pieces, old, old_len, dest, new_len, true);
        }
        if new_len <= old_len {
            if new_len < old_len {
                self.unmap_locked(&mut i, old + new_len, old_end)?;
            }
            return Ok(old);
        }
        let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        let last = pieces.last().cloned().ok_or(Errno::EFAULT)?;
        let last_full_end = i.vma_at(last.start).map_or(0, |v| v.end);
        if last_full_end == old_end && self.is_free(&i, old_end, grow_end) {
            self.extend(&mut i, &last, old_end, grow_end)?;
            return Ok(old);
        }
        if !maymove {
            return Err(Errno::ENOMEM);
        }
        let dest = self.find_free(&i, new_len, MIN_ADDR, i.mmap_top)?;
        self.move_locked(&mut i, &pieces, old, old_len, dest, new_len, false)
    }

    /// Continues `v` over the free `[start, end)`: the same mapping, with
    /// fresh pages for anonymous memory (file contents come in lazily).
    fn extend(&self, i: &mut Inner, v: &Vma, start: u64, end: u64) -> Result<(), Errno> {
        let file = v.file.as_ref().map(|f| VmaFile { file: f.file.clone(), offset: f.offset + (start - v.start) });
        let anon = file.is_none();
        i.insert_vma(Vma { start, end, file, ..v.clone() });
        if anon {
            if let Err(e) = self.back_anon(i, start, end) {
                i.take_vmas(start, end);
                return Err(e);
            }
        }
        Ok(())
    }

    /// Moves `[old, old+old_len)` (covered by `pieces`) to `dest` with
    /// `new_len`, moving its pages (no copy). With `dontunmap` the old range
    /// stays mapped, with fresh pages.
    #[allow(clippy::too_many_arguments)]
    fn move_locked(
        &self,
        i: &mut Inner,
        pieces: &[Vma],
        old: u64,
        old_len: u64,
        dest: u64,
        new_len: u64,
        dontunmap: bool,
    ) -> Result<u64, Errno> {
        let keep = old_len.min(new_len);
        let shift = |a: u64| dest + (a - old);
        let vmas = i.take_vmas(old, old + keep);
        let pmas = i.take_pmas(old, old + keep);
        let mut ops = Vec::new();
        for v in &vmas {
            i.insert_vma(Vma { start: shift(v.start), end: shift(v.end), ..v.clone() });
        }
        for p in &pmas {
            let q = Pma { start: shift(p.start), end: shift(p.end), ..*p };
            if let Some(prot) = p.mapped {
                ops.push(MapOp::Map { addr: q.start, len: q.len(), prot, offset: q.mf_off });
            }
            i.insert_pma(q);
        }
        if pmas.iter().any(|p| p.mapped.is_some()) {
            ops.push(MapOp::Unmap { addr: old, len: keep });
        }
        self.host_apply(i, &ops)?;
        if new_len > keep {
            if let Some(last) = pieces.iter().rfind(|p| p.start < old + keep) {
                let moved = Vma { start: shift(last.start), end: shift(last.end.min(old + keep)), ..last.clone() };
                self.extend(i, &moved, dest + keep, dest + new_len)?;
            }
        }
        if dontunmap {
            // The old range keeps its mapping, now without pages: anonymous
            // memory reads as zeros, a file as the file.
            for v in vmas {
                let anon = v.anonymous();
                let (s, e) = (v.start, v.end);
                i.insert_vma(v);
                if anon {
                    self.back_anon(i, s, e)?;
                }
            }
        }
        if old_len > keep {
            self.unmap_locked(i, old + keep, old + old_len)?;
        }
        Ok(dest)
    }
}
