//! Access to application memory from the sentry: copy-in/copy-out, string
//! reads, direct I/O runs and futex words, all through the sentry's own
//! mapping of the memory file. Bad addresses give EFAULT.
//!
//! Each run of pages is used under the manager's read lock, so the pages
//! cannot be freed (by another thread's munmap) while the sentry copies;
//! pages not there yet, or copy-on-write for a write, are faulted in under
//! the write lock first.

use std::sync::atomic::{AtomicU32, Ordering};

use crate::abi::{Errno, Pod, PAGE_SIZE};
use crate::mm::{Inner, MemoryManager};

/// What identifies a futex word: private futexes by address space and
/// address, shared ones by the memory-file page (stable across address
/// spaces and copy-on-write).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FutexKey {
    /// A private futex: (memory manager id, address).
    Private(u64, u64),
    /// A shared futex on memory the process does not share: (memory
    /// manager id, address). Linux keys these apart from private ones, so
    /// a private wake does not reach a shared waiter on the same word.
    Unshared(u64, u64),
    /// A shared futex on shared memory: the memory-file offset.
    Shared(u64),
}

enum Lookup {
    /// Memory-file offset of `addr` and bytes usable from there.
    Run(u64, u64),
    /// The pages must be faulted in first.
    Fault,
}

impl MemoryManager {
    /// Finds the run of memory-file pages backing `addr` (up to `len`
    /// bytes, stopping at the end of its VMA or pma).
    fn lookup(i: &Inner, addr: u64, len: u64, write: bool, force: bool) -> Result<Lookup, Errno> {
        let v = i.vma_at(addr).ok_or(Errno::EFAULT)?;
        if !force && !(if write { v.writable() } else { v.readable() }) {
            return Err(Errno::EFAULT);
        }
        let Some(p) = i.pma_at(addr) else { return Ok(Lookup::Fault) };
        if write && p.cow {
            return Ok(Lookup::Fault);
        }
        let n = len.min(p.end.min(v.end) - addr);
        Ok(Lookup::Run(p.mf_off + (addr - p.start), n))
    }

    /// Runs `f` on the sentry's pointer to the run of pages backing `addr`
    /// (at most `len` bytes) and its length, under the read lock.
    fn with_run<R>(
        &self,
        addr: u64,
        len: u64,
        write: bool,
        force: bool,
        f: impl FnOnce(*mut u8, usize) -> R,
    ) -> Result<R, Errno> {
        loop {
            {
                let i = self.read();
                if let Lookup::Run(off, n) = Self::lookup(&i, addr, len, write, force)? {
                    let p = self.mf.ptr(off, n).ok_or(Errno::EFAULT)?;
                    return Ok(f(p, n as usize));
                }
            }
            let mut i = self.write();
            self.fault_in(&mut i, addr, write, force)?;
        }
    }

    /// Walks `[addr, addr+len)` run by run, calling `f` with each run's
    /// pointer and length. Stops at a short count; an error after some
    /// progress ends the walk with the partial count, as Linux does.
    fn io_runs(
        &self,
        addr: u64,
        len: u64,
        write: bool,
        mut f: impl FnMut(*mut u8, usize) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        let mut done = 0u64;
        while done < len {
            let step = self.with_run(addr + done, len - done, write, false, |p, n| f(p, n).map(|k| (k, n)));
            match step.and_then(|r| r) {
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
    /// `io_runs` for partial results. `f` runs under this manager's read
    /// lock and must not take it again.
    pub fn io_into(
        &self,
        addr: u64,
        len: u64,
        mut f: impl FnMut(&mut [u8]) -> Result<usize, Errno>,
    ) -> Result<usize, Errno> {
        self.io_runs(addr, len, true, |p, n| {
            // SAFETY: `with_run` passes a pointer valid for `n` bytes of the
            // memory-file mapping, whose pages stay allocated while the read
            // lock is held. The application may change the bytes
            // concurrently, as with any user memory; they are plain bytes.
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

    /// The futex key of the aligned u32 at `addr`; with `private`, always
    /// by address space (FUTEX_PRIVATE_FLAG).
    pub fn futex_key(&self, addr: u64, private: bool) -> Result<FutexKey, Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        if addr > super::TASK_SIZE - 4 {
            return Err(Errno::EFAULT);
        }
        if private {
            // Linux does not look at the mapping: a wake on an unmapped
            // private word wakes no one.
            return Ok(FutexKey::Private(self.id, addr));
        }
        let shared = self.read().vma_at(addr).ok_or(Errno::EFAULT)?.shared;
        if !shared {
            return Ok(FutexKey::Unshared(self.id, addr));
        }
        self.with_run(addr, 4, false, false, |_, _| ())?;
        let i = self.read();
        let p = i.pma_at(addr).ok_or(Errno::EFAULT)?;
        Ok(FutexKey::Shared(p.mf_off + (addr - p.start)))
    }

    /// Runs `f` on the aligned u32 at `addr` as an atomic (futex words);
    /// `write` asks for write access (breaking copy-on-write).
    pub fn with_atomic_u32<R>(&self, addr: u64, write: bool, f: impl FnOnce(&AtomicU32) -> R) -> Result<R, Errno> {
        if !addr.is_multiple_of(4) {
            return Err(Errno::EINVAL);
        }
        self.with_run(addr, 4, write, false, |p, _| {
            // SAFETY: `p` is 4-byte aligned (addr is, and pages are) and
            // valid for 4 bytes of the memory-file mapping while the read
            // lock is held; AtomicU32 has the same layout as u32 and any bit
            // pattern is valid.
            f(unsafe { &*(p as *const AtomicU32) })
        })
    }

    /// Atomically loads the aligned u32 at `addr` (a futex word).
    pub fn futex_load(&self, addr: u64) -> Result<u32, Errno> {
        self.with_atomic_u32(addr, false, |a| a.load(Ordering::SeqCst))
    }

    /// Copies `dst.len()` bytes in from application memory at `addr`.
    pub fn copy_in(&self, addr: u64, dst: &mut [u8]) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < dst.len() {
            let rest = &mut dst[done..];
            let n = self.with_run(addr + done as u64, rest.len() as u64, false, false, |p, n| {
                // SAFETY: `p` is valid for `n` bytes of the memory-file
                // mapping (see `with_run`); `rest` is sentry memory of at
                // least `n` bytes.
                unsafe { std::ptr::copy_nonoverlapping(p, rest.as_mut_ptr(), n) };
                n
            })?;
            done += n;
        }
        Ok(())
    }

    fn copy_out_inner(&self, addr: u64, src: &[u8], force: bool) -> Result<(), Errno> {
        let mut done = 0usize;
        while done < src.len() {
            let rest = &src[done..];
            let n = self.with_run(addr + done as u64, rest.len() as u64, true, force, |p, n| {
                // SAFETY: as in `copy_in`, in the other direction.
                unsafe { std::ptr::copy_nonoverlapping(rest.as_ptr(), p, n) };
                n
            })?;
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
            let (found, n) = self.with_run(cur, chunk, false, false, |p, n| {
                // SAFETY: `p` is valid for `n` bytes (see `with_run`).
                let s = unsafe { std::slice::from_raw_parts(p, n) };
                match s.iter().position(|&b| b == 0) {
                    Some(z) => {
                        out.extend_from_slice(&s[..z]);
                        (true, n)
                    }
                    None => {
                        out.extend_from_slice(s);
                        (false, n)
                    }
                }
            })?;
            if found {
                return Ok(out);
            }
            if out.len() > max {
                return Err(Errno::ENAMETOOLONG);
            }
            cur += n as u64;
        }
    }
}
