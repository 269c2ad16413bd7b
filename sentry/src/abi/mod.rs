//! The Linux x86_64 ABI as the application sees it: errno values, raw structs
//! copied to and from application memory, and flag constants.
//!
//! Handlers never hand-roll byte offsets: every struct that crosses the
//! application boundary is declared here, `#[repr(C)]`, implements [`Pod`], and
//! has its size asserted against the kernel's.

pub mod cap;
mod errno;
pub mod ipc;
mod pod;
pub mod poll;
pub mod signal;
pub mod socket;
mod structs;

pub use errno::Errno;
pub use pod::Pod;
pub use signal::{SigContext, SigInfo, UContext};
pub use structs::*;

/// O_LARGEFILE as the x86_64 kernel defines it (glibc's is 0 on 64-bit).
pub const O_LARGEFILE: u32 = 0o100000;
/// The open(2) flags the kernel keeps (VALID_OPEN_FLAGS); others are dropped.
pub const VALID_OPEN_FLAGS: u32 = (libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_SYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_PATH
    | libc::O_TMPFILE) as u32
    | O_LARGEFILE;

/// preadv2/pwritev2 flags (include/uapi/linux/fs.h): RWF_HIPRI.
pub const RWF_HIPRI: u64 = 0x1;
/// RWF_DSYNC.
pub const RWF_DSYNC: u64 = 0x2;
/// RWF_SYNC.
pub const RWF_SYNC: u64 = 0x4;
/// RWF_NOWAIT.
pub const RWF_NOWAIT: u64 = 0x8;
/// RWF_APPEND.
pub const RWF_APPEND: u64 = 0x10;
/// RWF_NOAPPEND (Linux 6.9): the write ignores O_APPEND.
pub const RWF_NOAPPEND: u64 = 0x20;

/// A device number as the kernel keeps it inside (`MKDEV`: major << 20 |
/// minor, as /proc shows `sdev`), from the userspace encoding `stat` gives.
pub const fn kernel_dev(dev: u64) -> u64 {
    let major = ((dev & 0x0000_0000_000f_ff00) >> 8) | ((dev & 0xffff_f000_0000_0000) >> 32);
    let minor = (dev & 0xff) | ((dev & 0x0000_0fff_fff0_0000) >> 12);
    (major << 20 | minor) & 0xffff_ffff
}

/// The page size of the x86_64 ABI.
pub const PAGE_SIZE: u64 = 4096;

/// Rounds `x` down to a page boundary.
pub const fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

/// Rounds `x` up to a page boundary, or `None` on overflow.
pub const fn page_up(x: u64) -> Option<u64> {
    match x.checked_add(PAGE_SIZE - 1) {
        Some(v) => Some(v & !(PAGE_SIZE - 1)),
        None => None,
    }
}

/// Whether `x` is page aligned.
pub const fn is_page_aligned(x: u64) -> bool {
    x & (PAGE_SIZE - 1) == 0
}
