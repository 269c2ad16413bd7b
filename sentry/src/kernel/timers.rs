//! Timers: the kernel's timer thread ([`TimerWheel`]) and each process's
//! interval timers (setitimer/alarm), CPU-time itimers, and POSIX timers
//! (timer_create and friends).
//!
//! Wall-clock timers fire from the timer thread, which sends the signal.
//! ITIMER_VIRTUAL and ITIMER_PROF count the application time the run loop
//! measures around each switch; the check is one atomic load when none is
//! armed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::abi::{Errno, SigInfo};
use crate::kernel::signal_send::Origin;
use crate::kernel::{Kernel, ThreadGroup};

type Callback = Box<dyn FnOnce() + Send>;

#[derive(Default)]
struct Wheel {
    entries: BTreeMap<(Instant, u64), Callback>,
    next_id: u64,
}

/// The kernel's timer thread: runs callbacks at their deadlines.
#[derive(Default)]
pub struct TimerWheel {
    state: Arc<(Mutex<Wheel>, Condvar)>,
    started: OnceLock<()>,
}

/// A scheduled callback, for cancelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId(Instant, u64);

impl TimerWheel {
    fn lock(&self) -> MutexGuard<'_, Wheel> {
        self.state.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` at `at` on the timer thread.
    pub fn schedule(&self, at: Instant, f: Callback) -> TimerId {
        self.start();
        let mut w = self.lock();
        w.next_id += 1;
        let id = w.next_id;
        w.entries.insert((at, id), f);
        self.state.1.notify_one();
        TimerId(at, id)
    }

    /// Cancels a callback that has not run.
    pub fn cancel(&self, id: TimerId) {
        self.lock().entries.remove(&(id.0, id.1));
    }

    fn start(&self) {
        self.started.get_or_init(|| {
            let state = self.state.clone();
            let r = std::thread::Builder::new().name("timers".into()).spawn(move || loop {
                let due: Vec<Callback> = {
                    let mut w = state.0.lock().unwrap_or_else(|e| e.into_inner());
                    loop {
                        let now = Instant::now();
                        match w.entries.keys().next().copied() {
                            Some((at, _)) if at <= now => break,
                            Some((at, _)) => {
                                w = state.1.wait_timeout(w, at - now).unwrap_or_else(|e| e.into_inner()).0;
                            }
                            None => w = state.1.wait(w).unwrap_or_else(|e| e.into_inner()),
                        }
                    }
                    let now = Instant::now();
                    let keys: Vec<(Instant, u64)> = w.entries.range(..=(now, u64::MAX)).map(|(k, _)| *k).collect();
                    keys.into_iter().filter_map(|k| w.entries.remove(&k)).collect()
                };
                for f in due {
                    f();
                }
            });
            if let Err(e) = r {
                tracing::error!("cannot start the timer thread: {e}");
            }
        });
    }
}

/// An interval timer: when it next expires, and its period.
#[derive(Clone, Copy, Debug, Default)]
pub struct Itimer {
    /// Time left (wall timers: computed from the deadline).
    pub value: Duration,
    /// Reload value (zero: one-shot).
    pub interval: Duration,
}

/// The process's CPU-time interval timer (virtual or profiling).
#[derive(Clone, Copy, Debug, Default)]
struct CpuTimer {
    remaining: u64,
    interval: u64,
}

/// A POSIX timer.
struct PosixTimer {
    clock: i32,
    notify: i32,
    signo: i32,
    value: u64,
    tid: i32,
    deadline: Option<Instant>,
    interval: Duration,
    scheduled: Option<TimerId>,
    /// Expiries since the signal was queued (while it is pending).
    overrun: i32,
    /// The overrun of the last delivered expiry (timer_getoverrun).
    last_overrun: i32,
    /// Its signal is queued and not yet taken.
    queued: bool,
}

#[derive(Default)]
struct State {
    real: Option<(Instant, Duration, TimerId)>,
    virt: CpuTimer,
    prof: CpuTimer,
    posix: BTreeMap<i32, PosixTimer>,
    next_id: i32,
}

/// A process's timers.
#[derive(Default)]
pub struct ProcessTimers {
    state: Mutex<State>,
    cpu_armed: AtomicBool,
}

/// SIGEV_SIGNAL.
pub const SIGEV_SIGNAL: i32 = 0;
/// SIGEV_NONE.
pub const SIGEV_NONE: i32 = 1;
/// SIGEV_THREAD_ID.
pub const SIGEV_THREAD_ID: i32 = 4;

fn remaining(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

impl ProcessTimers {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Stops every timer (process exit).
    pub fn clear(&self) {
        let mut s = self.lock();
        s.real = None;
        s.virt = CpuTimer::default();
        s.prof = CpuTimer::default();
        s.posix.clear();
        self.cpu_armed.store(false, Ordering::Relaxed);
    }

    /// Deletes the POSIX timers (execve keeps the interval timers).
    pub fn clear_posix(&self) {
        self.lock().posix.clear();
    }

    /// ITIMER_REAL's current value.
    pub fn real(&self) -> Itimer {
        match self.lock().real {
            Some((d, i, _)) => Itimer { value: remaining(d).max(Duration::from_micros(1)), interval: i },
            None => Itimer::default(),
        }
    }

    /// Sets ITIMER_REAL (zero value: disarm); returns the old value.
    pub fn set_real(&self, k: &Arc<Kernel>, tg: &Arc<ThreadGroup>, new: Itimer) -> Itimer {
        let old = self.real();
        let mut s = self.lock();
        if let Some((_, _, id)) = s.real.take() {
            k.timers.cancel(id);
        }
        if !new.value.is_zero() {
            let at = Instant::now() + new.value;
            let id = schedule_real(k, tg, at);
            s.real = Some((at, new.interval, id));
        }
        old
    }

    /// A CPU-time itimer (ITIMER_VIRTUAL or ITIMER_PROF).
    pub fn cpu(&self, prof: bool) -> Itimer {
        let s = self.lock();
        let t = if prof { s.prof } else { s.virt };
        Itimer { value: Duration::from_nanos(t.remaining), interval: Duration::from_nanos(t.interval) }
    }

    /// Sets a CPU-time itimer; returns the old value.
    pub fn set_cpu(&self, prof: bool, new: Itimer) -> Itimer {
        let old = self.cpu(prof);
        let mut s = self.lock();
        let t = CpuTimer { remaining: new.value.as_nanos() as u64, interval: new.interval.as_nanos() as u64 };
        if prof {
            s.prof = t;
        } else {
            s.virt = t;
        }
        self.cpu_armed.store(s.prof.remaining != 0 || s.virt.remaining != 0, Ordering::Relaxed);
        old
    }

    /// Charges `ns` of application time (virtual and profiling timers);
    /// returns the signals due.
    pub fn charge(&self, ns: u64) -> Vec<i32> {
        if !self.cpu_armed.load(Ordering::Relaxed) {
            return Vec::new();
        }
        let mut s = self.lock();
        let mut due = Vec::new();
        let st = &mut *s;
        for (t, sig) in [(&mut st.virt, libc::SIGVTALRM), (&mut st.prof, libc::SIGPROF)] {
            if t.remaining == 0 {
                continue;
            }
            if ns >= t.remaining {
                due.push(sig);
                t.remaining = t.interval;
            } else {
                t.remaining -= ns;
            }
        }
        self.cpu_armed.store(s.prof.remaining != 0 || s.virt.remaining != 0, Ordering::Relaxed);
        due
    }

    /// timer_create: returns the new timer's id. A `value` of None means
    /// the timer's own id (the default sigev_value).
    pub fn create(&self, clock: i32, notify: i32, signo: i32, value: Option<u64>, tid: i32) -> Result<i32, Errno> {
        let mut s = self.lock();
        if s.posix.len() >= 32768 {
            return Err(Errno::EAGAIN);
        }
        let mut id = s.next_id;
        while s.posix.contains_key(&id) {
            id = id.wrapping_add(1).max(0);
        }
        s.next_id = id.wrapping_add(1).max(0);
        let value = value.unwrap_or(id as u64);
        s.posix.insert(
            id,
            PosixTimer {
                clock,
                notify,
                signo,
                value,
                tid,
                deadline: None,
                interval: Duration::ZERO,
                scheduled: None,
                overrun: 0,
                last_overrun: 0,
                queued: false,
            },
        );
        Ok(id)
    }

    /// timer_delete.
    pub fn delete(&self, k: &Kernel, id: i32) -> Result<(), Errno> {
        let t = self.lock().posix.remove(&id).ok_or(Errno::EINVAL)?;
        if let Some(s) = t.scheduled {
            k.timers.cancel(s);
        }
        Ok(())
    }

    /// timer_gettime: (time to expiry, interval).
    pub fn get(&self, id: i32) -> Result<Itimer, Errno> {
        let s = self.lock();
        let t = s.posix.get(&id).ok_or(Errno::EINVAL)?;
        let value = t.deadline.map_or(Duration::ZERO, |d| remaining(d).max(Duration::from_nanos(1)));
        Ok(Itimer { value, interval: t.interval })
    }

    /// The clock of timer `id`.
    pub fn clock_of(&self, id: i32) -> Result<i32, Errno> {
        self.lock().posix.get(&id).map(|t| t.clock).ok_or(Errno::EINVAL)
    }

    /// timer_settime with the first expiry at `at` (None: disarm); returns
    /// the old setting.
    pub fn settime(
        &self,
        k: &Arc<Kernel>,
        tg: &Arc<ThreadGroup>,
        id: i32,
        at: Option<Instant>,
        interval: Duration,
    ) -> Result<Itimer, Errno> {
        let old = self.get(id)?;
        let mut s = self.lock();
        let t = s.posix.get_mut(&id).ok_or(Errno::EINVAL)?;
        if let Some(sch) = t.scheduled.take() {
            k.timers.cancel(sch);
        }
        t.deadline = at;
        t.interval = interval;
        t.overrun = 0;
        if let Some(at) = at {
            t.scheduled = Some(schedule_posix(k, tg, id, at));
        }
        Ok(old)
    }

    /// timer_getoverrun.
    pub fn overrun(&self, id: i32) -> Result<i32, Errno> {
        self.lock().posix.get(&id).map(|t| t.last_overrun).ok_or(Errno::EINVAL)
    }

    /// A timer's signal was taken: returns the overrun to report and
    /// re-arms overrun counting.
    pub fn on_dequeue(&self, id: i32) -> i32 {
        let mut s = self.lock();
        match s.posix.get_mut(&id) {
            Some(t) => {
                t.queued = false;
                t.last_overrun = t.overrun;
                t.overrun = 0;
                t.last_overrun
            }
            None => 0,
        }
    }
}

fn schedule_real(k: &Arc<Kernel>, tg: &Arc<ThreadGroup>, at: Instant) -> TimerId {
    let (wk, wt) = (Arc::downgrade(k), Arc::downgrade(tg));
    k.timers.schedule(at, Box::new(move || fire_real(wk, wt, at)))
}

fn fire_real(k: Weak<Kernel>, tg: Weak<ThreadGroup>, at: Instant) {
    let (Some(k), Some(tg)) = (k.upgrade(), tg.upgrade()) else { return };
    {
        let mut s = tg.timers.lock();
        match s.real {
            Some((d, interval, _)) if d == at => {
                if interval.is_zero() {
                    s.real = None;
                } else {
                    let mut next = at + interval;
                    let now = Instant::now();
                    if next <= now {
                        next = now + interval;
                    }
                    let id = schedule_real(&k, &tg, next);
                    s.real = Some((next, interval, id));
                }
            }
            _ => return,
        }
    }
    k.send_group_signal(&tg, SigInfo::new(libc::SIGALRM, crate::abi::signal::SI_KERNEL), Origin::Outside);
}

fn schedule_posix(k: &Arc<Kernel>, tg: &Arc<ThreadGroup>, id: i32, at: Instant) -> TimerId {
    let (wk, wt) = (Arc::downgrade(k), Arc::downgrade(tg));
    k.timers.schedule(at, Box::new(move || fire_posix(wk, wt, id, at)))
}

fn fire_posix(k: Weak<Kernel>, tg: Weak<ThreadGroup>, id: i32, at: Instant) {
    let (Some(k), Some(tg)) = (k.upgrade(), tg.upgrade()) else { return };
    let send = {
        let mut s = tg.timers.lock();
        let Some(t) = s.posix.get_mut(&id) else { return };
        if t.deadline != Some(at) {
            return;
        }
        if t.interval.is_zero() {
            t.deadline = None;
            t.scheduled = None;
        } else {
            let mut next = at + t.interval;
            let now = Instant::now();
            while next <= now {
                next += t.interval;
                t.overrun = t.overrun.saturating_add(1);
            }
            t.deadline = Some(next);
            t.scheduled = Some(schedule_posix(&k, &tg, id, next));
        }
        if t.notify == SIGEV_NONE {
            None
        } else if t.queued {
            t.overrun = t.overrun.saturating_add(1);
            None
        } else {
            t.queued = true;
            Some((t.signo, t.value, (t.notify & SIGEV_THREAD_ID != 0).then_some(t.tid)))
        }
    };
    let Some((signo, value, tid)) = send else { return };
    let info = SigInfo::timer(signo, id, 0, value);
    match tid {
        Some(tid) => match k.tasks.task(tid) {
            Some(t) if Arc::ptr_eq(&t.tg, &tg) => k.send_thread_signal(&t, info, Origin::Outside),
            _ => k.send_group_signal(&tg, info, Origin::Outside),
        },
        None => k.send_group_signal(&tg, info, Origin::Outside),
    }
}
