//! Unix domain sockets: stream, datagram and seqpacket; socketpair, names
//! in the abstract namespace, listen/connect/accept, shutdown, ancillary
//! data (SCM_RIGHTS, SCM_CREDENTIALS), and the options programs use.
//!
//! Each socket has a receive queue that its peer (or any sender, for an
//! unconnected datagram socket) appends to. Nothing blocks here: a full
//! peer or an empty queue is EAGAIN, and readiness is announced on the
//! socket's wait queue (a reader's progress wakes its peer's writers).
//!
//! Lock order: a socket's `state` before its peer's (the connecting side's
//! first); never two unrelated sockets.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM};
use crate::abi::{Errno, Stat};
use crate::vfs::{File, FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// Socket types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// SOCK_STREAM.
    Stream,
    /// SOCK_DGRAM.
    Dgram,
    /// SOCK_SEQPACKET.
    SeqPacket,
}

impl Kind {
    /// The SOCK_* value.
    pub fn raw(self) -> i32 {
        match self {
            Kind::Stream => libc::SOCK_STREAM,
            Kind::Dgram => libc::SOCK_DGRAM,
            Kind::SeqPacket => libc::SOCK_SEQPACKET,
        }
    }

    fn connection(self) -> bool {
        self != Kind::Dgram
    }
}

/// A socket's name: abstract (the bytes after the leading NUL) or a path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Name {
    /// No name (unbound).
    Unnamed,
    /// In the abstract namespace.
    Abstract(Vec<u8>),
    /// A filesystem path (as given).
    Path(Vec<u8>),
}

/// Credentials passed with SCM_CREDENTIALS (and SO_PEERCRED).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ucred {
    /// Process id (in the sandbox's namespace).
    pub pid: i32,
    /// User id.
    pub uid: u32,
    /// Group id.
    pub gid: u32,
}

/// One queued message (datagram, packet, or a stream segment).
struct Msg {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams).
    off: usize,
    rights: Vec<Arc<File>>,
    creds: Option<Ucred>,
    from: Name,
}

/// What a receive got.
pub struct Received {
    /// Bytes copied.
    pub n: usize,
    /// The message's full length (for MSG_TRUNC on datagrams).
    pub full: usize,
    /// Files passed with SCM_RIGHTS.
    pub rights: Vec<Arc<File>>,
    /// Credentials passed (or attached because of SO_PASSCRED).
    pub creds: Option<Ucred>,
    /// The sender's name (datagrams).
    pub from: Name,
}

/// net.unix.max_dgram_qlen.
const MAX_DGRAM_QLEN: usize = 10;
/// The default SO_SNDBUF/SO_RCVBUF.
pub const DEFAULT_BUF: usize = 212_992;
/// SCM_MAX_FD.
pub const SCM_MAX_FD: usize = 253;

struct State {
    name: Name,
    peer: Option<Weak<UnixSocket>>,
    peer_cred: Option<Ucred>,
    /// Received messages.
    queue: VecDeque<Msg>,
    queued_bytes: usize,
    /// Listening: connections waiting for accept.
    listening: bool,
    backlog: usize,
    pending: VecDeque<Arc<UnixSocket>>,
    /// Shut down for reading (we will read no more) / writing.
    shut_rd: bool,
    shut_wr: bool,
    /// The peer shut down writing (or closed): end of file after the queue.
    peer_gone: bool,
    /// Was connected at some point (a closed stream peer means EOF/EPIPE).
    connected_once: bool,
    passcred: bool,
    sndbuf: usize,
    rcvbuf: usize,
    error: i32,
    /// SO_RCVTIMEO / SO_SNDTIMEO (zero: none).
    rcvtimeo: std::time::Duration,
    sndtimeo: std::time::Duration,
    /// Options stored for getsockopt (SO_REUSEADDR, SO_KEEPALIVE, ...).
    flags: BTreeMap<i32, i32>,
    /// SO_LINGER (onoff, seconds).
    linger: (i32, i32),
}

static NEXT_INO: AtomicU64 = AtomicU64::new(200_000);

/// A unix domain socket.
pub struct UnixSocket {
    /// The type.
    pub kind: Kind,
    state: Mutex<State>,
    queue: WaitQueue,
    ns: Arc<Namespace>,
    ino: u64,
    me: Weak<UnixSocket>,
}

/// The abstract namespace (one per network namespace).
#[derive(Default)]
pub struct Namespace {
    names: Mutex<BTreeMap<Vec<u8>, Weak<UnixSocket>>>,
    next_auto: Mutex<u32>,
}

impl Namespace {
    /// A fresh namespace.
    pub fn new() -> Arc<Namespace> {
        Arc::new(Namespace::default())
    }

    fn lookup(&self, name: &[u8]) -> Option<Arc<UnixSocket>> {
        self.names.lock().unwrap_or_else(|e| e.into_inner()).get(name).and_then(Weak::upgrade)
    }
}

impl UnixSocket {
    /// A new unbound socket.
    pub fn new(kind: Kind, ns: &Arc<Namespace>) -> Arc<UnixSocket> {
        Arc::new_cyclic(|me| UnixSocket {
            kind,
            state: Mutex::new(State {
                name: Name::Unnamed,
                peer: None,
                peer_cred: None,
                queue: VecDeque::new(),
                queued_bytes: 0,
                listening: false,
                backlog: 0,
                pending: VecDeque::new(),
                shut_rd: false,
                shut_wr: false,
                peer_gone: false,
                connected_once: false,
                passcred: false,
                sndbuf: DEFAULT_BUF,
                rcvbuf: DEFAULT_BUF,
                error: 0,
                rcvtimeo: std::time::Duration::ZERO,
                sndtimeo: std::time::Duration::ZERO,
                flags: BTreeMap::new(),
                linger: (0, 0),
            }),
            queue: WaitQueue::new(),
            ns: ns.clone(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            me: me.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket behind a file, if it is one.
    pub fn of(f: &File) -> Option<&UnixSocket> {
        f.ops.as_any().and_then(|a| a.downcast_ref::<UnixSocket>())
    }

    /// The inode number (for `socket:[N]`).
    pub fn ino(&self) -> u64 {
        self.ino
    }

    /// A connected pair (socketpair); `cred` is the creator's.
    pub fn pair(kind: Kind, ns: &Arc<Namespace>, cred: Ucred) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let a = UnixSocket::new(kind, ns);
        let b = UnixSocket::new(kind, ns);
        {
            let mut sa = a.lock();
            sa.peer = Some(Arc::downgrade(&b));
            sa.peer_cred = Some(cred);
            sa.connected_once = true;
        }
        {
            let mut sb = b.lock();
            sb.peer = Some(Arc::downgrade(&a));
            sb.peer_cred = Some(cred);
            sb.connected_once = true;
        }
        (a, b)
    }

    fn peer(&self) -> Option<Arc<UnixSocket>> {
        self.lock().peer.as_ref().and_then(Weak::upgrade)
    }

    /// bind(2). Abstract names only are bound here; `Name::Path` gets the
    /// errno the filesystem gives (the caller checked it).
    pub fn bind(&self, name: Name) -> Result<(), Errno> {
        let mut s = self.lock();
        if s.name != Name::Unnamed {
            return Err(Errno::EINVAL);
        }
        match &name {
            Name::Abstract(n) => {
                let mut names = self.ns.names.lock().unwrap_or_else(|e| e.into_inner());
                if names.get(n).and_then(Weak::upgrade).is_some() {
                    return Err(Errno::EADDRINUSE);
                }
                names.insert(n.clone(), self.me.clone());
            }
            Name::Path(_) => return Err(Errno::EROFS),
            Name::Unnamed => {
                // Autobind: five hex digits in the abstract namespace.
                drop(s);
                return self.autobind();
            }
        }
        s.name = name;
        Ok(())
    }

    fn autobind(&self) -> Result<(), Errno> {
        let mut names = self.ns.names.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = self.ns.next_auto.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..0x100000 {
            let n = format!("{:05x}", *next & 0xfffff).into_bytes();
            *next = next.wrapping_add(1);
            if names.get(&n).and_then(Weak::upgrade).is_none() {
                names.insert(n.clone(), self.me.clone());
                self.lock().name = Name::Abstract(n);
                return Ok(());
            }
        }
        Err(Errno::ENOSPC)
    }

    /// Binds to an automatic name if unbound (before a datagram send or
    /// connect with SO_PASSCRED, as Linux does).
    fn ensure_named(&self) {
        if self.lock().name == Name::Unnamed {
            let _ = self.autobind();
        }
    }

    /// The socket's name.
    pub fn name(&self) -> Name {
        self.lock().name.clone()
    }

    /// The peer's name (ENOTCONN if none).
    pub fn peer_name(&self) -> Result<Name, Errno> {
        let p = self.peer().ok_or(Errno::ENOTCONN)?;
        Ok(p.name())
    }

    /// SO_PEERCRED.
    pub fn peer_cred(&self) -> Option<Ucred> {
        self.lock().peer_cred
    }

    /// listen(2).
    pub fn listen(&self, backlog: i32) -> Result<(), Errno> {
        if !self.kind.connection() {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut s = self.lock();
        if s.peer.is_some() {
            return Err(Errno::EINVAL);
        }
        if s.name == Name::Unnamed {
            return Err(Errno::EINVAL);
        }
        s.listening = true;
        s.backlog = (backlog.max(0) as usize).min(4096);
        Ok(())
    }

    /// Whether listening.
    pub fn is_listening(&self) -> bool {
        self.lock().listening
    }

    fn target(&self, name: &Name) -> Result<Arc<UnixSocket>, Errno> {
        match name {
            Name::Abstract(n) => self.ns.lookup(n).ok_or(Errno::ECONNREFUSED),
            Name::Path(_) | Name::Unnamed => Err(Errno::ECONNREFUSED),
        }
    }

    /// connect(2): for streams and seqpacket, queues a new server-side
    /// socket on the listener (EAGAIN if its backlog is full); for
    /// datagrams, sets the default destination. `cred` is the caller's.
    pub fn connect(&self, name: &Name, cred: Ucred) -> Result<(), Errno> {
        let target = self.target(name)?;
        if !self.kind.connection() {
            if target.kind != Kind::Dgram {
                return Err(Errno::EPROTOTYPE);
            }
            if self.lock().passcred {
                self.ensure_named();
            }
            let mut s = self.lock();
            s.peer = Some(Arc::downgrade(&target));
            s.peer_cred = target.lock().peer_cred.or(Some(cred));
            s.peer_gone = false;
            return Ok(());
        }
        if target.kind != self.kind {
            return Err(Errno::EPROTOTYPE);
        }
        {
            let s = self.lock();
            if s.peer.is_some() {
                return Err(Errno::EISCONN);
            }
            if s.listening {
                return Err(Errno::EINVAL);
            }
        }
        if std::ptr::eq(&*target, self) {
            return Err(Errno::ECONNREFUSED);
        }
        let server = UnixSocket::new(self.kind, &self.ns);
        {
            let mut t = target.lock();
            if !t.listening {
                return Err(Errno::ECONNREFUSED);
            }
            if t.pending.len() > t.backlog {
                return Err(Errno::EAGAIN);
            }
            let mut sv = server.lock();
            sv.name = t.name.clone();
            sv.peer = Some(self.me.clone());
            sv.peer_cred = Some(cred);
            sv.connected_once = true;
            sv.passcred = t.passcred;
            drop(sv);
            t.pending.push_back(server.clone());
        }
        {
            let mut s = self.lock();
            s.peer = Some(Arc::downgrade(&server));
            s.peer_cred = target.listener_cred();
            s.connected_once = true;
        }
        target.queue.notify(POLLIN | POLLRDNORM);
        self.queue.notify(POLLOUT | POLLWRNORM);
        Ok(())
    }

    /// The listener's credentials (fixed at listen in Linux; the
    /// accepting process's here, recorded by accept's caller).
    fn listener_cred(&self) -> Option<Ucred> {
        self.lock().peer_cred
    }

    /// Records the credentials of the process that listens (SO_PEERCRED of
    /// connecting clients).
    pub fn set_listener_cred(&self, cred: Ucred) {
        self.lock().peer_cred = Some(cred);
    }

    /// Whether a connection is waiting (for a blocking connect on a full
    /// backlog) — the listener has room.
    pub fn backlog_has_room(&self, name: &Name) -> bool {
        self.target(name).is_ok_and(|t| {
            let s = t.lock();
            s.pending.len() <= s.backlog
        })
    }

    /// accept(2): the next queued connection (EAGAIN if none).
    pub fn accept(&self) -> Result<Arc<UnixSocket>, Errno> {
        let mut s = self.lock();
        if !s.listening {
            return Err(Errno::EINVAL);
        }
        s.pending.pop_front().ok_or(Errno::EAGAIN)
    }

    /// shutdown(2).
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        let (rd, wr) = match how {
            libc::SHUT_RD => (true, false),
            libc::SHUT_WR => (false, true),
            libc::SHUT_RDWR => (true, true),
            _ => return Err(Errno::EINVAL),
        };
        let peer = {
            let mut s = self.lock();
            if self.kind.connection() && s.peer.is_none() {
                return Err(Errno::ENOTCONN);
            }
            s.shut_rd |= rd;
            s.shut_wr |= wr;
            s.peer.as_ref().and_then(Weak::upgrade)
        };
        if let Some(p) = peer {
            if self.kind.connection() {
                let mut ps = p.lock();
                if wr {
                    ps.peer_gone = true;
                }
                if rd {
                    ps.shut_wr_by_peer();
                }
            }
            p.queue.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLRDNORM | POLLWRNORM);
        }
        self.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDNORM | POLLWRNORM);
        Ok(())
    }

    /// Sends `data` (with ancillary `rights` and `creds`) to the peer, or to
    /// `to` for an unconnected datagram socket. Returns bytes queued (a
    /// stream may queue part; EAGAIN if none fits).
    pub fn send(
        &self,
        data: &[u8],
        rights: Vec<Arc<File>>,
        creds: Option<Ucred>,
        to: Option<&Name>,
        sender: Ucred,
    ) -> Result<usize, Errno> {
        let (peer, my_name, sndbuf) = {
            let s = self.lock();
            if s.shut_wr {
                return Err(Errno::EPIPE);
            }
            if s.error != 0 {
                return Err(Errno::from_raw(s.error));
            }
            let peer = match to {
                Some(n) if !self.kind.connection() => Some(self.target(n)?),
                Some(_) if s.peer.is_some() => return Err(Errno::EISCONN),
                Some(_) => return Err(Errno::EOPNOTSUPP),
                None => s.peer.as_ref().and_then(Weak::upgrade),
            };
            let peer = match peer {
                Some(p) => p,
                None if self.kind.connection() && s.connected_once => return Err(Errno::EPIPE),
                None if s.peer.is_some() => return Err(Errno::ECONNREFUSED),
                None if self.kind.connection() => return Err(Errno::ENOTCONN),
                None => return Err(Errno::EDESTADDRREQ),
            };
            (peer, s.name.clone(), s.sndbuf)
        };
        if self.kind == Kind::Dgram && peer.kind != Kind::Dgram {
            return Err(Errno::EPROTOTYPE);
        }
        let mut p = peer.lock();
        if self.kind.connection() && p.shut_rd {
            return Err(Errno::EPIPE);
        }
        if !self.kind.connection() {
            // A datagram peer that connected elsewhere refuses us.
            if let Some(pp) = p.peer.as_ref().and_then(Weak::upgrade) {
                if !std::ptr::eq(&*pp, self) {
                    return Err(Errno::EPERM);
                }
            }
        }
        let creds = creds.or(p.passcred.then_some(sender));
        let n = match self.kind {
            Kind::Stream => {
                let room = sndbuf.saturating_sub(p.queued_bytes);
                if room == 0 && !data.is_empty() {
                    return Err(Errno::EAGAIN);
                }
                room.min(data.len())
            }
            Kind::SeqPacket | Kind::Dgram => {
                if data.len() > sndbuf.max(p.rcvbuf) {
                    return Err(Errno::EMSGSIZE);
                }
                let full = p.queued_bytes + data.len() > p.rcvbuf.max(sndbuf)
                    || (self.kind == Kind::Dgram && p.queue.len() >= MAX_DGRAM_QLEN);
                if full && !p.queue.is_empty() {
                    return Err(Errno::EAGAIN);
                }
                data.len()
            }
        };
        if n == 0 && self.kind == Kind::Stream && rights.is_empty() {
            return Ok(0);
        }
        p.queued_bytes += n;
        p.queue.push_back(Msg { data: data[..n].to_vec(), off: 0, rights, creds, from: my_name });
        drop(p);
        peer.queue.notify(POLLIN | POLLRDNORM);
        Ok(n)
    }

    /// Receives into `buf`. Streams read across segments (stopping where
    /// ancillary data starts); datagrams and packets take one message
    /// (truncating it). `peek` leaves the data queued. EAGAIN if nothing is
    /// there and more may come; 0 bytes at end of stream.
    pub fn recv(&self, buf: &mut [u8], peek: bool) -> Result<Received, Errno> {
        let mut s = self.lock();
        if s.error != 0 && s.queue.is_empty() {
            let e = std::mem::take(&mut s.error);
            return Err(Errno::from_raw(e));
        }
        let Some(first) = s.queue.front() else {
            let eof = s.shut_rd
                || (self.kind.connection()
                    && (s.peer_gone || (s.connected_once && s.peer.as_ref().and_then(Weak::upgrade).is_none())));
            if eof {
                return Ok(Received { n: 0, full: 0, rights: Vec::new(), creds: None, from: Name::Unnamed });
            }
            if self.kind.connection() && s.peer.is_none() && !s.connected_once {
                return Err(if self.kind == Kind::Stream { Errno::EINVAL } else { Errno::ENOTCONN });
            }
            return Err(Errno::EAGAIN);
        };
        let from = first.from.clone();
        let creds = first.creds;
        let r = if self.kind == Kind::Stream {
            let mut n = 0;
            let mut rights = Vec::new();
            let mut i = 0;
            while n < buf.len() && i < s.queue.len() {
                let m = &s.queue[i];
                if i > 0 && (!m.rights.is_empty() || m.creds != creds) {
                    break;
                }
                let avail = &m.data[m.off..];
                let k = avail.len().min(buf.len() - n);
                buf[n..n + k].copy_from_slice(&avail[..k]);
                n += k;
                let partial = k < avail.len();
                if i == 0 {
                    rights = if peek { m.rights.clone() } else { std::mem::take(&mut s.queue[0].rights) };
                }
                i += 1;
                if partial {
                    break;
                }
            }
            if !peek {
                let mut left = n;
                while left > 0 {
                    let Some(m) = s.queue.front_mut() else { break };
                    let avail = m.data.len() - m.off;
                    if left >= avail {
                        left -= avail;
                        s.queue.pop_front();
                    } else {
                        m.off += left;
                        left = 0;
                    }
                }
                s.queued_bytes -= n;
                // A segment with ancillary data but no bytes left goes too.
                while s.queue.front().is_some_and(|m| m.off == m.data.len() && m.rights.is_empty()) {
                    s.queue.pop_front();
                }
            }
            Received { n, full: n, rights, creds, from }
        } else {
            let m = if peek {
                let m = &s.queue[0];
                Msg { data: m.data.clone(), off: 0, rights: m.rights.clone(), creds: m.creds, from: m.from.clone() }
            } else {
                let m = s.queue.pop_front().ok_or(Errno::EAGAIN)?;
                s.queued_bytes -= m.data.len();
                m
            };
            let n = m.data.len().min(buf.len());
            buf[..n].copy_from_slice(&m.data[..n]);
            Received { n, full: m.data.len(), rights: m.rights, creds: m.creds, from }
        };
        let peer = s.peer.as_ref().and_then(Weak::upgrade);
        drop(s);
        if !peek {
            // Room for the writers: our peer, or any datagram sender.
            if let Some(p) = peer {
                p.queue.notify(POLLOUT | POLLWRNORM);
            }
            self.queue.notify(POLLOUT | POLLWRNORM);
        }
        Ok(r)
    }

    /// Bytes waiting (FIONREAD / SIOCINQ): the next datagram's size, or
    /// the stream's total.
    pub fn available(&self) -> usize {
        let s = self.lock();
        match self.kind {
            Kind::Stream => s.queued_bytes,
            _ => s.queue.front().map_or(0, |m| m.data.len()),
        }
    }

    /// SO_PASSCRED.
    pub fn set_passcred(&self, on: bool) {
        self.lock().passcred = on;
        if on {
            self.ensure_named();
        }
    }

    /// SO_PASSCRED's value.
    pub fn passcred(&self) -> bool {
        self.lock().passcred
    }

    /// SO_SNDBUF / SO_RCVBUF: (send, receive) sizes.
    pub fn buffers(&self) -> (usize, usize) {
        let s = self.lock();
        (s.sndbuf, s.rcvbuf)
    }

    /// Sets SO_SNDBUF (`send`) or SO_RCVBUF: doubled, at least the minimum,
    /// as Linux does.
    pub fn set_buffer(&self, send: bool, v: i32) {
        let v = (v.max(0) as usize).min(i32::MAX as usize / 2) * 2;
        let mut s = self.lock();
        if send {
            s.sndbuf = v.max(4608);
        } else {
            s.rcvbuf = v.max(2304);
        }
    }

    /// SO_ERROR: takes the pending error.
    pub fn take_error(&self) -> i32 {
        std::mem::take(&mut self.lock().error)
    }

    /// Whether connected to a peer.
    pub fn connected(&self) -> bool {
        self.lock().peer.is_some()
    }

    /// SO_RCVTIMEO (`send` false) or SO_SNDTIMEO.
    pub fn timeout(&self, send: bool) -> std::time::Duration {
        let s = self.lock();
        if send {
            s.sndtimeo
        } else {
            s.rcvtimeo
        }
    }

    /// Sets SO_RCVTIMEO or SO_SNDTIMEO.
    pub fn set_timeout(&self, send: bool, d: std::time::Duration) {
        let mut s = self.lock();
        if send {
            s.sndtimeo = d;
        } else {
            s.rcvtimeo = d;
        }
    }

    /// A boolean or integer option kept for getsockopt.
    pub fn flag(&self, opt: i32) -> i32 {
        self.lock().flags.get(&opt).copied().unwrap_or(0)
    }

    /// Sets a kept option.
    pub fn set_flag(&self, opt: i32, v: i32) {
        self.lock().flags.insert(opt, v);
    }

    /// SO_LINGER.
    pub fn linger(&self) -> (i32, i32) {
        self.lock().linger
    }

    /// Sets SO_LINGER.
    pub fn set_linger(&self, l: (i32, i32)) {
        self.lock().linger = l;
    }
}

impl State {
    fn shut_wr_by_peer(&mut self) {
        // The peer will read no more: our writes fail with EPIPE.
        self.shut_wr = true;
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let s = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if let Name::Abstract(n) = &s.name {
            let mut names = self.ns.names.lock().unwrap_or_else(|e| e.into_inner());
            if names.get(n).is_some_and(|w| w.strong_count() == 0) {
                names.remove(n);
            }
        }
        // Connections nobody accepted are refused.
        for p in s.pending.drain(..) {
            p.lock().peer = None;
        }
        if let Some(peer) = s.peer.as_ref().and_then(Weak::upgrade) {
            if self.kind.connection() {
                let mut ps = peer.lock();
                ps.peer_gone = true;
                ps.shut_wr = true;
                if !s.queue.is_empty() {
                    // Unread data: the peer sees a reset.
                    ps.error = libc::ECONNRESET;
                }
            }
            peer.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR | POLLRDNORM);
        }
    }
}

impl FileOps for UnixSocket {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        Ok(self.recv(buf, false)?.n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        let cred = crate::kernel::current().map(|t| {
            let c = t.resources().creds;
            Ucred { pid: t.tg.pid, uid: c.uid, gid: c.gid }
        });
        self.send(buf, Vec::new(), None, None, cred.unwrap_or_default())
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(Stat {
            ino: self.ino,
            nlink: 1,
            mode: libc::S_IFSOCK | 0o777,
            blksize: 4096,
            dev: crate::abi::dev_make(0, 8),
            ..Default::default()
        })
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        let (peer, mut r) = {
            let s = self.lock();
            let mut r = 0;
            if s.listening {
                if !s.pending.is_empty() {
                    r |= POLLIN | POLLRDNORM;
                }
                return r & mask;
            }
            if !s.queue.is_empty() || s.error != 0 {
                r |= POLLIN | POLLRDNORM;
            }
            if s.error != 0 {
                r |= POLLERR;
            }
            let peer = s.peer.as_ref().and_then(Weak::upgrade);
            if self.kind.connection() {
                let gone = s.peer_gone || (s.connected_once && peer.is_none());
                if gone || s.shut_rd {
                    r |= POLLIN | POLLRDNORM | POLLRDHUP;
                }
                if (s.shut_rd || gone) && s.shut_wr {
                    r |= POLLHUP;
                }
                if s.shut_wr || gone {
                    // Writes fail at once: writable.
                    r |= POLLOUT | POLLWRNORM;
                }
            }
            (peer, r)
        };
        match peer {
            Some(p) => {
                let (snd, _) = self.buffers();
                let ps = p.lock();
                let room = match self.kind {
                    Kind::Stream => ps.queued_bytes < snd,
                    Kind::SeqPacket => ps.queued_bytes < snd.max(ps.rcvbuf),
                    Kind::Dgram => ps.queue.len() < MAX_DGRAM_QLEN,
                };
                if room {
                    r |= POLLOUT | POLLWRNORM;
                }
            }
            None if !self.kind.connection() => r |= POLLOUT | POLLWRNORM,
            None => {}
        }
        r & (mask | POLLERR | POLLHUP)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.queue)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Ok(self.available() as u64)
    }

    fn ioctl(&self, cmd: u32, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        if cmd as u64 == libc::FIONREAD {
            mm.copy_out_obj(arg, &(self.available() as i32))?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }
}
