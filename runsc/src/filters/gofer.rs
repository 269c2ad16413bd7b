//! The gofer's seccomp policy: serve requests, nothing else. Every open must
//! carry O_NOFOLLOW.

use super::Allow::{self, Any, MaskedEq};

/// The gofer's allowed host syscalls.
pub fn table() -> Vec<Allow> {
    let mut t = vec![
        // The protocol channel.
        Any(libc::SYS_recvmsg),
        Any(libc::SYS_sendmsg),
        // Walks and opens: relative to a directory fd, never following links.
        MaskedEq { nr: libc::SYS_openat, arg: 2, mask: libc::O_NOFOLLOW as u64, value: libc::O_NOFOLLOW as u64 },
        Any(libc::SYS_newfstatat),
        Any(libc::SYS_fstat),
        Any(libc::SYS_getdents64),
        Any(libc::SYS_readlinkat),
        Any(libc::SYS_fstatfs),
        Any(libc::SYS_fcntl),
        Any(libc::SYS_close),
        // Extended attributes, on fds opened for them.
        Any(libc::SYS_fgetxattr),
        Any(libc::SYS_flistxattr),
        // ...and by O_PATH fd where the gofer may not open the node to
        // read (getxattrat and listxattrat, not in the libc crate yet).
        Any(464),
        Any(465),
        // Writable volumes: changes by single names relative to directory
        // fds, or on a fid's own fd (AT_EMPTY_PATH).
        Any(libc::SYS_mkdirat),
        Any(libc::SYS_mknodat),
        Any(libc::SYS_symlinkat),
        Any(libc::SYS_linkat),
        Any(libc::SYS_unlinkat),
        Any(libc::SYS_renameat2),
        Any(libc::SYS_fchownat),
        Any(libc::SYS_fchmodat2),
        Any(libc::SYS_utimensat),
        Any(libc::SYS_ftruncate),
        Any(libc::SYS_umask),
        Any(libc::SYS_fsetxattr),
        Any(libc::SYS_fremovexattr),
        // The debug log.
        Any(libc::SYS_write),
    ];
    t.extend(super::runtime());
    t
}
