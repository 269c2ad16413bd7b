//! Sockets: socket, socketpair, bind, listen, connect, accept, accept4,
//! getsockname, getpeername, shutdown, sendto, recvfrom, sendmsg, recvmsg,
//! sendmmsg, recvmmsg, setsockopt, getsockopt; and read/write/readv/writev
//! on sockets (recvmsg and sendmsg without flags, as Linux does them).
//! Unix domain sockets are served (`sentry::net::unix`); other families
//! give EAFNOSUPPORT. Host sockets the sandbox was handed are served by
//! `sys_socket_host`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::abi::poll::{READ_EVENTS, WRITE_EVENTS};
use sentry::abi::socket::{
    cmsg_align, cmsg_len, cmsg_space, CmsgHdr, Linger, MMsgHdr, MsgHdr, UcredRaw, AF_UNIX, AF_UNSPEC, CMSG_HDR,
    SCM_CREDENTIALS, SCM_RIGHTS, SOCKADDR_UN_LEN, SOL_SOCKET, SUN_PATH_OFFSET,
};
use sentry::abi::{Errno, Iovec, SigInfo, Timespec, Timeval};
use sentry::kernel::signal_send::Origin;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::mm::TASK_SIZE;
use sentry::net::unix::{Kind, Name, Received, Ucred, UnixSocket, NO_CREDS, SCM_MAX_FD};
use sentry::vfs::File;

/// AF_MAX on Linux 6.x.
const AF_MAX: i32 = 46;
/// SOCK_MAX: types at or above it are EINVAL.
const SOCK_MAX: i32 = 11;
/// sizeof(struct sockaddr_storage): the most of an address the kernel reads.
const SOCKADDR_STORAGE: u64 = 128;
/// UIO_MAXIOV.
const IOV_MAX: u64 = 1024;
/// net.core.optmem_max: the largest control buffer sendmsg takes.
const OPTMEM_MAX: u64 = 131_072;
/// MAX_RW_COUNT: the most one call transfers.
const MAX_RW: usize = 0x7fff_f000;

/// The file at `fd`, which must be a socket (ENOTSOCK otherwise).
fn socket_of(t: &Task, fd: i32) -> Result<Arc<File>, Errno> {
    let f = t.file(fd)?;
    if UnixSocket::of(&f).is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Ok(f)
}

/// The socket behind `fd`: the sandbox's or a host one it was handed
/// (ENOTSOCK otherwise).
fn any_socket(t: &Task, fd: i32) -> Result<Arc<File>, Errno> {
    let f = t.file(fd)?;
    if !crate::sys_socket_host::is_host(&f) {
        unix_only(&f)?;
    }
    Ok(f)
}

/// ENOTSOCK unless `f` is one of the sandbox's sockets (host sockets are
/// `sys_socket_host`'s).
fn unix_only(f: &File) -> Result<(), Errno> {
    UnixSocket::of(f).map(drop).ok_or(Errno::ENOTSOCK)
}

fn sock(f: &File) -> &UnixSocket {
    // Checked by `socket_of`.
    UnixSocket::of(f).expect("socket_of checked the file is a socket")
}

fn cred(t: &Task) -> Ucred {
    Ucred { pid: t.tg.pid, uid: t.creds.uid, gid: t.creds.gid }
}

fn install(t: &Task, s: Arc<UnixSocket>, flags: i32) -> Result<i32, Errno> {
    let name = format!("socket:[{}]", s.ino()).into_bytes();
    let status = libc::O_RDWR as u32 | if flags & libc::SOCK_NONBLOCK != 0 { libc::O_NONBLOCK as u32 } else { 0 };
    let f = File::new(s, status, None, name);
    t.fds.insert(f, flags & libc::SOCK_CLOEXEC != 0, 0, t.nofile_limit())
}

fn kind_of(domain: i32, typ: i32, protocol: i32) -> Result<(Kind, i32), Errno> {
    let flags = typ & (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    let base = typ & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    if !(0..SOCK_MAX).contains(&base) {
        return Err(Errno::EINVAL);
    }
    if !(0..AF_MAX).contains(&domain) {
        return Err(Errno::EAFNOSUPPORT);
    }
    if domain != AF_UNIX {
        return Err(Errno::EAFNOSUPPORT);
    }
    if protocol != 0 && protocol != AF_UNIX {
        return Err(Errno::EPROTONOSUPPORT);
    }
    let kind = match base {
        libc::SOCK_STREAM => Kind::Stream,
        libc::SOCK_DGRAM | libc::SOCK_RAW => Kind::Dgram,
        libc::SOCK_SEQPACKET => Kind::SeqPacket,
        _ => return Err(Errno::ESOCKTNOSUPPORT),
    };
    Ok((kind, flags))
}

/// socket(2).
pub fn socket(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (kind, flags) = kind_of(a.a[0] as i32, a.a[1] as i32, a.a[2] as i32)?;
    let s = UnixSocket::new(kind, &t.kernel.unix_names);
    Ok(install(t, s, flags)? as u64)
}

/// socketpair(2).
pub fn socketpair(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let domain = a.a[0] as i32;
    let (kind, flags) = kind_of(domain, a.a[1] as i32, a.a[2] as i32).map_err(|e| {
        if e == Errno::EAFNOSUPPORT && (0..AF_MAX).contains(&domain) {
            // Families that exist but cannot make pairs.
            Errno::EOPNOTSUPP
        } else {
            e
        }
    })?;
    let (x, y) = UnixSocket::pair(kind, &t.kernel.unix_names, cred(t));
    let fx = install(t, x, flags)?;
    let fy = match install(t, y, flags) {
        Ok(f) => f,
        Err(e) => {
            let _ = t.fds.remove(fx);
            return Err(e.into());
        }
    };
    if let Err(e) = t.copy_out(a.a[3], &[fx, fy]) {
        let _ = t.fds.remove(fx);
        let _ = t.fds.remove(fy);
        return Err(e.into());
    }
    Ok(0)
}

/// An address as the application gave it.
enum Addr {
    /// A bare AF_UNIX family (bind: autobind).
    Family,
    /// AF_UNSPEC (datagram connect: disconnect).
    Unspec,
    /// A unix name.
    Unix(Name),
}

/// Copies in a socket address as Linux does (move_addr_to_kernel, then
/// the unix checks): at most `sockaddr_storage`, a family, and for a name
/// more than the family.
fn read_addr(t: &Task, addr: u64, len: u64) -> Result<Addr, Errno> {
    if len as i32 as i64 != len as i64 || (len as i32) < 0 || len > SOCKADDR_STORAGE {
        return Err(Errno::EINVAL);
    }
    let len = len as usize;
    let mut b = vec![0u8; len];
    if len > 0 {
        t.mm().copy_in(addr, &mut b)?;
    }
    if len < SUN_PATH_OFFSET {
        return Err(Errno::EINVAL);
    }
    let family = u16::from_ne_bytes([b[0], b[1]]) as i32;
    if family == AF_UNSPEC {
        return Ok(Addr::Unspec);
    }
    if family != AF_UNIX || len > SOCKADDR_UN_LEN {
        return Err(Errno::EINVAL);
    }
    if len == SUN_PATH_OFFSET {
        return Ok(Addr::Family);
    }
    let path = &b[SUN_PATH_OFFSET..];
    if path[0] == 0 {
        return Ok(Addr::Unix(Name::Abstract(path[1..].to_vec())));
    }
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    Ok(Addr::Unix(Name::Path(path[..end].to_vec())))
}

/// A unix name for connect or send: a bare family or AF_UNSPEC is EINVAL.
fn read_name(t: &Task, addr: u64, len: u64) -> Result<Name, Errno> {
    match read_addr(t, addr, len)? {
        Addr::Unix(n) => Ok(n),
        Addr::Family | Addr::Unspec => Err(Errno::EINVAL),
    }
}

/// The `struct sockaddr_un` bytes of a name; an unnamed socket's is the
/// bare family, or nothing at all (`bare`: false, for a sender's address).
fn addr_bytes(name: &Name, bare: bool) -> Vec<u8> {
    let mut b = (AF_UNIX as u16).to_ne_bytes().to_vec();
    match name {
        Name::Unnamed if !bare => return Vec::new(),
        Name::Unnamed => {}
        Name::Abstract(n) => {
            b.push(0);
            b.extend_from_slice(n);
        }
        Name::Path(p) => {
            b.extend_from_slice(p);
            b.push(0);
        }
        Name::Inode(..) => {}
    }
    b
}

/// move_addr_to_user: copies as much of `bytes` as `*len_addr` has room
/// for, and stores the full length there.
pub(crate) fn write_addr(t: &Task, bytes: &[u8], addr: u64, len_addr: u64) -> Result<(), Errno> {
    let room: i32 = t.copy_in(len_addr)?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let n = bytes.len().min(room as usize);
    if n > 0 {
        t.mm().copy_out(addr, &bytes[..n])?;
    }
    t.copy_out(len_addr, &(bytes.len() as i32))?;
    Ok(())
}

/// The target a name means: a path is resolved (following symlinks) to a
/// socket file the caller may write to (unix_find_bsd: the walk's errno,
/// EACCES, ECONNREFUSED for a file that is not a socket).
fn target(t: &Task, name: Name) -> Result<Name, Errno> {
    let Name::Path(p) = &name else { return Ok(name) };
    let loc = t.resolve(libc::AT_FDCWD, p, sentry::vfs::Lookup::Follow)?;
    let st = loc.stat()?;
    if !sentry::vfs::path::may_access(&st, &t.creds, sentry::vfs::path::MAY_WRITE) {
        return Err(Errno::EACCES);
    }
    if st.mode & libc::S_IFMT != libc::S_IFSOCK {
        return Err(Errno::ECONNREFUSED);
    }
    Ok(Name::Inode(loc.mount.dev, st.ino))
}

/// bind(2).
pub fn bind(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let name = match read_addr(t, a.a[1], a.a[2])? {
        Addr::Family => Name::Unnamed,
        Addr::Unspec => return Err(Errno::EINVAL.into()),
        Addr::Unix(n) => n,
    };
    let Name::Path(p) = name else {
        sock(&f).bind(name)?;
        return Ok(0);
    };
    // unix_mknod: a socket file, mode 0777 less the umask; EADDRINUSE if
    // the name exists.
    let start = t.start_dir(libc::AT_FDCWD, &p)?;
    let (root, creds) = t.walk_context();
    let (parent, last) = sentry::vfs::path::Walker::new(&root, &creds).walk_parent(&start, &p)?;
    if last.is_empty() || last == b"." || last == b".." {
        return Err(Errno::EADDRINUSE.into());
    }
    match sentry::vfs::path::Walker::new(&root, &creds).walk(&parent, &last, sentry::vfs::Lookup::NoFollow) {
        Ok(_) => return Err(Errno::EADDRINUSE.into()),
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e.into()),
    }
    sentry::vfs::ops::may_create(&parent, &creds)?;
    // (Linux makes the file, then finds the socket bound and removes it.)
    if sock(&f).is_bound() {
        return Err(Errno::EINVAL.into());
    }
    let mode = libc::S_IFSOCK | (0o777 & !t.fs.umask());
    let node = sentry::vfs::ops::new_node(&parent, &creds, mode, 0, Vec::new())?;
    let made = sentry::vfs::ops::create(&parent, &last, &node)?;
    let key = (made.mount.dev, made.stat()?.ino);
    sock(&f).bind_path(p, key)?;
    Ok(0)
}

/// listen(2).
pub fn listen(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    sock(&f).listen(a.a[1] as i32, cred(t))?;
    Ok(0)
}

fn deadline(d: Duration) -> Option<Instant> {
    (!d.is_zero()).then(|| Instant::now() + d)
}

/// connect(2).
pub fn connect(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let s = sock(&f);
    let addr = read_addr(t, a.a[1], a.a[2])?;
    if s.kind == Kind::Dgram {
        return match addr {
            Addr::Unspec => Ok(s.connect_dgram(None).map(|_| 0)?),
            Addr::Family => Err(Errno::EINVAL.into()),
            Addr::Unix(name) => {
                let name = target(t, name)?;
                Ok(s.connect_dgram(Some(&name)).map(|_| 0)?)
            }
        };
    }
    let Addr::Unix(name) = addr else { return Err(Errno::EINVAL.into()) };
    let name = target(t, name)?;
    let until = deadline(s.timeout(true));
    loop {
        match s.connect(&name, cred(t)) {
            Err(Errno::EAGAIN) if !f.nonblocking() => {
                // The listener's backlog is full: try again shortly.
                if until.is_some_and(|d| Instant::now() >= d) {
                    return Err(Errno::EAGAIN.into());
                }
                t.sleep_until(Some(Instant::now() + Duration::from_millis(5)))?;
            }
            r => return Ok(r.map(|_| 0)?),
        }
    }
}

fn do_accept(t: &mut Task, fd: i32, addr: u64, len_addr: u64, flags: i32) -> SyscallResult {
    if flags & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let f = t.file(fd)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::accept(t, &f, addr, len_addr, flags);
    }
    unix_only(&f)?;
    let s = sock(&f);
    if s.kind == Kind::Dgram {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let timeout = deadline(s.timeout(false));
    let conn = loop {
        match s.accept() {
            Err(Errno::EAGAIN) if !f.nonblocking() => match t.wait_ready(&f, READ_EVENTS, timeout) {
                Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN.into()),
                r => r?,
            },
            r => break r?,
        }
    };
    let fd = install(t, conn.clone(), flags)?;
    if addr != 0 {
        let peer = conn.peer_name().unwrap_or(Name::Unnamed);
        if let Err(e) = write_addr(t, &addr_bytes(&peer, true), addr, len_addr) {
            // The connection is lost with the fd, as in Linux.
            let _ = t.fds.remove(fd);
            return Err(e.into());
        }
    }
    Ok(fd as u64)
}

/// accept(2).
pub fn accept(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_accept(t, a.a[0] as i32, a.a[1], a.a[2], 0)
}

/// accept4(2).
pub fn accept4(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_accept(t, a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32)
}

/// getsockname(2).
pub fn getsockname(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::name(t, &f, false, a.a[1], a.a[2]);
    }
    unix_only(&f)?;
    write_addr(t, &addr_bytes(&sock(&f).name(), true), a.a[1], a.a[2])?;
    Ok(0)
}

/// getpeername(2).
pub fn getpeername(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::name(t, &f, true, a.a[1], a.a[2]);
    }
    unix_only(&f)?;
    let name = sock(&f).peer_name()?;
    write_addr(t, &addr_bytes(&name, true), a.a[1], a.a[2])?;
    Ok(0)
}

/// shutdown(2).
pub fn shutdown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = t.file(a.a[0] as i32)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::shutdown(&f, a.a[1] as i32);
    }
    unix_only(&f)?;
    sock(&f).shutdown(a.a[1] as i32)?;
    Ok(0)
}

/// Reads an iovec array as import_iovec does: at most UIO_MAXIOV entries,
/// no negative lengths, each buffer below the top of user memory; the
/// total is capped at MAX_RW_COUNT.
pub(crate) fn read_iovecs(t: &Task, iov: u64, cnt: u64) -> Result<Vec<Iovec>, Errno> {
    if cnt > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    let mut out: Vec<Iovec> = Vec::with_capacity(cnt as usize);
    let mut total = 0usize;
    for i in 0..cnt {
        let mut v: Iovec = t.copy_in(iov + i * std::mem::size_of::<Iovec>() as u64)?;
        if (v.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        if v.base.checked_add(v.len).is_none_or(|e| e > TASK_SIZE) {
            return Err(Errno::EFAULT);
        }
        v.len = v.len.min((MAX_RW - total) as u64);
        total += v.len as usize;
        out.push(v);
    }
    Ok(out)
}

/// The bytes of an iovec array, copied in.
pub(crate) fn gather(t: &Task, iovs: &[Iovec]) -> Result<Vec<u8>, Errno> {
    let mut out = vec![0u8; iovs.iter().map(|v| v.len as usize).sum()];
    let mut at = 0;
    for v in iovs {
        t.mm().copy_in(v.base, &mut out[at..at + v.len as usize])?;
        at += v.len as usize;
    }
    Ok(out)
}

/// Writes received bytes into an iovec array, continuing where the last
/// write stopped.
pub(crate) struct IovSink<'a> {
    t: &'a Task,
    iovs: &'a [Iovec],
    idx: usize,
    off: u64,
}

impl<'a> IovSink<'a> {
    /// A sink at the start of `iovs`.
    pub(crate) fn new(t: &'a Task, iovs: &'a [Iovec]) -> IovSink<'a> {
        IovSink { t, iovs, idx: 0, off: 0 }
    }

    /// Bytes of room left.
    pub(crate) fn room(&self) -> usize {
        let rest: u64 = self.iovs[self.idx.min(self.iovs.len())..].iter().map(|v| v.len).sum();
        (rest - self.off.min(rest)) as usize
    }

    /// Copies `data` out into the buffers where the last write stopped.
    pub(crate) fn write(&mut self, mut data: &[u8]) -> Result<(), Errno> {
        while !data.is_empty() {
            let Some(v) = self.iovs.get(self.idx) else { return Ok(()) };
            let n = ((v.len - self.off) as usize).min(data.len());
            self.t.mm().copy_out(v.base + self.off, &data[..n])?;
            self.off += n as u64;
            data = &data[n..];
            if self.off == v.len {
                self.idx += 1;
                self.off = 0;
            }
        }
        Ok(())
    }
}

/// Ancillary data to send.
#[derive(Default)]
struct Control {
    rights: Vec<Arc<File>>,
    creds: Option<Ucred>,
}

/// Whether the caller may claim credentials `u` (scm_check_creds): its
/// own ids, or any with the capabilities (root in the sandbox).
fn check_creds(t: &Task, u: &UcredRaw) -> Result<Ucred, Errno> {
    if u.uid == u32::MAX || u.gid == u32::MAX {
        return Err(Errno::EINVAL);
    }
    let c = &t.creds;
    let root = c.euid == 0;
    let pid_ok = u.pid == t.tg.pid || root;
    let uid_ok = u.uid == c.uid || u.uid == c.euid || u.uid == c.suid || root;
    let gid_ok = u.gid == c.gid || u.gid == c.egid || u.gid == c.sgid || root;
    if !(pid_ok && uid_ok && gid_ok) {
        return Err(Errno::EPERM);
    }
    if u.pid != t.tg.pid && t.kernel.thread_group(u.pid).is_none() {
        return Err(Errno::ESRCH);
    }
    Ok(Ucred { pid: u.pid, uid: u.uid, gid: u.gid })
}

/// Parses the control buffer of sendmsg as Linux's __scm_send does.
fn parse_control(t: &Task, ctl: u64, len: u64) -> Result<Control, Errno> {
    let mut c = Control::default();
    if len == 0 {
        return Ok(c);
    }
    if len > OPTMEM_MAX {
        return Err(Errno::ENOBUFS);
    }
    let mut b = vec![0u8; len as usize];
    t.mm().copy_in(ctl, &mut b)?;
    let mut off = 0usize;
    while off + CMSG_HDR <= b.len() {
        let mut h = CmsgHdr::default();
        sentry::abi::Pod::as_bytes_mut(&mut h).copy_from_slice(&b[off..off + CMSG_HDR]);
        let clen = h.len as usize;
        if clen < CMSG_HDR || h.len > (b.len() - off) as u64 {
            return Err(Errno::EINVAL);
        }
        let data = &b[off + CMSG_HDR..off + clen];
        if h.level == SOL_SOCKET {
            match h.typ {
                SCM_RIGHTS => {
                    let num = data.len() / 4;
                    if num > SCM_MAX_FD || c.rights.len() + num > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                    for fdb in data.chunks_exact(4) {
                        let fd = i32::from_ne_bytes([fdb[0], fdb[1], fdb[2], fdb[3]]);
                        c.rights.push(t.file(fd)?);
                    }
                }
                SCM_CREDENTIALS => {
                    if clen != cmsg_len(std::mem::size_of::<UcredRaw>()) {
                        return Err(Errno::EINVAL);
                    }
                    let mut u = UcredRaw::default();
                    sentry::abi::Pod::as_bytes_mut(&mut u).copy_from_slice(data);
                    c.creds = Some(check_creds(t, &u)?);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        off += cmsg_align(clen);
    }
    Ok(c)
}

/// Sends on a socket, blocking as the file and flags say; a stream that
/// finds its peer gone raises SIGPIPE (unless MSG_NOSIGNAL).
fn send_data(t: &Task, f: &File, data: &[u8], ctl: Control, to: Option<Name>, flags: i32) -> Result<usize, Errno> {
    let s = sock(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let timeout = deadline(s.timeout(true));
    let mut done = 0usize;
    let mut ctl = ctl;
    loop {
        let r = s.send(&data[done..], ctl.rights.clone(), ctl.creds, to.as_ref(), cred(t));
        match r {
            Ok(n) => {
                if n > 0 {
                    ctl.rights.clear();
                }
                done += n;
                if done == data.len() || s.kind != Kind::Stream || nonblock {
                    return Ok(done);
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(_) if done > 0 => return Ok(done),
            Err(e) => {
                if e == Errno::EPIPE && s.kind == Kind::Stream && flags & libc::MSG_NOSIGNAL == 0 {
                    t.kernel.send_group_signal(
                        &t.tg,
                        SigInfo::user(libc::SIGPIPE, sentry::abi::signal::SI_USER, t.tg.pid, t.creds.uid),
                        Origin::Sandbox,
                    );
                }
                return Err(e);
            }
        }
        // A datagram's room may come from a receiver whose queue others
        // fill: look again every so often.
        let step = if s.kind == Kind::Dgram { Some(Instant::now() + Duration::from_millis(10)) } else { None };
        let until = match (timeout, step) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match t.wait_ready(f, WRITE_EVENTS, until) {
            Ok(()) => {}
            Err(Errno::ETIMEDOUT) if timeout.is_none_or(|d| Instant::now() < d) => {}
            Err(Errno::ETIMEDOUT) => return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) },
            Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
        }
    }
}

/// Receives into `iovs`, blocking as the file and flags say (MSG_WAITALL
/// reads on until the buffers are full, for streams).
fn recv_data(t: &Task, f: &File, iovs: &[Iovec], flags: i32) -> Result<Received, Errno> {
    let s = sock(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let peek = flags & libc::MSG_PEEK != 0;
    let waitall = flags & libc::MSG_WAITALL != 0 && s.kind == Kind::Stream && !peek;
    let timeout = deadline(s.timeout(false));
    let mut sink = IovSink { t, iovs, idx: 0, off: 0 };
    let mut got: Option<Received> = None;
    loop {
        let r = {
            let _io = s.io_lock();
            let room = sink.room();
            if room == 0 && got.is_some() {
                break;
            }
            s.recv(room, peek, nonblock, &mut |d| sink.write(d))
        };
        match r {
            Ok(r) => {
                let eof = r.n == 0;
                let carried = !r.rights.is_empty();
                match &mut got {
                    None => got = Some(r),
                    Some(g) => {
                        g.n += r.n;
                        g.full += r.full;
                        g.rights.extend(r.rights);
                    }
                }
                if !waitall || sink.room() == 0 || eof || carried || nonblock {
                    break;
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(_) if got.is_some() => break,
            Err(e) => return Err(e),
        }
        match t.wait_ready(f, READ_EVENTS, timeout) {
            Ok(()) => {}
            Err(_) if got.is_some() => break,
            Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN),
            Err(e) => return Err(e),
        }
    }
    got.ok_or(Errno::EAGAIN)
}

/// read(2) and readv(2) on a socket: recvmsg without flags. A zero-length
/// read returns 0 without looking at the socket, as Linux's sock_read_iter.
pub(crate) fn read_socket(t: &Task, f: &File, iovs: &[Iovec]) -> Result<usize, Errno> {
    if iovs.iter().all(|v| v.len == 0) {
        return Ok(0);
    }
    Ok(recv_data(t, f, iovs, 0)?.n)
}

/// write(2) and writev(2) on a socket: sendmsg without flags.
pub(crate) fn write_socket(t: &Task, f: &File, iovs: &[Iovec]) -> Result<usize, Errno> {
    let data = gather(t, iovs)?;
    send_data(t, f, &data, Control::default(), None, 0)
}

/// sendto(2).
pub fn sendto(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, buf, len, flags, addr, alen) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32, a.a[4], a.a[5]);
    let iov = [Iovec { base: buf, len: len.min(MAX_RW as u64) }];
    let f = t.file(fd)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::sendto(t, &f, buf, iov[0].len as usize, flags);
    }
    unix_only(&f)?;
    if buf.checked_add(iov[0].len).is_none_or(|e| e > TASK_SIZE) {
        return Err(Errno::EFAULT.into());
    }
    let to = if addr != 0 && alen != 0 { Some(target(t, read_name(t, addr, alen)?)?) } else { None };
    let data = gather(t, &iov)?;
    Ok(send_data(t, &f, &data, Control::default(), to, flags)? as u64)
}

/// recvfrom(2).
pub fn recvfrom(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, buf, len, flags, addr, alen) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32, a.a[4], a.a[5]);
    let iov = [Iovec { base: buf, len: len.min(MAX_RW as u64) }];
    let f = t.file(fd)?;
    if crate::sys_socket_host::is_host(&f) {
        let alen = if addr != 0 { alen } else { 0 };
        return crate::sys_socket_host::recvfrom(t, &f, buf, iov[0].len as usize, flags, alen);
    }
    unix_only(&f)?;
    if buf.checked_add(iov[0].len).is_none_or(|e| e > TASK_SIZE) {
        return Err(Errno::EFAULT.into());
    }
    let r = recv_data(t, &f, &iov, flags)?;
    if addr != 0 {
        write_addr(t, &addr_bytes(&r.from, false), addr, alen)?;
    }
    Ok(if flags & libc::MSG_TRUNC != 0 && sock(&f).kind != Kind::Stream { r.full } else { r.n } as u64)
}

fn do_sendmsg(t: &Task, f: &File, msg: u64, flags: i32) -> Result<usize, Errno> {
    if crate::sys_socket_host::is_host(f) {
        return crate::sys_socket_host::sendmsg(t, f, msg, flags);
    }
    let m: MsgHdr = t.copy_in(msg)?;
    if m.controllen > i32::MAX as u64 {
        return Err(Errno::ENOBUFS);
    }
    let iovs = read_iovecs(t, m.iov, m.iovlen)?;
    let to =
        if m.name != 0 && m.namelen != 0 { Some(target(t, read_name(t, m.name, m.namelen as u64)?)?) } else { None };
    let ctl = parse_control(t, m.control, m.controllen)?;
    let data = gather(t, &iovs)?;
    send_data(t, f, &data, ctl, to, flags)
}

/// Where received ancillary data goes: the application's control buffer,
/// filled as Linux's put_cmsg and scm_detach_fds fill it.
struct ControlOut<'a> {
    t: &'a Task,
    at: u64,
    room: u64,
    trunc: bool,
}

impl ControlOut<'_> {
    /// put_cmsg: a header and `data`, truncated to the room left.
    fn put(&mut self, typ: i32, data: &[u8]) {
        if self.room < CMSG_HDR as u64 {
            self.trunc = true;
            return;
        }
        let mut len = cmsg_len(data.len()) as u64;
        if self.room < len {
            self.trunc = true;
            len = self.room;
        }
        let h = CmsgHdr { len, level: SOL_SOCKET, typ };
        if self.t.copy_out(self.at, &h).is_err() {
            return;
        }
        let n = len as usize - CMSG_HDR;
        if self.t.mm().copy_out(self.at + CMSG_HDR as u64, &data[..n]).is_err() {
            return;
        }
        let adv = (cmsg_space(data.len()) as u64).min(self.room);
        self.at += adv;
        self.room -= adv;
    }

    /// scm_detach_fds: installs as many of `files` as fit, each only once
    /// its number is written; the rest are closed.
    fn put_rights(&mut self, files: Vec<Arc<File>>, cloexec: bool) {
        let fdmax = if self.room > CMSG_HDR as u64 { ((self.room as usize) - CMSG_HDR) / 4 } else { 0 };
        let fdmax = fdmax.min(files.len());
        let mut i = 0;
        for file in files.iter().take(fdmax) {
            let Ok(fd) = self.t.fds.insert(file.clone(), cloexec, 0, self.t.nofile_limit()) else { break };
            if self.t.copy_out(self.at + (CMSG_HDR + i * 4) as u64, &fd).is_err() {
                let _ = self.t.fds.remove(fd);
                break;
            }
            i += 1;
        }
        if i > 0 {
            let h = CmsgHdr { len: cmsg_len(i * 4) as u64, level: SOL_SOCKET, typ: SCM_RIGHTS };
            if self.t.copy_out(self.at, &h).is_ok() {
                let adv = (cmsg_space(i * 4) as u64).min(self.room);
                self.at += adv;
                self.room -= adv;
            }
        }
        if i < files.len() {
            self.trunc = true;
        }
    }
}

fn do_recvmsg(t: &Task, f: &File, msg: u64, flags: i32) -> Result<usize, Errno> {
    if crate::sys_socket_host::is_host(f) {
        return crate::sys_socket_host::recvmsg(t, f, msg, flags);
    }
    let mut m: MsgHdr = t.copy_in(msg)?;
    if (m.namelen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let iovs = read_iovecs(t, m.iov, m.iovlen)?;
    let r = recv_data(t, f, &iovs, flags)?;
    let s = sock(f);
    let mut mflags = flags & libc::MSG_CMSG_CLOEXEC;
    if r.full > r.n && s.kind != Kind::Stream {
        mflags |= libc::MSG_TRUNC;
    }
    // Ancillary data (scm_recv).
    let passcred = s.passcred();
    let mut out = ControlOut { t, at: m.control, room: m.controllen, trunc: false };
    if m.control == 0 {
        if passcred || !r.rights.is_empty() {
            out.trunc = true;
        }
    } else {
        if passcred {
            let c = r.creds.unwrap_or(NO_CREDS);
            let u = UcredRaw { pid: c.pid, uid: c.uid, gid: c.gid };
            out.put(SCM_CREDENTIALS, sentry::abi::Pod::as_bytes(&u));
        }
        if !r.rights.is_empty() {
            out.put_rights(r.rights, flags & libc::MSG_CMSG_CLOEXEC != 0);
        }
    }
    if out.trunc {
        mflags |= libc::MSG_CTRUNC;
    }
    m.controllen = out.at - m.control;
    if m.name != 0 {
        let b = addr_bytes(&r.from, false);
        let room = (m.namelen as usize).min(SOCKADDR_STORAGE as usize);
        let n = b.len().min(room);
        if n > 0 {
            t.mm().copy_out(m.name, &b[..n])?;
        }
        m.namelen = b.len() as u32;
    } else {
        m.namelen = 0;
    }
    m.flags = mflags;
    t.copy_out(msg, &m)?;
    Ok(if flags & libc::MSG_TRUNC != 0 && s.kind != Kind::Stream { r.full } else { r.n })
}

/// sendmsg(2).
pub fn sendmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = any_socket(t, a.a[0] as i32)?;
    Ok(do_sendmsg(t, &f, a.a[1], a.a[2] as i32)? as u64)
}

/// recvmsg(2).
pub fn recvmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = any_socket(t, a.a[0] as i32)?;
    Ok(do_recvmsg(t, &f, a.a[1], a.a[2] as i32)? as u64)
}

/// The address of entry `i` of an mmsghdr array.
fn mmsg_at(vec: u64, i: u32) -> u64 {
    vec + i as u64 * std::mem::size_of::<MMsgHdr>() as u64
}

/// sendmmsg(2): the number sent; an error after the first is dropped.
pub fn sendmmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, vec, n, flags) = (a.a[0] as i32, a.a[1], (a.a[2] as u32).min(IOV_MAX as u32), a.a[3] as i32);
    let f = any_socket(t, fd)?;
    let mut sent = 0u32;
    for i in 0..n {
        let at = mmsg_at(vec, i);
        let r = do_sendmsg(t, &f, at, flags).and_then(|len| {
            let mut e: MMsgHdr = t.copy_in(at)?;
            e.len = len as u32;
            t.copy_out(at, &e)
        });
        match r {
            Ok(()) => sent += 1,
            Err(e) if sent == 0 => return Err(e.into()),
            Err(_) => break,
        }
    }
    Ok(sent as u64)
}

/// recvmmsg(2): the number received. An error after the first is kept
/// for the next call (unless EAGAIN); the timeout is looked at between
/// messages, and what is left of it written back.
pub fn recvmmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, vec, n, flags, uts) = (a.a[0] as i32, a.a[1], (a.a[2] as u32).min(IOV_MAX as u32), a.a[3] as i32, a.a[4]);
    let f = any_socket(t, fd)?;
    let end =
        if uts != 0 { Some(crate::sys_time::deadline_after(crate::sys_time::read_timespec(t, uts)?)) } else { None };
    let mut got = 0u32;
    let mut flags = flags;
    for i in 0..n {
        let at = mmsg_at(vec, i);
        let r = do_recvmsg(t, &f, at, flags).and_then(|len| {
            let mut e: MMsgHdr = t.copy_in(at)?;
            e.len = len as u32;
            t.copy_out(at, &e)
        });
        match r {
            Ok(()) => got += 1,
            Err(e) if got == 0 => return Err(e.into()),
            Err(e) => {
                if e != Errno::EAGAIN {
                    sock(&f).set_error(e);
                }
                break;
            }
        }
        if flags & libc::MSG_WAITFORONE != 0 {
            flags |= libc::MSG_DONTWAIT;
        }
        if end.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    if let Some(d) = end {
        let left = d.saturating_duration_since(Instant::now());
        t.copy_out(uts, &Timespec { tv_sec: left.as_secs() as i64, tv_nsec: left.subsec_nanos() as i64 })?;
    }
    Ok(got as u64)
}

fn read_int(t: &Task, val: u64, len: u64) -> Result<i32, Errno> {
    if (len as i32) < 4 {
        return Err(Errno::EINVAL);
    }
    t.copy_in(val)
}

fn read_timeval(t: &Task, val: u64, len: u64) -> Result<Duration, Errno> {
    if (len as i32) < std::mem::size_of::<Timeval>() as i32 {
        return Err(Errno::EINVAL);
    }
    let tv: Timeval = t.copy_in(val)?;
    if tv.tv_usec < 0 || tv.tv_usec >= 1_000_000 {
        return Err(Errno::EDOM);
    }
    if tv.tv_sec < 0 {
        return Ok(Duration::ZERO);
    }
    Ok(Duration::new(tv.tv_sec as u64, tv.tv_usec as u32 * 1000))
}

/// Options that are stored and read back, with no effect on unix sockets.
fn kept_option(opt: i32) -> bool {
    matches!(
        opt,
        libc::SO_REUSEADDR
            | libc::SO_REUSEPORT
            | libc::SO_KEEPALIVE
            | libc::SO_BROADCAST
            | libc::SO_OOBINLINE
            | libc::SO_DONTROUTE
            | libc::SO_PASSSEC
            | libc::SO_PRIORITY
            | libc::SO_RCVLOWAT
            | libc::SO_SNDLOWAT
            | libc::SO_TIMESTAMP
            | libc::SO_ZEROCOPY
    )
}

/// setsockopt(2). Unix sockets have no options beyond SOL_SOCKET's.
pub fn setsockopt(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, level, opt, val, len) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3], a.a[4]);
    let f = t.file(fd)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::setsockopt(t, &f, level, opt, val, len);
    }
    unix_only(&f)?;
    let s = sock(&f);
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP.into());
    }
    match opt {
        libc::SO_PASSCRED => s.set_passcred(read_int(t, val, len)? != 0),
        libc::SO_SNDBUF => s.set_buffer(true, read_int(t, val, len)?, false),
        libc::SO_RCVBUF => s.set_buffer(false, read_int(t, val, len)?, false),
        libc::SO_SNDBUFFORCE | libc::SO_RCVBUFFORCE => {
            let v = read_int(t, val, len)?;
            if t.creds.euid != 0 {
                return Err(Errno::EPERM.into());
            }
            s.set_buffer(opt == libc::SO_SNDBUFFORCE, v, true);
        }
        libc::SO_RCVTIMEO => s.set_timeout(false, read_timeval(t, val, len)?),
        libc::SO_SNDTIMEO => s.set_timeout(true, read_timeval(t, val, len)?),
        libc::SO_LINGER => {
            if (len as i32) < std::mem::size_of::<Linger>() as i32 {
                return Err(Errno::EINVAL.into());
            }
            let l: Linger = t.copy_in(val)?;
            s.set_linger((l.onoff, l.linger));
        }
        o if kept_option(o) => {
            let v = read_int(t, val, len)?;
            let kept = if matches!(o, libc::SO_PRIORITY | libc::SO_RCVLOWAT | libc::SO_SNDLOWAT) {
                v
            } else {
                (v != 0) as i32
            };
            s.set_flag(o, kept);
        }
        _ => {
            crate::log_once_unsupported("setsockopt", opt as u64);
            return Err(Errno::ENOPROTOOPT.into());
        }
    }
    Ok(0)
}

/// getsockopt(2): the value, truncated to the caller's length.
pub fn getsockopt(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, level, opt, val, ulen) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3], a.a[4]);
    let f = t.file(fd)?;
    if crate::sys_socket_host::is_host(&f) {
        return crate::sys_socket_host::getsockopt(t, &f, level, opt, val, ulen);
    }
    unix_only(&f)?;
    let s = sock(&f);
    if level != SOL_SOCKET {
        return Err(Errno::EOPNOTSUPP.into());
    }
    let room: i32 = t.copy_in(ulen)?;
    if room < 0 {
        return Err(Errno::EINVAL.into());
    }
    let int = |v: i32| v.to_ne_bytes().to_vec();
    let bytes: Vec<u8> = match opt {
        libc::SO_TYPE => int(s.kind.raw()),
        libc::SO_DOMAIN => int(AF_UNIX),
        libc::SO_PROTOCOL => int(0),
        libc::SO_ERROR => int(s.take_error()),
        libc::SO_ACCEPTCONN => int(s.is_listening() as i32),
        libc::SO_PASSCRED => int(s.passcred() as i32),
        libc::SO_SNDBUF => int(s.buffers().0 as i32),
        libc::SO_RCVBUF => int(s.buffers().1 as i32),
        libc::SO_PEERCRED => {
            let c = s.peer_cred().map_or(UcredRaw { pid: 0, uid: u32::MAX, gid: u32::MAX }, |c| UcredRaw {
                pid: c.pid,
                uid: c.uid,
                gid: c.gid,
            });
            sentry::abi::Pod::as_bytes(&c).to_vec()
        }
        libc::SO_RCVTIMEO | libc::SO_SNDTIMEO => {
            let d = s.timeout(opt == libc::SO_SNDTIMEO);
            let tv = Timeval { tv_sec: d.as_secs() as i64, tv_usec: d.subsec_micros() as i64 };
            sentry::abi::Pod::as_bytes(&tv).to_vec()
        }
        libc::SO_LINGER => {
            let (onoff, linger) = s.linger();
            sentry::abi::Pod::as_bytes(&Linger { onoff, linger }).to_vec()
        }
        libc::SO_RCVLOWAT | libc::SO_SNDLOWAT => int(s.flag(opt).max(1)),
        o if kept_option(o) => int(s.flag(o)),
        _ => {
            crate::log_once_unsupported("getsockopt", opt as u64);
            return Err(Errno::ENOPROTOOPT.into());
        }
    };
    let n = bytes.len().min(room as usize);
    t.mm().copy_out(val, &bytes[..n])?;
    t.copy_out(ulen, &(n as i32))?;
    Ok(0)
}
