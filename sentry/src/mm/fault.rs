//! Faults: giving a touched address its pages (populating file mappings,
//! breaking copy-on-write) and mapping them into the host address space.
//! Application faults come from the platform; the sentry's own accesses
//! fault pages in through the same code (without mapping them in the host).

use crate::abi::{page_down, Errno};
use crate::mm::mmap::coalesce;
use crate::mm::{host_prot, CacheKey, Inner, MemoryManager, Pma, Vma, VmaFile, COW_CHUNK, POPULATE_CHUNK};
use crate::platform::{Access, MapOp};

/// The part of a cached file a fault brings in.
const CACHE_CHUNK: u64 = 2 << 20;

/// SEGV_MAPERR: no mapping at the address.
pub const SEGV_MAPERR: i32 = 1;
/// SEGV_ACCERR: the mapping does not allow the access.
pub const SEGV_ACCERR: i32 = 2;

/// An application fault the memory manager cannot resolve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FaultError {
    /// SIGSEGV with this si_code.
    Segv(i32),
    /// SIGBUS (BUS_ADRERR): a file mapping's page wholly past the file's
    /// end.
    PastEof,
}

/// The hole around `addr` within `[lo, hi)`: from the end of the pma
/// below to the start of the one above.
fn hole(i: &Inner, addr: u64, lo: u64, hi: u64) -> Result<(u64, u64), Errno> {
    let start = i.pmas.range(..addr).next_back().map_or(lo, |(_, p)| p.end.max(lo));
    let end = i.pmas.range(addr..).next().map_or(hi, |(_, p)| p.start.min(hi));
    let start = page_down(start.min(addr));
    if end <= start {
        return Err(Errno::EFAULT);
    }
    Ok((start, end))
}

/// Whether the page of `addr` (in file-backed `v`) lies wholly past the
/// end of the file.
fn past_eof(v: &Vma, addr: u64) -> bool {
    let Some(f) = &v.file else { return false };
    let Ok(size) = f.file.size() else { return false };
    f.offset + (page_down(addr) - v.start) >= size
}

impl MemoryManager {
    /// Handles an application fault at `addr`. `Ok` means the faulting
    /// instruction can run again (`true`: its page was newly mapped); an
    /// error is a real fault, to be delivered as a signal.
    ///
    /// Without the access type (ptrace cannot tell), a fault on pages not
    /// mapped in the host maps them with the most the VMA allows, except
    /// write on copy-on-write pages; a fault on pages mapped read-only that
    /// the VMA lets the application write can only be a write, and breaks
    /// copy-on-write.
    ///
    /// `write_hint`: the faulting instruction looks like a write (decoded
    /// when the platform cannot tell); a copy-on-write page it touches
    /// first is then copied at once rather than mapped read-only to fault
    /// again. Only a hint: permissions never depend on it.
    pub fn handle_fault(&self, addr: u64, access: Option<Access>, write_hint: bool) -> Result<bool, FaultError> {
        use FaultError::Segv;
        let mut i = self.write();
        if !i.premap.is_empty() {
            let mut addrs = std::mem::take(&mut i.premap);
            addrs.insert(0, addr);
            self.premap(&mut i, &addrs);
            // Mapped now, unless a write must still break copy-on-write.
            if access.is_none() && i.pma_at(addr).is_some_and(|p| p.mapped.is_some() && !(write_hint && p.cow)) {
                return Ok(true);
            }
        }
        let Some(v) = i.vma_at(addr).cloned() else { return Err(Segv(SEGV_MAPERR)) };
        let allowed = match access {
            _ if v.prot == libc::PROT_NONE => false,
            Some(Access::Write) => v.writable(),
            Some(Access::Exec) => v.prot & libc::PROT_EXEC != 0,
            _ => true,
        };
        if !allowed {
            return Err(Segv(SEGV_ACCERR));
        }
        match i.pma_at(addr).copied() {
            None => {
                if past_eof(&v, addr) {
                    return Err(FaultError::PastEof);
                }
                self.populate(&mut i, &v, addr).map_err(|_| Segv(SEGV_MAPERR))?;
                let p = i.pma_at(addr).copied().ok_or(Segv(SEGV_MAPERR))?;
                self.map_fresh(&mut i, &v, p, addr, write_hint && access.is_none()).map_err(|_| Segv(SEGV_MAPERR))
            }
            Some(p) if p.mapped.is_none() => {
                self.map_fresh(&mut i, &v, p, addr, write_hint && access.is_none()).map_err(|_| Segv(SEGV_MAPERR))
            }
            Some(p) if p.cow && v.writable() && access != Some(Access::Read) => {
                self.break_cow(&mut i, &v, addr).map(|_| false).map_err(|_| Segv(SEGV_MAPERR))
            }
            Some(_) => Err(Segv(SEGV_ACCERR)),
        }
    }

    /// Whether the page of `addr` is present in the application's view
    /// (what a page fault's error code calls present): mapped with some
    /// access, and touched (anonymous memory is mapped before it is).
    pub fn host_present(&self, addr: u64) -> bool {
        let i = self.read();
        let accessible = i.vma_at(addr).is_some_and(|v| v.prot != libc::PROT_NONE);
        let Some(p) = i.pma_at(addr).filter(|p| p.mapped.is_some_and(|prot| prot != libc::PROT_NONE)) else {
            return false;
        };
        accessible && self.mf.resident(p.mf_off + (page_down(addr) - p.start))
    }

    /// Whether the page of `addr` is mapped in the host with some access.
    pub fn host_mapped(&self, addr: u64) -> bool {
        let i = self.read();
        i.pma_at(addr).is_some_and(|p| p.mapped.is_some_and(|prot| prot != libc::PROT_NONE))
    }

    /// Whether `addr` is in an executable mapping.
    pub fn executable(&self, addr: u64) -> bool {
        self.read().vma_at(addr).is_some_and(|v| v.prot & libc::PROT_EXEC != 0)
    }

    /// Makes sure `addr` has pages the sentry may read (or, with `write`,
    /// write) for the application: populates them, and breaks copy-on-write
    /// for a write. EFAULT if the VMA does not allow the access (unless
    /// `force`).
    pub(super) fn fault_in(&self, i: &mut Inner, addr: u64, write: bool, force: bool) -> Result<(), Errno> {
        let v = i.vma_at(addr).cloned().ok_or(Errno::EFAULT)?;
        if !force && !(if write { v.writable() } else { v.readable() }) {
            return Err(Errno::EFAULT);
        }
        if i.pma_at(addr).is_none() {
            self.populate(i, &v, addr)?;
        }
        if write && i.pma_at(addr).is_some_and(|p| p.cow) {
            self.break_cow(i, &v, addr)?;
        }
        Ok(())
    }

    /// Maps pma `p`, just given to a fault at `addr`, into the host; with
    /// `write`, a copy-on-write pma is broken first (so a write does not
    /// fault twice). Returns true: the page is newly mapped.
    fn map_fresh(&self, i: &mut Inner, v: &Vma, p: Pma, addr: u64, write: bool) -> Result<bool, Errno> {
        if write && p.cow && v.writable() {
            self.break_cow(i, v, addr)?;
            let q = i.pma_at(addr).copied().ok_or(Errno::EFAULT)?;
            if q.mapped.is_none() {
                self.map_pma(i, v, q)?;
            }
            return Ok(true);
        }
        self.map_pma(i, v, p)?;
        Ok(true)
    }

    /// Sets what the next fault maps besides its own page: the pages at
    /// `hint` and the start of every mapping (a freshly loaded image: its
    /// code, data, stack and vDSO are all touched at once).
    pub fn premap_image(&self, hint: &[u64]) {
        let mut i = self.write();
        let mut addrs: Vec<u64> = hint.to_vec();
        addrs.extend(i.vmas.values().map(|v| v.start));
        i.premap = addrs;
    }

    /// Gives the pages at `addrs` their pmas (as a fault would, without
    /// copying) and maps those not mapped yet into the host, in one change.
    /// Failures are ignored: a page left out just faults later.
    fn premap(&self, i: &mut Inner, addrs: &[u64]) {
        if i.aspace.is_none() {
            return;
        }
        let mut ops = Vec::with_capacity(addrs.len());
        let mut starts = Vec::with_capacity(addrs.len());
        for &a in addrs {
            let Some(v) = i.vma_at(a).cloned() else { continue };
            if v.prot == libc::PROT_NONE || past_eof(&v, a) {
                continue;
            }
            if i.pma_at(a).is_none() && self.populate(i, &v, a).is_err() {
                continue;
            }
            let Some(p) = i.pma_at(a).copied() else { continue };
            if p.mapped.is_some() || starts.iter().any(|&(s, _)| s == p.start) {
                continue;
            }
            let prot = host_prot(&v, p.cow);
            ops.push(MapOp::Map { addr: p.start, len: p.len(), prot, offset: p.mf_off });
            starts.push((p.start, prot));
        }
        if self.host_apply(i, &ops).is_err() {
            // Some may be mapped: unmap them all, so that the host maps
            // nothing the pmas do not say.
            let undo: Vec<MapOp> = ops
                .iter()
                .filter_map(|op| match *op {
                    MapOp::Map { addr, len, .. } => Some(MapOp::Unmap { addr, len }),
                    _ => None,
                })
                .collect();
            let _ = self.host_apply(i, &undo);
            return;
        }
        for (start, prot) in starts {
            if let Some(q) = i.pmas.get_mut(&start) {
                q.mapped = Some(prot);
            }
        }
    }

    /// Maps pma `p` (clipped to its VMA) into the host, if there is a host
    /// address space.
    fn map_pma(&self, i: &mut Inner, v: &Vma, p: Pma) -> Result<(), Errno> {
        if i.aspace.is_none() {
            return Ok(());
        }
        let prot = host_prot(v, p.cow);
        self.host_apply(i, &[MapOp::Map { addr: p.start, len: p.len(), prot, offset: p.mf_off }])?;
        if let Some(q) = i.pmas.get_mut(&p.start) {
            q.mapped = Some(prot);
        }
        Ok(())
    }

    /// Gives `addr` (in `v`, with no pma yet) its pages: for anonymous
    /// memory, zero pages for the whole hole around it; for a file, the
    /// file's contents for the hole within the aligned [`POPULATE_CHUNK`]
    /// around it.
    pub(super) fn populate(&self, i: &mut Inner, v: &Vma, addr: u64) -> Result<(), Errno> {
        if let Some(f) = v.file.as_ref().filter(|_| v.shared) {
            if let Some(r) = self.populate_shared(i, v, f, addr) {
                return r;
            }
        }
        if let Some(f) = v.file.as_ref().filter(|_| !v.shared) {
            if let Some(key) = f.file.cache_key() {
                return self.populate_cached(i, v, f, key, addr);
            }
        }
        let (lo, hi) = match &v.file {
            None => (v.start, v.end),
            Some(f) => {
                let c = addr & !(POPULATE_CHUNK - 1);
                // Not past the page holding the file's last byte: the pages
                // after it fault (SIGBUS, or EFAULT for the sentry).
                let size = f.file.size()?;
                let eof =
                    v.start.saturating_add(crate::abi::page_up(size.saturating_sub(f.offset)).unwrap_or(u64::MAX));
                (c.max(v.start), (c + POPULATE_CHUNK).min(v.end).min(eof))
            }
        };
        if addr >= hi {
            return Err(Errno::EFAULT);
        }
        let (start, end) = hole(i, addr, lo, hi)?;
        let off = self.mf.allocate(end - start)?;
        if let Some(f) = &v.file {
            let at = VmaFile { file: f.file.clone(), offset: f.offset + (start - v.start) };
            if let Err(e) = self.fill_from_file(off, end - start, &at) {
                self.mf.dec_ref(off, end - start);
                return Err(e);
            }
        }
        i.insert_pma(Pma { start, end, mf_off: off, cow: false, mapped: None });
        Ok(())
    }

    /// `populate` for a shared mapping of a file whose pages are in the
    /// memory file (see [`MappedFile::shared_pages`]): the file's own pages
    /// of the hole within the aligned [`POPULATE_CHUNK`] around `addr`,
    /// each run of consecutive ones a pma holding its own reference.
    /// `None`: the file does not share its pages.
    fn populate_shared(&self, i: &mut Inner, v: &Vma, f: &VmaFile, addr: u64) -> Option<Result<(), Errno>> {
        let _probe = f.file.shared_pages(0, 0)?;
        let size = match f.file.size() {
            Ok(s) => s,
            Err(e) => return Some(Err(e)),
        };
        let c = addr & !(POPULATE_CHUNK - 1);
        let eof = v.start.saturating_add(crate::abi::page_up(size.saturating_sub(f.offset)).unwrap_or(u64::MAX));
        let (lo, hi) = (c.max(v.start), (c + POPULATE_CHUNK).min(v.end).min(eof));
        if addr >= hi {
            return Some(Err(Errno::EFAULT));
        }
        let (start, end) = match hole(i, addr, lo, hi) {
            Ok(h) => h,
            Err(e) => return Some(Err(e)),
        };
        let page = crate::abi::PAGE_SIZE;
        let first = (f.offset + (start - v.start)) / page;
        let pages = match f.file.shared_pages(first, (end - start) / page)? {
            Ok(p) => p,
            Err(e) => return Some(Err(e)),
        };
        let mut k = 0;
        while k < pages.len() {
            let mut j = k + 1;
            while j < pages.len() && pages[j] == pages[j - 1] + page {
                j += 1;
            }
            let run = start + k as u64 * page;
            let len = (j - k) as u64 * page;
            self.mf.inc_ref(pages[k], len);
            i.insert_pma(Pma { start: run, end: run + len, mf_off: pages[k], cow: false, mapped: None });
            k = j;
        }
        Some(Ok(()))
    }

    /// `populate` for a private mapping of an unchanging file: the pages
    /// of the file's aligned [`CACHE_CHUNK`] around `addr` come from the
    /// memory file's page cache, shared copy-on-write (bigger than
    /// [`POPULATE_CHUNK`]: the file is read once, and each chunk costs the
    /// application one fault).
    fn populate_cached(&self, i: &mut Inner, v: &Vma, f: &VmaFile, key: CacheKey, addr: u64) -> Result<(), Errno> {
        let file_off = f.offset + (page_down(addr) - v.start);
        let chunk = file_off & !(CACHE_CHUNK - 1);
        let file_end = crate::abi::page_up(key.size).unwrap_or(u64::MAX);
        if file_off >= file_end {
            return Err(Errno::EFAULT);
        }
        let chunk_len = CACHE_CHUNK.min(file_end - chunk);
        // The chunk's addresses in this VMA.
        let vchunk = v.start.wrapping_add(chunk).wrapping_sub(f.offset);
        let lo = if chunk >= f.offset { vchunk.max(v.start) } else { v.start };
        let hi = (vchunk.wrapping_add(chunk_len)).min(v.end);
        let (start, end) = hole(i, addr, lo, hi)?;
        let within = f.offset + (start - v.start) - chunk;
        let base = self.mf.cached_chunk(key, chunk, chunk_len, (within, end - start), |off| {
            self.fill_from_file(off, chunk_len, &VmaFile { file: f.file.clone(), offset: chunk })
        })?;
        let mf_off = base + within;
        i.insert_pma(Pma { start, end, mf_off, cow: true, mapped: None });
        Ok(())
    }

    /// Fills a fresh memory-file range with a file's contents (zeros past
    /// its end).
    pub(super) fn fill_from_file(&self, mf_off: u64, len: u64, f: &VmaFile) -> Result<(), Errno> {
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

    /// The copy-on-write pmas mapped in the host (read-only) that nobody
    /// else holds any more, in writable private VMAs: (start, length, the
    /// protection to map them with).
    fn exclusive_cow(&self, i: &Inner) -> Vec<(u64, u64, i32)> {
        let mut out = Vec::new();
        for p in i.pmas.values().filter(|p| p.cow && p.mapped.is_some()) {
            let Some(v) = i.vma_at(p.start) else { continue };
            if v.shared || !v.writable() || p.end > v.end || !self.mf.exclusive(p.mf_off, p.len()) {
                continue;
            }
            out.push((p.start, p.len(), host_prot(v, false)));
        }
        out
    }

    /// Breaks copy-on-write at `addr` (in `v`): if nobody else holds the
    /// pages any more, the pma just becomes writable; otherwise the aligned
    /// [`COW_CHUNK`] around `addr` (within the pma) is copied to fresh pages.
    /// The host mapping follows.
    pub(super) fn break_cow(&self, i: &mut Inner, v: &Vma, addr: u64) -> Result<(), Errno> {
        let p = i.pma_at(addr).copied().ok_or(Errno::EFAULT)?;
        if !p.cow {
            return Ok(());
        }
        if self.mf.exclusive(p.mf_off, p.len()) {
            let q = Pma { cow: false, ..p };
            i.pmas.insert(p.start, q);
            if p.mapped.is_some() {
                let prot = host_prot(v, false);
                let mut ops = vec![MapOp::Protect { addr: p.start, len: p.len(), prot }];
                // The other side of a fork is likely gone (it exited or
                // exec'd): every page it shared is this process's alone
                // again, and becomes writable in the same change.
                let swept = self.exclusive_cow(i);
                ops.extend(swept.iter().map(|&(addr, len, prot)| MapOp::Protect { addr, len, prot }));
                if let Err(e) = self.host_apply(i, &coalesce(ops)) {
                    // Some may have become writable: make them all
                    // read-only again, as the pmas say.
                    let undo: Vec<MapOp> = swept
                        .iter()
                        .map(|&(addr, len, prot)| MapOp::Protect { addr, len, prot: prot & !libc::PROT_WRITE })
                        .collect();
                    let _ = self.host_apply(i, &undo);
                    return Err(e);
                }
                if let Some(r) = i.pmas.get_mut(&p.start) {
                    r.mapped = Some(prot);
                }
                for (addr, _, prot) in swept {
                    if let Some(r) = i.pmas.get_mut(&addr) {
                        r.cow = false;
                        r.mapped = Some(prot);
                    }
                }
            }
            return Ok(());
        }
        let c = addr & !(COW_CHUNK - 1);
        let (start, end) = (c.max(p.start).max(v.start), (c + COW_CHUNK).min(p.end).min(v.end));
        let len = end - start;
        let old = p.mf_off + (start - p.start);
        let new = self.mf.allocate(len)?;
        self.mf.copy(old, new, len);
        let mut mid = Pma { start, end, mf_off: new, cow: false, mapped: None };
        if p.mapped.is_some() {
            let prot = host_prot(v, false);
            if let Err(e) = self.host_apply(i, &[MapOp::Map { addr: start, len, prot, offset: new }]) {
                self.mf.dec_ref(new, len);
                return Err(e);
            }
            mid.mapped = Some(prot);
        }
        i.pmas.remove(&p.start);
        if p.start < start {
            i.pmas.insert(p.start, p.slice(p.start, start));
        }
        if end < p.end {
            i.pmas.insert(end, p.slice(end, p.end));
        }
        i.insert_pma(mid);
        self.mf.dec_ref(old, len);
        Ok(())
    }
}

impl MemoryManager {
    /// For the debug log: the VMA and pma at `addr`, the memory-file offset
    /// of its page and that page's reference count.
    pub fn describe_page(&self, addr: u64) -> String {
        let i = self.read();
        let Some(v) = i.vma_at(addr) else { return format!("{addr:#x}: no vma") };
        let Some(p) = i.pma_at(addr) else {
            return format!("{addr:#x}: vma {:#x}-{:#x} prot {}, no pma", v.start, v.end, v.prot);
        };
        let off = p.mf_off + (page_down(addr) - p.start);
        format!(
            "{addr:#x}: vma {:#x}-{:#x} prot {}; pma {:#x}-{:#x} mf {:#x} cow {} mapped {:?}; page mf {off:#x} refs {}",
            v.start,
            v.end,
            v.prot,
            p.start,
            p.end,
            p.mf_off,
            p.cow,
            p.mapped,
            self.mf.refs(off)
        )
    }

    /// For the debug log: pmas of pages that are free in the memory file
    /// (freed while still mapped here).
    pub fn audit_pages(&self) -> Vec<String> {
        let i = self.read();
        let mut out = Vec::new();
        for p in i.pmas.values() {
            let mut a = p.start;
            while a < p.end {
                let off = p.mf_off + (a - p.start);
                if self.mf.refs(off) == 0 {
                    let v = i.vma_at(a).map(|v| (v.start, v.end, v.prot, v.file.is_some(), v.shared));
                    out.push(format!(
                        "page {a:#x} mf {off:#x} free; pma {:#x}-{:#x} cow {} vma {v:x?}",
                        p.start, p.end, p.cow
                    ));
                }
                a += crate::abi::PAGE_SIZE;
            }
        }
        out
    }
}
