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

mod stub;
mod stub_filter;
mod sys;

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam::channel::{bounded, unbounded, Sender};
use nix::errno::Errno;

use super::{AddressSpace, Context, Event, Platform, PlatformError, Prot, Regs};
use stub::StubPage;
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
        Ok(Arc::new(PtraceAddressSpace {
            stub,
            memfd: self.memfd,
            dead: AtomicBool::new(false),
            cpu: AtomicI32::new(-1),
        }))
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

extern "C" {
    /// glibc (2.35+): offset of the rseq area from the thread pointer.
    static __rseq_offset: isize;
}

/// The rseq signature glibc registers with on x86_64.
const RSEQ_SIG: u32 = 0x5305_3053;

/// Drops every capability of the calling process (raw syscalls only, for
/// the forked master stub). Stubs hold no privileges, and a sentry that has
/// dropped its own can still trace them (the capability LSM refuses to let
/// a tracer trace a process with capabilities it lacks).
fn drop_capabilities() {
    /// _LINUX_CAPABILITY_VERSION_3.
    const VERSION_3: u32 = 0x2008_0522;
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP takes integers only; failures are fine.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    let header: [u32; 2] = [VERSION_3, 0];
    let data: [u32; 6] = [0; 6];
    // SAFETY: capset reads a cap_user_header_t (version, pid) and two
    // cap_user_data_t (effective, permitted, inheritable) from valid arrays.
    unsafe { libc::syscall(libc::SYS_capset, header.as_ptr(), data.as_ptr()) };
}

/// Unregisters glibc's rseq area for the calling thread (raw syscalls only,
/// so it is safe in a forked child).
fn unregister_rseq() {
    let tp: u64;
    // SAFETY: reads the thread pointer (glibc stores the TCB's own address at
    // fs:0); no memory is written.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    // SAFETY: `__rseq_offset` is a constant glibc sets up before main.
    let addr = tp.wrapping_add(unsafe { __rseq_offset } as u64);
    for len in [32u32, 20] {
        // SAFETY: rseq with RSEQ_FLAG_UNREGISTER only clears the kernel's
        // registration; a mismatched length just fails with EINVAL.
        let r = unsafe { libc::syscall(libc::SYS_rseq, addr, len, 1u32, RSEQ_SIG) };
        if r == 0 {
            return;
        }
    }
}

fn zero_regs() -> Regs {
    // SAFETY: user_regs_struct is plain integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// A traced stub process.
struct Stub {
    pid: i32,
    tracer: i32,
    page: StubPage,
    template: Regs,
}

impl Stub {
    /// Attaches to the stopped stub `pid` from the calling thread.
    fn attach(pid: i32, page: StubPage) -> Result<Stub, PlatformError> {
        sys::seize(pid, libc::PTRACE_O_EXITKILL | libc::PTRACE_O_TRACESYSGOOD).map_err(host("PTRACE_SEIZE"))?;
        match sys::wait(pid, 0).map_err(host("wait attach"))? {
            WaitStatus::Stopped { .. } => {}
            other => return Err(PlatformError::StubDied { pid, how: format!("{other:?}") }),
        }
        let mut template = zero_regs();
        sys::get_regs(pid, &mut template).map_err(host("PTRACE_GETREGS"))?;
        tracing::debug!(
            pid,
            "stub attached: cs={:#x} ss={:#x} ds={:#x} es={:#x} fs={:#x} gs={:#x} eflags={:#x} rip={:#x} fs_base={:#x}",
            template.cs,
            template.ss,
            template.ds,
            template.es,
            template.fs,
            template.gs,
            template.eflags,
            template.rip,
            template.fs_base
        );
        Ok(Stub { pid, tracer: sys::gettid(), page, template })
    }

    fn check_thread(&self) -> Result<(), PlatformError> {
        if sys::gettid() != self.tracer {
            return Err(PlatformError::WrongThread);
        }
        Ok(())
    }

    /// Waits for the stub to stop after a resume, returning the stop signal.
    fn wait_stop(&self) -> Result<(i32, i32), PlatformError> {
        match sys::wait(self.pid, 0).map_err(host("waitpid stub"))? {
            WaitStatus::Stopped { sig, event } => Ok((sig, event)),
            WaitStatus::Exited(c) => Err(PlatformError::StubDied { pid: self.pid, how: format!("exited {c}") }),
            WaitStatus::Signaled(s) => {
                Err(PlatformError::StubDied { pid: self.pid, how: format!("killed by signal {s}") })
            }
        }
    }

    /// Executes a host syscall in the stub at `site` and returns its raw result.
    fn inject_at(&self, site: u64, nr: i64, args: [u64; 6]) -> Result<i64, PlatformError> {
        self.check_thread()?;
        let mut r = self.template;
        r.rip = site;
        r.rax = nr as u64;
        r.orig_rax = u64::MAX;
        r.rdi = args[0];
        r.rsi = args[1];
        r.rdx = args[2];
        r.r10 = args[3];
        r.r8 = args[4];
        r.r9 = args[5];
        sys::set_regs(self.pid, &r).map_err(host("PTRACE_SETREGS"))?;
        sys::cont(self.pid).map_err(host("PTRACE_CONT"))?;
        loop {
            let (sig, event) = self.wait_stop()?;
            if sig == libc::SIGTRAP && event == 0 {
                break;
            }
            if sig != libc::SIGSTOP {
                let mut cur = zero_regs();
                let _ = sys::get_regs(self.pid, &mut cur);
                let si = sys::get_siginfo(self.pid).ok();
                // SAFETY: reading the fault address of a siginfo the kernel filled.
                let (code, addr) = si.map(|s| (s.si_code, unsafe { s.si_addr() } as u64)).unwrap_or((0, 0));
                tracing::debug!(
                    pid = self.pid,
                    sig,
                    event,
                    code,
                    addr = format_args!("{addr:#x}"),
                    rip = format_args!("{:#x}", cur.rip),
                    rsp = format_args!("{:#x}", cur.rsp),
                    rax = format_args!("{:#x}", cur.rax),
                    "unexpected stop during injection"
                );
                if matches!(sig, libc::SIGSEGV | libc::SIGILL | libc::SIGBUS) {
                    return Err(PlatformError::StubDied {
                        pid: self.pid,
                        how: format!("fault {sig} at {:#x}", cur.rip),
                    });
                }
            }
            // A signal from outside (e.g. SIGINT from a terminal) interrupted
            // the injection: suppress it and keep going.
            sys::cont(self.pid).map_err(host("PTRACE_CONT"))?;
        }
        sys::get_regs(self.pid, &mut r).map_err(host("PTRACE_GETREGS"))?;
        Ok(r.rax as i64)
    }

    fn inject(&self, name: &'static str, nr: i64, args: [u64; 6]) -> Result<i64, PlatformError> {
        let r = self.inject_at(self.page.syscall_site, nr, args)?;
        if (-4095..0).contains(&r) {
            return Err(PlatformError::Injected { name, errno: Errno::from_raw(-r as i32) });
        }
        Ok(r)
    }

    /// Makes a new stub process by injecting clone; returns its pid.
    fn clone_stub(&self) -> Result<i32, PlatformError> {
        let flags = (libc::CLONE_PARENT | libc::SIGCHLD) as u64;
        let r = self.inject_at(self.page.clone_site, libc::SYS_clone, [flags, 0, 0, 0, 0, 0])?;
        if r < 0 {
            return Err(PlatformError::Injected { name: "clone", errno: Errno::from_raw(-r as i32) });
        }
        Ok(r as i32)
    }

    fn kill(&self) {
        sys::kill(self.pid);
        // Reap it; we are its tracer (and our process is its parent).
        let _ = sys::wait(self.pid, 0);
    }
}

/// An address space backed by a stub process.
pub struct PtraceAddressSpace {
    stub: Stub,
    memfd: i32,
    dead: AtomicBool,
    /// The CPU the stub is bound to (-1: none yet).
    cpu: AtomicI32,
}

impl PtraceAddressSpace {
    /// Keeps the stub on the CPU its tracer runs on, as gVisor does: each
    /// stop and resume then wakes a thread on the same CPU instead of
    /// sending an interprocessor interrupt, which is slow (and very slow
    /// under virtualization).
    ///
    /// The tracer thread is bound to the same CPU the first time: the
    /// scheduler would otherwise keep moving it away from its stub (measured
    /// here: 55 µs per trapped syscall unbound, 10 µs bound).
    fn follow_cpu(&self) {
        let cpu = sys::current_cpu();
        if cpu >= 0 && self.cpu.swap(cpu, Ordering::Relaxed) != cpu {
            sys::bind_to_cpu(0, cpu);
            sys::bind_to_cpu(self.stub.pid, cpu);
        }
    }

    /// Runs the application thread until the next event.
    fn run(&self, regs: &mut Regs) -> Result<Event, PlatformError> {
        self.stub.check_thread()?;
        let pid = self.stub.pid;
        self.follow_cpu();
        sys::set_regs(pid, regs).map_err(host("PTRACE_SETREGS"))?;
        sys::sysemu(pid).map_err(host("PTRACE_SYSEMU"))?;
        loop {
            let (sig, event) = self.stub.wait_stop()?;
            if sig == libc::SIGTRAP | 0x80 {
                sys::get_regs(pid, regs).map_err(host("PTRACE_GETREGS"))?;
                return Ok(Event::Syscall);
            }
            if event != 0
                || sig == libc::SIGSTOP
                || sig == libc::SIGTSTP
                || sig == libc::SIGTTIN
                || sig == libc::SIGTTOU
            {
                // Group-stop or ptrace event: not the application's doing.
                sys::sysemu(pid).map_err(host("PTRACE_SYSEMU"))?;
                continue;
            }
            sys::get_regs(pid, regs).map_err(host("PTRACE_GETREGS"))?;
            let si = sys::get_siginfo(pid).map_err(host("PTRACE_GETSIGINFO"))?;
            let synchronous = matches!(sig, libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL | libc::SIGTRAP)
                && si.si_code > 0;
            if synchronous {
                // SAFETY: for these signals with a kernel si_code, the union
                // holds the fault address.
                let addr = unsafe { si.si_addr() } as u64;
                return Ok(Event::Fault { signo: sig, code: si.si_code, addr });
            }
            return Ok(Event::Interrupt { signo: sig });
        }
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn map_file(&self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        let flags = (libc::MAP_SHARED | libc::MAP_FIXED) as u64;
        self.stub.inject("mmap", libc::SYS_mmap, [addr, len, prot as u64, flags, self.memfd as u64, offset])?;
        Ok(())
    }

    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.stub.inject("munmap", libc::SYS_munmap, [addr, len, 0, 0, 0, 0]).map(drop)
    }

    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.stub.inject("mprotect", libc::SYS_mprotect, [addr, len, prot as u64, 0, 0, 0]).map(drop)
    }

    fn release(&self) {
        if !self.dead.swap(true, Ordering::SeqCst) {
            if self.stub.check_thread().is_ok() {
                self.stub.kill();
            } else {
                sys::kill(self.stub.pid);
            }
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        self.release();
    }
}

/// A ptrace context: the thread state lives in the stub; this only dispatches.
struct PtraceContext;

impl Context for PtraceContext {
    fn switch(&mut self, aspace: &dyn AddressSpace, regs: &mut Regs) -> Result<Event, PlatformError> {
        let a = aspace.as_any().downcast_ref::<PtraceAddressSpace>().ok_or(PlatformError::WrongThread)?;
        a.run(regs)
    }
}
