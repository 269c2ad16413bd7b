//! Unix domain sockets: stream, datagram and seqpacket; socketpair, names
//! in the abstract namespace, listen/connect/accept, shutdown, ancillary
//! data (SCM_RIGHTS, SCM_CREDENTIALS), and the options programs use, with
//! Linux's semantics (`net/unix/af_unix.c` is the model).
//!
//! Each socket has a receive queue that its peer (or any sender, for an
//! unconnected datagram socket) appends to. A sender is charged for what
//! it has queued and not yet read (Linux's `sk_wmem_alloc`): it may queue
//! while its charge is below its send buffer. Nothing blocks here: a full
//! buffer or an empty queue is EAGAIN, and readiness is announced on the
//! sockets' wait queues; the syscall layer waits.
//!
//! A connected socket holds its peer until its own file is closed
//! ([`FileOps::release`]), as Linux does: the peer's name stays readable
//! after it closes, and the close is seen as shutdown (and a reset, if
//! data was left unread).
//!
//! Lock order: a receiver's `io` lock before any `state` lock; at most one
//! socket's `state` at a time, except a listener's with the new socket of
//! a connection (which nobody else sees yet).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRBAND, POLLWRNORM};
use crate::abi::{Errno, Stat};
use crate::vfs::{File, FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// Socket types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
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

    /// Connection-oriented (stream and seqpacket).
    pub fn connection(self) -> bool {
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
    /// A path the caller resolved to a socket file: its (device, inode).
    /// Only ever a target of connect or send.
    Inode(u64, u64),
}

/// Sockets bound to paths, by the (device, inode) of their socket file.
type BoundPaths = std::collections::HashMap<(u64, u64), Weak<UnixSocket>>;

fn bound_paths() -> MutexGuard<'static, BoundPaths> {
    static PATHS: std::sync::OnceLock<Mutex<BoundPaths>> = std::sync::OnceLock::new();
    PATHS.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
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

/// What a receiver with SO_PASSCRED sees for a message sent without
/// credentials: no pid, the overflow ids.
pub const NO_CREDS: Ucred = Ucred { pid: 0, uid: 65534, gid: 65534 };

/// One queued message (datagram, packet, or a stream segment).
struct Msg {
    data: Vec<u8>,
    /// Bytes of `data` already read (streams).
    off: usize,
    rights: Vec<Arc<File>>,
    creds: Option<Ucred>,
    from: Name,
    /// Who is charged for it, and how much.
    sender: Weak<UnixSocket>,
    charge: usize,
}

/// What a receive got.
pub struct Received {
    /// Bytes copied.
    pub n: usize,
    /// The message's full length (for MSG_TRUNC on datagrams).
    pub full: usize,
    /// Files passed with SCM_RIGHTS.
    pub rights: Vec<Arc<File>>,
    /// Credentials the message carries (None: sent without any).
    pub creds: Option<Ucred>,
    /// The sender's name.
    pub from: Name,
}

impl Received {
    fn empty() -> Received {
        Received { n: 0, full: 0, rights: Vec::new(), creds: None, from: Name::Unnamed }
    }
}

/// net.unix.max_dgram_qlen.
const MAX_DGRAM_QLEN: usize = 10;
/// The default SO_SNDBUF/SO_RCVBUF (net.core.wmem_default).
pub const DEFAULT_BUF: usize = 212_992;
/// net.core.wmem_max and rmem_max: the most SO_SNDBUF/SO_RCVBUF set.
pub const MAX_BUF: usize = 212_992;
/// SCM_MAX_FD.
pub const SCM_MAX_FD: usize = 253;
/// What a queued message costs its sender beyond its bytes (an skb's
/// size in Linux).
const MSG_OVERHEAD: usize = 576;
/// SOCK_MIN_SNDBUF and SOCK_MIN_RCVBUF.
const MIN_SNDBUF: usize = 4608;
const MIN_RCVBUF: usize = 2304;

/// Shutdown bits.
const RCV_SHUTDOWN: u8 = 1;
const SEND_SHUTDOWN: u8 = 2;
const SHUTDOWN_MASK: u8 = 3;

/// Where a connection-oriented socket is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Conn {
    /// Not connected (TCP_CLOSE).
    Closed,
    /// Listening.
    Listening,
    /// Connected (TCP_ESTABLISHED); for datagrams, has a default peer.
    Connected,
}

struct State {
    name: Name,
    conn: Conn,
    peer: Option<Arc<UnixSocket>>,
    peer_cred: Option<Ucred>,
    /// Received messages (for a listener: nothing; see `pending`).
    queue: VecDeque<Msg>,
    backlog: usize,
    pending: VecDeque<Arc<UnixSocket>>,
    shutdown: u8,
    /// Its file was closed.
    released: bool,
    passcred: bool,
    sndbuf: usize,
    rcvbuf: usize,
    /// What this socket has queued at receivers and not yet been read.
    wmem: usize,
    error: i32,
    /// SO_RCVTIMEO / SO_SNDTIMEO (zero: none).
    rcvtimeo: Duration,
    sndtimeo: Duration,
    /// Options stored for getsockopt (SO_REUSEADDR, SO_KEEPALIVE, ...).
    flags: BTreeMap<i32, i32>,
    /// SO_LINGER (onoff, seconds).
    linger: (i32, i32),
}

impl State {
    fn writable(&self) -> bool {
        self.conn != Conn::Listening && self.wmem * 4 <= self.sndbuf
    }
}

static NEXT_INO: AtomicU64 = AtomicU64::new(200_000);

/// A unix domain socket.
pub struct UnixSocket {
    /// The type.
    pub kind: Kind,
    state: Mutex<State>,
    /// Serializes receivers, which copy out before they consume.
    io: Mutex<()>,
    queue: WaitQueue,
    ns: Arc<Namespace>,
    ino: u64,
    me: Weak<UnixSocket>,
}

/// Bound abstract names, by socket type.
type Names = BTreeMap<(Kind, Vec<u8>), Weak<UnixSocket>>;

/// The abstract namespace (one per network namespace). Names are per
/// socket type, as in Linux: a stream and a datagram socket may share one.
#[derive(Default)]
pub struct Namespace {
    names: Mutex<Names>,
    next_auto: Mutex<u32>,
}

impl Namespace {
    /// A fresh namespace.
    pub fn new() -> Arc<Namespace> {
        Arc::new(Namespace::default())
    }

    fn names(&self) -> MutexGuard<'_, Names> {
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lookup(&self, kind: Kind, name: &[u8]) -> Option<Arc<UnixSocket>> {
        self.names().get(&(kind, name.to_vec())).and_then(Weak::upgrade)
    }
}

impl UnixSocket {
    /// A new unbound socket.
    pub fn new(kind: Kind, ns: &Arc<Namespace>) -> Arc<UnixSocket> {
        Arc::new_cyclic(|me| UnixSocket {
            kind,
            state: Mutex::new(State {
                name: Name::Unnamed,
                conn: Conn::Closed,
                peer: None,
                peer_cred: None,
                queue: VecDeque::new(),
                backlog: 0,
                pending: VecDeque::new(),
                shutdown: 0,
                released: false,
                passcred: false,
                sndbuf: DEFAULT_BUF,
                rcvbuf: DEFAULT_BUF,
                wmem: 0,
                error: 0,
                rcvtimeo: Duration::ZERO,
                sndtimeo: Duration::ZERO,
                flags: BTreeMap::new(),
                linger: (0, 0),
            }),
            io: Mutex::new(()),
            queue: WaitQueue::new(),
            ns: ns.clone(),
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            me: me.clone(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Held by a receiver around [`UnixSocket::recv`] and its wait.
    pub fn io_lock(&self) -> MutexGuard<'_, ()> {
        self.io.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The socket behind a file, if it is one.
    pub fn of(f: &File) -> Option<&UnixSocket> {
        f.ops.as_any().and_then(|a| a.downcast_ref::<UnixSocket>())
    }

    /// The inode number (for `socket:[N]`).
    pub fn ino(&self) -> u64 {
        self.ino
    }

    fn me(&self) -> Option<Arc<UnixSocket>> {
        self.me.upgrade()
    }

    /// A connected pair (socketpair); `cred` is the creator's.
    pub fn pair(kind: Kind, ns: &Arc<Namespace>, cred: Ucred) -> (Arc<UnixSocket>, Arc<UnixSocket>) {
        let a = UnixSocket::new(kind, ns);
        let b = UnixSocket::new(kind, ns);
        for (x, y) in [(&a, &b), (&b, &a)] {
            let mut s = x.lock();
            s.peer = Some(y.clone());
            s.peer_cred = Some(cred);
            s.conn = Conn::Connected;
        }
        (a, b)
    }

    fn peer(&self) -> Option<Arc<UnixSocket>> {
        self.lock().peer.clone()
    }

    /// bind(2). A bare family (`Name::Unnamed`) autobinds, which is a
    /// no-op for a named socket. `Name::Path` gets the errno the
    /// filesystem gives (the caller checked it).
    pub fn bind(&self, name: Name) -> Result<(), Errno> {
        if name == Name::Unnamed {
            return self.autobind();
        }
        let mut s = self.lock();
        if s.name != Name::Unnamed {
            return Err(Errno::EINVAL);
        }
        match &name {
            Name::Abstract(n) => {
                let mut names = self.ns.names();
                let key = (self.kind, n.clone());
                if names.get(&key).and_then(Weak::upgrade).is_some() {
                    return Err(Errno::EADDRINUSE);
                }
                names.insert(key, self.me.clone());
            }
            // Paths are bound with `bind_path`, once the socket file is made.
            Name::Path(_) | Name::Inode(..) => return Err(Errno::EINVAL),
            Name::Unnamed => {}
        }
        s.name = name;
        Ok(())
    }

    /// Whether the socket has a name (bind gives EINVAL then).
    pub fn is_bound(&self) -> bool {
        self.lock().name != Name::Unnamed
    }

    /// Binds to `path`, whose socket file the caller made: it is found
    /// by the file's (device, inode) `key`.
    pub fn bind_path(&self, path: Vec<u8>, key: (u64, u64)) -> Result<(), Errno> {
        let mut s = self.lock();
        if s.name != Name::Unnamed {
            return Err(Errno::EINVAL);
        }
        bound_paths().insert(key, self.me.clone());
        s.name = Name::Path(path);
        Ok(())
    }

    /// Binds to an automatic name (five hex digits in the abstract
    /// namespace) if the socket has none.
    fn autobind(&self) -> Result<(), Errno> {
        let mut s = self.lock();
        if s.name != Name::Unnamed {
            return Ok(());
        }
        let mut names = self.ns.names();
        let mut next = self.ns.next_auto.lock().unwrap_or_else(|e| e.into_inner());
        for _ in 0..0x100000 {
            let n = format!("{:05x}", *next & 0xfffff).into_bytes();
            *next = next.wrapping_add(1);
            let key = (self.kind, n.clone());
            if names.get(&key).and_then(Weak::upgrade).is_none() {
                names.insert(key, self.me.clone());
                s.name = Name::Abstract(n);
                return Ok(());
            }
        }
        Err(Errno::ENOSPC)
    }

    /// The socket's name.
    pub fn name(&self) -> Name {
        self.lock().name.clone()
    }

    /// The peer's name (ENOTCONN if none). A connected socket keeps its
    /// peer until it is closed itself, so the name outlives the peer.
    pub fn peer_name(&self) -> Result<Name, Errno> {
        let p = self.peer().ok_or(Errno::ENOTCONN)?;
        Ok(p.name())
    }

    /// SO_PEERCRED.
    pub fn peer_cred(&self) -> Option<Ucred> {
        self.lock().peer_cred
    }

    /// listen(2); `cred` (the caller's) becomes what connecting clients
    /// see as SO_PEERCRED.
    pub fn listen(&self, backlog: i32, cred: Ucred) -> Result<(), Errno> {
        if !self.kind.connection() {
            return Err(Errno::EOPNOTSUPP);
        }
        let mut s = self.lock();
        if s.name == Name::Unnamed || s.conn == Conn::Connected {
            return Err(Errno::EINVAL);
        }
        // net.core.somaxconn caps the backlog.
        s.backlog = (backlog.max(0) as usize).min(4096);
        if s.conn != Conn::Listening {
            s.conn = Conn::Listening;
            s.peer_cred = Some(cred);
        }
        Ok(())
    }

    /// Whether listening (SO_ACCEPTCONN).
    pub fn is_listening(&self) -> bool {
        self.lock().conn == Conn::Listening
    }

    /// The socket of type `kind` bound to `name`.
    fn find(&self, kind: Kind, name: &Name) -> Result<Arc<UnixSocket>, Errno> {
        match name {
            Name::Abstract(n) => self.ns.lookup(kind, n).ok_or(Errno::ECONNREFUSED),
            Name::Inode(dev, ino) => {
                let t = bound_paths().get(&(*dev, *ino)).and_then(Weak::upgrade).ok_or(Errno::ECONNREFUSED)?;
                if t.kind != kind {
                    return Err(Errno::EPROTOTYPE);
                }
                Ok(t)
            }
            Name::Path(_) | Name::Unnamed => Err(Errno::ECONNREFUSED),
        }
    }

    /// connect(2) for stream and seqpacket sockets: queues a new
    /// server-side socket on the listener (EAGAIN if its backlog is full).
    /// `cred` is the caller's.
    pub fn connect(&self, name: &Name, cred: Ucred) -> Result<(), Errno> {
        if !self.kind.connection() {
            return self.connect_dgram(Some(name));
        }
        if self.lock().passcred {
            self.autobind()?;
        }
        let target = self.find(self.kind, name)?;
        // Our own state is looked at after the target's, as in Linux (a
        // socket connecting to itself holds one lock).
        let my_conn = self.lock().conn;
        let server = UnixSocket::new(self.kind, &self.ns);
        let listener_cred = {
            let mut t = target.lock();
            if t.conn != Conn::Listening || t.shutdown & RCV_SHUTDOWN != 0 || t.released {
                return match my_conn {
                    Conn::Listening if std::ptr::eq(Arc::as_ptr(&target), self) => Err(Errno::EINVAL),
                    _ => Err(Errno::ECONNREFUSED),
                };
            }
            if t.pending.len() > t.backlog {
                return Err(Errno::EAGAIN);
            }
            match my_conn {
                Conn::Closed => {}
                Conn::Connected => return Err(Errno::EISCONN),
                Conn::Listening => return Err(Errno::EINVAL),
            }
            let Some(me) = self.me() else { return Err(Errno::ECONNREFUSED) };
            let mut sv = server.lock();
            sv.name = t.name.clone();
            sv.peer = Some(me);
            sv.peer_cred = Some(cred);
            sv.conn = Conn::Connected;
            sv.passcred = t.passcred;
            drop(sv);
            t.pending.push_back(server.clone());
            t.peer_cred
        };
        {
            let mut s = self.lock();
            s.peer = Some(server);
            s.peer_cred = listener_cred;
            s.conn = Conn::Connected;
        }
        target.queue.notify(POLLIN | POLLRDNORM);
        self.queue.notify(POLLOUT | POLLWRNORM);
        Ok(())
    }

    /// connect(2) for datagram sockets: sets (None: AF_UNSPEC, clears) the
    /// default destination. A socket leaving a peer drops what it had
    /// queued, and that peer, if connected to it, gets ECONNRESET.
    pub fn connect_dgram(&self, name: Option<&Name>) -> Result<(), Errno> {
        if self.kind.connection() {
            return Err(Errno::EINVAL);
        }
        let target = match name {
            Some(n) => {
                let t = self.find(Kind::Dgram, n)?;
                if self.lock().passcred {
                    self.autobind()?;
                }
                Some(t)
            }
            None => None,
        };
        let (old, dropped) = {
            let mut s = self.lock();
            let old = std::mem::replace(&mut s.peer, target.clone());
            s.conn = if target.is_some() { Conn::Connected } else { Conn::Closed };
            let changed = match (&old, &target) {
                (Some(o), Some(t)) => !Arc::ptr_eq(o, t),
                (Some(_), None) => true,
                _ => false,
            };
            let dropped = if changed && !s.queue.is_empty() { std::mem::take(&mut s.queue) } else { VecDeque::new() };
            (old.filter(|_| changed), dropped)
        };
        if !dropped.is_empty() {
            self.discard(dropped);
            if let Some(o) = &old {
                let mut os = o.lock();
                let ours = os.peer.as_ref().is_some_and(|p| std::ptr::eq(Arc::as_ptr(p), self));
                if !os.released && ours {
                    os.error = libc::ECONNRESET;
                    drop(os);
                    o.queue.notify(POLLERR);
                }
            }
        }
        Ok(())
    }

    /// Messages taken off a queue unread: their senders get their charge
    /// back.
    fn discard(&self, msgs: VecDeque<Msg>) {
        for m in msgs {
            uncharge(&m);
        }
        self.queue.notify(POLLOUT | POLLWRNORM);
    }

    /// Whether the listener at `name` has room (for a blocking connect).
    pub fn backlog_has_room(&self, name: &Name) -> bool {
        self.find(self.kind, name).is_ok_and(|t| {
            let s = t.lock();
            s.pending.len() <= s.backlog
        })
    }

    /// accept(2): the next queued connection (EAGAIN if none).
    pub fn accept(&self) -> Result<Arc<UnixSocket>, Errno> {
        let mut s = self.lock();
        if s.conn != Conn::Listening {
            return Err(Errno::EINVAL);
        }
        s.pending.pop_front().ok_or(Errno::EAGAIN)
    }

    /// shutdown(2). A connected peer sees the other half.
    pub fn shutdown(&self, how: i32) -> Result<(), Errno> {
        let mode = match how {
            libc::SHUT_RD => RCV_SHUTDOWN,
            libc::SHUT_WR => SEND_SHUTDOWN,
            libc::SHUT_RDWR => SHUTDOWN_MASK,
            _ => return Err(Errno::EINVAL),
        };
        let peer = {
            let mut s = self.lock();
            s.shutdown |= mode;
            s.peer.clone()
        };
        if let Some(p) = peer.filter(|_| self.kind.connection()) {
            let mut peer_mode = 0;
            if mode & RCV_SHUTDOWN != 0 {
                peer_mode |= SEND_SHUTDOWN;
            }
            if mode & SEND_SHUTDOWN != 0 {
                peer_mode |= RCV_SHUTDOWN;
            }
            p.lock().shutdown |= peer_mode;
            p.queue.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLRDNORM | POLLWRNORM);
        }
        self.queue.notify(POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLRDNORM | POLLWRNORM);
        Ok(())
    }

    /// Sends `data` (with `rights` and explicit `creds`) to the peer, or
    /// for a datagram socket to `to`. `sender` is the caller's credentials.
    /// Returns the bytes queued: a stream queues what its send buffer
    /// takes (EAGAIN if nothing), a datagram all or nothing.
    pub fn send(
        &self,
        data: &[u8],
        rights: Vec<Arc<File>>,
        creds: Option<Ucred>,
        to: Option<&Name>,
        sender: Ucred,
    ) -> Result<usize, Errno> {
        match self.kind {
            Kind::Stream => self.send_stream(data, rights, creds, to, sender),
            Kind::Dgram | Kind::SeqPacket => self.send_packet(data, rights, creds, to, sender),
        }
    }

    fn send_stream(
        &self,
        data: &[u8],
        rights: Vec<Arc<File>>,
        creds: Option<Ucred>,
        to: Option<&Name>,
        sender: Ucred,
    ) -> Result<usize, Errno> {
        let (peer, name, sndbuf, my_passcred) = {
            let s = self.lock();
            if to.is_some() {
                return Err(if s.conn == Conn::Connected { Errno::EISCONN } else { Errno::EOPNOTSUPP });
            }
            let Some(peer) = s.peer.clone() else { return Err(Errno::ENOTCONN) };
            if s.shutdown & SEND_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            (peer, s.name.clone(), s.sndbuf, s.passcred)
        };
        if data.is_empty() {
            // Nothing to carry the ancillary data: it is dropped.
            return Ok(0);
        }
        // Linux keeps two segments in flight: each at most half the buffer.
        let max_seg = (sndbuf / 2).saturating_sub(64).max(1);
        let mut sent = 0;
        let mut rights = Some(rights);
        while sent < data.len() {
            if self.lock().wmem >= sndbuf {
                break;
            }
            let n = (data.len() - sent).min(max_seg);
            let charge = n + MSG_OVERHEAD;
            {
                let mut p = peer.lock();
                if p.released || p.shutdown & RCV_SHUTDOWN != 0 {
                    if sent > 0 {
                        return Ok(sent);
                    }
                    return Err(Errno::EPIPE);
                }
                let creds = message_creds(creds, sender, p.passcred || my_passcred);
                p.queue.push_back(Msg {
                    data: data[sent..sent + n].to_vec(),
                    off: 0,
                    rights: rights.take().unwrap_or_default(),
                    creds,
                    from: name.clone(),
                    sender: self.me.clone(),
                    charge,
                });
            }
            self.lock().wmem += charge;
            peer.queue.notify(POLLIN | POLLRDNORM);
            sent += n;
        }
        if sent == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(sent)
    }

    fn send_packet(
        &self,
        data: &[u8],
        rights: Vec<Arc<File>>,
        creds: Option<Ucred>,
        to: Option<&Name>,
        sender: Ucred,
    ) -> Result<usize, Errno> {
        // Linux's order of checks (unix_dgram_sendmsg).
        let (peer, passcred) = {
            let mut s = self.lock();
            if self.kind == Kind::SeqPacket {
                if s.error != 0 {
                    return Err(Errno::from_raw(std::mem::take(&mut s.error)));
                }
                if s.conn != Conn::Connected {
                    return Err(Errno::ENOTCONN);
                }
            }
            if to.is_none() && s.peer.is_none() {
                return Err(Errno::ENOTCONN);
            }
            if s.shutdown & SEND_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            (s.peer.clone(), s.passcred)
        };
        if passcred && self.kind == Kind::Dgram {
            self.autobind()?;
        }
        let (name, sndbuf, wmem) = {
            let s = self.lock();
            (s.name.clone(), s.sndbuf, s.wmem)
        };
        if data.len() > sndbuf.saturating_sub(32) {
            return Err(Errno::EMSGSIZE);
        }
        if wmem >= sndbuf {
            return Err(Errno::EAGAIN);
        }
        // A seqpacket socket ignores an address it is given.
        let target = match to {
            Some(n) if self.kind == Kind::Dgram => self.find(Kind::Dgram, n)?,
            _ => peer.ok_or(Errno::ENOTCONN)?,
        };
        let me_ptr: *const UnixSocket = self;
        let charge = data.len() + MSG_OVERHEAD;
        {
            let mut p = target.lock();
            let connected_to_us = p.peer.as_ref().is_some_and(|x| std::ptr::eq(Arc::as_ptr(x), me_ptr));
            if self.kind == Kind::Dgram && p.peer.is_some() && !connected_to_us {
                return Err(Errno::EPERM);
            }
            if p.released {
                drop(p);
                // Our peer is gone: forget it.
                let mut s = self.lock();
                if s.peer.as_ref().is_some_and(|x| Arc::ptr_eq(x, &target)) && self.kind == Kind::Dgram {
                    s.peer = None;
                    s.conn = Conn::Closed;
                }
                return Err(Errno::ECONNREFUSED);
            }
            if p.shutdown & RCV_SHUTDOWN != 0 {
                return Err(Errno::EPIPE);
            }
            let to_self = std::ptr::eq(Arc::as_ptr(&target), me_ptr);
            if self.kind == Kind::Dgram && !to_self && !connected_to_us && p.queue.len() > MAX_DGRAM_QLEN {
                return Err(Errno::EAGAIN);
            }
            let creds = message_creds(creds, sender, p.passcred || passcred);
            p.queue.push_back(Msg {
                data: data.to_vec(),
                off: 0,
                rights,
                creds,
                from: name,
                sender: self.me.clone(),
                charge,
            });
        }
        self.lock().wmem += charge;
        target.queue.notify(POLLIN | POLLRDNORM);
        Ok(data.len())
    }

    /// Receives up to `max` bytes, handing them to `sink` (which copies
    /// them to the application; an error there is EFAULT). Streams read
    /// across segments (not past one that carried files, nor, for a
    /// receiver with SO_PASSCRED, across different credentials), and
    /// consume only what `sink` took; datagrams and packets take one
    /// message, truncated (and lost if `sink` fails). `peek` leaves the
    /// data queued. EAGAIN if nothing is there yet; at a shutdown, end of
    /// file (for datagrams only if the caller would block, as Linux).
    /// The caller holds [`UnixSocket::io_lock`].
    pub fn recv(
        &self,
        max: usize,
        peek: bool,
        nonblock: bool,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Errno>,
    ) -> Result<Received, Errno> {
        let mut s = self.lock();
        match self.kind {
            Kind::Stream if s.conn != Conn::Connected => return Err(Errno::EINVAL),
            Kind::SeqPacket if s.conn != Conn::Connected => return Err(Errno::ENOTCONN),
            _ => {}
        }
        // A pending error comes first for datagrams and packets, and when
        // nothing is queued for streams.
        if s.error != 0 && (self.kind != Kind::Stream || s.queue.is_empty()) {
            return Err(Errno::from_raw(std::mem::take(&mut s.error)));
        }
        if s.queue.is_empty() {
            // End of file at a shutdown: for a datagram socket only if the
            // caller would wait.
            let shut = s.shutdown & RCV_SHUTDOWN != 0;
            if shut && (self.kind != Kind::Dgram || !nonblock) {
                return Ok(Received::empty());
            }
            return Err(Errno::EAGAIN);
        }
        if self.kind == Kind::Stream {
            return self.recv_stream(s, max, peek, sink);
        }
        if peek {
            let m = &s.queue[0];
            let n = m.data.len().min(max);
            let r = Received { n, full: m.data.len(), rights: m.rights.clone(), creds: m.creds, from: m.from.clone() };
            sink(&m.data[..n])?;
            return Ok(r);
        }
        let Some(m) = s.queue.pop_front() else { return Err(Errno::EAGAIN) };
        drop(s);
        uncharge(&m);
        self.queue.notify(POLLOUT | POLLWRNORM);
        let n = m.data.len().min(max);
        sink(&m.data[..n])?;
        Ok(Received { n, full: m.data.len(), rights: m.rights, creds: m.creds, from: m.from })
    }

    fn recv_stream(
        &self,
        mut s: MutexGuard<'_, State>,
        max: usize,
        peek: bool,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Errno>,
    ) -> Result<Received, Errno> {
        if max == 0 {
            return Ok(Received::empty());
        }
        let check_creds = s.passcred;
        let first = &s.queue[0];
        let (creds, from) = (first.creds, first.from.clone());
        let mut n = 0;
        let mut rights = Vec::new();
        let mut i = 0;
        let mut consumed_msgs = 0;
        let mut last_partial = 0;
        while n < max && i < s.queue.len() {
            let m = &s.queue[i];
            if i > 0 && check_creds && m.creds != creds {
                break;
            }
            let avail = &m.data[m.off..];
            let left = avail.len();
            let k = left.min(max - n);
            if let Err(e) = sink(&avail[..k]) {
                if n == 0 {
                    return Err(e);
                }
                break;
            }
            n += k;
            let carries = !m.rights.is_empty();
            if carries {
                rights = if peek { m.rights.clone() } else { std::mem::take(&mut s.queue[i].rights) };
            }
            if k < left {
                last_partial = k;
                break;
            }
            consumed_msgs += 1;
            i += 1;
            if carries {
                break;
            }
        }
        let mut done = Vec::new();
        if !peek {
            for _ in 0..consumed_msgs {
                if let Some(m) = s.queue.pop_front() {
                    done.push(m);
                }
            }
            if last_partial > 0 {
                if let Some(m) = s.queue.front_mut() {
                    m.off += last_partial;
                }
            }
        }
        drop(s);
        for m in &done {
            uncharge(m);
        }
        if !done.is_empty() {
            self.queue.notify(POLLOUT | POLLWRNORM);
        }
        Ok(Received { n, full: n, rights, creds, from })
    }

    /// Bytes waiting (FIONREAD / SIOCINQ): a datagram socket's next
    /// message, else everything queued. EINVAL on a listener.
    pub fn available(&self) -> Result<usize, Errno> {
        let s = self.lock();
        if s.conn == Conn::Listening {
            return Err(Errno::EINVAL);
        }
        Ok(match self.kind {
            Kind::Dgram => s.queue.front().map_or(0, |m| m.data.len()),
            _ => s.queue.iter().map(|m| m.data.len() - m.off).sum(),
        })
    }

    /// SO_PASSCRED.
    pub fn set_passcred(&self, on: bool) {
        self.lock().passcred = on;
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

    /// Sets SO_SNDBUF (`send`) or SO_RCVBUF as Linux does: capped at the
    /// system maximum unless `force`, doubled, at least the minimum.
    pub fn set_buffer(&self, send: bool, v: i32, force: bool) {
        let mut v = v.max(0) as usize;
        if !force {
            v = v.min(MAX_BUF);
        }
        let v = v.min(i32::MAX as usize / 2) * 2;
        {
            let mut s = self.lock();
            if send {
                s.sndbuf = v.max(MIN_SNDBUF);
            } else {
                s.rcvbuf = v.max(MIN_RCVBUF);
            }
        }
        self.queue.notify(POLLOUT | POLLWRNORM);
    }

    /// SO_ERROR: takes the pending error.
    pub fn take_error(&self) -> i32 {
        std::mem::take(&mut self.lock().error)
    }

    /// Records an error for the next call (recvmmsg's deferred error).
    pub fn set_error(&self, e: Errno) {
        self.lock().error = e.raw();
    }

    /// SO_RCVTIMEO (`send` false) or SO_SNDTIMEO.
    pub fn timeout(&self, send: bool) -> Duration {
        let s = self.lock();
        if send {
            s.sndtimeo
        } else {
            s.rcvtimeo
        }
    }

    /// Sets SO_RCVTIMEO or SO_SNDTIMEO.
    pub fn set_timeout(&self, send: bool, d: Duration) {
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

    /// The socket's file was closed (Linux's unix_release_sock; `embryo`:
    /// a connection nobody accepted). Its name goes, its peer sees a
    /// shutdown (and a reset if data was left unread), and what was
    /// queued is dropped.
    fn release_sock(&self, embryo: bool) {
        let (name, peer, queue, pending) = {
            let mut s = self.lock();
            if s.released {
                return;
            }
            s.released = true;
            s.shutdown = SHUTDOWN_MASK;
            let unread = !s.queue.is_empty();
            let peer = s.peer.take().map(|p| (p, unread));
            (s.name.clone(), peer, std::mem::take(&mut s.queue), std::mem::take(&mut s.pending))
        };
        if let Name::Abstract(n) = &name {
            let mut names = self.ns.names();
            let key = (self.kind, n.clone());
            if names.get(&key).is_some_and(|w| std::ptr::eq(w.as_ptr(), self)) {
                names.remove(&key);
            }
        }
        if let Some((p, unread)) = peer {
            if self.kind.connection() {
                let mut ps = p.lock();
                if unread || embryo {
                    ps.error = libc::ECONNRESET;
                }
                ps.shutdown = SHUTDOWN_MASK;
            }
            p.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDHUP | POLLERR | POLLRDNORM);
        }
        // Connections nobody accepted are reset.
        for c in pending {
            c.release_sock(true);
        }
        // Files in flight close here (outside our lock: one may be a
        // socket whose release takes other locks).
        for m in &queue {
            uncharge(m);
        }
        drop(queue);
        self.queue.notify(POLLIN | POLLOUT | POLLHUP | POLLRDNORM | POLLWRNORM);
    }
}

/// The credentials a message carries: those sent, or the sender's when
/// either end asks for them with SO_PASSCRED (Linux's maybe_add_creds).
fn message_creds(explicit: Option<Ucred>, sender: Ucred, passcred: bool) -> Option<Ucred> {
    explicit.or(passcred.then_some(sender))
}

/// Gives a read (or dropped) message's charge back to its sender.
fn uncharge(m: &Msg) {
    if let Some(s) = m.sender.upgrade() {
        {
            let mut st = s.lock();
            st.wmem = st.wmem.saturating_sub(m.charge);
        }
        s.queue.notify(POLLOUT | POLLWRNORM | POLLWRBAND);
    }
}

impl FileOps for UnixSocket {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let _io = self.io_lock();
        let mut at = 0;
        let r = self.recv(buf.len(), false, true, &mut |d| {
            buf[at..at + d.len()].copy_from_slice(d);
            at += d.len();
            Ok(())
        })?;
        Ok(r.n)
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

    /// Linux's unix_poll (streams) and unix_dgram_poll (datagrams and
    /// packets).
    fn readiness(&self, mask: u32) -> u32 {
        let (peer, mut r, writable) = {
            let s = self.lock();
            let mut r = 0;
            if s.error != 0 {
                r |= POLLERR;
            }
            if s.shutdown == SHUTDOWN_MASK {
                r |= POLLHUP;
            }
            if s.shutdown & RCV_SHUTDOWN != 0 {
                r |= POLLRDHUP | POLLIN | POLLRDNORM;
            }
            if !s.queue.is_empty() || !s.pending.is_empty() {
                r |= POLLIN | POLLRDNORM;
            }
            if self.kind.connection() && s.conn == Conn::Closed {
                r |= POLLHUP;
            }
            (s.peer.clone(), r, s.writable())
        };
        let mut writable = writable;
        if writable && self.kind == Kind::Dgram {
            if let Some(p) = peer {
                let ps = p.lock();
                let ours = ps.peer.as_ref().is_some_and(|x| std::ptr::eq(Arc::as_ptr(x), self));
                if !ours && !std::ptr::eq(Arc::as_ptr(&p), self) && ps.queue.len() > MAX_DGRAM_QLEN {
                    writable = false;
                }
            }
        }
        if writable {
            r |= POLLOUT | POLLWRNORM | POLLWRBAND;
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
        Ok(self.available()? as u64)
    }

    fn ioctl(&self, cmd: u32, arg: u64, mm: &crate::mm::MemoryManager) -> Result<u64, Errno> {
        if cmd as u64 == libc::FIONREAD {
            mm.copy_out_obj(arg, &(self.available()? as i32))?;
            return Ok(0);
        }
        Err(Errno::ENOTTY)
    }

    fn release(&self) {
        self.release_sock(false);
    }
}
