//! Platforms run application code and return control to the sentry at every
//! system call, fault or interrupt.
//!
//! A [`Platform`] makes [`AddressSpace`]s (one per application address
//! space: its mappings are all ranges of the sentry's memory file) and
//! [`Context`]s (one per application thread: it runs the thread in an address
//! space until the next [`Event`]).
//!
//! The contract, which every platform (ptrace today; systrap and KVM later)
//! implements without the kernel or the handlers knowing which one runs:
//!
//! - A `Context` belongs to one sentry thread, the task's, and every method
//!   is called from it. It may run in different address spaces over its life
//!   (`execve` gives a task a new one); [`Context::switch`] moves it.
//! - An `AddressSpace` may be changed by any task that runs in it, from that
//!   task's own sentry thread, concurrently with other threads running
//!   application code in it. The kernel serializes changes to overlapping
//!   ranges (the memory manager's lock).
//! - [`Interrupt::interrupt`] may be called from any thread at any time: the
//!   context's next or current `switch` returns [`Event::Interrupt`] soon.
//! - Floating-point state is part of [`CpuState`] but is fetched lazily:
//!   [`Context::load_fp`] reads it when the kernel needs it (signal frames,
//!   clone); a changed FP image is written back before the thread next runs.
//!
//! The ptrace platform ([`ptrace`]) is the reference implementation.

pub mod ptrace;

use std::any::Any;
use std::sync::Arc;

/// Application registers (the x86_64 `user_regs_struct`).
pub type Regs = libc::user_regs_struct;

/// All registers zero (a valid, if useless, register set).
pub fn zero_regs() -> Regs {
    // SAFETY: user_regs_struct is plain integers; all-zero is valid.
    unsafe { std::mem::zeroed() }
}

/// A thread's CPU state: general registers, and the floating-point/vector
/// state in the kernel's XSAVE (user ABI, standard format) layout.
pub struct CpuState {
    /// General registers, current whenever the thread is in the sentry.
    pub regs: Regs,
    fp: Box<[u8]>,
    /// `fp` holds the thread's current FP state.
    fp_loaded: bool,
    /// `fp` must be written to the thread before it runs again.
    fp_dirty: bool,
}

impl Clone for CpuState {
    fn clone(&self) -> Self {
        CpuState { regs: self.regs, fp: self.fp.clone(), fp_loaded: self.fp_loaded, fp_dirty: self.fp_dirty }
    }
}

impl CpuState {
    /// A state with `regs` and the FP image `fp` (which the thread gets when
    /// it first runs).
    pub fn new(regs: Regs, fp: &[u8]) -> CpuState {
        CpuState { regs, fp: fp.into(), fp_loaded: true, fp_dirty: true }
    }

    /// The FP image, if loaded (see [`Context::load_fp`]).
    pub fn fp(&self) -> Option<&[u8]> {
        self.fp_loaded.then_some(&self.fp[..])
    }

    /// Replaces the FP image; the thread gets it when it next runs. `data`
    /// shorter than the image leaves the rest as it was.
    pub fn set_fp(&mut self, data: &[u8]) {
        let n = data.len().min(self.fp.len());
        self.fp[..n].copy_from_slice(&data[..n]);
        self.fp_loaded = true;
        self.fp_dirty = true;
    }

    /// Size of the FP image.
    pub fn fp_len(&self) -> usize {
        self.fp.len()
    }

    /// For platforms: the image buffer to fill when loading.
    pub fn fp_buf_for_load(&mut self) -> &mut [u8] {
        &mut self.fp
    }

    /// For platforms: marks the image loaded from the thread.
    pub fn mark_fp_loaded(&mut self) {
        self.fp_loaded = true;
    }

    /// For platforms: the image to write before running, if it changed;
    /// clears the flag.
    pub fn take_dirty_fp(&mut self) -> Option<&[u8]> {
        if self.fp_dirty {
            self.fp_dirty = false;
            Some(&self.fp)
        } else {
            None
        }
    }

    /// For platforms: the loaded image must be written to the thread before
    /// it runs (it moved to another host thread).
    pub fn mark_fp_dirty(&mut self) {
        debug_assert!(self.fp_loaded);
        self.fp_dirty = self.fp_loaded;
    }

    /// For platforms: the thread ran, so the image is stale.
    pub fn mark_fp_stale(&mut self) {
        self.fp_loaded = false;
    }
}

/// How a faulting access touched memory, when the platform knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read.
    Read,
    /// A write.
    Write,
    /// An instruction fetch.
    Exec,
}

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
        /// `si_code` of the fault as the host saw it.
        code: i32,
        /// Faulting address (`si_addr`).
        addr: u64,
        /// The access, when the platform knows it (ptrace does not).
        access: Option<Access>,
    },
    /// [`Interrupt::interrupt`] was called (or a spurious wake-up): the thread
    /// stopped where it was; nothing is lost by running it again.
    Interrupt,
    /// A signal from the host that the sentry did not send (for example one
    /// a user sent to a stub process). Not delivered; the sentry decides.
    HostSignal {
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
    #[error("stub {pid} died: {how}")]
    StubDied {
        /// Host pid (or tid) of the stub.
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
    /// The platform must be created while the process has one thread.
    #[error("platform created with {0} threads running; must be single-threaded")]
    NotSingleThreaded(usize),
    /// The stub factory thread is gone.
    #[error("stub factory unavailable")]
    FactoryGone,
    /// An address space of another platform was passed in.
    #[error("address space of another platform")]
    ForeignAddressSpace,
}

/// Memory protections, as `PROT_*` bits.
pub type Prot = i32;

/// One change to an address space, for [`AddressSpace::apply`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapOp {
    /// Map `len` bytes of the memory file at `offset` to `addr` with `prot`.
    Map {
        /// Address.
        addr: u64,
        /// Length.
        len: u64,
        /// Protections.
        prot: Prot,
        /// Memory-file offset.
        offset: u64,
    },
    /// Unmap `[addr, addr+len)`.
    Unmap {
        /// Address.
        addr: u64,
        /// Length.
        len: u64,
    },
    /// Change the protections of mapped `[addr, addr+len)`.
    Protect {
        /// Address.
        addr: u64,
        /// Length.
        len: u64,
        /// Protections.
        prot: Prot,
    },
}

/// Makes address spaces and contexts.
pub trait Platform: Send + Sync {
    /// The platform's name, as given to `--platform`.
    fn name(&self) -> &'static str;

    /// Creates an empty address space (nothing mapped but the platform's
    /// reserved ranges). Callable from any thread. Dropping the last
    /// reference destroys it.
    fn new_address_space(&self) -> Result<Arc<dyn AddressSpace>, PlatformError>;

    /// Creates a context for one application thread; it belongs to the
    /// calling thread from its first `switch`.
    fn new_context(&self) -> Box<dyn Context>;

    /// Ranges of the application address space the platform reserves for
    /// itself (the stub page); the sentry never maps application memory there.
    fn reserved_ranges(&self) -> &[(u64, u64)];

    /// Registers for a fresh thread: segment selectors and flags valid for
    /// user mode, everything else zero.
    fn initial_regs(&self) -> Regs;

    /// The FP image of a fresh thread (x87 and SSE in their reset state).
    fn initial_fp(&self) -> &[u8];

    /// The XSAVE features the host lets application threads use (XCR0).
    fn xfeatures(&self) -> u64;
}

/// An application address space. All mappings are ranges of the sentry's
/// memory file.
///
/// Preconditions for every method: `addr` and `len` are page aligned, `len` is
/// non-zero, and the range lies outside [`Platform::reserved_ranges`].
pub trait AddressSpace: Send + Sync + Any {
    /// Maps `[addr, addr+len)` to the memory file at `offset` with `prot`,
    /// replacing whatever was mapped there.
    fn map_file(&self, addr: u64, len: u64, prot: Prot, offset: u64) -> Result<(), PlatformError> {
        self.apply(&[MapOp::Map { addr, len, prot, offset }])
    }

    /// Unmaps `[addr, addr+len)`; unmapped parts are ignored.
    fn unmap(&self, addr: u64, len: u64) -> Result<(), PlatformError> {
        self.apply(&[MapOp::Unmap { addr, len }])
    }

    /// Changes the protection of `[addr, addr+len)`, which must be mapped
    /// without holes.
    fn protect(&self, addr: u64, len: u64, prot: Prot) -> Result<(), PlatformError> {
        self.apply(&[MapOp::Protect { addr, len, prot }])
    }

    /// Applies `ops` in order (platforms may batch them). Stops at the first
    /// failure.
    fn apply(&self, ops: &[MapOp]) -> Result<(), PlatformError>;

    /// Makes ready, from the calling thread if it can, what a new thread of
    /// this address space needs to start running, so that the new task's
    /// first switch is quick. Optional: a failure only makes it slower.
    fn prepare_thread(&self) {}

    /// For platform-internal downcasts.
    fn as_any(&self) -> &dyn Any;
}

/// Wakes a context out of application code, from any thread.
pub trait Interrupt: Send + Sync {
    /// Makes the context's current or next `switch` return
    /// [`Event::Interrupt`] promptly.
    fn interrupt(&self);
}

/// Runs one application thread.
pub trait Context: Send {
    /// Runs the thread with `st` in `aspace` until the next [`Event`], then
    /// stores the thread's registers back into `st` (FP state stays in the
    /// thread until [`load_fp`](Self::load_fp)).
    ///
    /// Preconditions: `aspace` was made by the same platform; the caller is
    /// the context's thread. On `Err`, the thread is unusable (the kernel
    /// kills the task).
    fn switch(&mut self, aspace: &Arc<dyn AddressSpace>, st: &mut CpuState) -> Result<Event, PlatformError>;

    /// Loads the thread's FP state into `st` (a no-op if already loaded).
    fn load_fp(&mut self, st: &mut CpuState) -> Result<(), PlatformError>;

    /// The handle other threads use to interrupt this context.
    fn interrupter(&self) -> Arc<dyn Interrupt>;

    /// Releases the platform's thread (the task exits). Also done on drop.
    fn release(&mut self);

    /// Whether the current thread runs on `cpu` for the application's view
    /// of getcpu/rseq: the CPU the context last ran on.
    fn cpu(&self) -> u32;
}
