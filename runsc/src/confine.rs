//! Confinement of `runsc boot` and `runsc gofer`: new namespaces, an empty
//! read-only root, no capabilities, and a seccomp filter.

use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::filters::{self, Allow};

/// Errors while confining; each names the step that failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfineError {
    /// A host call failed.
    #[error("{step}: {errno}")]
    Host {
        /// What we were doing.
        step: &'static str,
        /// The errno.
        errno: nix::errno::Errno,
    },
    /// Capabilities could not be dropped.
    #[error("drop capabilities: {0}")]
    Caps(#[from] caps::errors::CapsError),
    /// The seccomp filter failed.
    #[error(transparent)]
    Filter(#[from] filters::FilterError),
    /// Installing the filter failed.
    #[error("install seccomp filter: {0}")]
    Install(seccompiler::Error),
}

fn host(step: &'static str) -> impl FnOnce(nix::errno::Errno) -> ConfineError {
    move |errno| ConfineError::Host { step, errno }
}

/// Dies with the parent (`runsc do`): no sandbox process outlives the
/// command that started it. Fails if the parent is already gone.
pub fn die_with_parent() -> Result<(), ConfineError> {
    let parent = nix::unistd::getppid();
    nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGKILL).map_err(host("set parent-death signal"))?;
    if nix::unistd::getppid() != parent || parent.as_raw() == 1 {
        return Err(ConfineError::Host { step: "parent exited during start-up", errno: nix::errno::Errno::ESRCH });
    }
    Ok(())
}

/// Enters new mount, IPC, UTS and network namespaces (the sandbox's
/// network is the sentry's own; the host's is out of reach), or, with
/// `netns`, the network namespace that fd is (the spec's, by path, as a
/// CNI plugin made it, for networking to attach to). With `userns`, joins
/// that user namespace first (after the network namespace, which is the
/// host's to join), so that the new ones are its. Must run while
/// single-threaded.
pub fn enter_namespaces(
    mount_ns: bool,
    netns: Option<&std::os::fd::OwnedFd>,
    userns: Option<&std::os::fd::OwnedFd>,
) -> Result<(), ConfineError> {
    let mut flags = CloneFlags::CLONE_NEWIPC | CloneFlags::CLONE_NEWUTS;
    match netns {
        Some(fd) => nix::sched::setns(fd, CloneFlags::CLONE_NEWNET)
            .map_err(host("join the spec's network namespace (linux.namespaces: network path)"))?,
        None => flags |= CloneFlags::CLONE_NEWNET,
    }
    if let Some(fd) = userns {
        join_user_namespace(fd)?;
    }
    if mount_ns {
        flags |= CloneFlags::CLONE_NEWNS;
    }
    unshare(flags).map_err(host(
        "unshare namespaces (runsc needs root, or, rootless, a user namespace in config.json mapping the caller's ids)",
    ))
}

/// Joins user namespace `fd` as its root (uid and gid 0 inside, no
/// supplementary groups): on the host, the ids the container's root maps
/// to. A namespace that maps no root (rootless `runsc do`'s, of the
/// caller's own ids) is joined as the caller, with the namespace's
/// capabilities. The parent-death signal, which a change of credentials
/// clears, is kept. Must run while single-threaded.
pub fn join_user_namespace(fd: &std::os::fd::OwnedFd) -> Result<(), ConfineError> {
    use nix::unistd::{Gid, Uid};
    let deathsig = nix::sys::prctl::get_pdeathsig().map_err(host("read parent-death signal"))?;
    // Whether we are the host's root, asked before the namespace
    // translates our ids.
    let host_root = nix::unistd::geteuid().is_root();
    nix::sched::setns(fd, CloneFlags::CLONE_NEWUSER).map_err(host("join the user namespace"))?;
    // No supplementary groups. A rootless namespace denies setgroups
    // (EPERM): the caller's unprivileged groups stay, as under runc.
    match nix::unistd::setgroups(&[]) {
        Ok(()) => {}
        Err(nix::errno::Errno::EPERM) if !host_root => {}
        Err(e) => return Err(ConfineError::Host { step: "drop supplementary groups in the user namespace", errno: e }),
    }
    // Root where the namespace maps it (EINVAL where it does not). Only an
    // unprivileged caller's namespace of its own ids may leave root
    // unmapped (the caller's ids then stay); the host's root must not keep
    // its own ids in a namespace. No /proc here: the gofer has pivoted.
    let g = Gid::from_raw(0);
    match nix::unistd::setresgid(g, g, g) {
        Ok(()) => {}
        Err(nix::errno::Errno::EINVAL) if !host_root => {}
        Err(e) => return Err(ConfineError::Host { step: "become gid 0 of the user namespace", errno: e }),
    }
    let u = Uid::from_raw(0);
    match nix::unistd::setresuid(u, u, u) {
        Ok(()) => {}
        Err(nix::errno::Errno::EINVAL) if !host_root => {}
        Err(e) => return Err(ConfineError::Host { step: "become uid 0 of the user namespace", errno: e }),
    }
    if let Some(sig) = deathsig {
        nix::sys::prctl::set_pdeathsig(sig).map_err(host("set parent-death signal"))?;
    }
    Ok(())
}

/// Makes us dumpable again after a change of credentials made us not (the
/// sandbox traces its stubs, which share the flag, and a tracer needs
/// it).
pub fn set_dumpable() -> Result<(), ConfineError> {
    nix::sys::prctl::set_dumpable(true).map_err(host("set dumpable"))
}

/// Replaces the root with an empty read-only tmpfs (in our private mount
/// namespace; the host's mounts are untouched), so the process can reach no
/// host path.
pub fn pivot_to_empty_root() -> Result<(), ConfineError> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none).map_err(host("make mounts private"))?;
    // Any existing directory serves as the mount point: the mount is only
    // visible in our namespace.
    let at = Path::new("/tmp");
    mount(
        Some("runsc-root"),
        at,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=4k,mode=0555"),
    )
    .map_err(host("mount empty root"))?;
    nix::unistd::chdir(at).map_err(host("chdir to new root"))?;
    nix::unistd::pivot_root(".", ".").map_err(host("pivot_root"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(host("detach old root"))?;
    nix::unistd::chdir("/").map_err(host("chdir /"))?;
    mount(
        none,
        "/",
        none,
        MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        none,
    )
    .map_err(host("remount root read-only"))?;
    Ok(())
}

/// Makes `dir` the root (in our private mount namespace, the host's mounts
/// untouched): the gofer sees the tree it serves and nothing else.
/// `readonly` makes the served tree's own mount read-only too.
pub fn pivot_into(dir: &Path, readonly: bool) -> Result<(), ConfineError> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none).map_err(host("make mounts private"))?;
    if !dir.is_dir() {
        return pivot_beside_file(dir, readonly);
    }
    // pivot_root needs a mount point: the tree bound onto itself, with the
    // mounts under it; the host's "/" onto any directory of its own (a
    // mount stacked on "/" is out of reach of a process whose root is
    // under it).
    let at = if dir == Path::new("/") { Path::new("/tmp") } else { dir };
    mount(Some(dir), at, none, MsFlags::MS_BIND | MsFlags::MS_REC, none).map_err(host("bind the served tree"))?;
    if readonly {
        let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
        mount(none, at, none, flags, none).map_err(host("make the served tree read-only"))?;
    }
    nix::unistd::chdir(at).map_err(host("chdir to the served tree"))?;
    nix::unistd::pivot_root(".", ".").map_err(host("pivot_root into the served tree"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(host("detach old root"))?;
    nix::unistd::chdir("/").map_err(host("chdir /"))?;
    Ok(())
}

/// The root for serving one file (a bind mount of a file, as Docker's
/// /etc/hosts): an empty tmpfs holding only `file`, the host file bound
/// onto it. The mounts are private already.
fn pivot_beside_file(file: &Path, readonly: bool) -> Result<(), ConfineError> {
    let none: Option<&str> = None;
    // Held open first: the file may be under the directory the new root
    // covers.
    use std::os::fd::AsRawFd as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let held = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_PATH).open(file).map_err(|e| {
        ConfineError::Host {
            step: "open the served file",
            errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
        }
    })?;
    let source = format!("/proc/self/fd/{}", held.as_raw_fd());
    let at = Path::new("/tmp");
    mount(Some("runsc-file"), at, Some("tmpfs"), MsFlags::MS_NOSUID | MsFlags::MS_NODEV, Some("size=4k,mode=0755"))
        .map_err(host("mount a root for the served file"))?;
    let target = at.join("file");
    std::fs::File::create(&target).map_err(|e| ConfineError::Host {
        step: "make the served file's mount point",
        errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
    })?;
    mount(Some(source.as_str()), &target, none, MsFlags::MS_BIND, none).map_err(host("bind the served file"))?;
    drop(held);
    if readonly {
        let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY;
        mount(none, &target, none, flags, none).map_err(host("make the served file read-only"))?;
    }
    nix::unistd::chdir(at).map_err(host("chdir to the served file's root"))?;
    nix::unistd::pivot_root(".", ".").map_err(host("pivot_root beside the served file"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(host("detach old root"))?;
    nix::unistd::chdir("/").map_err(host("chdir /"))?;
    Ok(())
}

/// Drops every capability, from every set including the bounding set.
pub fn drop_capabilities() -> Result<(), ConfineError> {
    use caps::CapSet;
    caps::clear(None, CapSet::Ambient)?;
    caps::clear(None, CapSet::Bounding)?;
    caps::clear(None, CapSet::Inheritable)?;
    caps::clear(None, CapSet::Effective)?;
    caps::clear(None, CapSet::Permitted)?;
    Ok(())
}

/// Installs `table` on every thread of the process (sets no_new_privs).
pub fn install_filter(table: &[Allow], log_only: bool) -> Result<(), ConfineError> {
    let prog = filters::compile(table, log_only)?;
    seccompiler::apply_filter_all_threads(&prog).map_err(ConfineError::Install)
}

/// Installs a second filter that makes the syscalls of `table` fail with
/// their errno (the stricter of two filters' actions wins, so the first
/// filter must allow them).
pub fn install_errno_filter(table: &[(i64, u32)]) -> Result<(), ConfineError> {
    for prog in filters::compile_errno(table)? {
        seccompiler::apply_filter_all_threads(&prog).map_err(ConfineError::Install)?;
    }
    Ok(())
}
