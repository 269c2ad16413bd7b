//! Running as an unprivileged user (`--rootless`, runc's flag): the
//! container needs a user namespace that maps the caller's own uid and
//! gid (`runsc spec --rootless` writes one), which boot and the gofers
//! join as its root; cgroups are used only where the caller may write
//! them; state goes under `$XDG_RUNTIME_DIR` unless `--root` says.

use std::path::PathBuf;

use crate::cli::{GlobalFlags, Rootless};

/// Whether we run rootless: asked for, or (`auto`) not the host's root.
pub fn active(g: &GlobalFlags) -> bool {
    match g.rootless {
        Rootless::True => true,
        Rootless::False => false,
        Rootless::Auto => !nix::unistd::geteuid().is_root(),
    }
}

/// Where an unprivileged caller's state goes without `--root`, as runc
/// keeps it: `$XDG_RUNTIME_DIR/runsc` (none for the host's root, or
/// without the variable).
pub fn default_root() -> Option<PathBuf> {
    if nix::unistd::geteuid().is_root() {
        return None;
    }
    let dir = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty())?;
    Some(PathBuf::from(dir).join("runsc"))
}

/// Whether `e` (from making the container's cgroup) is a permission error,
/// which a rootless container goes on without.
pub fn denied(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(io.kind(), std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem)
        }) || c.downcast_ref::<nix::errno::Errno>().is_some_and(|n| {
            matches!(n, nix::errno::Errno::EACCES | nix::errno::Errno::EPERM | nix::errno::Errno::EROFS)
        })
    })
}
