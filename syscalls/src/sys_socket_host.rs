//! Socket calls on host sockets the sandbox was handed (as stdio, or with
//! `--preserve-fds`, as socket activation hands a server its listening
//! socket): accept, accept4, getsockname, getpeername, shutdown, sendto,
//! recvfrom, sendmsg and recvmsg (data only), and getsockopt and
//! setsockopt of the int options in `INT_OPTIONS`, served by the sentry on
//! the host fd without blocking it (the task waits for the fd's readiness
//! as for any file). The sandbox opens no host socket of its own; only
//! those given to it are reachable.

use std::sync::Arc;

use sentry::abi::poll::{READ_EVENTS, WRITE_EVENTS};
use sentry::abi::socket::MsgHdr;
use sentry::abi::{Errno, Iovec};
use sentry::fs::host::HostFile;
use sentry::kernel::{SyscallResult, Task};
use sentry::vfs::File;

use crate::sys_read_write::raise_sigpipe;
use crate::sys_socket::{write_addr, IovSink};

/// The recv flags passed on to the host (MSG_WAITALL and MSG_DONTWAIT are
/// the sandbox's: the host call never blocks).
const RECV_FLAGS: i32 = libc::MSG_PEEK | libc::MSG_TRUNC | libc::MSG_OOB;
/// The send flags passed on to the host.
const SEND_FLAGS: i32 = libc::MSG_MORE | libc::MSG_EOR | libc::MSG_OOB;

/// The int options of host sockets the sandbox reads (level, option, and
/// whether it may set them): what a server asks of a socket it was handed
/// (Python's `socket(fileno=...)` asks its type, domain and protocol) and
/// sets on its connections.
const INT_OPTIONS: &[(i32, i32, bool)] = &[
    (libc::SOL_SOCKET, libc::SO_TYPE, false),
    (libc::SOL_SOCKET, libc::SO_DOMAIN, false),
    (libc::SOL_SOCKET, libc::SO_PROTOCOL, false),
    (libc::SOL_SOCKET, libc::SO_ACCEPTCONN, false),
    (libc::SOL_SOCKET, libc::SO_ERROR, false),
    (libc::SOL_SOCKET, libc::SO_KEEPALIVE, true),
    (libc::SOL_SOCKET, libc::SO_REUSEADDR, true),
    (libc::SOL_SOCKET, libc::SO_RCVBUF, true),
    (libc::SOL_SOCKET, libc::SO_SNDBUF, true),
    (libc::IPPROTO_TCP, libc::TCP_NODELAY, true),
    // Keepalive timing (Go sets it on every connection it accepts).
    (libc::IPPROTO_TCP, libc::TCP_KEEPIDLE, true),
    (libc::IPPROTO_TCP, libc::TCP_KEEPINTVL, true),
    (libc::IPPROTO_TCP, libc::TCP_KEEPCNT, true),
];

/// The entry of `INT_OPTIONS` for (level, opt), logging the others once.
fn int_option(call: &'static str, level: i32, opt: i32) -> Result<bool, Errno> {
    match INT_OPTIONS.iter().find(|&&(l, o, _)| (l, o) == (level, opt)) {
        Some(&(_, _, settable)) => Ok(settable),
        None => {
            crate::log_once_unsupported(call, ((level as u64) << 32) | opt as u32 as u64);
            Err(Errno::ENOPROTOOPT)
        }
    }
}

/// getsockopt(2) on a host socket: an int option of `INT_OPTIONS`.
pub(crate) fn getsockopt(t: &Task, f: &File, level: i32, opt: i32, val: u64, ulen: u64) -> SyscallResult {
    int_option("getsockopt (host socket)", level, opt)?;
    let room: i32 = t.copy_in(ulen)?;
    if room < 0 {
        return Err(Errno::EINVAL.into());
    }
    let bytes = host(f).int_option(level, opt)?.to_ne_bytes();
    let n = bytes.len().min(room as usize);
    t.mm().copy_out(val, &bytes[..n])?;
    t.copy_out(ulen, &(n as i32))?;
    Ok(0)
}

/// setsockopt(2) on a host socket: a settable int option of
/// `INT_OPTIONS`.
pub(crate) fn setsockopt(t: &Task, f: &File, level: i32, opt: i32, val: u64, len: u64) -> SyscallResult {
    if !int_option("setsockopt (host socket)", level, opt)? {
        return Err(Errno::ENOPROTOOPT.into());
    }
    if (len as i32) < 4 {
        return Err(Errno::EINVAL.into());
    }
    let v: i32 = t.copy_in(val)?;
    host(f).set_int_option(level, opt, v)?;
    Ok(0)
}

/// Whether `f` is a host socket (the calls here are then its).
pub(crate) fn is_host(f: &File) -> bool {
    HostFile::socket_of(f).is_some()
}

fn host(f: &File) -> &HostFile {
    // The callers checked `is_host`.
    HostFile::socket_of(f).expect("is_host checked the file is a host socket")
}

/// accept4(2) on a host socket: the connection is a host socket too.
pub(crate) fn accept(t: &Task, f: &Arc<File>, addr: u64, len_addr: u64, flags: i32) -> SyscallResult {
    let h = host(f);
    let (conn, peer) = loop {
        match h.accept() {
            Err(Errno::EAGAIN) if !f.nonblocking() => t.wait_ready(f, READ_EVENTS, None)?,
            r => break r?,
        }
    };
    let name = format!("socket:[{}]", conn.host_ino()).into_bytes();
    let status = libc::O_RDWR as u32 | if flags & libc::SOCK_NONBLOCK != 0 { libc::O_NONBLOCK as u32 } else { 0 };
    let file = File::new(Arc::new(conn), status, None, name);
    let fd = t.fds.insert(file, flags & libc::SOCK_CLOEXEC != 0, 0, t.nofile_limit())?;
    if addr != 0 {
        if let Err(e) = write_addr(t, &peer, addr, len_addr) {
            // The connection is lost with the fd, as in Linux.
            let _ = t.fds.remove(fd);
            return Err(e.into());
        }
    }
    Ok(fd as u64)
}

/// getsockname(2) or, with `peer`, getpeername(2) on a host socket.
pub(crate) fn name(t: &Task, f: &File, peer: bool, addr: u64, len_addr: u64) -> SyscallResult {
    let bytes = host(f).socket_name(peer)?;
    write_addr(t, &bytes, addr, len_addr)?;
    Ok(0)
}

/// shutdown(2) on a host socket.
pub(crate) fn shutdown(f: &File, how: i32) -> SyscallResult {
    if !matches!(how, libc::SHUT_RD | libc::SHUT_WR | libc::SHUT_RDWR) {
        return Err(Errno::EINVAL.into());
    }
    host(f).shutdown(how)?;
    Ok(0)
}

/// The most one host call moves: the sentry's buffer for it, whatever
/// the application asks (a stream may give and take less than asked).
const CHUNK: usize = 64 << 10;

/// recvfrom(2) on a host socket (`len` already capped): waits unless
/// non-blocking, to the end with MSG_WAITALL. A stream's sender has no
/// address: `addr` gets none.
pub(crate) fn recvfrom(t: &Task, f: &File, buf: u64, len: usize, flags: i32, alen: u64) -> SyscallResult {
    let n = recv(t, f, &[Iovec { base: buf, len: len as u64 }], flags)?;
    if alen != 0 {
        t.copy_out(alen, &0i32)?;
    }
    Ok(n as u64)
}

/// Receives from a host socket into the application's buffers `iovs`, as
/// recvmsg(2) does, in pieces of at most [`CHUNK`].
fn recv(t: &Task, f: &File, iovs: &[Iovec], flags: i32) -> Result<usize, Errno> {
    let h = host(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let waitall = flags & libc::MSG_WAITALL != 0 && flags & libc::MSG_PEEK == 0;
    let mut sink = IovSink::new(t, iovs);
    let total = sink.room();
    let mut buf = vec![0u8; total.min(CHUNK)];
    let mut got = 0;
    loop {
        let want = (total - got).min(buf.len());
        match h.recv(&mut buf[..want], flags & RECV_FLAGS) {
            Ok(0) => break,
            Ok(n) => {
                sink.write(&buf[..n])?;
                got += n;
                if !waitall || got == total || nonblock {
                    break;
                }
                continue;
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(_) if got > 0 => break,
            Err(e) => return Err(e),
        }
        match t.wait_ready(f, READ_EVENTS, None) {
            Ok(()) => {}
            Err(_) if got > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// recvmsg(2) on a host socket: the data scattered over `m`'s buffers;
/// no sender address (a stream's), no ancillary data.
pub(crate) fn recvmsg(t: &Task, f: &File, msg: u64, flags: i32) -> Result<usize, Errno> {
    let mut m: MsgHdr = t.copy_in(msg)?;
    if (m.namelen as i32) < 0 {
        return Err(Errno::EINVAL);
    }
    let iovs = crate::sys_socket::read_iovecs(t, m.iov, m.iovlen)?;
    let n = recv(t, f, &iovs, flags)?;
    m.namelen = 0;
    m.controllen = 0;
    m.flags = 0;
    t.copy_out(msg, &m)?;
    Ok(n)
}

/// sendmsg(2) on a host socket: `m`'s buffers sent; no ancillary data
/// (the sandbox's fds and credentials stay its own: EOPNOTSUPP).
pub(crate) fn sendmsg(t: &Task, f: &File, msg: u64, flags: i32) -> Result<usize, Errno> {
    let m: MsgHdr = t.copy_in(msg)?;
    if m.controllen != 0 {
        crate::log_once_unsupported("sendmsg (host socket, ancillary data)", 0);
        return Err(Errno::EOPNOTSUPP);
    }
    let iovs = crate::sys_socket::read_iovecs(t, m.iov, m.iovlen)?;
    send(t, f, &iovs, flags)
}

/// sendto(2) on a host socket (a connected stream's: any address is
/// ignored): waits for room unless non-blocking; a peer gone raises
/// SIGPIPE unless MSG_NOSIGNAL.
pub(crate) fn sendto(t: &Task, f: &File, buf: u64, len: usize, flags: i32) -> SyscallResult {
    Ok(send(t, f, &[Iovec { base: buf, len: len as u64 }], flags)? as u64)
}

/// Copies the application's bytes from `iovs`, `skip` bytes in, into
/// `buf` (as many as fit); returns how many.
fn gather_at(t: &Task, iovs: &[Iovec], mut skip: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    let mut at = 0;
    for v in iovs {
        if at == buf.len() {
            break;
        }
        if skip >= v.len {
            skip -= v.len;
            continue;
        }
        let n = ((v.len - skip) as usize).min(buf.len() - at);
        t.mm().copy_in(v.base + skip, &mut buf[at..at + n])?;
        at += n;
        skip = 0;
    }
    Ok(at)
}

/// Sends the application's buffers `iovs` on a host socket, as sendmsg(2)
/// does, in pieces of at most [`CHUNK`].
fn send(t: &Task, f: &File, iovs: &[Iovec], flags: i32) -> Result<usize, Errno> {
    let h = host(f);
    let nonblock = f.nonblocking() || flags & libc::MSG_DONTWAIT != 0;
    let total: usize = iovs.iter().map(|v| v.len as usize).sum();
    let mut buf = vec![0u8; total.min(CHUNK)];
    let (mut sent, mut start, mut end) = (0, 0, 0);
    while sent < total {
        if start == end {
            match gather_at(t, iovs, sent as u64, &mut buf) {
                Ok(n) => (start, end) = (0, n),
                Err(_) if sent > 0 => break,
                Err(e) => return Err(e),
            }
        }
        match h.send(&buf[start..end], flags & SEND_FLAGS) {
            // A stream takes no bytes only of an empty buffer.
            Ok(0) => break,
            Ok(n) => {
                start += n;
                sent += n;
                continue;
            }
            Err(Errno::EAGAIN) if !nonblock => {}
            Err(Errno::EPIPE) if sent == 0 => {
                if flags & libc::MSG_NOSIGNAL == 0 {
                    raise_sigpipe(t);
                }
                return Err(Errno::EPIPE);
            }
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
        match t.wait_ready(f, WRITE_EVENTS, None) {
            Ok(()) => {}
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}
