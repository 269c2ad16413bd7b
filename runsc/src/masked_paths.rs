//! The spec's maskedPaths and readonlyPaths, applied inside the sandbox
//! once its mounts are made, as runc applies them in the container: a
//! masked file has the sandbox's /dev/null over it, a masked directory an
//! empty read-only tmpfs; a read-only path is bound onto itself (with the
//! mounts below it) read-only. Paths the container does not have are
//! passed over (Docker's list names many /proc files the sandbox's /proc
//! does not have).

use std::sync::Arc;

use anyhow::anyhow;
use oci_spec::runtime::Spec;
use sentry::abi::{dev_make, Errno};
use sentry::auth::Credentials;
use sentry::fs::tmpfs::{Tmpfs, TmpfsOptions};
use sentry::kernel::Kernel;
use sentry::vfs::path::Walker;
use sentry::vfs::{Dentry, FileType, Location, Lookup, Mount};

/// The device minor of the masking tmpfs mounts.
const MASK_MINOR: u32 = 46;

/// Applies the spec's masked and read-only paths under `root`; `dev` is
/// the sandbox's /dev mount (its null device masks files).
pub fn apply(kernel: &Arc<Kernel>, spec: &Spec, root: &Location, dev: &Arc<Mount>) -> anyhow::Result<()> {
    let Some(linux) = spec.linux() else { return Ok(()) };
    let creds = Credentials::new(0, 0, vec![]);
    let find = |p: &str| -> anyhow::Result<Option<Location>> {
        match Walker::new(root, &creds).walk(root, p.as_bytes(), Lookup::Follow) {
            Ok(at) => Ok(Some(at)),
            Err(Errno::ENOENT | Errno::ENOTDIR) => Ok(None),
            Err(e) => Err(anyhow!("{p}: {e}")),
        }
    };
    let mut mounts = kernel.mounts.lock().unwrap_or_else(|e| e.into_inner());
    for p in linux.readonly_paths().iter().flatten() {
        let Some(at) = find(p).map_err(|e| anyhow!("linux.readonlyPaths: {e}"))? else { continue };
        let m = Mount::mount_at(&at, at.dentry.clone(), at.mount.dev, true, at.mount.fstype);
        m.set_flags(at.mount.flags());
        mounts.push(m.clone());
        syscalls::sys_mount::bind_children(&mut mounts, &at, &m);
    }
    let null = sentry::vfs::Inode::lookup(&*dev.root.inode, b"null").map_err(|e| anyhow!("/dev/null: {e}"))?;
    for p in linux.masked_paths().iter().flatten() {
        let Some(at) = find(p).map_err(|e| anyhow!("linux.maskedPaths: {e}"))? else { continue };
        let m = if at.dentry.inode.file_type() == FileType::Directory {
            let empty = Tmpfs::new_root(kernel.mf.clone(), TmpfsOptions::default());
            Mount::mount_at(&at, Dentry::new_root(empty), dev_make(0, MASK_MINOR), true, "tmpfs")
        } else {
            Mount::mount_at(&at, Dentry::new_root(null.clone()), dev.dev, false, dev.fstype)
        };
        mounts.push(m);
    }
    Ok(())
}
