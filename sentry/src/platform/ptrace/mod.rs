//! The ptrace platform: each address space is a stub process that holds only
//! the stub page and what the sentry mapped; application threads run in it
//! under `PTRACE_SYSEMU`, so every system call stops in the sentry and none
//! runs on the host.
//!
//! The sentry changes a stub's address space by injecting `mmap`, `munmap` and
//! `mprotect` at the stub's own `syscall` instruction.
//!
//! Stub processes come from a master stub forked once, while the sentry is
//! still single-threaded ([`PtracePlatform::new`]); a factory thread traces the
//! master and makes each new stub by injecting `clone(CLONE_PARENT)` into it.
//! The new stub stops itself, and the thread that asked for it attaches: a
//! tracee has exactly one tracer thread, so each task's sentry thread traces
//! its own stub.

mod address_space;
mod child;
mod stub;
mod stub_filter;
mod stub_process;
mod sys;

use std::sync::{Arc, Mutex};

use crossbeam::channel::{bounded, unbounded, Sender};
use nix::errno::Errno;

use super::{AddressSpace, Context, Platform, PlatformError, Regs};
pub use address_space::PtraceAddressSpace;
use address_space::PtraceContext;
use child::{drop_capabilities, unregister_rseq};
use stub::StubPage;
use stub_process::Stub;
use sys::WaitStatus;

fn host(op: &'static str) -> impl FnOnce(Errno) -> PlatformError {
    move |errno| PlatformError::Host { op, errno }
}

/// A request to the factory thread: make a stub, reply with its host pid.
type FactoryRequest = Sender<Result<i32, PlatformError>>;

/// The ptrace platform.
pub struct PtracePlatform {
    stub: StubPage,
    memfd: i32,
    factory: Mutex<Sender<FactoryRequest>>,
    reserved: [(u64, u64); 1],
    template: Regs,
}

impl PtracePlatform {
    /// Creates the platform: maps the stub page, forks the master stub and
    /// starts the factory thread that traces it. `memfd` is the memory file,
    /// which stubs map.
    ///
    /// Must be called while the process is single-threaded (the master stub
    /// is made with `fork`); otherwise it fails with `NotSingleThreaded`.
    pub fn new(memfd: i32) -> Result<PtracePlatform, PlatformError> {
        let threads = std::fs::read_dir("/proc/self/task").map(|d| d.count()).unwrap_or(0);
        if threads != 1 {
            return Err(PlatformError::NotSingleThreaded(threads));
        }
        let stub = StubPage::new()?;
        // Built before the fork: the child may only make raw syscalls.
        let filter = stub_filter::program();
        // SAFETY: we checked above that this process has exactly one thread,
        // so the child may run arbitrary code; it only makes raw syscalls and
        // then enters the stub, which never returns.
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(host("fork master stub")(Errno::last()));
        }
        if pid == 0 {
            // SAFETY: we are the single-threaded forked child; these calls
            // only affect this process, and `enter` never returns.
            unsafe {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                // glibc registered rseq for this thread, and fork kept the
                // registration: once the stub unmaps the TLS, the kernel's
                // rseq update on return to user mode would fault.
                unregister_rseq();
                drop_capabilities();
                if memfd > 0 {
                    libc::syscall(libc::SYS_close_range, 0u32, (memfd - 1) as u32, 0u32);
                }
                libc::syscall(libc::SYS_close_range, (memfd + 1) as u32, u32::MAX, 0u32);
                let mut empty: libc::sigset_t = std::mem::zeroed();
                libc::sigemptyset(&mut empty);
                libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
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
        let (tx, rx) = unbounded::<FactoryRequest>();
        let (ready_tx, ready_rx) = bounded::<Result<Regs, PlatformError>>(1);
        std::thread::Builder::new()
            .name("stub-factory".into())
            .spawn(move || {
                let master = match Stub::attach(pid, stub) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(master.template));
                for reply in rx {
                    let r = master.clone_stub();
                    let _ = reply.send(r);
                }
                master.kill();
            })
            .map_err(|e| PlatformError::Host {
                op: "spawn factory",
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            })?;
        let template = ready_rx.recv().map_err(|_| PlatformError::FactoryGone)??;
        Ok(PtracePlatform {
            stub,
            memfd,
            factory: Mutex::new(tx),
            reserved: [(stub.base, stub.base + crate::abi::PAGE_SIZE)],
            template,
        })
    }
}

impl Platform for PtracePlatform {
    fn name(&self) -> &'static str {
        "ptrace"
    }

    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError> {
        let (tx, rx) = bounded(1);
        self.factory
            .lock()
            .map_err(|_| PlatformError::FactoryGone)?
            .send(tx)
            .map_err(|_| PlatformError::FactoryGone)?;
        let pid = rx.recv().map_err(|_| PlatformError::FactoryGone)??;
        // The new stub is our child (CLONE_PARENT) and stops itself; wait for
        // that group-stop before attaching so the attach cannot interrupt it.
        loop {
            match sys::wait(pid, libc::WUNTRACED).map_err(host("wait new stub"))? {
                WaitStatus::Stopped { sig: libc::SIGSTOP, .. } => break,
                WaitStatus::Stopped { .. } => continue,
                other => return Err(PlatformError::StubDied { pid, how: format!("{other:?}") }),
            }
        }
        let stub = Stub::attach(pid, self.stub)?;
        Ok(Arc::new(PtraceAddressSpace::new(stub, self.memfd)))
    }

    fn new_context(&self) -> Box<dyn Context> {
        Box::new(PtraceContext)
    }

    fn reserved_ranges(&self) -> &[(u64, u64)] {
        &self.reserved
    }

    fn initial_regs(&self) -> Regs {
        let mut r = zero_regs();
        r.cs = self.template.cs;
        r.ss = self.template.ss;
        r.ds = self.template.ds;
        r.es = self.template.es;
        r.fs = self.template.fs;
        r.gs = self.template.gs;
        r.eflags = 0x202;
        r
    }
}

fn zero_regs() -> Regs {
    // SAFETY: user_regs_struct is plain integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}
