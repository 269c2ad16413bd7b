//! Command-line interface: runc's global flags and runsc's own, and the
//! subcommands.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// The runtime.
#[derive(Parser, Debug)]
#[command(name = "runsc", version, about = "A sandboxed OCI runtime: containers run on a userspace kernel")]
pub struct Cli {
    /// Global flags.
    #[command(flatten)]
    pub global: GlobalFlags,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Log formats.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Plain text.
    Text,
    /// One JSON object per line.
    Json,
}

/// Platforms.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum PlatformKind {
    /// ptrace: works everywhere; the reference platform.
    Ptrace,
}

/// `--rootless` (runc's): whether to run as an unprivileged user.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Rootless {
    /// Rootless when not the host's root (or inside a user namespace).
    Auto,
    /// Rootless.
    True,
    /// Not rootless.
    False,
}

/// Network modes.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum NetworkKind {
    /// Loopback only.
    None,
}

/// Flags that apply to every command (runc's and runsc's).
#[derive(Args, Debug, Clone)]
pub struct GlobalFlags {
    /// Directory for container state.
    #[arg(long, global = true, default_value = "/run/runsc")]
    pub root: PathBuf,
    /// Log file for runsc itself.
    #[arg(long, global = true)]
    pub log: Option<PathBuf>,
    /// Log format.
    #[arg(long = "log-format", global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Write the sandbox's debug log (sentry and gofer) to this file.
    #[arg(long = "debug-log", global = true)]
    pub debug_log: Option<PathBuf>,
    /// Print every system call the application makes, on stderr.
    #[arg(long, global = true)]
    pub strace: bool,
    /// The platform that runs application code.
    #[arg(long, global = true, value_enum, default_value = "ptrace")]
    pub platform: PlatformKind,
    /// Networking (only `none`, loopback only, so far).
    #[arg(long, global = true, value_enum, default_value = "none")]
    pub network: NetworkKind,
    /// Use systemd for cgroups (not supported yet: it fails with a message; cgroupfs is the driver).
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Audit mode: let syscalls outside the seccomp policies through and have
    /// the kernel log them (for developing the policies; not for production).
    #[arg(long = "seccomp-log", global = true, hide = true)]
    pub seccomp_log: bool,
    /// Do not configure cgroups.
    #[arg(long = "ignore-cgroups", global = true)]
    pub ignore_cgroups: bool,
    /// Run as an unprivileged user (runc's flag): the container needs a
    /// user namespace mapping the caller's ids; cgroups are used only
    /// where the caller may write them. `auto`: when not the host's root.
    /// Without --root, state goes in $XDG_RUNTIME_DIR/runsc.
    /// (Before the command: `runsc spec --rootless` is spec's own.)
    #[arg(long, value_enum, default_value = "auto")]
    pub rootless: Rootless,
    /// The root's overlay, as gVisor names it: `root:memory` (writes go to
    /// an upper layer in sandbox memory; the host's files never change),
    /// `root:self` (the upper layer's data in an unnamed file in the root
    /// filesystem's directory), `root:/DIR` (the same, in host directory
    /// DIR), `all:...` (the same: there are no other overlaid mounts yet),
    /// or `none` (the root is the image itself; read-only unless the spec
    /// says otherwise).
    #[arg(long = "overlay2", global = true, default_value = "root:memory", value_parser = parse_overlay)]
    pub overlay2: Overlay2,
}

/// Where the root's overlay keeps its upper layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Overlay2 {
    /// No overlay.
    None,
    /// An upper layer in sandbox memory.
    Memory,
    /// An upper layer whose data is in a file in the root filesystem's
    /// directory.
    SelfFile,
    /// An upper layer whose data is in a file in this host directory.
    Dir(PathBuf),
}

impl Overlay2 {
    /// The flag's value, to hand on to `runsc boot`.
    pub fn as_flag(&self) -> String {
        match self {
            Overlay2::None => "none".into(),
            Overlay2::Memory => "root:memory".into(),
            Overlay2::SelfFile => "root:self".into(),
            Overlay2::Dir(d) => format!("root:{}", d.display()),
        }
    }

    /// Whether the root has an overlay.
    pub fn overlaid(&self) -> bool {
        *self != Overlay2::None
    }
}

fn parse_overlay(s: &str) -> Result<Overlay2, String> {
    if s == "none" {
        return Ok(Overlay2::None);
    }
    let Some((mounts, medium)) = s.split_once(':') else {
        return Err(format!("{s:?}: expected none, or root:MEDIUM or all:MEDIUM"));
    };
    if !matches!(mounts, "root" | "all") {
        return Err(format!("{s:?}: expected none, or root:MEDIUM or all:MEDIUM"));
    }
    match medium {
        "memory" => Ok(Overlay2::Memory),
        "self" => Ok(Overlay2::SelfFile),
        m if m.starts_with('/') => Ok(Overlay2::Dir(PathBuf::from(m))),
        _ => Err(format!("{s:?}: the medium must be memory, self or an absolute path")),
    }
}

/// Subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a command in a throwaway sandbox over the host's root filesystem.
    Do(DoArgs),
    /// List the system calls the sandbox implements, and how completely.
    Syscalls(SyscallsArgs),
    /// Write a starting config.json for a bundle (as `runc spec` does).
    Spec(SpecArgs),
    /// Create a container from a bundle; its process waits for `start`.
    Create(CreateArgs),
    /// Start a created container's process.
    Start(IdArgs),
    /// Create and start a container; without --detach, wait for it and
    /// exit with its status.
    Run(RunArgs),
    /// Print a container's state (OCI state JSON).
    State(IdArgs),
    /// List the containers.
    List(ListArgs),
    /// Send a signal to a container's init (or, with --all, every process).
    Kill(KillArgs),
    /// Delete a container (stopped or created; --force for a running one).
    Delete(DeleteArgs),
    /// List a container's processes.
    Ps(PsArgs),
    /// Run a new process in a running container.
    Exec(ExecArgs),
    /// Hold every process of a container.
    Pause(IdArgs),
    /// Let a paused container's processes run again.
    Resume(IdArgs),
    /// Print a container's CPU, memory and process figures as JSON events.
    Events(EventsArgs),
    /// Wait for a container's init to exit; print its status as JSON.
    Wait(IdArgs),
    /// Change a container's resource limits (its host cgroup's).
    Update(UpdateArgs),
    /// Add runsc to Docker's daemon.json as a runtime.
    Install(InstallArgs),
    /// Take runsc out of Docker's daemon.json.
    Uninstall(UninstallArgs),
    /// Print the OCI features this runtime supports (JSON).
    Features,
    /// (internal) The sandbox process.
    #[command(hide = true)]
    Boot(BootArgs),
    /// (internal) The file server process.
    #[command(hide = true)]
    Gofer(GoferArgs),
    /// (internal) The host process of a pod's container: waits for its
    /// init and exits with its status, passing on the signals it gets.
    #[command(hide = true, name = "pod-waiter")]
    PodWaiter(PodWaiterArgs),
    /// (internal) Holds a new user namespace while runsc maps it.
    #[command(hide = true, name = "userns-holder")]
    UsernsHolder,
}

/// `runsc do`.
#[derive(Args, Debug)]
pub struct DoArgs {
    /// Working directory inside the sandbox (default: the current directory).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Make a host directory visible in the sandbox: HOST:SANDBOX, or
    /// HOST:SANDBOX:ro for a read-only one (repeatable). Writes to a
    /// writable volume reach the host at once; host changes are seen inside.
    #[arg(long = "volume", value_name = "HOST:SANDBOX[:ro]", value_parser = parse_volume)]
    pub volumes: Vec<Volume>,
    /// The program and its arguments.
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// A `--volume`: a host directory at a sandbox path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// The host directory (absolute, resolved).
    pub host: PathBuf,
    /// Where the sandbox sees it (absolute).
    pub sandbox: PathBuf,
    /// Read-only.
    pub readonly: bool,
}

fn parse_volume(s: &str) -> Result<Volume, String> {
    let parts: Vec<&str> = s.split(':').collect();
    let (host, sandbox, readonly) = match parts.as_slice() {
        [h, d] => (*h, *d, false),
        [h, d, "ro"] => (*h, *d, true),
        [h, d, "rw"] => (*h, *d, false),
        [_, _, o] => return Err(format!("unknown volume option {o:?} (expected ro or rw)")),
        _ => return Err("expected HOST:SANDBOX or HOST:SANDBOX:ro".into()),
    };
    if host.is_empty() || sandbox.is_empty() {
        return Err("expected HOST:SANDBOX or HOST:SANDBOX:ro".into());
    }
    let sandbox = PathBuf::from(sandbox);
    if !sandbox.is_absolute() {
        return Err(format!("the sandbox path {} must be absolute", sandbox.display()));
    }
    let host = std::fs::canonicalize(host).map_err(|e| format!("host directory {host}: {e}"))?;
    if !host.is_dir() {
        return Err(format!("host path {} is not a directory", host.display()));
    }
    Ok(Volume { host, sandbox, readonly })
}

/// `runsc spec`.
#[derive(Args, Debug)]
pub struct SpecArgs {
    /// The bundle directory to write config.json in.
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// A spec for an unprivileged user (as `runc spec --rootless`): a user
    /// namespace mapping the caller's uid and gid to root, no network
    /// namespace, no resources.
    #[arg(long)]
    pub rootless: bool,
}

/// A container ID.
#[derive(Args, Debug)]
pub struct IdArgs {
    /// The container ID.
    pub id: String,
}

/// `runsc create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The bundle directory (holding config.json).
    #[arg(long, short = 'b', default_value = ".")]
    pub bundle: PathBuf,
    /// Write the sandbox's host pid to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// A unix socket to send the terminal's master end to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Accepted for runc compatibility: the sandbox always has a root of
    /// its own.
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Accepted for runc compatibility: the sandbox has no host keyring.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass this many fds after stdio (3, 4, ...) to the process.
    #[arg(long = "preserve-fds", default_value = "0")]
    pub preserve_fds: u32,
    /// The container ID.
    pub id: String,
}

/// `runsc run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// The create flags.
    #[command(flatten)]
    pub create: CreateArgs,
    /// Return once the process has started instead of waiting for it.
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Keep the state of a foreground container after it exits.
    #[arg(long)]
    pub keep: bool,
}

/// Output formats of `list` and `ps`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    /// A table.
    Table,
    /// JSON.
    Json,
}

/// `runsc list`.
#[derive(Args, Debug)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    /// Print only the IDs.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// `runsc install`.
#[derive(Args, Debug)]
pub struct InstallArgs {
    /// Docker's daemon configuration.
    #[arg(long = "config-file", default_value = "/etc/docker/daemon.json")]
    pub config_file: PathBuf,
    /// The runtime's name (`docker run --runtime NAME`).
    #[arg(long, default_value = "runsc")]
    pub runtime: String,
    /// Replace a runtime of that name already there.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub clobber: bool,
    /// Also turn on Docker's experimental features.
    #[arg(long)]
    pub experimental: bool,
    /// Flags for runsc each time Docker runs it (after `--`).
    #[arg(last = true)]
    pub runtime_args: Vec<String>,
}

/// `runsc uninstall`.
#[derive(Args, Debug)]
pub struct UninstallArgs {
    /// Docker's daemon configuration.
    #[arg(long = "config-file", default_value = "/etc/docker/daemon.json")]
    pub config_file: PathBuf,
    /// The runtime's name.
    #[arg(long, default_value = "runsc")]
    pub runtime: String,
}

/// `runsc update`: as runc's flags (sizes take k, m, g suffixes).
#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// A JSON file of the resources (the spec's linux.resources), `-` for
    /// stdin; the other flags are then ignored.
    #[arg(long, short = 'r')]
    pub resources: Option<String>,
    /// Block I/O weight, 10 to 1000.
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    /// CPU CFS period (µs).
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    /// CPU CFS quota (µs per period; -1 for none).
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    /// CPU shares.
    #[arg(long = "cpu-share")]
    pub cpu_share: Option<u64>,
    /// Realtime period (µs).
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    /// Realtime runtime (µs).
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    /// CPUs to use.
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    /// Memory nodes to use.
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Memory limit.
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    /// Memory soft limit.
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap).
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    /// Most processes (0 or -1: no limit).
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    /// Intel RDT L3 cache schema (not supported).
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,
    /// Intel RDT memory bandwidth schema (not supported).
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,
    /// The container ID.
    pub id: String,
}

/// `runsc kill`.
#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal every process of the container, not just its init.
    #[arg(long, short = 'a')]
    pub all: bool,
    /// The container ID.
    pub id: String,
    /// The signal: a name (KILL, SIGKILL) or a number; SIGTERM by default.
    #[arg(default_value = "SIGTERM")]
    pub signal: String,
}

/// `runsc delete`.
#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// Kill a running container first.
    #[arg(long, short = 'f')]
    pub force: bool,
    /// The container ID.
    pub id: String,
}

/// `runsc ps`.
#[derive(Args, Debug)]
pub struct PsArgs {
    /// Output format (json: the pids, as runc gives them).
    #[arg(long, short = 'f', value_enum, default_value = "table")]
    pub format: Format,
    /// The container ID.
    pub id: String,
}

/// `runsc events`.
#[derive(Args, Debug)]
pub struct EventsArgs {
    /// Print the figures once and exit.
    #[arg(long)]
    pub stats: bool,
    /// How often to print them (e.g. 5s, 500ms).
    #[arg(long, default_value = "5s")]
    pub interval: String,
    /// The container ID.
    pub id: String,
}

/// `runsc exec`.
#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The process as JSON (an OCI process object), instead of a command.
    #[arg(long, short = 'p')]
    pub process: Option<PathBuf>,
    /// Return once the process has started (a background runsc waits for
    /// it, and is what --pid-file names).
    #[arg(long, short = 'd')]
    pub detach: bool,
    /// Write the pid of the runsc that waits for the process to this file.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// A unix socket to send the terminal's master end to.
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// Give the process a terminal.
    #[arg(long, short = 't')]
    pub tty: bool,
    /// Working directory (default: the container's).
    #[arg(long)]
    pub cwd: Option<PathBuf>,
    /// Set an environment variable, NAME=VALUE (repeatable).
    #[arg(long, short = 'e')]
    pub env: Vec<String>,
    /// The user: UID or UID:GID.
    #[arg(long, short = 'u')]
    pub user: Option<String>,
    /// Additional groups (repeatable).
    #[arg(long = "additional-gids", short = 'g')]
    pub additional_gids: Vec<u32>,
    /// Set no_new_privs for the process.
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// Pass this many fds after stdio (3, 4, ...) to the process.
    #[arg(long = "preserve-fds", default_value = "0")]
    pub preserve_fds: u32,
    /// (internal) The detached parent's pipe: the pid goes there once the
    /// process runs.
    #[arg(long = "started-fd", hide = true)]
    pub started_fd: Option<i32>,
    /// The container ID.
    pub id: String,
    /// The command and its arguments.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "COMMAND")]
    pub command: Vec<String>,
}

/// `runsc syscalls`.
#[derive(Args, Debug)]
pub struct SyscallsArgs {
    /// Also list the syscalls that are not implemented (they return ENOSYS).
    #[arg(long)]
    pub all: bool,
}

/// `runsc boot`.
#[derive(Args, Debug)]
pub struct BootArgs {
    /// Fd to read the OCI spec (JSON) from.
    #[arg(long = "spec-fd")]
    pub spec_fd: i32,
    /// Fd of the gofer connection for the root mount.
    #[arg(long = "gofer-fd")]
    pub gofer_fd: i32,
    /// Fds of the gofer connections of the spec's bind mounts, in order.
    #[arg(long = "volume-fds", value_delimiter = ',')]
    pub volume_fds: Vec<i32>,
    /// Which of the volumes (by index) are single files.
    #[arg(long = "file-volumes", value_delimiter = ',')]
    pub file_volumes: Vec<usize>,
    /// Fd of the file that keeps the overlay's upper layer (with
    /// `--overlay2=root:self` or a directory).
    #[arg(long = "filestore-fd")]
    pub filestore_fd: Option<i32>,
    /// Standard fds (0, 1, 2) that were closed when runsc started: the
    /// sandbox's are closed too.
    #[arg(long = "closed-fds", value_delimiter = ',')]
    pub closed_fds: Vec<i32>,
    /// Fds 3 .. 3+N are init's too (`--preserve-fds`).
    #[arg(long = "preserve-fds", default_value = "0")]
    pub preserve_fds: u32,
    /// Fd of the listening control socket (OCI containers): init waits
    /// for `start` on it.
    #[arg(long = "control-fd")]
    pub control_fd: Option<i32>,
    /// Outlive the runsc that started us.
    #[arg(long)]
    pub detached: bool,
    /// Stdio is a host terminal from --console-socket: init runs on a pair
    /// of the sandbox's joined to it (its /dev/pts/0, as runc's).
    #[arg(long = "console-bridge")]
    pub console_bridge: bool,
    /// Fd to write the error to if the sandbox cannot start (OCI
    /// containers; otherwise errors go to stderr).
    #[arg(long = "error-fd")]
    pub error_fd: Option<i32>,
    /// Fds of the container's `cgroup.procs` files, to join before
    /// anything is forked.
    #[arg(long = "cgroup-fds", value_delimiter = ',')]
    pub cgroup_fds: Vec<i32>,
    /// Fd of the network namespace to join (the spec's, by path) instead
    /// of a new one.
    #[arg(long = "netns-fd")]
    pub netns_fd: Option<i32>,
    /// Fd of the container's user namespace, to join as its root.
    #[arg(long = "userns-fd")]
    pub userns_fd: Option<i32>,
    /// The spec's cgroup mount shows cgroup v1 hierarchies (the host's
    /// memory controller is v1's).
    #[arg(long = "cgroup-v1")]
    pub cgroup_v1: bool,
}

/// `runsc gofer`.
#[derive(Args, Debug)]
pub struct GoferArgs {
    /// The directory tree to serve.
    #[arg(long = "serve")]
    pub serve: PathBuf,
    /// Fd of the connection to the sentry.
    #[arg(long = "io-fd")]
    pub io_fd: i32,
    /// Let the sandbox change the tree.
    #[arg(long)]
    pub writable: bool,
    /// Outlive the runsc that started us (we end when the sandbox hangs up).
    #[arg(long)]
    pub detached: bool,
    /// Fds of the container's `cgroup.procs` files, to join first.
    #[arg(long = "cgroup-fds", value_delimiter = ',')]
    pub cgroup_fds: Vec<i32>,
    /// Fd of the container's user namespace, to join as its root once
    /// in the tree it serves.
    #[arg(long = "userns-fd")]
    pub userns_fd: Option<i32>,
}

/// `runsc pod-waiter`.
#[derive(Args, Debug)]
pub struct PodWaiterArgs {
    /// The container's state directory (its control socket's).
    #[arg(long = "state-dir")]
    pub state_dir: PathBuf,
    /// Fds of the container's `cgroup.procs` files, to join first.
    #[arg(long = "cgroup-fds", value_delimiter = ',')]
    pub cgroup_fds: Vec<i32>,
}
