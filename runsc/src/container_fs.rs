//! A container's filesystem tree inside the sandbox, from its spec: its
//! root (the gofer's tree, under an overlay's upper layer in sandbox
//! memory), the sandbox's own /dev, /proc, /sys, /dev/pts, the pod's
//! /dev/shm, and the spec's bind, tmpfs, cgroup and mqueue mounts. The
//! sandbox's first container and each other container of a pod get one.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use anyhow::anyhow;
use oci_spec::runtime::Spec;
use sentry::abi::{dev_make, Errno};
use sentry::auth::Credentials;
use sentry::fs::dev::new_devfs;
use sentry::fs::gofer::GoferInode;
use sentry::fs::overlay::Overlay;
use sentry::fs::proc::new_procfs;
use sentry::fs::tmpfs::{Tmpfs, TmpfsOptions};
use sentry::kernel::Kernel;
use sentry::vfs::path::Walker;
use sentry::vfs::MountFlags;
use sentry::vfs::{Dentry, Location, Lookup, Mount};

/// Where a process of one container of the pod runs: the container's
/// root, and its tag (0: the sandbox's first container).
#[derive(Clone)]
pub struct Scope {
    /// The container's root.
    pub root: Location,
    /// Its tag, which its processes carry.
    pub container: u32,
    /// Its processes' oom_score_adj (the spec's `process.oomScoreAdj`,
    /// which runc gives init and every exec'd process).
    pub oom_score_adj: i32,
}

/// A container's filesystem tree: its root and mounts.
pub struct ContainerFs {
    /// The root.
    pub root: Location,
    /// Its mounts, the root's first, in mount order.
    pub mounts: Vec<Arc<Mount>>,
    /// Its /dev.
    pub dev: Arc<Mount>,
}

/// Builds a container's filesystem tree from its spec: the root from
/// gofer channel `gofer` (under an upper layer in sandbox memory with
/// `overlay`), the sandbox's own /dev, /proc, /sys, /dev/pts and the
/// pod's shared /dev/shm (`shm`), and the spec's bind mounts (from
/// `volumes`, the gofer channels of its bind mounts in their order;
/// `file_volumes` are those of single files) and tmpfs mounts.
#[allow(clippy::too_many_arguments)]
pub fn build_fs(
    kernel: &Arc<Kernel>,
    spec: &Spec,
    gofer: OwnedFd,
    volumes: Vec<OwnedFd>,
    file_volumes: &[usize],
    overlay: bool,
    store_room: Option<u64>,
    shm: &Arc<Dentry>,
    tag: u32,
) -> anyhow::Result<ContainerFs> {
    // Each container's filesystems have device numbers of their own.
    let dev = |minor: u32| dev_make(0, minor + 1000 * tag);
    let client = Arc::new(gofer::Client::new(gofer));
    let lower = GoferInode::root(client).map_err(|e| anyhow!("gofer root: {e}"))?;
    let readonly = spec.root().as_ref().and_then(|r| r.readonly()).unwrap_or(false);
    let root_mount = if overlay {
        // The overlay keeps the image unchanged and takes the writes;
        // a read-only root (`docker run --read-only`) is made so once
        // its mount points are in place.
        let mut opts = TmpfsOptions::default();
        if let Some(room) = store_room {
            opts.in_store = true;
            opts.size = room;
        }
        let upper = Tmpfs::new_root(kernel.mf.clone(), opts);
        let root = Overlay::new_root(lower, upper).map_err(|e| anyhow!("overlay root: {e}"))?;
        Mount::new_root(Dentry::new_root(root), dev(40), false, "overlay")
    } else {
        Mount::new_root(Dentry::new_root(lower), dev(40), readonly, "9p")
    };
    let root = Location { dentry: root_mount.root.clone(), mount: root_mount.clone() };
    let mut mounts = vec![root_mount.clone()];
    let creds = Credentials::new(0, 0, vec![]);
    for (path, minor, fs) in [("/dev", 41u32, "devtmpfs"), ("/proc", 42, "proc")] {
        // Made if the image lacks it (in the overlay's upper layer).
        let at = mount_point(&root, &creds, path.as_bytes()).map_err(|e| anyhow!("mount point {path}: {e}"))?;
        let inode: Arc<dyn sentry::vfs::Inode> =
            if fs == "proc" { new_procfs(Arc::downgrade(kernel)) } else { new_devfs(kernel.ttys.clone()) };
        mounts.push(Mount::mount_at(&at, Dentry::new_root(inode), dev(minor), false, fs));
    }
    // /sys: the sandbox's own, never the host's.
    let cpus: Vec<usize> =
        (0..kernel.cpu_mask.len() * 8).filter(|&i| kernel.cpu_mask[i / 8] & (1 << (i % 8)) != 0).collect();
    let sys_at = mount_point(&root, &creds, b"/sys").map_err(|e| anyhow!("mount point /sys: {e}"))?;
    mounts.push(Mount::mount_at(
        &sys_at,
        Dentry::new_root(sentry::fs::sysfs::new_sysfs(&cpus)),
        dev(44),
        true,
        "sysfs",
    ));
    // /dev/pts: the sandbox's pseudo-terminals.
    let pts_at = Walker::new(&root, &creds)
        .walk(&root, b"/dev/pts", Lookup::Follow)
        .map_err(|e| anyhow!("mount point /dev/pts: {e}"))?;
    let devpts = sentry::fs::tty::devpts::new_devpts(kernel.ttys.clone());
    mounts.push(Mount::mount_at(&pts_at, Dentry::new_root(devpts), dev(45), false, "devpts"));
    // /dev/shm: POSIX shared memory and semaphores.
    let shm_at = Walker::new(&root, &creds)
        .walk(&root, b"/dev/shm", Lookup::Follow)
        .map_err(|e| anyhow!("mount point /dev/shm: {e}"))?;
    // One filesystem in every container: one device number.
    mounts.push(Mount::mount_at(&shm_at, shm.clone(), dev_make(0, 43), false, "tmpfs"));
    let binds = crate::bundle::binds(spec);
    if binds.len() != volumes.len() {
        return Err(anyhow!("{} bind mounts in the spec but {} volume connections", binds.len(), volumes.len()));
    }
    // The spec's bind and tmpfs mounts, in its order (the sandbox's
    // own /dev, /proc, /sys, /dev/pts and /dev/shm stand for the rest).
    let mut volumes = volumes.into_iter().enumerate();
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let dest = m.destination();
        let minor = 50 + i as u32;
        let readonly = crate::bundle::is_readonly(m);
        let mut file = false;
        let inode: Arc<dyn sentry::vfs::Inode> = if crate::bundle::is_volume(m) {
            let (n, fd) = volumes.next().ok_or_else(|| anyhow!("too few volume connections"))?;
            let client = Arc::new(gofer::Client::new(fd));
            let root = GoferInode::volume_root(client, kernel.mf.clone())
                .map_err(|e| anyhow!("volume {}: {e}", dest.display()))?;
            file = file_volumes.contains(&n);
            if file {
                // The gofer serves the file alone, as `file` in an
                // empty directory.
                sentry::vfs::Inode::lookup(&*root, b"file").map_err(|e| anyhow!("volume {}: {e}", dest.display()))?
            } else {
                root
            }
        } else if m.typ().as_deref() == Some("tmpfs") && !matches!(dest.to_str(), Some("/dev" | "/dev/shm")) {
            let opts = crate::bundle::tmpfs_options(m).map_err(|e| anyhow!("mounts[{i}]: {e}"))?;
            Tmpfs::new_root(kernel.mf.clone(), opts)
        } else if is_cgroup(m) && kernel.cgroup_v1() {
            // The directory of the v1 hierarchies, mounted below.
            sentry::fs::cgroupfs::new_cgroup_v1_root()
        } else if is_cgroup(m) {
            // The sandbox's own cgroup view, never the host's.
            sentry::fs::cgroupfs::new_cgroupfs(Arc::downgrade(kernel), sentry::fs::sysfs::cpu_list(&cpus))
        } else if m.typ().as_deref() == Some("mqueue") {
            // The pod's IPC namespace's message queues.
            sentry::fs::mqueuefs::new_mqueuefs(kernel.ipc.clone())
        } else {
            continue;
        };
        let dest_bytes = dest.as_os_str().as_encoded_bytes();
        let at =
            if file { file_mount_point(&root, &creds, dest_bytes) } else { mount_point(&root, &creds, dest_bytes) }
                .map_err(|e| anyhow!("mount point {}: {e}", dest.display()))?;
        let fs = match m {
            _ if crate::bundle::is_volume(m) => "9p",
            _ if is_cgroup(m) && kernel.cgroup_v1() => "tmpfs",
            _ if is_cgroup(m) => "cgroup2",
            _ if m.typ().as_deref() == Some("mqueue") => "mqueue",
            _ => "tmpfs",
        };
        let mount = Mount::mount_at(&at, Dentry::new_root(inode), dev(minor), readonly, fs);
        mount.set_flags(crate::bundle::mount_flags(m, MountFlags::empty()));
        mounts.push(mount);
        if is_cgroup(m) && kernel.cgroup_v1() {
            // Each v1 hierarchy a cgroup mount of its own, its controllers
            // in its options (as mountinfo shows them to a JVM).
            for (n, (_, name)) in sentry::fs::cgroupfs::V1_HIERARCHIES.iter().enumerate() {
                let sub = [dest_bytes, b"/", name.as_bytes()].concat();
                let at = Walker::new(&root, &creds)
                    .walk(&root, &sub, Lookup::Follow)
                    .map_err(|e| anyhow!("mount point {}: {e}", String::from_utf8_lossy(&sub)))?;
                let inode = sentry::fs::cgroupfs::new_cgroupfs_v1(
                    Arc::downgrade(kernel),
                    name,
                    sentry::fs::sysfs::cpu_list(&cpus),
                );
                let h = Mount::mount_at(&at, Dentry::new_root(inode), dev(200 + n as u32), readonly, "cgroup");
                h.set_flags(crate::bundle::mount_flags(m, MountFlags::empty()));
                h.set_super_options(name);
                mounts.push(h);
            }
        }
    }
    // The spec's options for the mounts the sandbox makes its own
    // (Docker's nosuid,noexec,nodev /dev/shm; a read-only /proc).
    let own = [("/dev", 1), ("/proc", 2), ("/sys", 3), ("/dev/pts", 4), ("/dev/shm", 5)];
    for m in spec.mounts().iter().flatten() {
        let Some(&(_, n)) = own.iter().find(|(p, _)| m.destination() == std::path::Path::new(p)) else { continue };
        let Some(mount) = mounts.get(n) else { continue };
        mount.set_flags(crate::bundle::mount_flags(m, mount.flags()));
        if crate::bundle::is_readonly(m) {
            mount.set_readonly(true);
        }
    }
    if readonly && overlay {
        root_mount.set_readonly(true);
    }
    let dev_mount = mounts[1].clone();
    Ok(ContainerFs { root, mounts, dev: dev_mount })
}

/// Whether spec mount `m` is of a cgroup filesystem (v1's or v2's: the
/// sandbox's is v2).
fn is_cgroup(m: &oci_spec::runtime::Mount) -> bool {
    matches!(m.typ().as_deref(), Some("cgroup" | "cgroup2"))
}

/// `name` in `dir`, made as an empty node of `mode` if missing and `dir`
/// can take it.
fn walk_or_create(
    root: &Location,
    creds: &Credentials,
    dir: &Location,
    name: &[u8],
    mode: u32,
) -> Result<Location, Errno> {
    match Walker::new(root, creds).walk(dir, name, Lookup::Follow) {
        Err(Errno::ENOENT) => {
            sentry::vfs::ops::may_create(dir, creds)?;
            let node = sentry::vfs::ops::new_node(dir, creds, mode, 0, Vec::new())?;
            sentry::vfs::ops::create(dir, name, &node)
        }
        r => r,
    }
}

/// The directory at `path` for a mount, made (with its parents) if missing
/// and the root can take it.
fn mount_point(root: &Location, creds: &Credentials, path: &[u8]) -> Result<Location, Errno> {
    let mut cur = root.clone();
    for comp in path.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        cur = walk_or_create(root, creds, &cur, comp, libc::S_IFDIR | 0o755)?;
    }
    if cur.dentry.inode.file_type() != sentry::vfs::FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// The file at `path` for a bind mount of a file, made empty (with its
/// parent directories) if missing and the root can take it.
fn file_mount_point(root: &Location, creds: &Credentials, path: &[u8]) -> Result<Location, Errno> {
    let (dir, name) = match path.iter().rposition(|&b| b == b'/') {
        Some(i) => (&path[..i], &path[i + 1..]),
        None => (&b""[..], path),
    };
    if name.is_empty() {
        return Err(Errno::EINVAL);
    }
    let parent = mount_point(root, creds, dir)?;
    let at = walk_or_create(root, creds, &parent, name, libc::S_IFREG | 0o644)?;
    if at.dentry.inode.file_type() == sentry::vfs::FileType::Directory {
        return Err(Errno::EISDIR);
    }
    Ok(at)
}
