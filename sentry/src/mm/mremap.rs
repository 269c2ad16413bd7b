//! mremap on a [`MemoryManager`]: runs of mergeable VMAs move as one, by
//! remapping their memory-file ranges (no copy).

use crate::abi::{is_page_aligned, page_up, Errno};
use crate::mm::{platform_err, Inner, MemoryManager, Vma, VmaFile, MIN_ADDR, TASK_SIZE};

impl MemoryManager {
    /// The VMA slices covering `[start, end)`, which must be mapped without
    /// holes by VMAs Linux would have merged into one (same protections,
    /// sharing and backing); otherwise EFAULT, as for a range that crosses
    /// VMAs.
    fn pieces(&self, i: &Inner, start: u64, end: u64) -> Result<Vec<Vma>, Errno> {
        let mut out: Vec<Vma> = Vec::new();
        let mut cur = start;
        while cur < end {
            let v = i.vmas.range(..=cur).next_back().map(|(_, v)| v).filter(|v| v.end > cur).ok_or(Errno::EFAULT)?;
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
        let mut i = self.lock();
        let first =
            i.vmas.range(..=old).next_back().map(|(_, v)| v.clone()).filter(|v| v.end > old).ok_or(Errno::EFAULT)?;
        if old_len == 0 {
            // Duplicating a mapping needs a shared one; private ones give
            // EINVAL, and we have no shared memory objects yet.
            return Err(Errno::EINVAL);
        }
        if dontunmap && first.shared {
            return Err(Errno::EINVAL);
        }
        let old_end = old.checked_add(old_len).ok_or(Errno::EFAULT)?;
        let pieces = self.pieces(&i, old, old_end)?;
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
            self.unmap_locked(&mut i, new_addr, ne, true)?;
            return self.move_locked(&mut i, &pieces, old, old_len, new_addr, new_len, dontunmap);
        }
        if dontunmap {
            let dest = self.find_free(&i, new_len, MIN_ADDR, i.mmap_top)?;
            return self.move_locked(&mut i, &pieces, old, old_len, dest, new_len, true);
        }
        if new_len <= old_len {
            if new_len < old_len {
                self.unmap_locked(&mut i, old + new_len, old_end, true)?;
            }
            return Ok(old);
        }
        let grow_end = old.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        let last = pieces.last().cloned().ok_or(Errno::EFAULT)?;
        let last_full_end =
            i.vmas.get(&i.vmas.range(..=last.start).next_back().map_or(0, |(&k, _)| k)).map_or(0, |v| v.end);
        if last_full_end == old_end && self.is_free(&i, old_end, grow_end) {
            let ext = self.extension(&last, old_end, grow_end)?;
            self.host_map(&ext).inspect_err(|_| self.mf.free(ext.mf_off, ext.len()))?;
            self.insert_merged(&mut i, ext);
            return Ok(old);
        }
        if !maymove {
            return Err(Errno::ENOMEM);
        }
        let dest = self.find_free(&i, new_len, MIN_ADDR, i.mmap_top)?;
        self.move_locked(&mut i, &pieces, old, old_len, dest, new_len, false)
    }

    /// A fresh VMA continuing `v` over `[start, end)`.
    fn extension(&self, v: &Vma, start: u64, end: u64) -> Result<Vma, Errno> {
        let len = end - start;
        let mf_off = self.mf.allocate(len)?;
        let file = v.file.as_ref().map(|f| VmaFile { file: f.file.clone(), offset: f.offset + (start - v.start) });
        // File contents come in lazily, as for mmap.
        let populated = file.is_none();
        Ok(Vma {
            start,
            end,
            prot: v.prot,
            shared: v.shared,
            may_write: v.may_write,
            owned: true,
            populated,
            mf_off,
            file,
            name: v.name,
        })
    }

    /// Moves `[old, old+old_len)` (covered by `pieces`) to `dest` with
    /// `new_len`, reusing the memory-file ranges (no copy). With `dontunmap`
    /// the old range stays mapped, empty.
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
        let mut moved = Vec::new();
        for p in pieces.iter().filter(|p| p.start < old + keep) {
            let part = p.slice(p.start, p.end.min(old + keep));
            let mut m = part.clone();
            m.start = dest + (part.start - old);
            m.end = m.start + part.len();
            self.host_map(&m)?;
            moved.push(m);
        }
        let tail = match moved.last() {
            Some(last) if new_len > keep => {
                let t = self.extension(last, dest + keep, dest + new_len)?;
                self.host_map(&t)?;
                Some(t)
            }
            _ => None,
        };
        // Detach the moved ranges from the old place without freeing them.
        let detached = self.remove_range(i, old, old + keep, false);
        if dontunmap {
            for d in detached {
                let fresh = self.extension(&d, d.start, d.end)?;
                if !fresh.populated {
                    // The moved pages must not stay visible here.
                    self.aspace.unmap(d.start, d.len()).map_err(platform_err)?;
                }
                self.host_map(&fresh)?;
                self.insert_merged(i, fresh);
            }
        } else {
            self.aspace.unmap(old, keep).map_err(platform_err)?;
        }
        if old_len > keep {
            self.unmap_locked(i, old + keep, old + old_len, true)?;
        }
        for m in moved {
            self.insert_merged(i, m);
        }
        if let Some(t) = tail {
            self.insert_merged(i, t);
        }
        Ok(dest)
    }
}
