//! Container state under `--root`: one directory per container
//! (`ROOT/ID/`) holding `state.json` (written whole to a temporary name and
//! renamed, so a reader never sees half of it) and the control socket. The
//! directory is locked (flock) by every command that uses it: exclusively
//! by those that change the container, shared by those that only look, so
//! two runsc processes on one ID never corrupt it.

use std::collections::HashMap;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context as _};
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

/// What runsc keeps about a container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Saved {
    /// The container ID.
    pub id: String,
    /// The bundle directory.
    pub bundle: PathBuf,
    /// The root filesystem's host directory.
    pub rootfs: PathBuf,
    /// The sandbox process (`runsc boot`).
    pub pid: i32,
    /// Its start time (clock ticks after host boot), to tell it from a
    /// later process given the same pid.
    pub pid_start: u64,
    /// The gofer processes, with their start times.
    pub gofers: Vec<(i32, u64)>,
    /// When it was created (RFC 3339).
    pub created: String,
    /// Who created it.
    pub owner: String,
    /// The spec's annotations.
    pub annotations: HashMap<String, String>,
    /// Whether `start` has been asked for.
    pub started: bool,
    /// The container's host cgroup directories (removed on delete).
    #[serde(default)]
    pub cgroups: Vec<PathBuf>,
    /// The spec's hooks (poststart and poststop run after create).
    #[serde(default)]
    pub hooks: Option<oci_spec::runtime::Hooks>,
    /// The pod sandbox container whose sandbox this container runs in
    /// (None: its own sandbox). `pid` is then its waiter's.
    #[serde(default)]
    pub sandbox: Option<String>,
}

impl Saved {
    /// The state the spec's hooks read, in `status`.
    pub fn hook_state(&self, status: Status) -> crate::hooks::HookState<'_> {
        crate::hooks::HookState {
            oci_version: "1.0.2",
            id: &self.id,
            status: status.name(),
            pid: (status != Status::Stopped).then_some(self.pid),
            bundle: &self.bundle,
            annotations: &self.annotations,
        }
    }

    /// Hooks of one kind (empty if the spec has none).
    pub fn hooks_of(
        &self,
        kind: impl Fn(&oci_spec::runtime::Hooks) -> &Option<Vec<oci_spec::runtime::Hook>>,
    ) -> &[oci_spec::runtime::Hook] {
        self.hooks.as_ref().and_then(|h| kind(h).as_deref()).unwrap_or_default()
    }

    /// Runs the poststop hooks (their failures are warnings), in `cwd` if
    /// given.
    pub fn run_poststop(&self, cwd: Option<&Path>) {
        let hooks = self.hooks_of(|h| h.poststop());
        if !hooks.is_empty() {
            crate::hooks::run_warning("poststop", hooks, &self.hook_state(Status::Stopped), cwd);
        }
    }
}

/// The OCI status of a container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Being created.
    Creating,
    /// Created, its process not yet started.
    Created,
    /// Its process runs.
    Running,
    /// Paused.
    Paused,
    /// Its process has exited.
    Stopped,
}

impl Status {
    /// The OCI name.
    pub fn name(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// Checks a container ID as runc does: letters, digits, `_+-.`, not `.`
/// or `..`, at most 1024 bytes.
pub fn check_id(id: &str) -> anyhow::Result<()> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+-.".contains(c);
    if id.is_empty() || id == "." || id == ".." || id.len() > 1024 || !id.chars().all(ok_char) {
        bail!("invalid container ID {id:?}: use letters, digits and _+-. (not . or ..), at most 1024 characters");
    }
    Ok(())
}

/// A container's state directory, locked.
pub struct Container {
    /// The directory.
    pub dir: PathBuf,
    _lock: Flock<File>,
}

fn lock(dir: &Path, exclusive: bool) -> anyhow::Result<Flock<File>> {
    let f = File::open(dir).with_context(|| format!("open {}", dir.display()))?;
    let how = if exclusive { FlockArg::LockExclusive } else { FlockArg::LockShared };
    Flock::lock(f, how).map_err(|(_, e)| anyhow!("lock {}: {e}", dir.display()))
}

/// Makes the state root (0700) if it is missing, and checks it is a
/// writable directory.
pub fn ensure_root(root: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    if !root.is_dir() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root)
            .with_context(|| format!("--root {}: cannot make the state directory", root.display()))?;
    }
    nix::unistd::access(root, nix::unistd::AccessFlags::W_OK | nix::unistd::AccessFlags::X_OK)
        .with_context(|| format!("--root {}: not writable", root.display()))?;
    Ok(())
}

impl Container {
    /// Makes the state directory of a new container `id`, locked
    /// exclusively; fails if one exists.
    pub fn create(root: &Path, id: &str) -> anyhow::Result<Container> {
        check_id(id)?;
        ensure_root(root)?;
        let dir = root.join(id);
        match std::fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!("container {id:?} already exists"),
            Err(e) => return Err(e).with_context(|| format!("make {}", dir.display())),
        }
        match lock(&dir, true) {
            Ok(l) => Ok(Container { dir, _lock: l }),
            Err(e) => {
                let _ = std::fs::remove_dir(&dir);
                Err(e)
            }
        }
    }

    /// Opens the state of container `id`, locked (exclusively when the
    /// caller will change it).
    pub fn open(root: &Path, id: &str, exclusive: bool) -> anyhow::Result<(Container, Saved)> {
        check_id(id)?;
        let dir = root.join(id);
        if !dir.is_dir() {
            bail!("container {id:?} does not exist");
        }
        let l = lock(&dir, exclusive)?;
        let c = Container { dir, _lock: l };
        let saved = c.load().with_context(|| format!("container {id:?}"))?;
        Ok((c, saved))
    }

    fn load(&self) -> anyhow::Result<Saved> {
        let path = self.dir.join("state.json");
        let text = std::fs::read(&path).with_context(|| format!("read {}", path.display()))?;
        serde_json::from_slice(&text).with_context(|| format!("parse {}", path.display()))
    }

    /// Writes the state (whole, then renamed into place).
    pub fn save(&self, s: &Saved) -> anyhow::Result<()> {
        let tmp = self.dir.join("state.json.tmp");
        let mut f = File::create(&tmp).with_context(|| format!("write {}", tmp.display()))?;
        f.write_all(&serde_json::to_vec(s)?).with_context(|| format!("write {}", tmp.display()))?;
        f.sync_all().ok();
        std::fs::rename(&tmp, self.dir.join("state.json")).context("save state")?;
        Ok(())
    }

    /// Removes the state directory (the lock goes with it).
    pub fn destroy(self) -> anyhow::Result<()> {
        std::fs::remove_dir_all(&self.dir).with_context(|| format!("remove {}", self.dir.display()))
    }
}

/// The IDs of the containers under `root`, sorted.
pub fn list(root: &Path) -> anyhow::Result<Vec<String>> {
    let rd = match std::fs::read_dir(root) {
        Ok(r) => r,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", root.display())),
    };
    let mut ids: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("state.json").is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    ids.sort();
    Ok(ids)
}

/// A host process's start time (field 22 of /proc/PID/stat), or None if
/// it is gone or a zombie.
pub fn start_time(pid: i32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold anything.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    if matches!(fields.first(), Some(&"Z") | Some(&"X")) {
        return None;
    }
    fields.get(19)?.parse().ok()
}

/// Whether host process `pid` that started at `start` still lives.
pub fn alive(pid: i32, start: u64) -> bool {
    pid > 0 && start_time(pid) == Some(start)
}

/// Now, in RFC 3339 with nanoseconds (UTC).
pub fn now_rfc3339() -> String {
    humantime::format_rfc3339_nanos(std::time::SystemTime::now()).to_string()
}

/// The container's status: stopped once the sandbox process is gone,
/// otherwise what the sandbox says.
pub fn status(dir: &Path, saved: &Saved) -> Status {
    if !alive(saved.pid, saved.pid_start) {
        return Status::Stopped;
    }
    let asked = crate::control::call(dir, &crate::control::Request::State, Some(std::time::Duration::from_secs(10)));
    let asked = match asked {
        Ok(r) => r.status,
        // A sandbox that hung up on us or refused us is on its way out
        // (its init has exited), or already gone.
        Err(e) if saved.started && (crate::control::hung_up(&e) || !alive(saved.pid, saved.pid_start)) => {
            return Status::Stopped;
        }
        Err(_) => None,
    };
    match asked.as_deref() {
        Some("created") => Status::Created,
        Some("running") => Status::Running,
        Some("paused") => Status::Paused,
        Some("stopped") => Status::Stopped,
        // Alive but not answering: still loading, or busy.
        _ if saved.started => Status::Running,
        _ => Status::Creating,
    }
}

/// Kills the sandbox and its gofers (SIGKILL) and waits until they are
/// gone (at most 10 s); `dir` is its state directory. A container of a pod is removed from its pod's
/// sandbox instead, and its waiter and gofers killed.
pub fn kill_sandbox(dir: &Path, saved: &Saved) -> anyhow::Result<()> {
    use nix::sys::signal::{kill, Signal};
    if saved.sandbox.is_some() {
        // Its state directory holds its control socket; a sandbox already
        // gone took the container with it.
        let destroy = crate::control::Request::Destroy;
        if let Err(e) = crate::control::call(dir, &destroy, Some(std::time::Duration::from_secs(10))) {
            tracing::debug!(id = saved.id, "destroy in the pod's sandbox: {e:#}");
        }
    }
    let procs: Vec<(i32, u64)> =
        std::iter::once((saved.pid, saved.pid_start)).chain(saved.gofers.iter().copied()).collect();
    for &(pid, start) in &procs {
        if alive(pid, start) {
            let _ = kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while procs.iter().any(|&(p, s)| alive(p, s)) {
        if std::time::Instant::now() > deadline {
            bail!("container {:?}: the sandbox (pid {}) did not die", saved.id, saved.pid);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Ok(())
}
