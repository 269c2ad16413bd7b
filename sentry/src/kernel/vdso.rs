//! The sandbox's vDSO and its time page.
//!
//! The image (built from `vdso/vdso.c` by build.rs) is copied once into the
//! memory file and mapped read+execute into every process, with the time
//! page read-only just below it. A timekeeper thread calibrates the TSC
//! against the host's clocks and keeps the page current under a seqlock, so
//! clock_gettime, gettimeofday and time cost no trap. Until calibrated (about
//! 10 ms after boot) or without an invariant TSC, the vDSO falls back to the
//! trapped syscall. The clock_gettime handler reads the same page, so both
//! paths agree.

use std::sync::atomic::{fence, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::abi::{page_up, Errno, PAGE_SIZE};
use crate::mm::MemoryFile;

/// The image, built by build.rs.
static IMAGE: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vdso.so"));

/// The time page (must match `struct time_page` in vdso.c).
#[repr(C)]
struct TimePage {
    seq: AtomicU32,
    enabled: AtomicU32,
    tsc_base: AtomicU64,
    mono_base: AtomicI64,
    real_base: AtomicI64,
    mult: AtomicU64,
    shift: AtomicU32,
    pad: AtomicU32,
}

const SHIFT: u32 = 32;

/// The vDSO: where its pages are in the memory file.
pub struct Vdso {
    mf: Arc<MemoryFile>,
    /// Offset of the time page.
    pub data_off: u64,
    /// Offset of the image.
    pub image_off: u64,
    /// Bytes of the image mapping (page multiple).
    pub image_len: u64,
}

fn rdtsc() -> u64 {
    // SAFETY: RDTSC reads the time-stamp counter; it has no memory effects.
    unsafe { std::arch::x86_64::_rdtsc() }
}

fn clock_ns(id: libc::clockid_t) -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes the timespec we pass.
    unsafe { libc::clock_gettime(id, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// Whether the TSC ticks at a constant rate in every state (CPUID
/// 0x80000007 EDX bit 8).
fn invariant_tsc() -> bool {
    use crate::fs::cpuinfo::cpuid;
    cpuid(0x8000_0000, 0).eax >= 0x8000_0007 && cpuid(0x8000_0007, 0).edx & (1 << 8) != 0
}

/// A (TSC, monotonic ns, realtime ns) sample, the TSC read between the
/// clock reads.
fn sample() -> (u64, i64, i64) {
    let m0 = clock_ns(libc::CLOCK_MONOTONIC);
    let t = rdtsc();
    let m1 = clock_ns(libc::CLOCK_MONOTONIC);
    let r = clock_ns(libc::CLOCK_REALTIME);
    (t, m0 + (m1 - m0) / 2, r)
}

impl Vdso {
    /// Copies the image into the memory file and allocates the time page.
    pub fn new(mf: Arc<MemoryFile>) -> Result<Arc<Vdso>, Errno> {
        let image_len = page_up(IMAGE.len() as u64).ok_or(Errno::ENOMEM)?;
        let data_off = mf.allocate(PAGE_SIZE)?;
        let image_off = mf.allocate(image_len)?;
        mf.write(image_off, IMAGE);
        Ok(Arc::new(Vdso { mf, data_off, image_off, image_len }))
    }

    fn page(&self) -> &TimePage {
        let p = self.mf.ptr(self.data_off, PAGE_SIZE).expect("time page in the memory file");
        // SAFETY: the time page is a page-aligned, page-sized range of the
        // memory-file mapping, which lives as long as `self.mf`; TimePage is
        // made of atomics, valid for any bit pattern, and fits in a page.
        unsafe { &*(p as *const TimePage) }
    }

    fn publish(&self, tsc: u64, mono: i64, real: i64, mult: u64) {
        let p = self.page();
        let seq = p.seq.load(Ordering::Relaxed);
        p.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::SeqCst);
        p.tsc_base.store(tsc, Ordering::Relaxed);
        p.mono_base.store(mono, Ordering::Relaxed);
        p.real_base.store(real, Ordering::Relaxed);
        p.mult.store(mult, Ordering::Relaxed);
        p.shift.store(SHIFT, Ordering::Relaxed);
        fence(Ordering::SeqCst);
        p.seq.store(seq.wrapping_add(2), Ordering::Release);
        p.enabled.store(1, Ordering::Release);
    }

    /// The time on the monotonic (or, with `realtime`, the real-time) clock
    /// as the vDSO computes it, or `None` until calibrated.
    pub fn now(&self, realtime: bool) -> Option<i64> {
        let p = self.page();
        loop {
            let seq = p.seq.load(Ordering::Acquire);
            if seq & 1 != 0 {
                std::hint::spin_loop();
                continue;
            }
            if p.enabled.load(Ordering::Acquire) == 0 {
                return None;
            }
            let delta = rdtsc().wrapping_sub(p.tsc_base.load(Ordering::Relaxed));
            let ns =
                ((delta as u128 * p.mult.load(Ordering::Relaxed) as u128) >> p.shift.load(Ordering::Relaxed)) as i64;
            let base = if realtime { p.real_base.load(Ordering::Relaxed) } else { p.mono_base.load(Ordering::Relaxed) };
            fence(Ordering::Acquire);
            if p.seq.load(Ordering::Relaxed) == seq {
                return Some(base + ns);
            }
        }
    }

    /// The monotonic time the current parameters give at TSC value `tsc`.
    fn at(&self, tsc: u64) -> i64 {
        let p = self.page();
        let delta = tsc.wrapping_sub(p.tsc_base.load(Ordering::Relaxed));
        let ns = (delta as u128 * p.mult.load(Ordering::Relaxed) as u128) >> p.shift.load(Ordering::Relaxed);
        p.mono_base.load(Ordering::Relaxed) + ns as i64
    }

    /// Starts the timekeeper thread and waits until it runs (call before the
    /// sentry's seccomp filter is installed: creating and naming a thread
    /// need calls the filter refuses). Without an invariant TSC the page
    /// stays disabled and the vDSO traps.
    pub fn start_timekeeper(self: &Arc<Self>) -> std::io::Result<()> {
        if !invariant_tsc() {
            tracing::info!("no invariant TSC: the vDSO falls back to trapped syscalls");
            return Ok(());
        }
        let v = self.clone();
        let (started_tx, started_rx) = std::sync::mpsc::sync_channel(0);
        std::thread::Builder::new().name("timekeeper".into()).spawn(move || {
            // The thread's start-up (naming it, its signal stack) is done by
            // now; tell the caller, who may then install the seccomp filter.
            let _ = started_tx.send(());
            v.keep_time()
        })?;
        started_rx.recv().map_err(|_| std::io::Error::other("timekeeper thread exited at start"))?;
        Ok(())
    }

    fn keep_time(&self) {
        let (t0, m0, _) = sample();
        std::thread::sleep(Duration::from_millis(10));
        let mut last_mult = 0u64;
        loop {
            let (t, m, r) = sample();
            let (dt, dm) = (t.wrapping_sub(t0), (m - m0).max(1) as u64);
            if dt == 0 {
                return;
            }
            // ns per tick over the whole run so far, as a 32.32 fixed point.
            let mult = ((dm as u128) << SHIFT) / dt as u128;
            let mult = mult.min(u64::MAX as u128) as u64;
            // Never let the monotonic clock step back: continue from where
            // the previous parameters have got to at this TSC if that is
            // later.
            let mono = if last_mult != 0 { self.at(t).max(m) } else { m };
            self.publish(t, mono, r, mult);
            last_mult = mult;
            std::thread::sleep(Duration::from_millis(if dm < 1_000_000_000 { 100 } else { 1000 }));
        }
    }
}
