//! The kernel: the [`Kernel`] (global state: platform, memory file, syscall
//! table, the pid namespace, mounts), processes and tasks, signals, the
//! blocking primitive, and the task run loop.
//!
//! Files: `task` (tasks), `thread_group` (processes), `task_set` (the pid
//! namespace and process tree), `block` (blocking and wait queues),
//! `signals`, `signal_send`, `signal_deliver`, `signal_frame` (signals),
//! `run` (the run loop), `syscall` (dispatch and restarts), `clone`,
//! `exec`, `exit`, `wait`, `stop` (job control), `futex`, `timers`,
//! `cpu_clock` (CPU time, its clocks and the CPU-timer ticker), `freezer`
//! (pausing one container of a pod), `trap`
//! (what a fault signal's frame says about the trap).
//!
//! Lock order: `Kernel::tasks` (the tree) before `ThreadGroup::sig` before
//! `TaskShared::signals` before a handler table before `TaskShared`'s
//! resources before `ThreadGroup::state`; a process's timers
//! (`ProcessTimers`) are taken under its signal lock and never hold it or
//! `state` while reading a CPU clock; all of these before
//! `MemoryManager` and VFS locks. Wait-queue locks are leaves: wakers only
//! set flags and unpark.

pub mod block;
pub mod clone;
pub mod cpu_clock;
pub mod exec;
pub mod exit;
pub mod fasync;
pub mod freezer;
pub mod futex;
mod futex_pi;
mod futex_robust;
pub mod limits;
pub mod run;
pub mod signal_deliver;
pub mod signal_frame;
pub mod signal_send;
pub mod signals;
pub mod stop;
pub mod strace;
pub mod syscall;
pub mod task;
pub mod task_set;
mod task_threads;
pub mod thread_group;
pub mod timers;
pub mod trap;
pub mod uts;
pub mod vdso;
pub mod wait;

use std::cell::RefCell;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Instant, SystemTime};

use crate::mm::MemoryFile;
use crate::platform::Platform;
use crate::vfs::Location;
pub use syscall::{ArgKind, Handler, Support, SyscallArgs, SyscallEntry, SyscallError, SyscallResult, SyscallTable};
pub use task::{Task, TaskShared};
pub use thread_group::{ExitStatus, ThreadGroup};

/// The default most tasks a sandbox may have at once.
pub const DEFAULT_MAX_TASKS: usize = 16384;

/// A user namespace's maps, as /proc/PID/uid_map, gid_map and setgroups
/// show them.
#[derive(Clone, Debug, Default)]
pub struct IdMaps {
    /// uid_map's text.
    pub uid: Vec<u8>,
    /// gid_map's text.
    pub gid: Vec<u8>,
    /// setgroups is "deny".
    pub setgroups_denied: bool,
}

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
    /// The pid namespace.
    pub tasks: task_set::TaskSet,
    /// Kernel parameters a container's spec set (`linux.sysctl`) that the
    /// sandbox keeps and shows in /proc/sys, by dotted name.
    pub sysctl: Mutex<std::collections::BTreeMap<String, String>>,
    /// The most tasks at once (the sandbox's pids limit: a container's
    /// `linux.resources.pids.limit`, counted as Linux's pids cgroup counts,
    /// in threads).
    max_tasks: std::sync::atomic::AtomicUsize,
    /// The spec's limits the cgroup filesystem shows (the host cgroup
    /// holds the sandbox to them).
    shown: Mutex<crate::fs::cgroupfs::ShownLimits>,
    /// The cgroup filesystem is cgroup v1's (as the host's), not v2's.
    cgroup_v1: std::sync::atomic::AtomicBool,
    /// The user namespace's uid and gid maps as /proc/PID/uid_map and
    /// gid_map show them (the container's, from its spec, when it has a
    /// user namespace; else the identity of an initial namespace).
    id_maps: std::sync::OnceLock<IdMaps>,
    /// The timer thread.
    pub timers: timers::TimerWheel,
    /// Processes with CPU-time timers or limits.
    pub cpu_ticker: cpu_clock::CpuTicker,
    /// The IPC namespace.
    pub ipc: Arc<crate::ipc::IpcNamespace>,
    /// The abstract namespace of unix sockets.
    pub unix_names: Arc<crate::net::unix::Namespace>,
    /// The terminals: pts pairs and controlling terminals.
    pub ttys: Arc<crate::fs::tty::Ttys>,
    /// CPU time of the tasks that exited (for /proc/stat), by the
    /// container of the pod they were in.
    pub exited_cpu: Mutex<std::collections::BTreeMap<u32, thread_group::Usage>>,
    /// Every task is held before it next returns to application code
    /// (`runsc pause`, the cgroup freezer's semantics: signals queue,
    /// SIGKILL still kills).
    frozen: std::sync::atomic::AtomicBool,
    /// Tasks held by the freezer now.
    pub(crate) held: std::sync::atomic::AtomicUsize,
    /// The freezer of single containers of a pod.
    pub(crate) freezer: freezer::ContainerFreezer,
    done: Mutex<Option<ExitStatus>>,
    done_cv: Condvar,
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
        Ok(Arc::new_cyclic(|k| Kernel {
            ttys: crate::fs::tty::Ttys::new(k.clone()),
            exited_cpu: Mutex::new(Default::default()),
            frozen: Default::default(),
            held: Default::default(),
            freezer: Default::default(),
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
            tasks: task_set::TaskSet::default(),
            sysctl: Mutex::new(Default::default()),
            max_tasks: std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_TASKS),
            shown: Default::default(),
            cgroup_v1: Default::default(),
            id_maps: Default::default(),
            timers: timers::TimerWheel::default(),
            cpu_ticker: Default::default(),
            ipc: Default::default(),
            unix_names: crate::net::unix::Namespace::new(),
            done: Mutex::new(None),
            done_cv: Condvar::new(),
        }))
    }

    /// The root mount location.
    pub fn root(&self) -> Option<Location> {
        self.root.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// CPU time used by every task so far, live or gone (/proc/stat).
    pub fn cpu_usage(&self) -> thread_group::Usage {
        self.cpu_usage_of(None)
    }

    /// CPU time used so far by the tasks of one container of the pod,
    /// live or gone.
    pub fn cpu_usage_in(&self, container: u32) -> thread_group::Usage {
        self.cpu_usage_of(Some(container))
    }

    fn cpu_usage_of(&self, container: Option<u32>) -> thread_group::Usage {
        let mut u = thread_group::Usage::default();
        for (tag, used) in self.exited_cpu.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            if container.is_none_or(|c| c == *tag) {
                u += *used;
            }
        }
        let tree = self.tasks.read();
        for t in tree.tasks.values() {
            if container.is_none_or(|c| tree.procs.get(&t.tg.pid).is_some_and(|p| p.container == c)) {
                u += t.cpu.sample();
            }
        }
        u
    }

    /// Resident bytes of container `container`'s processes: the touched
    /// memory-file pages behind their address spaces, each counted once
    /// however many of them map it (as a memory cgroup charges a page
    /// once). Memory no process maps (tmpfs files, unmapped page cache)
    /// is the pod's, not a container's.
    pub fn memory_in(&self, container: u32) -> u64 {
        let mut mms: Vec<Arc<crate::mm::MemoryManager>> = Vec::new();
        {
            let tree = self.tasks.read();
            for t in tree.tasks.values() {
                if tree.procs.get(&t.tg.pid).is_some_and(|p| p.container == container) {
                    let mm = t.resources().mm;
                    if !mms.iter().any(|m| Arc::ptr_eq(m, &mm)) {
                        mms.push(mm);
                    }
                }
            }
        }
        let mut ranges: Vec<(u64, u64)> = mms.iter().flat_map(|m| m.backing()).collect();
        ranges.sort_unstable();
        let mut total = 0;
        let mut run: Option<(u64, u64)> = None;
        for (off, len) in ranges {
            let end = off + len;
            match &mut run {
                Some((_, e)) if off <= *e => *e = (*e).max(end),
                _ => {
                    if let Some((s, e)) = run.replace((off, end)) {
                        total += self.mf.resident_bytes(s, e - s);
                    }
                }
            }
        }
        if let Some((s, e)) = run {
            total += self.mf.resident_bytes(s, e - s);
        }
        total
    }

    /// Every distinct fd table of the sandbox's live tasks (for the rare
    /// questions about all open files: leases, busy mounts).
    pub fn fd_tables(&self) -> Vec<Arc<crate::vfs::fdtable::FdTable>> {
        let tree = self.tasks.read();
        let mut out: Vec<Arc<crate::vfs::fdtable::FdTable>> = Vec::new();
        for t in tree.tasks.values() {
            let fds = t.resources().fds;
            if !out.iter().any(|x| Arc::ptr_eq(x, &fds)) {
                out.push(fds);
            }
        }
        out
    }

    /// Number of processes (live and zombie).
    pub fn process_count(&self) -> usize {
        self.tasks.read().procs.len()
    }

    /// Pids of every process, ascending.
    pub fn pids(&self) -> Vec<i32> {
        self.tasks.pids()
    }

    /// Pids of the processes of one container of the pod, ascending.
    pub fn pids_in(&self, container: u32) -> Vec<i32> {
        self.tasks.pids_in(container)
    }

    /// A process's parent pid, real uid and command name (its main
    /// thread's, or any live thread's), for `runsc ps`; None if it is gone
    /// or a zombie.
    pub fn process_summary(&self, pid: i32) -> Option<(i32, u32, Vec<u8>)> {
        let tree = self.tasks.read();
        let p = tree.procs.get(&pid).filter(|p| p.zombie.is_none())?;
        let t = tree.tasks.get(&pid).cloned().or_else(|| p.tg.signals().threads.first().cloned())?;
        Some((p.parent, t.resources().creds.uid, t.resources().comm))
    }

    /// The process with `pid`.
    pub fn thread_group(&self, pid: i32) -> Option<Arc<ThreadGroup>> {
        self.tasks.thread_group(pid)
    }

    /// Starts `task` on a sentry thread of its own.
    pub fn spawn(task: Task) -> Result<(), crate::abi::Errno> {
        task_threads::start(task).map_err(|e| {
            tracing::error!("cannot start a task thread: {e}");
            crate::abi::Errno::EAGAIN
        })
    }

    /// Records init's exit; [`wait`](Self::wait) returns once every task is
    /// gone too.
    pub(crate) fn init_exited(&self, status: ExitStatus) {
        *self.done.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
        self.done_cv.notify_all();
    }

    /// Wakes [`wait`](Self::wait) to look again (a task exited).
    pub(crate) fn task_gone(&self) {
        let _g = self.done.lock().unwrap_or_else(|e| e.into_inner());
        self.done_cv.notify_all();
    }

    /// Holds every task before it next runs application code (`runsc
    /// pause`); a task blocked in a syscall leaves it to be held (the
    /// syscall restarts after [`thaw`](Self::thaw)).
    /// Returns once every task is held, or after `patience` (a task may
    /// be in a host call that cannot be interrupted; it is held when that
    /// ends), as the cgroup freezer reports "frozen" only when it is.
    pub fn freeze(&self, patience: std::time::Duration) -> bool {
        use std::sync::atomic::Ordering;
        self.frozen.store(true, Ordering::Release);
        self.kick_all();
        let deadline = Instant::now() + patience;
        loop {
            if self.held.load(Ordering::Acquire) >= self.tasks.task_count() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    /// Lets every task run again (`runsc resume`).
    pub fn thaw(&self) {
        self.frozen.store(false, std::sync::atomic::Ordering::Release);
        self.kick_all();
    }

    /// Whether the sandbox is frozen.
    pub fn frozen(&self) -> bool {
        self.frozen.load(std::sync::atomic::Ordering::Acquire)
    }

    fn kick_all(&self) {
        for t in self.tasks.read().tasks.values() {
            t.kick();
        }
    }

    /// Waits until init has exited (not for the other tasks); returns its
    /// status.
    pub fn wait_init_exit(&self) -> ExitStatus {
        let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *d {
                return s;
            }
            d = self.done_cv.wait(d).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Init's exit status, once it has exited.
    pub fn init_exit(&self) -> Option<ExitStatus> {
        *self.done.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The spec's limits the cgroup filesystem shows.
    pub fn shown_limits(&self) -> crate::fs::cgroupfs::ShownLimits {
        *self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the cgroup filesystem is cgroup v1's.
    pub fn cgroup_v1(&self) -> bool {
        self.cgroup_v1.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Makes the cgroup filesystem cgroup v1's (as the host's).
    pub fn set_cgroup_v1(&self, v1: bool) {
        self.cgroup_v1.store(v1, std::sync::atomic::Ordering::Relaxed);
    }

    /// The uid map (or, with `gid`, the gid map) /proc/PID/uid_map shows.
    pub fn id_map(&self, gid: bool) -> &[u8] {
        const IDENTITY: &[u8] = b"         0          0 4294967295\n";
        match self.id_maps.get() {
            Some(m) if gid => &m.gid,
            Some(m) => &m.uid,
            None => IDENTITY,
        }
    }

    /// What /proc/PID/setgroups shows: "allow", or "deny" in a rootless
    /// container's namespace.
    pub fn setgroups_text(&self) -> &'static [u8] {
        if self.setgroups_denied() {
            b"deny\n"
        } else {
            b"allow\n"
        }
    }

    /// Whether setgroups(2) is denied in the user namespace (a rootless
    /// container's: EPERM even for its root).
    pub fn setgroups_denied(&self) -> bool {
        self.id_maps.get().is_some_and(|m| m.setgroups_denied)
    }

    /// Sets the maps [`id_map`](Self::id_map) shows (once, at boot: the
    /// container's user namespace's, as read from inside it).
    pub fn set_id_maps(&self, maps: IdMaps) {
        let _ = self.id_maps.set(maps);
    }

    /// Sets the limits the cgroup filesystem shows.
    pub fn set_shown_limits(&self, l: crate::fs::cgroupfs::ShownLimits) {
        *self.shown.lock().unwrap_or_else(|e| e.into_inner()) = l;
    }

    /// The most tasks the sandbox may have at once.
    pub fn task_limit(&self) -> usize {
        self.max_tasks.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Sets the most tasks at once (0: the default); tasks beyond it are
    /// not killed, new ones are refused (fork and clone fail with EAGAIN,
    /// as at a pids cgroup's limit).
    pub fn set_task_limit(&self, n: usize) {
        let n = if n == 0 { DEFAULT_MAX_TASKS } else { n.min(DEFAULT_MAX_TASKS) };
        self.max_tasks.store(n, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until init has exited and every task is gone; returns init's
    /// exit status.
    pub fn wait(&self) -> ExitStatus {
        let mut d = self.done.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *d {
                if self.tasks.task_count() == 0 {
                    return s;
                }
            }
            d = self
                .done_cv
                .wait_timeout(d, std::time::Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
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

thread_local! {
    static CURRENT: RefCell<Option<Arc<TaskShared>>> = const { RefCell::new(None) };
}

/// Sets the task the calling sentry thread runs (Linux's `current`), used
/// by /proc/self.
pub fn set_current(t: Option<Arc<TaskShared>>) {
    CURRENT.with(|c| *c.borrow_mut() = t);
}

/// The task the calling sentry thread runs.
pub fn current() -> Option<Arc<TaskShared>> {
    CURRENT.with(|c| c.borrow().clone())
}
