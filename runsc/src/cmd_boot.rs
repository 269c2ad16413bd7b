//! `runsc boot`: the sandbox process. Reads the spec, builds the kernel and
//! runs the container's process; exits with its status.

use std::io::Read as _;
use std::os::fd::AsFd as _;
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use oci_spec::runtime::Spec;

use crate::cli::{BootArgs, GlobalFlags};
use crate::logging;
use crate::sandbox::{self, Sandbox, StartError};
use crate::{confine, control, filters, signals};

/// Runs the sandbox; returns the exit status for runsc to exit with.
pub fn run(g: &GlobalFlags, args: &BootArgs) -> anyhow::Result<i32> {
    let Some(fd) = args.error_fd else { return boot(g, args) };
    // An OCI container's start-up errors go to the runsc that creates it,
    // which reports them (on its stderr and in --log).
    let mut errors = std::fs::File::from(gofer::transport::adopt_inherited(fd).context("boot --error-fd")?);
    let (msg, code) = match boot(g, args) {
        Ok(code) => return Ok(code),
        Err(e) => match e.downcast_ref::<StartError>() {
            Some(se) => (se.msg.clone(), se.code),
            None => (format!("{e:#}"), 1),
        },
    };
    use std::io::Write as _;
    let _ = errors.write_all(msg.as_bytes());
    Ok(code)
}

/// Boots the sandbox and runs init; an error that keeps init from starting
/// is a [`StartError`] (with a shell's exit status) or any other error.
fn boot(g: &GlobalFlags, args: &BootArgs) -> anyhow::Result<i32> {
    crate::cgroup::join_inherited(&args.cgroup_fds).context("boot")?;
    logging::init(g, g.debug_log.as_deref(), "boot")?;
    if !args.detached {
        confine::die_with_parent().context("boot")?;
    }
    // Signals from outside reach the sandbox through runsc, forwarded to
    // init; a session of its own keeps the terminal's away.
    signals::block()?;
    nix::unistd::setsid().context("boot: setsid")?;
    // A terminal from --console-socket is this session's: its signals come
    // here to be forwarded.
    crate::console::control(std::io::stdin().as_fd());
    let spec_fd = gofer::transport::adopt_inherited(args.spec_fd).context("boot --spec-fd")?;
    let mut json = Vec::new();
    std::fs::File::from(spec_fd).read_to_end(&mut json).context("read spec")?;
    let spec: Spec = serde_json::from_slice(&json).context("parse spec")?;
    let gofer = gofer::transport::adopt_inherited(args.gofer_fd).context("boot --gofer-fd")?;
    gofer::transport::set_polling(gofer::transport::several_cpus());
    let volumes = args
        .volume_fds
        .iter()
        .map(|&fd| gofer::transport::adopt_inherited(fd).context("boot --volume-fds"))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let control =
        args.control_fd.map(|fd| gofer::transport::adopt_inherited(fd).context("boot --control-fd")).transpose()?;
    let store = match args.filestore_fd {
        Some(fd) => Some(gofer::transport::adopt_inherited(fd).context("boot --filestore-fd")?),
        None => None,
    };
    let netns = args.netns_fd.map(|fd| gofer::transport::adopt_inherited(fd).context("boot --netns-fd")).transpose()?;
    let mut userns =
        args.userns_fd.map(|fd| gofer::transport::adopt_inherited(fd).context("boot --userns-fd")).transpose()?;
    // Stdio is reopened through /proc, before the pivot and while we are
    // the host's root: a pipe or terminal the host's root owns is not the
    // user namespace's to open.
    let inherited = sandbox::reopen_inherited(&args.closed_fds, args.preserve_fds)?;
    // A --console-socket terminal, raw: the sandbox's pair joined to it
    // has the line discipline.
    let console_fd = if args.console_bridge {
        let fd = sandbox::reopen_stdio(0)?.fd;
        crate::exec_tty::make_raw(&fd).context("boot: the console")?;
        Some(fd)
    } else {
        None
    };
    // Still single-threaded here, as unshare, setns and the platform
    // require.
    confine::enter_namespaces(true, netns.as_ref(), userns.as_ref()).context("confine sandbox")?;
    drop(netns);
    let id_maps = match userns.take() {
        Some(_) => {
            confine::set_dumpable().context("confine sandbox")?;
            Some(crate::userns::own_maps().context("boot")?)
        }
        None => None,
    };
    let opts = sandbox::Options { strace: g.strace, overlay: g.overlay2.overlaid(), cgroup_v1: args.cgroup_v1 };
    let mut sandbox = Sandbox::new(&spec, gofer, volumes, &args.file_volumes, opts, store)?;
    sandbox.default_home = control.is_some();
    if let Some(maps) = id_maps {
        sandbox.kernel().set_id_maps(maps);
    }
    let sandbox = Arc::new(sandbox);
    let stdio = sandbox::import_inherited(inherited);
    if control.is_some() && !sentry::fs::host_notify::start() {
        anyhow::bail!("boot: cannot start the host fd notifier");
    }
    let console = console_fd.map(|fd| sentry::fs::host::HostFile::import(fd, true));
    let kernel = sandbox.kernel();
    let bridge: Arc<OnceLock<Arc<sentry::fs::tty::bridge::Bridge>>> = Arc::default();
    let resized = bridge.clone();
    signals::forward("signals", move |sig| match resized.get() {
        // The host terminal's new size is the bridged pair's.
        Some(b) if sig == libc::SIGWINCH => b.resize(),
        _ => kernel.signal_init_from_host(sig),
    })?;
    confine::pivot_to_empty_root().context("confine sandbox")?;
    confine::drop_capabilities().context("confine sandbox")?;
    // The errno filter first: installing a filter is not allowed once the
    // main one is in.
    confine::install_errno_filter(&filters::sentry::errno_table()).context("confine sandbox")?;
    confine::install_filter(&filters::sentry::table(), g.seccomp_log).context("confine sandbox")?;
    let result = match control {
        Some(listener) => run_container(&sandbox, &spec, stdio, listener, console, &bridge),
        None => sandbox.run_init(&spec, stdio),
    };
    match result {
        Ok(status) => {
            tracing::info!(?status, "init exited");
            Ok(status.shell_code())
        }
        Err(e) if args.error_fd.is_some() => Err(e),
        Err(e) => match e.downcast_ref::<StartError>() {
            Some(se) => {
                eprintln!("runsc: {}", se.msg);
                Ok(se.code)
            }
            None => Err(e),
        },
    }
}

/// An OCI container's init: loaded now, started when `runsc start` asks
/// on the control socket (which answers nothing until init is loaded, so
/// `runsc create` returns only once the program is found).
fn run_container(
    sandbox: &Arc<Sandbox>,
    spec: &Spec,
    stdio: Vec<Option<Arc<sentry::vfs::File>>>,
    listener: std::os::fd::OwnedFd,
    console: Option<sentry::fs::host::HostFile>,
    bridge: &OnceLock<Arc<sentry::fs::tty::bridge::Bridge>>,
) -> anyhow::Result<sentry::kernel::ExitStatus> {
    use std::sync::{mpsc, Mutex};
    let init = match console {
        // On a terminal from --console-socket: a pair of the sandbox's
        // (/dev/pts/0, its session's controlling terminal, /dev/console)
        // joined to it, as runc gives the container a pts of its own.
        Some(host) => {
            let process = spec.process().as_ref().ok_or_else(|| anyhow::anyhow!("spec has no process"))?;
            let (image, b) = sandbox.prepare_on_terminal(sandbox.scope(), process, host)?;
            sandbox.kernel().ttys.set_console_pair(b.terminal().clone());
            let _ = bridge.set(b);
            image
        }
        None => sandbox.prepare_init(spec, stdio)?,
    };
    let (start_tx, start_rx) = mpsc::channel();
    let server = Arc::new(control::Server {
        kernel: sandbox.kernel(),
        sandbox: sandbox.clone(),
        execs: Mutex::new(Default::default()),
        bridges: Mutex::new(Default::default()),
        init_waiters: Default::default(),
        phase: Mutex::new(control::Phase::Created),
        start: Mutex::new(start_tx),
        sub: None,
        tags: Default::default(),
        closed: Default::default(),
    });
    // startContainer hooks run before init, which keeps pid 1.
    sandbox.kernel().reserve_init_pid();
    server.clone().serve(listener)?;
    let control::StartRequest { hook_state, reply } =
        start_rx.recv().map_err(|_| anyhow::anyhow!("control socket closed before start"))?;
    let hooks = spec.hooks().as_ref().and_then(|h| h.start_container().as_deref()).unwrap_or_default();
    if !hooks.is_empty() {
        let process = spec.process().as_ref().ok_or_else(|| anyhow::anyhow!("spec has no process"))?;
        let state = hook_state.unwrap_or_default();
        if let Err(e) = crate::start_hooks::run(sandbox, sandbox.scope(), process, hooks, state.as_bytes()) {
            let _ = reply.send(Err(e.clone()));
            server.drain_init_waiters();
            return Err(anyhow::anyhow!(e));
        }
    }
    match sandbox.start_init(init) {
        Ok(()) => {
            *server.phase.lock().unwrap_or_else(|e| e.into_inner()) = control::Phase::Running;
            let _ = reply.send(Ok(()));
        }
        Err(e) => {
            let _ = reply.send(Err(format!("{e:#}")));
            server.drain_init_waiters();
            return Err(e);
        }
    }
    let status = sandbox.wait();
    if let Some(b) = bridge.get() {
        // Init's last output reaches the host terminal first.
        b.wait_done(std::time::Duration::from_secs(1));
    }
    server.drain_init_waiters();
    Ok(status)
}
