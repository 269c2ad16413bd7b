//! The syscall table types and dispatch. The table itself (numbers, names,
//! handlers, argument kinds) is data supplied by the `syscalls` crate at
//! boot. Restart errnos a handler returns are resolved after signals are
//! handled, in one place (`signal_deliver`).

use std::sync::atomic::{AtomicU64, Ordering};

use crate::abi::Errno;
use crate::kernel::Task;

/// The six raw arguments and the number.
#[derive(Clone, Copy, Debug)]
pub struct SyscallArgs {
    /// Syscall number.
    pub nr: u64,
    /// Arguments in order: rdi, rsi, rdx, r10, r8, r9.
    pub a: [u64; 6],
}

/// A syscall's non-value outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyscallError {
    /// Fail with an errno (or, for ERESTARTSYS and friends, stop for a
    /// signal and then restart or fail with EINTR as Linux would).
    Errno(Errno),
    /// The handler set the registers itself (execve, rt_sigreturn): do not
    /// store a result.
    NoReturn,
    /// The thread exits (exit).
    Exit(i32),
    /// The whole thread group exits (exit_group).
    ExitGroup(i32),
}

impl From<Errno> for SyscallError {
    fn from(e: Errno) -> Self {
        SyscallError::Errno(e)
    }
}

/// What a handler returns.
pub type SyscallResult = Result<u64, SyscallError>;

/// A syscall handler.
pub type Handler = fn(&mut Task, &SyscallArgs) -> SyscallResult;

/// How to print an argument in `--strace`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// Signed decimal.
    Int,
    /// Hexadecimal (pointers, flags).
    Hex,
    /// Octal (modes).
    Oct,
    /// A file descriptor (AT_FDCWD shown by name).
    Fd,
    /// A NUL-terminated path.
    Path,
    /// A buffer the app passes in; its length is the next argument.
    InBuf,
    /// A buffer the kernel fills; printed after the call, length = result.
    OutBuf,
    /// A signal number.
    Signal,
}

/// How complete a syscall's implementation is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Support {
    /// Linux semantics.
    Full,
    /// Works for common uses; the note says what is missing.
    Partial(&'static str),
    /// Returns ENOSYS.
    Unimplemented,
}

/// One row of the syscall table.
#[derive(Clone, Copy, Debug)]
pub struct SyscallEntry {
    /// The x86_64 number.
    pub nr: u64,
    /// The name.
    pub name: &'static str,
    /// The handler (`None` for unimplemented).
    pub handler: Option<Handler>,
    /// Completeness.
    pub support: Support,
    /// Argument kinds for strace.
    pub args: &'static [ArgKind],
}

/// Highest syscall number + 1 we index.
pub const MAX_SYSCALL: usize = 512;

/// The dispatch table, indexed by number, built from the entries.
pub struct SyscallTable {
    by_nr: Vec<Option<&'static SyscallEntry>>,
    seen_unimplemented: [AtomicU64; MAX_SYSCALL / 64],
}

impl SyscallTable {
    /// Builds the index; panics on a duplicate or out-of-range number (a
    /// table bug caught at boot and by the syscalls crate's tests).
    pub fn new(entries: &'static [SyscallEntry]) -> SyscallTable {
        let mut by_nr = vec![None; MAX_SYSCALL];
        for e in entries {
            let slot = &mut by_nr[e.nr as usize];
            assert!(slot.is_none(), "duplicate syscall table entry {}", e.name);
            *slot = Some(e);
        }
        SyscallTable { by_nr, seen_unimplemented: std::array::from_fn(|_| AtomicU64::new(0)) }
    }

    /// The entry for `nr`.
    pub fn get(&self, nr: u64) -> Option<&'static SyscallEntry> {
        self.by_nr.get(nr as usize).copied().flatten()
    }

    /// Records a call to an unimplemented syscall; true the first time.
    pub fn first_miss(&self, nr: u64) -> bool {
        let n = (nr as usize).min(MAX_SYSCALL - 1);
        let bit = 1u64 << (n % 64);
        self.seen_unimplemented[n / 64].fetch_or(bit, Ordering::Relaxed) & bit == 0
    }
}

impl Task {
    /// Looks up and runs the handler for one syscall (printing it with
    /// `--strace`). Unimplemented syscalls return ENOSYS, logged once each.
    pub fn dispatch(&mut self, args: &SyscallArgs) -> SyscallResult {
        let entry = self.kernel.table.get(args.nr);
        let Some(handler) = entry.and_then(|e| e.handler) else {
            if self.kernel.table.first_miss(args.nr) {
                let name = entry.map_or("unknown", |e| e.name);
                tracing::warn!("unimplemented syscall: {name} (nr {}) returns ENOSYS", args.nr);
            }
            if self.kernel.strace {
                eprintln!(
                    "[{:>4}] {}(...) = -1 ENOSYS (not implemented)",
                    self.tid,
                    entry.map_or_else(|| format!("syscall_{}", args.nr), |e| e.name.to_string())
                );
            }
            return Err(Errno::ENOSYS.into());
        };
        if !self.kernel.strace {
            return handler(self, args);
        }
        let Some(entry) = entry else { return handler(self, args) };
        let pre = crate::kernel::strace::format_args(entry, args, &self.mm);
        let start = std::time::Instant::now();
        let tid = self.tid;
        let r = handler(self, args);
        crate::kernel::strace::print(tid, entry, args, pre, &r, &self.mm, start.elapsed());
        r
    }
}
