//! Platforms run application code and return control to the sentry at every
//! system call, fault or signal.
//!
//! A [`Platform`] makes [`AddressSpace`]s (which hold the application's memory
//! mappings, all of them ranges of the sentry's memory file) and [`Context`]s
//! (which run an application thread in an address space until the next event).
//!
//! The ptrace platform ([`ptrace`]) is the reference implementation.

pub mod ptrace;

use std::any::Any;
use std::sync::Arc;

/// Application registers (the x86_64 `user_regs_struct`).
pub type Regs = libc::user_regs_struct;

/// Why a [`Context::switch`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The thread executed a `syscall` instruction. `regs.orig_rax` holds the
    /// number, `rdi, rsi, rdx, r10, r8, r9` the arguments and `rip` points after
    /// the instruction; the sentry writes the result into `regs.rax`. The host
    /// kernel did not execute the syscall.
    Syscall,
    /// A synchronous fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP) raised by
    /// the thread's own instruction; nothing was delivered to the application.
    Fault {
        /// Signal number.
        signo: i32,
        /// `si_code` of the fault.
        code: i32,
        /// Faulting address (`si_addr`).
        addr: u64,
    },
    /// An asynchronous signal sent to the stub by the host (for example
    /// SIGINT from a terminal). Not delivered; the sentry decides.
    Interrupt {
        /// Signal number.
        signo: i32,
    },
}

/// Errors of the platform. These are sentry failures, never the application's.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// A host system call made by the platform failed.
    #[error("{op}: {errno}")]
    Host {
        /// The host operation.
        op: &'static str,
        /// The host errno.
        errno: nix::errno::Errno,
    },
    /// The stub process died (killed from outside, or out of memory).
    #[error("stub process {pid} died: {how}")]
    StubDied {
        /// Host pid of the stub.
        pid: i32,
        /// Exit status or signal, as text.
        how: String,
    },
    /// An injected system call returned an error.
    #[error("injected {name} in stub failed: {errno}")]
    Injected {
        /// Syscall name.
        name: &'static str,
        /// The errno the host returned.
        errno: nix::errno::Errno,
    },
    /// A method was called from a thread other than the stub's tracer.
    #[error("address space used from a thread that does not trace its stub")]
    WrongThread,
    /// The platform must be created while the process has one thread.
    #[error("platform created with {0} threads running; must be single-threaded")]
    NotSingleThreaded(usize),
    /// The stub factory thread is gone.
    #[error("stub factory unavailable")]
    FactoryGone,
}

/// Memory protections, as `PROT_*` bits.
pub type Prot = i32;

/// Makes address spaces and contexts.
pub trait Platform: Send + Sync {
    /// The platform's name, as given to `--platform`.
    fn name(&self) -> &'static str;

    /// Creates an empty address space. The calling thread becomes the only
    /// thread that may use it (and run contexts in it).
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError>;

    /// Creates a context for one application thread.
    fn new_context(&self) -> Box<dyn Context>;

    /// Ranges of the application address space the platform reserves for
    /// itself (the stub page); the sentry never maps application memory there.
    fn reserved_ranges(&self) -> &[(u64, u64)];

    /// Registers for a fresh thread: segment selectors and flags valid for
    /// user mode, everything else zero.
    fn initial_regs(&self) -> Regs;
}

/// An application address space. All mappings are ranges of the sentry's
/// memory file.
///
/// Preconditions for every method: `addr` and `len` are page aligned, `len` is
/// non-zero, the range lies outside [`Platform::reserved_ranges`], and the
/// caller is the thread that created the address space.
pub trait AddressSpace: Send + Sync + Any {
    /// Maps `[addr, addr+len)` to the memory file at `offset` with `prot`,
    /// replacing whatever was mapped there.
    fn map_file(&self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError>;

    /// Unmaps `[addr, addr+len)`; unmapped parts are ignored.
    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError>;

    /// Changes the protection of mapped `[addr, addr+len)`.
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError>;

    /// Destroys the address space (kills the stub). Idempotent.
    fn release(&self);

    /// For platform-internal downcasts.
    fn as_any(&self) -> &dyn Any;
}

/// Runs one application thread.
pub trait Context: Send {
    /// Runs the thread with `regs` in `aspace` until the next [`Event`], then
    /// stores the thread's registers back into `regs`.
    ///
    /// Preconditions: `aspace` was made by the same platform and the calling
    /// thread created it. On `Err`, the address space is unusable.
    fn switch(&mut self, aspace: &dyn AddressSpace, regs: &mut Regs) -> Result<Event, PlatformError>;
}
