//! Building blocks for synthetic filesystems (proc, dev): directories whose
//! children come from a closure, symlinks whose target is computed, and files
//! whose contents are generated when opened.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::abi::{Errno, Stat, Timespec};
use crate::vfs::{DirEntry, FileOps, FileType, Inode};

static NEXT_INO: AtomicU64 = AtomicU64::new(1000);

/// A fresh inode number for a synthetic inode.
pub fn next_ino() -> u64 {
    NEXT_INO.fetch_add(1, Ordering::Relaxed)
}

/// Metadata for a synthetic inode owned by root.
pub fn synth_stat(ino: u64, mode: u32, size: i64, uid: u32, gid: u32) -> Stat {
    let now = now();
    Stat {
        ino,
        nlink: if mode & libc::S_IFMT == libc::S_IFDIR { 2 } else { 1 },
        mode,
        uid,
        gid,
        size,
        blksize: 4096,
        atime: now,
        mtime: now,
        ctime: now,
        ..Default::default()
    }
}

fn now() -> Timespec {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

/// Children of a synthetic directory: name and a constructor.
pub type ChildList = Vec<(Vec<u8>, Arc<dyn Inode>)>;

type Children = Arc<dyn Fn() -> ChildList + Send + Sync>;

/// A directory whose children a closure lists.
pub struct SynthDir {
    ino: u64,
    mode: u32,
    children: Children,
    dynamic: bool,
}

impl SynthDir {
    /// A directory; `dynamic` ones are not cached by the dentry cache.
    pub fn new(mode: u32, dynamic: bool, children: impl Fn() -> ChildList + Send + Sync + 'static) -> Arc<SynthDir> {
        Arc::new(SynthDir { ino: next_ino(), mode: libc::S_IFDIR | mode, children: Arc::new(children), dynamic })
    }
}

impl Inode for SynthDir {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat(self.ino, self.mode, 0, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Directory
    }
    fn lookup(&self, name: &[u8]) -> Result<Arc<dyn Inode>, Errno> {
        (self.children)().into_iter().find(|(n, _)| n == name).map(|(_, i)| i).ok_or(Errno::ENOENT)
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        if flags & libc::O_ACCMODE as u32 != libc::O_RDONLY as u32 {
            return Err(Errno::EISDIR);
        }
        Ok(Arc::new(DirOps {
            ino: self.ino,
            stat: synth_stat(self.ino, self.mode, 0, 0, 0),
            children: self.children.clone(),
        }))
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }
    fn dynamic(&self) -> bool {
        self.dynamic
    }
}

/// An open synthetic directory; entries are listed when read.
pub struct DirOps {
    ino: u64,
    stat: Stat,
    children: Children,
}

impl FileOps for DirOps {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn write(&self, _buf: &[u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut entries = vec![
            DirEntry { ino: self.ino, typ: libc::DT_DIR, name: b".".to_vec() },
            DirEntry { ino: self.ino, typ: libc::DT_DIR, name: b"..".to_vec() },
        ];
        for (name, inode) in (self.children)() {
            let ino = inode.stat().map(|s| s.ino).unwrap_or(0);
            entries.push(DirEntry { ino, typ: inode.file_type().dirent_type(), name });
        }
        Ok(entries)
    }
}

/// A symlink whose target a closure computes.
pub struct SynthLink {
    ino: u64,
    target: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
}

impl SynthLink {
    /// A symlink.
    pub fn new(target: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static) -> Arc<SynthLink> {
        Arc::new(SynthLink { ino: next_ino(), target: Box::new(target) })
    }
}

impl Inode for SynthLink {
    fn stat(&self) -> Result<Stat, Errno> {
        let len = (self.target)().map(|t| t.len()).unwrap_or(0);
        Ok(synth_stat(self.ino, libc::S_IFLNK | 0o777, len as i64, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Symlink
    }
    fn readlink(&self) -> Result<Vec<u8>, Errno> {
        (self.target)()
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Err(Errno::ELOOP)
    }
}

/// A read-only file whose contents a closure generates at open.
pub struct SynthFile {
    ino: u64,
    mode: u32,
    content: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
}

impl SynthFile {
    /// A regular file with permission bits `mode`.
    pub fn new(mode: u32, content: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static) -> Arc<SynthFile> {
        Arc::new(SynthFile { ino: next_ino(), mode: libc::S_IFREG | mode, content: Box::new(content) })
    }
}

impl Inode for SynthFile {
    fn stat(&self) -> Result<Stat, Errno> {
        // Like Linux's proc files, the size is reported as 0.
        Ok(synth_stat(self.ino, self.mode, 0, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    /// Opens for writing too, when the mode bits let the opener (a file
    /// without a write operation, as in Linux: writes are EINVAL).
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let readable = flags & libc::O_ACCMODE as u32 != libc::O_WRONLY as u32;
        let data = if readable { (self.content)()? } else { Vec::new() };
        Ok(Arc::new(BufferOps { data, stat: synth_stat(self.ino, self.mode, 0, 0, 0) }))
    }
    fn setattr(&self, attr: &crate::vfs::inode::SetAttr) -> Result<(), Errno> {
        ignore_truncate(attr)
    }
}

/// O_TRUNC on a generated file (a shell redirection) changes nothing;
/// other attribute changes are EPERM.
fn ignore_truncate(attr: &crate::vfs::inode::SetAttr) -> Result<(), Errno> {
    if attr.size.is_some() && attr.mode.is_none() && attr.uid.is_none() && attr.gid.is_none() {
        return Ok(());
    }
    Err(Errno::EPERM)
}

type Writer = Box<dyn Fn(&[u8]) -> Result<(), Errno> + Send + Sync>;

/// A generated file that may also be written: each write(2) hands its
/// bytes to a closure (as Linux's proc files take a write), which may
/// refuse them.
pub struct SynthRwFile {
    ino: u64,
    mode: u32,
    content: Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>,
    writer: Arc<Writer>,
}

impl SynthRwFile {
    /// A regular file with permission bits `mode`.
    pub fn new(
        mode: u32,
        content: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static,
        writer: impl Fn(&[u8]) -> Result<(), Errno> + Send + Sync + 'static,
    ) -> Arc<SynthRwFile> {
        Arc::new(SynthRwFile {
            ino: next_ino(),
            mode: libc::S_IFREG | mode,
            content: Box::new(content),
            writer: Arc::new(Box::new(writer)),
        })
    }
}

impl Inode for SynthRwFile {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(synth_stat(self.ino, self.mode, 0, 0, 0))
    }
    fn file_type(&self) -> FileType {
        FileType::Regular
    }
    fn open(&self, flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        let readable = flags & libc::O_ACCMODE as u32 != libc::O_WRONLY as u32;
        let data = if readable { (self.content)()? } else { Vec::new() };
        let stat = synth_stat(self.ino, self.mode, 0, 0, 0);
        Ok(Arc::new(RwBufferOps { inner: BufferOps { data, stat }, writer: self.writer.clone() }))
    }
    fn setattr(&self, attr: &crate::vfs::inode::SetAttr) -> Result<(), Errno> {
        ignore_truncate(attr)
    }
}

/// An open [`SynthRwFile`].
pub struct RwBufferOps {
    inner: BufferOps,
    writer: Arc<Writer>,
}

impl FileOps for RwBufferOps {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        self.inner.read(buf, off)
    }
    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        (self.writer)(buf)?;
        Ok(buf.len())
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.inner.stat()
    }
    fn seq_seek(&self) -> bool {
        true
    }
}

/// An open generated file.
pub struct BufferOps {
    data: Vec<u8>,
    stat: Stat,
}

impl FileOps for BufferOps {
    fn read(&self, buf: &mut [u8], off: u64) -> Result<usize, Errno> {
        let off = (off as usize).min(self.data.len());
        let n = buf.len().min(self.data.len() - off);
        buf[..n].copy_from_slice(&self.data[off..off + n]);
        Ok(n)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn seq_seek(&self) -> bool {
        true
    }
}
