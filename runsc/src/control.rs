//! The control socket: how runsc commands talk to a running sandbox
//! (`ROOT/ID/sock`, a unix stream socket). One request per connection,
//! one JSON line each way. `runsc create` binds and listens before it
//! starts `runsc boot`, which inherits the listening socket (so boot never
//! names a host path) and answers on a thread of its own once its init
//! program is loaded: a connection that gets an answer knows the sandbox
//! is ready.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::os::fd::{AsFd as _, AsRawFd as _, OwnedFd, RawFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context as _};
use sentry::fs::host::HostFile;
use sentry::kernel::{Kernel, ThreadGroup};

use crate::sandbox::Sandbox;
use serde::{Deserialize, Serialize};

/// A request.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "kebab-case")]
pub enum Request {
    /// The sandbox's status.
    State,
    /// Run init (after the spec's startContainer hooks, given this state).
    Start {
        /// The container's state for the hooks, as JSON.
        #[serde(default)]
        hook_state: Option<String>,
    },
    /// Send a signal to init (or `pid`), or with `all` to every process.
    Signal {
        /// The signal number.
        signal: i32,
        /// Every process, not just init.
        all: bool,
        /// This process instead of init.
        #[serde(default)]
        pid: Option<i32>,
    },
    /// The processes.
    Ps,
    /// Start a new process (`runsc exec`); its stdio fds come with the
    /// request, one per `Some` in `stdio`.
    Exec {
        /// The process.
        process: Box<oci_spec::runtime::Process>,
        /// Fds 0, 1 and 2 (None for one that is closed), and any passed
        /// after them (`--preserve-fds`: 3, 4, ...).
        stdio: Vec<Option<StdioInfo>>,
        /// The one fd passed is a host terminal (`exec --tty`): the
        /// process runs on a terminal of the sandbox's joined to it.
        #[serde(default)]
        terminal: bool,
    },
    /// The host terminal of process `pid` (exec'd with one) was resized.
    Resize {
        /// Its pid.
        pid: i32,
    },
    /// New limits (`runsc update`).
    SetLimits {
        /// The most tasks (0 or less: none).
        #[serde(default)]
        pids: Option<i64>,
        /// The container's memory limit, bytes, shown as the sandbox's
        /// total memory (0 or less: none).
        #[serde(default)]
        memory: Option<i64>,
        /// The CPU limits the cgroup filesystem shows: quota and period
        /// (µs) and shares, as the spec gives them.
        #[serde(default)]
        cpu: Option<(Option<i64>, Option<u64>, Option<u64>)>,
    },
    /// Hold every task (`runsc pause`).
    Pause,
    /// Let them run again (`runsc resume`).
    Resume,
    /// CPU, memory and process figures (`runsc events`).
    Stats,
    /// Wait for init to exit (`runsc wait`).
    WaitInit,
    /// Wait for a process started by `Exec` to exit; it is killed if the
    /// connection closes first.
    Wait {
        /// Its pid.
        pid: i32,
    },
    /// Make another container of the pod, in this sandbox (`runsc
    /// create` of a container whose annotations name it): its own root
    /// filesystem and mounts, its init loaded, answering on a control
    /// socket of its own. The fds that come with it: that socket
    /// (listening), the gofer channel of its root, those of its `volumes`
    /// bind mounts, then its stdio (one per `Some` in `stdio`; with
    /// `terminal`, the host terminal alone).
    CreateContainer {
        /// Its ID.
        id: String,
        /// Its spec.
        spec: Box<oci_spec::runtime::Spec>,
        /// How many bind-mount gofer channels come.
        volumes: usize,
        /// Which of those serve single files.
        #[serde(default)]
        file_volumes: Vec<usize>,
        /// Its stdio.
        stdio: Vec<Option<StdioInfo>>,
        /// Its init runs on a terminal of the sandbox's joined to the
        /// host terminal passed (`--console-socket`).
        #[serde(default)]
        terminal: bool,
    },
    /// Remove this container of the pod (`runsc delete`): its processes
    /// are killed and its mounts dropped; the control socket closes.
    Destroy,
}

/// What comes with a stdio fd passed to the sandbox.
#[derive(Debug, Serialize, Deserialize)]
pub struct StdioInfo {
    /// Its status flags.
    pub flags: i32,
    /// Its name (/proc/self/fd's link).
    pub name: String,
    /// Whether the fd is non-blocking.
    pub nonblocking: bool,
}

/// A process, as `runsc ps` shows it.
#[derive(Debug, Serialize, Deserialize)]
pub struct ProcInfo {
    /// Its pid in the sandbox.
    pub pid: i32,
    /// Its parent's pid.
    pub ppid: i32,
    /// Its real uid.
    pub uid: u32,
    /// Its command name.
    pub comm: String,
}

/// A reply.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    /// Why the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// created, running or stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The processes (`ps`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub procs: Option<Vec<ProcInfo>>,
    /// The new process's pid (`exec`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// How the process ended, as a shell's status (`wait`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<i32>,
    /// The figures (`stats`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<Stats>,
}

/// The sandbox's resource figures.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Stats {
    /// CPU time in application code, ns.
    pub cpu_user_ns: u64,
    /// CPU time in the sentry for the application, ns.
    pub cpu_sys_ns: u64,
    /// Resident bytes: the sandbox's, or a pod container's own (see
    /// `Request::Stats`).
    pub memory_bytes: u64,
    /// Processes.
    pub pids: u64,
}

/// The socket's address: the state directory through /proc/self/fd, so
/// that a long `--root` still fits a socket address.
fn with_addr<T>(dir: &Path, f: impl FnOnce(&str) -> std::io::Result<T>) -> anyhow::Result<T> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let d = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(dir)
        .with_context(|| format!("open {}", dir.display()))?;
    let addr = format!("/proc/self/fd/{}/sock", d.as_raw_fd());
    f(&addr).with_context(|| format!("control socket in {}", dir.display()))
}

/// Makes the listening socket in state directory `dir`.
pub fn listen(dir: &Path) -> anyhow::Result<OwnedFd> {
    let l = with_addr(dir, |a| UnixListener::bind(a))?;
    Ok(OwnedFd::from(l))
}

/// Sends `req` to the sandbox whose state directory is `dir`; waits at
/// most `timeout` for the reply (None: as long as it takes).
pub fn call(dir: &Path, req: &Request, timeout: Option<Duration>) -> anyhow::Result<Reply> {
    call_with_fds(dir, req, &[], timeout)
}

/// [`call`], with `fds` passed to the sandbox alongside the request.
pub fn call_with_fds(dir: &Path, req: &Request, fds: &[RawFd], timeout: Option<Duration>) -> anyhow::Result<Reply> {
    let s = with_addr(dir, |a| UnixStream::connect(a))?;
    s.set_read_timeout(timeout)?;
    let mut line = serde_json::to_vec(req)?;
    line.push(b'\n');
    // One sendmsg: the fds ride on the request's first byte.
    gofer::transport::send_fds(s.as_raw_fd(), &line, fds).context("send to the sandbox")?;
    let mut answer = String::new();
    BufReader::new(s).read_line(&mut answer).context("read the sandbox's answer")?;
    if answer.is_empty() {
        return Err(Unanswered.into());
    }
    let reply: Reply = serde_json::from_str(&answer).context("parse the sandbox's answer")?;
    match reply.error {
        Some(e) => Err(anyhow!("{e}")),
        None => Ok(reply),
    }
}

/// Whether a failed [`call`] means the sandbox hung up (closed the
/// connection unanswered, or refused it): it is exiting.
pub fn hung_up(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.is::<Unanswered>()
            || c.downcast_ref::<std::io::Error>().is_some_and(|io| {
                matches!(io.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset)
            })
    })
}

/// The sandbox closed a control connection without answering.
#[derive(Debug, thiserror::Error)]
#[error("the sandbox closed the control connection without answering")]
pub struct Unanswered;

/// The sandbox's side: what init has come to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Loaded, waiting for `start`.
    Created,
    /// Started.
    Running,
}

/// A `start` passed to boot's main thread: the hooks' state, and where
/// to answer.
pub struct StartRequest {
    /// The state for the startContainer hooks.
    pub hook_state: Option<String>,
    /// The answer goes here.
    pub reply: mpsc::Sender<Result<(), String>>,
}

/// What the control thread shares with boot's main thread.
pub struct Server {
    /// The kernel.
    pub kernel: Arc<Kernel>,
    /// The sandbox (to load new processes).
    pub sandbox: Arc<Sandbox>,
    /// Processes started by `exec`, until waited for.
    pub execs: Mutex<HashMap<i32, Arc<ThreadGroup>>>,
    /// The terminals of those exec'd with one.
    pub bridges: Mutex<HashMap<i32, Arc<sentry::fs::tty::bridge::Bridge>>>,
    /// `runsc wait`s and `start`s yet to be answered.
    pub init_waiters: std::sync::atomic::AtomicUsize,
    /// Init's phase.
    pub phase: Mutex<Phase>,
    /// `start` requests, to the main thread, which answers on the channel
    /// it is given.
    pub start: Mutex<mpsc::Sender<StartRequest>>,
    /// The other container of the pod this server answers for (None: the
    /// sandbox's first, whose init is pid 1).
    pub sub: Option<Arc<crate::control_pod::Sub>>,
    /// The last tag given to a container of the pod (shared by every
    /// server of the sandbox).
    pub tags: Arc<std::sync::atomic::AtomicU32>,
    /// The listening socket, once it is to answer no more (its container
    /// was destroyed).
    pub closed: crate::control_pod::Closer,
}

impl Server {
    /// Gives the `runsc wait`s and `start`s their answers before the
    /// sandbox exits (at most a second).
    pub fn drain_init_waiters(&self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        while self.init_waiters.load(std::sync::atomic::Ordering::Acquire) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Answers connections on `listener` for as long as the sandbox lives.
    pub fn serve(self: Arc<Self>, listener: OwnedFd) -> anyhow::Result<()> {
        let listener = UnixListener::from(listener);
        self.closed.watch(&listener);
        std::thread::Builder::new().name("control".into()).spawn(move || {
            for conn in listener.incoming() {
                if self.closed.is_closed() {
                    break;
                }
                match conn {
                    Ok(c) => {
                        // A connection may wait long (`wait`): each has a
                        // thread of its own.
                        let me = self.clone();
                        let spawned = std::thread::Builder::new().name("control-conn".into()).spawn(move || {
                            if let Err(e) = me.answer(c) {
                                tracing::debug!("control connection: {e:#}");
                            }
                        });
                        if let Err(e) = spawned {
                            tracing::warn!("control connection: no thread: {e}");
                        }
                    }
                    Err(e) => {
                        tracing::warn!("control socket: {e}");
                        std::thread::sleep(Duration::from_millis(10));
                    }
                }
            }
        })?;
        Ok(())
    }

    fn answer(&self, conn: UnixStream) -> anyhow::Result<()> {
        conn.set_read_timeout(Some(Duration::from_secs(5)))?;
        // The first read takes the fds that came with the request.
        let mut buf = vec![0u8; 64 * 1024];
        let (n, fds) = gofer::transport::recv_fds(conn.as_raw_fd(), &mut buf)?;
        let mut line = buf[..n].to_vec();
        let mut rest = BufReader::new(&conn);
        if !line.ends_with(b"\n") {
            rest.read_until(b'\n', &mut line)?;
        }
        let req = serde_json::from_slice::<Request>(&line);
        // `wait` and `start` answers tell of init's fate: the sandbox does
        // not exit before they are sent.
        let waits_init = matches!(req, Ok(Request::WaitInit | Request::Start { .. }));
        if waits_init {
            self.init_waiters.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
        let reply = match req {
            Ok(Request::Wait { pid }) => self.wait(pid, &conn),
            Ok(req) => self.handle(req, fds),
            Err(e) => Reply { error: Some(format!("bad request: {e}")), ..Reply::default() },
        };
        let mut out = serde_json::to_vec(&reply)?;
        out.push(b'\n');
        let sent = (&conn).write_all(&out);
        if waits_init {
            self.init_waiters.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
        Ok(sent?)
    }

    pub(crate) fn status(&self) -> &'static str {
        if let Some(sub) = &self.sub {
            return sub.status(&self.kernel);
        }
        if self.kernel.init_exit().is_some() {
            return "stopped";
        }
        if self.kernel.frozen() {
            return "paused";
        }
        match *self.phase.lock().unwrap_or_else(|e| e.into_inner()) {
            Phase::Created => "created",
            Phase::Running => "running",
        }
    }

    fn handle(&self, mut req: Request, fds: Vec<OwnedFd>) -> Reply {
        let err = |e: String| Reply { error: Some(e), ..Reply::default() };
        if let Some(sub) = &self.sub {
            match self.handle_sub(sub, req) {
                Ok(reply) => return reply,
                Err(common) => req = common,
            }
        }
        let tag = self.scope().container;
        match req {
            Request::State => Reply { status: Some(self.status().into()), ..Reply::default() },
            Request::Start { hook_state } => {
                if self.status() != "created" {
                    return err(format!("cannot start a container that is {}", self.status()));
                }
                let (tx, rx) = mpsc::channel();
                let sent =
                    self.start.lock().unwrap_or_else(|e| e.into_inner()).send(StartRequest { hook_state, reply: tx });
                if sent.is_err() {
                    return err("the sandbox is not waiting to start".into());
                }
                match rx.recv() {
                    Ok(Ok(())) => Reply { status: Some("running".into()), ..Reply::default() },
                    Ok(Err(e)) => err(e),
                    Err(_) => err("the sandbox failed to start init".into()),
                }
            }
            Request::Signal { signal, all, pid } => {
                // A paused container's tasks take signals too: they queue,
                // and SIGKILL kills (as the cgroup freezer lets it).
                if !matches!(self.status(), "running" | "paused") {
                    return err(format!("cannot signal a container that is {}", self.status()));
                }
                let target = match (all, pid) {
                    (true, _) => None,
                    (false, Some(p)) => Some(p),
                    (false, None) => match self.init_pid() {
                        Some(p) => Some(p),
                        None => return err("the container's init has not started".into()),
                    },
                };
                if self.kernel.signal_from_host_in(Some(tag), target, signal) {
                    Reply::default()
                } else {
                    err("no such process".into())
                }
            }
            Request::Ps => Reply { procs: Some(self.procs()), ..Reply::default() },
            Request::Resize { pid } => match self.bridges.lock().unwrap_or_else(|e| e.into_inner()).get(&pid) {
                Some(b) => {
                    b.resize();
                    Reply::default()
                }
                None => err(format!("no process {pid} exec'd with a terminal")),
            },
            Request::Exec { process, stdio, terminal } => match self.exec(self.scope(), &process, stdio, terminal, fds)
            {
                Ok(pid) => Reply { pid: Some(pid), ..Reply::default() },
                Err(e) => err(start_error_text(&e)),
            },
            Request::SetLimits { pids, memory, cpu } => {
                if let Some((quota, period, shares)) = cpu {
                    let mut l = self.kernel.shown_limits();
                    if let Some(q) = quota {
                        l.cpu_quota = u64::try_from(q).ok().filter(|&q| q > 0);
                    }
                    if let Some(p) = period.filter(|&p| p > 0) {
                        l.cpu_period = p;
                    }
                    if let Some(s) = shares.filter(|&s| s > 0) {
                        l.cpu_weight = sentry::fs::cgroupfs::ShownLimits::weight_of_shares(s);
                        l.cpu_shares = s;
                    }
                    self.kernel.set_shown_limits(l);
                }
                if let Some(limit) = pids {
                    self.kernel.set_task_limit(usize::try_from(limit).unwrap_or(0));
                }
                if let Some(limit) = memory {
                    self.kernel.mf.set_memory_limit(u64::try_from(limit).unwrap_or(0));
                }
                Reply::default()
            }
            Request::Pause => match self.status() {
                "running" => {
                    if !self.kernel.freeze(Duration::from_secs(5)) {
                        tracing::warn!("pause: not every task was held within 5 s");
                    }
                    Reply::default()
                }
                s => err(format!("cannot pause a container that is {s}")),
            },
            Request::Resume => match self.status() {
                "paused" => {
                    self.kernel.thaw();
                    Reply::default()
                }
                s => err(format!("cannot resume a container that is {s}, not paused")),
            },
            Request::Stats => {
                // The container's own CPU time and processes; its memory:
                // for the sandbox's first container, all the sandbox's
                // resident memory (its page cache and tmpfs files too, as
                // a cgroup counts them), for a pod's other containers
                // what their processes map.
                let cpu = self.kernel.cpu_usage_in(tag);
                let memory =
                    if self.sub.is_some() { self.kernel.memory_in(tag) } else { self.kernel.mf.resident_total() };
                let stats = Stats {
                    cpu_user_ns: cpu.user,
                    cpu_sys_ns: cpu.sys,
                    memory_bytes: memory,
                    pids: self.kernel.pids_in(tag).len() as u64,
                };
                Reply { stats: Some(stats), ..Reply::default() }
            }
            Request::WaitInit => Reply { exit: Some(self.kernel.wait_init_exit().shell_code()), ..Reply::default() },
            Request::Wait { .. } => err("wait needs its own connection".into()),
            Request::CreateContainer { id, spec, volumes, file_volumes, stdio, terminal } => {
                let made = self.create_container(&id, &spec, volumes, &file_volumes, stdio, terminal, fds);
                match made {
                    Ok(()) => Reply { status: Some("created".into()), ..Reply::default() },
                    Err(e) => err(start_error_text(&e)),
                }
            }
            Request::Destroy => {
                err("the sandbox's first container goes with the sandbox (runsc delete kills it)".into())
            }
        }
    }

    /// Starts `process` in `scope` with the passed stdio fds; returns its
    /// pid.
    pub(crate) fn exec(
        &self,
        scope: &crate::sandbox::Scope,
        process: &oci_spec::runtime::Process,
        stdio: Vec<Option<StdioInfo>>,
        terminal: bool,
        fds: Vec<OwnedFd>,
    ) -> anyhow::Result<i32> {
        if self.status() != "running" {
            return Err(anyhow!("cannot exec in a container that is {}", self.status()));
        }
        if terminal {
            let [fd] = <[OwnedFd; 1]>::try_from(fds)
                .map_err(|f| anyhow!("exec --tty: {} fds passed, not the terminal alone", f.len()))?;
            let nonblocking = stdio.iter().flatten().next().is_some_and(|i| i.nonblocking);
            let (image, bridge) =
                self.sandbox.prepare_on_terminal(scope, process, HostFile::import(fd, nonblocking))?;
            let tg = self.sandbox.start_process(image)?;
            let pid = tg.pid;
            self.bridges.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, bridge);
            self.execs.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, tg);
            return Ok(pid);
        }
        let files = stdio_files(stdio, fds)?;
        let image = self.sandbox.prepare_process(scope, process, files, false)?;
        let tg = self.sandbox.start_process(image)?;
        let pid = tg.pid;
        self.execs.lock().unwrap_or_else(|e| e.into_inner()).insert(pid, tg);
        Ok(pid)
    }

    /// Waits for exec'd process `pid` to exit; kills it if the waiting
    /// runsc goes away first (its connection closes).
    fn wait(&self, pid: i32, conn: &UnixStream) -> Reply {
        let Some(tg) = self.execs.lock().unwrap_or_else(|e| e.into_inner()).get(&pid).cloned() else {
            return Reply { error: Some(format!("no process {pid} started by exec")), ..Reply::default() };
        };
        let status = loop {
            if let Some(s) = tg.wait_exited(Some(Instant::now() + Duration::from_millis(100))) {
                break s;
            }
            if peer_gone(conn) {
                tracing::debug!(pid, "exec waiter gone: killing the process");
                self.kernel.signal_from_host(Some(pid), libc::SIGKILL);
            }
        };
        self.execs.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        let bridge = self.bridges.lock().unwrap_or_else(|e| e.into_inner()).remove(&pid);
        if let Some(b) = bridge {
            // Its last output reaches the host terminal before its status
            // reaches the waiter (unless a process it left holds the
            // terminal open).
            b.wait_done(Duration::from_secs(1));
        }
        Reply { exit: Some(status.shell_code()), ..Reply::default() }
    }

    /// The processes of this server's container.
    pub(crate) fn procs(&self) -> Vec<ProcInfo> {
        let tag = self.sub.as_ref().map_or(0, |s| s.scope.container);
        self.kernel
            .pids_in(tag)
            .into_iter()
            .filter_map(|pid| {
                let (ppid, uid, comm) = self.kernel.process_summary(pid)?;
                Some(ProcInfo { pid, ppid, uid, comm: String::from_utf8_lossy(&comm).into_owned() })
            })
            .collect()
    }
}

/// The files for stdio fds passed with a request, announced by `stdio`
/// (one per `Some`).
pub(crate) fn stdio_files(
    stdio: Vec<Option<StdioInfo>>,
    fds: Vec<OwnedFd>,
) -> anyhow::Result<Vec<Option<Arc<sentry::vfs::File>>>> {
    if stdio.len() > gofer::transport::MAX_FDS || stdio.iter().flatten().count() != fds.len() {
        return Err(anyhow!("{} stdio fds announced, {} passed", stdio.iter().flatten().count(), fds.len()));
    }
    let mut fds = fds.into_iter();
    let mut files = Vec::new();
    for info in stdio {
        files.push(match info {
            Some(i) => {
                let fd = fds.next().ok_or_else(|| anyhow!("too few stdio fds"))?;
                let ops = Arc::new(HostFile::import(fd, i.nonblocking));
                Some(sentry::vfs::File::new(ops, i.flags as u32, None, i.name.into_bytes()))
            }
            None => None,
        });
    }
    Ok(files)
}

/// An error's message for runsc: a program that cannot start says so
/// alone.
pub(crate) fn start_error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<crate::sandbox::StartError>() {
        Some(se) => se.msg.clone(),
        None => format!("{e:#}"),
    }
}

/// Whether the other end of `conn` has closed (it sends nothing after its
/// request, so readable means end of file).
fn peer_gone(conn: &UnixStream) -> bool {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    let mut fds = [PollFd::new(conn.as_fd(), PollFlags::POLLIN)];
    matches!(poll(&mut fds, PollTimeout::ZERO), Ok(n) if n > 0)
}
