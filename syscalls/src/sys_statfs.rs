//! statfs, fstatfs.

use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::Lookup;

/// statfs(2).
pub fn statfs(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let p = t.read_path(a.a[0], false)?;
    let loc = t.resolve(libc::AT_FDCWD, &p, Lookup::Follow)?;
    let s = loc.mount.statfs(&loc)?;
    t.copy_out(a.a[1], &s)?;
    Ok(0)
}

/// fstatfs(2).
pub fn fstatfs(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    let s = match &f.location {
        Some(loc) => loc.mount.statfs(loc)?,
        // Imported host fds (stdio): the host's pipefs, devpts, ...
        None => f.ops.statfs()?,
    };
    t.copy_out(a.a[1], &s)?;
    Ok(0)
}
