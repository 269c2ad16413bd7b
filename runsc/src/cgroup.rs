//! The container's host cgroup: the one `linux.cgroupsPath` names, made
//! in every cgroup hierarchy the host mounts (v1 controllers, the v1
//! `name=` hierarchies, the v2 unified one), with the spec's memory, cpu,
//! cpuset, pids and block I/O weight limits written there. The sandbox's
//! host processes (boot and the stubs it forks, the gofers) join it as they
//! start, so what a shim or `docker stats` reads from the cgroup is the
//! sandbox's, and the host holds the sandbox to the limits (the pids limit
//! the sandbox counts itself, in its tasks; the host's is a backstop: see
//! [`host_pids_max`]).
//!
//! Paths follow runc's cgroupfs driver: an absolute cgroupsPath is taken
//! from the hierarchy's root, a relative one from runsc's own cgroup, and
//! none means `/<container id>`. Device rules are not written: the sandbox
//! gives the application no host device, so there is nothing for them to
//! guard. The systemd driver is not implemented: `--systemd-cgroup` fails.

use std::fs;
use std::io::Write as _;
use std::os::fd::OwnedFd;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use oci_spec::runtime::{LinuxResources, Spec};

/// The v1 controllers (a hierarchy's super options name them among its
/// mount options).
const CONTROLLERS: &[&str] = &[
    "cpu",
    "cpuacct",
    "cpuset",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "blkio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
];

/// One mounted cgroup hierarchy.
#[derive(Debug)]
struct Hierarchy {
    /// Where it is mounted.
    mount: PathBuf,
    /// The mount's root within the hierarchy (not `/` when a subtree is
    /// bind-mounted, as in a container without a cgroup namespace).
    root: PathBuf,
    /// Its controllers (`name=systemd` for a named one; empty for v2).
    controllers: Vec<String>,
    /// Whether it is the v2 unified hierarchy.
    v2: bool,
}

impl Hierarchy {
    /// Whether it carries controller `c`.
    fn has(&self, c: &str) -> bool {
        self.controllers.iter().any(|x| x == c)
    }

    /// The host directory of the hierarchy's cgroup `path` (absolute
    /// within the hierarchy), if the mount shows it.
    fn dir_of(&self, path: &Path) -> Option<PathBuf> {
        let rel = path.strip_prefix(&self.root).ok()?;
        Some(self.mount.join(rel))
    }
}

/// Whether the host's memory controller is cgroup v1's (a v1 or hybrid
/// host), so that a container's cgroup view should be v1's too.
pub fn host_is_v1() -> bool {
    hierarchies().is_ok_and(|hs| hs.iter().any(|h| !h.v2 && h.controllers.iter().any(|c| c == "memory")))
}

/// The hierarchies mounted in runsc's mount namespace, each once.
fn hierarchies() -> anyhow::Result<Vec<Hierarchy>> {
    let info = fs::read_to_string("/proc/self/mountinfo").context("read /proc/self/mountinfo")?;
    let mut out: Vec<Hierarchy> = Vec::new();
    for line in info.lines() {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [TAGS...] - FSTYPE SOURCE SUPEROPTS
        let (left, right) = match line.split_once(" - ") {
            Some(p) => p,
            None => continue,
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let v2 = match r[0] {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        let controllers: Vec<String> = if v2 {
            Vec::new()
        } else {
            r[2].split(',').filter(|o| o.starts_with("name=") || CONTROLLERS.contains(o)).map(str::to_owned).collect()
        };
        if !v2 && controllers.is_empty() {
            continue;
        }
        // A hierarchy mounted twice is used where it was mounted first.
        if out.iter().any(|h| h.v2 == v2 && h.controllers == controllers) {
            continue;
        }
        out.push(Hierarchy {
            mount: PathBuf::from(unescape(l[4])),
            root: PathBuf::from(unescape(l[3])),
            controllers,
            v2,
        });
    }
    Ok(out)
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// runsc's own cgroup in hierarchy `h`, from /proc/self/cgroup.
fn own_cgroup(h: &Hierarchy) -> anyhow::Result<PathBuf> {
    let text = fs::read_to_string("/proc/self/cgroup").context("read /proc/self/cgroup")?;
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (_, ctrls, path) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
        let ctrls: Vec<&str> = ctrls.split(',').filter(|c| !c.is_empty()).collect();
        let matches = if h.v2 {
            ctrls.is_empty()
        } else {
            !ctrls.is_empty()
                && ctrls.len() == h.controllers.len()
                && h.controllers.iter().all(|c| ctrls.contains(&c.as_str()))
        };
        if matches {
            return Ok(PathBuf::from(path));
        }
    }
    bail!("/proc/self/cgroup does not name runsc's cgroup in {}", h.mount.display())
}

/// The container's cgroup: its directory in each hierarchy.
#[derive(Debug, Default)]
pub struct Cgroup {
    /// The leaf directories, one per hierarchy.
    pub dirs: Vec<PathBuf>,
    /// The directories made for it, deepest last (removed if creation
    /// fails part way).
    made: Vec<PathBuf>,
}

/// Checks `linux.cgroupsPath` and returns it as a path within each
/// hierarchy: absolute, or relative to runsc's own cgroup.
fn checked_path(spec: &Spec, id: &str) -> anyhow::Result<PathBuf> {
    let given = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone());
    let p = match given {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => PathBuf::from(format!("/{id}")),
    };
    if p.to_string_lossy().contains(':') {
        bail!(
            "config.json: linux.cgroupsPath {:?} is in systemd's slice:prefix:name form; the systemd cgroup driver is not supported yet",
            p.display()
        );
    }
    for c in p.components() {
        if matches!(c, Component::ParentDir) {
            bail!("config.json: linux.cgroupsPath {:?} must not contain '..'", p.display());
        }
    }
    Ok(p)
}

/// Whether the spec has limits for a cgroup to apply (memory, cpu, pids
/// or block I/O; device rules are the sandbox's own).
pub fn has_limits(spec: &Spec) -> bool {
    let Some(r) = spec.linux().as_ref().and_then(|l| l.resources().as_ref()) else { return false };
    let mem = r.memory().as_ref().is_some_and(|m| {
        m.limit().is_some() || m.reservation().is_some() || m.swap().is_some() || m.kernel().is_some()
    });
    let cpu = r.cpu().as_ref().is_some_and(|c| {
        c.shares().is_some() || c.quota().is_some() || c.period().is_some() || c.cpus().is_some() || c.mems().is_some()
    });
    let pids = r.pids().as_ref().is_some_and(|p| p.limit() > 0);
    let bio = r.block_io().as_ref().is_some_and(|b| b.weight().is_some());
    mem || cpu || pids || bio
}

/// Whether the resources ask for something this driver cannot give, and
/// what.
fn unsupported(r: &LinuxResources) -> Option<&'static str> {
    if r.hugepage_limits().as_ref().is_some_and(|v| !v.is_empty()) {
        return Some("linux.resources.hugepageLimits");
    }
    if r.network()
        .as_ref()
        .is_some_and(|n| n.class_id().is_some() || n.priorities().as_ref().is_some_and(|p| !p.is_empty()))
    {
        return Some("linux.resources.network");
    }
    if r.rdma().as_ref().is_some_and(|m| !m.is_empty()) {
        return Some("linux.resources.rdma");
    }
    if r.unified().as_ref().is_some_and(|m| !m.is_empty()) {
        return Some("linux.resources.unified");
    }
    if let Some(cpu) = r.cpu() {
        if cpu.realtime_runtime().is_some_and(|v| v != 0) || cpu.realtime_period().is_some_and(|v| v != 0) {
            return Some("linux.resources.cpu.realtimeRuntime/realtimePeriod");
        }
    }
    if let Some(b) = r.block_io() {
        let devs = [
            b.weight_device().as_ref().map(Vec::len),
            b.throttle_read_bps_device().as_ref().map(Vec::len),
            b.throttle_write_bps_device().as_ref().map(Vec::len),
            b.throttle_read_iops_device().as_ref().map(Vec::len),
            b.throttle_write_iops_device().as_ref().map(Vec::len),
        ];
        if devs.iter().any(|n| n.is_some_and(|n| n > 0)) {
            return Some("linux.resources.blockIO device rules");
        }
    }
    None
}

impl Cgroup {
    /// Makes the container's cgroup as `spec` describes it, limits
    /// written. Nothing is left behind if it fails.
    pub fn create(spec: &Spec, id: &str, systemd: bool) -> anyhow::Result<Cgroup> {
        if systemd {
            bail!(
                "--systemd-cgroup: the systemd cgroup driver is not supported yet (cgroupfs is used without the flag)"
            );
        }
        let path = checked_path(spec, id)?;
        let resources = spec.linux().as_ref().and_then(|l| l.resources().clone()).unwrap_or_default();
        if let Some(what) = unsupported(&resources) {
            bail!("config.json: {what} is not supported yet");
        }
        let mut cg = Cgroup::default();
        let made = (|| {
            let all = hierarchies()?;
            // Beside v1 controllers ("hybrid"), the v2 hierarchy has none
            // of its own: processes are placed there but nothing limited.
            let hybrid = all.iter().any(|h| !h.v2);
            for h in all {
                // An absolute path is taken from what the mount shows (as
                // runc's cgroupfs driver takes it), a relative one from
                // runsc's own cgroup.
                let dir = if path.is_absolute() {
                    h.mount.join(path.strip_prefix("/").unwrap_or(&path))
                } else {
                    let own = own_cgroup(&h)?;
                    let Some(d) = h.dir_of(&own) else {
                        bail!("runsc's cgroup {} is outside what is mounted at {}", own.display(), h.mount.display());
                    };
                    d.join(&path)
                };
                cg.make_dir(&h, &dir)?;
                if !(h.v2 && hybrid) {
                    apply(&h, &dir, &resources).with_context(|| format!("cgroup {}", dir.display()))?;
                }
                cg.dirs.push(dir);
            }
            Ok(())
        })();
        if let Err(e) = made {
            cg.remove_made();
            return Err(e);
        }
        Ok(cg)
    }

    /// Makes `dir` and any missing parent in `h`, each set up to take
    /// processes.
    fn make_dir(&mut self, h: &Hierarchy, dir: &Path) -> anyhow::Result<()> {
        let mut missing = Vec::new();
        let mut d = dir;
        while !d.exists() {
            missing.push(d.to_path_buf());
            match d.parent() {
                Some(p) if p.starts_with(&h.mount) => d = p,
                _ => break,
            }
        }
        for m in missing.into_iter().rev() {
            let parent = m.parent().map(Path::to_path_buf).unwrap_or_default();
            if h.v2 {
                enable_controllers(&parent);
            }
            fs::create_dir(&m).with_context(|| format!("make cgroup {}", m.display()))?;
            self.made.push(m.clone());
            if h.has("cpuset") {
                // A new cpuset takes no process until given cpus and mems.
                for f in ["cpuset.cpus", "cpuset.mems"] {
                    let from = fs::read_to_string(parent.join(f)).unwrap_or_default();
                    write(&m, f, from.trim())?;
                }
            }
        }
        if h.v2 {
            if let Some(parent) = dir.parent() {
                enable_controllers(parent);
            }
        }
        Ok(())
    }

    /// Removes the directories made so far (creation failed).
    fn remove_made(&mut self) {
        for d in self.made.drain(..).rev() {
            let _ = fs::remove_dir(&d);
        }
    }

    /// Opens each directory's `cgroup.procs`, for boot and the gofers to
    /// join by [`join_inherited`].
    pub fn procs_files(&self) -> anyhow::Result<Vec<OwnedFd>> {
        self.dirs
            .iter()
            .map(|d| {
                let p = d.join("cgroup.procs");
                fs::OpenOptions::new()
                    .write(true)
                    .open(&p)
                    .map(OwnedFd::from)
                    .with_context(|| format!("open {}", p.display()))
            })
            .collect()
    }
}

/// Applies `r` to a container's cgroup directories `dirs` (`runsc
/// update`): what the driver cannot give is an error before anything is
/// written.
pub fn update(dirs: &[PathBuf], r: &LinuxResources) -> anyhow::Result<()> {
    if let Some(what) = unsupported(r) {
        bail!("{} cannot be updated: not supported yet", what.trim_start_matches("linux.resources."));
    }
    let all = hierarchies()?;
    let hybrid = all.iter().any(|h| !h.v2);
    for dir in dirs {
        // The hierarchy mounted where the directory is.
        let Some(h) = all.iter().filter(|h| dir.starts_with(&h.mount)).max_by_key(|h| h.mount.as_os_str().len()) else {
            bail!("cgroup {}: no hierarchy mounted there any more", dir.display());
        };
        if !(h.v2 && hybrid) {
            apply(h, dir, r).with_context(|| format!("cgroup {}", dir.display()))?;
        }
    }
    Ok(())
}

/// Moves this process into the cgroups whose `cgroup.procs` files it
/// inherited as `fds` (a write of "0" names the writer), and closes them.
/// Boot does this first thing, before it forks any stub; the gofers too.
pub fn join_inherited(fds: &[i32]) -> anyhow::Result<()> {
    for &fd in fds {
        let f = gofer::transport::adopt_inherited(fd).with_context(|| format!("--cgroup-fds {fd}"))?;
        std::fs::File::from(f).write_all(b"0").context("join the container's cgroup")?;
    }
    Ok(())
}

/// Removes the container's cgroup directories: any process still in them
/// is killed first (a stub or gofer that outlived the sandbox), then each
/// is removed, deepest first.
pub fn remove(dirs: &[PathBuf]) -> anyhow::Result<()> {
    for d in dirs {
        if !d.exists() {
            continue;
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let pids: Vec<i32> = fs::read_to_string(d.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().parse().ok())
                .collect();
            if pids.is_empty() {
                break;
            }
            for p in pids {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(p), nix::sys::signal::Signal::SIGKILL);
            }
            if Instant::now() > deadline {
                bail!("cgroup {}: its processes did not die", d.display());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        // An emptied cgroup may be busy for a moment while the kernel
        // finishes with its last task.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match fs::remove_dir(d) {
                Ok(()) => break,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => break,
                Err(e) if Instant::now() > deadline => {
                    return Err(e).with_context(|| format!("remove cgroup {}", d.display()))
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
    }
    Ok(())
}

/// Turns on in `dir`'s children every controller `dir` has (v2). A
/// controller that cannot be turned on (the cgroup has processes of its
/// own) is left: a limit that needs it then fails with its file missing.
fn enable_controllers(dir: &Path) {
    let have = fs::read_to_string(dir.join("cgroup.controllers")).unwrap_or_default();
    for c in have.split_whitespace() {
        if matches!(c, "cpu" | "cpuset" | "memory" | "pids" | "io") {
            let _ = fs::write(dir.join("cgroup.subtree_control"), format!("+{c}"));
        }
    }
}

/// Writes `value` to `dir/file`.
fn write(dir: &Path, file: &str, value: &str) -> anyhow::Result<()> {
    let p = dir.join(file);
    fs::write(&p, value).with_context(|| format!("write {value:?} to {}", p.display()))
}

/// The host cgroup's pids.max for a container limited to `limit` tasks.
/// The sandbox counts its tasks itself, as Linux's pids controller counts
/// a container's (fork and clone fail with EAGAIN at the limit); on the
/// host each application task is a sentry thread and a stub thread, beside
/// the sandbox's own threads and the gofers', so the host limit is a
/// backstop above that, never reached first.
pub fn host_pids_max(limit: i64) -> String {
    if limit > 0 {
        limit.saturating_mul(2).saturating_add(HOST_PIDS_SLACK).to_string()
    } else {
        "max".into()
    }
}

/// Host tasks of a sandbox beyond two per application task: the sentry's
/// control, timer, notifier and bridge threads, its stub processes'
/// leaders, and the gofers.
const HOST_PIDS_SLACK: i64 = 128;

/// A limit as cgroup files take it: -1 (or none) is unlimited.
fn limit_v1(v: i64) -> String {
    if v < 0 {
        "-1".into()
    } else {
        v.to_string()
    }
}

/// A limit as v2 files take it.
fn limit_v2(v: i64) -> String {
    if v < 0 {
        "max".into()
    } else {
        v.to_string()
    }
}

/// Writes the limits of `r` that belong to hierarchy `h` into `dir`.
fn apply(h: &Hierarchy, dir: &Path, r: &LinuxResources) -> anyhow::Result<()> {
    if h.v2 {
        return apply_v2(dir, r);
    }
    if let (true, Some(m)) = (h.has("memory"), r.memory()) {
        if let Some(l) = m.limit() {
            write(dir, "memory.limit_in_bytes", &limit_v1(l))?;
        }
        if let Some(s) = m.swap() {
            // memory+swap, as v1 counts it; the kernel may lack swap
            // accounting, and then there is nothing to hold.
            if dir.join("memory.memsw.limit_in_bytes").exists() {
                write(dir, "memory.memsw.limit_in_bytes", &limit_v1(s))?;
            }
        }
        if let Some(v) = m.reservation() {
            write(dir, "memory.soft_limit_in_bytes", &limit_v1(v))?;
        }
        if let Some(v) = m.swappiness().filter(|&v| v <= 100) {
            write(dir, "memory.swappiness", &v.to_string())?;
        }
        if m.disable_oom_killer() == Some(true) {
            write(dir, "memory.oom_control", "1")?;
        }
    }
    if let Some(c) = r.cpu() {
        if h.has("cpu") {
            if let Some(s) = c.shares().filter(|&s| s > 0) {
                write(dir, "cpu.shares", &s.to_string())?;
            }
            if let Some(p) = c.period().filter(|&p| p > 0) {
                write(dir, "cpu.cfs_period_us", &p.to_string())?;
            }
            if let Some(q) = c.quota().filter(|&q| q != 0) {
                write(dir, "cpu.cfs_quota_us", &limit_v1(q))?;
            }
        }
        if h.has("cpuset") {
            if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
                write(dir, "cpuset.cpus", cpus)?;
            }
            if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
                write(dir, "cpuset.mems", mems)?;
            }
        }
    }
    if let (true, Some(p)) = (h.has("pids"), r.pids()) {
        write(dir, "pids.max", &host_pids_max(p.limit()))?;
    }
    if let (true, Some(w)) = (h.has("blkio"), r.block_io().as_ref().and_then(|b| b.weight())) {
        if w > 0 {
            write(dir, "blkio.weight", &w.to_string())?;
        }
    }
    Ok(())
}

/// Writes the limits of `r` into v2 cgroup `dir`.
fn apply_v2(dir: &Path, r: &LinuxResources) -> anyhow::Result<()> {
    if let Some(m) = r.memory() {
        if let Some(l) = m.limit() {
            write(dir, "memory.max", &limit_v2(l))?;
            // The spec's swap is memory+swap; v2 limits swap alone.
            if let Some(s) = m.swap() {
                let swap = if s < 0 || l < 0 { "max".into() } else { (s - l).max(0).to_string() };
                if dir.join("memory.swap.max").exists() {
                    write(dir, "memory.swap.max", &swap)?;
                }
            }
        }
        if let Some(v) = m.reservation() {
            write(dir, "memory.low", &limit_v2(v))?;
        }
        if m.disable_oom_killer() == Some(true) {
            bail!("linux.resources.memory.disableOOMKiller: cgroup v2 has no such setting");
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|&s| s > 0) {
            // runc's mapping of shares [2, 262144] onto weight [1, 10000].
            let weight = 1 + (s.clamp(2, 262_144) - 2) * 9999 / 262_142;
            write(dir, "cpu.weight", &weight.to_string())?;
        }
        let quota = c.quota().filter(|&q| q != 0);
        let period = c.period().filter(|&p| p > 0);
        if quota.is_some() || period.is_some() {
            let q = quota.map_or_else(|| "max".to_string(), limit_v2);
            write(dir, "cpu.max", &format!("{q} {}", period.unwrap_or(100_000)))?;
        }
        if let Some(cpus) = c.cpus().as_deref().filter(|s| !s.is_empty()) {
            write(dir, "cpuset.cpus", cpus)?;
        }
        if let Some(mems) = c.mems().as_deref().filter(|s| !s.is_empty()) {
            write(dir, "cpuset.mems", mems)?;
        }
    }
    if let Some(p) = r.pids() {
        write(dir, "pids.max", &host_pids_max(p.limit()))?;
    }
    if let Some(w) = r.block_io().as_ref().and_then(|b| b.weight()).filter(|&w| w > 0) {
        // blkio weight [10, 1000] onto io weight [1, 10000].
        let weight = 1 + (u64::from(w).clamp(10, 1000) - 10) * 9999 / 990;
        write(dir, "io.weight", &format!("default {weight}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_mountinfo() {
        assert_eq!(unescape(r"/a\040b"), "/a b");
        assert_eq!(unescape(r"/plain"), "/plain");
        assert_eq!(unescape(r"/end\04"), r"/end\04");
    }

    #[test]
    fn limits_render() {
        assert_eq!(limit_v1(-1), "-1");
        assert_eq!(limit_v2(-1), "max");
        assert_eq!(limit_v2(4096), "4096");
    }
}
