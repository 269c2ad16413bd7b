//! Virtual memory areas (what the application has mapped where, with what
//! protections and backing) and platform mapping areas (which memory-file
//! pages hold the contents, and how they are mapped in the host).

use std::sync::Arc;

use crate::abi::Errno;

/// A file that can back a mapping: its contents are copied into the memory
/// file when first touched.
pub trait MappedFile: Send + Sync {
    /// Reads up to `buf.len()` bytes at `off`; returns bytes read (0 at EOF).
    fn read_at(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno>;
    /// (device, inode, path) for `/proc/[pid]/maps`.
    fn describe(&self) -> (u64, u64, String);
    /// The file's size now (pages wholly past it give SIGBUS).
    fn size(&self) -> Result<u64, Errno>;
    /// What identifies the file's contents now, if they cannot change
    /// behind the sandbox's back (a file on a read-only mount): private
    /// mappings of it then share its pages through the memory file's
    /// cache until they write.
    fn cache_key(&self) -> Option<CacheKey> {
        None
    }
    /// For files whose pages live in the memory file (tmpfs): the
    /// memory-file offsets of `count` pages from file page `first`, made if
    /// absent. A shared mapping maps those very pages, so it stays coherent
    /// with read, write and other mappings. `None`: the file's contents are
    /// copied in instead.
    fn shared_pages(&self, _first: u64, _count: u64) -> Option<Result<Vec<u64>, Errno>> {
        None
    }
    /// msync(2) of a shared mapping: the file's pages that a mapping may
    /// have changed go back to where the file lives (a volume's host
    /// file); `sync` (MS_SYNC) also has the host sync it.
    fn write_back(&self, _sync: bool) -> Result<(), Errno> {
        Ok(())
    }
}

/// A version of a file's contents: device, inode, size and modification
/// time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
    /// Size.
    pub size: u64,
    /// Modification time (seconds, nanoseconds).
    pub mtime: (i64, i64),
}

/// A mapped file and the file offset of the VMA's start.
#[derive(Clone)]
pub struct VmaFile {
    /// The file.
    pub file: Arc<dyn MappedFile>,
    /// File offset that `start` maps.
    pub offset: u64,
}

/// Memory that several address spaces attach (a System V shared memory
/// segment): it counts its attachments.
pub trait Segment: Send + Sync {
    /// A VMA of it came into being (attach, fork, split).
    fn attach(&self);
    /// A VMA of it went away.
    fn detach(&self);
    /// Its size in bytes (page-rounded).
    fn size(&self) -> u64;
    /// Process `pid` detached it (shmdt).
    fn detached_by(&self, pid: i32);
}

/// A VMA's hold on a [`Segment`]: each one is an attachment.
pub struct SegmentRef(Arc<dyn Segment>);

impl SegmentRef {
    /// A new attachment of `seg`.
    pub fn new(seg: Arc<dyn Segment>) -> SegmentRef {
        seg.attach();
        SegmentRef(seg)
    }

    /// The segment.
    pub fn segment(&self) -> &Arc<dyn Segment> {
        &self.0
    }
}

impl Clone for SegmentRef {
    fn clone(&self) -> SegmentRef {
        SegmentRef::new(self.0.clone())
    }
}

impl Drop for SegmentRef {
    fn drop(&mut self) {
        self.0.detach();
    }
}

/// One mapping, as the application made it.
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
    /// The backing file, for file mappings.
    pub file: Option<VmaFile>,
    /// A special name for `/proc/[pid]/maps` (`[heap]`, `[stack]`).
    pub name: Option<&'static str>,
    /// MADV_DONTFORK: not copied into a forked child.
    pub dontfork: bool,
    /// MADV_WIPEONFORK: a forked child gets zeros here.
    pub wipeonfork: bool,
    /// The shared memory segment attached here.
    pub segment: Option<SegmentRef>,
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
            file: self.file.as_ref().map(|f| VmaFile { file: f.file.clone(), offset: f.offset + delta }),
            ..self.clone()
        }
    }

    /// Whether Linux would merge `self` with `next` (which starts where
    /// `self` ends): same protections, sharing, name and backing.
    pub fn mergeable_with(&self, next: &Vma) -> bool {
        if self.end != next.start
            || self.segment.is_some()
            || next.segment.is_some()
            || self.prot != next.prot
            || self.shared != next.shared
            || self.name != next.name
            || self.may_write != next.may_write
            || self.dontfork != next.dontfork
            || self.wipeonfork != next.wipeonfork
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

    /// Anonymous (not file-backed) memory.
    pub fn anonymous(&self) -> bool {
        self.file.is_none()
    }
}

/// Memory-file pages backing part of a VMA.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pma {
    /// First address.
    pub start: u64,
    /// One past the last address.
    pub end: u64,
    /// Memory-file offset of `start`. The pma holds one reference on
    /// `[mf_off, mf_off + len)`.
    pub mf_off: u64,
    /// Private pages another address space may share: copy before the
    /// application writes.
    pub cow: bool,
    /// The protections the pages are mapped with in the host address space,
    /// or `None` if not mapped there.
    pub mapped: Option<i32>,
}

impl Pma {
    /// Length in bytes.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether empty (never true for a stored pma).
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The part within `[start, end)`, which must overlap it.
    pub fn slice(&self, start: u64, end: u64) -> Pma {
        let s = start.max(self.start);
        let e = end.min(self.end);
        Pma { start: s, end: e, mf_off: self.mf_off + (s - self.start), ..*self }
    }

    /// Whether `next` (starting where `self` ends) can join it.
    pub fn mergeable_with(&self, next: &Pma) -> bool {
        self.end == next.start
            && self.mf_off + self.len() == next.mf_off
            && self.cow == next.cow
            && self.mapped == next.mapped
    }
}

/// The protections pages of `vma` are mapped with in the host: the VMA's,
/// less write while they are copy-on-write.
pub fn host_prot(vma: &Vma, cow: bool) -> i32 {
    if cow {
        vma.prot & !libc::PROT_WRITE
    } else {
        vma.prot
    }
}
