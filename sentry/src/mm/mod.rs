//! Application memory: the memory file ([`memfile`]), VMAs and pmas
//! ([`vma`]) and the per-address-space [`MemoryManager`].
//!
//! Two trees describe an address space, as in gVisor: VMAs say what the
//! application mapped (protections, sharing, file and offset); pmas say
//! which memory-file pages hold the contents and whether the host address
//! space maps them. Anonymous memory gets its pages when mapped (the memory
//! file is sparse, so untouched pages cost nothing); file mappings get theirs
//! when first touched, [`POPULATE_CHUNK`] at a time. `fork` shares private
//! pages copy-on-write: both sides keep the pages read-only in the host until
//! a write fault copies them (`cow`). The host address space itself is made
//! on first use (a forked child gets one when it first runs) and filled in
//! lazily by faults.
//!
//! Files here: placement and the trees (this file); faults, population and
//! copy-on-write in `fault`; mmap, munmap, mprotect, brk and madvise in
//! `mmap`; mremap in `mremap`; fork in `fork`; the sentry's access to
//! application memory in `usermem`; `/proc/[pid]/maps` in `maps`.
//!
//! Lock order: `MemoryManager::inner` (a RwLock: copies in and out hold it
//! for reading while they touch the pages, so no munmap can free them
//! mid-copy; changes hold it for writing) before `MemoryFile`'s allocator
//! lock. Platform calls on the address space are made with `inner` held
//! for writing. Code run under the read lock (the closures of
//! [`MemoryManager::io_into`] and friends) must not take this manager's
//! lock again.

mod fault;
mod fork;
mod maps;
pub mod memfile;
mod mmap;
mod mremap;
mod msync;
mod residency;
mod usermem;
pub mod vma;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use crate::abi::Errno;
use crate::platform::{AddressSpace, MapOp, Platform};
pub use fault::{FaultError, SEGV_ACCERR, SEGV_MAPERR};
pub use memfile::MemoryFile;
pub use residency::Resident;
pub use usermem::FutexKey;
pub use vma::{host_prot, CacheKey, MappedFile, Pma, Segment, SegmentRef, Vma, VmaFile};

/// Top of the user address space (exclusive), x86_64 with 4-level paging.
pub const TASK_SIZE: u64 = 0x7fff_ffff_f000;
/// Lowest address the application may map (vm.mmap_min_addr).
pub const MIN_ADDR: u64 = 0x10000;
/// Largest string copied in by `read_cstring` callers for paths.
pub const PATH_MAX: usize = 4096;
/// How much of a file mapping one fault populates (aligned).
pub const POPULATE_CHUNK: u64 = 256 << 10;
/// How much one copy-on-write fault copies (aligned, within the pma).
pub const COW_CHUNK: u64 = 64 << 10;

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
    /// A shared memory segment to attach, with its memory-file offset
    /// (`file` must be None).
    pub segment: Option<(SegmentRef, u64)>,
}

/// Where the loader put argv and envp in memory (for `/proc/[pid]/cmdline`
/// and environ, which Linux reads from the process's memory).
#[derive(Clone, Copy, Debug, Default)]
pub struct ArgRanges {
    /// Start of the argv strings.
    pub arg_start: u64,
    /// End of the argv strings.
    pub arg_end: u64,
    /// Start of the envp strings.
    pub env_start: u64,
    /// End of the envp strings.
    pub env_end: u64,
}

/// State behind the manager's lock.
pub(crate) struct Inner {
    vmas: BTreeMap<u64, Vma>,
    pmas: BTreeMap<u64, Pma>,
    /// The host address space, made on first use.
    aspace: Option<Arc<dyn AddressSpace>>,
    brk_start: u64,
    brk: u64,
    mmap_top: u64,
    args: ArgRanges,
    /// Addresses whose pages the next fault maps too, all in one change of
    /// the host address space (see `fault::premap`).
    premap: Vec<u64>,
}

static NEXT_MM_ID: AtomicU64 = AtomicU64::new(1);

/// An application address space as the sentry keeps it.
pub struct MemoryManager {
    id: u64,
    mf: Arc<MemoryFile>,
    platform: Arc<dyn Platform>,
    reserved: Vec<(u64, u64)>,
    inner: RwLock<Inner>,
}

fn platform_err(e: crate::platform::PlatformError) -> Errno {
    tracing::error!("platform failure in mm: {e}");
    Errno::ENOMEM
}

impl MemoryManager {
    /// An empty address space.
    pub fn new(mf: Arc<MemoryFile>, platform: Arc<dyn Platform>) -> MemoryManager {
        let reserved = platform.reserved_ranges().to_vec();
        let lowest_reserved = reserved.iter().map(|r| r.0).min().unwrap_or(TASK_SIZE).min(TASK_SIZE);
        MemoryManager {
            id: NEXT_MM_ID.fetch_add(1, Ordering::Relaxed),
            mf,
            platform,
            reserved,
            inner: RwLock::new(Inner {
                vmas: BTreeMap::new(),
                pmas: BTreeMap::new(),
                aspace: None,
                brk_start: 0,
                brk: 0,
                mmap_top: lowest_reserved,
                args: ArgRanges::default(),
                premap: Vec::new(),
            }),
        }
    }

    /// A unique id (private futex keys).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The memory file.
    pub fn memory_file(&self) -> &Arc<MemoryFile> {
        &self.mf
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|e| e.into_inner())
    }

    /// The host address space, made now if this is its first use (a new
    /// process's first run). Everything is mapped into it lazily, by faults.
    pub fn address_space(&self) -> Result<Arc<dyn AddressSpace>, Errno> {
        if let Some(a) = &self.read().aspace {
            return Ok(a.clone());
        }
        let mut i = self.write();
        if let Some(a) = &i.aspace {
            return Ok(a.clone());
        }
        let a = self.platform.new_address_space().map_err(platform_err)?;
        i.aspace = Some(a.clone());
        Ok(a)
    }

    /// Takes over `old`'s host address space (an execve whose old image
    /// nobody else uses): everything the application had mapped there is
    /// unmapped, and the task keeps running in the same place, which saves
    /// making a new one. A no-op if `old` has none or this has one.
    pub fn inherit_address_space(&self, old: &MemoryManager) {
        let Some(a) = old.write().aspace.take() else { return };
        let mut i = self.write();
        if i.aspace.is_some() {
            return;
        }
        // The user range less the platform's reserved ranges.
        let mut reserved = self.reserved.clone();
        reserved.sort_unstable();
        let mut ops = Vec::new();
        let mut cur = 0;
        for (s, e) in reserved.into_iter().filter(|r| r.0 < TASK_SIZE) {
            if s > cur {
                ops.push(MapOp::Unmap { addr: cur, len: s - cur });
            }
            cur = cur.max(e);
        }
        if cur < TASK_SIZE {
            ops.push(MapOp::Unmap { addr: cur, len: TASK_SIZE - cur });
        }
        if a.apply(&ops).is_ok() {
            i.aspace = Some(a);
        }
    }

    /// The highest address the application can use for its stack top.
    pub fn stack_limit(&self) -> u64 {
        self.read().mmap_top
    }

    /// Sets the top of the mmap area (below the stack gap).
    pub fn set_mmap_top(&self, top: u64) {
        self.write().mmap_top = top;
    }

    /// Sets the start of the heap (after the loaded program).
    pub fn set_brk_start(&self, addr: u64) {
        let mut i = self.write();
        i.brk_start = addr;
        i.brk = addr;
    }

    /// Where argv and envp are.
    pub fn args(&self) -> ArgRanges {
        self.read().args
    }

    /// Records where argv and envp are.
    pub fn set_args(&self, a: ArgRanges) {
        self.write().args = a;
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

    /// Applies `ops` to the host address space, if there is one yet.
    fn host_apply(&self, i: &Inner, ops: &[MapOp]) -> Result<(), Errno> {
        match &i.aspace {
            Some(a) if !ops.is_empty() => a.apply(ops).map_err(platform_err),
            _ => Ok(()),
        }
    }

    /// Bytes of private writable mappings other than the stack (Linux's
    /// data_vm, which RLIMIT_DATA limits).
    pub fn data_bytes(&self) -> u64 {
        self.read()
            .vmas
            .values()
            .filter(|v| v.prot & libc::PROT_WRITE != 0 && !v.shared && v.name != Some("[stack]"))
            .map(|v| v.len())
            .sum()
    }

    /// The start of the heap and its current end.
    pub fn brk_range(&self) -> (u64, u64) {
        let i = self.read();
        (i.brk_start, i.brk)
    }

    /// Total mapped bytes (VmSize).
    pub fn mapped_bytes(&self) -> u64 {
        self.read().vmas.values().map(|v| v.len()).sum()
    }

    /// Bytes with memory-file pages behind them (an upper bound of VmRSS:
    /// untouched anonymous pages count too).
    pub fn backed_bytes(&self) -> u64 {
        self.read().pmas.values().map(|p| p.len()).sum()
    }
}

impl Inner {
    /// The VMA containing `addr`.
    fn vma_at(&self, addr: u64) -> Option<&Vma> {
        self.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr)
    }

    /// The pma containing `addr`.
    fn pma_at(&self, addr: u64) -> Option<&Pma> {
        self.pmas.range(..=addr).next_back().map(|(_, p)| p).filter(|p| p.end > addr)
    }

    /// Inserts `v`, merging it with neighbours Linux would merge it with.
    fn insert_vma(&mut self, mut v: Vma) {
        if let Some(prev) = self.vmas.range(..v.start).next_back().map(|(_, p)| p.clone()) {
            if prev.mergeable_with(&v) {
                self.vmas.remove(&prev.start);
                v = Vma { start: prev.start, file: prev.file.clone(), ..v };
            }
        }
        if let Some(next) = self.vmas.get(&v.end).cloned() {
            if v.mergeable_with(&next) {
                self.vmas.remove(&next.start);
                v.end = next.end;
            }
        }
        self.vmas.insert(v.start, v);
    }

    /// Inserts `p`, merging it with contiguous neighbours in the same VMA.
    fn insert_pma(&mut self, mut p: Pma) {
        let same_vma = |i: &Inner, a: u64, b: u64| i.vma_at(a).is_some_and(|v| v.start <= b && b < v.end);
        if let Some(prev) = self.pmas.range(..p.start).next_back().map(|(_, q)| *q) {
            if prev.mergeable_with(&p) && same_vma(self, prev.start, p.start) {
                self.pmas.remove(&prev.start);
                p = Pma { start: prev.start, mf_off: prev.mf_off, ..p };
            }
        }
        if let Some(next) = self.pmas.get(&p.end).copied() {
            if p.mergeable_with(&next) && same_vma(self, p.start, next.start) {
                self.pmas.remove(&next.start);
                p.end = next.end;
            }
        }
        self.pmas.insert(p.start, p);
    }

    /// Merges the VMAs of `[start, end)` (and their neighbours) where Linux
    /// would, after changes that split them.
    fn remerge(&mut self, start: u64, end: u64) {
        let mut key = match self.vma_at(start) {
            Some(v) => v.start,
            None => match self.vmas.range(start..).next() {
                Some((&k, _)) => k,
                None => return,
            },
        };
        loop {
            let Some(v) = self.vmas.remove(&key) else { return };
            let s = v.start;
            self.insert_vma(v);
            let Some(next) = self.vma_at(s).map(|m| m.end) else { return };
            if next > end {
                return;
            }
            match self.vmas.range(next..).next() {
                Some((&k, _)) if k <= end => key = k,
                _ => return,
            }
        }
    }

    /// Splits the VMA and the pma containing `at` so that none straddles it.
    fn split_at(&mut self, at: u64) {
        if let Some(v) = self.vma_at(at).cloned() {
            if v.start < at {
                self.vmas.insert(v.start, v.slice(v.start, at));
                self.vmas.insert(at, v.slice(at, v.end));
            }
        }
        if let Some(p) = self.pma_at(at).copied() {
            if p.start < at {
                self.pmas.insert(p.start, p.slice(p.start, at));
                self.pmas.insert(at, p.slice(at, p.end));
            }
        }
    }

    /// Removes and returns the pmas in `[start, end)` (splitting those that
    /// straddle the edges). The caller drops their references.
    fn take_pmas(&mut self, start: u64, end: u64) -> Vec<Pma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.pmas.range(start..end).map(|(&k, _)| k).collect();
        keys.into_iter().filter_map(|k| self.pmas.remove(&k)).collect()
    }

    /// Removes and returns the VMAs in `[start, end)`, splitting at the edges.
    fn take_vmas(&mut self, start: u64, end: u64) -> Vec<Vma> {
        self.split_at(start);
        self.split_at(end);
        let keys: Vec<u64> = self.vmas.range(start..end).map(|(&k, _)| k).collect();
        keys.into_iter().filter_map(|k| self.vmas.remove(&k)).collect()
    }
}

impl MemoryManager {
    /// Removes `[start, end)`: its VMAs, and its pmas (dropping their
    /// references and unmapping them from the host).
    fn unmap_locked(&self, i: &mut Inner, start: u64, end: u64) -> Result<(), Errno> {
        i.take_vmas(start, end);
        let gone = i.take_pmas(start, end);
        let mapped = gone.iter().any(|p| p.mapped.is_some());
        for p in &gone {
            self.mf.dec_ref(p.mf_off, p.len());
        }
        if mapped {
            self.host_apply(i, &[MapOp::Unmap { addr: start, len: end - start }])?;
        }
        Ok(())
    }

    /// Gives `[start, end)` of anonymous VMA memory fresh zero pages, mapped
    /// in the host now if there is a host address space.
    fn back_anon(&self, i: &mut Inner, start: u64, end: u64) -> Result<(), Errno> {
        let off = self.mf.allocate(end - start)?;
        let mut p = Pma { start, end, mf_off: off, cow: false, mapped: None };
        let prot = i.vma_at(start).map_or(0, |v| v.prot);
        if i.aspace.is_some() && prot != libc::PROT_NONE {
            if let Err(e) = self.host_apply(i, &[MapOp::Map { addr: start, len: end - start, prot, offset: off }]) {
                self.mf.dec_ref(off, end - start);
                return Err(e);
            }
            p.mapped = Some(prot);
        }
        i.insert_pma(p);
        Ok(())
    }

    /// Maps the vDSO: the time page (read-only) and right above it the
    /// image (read+execute), both shared with every process; the kernel
    /// holds a reference on both for good. Returns the image's address
    /// (AT_SYSINFO_EHDR).
    pub fn map_vdso(&self, data_off: u64, image_off: u64, image_len: u64) -> Result<u64, Errno> {
        let page = crate::abi::PAGE_SIZE;
        let mut i = self.write();
        let top = i.mmap_top;
        let base = self.find_free(&i, page + image_len, MIN_ADDR, top)?;
        let special = |start: u64, len: u64, prot: i32, name: &'static str| Vma {
            start,
            end: start + len,
            prot,
            shared: true,
            may_write: false,
            file: None,
            name: Some(name),
            dontfork: false,
            wipeonfork: false,
            segment: None,
        };
        for (start, len, prot, off, name) in [
            (base, page, libc::PROT_READ, data_off, "[vvar]"),
            (base + page, image_len, libc::PROT_READ | libc::PROT_EXEC, image_off, "[vdso]"),
        ] {
            i.vmas.insert(start, special(start, len, prot, name));
            self.mf.inc_ref(off, len);
            i.pmas.insert(start, Pma { start, end: start + len, mf_off: off, cow: false, mapped: None });
        }
        Ok(base + page)
    }
}

impl Drop for MemoryManager {
    fn drop(&mut self) {
        let i = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        for p in std::mem::take(&mut i.pmas).into_values() {
            self.mf.dec_ref(p.mf_off, p.len());
        }
        // Dropping the address space destroys it (once no context runs in it).
        i.aspace = None;
    }
}
