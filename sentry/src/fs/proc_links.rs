//! `/proc/[pid]/root` and `/proc/[pid]/cwd`: links that read as the
//! task's root or working directory (as a path from its root) and, when
//! followed, jump to them (magic links, as Linux's proc_root_link and
//! proc_cwd_link), so that a process may look into another's root: a pod's
//! container into another's, or into a chroot. Following takes ptrace read
//! access to the task (Linux's PTRACE_MODE_READ_FSCREDS).

use std::sync::{Arc, Weak};

use crate::abi::{Errno, Stat};
use crate::fs::synthetic::{next_ino, synth_stat};
use crate::kernel::{current, Kernel, TaskShared};
use crate::vfs::path::path_of;
use crate::vfs::{FileOps, FileType, Inode, Location};

/// CAP_SYS_PTRACE.
const CAP_SYS_PTRACE: u32 = 19;

/// Which place of the task.
#[derive(Clone, Copy)]
pub enum Which {
    /// Its root.
    Root,
    /// Its working directory.
    Cwd,
}

/// The link.
pub struct TaskLocLink {
    k: Weak<Kernel>,
    pid: i32,
    tid: Option<i32>,
    which: Which,
    ino: u64,
}

impl TaskLocLink {
    /// The `which` link of task `tid` (or process `pid`'s main thread).
    pub fn new(k: Weak<Kernel>, pid: i32, tid: Option<i32>, which: Which) -> Arc<TaskLocLink> {
        Arc::new(TaskLocLink { k, pid, tid, which, ino: next_ino() })
    }

    fn task(&self) -> Result<Arc<TaskShared>, Errno> {
        let k = self.k.upgrade().ok_or(Errno::ENOENT)?;
        let t = match self.tid {
            Some(t) => k.tasks.task(t).filter(|x| x.tg.pid == self.pid),
            None => k.thread_group(self.pid).and_then(|tg| tg.main_thread()),
        };
        t.ok_or(Errno::ENOENT)
    }

    /// The task's root and the place, or ENOENT once it is gone.
    fn places(&self) -> Result<(Location, Location), Errno> {
        let fs = self.task()?.resources().fs;
        let g = fs.lock();
        let at = match self.which {
            Which::Root => g.root.clone(),
            Which::Cwd => g.cwd.clone(),
        };
        Ok((g.root.clone(), at))
    }
}

/// Whether the calling task may look into `target` (Linux's
/// ptrace_may_access for reading, with filesystem ids): its own process,
/// or the caller's filesystem uid and gid are the target's real, effective
/// and saved ones and the caller's permitted capabilities cover the
/// target's; or the caller has CAP_SYS_PTRACE.
fn may_look_into(target: &TaskShared) -> bool {
    let Some(me) = current() else { return true };
    if Arc::ptr_eq(&me.tg, &target.tg) {
        return true;
    }
    let (c, t) = (me.resources().creds, target.resources().creds);
    if c.capable(CAP_SYS_PTRACE) {
        return true;
    }
    let ids_match =
        [t.uid, t.euid, t.suid].iter().all(|&u| u == c.fsuid) && [t.gid, t.egid, t.sgid].iter().all(|&g| g == c.fsgid);
    ids_match && t.caps.permitted & !c.caps.permitted == 0 && target.tg.state().dumpable != 0
}

impl Inode for TaskLocLink {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat(self.ino, libc::S_IFLNK | 0o777, 0, 0, 0))
    }

    fn file_type(&self) -> FileType {
        FileType::Symlink
    }

    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        let t = self.task()?;
        if !may_look_into(&t) {
            return Err(Errno::EACCES);
        }
        let (root, at) = self.places()?;
        path_of(&at, &root).ok_or(Errno::ENOENT)
    }

    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }

    fn magic_link(&self) -> Option<Result<Location, Errno>> {
        Some(self.task().and_then(|t| {
            if !may_look_into(&t) {
                return Err(Errno::EACCES);
            }
            self.places().map(|(_, at)| at)
        }))
    }
}
