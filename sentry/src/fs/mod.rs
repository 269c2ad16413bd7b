//! Filesystem implementations: the gofer client (the sandbox root), host fds
//! (stdio and donated files), dev, proc, and the mapping adapter that lets
//! the memory manager copy files in.

pub mod anon;
pub mod cgroupfs;
pub mod cpuinfo;
pub mod dev;
pub mod dnotify;
pub mod epoll;
pub mod eventfd;
pub mod gofer;
pub mod gofer_cache;
pub mod host;
pub mod host_notify;
pub mod host_stdio;
pub mod inotify;
pub mod mapping;
pub mod mqueuefs;
pub mod overlay;
pub mod pipe;
pub mod proc;
pub mod proc_config;
pub mod proc_links;
pub mod proc_sys;
pub mod signalfd;
pub mod synthetic;
pub mod sysfs;
pub mod timerfd;
pub mod tmpfs;
pub mod tty;

use crate::abi::{Stat, Timespec};

/// Converts a host `stat` to the ABI struct.
pub fn stat_from_host(st: &libc::stat) -> Stat {
    Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        nlink: st.st_nlink,
        mode: st.st_mode,
        uid: st.st_uid,
        gid: st.st_gid,
        pad0: 0,
        rdev: st.st_rdev,
        size: st.st_size,
        blksize: st.st_blksize,
        blocks: st.st_blocks,
        atime: Timespec { tv_sec: st.st_atime, tv_nsec: st.st_atime_nsec },
        mtime: Timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec },
        ctime: Timespec { tv_sec: st.st_ctime, tv_nsec: st.st_ctime_nsec },
        unused: [0; 3],
    }
}
