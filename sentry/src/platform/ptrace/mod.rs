//! The ptrace platform: each address space is a stub process that holds only
//! the stub page and what the sentry mapped; application threads run in it
//! under `PTRACE_SYSEMU`, so every system call stops in the sentry and none
//! runs on the host.
//!
//! Shape (see `factory`, `context`, `address_space`):
//! - A master stub is forked once, while the sentry is still
//!   single-threaded ([`PtracePlatform::new`]); every stub process is a
//!   clone of it, made by injecting `clone(CLONE_PARENT)` into it.
//! - Each stub process has a leader thread that never runs application
//!   code; the factory thread traces every leader and injects `clone` there
//!   to make application threads.
//! - Each application thread is a stub thread of its own, traced by its
//!   task's sentry thread (a tracee has exactly one tracer thread), which
//!   seizes it out of the stub's pause loop. A task changes its address
//!   space by injecting `mmap`, `munmap` and `mprotect` into its own stub
//!   thread.
//! - Stubs block every signal but SIGCHLD, which the sentry sends to
//!   interrupt a stub thread running application code; faults still reach
//!   the tracer as ptrace stops.
//! - A tracer thread and its stub thread share a CPU, chosen so that busy
//!   contexts spread over the CPUs (`cpus`).

mod address_space;
mod batch;
mod child;
mod context;
mod cpus;
mod factory;
mod stub;
mod stub_filter;
mod sys;
mod thread;

use std::sync::Arc;

use nix::errno::Errno;

use super::{AddressSpace, Context, MapOp, Platform, PlatformError, Regs};
pub use address_space::PtraceAddressSpace;
use batch::{Batches, Entry};
use child::{drop_capabilities, unregister_rseq};
use context::PtraceContext;
pub use context::PtraceInterrupt;
use cpus::Cpus;
use factory::Factory;
use stub::StubPage;
use sys::WaitStatus;
use thread::StubThread;

fn host(op: &'static str) -> impl FnOnce(Errno) -> PlatformError {
    move |errno| PlatformError::Host { op, errno }
}

/// What every stub has: the stub page, the memory file and its file store
/// if any (at the same fd numbers as in the sentry; the batch file too)
/// and valid segment registers.
pub(super) struct StubEnv {
    page: StubPage,
    template: Regs,
    memfd: i32,
    store: Option<i32>,
}

/// What the platform's parts share.
pub(super) struct Shared {
    env: StubEnv,
    factory: Factory,
    cpus: Cpus,
    batches: Arc<Batches>,
}

/// The host call that makes one mapping change, and its name.
fn op_call(env: &StubEnv, op: &MapOp) -> (&'static str, Entry) {
    let (name, nr, args) = match *op {
        MapOp::Map { addr, len, prot, offset } => {
            let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
            use crate::mm::memfile::STORE_BASE;
            let (fd, offset) = match env.store {
                Some(s) if offset >= STORE_BASE => (s, offset - STORE_BASE),
                _ => (env.memfd, offset),
            };
            ("mmap", libc::SYS_mmap, [addr, len, prot as u64, flags, fd as u64, offset])
        }
        MapOp::Unmap { addr, len } => ("munmap", libc::SYS_munmap, [addr, len, 0, 0, 0, 0]),
        MapOp::Protect { addr, len, prot } => ("mprotect", libc::SYS_mprotect, [addr, len, prot as u64, 0, 0, 0]),
    };
    (name, Entry { nr: nr as u64, args })
}

/// Applies one mapping change by injection into `t`.
fn apply_op(t: &StubThread, env: &StubEnv, op: &MapOp) -> Result<(), PlatformError> {
    let (name, e) = op_call(env, op);
    t.inject(&env.template, &env.page, name, e.nr as i64, e.args).map(drop)
}

/// The ptrace platform.
pub struct PtracePlatform {
    shared: Arc<Shared>,
    reserved: [(u64, u64); 1],
    initial_fp: Vec<u8>,
    xfeatures: u64,
}

/// Offsets in the XSAVE legacy area and header.
const FCW: usize = 0;
const MXCSR: usize = 24;
const MXCSR_MASK: usize = 28;
const SW_XCR0: usize = 464;
const XSTATE_BV: usize = 512;

impl PtracePlatform {
    /// Creates the platform: maps the stub page, forks the master stub and
    /// starts the factory thread that traces it. `memfd` is the memory file,
    /// which stubs map, and `store` its file store (offsets from
    /// `STORE_BASE`), if it has one.
    ///
    /// Must be called while the process is single-threaded (the master stub
    /// is made with `fork`); otherwise it fails with `NotSingleThreaded`.
    ///
    /// With `oom_score_adj`, the master stub, and so every stub (the
    /// application's processes on the host), takes that oom_score_adj
    /// (raised from ours: the sentry keeps a lower one, so that a host OOM
    /// kill picks an application process before the sandbox itself).
    pub fn new(memfd: i32, store: Option<i32>, oom_score_adj: Option<i32>) -> Result<PtracePlatform, PlatformError> {
        let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0);
        if threads != 1 {
            return Err(PlatformError::NotSingleThreaded(threads));
        }
        let cpus = Cpus::new(sys::allowed_cpus());
        let stub = StubPage::new()?;
        let batches = Batches::new()?;
        // Built before the fork: the child may only make raw syscalls.
        let filter = stub_filter::program();
        let adj = oom_score_adj.map(|a| {
            let text = a.clamp(-1000, 1000).to_string();
            let mut buf = [0u8; 8];
            buf[..text.len()].copy_from_slice(text.as_bytes());
            (buf, text.len())
        });
        // SAFETY: we checked above that this process has exactly one thread,
        // so the child may run arbitrary code; it only makes raw syscalls and
        // then enters the stub, which never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(host("fork master stub")(Errno::last()));
        }
        if pid == 0 {
            // SAFETY: we are the single-threaded forked child; these calls
            // only affect this process (the path is a NUL-terminated
            // literal, the buffer ours on the stack), and `enter` never
            // returns.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // glibc registered rseq for this thread, and fork kept the
                // registration: once the stub unmaps the TLS, the kernel's
                // rseq update on return to user mode would fault.
                unregister_rseq();
                if let Some((buf, len)) = &adj {
                    // Best effort: without /proc the stubs keep ours.
                    let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd >= 0 {
                        libc::write(fd, buf.as_ptr().cast(), *len);
                        libc::close(fd);
                    }
                }
                drop_capabilities();
                // Only the memory file (and its store) and the batch file
                // stay open: close the ranges around them. A fixed array:
                // the child may not allocate.
                let mut keep = [memfd, batches.fd, store.unwrap_or(memfd)];
                keep.sort_unstable();
                let mut from = 0i32;
                for k in keep {
                    if k > from {
                        libc::syscall(libc::SYS_close_range, from as u32, (k - 1) as u32, 0u32);
                    }
                    from = from.max(k + 1);
                }
                libc::syscall(libc::SYS_close_range, from as u32, u32::MAX, 0u32);
                // Every signal but the sentry's interrupt is blocked: nothing
                // from outside disturbs a stub, and faults are forced through
                // to the tracer regardless.
                let mut set: libc::sigset_t = std::mem::zeroed();
                libc::sigfillset(&mut set);
                libc::sigdelset(&mut set, thread::INTERRUPT_SIGNAL);
                libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
                if !stub_filter::install(&filter) {
                    libc::_exit(1);
                }
                stub.enter()
            }
        }
        // Wait for the master to unmap itself and stop.
        loop {
            match sys::wait(pid, libc::WUNTRACED).map_err(host("wait master"))? {
                WaitStatus::Stopped { sig: libc::SIGSTOP, .. } => break,
                WaitStatus::Stopped { .. } => continue,
                other => {
                    return Err(PlatformError::StubDied { pid, how: format!("{other:?}") });
                }
            }
        }
        let batches = Arc::new(batches);
        let (factory, info) = Factory::start(pid, stub, memfd, store, batches.clone())?;
        let xfeatures = match info.xstate.get(SW_XCR0..SW_XCR0 + 8) {
            Some(b) => u64::from_le_bytes(b.try_into().unwrap_or([0; 8])),
            None => 0,
        } | 3;
        let initial_fp = initial_fp(&info.xstate);
        Ok(PtracePlatform {
            shared: Arc::new(Shared {
                env: StubEnv { page: stub, template: info.template, memfd, store },
                factory,
                cpus,
                batches,
            }),
            // The stub page and the batch page above it.
            reserved: [(stub.base, batch::batch_addr(stub.base) + crate::abi::PAGE_SIZE)],
            initial_fp,
            xfeatures,
        })
    }

    /// Kills and reaps every stub process (at sandbox exit, once every task
    /// has exited).
    pub fn shutdown(&self) {
        self.shared.factory.shutdown();
    }
}

/// The FP image of a fresh thread, in the layout of `master` (the host's
/// XSAVE size): x87 and SSE in their reset state, every other component in
/// its initial state.
fn initial_fp(master: &[u8]) -> Vec<u8> {
    let mut fp = vec![0u8; master.len().max(XSTATE_BV + 64)];
    fp[FCW..FCW + 2].copy_from_slice(&0x37fu16.to_le_bytes());
    fp[MXCSR..MXCSR + 4].copy_from_slice(&0x1f80u32.to_le_bytes());
    if let Some(mask) = master.get(MXCSR_MASK..MXCSR_MASK + 4) {
        fp[MXCSR_MASK..MXCSR_MASK + 4].copy_from_slice(mask);
    }
    if let Some(sw) = master.get(SW_XCR0..XSTATE_BV) {
        fp[SW_XCR0..XSTATE_BV].copy_from_slice(sw);
    }
    fp[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&3u64.to_le_bytes());
    fp
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError> {
        let p = self.shared.factory.new_process()?;
        Ok(Arc::new(PtraceAddressSpace::new(p.pid, self.shared.clone(), p.thread, p.batch)))
    }

    fn new_context(&self) -> Box<dyn Context> {
        Box::new(PtraceContext::new(self.shared.clone()))
    }

    fn reserved_ranges(&self) -> &[(u64, u64)] {
        &self.reserved
    }

    fn initial_regs(&self) -> Regs {
        let t = &self.shared.env.template;
        let mut r = super::zero_regs();
        r.cs = t.cs;
        r.ss = t.ss;
        r.ds = t.ds;
        r.es = t.es;
        r.fs = t.fs;
        r.gs = t.gs;
        r.eflags = 0x202;
        r
    }

    fn initial_fp(&self) -> &[u8] {
        &self.initial_fp
    }

    fn xfeatures(&self) -> u64 {
        self.xfeatures
    }
}
