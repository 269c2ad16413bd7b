//! Raw structs exchanged with the application, laid out as the x86_64 kernel
//! lays them out. Sizes are asserted at compile time.

use super::Pod;

macro_rules! pod {
    ($($t:ty = $size:expr),* $(,)?) => {
        $(
            // SAFETY: the type is `#[repr(C)]`, made only of integers with all
            // padding spelled out as explicit fields (checked by the size
            // assertion below), so every bit pattern is valid.
            unsafe impl Pod for $t {}
            const _: () = assert!(std::mem::size_of::<$t>() == $size);
        )*
    };
}
pub(crate) use pod;

/// `struct timespec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// `struct timeval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timeval {
    pub tv_sec: i64,
    pub tv_usec: i64,
}

/// `struct timezone`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Timezone {
    pub tz_minuteswest: i32,
    pub tz_dsttime: i32,
}

/// `struct iovec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Iovec {
    pub base: u64,
    pub len: u64,
}

/// `struct stat` (x86_64 layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub pad0: u32,
    pub rdev: u64,
    pub size: i64,
    pub blksize: i64,
    pub blocks: i64,
    pub atime: Timespec,
    pub mtime: Timespec,
    pub ctime: Timespec,
    pub unused: [i64; 3],
}

/// `struct statx_timestamp`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StatxTimestamp {
    pub tv_sec: i64,
    pub tv_nsec: u32,
    pub reserved: i32,
}

/// `struct statx`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Statx {
    pub mask: u32,
    pub blksize: u32,
    pub attributes: u64,
    pub nlink: u32,
    pub uid: u32,
    pub gid: u32,
    pub mode: u16,
    pub spare0: u16,
    pub ino: u64,
    pub size: u64,
    pub blocks: u64,
    pub attributes_mask: u64,
    pub atime: StatxTimestamp,
    pub btime: StatxTimestamp,
    pub ctime: StatxTimestamp,
    pub mtime: StatxTimestamp,
    pub rdev_major: u32,
    pub rdev_minor: u32,
    pub dev_major: u32,
    pub dev_minor: u32,
    pub mnt_id: u64,
    pub dio_mem_align: u32,
    pub dio_offset_align: u32,
    pub spare: [u64; 12],
}

/// `struct new_utsname`: six NUL-padded 65-byte fields.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Utsname {
    pub sysname: [u8; 65],
    pub nodename: [u8; 65],
    pub release: [u8; 65],
    pub version: [u8; 65],
    pub machine: [u8; 65],
    pub domainname: [u8; 65],
}

impl Default for Utsname {
    fn default() -> Self {
        Utsname {
            sysname: [0; 65],
            nodename: [0; 65],
            release: [0; 65],
            version: [0; 65],
            machine: [0; 65],
            domainname: [0; 65],
        }
    }
}

/// `struct rlimit64`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rlimit {
    pub cur: u64,
    pub max: u64,
}

/// `struct sysinfo` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Sysinfo {
    pub uptime: i64,
    pub loads: [u64; 3],
    pub totalram: u64,
    pub freeram: u64,
    pub sharedram: u64,
    pub bufferram: u64,
    pub totalswap: u64,
    pub freeswap: u64,
    pub procs: u16,
    pub pad: u16,
    pub pad2: u32,
    pub totalhigh: u64,
    pub freehigh: u64,
    pub mem_unit: u32,
    pub pad3: u32,
}

/// `struct winsize`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Winsize {
    pub ws_row: u16,
    pub ws_col: u16,
    pub ws_xpixel: u16,
    pub ws_ypixel: u16,
}

/// The kernel's `struct termios` (TCGETS/TCSETS).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Termios {
    pub c_iflag: u32,
    pub c_oflag: u32,
    pub c_cflag: u32,
    pub c_lflag: u32,
    pub c_line: u8,
    pub c_cc: [u8; 19],
}

/// The kernel's `struct sigaction` for rt_sigaction (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

/// `struct statfs` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Statfs {
    pub f_type: i64,
    pub bsize: i64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub fsid: [i32; 2],
    pub namelen: i64,
    pub frsize: i64,
    pub flags: i64,
    pub spare: [i64; 4],
}

/// `stack_t` for sigaltstack.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct StackT {
    pub ss_sp: u64,
    pub ss_flags: i32,
    pub pad: i32,
    pub ss_size: u64,
}

/// The fixed header of `struct linux_dirent64`; the NUL-terminated name follows.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Dirent64Header {
    pub ino: u64,
    pub off: i64,
    pub reclen: u16,
    pub typ: u8,
    pub pad: [u8; 5],
}

/// The fixed part of the header (before the name), as the kernel counts it.
pub const DIRENT64_NAME_OFFSET: usize = 19;

/// An auxiliary vector entry.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct AuxEntry {
    pub key: u64,
    pub val: u64,
}

/// `struct futex_waitv`: one futex of a futex_waitv(2).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct FutexWaitv {
    pub val: u64,
    pub uaddr: u64,
    pub flags: u32,
    pub reserved: u32,
}

/// `struct flock` (x86_64) for fcntl record locks.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Flock {
    pub l_type: i16,
    pub l_whence: i16,
    pub pad0: u32,
    pub l_start: i64,
    pub l_len: i64,
    pub l_pid: i32,
    pub pad1: u32,
}

pod!(
    Flock = 32,
    FutexWaitv = 24,
    Timespec = 16,
    Timeval = 16,
    Timezone = 8,
    Iovec = 16,
    Stat = 144,
    StatxTimestamp = 16,
    Statx = 256,
    Utsname = 390,
    Rlimit = 16,
    Sysinfo = 112,
    Winsize = 8,
    Termios = 36,
    SigAction = 32,
    AuxEntry = 16,
    Dirent64Header = 24,
    Statfs = 120,
    StackT = 24,
);

/// Copies `s` into a NUL-padded fixed field, truncating to leave a NUL.
pub fn fill_cstr<const N: usize>(dst: &mut [u8; N], s: &str) {
    let n = s.len().min(N - 1);
    dst[..n].copy_from_slice(&s.as_bytes()[..n]);
    dst[n..].fill(0);
}

/// Splits a Linux `dev_t` into (major, minor).
pub fn dev_split(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// Builds a Linux `dev_t` from (major, minor).
pub fn dev_make(major: u32, minor: u32) -> u64 {
    let (ma, mi) = (major as u64, minor as u64);
    ((ma & 0xfff) << 8) | ((ma & !0xfff) << 32) | (mi & 0xff) | ((mi & !0xff) << 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_match_libc() {
        assert_eq!(std::mem::size_of::<Stat>(), std::mem::size_of::<libc::stat>());
        assert_eq!(std::mem::size_of::<Statx>(), std::mem::size_of::<libc::statx>());
        assert_eq!(std::mem::size_of::<Sysinfo>(), std::mem::size_of::<libc::sysinfo>());
        assert_eq!(std::mem::size_of::<Utsname>(), std::mem::size_of::<libc::utsname>());
        assert_eq!(std::mem::size_of::<Winsize>(), std::mem::size_of::<libc::winsize>());
    }

    #[test]
    fn dev_roundtrip() {
        let d = dev_make(259, 70000);
        assert_eq!(dev_split(d), (259, 70000));
        assert_eq!(libc::makedev(259, 70000), d);
    }
}
