//! The inode interface every filesystem implements.

use std::sync::Arc;

use crate::abi::{Errno, Stat};
use crate::vfs::FileOps;

/// The type of a file, from its mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// Regular file.
    Regular,
    /// Directory.
    Directory,
    /// Symbolic link.
    Symlink,
    /// Character device.
    CharDevice,
    /// Block device.
    BlockDevice,
    /// FIFO.
    Fifo,
    /// Socket.
    Socket,
}

impl FileType {
    /// From the `S_IFMT` bits of a mode.
    pub fn from_mode(mode: u32) -> FileType {
        match mode & libc::S_IFMT {
            libc::S_IFDIR => FileType::Directory,
            libc::S_IFLNK => FileType::Symlink,
            libc::S_IFCHR => FileType::CharDevice,
            libc::S_IFBLK => FileType::BlockDevice,
            libc::S_IFIFO => FileType::Fifo,
            libc::S_IFSOCK => FileType::Socket,
            _ => FileType::Regular,
        }
    }

    /// The `d_type` value for getdents.
    pub fn dirent_type(self) -> u8 {
        match self {
            FileType::Regular => libc::DT_REG,
            FileType::Directory => libc::DT_DIR,
            FileType::Symlink => libc::DT_LNK,
            FileType::CharDevice => libc::DT_CHR,
            FileType::BlockDevice => libc::DT_BLK,
            FileType::Fifo => libc::DT_FIFO,
            FileType::Socket => libc::DT_SOCK,
        }
    }
}

/// One directory entry.
#[derive(Clone, Debug)]
pub struct DirEntry {
    /// Inode number.
    pub ino: u64,
    /// `DT_*` type.
    pub typ: u8,
    /// Name.
    pub name: Vec<u8>,
}

/// A filesystem object.
pub trait Inode: Send + Sync {
    /// Metadata. `dev` is filled in by the mount.
    fn stat(&self) -> Result<Stat, Errno>;

    /// The file type (cheap; does not fetch metadata).
    fn file_type(&self) -> FileType;

    /// Looks up a child of a directory. `name` is never `.`, `..` or empty.
    fn lookup(&self, _name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// The target of a symbolic link.
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        Err(Errno::EINVAL)
    }

    /// Opens the inode. `flags` are the open(2) flags after validation; the
    /// VFS has already checked permissions and read-only mounts.
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno>;

    /// Lists a directory, including `.` and `..`.
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// Filesystem figures, for filesystems that have their own (the gofer
    /// asks the host); `None` lets the mount describe itself.
    fn statfs(&self) -> Result<Option<crate::abi::Statfs>, Errno> {
        Ok(None)
    }

    /// For magic links (`/proc/[pid]/fd/N`): where following the link leads,
    /// instead of resolving its text.
    fn magic_link(&self) -> Option<Result<crate::vfs::Location, Errno>> {
        None
    }

    /// Whether the contents of this directory can change behind the dentry
    /// cache (synthetic directories such as /proc); such children are not
    /// cached.
    fn dynamic(&self) -> bool {
        false
    }
}
