//! The file server: serves one directory tree read-only.
//!
//! Each fid names an `O_PATH|O_NOFOLLOW` fd opened relative to its parent's
//! fd, so nothing the sentry asks can leave the tree: names are single
//! components (no `/`, `.` or `..`) and symlinks are never followed here (the
//! sentry resolves them in the sandbox's own view).

use std::collections::HashMap;
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::Arc;

use crate::proto::{Dirent, Request, Response, WireStat, MAX_MESSAGE, ROOT_FID};
use crate::transport::{recv, send, TransportError};

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

/// The server state.
pub struct Server {
    nodes: HashMap<u64, Node>,
    next_fid: u64,
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
        Ok(Server { nodes, next_fid: 1 })
    }

    /// Answers requests on `sock` until the sentry closes it.
    pub fn serve(&mut self, sock: RawFd) -> Result<(), ServeError> {
        let mut buf = vec![0u8; MAX_MESSAGE];
        loop {
            let (n, _) = match recv(sock, &mut buf) {
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
            Request::Stat { fid } => self.node(fid).and_then(|n| fstat(n.fd.as_raw_fd())).map(Response::Stat),
            Request::Open { fid, flags } => return self.open(fid, flags),
            Request::Readdir { fid, cookie } => self.readdir(fid, cookie),
            Request::Readlink { fid } => self.readlink(fid),
            Request::Statfs { fid } => self.statfs(fid),
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
        if name.is_empty() || name == b"." || name == b".." || name.contains(&b'/') || name.contains(&0) {
            return Err(libc::EINVAL);
        }
        let dir = self.node(fid)?.fd.clone();
        let cname = CString::new(name).map_err(|_| libc::EINVAL)?;
        let fd = openat(dir.as_raw_fd(), &cname, libc::O_PATH)?;
        let stat = fstat(fd.as_raw_fd())?;
        let new = self.next_fid;
        self.next_fid += 1;
        self.nodes.insert(new, Node { fd: Arc::new(fd), parent: Some(dir), name: cname, stat });
        Ok(Response::Walked { fid: new, stat })
    }

    fn open(&mut self, fid: u64, flags: u32) -> (Response, Option<OwnedFd>) {
        match self.open_inner(fid, flags) {
            Ok(fd) => (Response::Opened, Some(fd)),
            Err(e) => (Response::Error(e), None),
        }
    }

    fn open_inner(&self, fid: u64, flags: u32) -> Result<OwnedFd, i32> {
        let flags = flags as i32;
        if flags & libc::O_ACCMODE != libc::O_RDONLY || flags & (libc::O_TRUNC | libc::O_CREAT) != 0 {
            return Err(libc::EROFS);
        }
        let n = self.node(fid)?;
        let kind = n.stat.mode & libc::S_IFMT;
        let fd = match kind {
            libc::S_IFDIR => openat(n.fd.as_raw_fd(), &c".".to_owned(), libc::O_RDONLY | libc::O_DIRECTORY)?,
            libc::S_IFREG => {
                let parent = n.parent.as_ref().ok_or(libc::EISDIR)?;
                let fd = openat(parent.as_raw_fd(), &n.name, libc::O_RDONLY | libc::O_NONBLOCK)?;
                // The name may have been replaced since the walk.
                let st = fstat(fd.as_raw_fd())?;
                if st.ino != n.stat.ino || st.dev != n.stat.dev {
                    return Err(libc::ESTALE);
                }
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
