//! The devpts filesystem (/dev/pts: `ptmx` and one node per live pair),
//! and the terminal nodes of /dev: `ptmx` (a link to pts/ptmx, as in
//! containers) and `tty` (the opener's controlling terminal).
//!
//! Opening a replica without O_NOCTTY makes it the controlling terminal
//! of a session leader that has none, if no other session has it.

use std::sync::Arc;

use crate::abi::{dev_make, Errno, Stat};
use crate::fs::synthetic::{synth_stat, ChildList, SynthDir};
use crate::fs::tty::pty::{ptmx_stat, replica_stat, MasterFile, ReplicaFile};
use crate::fs::tty::{Terminal, Ttys};
use crate::vfs::{FileOps, FileType, Inode};

/// The devpts root: `ptmx` and the live pairs, listed afresh each time.
pub fn new_devpts(ttys: Arc<Ttys>) -> Arc<SynthDir> {
    SynthDir::new(0o755, true, move || {
        let mut list: ChildList =
            vec![(b"ptmx".to_vec(), Arc::new(PtmxInode { ttys: ttys.clone() }) as Arc<dyn Inode>)];
        for i in ttys.indices() {
            if let Some(term) = ttys.pair(i) {
                list.push((i.to_string().into_bytes(), Arc::new(PtsInode { term }) as Arc<dyn Inode>));
            }
        }
        list
    })
}

/// The process and session of the calling task: (pid, pgid, sid).
fn caller(ttys: &Ttys) -> Option<(i32, i32, i32)> {
    let cur = crate::kernel::current()?;
    let k = ttys.kernel()?;
    let tree = k.tasks.read();
    let p = tree.procs.get(&cur.tg.pid)?;
    Some((cur.tg.pid, p.pgid, p.sid))
}

/// /dev/pts/ptmx: each open makes a new pair and gives its master.
pub struct PtmxInode {
    ttys: Arc<Ttys>,
}

impl Inode for PtmxInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(ptmx_stat(self.ttys.created))
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let uid = crate::kernel::current().map_or(0, |t| t.resources().creds.fsuid);
        let term = self.ttys.new_pair(uid)?;
        Ok(MasterFile::new(term))
    }
}

/// /dev/pts/N: the replica of pair N.
pub struct PtsInode {
    term: Arc<Terminal>,
}

/// Makes `term` the controlling terminal of the caller's session when
/// Linux would on open: the caller leads a session without one, and the
/// terminal has no session.
fn maybe_acquire(term: &Arc<Terminal>, flags: u32) {
    if flags & libc::O_NOCTTY as u32 != 0 {
        return;
    }
    let Some(ttys) = term.ttys() else { return };
    let Some((pid, pgid, sid)) = caller(&ttys) else { return };
    if pid != sid || ttys.controlling(sid).is_some() {
        return;
    }
    let mut s = term.lock();
    if s.session.is_some() {
        return;
    }
    s.session = Some(sid);
    s.fg_pgrp = Some(pgid);
    drop(s);
    ttys.set_controlling(sid, term);
}

impl Inode for PtsInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(replica_stat(&self.term))
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let f = ReplicaFile::open(self.term.clone())?;
        maybe_acquire(&self.term, flags);
        Ok(f)
    }
}

/// /dev/tty (c 5,0): the caller's controlling terminal; ENXIO if its
/// session has none.
pub struct TtyInode {
    /// The terminals.
    pub ttys: Arc<Ttys>,
    /// Its inode number in /dev.
    pub ino: u64,
}

impl Inode for TtyInode {
    fn stat(&self) -> Result<Stat, Errno> {
        let mut st = synth_stat(self.ino, libc::S_IFCHR | 0o666, 0, 0, 0);
        st.rdev = dev_make(5, 0);
        Ok(st)
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let (_, _, sid) = caller(&self.ttys).ok_or(Errno::ENXIO)?;
        if let Some(host) = self.ttys.console_of(sid) {
            return Ok(Arc::new(host.alias(Some(self.stat()?))));
        }
        let term = self.ttys.controlling(sid).ok_or(Errno::ENXIO)?;
        Ok(ReplicaFile::open_as(term, Some(self.stat()?))?)
    }
}
