//! Batched mapping changes: several `mmap`/`munmap`/`mprotect` calls made
//! by one injection, so that a change of many ranges costs the stub thread
//! one stop instead of one per range.
//!
//! Each address space may own a page of the batch file, a memfd the
//! sentry maps read-write once and every stub inherits. The sentry writes
//! the calls there; the stub maps its page read-only at [`batch_addr`]
//! (just above the stub page, inside the platform's reserved range), and
//! the stub's batch loop runs them in order until one fails. The
//! application can read its own process's page (addresses it could learn
//! anyway) but never write it, and never sees another process's page.

use std::sync::Mutex;

use nix::errno::Errno;

use super::thread::StubThread;
use super::{host, StubEnv};
use crate::abi::PAGE_SIZE;
use crate::platform::PlatformError;

/// How many address spaces can have a page at once; the others change
/// their mappings one call at a time.
const SLOTS: u64 = 4096;

/// The calls one injection makes at most.
pub(super) const ENTRIES: usize = 64;

/// One call in a batch page: the syscall number and its six arguments.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Entry {
    pub nr: u64,
    pub args: [u64; 6],
}

const _: () = assert!(std::mem::size_of::<Entry>() * ENTRIES <= PAGE_SIZE as usize);

/// Where a stub maps its batch page, given the stub page's address.
pub(super) fn batch_addr(stub_base: u64) -> u64 {
    stub_base + PAGE_SIZE
}

/// The batch file and the allocation of its pages.
pub(super) struct Batches {
    /// The memfd (the same fd number in every stub).
    pub fd: i32,
    /// The sentry's read-write mapping of all of it.
    base: usize,
    /// Free pages, by index, and the first index never used.
    free: Mutex<(Vec<u64>, u64)>,
}

impl Batches {
    /// Makes the batch file and maps it in the sentry.
    pub(super) fn new() -> Result<Batches, PlatformError> {
        // SAFETY: memfd_create with a static name; the result is checked.
        let fd = unsafe { libc::memfd_create(c"runsc-stub-batch".as_ptr(), libc::MFD_CLOEXEC) };
        if fd < 0 {
            return Err(host("memfd_create stub batch")(Errno::last()));
        }
        let len = SLOTS * PAGE_SIZE;
        // SAFETY: `fd` is the memfd just made, owned here.
        if unsafe { libc::ftruncate(fd, len as i64) } != 0 {
            let e = Errno::last();
            // SAFETY: closing our own fd.
            unsafe { libc::close(fd) };
            return Err(host("ftruncate stub batch")(e));
        }
        // SAFETY: a fresh shared mapping of our memfd wherever the kernel
        // likes; the result is checked.
        let p = unsafe {
            libc::mmap(std::ptr::null_mut(), len as usize, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED, fd, 0)
        };
        if p == libc::MAP_FAILED {
            let e = Errno::last();
            // SAFETY: closing our own fd.
            unsafe { libc::close(fd) };
            return Err(host("mmap stub batch")(e));
        }
        Ok(Batches { fd, base: p as usize, free: Mutex::new((Vec::new(), 0)) })
    }

    /// A free page, if any is left.
    pub(super) fn alloc(&self) -> Option<u64> {
        let mut f = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = f.0.pop() {
            return Some(s);
        }
        if f.1 < SLOTS {
            f.1 += 1;
            return Some(f.1 - 1);
        }
        None
    }

    /// A free page mapped in `t`'s process at [`batch_addr`]; None if no
    /// page is free or mapping it failed.
    pub(super) fn map_into(&self, t: &StubThread, env: &StubEnv) -> Option<u64> {
        let s = self.alloc()?;
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        let args = [batch_addr(env.page.base), PAGE_SIZE, libc::PROT_READ as u64, flags, self.fd as u64, s * PAGE_SIZE];
        match t.inject(&env.template, &env.page, "mmap batch page", libc::SYS_mmap, args) {
            Ok(_) => Some(s),
            Err(e) => {
                tracing::debug!(pid = t.pid, "cannot map a batch page: {e}");
                self.release(s);
                None
            }
        }
    }

    /// Returns a page.
    pub(super) fn release(&self, slot: u64) {
        self.free.lock().unwrap_or_else(|e| e.into_inner()).0.push(slot);
    }

    /// Writes `entries` at the start of page `slot`.
    ///
    /// The caller owns the page (it allocated it and serializes its
    /// batches), and no stub reads it while the sentry writes.
    pub(super) fn write(&self, slot: u64, entries: &[Entry]) {
        let n = entries.len().min(ENTRIES);
        debug_assert!(slot < SLOTS);
        let dst = (self.base + (slot * PAGE_SIZE) as usize) as *mut Entry;
        // SAFETY: `slot < SLOTS`, so the page lies inside the mapping made in
        // `new` (read-write for the sentry's lifetime), and `n` entries fit in
        // a page (asserted above). Stubs only read the page, and only while
        // the caller has one of them run a batch, which is not now.
        unsafe { std::ptr::copy_nonoverlapping(entries.as_ptr(), dst, n) };
    }
}

impl Drop for Batches {
    fn drop(&mut self) {
        // SAFETY: the mapping and fd made in `new`, owned by this value and
        // not used after it.
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, (SLOTS * PAGE_SIZE) as usize);
            libc::close(self.fd);
        }
    }
}
