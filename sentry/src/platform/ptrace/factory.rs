//! The stub factory: one sentry thread that traces the master stub and the
//! first thread (the leader) of every stub process.
//!
//! Leaders never run application code: they stay stopped in a ptrace stop
//! and serve as the place to inject `clone` (new stub processes from the
//! master, new application threads from a process's leader) and, for a
//! sentry thread that has no thread of its own in an address space, its
//! mapping changes. Killing a leader kills its whole stub process; the
//! factory reaps it, as the tracer and a thread of the parent process.
//!
//! Making a stub process costs a fork of the master and a seize, and its
//! first application thread a clone and a seize: hundreds of microseconds
//! on the path of every fork and exec. So the factory keeps a few stub
//! processes made ahead, each with a thread ready, and makes new ones when
//! it has nothing else to do.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use crossbeam::channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use nix::errno::Errno;

use super::batch::Batches;
use super::stub::StubPage;
use super::sys::{self, WaitStatus};
use super::thread::StubThread;
use super::{apply_op, host, StubEnv};
use crate::platform::{MapOp, PlatformError, Regs};

/// A request to the factory thread.
enum Request {
    /// Make a stub process; reply with it.
    NewProcess(Sender<Result<NewProcess, PlatformError>>),
    /// Make a thread in stub process `pid`; reply with its tid.
    NewThread { pid: i32, reply: Sender<Result<i32, PlatformError>> },
    /// Apply mapping changes in stub process `pid` through its leader.
    Apply { pid: i32, ops: Vec<MapOp>, reply: Sender<Result<(), PlatformError>> },
    /// Kill and reap stub process `pid`.
    Release { pid: i32 },
    /// Kill and reap everything, then reply.
    Shutdown(Sender<()>),
}

/// A stub process the factory made.
pub(super) struct NewProcess {
    pub pid: i32,
    /// A thread of it ready to be seized, if it was made ahead.
    pub thread: Option<i32>,
    /// Its batch page, if it has one mapped.
    pub batch: Option<u64>,
}

/// What the factory learned from the master stub at start.
pub(super) struct MasterInfo {
    /// Registers of a stopped stub thread (valid segment selectors).
    pub template: Regs,
    /// The master's XSAVE image (its length is the host's XSAVE size).
    pub xstate: Vec<u8>,
}

/// The handle to the factory thread.
pub(super) struct Factory {
    tx: Sender<Request>,
}

fn gone<T>(_: T) -> PlatformError {
    PlatformError::FactoryGone
}

impl Factory {
    /// Starts the factory thread, which seizes the (stopped) master stub
    /// `master`.
    pub(super) fn start(
        master: i32,
        page: StubPage,
        memfd: i32,
        store: Option<i32>,
        batches: Arc<Batches>,
    ) -> Result<(Factory, MasterInfo), PlatformError> {
        let (tx, rx) = unbounded::<Request>();
        let (ready_tx, ready_rx) = bounded::<Result<MasterInfo, PlatformError>>(1);
        std::thread::Builder::new()
            .name("stub-factory".into())
            .spawn(move || {
                let m = match StubThread::seize(master, master) {
                    Ok(m) => m,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                let mut template = crate::platform::zero_regs();
                let mut xstate = vec![0u8; 64 << 10];
                let info = sys::get_regs(master, &mut template)
                    .and_then(|_| sys::get_xstate(master, &mut xstate))
                    .map_err(host("inspect master stub"));
                match info {
                    Ok(n) => {
                        xstate.truncate(n);
                        let _ = ready_tx.send(Ok(MasterInfo { template, xstate }));
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                }
                let env = StubEnv { page, template, memfd, store };
                Worker { master: m, env, batches, leaders: HashMap::new(), dying: Vec::new(), spare: Vec::new() }
                    .serve(rx);
            })
            .map_err(|e| PlatformError::Host {
                op: "spawn stub factory",
                errno: Errno::from_raw(e.raw_os_error().unwrap_or(0)),
            })?;
        let info = ready_rx.recv().map_err(gone)??;
        Ok((Factory { tx }, info))
    }

    fn ask<T>(&self, make: impl FnOnce(Sender<Result<T, PlatformError>>) -> Request) -> Result<T, PlatformError> {
        let (reply, rx) = bounded(1);
        self.tx.send(make(reply)).map_err(gone)?;
        rx.recv().map_err(gone)?
    }

    /// A new stub process, waiting in the pause loop; its leader is traced
    /// by the factory. With it, maybe a thread of it ready to be seized and
    /// its batch page.
    pub(super) fn new_process(&self) -> Result<NewProcess, PlatformError> {
        self.ask(Request::NewProcess)
    }

    /// A new thread of stub process `pid`, waiting to be seized.
    pub(super) fn new_thread(&self, pid: i32) -> Result<i32, PlatformError> {
        self.ask(|reply| Request::NewThread { pid, reply })
    }

    /// Applies `ops` to stub process `pid` through its leader.
    pub(super) fn apply(&self, pid: i32, ops: &[MapOp]) -> Result<(), PlatformError> {
        self.ask(|reply| Request::Apply { pid, ops: ops.to_vec(), reply })
    }

    /// Kills stub process `pid` (asynchronously; the factory reaps it).
    pub(super) fn release(&self, pid: i32) {
        let _ = self.tx.send(Request::Release { pid });
    }

    /// Kills and reaps every stub process and the master.
    pub(super) fn shutdown(&self) {
        let (reply, rx) = bounded(1);
        if self.tx.send(Request::Shutdown(reply)).is_ok() {
            let _ = rx.recv();
        }
    }
}

/// The factory thread's state.
struct Worker {
    master: StubThread,
    env: StubEnv,
    batches: Arc<Batches>,
    /// Live stub processes by pid, each with its traced leader.
    leaders: HashMap<i32, StubThread>,
    /// Killed stub processes not reaped yet (their other threads are still
    /// being reaped by their tracers).
    dying: Vec<i32>,
    /// Stub processes made ahead, each with a thread ready and its batch
    /// page mapped.
    spare: Vec<NewProcess>,
}

/// How many stub processes the factory keeps made ahead.
const SPARE: usize = 2;

impl Worker {
    fn serve(mut self, rx: Receiver<Request>) {
        loop {
            // Idle: make a spare stub process (one at a time, so a request
            // never waits for more than one).
            if rx.is_empty() && self.spare.len() < SPARE {
                self.make_spare();
                continue;
            }
            let req = if self.dying.is_empty() {
                match rx.recv() {
                    Ok(r) => r,
                    Err(_) => break,
                }
            } else {
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(r) => r,
                    Err(RecvTimeoutError::Timeout) => {
                        self.reap_dying();
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                }
            };
            match req {
                Request::NewProcess(reply) => {
                    let r = match self.spare.pop() {
                        Some(p) => Ok(p),
                        None => self.new_process().map(|pid| NewProcess { pid, thread: None, batch: None }),
                    };
                    let _ = reply.send(r);
                }
                Request::NewThread { pid, reply } => {
                    let r = match self.leaders.get(&pid) {
                        Some(l) => l.clone_thread(&self.env.template, &self.env.page),
                        None => Err(PlatformError::StubDied { pid, how: "unknown stub process".into() }),
                    };
                    let _ = reply.send(r);
                }
                Request::Apply { pid, ops, reply } => {
                    let r = match self.leaders.get(&pid) {
                        Some(l) => ops.iter().try_for_each(|op| apply_op(l, &self.env, op)),
                        None => Err(PlatformError::StubDied { pid, how: "unknown stub process".into() }),
                    };
                    let _ = reply.send(r);
                }
                Request::Release { pid } => {
                    if self.leaders.remove(&pid).is_some() {
                        sys::kill(pid);
                        self.dying.push(pid);
                    }
                    self.reap_dying();
                }
                Request::Shutdown(reply) => {
                    self.kill_all();
                    let _ = reply.send(());
                    return;
                }
            }
        }
        self.kill_all();
    }

    fn new_process(&mut self) -> Result<i32, PlatformError> {
        let pid = self.master.clone_process(&self.env.template, &self.env.page)?;
        match StubThread::seize(pid, pid) {
            Ok(t) => {
                self.leaders.insert(pid, t);
                Ok(pid)
            }
            Err(e) => {
                sys::kill(pid);
                self.dying.push(pid);
                Err(e)
            }
        }
    }

    /// Makes a spare stub process with a thread; on failure, none.
    fn make_spare(&mut self) {
        let Ok(pid) = self.new_process() else { return };
        let made = self.leaders.get(&pid).map(|l| {
            let tid = l.clone_thread(&self.env.template, &self.env.page)?;
            Ok::<_, PlatformError>((tid, self.batches.map_into(l, &self.env)))
        });
        match made {
            Some(Ok((tid, batch))) => self.spare.push(NewProcess { pid, thread: Some(tid), batch }),
            _ => {
                if self.leaders.remove(&pid).is_some() {
                    sys::kill(pid);
                    self.dying.push(pid);
                }
            }
        }
    }

    /// Reaps the killed stub processes whose threads are all gone.
    fn reap_dying(&mut self) {
        self.dying.retain(|&pid| {
            !matches!(
                sys::wait_flags(pid, libc::WNOHANG),
                Ok(Some(WaitStatus::Exited(_) | WaitStatus::Signaled(_))) | Err(_)
            )
        });
    }

    fn kill_all(&mut self) {
        for p in self.spare.drain(..) {
            if let Some(s) = p.batch {
                self.batches.release(s);
            }
        }
        let pids: Vec<i32> = self.leaders.drain().map(|(p, _)| p).chain(std::mem::take(&mut self.dying)).collect();
        for &pid in &pids {
            sys::kill(pid);
        }
        sys::kill(self.master.pid);
        for pid in pids.into_iter().chain([self.master.pid]) {
            // Every task has exited by now, so nothing else holds these. A
            // killed process is gone within microseconds: poll from 20 µs,
            // doubling to 2 ms, for at most about a second (sandbox exit
            // waits on this).
            let mut pause = Duration::from_micros(20);
            let mut waited = Duration::ZERO;
            while waited < Duration::from_secs(1) {
                match sys::wait_flags(pid, libc::WNOHANG) {
                    Ok(Some(WaitStatus::Exited(_) | WaitStatus::Signaled(_))) | Err(_) => break,
                    _ => {
                        std::thread::sleep(pause);
                        waited += pause;
                        pause = (pause * 2).min(Duration::from_millis(2));
                    }
                }
            }
        }
    }
}
