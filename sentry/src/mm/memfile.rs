//! The memory file: one memfd from which all application memory is
//! allocated. The sentry maps it whole and reads and writes application memory
//! through that mapping; stubs map ranges of it where the application sees
//! them.
//!
//! Ranges are reference-counted page runs: an allocation starts with one
//! reference; `fork` takes another on every private range the child shares
//! copy-on-write and every shared one; a range whose count drops to zero is
//! returned to the host by punching a hole and reused.
//!
//! With a file store (`--overlay2=root:self` or a host directory), a
//! second file, which runsc made in a host directory, backs the offsets
//! from [`STORE_BASE`] on: the overlay's upper layer keeps its data there
//! instead of in sandbox memory. The sentry maps it right after the memfd,
//! so one offset space and one pointer rule cover both; platforms map it
//! from its own fd.

use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, MutexGuard};

use crate::abi::{Errno, PAGE_SIZE};

/// Size of the (sparse) memory file.
pub const MEMORY_FILE_SIZE: u64 = 64 << 30;
/// Where the file store's offsets begin (it is as large as the memfd).
pub const STORE_BASE: u64 = MEMORY_FILE_SIZE;

/// The memory file, its allocator and reference counts.
pub struct MemoryFile {
    fd: OwnedFd,
    base: *mut u8,
    size: u64,
    alloc: Mutex<Allocator>,
    cache: Mutex<PageCache>,
    /// The file store, if any, and its allocator.
    store: Option<(OwnedFd, Mutex<Allocator>)>,
}

/// Chunks of unchanging files, read once and shared by every private
/// mapping of them (copy-on-write): (file version, chunk offset) to the
/// chunk's pages and length. The cache holds a reference on each.
#[derive(Default)]
struct PageCache {
    chunks: std::collections::HashMap<(crate::mm::CacheKey, u64), (u64, u64)>,
    bytes: u64,
}

/// The most the page cache keeps before it starts over.
const PAGE_CACHE_LIMIT: u64 = 512 << 20;

// SAFETY: `base` points to a MAP_SHARED mapping that lives as long as the
// MemoryFile; all access goes through methods that bounds-check offsets, and
// the bytes are plain data that any thread may read or write.
unsafe impl Send for MemoryFile {}
// SAFETY: as above; the allocator is behind a Mutex.
unsafe impl Sync for MemoryFile {}

#[derive(Default)]
struct Allocator {
    /// One past the last offset it may hand out (0: the memfd's size).
    limit: u64,
    /// The container's memory limit (0: none), shown as the sandbox's
    /// total memory.
    memory_limit: u64,
    /// Free ranges below `bump`: start -> length.
    free: BTreeMap<u64, u64>,
    /// Everything at or above is unallocated.
    bump: u64,
    /// Allocated ranges: start -> (end, reference count). Segments do not
    /// overlap; together they cover exactly the allocated bytes.
    refs: BTreeMap<u64, (u64, u32)>,
    /// Bytes allocated.
    used: u64,
}

impl Allocator {
    /// Splits the reference segment containing `at` (if any) so that a
    /// segment starts at `at`.
    fn split_at(&mut self, at: u64) {
        let Some((&s, &(e, c))) = self.refs.range(..at).next_back() else { return };
        if s < at && at < e {
            self.refs.insert(s, (at, c));
            self.refs.insert(at, (e, c));
        }
    }

    /// Merges the segment at `s` with its neighbours of equal count.
    fn merge_around(&mut self, s: u64) {
        let Some(&(e, c)) = self.refs.get(&s) else { return };
        let (mut s, mut e) = (s, e);
        if let Some((&ps, &(pe, pc))) = self.refs.range(..s).next_back() {
            if pe == s && pc == c {
                self.refs.remove(&s);
                s = ps;
                self.refs.insert(s, (e, c));
            }
        }
        if let Some(&(ne, nc)) = self.refs.get(&e) {
            if nc == c {
                self.refs.remove(&e);
                e = ne;
                self.refs.insert(s, (e, c));
            }
        }
    }

    fn release(&mut self, off: u64, len: u64) {
        let (mut s, mut l) = (off, len);
        if let Some((&ps, &pl)) = self.free.range(..s).next_back() {
            if ps + pl == s {
                self.free.remove(&ps);
                s = ps;
                l += pl;
            }
        }
        if let Some(&nl) = self.free.get(&(s + l)) {
            self.free.remove(&(s + l));
            l += nl;
        }
        if s + l == self.bump {
            self.bump = s;
        } else {
            self.free.insert(s, l);
        }
        self.used -= len;
    }
}

impl MemoryFile {
    /// Creates the memfd and maps it into the sentry.
    pub fn new() -> Result<MemoryFile, Errno> {
        Self::with_store(None)
    }

    /// Creates the memfd and maps it, with `store` (a regular file, made
    /// empty for the purpose) backing the offsets from [`STORE_BASE`].
    pub fn with_store(store: Option<OwnedFd>) -> Result<MemoryFile, Errno> {
        // SAFETY: the name is a NUL-terminated literal.
        let fd = unsafe { libc::memfd_create(c"runsc-memory".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(Errno::last_host());
        }
        // SAFETY: memfd_create returned a fresh fd that we now own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let files: Vec<i32> = std::iter::once(fd.as_raw_fd()).chain(store.as_ref().map(|s| s.as_raw_fd())).collect();
        for &f in &files {
            // SAFETY: ftruncate on a file we own.
            if unsafe { libc::ftruncate(f, MEMORY_FILE_SIZE as i64) } != 0 {
                return Err(Errno::last_host());
            }
        }
        let size = MEMORY_FILE_SIZE * files.len() as u64;
        // SAFETY: a fresh reservation of address space, checked below; the
        // files are mapped over it.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size as usize,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(Errno::last_host());
        }
        for (i, &f) in files.iter().enumerate() {
            // SAFETY: replaces part of the reservation just made (MAP_FIXED
            // within it) with a shared mapping of our own file.
            let q = unsafe {
                libc::mmap(
                    (p as *mut u8).add(i * MEMORY_FILE_SIZE as usize).cast(),
                    MEMORY_FILE_SIZE as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_SHARED | libc::MAP_NORESERVE | libc::MAP_FIXED,
                    f,
                    0,
                )
            };
            if q == libc::MAP_FAILED {
                let e = Errno::last_host();
                // SAFETY: unmapping the reservation made above.
                unsafe { libc::munmap(p, size as usize) };
                return Err(e);
            }
        }
        let store = store.map(|f| {
            let a = Allocator { limit: STORE_BASE + MEMORY_FILE_SIZE, bump: STORE_BASE, ..Allocator::default() };
            (f, Mutex::new(a))
        });
        Ok(MemoryFile {
            fd,
            base: p as *mut u8,
            size,
            alloc: Mutex::new(Allocator { limit: MEMORY_FILE_SIZE, ..Allocator::default() }),
            cache: Mutex::new(PageCache::default()),
            store,
        })
    }

    /// The file store's fd, for platforms to map offsets from
    /// [`STORE_BASE`] (`None`: everything is in the memfd).
    pub fn store_fd(&self) -> Option<i32> {
        self.store.as_ref().map(|(f, _)| f.as_raw_fd())
    }

    /// A range that crosses [`STORE_BASE`], as its two sides.
    fn split_store(off: u64, len: u64) -> Option<((u64, u64), (u64, u64))> {
        (off < STORE_BASE && off + len > STORE_BASE)
            .then(|| ((off, STORE_BASE - off), (STORE_BASE, off + len - STORE_BASE)))
    }

    /// The allocator that owns `off`.
    fn lock_for(&self, off: u64) -> MutexGuard<'_, Allocator> {
        match &self.store {
            Some((_, a)) if off >= STORE_BASE => a.lock().unwrap_or_else(|e| e.into_inner()),
            _ => self.lock(),
        }
    }

    /// Allocates `len` bytes in the file store if there is one (the
    /// overlay's upper layer), else as [`allocate`](Self::allocate).
    pub fn allocate_stored(&self, len: u64) -> Result<u64, Errno> {
        match &self.store {
            Some((_, a)) => Self::allocate_from(&mut a.lock().unwrap_or_else(|e| e.into_inner()), len),
            None => self.allocate(len),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Allocator> {
        self.alloc.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The memfd, for platforms to map.
    pub fn fd(&self) -> i32 {
        self.fd.as_raw_fd()
    }

    /// Records the container's memory limit (0: none), which the sandbox
    /// shows as its total memory (/proc/meminfo, sysinfo). The host cgroup
    /// holds the sandbox to it: allocations here are address space, made
    /// resident by the host as pages are touched, so it is the host that
    /// counts them.
    pub fn set_memory_limit(&self, bytes: u64) {
        self.lock().memory_limit = bytes;
    }

    /// The limit [`set_memory_limit`](Self::set_memory_limit) recorded (0: none).
    pub fn memory_limit(&self) -> u64 {
        self.lock().memory_limit
    }

    /// Bytes of sandbox memory resident now (pages touched and not freed).
    pub fn resident_total(&self) -> u64 {
        let end = self.lock().bump;
        self.resident_bytes(0, end)
    }

    /// Bytes allocated in sandbox memory (the file store not counted).
    pub fn used(&self) -> u64 {
        self.lock().used
    }

    /// Bytes allocated in the file store.
    pub fn stored(&self) -> u64 {
        self.store.as_ref().map_or(0, |(_, a)| a.lock().unwrap_or_else(|e| e.into_inner()).used)
    }

    /// Allocates `len` bytes (a page multiple) with one reference. The range
    /// reads as zeros.
    pub fn allocate(&self, len: u64) -> Result<u64, Errno> {
        Self::allocate_from(&mut self.lock(), len)
    }

    fn allocate_from(a: &mut Allocator, len: u64) -> Result<u64, Errno> {
        debug_assert!(len.is_multiple_of(PAGE_SIZE) && len > 0);
        let found = a.free.iter().find(|(_, &l)| l >= len).map(|(&s, &l)| (s, l));
        let s = if let Some((s, l)) = found {
            a.free.remove(&s);
            if l > len {
                a.free.insert(s + len, l - len);
            }
            s
        } else {
            if a.bump.checked_add(len).is_none_or(|e| e > a.limit) {
                return Err(Errno::ENOMEM);
            }
            let s = a.bump;
            a.bump += len;
            s
        };
        a.refs.insert(s, (s + len, 1));
        a.merge_around(s);
        a.used += len;
        Ok(s)
    }

    /// Takes another reference on `[off, off+len)`, which is allocated.
    pub fn inc_ref(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        if let Some((a, b)) = Self::split_store(off, len) {
            self.inc_ref(a.0, a.1);
            return self.inc_ref(b.0, b.1);
        }
        let end = off + len;
        let mut a = self.lock_for(off);
        a.split_at(off);
        a.split_at(end);
        let keys: Vec<u64> = a.refs.range(off..end).map(|(&k, _)| k).collect();
        for k in &keys {
            if let Some(seg) = a.refs.get_mut(k) {
                seg.1 += 1;
            }
        }
        for k in keys {
            a.merge_around(k);
        }
    }

    /// Drops a reference on `[off, off+len)`; parts no longer referenced are
    /// freed (their pages go back to the host).
    pub fn dec_ref(&self, off: u64, len: u64) {
        if len == 0 {
            return;
        }
        if let Some((a, b)) = Self::split_store(off, len) {
            self.dec_ref(a.0, a.1);
            return self.dec_ref(b.0, b.1);
        }
        let end = off + len;
        let mut freed = Vec::new();
        {
            let mut a = self.lock_for(off);
            a.split_at(off);
            a.split_at(end);
            let segs: Vec<(u64, u64, u32)> = a.refs.range(off..end).map(|(&s, &(e, c))| (s, e, c)).collect();
            // Every count changes before any segment merges: a merge
            // joins a neighbour not yet visited, whose copy in `segs`
            // would then be stale.
            let mut kept = Vec::with_capacity(segs.len());
            for (s, e, c) in segs {
                if c <= 1 {
                    a.refs.remove(&s);
                    freed.push((s, e - s));
                } else {
                    a.refs.insert(s, (e, c - 1));
                    kept.push(s);
                }
            }
            for s in kept {
                a.merge_around(s);
            }
        }
        // Punch outside the lock: it is a host call.
        for &(s, l) in &freed {
            self.zero(s, l);
        }
        let mut a = self.lock_for(off);
        for (s, l) in freed {
            a.release(s, l);
        }
    }

    /// Whether every page of `[off, off+len)` has exactly one reference (the
    /// caller's): copy-on-write has nothing left to copy for.
    pub fn exclusive(&self, off: u64, len: u64) -> bool {
        if let Some((a, b)) = Self::split_store(off, len) {
            return self.exclusive(a.0, a.1) && self.exclusive(b.0, b.1);
        }
        let end = off + len;
        let a = self.lock_for(off);
        let mut cur = off;
        if let Some((_, &(e, c))) = a.refs.range(..=off).next_back() {
            if e > off {
                if c != 1 {
                    return false;
                }
                cur = e;
            }
        }
        if cur >= end {
            return true;
        }
        for (_, &(e, c)) in a.refs.range(cur..end) {
            if c != 1 {
                return false;
            }
            cur = e;
        }
        cur >= end
    }

    /// The reference count of the page at `off` (0: free); for the debug
    /// log.
    pub fn refs(&self, off: u64) -> u32 {
        let a = self.lock_for(off);
        a.refs.range(..=off).next_back().filter(|(_, &(e, _))| e > off).map_or(0, |(_, &(_, c))| c)
    }

    /// Faults `[off, off+len)` in for writing in one host call
    /// (MADV_POPULATE_WRITE), so that filling it takes no page faults; a
    /// hint (older hosts lack it).
    pub fn populate(&self, off: u64, len: u64) {
        const MADV_POPULATE_WRITE: i32 = 23;
        if len == 0 {
            return;
        }
        if let Some(p) = self.ptr(off, len) {
            // SAFETY: the range lies within our shared mapping of the file
            // (checked by `ptr`); populating changes no contents.
            unsafe { libc::madvise(p.cast(), len as usize, MADV_POPULATE_WRITE) };
        }
    }

    /// Makes a range read as zeros again, releasing its pages to the host.
    pub fn zero(&self, off: u64, len: u64) {
        let (fd, at) = match &self.store {
            Some((f, _)) if off >= STORE_BASE => (f.as_raw_fd(), off - STORE_BASE),
            _ => (self.fd.as_raw_fd(), off),
        };
        // SAFETY: fallocate on our own fd; a failure leaves the data in place,
        // which we then zero by hand.
        let r = unsafe {
            libc::fallocate(fd, libc::FALLOC_FL_PUNCH_HOLE | libc::FALLOC_FL_KEEP_SIZE, at as i64, len as i64)
        };
        if r != 0 {
            if let Some(p) = self.ptr(off, len) {
                // SAFETY: `ptr` checked the range lies within the mapping.
                unsafe { std::ptr::write_bytes(p, 0, len as usize) };
            }
        }
    }

    /// A pointer to `len` bytes at `off` in the sentry's mapping, or `None`
    /// if out of bounds. The bytes may be changed concurrently by the
    /// application; treat them as shared memory.
    pub fn ptr(&self, off: u64, len: u64) -> Option<*mut u8> {
        if off.checked_add(len)? > self.size {
            return None;
        }
        // SAFETY: `off` is within the mapping (checked above).
        Some(unsafe { self.base.add(off as usize) })
    }

    /// The cached pages of chunk `chunk` of file version `key` (`len`
    /// bytes), filling them with `fill` the first time. Returns their
    /// offset, with a reference taken for the caller on `take` (an offset
    /// and length within the chunk) while the cache still holds its own:
    /// an eviction by another thread cannot free them first.
    pub fn cached_chunk(
        &self,
        key: crate::mm::CacheKey,
        chunk: u64,
        len: u64,
        take: (u64, u64),
        fill: impl FnOnce(u64) -> Result<(), Errno>,
    ) -> Result<u64, Errno> {
        debug_assert!(take.0 + take.1 <= len);
        let mut c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&(off, l)) = c.chunks.get(&(key, chunk)) {
            if l == len {
                self.inc_ref(off + take.0, take.1);
                return Ok(off);
            }
        }
        if c.bytes + len > PAGE_CACHE_LIMIT {
            // Start over: mappings keep their own references.
            for (_, (off, l)) in c.chunks.drain() {
                self.dec_ref(off, l);
            }
            c.bytes = 0;
        }
        let off = self.allocate(len)?;
        if let Err(e) = fill(off) {
            self.dec_ref(off, len);
            return Err(e);
        }
        if let Some((old, l)) = c.chunks.insert((key, chunk), (off, len)) {
            self.dec_ref(old, l);
            c.bytes -= l;
        }
        c.bytes += len;
        self.inc_ref(off + take.0, take.1);
        Ok(off)
    }

    /// Whether the page at `off` has been touched (the host allocated it).
    pub fn resident(&self, off: u64) -> bool {
        let off = off & !(crate::abi::PAGE_SIZE - 1);
        let Some(p) = self.ptr(off, crate::abi::PAGE_SIZE) else { return false };
        let mut vec = 0u8;
        // SAFETY: `p` is a page-aligned address of our mapping of the file,
        // one page long; mincore writes one byte to `vec`.
        let r = unsafe { libc::mincore(p.cast(), crate::abi::PAGE_SIZE as usize, &mut vec) };
        r == 0 && vec & 1 != 0
    }

    /// How many bytes of `[off, off+len)` (page-aligned) have pages in the
    /// host (were touched since allocated).
    pub fn resident_bytes(&self, off: u64, len: u64) -> u64 {
        const CHUNK: usize = 4096;
        let page = crate::abi::PAGE_SIZE;
        let mut vec = [0u8; CHUNK];
        let mut total = 0u64;
        let mut at = off & !(page - 1);
        let end = off + len;
        while at < end {
            let n = (((end - at).div_ceil(page)) as usize).min(CHUNK);
            let Some(p) = self.ptr(at, n as u64 * page) else { break };
            // SAFETY: `p` is a page-aligned address of our mapping of the
            // file, `n` pages long (checked by `ptr`); mincore writes one byte
            // per page to `vec`, which has room for `n`.
            let r = unsafe { libc::mincore(p.cast(), n * page as usize, vec.as_mut_ptr()) };
            if r != 0 {
                break;
            }
            total += vec[..n].iter().filter(|&&b| b & 1 != 0).count() as u64 * page;
            at += n as u64 * page;
        }
        total
    }

    /// Copies bytes out of the file.
    pub fn read(&self, off: u64, dst: &mut [u8]) {
        let p = self.ptr(off, dst.len() as u64).expect("memory file offset in bounds");
        // SAFETY: `p` is valid for `dst.len()` bytes; `dst` is sentry memory
        // that cannot overlap the mapping.
        unsafe { std::ptr::copy_nonoverlapping(p, dst.as_mut_ptr(), dst.len()) };
    }

    /// Copies bytes into the file.
    pub fn write(&self, off: u64, src: &[u8]) {
        let p = self.ptr(off, src.len() as u64).expect("memory file offset in bounds");
        // SAFETY: as in `read`.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), p, src.len()) };
    }

    /// Copies `len` bytes within the file.
    pub fn copy(&self, from: u64, to: u64, len: u64) {
        let (src, dst) = (self.ptr(from, len), self.ptr(to, len));
        if let (Some(s), Some(d)) = (src, dst) {
            // SAFETY: both ranges are within the mapping; `copy` handles overlap.
            unsafe { std::ptr::copy(s, d, len as usize) };
        }
    }
}

impl Drop for MemoryFile {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `new`; nothing borrows it past
        // the MemoryFile's life.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size as usize) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks the allocator's structure: reference segments do not
    /// overlap, have counts of at least one, and neither overlap the free
    /// ranges nor reach the bump offset; `used` is what they cover.
    fn check_structure(mf: &MemoryFile) {
        let a = mf.lock();
        let mut end = 0;
        let mut covered = 0;
        for (&s, &(e, c)) in &a.refs {
            assert!(s >= end && e > s && c >= 1, "segment {s:#x}-{e:#x} count {c} after {end:#x}");
            assert!(e <= a.bump, "segment {s:#x}-{e:#x} past bump {:#x}", a.bump);
            assert!(a.free.range(..e).next_back().is_none_or(|(&fs, &fl)| fs + fl <= s || fs >= e));
            covered += e - s;
            end = e;
        }
        assert_eq!(covered, a.used);
    }

    /// Random allocations and reference changes against a model of every
    /// page's count.
    #[test]
    fn reference_counts_match_a_model() {
        const PAGES: usize = 64;
        let page = 4096u64;
        let mf = MemoryFile::new().unwrap();
        let mut model = vec![0u32; PAGES];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for step in 0..20_000 {
            let live: Vec<usize> = (0..PAGES).filter(|&p| model[p] > 0).collect();
            match next(3) {
                0 => {
                    let n = 1 + next(6);
                    let Ok(off) = mf.allocate(n as u64 * page) else { continue };
                    let first = (off / page) as usize;
                    if first + n > PAGES {
                        mf.dec_ref(off, n as u64 * page);
                        continue;
                    }
                    for m in &mut model[first..first + n] {
                        assert_eq!(*m, 0, "step {step}: allocated a live page");
                        *m = 1;
                    }
                }
                op if !live.is_empty() => {
                    // A run of live pages.
                    let first = live[next(live.len())];
                    let mut n = 1;
                    while n < 8 && first + n < PAGES && model[first + n] > 0 && next(4) != 0 {
                        n += 1;
                    }
                    let (off, len) = (first as u64 * page, n as u64 * page);
                    if op == 1 {
                        mf.inc_ref(off, len);
                        model[first..first + n].iter_mut().for_each(|m| *m += 1);
                    } else {
                        mf.dec_ref(off, len);
                        model[first..first + n].iter_mut().for_each(|m| *m -= 1);
                    }
                }
                _ => continue,
            }
            check_structure(&mf);
            for (p, &m) in model.iter().enumerate() {
                assert_eq!(mf.refs(p as u64 * page), m, "step {step}: page {p}");
            }
            let used = model.iter().filter(|&&m| m > 0).count() as u64 * page;
            assert_eq!(mf.used(), used, "step {step}");
        }
    }

    #[test]
    fn allocate_free_coalesce() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(4096).unwrap();
        let b = mf.allocate(8192).unwrap();
        let c = mf.allocate(4096).unwrap();
        assert_eq!((a, b, c), (0, 4096, 12288));
        mf.write(b, b"hello");
        mf.dec_ref(a, 4096);
        mf.dec_ref(b, 8192);
        let d = mf.allocate(12288).unwrap();
        assert_eq!(d, 0);
        let mut buf = [1u8; 5];
        mf.read(4096, &mut buf);
        assert_eq!(buf, [0; 5], "freed memory reads as zero");
    }

    #[test]
    fn references_keep_ranges_alive() {
        let mf = MemoryFile::new().unwrap();
        let a = mf.allocate(4 * 4096).unwrap();
        assert!(mf.exclusive(a, 4 * 4096));
        mf.inc_ref(a + 4096, 2 * 4096);
        assert!(!mf.exclusive(a, 4 * 4096));
        assert!(mf.exclusive(a, 4096));
        mf.write(a + 4096, b"kept");
        // The first and last pages go; the middle two stay referenced.
        mf.dec_ref(a, 4 * 4096);
        assert_eq!(mf.used(), 2 * 4096);
        let mut buf = [0u8; 4];
        mf.read(a + 4096, &mut buf);
        assert_eq!(&buf, b"kept");
        assert!(mf.exclusive(a + 4096, 2 * 4096));
        mf.dec_ref(a + 4096, 2 * 4096);
        assert_eq!(mf.used(), 0);
    }
}
