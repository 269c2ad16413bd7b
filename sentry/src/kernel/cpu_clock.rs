//! CPU time: each task's account of application (user) and sentry
//! (system) time, the CPU-time clocks built on it (CLOCK_PROCESS_CPUTIME_ID,
//! CLOCK_THREAD_CPUTIME_ID and the encoded per-pid and per-tid clocks), and
//! the ticker that fires what counts CPU time: ITIMER_VIRTUAL, ITIMER_PROF,
//! POSIX timers on CPU-time clocks, and RLIMIT_CPU.
//!
//! Times are wall-clock stretches, as gVisor keeps them: a task's user time
//! runs from its switch into the application to the return, its system time
//! from the return to the next switch or sleep, and time asleep is neither.
//! The run loop is the only writer of a task's account; readers (clocks of
//! other threads, /proc, the ticker) also see the stretch in progress, so a
//! thread spinning in the application has a clock that moves.

use std::sync::atomic::{fence, AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::abi::Errno;
use crate::kernel::thread_group::Usage;
use crate::kernel::{Kernel, Task, TaskShared, ThreadGroup};

/// How often the ticker looks at CPU-time timers (Linux checks every tick).
pub const TICK: Duration = Duration::from_millis(10);

/// Nanoseconds on the accounts' time base (never 0).
pub fn now_ns() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64 + 1
}

/// A task's CPU time. One writer (the task's own thread), any readers: a
/// sequence count keeps each read consistent.
#[derive(Default)]
pub struct CpuAccount {
    seq: AtomicU32,
    user: AtomicU64,
    sys: AtomicU64,
    /// When the current stretch in the application began (0: not in it).
    app_since: AtomicU64,
}

impl CpuAccount {
    fn write(&self, f: impl FnOnce()) {
        let s = self.seq.load(Ordering::Relaxed);
        self.seq.store(s.wrapping_add(1), Ordering::Relaxed);
        fence(Ordering::Release);
        f();
        self.seq.store(s.wrapping_add(2), Ordering::Release);
    }

    /// The task enters the application at `at`, after `sys` ns in the
    /// sentry.
    pub fn enter_app(&self, at: u64, sys: u64) {
        self.write(|| {
            self.sys.fetch_add(sys, Ordering::Relaxed);
            self.app_since.store(at, Ordering::Relaxed);
        });
    }

    /// The task is back from the application at `at`.
    pub fn leave_app(&self, at: u64) {
        self.write(|| {
            let since = self.app_since.swap(0, Ordering::Relaxed);
            if since != 0 {
                self.user.fetch_add(at.saturating_sub(since), Ordering::Relaxed);
            }
        });
    }

    /// Adds `ns` of system time.
    pub fn add_sys(&self, ns: u64) {
        self.write(|| {
            self.sys.fetch_add(ns, Ordering::Relaxed);
        });
    }

    /// The time used so far, including a stretch in the application still
    /// running.
    pub fn sample(&self) -> Usage {
        loop {
            let s1 = self.seq.load(Ordering::Acquire);
            if s1 & 1 != 0 {
                std::hint::spin_loop();
                continue;
            }
            let mut u = Usage { user: self.user.load(Ordering::Relaxed), sys: self.sys.load(Ordering::Relaxed) };
            let since = self.app_since.load(Ordering::Relaxed);
            fence(Ordering::Acquire);
            if self.seq.load(Ordering::Relaxed) != s1 {
                continue;
            }
            if since != 0 {
                u.user += now_ns().saturating_sub(since);
            }
            return u;
        }
    }
}

impl ThreadGroup {
    /// The process's CPU time: its exited threads' and its live ones'.
    pub fn cpu_usage(&self) -> Usage {
        let mut u = self.state().usage.dead_threads;
        for t in self.signals().threads.iter() {
            u += t.cpu.sample();
        }
        u
    }
}

/// What a CPU-time clock counts (the low two bits of an encoded id).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpuKind {
    /// CPUCLOCK_PROF: user and system time.
    Prof,
    /// CPUCLOCK_VIRT: user time.
    Virt,
    /// CPUCLOCK_SCHED: all time run (here, as PROF).
    Sched,
}

impl CpuKind {
    /// The clock's reading of `u`.
    pub fn of(self, u: Usage) -> u64 {
        match self {
            CpuKind::Virt => u.user,
            CpuKind::Prof | CpuKind::Sched => u.user + u.sys,
        }
    }
}

/// A CPU-time clock id, decoded: (pid or tid, 0 for the caller; per
/// thread; kind). None if `id` is not a CPU-time clock.
pub fn decode(id: i32) -> Option<(i32, bool, CpuKind)> {
    match id {
        libc::CLOCK_PROCESS_CPUTIME_ID => Some((0, false, CpuKind::Sched)),
        libc::CLOCK_THREAD_CPUTIME_ID => Some((0, true, CpuKind::Sched)),
        _ if id < 0 => {
            let kind = match id & 3 {
                0 => CpuKind::Prof,
                1 => CpuKind::Virt,
                2 => CpuKind::Sched,
                _ => return None,
            };
            Some((!(id >> 3), id & 4 != 0, kind))
        }
        _ => None,
    }
}

/// Whose time a CPU-time clock counts.
#[derive(Clone)]
enum Target {
    Thread(Weak<TaskShared>),
    Process(Weak<ThreadGroup>),
}

/// A CPU-time clock, bound to its thread or process.
#[derive(Clone)]
pub struct CpuClock {
    target: Target,
    kind: CpuKind,
}

impl CpuClock {
    /// The clock's time in nanoseconds; None once its thread or process is
    /// gone.
    pub fn read(&self) -> Option<u64> {
        let u = match &self.target {
            Target::Thread(t) => t.upgrade()?.cpu.sample(),
            Target::Process(tg) => tg.upgrade()?.cpu_usage(),
        };
        Some(self.kind.of(u))
    }

    /// Whether this is a clock of `t`'s own thread.
    pub fn is_thread_of(&self, t: &Task) -> bool {
        matches!(&self.target, Target::Thread(w) if std::ptr::eq(w.as_ptr(), Arc::as_ptr(&t.shared)))
    }

    /// Whether the clock counts one thread's time.
    pub fn per_thread(&self) -> bool {
        matches!(self.target, Target::Thread(_))
    }
}

impl Task {
    /// The CPU-time clock `id` as the caller may read it (Linux's rules:
    /// a thread clock of its own process, or any process's clock), or
    /// EINVAL.
    pub fn cpu_clock(&self, id: i32) -> Result<CpuClock, Errno> {
        let (who, thread, kind) = decode(id).ok_or(Errno::EINVAL)?;
        let target = match (who, thread) {
            (0, true) => Target::Thread(Arc::downgrade(&self.shared)),
            (0, false) => Target::Process(Arc::downgrade(&self.tg)),
            (tid, true) => {
                let t = self.kernel.tasks.task(tid).ok_or(Errno::EINVAL)?;
                if !Arc::ptr_eq(&t.tg, &self.tg) {
                    return Err(Errno::EINVAL);
                }
                Target::Thread(Arc::downgrade(&t))
            }
            (pid, false) => Target::Process(Arc::downgrade(&self.kernel.thread_group(pid).ok_or(Errno::EINVAL)?)),
        };
        Ok(CpuClock { target, kind })
    }

    /// Adds the system time since the last return from the application or
    /// wake-up to the task's account.
    pub fn charge_sys(&self) {
        let now = now_ns();
        self.shared.cpu.add_sys(now.saturating_sub(self.sys_start()));
        self.set_sys_start(now);
    }
}

/// The processes with CPU-time timers or a CPU limit, looked at every
/// [`TICK`] while there are any.
#[derive(Default)]
pub struct CpuTicker {
    armed: Mutex<Vec<Weak<ThreadGroup>>>,
    running: AtomicBool,
}

impl CpuTicker {
    /// Puts `tg` on the ticker (once). Callers hold no process locks: the
    /// tick holds the ticker's lock while it looks at each process.
    pub fn arm(&self, k: &Arc<Kernel>, tg: &Arc<ThreadGroup>) {
        let mut a = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        if !a.iter().any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(tg))) {
            a.push(Arc::downgrade(tg));
        }
        if !self.running.swap(true, Ordering::AcqRel) {
            schedule(k);
        }
    }
}

/// Puts `tg` on the ticker if it has a CPU-time limit (RLIMIT_CPU). Callers
/// hold no process or tree locks.
pub fn watch_cpu_limit(k: &Arc<Kernel>, tg: &Arc<ThreadGroup>) {
    if tg.state().rlimits[libc::RLIMIT_CPU as usize].cur != libc::RLIM_INFINITY {
        k.cpu_ticker.arm(k, tg);
    }
}

fn schedule(k: &Arc<Kernel>) {
    let wk = Arc::downgrade(k);
    k.timers.schedule(Instant::now() + TICK, Box::new(move || tick(wk)));
}

fn tick(k: Weak<Kernel>) {
    let Some(k) = k.upgrade() else { return };
    let mut a = k.cpu_ticker.armed.lock().unwrap_or_else(|e| e.into_inner());
    a.retain(|w| w.upgrade().is_some_and(|tg| crate::kernel::timers::cpu_tick(&k, &tg)));
    if a.is_empty() {
        k.cpu_ticker.running.store(false, Ordering::Release);
    } else {
        schedule(&k);
    }
}
