//! execve and execveat: reading the arguments (argv and envp arrays, with
//! Linux's limits) and the target; the kernel's `execve` does the rest.

use sentry::abi::Errno;
use sentry::kernel::exec::ExecTarget;
use sentry::kernel::{SyscallArgs, SyscallError, SyscallResult, Task};
use sentry::vfs::{FileType, Lookup};

/// MAX_ARG_STRLEN: the longest argument or environment string.
const MAX_ARG_STRLEN: usize = 32 * 4096;
/// MAX_ARG_STRINGS.
const MAX_ARG_STRINGS: usize = 0x7fff_ffff;

/// Reads a NULL-terminated array of string pointers (NULL array: empty).
fn read_strings(t: &Task, mut addr: u64, total: &mut usize, limit: usize) -> Result<Vec<Vec<u8>>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    loop {
        let p: u64 = t.copy_in(addr)?;
        if p == 0 {
            return Ok(out);
        }
        if out.len() >= MAX_ARG_STRINGS {
            return Err(Errno::E2BIG);
        }
        let s = match t.mm().read_cstring(p, MAX_ARG_STRLEN - 1) {
            Ok(s) => s,
            Err(Errno::ENAMETOOLONG) => return Err(Errno::E2BIG),
            Err(e) => return Err(e),
        };
        *total += s.len() + 1 + 8;
        if *total > limit {
            return Err(Errno::E2BIG);
        }
        out.push(s);
        addr += 8;
    }
}

fn do_exec(t: &mut Task, dirfd: i32, path_addr: u64, argv: u64, envp: u64, flags: i32) -> SyscallResult {
    // Linux reads the path (ENOENT for "" without AT_EMPTY_PATH) before it
    // looks at the flags.
    let path = t.read_path(path_addr, flags & libc::AT_EMPTY_PATH != 0)?;
    if flags & !(libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) != 0 {
        return Err(Errno::EINVAL.into());
    }
    // Linux's limit: a quarter of the stack limit, at least 128 KiB.
    let limit = (t.rlimit(libc::RLIMIT_STACK) / 4).clamp(128 << 10, 6 << 20) as usize;
    let mut total = 0usize;
    let mut args = read_strings(t, argv, &mut total, limit)?;
    let env = read_strings(t, envp, &mut total, limit)?;
    if args.is_empty() {
        // As Linux since 5.18: an empty argv gets an empty argv[0].
        args.push(Vec::new());
    }
    let nofollow = flags & libc::AT_SYMLINK_NOFOLLOW != 0;
    let target = if path.is_empty() {
        let f = t.file(dirfd)?;
        let loc = f.location.clone().ok_or(Errno::EACCES)?;
        ExecTarget::File { loc, name: format!("/dev/fd/{dirfd}").into_bytes() }
    } else if path[0] == b'/' || dirfd == libc::AT_FDCWD {
        if nofollow {
            let loc = t.resolve(dirfd, &path, Lookup::NoFollow)?;
            if loc.dentry.inode.file_type() == FileType::Symlink {
                return Err(Errno::ELOOP.into());
            }
        }
        ExecTarget::Path { start: t.start_dir(dirfd, &path)?, path: &path }
    } else {
        // Relative to a directory fd: the program's name (AT_EXECFN, and
        // the script for `#!`) is /dev/fd/N/path, as Linux names it.
        let loc = t.resolve(dirfd, &path, if nofollow { Lookup::NoFollow } else { Lookup::Follow })?;
        if loc.dentry.inode.file_type() == FileType::Symlink {
            return Err(Errno::ELOOP.into());
        }
        let mut name = format!("/dev/fd/{dirfd}/").into_bytes();
        name.extend_from_slice(&path);
        ExecTarget::File { loc, name }
    };
    t.execve(target, args, env)?;
    Err(SyscallError::NoReturn)
}

/// execve(2).
pub fn execve(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_exec(t, libc::AT_FDCWD, a.a[0], a.a[1], a.a[2], 0)
}

/// execveat(2).
pub fn execveat(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_exec(t, a.a[0] as i32, a.a[1], a.a[2], a.a[3], a.a[4] as i32)
}
