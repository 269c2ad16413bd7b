//! The mqueue filesystem (/dev/mqueue): the IPC namespace's POSIX message
//! queues as files of one sticky directory. Listing it lists the queues;
//! reading a queue's file gives its status line; creating a regular file
//! makes a queue with the default attributes (charged to the creator's
//! RLIMIT_MSGQUEUE, as mq_open's are); unlinking one is mq_unlink.

use std::sync::Arc;

use crate::abi::{Errno, Stat};
use crate::fs::synthetic::{next_ino, synth_stat, ChildList, SynthDir};
use crate::ipc::mqueue::{queue_bytes, MessageQueue, MqFile, MqNamespace, MSGSIZE_MAX, MSG_MAX};
use crate::ipc::IpcNamespace;
use crate::vfs::inode::NewNode;
use crate::vfs::{FileOps, FileType, Inode};

/// The filesystem's magic (MQUEUE_MAGIC).
const MQUEUE_MAGIC: i64 = 0x1980_0202;

/// The directory.
pub struct MqDir {
    ipc: Arc<IpcNamespace>,
    ino: u64,
    /// Lists the queues when opened.
    listing: Arc<SynthDir>,
}

/// One queue's file.
pub struct MqNode {
    q: Arc<MessageQueue>,
}

fn queues(ns: &MqNamespace) -> ChildList {
    ns.list().into_iter().map(|(n, q)| (n, Arc::new(MqNode { q }) as Arc<dyn Inode>)).collect()
}

/// The mqueue filesystem of IPC namespace `ipc`.
pub fn new_mqueuefs(ipc: Arc<IpcNamespace>) -> Arc<dyn Inode> {
    let ns = ipc.clone();
    let listing = SynthDir::new(0o1777, true, move || queues(&ns.mqueues));
    Arc::new(MqDir { ipc, ino: next_ino(), listing })
}

impl Inode for MqDir {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat(self.ino, libc::S_IFDIR | 0o1777, 0, 0, 0))
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        let q = self.ipc.mqueues.lookup(name).ok_or(Errno::ENOENT)?;
        Ok(Arc::new(MqNode { q }))
    }

    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        self.listing.open(flags)
    }

    fn dynamic(&self) -> bool {
        // mq_open and mq_unlink change it behind the dentry cache.
        true
    }

    fn statfs(&self) -> Result<Option<crate::abi::Statfs>, Errno> {
        Ok(Some(crate::abi::Statfs {
            f_type: MQUEUE_MAGIC,
            bsize: 4096,
            namelen: 255,
            frsize: 4096,
            ..Default::default()
        }))
    }

    fn create(&self, name: &[u8], node: &NewNode) -> Result<Arc<dyn Inode>, Errno> {
        // Only queues live here (Linux's mqueue_create is its only create).
        if node.mode & libc::S_IFMT != libc::S_IFREG {
            return Err(Errno::EPERM);
        }
        let limit =
            crate::kernel::current().map_or(u64::MAX, |t| t.tg.state().rlimits[libc::RLIMIT_MSGQUEUE as usize].cur);
        let charge = self.ipc.mqueues.charge(node.uid, queue_bytes(MSG_MAX, MSGSIZE_MAX), limit)?;
        let q = Arc::new(MessageQueue::new(MSG_MAX, MSGSIZE_MAX, node.uid, node.gid, node.mode & 0o7777, Some(charge)));
        self.ipc.mqueues.create(name, q.clone())?;
        Ok(Arc::new(MqNode { q }))
    }

    fn unlink(&self, name: &[u8], dir: bool) -> Result<(), Errno> {
        if dir {
            return Err(Errno::ENOTDIR);
        }
        self.ipc.mqueues.unlink(name).map(|_| ()).ok_or(Errno::ENOENT)
    }
}

impl Inode for MqNode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.q.stat())
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Ok(Arc::new(MqFile { q: self.q.clone() }))
    }
}
