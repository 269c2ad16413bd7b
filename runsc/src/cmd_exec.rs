//! `runsc exec`: a new process in a running container. The process is
//! the container's own (from its config.json) with the command line's
//! changes, or `--process`'s JSON, as runc builds it. Its stdio are this
//! command's, passed to the sandbox over the control socket; this command
//! stays until the process exits and exits with its status, passing on the
//! signals it gets (so a shim that waits for and signals the pid in
//! `--pid-file` reaches the process). With `--detach`, a copy of this
//! command does the waiting in the background and the pid file names it.
//! A process with a terminal (`--tty`, or `process.terminal`) runs on a
//! terminal of the sandbox's joined to a host one (`exec_tty`); this
//! command passes that terminal's resizes on.

use std::io::Read as _;
use std::os::fd::AsRawFd as _;

use anyhow::{anyhow, bail, Context as _};
use oci_spec::runtime::Process;

use crate::cli::{ExecArgs, GlobalFlags};
use crate::state::{self, Container, Status};
use crate::{control, signals};

/// The process to run: `--process`, or the container's own process with
/// the command line's changes (as runc's exec).
fn build_process(args: &ExecArgs, bundle: &std::path::Path) -> anyhow::Result<Process> {
    if let Some(path) = &args.process {
        let text = std::fs::read(path).with_context(|| format!("--process {}", path.display()))?;
        let p: Process = serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&text))
            .map_err(|e| anyhow!("--process {}: {}: {}", path.display(), e.path(), e.inner()))?;
        if p.args().as_ref().is_none_or(|a| a.is_empty()) {
            bail!("--process {}: args: empty: there is no program to run", path.display());
        }
        return Ok(p);
    }
    if args.command.is_empty() {
        bail!("exec: give a command, or --process FILE");
    }
    let spec = crate::bundle::load(bundle)?.spec;
    let mut p = spec.process().clone().ok_or_else(|| anyhow!("config.json: process: missing"))?;
    p.set_args(Some(args.command.clone()));
    p.set_terminal(Some(args.tty));
    if !args.env.is_empty() {
        let mut env = p.env().clone().unwrap_or_default();
        for e in &args.env {
            let Some((k, _)) = e.split_once('=') else { bail!("--env {e:?}: expected NAME=VALUE") };
            env.retain(|old| old.split_once('=').map(|(n, _)| n) != Some(k));
            env.push(e.clone());
        }
        p.set_env(Some(env));
    }
    if let Some(cwd) = &args.cwd {
        if !cwd.is_absolute() {
            bail!("--cwd {}: not an absolute path", cwd.display());
        }
        p.set_cwd(cwd.clone());
    }
    if let Some(u) = &args.user {
        let (uid, gid) = match u.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (u.as_str(), None),
        };
        let uid: u32 = uid.parse().map_err(|_| anyhow!("--user {u:?}: expected UID[:GID] as numbers"))?;
        let mut user = p.user().clone();
        user.set_uid(uid);
        if let Some(g) = gid {
            user.set_gid(g.parse().map_err(|_| anyhow!("--user {u:?}: expected UID[:GID] as numbers"))?);
        }
        p.set_user(user);
    }
    if !args.additional_gids.is_empty() {
        let mut user = p.user().clone();
        user.set_additional_gids(Some(args.additional_gids.clone()));
        p.set_user(user);
    }
    if args.no_new_privs {
        p.set_no_new_privileges(Some(true));
    }
    Ok(p)
}

/// Runs `args` in container `args.id`.
pub fn run(g: &GlobalFlags, args: &ExecArgs) -> anyhow::Result<i32> {
    // The copy that waits for a detached exec has --started-fd.
    let detached = args.detach || args.started_fd.is_some();
    if args.tty && detached && args.console_socket.is_none() {
        bail!("exec --tty --detach: a detached process's terminal needs --console-socket");
    }
    if args.preserve_fds as usize > gofer::transport::MAX_FDS - 3 {
        bail!("exec --preserve-fds {}: at most {} fds can be passed", args.preserve_fds, gofer::transport::MAX_FDS - 3);
    }
    if args.preserve_fds > 0 && args.tty {
        bail!("exec --preserve-fds with --tty: the process's stdio is its terminal; extra fds are not passed with one");
    }
    if args.detach {
        return detach(args);
    }
    let (container, saved) = Container::open(&g.root, &args.id, false)?;
    match state::status(&container.dir, &saved) {
        Status::Running => {}
        s => bail!("cannot exec in container {:?}: it is {}, not running", args.id, s.name()),
    }
    let process = build_process(args, &saved.bundle)?;
    let terminal = process.terminal().unwrap_or(false);
    if terminal && detached && args.console_socket.is_none() {
        bail!("exec: process.terminal is true: a detached process's terminal needs --console-socket");
    }
    if !terminal && args.console_socket.is_some() {
        bail!("exec --console-socket: the process has no terminal (give --tty, or process.terminal)");
    }
    let dir = container.dir.clone();
    drop(container);
    // Signals for the process are forwarded, not taken.
    signals::block()?;
    // Its terminal (kept until the process exits), or this command's stdio.
    let host_tty = if !terminal {
        None
    } else if let Some(sock) = &args.console_socket {
        let size = process.console_size().map(|b| (b.height() as u16, b.width() as u16));
        Some(crate::exec_tty::from_console_socket(sock, size)?)
    } else {
        Some(crate::exec_tty::own()?)
    };
    let stdio = if host_tty.is_some() { Vec::new() } else { stdio_for_sandbox(args.preserve_fds)? };
    let (fds, infos): (Vec<i32>, Vec<Option<control::StdioInfo>>) = match &host_tty {
        Some(t) => (
            vec![t.fd.as_raw_fd()],
            vec![Some(control::StdioInfo { flags: libc::O_RDWR, name: t.name.clone(), nonblocking: true })],
        ),
        None => stdio_infos(&stdio),
    };
    let req = control::Request::Exec { process: Box::new(process), stdio: infos, terminal };
    let reply = control::call_with_fds(&dir, &req, &fds, None)?;
    drop(stdio);
    let pid = reply.pid.ok_or_else(|| anyhow!("the sandbox gave no pid for the new process"))?;
    if let Some(fd) = args.started_fd {
        // The detached parent waits for this line.
        let mut f = std::fs::File::from(gofer::transport::adopt_inherited(fd).context("exec --started-fd")?);
        use std::io::Write as _;
        let _ = writeln!(f, "{pid}");
        // The detached waiter lets go of the stdio it shared with the
        // command that started it (the sandbox has its own descriptions of
        // what the process needs): a shim reading that command's output to
        // its end (containerd's does, to learn the exec started) would
        // otherwise wait for the process to exit.
        release_stdio();
    } else if let Some(p) = &args.pid_file {
        crate::cmd_create::write_pid_file(p, std::process::id())?;
    }
    let signal_dir = dir.clone();
    signals::forward("forward", move |sig| {
        // A resize of its terminal is the sandbox terminal's to announce.
        let req = if terminal && sig == libc::SIGWINCH {
            control::Request::Resize { pid }
        } else {
            control::Request::Signal { signal: sig, all: false, pid: Some(pid) }
        };
        if let Err(e) = control::call(&signal_dir, &req, Some(std::time::Duration::from_secs(10))) {
            tracing::debug!("forward signal {sig} to pid {pid}: {e:#}");
        }
    })?;
    // The sandbox kills the process if this connection goes away first.
    let done = control::call(&dir, &control::Request::Wait { pid }, None)?;
    drop(host_tty);
    done.exit.ok_or_else(|| anyhow!("the sandbox gave no exit status"))
}

/// `--detach`: starts a copy of this command without it to do the
/// waiting, and returns once the process runs.
fn detach(args: &ExecArgs) -> anyhow::Result<i32> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("pipe")?;
    nix::fcntl::fcntl(w.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
        .context("clear close-on-exec")?;
    let exe = std::env::current_exe().context("find runsc binary")?;
    let mut argv: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // Drop --detach/-d (and the pid file: this command writes it) from the
    // copy's arguments; they come before the command's own.
    argv = strip_flags(argv);
    let mut child = std::process::Command::new(exe);
    child.args(argv_with_started(argv, w.as_raw_fd()));
    let mut child = child.spawn().context("start the exec waiter")?;
    drop(w);
    let mut line = String::new();
    let _ = std::fs::File::from(r).read_to_string(&mut line);
    if line.trim().parse::<i32>().is_err() {
        // It failed, and said why on the stderr we share.
        let st = child.wait().context("wait for the exec waiter")?;
        return Ok(st.code().unwrap_or(1).max(1));
    }
    if let Some(p) = &args.pid_file {
        crate::cmd_create::write_pid_file(p, child.id())?;
    }
    Ok(0)
}

/// The flags of this command line without `--detach`/`-d` and
/// `--pid-file`, up to the container ID.
fn strip_flags(argv: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out = Vec::new();
    let mut it = argv.into_iter();
    let mut in_exec = false;
    while let Some(a) = it.next() {
        let s = a.to_string_lossy();
        if s == "exec" && !in_exec {
            in_exec = true;
            out.push(a);
            continue;
        }
        if in_exec && (s == "--detach" || s == "-d" || s == "-detach") {
            continue;
        }
        if in_exec && (s == "--pid-file" || s == "-pid-file") {
            it.next();
            continue;
        }
        if in_exec && (s.starts_with("--pid-file=") || s.starts_with("-pid-file=")) {
            continue;
        }
        out.push(a);
    }
    out
}

/// Puts `--started-fd=FD` right after `exec`.
fn argv_with_started(argv: Vec<std::ffi::OsString>, fd: i32) -> Vec<std::ffi::OsString> {
    let mut out = Vec::with_capacity(argv.len() + 1);
    let mut done = false;
    for a in argv {
        let is_exec = !done && a == "exec";
        out.push(a);
        if is_exec {
            out.push(format!("--started-fd={fd}").into());
            done = true;
        }
    }
    out
}

/// Points fds 0, 1 and 2 at /dev/null (warnings go to the debug log).
fn release_stdio() {
    let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") else { return };
    for fd in 0..3 {
        if let Err(e) = nix::unistd::dup2(null.as_raw_fd(), fd) {
            tracing::debug!("exec waiter: fd {fd} to /dev/null: {e}");
        }
    }
}

/// This command's stdio (None for one that was closed) and the
/// `--preserve-fds` after it, as the sandbox should get them.
pub(crate) fn stdio_for_sandbox(preserve_fds: u32) -> anyhow::Result<Vec<Option<crate::sandbox::Stdio>>> {
    (0..3 + preserve_fds as i32)
        .map(|n| {
            if n < 3 && sentry::fs::host_stdio::closed_at_start(n) {
                Ok(None)
            } else {
                crate::sandbox::reopen_stdio(n).map(Some)
            }
        })
        .collect()
}

/// The fds of `stdio` to pass to the sandbox, and what it is told of
/// each.
pub(crate) fn stdio_infos(stdio: &[Option<crate::sandbox::Stdio>]) -> (Vec<i32>, Vec<Option<control::StdioInfo>>) {
    let fds = stdio.iter().flatten().map(|s| s.fd.as_raw_fd()).collect();
    let infos = stdio
        .iter()
        .map(|s| {
            s.as_ref().map(|s| control::StdioInfo {
                flags: s.flags,
                name: String::from_utf8_lossy(&s.name).into_owned(),
                nonblocking: s.nonblocking,
            })
        })
        .collect();
    (fds, infos)
}
