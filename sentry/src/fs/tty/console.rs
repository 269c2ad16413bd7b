//! The host console: the host terminal runsc was started on, when init's
//! stdin is one. Its line discipline is the host's; job control is the
//! sandbox's (`Ttys::console_ioctl`). It appears as /dev/console (c 5,1,
//! as runc bind-mounts a container's terminal there): opening that node
//! gives it, /dev/tty gives it to processes of the console's session, and
//! stdio fds on it are named /dev/console, so that ttyname(3) and `tty`
//! find their node. An OCI container's console is instead a pair of the
//! sandbox's joined to the host terminal (`bridge.rs`): /dev/console then
//! opens its replica, as runc binds the container's /dev/pts/0 there.
//! Without either, /dev/console opens with ENODEV, as Linux's does with
//! no console driver.

use std::sync::Arc;

use crate::abi::{dev_make, Errno, Stat};
use crate::fs::host::HostFile;
use crate::fs::synthetic::synth_stat;
use crate::fs::tty::Ttys;
use crate::vfs::{FileOps, FileType, Inode};

/// /dev/console's major number (TTYAUX_MAJOR).
pub const CONSOLE_MAJOR: u32 = 5;
/// /dev/console's minor number.
pub const CONSOLE_MINOR: u32 = 1;

/// The host console's file, and the owner its node shows (init's user,
/// as devpts gives a terminal to the user who opened it).
#[derive(Clone)]
pub struct HostConsole {
    /// The host terminal (a non-blocking description of its own).
    pub file: Arc<HostFile>,
    /// The node's owner.
    pub uid: u32,
    /// The node's group.
    pub gid: u32,
}

impl Ttys {
    /// Init's stdin is the host terminal `file`: it becomes the console,
    /// owned by `uid`:`gid`.
    pub fn set_console_host(&self, file: Arc<HostFile>, uid: u32, gid: u32) {
        *self.console_host.lock().unwrap_or_else(|e| e.into_inner()) = Some(HostConsole { file, uid, gid });
    }

    /// Pair `term` is the console (/dev/console opens its replica).
    pub fn set_console_pair(&self, term: Arc<crate::fs::tty::Terminal>) {
        *self.console_pair.lock().unwrap_or_else(|e| e.into_inner()) = Some(term);
    }

    /// The pair that is the console, if one is.
    pub fn console_pair(&self) -> Option<Arc<crate::fs::tty::Terminal>> {
        self.console_pair.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The host console's file, if there is one.
    pub fn console_host(&self) -> Option<HostConsole> {
        self.console_host.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The host console's file if it is the controlling terminal of
    /// session `sid` (what /dev/tty opens there).
    pub fn console_of(&self, sid: i32) -> Option<Arc<HostFile>> {
        let (s, _) = self.console()?;
        (s == sid).then(|| self.console_host().map(|c| c.file)).flatten()
    }
}

/// /dev/console (c 5,1): the host console.
pub struct ConsoleInode {
    /// The terminals.
    pub ttys: Arc<Ttys>,
    /// Its inode number in /dev.
    pub ino: u64,
}

impl Inode for ConsoleInode {
    fn stat(&self) -> Result<Stat, Errno> {
        let (uid, gid) = self.ttys.console_host().map_or((0, 0), |c| (c.uid, c.gid));
        let mut st = synth_stat(self.ino, libc::S_IFCHR | 0o620, 0, uid, gid);
        st.rdev = dev_make(CONSOLE_MAJOR, CONSOLE_MINOR);
        Ok(st)
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        // Linux never makes the console a controlling terminal on open.
        if let Some(term) = self.ttys.console_pair() {
            return Ok(crate::fs::tty::pty::ReplicaFile::open(term)?);
        }
        let c = self.ttys.console_host().ok_or(Errno::ENODEV)?;
        Ok(Arc::new(c.file.alias(Some(self.stat()?))))
    }
}
