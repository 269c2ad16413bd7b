//! The inode interface every filesystem implements.

use std::sync::Arc;

use crate::abi::{Errno, Stat, Timespec};
use crate::vfs::FileOps;

/// A new filesystem object, as mknod/mkdir/symlink/open(O_CREAT) ask for
/// it: the VFS has applied the umask and decided the owner (fsuid, and the
/// fsgid or a setgid directory's group).
#[derive(Clone, Debug)]
pub struct NewNode {
    /// Type and permission bits (`S_IFREG | 0o644`...).
    pub mode: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number for character and block devices.
    pub rdev: u64,
    /// The target of a symbolic link.
    pub target: Vec<u8>,
}

/// Attribute changes (chmod, chown, truncate, utimes). The VFS has checked
/// permissions and resolved `UTIME_NOW`; the filesystem updates ctime.
#[derive(Clone, Copy, Debug, Default)]
pub struct SetAttr {
    /// New permission bits (and S_ISUID/S_ISGID/S_ISVTX).
    pub mode: Option<u32>,
    /// New owner.
    pub uid: Option<u32>,
    /// New group.
    pub gid: Option<u32>,
    /// New size.
    pub size: Option<u64>,
    /// New access time.
    pub atime: Option<Timespec>,
    /// New modification time.
    pub mtime: Option<Timespec>,
}

impl SetAttr {
    /// Applies the changes to `st` (ctime becomes `now`).
    pub fn apply(&self, st: &mut Stat, now: Timespec) {
        if let Some(m) = self.mode {
            st.mode = (st.mode & libc::S_IFMT) | (m & 0o7777);
        }
        if let Some(u) = self.uid {
            st.uid = u;
        }
        if let Some(g) = self.gid {
            st.gid = g;
        }
        if let Some(a) = self.atime {
            st.atime = a;
        }
        if let Some(m) = self.mtime {
            st.mtime = m;
        }
        st.ctime = now;
    }
}

/// FS_IMMUTABLE_FL.
pub const FS_IMMUTABLE_FL: u32 = 0x10;
/// FS_APPEND_FL.
pub const FS_APPEND_FL: u32 = 0x20;
/// FS_NODUMP_FL.
pub const FS_NODUMP_FL: u32 = 0x40;
/// FS_NOATIME_FL.
pub const FS_NOATIME_FL: u32 = 0x80;

/// The time now, for inode timestamps.
pub fn now() -> Timespec {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

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

    /// Looks up a child, told the names the walk will look up beneath it
    /// next (`rest`: none `.`, `..` or empty): a filesystem whose lookups
    /// are round trips may fetch them all in one and answer those lookups
    /// from what it fetched.
    fn lookup_ahead(&self, name: &[u8], _rest: &[&[u8]]) -> Result<Arc<dyn Inode>, Errno> {
        self.lookup(name)
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

    /// Makes `name` (absent: the VFS checked) in this directory.
    fn create(&self, _name: &[u8], _node: &NewNode) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::EPERM)
    }

    /// Makes `name` in this directory a new link to `target` (a
    /// non-directory of the same filesystem).
    fn link(&self, _name: &[u8], _target: &Arc<dyn Inode>) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Removes `name` from this directory: a non-directory, or with `dir`
    /// an empty directory (ENOTEMPTY otherwise).
    fn unlink(&self, _name: &[u8], _dir: bool) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Moves `name` to `new_name` in `new_dir` (a directory of the same
    /// filesystem), replacing what is there (the VFS checked the kinds
    /// match and a replaced directory's emptiness is checked here), or with
    /// RENAME_EXCHANGE swapping the two.
    fn rename(&self, _name: &[u8], _new_dir: &Arc<dyn Inode>, _new_name: &[u8], _flags: u32) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Changes attributes.
    fn setattr(&self, _attr: &SetAttr) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// fallocate(2) on a regular file (mode as the syscall gives it).
    fn allocate(&self, _mode: u32, _off: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// An extended attribute's value.
    fn getxattr(&self, _name: &[u8]) -> Result<Vec<u8>, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// Sets an extended attribute (flags: XATTR_CREATE, XATTR_REPLACE).
    fn setxattr(&self, _name: &[u8], _value: &[u8], _flags: u32) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// The names of the extended attributes.
    fn listxattr(&self) -> Result<Vec<Vec<u8>>, Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// Removes an extended attribute.
    fn removexattr(&self, _name: &[u8]) -> Result<(), Errno> {
        Err(Errno::EOPNOTSUPP)
    }

    /// The inode flags of FS_IOC_GETFLAGS (FS_*_FL); ENOTTY where the
    /// filesystem has none.
    fn attr_flags(&self) -> Result<u32, Errno> {
        Err(Errno::ENOTTY)
    }

    /// FS_IOC_SETFLAGS (the VFS checked ownership and capabilities);
    /// EOPNOTSUPP for flags the filesystem does not keep.
    fn set_attr_flags(&self, _flags: u32) -> Result<(), Errno> {
        Err(Errno::ENOTTY)
    }

    /// An O_TMPFILE file (made then unlinked) may be linked back into the
    /// tree although its link count is zero.
    fn make_linkable(&self) {}

    /// The inode as `Any`, for operations between two inodes of one
    /// filesystem (rename, link).
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }
}
