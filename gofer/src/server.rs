//! The file server: serves one directory tree, read-only or writable.
//!
//! Each fid names an `O_PATH|O_NOFOLLOW` fd opened relative to its parent's
//! fd, so nothing the sentry asks can leave the tree: names are single
//! components (no `/`, `.` or `..`) and symlinks are never followed here (the
//! sentry resolves them in the sandbox's own view). Changes are made
//! relative to a directory fid with single names (`mkdirat`, `unlinkat`,
//! `renameat2`...) or on the fid's own fd with `AT_EMPTY_PATH`, so a symlink
//! a host process swaps in is never followed either.

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::Arc;

use crate::proto::{Dirent, Request, Response, WireSetattr, WireStat, MAX_MESSAGE, ROOT_FID};
use crate::transport::{recv_polling, send, TransportError};

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The root could not be opened.
    #[error("open root {path}: {errno}")]
    Root {
        /// The root path.
        path: String,
        /// The errno.
        errno: nix::errno::Errno,
    },
    /// The channel failed.
    #[error(transparent)]
    Transport(#[from] TransportError),
}

struct Node {
    fd: Arc<OwnedFd>,
    parent: Option<Arc<OwnedFd>>,
    name: CString,
    stat: WireStat,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

fn fstat(fd: RawFd) -> Result<WireStat, i32> {
    // SAFETY: stat is plain data; zeroed is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid out-pointer; the empty path with AT_EMPTY_PATH
    // stats `fd` itself.
    let r = unsafe { libc::fstatat(fd, c"".as_ptr(), &mut st, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) };
    if r != 0 {
        return Err(errno());
    }
    Ok(WireStat::from_host(&st))
}

fn openat(dir: RawFd, name: &CString, flags: i32) -> Result<OwnedFd, i32> {
    // SAFETY: `name` is NUL-terminated; the result is checked.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags | libc::O_CLOEXEC | libc::O_NOFOLLOW, 0) };
    if fd < 0 {
        return Err(errno());
    }
    // SAFETY: openat returned a fresh fd we own.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Non-blocking tries for the next request before sleeping (about 100 µs).
const REQUEST_POLLS: u32 = 200;

/// Opens the regular file of node `n` again beside its name, with
/// `access` (and O_NONBLOCK, so that a FIFO swapped in cannot hang the
/// gofer), checking that it is still the file walked to (ESTALE if the
/// name was replaced since); `no_parent` for the root.
fn reopen(n: &Node, access: i32, no_parent: i32) -> Result<OwnedFd, i32> {
    let parent = n.parent.as_ref().ok_or(no_parent)?;
    let fd = openat(parent.as_raw_fd(), &n.name, access | libc::O_NONBLOCK)?;
    let st = fstat(fd.as_raw_fd())?;
    if st.ino != n.stat.ino || st.dev != n.stat.dev {
        return Err(libc::ESTALE);
    }
    Ok(fd)
}

/// The server state.
pub struct Server {
    nodes: HashMap<u64, Node>,
    next_fid: u64,
    writable: bool,
}

/// A single path component the sentry sent, checked.
fn component(name: &[u8]) -> Result<CString, i32> {
    if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
        return Err(libc::EINVAL);
    }
    CString::new(name).map_err(|_| libc::EINVAL)
}

/// The result of a host call that returns 0 or -1.
fn check(r: i64) -> Result<(), i32> {
    if r < 0 {
        Err(errno())
    } else {
        Ok(())
    }
}

impl Server {
    /// Opens `root` as the served tree.
    pub fn new(root: &Path) -> Result<Server, ServeError> {
        let c = CString::new(root.as_os_str().as_encoded_bytes())
            .map_err(|_| ServeError::Root { path: root.display().to_string(), errno: nix::errno::Errno::EINVAL })?;
        // SAFETY: `c` is NUL-terminated; the result is checked.
        let fd = unsafe { libc::open(c.as_ptr(), libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(ServeError::Root { path: root.display().to_string(), errno: nix::errno::Errno::last() });
        }
        // SAFETY: fresh fd we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let stat = fstat(fd.as_raw_fd()).map_err(|e| ServeError::Root {
            path: root.display().to_string(),
            errno: nix::errno::Errno::from_raw(e),
        })?;
        let mut nodes = HashMap::new();
        nodes.insert(ROOT_FID, Node { fd: Arc::new(fd), parent: None, name: c".".to_owned(), stat });
        Ok(Server { nodes, next_fid: 1, writable: false })
    }

    /// Serves `root` writable: the sandbox may change the tree.
    pub fn new_writable(root: &Path) -> Result<Server, ServeError> {
        // Modes arrive with the sandbox's umask applied: the gofer's own
        // must not take more away.
        // SAFETY: umask has no memory effects.
        unsafe { libc::umask(0) };
        let mut s = Server::new(root)?;
        s.writable = true;
        Ok(s)
    }

    /// Answers requests on `sock` until the sentry closes it.
    pub fn serve(&mut self, sock: RawFd) -> Result<(), ServeError> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            // A program's file calls come in bursts: the next request is
            // usually a trap or two (10-30 µs) away.
            let (n, _) = match recv_polling(sock, &mut buf, REQUEST_POLLS) {
                Ok(x) => x,
                Err(TransportError::Closed) => return Ok(()),
                Err(e) => return Err(e.into()),
            };
            let (resp, fd) = match Request::decode(&buf[..n]) {
                Ok(req) => self.handle(req),
                Err(_) => (Response::Error(libc::EINVAL), None),
            };
            match send(sock, &resp.encode(), fd.as_ref().map(|f| f.as_raw_fd())) {
                Ok(()) => {}
                Err(TransportError::Closed) => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Handles one request.
    pub fn handle(&mut self, req: Request) -> (Response, Option<OwnedFd>) {
        let r = match req {
            Request::Walk { fid, name } => self.walk(fid, &name),
            Request::WalkMany { fid, names } => self.walk_many(fid, &names),
            Request::Getxattr { fid, name } => self.getxattr(fid, &name),
            Request::Listxattr { fid } => self.listxattr(fid),
            Request::Setxattr { fid, name, value, flags } => self.setxattr(fid, &name, &value, flags),
            Request::Removexattr { fid, name } => self.removexattr(fid, &name),
            Request::Stat { fid } => self.node(fid).and_then(|n| fstat(n.fd.as_raw_fd())).map(Response::Stat),
            Request::Open { fid, flags } => return self.open(fid, flags),
            Request::Readdir { fid, cookie } => self.readdir(fid, cookie),
            Request::Readlink { fid } => self.readlink(fid),
            Request::Statfs { fid } => self.statfs(fid),
            Request::Make { fid, name, mode, rdev, uid, gid, target } => {
                self.make(fid, &name, mode, rdev, (uid, gid), &target)
            }
            Request::Link { fid, name, target } => self.link(fid, &name, target),
            Request::Unlink { fid, name, dir } => self.unlink(fid, &name, dir),
            Request::Rename { fid, name, new_fid, new_name, flags } => {
                self.rename(fid, &name, new_fid, &new_name, flags)
            }
            Request::Setattr { fid, attr } => self.setattr(fid, &attr),
            Request::Clunk { fid } => {
                if fid != ROOT_FID {
                    self.nodes.remove(&fid);
                }
                Ok(Response::Ok)
            }
        };
        (r.unwrap_or_else(Response::Error), None)
    }

    fn node(&self, fid: u64) -> Result<&Node, i32> {
        self.nodes.get(&fid).ok_or(libc::EBADF)
    }

    fn walk(&mut self, fid: u64, name: &[u8]) -> Result<Response, i32> {
        let cname = component(name)?;
        let dir = self.node(fid)?.fd.clone();
        self.add_node(dir, cname)
    }

    /// Walks `names` one after another from `fid` as far as they go: on
    /// from each directory, ending after a name that is not one or at a
    /// name that fails (its errno in the reply). Each step is a walk of
    /// its own (single names, O_NOFOLLOW), so the tree's bounds hold as
    /// for single walks.
    fn walk_many(&mut self, fid: u64, names: &[Vec<u8>]) -> Result<Response, i32> {
        if names.is_empty() || names.len() > crate::proto::MAX_WALK {
            return Err(libc::EINVAL);
        }
        let mut dir = self.node(fid)?.fd.clone();
        let mut walked = Vec::with_capacity(names.len());
        for name in names {
            match component(name).and_then(|c| self.add_node(dir.clone(), c)) {
                Ok(Response::Walked { fid, stat }) => {
                    walked.push((fid, stat));
                    if stat.mode & libc::S_IFMT != libc::S_IFDIR {
                        break;
                    }
                    dir = self.node(fid)?.fd.clone();
                }
                Ok(_) => return Err(libc::EIO),
                Err(error) => return Ok(Response::WalkedMany { walked, error }),
            }
        }
        Ok(Response::WalkedMany { walked, error: 0 })
    }

    fn open(&mut self, fid: u64, flags: u32) -> (Response, Option<OwnedFd>) {
        match self.open_inner(fid, flags) {
            Ok(fd) => (Response::Opened, Some(fd)),
            Err(e) => (Response::Error(e), None),
        }
    }

    fn open_inner(&self, fid: u64, flags: u32) -> Result<OwnedFd, i32> {
        let flags = flags as i32;
        let writes = flags & libc::O_ACCMODE != libc::O_RDONLY || flags & libc::O_TRUNC != 0;
        if flags & libc::O_CREAT != 0 || (writes && !self.writable) {
            return Err(libc::EROFS);
        }
        let access = if writes { libc::O_RDWR } else { libc::O_RDONLY };
        let n = self.node(fid)?;
        let kind = n.stat.mode & libc::S_IFMT;
        let fd = match kind {
            libc::S_IFDIR => openat(n.fd.as_raw_fd(), &c".".to_owned(), libc::O_RDONLY | libc::O_DIRECTORY)?,
            libc::S_IFREG => {
                let fd = match reopen(n, access, libc::EISDIR) {
                    // A file the sandbox may only write (mode 0200): still
                    // one description for both directions where possible.
                    Err(libc::EACCES) if writes => reopen(n, libc::O_WRONLY, libc::EISDIR)?,
                    r => r?,
                };
                // Reads of regular files never block; clear O_NONBLOCK (it was
                // only there so a racing FIFO could not hang the gofer).
                // SAFETY: fcntl on our own fd.
                unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, 0) };
                fd
            }
            // Host devices, FIFOs and sockets are never opened for the sandbox.
            libc::S_IFLNK => return Err(libc::ELOOP),
            libc::S_IFSOCK => return Err(libc::ENXIO),
            _ => return Err(libc::EACCES),
        };
        Ok(fd)
    }

    fn readdir(&self, fid: u64, cookie: u64) -> Result<Response, i32> {
        let n = self.node(fid)?;
        let dir = openat(n.fd.as_raw_fd(), &c".".to_owned(), libc::O_RDONLY | libc::O_DIRECTORY)?;
        let mut all = Vec::new();
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            // SAFETY: `buf` is writable for its length; getdents64 fills it.
            let r = unsafe { libc::syscall(libc::SYS_getdents64, dir.as_raw_fd(), buf.as_mut_ptr(), buf.len()) };
            if r < 0 {
                return Err(errno());
            }
            if r == 0 {
                break;
            }
            let mut off = 0usize;
            while off + 19 <= r as usize {
                let ino = u64::from_ne_bytes(buf[off..off + 8].try_into().unwrap_or([0; 8]));
                let reclen = u16::from_ne_bytes([buf[off + 16], buf[off + 17]]) as usize;
                let typ = buf[off + 18];
                if reclen == 0 || off + reclen > r as usize {
                    break;
                }
                let name_bytes = &buf[off + 19..off + reclen];
                let end = name_bytes.iter().position(|&b| b == 0).unwrap_or(name_bytes.len());
                all.push(Dirent { ino, typ, name: name_bytes[..end].to_vec() });
                off += reclen;
            }
        }
        let mut entries = Vec::new();
        let mut size = 64usize;
        let mut i = cookie as usize;
        while i < all.len() {
            let need = 8 + 1 + 4 + all[i].name.len();
            if size + need > MAX_MESSAGE - 64 {
                break;
            }
            size += need;
            entries.push(all[i].clone());
            i += 1;
        }
        Ok(Response::Dirents { entries, next: i as u64, eof: i >= all.len() })
    }

    fn statfs(&self, fid: u64) -> Result<Response, i32> {
        let n = self.node(fid)?;
        // The kernel's struct statfs on x86_64: 15 longs (type, bsize,
        // blocks, bfree, bavail, files, ffree, fsid, namelen, frsize, flags,
        // spare[4]); libc hides f_flags.
        let mut s = [0i64; 15];
        // SAFETY: fstatfs writes 120 bytes into the array, which is that size.
        if unsafe { libc::syscall(libc::SYS_fstatfs, n.fd.as_raw_fd(), s.as_mut_ptr()) } != 0 {
            return Err(errno());
        }
        let u = |i: usize| s[i] as u64;
        Ok(Response::Statfs(crate::proto::WireStatfs {
            fs_type: u(0),
            bsize: u(1),
            blocks: u(2),
            bfree: u(3),
            bavail: u(4),
            files: u(5),
            ffree: u(6),
            namelen: u(8),
            frsize: u(9),
            flags: u(10),
        }))
    }

    fn writable(&self) -> Result<(), i32> {
        if self.writable {
            Ok(())
        } else {
            Err(libc::EROFS)
        }
    }

    fn add_node(&mut self, dir: Arc<OwnedFd>, name: CString) -> Result<Response, i32> {
        let fd = openat(dir.as_raw_fd(), &name, libc::O_PATH)?;
        let stat = fstat(fd.as_raw_fd())?;
        let new = self.next_fid;
        self.next_fid += 1;
        self.nodes.insert(new, Node { fd: Arc::new(fd), parent: Some(dir), name, stat });
        Ok(Response::Walked { fid: new, stat })
    }

    fn make(
        &mut self,
        fid: u64,
        name: &[u8],
        mode: u32,
        rdev: u64,
        owner: (u32, u32),
        target: &[u8],
    ) -> Result<Response, i32> {
        self.writable()?;
        let cname = component(name)?;
        let dir = self.node(fid)?.fd.clone();
        let d = dir.as_raw_fd();
        let perm = mode & 0o7777;
        match mode & libc::S_IFMT {
            // SAFETY: a NUL-terminated name relative to our directory fd.
            libc::S_IFDIR => check(unsafe { libc::mkdirat(d, cname.as_ptr(), perm) } as i64)?,
            libc::S_IFLNK => {
                let t = CString::new(target).map_err(|_| libc::EINVAL)?;
                // SAFETY: NUL-terminated target and name; our directory fd.
                check(unsafe { libc::symlinkat(t.as_ptr(), d, cname.as_ptr()) } as i64)?
            }
            libc::S_IFREG => {
                // SAFETY: a NUL-terminated name relative to our directory
                // fd, never following a symlink; the result is checked.
                let fd = unsafe {
                    libc::openat(
                        d,
                        cname.as_ptr(),
                        libc::O_CREAT | libc::O_EXCL | libc::O_NOFOLLOW | libc::O_WRONLY | libc::O_CLOEXEC,
                        perm,
                    )
                };
                check(fd as i64)?;
                // SAFETY: a fresh fd we own.
                drop(unsafe { OwnedFd::from_raw_fd(fd) });
            }
            // SAFETY: a NUL-terminated name relative to our directory fd.
            _ => check(unsafe { libc::mknodat(d, cname.as_ptr(), mode, rdev) } as i64)?,
        }
        // The owner the sandbox asked for (the gofer's own ids otherwise);
        // a host that refuses (an unprivileged gofer) leaves the gofer's.
        // SAFETY: as above; AT_SYMLINK_NOFOLLOW never follows the new name.
        unsafe { libc::fchownat(d, cname.as_ptr(), owner.0, owner.1, libc::AT_SYMLINK_NOFOLLOW) };
        if mode & libc::S_IFMT != libc::S_IFLNK && perm & 0o7000 != 0 {
            // mkdirat and openat drop setuid/setgid/sticky under the umask
            // or the directory's rules: set them as asked.
            // SAFETY: as for fchownat.
            unsafe { libc::syscall(libc::SYS_fchmodat2, d, cname.as_ptr(), perm, libc::AT_SYMLINK_NOFOLLOW) };
        }
        self.add_node(dir, cname)
    }

    fn link(&mut self, fid: u64, name: &[u8], target: u64) -> Result<Response, i32> {
        self.writable()?;
        let cname = component(name)?;
        let dir = self.node(fid)?.fd.clone();
        let t = self.node(target)?;
        // SAFETY: the target's own O_PATH fd with AT_EMPTY_PATH (no lookup),
        // a single name in our directory fd.
        let r = unsafe {
            libc::linkat(t.fd.as_raw_fd(), c"".as_ptr(), dir.as_raw_fd(), cname.as_ptr(), libc::AT_EMPTY_PATH)
        };
        if r < 0 && errno() == libc::ENOENT {
            // Without CAP_DAC_READ_SEARCH, AT_EMPTY_PATH is refused: link by
            // the parent and name (linkat never follows the old name).
            let p = t.parent.as_ref().ok_or(libc::EPERM)?;
            // SAFETY: as above.
            check(unsafe { libc::linkat(p.as_raw_fd(), t.name.as_ptr(), dir.as_raw_fd(), cname.as_ptr(), 0) } as i64)?;
        } else {
            check(r as i64)?;
        }
        Ok(Response::Ok)
    }

    fn unlink(&mut self, fid: u64, name: &[u8], dir: bool) -> Result<Response, i32> {
        self.writable()?;
        let cname = component(name)?;
        let d = self.node(fid)?.fd.clone();
        let flags = if dir { libc::AT_REMOVEDIR } else { 0 };
        // SAFETY: a single name relative to our directory fd.
        check(unsafe { libc::unlinkat(d.as_raw_fd(), cname.as_ptr(), flags) } as i64)?;
        Ok(Response::Ok)
    }

    fn rename(&mut self, fid: u64, name: &[u8], new_fid: u64, new_name: &[u8], flags: u32) -> Result<Response, i32> {
        self.writable()?;
        let (a, b) = (component(name)?, component(new_name)?);
        let (d1, d2) = (self.node(fid)?.fd.clone(), self.node(new_fid)?.fd.clone());
        // SAFETY: single names relative to our directory fds.
        check(unsafe {
            libc::syscall(libc::SYS_renameat2, d1.as_raw_fd(), a.as_ptr(), d2.as_raw_fd(), b.as_ptr(), flags)
        })?;
        // Fids of the moved files now name stale places: update theirs.
        for n in self.nodes.values_mut() {
            if n.parent.as_ref().is_some_and(|p| Arc::ptr_eq(p, &d1)) && n.name == a {
                n.parent = Some(d2.clone());
                n.name = b.clone();
            }
        }
        Ok(Response::Ok)
    }

    fn setattr(&mut self, fid: u64, a: &WireSetattr) -> Result<Response, i32> {
        self.writable()?;
        let n = self.node(fid)?;
        let fd = n.fd.as_raw_fd();
        if let Some(size) = a.size {
            // Truncation needs a writable description of the very file.
            let p = n.parent.as_ref().ok_or(libc::EISDIR)?;
            let f = openat(p.as_raw_fd(), &n.name, libc::O_WRONLY | libc::O_NONBLOCK)?;
            let st = fstat(f.as_raw_fd())?;
            if st.ino != n.stat.ino || st.dev != n.stat.dev {
                return Err(libc::ESTALE);
            }
            // SAFETY: ftruncate on our own fd.
            check(unsafe { libc::ftruncate(f.as_raw_fd(), size as i64) } as i64)?;
        }
        if a.uid.is_some() || a.gid.is_some() {
            let (u, g) = (a.uid.unwrap_or(u32::MAX), a.gid.unwrap_or(u32::MAX));
            // SAFETY: the fid's own fd with AT_EMPTY_PATH: no lookup at all.
            check(unsafe { libc::fchownat(fd, c"".as_ptr(), u, g, libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW) }
                as i64)?;
        }
        if let Some(m) = a.mode {
            // SAFETY: as above (fchmodat2 takes AT_EMPTY_PATH).
            check(unsafe { libc::syscall(libc::SYS_fchmodat2, fd, c"".as_ptr(), m & 0o7777, libc::AT_EMPTY_PATH) })?;
        }
        if a.atime.is_some() || a.mtime.is_some() {
            let ts = |t: Option<(i64, i64)>| match t {
                Some((s, n)) => libc::timespec { tv_sec: s, tv_nsec: n },
                None => libc::timespec { tv_sec: 0, tv_nsec: libc::UTIME_OMIT },
            };
            let times = [ts(a.atime), ts(a.mtime)];
            // SAFETY: as above; `times` holds two timespecs.
            check(unsafe {
                libc::utimensat(fd, c"".as_ptr(), times.as_ptr(), libc::AT_EMPTY_PATH | libc::AT_SYMLINK_NOFOLLOW)
            } as i64)?;
        }
        let st = fstat(fd)?;
        if let Some(n) = self.nodes.get_mut(&fid) {
            n.stat = st;
        }
        Ok(Response::Stat(st))
    }

    /// An fd of `fid` that the xattr calls take (they refuse O_PATH fds):
    /// the directory itself, or the regular file opened again beside its
    /// name (never following a link, and checked to be the same file).
    /// Other kinds have no user attributes to serve: ENODATA, as a
    /// symlink's.
    fn xattr_fd(&self, fid: u64) -> Result<OwnedFd, i32> {
        let n = self.node(fid)?;
        match n.stat.mode & libc::S_IFMT {
            libc::S_IFDIR => openat(n.fd.as_raw_fd(), &c".".to_owned(), libc::O_RDONLY | libc::O_DIRECTORY),
            libc::S_IFREG => reopen(n, libc::O_RDONLY, libc::ENODATA),
            _ => Err(libc::ENODATA),
        }
    }

    /// Where `fid` is by name, for the xattr calls that take a path (a
    /// directory fd and a name in it): its name in its parent (looking it
    /// up needs search permission on the parent only), or the root of
    /// the tree as "." of its own fd.
    fn xattr_path(&self, fid: u64) -> Result<(i32, &std::ffi::CStr), i32> {
        let n = self.node(fid)?;
        match &n.parent {
            Some(parent) => Ok((parent.as_raw_fd(), n.name.as_c_str())),
            None => Ok((n.fd.as_raw_fd(), c".")),
        }
    }

    /// Reads an attribute value or list of `fid` into `buf`: `by_fd` on an
    /// fd opened for it, or, where the node is not ours to open (EACCES: a
    /// directory or file we may not read, as a rootless or
    /// user-namespaced gofer meets), `by_name` on its name (the xattr
    /// calls need no read permission). ERANGE is E2BIG (too big for a
    /// message); ENODATA, no attributes to serve, passes through.
    fn xattr_read(
        &self,
        fid: u64,
        buf: &mut [u8],
        by_fd: impl FnOnce(i32, &mut [u8]) -> isize,
        by_name: impl FnOnce(i32, &std::ffi::CStr, &mut [u8]) -> Result<usize, i32>,
    ) -> Result<usize, i32> {
        let r = match self.xattr_fd(fid) {
            Ok(fd) => match by_fd(fd.as_raw_fd(), buf) {
                r if r < 0 => Err(errno()),
                r => Ok(r as usize),
            },
            Err(libc::EACCES) => {
                let (dir, path) = self.xattr_path(fid)?;
                by_name(dir, path, buf)
            }
            Err(e) => Err(e),
        };
        r.map_err(|e| if e == libc::ERANGE { libc::E2BIG } else { e })
    }

    fn getxattr(&self, fid: u64, name: &[u8]) -> Result<Response, i32> {
        let name = CString::new(name).map_err(|_| libc::EINVAL)?;
        // The reply must fit a message beside its header.
        let mut buf = vec![0u8; MAX_MESSAGE - 64];
        let n = self.xattr_read(
            fid,
            &mut buf,
            // SAFETY: `name` is NUL-terminated and `b` writable for its length.
            |fd, b| unsafe { libc::fgetxattr(fd, name.as_ptr(), b.as_mut_ptr().cast(), b.len()) },
            |dir, path, b| crate::xattr_at::get(dir, path, &name, b),
        )?;
        buf.truncate(n);
        Ok(Response::Value(buf))
    }

    fn listxattr(&self, fid: u64) -> Result<Response, i32> {
        let mut buf = vec![0u8; MAX_MESSAGE - 1024];
        let r = self.xattr_read(
            fid,
            &mut buf,
            // SAFETY: `b` is writable for its length.
            |fd, b| unsafe { libc::flistxattr(fd, b.as_mut_ptr().cast(), b.len()) },
            crate::xattr_at::list,
        );
        let r = match r {
            Err(libc::ENODATA) => return Ok(Response::Names(Vec::new())),
            r => r?,
        };
        let names = buf[..r].split(|&b| b == 0).filter(|n| !n.is_empty()).map(<[u8]>::to_vec).collect();
        Ok(Response::Names(names))
    }

    fn setxattr(&self, fid: u64, name: &[u8], value: &[u8], flags: u32) -> Result<Response, i32> {
        if !self.writable {
            return Err(libc::EROFS);
        }
        let name = CString::new(name).map_err(|_| libc::EINVAL)?;
        let fd = match self.xattr_fd(fid) {
            Err(libc::ENODATA) => return Err(libc::EPERM),
            r => r?,
        };
        // SAFETY: `name` is NUL-terminated, `value` readable for its length.
        let r =
            unsafe { libc::fsetxattr(fd.as_raw_fd(), name.as_ptr(), value.as_ptr().cast(), value.len(), flags as i32) };
        check(r as i64)?;
        Ok(Response::Ok)
    }

    fn removexattr(&self, fid: u64, name: &[u8]) -> Result<Response, i32> {
        if !self.writable {
            return Err(libc::EROFS);
        }
        let name = CString::new(name).map_err(|_| libc::EINVAL)?;
        let fd = self.xattr_fd(fid)?;
        // SAFETY: `name` is NUL-terminated.
        check(unsafe { libc::fremovexattr(fd.as_raw_fd(), name.as_ptr()) } as i64)?;
        Ok(Response::Ok)
    }

    fn readlink(&self, fid: u64) -> Result<Response, i32> {
        let n = self.node(fid)?;
        let mut buf = vec![0u8; 4096];
        // SAFETY: `buf` is writable for its length; the empty path reads the
        // link `fd` refers to (an O_PATH fd of the symlink itself).
        let r = unsafe { libc::readlinkat(n.fd.as_raw_fd(), c"".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if r < 0 {
            return Err(errno());
        }
        buf.truncate(r as usize);
        Ok(Response::Link(buf))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk(s: &mut Server, fid: u64, name: &str) -> Result<u64, i32> {
        match s.handle(Request::Walk { fid, name: name.as_bytes().to_vec() }).0 {
            Response::Walked { fid, .. } => Ok(fid),
            Response::Error(e) => Err(e),
            r => panic!("unexpected {r:?}"),
        }
    }

    #[test]
    fn xattrs_of_a_writable_tree() {
        let dir = std::env::temp_dir().join(format!("gofer-xattr-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("f"), "x").unwrap();
        let mut s = Server::new_writable(&dir).unwrap();
        let f = walk(&mut s, ROOT_FID, "f").unwrap();
        let set = Request::Setxattr { fid: f, name: b"user.k".to_vec(), value: b"v1".to_vec(), flags: 0 };
        assert_eq!(s.handle(set).0, Response::Ok, "the temporary directory's filesystem takes user xattrs");
        assert_eq!(s.handle(Request::Getxattr { fid: f, name: b"user.k".to_vec() }).0, Response::Value(b"v1".to_vec()));
        assert_eq!(s.handle(Request::Listxattr { fid: f }).0, Response::Names(vec![b"user.k".to_vec()]));
        assert_eq!(s.handle(Request::Removexattr { fid: f, name: b"user.k".to_vec() }).0, Response::Ok);
        assert_eq!(s.handle(Request::Getxattr { fid: f, name: b"user.k".to_vec() }).0, Response::Error(libc::ENODATA));
        let _ = std::fs::remove_dir_all(&dir);
        let mut ro = Server::new(Path::new("/")).unwrap();
        let etc = walk(&mut ro, ROOT_FID, "etc").unwrap();
        let set = Request::Setxattr { fid: etc, name: b"user.k".to_vec(), value: vec![], flags: 0 };
        assert_eq!(ro.handle(set).0, Response::Error(libc::EROFS));
    }

    #[test]
    fn walk_many_goes_as_far_as_it_can() {
        let mut s = Server::new(Path::new("/")).unwrap();
        let names = |v: &[&str]| v.iter().map(|n| n.as_bytes().to_vec()).collect::<Vec<_>>();
        let walk_many = |s: &mut Server, v: &[&str]| s.handle(Request::WalkMany { fid: ROOT_FID, names: names(v) }).0;
        match walk_many(&mut s, &["usr", "lib", "no-such-dir-here", "x"]) {
            Response::WalkedMany { walked, error } => {
                assert_eq!(walked.len(), 2);
                assert_eq!(error, libc::ENOENT);
                assert_eq!(walked[1].1.mode & libc::S_IFMT, libc::S_IFDIR);
            }
            r => panic!("unexpected {r:?}"),
        }
        // A non-directory ends the walk without an error.
        match walk_many(&mut s, &["etc", "passwd", "x"]) {
            Response::WalkedMany { walked, error } => assert_eq!((walked.len(), error), (2, 0)),
            r => panic!("unexpected {r:?}"),
        }
        match walk_many(&mut s, &["etc", ".."]) {
            Response::WalkedMany { walked, error } => assert_eq!((walked.len(), error), (1, libc::EINVAL)),
            r => panic!("unexpected {r:?}"),
        }
        assert_eq!(walk_many(&mut s, &[]), Response::Error(libc::EINVAL));
    }

    #[test]
    fn walk_open_readdir_readlink() {
        let mut s = Server::new(Path::new("/")).unwrap();
        let etc = walk(&mut s, ROOT_FID, "etc").unwrap();
        let passwd = walk(&mut s, etc, "passwd").unwrap();
        let (r, fd) = s.handle(Request::Open { fid: passwd, flags: 0 });
        assert_eq!(r, Response::Opened);
        assert!(fd.is_some());
        assert_eq!(
            s.handle(Request::Open { fid: passwd, flags: libc::O_WRONLY as u32 }).0,
            Response::Error(libc::EROFS)
        );
        assert_eq!(walk(&mut s, etc, "..").unwrap_err(), libc::EINVAL);
        assert_eq!(walk(&mut s, ROOT_FID, "etc/passwd").unwrap_err(), libc::EINVAL);
        assert_eq!(walk(&mut s, etc, "no-such-file-here").unwrap_err(), libc::ENOENT);
        match s.handle(Request::Readdir { fid: etc, cookie: 0 }).0 {
            Response::Dirents { entries, .. } => assert!(entries.iter().any(|d| d.name == b"passwd")),
            r => panic!("unexpected {r:?}"),
        }
        let bin = walk(&mut s, ROOT_FID, "bin").unwrap();
        match s.handle(Request::Readlink { fid: bin }).0 {
            Response::Link(t) => assert_eq!(t, b"usr/bin"),
            Response::Error(e) => assert_eq!(e, libc::EINVAL, "/bin is a directory on this host"),
            r => panic!("unexpected {r:?}"),
        }
    }
}
