//! Thread groups (processes): what the threads of a process share — the
//! shared pending signals and job-control state, the handler table, limits,
//! the executable, and the queues wait4 and execve wait on.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use crate::abi::Rlimit;
use crate::kernel::block::WaitQueue;
use crate::kernel::limits::{self, RLIM_NLIMITS};
use crate::kernel::signals::{SigQueue, SignalHandlers};
use crate::kernel::task::TaskShared;
use crate::kernel::timers::ProcessTimers;
use crate::vfs::Location;

/// How a process (or a thread) ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// exit/exit_group with a status (0..=255).
    Exited(i32),
    /// Killed by a signal (with a core dump for `core`).
    Signaled {
        /// The signal.
        sig: i32,
        /// Whether the default action dumps core.
        core: bool,
    },
}

impl ExitStatus {
    /// The status a shell reports: the code, or 128 + signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => c & 0xff,
            ExitStatus::Signaled { sig, .. } => 128 + sig,
        }
    }

    /// The wait status word (as wait4 stores it).
    pub fn wait_status(self) -> i32 {
        match self {
            ExitStatus::Exited(c) => (c & 0xff) << 8,
            ExitStatus::Signaled { sig, core } => sig | if core { 0x80 } else { 0 },
        }
    }
}

/// Job-control state of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopState {
    /// Running.
    Running,
    /// A group stop is under way: `remaining` threads have not stopped yet.
    Stopping {
        /// The stop signal.
        signo: i32,
        /// Threads still to stop.
        remaining: usize,
    },
    /// Every thread is stopped.
    Stopped {
        /// The stop signal.
        signo: i32,
    },
}

/// Signal and life-cycle state shared by the threads of a process, behind
/// one lock (Linux's siglock).
pub struct GroupSignals {
    /// Process-directed pending signals.
    pub pending: SigQueue,
    /// Live threads, in creation order.
    pub threads: Vec<Arc<TaskShared>>,
    /// Set once the process is exiting as a whole (exit_group or a fatal
    /// signal): every thread exits at its next chance.
    pub exiting: Option<ExitStatus>,
    /// Job control.
    pub stop: StopState,
    /// A thread in execve that is ending the others (its tid).
    pub execer: Option<i32>,
}

/// Mutable per-process state.
pub struct TgState {
    /// The executable.
    pub exe: Option<Location>,
    /// The executable's path as shown by `/proc/[pid]/exe`.
    pub exe_path: Vec<u8>,
    /// Resource limits.
    pub rlimits: [Rlimit; RLIM_NLIMITS],
    /// PR_SET_DUMPABLE (1 by default).
    pub dumpable: u8,
    /// PR_SET_PDEATHSIG.
    pub pdeathsig: i32,
    /// PR_SET_NO_NEW_PRIVS.
    pub no_new_privs: bool,
    /// PR_SET_CHILD_SUBREAPER.
    pub subreaper: bool,
    /// `/proc/[pid]/oom_score_adj` (-1000..=1000), inherited by children.
    pub oom_score_adj: i32,
    /// I/O accounting of threads that exited (rchar, wchar, syscr, syscw).
    pub io_dead: [u64; 4],
    /// PR_SET_KEEPCAPS.
    pub keepcaps: bool,
    /// Has called execve (since its fork): setpgid on it gives EACCES.
    pub execed: bool,
    /// CPU time of threads that exited, and of reaped children.
    pub usage: UsageTotals,
    /// personality(2).
    pub personality: u32,
}

/// ADDR_NO_RANDOMIZE.
pub const ADDR_NO_RANDOMIZE: u32 = 0x0040000;

/// Accumulated CPU time, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    /// Application (user) time.
    pub user: u64,
    /// Sentry (system) time.
    pub sys: u64,
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, o: Usage) {
        self.user += o.user;
        self.sys += o.sys;
    }
}

/// What getrusage and times report beyond the live threads.
#[derive(Clone, Copy, Debug, Default)]
pub struct UsageTotals {
    /// Threads of this process that exited.
    pub dead_threads: Usage,
    /// Reaped children (and their reaped descendants).
    pub children: Usage,
    /// Largest resident set of a reaped child (or its reaped
    /// descendants), in KiB.
    pub children_maxrss: u64,
    /// Largest resident set of this process, in KiB, as sampled when its
    /// threads exit, at execve and at getrusage.
    pub maxrss: u64,
}

/// A process.
pub struct ThreadGroup {
    /// Pid in the sandbox's namespace (the leader's tid).
    pub pid: i32,
    /// Signal and life-cycle state.
    pub sig: Mutex<GroupSignals>,
    handlers: Mutex<Arc<SignalHandlers>>,
    state: Mutex<TgState>,
    /// Woken when a child changes state (wait4).
    pub child_events: WaitQueue,
    /// Woken when a thread exits (execve waits for the others).
    pub thread_exits: WaitQueue,
    /// Woken when a signal is queued (signalfd readiness).
    pub signalfd_queue: WaitQueue,
    /// Woken when the process exits and when it is reaped (pidfd
    /// readiness).
    pub exit_events: WaitQueue,
    /// The process was reaped (its pid is free).
    pub reaped: std::sync::atomic::AtomicBool,
    /// Semaphore sets with SEM_UNDO adjustments, undone at exit.
    pub sem_undo: crate::ipc::sem::UndoList,
    /// Interval timers, alarm and POSIX timers.
    pub timers: ProcessTimers,
    /// When the process started.
    pub start: Instant,
    /// How it ended, once its last thread has exited.
    pub exit_status: Mutex<Option<ExitStatus>>,
}

impl ThreadGroup {
    /// A new process with the given handlers and limits.
    pub fn new(pid: i32, handlers: Arc<SignalHandlers>, rlimits: [Rlimit; RLIM_NLIMITS]) -> Arc<ThreadGroup> {
        Arc::new(ThreadGroup {
            pid,
            sig: Mutex::new(GroupSignals {
                pending: SigQueue::default(),
                threads: Vec::new(),
                exiting: None,
                stop: StopState::Running,
                execer: None,
            }),
            handlers: Mutex::new(handlers),
            state: Mutex::new(TgState {
                exe: None,
                exe_path: Vec::new(),
                rlimits,
                dumpable: 1,
                pdeathsig: 0,
                no_new_privs: false,
                subreaper: false,
                oom_score_adj: 0,
                io_dead: [0; 4],
                keepcaps: false,
                execed: false,
                usage: UsageTotals::default(),
                personality: 0,
            }),
            child_events: WaitQueue::new(),
            thread_exits: WaitQueue::new(),
            signalfd_queue: WaitQueue::new(),
            exit_events: WaitQueue::new(),
            reaped: Default::default(),
            sem_undo: Default::default(),
            timers: ProcessTimers::default(),
            start: Instant::now(),
            exit_status: Mutex::new(None),
        })
    }

    /// Waits (from a sentry thread that is not a task: the control
    /// socket's) until the process has exited or `deadline` passes; returns
    /// its exit status if it has.
    pub fn wait_exited(&self, deadline: Option<Instant>) -> Option<ExitStatus> {
        let parker = Arc::new(crate::kernel::block::Parker::default());
        let waker = crate::kernel::block::TaskWaker::new(parker.clone());
        let _reg = crate::waiter::Registration::new(&self.exit_events, crate::waiter::EVENT_ANY, waker);
        loop {
            if let Some(s) = *self.exit_status.lock().unwrap_or_else(|e| e.into_inner()) {
                return Some(s);
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return None;
            }
            parker.park(deadline);
        }
    }

    /// Linux's defaults for init's limits.
    pub fn default_limits() -> [Rlimit; RLIM_NLIMITS] {
        limits::defaults()
    }

    /// Locks the mutable state.
    pub fn state(&self) -> MutexGuard<'_, TgState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the signal state.
    pub fn signals(&self) -> MutexGuard<'_, GroupSignals> {
        self.sig.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The handler table.
    pub fn handlers(&self) -> Arc<SignalHandlers> {
        self.handlers.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Replaces the handler table (execve).
    pub fn set_handlers(&self, h: Arc<SignalHandlers>) {
        *self.handlers.lock().unwrap_or_else(|e| e.into_inner()) = h;
    }

    /// The live threads.
    pub fn threads(&self) -> Vec<Arc<TaskShared>> {
        self.signals().threads.clone()
    }

    /// The leader (the thread whose tid is the pid), if alive, else the
    /// first live thread.
    pub fn main_thread(&self) -> Option<Arc<TaskShared>> {
        let s = self.signals();
        s.threads.iter().find(|t| t.tid() == self.pid).or_else(|| s.threads.first()).cloned()
    }
}
