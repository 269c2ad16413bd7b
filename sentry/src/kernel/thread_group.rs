//! Thread groups (processes): what the threads of a process share.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::{Rlimit, SigAction};
use crate::kernel::creds::Credentials;
use crate::kernel::limits::{self, RLIM_NLIMITS};
use crate::kernel::signals::{self, NSIG};
use crate::mm::MemoryManager;
use crate::vfs::{FdTable, FsContext, Location};

/// Where the loader put argv and envp in memory (for `/proc/[pid]/cmdline`
/// and environ, which Linux reads from the process's memory).
#[derive(Clone, Copy, Debug, Default)]
pub struct ArgRanges {
    /// Start of the argv strings.
    pub arg_start: u64,
    /// End of the argv strings.
    pub arg_end: u64,
    /// Start of the envp strings.
    pub env_start: u64,
    /// End of the envp strings.
    pub env_end: u64,
}

/// Mutable per-process state.
pub struct TgState {
    /// The executable.
    pub exe: Option<Location>,
    /// The executable's path as shown by `/proc/[pid]/exe`.
    pub exe_path: Vec<u8>,
    /// Command name (comm), at most 15 bytes.
    pub comm: Vec<u8>,
    /// argv/envp locations.
    pub args: ArgRanges,
    /// Signal actions, indexed by signal - 1.
    pub actions: [SigAction; NSIG],
    /// Resource limits.
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// Filesystem context.
    pub fs: FsContext,
    /// Credentials (shared: path lookups take a reference without copying
    /// the groups).
    pub creds: Arc<Credentials>,
    /// PR_SET_DUMPABLE (1 by default).
    pub dumpable: u8,
    /// PR_SET_PDEATHSIG.
    pub pdeathsig: i32,
    /// PR_SET_NO_NEW_PRIVS.
    pub no_new_privs: bool,
    /// PR_SET_CHILD_SUBREAPER.
    pub subreaper: bool,
    /// PR_SET_KEEPCAPS.
    pub keepcaps: bool,
}

/// A process.
pub struct ThreadGroup {
    /// Pid in the sandbox's namespace.
    pub pid: i32,
    /// Parent's pid (0 for init).
    pub ppid: i32,
    /// Memory.
    pub mm: Arc<MemoryManager>,
    /// File descriptors.
    pub fds: Arc<FdTable>,
    state: Mutex<TgState>,
}

impl ThreadGroup {
    /// A new process.
    pub fn new(
        pid: i32,
        ppid: i32,
        mm: Arc<MemoryManager>,
        fds: Arc<FdTable>,
        fs: FsContext,
        creds: Credentials,
    ) -> Arc<ThreadGroup> {
        Arc::new(ThreadGroup {
            pid,
            ppid,
            mm,
            fds,
            state: Mutex::new(TgState {
                exe: None,
                exe_path: Vec::new(),
                comm: Vec::new(),
                args: ArgRanges::default(),
                actions: signals::default_actions(),
                rlimits: limits::defaults(),
                fs,
                creds: Arc::new(creds),
                dumpable: 1,
                pdeathsig: 0,
                no_new_privs: false,
                subreaper: false,
                keepcaps: false,
            }),
        })
    }

    /// Locks the mutable state.
    pub fn state(&self) -> MutexGuard<'_, TgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}
