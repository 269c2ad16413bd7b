//! Application memory: the memory file ([`memfile`]), VMAs ([`vma`]) and the
//! per-process [`MemoryManager`]: placement and the VMA tree here; mmap,
//! munmap, mprotect, brk and madvise in `mmap`; mremap in `mremap`; copying
//! data in and out of application memory through the sentry's own mapping of
//! the memory file in `usermem`; `/proc/[pid]/maps` in `maps`.
//!
//! Lock order: `MemoryManager::inner` is taken before `MemoryFile`'s
//! allocator lock. Platform calls on the address space are made with `inner`
//! held, from the thread that traces the stub.
//!
//! Every VMA is populated when created (the memory file is sparse, so anonymous
//! memory costs host pages only when touched; private file mappings are copied
//! in). Lazy population on fault is future work.

mod maps;
pub mod memfile;
mod mmap;
mod mremap;
mod usermem;
pub mod vma;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::{Errno, PAGE_SIZE};
use crate::platform::AddressSpace;
pub use memfile::MemoryFile;
pub use vma::{MappedFile, Vma, VmaFile};

/// Top of the user address space (exclusive), x86_64 with 4-level paging.
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// Lowest address the application may map (vm.mmap_min_addr).
pub const MIN_ADDR: u64 = 0x10000;
/// Largest string copied in by `read_cstring` callers for paths.
pub const PATH_MAX: usize = 4096;
/// How much of a file mapping one fault populates (aligned).
pub const POPULATE_CHUNK: u64 = 256 << 10;

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
            if free && g.owned {
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

    /// Maps a VMA in the stub if it is populated (unpopulated ones are
    /// mapped when first touched).
    fn host_map(&self, v: &Vma) -> Result<(), Errno> {
        if !v.populated {
            return Ok(());
        }
        self.aspace.map_file(v.start, v.len(), v.prot, v.mf_off).map_err(platform_err)
    }

    /// Populates the unpopulated parts of the VMA containing `addr`, in the
    /// aligned chunk of [`POPULATE_CHUNK`] bytes around it: copies the file
    /// contents in and maps them in the stub. Returns whether anything was
    /// populated.
    fn populate_at(&self, i: &mut Inner, addr: u64) -> Result<bool, Errno> {
        let Some(v) = i.vmas.range(..=addr).next_back().map(|(_, v)| v.clone()).filter(|v| v.end > addr) else {
            return Ok(false);
        };
        if v.populated {
            return Ok(false);
        }
        let chunk = addr & !(POPULATE_CHUNK - 1);
        let (start, end) = (chunk.max(v.start), (chunk + POPULATE_CHUNK).min(v.end));
        let mut mid = v.slice(start, end);
        if let Some(f) = &mid.file {
            self.fill_from_file(mid.mf_off, mid.len(), f)?;
        }
        mid.populated = true;
        self.host_map(&mid)?;
        i.vmas.remove(&v.start);
        if v.start < start {
            i.vmas.insert(v.start, v.slice(v.start, start));
        }
        if end < v.end {
            let right = v.slice(end, v.end);
            i.vmas.insert(right.start, right);
        }
        self.insert_merged(i, mid);
        Ok(true)
    }

    /// Handles an application page fault at `addr`: if it hit a part of a
    /// mapping not populated yet, populates it and returns true (the
    /// faulting instruction is then retried). False means a real fault.
    pub fn handle_fault(&self, addr: u64) -> bool {
        let mut i = self.lock();
        let accessible = i
            .vmas
            .range(..=addr)
            .next_back()
            .is_some_and(|(_, v)| v.end > addr && v.prot != libc::PROT_NONE && !v.populated);
        accessible && self.populate_at(&mut i, addr).unwrap_or(false)
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

    /// Maps the vDSO: the time page (read-only) and right above it the
    /// image (read+execute), both shared with every process and owned by the
    /// kernel. Returns the image's address (AT_SYSINFO_EHDR).
    pub fn map_vdso(&self, data_off: u64, image_off: u64, image_len: u64) -> Result<u64, Errno> {
        let mut i = self.lock();
        let top = i.mmap_top;
        let base = self.find_free(&i, PAGE_SIZE + image_len, MIN_ADDR, top)?;
        let special = |start: u64, len: u64, prot: i32, mf_off: u64, name: &'static str| Vma {
            start,
            end: start + len,
            prot,
            shared: true,
            may_write: false,
            owned: false,
            populated: true,
            mf_off,
            file: None,
            name: Some(name),
        };
        let data = special(base, PAGE_SIZE, libc::PROT_READ, data_off, "[vvar]");
        let image = special(base + PAGE_SIZE, image_len, libc::PROT_READ | libc::PROT_EXEC, image_off, "[vdso]");
        for v in [data, image] {
            self.aspace.map_file(v.start, v.len(), v.prot, v.mf_off).map_err(platform_err)?;
            i.vmas.insert(v.start, v);
        }
        Ok(base + PAGE_SIZE)
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
