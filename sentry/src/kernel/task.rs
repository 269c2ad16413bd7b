//! Tasks (application threads).
//!
//! A task is split in two. [`Task`] is what only its own sentry thread
//! touches: registers and FP state, the platform context, the resources it
//! uses on every syscall (mm, fd table, fs context, credentials, cached as
//! `Arc`s). [`TaskShared`] is what other tasks reach to signal, stop, wait
//! for, kill or inspect it: ids, signal mask and pending signals, the
//! pending-work flag and the parker its blocking waits sleep on, and a
//! snapshot of its resources for /proc.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use crate::abi::{Errno, Pod, StackT};
use crate::auth::Credentials;
use crate::kernel::block::{Parker, TaskWaker};
use crate::kernel::signals::{SigQueue, SignalHandlers};
use crate::kernel::{Kernel, ThreadGroup};
use crate::mm::{MemoryManager, PATH_MAX};
use crate::platform::{AddressSpace, Context, CpuState, Interrupt};
use crate::vfs::path::{FsState, Walker};
use crate::vfs::{FdTable, File, Location, Lookup};

/// What a task is doing, for /proc.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum RunState {
    /// Running application code or servicing a syscall.
    Running = 0,
    /// Blocked in a syscall.
    Sleeping = 1,
    /// Stopped by job control.
    Stopped = 2,
    /// Exited.
    Dead = 3,
}

/// A task's own signal state (behind its lock, which nests inside the
/// thread group's signal lock).
#[derive(Default)]
pub struct TaskSignals {
    /// Blocked signals.
    pub mask: u64,
    /// Thread-directed pending signals.
    pub pending: SigQueue,
    /// The mask to restore after a handler set up by sigsuspend, ppoll,
    /// pselect or epoll_pwait (their temporary mask is in effect).
    pub saved_mask: Option<u64>,
    /// Stopped by the current group stop.
    pub stopped: bool,
    /// While in sigtimedwait: the mask before the wait (the awaited signals
    /// are unblocked for the wait, but are not fatal to the process).
    pub sigwait_real: Option<u64>,
}

/// The resources a task uses, as other tasks see them.
#[derive(Clone)]
pub struct Resources {
    /// Address space.
    pub mm: Arc<MemoryManager>,
    /// File descriptors.
    pub fds: Arc<FdTable>,
    /// Root, working directory and umask.
    pub fs: Arc<FsState>,
    /// Credentials.
    pub creds: Arc<Credentials>,
    /// Command name (comm), at most 15 bytes.
    pub comm: Vec<u8>,
}

/// Scheduling attributes (sched_setscheduler, setpriority,
/// sched_setaffinity). The sentry records them; the host schedules the
/// sandbox's threads on its own.
#[derive(Clone, Debug, Default)]
pub struct SchedAttr {
    /// SCHED_OTHER, SCHED_FIFO...
    pub policy: i32,
    /// Real-time priority (0 for normal policies).
    pub priority: i32,
    /// Nice value (-20..=19).
    pub nice: i32,
    /// SCHED_RESET_ON_FORK.
    pub reset_on_fork: bool,
    /// CPU affinity mask (kernel cpumask bytes); empty: every CPU.
    pub affinity: Vec<u8>,
}

/// The part of a task other tasks reach.
pub struct TaskShared {
    tid: AtomicI32,
    /// The process.
    pub tg: Arc<ThreadGroup>,
    sig: Mutex<TaskSignals>,
    /// Something for the task to look at before it returns to the
    /// application: a signal it does not block, a group exit or stop.
    work: AtomicBool,
    /// What its blocking waits sleep on.
    pub parker: Arc<Parker>,
    interrupter: OnceLock<Arc<dyn Interrupt>>,
    res: Mutex<Resources>,
    state: AtomicU8,
    /// User and system time.
    pub cpu: crate::kernel::cpu_clock::CpuAccount,
    /// When the task started.
    pub start: Instant,
    /// Set while a vfork parent waits for this task to exec or exit.
    pub vfork_done: Mutex<Option<Arc<crate::kernel::block::Completion>>>,
    /// Scheduling attributes.
    pub sched: Mutex<SchedAttr>,
    /// The robust futex list head (set_robust_list), for get_robust_list.
    pub robust_head: AtomicU64,
    /// Bytes and calls of read(2)- and write(2)-like syscalls
    /// (`/proc/[pid]/io`).
    pub io: IoAccount,
}

/// A task's I/O accounting: rchar, wchar, syscr, syscw.
#[derive(Default)]
pub struct IoAccount {
    /// Bytes read.
    pub rchar: AtomicU64,
    /// Bytes written.
    pub wchar: AtomicU64,
    /// Read calls.
    pub syscr: AtomicU64,
    /// Write calls.
    pub syscw: AtomicU64,
}

impl IoAccount {
    /// A read (`write` false) or write call that moved `bytes`.
    pub fn add(&self, write: bool, bytes: u64) {
        let (chars, calls) = if write { (&self.wchar, &self.syscw) } else { (&self.rchar, &self.syscr) };
        chars.fetch_add(bytes, Ordering::Relaxed);
        calls.fetch_add(1, Ordering::Relaxed);
    }

    /// (rchar, wchar, syscr, syscw).
    pub fn sample(&self) -> [u64; 4] {
        [&self.rchar, &self.wchar, &self.syscr, &self.syscw].map(|a| a.load(Ordering::Relaxed))
    }
}

impl TaskShared {
    /// A new task's shared part.
    pub fn new(tid: i32, tg: Arc<ThreadGroup>, res: Resources, mask: u64) -> Arc<TaskShared> {
        Arc::new(TaskShared {
            tid: AtomicI32::new(tid),
            tg,
            sig: Mutex::new(TaskSignals { mask, ..Default::default() }),
            work: AtomicBool::new(false),
            parker: Arc::new(Parker::default()),
            interrupter: OnceLock::new(),
            res: Mutex::new(res),
            state: AtomicU8::new(RunState::Running as u8),
            cpu: Default::default(),
            start: Instant::now(),
            vfork_done: Mutex::new(None),
            sched: Mutex::new(SchedAttr::default()),
            robust_head: AtomicU64::new(0),
            io: IoAccount::default(),
        })
    }

    /// Thread id in the sandbox's pid namespace.
    pub fn tid(&self) -> i32 {
        self.tid.load(Ordering::Relaxed)
    }

    pub(crate) fn set_tid(&self, tid: i32) {
        self.tid.store(tid, Ordering::Relaxed);
    }

    /// Locks the task's signal state (inside the thread group's signal lock
    /// when both are taken).
    pub fn signals(&self) -> MutexGuard<'_, TaskSignals> {
        self.sig.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A snapshot of the task's resources.
    pub fn resources(&self) -> Resources {
        self.res.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn update_resources(&self, f: impl FnOnce(&mut Resources)) {
        f(&mut self.res.lock().unwrap_or_else(|e| e.into_inner()));
    }

    /// Whether the task has work to look at (checked on the hot path:
    /// one atomic load).
    pub fn has_work(&self) -> bool {
        self.work.load(Ordering::Acquire)
    }

    pub(crate) fn clear_work(&self) {
        self.work.store(false, Ordering::Release);
    }

    /// Marks work for the task without waking it (it is the caller, or
    /// will look before it next runs).
    pub(crate) fn set_work(&self) {
        self.work.store(true, Ordering::Release);
    }

    /// Gives the task work: it leaves any blocking wait and application
    /// code promptly to look at its signals.
    pub fn kick(&self) {
        self.work.store(true, Ordering::Release);
        self.parker.unpark();
        if let Some(i) = self.interrupter.get() {
            i.interrupt();
        }
    }

    pub(crate) fn set_interrupter(&self, i: Arc<dyn Interrupt>) {
        let _ = self.interrupter.set(i);
    }

    /// Locks the scheduling attributes.
    pub fn sched(&self) -> MutexGuard<'_, SchedAttr> {
        self.sched.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the task is doing.
    pub fn run_state(&self) -> RunState {
        match self.state.load(Ordering::Relaxed) {
            0 => RunState::Running,
            1 => RunState::Sleeping,
            2 => RunState::Stopped,
            _ => RunState::Dead,
        }
    }

    pub(crate) fn set_run_state(&self, s: RunState) {
        self.state.store(s as u8, Ordering::Relaxed);
    }
}

/// A saved way to restart an interrupted syscall through restart_syscall
/// (nanosleep, clock_nanosleep, poll with a timeout, futex waits).
pub type RestartFn = Box<dyn FnOnce(&mut Task) -> crate::kernel::SyscallResult + Send>;

/// The last page fault the memory manager resolved, to catch faults that
/// handling does not fix.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LastFault {
    /// The address.
    pub addr: u64,
    /// Faults there in a row.
    pub repeat: u32,
    /// Handling mapped its page (it was not present before).
    pub mapped: bool,
}

/// An application thread, as its own sentry thread sees it.
pub struct Task {
    /// The kernel.
    pub kernel: Arc<Kernel>,
    /// What other tasks reach.
    pub shared: Arc<TaskShared>,
    /// The process.
    pub tg: Arc<ThreadGroup>,
    /// Thread id (changes only in execve from a non-leader thread).
    pub tid: i32,
    /// Registers and FP state while in the sentry.
    pub cpu: CpuState,
    pub(crate) ctx: Box<dyn Context>,
    pub(crate) aspace: Option<Arc<dyn AddressSpace>>,
    /// Address space.
    pub mm: Arc<MemoryManager>,
    /// File descriptors.
    pub fds: Arc<FdTable>,
    /// Root, working directory, umask.
    pub fs: Arc<FsState>,
    /// Credentials.
    pub creds: Arc<Credentials>,
    /// sigaltstack.
    pub altstack: StackT,
    /// set_tid_address / CLONE_CHILD_CLEARTID.
    pub clear_child_tid: u64,
    /// set_robust_list (head, len).
    pub robust_list: (u64, u64),
    /// rseq registration (address, length, signature).
    pub rseq: Option<(u64, u32, u32)>,
    /// How restart_syscall continues the last interrupted syscall.
    pub restart: Option<RestartFn>,
    /// A restart errno from the last syscall, resolved once signals are
    /// handled: (errno, syscall number).
    pub(crate) syscall_restart: Option<(Errno, u64)>,
    /// The last fault (address, times in a row), to catch faults that
    /// handling does not fix.
    pub(crate) last_fault: LastFault,
    /// The last fault signal's trap, for signal frames.
    pub(crate) trap: crate::kernel::trap::TrapInfo,
    waker: Arc<TaskWaker>,
    /// When the current stretch of system time began: the last return
    /// from the application or wake-up (see `charge_sys`).
    sys_start: std::cell::Cell<u64>,
}

impl Task {
    /// A task; `run` starts it on the calling thread.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        kernel: Arc<Kernel>,
        shared: Arc<TaskShared>,
        cpu: CpuState,
        ctx: Box<dyn Context>,
        res: Resources,
        altstack: StackT,
    ) -> Task {
        shared.set_interrupter(ctx.interrupter());
        let waker = TaskWaker::new(shared.parker.clone());
        Task {
            kernel,
            tg: shared.tg.clone(),
            tid: shared.tid(),
            shared,
            cpu,
            ctx,
            aspace: None,
            mm: res.mm,
            fds: res.fds,
            fs: res.fs,
            creds: res.creds,
            altstack,
            clear_child_tid: 0,
            robust_list: (0, 0),
            rseq: None,
            restart: None,
            syscall_restart: None,
            last_fault: LastFault::default(),
            waker,
            trap: Default::default(),
            sys_start: std::cell::Cell::new(crate::kernel::cpu_clock::now_ns()),
        }
    }

    /// The memory manager.
    pub fn mm(&self) -> &MemoryManager {
        &self.mm
    }

    /// The task's waker, reset, for one blocking wait.
    pub(crate) fn sys_start(&self) -> u64 {
        self.sys_start.get()
    }

    pub(crate) fn set_sys_start(&self, at: u64) {
        self.sys_start.set(at);
    }

    /// Parks the task's thread until unparked or `deadline`, keeping the
    /// time asleep out of its system time.
    pub(crate) fn park(&self, deadline: Option<Instant>) {
        self.charge_sys();
        self.shared.parker.park(deadline);
        self.set_sys_start(crate::kernel::cpu_clock::now_ns());
    }

    pub fn waker(&self) -> Arc<TaskWaker> {
        self.waker.reset();
        self.waker.clone()
    }

    /// The signal handler table.
    pub fn handlers(&self) -> Arc<SignalHandlers> {
        self.tg.handlers()
    }

    /// Copies a `T` in from application memory.
    pub fn copy_in<T: Pod>(&self, addr: u64) -> Result<T, Errno> {
        self.mm.copy_in_obj(addr)
    }

    /// Copies a `T` out to application memory.
    pub fn copy_out<T: Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        self.mm.copy_out_obj(addr, v)
    }

    /// Reads a path argument (ENAMETOOLONG past PATH_MAX, ENOENT if empty
    /// unless `allow_empty`).
    pub fn read_path(&self, addr: u64, allow_empty: bool) -> Result<Vec<u8>, Errno> {
        let p = self.mm.read_cstring(addr, PATH_MAX - 1)?;
        if p.is_empty() && !allow_empty {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    /// The file at `fd`.
    pub fn file(&self, fd: i32) -> Result<Arc<File>, Errno> {
        self.fds.get(fd)
    }

    /// The directory a `*at` call starts from.
    pub fn start_dir(&self, dirfd: i32, path: &[u8]) -> Result<Location, Errno> {
        if path.first() == Some(&b'/') || dirfd == libc::AT_FDCWD {
            return Ok(self.fs.cwd());
        }
        let f = self.file(dirfd)?;
        let loc = f.location.clone().ok_or(Errno::ENOTDIR)?;
        if loc.dentry.inode.file_type() != crate::vfs::FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(loc)
    }

    /// The root and credentials a path walk needs (cheap: two Arc clones).
    pub fn walk_context(&self) -> (Location, Arc<Credentials>) {
        (self.fs.root(), self.creds.clone())
    }

    /// Resolves `path` relative to `dirfd`.
    pub fn resolve(&self, dirfd: i32, path: &[u8], follow: Lookup) -> Result<Location, Errno> {
        let start = self.start_dir(dirfd, path)?;
        let (root, creds) = self.walk_context();
        Walker::new(&root, &creds).walk(&start, path, follow)
    }

    /// Resolves `path` for `*at` calls that take AT_EMPTY_PATH and
    /// AT_SYMLINK_NOFOLLOW in `flags`.
    pub fn resolve_at(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Location, Errno> {
        if path.is_empty() {
            if flags & libc::AT_EMPTY_PATH == 0 {
                return Err(Errno::ENOENT);
            }
            if dirfd == libc::AT_FDCWD {
                return Ok(self.fs.cwd());
            }
            let f = self.file(dirfd)?;
            return f.location.clone().ok_or(Errno::EBADF);
        }
        let follow = if flags & libc::AT_SYMLINK_NOFOLLOW != 0 { Lookup::NoFollow } else { Lookup::Follow };
        self.resolve(dirfd, path, follow)
    }

    /// The RLIMIT_NOFILE soft limit.
    pub fn nofile_limit(&self) -> u64 {
        self.tg.state().rlimits[libc::RLIMIT_NOFILE as usize].cur
    }

    /// A resource limit (soft).
    pub fn rlimit(&self, r: u32) -> u64 {
        self.tg.state().rlimits[r as usize].cur
    }

    /// Replaces the address space (execve).
    pub fn set_mm(&mut self, mm: Arc<MemoryManager>) {
        self.shared.update_resources(|r| r.mm = mm.clone());
        self.mm = mm;
        self.aspace = None;
    }

    /// Replaces the fd table (unshare, execve).
    pub fn set_fds(&mut self, fds: Arc<FdTable>) {
        self.shared.update_resources(|r| r.fds = fds.clone());
        self.fds = fds;
    }

    /// Replaces the fs context (unshare).
    pub fn set_fs(&mut self, fs: Arc<FsState>) {
        self.shared.update_resources(|r| r.fs = fs.clone());
        self.fs = fs;
    }

    /// Replaces the credentials.
    pub fn set_creds(&mut self, creds: Credentials) {
        let c = Arc::new(creds);
        self.shared.update_resources(|r| r.creds = c.clone());
        self.creds = c;
    }

    /// The command name.
    pub fn comm(&self) -> Vec<u8> {
        self.shared.resources().comm
    }

    /// Sets the command name (at most 15 bytes kept).
    pub fn set_comm(&self, name: &[u8]) {
        let n: Vec<u8> = name.iter().take(15).copied().collect();
        self.shared.update_resources(|r| r.comm = n);
    }

    /// The CPU the task last ran on.
    pub fn cpu_id(&self) -> u32 {
        self.ctx.cpu()
    }

    /// Loads the FP state into `self.cpu` (signal frames, clone).
    pub fn load_fp(&mut self) -> Result<(), Errno> {
        self.ctx.load_fp(&mut self.cpu).map_err(|e| {
            tracing::error!(tid = self.tid, "load FP state: {e}");
            Errno::EFAULT
        })
    }
}
