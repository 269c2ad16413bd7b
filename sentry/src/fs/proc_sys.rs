//! /proc/sys and /proc/filesystems: the sandbox's own kernel parameters,
//! read-only, each the value the sentry itself enforces (pipe sizes, IPC
//! limits, listen backlogs, capabilities) or a container's spec set
//! (`Kernel::sysctl`), never the host's.

use std::sync::{Arc, OnceLock, Weak};

use crate::fs::synthetic::{ChildList, SynthDir, SynthFile};
use crate::kernel::Kernel;
use crate::vfs::Inode;

fn file(text: impl Into<String>) -> Arc<dyn Inode> {
    let text = text.into().into_bytes();
    SynthFile::new(0o444, move || Ok(text.clone()))
}

fn dir(children: Vec<(&str, Arc<dyn Inode>)>) -> Arc<dyn Inode> {
    let list: ChildList = children.into_iter().map(|(n, i)| (n.as_bytes().to_vec(), i)).collect();
    SynthDir::new(0o555, false, move || list.clone())
}

/// A random version-4 UUID, as /proc/sys/kernel/random/uuid gives.
fn uuid() -> String {
    let mut b = [0u8; 16];
    let _ = crate::fs::dev::fill_random(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: Vec<String> = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}\n",
        h[0..4].concat(),
        h[4..6].concat(),
        h[6..8].concat(),
        h[8..10].concat(),
        h[10..].concat()
    )
}

/// The sandbox's boot id, fixed for its life.
fn boot_id() -> String {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(uuid).clone()
}

/// The sysctls a container may set that the sandbox keeps and shows, with
/// Linux's defaults: the groups that may make ICMP echo sockets, and the
/// first port that needs no privilege to bind (Docker sets both).
pub const KEPT: &[(&str, &str)] =
    &[("net.ipv4.ping_group_range", "1\t0"), ("net.ipv4.ip_unprivileged_port_start", "1024")];

/// /proc/sys.
pub fn new_sys(kernel: Weak<Kernel>) -> Arc<dyn Inode> {
    let kernel_weak = kernel.clone();
    let k = kernel.clone();
    let hostname: Arc<dyn Inode> = SynthFile::new(0o644, move || {
        let k = k.upgrade().ok_or(crate::abi::Errno::ESRCH)?;
        Ok(format!("{}\n", k.uts.hostname).into_bytes())
    });
    let k = kernel;
    let domainname: Arc<dyn Inode> = SynthFile::new(0o644, move || {
        let k = k.upgrade().ok_or(crate::abi::Errno::ESRCH)?;
        Ok(format!("{}\n", k.uts.domainname).into_bytes())
    });
    let uuid_file: Arc<dyn Inode> = SynthFile::new(0o444, || Ok(uuid().into_bytes()));
    let boot: Arc<dyn Inode> = SynthFile::new(0o444, || Ok(boot_id().into_bytes()));
    let shmmax = crate::ipc::shm::SHMMAX;
    let kernel_dir = dir(vec![
        ("hostname", hostname),
        ("domainname", domainname),
        ("osrelease", file(format!("{}\n", crate::kernel::uts::RELEASE))),
        ("ostype", file("Linux\n")),
        ("version", file(format!("{}\n", crate::kernel::uts::VERSION))),
        ("pid_max", file(format!("{}\n", crate::kernel::task_set::PID_MAX))),
        ("threads-max", file("126465\n")),
        ("ngroups_max", file("65536\n")),
        ("cap_last_cap", file(format!("{}\n", crate::auth::CAP_LAST_CAP))),
        ("overflowuid", file("65534\n")),
        ("overflowgid", file("65534\n")),
        ("shmmax", file(format!("{shmmax}\n"))),
        ("shmall", file(format!("{}\n", shmmax / 4096))),
        ("shmmni", file(format!("{}\n", crate::ipc::shm::SHMMNI))),
        ("msgmax", file(format!("{}\n", crate::ipc::msg::MSGMAX))),
        ("msgmnb", file(format!("{}\n", crate::ipc::msg::MSGMNB))),
        ("msgmni", file(format!("{}\n", crate::ipc::msg::MSGMNI))),
        (
            "sem",
            file(format!(
                "{}\t{}\t{}\t{}\n",
                crate::ipc::sem::SEMMSL,
                crate::ipc::sem::SEMMNS,
                crate::ipc::sem::SEMOPM,
                crate::ipc::sem::SEMMNI
            )),
        ),
        (
            "random",
            dir(vec![
                ("boot_id", boot),
                ("uuid", uuid_file),
                ("entropy_avail", file("256\n")),
                ("poolsize", file("256\n")),
            ]),
        ),
        ("yama", dir(vec![("ptrace_scope", file("1\n"))])),
    ]);
    let vm = dir(vec![
        ("overcommit_memory", file("0\n")),
        ("overcommit_ratio", file("50\n")),
        ("max_map_count", file("65530\n")),
        ("mmap_min_addr", file("65536\n")),
    ]);
    let fs = dir(vec![
        ("file-max", file("9223372036854775807\n")),
        ("nr_open", file("1048576\n")),
        ("pipe-max-size", file(format!("{}\n", crate::fs::pipe::MAX_SIZE))),
        (
            "inotify",
            dir(vec![
                ("max_user_watches", file("8192\n")),
                ("max_user_instances", file("128\n")),
                ("max_queued_events", file("16384\n")),
            ]),
        ),
        (
            "mqueue",
            dir(vec![
                ("msg_max", file(format!("{}\n", crate::ipc::mqueue::MSG_MAX))),
                ("msgsize_max", file(format!("{}\n", crate::ipc::mqueue::MSGSIZE_MAX))),
                ("queues_max", file("256\n")),
            ]),
        ),
    ]);
    // Network parameters a container's spec may set: kept and shown (the
    // sandbox has no inet sockets yet, so none acts on them), else
    // Linux's defaults.
    let ipv4: Vec<(&str, Arc<dyn Inode>)> = KEPT
        .iter()
        .filter_map(|&(name, default)| {
            let leaf = name.strip_prefix("net.ipv4.")?;
            let k = kernel_weak.clone();
            let f: Arc<dyn Inode> = SynthFile::new(0o444, move || {
                let k = k.upgrade().ok_or(crate::abi::Errno::ESRCH)?;
                let v = k.sysctl.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned();
                Ok(format!("{}\n", v.unwrap_or_else(|| default.into())).into_bytes())
            });
            Some((leaf, f))
        })
        .collect();
    let net = dir(vec![("core", dir(vec![("somaxconn", file("4096\n"))])), ("ipv4", dir(ipv4))]);
    dir(vec![("kernel", kernel_dir), ("vm", vm), ("fs", fs), ("net", net)])
}

/// /proc/filesystems: what the sandbox can mount or shows.
pub fn filesystems() -> Arc<dyn Inode> {
    file("nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\nnodev\tdevtmpfs\nnodev\toverlay\nnodev\t9p\nnodev\tpipefs\nnodev\tsockfs\nnodev\tmqueue\n")
}
