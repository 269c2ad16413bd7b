//! Virtual memory areas: what the application has mapped where, kept in the
//! sentry. Every VMA is backed by one contiguous range of the memory file.

use std::sync::Arc;

use crate::abi::Errno;

/// A file that can back a private mapping: its contents are copied into the
/// memory file when mapped.
pub trait MappedFile: Send + Sync {
    /// Reads up to `buf.len()` bytes at `off`; returns bytes read (0 at EOF).
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno>;
    /// (device, inode, path) for `/proc/[pid]/maps`.
    fn describe(&self) -> (u64, u64, String);
}

/// A mapped file and the file offset of the VMA's start.
#[derive(Clone)]
pub struct VmaFile {
    /// The file.
    pub file: Arc<dyn MappedFile>,
    /// File offset that `start` maps.
    pub offset: u64,
}

/// One mapping.
#[derive(Clone)]
pub struct Vma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// PROT_* bits.
    pub prot: i32,
    /// MAP_SHARED (otherwise private).
    pub shared: bool,
    /// Whether PROT_WRITE may be set (false for shared mappings of files
    /// not open for writing).
    pub may_write: bool,
    /// Whether the memory-file range holds the VMA's contents and is mapped
    /// in the stub. File mappings start unpopulated and are filled chunk by
    /// chunk when the application (or the sentry) first touches them.
    pub populated: bool,
    /// Whether the VMA owns its memory-file range (freed when unmapped).
    /// The vDSO's pages are shared by every process and owned by the kernel.
    pub owned: bool,
    /// Offset of `start` in the memory file.
    pub mf_off: u64,
    /// The backing file, for file mappings.
    pub file: Option<VmaFile>,
    /// A special name for `/proc/[pid]/maps` (`[heap]`, `[stack]`).
    pub name: Option<&'static str>,
}

impl Vma {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the VMA is empty (never true for a stored VMA).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The part of the VMA within `[start, end)`, which must overlap it.
    pub fn slice(&self, start: u64, end: u64) -> Vma {
        let s = start.max(self.start);
        let e = end.min(self.end);
        let delta = s - self.start;
        Vma {
            start: s,
            end: e,
            prot: self.prot,
            shared: self.shared,
            may_write: self.may_write,
            owned: self.owned,
            populated: self.populated,
            mf_off: self.mf_off + delta,
            file: self.file.as_ref().map(|f| VmaFile { file: f.file.clone(), offset: f.offset + delta }),
            name: self.name,
        }
    }

    /// Whether Linux would merge `self` with `next` (which starts where
    /// `self` ends): same protections, sharing, name and backing.
    pub fn mergeable_with(&self, next: &Vma) -> bool {
        if self.end != next.start
            || self.prot != next.prot
            || self.shared != next.shared
            || self.name != next.name
            || self.may_write != next.may_write
            || self.owned != next.owned
            || self.populated != next.populated
        {
            return false;
        }
        match (&self.file, &next.file) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(&a.file, &b.file) && a.offset + self.len() == b.offset,
            _ => false,
        }
    }

    /// Readable by the application (x86: any access implies read).
    pub fn readable(&self) -> bool {
        self.prot & (libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC) != 0
    }

    /// Writable by the application.
    pub fn writable(&self) -> bool {
        self.prot & libc::PROT_WRITE != 0
    }
}
