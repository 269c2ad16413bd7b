//! open(2) semantics over the path walk: O_CREAT/O_EXCL, O_NOFOLLOW,
//! O_DIRECTORY, O_PATH, O_TRUNC, permission and read-only checks.

use std::sync::Arc;

use crate::abi::{Errno, Stat};
use crate::auth::Credentials;
use crate::vfs::ops;
use crate::vfs::path::{may_access, path_of, Walker, MAY_READ, MAY_WRITE};
use crate::vfs::{File, FileOps, FileType, Location, Lookup};

/// An O_PATH file: only the location is usable.
struct PathOps {
    loc: Location,
}

impl FileOps for PathOps {
    fn read(&self, _buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Err(Errno::EBADF)
    }
    fn stat(&self) -> Result<Stat, Errno> {
        self.loc.stat()
    }
}

/// O_TMPFILE: an unnamed regular file in the directory `path` (made under
/// a hidden name and unlinked at once); linkat can give it a name unless
/// O_EXCL was given.
fn open_tmpfile(
    root: &Location,
    creds: &Credentials,
    start: &Location,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<Arc<File>, Errno> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let f = flags as i32;
    let acc = f & libc::O_ACCMODE;
    if acc != libc::O_WRONLY && acc != libc::O_RDWR {
        return Err(Errno::EINVAL);
    }
    let dir = Walker::new(root, creds).walk(start, path, Lookup::Follow)?;
    if dir.dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    ops::may_create(&dir, creds)?;
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!(".runsc-tmpfile-{n}").into_bytes();
    let node = ops::new_node(&dir, creds, libc::S_IFREG | (mode & 0o7777), 0, Vec::new())?;
    let loc = match ops::create(&dir, &name, &node) {
        Ok(l) => l,
        // Synthetic directories cannot hold files: Linux's answer for a
        // filesystem without O_TMPFILE.
        Err(Errno::EPERM) => return Err(Errno::EOPNOTSUPP),
        Err(e) => return Err(e),
    };
    dir.dentry.inode.unlink(&name, false)?;
    dir.dentry.remove_child(&name);
    if f & libc::O_EXCL == 0 {
        loc.dentry.inode.make_linkable();
    }
    let ino = loc.stat()?.ino;
    let mut shown = path_of(&dir, root).unwrap_or_else(|| path.to_vec());
    if shown.last() != Some(&b'/') {
        shown.push(b'/');
    }
    shown.extend_from_slice(format!("#{ino} (deleted)").as_bytes());
    let ops = loc.dentry.inode.open(flags & !(libc::O_DIRECTORY as u32))?;
    Ok(File::new(ops, flags & !(libc::O_TMPFILE as u32), Some(loc), shown))
}

/// Opens `path` from `start` with open(2) `flags`; `mode` (the umask
/// applied) is a created file's.
pub fn open(
    root: &Location,
    creds: &Credentials,
    start: &Location,
    path: &[u8],
    flags: u32,
    mode: u32,
) -> Result<Arc<File>, Errno> {
    open_resolve(root, creds, start, path, flags, mode, 0)
}

/// [`open`] with openat2's RESOLVE_* flags.
pub fn open_resolve(
    root: &Location,
    creds: &Credentials,
    start: &Location,
    path: &[u8],
    flags: u32,
    mode: u32,
    resolve: u64,
) -> Result<Arc<File>, Errno> {
    use crate::vfs::path::{RESOLVE_BENEATH, RESOLVE_CACHED, RESOLVE_IN_ROOT};
    let scoped = resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0;
    let walk_root = if scoped { start } else { root };
    if resolve & RESOLVE_CACHED != 0 && flags & (libc::O_CREAT | libc::O_TRUNC | libc::O_TMPFILE) as u32 != 0 {
        return Err(Errno::EAGAIN);
    }
    open_in((walk_root, root), creds, start, path, flags, mode, resolve)
}

/// `roots`: where the walk is rooted, and the task's root (for names).
fn open_in(
    roots: (&Location, &Location),
    creds: &Credentials,
    start: &Location,
    path: &[u8],
    flags: u32,
    mode: u32,
    resolve: u64,
) -> Result<Arc<File>, Errno> {
    let (root, task_root) = roots;
    let f = flags as i32;
    let acc = f & libc::O_ACCMODE;
    if acc == 3 && f & libc::O_PATH == 0 {
        return Err(Errno::EINVAL);
    }
    let mut w = Walker::with_resolve(root, creds, resolve);
    if f & libc::O_TMPFILE == libc::O_TMPFILE {
        return open_tmpfile(root, creds, start, path, flags, mode);
    }
    if f & libc::O_CREAT != 0 && f & libc::O_DIRECTORY != 0 {
        return Err(Errno::EINVAL);
    }
    let mut created = false;
    let loc = if f & libc::O_CREAT != 0 && f & libc::O_PATH == 0 {
        let (parent, name) = w.walk_parent(start, path)?;
        if name.is_empty() || name == b"." || name == b".." || path.ends_with(b"/") {
            return Err(Errno::EISDIR);
        }
        let nofollow = f & (libc::O_EXCL | libc::O_NOFOLLOW) != 0;
        match w.walk(&parent, &name, if nofollow { Lookup::NoFollow } else { Lookup::Follow }) {
            Ok(l) => {
                if f & libc::O_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                match l.dentry.inode.file_type() {
                    FileType::Directory => return Err(Errno::EISDIR),
                    FileType::Symlink => return Err(Errno::ELOOP),
                    _ => {}
                }
                l
            }
            Err(Errno::ENOENT) => {
                // (Linux creates a dangling symlink's target; here the
                // symlink's own name is taken and creating gives EEXIST.)
                ops::may_create(&parent, creds)?;
                let node = ops::new_node(&parent, creds, libc::S_IFREG | (mode & 0o7777), 0, Vec::new())?;
                created = true;
                ops::create(&parent, &name, &node)?
            }
            Err(e) => return Err(e),
        }
    } else {
        let follow = if f & libc::O_NOFOLLOW != 0 { Lookup::NoFollow } else { Lookup::Follow };
        w.walk(start, path, follow)?
    };
    let ftype = loc.dentry.inode.file_type();
    let name = path_of(&loc, task_root).unwrap_or_else(|| path.to_vec());
    if f & libc::O_PATH != 0 {
        if f & libc::O_DIRECTORY != 0 && ftype != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let keep = (libc::O_PATH | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC) as u32;
        // (O_LARGEFILE is not kept on O_PATH files either.)
        return Ok(File::new(Arc::new(PathOps { loc: loc.clone() }), flags & keep, Some(loc), name));
    }
    if f & libc::O_DIRECTORY != 0 && ftype != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if ftype == FileType::Symlink {
        return Err(Errno::ELOOP);
    }
    let wants_write = acc == libc::O_WRONLY || acc == libc::O_RDWR;
    if ftype == FileType::Directory && (wants_write || f & libc::O_TRUNC != 0) {
        return Err(Errno::EISDIR);
    }
    let mut mask = 0;
    if acc == libc::O_RDONLY || acc == libc::O_RDWR {
        mask |= MAY_READ;
    }
    if wants_write || f & libc::O_TRUNC != 0 {
        mask |= MAY_WRITE;
        if loc.mount.readonly() && matches!(ftype, FileType::Regular | FileType::Directory) {
            return Err(Errno::EROFS);
        }
    }
    if wants_write || f & libc::O_TRUNC != 0 {
        let (immutable, append) = ops::immutable_append(&loc.dentry.inode);
        if immutable || (append && (f & libc::O_APPEND == 0 || f & libc::O_TRUNC != 0)) {
            return Err(Errno::EPERM);
        }
    }
    let st = loc.dentry.inode.stat()?;
    // may_open: devices on a nodev mount are not opened.
    if matches!(ftype, FileType::CharDevice | FileType::BlockDevice) && loc.mount.nodev() {
        return Err(Errno::EACCES);
    }
    // A file just made may be opened as asked whatever its mode.
    if !created && !may_access(&st, creds, mask) {
        return Err(Errno::EACCES);
    }
    if f & libc::O_TRUNC != 0 && ftype == FileType::Regular && !created && st.size != 0 {
        ops::truncate(&loc.dentry.inode, 0, creds)?;
    }
    let ops = loc.dentry.inode.open(flags)?;
    crate::fs::inotify::on_inode(&loc, crate::fs::inotify::IN_OPEN);
    Ok(File::new(ops, flags, Some(loc), name))
}
