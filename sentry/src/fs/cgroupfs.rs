//! The sandbox's cgroup filesystem: a read-only cgroup v2 hierarchy whose
//! root is the container's cgroup, as a cgroup namespace shows it (what a
//! container's /sys/fs/cgroup is under runc on a cgroup v2 host), or, as
//! on a v1 host, one v1 hierarchy per controller group (`V1_HIERARCHIES`,
//! each mounted under /sys/fs/cgroup). Its
//! files give the limits the sandbox holds its processes to (memory.max,
//! pids.max; cpu.max, cpu.weight and memory.swap.max as the spec set
//! them; the CPUs the sandbox may use) and what they use, which programs
//! read to size themselves (a JVM's heap, a Go runtime's GOMAXPROCS).
//! Never the host's.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};

use crate::abi::Errno;
use crate::fs::synthetic::{ChildList, SynthDir, SynthFile};
use crate::kernel::Kernel;
use crate::vfs::Inode;

/// Period of cpu.max when the spec gives none, µs (Linux's default).
pub const DEFAULT_CPU_PERIOD: u64 = 100_000;

/// The limits the spec gave that the sandbox shows but does not hold its
/// processes to itself (the host cgroup does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownLimits {
    /// cpu.max's quota, µs per period (None: max).
    pub cpu_quota: Option<u64>,
    /// cpu.max's period, µs.
    pub cpu_period: u64,
    /// cpu.weight (1..=10000).
    pub cpu_weight: u64,
    /// memory.swap.max, bytes (None: max).
    pub swap_max: Option<u64>,
    /// cgroup v1's cpu.shares.
    pub cpu_shares: u64,
}

impl Default for ShownLimits {
    fn default() -> Self {
        ShownLimits {
            cpu_quota: None,
            cpu_period: DEFAULT_CPU_PERIOD,
            cpu_weight: 100,
            swap_max: None,
            cpu_shares: 1024,
        }
    }
}

impl ShownLimits {
    /// cpu.weight for cgroup v1's cpu.shares, as runc converts it.
    pub fn weight_of_shares(shares: u64) -> u64 {
        if shares == 0 {
            return 100;
        }
        let shares = shares.clamp(2, 262_144);
        1 + ((shares - 2) * 9999) / 262_142
    }
}

fn kernel(k: &Weak<Kernel>) -> Result<Arc<Kernel>, Errno> {
    k.upgrade().ok_or(Errno::ENOENT)
}

fn max_or(v: Option<u64>) -> String {
    v.map_or_else(|| "max\n".to_string(), |n| format!("{n}\n"))
}

type Gen = fn(&Kernel) -> String;

fn file(k: &Weak<Kernel>, f: Gen) -> Arc<dyn Inode> {
    let k = k.clone();
    SynthFile::new(0o444, move || Ok(f(&*kernel(&k)?).into_bytes()))
}

fn fixed(text: &'static str) -> Arc<dyn Inode> {
    SynthFile::new(0o444, move || Ok(text.as_bytes().to_vec()))
}

fn memory_max(k: &Kernel) -> Option<u64> {
    Some(k.mf.memory_limit()).filter(|&l| l > 0)
}

fn cpu_max(k: &Kernel) -> String {
    let l = k.shown_limits();
    match l.cpu_quota {
        Some(q) => format!("{q} {}\n", l.cpu_period),
        None => format!("max {}\n", l.cpu_period),
    }
}

fn cpu_stat(k: &Kernel) -> String {
    let u = k.cpu_usage();
    let (user, sys) = (u.user / 1000, u.sys / 1000);
    format!(
        "usage_usec {}\nuser_usec {user}\nsystem_usec {sys}\nnr_periods 0\nnr_throttled 0\nthrottled_usec 0\n",
        user + sys
    )
}

fn memory_stat(k: &Kernel) -> String {
    let anon = k.mf.used();
    let mut s = String::new();
    for (name, v) in [
        ("anon", anon),
        ("file", 0),
        ("kernel", 0),
        ("kernel_stack", 0),
        ("sock", 0),
        ("shmem", 0),
        ("file_mapped", 0),
        ("file_dirty", 0),
        ("file_writeback", 0),
        ("inactive_anon", 0),
        ("active_anon", anon),
        ("inactive_file", 0),
        ("active_file", 0),
        ("unevictable", 0),
    ] {
        let _ = writeln!(s, "{name} {v}");
    }
    s
}

fn procs(k: &Kernel) -> String {
    k.pids().into_iter().filter(|&p| k.process_summary(p).is_some()).fold(String::new(), |mut s, p| {
        let _ = writeln!(s, "{p}");
        s
    })
}

fn threads(k: &Kernel) -> String {
    let tids: Vec<i32> = k.tasks.read().tasks.keys().copied().collect();
    tids.into_iter().fold(String::new(), |mut s, t| {
        let _ = writeln!(s, "{t}");
        s
    })
}

fn pids_max(k: &Kernel) -> String {
    let l = k.task_limit();
    max_or((l != crate::kernel::DEFAULT_MAX_TASKS).then_some(l as u64))
}

/// The cgroup filesystem of a sandbox whose CPUs are `cpus_text` (a CPU
/// list, as sysfs prints it).
pub fn new_cgroupfs(k: Weak<Kernel>, cpus_text: String) -> Arc<dyn Inode> {
    let cpus = cpus_text.into_bytes();
    let children: ChildList = vec![
        (b"cgroup.controllers".to_vec(), fixed("cpuset cpu memory pids\n")),
        (b"cgroup.subtree_control".to_vec(), fixed("\n")),
        (b"cgroup.type".to_vec(), fixed("domain\n")),
        (b"cgroup.max.depth".to_vec(), fixed("max\n")),
        (b"cgroup.max.descendants".to_vec(), fixed("max\n")),
        (b"cgroup.procs".to_vec(), file(&k, procs)),
        (b"cgroup.threads".to_vec(), file(&k, threads)),
        (b"cgroup.freeze".to_vec(), file(&k, |k| format!("{}\n", u8::from(k.frozen())))),
        (b"cgroup.events".to_vec(), file(&k, |k| format!("populated 1\nfrozen {}\n", u8::from(k.frozen())))),
        (b"cpu.max".to_vec(), file(&k, cpu_max)),
        (b"cpu.weight".to_vec(), file(&k, |k| format!("{}\n", k.shown_limits().cpu_weight))),
        (b"cpu.stat".to_vec(), file(&k, cpu_stat)),
        (b"cpuset.cpus".to_vec(), fixed("\n")),
        (b"cpuset.cpus.effective".to_vec(), SynthFile::new(0o444, move || Ok(cpus.clone()))),
        (b"cpuset.mems".to_vec(), fixed("\n")),
        (b"cpuset.mems.effective".to_vec(), fixed("0\n")),
        (b"memory.max".to_vec(), file(&k, |k| max_or(memory_max(k)))),
        (b"memory.high".to_vec(), fixed("max\n")),
        (b"memory.low".to_vec(), fixed("0\n")),
        (b"memory.min".to_vec(), fixed("0\n")),
        (b"memory.current".to_vec(), file(&k, |k| format!("{}\n", k.mf.used()))),
        (b"memory.stat".to_vec(), file(&k, memory_stat)),
        (b"memory.events".to_vec(), fixed("low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n")),
        (b"memory.swap.max".to_vec(), file(&k, |k| max_or(k.shown_limits().swap_max))),
        (b"memory.swap.current".to_vec(), fixed("0\n")),
        (b"pids.max".to_vec(), file(&k, pids_max)),
        (b"pids.current".to_vec(), file(&k, |k| format!("{}\n", k.tasks.task_count()))),
    ];
    SynthDir::new(0o555, false, move || children.clone())
}

/// The v1 hierarchies: id (as /proc/cgroups and /proc/self/cgroup number
/// them), directory name under /sys/fs/cgroup and controllers.
pub const V1_HIERARCHIES: [(u32, &str); 4] = [(1, "cpu,cpuacct"), (2, "cpuset"), (3, "memory"), (4, "pids")];

/// v1's "no limit" (PAGE_COUNTER_MAX pages, in bytes).
const V1_UNLIMITED: u64 = 9_223_372_036_854_771_712;

/// `/proc/[pid]/cgroup`: the container's cgroup, the root of each
/// hierarchy (with v1's, the unified one's line too, as on a hybrid
/// host).
pub fn proc_cgroup(v1: bool) -> String {
    if !v1 {
        return "0::/\n".into();
    }
    // The unified hierarchy's line too, as on a hybrid host.
    let v1 = V1_HIERARCHIES.iter().rev().fold(String::new(), |mut s, (id, name)| {
        let _ = writeln!(s, "{id}:{name}:/");
        s
    });
    v1 + "0::/\n"
}

/// /proc/cgroups: the controllers and their hierarchies (0 for v2's).
pub fn proc_cgroups(v1: bool) -> String {
    let mut s = String::from("#subsys_name\thierarchy\tnum_cgroups\tenabled\n");
    for (name, id) in [("cpuset", 2), ("cpu", 1), ("cpuacct", 1), ("memory", 3), ("pids", 4)] {
        let _ = writeln!(s, "{name}\t{}\t1\t1", if v1 { id } else { 0 });
    }
    s
}

fn usage_ns(k: &Kernel) -> (u64, u64) {
    let u = k.cpu_usage();
    (u.user, u.sys)
}

/// The v1 hierarchy named `name` (one of [`V1_HIERARCHIES`]) of a sandbox
/// whose CPUs are `cpus_text`.
pub fn new_cgroupfs_v1(k: Weak<Kernel>, name: &str, cpus_text: String) -> Arc<dyn Inode> {
    let mut children: ChildList = vec![
        (b"cgroup.procs".to_vec(), file(&k, procs)),
        (b"tasks".to_vec(), file(&k, threads)),
        (b"notify_on_release".to_vec(), fixed("0\n")),
    ];
    match name {
        "cpu,cpuacct" => children.extend([
            (
                b"cpu.cfs_quota_us".to_vec(),
                file(&k, |k| match k.shown_limits().cpu_quota {
                    Some(q) => format!("{q}\n"),
                    None => "-1\n".into(),
                }),
            ),
            (b"cpu.cfs_period_us".to_vec(), file(&k, |k| format!("{}\n", k.shown_limits().cpu_period))),
            (b"cpu.shares".to_vec(), file(&k, |k| format!("{}\n", k.shown_limits().cpu_shares))),
            (b"cpu.stat".to_vec(), fixed("nr_periods 0\nnr_throttled 0\nthrottled_time 0\n")),
            (b"cpuacct.usage".to_vec(), file(&k, |k| format!("{}\n", usage_ns(k).0 + usage_ns(k).1))),
            (b"cpuacct.usage_user".to_vec(), file(&k, |k| format!("{}\n", usage_ns(k).0))),
            (b"cpuacct.usage_sys".to_vec(), file(&k, |k| format!("{}\n", usage_ns(k).1))),
            (
                b"cpuacct.stat".to_vec(),
                file(&k, |k| {
                    // In USER_HZ (100) ticks.
                    let (user, sys) = usage_ns(k);
                    format!("user {}\nsystem {}\n", user / 10_000_000, sys / 10_000_000)
                }),
            ),
        ]),
        "cpuset" => {
            let cpus = cpus_text.into_bytes();
            let effective = cpus.clone();
            children.extend([
                (b"cpuset.cpus".to_vec(), SynthFile::new(0o444, move || Ok(cpus.clone())) as Arc<dyn Inode>),
                (b"cpuset.effective_cpus".to_vec(), SynthFile::new(0o444, move || Ok(effective.clone()))),
                (b"cpuset.mems".to_vec(), fixed("0\n")),
                (b"cpuset.effective_mems".to_vec(), fixed("0\n")),
            ])
        }
        "memory" => children.extend([
            (b"memory.limit_in_bytes".to_vec(), file(&k, |k| format!("{}\n", memory_max(k).unwrap_or(V1_UNLIMITED)))),
            (b"memory.soft_limit_in_bytes".to_vec(), fixed("9223372036854771712\n")),
            (b"memory.usage_in_bytes".to_vec(), file(&k, |k| format!("{}\n", k.mf.used()))),
            (b"memory.max_usage_in_bytes".to_vec(), file(&k, |k| format!("{}\n", k.mf.used()))),
            (
                b"memory.memsw.limit_in_bytes".to_vec(),
                file(&k, |k| {
                    let both = memory_max(k).zip(k.shown_limits().swap_max).map(|(m, s)| m + s);
                    format!("{}\n", both.or(memory_max(k)).unwrap_or(V1_UNLIMITED))
                }),
            ),
            (b"memory.memsw.usage_in_bytes".to_vec(), file(&k, |k| format!("{}\n", k.mf.used()))),
            (b"memory.failcnt".to_vec(), fixed("0\n")),
            (b"memory.swappiness".to_vec(), fixed("60\n")),
            (b"memory.use_hierarchy".to_vec(), fixed("1\n")),
            (b"memory.oom_control".to_vec(), fixed("oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")),
            (
                b"memory.stat".to_vec(),
                file(&k, |k| {
                    let (rss, limit) = (k.mf.used(), memory_max(k).unwrap_or(V1_UNLIMITED));
                    format!(
                        "cache 0\nrss {rss}\nrss_huge 0\nshmem 0\nmapped_file 0\ndirty 0\nwriteback 0\nswap 0\n\
                         inactive_anon 0\nactive_anon {rss}\ninactive_file 0\nactive_file 0\nunevictable 0\n\
                         hierarchical_memory_limit {limit}\ntotal_cache 0\ntotal_rss {rss}\n"
                    )
                }),
            ),
        ]),
        _ => children.extend([
            (b"pids.max".to_vec(), file(&k, pids_max)),
            (b"pids.current".to_vec(), file(&k, |k| format!("{}\n", k.tasks.task_count()))),
        ]),
    }
    SynthDir::new(0o555, false, move || children.clone())
}

/// The directory the v1 hierarchies are mounted in (/sys/fs/cgroup): a
/// directory for each, and the `cpu` and `cpuacct` links to their shared
/// one.
pub fn new_cgroup_v1_root() -> Arc<dyn Inode> {
    let mut children: ChildList = V1_HIERARCHIES
        .iter()
        .map(|(_, name)| (name.as_bytes().to_vec(), SynthDir::new(0o555, false, Vec::new) as Arc<dyn Inode>))
        .collect();
    for link in ["cpu", "cpuacct"] {
        children.push((link.as_bytes().to_vec(), crate::fs::synthetic::SynthLink::new(|| Ok(b"cpu,cpuacct".to_vec()))));
    }
    SynthDir::new(0o755, false, move || children.clone())
}

#[cfg(test)]
mod tests {
    use super::ShownLimits;

    #[test]
    fn shares_become_weights_as_runc_converts_them() {
        assert_eq!(ShownLimits::weight_of_shares(1024), 39);
        assert_eq!(ShownLimits::weight_of_shares(2), 1);
        assert_eq!(ShownLimits::weight_of_shares(262_144), 10000);
        assert_eq!(ShownLimits::weight_of_shares(0), 100);
    }
}
