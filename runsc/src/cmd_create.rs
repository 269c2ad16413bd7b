//! `runsc create` and `runsc run`: a container from a bundle. `create`
//! starts the gofers and the sandbox, which loads the process and waits;
//! it returns once the sandbox answers on its control socket (the pid file
//! written). `run` is `create` and `start` in one and, without
//! `--detach`, waits for the container and exits with its status.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context as _};

use crate::cgroup::{self, Cgroup};
use crate::cli::{CreateArgs, GlobalFlags, RunArgs};
use crate::launch::{self, Launched};
use crate::state::{self, Container, Saved};
use crate::{bundle, console, control, signals};

/// How long a sandbox may take to load its process before `create` gives
/// up on it.
const READY_TIMEOUT: Duration = Duration::from_secs(120);

/// Writes `pid` to `path` as runc does (whole, then renamed into place).
pub fn write_pid_file(path: &Path, pid: u32) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| anyhow::anyhow!("--pid-file {}: not a file name", path.display()))?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    std::fs::write(&tmp, pid.to_string()).with_context(|| format!("--pid-file {}", path.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("--pid-file {}", path.display()))
}

/// Opens network namespace `path` (close-on-exec) for boot to join.
fn open_netns(path: &Path) -> anyhow::Result<std::os::fd::OwnedFd> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("config.json: linux.namespaces: network path {}", path.display()))?;
    Ok(f.into())
}

/// The owner of the state: the caller's user name.
fn owner() -> String {
    let uid = nix::unistd::getuid();
    nix::unistd::User::from_uid(uid).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name)
}

/// Creates the container; returns its processes and state directory, the
/// state saved and unlocked.
fn create(g: &GlobalFlags, args: &CreateArgs, detached: bool) -> anyhow::Result<(Launched, PathBuf)> {
    // Fds 3 .. 3+N are init's: only boot inherits them (not the gofers or
    // hooks), and runsc's own come after them.
    crate::launch::set_preserved_cloexec(args.preserve_fds, true)?;
    let container = Container::create(&g.root, &args.id)?;
    let mut cgroups = Vec::new();
    let made = (|| {
        let b = bundle::load(&args.bundle)?;
        // A container of a pod whose sandbox runs joins it, as does one
        // whose namespace paths name another container's sandbox.
        let pod = match crate::pod::sandbox_of(&b.spec, &args.id)? {
            Some(sb) => Some(sb),
            None => crate::pod::sandbox_by_namespace(&g.root, &b.spec, &args.id)?,
        };
        let rootless = crate::rootless::active(g);
        if rootless
            && b.spec
                .linux()
                .as_ref()
                .and_then(|l| l.namespaces().as_ref())
                .is_none_or(|l| !l.iter().any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::User))
        {
            bail!(
                "rootless: config.json: linux.namespaces has no user namespace; an unprivileged user's container \
                 needs one that maps the user's uid and gid (`runsc spec --rootless` writes one)"
            );
        }
        let cg = match g.ignore_cgroups {
            true => Cgroup::default(),
            false => match Cgroup::create(&b.spec, &args.id, g.systemd_cgroup) {
                Ok(cg) => cg,
                // Rootless, a cgroup the caller may not make is gone
                // without, unless the spec has limits to apply there.
                Err(e) if rootless && crate::rootless::denied(&e) && !cgroup::has_limits(&b.spec) => {
                    tracing::debug!("rootless: no cgroup: {e:#}");
                    Cgroup::default()
                }
                Err(e) if rootless && crate::rootless::denied(&e) => {
                    return Err(e.context("rootless: config.json: linux.resources cannot be applied"));
                }
                Err(e) => return Err(e),
            },
        };
        cgroups.clone_from(&cg.dirs);
        let procs = cg.procs_files()?;
        let process = b.spec.process().as_ref();
        let terminal = process.and_then(|p| p.terminal()).unwrap_or(false);
        let console = match (&args.console_socket, terminal) {
            (Some(sock), true) => {
                let size = process.and_then(|p| p.console_size()).map(|b| (b.height() as u16, b.width() as u16));
                Some(console::send_pty(sock, size)?)
            }
            (Some(_), false) => bail!("--console-socket is given but config.json's process.terminal is false"),
            (None, true) if detached => {
                bail!("config.json: process.terminal is true: a detached container needs --console-socket")
            }
            // `run` in the foreground: runsc's own stdio (a terminal on
            // stdin is the sandbox's console).
            (None, _) => None,
        };
        let listener = control::listen(&container.dir)?;
        // The spec's network namespace, if it names one (a pod's other
        // containers are in their sandbox's).
        let netns = match (&pod, bundle::netns_path(&b.spec)) {
            (None, Some(path)) => Some(open_netns(&path)?),
            _ => None,
        };
        // The container's user namespace, if it has one: the sandbox's
        // processes join it as its root.
        let userns = crate::userns::open(&b.spec)?;
        let (err_r, err_w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).context("error pipe")?;
        let plan = launch::Plan {
            spec: &b.spec,
            rootfs: &b.rootfs,
            bundle_dir: &b.dir,
            control: Some(&listener),
            errors: Some(&err_w),
            console: console.as_ref(),
            detached,
            cgroup: &procs,
            preserve_fds: args.preserve_fds,
            netns: netns.as_ref(),
            userns: userns.as_ref(),
        };
        let mut launched = match &pod {
            Some(sb) => crate::pod::launch(g, sb, &args.id, &container.dir, &plan, &listener)?,
            None => launch::start(g, &plan)?,
        };
        drop((listener, err_w));
        let ready = control::call(&container.dir, &control::Request::State, Some(READY_TIMEOUT));
        if let Err(e) = ready {
            // The sandbox is on its way out: let it write why before it is
            // killed (it closes the control socket first).
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while matches!(launched.boot.try_wait(), Ok(None)) && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            launched.kill();
            // The sandbox's own account of what went wrong, if it gave one.
            let mut why = String::new();
            let _ = std::io::Read::read_to_string(&mut std::fs::File::from(err_r), &mut why);
            if why.is_empty() {
                return Err(e.context("the sandbox failed to start"));
            }
            bail!("{why}");
        }
        let saved = Saved {
            id: args.id.clone(),
            bundle: b.dir.clone(),
            rootfs: b.rootfs.clone(),
            pid: launched.boot.id() as i32,
            pid_start: state::start_time(launched.boot.id() as i32).unwrap_or(0),
            gofers: launched
                .gofers
                .iter()
                .map(|c| (c.id() as i32, state::start_time(c.id() as i32).unwrap_or(0)))
                .collect(),
            created: state::now_rfc3339(),
            owner: owner(),
            annotations: b.spec.annotations().clone().unwrap_or_default(),
            started: false,
            cgroups: cg.dirs.clone(),
            hooks: b.spec.hooks().clone(),
            sandbox: pod.clone(),
        };
        let saved_ok =
            container.save(&saved).and_then(|()| create_hooks(&saved, &b)).and_then(|()| match &args.pid_file {
                Some(p) => write_pid_file(p, launched.boot.id()),
                None => Ok(()),
            });
        if let Err(e) = saved_ok {
            if pod.is_some() {
                crate::pod::abandon(&container.dir);
            }
            launched.kill();
            if saved.hooks.is_some() {
                // As runc: a container that fails to be made is destroyed,
                // and that runs the poststop hooks.
                saved.run_poststop(Some(&b.dir));
            }
            return Err(e);
        }
        Ok(launched)
    })();
    match made {
        Ok(launched) => {
            let dir = container.dir.clone();
            drop(container);
            Ok((launched, dir))
        }
        Err(e) => {
            let _ = cgroup::remove(&cgroups);
            let _ = container.destroy();
            Err(e)
        }
    }
}

/// The hooks run as the container is made, in the runtime's namespaces,
/// the sandbox ready (its init loaded): prestart and createRuntime in the
/// bundle, createContainer in the root filesystem (where runc runs them,
/// in the container's mount namespace before its pivot_root).
fn create_hooks(saved: &Saved, b: &bundle::Bundle) -> anyhow::Result<()> {
    let state = saved.hook_state(state::Status::Creating);
    crate::hooks::run("prestart", saved.hooks_of(|h| h.prestart()), &state, Some(&b.dir))?;
    crate::hooks::run("createRuntime", saved.hooks_of(|h| h.create_runtime()), &state, Some(&b.dir))?;
    crate::hooks::run("createContainer", saved.hooks_of(|h| h.create_container()), &state, Some(&b.rootfs))
}

/// `runsc create`.
pub fn run_create(g: &GlobalFlags, args: &CreateArgs) -> anyhow::Result<i32> {
    create(g, args, true)?;
    Ok(0)
}

/// Asks the sandbox in `dir` to start init and records that it did.
pub fn start_in(dir: &Path, container: &Container, saved: &mut Saved) -> anyhow::Result<()> {
    // startContainer hooks run in the sandbox, before init, seeing it as
    // pid 1 of a created container.
    let hook_state = (!saved.hooks_of(|h| h.start_container()).is_empty()).then(|| {
        let mut st = saved.hook_state(state::Status::Created);
        st.pid = Some(1);
        String::from_utf8_lossy(&st.json()).into_owned()
    });
    control::call(dir, &control::Request::Start { hook_state }, Some(READY_TIMEOUT))?;
    saved.started = true;
    container.save(saved)?;
    let poststart = saved.hooks_of(|h| h.poststart());
    if !poststart.is_empty() {
        crate::hooks::run_warning(
            "poststart",
            poststart,
            &saved.hook_state(state::Status::Running),
            Some(&saved.bundle),
        );
    }
    Ok(())
}

/// `runsc run`.
pub fn run_run(g: &GlobalFlags, args: &RunArgs) -> anyhow::Result<i32> {
    let id = &args.create.id;
    if !args.detach {
        // Signals for the container are forwarded; orphans of the
        // sandbox's processes come back to us to be reaped.
        signals::block()?;
        nix::sys::prctl::set_child_subreaper(true).context("become a subreaper")?;
    }
    let (mut launched, dir) = create(g, &args.create, args.detach)?;
    let started = (|| {
        let (container, mut saved) = Container::open(&g.root, id, true)?;
        start_in(&container.dir.clone(), &container, &mut saved)
    })();
    if let Err(e) = started {
        // A pod's container leaves its pod's sandbox (a sandbox's first
        // container goes with its sandbox).
        if launched.pod {
            crate::pod::abandon(&dir);
        }
        launched.kill();
        if let Ok((c, saved)) = Container::open(&g.root, id, true) {
            let _ = cgroup::remove(&saved.cgroups);
            let _ = c.destroy();
            saved.run_poststop(Some(&saved.bundle));
        }
        return Err(e);
    }
    if args.detach {
        return Ok(0);
    }
    let status = launched.supervise()?;
    // A foreground container's state goes with it unless --keep (as
    // runc's `run`).
    if !args.keep {
        if let Ok((c, saved)) = Container::open(&g.root, id, true) {
            // What is left (a pod container's gofers) goes.
            state::kill_sandbox(&c.dir, &saved)?;
            cgroup::remove(&saved.cgroups)?;
            c.destroy()?;
            saved.run_poststop(Some(&saved.bundle));
        }
    }
    Ok(status)
}
