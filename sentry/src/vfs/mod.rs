//! The virtual filesystem: inodes and dentries, mounts, path walk, open file
//! descriptions and fd tables.
//!
//! Lock order: `FdTable` before `File::offset` before `Dentry::children`
//! before `Dentry::mounted`. No VFS lock is held across a gofer round trip
//! except `Dentry::children` during a lookup miss.

pub mod dentry;
pub mod fdtable;
pub mod file;
pub mod inode;
pub mod lease;
pub mod lock;
pub mod open;
pub mod ops;
pub mod path;

pub use dentry::{Dentry, Location, Mount, MountFlags};
pub use fdtable::FdTable;
pub use file::{File, FileOps, OffsetMode};
pub use inode::{DirEntry, FileType, Inode};
pub use path::{FsContext, FsState, Lookup};
