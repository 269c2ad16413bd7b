//! The kernel: the [`Kernel`] (global state: platform, memory file, syscall
//! table, pid namespace, mounts), thread groups, tasks and the task loop.
//!
//! Lock order: `Kernel::thread_groups` before `ThreadGroup` locks before
//! `MemoryManager` and VFS locks.

pub mod creds;
pub mod futex;
pub mod limits;
pub mod run;
pub mod signals;
pub mod strace;
pub mod syscall;
pub mod task;
pub mod thread_group;
pub mod uts;
pub mod vdso;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Instant, SystemTime};

use crate::mm::MemoryFile;
use crate::platform::Platform;
use crate::vfs::Location;
pub use syscall::{ArgKind, Handler, Support, SyscallArgs, SyscallEntry, SyscallError, SyscallResult, SyscallTable};
pub use task::Task;
pub use thread_group::ThreadGroup;

/// Global sandbox state.
pub struct Kernel {
    /// The platform.
    pub platform: Arc<dyn Platform>,
    /// The memory file.
    pub mf: Arc<MemoryFile>,
    /// The syscall table.
    pub table: SyscallTable,
    /// Print every syscall (`--strace`).
    pub strace: bool,
    /// The root of the mount namespace.
    pub root: Mutex<Option<Location>>,
    /// Every mount, in mount order (for `/proc/[pid]/mounts`).
    pub mounts: Mutex<Vec<Arc<crate::vfs::Mount>>>,
    /// Identity for uname.
    pub uts: uts::Uts,
    /// Monotonic time at boot.
    pub boot: Instant,
    /// Wall time at boot.
    pub boot_wall: SystemTime,
    /// Futex wait queues.
    pub futexes: futex::Futexes,
    /// The vDSO and its time page.
    pub vdso: Arc<vdso::Vdso>,
    /// The CPUs the sandbox may use, as a kernel cpumask (taken at boot,
    /// before the platform binds threads to CPUs).
    pub cpu_mask: Vec<u8>,
    thread_groups: Mutex<BTreeMap<i32, Weak<ThreadGroup>>>,
    next_pid: AtomicI32,
}

impl Kernel {
    /// A kernel with no processes yet.
    pub fn new(
        platform: Arc<dyn Platform>,
        mf: Arc<MemoryFile>,
        table: SyscallTable,
        strace: bool,
        uts: uts::Uts,
    ) -> Result<Arc<Kernel>, crate::abi::Errno> {
        let vdso = vdso::Vdso::new(mf.clone())?;
        Ok(Arc::new(Kernel {
            vdso,
            platform,
            mf,
            table,
            strace,
            root: Mutex::new(None),
            mounts: Mutex::new(Vec::new()),
            uts,
            boot: Instant::now(),
            boot_wall: SystemTime::now(),
            futexes: futex::Futexes::default(),
            cpu_mask: boot_cpu_mask(),
            thread_groups: Mutex::new(BTreeMap::new()),
            next_pid: AtomicI32::new(1),
        }))
    }

    /// Allocates a pid in the sandbox's pid namespace.
    pub fn alloc_pid(&self) -> i32 {
        self.next_pid.fetch_add(1, Ordering::Relaxed)
    }

    /// Registers a thread group under its pid.
    pub fn register(&self, tg: &Arc<ThreadGroup>) {
        self.thread_groups.lock().unwrap_or_else(|e| e.into_inner()).insert(tg.pid, Arc::downgrade(tg));
    }

    /// Removes an exited thread group.
    pub fn unregister(&self, pid: i32) {
        self.thread_groups.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
    }

    /// The live thread group with `pid`.
    pub fn thread_group(&self, pid: i32) -> Option<Arc<ThreadGroup>> {
        self.thread_groups.lock().unwrap_or_else(|e| e.into_inner()).get(&pid).and_then(|w| w.upgrade())
    }

    /// Pids of live thread groups, ascending.
    pub fn pids(&self) -> Vec<i32> {
        self.thread_groups
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, w)| w.strong_count() > 0)
            .map(|(&p, _)| p)
            .collect()
    }

    /// Number of live thread groups.
    pub fn process_count(&self) -> usize {
        self.pids().len()
    }

    /// The root mount location.
    pub fn root(&self) -> Option<Location> {
        self.root.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The calling thread's CPU affinity as a kernel cpumask (whole u64 words).
fn boot_cpu_mask() -> Vec<u8> {
    let set = nix::sched::sched_getaffinity(nix::unistd::Pid::from_raw(0)).ok();
    let max = nix::sched::CpuSet::count();
    let cpus: Vec<usize> = match &set {
        Some(s) => (0..max).filter(|&i| s.is_set(i).unwrap_or(false)).collect(),
        None => vec![0],
    };
    let n = cpus.iter().max().map_or(1, |m| m + 1);
    let mut bytes = vec![0u8; n.div_ceil(64) * 8];
    for i in cpus {
        bytes[i / 8] |= 1 << (i % 8);
    }
    bytes
}

/// The CPU the calling sentry thread (and so the task's stub, which the
/// platform keeps on the same CPU) runs on.
pub fn current_cpu() -> u32 {
    // SAFETY: sched_getcpu has no preconditions.
    let c = unsafe { libc::sched_getcpu() };
    c.max(0) as u32
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<ThreadGroup>>> = const { RefCell::new(None) };
}

/// Sets the thread group the calling sentry thread runs (Linux's `current`),
/// used by /proc/self.
pub fn set_current(tg: Option<Arc<ThreadGroup>>) {
    CURRENT.with(|c| *c.borrow_mut() = tg);
}

/// The thread group the calling sentry thread runs.
pub fn current() -> Option<Arc<ThreadGroup>> {
    CURRENT.with(|c| c.borrow().clone())
}
