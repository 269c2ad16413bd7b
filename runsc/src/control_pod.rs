//! The other containers of a pod, inside the sandbox: a container whose
//! bundle's annotations name a running sandbox (the CRI's
//! `io.kubernetes.cri.sandbox-id`) is made here on `CreateContainer`,
//! with its own root filesystem (its own gofer), mounts and processes
//! (tagged with the container's number; one pid namespace for the pod, as
//! Kubernetes' `shareProcessNamespace` gives), sharing the sandbox's
//! network, IPC and UTS namespaces and its /dev/shm. Each answers on a
//! control socket of its own (`ROOT/ID/sock`, bound by `runsc create`
//! and passed in), so every runsc command reaches it as it reaches a
//! sandbox's first container.

use std::os::fd::{AsRawFd as _, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use oci_spec::runtime::{Hook, Process, Spec};
use sentry::fs::host::HostFile;
use sentry::kernel::clone::NewProcess;
use sentry::kernel::{ExitStatus, Kernel, ThreadGroup};

use crate::control::{Phase, Reply, Request, Server, StdioInfo};
use crate::sandbox::Scope;

/// How long a destroyed or ended container's processes may take to go.
const REAP_PATIENCE: Duration = Duration::from_secs(5);

/// One other container of the pod.
pub struct Sub {
    /// Its ID.
    pub id: String,
    /// Its root and tag.
    pub scope: Scope,
    /// Its init's process (startContainer hooks run as it).
    process: Process,
    /// Its startContainer hooks.
    start_hooks: Vec<Hook>,
    /// Its init, loaded, until started.
    image: Mutex<Option<NewProcess>>,
    /// Its init, once started.
    init: Mutex<Option<Arc<ThreadGroup>>>,
    /// The terminal its init runs on (`--console-socket`), until init
    /// has exited (the host terminal then closes: the client's master
    /// sees its end).
    bridge: Mutex<Option<Arc<sentry::fs::tty::bridge::Bridge>>>,
    /// Removed (`runsc delete`).
    destroyed: AtomicBool,
    /// Init's exit status, once it and the rest of the container's
    /// processes are gone.
    exit: Mutex<Option<ExitStatus>>,
    exit_cv: Condvar,
}

impl Sub {
    /// Its OCI status.
    pub fn status(&self, kernel: &Kernel) -> &'static str {
        if self.destroyed.load(Ordering::Acquire)
            || kernel.init_exit().is_some()
            || self.exit.lock().unwrap_or_else(|e| e.into_inner()).is_some()
        {
            return "stopped";
        }
        if kernel.frozen() || kernel.container_frozen(self.scope.container) {
            return "paused";
        }
        if self.init.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            "running"
        } else {
            "created"
        }
    }

    /// Its init's pid, once started.
    pub fn init_pid(&self) -> Option<i32> {
        self.init.lock().unwrap_or_else(|e| e.into_inner()).as_ref().map(|tg| tg.pid)
    }

    /// Waits until init has exited and the container's processes are
    /// gone; its shell status (137 if it was destroyed unstarted).
    fn wait_exit(&self) -> i32 {
        let mut e = self.exit.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(s) = *e {
                return s.shell_code();
            }
            if self.destroyed.load(Ordering::Acquire) {
                return 128 + libc::SIGKILL;
            }
            e = self.exit_cv.wait_timeout(e, Duration::from_millis(100)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    fn set_exit(&self, s: ExitStatus) {
        *self.exit.lock().unwrap_or_else(|e| e.into_inner()) = Some(s);
        self.exit_cv.notify_all();
    }
}

/// Kills every process of container `tag` and waits (a while) for them
/// to be gone, as Linux ends a pid namespace whose init has exited; a
/// frozen container is thawed once they are.
fn kill_container(kernel: &Kernel, tag: u32) {
    kernel.signal_from_host_in(Some(tag), None, libc::SIGKILL);
    let deadline = Instant::now() + REAP_PATIENCE;
    while kernel.pids_in(tag).iter().any(|&p| kernel.process_summary(p).is_some()) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
    if kernel.container_frozen(tag) {
        kernel.thaw_container(tag);
    }
}

/// A control socket that can be told to stop answering: its accept loop
/// is woken (shutdown) and ends.
#[derive(Default)]
pub struct Closer {
    fd: Mutex<Option<RawFd>>,
    closed: AtomicBool,
}

impl Closer {
    /// Remembers the listening socket the accept loop uses.
    pub fn watch(&self, l: &UnixListener) {
        *self.fd.lock().unwrap_or_else(|e| e.into_inner()) = Some(l.as_raw_fd());
    }

    /// Whether the loop is to end; once it is, the socket is forgotten
    /// (the loop closes it next).
    pub fn is_closed(&self) -> bool {
        let mut fd = self.fd.lock().unwrap_or_else(|e| e.into_inner());
        let closed = self.closed.load(Ordering::Acquire);
        if closed {
            *fd = None;
        }
        closed
    }

    /// Ends the accept loop.
    fn close(&self) {
        let fd = self.fd.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::Release);
        if let Some(fd) = *fd {
            // Wakes the blocked accept (EINVAL); the fd stays ours until
            // the loop, which takes this lock first, closes it.
            let _ = nix::sys::socket::shutdown(fd, nix::sys::socket::Shutdown::Both);
        }
    }
}

impl Server {
    /// The root and tag of this server's container.
    pub(crate) fn scope(&self) -> &Scope {
        self.sub.as_ref().map_or_else(|| self.sandbox.scope(), |s| &s.scope)
    }

    /// The pid of this server's container's init (None: not started).
    pub(crate) fn init_pid(&self) -> Option<i32> {
        match &self.sub {
            Some(s) => s.init_pid(),
            None => Some(1),
        }
    }

    /// Makes container `id` of the pod from a `CreateContainer` request.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn create_container(
        &self,
        id: &str,
        spec: &Spec,
        volumes: usize,
        file_volumes: &[usize],
        stdio: Vec<Option<StdioInfo>>,
        terminal: bool,
        fds: Vec<OwnedFd>,
    ) -> anyhow::Result<()> {
        if self.kernel.init_exit().is_some() {
            return Err(anyhow!("the pod's sandbox is stopping"));
        }
        let process = spec.process().clone().ok_or_else(|| anyhow!("config.json: process: missing"))?;
        let mut fds = fds.into_iter();
        let (Some(listener), Some(gofer)) = (fds.next(), fds.next()) else {
            return Err(anyhow!("create container: its control socket and root gofer channel were not passed"));
        };
        let vols: Vec<OwnedFd> = fds.by_ref().take(volumes).collect();
        if vols.len() != volumes {
            return Err(anyhow!("create container: {volumes} volume channels announced, {} passed", vols.len()));
        }
        let rest: Vec<OwnedFd> = fds.collect();
        let tag = self.tags.fetch_add(1, Ordering::AcqRel) + 1;
        let scope = self.sandbox.add_container_fs(tag, spec, gofer, vols, file_volumes)?;
        tracing::debug!(id, tag, "container of the pod: its filesystem is built");
        let loaded = if terminal {
            let fd = <[OwnedFd; 1]>::try_from(rest)
                .map(|[fd]| fd)
                .map_err(|f| anyhow!("create container: {} fds passed for its terminal, not one", f.len()));
            fd.and_then(|fd| {
                let nonblocking = stdio.iter().flatten().next().is_some_and(|i| i.nonblocking);
                let (image, b) =
                    self.sandbox.prepare_on_terminal(&scope, &process, HostFile::import(fd, nonblocking))?;
                Ok((image, Some(b)))
            })
        } else {
            crate::control::stdio_files(stdio, rest)
                .and_then(|files| self.sandbox.prepare_process(&scope, &process, files, false))
                .map(|image| (image, None))
        };
        let (image, bridge) = match loaded {
            Ok(l) => l,
            Err(e) => {
                self.sandbox.remove_container_fs(&scope.root);
                return Err(e);
            }
        };
        let start_hooks = spec.hooks().as_ref().and_then(|h| h.start_container().clone()).unwrap_or_default();
        let sub = Arc::new(Sub {
            id: id.to_string(),
            scope,
            process,
            start_hooks,
            image: Mutex::new(Some(image)),
            init: Mutex::new(None),
            bridge: Mutex::new(bridge),
            destroyed: AtomicBool::new(false),
            exit: Mutex::new(None),
            exit_cv: Condvar::new(),
        });
        let server = Arc::new(Server {
            kernel: self.kernel.clone(),
            sandbox: self.sandbox.clone(),
            execs: Default::default(),
            bridges: Default::default(),
            init_waiters: Default::default(),
            phase: Mutex::new(Phase::Created),
            start: Mutex::new(self.start.lock().unwrap_or_else(|e| e.into_inner()).clone()),
            sub: Some(sub.clone()),
            tags: self.tags.clone(),
            closed: Default::default(),
        });
        if let Err(e) = server.serve(listener) {
            self.sandbox.remove_container_fs(&sub.scope.root);
            return Err(e);
        }
        tracing::info!(id, tag, "container of the pod created");
        Ok(())
    }

    /// The requests a pod's other container answers its own way; the
    /// rest are given back to be answered as the first container's are.
    pub(crate) fn handle_sub(&self, sub: &Arc<Sub>, req: Request) -> Result<Reply, Request> {
        let err = |e: String| Ok(Reply { error: Some(e), ..Reply::default() });
        match req {
            Request::Start { hook_state } => match self.start_sub(sub, hook_state) {
                Ok(()) => Ok(Reply { status: Some("running".into()), ..Reply::default() }),
                Err(e) => err(e),
            },
            Request::Pause => match sub.status(&self.kernel) {
                "running" => {
                    if !self.kernel.freeze_container(sub.scope.container, Duration::from_secs(5)) {
                        tracing::warn!(id = sub.id, "pause: not every task was held within 5 s");
                    }
                    Ok(Reply::default())
                }
                s => err(format!("cannot pause a container that is {s}")),
            },
            Request::Resume => {
                if self.kernel.frozen() {
                    return err(format!("container {:?}: its pod's sandbox is paused: resume that", sub.id));
                }
                if !self.kernel.container_frozen(sub.scope.container) {
                    return err(format!("cannot resume a container that is {}, not paused", sub.status(&self.kernel)));
                }
                self.kernel.thaw_container(sub.scope.container);
                Ok(Reply::default())
            }
            Request::SetLimits { .. } => err(format!(
                "container {:?} is in a pod: its limits are the pod's (update the sandbox container)",
                sub.id
            )),
            Request::WaitInit => Ok(Reply { exit: Some(sub.wait_exit()), ..Reply::default() }),
            Request::CreateContainer { .. } => {
                err(format!("container {:?} is not its pod's sandbox: create containers in the sandbox's", sub.id))
            }
            Request::Destroy => {
                sub.destroyed.store(true, Ordering::Release);
                kill_container(&self.kernel, sub.scope.container);
                sub.exit_cv.notify_all();
                self.sandbox.remove_container_fs(&sub.scope.root);
                *sub.image.lock().unwrap_or_else(|e| e.into_inner()) = None;
                self.closed.close();
                tracing::info!(id = sub.id, "container of the pod destroyed");
                Ok(Reply::default())
            }
            other => Err(other),
        }
    }

    /// Runs the container's startContainer hooks, then its init; when
    /// init exits, the container's other processes are killed.
    fn start_sub(&self, sub: &Arc<Sub>, hook_state: Option<String>) -> Result<(), String> {
        let status = sub.status(&self.kernel);
        if status != "created" {
            return Err(format!("cannot start a container that is {status}"));
        }
        let Some(image) = sub.image.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return Err("cannot start a container that is starting".into());
        };
        if !sub.start_hooks.is_empty() {
            let state = hook_state.unwrap_or_default();
            crate::start_hooks::run(&self.sandbox, &sub.scope, &sub.process, &sub.start_hooks, state.as_bytes())?;
        }
        let tg = self.sandbox.start_process(image).map_err(|e| format!("{e:#}"))?;
        *sub.init.lock().unwrap_or_else(|e| e.into_inner()) = Some(tg.clone());
        let (kernel, watched) = (self.kernel.clone(), sub.clone());
        let watcher = std::thread::Builder::new().name("pod-init".into()).spawn(move || {
            let status = loop {
                if let Some(s) = tg.wait_exited(None) {
                    break s;
                }
            };
            kill_container(&kernel, watched.scope.container);
            let bridge = watched.bridge.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(b) = bridge {
                b.wait_done(Duration::from_secs(1));
            }
            watched.set_exit(status);
        });
        if let Err(e) = watcher {
            // Without its watcher the container could not end: it ends now.
            kill_container(&self.kernel, sub.scope.container);
            sub.set_exit(ExitStatus::Signaled { sig: libc::SIGKILL, core: false });
            return Err(format!("start: no thread to watch init: {e}"));
        }
        Ok(())
    }
}
