//! Access to application memory from the sentry: address translation,
//! copy-in/copy-out, string reads, direct I/O runs and futex words, all
//! through the sentry's own mapping of the memory file. Bad addresses give
//! EFAULT.

use crate::abi::{Errno, Pod, PAGE_SIZE};
use crate::mm::MemoryManager;

impl MemoryManager {
    /// Finds the contiguous run of sentry memory backing `addr` (up to `len`
    /// bytes, stopping at the end of its VMA). `write` asks for application
    /// write permission; `force` ignores protections (loader use).
    pub fn translate(&self, addr: u64, len: u64, write: bool, force: bool) -> Result<(*mut u8, usize), Errno> {
        let mut i = self.lock();
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
        if !force && !(if write { v.writable() } else { v.readable() }) {
            return Err(Errno::EFAULT);
        }
        if !v.populated {
            // The sentry touches it first: bring the contents in.
            self.populate_at(&mut i, addr)?;
        }
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
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
        let mut i = self.lock();
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
        if !v.readable() {
            return Err(Errno::EFAULT);
        }
        if !v.populated {
            self.populate_at(&mut i, addr)?;
        }
        let v = i.vmas.range(..=addr).next_back().map(|(_, v)| v).filter(|v| v.end > addr).ok_or(Errno::EFAULT)?;
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
}
