//! Timers: the kernel's timer thread ([`TimerWheel`]) and each process's
//! interval timers (setitimer/alarm), CPU-time itimers, and POSIX timers
//! (timer_create and friends).
//!
//! Wall-clock timers fire from the timer thread, which sends the signal.
//! Timers on CPU time (ITIMER_VIRTUAL, ITIMER_PROF, POSIX timers on CPU-time
//! clocks) and RLIMIT_CPU are checked by the CPU ticker
//! (`cpu_clock::CpuTicker`), every tick while a process has one armed.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, Weak};
use std::time::{Duration, Instant};

use crate::abi::{Errno, SigInfo};
use crate::kernel::cpu_clock::CpuClock;
use crate::kernel::signal_send::Origin;
use crate::kernel::thread_group::Usage;
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

/// The process's CPU-time interval timer (virtual or profiling): when it
/// expires on its clock (0: disarmed), and its period, in nanoseconds.
#[derive(Clone, Copy, Debug, Default)]
struct CpuTimer {
    expires: u64,
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
    /// For a timer on a CPU-time clock: the clock, and when it expires on
    /// it (`deadline` is unused).
    cpu: Option<(CpuClock, Option<u64>)>,
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

    /// A CPU-time itimer (ITIMER_VIRTUAL or ITIMER_PROF), with the
    /// process's CPU time `now`.
    pub fn cpu(&self, prof: bool, now: Usage) -> Itimer {
        let s = self.lock();
        let (t, clock) = if prof { (s.prof, now.user + now.sys) } else { (s.virt, now.user) };
        let value = match t.expires {
            0 => 0,
            // Expired, not yet ticked: Linux reports a tick.
            e if e <= clock => crate::kernel::cpu_clock::TICK.as_nanos() as u64,
            e => e - clock,
        };
        Itimer { value: Duration::from_nanos(value), interval: Duration::from_nanos(t.interval) }
    }

    /// Sets a CPU-time itimer; returns the old value.
    pub fn set_cpu(&self, k: &Arc<Kernel>, tg: &Arc<ThreadGroup>, prof: bool, new: Itimer) -> Itimer {
        let now = tg.cpu_usage();
        let old = self.cpu(prof, now);
        let clock = if prof { now.user + now.sys } else { now.user };
        let v = new.value.as_nanos() as u64;
        let t = CpuTimer { expires: if v == 0 { 0 } else { clock + v }, interval: new.interval.as_nanos() as u64 };
        {
            let mut s = self.lock();
            if prof {
                s.prof = t;
            } else {
                s.virt = t;
            }
        }
        if t.expires != 0 {
            k.cpu_ticker.arm(k, tg);
        }
        old
    }

    /// timer_create: returns the new timer's id. A `value` of None means
    /// the timer's own id (the default sigev_value).
    /// `cpu` is the clock of a timer on a CPU-time clock.
    pub fn create(
        &self,
        clock: i32,
        cpu: Option<CpuClock>,
        notify: i32,
        signo: i32,
        value: Option<u64>,
        tid: i32,
    ) -> Result<i32, Errno> {
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
                cpu: cpu.map(|c| (c, None)),
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
        // CPU clocks are read without the timers' lock, which is taken
        // under the group's signal lock (on dequeue).
        let cpu_now = self.cpu_clock_of(id)?.and_then(|c| c.read());
        let s = self.lock();
        let t = s.posix.get(&id).ok_or(Errno::EINVAL)?;
        let value = match &t.cpu {
            Some((_, Some(at))) => {
                let now = cpu_now.unwrap_or(*at);
                Duration::from_nanos(at.saturating_sub(now).max(1))
            }
            Some((_, None)) => Duration::ZERO,
            None => t.deadline.map_or(Duration::ZERO, |d| remaining(d).max(Duration::from_nanos(1))),
        };
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

    /// The CPU-time clock of timer `id`, if it is on one.
    pub fn cpu_clock_of(&self, id: i32) -> Result<Option<CpuClock>, Errno> {
        let s = self.lock();
        let t = s.posix.get(&id).ok_or(Errno::EINVAL)?;
        Ok(t.cpu.as_ref().map(|(c, _)| c.clone()))
    }

    /// timer_settime for a timer on a CPU-time clock, with the first
    /// expiry at `at` on that clock (None: disarm); returns the old
    /// setting.
    pub fn settime_cpu(
        &self,
        k: &Arc<Kernel>,
        tg: &Arc<ThreadGroup>,
        id: i32,
        at: Option<u64>,
        interval: Duration,
    ) -> Result<Itimer, Errno> {
        let old = self.get(id)?;
        {
            let mut s = self.lock();
            let t = s.posix.get_mut(&id).ok_or(Errno::EINVAL)?;
            let Some((_, deadline)) = t.cpu.as_mut() else { return Err(Errno::EINVAL) };
            *deadline = at;
            t.interval = interval;
            t.overrun = 0;
        }
        if at.is_some() {
            k.cpu_ticker.arm(k, tg);
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
    k.send_group_signal(&tg, SigInfo::new(libc::SIGALRM, crate::abi::signal::SI_KERNEL), Origin::Sandbox);
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
            let now = Instant::now();
            let interval = t.interval.as_nanos() as u64;
            let (next, missed) = advance(0, interval, now.saturating_duration_since(at).as_nanos() as u64);
            t.overrun = t.overrun.saturating_add(missed);
            let next = at + Duration::from_nanos(next);
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
    if let Some((signo, value, tid)) = send {
        send_timer_signal(&k, &tg, id, signo, value, tid);
    }
}

/// Queues the signal of POSIX timer `id`: to thread `tid` if given and
/// still in the process, else to the process.
fn send_timer_signal(k: &Kernel, tg: &Arc<ThreadGroup>, id: i32, signo: i32, value: u64, tid: Option<i32>) {
    let info = SigInfo::timer(signo, id, 0, value);
    match tid {
        Some(tid) => match k.tasks.task(tid) {
            Some(t) if Arc::ptr_eq(&t.tg, tg) => k.send_thread_signal(&t, info, Origin::Sandbox),
            _ => k.send_group_signal(tg, info, Origin::Sandbox),
        },
        None => k.send_group_signal(tg, info, Origin::Sandbox),
    }
}

/// The next expiry of a periodic timer that expired at `at`, `now` being
/// later: (next expiry, expiries missed in between).
fn advance(at: u64, interval: u64, now: u64) -> (u64, i32) {
    let missed = now.saturating_sub(at) / interval;
    (at + (missed + 1) * interval, missed.min(i32::MAX as u64) as i32)
}

/// One tick of the CPU ticker for `tg`: fires its CPU-time timers that are
/// due and enforces RLIMIT_CPU. Returns whether anything is still armed.
pub(crate) fn cpu_tick(k: &Arc<Kernel>, tg: &Arc<ThreadGroup>) -> bool {
    if tg.signals().exiting.is_some() {
        return false;
    }
    let now = tg.cpu_usage();
    let mut group_signals = Vec::new();
    let mut timer_signals = Vec::new();
    let mut armed = false;
    // Read the POSIX timers' CPU clocks first: the timers' lock is taken
    // under the group's signal lock, so no clock is read while holding it.
    let cpu_timers: Vec<(i32, CpuClock)> = tg
        .timers
        .lock()
        .posix
        .iter()
        .filter_map(|(&id, t)| match &t.cpu {
            Some((c, Some(_))) => Some((id, c.clone())),
            _ => None,
        })
        .collect();
    let readings: Vec<(i32, Option<u64>)> = cpu_timers.into_iter().map(|(id, c)| (id, c.read())).collect();
    {
        let mut s = tg.timers.lock();
        let st = &mut *s;
        for (t, clock, sig) in
            [(&mut st.virt, now.user, libc::SIGVTALRM), (&mut st.prof, now.user + now.sys, libc::SIGPROF)]
        {
            if t.expires != 0 && clock >= t.expires {
                group_signals.push(sig);
                t.expires = if t.interval == 0 { 0 } else { t.expires + t.interval };
            }
            armed |= t.expires != 0;
        }
        for &(id, reading) in &readings {
            let Some(t) = st.posix.get_mut(&id) else { continue };
            let Some((_, Some(at))) = t.cpu.as_mut() else { continue };
            let Some(cnow) = reading else {
                // Its thread or process is gone: the timer never fires.
                if let Some(c) = t.cpu.as_mut() {
                    c.1 = None;
                }
                continue;
            };
            if cnow < *at {
                armed = true;
                continue;
            }
            let interval = t.interval.as_nanos() as u64;
            let next = if interval == 0 {
                None
            } else {
                let (next, missed) = advance(*at, interval, cnow);
                t.overrun = t.overrun.saturating_add(missed);
                armed = true;
                Some(next)
            };
            if let Some((_, d)) = t.cpu.as_mut() {
                *d = next;
            }
            if t.notify == SIGEV_NONE {
                continue;
            }
            if t.queued {
                t.overrun = t.overrun.saturating_add(1);
            } else {
                t.queued = true;
                timer_signals.push((id, t.signo, t.value, (t.notify & SIGEV_THREAD_ID != 0).then_some(t.tid)));
            }
        }
    }
    // RLIMIT_CPU: SIGXCPU at the soft limit and every second after it (the
    // soft limit moves up a second each time), SIGKILL at the hard limit.
    {
        let mut st = tg.state();
        let lim = &mut st.rlimits[libc::RLIMIT_CPU as usize];
        if lim.cur != libc::RLIM_INFINITY {
            armed = true;
            let secs = (now.user + now.sys) / 1_000_000_000;
            if lim.max != libc::RLIM_INFINITY && secs >= lim.max {
                group_signals.push(libc::SIGKILL);
                armed = false;
            } else if secs >= lim.cur {
                if lim.cur < lim.max {
                    lim.cur += 1;
                }
                group_signals.push(libc::SIGXCPU);
            }
        }
    }
    for sig in group_signals {
        // RLIMIT_CPU's SIGKILL is forced, as Linux's SEND_SIG_PRIV.
        let origin = if sig == libc::SIGKILL { Origin::Outside } else { Origin::Sandbox };
        k.send_group_signal(tg, SigInfo::new(sig, crate::abi::signal::SI_KERNEL), origin);
    }
    for (id, signo, value, tid) in timer_signals {
        send_timer_signal(k, tg, id, signo, value, tid);
    }
    armed
}
