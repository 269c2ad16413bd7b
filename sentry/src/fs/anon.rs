//! Anonymous files in the tree: what `/proc/[pid]/fd/N` leads to. Those
//! entries are magic links: following one gives the open file itself (its
//! location, or for a file with none — a pipe, an eventfd — a dentry of its
//! own on an anonymous mount), not the text readlink shows. Opening a pipe
//! that way gives a new description of the same pipe, as Linux does;
//! other anonymous files refuse (ENXIO).

use std::sync::{Arc, OnceLock};

use crate::abi::{Errno, Stat};
use crate::fs::synthetic::{next_ino, synth_stat};
use crate::vfs::{Dentry, File, FileOps, FileType, Inode, Location, Mount};

/// The mount anonymous files hang on.
fn anon_mount() -> Arc<Mount> {
    static MOUNT: OnceLock<Arc<Mount>> = OnceLock::new();
    MOUNT
        .get_or_init(|| {
            let root: Arc<dyn Inode> = Arc::new(AnonRoot { ino: next_ino() });
            Mount::new_root(Dentry::new_root(root), crate::abi::dev_make(0, 13), false, "anon_inodefs")
        })
        .clone()
}

struct AnonRoot {
    ino: u64,
}

impl Inode for AnonRoot {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat(self.ino, libc::S_IFDIR | 0o500, 0, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Directory
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ENXIO)
    }
}

/// An open file without a place in the tree.
struct AnonInode {
    file: Arc<File>,
}

impl Inode for AnonInode {
    fn stat(&self) -> Result<Stat, Errno> {
        self.file.stat()
    }
    fn file_type(&self) -> FileType {
        self.file.stat().map_or(FileType::Regular, |s| FileType::from_mode(s.mode))
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        self.file.ops.reopen(flags)
    }
}

/// `/proc/[pid]/fd/N`: reads as the file's name, follows to the file.
pub struct FdLink {
    file: Arc<File>,
    ino: u64,
}

impl FdLink {
    /// The link for an open file.
    pub fn new(file: Arc<File>) -> Arc<FdLink> {
        Arc::new(FdLink { file, ino: next_ino() })
    }
}

impl Inode for FdLink {
    fn stat(&self) -> Result<Stat, Errno> {
        let mode = match (self.file.readable(), self.file.writable()) {
            (true, true) => 0o700,
            (false, true) => 0o300,
            _ => 0o500,
        };
        Ok(synth_stat(self.ino, libc::S_IFLNK | mode, 64, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Ok(self.file.name.clone())
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }
    fn magic_link(&self) -> Option<Result<Location, Errno>> {
        if let Some(loc) = &self.file.location {
            return Some(Ok(loc.clone()));
        }
        let inode: Arc<dyn Inode> = Arc::new(AnonInode { file: self.file.clone() });
        Some(Ok(Location { mount: anon_mount(), dentry: Dentry::new_root(inode) }))
    }
}
