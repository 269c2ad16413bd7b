//! Building the sandbox inside `runsc boot`: memory file, platform, kernel,
//! the first container's filesystem (`container_fs`), and loading processes.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use anyhow::{anyhow, Context as _};
use oci_spec::runtime::Spec;
use sentry::abi::Rlimit;

use crate::container_fs::build_fs;
pub use crate::container_fs::Scope;
use sentry::abi::Errno;
use sentry::auth::Credentials;
use sentry::fs::host::HostFile;
use sentry::fs::tmpfs::{Tmpfs, TmpfsOptions};
use sentry::kernel::clone::NewProcess;
use sentry::kernel::limits::RLIM_NLIMITS;
use sentry::kernel::uts::Uts;
use sentry::kernel::{ExitStatus, Kernel, SyscallTable, ThreadGroup};
use sentry::loader::ExecEnv;
use sentry::mm::{MemoryFile, MemoryManager};
use sentry::platform::ptrace::PtracePlatform;
use sentry::vfs::path::{FsContext, FsState, Walker};
use sentry::vfs::{Dentry, FdTable, File, Location, Lookup, Mount};

/// Why the init program could not start: a message and the exit status a
/// shell would give (127 not found, 126 not executable).
#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
pub struct StartError {
    /// The message.
    pub msg: String,
    /// The exit status.
    pub code: i32,
}

/// How the sandbox is made.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Print every syscall.
    pub strace: bool,
    /// The root is the image under an upper layer in sandbox memory.
    pub overlay: bool,
    /// The cgroup view is v1's (as the host's).
    pub cgroup_v1: bool,
}

/// The sandbox, ready to run its init process.
pub struct Sandbox {
    kernel: Arc<Kernel>,
    platform: Arc<PtracePlatform>,
    /// The first container's root and tag.
    scope: Scope,
    /// The pod's /dev/shm, every container's (they share the IPC
    /// namespace).
    shm: Arc<Dentry>,
    /// Whether containers' roots take writes in an upper layer.
    overlay: bool,
    /// Whether a process without HOME gets its user's (OCI containers,
    /// as runc gives it; `runsc do` passes the caller's environment as
    /// it is).
    pub default_home: bool,
}

impl Sandbox {
    /// Creates the memory file and platform. Must run while single-threaded.
    /// With `overlay`, the root is the image under an upper layer in
    /// sandbox memory.
    /// `volumes` are the gofer connections of the spec's bind mounts, in
    /// their order.
    pub fn new(
        spec: &Spec,
        gofer: OwnedFd,
        volumes: Vec<OwnedFd>,
        file_volumes: &[usize],
        opts: Options,
        store: Option<OwnedFd>,
    ) -> anyhow::Result<Sandbox> {
        let Options { strace, overlay, cgroup_v1 } = opts;
        // The upper layer may fill the store's filesystem, no more.
        let store_room = store.as_ref().map(free_space).transpose()?;
        let mf = Arc::new(MemoryFile::with_store(store).map_err(|e| anyhow!("memory file: {e}"))?);
        // The application's processes on the host take the spec's
        // oom_score_adj (runsc gave the sandbox's own a lower one).
        let stub_adj = Some(oom_score_adj(spec));
        let platform = Arc::new(PtracePlatform::new(mf.fd(), mf.store_fd(), stub_adj).context("ptrace platform")?);
        let (sysctl_host, sysctl_domain) = crate::sysctl::uts(spec);
        let uts = Uts {
            hostname: sysctl_host.or_else(|| spec.hostname().clone()).unwrap_or_else(|| "runsc".into()),
            domainname: sysctl_domain.or_else(|| spec.domainname().clone()).unwrap_or_else(|| "(none)".into()),
        };
        let kernel = Kernel::new(platform.clone(), mf, SyscallTable::new(syscalls::table()), strace, uts)
            .map_err(|e| anyhow!("kernel: {e}"))?;
        // The container's pids limit, in the sandbox's tasks, and its
        // memory limit, shown as the sandbox's memory (the host cgroup
        // holds it there).
        let resources = spec.linux().as_ref().and_then(|l| l.resources().as_ref());
        if let Some(p) = resources.and_then(|r| r.pids().as_ref()).filter(|p| p.limit() > 0) {
            kernel.set_task_limit(p.limit() as usize);
        }
        if let Some(l) = resources.and_then(|r| r.memory().as_ref()).and_then(|m| m.limit()) {
            kernel.mf.set_memory_limit(u64::try_from(l).unwrap_or(0));
        }
        kernel.set_shown_limits(shown_limits(spec));
        kernel.set_cgroup_v1(cgroup_v1);
        // Before confinement: the timekeeper is a thread.
        kernel.vdso.start_timekeeper().context("start timekeeper")?;

        let shm = Tmpfs::new_root(kernel.mf.clone(), TmpfsOptions { mode: 0o1777, ..TmpfsOptions::default() });
        let shm = Dentry::new_root(shm);
        let fs = build_fs(&kernel, spec, gofer, volumes, file_volumes, overlay, store_room, &shm, 0)?;
        let root = fs.root.clone();
        *kernel.mounts.lock().unwrap_or_else(|e| e.into_inner()) = fs.mounts;
        *kernel.root.lock().unwrap_or_else(|e| e.into_inner()) = Some(root.clone());
        crate::sysctl::apply(&kernel, &root, spec)?;
        crate::masked_paths::apply(&kernel, spec, &root, &fs.dev)?;
        let scope = Scope { root, container: 0, oom_score_adj: oom_score_adj(spec) };
        Ok(Sandbox { kernel, platform, scope, shm, overlay, default_home: false })
    }

    /// The first container's root and tag.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Builds the filesystem tree of container `tag`, another of the pod
    /// (its own root from `gofer`, its own mounts; the pod's /dev/shm):
    /// see [`build_fs`]. Returns its scope.
    pub fn add_container_fs(
        &self,
        tag: u32,
        spec: &Spec,
        gofer: OwnedFd,
        volumes: Vec<OwnedFd>,
        file_volumes: &[usize],
    ) -> anyhow::Result<Scope> {
        let fs = build_fs(&self.kernel, spec, gofer, volumes, file_volumes, self.overlay, None, &self.shm, tag)?;
        self.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner()).extend(fs.mounts);
        crate::masked_paths::apply(&self.kernel, spec, &fs.root, &fs.dev)?;
        Ok(Scope { root: fs.root, container: tag, oom_score_adj: oom_score_adj(spec) })
    }

    /// Drops the mounts of the tree under `root` (a container of the pod
    /// that was deleted, whose processes are gone): their filesystems
    /// (and gofer channels) go once nothing else holds them.
    pub fn remove_container_fs(&self, root: &Location) {
        let top = |m: &Arc<Mount>| {
            let mut m = m.clone();
            while let Some((p, _)) = m.parent() {
                m = p;
            }
            m
        };
        self.kernel.mounts.lock().unwrap_or_else(|e| e.into_inner()).retain(|m| !Arc::ptr_eq(&top(m), &root.mount));
    }

    /// Starts the spec's process as pid 1 and runs the sandbox until init
    /// exits and every task is gone; then reaps every stub process.
    pub fn run_init(&self, spec: &Spec, stdio: Vec<Option<Arc<File>>>) -> anyhow::Result<ExitStatus> {
        let init = self.prepare_init(spec, stdio)?;
        self.start_init(init)?;
        Ok(self.wait())
    }

    /// Starts a prepared init as pid 1.
    pub fn start_init(&self, p: NewProcess) -> anyhow::Result<()> {
        self.kernel.start_init(p).map_err(|e| anyhow!("start init: {e}"))
    }

    /// Starts a prepared process (`runsc exec`).
    pub fn start_process(&self, p: NewProcess) -> anyhow::Result<Arc<ThreadGroup>> {
        self.kernel.start_process(p).map_err(|e| anyhow!("start process: {e}"))
    }

    /// Runs the sandbox until init exits and every task is gone; then
    /// reaps every stub process. Returns init's status.
    pub fn wait(&self) -> ExitStatus {
        let status = self.kernel.wait();
        self.platform.shutdown();
        status
    }

    /// Loads the spec's process, ready to start as pid 1: its program,
    /// working directory, credentials, limits and stdio.
    pub fn prepare_init(&self, spec: &Spec, stdio: Vec<Option<Arc<File>>>) -> anyhow::Result<NewProcess> {
        let process = spec.process().as_ref().ok_or_else(|| anyhow!("spec has no process"))?;
        self.prepare_process(&self.scope, process, stdio, true)
    }

    /// Loads `process`, ready to start: its program, working directory,
    /// credentials, limits and stdio. `init`'s stdin may be the host's
    /// terminal, which becomes the sandbox's console.
    pub fn prepare_process(
        &self,
        scope: &Scope,
        process: &oci_spec::runtime::Process,
        stdio: Vec<Option<Arc<File>>>,
        init: bool,
    ) -> anyhow::Result<NewProcess> {
        self.prepare_program(scope, process, None, stdio, init)
    }

    /// Loads `process`, running program `exe` (an absolute path in the
    /// sandbox) if given, else its `args[0]` found as execvp would; an `exe`
    /// (a hook's) runs with exactly the environment given, no HOME added.
    pub fn prepare_program(
        &self,
        scope: &Scope,
        process: &oci_spec::runtime::Process,
        exe: Option<&[u8]>,
        stdio: Vec<Option<Arc<File>>>,
        init: bool,
    ) -> anyhow::Result<NewProcess> {
        let argv: Vec<Vec<u8>> =
            process.args().clone().unwrap_or_default().into_iter().map(String::into_bytes).collect();
        if argv.is_empty() {
            return Err(anyhow!("spec process has no args"));
        }
        let mut envp: Vec<Vec<u8>> =
            process.env().clone().unwrap_or_default().into_iter().map(String::into_bytes).collect();
        let user = process.user();
        if self.default_home && exe.is_none() && !envp.iter().any(|e| e.starts_with(b"HOME=")) {
            // As runc does: the user's home from the image's /etc/passwd,
            // or /.
            let home = self.home_of(&scope.root, user.uid()).unwrap_or_else(|| b"/".to_vec());
            envp.push([b"HOME=".as_slice(), &home].concat());
        }
        let groups = user.additional_gids().clone().unwrap_or_default();
        let mut creds = Credentials::new(user.uid(), user.gid(), groups);
        if let Some(c) = process.capabilities() {
            // The spec's sets as given, before the program's execve works
            // out what it keeps (runc sets them the same way).
            creds.caps = sentry::auth::Caps {
                bounding: cap_set(c.bounding().as_ref()),
                effective: cap_set(c.effective().as_ref()),
                permitted: cap_set(c.permitted().as_ref()),
                inheritable: cap_set(c.inheritable().as_ref()),
                ambient: cap_set(c.ambient().as_ref()),
            };
        }
        let cwd = Walker::new(&scope.root, &creds)
            .walk(&scope.root, process.cwd().as_os_str().as_encoded_bytes(), Lookup::Follow)
            .map_err(|e| start_error_msg(format!("working directory {}: {e}", process.cwd().display()), 126))?;
        if cwd.dentry.inode.file_type() != sentry::vfs::FileType::Directory {
            return Err(start_error_msg(
                format!("working directory {}: not a directory (ENOTDIR)", process.cwd().display()),
                126,
            ));
        }
        let rlimits = limits_from_spec(process);
        // The caller's personality (setarch -R turns ASLR off), as a child
        // of it would have.
        let personality = nix::sys::personality::get().map_or(0, |p| p.bits() as u32);
        let fds = Arc::new(FdTable::new());
        // A terminal on stdin is init's session's controlling terminal.
        let console = stdio
            .first()
            .filter(|_| init)
            .and_then(|f| f.as_ref())
            .and_then(|f| f.ops.as_any().and_then(|a| a.downcast_ref::<HostFile>()))
            .filter(|h| h.is_tty())
            .map(|h| Arc::new(h.alias(None)));
        let mut stdio = stdio;
        if let Some(host) = console {
            self.kernel.ttys.set_console(1, 1);
            self.kernel.ttys.set_console_host(host.clone(), creds.uid, creds.gid);
            console_stdio(&scope.root, &creds, &host, &mut stdio);
        }
        for (n, file) in stdio.into_iter().enumerate() {
            if let Some(file) = file {
                fds.insert_at(n as i32, file, false, u64::MAX).map_err(|e| anyhow!("install fd {n}: {e}"))?;
            }
        }
        let umask = user.umask().unwrap_or(0o022) & 0o777;
        let no_new_privs = process.no_new_privileges().unwrap_or(false);
        let fs = FsState::new(FsContext { root: scope.root.clone(), cwd: cwd.clone(), umask });
        let env = ExecEnv {
            root: &scope.root,
            cwd: &cwd,
            creds: &creds,
            stack_limit: rlimits[libc::RLIMIT_STACK as usize].cur,
            randomize: personality & sentry::kernel::thread_group::ADDR_NO_RANDOMIZE == 0,
            no_new_privs,
        };
        let path_var = envp.iter().find_map(|e| e.strip_prefix(b"PATH=")).map(<[u8]>::to_vec);
        let (exe, shown) = match exe {
            Some(p) => (p.to_vec(), p),
            None => (resolve_program(&env, &argv[0], path_var.as_deref())?, argv[0].as_slice()),
        };
        let mm = Arc::new(MemoryManager::new(self.kernel.mf.clone(), self.kernel.platform.clone()));
        let loaded = sentry::loader::load(&env, &mm, &self.kernel.vdso, &cwd, &exe, argv.clone(), envp)
            .map_err(|e| start_error(shown, e))?;
        Ok(NewProcess {
            mm,
            fds,
            fs,
            creds,
            rlimits,
            personality,
            no_new_privs,
            exec: loaded,
            ctty: None,
            container: scope.container,
            oom_score_adj: scope.oom_score_adj,
        })
    }

    /// Loads `process` (exec'd with a terminal) to run on a pair of the
    /// sandbox's joined to host terminal `host`: the replica, as
    /// /dev/pts/N, is its stdio and its session's controlling terminal.
    pub fn prepare_on_terminal(
        &self,
        scope: &Scope,
        process: &oci_spec::runtime::Process,
        host: HostFile,
    ) -> anyhow::Result<(NewProcess, Arc<sentry::fs::tty::bridge::Bridge>)> {
        let uid = process.user().uid();
        let (bridge, replica) = sentry::fs::tty::bridge::Bridge::start(&self.kernel.ttys, host, uid)
            .map_err(|e| anyhow!("a terminal for the process: {e}"))?;
        let path = format!("/dev/pts/{}", bridge.terminal().index).into_bytes();
        let creds = Credentials::new(0, 0, vec![]);
        let node = Walker::new(&scope.root, &creds).walk(&scope.root, &path, Lookup::NoFollow).ok();
        let file = File::new(replica, libc::O_RDWR as u32, node, path);
        let mut image =
            self.prepare_process(scope, process, vec![Some(file.clone()), Some(file.clone()), Some(file)], false)?;
        image.ctty = Some(bridge.terminal().clone());
        Ok((image, bridge))
    }

    /// The home directory of `uid` in the container's /etc/passwd.
    fn home_of(&self, root: &Location, uid: u32) -> Option<Vec<u8>> {
        let creds = Credentials::new(0, 0, vec![]);
        let file = sentry::vfs::open::open(root, &creds, root, b"/etc/passwd", libc::O_RDONLY as u32, 0).ok()?;
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        // A passwd file past 1 MiB is not read further.
        while data.len() < 1 << 20 {
            let n = file.pread(&mut buf, data.len() as u64).ok()?;
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        data.split(|&b| b == b'\n').find_map(|line| {
            let f: Vec<&[u8]> = line.split(|&b| b == b':').collect();
            (f.len() >= 7 && f[2] == uid.to_string().as_bytes() && !f[5].is_empty()).then(|| f[5].to_vec())
        })
    }

    /// The kernel (for the signal-forwarding thread).
    pub fn kernel(&self) -> Arc<Kernel> {
        self.kernel.clone()
    }
}

/// The stdio fds on the host console become files of /dev/console (named
/// so, with its node's identity), so that ttyname(3) finds them there.
/// A spec capability set as a bit mask (capabilities this kernel does not
/// know are left out, as runc leaves them).
fn cap_set(set: Option<&oci_spec::runtime::Capabilities>) -> u64 {
    set.into_iter()
        .flatten()
        .filter_map(|c| format!("CAP_{c}").parse::<caps::Capability>().ok())
        .filter_map(|c| 1u64.checked_shl(u32::from(c.index())))
        .filter(|&bit| bit & sentry::auth::ALL_CAPS != 0)
        .fold(0, |m, bit| m | bit)
}

fn console_stdio(root: &Location, creds: &Credentials, console: &HostFile, stdio: &mut [Option<Arc<File>>]) {
    let Ok(node) = Walker::new(root, creds).walk(root, b"/dev/console", Lookup::NoFollow) else { return };
    let Ok(st) = node.dentry.inode.stat() else { return };
    let rdev = console.host_rdev();
    for slot in stdio.iter_mut() {
        let Some(f) = slot.as_ref() else { continue };
        let Some(h) = f.ops.as_any().and_then(|a| a.downcast_ref::<HostFile>()) else { continue };
        if h.is_tty() && h.host_rdev() == rdev {
            let ops = Arc::new(h.alias(Some(st)));
            *slot = Some(File::new(ops, f.flags(), Some(node.clone()), b"/dev/console".to_vec()));
        }
    }
}

/// Init's resource limits: Linux's defaults, overridden by the spec's.
fn limits_from_spec(process: &oci_spec::runtime::Process) -> [Rlimit; RLIM_NLIMITS] {
    let mut l = ThreadGroup::default_limits();
    for r in process.rlimits().iter().flatten() {
        let idx = r.typ() as usize;
        if idx < RLIM_NLIMITS {
            l[idx] = Rlimit { cur: r.soft(), max: r.hard() };
        }
    }
    l
}

fn start_error_msg(msg: String, code: i32) -> anyhow::Error {
    StartError { msg, code }.into()
}

fn start_error(prog: &[u8], e: Errno) -> anyhow::Error {
    let name = String::from_utf8_lossy(prog);
    let (what, code) = match e {
        Errno::ENOENT => ("no such file or directory", 127),
        Errno::EACCES => ("permission denied", 126),
        Errno::ENOEXEC => ("exec format error", 126),
        Errno::ENOTDIR => ("not a directory", 127),
        Errno::ELOOP => ("too many levels of symbolic links", 126),
        _ => ("cannot execute", 126),
    };
    StartError { msg: format!("exec {name:?}: {what} ({})", e.name()), code }.into()
}

/// Finds the program like execvp: a name with a slash is used as is;
/// otherwise each PATH entry is tried inside the sandbox.
fn resolve_program(env: &ExecEnv<'_>, prog: &[u8], path: Option<&[u8]>) -> anyhow::Result<Vec<u8>> {
    if prog.is_empty() {
        return Err(start_error_msg("exec \"\": no such file or directory (ENOENT)".into(), 127));
    }
    if prog.contains(&b'/') {
        return Ok(prog.to_vec());
    }
    let path = path.unwrap_or(b"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    let mut denied = None;
    for dir in path.split(|&b| b == b':') {
        let dir = if dir.is_empty() { &b"."[..] } else { dir };
        let mut cand = dir.to_vec();
        cand.push(b'/');
        cand.extend_from_slice(prog);
        match sentry::loader::open_exec(env, env.cwd, &cand) {
            Ok(_) => return Ok(cand),
            Err(Errno::EACCES) => denied = Some(cand),
            Err(_) => {}
        }
    }
    if let Some(d) = denied {
        return Ok(d);
    }
    Err(StartError {
        msg: format!("exec {:?}: executable file not found in $PATH", String::from_utf8_lossy(prog)),
        code: 127,
    }
    .into())
}

/// The spec's `process.oomScoreAdj` (0 if none; checked in range by
/// `bundle`).
pub fn oom_score_adj(spec: &Spec) -> i32 {
    spec.process().as_ref().and_then(|p| p.oom_score_adj()).unwrap_or(0)
}

/// Our stdio and `--preserve-fds` fds 3 .. 3+`preserved`, reopened as
/// [`reopen_stdio`] does (`None` for those in `closed`): done while we
/// are still the host's root, as a pipe or terminal the host's root owns
/// is not a user namespace's to open.
pub fn reopen_inherited(closed: &[i32], preserved: u32) -> anyhow::Result<Vec<Option<Stdio>>> {
    (0..3 + preserved as i32).map(|n| if closed.contains(&n) { Ok(None) } else { reopen_stdio(n).map(Some) }).collect()
}

/// The sandbox's files for the fds [`reopen_inherited`] reopened: init's
/// fds 0, 1, 2, 3, ... After the platform, which forks while
/// single-threaded (a non-blocking file starts the host fd notifier's
/// thread).
pub fn import_inherited(fds: Vec<Option<Stdio>>) -> Vec<Option<Arc<File>>> {
    fds.into_iter()
        .map(|s| s.map(|s| File::new(Arc::new(HostFile::import(s.fd, s.nonblocking)), s.flags as u32, None, s.name)))
        .collect()
}

/// One of our stdio fds, ready for the sandbox.
pub struct Stdio {
    /// The fd: pipes and terminals reopened through /proc as non-blocking
    /// descriptions of their own (so the outside's description keeps its
    /// flags), anything else a duplicate.
    pub fd: OwnedFd,
    /// Its status flags (F_GETFL of the original).
    pub flags: i32,
    /// Its name, as /proc/self/fd shows it.
    pub name: Vec<u8>,
    /// Whether `fd` is non-blocking.
    pub nonblocking: bool,
}

/// Our inherited fd `n` (stdio, or one of `--preserve-fds` from 3 on,
/// which this takes), ready for the sandbox.
pub fn reopen_stdio(n: i32) -> anyhow::Result<Stdio> {
    use nix::fcntl::{fcntl, FcntlArg};
    use std::os::fd::AsRawFd;
    let fd = match n {
        0 => std::io::stdin().as_fd().try_clone_to_owned().context("stdin")?,
        1 => std::io::stdout().as_fd().try_clone_to_owned().context("stdout")?,
        2 => std::io::stderr().as_fd().try_clone_to_owned().context("stderr")?,
        // Ours from now on: the original closes once reopened, so the
        // sandbox's is the only one (a pipe's reader sees its end when the
        // container closes it).
        _ => gofer::transport::adopt_inherited(n).map_err(|e| anyhow!("--preserve-fds: fd {n}: {e}"))?,
    };
    let flags = fcntl(fd.as_raw_fd(), FcntlArg::F_GETFL).unwrap_or(0);
    let name = std::fs::read_link(format!("/proc/self/fd/{n}"))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| format!("host:[{n}]").into_bytes());
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).ok();
    let fmt = st.map_or(0, |s| s.st_mode & libc::S_IFMT);
    let tty = nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false);
    if fmt != libc::S_IFIFO && !(fmt == libc::S_IFCHR && tty) {
        return Ok(Stdio { fd, flags, name, nonblocking: false });
    }
    use std::os::unix::fs::OpenOptionsExt;
    let acc = flags & libc::O_ACCMODE;
    let reopened = std::fs::OpenOptions::new()
        .read(acc == libc::O_RDONLY || acc == libc::O_RDWR)
        .write(acc == libc::O_WRONLY || acc == libc::O_RDWR)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(format!("/proc/self/fd/{n}"));
    match reopened {
        Ok(f) => Ok(Stdio { fd: OwnedFd::from(f), flags, name, nonblocking: true }),
        Err(e) => {
            // A pipe whose reader is gone (ENXIO): writes fail with EPIPE
            // anyway, so the blocking original will do.
            tracing::debug!(fd = n, "cannot reopen stdio non-blocking: {e}");
            Ok(Stdio { fd, flags, name, nonblocking: false })
        }
    }
}

/// Bytes free for an unprivileged writer on the filesystem of the file
/// store `fd` (a page multiple), at most what the memory file's store can
/// hold.
fn free_space(fd: &OwnedFd) -> anyhow::Result<u64> {
    let st = nix::sys::statvfs::fstatvfs(fd.as_fd()).context("file store: statvfs")?;
    let bytes = st.blocks_available() as u64 * st.fragment_size() as u64;
    Ok(bytes.min(sentry::mm::memfile::MEMORY_FILE_SIZE) & !(sentry::abi::PAGE_SIZE - 1))
}

/// The spec's limits the sandbox's cgroup filesystem shows as they are
/// (the host cgroup holds it to them).
fn shown_limits(spec: &Spec) -> sentry::fs::cgroupfs::ShownLimits {
    let mut l = sentry::fs::cgroupfs::ShownLimits::default();
    let Some(r) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else { return l };
    if let Some(cpu) = r.cpu() {
        l.cpu_quota = cpu.quota().and_then(|q| u64::try_from(q).ok()).filter(|&q| q > 0);
        l.cpu_period = cpu.period().filter(|&p| p > 0).unwrap_or(sentry::fs::cgroupfs::DEFAULT_CPU_PERIOD);
        if let Some(shares) = cpu.shares().filter(|&s| s > 0) {
            l.cpu_weight = sentry::fs::cgroupfs::ShownLimits::weight_of_shares(shares);
            l.cpu_shares = shares;
        }
    }
    if let Some(m) = r.memory() {
        // The spec's swap is memory and swap together.
        if let (Some(swap), Some(limit)) = (m.swap(), m.limit()) {
            l.swap_max = (swap > 0 && limit > 0).then(|| swap.saturating_sub(limit) as u64);
        }
    }
    l
}
