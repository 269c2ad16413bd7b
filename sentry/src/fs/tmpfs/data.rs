//! A tmpfs regular file's contents: pages of the memory file, allocated as
//! they are first written (holes read as zeros), so file data is charged to
//! the sandbox's memory like the application's own.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::abi::{Errno, PAGE_SIZE};
use crate::mm::MemoryFile;

/// The pages and size of one file.
pub struct FileData {
    mf: Arc<MemoryFile>,
    /// Pages come from the memory file's file store.
    stored: bool,
    /// Page index -> offset of its page in the memory file.
    pages: BTreeMap<u64, u64>,
    /// Size in bytes.
    pub size: u64,
}

impl FileData {
    /// An empty file; `stored`: its pages go to the memory file's file
    /// store, if there is one.
    pub fn new(mf: Arc<MemoryFile>, stored: bool) -> FileData {
        FileData { mf, stored, pages: BTreeMap::new(), size: 0 }
    }

    /// Pages allocated.
    pub fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// Reads at `off`; returns the bytes read (0 at or past the end).
    pub fn read(&self, buf: &mut [u8], off: u64) -> usize {
        if off >= self.size {
            return 0;
        }
        let n = ((self.size - off) as usize).min(buf.len());
        let mut done = 0;
        while done < n {
            let at = off + done as u64;
            let in_page = (at % PAGE_SIZE) as usize;
            let len = (PAGE_SIZE as usize - in_page).min(n - done);
            match self.pages.get(&(at / PAGE_SIZE)) {
                Some(&p) => self.mf.read(p + in_page as u64, &mut buf[done..done + len]),
                None => buf[done..done + len].fill(0),
            }
            done += len;
        }
        n
    }

    /// Writes at `off`, growing the file; `charge` is asked for each new
    /// page (ENOSPC past the filesystem's size). Returns the bytes written:
    /// fewer than asked if space ran out after some were written.
    pub fn write(&mut self, buf: &[u8], off: u64, charge: &dyn Fn() -> Result<(), Errno>) -> Result<usize, Errno> {
        off.checked_add(buf.len() as u64).ok_or(Errno::EFBIG)?;
        if buf.len() as u64 > PAGE_SIZE {
            self.allocate_run(off / PAGE_SIZE, (off + buf.len() as u64 - 1) / PAGE_SIZE, charge);
        }
        let mut done = 0;
        while done < buf.len() {
            let at = off + done as u64;
            let in_page = (at % PAGE_SIZE) as usize;
            let len = (PAGE_SIZE as usize - in_page).min(buf.len() - done);
            let page = match self.page(at / PAGE_SIZE, charge) {
                Ok(p) => p,
                Err(e) if done == 0 => return Err(e),
                Err(_) => break,
            };
            self.mf.write(page + in_page as u64, &buf[done..done + len]);
            done += len;
        }
        self.size = self.size.max(off + done as u64);
        Ok(done)
    }

    /// Gives the absent pages of `first..=last` one run of the memory file,
    /// faulted in at once: a large write then costs one allocation and no
    /// page faults per page. Stops where `charge` says the filesystem is
    /// full (the write's own loop then ends short).
    fn allocate_run(&mut self, first: u64, last: u64, charge: &dyn Fn() -> Result<(), Errno>) {
        let present = self.pages.range(first..=last).count() as u64;
        let want = (last - first + 1) - present;
        if want < 2 {
            return;
        }
        let alloc =
            if self.stored { self.mf.allocate_stored(want * PAGE_SIZE) } else { self.mf.allocate(want * PAGE_SIZE) };
        let Ok(run) = alloc else { return };
        let (mut next, end) = (run, run + want * PAGE_SIZE);
        for index in first..=last {
            if next == end {
                break;
            }
            if let std::collections::btree_map::Entry::Vacant(v) = self.pages.entry(index) {
                if charge().is_err() {
                    break;
                }
                v.insert(next);
                next += PAGE_SIZE;
            }
        }
        // Pages the filesystem had no room for go back.
        self.mf.dec_ref(next, end - next);
        self.mf.populate(run, next - run);
    }

    /// The memory-file offset of page `index`, allocated if absent.
    pub fn page_at(&mut self, index: u64, charge: &dyn Fn() -> Result<(), Errno>) -> Result<u64, Errno> {
        self.page(index, charge)
    }

    /// The page at `index`, allocated if absent.
    fn page(&mut self, index: u64, charge: &dyn Fn() -> Result<(), Errno>) -> Result<u64, Errno> {
        if let Some(&p) = self.pages.get(&index) {
            return Ok(p);
        }
        charge()?;
        let p = if self.stored { self.mf.allocate_stored(PAGE_SIZE)? } else { self.mf.allocate(PAGE_SIZE)? };
        self.pages.insert(index, p);
        Ok(p)
    }

    /// Sets the size; pages wholly past it are freed and the tail of the
    /// last page zeroed. Returns the pages freed.
    pub fn truncate(&mut self, size: u64) -> u64 {
        if size < self.size {
            let first_gone = size.div_ceil(PAGE_SIZE);
            let freed = self.free_from(first_gone, u64::MAX);
            if !size.is_multiple_of(PAGE_SIZE) {
                if let Some(&p) = self.pages.get(&(size / PAGE_SIZE)) {
                    let in_page = size % PAGE_SIZE;
                    self.mf.write(p + in_page, &vec![0u8; (PAGE_SIZE - in_page) as usize]);
                }
            }
            self.size = size;
            return freed;
        }
        self.size = size;
        0
    }

    /// Frees the pages with index in `[first, last)`; returns how many.
    fn free_from(&mut self, first: u64, last: u64) -> u64 {
        let gone: Vec<u64> = self.pages.range(first..last).map(|(&k, _)| k).collect();
        for k in &gone {
            if let Some(p) = self.pages.remove(k) {
                self.mf.dec_ref(p, PAGE_SIZE);
            }
        }
        gone.len() as u64
    }

    /// Allocates the pages of `[off, off+len)` (fallocate mode 0 and
    /// KEEP_SIZE); the size grows unless `keep_size`.
    pub fn allocate(
        &mut self,
        off: u64,
        len: u64,
        keep_size: bool,
        charge: &dyn Fn() -> Result<(), Errno>,
    ) -> Result<(), Errno> {
        let end = off.checked_add(len).ok_or(Errno::EFBIG)?;
        for index in off / PAGE_SIZE..end.div_ceil(PAGE_SIZE) {
            self.page(index, charge)?;
        }
        if !keep_size {
            self.size = self.size.max(end);
        }
        Ok(())
    }

    /// Zeroes `[off, off+len)` (PUNCH_HOLE and ZERO_RANGE): whole pages are
    /// freed, partial ones zeroed. Returns the pages freed.
    pub fn punch(&mut self, off: u64, len: u64) -> u64 {
        let end = off.saturating_add(len);
        let first_whole = off.div_ceil(PAGE_SIZE);
        let last_whole = end / PAGE_SIZE;
        let zero_part = |from: u64, to: u64, pages: &BTreeMap<u64, u64>| {
            if from < to {
                if let Some(&p) = pages.get(&(from / PAGE_SIZE)) {
                    self.mf.write(p + from % PAGE_SIZE, &vec![0u8; (to - from) as usize]);
                }
            }
        };
        if first_whole > last_whole {
            // Within one page.
            zero_part(off, end, &self.pages);
            return 0;
        }
        zero_part(off, first_whole * PAGE_SIZE, &self.pages);
        zero_part(last_whole * PAGE_SIZE, end, &self.pages);
        self.free_from(first_whole, last_whole)
    }

    /// The next offset at or after `off` that is data (`data`) or a hole,
    /// for SEEK_DATA/SEEK_HOLE; `None` past the end (ENXIO).
    pub fn seek_data(&self, off: u64, data: bool) -> Option<u64> {
        if off >= self.size {
            return None;
        }
        let mut index = off / PAGE_SIZE;
        loop {
            let at = (index * PAGE_SIZE).max(off);
            if at >= self.size {
                return if data { None } else { Some(self.size) };
            }
            if self.pages.contains_key(&index) == data {
                return Some(at);
            }
            if data {
                // Jump to the next allocated page.
                match self.pages.range(index..).next() {
                    Some((&k, _)) => index = k,
                    None => return None,
                }
            } else {
                index += 1;
            }
        }
    }
}

impl Drop for FileData {
    fn drop(&mut self) {
        for (_, p) in std::mem::take(&mut self.pages) {
            self.mf.dec_ref(p, PAGE_SIZE);
        }
    }
}
