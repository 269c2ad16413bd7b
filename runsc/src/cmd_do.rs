//! `runsc do`: runs a command in a throwaway sandbox whose root is the
//! host's root filesystem under a writable overlay in sandbox memory (or
//! read-only with `--overlay2=none`), like gVisor's `runsc do`.

use std::io::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

use anyhow::{bail, Context as _};
use oci_spec::runtime::{ProcessBuilder, RootBuilder, Spec, SpecBuilder, UserBuilder};

use crate::cli::{DoArgs, GlobalFlags};
use crate::signals;

/// Builds the spec `do` runs: the host's root, the caller's cwd, env and ids.
fn build_spec(args: &DoArgs) -> anyhow::Result<Spec> {
    let cwd = match &args.cwd {
        Some(c) => c.clone(),
        None => std::env::current_dir().context("current directory")?,
    };
    if !cwd.is_absolute() {
        bail!("--cwd must be an absolute path: {}", cwd.display());
    }
    let env: Vec<String> = std::env::vars_os()
        .filter_map(|(k, v)| Some(format!("{}={}", k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let user = UserBuilder::default()
        .uid(nix::unistd::getuid().as_raw())
        .gid(nix::unistd::getgid().as_raw())
        .additional_gids(
            nix::unistd::getgroups().unwrap_or_default().into_iter().map(|g| g.as_raw()).collect::<Vec<_>>(),
        )
        .build()?;
    let process = ProcessBuilder::default()
        .args(args.command.clone())
        .env(env)
        .cwd(cwd)
        .user(user)
        .terminal(false)
        .rlimits(caller_rlimits()?)
        .build()?;
    let root = RootBuilder::default().path("/").readonly(true).build()?;
    let hostname = nix::unistd::gethostname().ok().and_then(|h| h.into_string().ok()).unwrap_or_else(|| "runsc".into());
    let mounts = args
        .volumes
        .iter()
        .map(|v| {
            oci_spec::runtime::MountBuilder::default()
                .destination(&v.sandbox)
                .typ("bind")
                .source(&v.host)
                .options(vec!["rbind".to_owned(), if v.readonly { "ro" } else { "rw" }.to_owned()])
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SpecBuilder::default().process(process).root(root).hostname(hostname).mounts(mounts).build()?)
}

/// The caller's resource limits, which the sandboxed program inherits as a
/// child of the caller would.
fn caller_rlimits() -> anyhow::Result<Vec<oci_spec::runtime::PosixRlimit>> {
    use nix::sys::resource::{getrlimit, Resource as R};
    use oci_spec::runtime::{PosixRlimitBuilder, PosixRlimitType as T};
    let all = [
        (T::RlimitCpu, R::RLIMIT_CPU),
        (T::RlimitFsize, R::RLIMIT_FSIZE),
        (T::RlimitData, R::RLIMIT_DATA),
        (T::RlimitStack, R::RLIMIT_STACK),
        (T::RlimitCore, R::RLIMIT_CORE),
        (T::RlimitRss, R::RLIMIT_RSS),
        (T::RlimitNproc, R::RLIMIT_NPROC),
        (T::RlimitNofile, R::RLIMIT_NOFILE),
        (T::RlimitMemlock, R::RLIMIT_MEMLOCK),
        (T::RlimitAs, R::RLIMIT_AS),
        (T::RlimitLocks, R::RLIMIT_LOCKS),
        (T::RlimitSigpending, R::RLIMIT_SIGPENDING),
        (T::RlimitMsgqueue, R::RLIMIT_MSGQUEUE),
        (T::RlimitNice, R::RLIMIT_NICE),
        (T::RlimitRtprio, R::RLIMIT_RTPRIO),
        (T::RlimitRttime, R::RLIMIT_RTTIME),
    ];
    let mut out = Vec::new();
    for (typ, res) in all {
        let Ok((soft, hard)) = getrlimit(res) else { continue };
        out.push(PosixRlimitBuilder::default().typ(typ).soft(soft).hard(hard).build()?);
    }
    Ok(out)
}

/// The file that keeps the overlay's upper layer with
/// `--overlay2=root:self` (in the root filesystem's directory) or
/// `root:/DIR`: an unnamed file (O_TMPFILE), so that nothing is left
/// behind however the sandbox ends; where the filesystem has no unnamed
/// files, a named one removed at once.
fn filestore(g: &GlobalFlags, spec: &oci_spec::runtime::Spec) -> anyhow::Result<Option<OwnedFd>> {
    let dir = match &g.overlay2 {
        crate::cli::Overlay2::SelfFile => {
            spec.root().as_ref().map(|r| r.path().clone()).ok_or_else(|| anyhow::anyhow!("spec has no root"))?
        }
        crate::cli::Overlay2::Dir(d) => d.clone(),
        _ => return Ok(None),
    };
    let what = || format!("--overlay2={}: the file store in {}", g.overlay2.as_flag(), dir.display());
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true).write(true).mode(0o600);
    let file = match opts.clone().custom_flags(libc::O_TMPFILE).open(&dir) {
        Ok(f) => f,
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
            let name = dir.join(format!(".runsc-filestore.{}", std::process::id()));
            let f = opts.create_new(true).open(&name).with_context(what)?;
            std::fs::remove_file(&name).with_context(what)?;
            f
        }
        Err(e) => return Err(e).with_context(what),
    };
    Ok(Some(OwnedFd::from(file)))
}

/// Makes `fd` inheritable by the children we spawn next.
fn inheritable(fd: &OwnedFd) -> anyhow::Result<()> {
    nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
        .context("clear close-on-exec")?;
    Ok(())
}

fn global_args(g: &GlobalFlags) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(p) = &g.debug_log {
        v.push(format!("--debug-log={}", p.display()));
    }
    if g.debug {
        v.push("--debug".into());
    }
    if g.strace {
        v.push("--strace".into());
    }
    if g.seccomp_log {
        v.push("--seccomp-log".into());
    }
    v.push(format!("--overlay2={}", g.overlay2.as_flag()));
    v
}

/// Reaps what the sandbox left behind if it died without cleaning up (its
/// stub processes are re-parented to us, a subreaper; they die with their
/// tracers).
fn reap_orphans() {
    use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG | WaitPidFlag::__WALL)) {
            Ok(WaitStatus::StillAlive) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Runs the command; returns its exit status.
pub fn run(g: &GlobalFlags, args: &DoArgs) -> anyhow::Result<i32> {
    // Signals for the sandbox are forwarded, not taken; orphans of the
    // sandbox's processes come back to us to be reaped.
    signals::block()?;
    nix::sys::prctl::set_child_subreaper(true).context("become a subreaper")?;
    let spec = build_spec(args)?;
    let exe = std::env::current_exe().context("find runsc binary")?;
    let (sentry_end, gofer_end) = gofer::transport::socketpair().context("gofer channel")?;
    let (spec_r, spec_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("spec pipe")?;

    inheritable(&gofer_end)?;
    let mut gofer = Command::new(&exe)
        .args(global_args(g))
        .arg("gofer")
        .arg("--serve=/")
        .arg(format!("--io-fd={}", gofer_end.as_raw_fd()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .context("start gofer")?;
    drop(gofer_end);
    // One more gofer per volume, serving just that directory.
    let mut volume_gofers = Vec::new();
    let mut volume_ends = Vec::new();
    for v in &args.volumes {
        let (sentry_side, gofer_side) = gofer::transport::socketpair().context("volume gofer channel")?;
        inheritable(&gofer_side)?;
        let mut cmd = Command::new(&exe);
        cmd.args(global_args(g))
            .arg("gofer")
            .arg(format!("--serve={}", v.host.display()))
            .arg(format!("--io-fd={}", gofer_side.as_raw_fd()))
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        if !v.readonly {
            cmd.arg("--writable");
        }
        let child = cmd.spawn().with_context(|| format!("start gofer for {}", v.host.display()));
        drop(gofer_side);
        match child {
            Ok(c) => volume_gofers.push(c),
            Err(e) => {
                let _ = gofer.kill();
                let _ = gofer.wait();
                for mut c in volume_gofers {
                    let _ = c.kill();
                    let _ = c.wait();
                }
                return Err(e);
            }
        }
        inheritable(&sentry_side)?;
        volume_ends.push(sentry_side);
    }

    // The overlay's upper layer in a host file, if asked for.
    let store = match filestore(g, &spec) {
        Ok(s) => s,
        Err(e) => {
            for c in std::iter::once(&mut gofer).chain(volume_gofers.iter_mut()) {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(e);
        }
    };
    if let Some(f) = &store {
        inheritable(f)?;
    }
    inheritable(&sentry_end)?;
    inheritable(&spec_r)?;
    let closed: Vec<String> =
        (0..3).filter(|&fd| sentry::fs::host_stdio::closed_at_start(fd)).map(|fd| fd.to_string()).collect();
    let mut boot = Command::new(&exe);
    boot.args(global_args(g))
        .arg("boot")
        .arg(format!("--spec-fd={}", spec_r.as_raw_fd()))
        .arg(format!("--gofer-fd={}", sentry_end.as_raw_fd()));
    if !closed.is_empty() {
        boot.arg(format!("--closed-fds={}", closed.join(",")));
    }
    if !volume_ends.is_empty() {
        let fds: Vec<String> = volume_ends.iter().map(|f| f.as_raw_fd().to_string()).collect();
        boot.arg(format!("--volume-fds={}", fds.join(",")));
    }
    if let Some(f) = &store {
        boot.arg(format!("--filestore-fd={}", f.as_raw_fd()));
    }
    let boot = boot.spawn();
    drop(store);
    drop(sentry_end);
    drop(volume_ends);
    drop(spec_r);
    let mut boot = match boot {
        Ok(b) => b,
        Err(e) => {
            for c in std::iter::once(&mut gofer).chain(volume_gofers.iter_mut()) {
                let _ = c.kill();
                let _ = c.wait();
            }
            return Err(e).context("start sandbox");
        }
    };
    let json = serde_json::to_vec(&spec).context("encode spec")?;
    let mut w = std::fs::File::from(spec_w);
    // A sandbox that died early closes the pipe; its status says why.
    let _ = w.write_all(&json);
    drop(w);
    let boot_pid = nix::unistd::Pid::from_raw(boot.id() as i32);
    let gofer_pids: Vec<nix::unistd::Pid> = std::iter::once(&gofer)
        .chain(volume_gofers.iter())
        .map(|c| nix::unistd::Pid::from_raw(c.id() as i32))
        .collect();
    // The first SIGINT or SIGTERM goes to the sandbox's init, which may
    // ignore it (or be unable to act on it); the second ends the sandbox.
    // On a terminal, SIGINT is the user's ^C for the sandbox's foreground
    // job, however often it comes.
    let stops = std::sync::atomic::AtomicU32::new(0);
    let on_tty = nix::unistd::isatty(0).unwrap_or(false);
    signals::forward("forward", move |sig| {
        use nix::sys::signal::{kill, Signal};
        let stop = sig == libc::SIGTERM || (sig == libc::SIGINT && !on_tty);
        if stop && stops.fetch_add(1, std::sync::atomic::Ordering::Relaxed) >= 1 {
            tracing::warn!(sig, "second stop signal: killing the sandbox");
            let _ = kill(boot_pid, Signal::SIGKILL);
            for &p in &gofer_pids {
                let _ = kill(p, Signal::SIGKILL);
            }
            return;
        }
        if let Ok(s) = Signal::try_from(sig) {
            let _ = kill(boot_pid, s);
        }
    })?;
    let status = boot.wait().context("wait for sandbox")?;
    // The gofers exit when the sandbox closes their channels.
    let _ = gofer.wait();
    for mut c in volume_gofers {
        let _ = c.wait();
    }
    reap_orphans();
    Ok(match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(s)) => 128 + s,
        _ => 1,
    })
}
