//! Pods, on the host side: a bundle whose annotations say it is a
//! container of a pod whose sandbox runs already (the CRI's
//! `io.kubernetes.cri.container-type: container` with
//! `io.kubernetes.cri.sandbox-id`, or CRI-O's and dockershim's
//! equivalents) joins that sandbox instead of starting one, as gVisor's
//! containers do: `runsc create` starts its gofers (confined in its own
//! root filesystem), binds its control socket, and passes both to the
//! sandbox (`CreateContainer`), which builds its filesystem tree and
//! loads its init. Its host process, what its pid file and state name,
//! is a waiter (`runsc pod-waiter`) that exits with its init's status and
//! passes on the signals it gets, as a sandbox's `runsc boot` does for
//! the first container.

use std::os::fd::{AsRawFd as _, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use oci_spec::runtime::Spec;

use crate::cli::{GlobalFlags, PodWaiterArgs};
use crate::launch::{self, Launched, Plan};
use crate::state::{self, Container, Status};
use crate::{control, logging, signals};

/// The annotations that say what a container is in its pod, by the
/// client that writes them: the key of its type, the type values of a
/// pod's sandbox and of its other containers, and the key of the
/// sandbox's ID.
const KINDS: [(&str, &str, &str, &str); 3] = [
    ("io.kubernetes.cri.container-type", "sandbox", "container", "io.kubernetes.cri.sandbox-id"),
    ("io.kubernetes.cri-o.ContainerType", "sandbox", "container", "io.kubernetes.cri-o.SandboxID"),
    ("io.kubernetes.docker.type", "podsandbox", "container", "io.kubernetes.sandbox.id"),
];

/// The ID of the pod sandbox container `id` (with `spec`) is to join, or
/// None if it is a sandbox of its own (no pod annotations, or a pod's
/// sandbox).
pub fn sandbox_of(spec: &Spec, id: &str) -> anyhow::Result<Option<String>> {
    let Some(ann) = spec.annotations().as_ref() else { return Ok(None) };
    for (type_key, sandbox, container, id_key) in KINDS {
        let Some(kind) = ann.get(type_key) else { continue };
        if kind == sandbox {
            return Ok(None);
        }
        if kind != container {
            bail!("config.json: annotations[{type_key:?}]: {kind:?} is neither {sandbox:?} nor {container:?}");
        }
        let sb = ann.get(id_key).ok_or_else(|| {
            anyhow!("config.json: annotations: {type_key:?} is {container:?} but {id_key:?} is missing")
        })?;
        if sb == id {
            return Ok(None);
        }
        state::check_id(sb).with_context(|| format!("config.json: annotations[{id_key:?}]"))?;
        return Ok(Some(sb.clone()));
    }
    Ok(None)
}

/// The pid of a `/proc/PID/ns/KIND` namespace path, if it is one.
pub fn proc_ns_pid(path: &Path) -> Option<i32> {
    let rest = path.to_str()?.strip_prefix("/proc/")?;
    let (pid, kind) = rest.split_once("/ns/")?;
    (!kind.is_empty() && !kind.contains('/')).then_some(())?;
    pid.parse().ok().filter(|&p| p > 0)
}

/// The container under `root` (not `id`) whose sandbox a spec's namespace
/// paths name, other than the network's (Docker's and Podman's `--ipc`,
/// `--pid` or `--uts container:X` give `/proc/PID/ns/KIND` of X's
/// process, our sandbox): the container then joins that sandbox as a pod
/// container does, sharing its IPC, pid and UTS namespaces. None if the
/// spec names none; an error if a path names no sandbox of ours.
pub fn sandbox_by_namespace(root: &Path, spec: &Spec, id: &str) -> anyhow::Result<Option<String>> {
    use oci_spec::runtime::LinuxNamespaceType as T;
    let Some(list) = spec.linux().as_ref().and_then(|l| l.namespaces().as_ref()) else { return Ok(None) };
    let mut found: Option<String> = None;
    for (i, ns) in list.iter().enumerate() {
        let (kind, Some(path)) = (ns.typ(), ns.path()) else { continue };
        if kind == T::Network {
            continue;
        }
        let what = format!("config.json: linux.namespaces[{i}].path: {}", path.display());
        let pid = proc_ns_pid(path).ok_or_else(|| anyhow!("{what}: not a /proc/PID/ns path"))?;
        let owner = state::list(root)?
            .into_iter()
            .filter(|c| c != id)
            .find(|c| Container::open(root, c, false).is_ok_and(|(_, s)| s.pid == pid && s.sandbox.is_none()));
        let Some(owner) = owner else {
            bail!(
                "{what}: joining a namespace of process {pid} is not supported: it is not the sandbox of a container \
                 under --root (a sandbox's namespaces are its own; only its containers share them)"
            );
        };
        if found.as_ref().is_some_and(|f| *f != owner) {
            bail!("{what}: the namespace paths name the sandboxes of two containers, {found:?} and {owner:?}");
        }
        found = Some(owner);
    }
    Ok(found)
}

/// Makes container `plan` (state directory `dir`, control socket
/// `listener`) in the running sandbox of pod sandbox container
/// `sandbox_id`; returns its waiter (as `boot`) and gofers.
pub fn launch(
    g: &GlobalFlags,
    sandbox_id: &str,
    id: &str,
    dir: &Path,
    plan: &Plan<'_>,
    listener: &OwnedFd,
) -> anyhow::Result<Launched> {
    let (sb, saved) = Container::open(&g.root, sandbox_id, false)
        .with_context(|| format!("container {id:?} is of the pod whose sandbox is {sandbox_id:?}"))?;
    if saved.sandbox.is_some() {
        bail!("container {id:?}: {sandbox_id:?} is a container of a pod, not a pod's sandbox");
    }
    match state::status(&sb.dir, &saved) {
        Status::Created | Status::Running => {}
        s => bail!("container {id:?}: its pod's sandbox container {sandbox_id:?} is {}", s.name()),
    }
    let mut gofers = launch::start_gofers(g, plan)?;
    // The terminal from --console-socket, or our stdio (and the fds of
    // --preserve-fds after it).
    let tty = plan.console.map(crate::exec_tty::for_pod_container).transpose()?;
    let stdio = match tty {
        Some(_) => Vec::new(),
        None => crate::cmd_exec::stdio_for_sandbox(plan.preserve_fds)?,
    };
    let (stdio_fds, infos) = match &tty {
        Some(t) => (
            vec![t.fd.as_raw_fd()],
            vec![Some(control::StdioInfo { flags: libc::O_RDWR, name: t.name.clone(), nonblocking: true })],
        ),
        None => crate::cmd_exec::stdio_infos(&stdio),
    };
    let mut fds = vec![listener.as_raw_fd(), gofers.root.as_raw_fd()];
    fds.extend(gofers.volumes.iter().map(|f| f.as_raw_fd()));
    fds.extend(stdio_fds);
    let req = control::Request::CreateContainer {
        id: id.to_string(),
        spec: Box::new(plan.spec.clone()),
        volumes: gofers.volumes.len(),
        file_volumes: launch::file_volumes(plan.spec, plan.bundle_dir),
        stdio: infos,
        terminal: plan.console.is_some(),
    };
    let made = control::call_with_fds(&sb.dir, &req, &fds, Some(Duration::from_secs(120)));
    drop((stdio, tty));
    if let Err(e) = made {
        for c in &mut gofers.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        return Err(e);
    }
    let waiter = waiter(g, dir, plan.cgroup);
    match waiter {
        Ok(w) => Ok(Launched { boot: w, gofers: gofers.children, pod: true }),
        Err(e) => {
            let _ = control::call(dir, &control::Request::Destroy, Some(Duration::from_secs(10)));
            for c in &mut gofers.children {
                let _ = c.kill();
                let _ = c.wait();
            }
            Err(e)
        }
    }
}

/// Removes the pod container whose state directory is `dir` from its
/// sandbox (it failed to be made whole); a sandbox that is not there, or
/// a container of its own sandbox, has nothing to remove.
pub fn abandon(dir: &Path) {
    let _ = control::call(dir, &control::Request::Destroy, Some(Duration::from_secs(10)));
}

/// Starts the waiter of the container whose state directory is `dir`, in
/// its cgroup (`cgroup.procs` files `procs`, inheritable).
fn waiter(g: &GlobalFlags, dir: &Path, procs: &[OwnedFd]) -> anyhow::Result<std::process::Child> {
    let exe = std::env::current_exe().context("find runsc binary")?;
    let mut cmd = Command::new(exe);
    cmd.args(launch::global_args(g))
        .arg("pod-waiter")
        .arg(format!("--state-dir={}", dir.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    launch::join_cgroup(&mut cmd, procs);
    cmd.spawn().context("start the container's waiter")
}

/// `runsc pod-waiter`: waits for the container's init; exits with its
/// status (137 if the pod's sandbox went away first).
pub fn run_waiter(g: &GlobalFlags, args: &PodWaiterArgs) -> anyhow::Result<i32> {
    crate::cgroup::join_inherited(&args.cgroup_fds).context("pod-waiter")?;
    logging::init(g, g.debug_log.as_deref(), "pod-waiter")?;
    signals::block()?;
    nix::unistd::setsid().context("pod-waiter: setsid")?;
    let dir = args.state_dir.clone();
    signals::forward("forward", move |sig| {
        let req = control::Request::Signal { signal: sig, all: false, pid: None };
        if let Err(e) = control::call(&dir, &req, Some(Duration::from_secs(10))) {
            tracing::debug!(sig, "pod-waiter: signal not passed on: {e:#}");
        }
    })?;
    match control::call(&args.state_dir, &control::Request::WaitInit, None) {
        Ok(r) => Ok(r.exit.unwrap_or(1)),
        Err(e) if control::hung_up(&e) => Ok(128 + libc::SIGKILL),
        Err(e) => Err(e),
    }
}
