//! A volume's shared state: the pipes of its FIFOs, and page caches of
//! its files for shared mappings. A volume's files are
//! the host's, read and written through donated host fds; a shared
//! mapping cannot map those (the sentry owns application memory), so the
//! file pages a shared mapping touches are read into memory-file pages
//! that every mapping of the file maps, and that `read` and `write` of the
//! file see and update: one page cache per host file, shared by every
//! open file of it in the sandbox. Pages a writable shared mapping may
//! have changed go back to the host file on msync, fsync and the last
//! close (a mapping keeps its file open), as Linux writes a shared
//! mapping back; changes the host makes to cached pages meanwhile are not
//! seen.

use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::{Errno, PAGE_SIZE};
use crate::fs::pipe::Pipe;
use crate::mm::MemoryFile;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A volume: its memory file and the page caches of its files by host
/// (device, inode).
pub struct Volume {
    mf: Arc<MemoryFile>,
    slots: Mutex<HashMap<(u64, u64), Weak<PageCache>>>,
    /// The pipes of the volume's FIFOs by host (device, inode), while open.
    fifos: Mutex<HashMap<(u64, u64), Weak<Pipe>>>,
}

impl Volume {
    /// A volume whose caches live in `mf`.
    pub fn new(mf: Arc<MemoryFile>) -> Arc<Volume> {
        Arc::new(Volume { mf, slots: Mutex::new(HashMap::new()), fifos: Mutex::new(HashMap::new()) })
    }

    /// The pipe of the volume's FIFO (`dev`, `ino`): one for all its
    /// openers in the sandbox, made afresh once every end closed.
    pub fn fifo(&self, dev: u64, ino: u64) -> Arc<Pipe> {
        let mut fifos = lock(&self.fifos);
        if let Some(p) = fifos.get(&(dev, ino)).and_then(Weak::upgrade) {
            return p;
        }
        fifos.retain(|_, w| w.strong_count() > 0);
        let p = crate::fs::pipe::new_fifo();
        fifos.insert((dev, ino), Arc::downgrade(&p));
        p
    }

    /// The page cache of host file (`dev`, `ino`), shared by its open files.
    pub fn cache(&self, dev: u64, ino: u64) -> Arc<PageCache> {
        let mut slots = lock(&self.slots);
        if let Some(c) = slots.get(&(dev, ino)).and_then(Weak::upgrade) {
            return c;
        }
        if slots.len() >= 64 {
            slots.retain(|_, w| w.strong_count() > 0);
        }
        let c = Arc::new(PageCache {
            mf: self.mf.clone(),
            pages: Mutex::new(BTreeMap::new()),
            any: AtomicBool::new(false),
            writer: Mutex::new(None),
        });
        slots.insert((dev, ino), Arc::downgrade(&c));
        c
    }

    /// The page cache of (`dev`, `ino`) if a file of it is open.
    pub fn existing(&self, dev: u64, ino: u64) -> Option<Arc<PageCache>> {
        lock(&self.slots).get(&(dev, ino)).and_then(Weak::upgrade)
    }
}

/// The cached pages of one host file.
pub struct PageCache {
    mf: Arc<MemoryFile>,
    /// File page index to memory-file offset (one reference each).
    pages: Mutex<BTreeMap<u64, u64>>,
    /// Some page is cached (reads and writes skip the cache otherwise).
    any: AtomicBool,
    /// A writable fd of the file, once a writable file shared its pages:
    /// the pages may then differ from the host's and are written back.
    writer: Mutex<Option<Arc<OwnedFd>>>,
}

impl PageCache {
    /// The memory-file offsets of file pages `first..first + count`, read
    /// from `fd` where not cached yet (zeros past the end of the file).
    pub fn pages(&self, fd: &OwnedFd, first: u64, count: u64) -> Result<Vec<u64>, Errno> {
        let mut pages = lock(&self.pages);
        let mut out = Vec::with_capacity(count as usize);
        for index in first..first.checked_add(count).ok_or(Errno::EINVAL)? {
            if let Some(&p) = pages.get(&index) {
                out.push(p);
                continue;
            }
            let p = self.mf.allocate(PAGE_SIZE)?;
            let dst = self.mf.ptr(p, PAGE_SIZE).ok_or(Errno::ENOMEM)?;
            let mut done = 0usize;
            while done < PAGE_SIZE as usize {
                // SAFETY: `dst` is valid for a page of the sentry's mapping
                // of the memory file, a page just allocated that nothing
                // maps yet; pread writes at most the rest of it.
                let r = unsafe {
                    libc::pread(
                        fd.as_raw_fd(),
                        dst.add(done).cast(),
                        PAGE_SIZE as usize - done,
                        (index * PAGE_SIZE + done as u64) as i64,
                    )
                };
                if r < 0 && Errno::last_host() == Errno::EINTR {
                    continue;
                }
                if r < 0 {
                    let e = Errno::last_host();
                    self.mf.dec_ref(p, PAGE_SIZE);
                    return Err(e);
                }
                if r == 0 {
                    break;
                }
                done += r as usize;
            }
            pages.insert(index, p);
            out.push(p);
        }
        self.any.store(!pages.is_empty(), Ordering::Release);
        Ok(out)
    }

    /// A file open for writing through `fd` shared the pages: a mapping
    /// may change them.
    pub fn set_writer(&self, fd: Arc<OwnedFd>) {
        let mut w = lock(&self.writer);
        if w.is_none() {
            *w = Some(fd);
        }
    }

    /// Calls `each(page offset in the memory file, offset in the page,
    /// offset in the range, length)` for the cached parts of the file range
    /// `[off, off + len)`.
    fn each_cached(&self, off: u64, len: u64, mut each: impl FnMut(u64, u64, usize, usize)) {
        if len == 0 || !self.any.load(Ordering::Acquire) {
            return;
        }
        let end = off.saturating_add(len);
        let pages = lock(&self.pages);
        for (&index, &p) in pages.range(off / PAGE_SIZE..end.div_ceil(PAGE_SIZE)) {
            let start = (index * PAGE_SIZE).max(off);
            let stop = ((index + 1) * PAGE_SIZE).min(end);
            each(p, start - index * PAGE_SIZE, (start - off) as usize, (stop - start) as usize);
        }
    }

    /// `buf` was read from the host at `off`: cached pages, which mappings
    /// may have changed, are what the file holds there.
    pub fn overlay(&self, buf: &mut [u8], off: u64) {
        self.each_cached(off, buf.len() as u64, |p, in_page, at, n| {
            self.mf.read(p + in_page, &mut buf[at..at + n]);
        });
    }

    /// `buf` was written to the host at `off`: cached pages take it too.
    pub fn update(&self, buf: &[u8], off: u64) {
        self.each_cached(off, buf.len() as u64, |p, in_page, at, n| {
            self.mf.write(p + in_page, &buf[at..at + n]);
        });
    }

    /// The file was truncated to `size`: pages wholly past it leave the
    /// cache (mappings keep theirs) and the last page's tail reads as
    /// zeros.
    pub fn truncate(&self, size: u64) {
        let mut pages = lock(&self.pages);
        let gone: Vec<u64> = pages.range(size.div_ceil(PAGE_SIZE)..).map(|(&i, _)| i).collect();
        for i in gone {
            if let Some(p) = pages.remove(&i) {
                self.mf.dec_ref(p, PAGE_SIZE);
            }
        }
        if !size.is_multiple_of(PAGE_SIZE) {
            if let Some(&p) = pages.get(&(size / PAGE_SIZE)) {
                let in_page = size % PAGE_SIZE;
                self.mf.write(p + in_page, &vec![0u8; (PAGE_SIZE - in_page) as usize]);
            }
        }
        self.any.store(!pages.is_empty(), Ordering::Release);
    }

    /// Writes the cached pages back to the host file, up to its size, if
    /// a writable mapping may have changed them.
    pub fn write_back(&self) -> Result<(), Errno> {
        let Some(fd) = lock(&self.writer).clone() else { return Ok(()) };
        // SAFETY: stat is plain data; zeroed is valid.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        // SAFETY: fstat on an fd we hold into a valid out-pointer.
        if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
            return Err(Errno::last_host());
        }
        let size = st.st_size as u64;
        let pages = lock(&self.pages);
        for (&index, &p) in pages.range(..size.div_ceil(PAGE_SIZE)) {
            let at = index * PAGE_SIZE;
            let len = PAGE_SIZE.min(size - at) as usize;
            let src = self.mf.ptr(p, PAGE_SIZE).ok_or(Errno::EIO)?;
            let mut done = 0usize;
            while done < len {
                // SAFETY: `src` is valid for a page of the sentry's mapping of
                // the memory file, a page this cache holds a reference on;
                // pwrite only reads it.
                let r = unsafe {
                    libc::pwrite(fd.as_raw_fd(), src.add(done).cast(), len - done, (at + done as u64) as i64)
                };
                if r < 0 && Errno::last_host() == Errno::EINTR {
                    continue;
                }
                if r <= 0 {
                    return Err(if r < 0 { Errno::last_host() } else { Errno::EIO });
                }
                done += r as usize;
            }
        }
        Ok(())
    }
}

impl Drop for PageCache {
    fn drop(&mut self) {
        let _ = self.write_back();
        for (_, p) in std::mem::take(&mut *lock(&self.pages)) {
            self.mf.dec_ref(p, PAGE_SIZE);
        }
    }
}
