//! Starting a sandbox: the gofers (one for the root filesystem, one per
//! bind mount) and `runsc boot`, wired together by inherited fds, with the
//! spec sent to boot over a pipe. `runsc do`, `create` and `run` all start
//! sandboxes this way.

use std::io::Write as _;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use std::os::unix::process::ExitStatusExt as _;

use anyhow::Context as _;
use oci_spec::runtime::Spec;

use crate::bundle;
use crate::cli::{GlobalFlags, Overlay2};
use crate::signals;

/// What to start.
pub struct Plan<'a> {
    /// The spec.
    pub spec: &'a Spec,
    /// The root filesystem's host directory.
    pub rootfs: &'a Path,
    /// The directory relative bind sources are in.
    pub bundle_dir: &'a Path,
    /// The control socket boot answers on (OCI containers).
    pub control: Option<&'a OwnedFd>,
    /// Where boot writes why it could not start (OCI containers).
    pub errors: Option<&'a OwnedFd>,
    /// A terminal to be init's stdio instead of ours (`--console-socket`).
    pub console: Option<&'a OwnedFd>,
    /// The sandbox outlives the runsc that starts it (`create`, `run -d`);
    /// otherwise it dies with it.
    pub detached: bool,
    /// The `cgroup.procs` files of the container's cgroup, which boot and
    /// the gofers join as they start (before boot forks anything).
    pub cgroup: &'a [OwnedFd],
    /// Our fds 3 .. 3+N go to init (`--preserve-fds`); they are
    /// close-on-exec but for boot's start.
    pub preserve_fds: u32,
    /// The network namespace the sandbox joins (the spec's, by path).
    pub netns: Option<&'a OwnedFd>,
    /// The user namespace boot and the gofers join (the container's).
    pub userns: Option<&'a OwnedFd>,
}

/// The processes of a started sandbox.
pub struct Launched {
    /// `runsc boot`.
    pub boot: Child,
    /// The gofers.
    pub gofers: Vec<Child>,
    /// `boot` is a pod container's waiter: the gofers serve the pod's
    /// sandbox until the container is deleted.
    pub pod: bool,
}

impl Launched {
    /// Kills and reaps every process (start-up failed).
    pub fn kill(&mut self) {
        for c in std::iter::once(&mut self.boot).chain(self.gofers.iter_mut()) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Passes the signals runsc gets on to the sandbox and waits for it
    /// to end; returns its exit status. The caller is a subreaper with the
    /// forwarded signals blocked.
    pub fn supervise(self) -> anyhow::Result<i32> {
        let Launched { mut boot, gofers, pod } = self;
        let boot_pid = nix::unistd::Pid::from_raw(boot.id() as i32);
        let gofer_pids: Vec<nix::unistd::Pid> =
            gofers.iter().map(|c| nix::unistd::Pid::from_raw(c.id() as i32)).collect();
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
        // The gofers exit when the sandbox closes their channels (a pod
        // container's, when it is deleted).
        if !pod {
            for mut c in gofers {
                let _ = c.wait();
            }
            reap_orphans();
        }
        Ok(match (status.code(), status.signal()) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            _ => 1,
        })
    }
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

fn kill_all(children: &mut [Child]) {
    for c in children {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// Sets or clears close-on-exec on our fds 3 .. 3+`count` (those
/// `--preserve-fds` passes to init: only boot inherits them).
pub fn set_preserved_cloexec(count: u32, cloexec: bool) -> anyhow::Result<()> {
    use nix::fcntl::{fcntl, FcntlArg, FdFlag};
    let flag = if cloexec { FdFlag::FD_CLOEXEC } else { FdFlag::empty() };
    for fd in 3..3 + count as i32 {
        fcntl(fd, FcntlArg::F_SETFD(flag)).map_err(|e| match e {
            nix::errno::Errno::EBADF => anyhow::anyhow!("--preserve-fds {count}: fd {fd} is not open"),
            e => anyhow::anyhow!("--preserve-fds {count}: fd {fd}: {e}"),
        })?;
    }
    Ok(())
}

/// Makes `fd` inheritable by the children we spawn next.
fn inheritable(fd: &OwnedFd) -> anyhow::Result<()> {
    nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))
        .context("clear close-on-exec")?;
    Ok(())
}

/// Has the process `cmd` starts join the container's cgroup, whose
/// `cgroup.procs` files are `procs` (made inheritable by [`start`]).
pub(crate) fn join_cgroup(cmd: &mut Command, procs: &[OwnedFd]) {
    if !procs.is_empty() {
        let fds: Vec<String> = procs.iter().map(|f| f.as_raw_fd().to_string()).collect();
        cmd.arg(format!("--cgroup-fds={}", fds.join(",")));
    }
}

/// The global flags boot and the gofers are given.
pub(crate) fn global_args(g: &GlobalFlags) -> Vec<String> {
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

/// The file that keeps the overlay's upper layer with
/// `--overlay2=root:self` (in the root filesystem's directory) or
/// `root:/DIR`: an unnamed file (O_TMPFILE), so that nothing is left
/// behind however the sandbox ends; where the filesystem has no unnamed
/// files, a named one removed at once.
fn filestore(g: &GlobalFlags, rootfs: &Path) -> anyhow::Result<Option<OwnedFd>> {
    let dir: PathBuf = match &g.overlay2 {
        Overlay2::SelfFile => rootfs.to_path_buf(),
        Overlay2::Dir(d) => d.clone(),
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

/// Starts one gofer serving `dir`; returns it and the sentry's end of its
/// channel (close-on-exec until boot is started, so that no other gofer
/// holds it).
fn gofer(g: &GlobalFlags, exe: &Path, dir: &Path, writable: bool, plan: &Plan<'_>) -> anyhow::Result<(Child, OwnedFd)> {
    let (sentry_end, gofer_end) = gofer::transport::socketpair().context("gofer channel")?;
    inheritable(&gofer_end)?;
    let mut cmd = Command::new(exe);
    cmd.args(global_args(g))
        .arg("gofer")
        .arg(format!("--serve={}", dir.display()))
        .arg(format!("--io-fd={}", gofer_end.as_raw_fd()))
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if writable {
        cmd.arg("--writable");
    }
    if plan.detached {
        // A detached gofer outlives `runsc create`, and must not hold its
        // stderr open: a shim reads that to its end (containerd's does
        // with a terminal) and would wait for the container to exit. Its
        // errors go to the debug log.
        cmd.arg("--detached").stderr(Stdio::null());
    }
    join_cgroup(&mut cmd, plan.cgroup);
    if let Some(ns) = plan.userns {
        cmd.arg(format!("--userns-fd={}", ns.as_raw_fd()));
    }
    let child = cmd.spawn().with_context(|| format!("start gofer for {}", dir.display()))?;
    Ok((child, sentry_end))
}

/// Gives us, and so the gofers and boot we start, an oom_score_adj below
/// the spec's (`process.oomScoreAdj`), which the application's processes
/// take (their stubs raise theirs to it): when the host's OOM killer
/// chooses in the container's cgroup, it kills an application process, as
/// Linux's would, not the sandbox that serves them all. Best effort (it
/// takes CAP_SYS_RESOURCE).
fn protect_from_oom_kill(spec: &Spec) {
    let ours = if crate::sandbox::oom_score_adj(spec) <= -1000 { -1000 } else { -999 };
    if let Err(e) = std::fs::write("/proc/self/oom_score_adj", ours.to_string()) {
        tracing::debug!("oom_score_adj {ours}: {e}");
    }
}

/// A container's gofers, started: the processes, and the sentry's ends
/// of their channels (close-on-exec).
pub struct Gofers {
    /// The processes, the root's first.
    pub children: Vec<Child>,
    /// The root's channel.
    pub root: OwnedFd,
    /// The bind mounts' channels, in the spec's order.
    pub volumes: Vec<OwnedFd>,
}

/// Starts the gofers of `plan`'s container: one for its root filesystem,
/// one per bind mount.
pub fn start_gofers(g: &GlobalFlags, plan: &Plan<'_>) -> anyhow::Result<Gofers> {
    let exe = std::env::current_exe().context("find runsc binary")?;
    protect_from_oom_kill(plan.spec);
    for fd in plan.cgroup.iter().chain(plan.userns) {
        inheritable(fd)?;
    }
    let mut gofers = Vec::new();
    let mut ends = Vec::new();
    let dirs = std::iter::once((plan.rootfs.to_path_buf(), false)).chain(
        bundle::binds(plan.spec)
            .into_iter()
            .map(|m| (bundle::bind_source(plan.bundle_dir, m), !bundle::is_readonly(m))),
    );
    for (dir, writable) in dirs {
        match gofer(g, &exe, &dir, writable, plan) {
            Ok((c, end)) => {
                gofers.push(c);
                ends.push(end);
            }
            Err(e) => {
                kill_all(&mut gofers);
                return Err(e);
            }
        }
    }
    let root = ends.remove(0);
    Ok(Gofers { children: gofers, root, volumes: ends })
}

/// Which of the spec's bind mounts are of single files (Docker's
/// /etc/hosts), by their index among the bind mounts: the sandbox mounts
/// those on files.
pub fn file_volumes(spec: &Spec, bundle_dir: &Path) -> Vec<usize> {
    bundle::binds(spec)
        .into_iter()
        .enumerate()
        .filter(|(_, m)| bundle::bind_source(bundle_dir, m).is_file())
        .map(|(i, _)| i)
        .collect()
}

/// Starts the gofers and boot, and sends boot the spec.
pub fn start(g: &GlobalFlags, plan: &Plan<'_>) -> anyhow::Result<Launched> {
    let exe = std::env::current_exe().context("find runsc binary")?;
    let Gofers { children: mut gofers, root: root_end, volumes: ends } = start_gofers(g, plan)?;
    // The overlay's upper layer in a host file, if asked for.
    let store = match filestore(g, plan.rootfs) {
        Ok(s) => s,
        Err(e) => {
            kill_all(&mut gofers);
            return Err(e);
        }
    };
    if let Some(f) = &store {
        inheritable(f)?;
    }
    for fd in plan.control.iter().chain(plan.errors.iter()) {
        inheritable(fd)?;
    }
    for end in std::iter::once(&root_end).chain(ends.iter()) {
        inheritable(end)?;
    }
    let (spec_r, spec_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("spec pipe")?;
    inheritable(&spec_r)?;
    let closed: Vec<String> = (0..3)
        .filter(|&fd| plan.console.is_none() && sentry::fs::host_stdio::closed_at_start(fd))
        .map(|fd| fd.to_string())
        .collect();
    let mut boot = Command::new(&exe);
    boot.args(global_args(g))
        .arg("boot")
        .arg(format!("--spec-fd={}", spec_r.as_raw_fd()))
        .arg(format!("--gofer-fd={}", root_end.as_raw_fd()));
    if !closed.is_empty() {
        boot.arg(format!("--closed-fds={}", closed.join(",")));
    }
    if !ends.is_empty() {
        let fds: Vec<String> = ends.iter().map(|f| f.as_raw_fd().to_string()).collect();
        boot.arg(format!("--volume-fds={}", fds.join(",")));
    }
    if let Some(f) = &store {
        boot.arg(format!("--filestore-fd={}", f.as_raw_fd()));
    }
    let files: Vec<String> = file_volumes(plan.spec, plan.bundle_dir).iter().map(usize::to_string).collect();
    if !files.is_empty() {
        boot.arg(format!("--file-volumes={}", files.join(",")));
    }
    if let Some(c) = plan.control {
        boot.arg(format!("--control-fd={}", c.as_raw_fd()));
    }
    if let Some(e) = plan.errors {
        boot.arg(format!("--error-fd={}", e.as_raw_fd()));
    }
    if plan.detached {
        boot.arg("--detached");
    }
    if let Some(tty) = plan.console {
        let dup = || tty.try_clone().map(Stdio::from).context("terminal for the sandbox");
        boot.stdin(dup()?).stdout(dup()?).stderr(dup()?).arg("--console-bridge");
    }
    join_cgroup(&mut boot, plan.cgroup);
    if plan.preserve_fds > 0 {
        boot.arg(format!("--preserve-fds={}", plan.preserve_fds));
    }
    if crate::cgroup::host_is_v1() {
        // The container's cgroup view is v1's, as runc's on this host.
        boot.arg("--cgroup-v1");
    }
    if let Some(ns) = plan.netns {
        inheritable(ns)?;
        boot.arg(format!("--netns-fd={}", ns.as_raw_fd()));
    }
    if let Some(ns) = plan.userns {
        boot.arg(format!("--userns-fd={}", ns.as_raw_fd()));
    }
    set_preserved_cloexec(plan.preserve_fds, false)?;
    let boot = boot.spawn();
    set_preserved_cloexec(plan.preserve_fds, true)?;
    drop((store, root_end, ends, spec_r));
    let boot = match boot {
        Ok(b) => b,
        Err(e) => {
            kill_all(&mut gofers);
            return Err(e).context("start sandbox");
        }
    };
    let json = serde_json::to_vec(plan.spec).context("encode spec")?;
    let mut w = std::fs::File::from(spec_w);
    // A sandbox that died early closes the pipe; its status says why.
    let _ = w.write_all(&json);
    Ok(Launched { boot, gofers, pod: false })
}
