//! Sockets: socket, socketpair, bind, listen, connect, accept, accept4,
//! getsockname, getpeername, shutdown, sendto, recvfrom, sendmsg, recvmsg,
//! sendmmsg, recvmmsg, setsockopt, getsockopt. Unix domain sockets are
//! served (`sentry::net::unix`); other families give EAFNOSUPPORT.

use std::sync::Arc;
use std::time::{Duration, Instant};

use sentry::abi::poll::{READ_EVENTS, WRITE_EVENTS};
use sentry::abi::{Errno, Iovec, SigInfo, Timeval};
use sentry::kernel::signal_send::Origin;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::net::unix::{Kind, Name, Received, Ucred, UnixSocket, SCM_MAX_FD};
use sentry::vfs::File;

const AF_UNIX: i32 = 1;
/// AF_MAX on Linux 6.x.
const AF_MAX: i32 = 46;
const SOL_SOCKET: i32 = 1;
const SCM_RIGHTS: i32 = 1;
const SCM_CREDENTIALS: i32 = 2;
/// offsetof(struct sockaddr_un, sun_path).
const SUN_PATH: usize = 2;
/// sizeof(struct sockaddr_un).
const SOCKADDR_UN: usize = 110;
/// sizeof(struct msghdr).
const MSGHDR: u64 = 56;
/// UIO_MAXIOV.
const IOV_MAX: u64 = 1024;

/// The file at `fd`, which must be a socket (ENOTSOCK otherwise).
fn socket_of(t: &Task, fd: i32) -> Result<Arc<File>, Errno> {
    let f = t.file(fd)?;
    if UnixSocket::of(&f).is_none() {
        return Err(Errno::ENOTSOCK);
    }
    Ok(f)
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
    if !(0..AF_MAX).contains(&domain) {
        return Err(Errno::EAFNOSUPPORT);
    }
    let flags = typ & (libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    let base = typ & !(libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC);
    if base & !0xf != 0 {
        return Err(Errno::EINVAL);
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

/// Reads a sockaddr_un. `for_bind`: a bare family means autobind.
fn read_addr(t: &Task, addr: u64, len: u64, for_bind: bool) -> Result<Name, Errno> {
    if len > SOCKADDR_UN as u64 || (len as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let len = len as usize;
    if len < SUN_PATH || (!for_bind && len <= SUN_PATH) {
        return Err(Errno::EINVAL);
    }
    let mut b = vec![0u8; len];
    t.mm().copy_in(addr, &mut b)?;
    let family = u16::from_ne_bytes([b[0], b[1]]) as i32;
    if family != AF_UNIX {
        return Err(Errno::EINVAL);
    }
    let path = &b[SUN_PATH..];
    if path.is_empty() {
        return Ok(Name::Unnamed);
    }
    if path[0] == 0 {
        return Ok(Name::Abstract(path[1..].to_vec()));
    }
    let end = path.iter().position(|&c| c == 0).unwrap_or(path.len());
    Ok(Name::Path(path[..end].to_vec()))
}

/// Writes a name as a sockaddr_un to `addr` with `*len_addr` room; stores
/// the full length.
fn write_addr(t: &Task, name: &Name, addr: u64, len_addr: u64) -> Result<(), Errno> {
    if addr == 0 {
        return Ok(());
    }
    let room: i32 = t.copy_in(len_addr)?;
    if room < 0 {
        return Err(Errno::EINVAL);
    }
    let mut b = (AF_UNIX as u16).to_ne_bytes().to_vec();
    match name {
        Name::Unnamed => {}
        Name::Abstract(n) => {
            b.push(0);
            b.extend_from_slice(n);
        }
        Name::Path(p) => {
            b.extend_from_slice(p);
            b.push(0);
        }
    }
    let n = b.len().min(room as usize);
    t.mm().copy_out(addr, &b[..n])?;
    t.copy_out(len_addr, &(b.len() as i32))?;
    Ok(())
}

/// A path name must exist as a socket in the sandbox's tree; none do
/// (binding to paths comes with writable filesystems), so connecting gives
/// the walk's error or ECONNREFUSED.
fn check_path(t: &Task, name: &Name, bind: bool) -> Result<(), Errno> {
    let Name::Path(p) = name else { return Ok(()) };
    if bind {
        let start = t.start_dir(libc::AT_FDCWD, p)?;
        let (root, creds) = t.walk_context();
        let (parent, last) = sentry::vfs::path::Walker::new(&root, &creds).walk_parent(&start, p)?;
        if sentry::vfs::path::Walker::new(&root, &creds).walk(&parent, &last, sentry::vfs::Lookup::NoFollow).is_ok() {
            return Err(Errno::EADDRINUSE);
        }
        return Err(if parent.mount.readonly { Errno::EROFS } else { Errno::EACCES });
    }
    let loc = t.resolve(libc::AT_FDCWD, p, sentry::vfs::Lookup::Follow)?;
    if loc.dentry.inode.file_type() != sentry::vfs::FileType::Socket {
        return Err(Errno::ECONNREFUSED);
    }
    Err(Errno::ECONNREFUSED)
}

/// bind(2).
pub fn bind(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let name = read_addr(t, a.a[1], a.a[2], true)?;
    check_path(t, &name, true)?;
    sock(&f).bind(name)?;
    Ok(0)
}

/// listen(2).
pub fn listen(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let s = sock(&f);
    s.listen(a.a[1] as i32)?;
    s.set_listener_cred(cred(t));
    Ok(0)
}

fn deadline(d: Duration) -> Option<Instant> {
    (!d.is_zero()).then(|| Instant::now() + d)
}

/// connect(2).
pub fn connect(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let name = read_addr(t, a.a[1], a.a[2], false)?;
    check_path(t, &name, false)?;
    let s = sock(&f);
    loop {
        match s.connect(&name, cred(t)) {
            Err(Errno::EAGAIN) if !f.nonblocking() => {
                // The listener's backlog is full: try again shortly.
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
    let f = socket_of(t, fd)?;
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
    if addr != 0 {
        let peer = conn.peer_name().unwrap_or(Name::Unnamed);
        write_addr(t, &peer, addr, len_addr)?;
    }
    Ok(install(t, conn, flags)? as u64)
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
    let f = socket_of(t, a.a[0] as i32)?;
    write_addr(t, &sock(&f).name(), a.a[1], a.a[2])?;
    Ok(0)
}

/// getpeername(2).
pub fn getpeername(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    let name = sock(&f).peer_name()?;
    write_addr(t, &name, a.a[1], a.a[2])?;
    Ok(0)
}

/// shutdown(2).
pub fn shutdown(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let f = socket_of(t, a.a[0] as i32)?;
    sock(&f).shutdown(a.a[1] as i32)?;
    Ok(0)
}

/// Reads the data of an iovec array (at most MAX_RW bytes).
fn gather(t: &Task, iov: u64, cnt: u64) -> Result<Vec<u8>, Errno> {
    if cnt > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    let mut out = Vec::new();
    for i in 0..cnt {
        let v: Iovec = t.copy_in(iov + i * 16)?;
        if (v.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        let start = out.len();
        out.resize(start + v.len as usize, 0);
        t.mm().copy_in(v.base, &mut out[start..])?;
    }
    Ok(out)
}

/// Writes `data` into an iovec array; returns bytes written.
fn scatter(t: &Task, iov: u64, cnt: u64, data: &[u8]) -> Result<usize, Errno> {
    if cnt > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    let mut done = 0;
    for i in 0..cnt {
        if done >= data.len() {
            break;
        }
        let v: Iovec = t.copy_in(iov + i * 16)?;
        let n = (v.len as usize).min(data.len() - done);
        t.mm().copy_out(v.base, &data[done..done + n])?;
        done += n;
    }
    Ok(done)
}

fn iov_len(t: &Task, iov: u64, cnt: u64) -> Result<usize, Errno> {
    if cnt > IOV_MAX {
        return Err(Errno::EMSGSIZE);
    }
    let mut n = 0usize;
    for i in 0..cnt {
        let v: Iovec = t.copy_in(iov + i * 16)?;
        if (v.len as i64) < 0 {
            return Err(Errno::EINVAL);
        }
        n = n.saturating_add(v.len as usize);
    }
    Ok(n)
}

/// Ancillary data to send.
#[derive(Default)]
struct Control {
    rights: Vec<Arc<File>>,
    creds: Option<Ucred>,
}

fn parse_control(t: &Task, ctl: u64, len: u64) -> Result<Control, Errno> {
    let mut c = Control::default();
    if ctl == 0 || len == 0 {
        return Ok(c);
    }
    if len > 1 << 20 {
        return Err(Errno::ENOBUFS);
    }
    let mut b = vec![0u8; len as usize];
    t.mm().copy_in(ctl, &mut b)?;
    let mut off = 0usize;
    while off + 16 <= b.len() {
        let clen = u64::from_ne_bytes(b[off..off + 8].try_into().map_err(|_| Errno::EINVAL)?) as usize;
        let level = i32::from_ne_bytes(b[off + 8..off + 12].try_into().map_err(|_| Errno::EINVAL)?);
        let typ = i32::from_ne_bytes(b[off + 12..off + 16].try_into().map_err(|_| Errno::EINVAL)?);
        if clen < 16 || off + clen > b.len() {
            return Err(Errno::EINVAL);
        }
        let data = &b[off + 16..off + clen];
        if level == SOL_SOCKET {
            match typ {
                SCM_RIGHTS => {
                    if !data.len().is_multiple_of(4) {
                        return Err(Errno::EINVAL);
                    }
                    for fdb in data.chunks(4) {
                        let fd = i32::from_ne_bytes(fdb.try_into().map_err(|_| Errno::EINVAL)?);
                        c.rights.push(t.file(fd)?);
                    }
                    if c.rights.len() > SCM_MAX_FD {
                        return Err(Errno::EINVAL);
                    }
                }
                SCM_CREDENTIALS => {
                    if data.len() < 12 {
                        return Err(Errno::EINVAL);
                    }
                    let w = |i: usize| u32::from_ne_bytes(data[i..i + 4].try_into().unwrap_or([0; 4]));
                    let u = Ucred { pid: w(0) as i32, uid: w(4), gid: w(8) };
                    let me = cred(t);
                    let root = t.creds.euid == 0;
                    if !root
                        && (u.pid != me.pid
                            || (u.uid != t.creds.uid && u.uid != t.creds.euid && u.uid != t.creds.suid)
                            || (u.gid != t.creds.gid && u.gid != t.creds.egid && u.gid != t.creds.sgid))
                    {
                        return Err(Errno::EPERM);
                    }
                    c.creds = Some(u);
                }
                _ => return Err(Errno::EINVAL),
            }
        }
        off += (clen + 7) & !7;
    }
    Ok(c)
}

/// Sends on a socket file, blocking as the file and flags say.
#[allow(clippy::too_many_arguments)]
fn send_data(t: &Task, f: &Arc<File>, data: &[u8], ctl: Control, to: Option<Name>, flags: i32) -> Result<usize, Errno> {
    let s = sock(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let timeout = deadline(s.timeout(true));
    let mut done = 0usize;
    let mut ctl = Some(ctl);
    loop {
        let c = ctl.take().unwrap_or_default();
        let r = s.send(&data[done..], c.rights.clone(), c.creds, to.as_ref(), cred(t));
        match r {
            Ok(n) => {
                done += n;
                if done == data.len() || s.kind != Kind::Stream || nonblock {
                    return Ok(done);
                }
            }
            Err(Errno::EAGAIN) if !nonblock => ctl = Some(c),
            Err(_) if done > 0 => return Ok(done),
            Err(e) => {
                if e == Errno::EPIPE && flags & libc::MSG_NOSIGNAL == 0 {
                    t.kernel.send_thread_signal(
                        &t.shared,
                        SigInfo::new(libc::SIGPIPE, sentry::abi::signal::SI_USER),
                        Origin::Sandbox,
                    );
                }
                return Err(e);
            }
        }
        match t.wait_ready(f, WRITE_EVENTS, timeout) {
            Ok(()) => {}
            Err(Errno::ETIMEDOUT) => return if done > 0 { Ok(done) } else { Err(Errno::EAGAIN) },
            Err(e) => return if done > 0 { Ok(done) } else { Err(e) },
        }
    }
}

/// Receives from a socket file into a buffer of `len` bytes, blocking as
/// the file and flags say.
fn recv_data(t: &Task, f: &Arc<File>, len: usize, flags: i32) -> Result<(Vec<u8>, Received), Errno> {
    let s = sock(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let peek = flags & libc::MSG_PEEK != 0;
    let waitall = flags & libc::MSG_WAITALL != 0 && s.kind == Kind::Stream && !peek;
    let timeout = deadline(s.timeout(false));
    let mut buf = vec![0u8; len];
    let mut got: Option<Received> = None;
    loop {
        let off = got.as_ref().map_or(0, |g| g.n);
        match s.recv(&mut buf[off..], peek) {
            Ok(r) => {
                let eof = r.n == 0;
                match &mut got {
                    None => got = Some(r),
                    Some(g) => {
                        g.n += r.n;
                        g.full += r.full;
                        g.rights.extend(r.rights);
                    }
                }
                let g = got.as_ref().map_or(0, |g| g.n);
                if !waitall || g == len || eof || nonblock {
                    break;
                }
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(_) if got.is_some() => break,
            Err(e) => return Err(e),
        }
        match t.wait_ready(f, READ_EVENTS, timeout) {
            Ok(()) => {}
            Err(Errno::ETIMEDOUT) if got.is_some() => break,
            Err(Errno::ETIMEDOUT) => return Err(Errno::EAGAIN),
            Err(_) if got.is_some() => break,
            Err(e) => return Err(e),
        }
    }
    let r = got.ok_or(Errno::EAGAIN)?;
    buf.truncate(r.n);
    Ok((buf, r))
}

/// sendto(2).
pub fn sendto(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, buf, len, flags, addr, alen) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32, a.a[4], a.a[5]);
    let f = socket_of(t, fd)?;
    let to = if addr != 0 { Some(read_addr(t, addr, alen, false)?) } else { None };
    let mut data = vec![0u8; len.min(1 << 26) as usize];
    t.mm().copy_in(buf, &mut data)?;
    Ok(send_data(t, &f, &data, Control::default(), to, flags)? as u64)
}

/// recvfrom(2).
pub fn recvfrom(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, buf, len, flags, addr, alen) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as i32, a.a[4], a.a[5]);
    let f = socket_of(t, fd)?;
    let (data, r) = recv_data(t, &f, len.min(1 << 26) as usize, flags)?;
    t.mm().copy_out(buf, &data)?;
    if addr != 0 && sock(&f).kind == Kind::Dgram {
        write_addr(t, &r.from, addr, alen)?;
    } else if alen != 0 {
        t.copy_out(alen, &0i32)?;
    }
    Ok(if flags & libc::MSG_TRUNC != 0 { r.full } else { r.n } as u64)
}

/// The fields of a `struct msghdr`.
struct MsgHdr {
    name: u64,
    namelen: u32,
    iov: u64,
    iovlen: u64,
    control: u64,
    controllen: u64,
}

fn read_msghdr(t: &Task, addr: u64) -> Result<MsgHdr, Errno> {
    let w: [u64; 7] = t.copy_in(addr)?;
    Ok(MsgHdr { name: w[0], namelen: w[1] as u32, iov: w[2], iovlen: w[3], control: w[4], controllen: w[5] })
}

fn do_sendmsg(t: &Task, fd: i32, msg: u64, flags: i32) -> Result<usize, Errno> {
    let f = socket_of(t, fd)?;
    let m = read_msghdr(t, msg)?;
    let to = if m.name != 0 && m.namelen != 0 { Some(read_addr(t, m.name, m.namelen as u64, false)?) } else { None };
    let data = gather(t, m.iov, m.iovlen)?;
    let ctl = parse_control(t, m.control, m.controllen)?;
    send_data(t, &f, &data, ctl, to, flags)
}

/// Writes received ancillary data; returns (bytes written, truncated).
fn write_control(
    t: &Task,
    ctl: u64,
    room: u64,
    r: &Received,
    flags: i32,
    passcred: bool,
) -> Result<(u64, bool), Errno> {
    let mut out = Vec::new();
    let mut trunc = false;
    let mut rights = r.rights.clone();
    if passcred {
        let c = r.creds.unwrap_or(Ucred { pid: 0, uid: 65534, gid: 65534 });
        let mut h = Vec::with_capacity(32);
        h.extend_from_slice(&28u64.to_ne_bytes());
        h.extend_from_slice(&SOL_SOCKET.to_ne_bytes());
        h.extend_from_slice(&SCM_CREDENTIALS.to_ne_bytes());
        h.extend_from_slice(&(c.pid as u32).to_ne_bytes());
        h.extend_from_slice(&c.uid.to_ne_bytes());
        h.extend_from_slice(&c.gid.to_ne_bytes());
        h.resize(32, 0);
        if (out.len() + 28) as u64 <= room {
            out.extend_from_slice(&h);
        } else {
            trunc = true;
        }
    }
    if !rights.is_empty() {
        let space = room.saturating_sub(out.len() as u64);
        let fit = (space.saturating_sub(16) / 4).min(rights.len() as u64) as usize;
        if fit < rights.len() {
            trunc = true;
        }
        if fit > 0 {
            let cloexec = flags & libc::MSG_CMSG_CLOEXEC != 0;
            let mut fds = Vec::new();
            for file in rights.drain(..fit) {
                match t.fds.insert(file, cloexec, 0, t.nofile_limit()) {
                    Ok(fd) => fds.push(fd),
                    Err(_) => {
                        trunc = true;
                        break;
                    }
                }
            }
            let clen = 16 + fds.len() * 4;
            out.extend_from_slice(&(clen as u64).to_ne_bytes());
            out.extend_from_slice(&SOL_SOCKET.to_ne_bytes());
            out.extend_from_slice(&SCM_RIGHTS.to_ne_bytes());
            for fd in fds {
                out.extend_from_slice(&fd.to_ne_bytes());
            }
            while out.len() % 8 != 0 && (out.len() as u64) < room {
                out.push(0);
            }
        }
        // Files that did not fit are closed (dropped).
    }
    if ctl != 0 && !out.is_empty() {
        t.mm().copy_out(ctl, &out)?;
    }
    Ok((out.len() as u64, trunc))
}

fn do_recvmsg(t: &Task, fd: i32, msg: u64, flags: i32) -> Result<usize, Errno> {
    let f = socket_of(t, fd)?;
    let m = read_msghdr(t, msg)?;
    let len = iov_len(t, m.iov, m.iovlen)?;
    let (data, r) = recv_data(t, &f, len, flags)?;
    scatter(t, m.iov, m.iovlen, &data)?;
    let s = sock(&f);
    let mut mflags = 0;
    if r.full > r.n && s.kind != Kind::Stream {
        mflags |= libc::MSG_TRUNC;
    }
    let (clen, ctrunc) = write_control(t, m.control, m.controllen, &r, flags, s.passcred())?;
    if ctrunc {
        mflags |= libc::MSG_CTRUNC;
    }
    if m.name != 0 {
        let room = m.namelen;
        let mut b = (AF_UNIX as u16).to_ne_bytes().to_vec();
        if s.kind == Kind::Dgram {
            match &r.from {
                Name::Unnamed => {}
                Name::Abstract(n) => {
                    b.push(0);
                    b.extend_from_slice(n);
                }
                Name::Path(p) => {
                    b.extend_from_slice(p);
                    b.push(0);
                }
            }
            t.mm().copy_out(m.name, &b[..b.len().min(room as usize)])?;
            t.copy_out(msg + 8, &(b.len() as u32))?;
        } else {
            t.copy_out(msg + 8, &0u32)?;
        }
    }
    t.copy_out(msg + 40, &clen)?;
    t.copy_out(msg + 48, &mflags)?;
    Ok(if flags & libc::MSG_TRUNC != 0 && s.kind != Kind::Stream { r.full } else { r.n })
}

/// sendmsg(2).
pub fn sendmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Ok(do_sendmsg(t, a.a[0] as i32, a.a[1], a.a[2] as i32)? as u64)
}

/// recvmsg(2).
pub fn recvmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Ok(do_recvmsg(t, a.a[0] as i32, a.a[1], a.a[2] as i32)? as u64)
}

/// sendmmsg(2).
pub fn sendmmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, vec, n, flags) = (a.a[0] as i32, a.a[1], (a.a[2] as u32).min(1024), a.a[3] as i32);
    socket_of(t, fd)?;
    let mut sent = 0u32;
    for i in 0..n {
        let hdr = vec + i as u64 * (MSGHDR + 8);
        match do_sendmsg(t, fd, hdr, flags) {
            Ok(len) => {
                t.copy_out(hdr + MSGHDR, &(len as u32))?;
                sent += 1;
            }
            Err(e) if sent == 0 => return Err(e.into()),
            Err(_) => break,
        }
    }
    Ok(sent as u64)
}

/// recvmmsg(2).
pub fn recvmmsg(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, vec, n, flags, uts) = (a.a[0] as i32, a.a[1], (a.a[2] as u32).min(1024), a.a[3] as i32, a.a[4]);
    socket_of(t, fd)?;
    let deadline =
        if uts != 0 { Some(crate::sys_time::deadline_after(crate::sys_time::read_timespec(t, uts)?)) } else { None };
    let mut got = 0u32;
    for i in 0..n {
        let hdr = vec + i as u64 * (MSGHDR + 8);
        // After the first message, MSG_WAITFORONE makes the rest
        // non-blocking.
        let f = if got > 0 && flags & libc::MSG_WAITFORONE != 0 { flags | libc::MSG_DONTWAIT } else { flags };
        match do_recvmsg(t, fd, hdr, f) {
            Ok(len) => {
                t.copy_out(hdr + MSGHDR, &(len as u32))?;
                got += 1;
            }
            Err(e) if got == 0 => return Err(e.into()),
            Err(_) => break,
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
    }
    Ok(got as u64)
}

fn read_int(t: &Task, val: u64, len: u64) -> Result<i32, Errno> {
    if len < 4 {
        return Err(Errno::EINVAL);
    }
    t.copy_in(val)
}

fn read_timeval(t: &Task, val: u64, len: u64) -> Result<Duration, Errno> {
    if len < 16 {
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

/// setsockopt(2).
pub fn setsockopt(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, level, opt, val, len) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3], a.a[4]);
    let f = socket_of(t, fd)?;
    let s = sock(&f);
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT.into());
    }
    match opt {
        libc::SO_PASSCRED => s.set_passcred(read_int(t, val, len)? != 0),
        libc::SO_SNDBUF | libc::SO_SNDBUFFORCE => s.set_buffer(true, read_int(t, val, len)?),
        libc::SO_RCVBUF | libc::SO_RCVBUFFORCE => s.set_buffer(false, read_int(t, val, len)?),
        libc::SO_RCVTIMEO => s.set_timeout(false, read_timeval(t, val, len)?),
        libc::SO_SNDTIMEO => s.set_timeout(true, read_timeval(t, val, len)?),
        libc::SO_LINGER => {
            if len < 8 {
                return Err(Errno::EINVAL.into());
            }
            let l: [i32; 2] = t.copy_in(val)?;
            s.set_linger((l[0], l[1]));
        }
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
        | libc::SO_ZEROCOPY => {
            let v = read_int(t, val, len)?;
            s.set_flag(
                opt,
                if matches!(opt, libc::SO_PRIORITY | libc::SO_RCVLOWAT | libc::SO_SNDLOWAT) {
                    v
                } else {
                    (v != 0) as i32
                },
            );
        }
        _ => {
            crate::log_once_unsupported("setsockopt", opt as u64);
            return Err(Errno::ENOPROTOOPT.into());
        }
    }
    Ok(0)
}

/// getsockopt(2).
pub fn getsockopt(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, level, opt, val, ulen) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3], a.a[4]);
    let f = socket_of(t, fd)?;
    let s = sock(&f);
    let room: i32 = t.copy_in(ulen)?;
    if room < 0 {
        return Err(Errno::EINVAL.into());
    }
    if level != SOL_SOCKET {
        return Err(Errno::ENOPROTOOPT.into());
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
            let c = s.peer_cred().filter(|_| s.connected() || s.kind == Kind::Stream).unwrap_or(Ucred {
                pid: 0,
                uid: u32::MAX,
                gid: u32::MAX,
            });
            let mut v = Vec::with_capacity(12);
            v.extend_from_slice(&c.pid.to_ne_bytes());
            v.extend_from_slice(&c.uid.to_ne_bytes());
            v.extend_from_slice(&c.gid.to_ne_bytes());
            v
        }
        libc::SO_RCVTIMEO | libc::SO_SNDTIMEO => {
            let d = s.timeout(opt == libc::SO_SNDTIMEO);
            let mut v = (d.as_secs() as i64).to_ne_bytes().to_vec();
            v.extend_from_slice(&(d.subsec_micros() as i64).to_ne_bytes());
            v
        }
        libc::SO_LINGER => {
            let (on, secs) = s.linger();
            let mut v = on.to_ne_bytes().to_vec();
            v.extend_from_slice(&secs.to_ne_bytes());
            v
        }
        libc::SO_RCVLOWAT => int(s.flag(opt).max(1)),
        libc::SO_SNDLOWAT => int(s.flag(opt).max(1)),
        libc::SO_REUSEADDR
        | libc::SO_REUSEPORT
        | libc::SO_KEEPALIVE
        | libc::SO_BROADCAST
        | libc::SO_OOBINLINE
        | libc::SO_DONTROUTE
        | libc::SO_PASSSEC
        | libc::SO_PRIORITY
        | libc::SO_TIMESTAMP
        | libc::SO_ZEROCOPY => int(s.flag(opt)),
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
