//! Application memory: the memory file ([`memfile`]), VMAs ([`vma`]) and the
//! per-process [`MemoryManager`] that implements mmap, munmap, mprotect, brk,
//! mremap and madvise, and copies data in and out of application memory
//! through the sentry's own mapping of the memory file.
//!
//! Lock order: `MemoryManager::inner` is taken before `MemoryFile`'s
//! allocator lock. Platform calls on the address space are made with `inner`
//! held, from the thread that traces the stub.
//!
//! Every VMA is populated when created (the memory file is sparse, so anonymous
//! memory costs host pages only when touched; private file mappings are copied
//! in). Lazy population on fault is future work.

pub mod memfile;
pub mod vma;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::{is_page_aligned, page_down, page_up, Errno, Pod, PAGE_SIZE};
use crate::platform::AddressSpace;
pub use memfile::MemoryFile;
pub use vma::{MappedFile, Vma, VmaFile};

/// Top of the user address space (exclusive), x86_64 with 4-level paging.
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// Lowest address the application may map (vm.mmap_min_addr).
pub const MIN_ADDR: u64 = 0x10000;
/// Largest string copied in by `read_cstring` callers for paths.
pub const PATH_MAX: usize = 4096;

/// Where a new mapping goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Anywhere; `addr` is a hint.
    Hint(u64),
    /// Exactly here, replacing existing mappings (MAP_FIXED).
    Fixed(u64),
    /// Exactly here, failing with EEXIST on overlap (MAP_FIXED_NOREPLACE).
    FixedNoReplace(u64),
}

/// A request to map memory.
pub struct MapRequest {
    /// Where.
    pub placement: Placement,
    /// Length in bytes (page multiple, non-zero).
    pub len: u64,
    /// PROT_* bits.
    pub prot: i32,
    /// MAP_SHARED.
    pub shared: bool,
    /// The file and offset, for file mappings.
    pub file: Option<VmaFile>,
    /// Special name for maps.
    pub name: Option<&'static str>,
    /// Whether PROT_WRITE may be added later (false for shared mappings of
    /// files not open for writing).
    pub may_write: bool,
    /// MAP_32BIT: place in the low 2 GiB.
    pub below_2g: bool,
}

/// State behind the manager's lock.
struct Inner {
    vmas: BTreeMap<u64, Vma>,
    brk_start: u64,
    brk: u64,
    mmap_top: u64,
}

/// A process's address space as the sentry keeps it.
pub struct MemoryManager {
    mf: Arc<MemoryFile>,
    aspace: Arc<dyn AddressSpace>,
    reserved: Vec<(u64, u64)>,
    inner: Mutex<Inner>,
}

fn platform_err(e: crate::platform::PlatformError) -> Errno {
    tracing::error!("platform failure in mm: {e}");
    Errno::ENOMEM
}

impl MemoryManager {
    /// Creates an empty address space.
    pub fn new(mf: Arc<MemoryFile>, aspace: Arc<dyn AddressSpace>, reserved: &[(u64, u64)]) -> MemoryManager {
        let lowest_reserved = reserved.iter().map(|r| r.0).min().unwrap_or(TASK_SIZE).min(TASK_SIZE);
        MemoryManager {
            mf,
            aspace,
            reserved: reserved.to_vec(),
            inner: Mutex::new(Inner { vmas: BTreeMap::new(), brk_start: 0, brk: 0, mmap_top: lowest_reserved }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The address space (for platform contexts).
    pub fn address_space(&self) -> &Arc<dyn AddressSpace> {
        &self.aspace
    }

    /// The highest address the application can use for its stack top.
    pub fn stack_limit(&self) -> u64 {
        self.lock().mmap_top
    }

    /// Sets the top of the mmap area (below the stack gap).
    pub fn set_mmap_top(&self, top: u64) {
        self.lock().mmap_top = top;
    }

    /// Sets the start of the heap (after the loaded program).
    pub fn set_brk_start(&self, addr: u64) {
        let mut i = self.lock();
        i.brk_start = addr;
        i.brk = addr;
    }

    fn overlaps_reserved(&self, start: u64, end: u64) -> Option<(u64, u64)> {
        self.reserved.iter().copied().find(|&(s, e)| start < e && s < end)
    }

    fn is_free(&self, i: &Inner, start: u64, end: u64) -> bool {
        if start < MIN_ADDR || end > TASK_SIZE || self.overlaps_reserved(start, end).is_some() {
            return false;
        }
        i.vmas.range(..end).next_back().is_none_or(|(_, v)| v.end <= start)
    }

    /// Finds `len` free bytes in `[lo, hi)`, highest first.
    fn find_free(&self, i: &Inner, len: u64, lo: u64, hi: u64) -> Result<u64, Errno> {
        let mut end = hi;
        'outer: loop {
            let mut e = end;
            let mut cand = None;
            for (_, v) in i.vmas.range(..end).rev() {
                if v.end <= e {
                    if e - v.end >= len {
                        cand = Some(e - len);
                        break;
                    }
                    e = v.start;
                } else {
                    e = e.min(v.start);
                }
            }
            let c = match cand {
                Some(c) => c,
                None if e >= lo.saturating_add(len) => e - len,
                None => return Err(Errno::ENOMEM),
            };
            if c < lo {
                return Err(Errno::ENOMEM);
            }
            if let Some((rs, _)) = self.overlaps_reserved(c, c + len) {
                end = rs;
                continue 'outer;
            }
            return Ok(c);
        }
    }

    /// Removes `[start, end)` from the VMA tree and returns the removed
    /// slices; with `free`, their memory-file ranges are freed.
    fn remove_range(&self, i: &mut Inner, start: u64, end: u64, free: bool) -> Vec<Vma> {
        let keys: Vec<u64> = i.vmas.range(..end).rev().take_while(|(_, v)| v.end > start).map(|(&k, _)| k).collect();
        let mut gone = Vec::with_capacity(keys.len());
        for k in keys {
            let Some(v) = i.vmas.remove(&k) else { continue };
            if v.start < start {
                i.vmas.insert(v.start, v.slice(v.start, start));
            }
            if v.end > end {
                let right = v.slice(end, v.end);
                i.vmas.insert(right.start, right);
            }
            let g = v.slice(start, end);
            if free {
                self.mf.free(g.mf_off, g.len());
            }
            gone.push(g);
        }
        gone
    }

    /// Removes `[start, end)`, freeing its memory, and (if `host`) unmaps it
    /// in the stub.
    fn unmap_locked(&self, i: &mut Inner, start: u64, end: u64, host: bool) -> Result<(), Errno> {
        let gone = self.remove_range(i, start, end, true);
        if host && !gone.is_empty() {
            self.aspace.unmap(start, end - start).map_err(platform_err)?;
        }
        Ok(())
    }

    /// Inserts `v`, merging it with neighbours Linux would merge it with
    /// when their memory-file ranges are contiguous.
    fn insert_merged(&self, i: &mut Inner, mut v: Vma) {
        if let Some(prev) = i.vmas.range(..v.start).next_back().map(|(_, p)| p.clone()) {
            if prev.end == v.start && prev.mergeable_with(&v) && prev.mf_off + prev.len() == v.mf_off {
                i.vmas.remove(&prev.start);
                v = Vma { start: prev.start, mf_off: prev.mf_off, file: prev.file.clone(), ..v };
            }
        }
        if let Some(next) = i.vmas.get(&v.end).cloned() {
            if v.mergeable_with(&next) && v.mf_off + v.len() == next.mf_off {
                i.vmas.remove(&next.start);
                v.end = next.end;
            }
        }
        i.vmas.insert(v.start, v);
    }

    /// Fills a fresh memory-file range with a file's contents.
    fn fill_from_file(&self, mf_off: u64, len: u64, f: &VmaFile) -> Result<(), Errno> {
        let mut done = 0u64;
        while done < len {
            let n = (len - done).min(1 << 20);
            let p = self.mf.ptr(mf_off + done, n).ok_or(Errno::ENOMEM)?;
            // SAFETY: `p` is valid for `n` bytes of the sentry's mapping of the
            // memory file, in a range just allocated and not yet visible to
            // the application.
            let buf = unsafe { std::slice::from_raw_parts_mut(p, n as usize) };
            let got = f.file.read_at(buf, f.offset + done)? as u64;
            if got == 0 {
                break;
            }
            done += got;
        }
        Ok(())
    }

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
        if let Some(f) = &req.file {
            if let Err(e) = self.fill_from_file(mf_off, len, f) {
                self.mf.free(mf_off, len);
                return Err(e);
            }
        }
        // Replace whatever was there (MAP_FIXED); the host mapping is replaced
        // by the new one below.
        self.unmap_locked(&mut i, addr, addr + len, false)?;
        if let Err(e) = self.aspace.map_file(addr, len, req.prot, mf_off) {
            self.mf.free(mf_off, len);
            let _ = self.aspace.unmap(addr, len);
            return Err(platform_err(e));
        }
        let v = Vma {
            start: addr,
            end: addr + len,
            prot: req.prot,
            shared: req.shared,
            may_write: req.may_write,
            mf_off,
            file: req.file,
            name: req.name,
        };
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
            self.insert_merged(&mut i, mid);
            cur = stop;
        }
        if cur > addr {
            self.aspace.protect(addr, cur - addr, prot).map_err(platform_err)?;
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
            self.aspace.map_file(ext.start, ext.len(), ext.prot, ext.mf_off).map_err(|e| {
                self.mf.free(ext.mf_off, ext.len());
                platform_err(e)
            })?;
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
        if let Some(f) = &file {
            if let Err(e) = self.fill_from_file(mf_off, len, f) {
                self.mf.free(mf_off, len);
                return Err(e);
            }
        }
        Ok(Vma { start, end, prot: v.prot, shared: v.shared, may_write: v.may_write, mf_off, file, name: v.name })
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
            self.aspace.map_file(m.start, m.len(), m.prot, m.mf_off).map_err(platform_err)?;
            moved.push(m);
        }
        let tail = match moved.last() {
            Some(last) if new_len > keep => {
                let t = self.extension(last, dest + keep, dest + new_len)?;
                self.aspace.map_file(t.start, t.len(), t.prot, t.mf_off).map_err(platform_err)?;
                Some(t)
            }
            _ => None,
        };
        // Detach the moved ranges from the old place without freeing them.
        let detached = self.remove_range(i, old, old + keep, false);
        if dontunmap {
            for d in detached {
                let fresh = self.extension(&d, d.start, d.end)?;
                self.aspace.map_file(fresh.start, fresh.len(), fresh.prot, fresh.mf_off).map_err(platform_err)?;
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
                if v.shared {
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

    /// Finds the contiguous run of sentry memory backing `addr` (up to `len`
    /// bytes, stopping at the end of its VMA). `write` asks for application
    /// write permission; `force` ignores protections (loader use).
    pub fn translate(&self, addr: u64, len: u64, write: bool, force: bool) -> Result<(*mut u8, usize), Errno> {
        let i = self.lock();
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
        if !force && !(if write { v.writable() } else { v.readable() }) {
            return Err(Errno::EFAULT);
        }
        let n = len.min(v.end - addr);
        let p = self.mf.ptr(v.mf_off + (addr - v.start), n).ok_or(Errno::EFAULT)?;
        Ok((p, n as usize))
    }

    /// Walks `[addr, addr+len)` run by run (a run ends at a VMA's end),
    /// calling `f` with each run's pointer and length. Stops at a short
    /// count; an error after some progress ends the walk with the partial
    /// count, as Linux does.
    fn io_runs(
        &self,
        addr: u64,
        len: u64,
        write: bool,
        mut f: impl FnMut(*mut u8, usize) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0u64;
        while done < len {
            let step = self.translate(addr + done, len - done, write, false).and_then(|(p, n)| f(p, n).map(|k| (k, n)));
            match step {
                Ok((k, n)) => {
                    done += k as u64;
                    if k < n {
                        break;
                    }
                }
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(done as usize)
    }

    /// Runs `f` over the application memory `[addr, addr+len)` that the
    /// application may write (the buffer of a read-like syscall); see
    /// `io_runs` for partial results.
    pub fn io_into(
        &self,
        addr: u64,
        len: u64,
        mut f: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        self.io_runs(addr, len, true, |p, n| {
            // SAFETY: `translate` returned a pointer valid for `n` bytes of
            // the memory-file mapping, which outlives this call. The
            // application may change the bytes concurrently, as with any user
            // memory; they are plain bytes.
            f(unsafe { std::slice::from_raw_parts_mut(p, n) })
        })
    }

    /// Like [`io_into`](Self::io_into) for memory the application may read
    /// (the buffer of a write-like syscall).
    pub fn io_from(
        &self,
        addr: u64,
        len: u64,
        mut f: impl FnMut(&[u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        self.io_runs(addr, len, false, |p, n| {
            // SAFETY: as in `io_into`; the slice is only read.
            f(unsafe { std::slice::from_raw_parts(p, n) })
        })
    }

    /// Atomically loads the aligned u32 at `addr` (a futex word) and returns
    /// it with its memory-file offset, which identifies the word across
    /// address spaces.
    pub fn futex_load(&self, addr: u64) -> Result<(u32, u64), Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        let i = self.lock();
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
        if !v.readable() {
            return Err(Errno::EFAULT);
        }
        let off = v.mf_off + (addr - v.start);
        let p = self.mf.ptr(off, 4).ok_or(Errno::EFAULT)?;
        // SAFETY: `p` is 4-byte aligned (addr and mf_off are, since VMAs are
        // page aligned) and valid for 4 bytes of the memory-file mapping;
        // AtomicU32 has the same layout as u32.
        let val = unsafe { (*(p as *const std::sync::atomic::AtomicU32)).load(std::sync::atomic::Ordering::SeqCst) };
        Ok((val, off))
    }

    /// Copies `dst.len()` bytes in from application memory at `addr`.
    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < dst.len() {
            let (p, n) = self.translate(addr + done as u64, (dst.len() - done) as u64, false, false)?;
            // SAFETY: `translate` returned a pointer valid for `n` bytes of the
            // memory-file mapping; `dst` is sentry memory.
            unsafe { std::ptr::copy_nonoverlapping(p, dst[done..].as_mut_ptr(), n) };
            done += n;
        }
        Ok(())
    }

    fn copy_out_inner(&self, addr: u64, src: &[u8], force: bool) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < src.len() {
            let (p, n) = self.translate(addr + done as u64, (src.len() - done) as u64, true, force)?;
            // SAFETY: as in `copy_in`, in the other direction.
            unsafe { std::ptr::copy_nonoverlapping(src[done..].as_ptr(), p, n) };
            done += n;
        }
        Ok(())
    }

    /// Copies `src` out to application memory at `addr`.
    pub fn copy_out(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.copy_out_inner(addr, src, false)
    }

    /// Copies out ignoring protections (used by the loader for read-only
    /// segments it is filling).
    pub fn copy_out_force(&self, addr: u64, src: &[u8]) -> Result<(), Errno> {
        self.copy_out_inner(addr, src, true)
    }

    /// Reads a `T` from application memory.
    pub fn copy_in_obj<T: Pod>(&self, addr: u64) -> Result<T, Errno> {
        let mut v = T::default();
        self.copy_in(addr, v.as_bytes_mut())?;
        Ok(v)
    }

    /// Writes a `T` to application memory.
    pub fn copy_out_obj<T: Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        self.copy_out(addr, v.as_bytes())
    }

    /// Reads a NUL-terminated string of at most `max` bytes (excluding the
    /// NUL). A longer string gives ENAMETOOLONG.
    pub fn read_cstring(&self, addr: u64, max: usize) -> Result<Vec<u8>, Errno> {
        let mut out = Vec::new();
        let mut cur = addr;
        loop {
            // Read up to the end of the page at a time.
            let chunk = (PAGE_SIZE - (cur % PAGE_SIZE)).min((max + 1 - out.len()) as u64);
            let (p, n) = self.translate(cur, chunk, false, false)?;
            // SAFETY: `p` is valid for `n` bytes (see `translate`).
            let s = unsafe { std::slice::from_raw_parts(p, n) };
            if let Some(z) = s.iter().position(|&b| b == 0) {
                out.extend_from_slice(&s[..z]);
                return Ok(out);
            }
            out.extend_from_slice(s);
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            cur += n as u64;
        }
    }

    /// The text of /proc/[pid]/maps.
    pub fn maps_text(&self) -> String {
        let i = self.lock();
        let mut s = String::new();
        for v in i.vmas.values() {
            let p = |b: i32, c: char| if v.prot & b != 0 { c } else { '-' };
            let (dev, ino, path, off) = match &v.file {
                Some(f) => {
                    let (d, ino, path) = f.file.describe();
                    (d, ino, path, f.offset)
                }
                None => (0, 0, v.name.unwrap_or("").to_string(), 0),
            };
            let (ma, mi) = crate::abi::dev_split(dev);
            let _ = write!(
                s,
                "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {:<10} ",
                v.start,
                v.end,
                p(libc::PROT_READ, 'r'),
                p(libc::PROT_WRITE, 'w'),
                p(libc::PROT_EXEC, 'x'),
                if v.shared { 's' } else { 'p' },
                off,
                ma,
                mi,
                ino
            );
            let line_len = s.rsplit('\n').next().map_or(0, |l| l.len());
            if !path.is_empty() {
                // Linux pads the path to column 73.
                for _ in line_len..73 {
                    s.push(' ');
                }
                s.push_str(&path);
            }
            s.truncate(s.trim_end_matches(' ').len());
            s.push('\n');
        }
        s
    }

    /// Total mapped bytes (VmSize).
    pub fn mapped_bytes(&self) -> u64 {
        self.lock().vmas.values().map(|v| v.len()).sum()
    }

    /// Destroys the address space.
    pub fn release(&self) {
        let mut i = self.lock();
        for v in std::mem::take(&mut i.vmas).into_values() {
            self.mf.free(v.mf_off, v.len());
        }
        self.aspace.release();
    }
}
