//! Tasks (application threads) and the helpers handlers use: argument
//! memory, file lookup, path resolution.

use std::sync::Arc;

use crate::abi::{Errno, Pod};
use crate::kernel::creds::Credentials;
use crate::kernel::{Kernel, ThreadGroup};
use crate::mm::{MemoryManager, PATH_MAX};
use crate::platform::{Context, Regs};
use crate::vfs::path::Walker;
use crate::vfs::{File, Location, Lookup};

/// An application thread.
pub struct Task {
    /// The kernel.
    pub kernel: Arc<Kernel>,
    /// The process.
    pub tg: Arc<ThreadGroup>,
    /// Thread id in the sandbox's pid namespace.
    pub tid: i32,
    /// Registers while in the sentry.
    pub regs: Regs,
    /// The platform context running this thread.
    pub ctx: Box<dyn Context>,
    /// Blocked signals.
    pub sigmask: u64,
    /// set_tid_address.
    pub clear_child_tid: u64,
    /// set_robust_list (head, len).
    pub robust_list: (u64, u64),
    /// rseq registration (address, length, signature).
    pub rseq: Option<(u64, u32, u32)>,
    /// sigaltstack: (base, size); size 0 means disabled.
    pub altstack: (u64, u64),
}

impl Task {
    /// The memory manager.
    pub fn mm(&self) -> &MemoryManager {
        &self.tg.mm
    }

    /// Copies a `T` in from application memory.
    pub fn copy_in<T: Pod>(&self, addr: u64) -> Result<T, Errno> {
        self.tg.mm.copy_in_obj(addr)
    }

    /// Copies a `T` out to application memory.
    pub fn copy_out<T: Pod>(&self, addr: u64, v: &T) -> Result<(), Errno> {
        self.tg.mm.copy_out_obj(addr, v)
    }

    /// Reads a path argument (ENAMETOOLONG past PATH_MAX, ENOENT if empty
    /// unless `allow_empty`).
    pub fn read_path(&self, addr: u64, allow_empty: bool) -> Result<Vec<u8>, Errno> {
        let p = self.tg.mm.read_cstring(addr, PATH_MAX - 1)?;
        if p.is_empty() && !allow_empty {
            return Err(Errno::ENOENT);
        }
        Ok(p)
    }

    /// The file at `fd`.
    pub fn file(&self, fd: i32) -> Result<Arc<File>, Errno> {
        self.tg.fds.get(fd)
    }

    /// The directory a `*at` call starts from.
    pub fn start_dir(&self, dirfd: i32, path: &[u8]) -> Result<Location, Errno> {
        if path.first() == Some(&b'/') || dirfd == libc::AT_FDCWD {
            return Ok(self.tg.state().fs.cwd.clone());
        }
        let f = self.file(dirfd)?;
        let loc = f.location.clone().ok_or(Errno::ENOTDIR)?;
        if loc.dentry.inode.file_type() != crate::vfs::FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(loc)
    }

    /// The root and credentials a path walk needs (cheap: two Arc clones).
    pub fn walk_context(&self) -> (Location, Arc<Credentials>) {
        let st = self.tg.state();
        (st.fs.root.clone(), st.creds.clone())
    }

    /// Resolves `path` relative to `dirfd`.
    pub fn resolve(&self, dirfd: i32, path: &[u8], follow: Lookup) -> Result<Location, Errno> {
        let start = self.start_dir(dirfd, path)?;
        let (root, creds) = self.walk_context();
        Walker::new(&root, &creds).walk(&start, path, follow)
    }

    /// Resolves `path` for `*at` calls that take AT_EMPTY_PATH and
    /// AT_SYMLINK_NOFOLLOW in `flags`.
    pub fn resolve_at(&self, dirfd: i32, path: &[u8], flags: i32) -> Result<Location, Errno> {
        if path.is_empty() {
            if flags & libc::AT_EMPTY_PATH == 0 {
                return Err(Errno::ENOENT);
            }
            if dirfd == libc::AT_FDCWD {
                return Ok(self.tg.state().fs.cwd.clone());
            }
            let f = self.file(dirfd)?;
            return f.location.clone().ok_or(Errno::EBADF);
        }
        let follow = if flags & libc::AT_SYMLINK_NOFOLLOW != 0 { Lookup::NoFollow } else { Lookup::Follow };
        self.resolve(dirfd, path, follow)
    }

    /// The RLIMIT_NOFILE soft limit.
    pub fn nofile_limit(&self) -> u64 {
        self.tg.state().rlimits[libc::RLIMIT_NOFILE as usize].cur
    }
}
