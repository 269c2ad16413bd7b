//! Framing: one message per SOCK_SEQPACKET packet, with at most one fd.
//!
//! Waits for the peer's next message poll for a short while before they
//! sleep: a wake-up across CPUs costs 50-70 µs on a virtual machine (an
//! IPI and a VM exit), against 7-8 µs for a round trip that finds its
//! answer while polling. On a single CPU polling would only delay the
//! peer, so it is off there (`set_polling`).

use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};

use nix::errno::Errno;
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};

/// Errors on the gofer channel.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The peer closed the channel.
    #[error("gofer channel closed")]
    Closed,
    /// A host socket call failed.
    #[error("gofer channel {op}: {errno}")]
    Host {
        /// The operation.
        op: &'static str,
        /// The errno.
        errno: Errno,
    },
    /// A message did not decode.
    #[error(transparent)]
    Malformed(#[from] crate::wire::Malformed),
}

/// Sends one message, with `fd` attached if given.
pub fn send(sock: RawFd, msg: &[u8], fd: Option<RawFd>) -> Result<(), TransportError> {
    match fd {
        Some(f) => send_fds(sock, msg, &[f]),
        None => send_fds(sock, msg, &[]),
    }
}

/// The most fds one message carries.
pub const MAX_FDS: usize = 64;

/// Sends one message with `fds` (at most [`MAX_FDS`]) attached.
pub fn send_fds(sock: RawFd, msg: &[u8], fds: &[RawFd]) -> Result<(), TransportError> {
    let iov = [IoSlice::new(msg)];
    let rights = [ControlMessage::ScmRights(fds)];
    let cmsgs: &[ControlMessage<'_>] = if fds.is_empty() { &[] } else { &rights };
    loop {
        match sendmsg::<()>(sock, &iov, cmsgs, MsgFlags::MSG_NOSIGNAL, None) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(Errno::EPIPE) | Err(Errno::ECONNRESET) => return Err(TransportError::Closed),
            Err(errno) => return Err(TransportError::Host { op: "sendmsg", errno }),
        }
    }
}

/// Whether waits poll first (more than one CPU to run on).
static POLLING: AtomicBool = AtomicBool::new(false);

/// Turns polling before sleeping on or off for this process; runsc turns
/// it on, before confinement, when it may use more than one CPU.
pub fn set_polling(on: bool) {
    POLLING.store(on, Ordering::Relaxed);
}

/// Whether this process may run on more than one CPU (sched_getaffinity).
pub fn several_cpus() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
}

/// Receives one message into `buf`, first polling up to `polls` times
/// without blocking (if polling is on); returns its length and any fd.
pub fn recv_polling(sock: RawFd, buf: &mut [u8], polls: u32) -> Result<(usize, Option<OwnedFd>), TransportError> {
    if POLLING.load(Ordering::Relaxed) {
        for _ in 0..polls {
            match recv_flags(sock, buf, MsgFlags::MSG_DONTWAIT) {
                Err(TransportError::Host { errno: Errno::EAGAIN, .. }) => std::hint::spin_loop(),
                r => return r,
            }
        }
    }
    recv(sock, buf)
}

/// Receives one message into `buf`; returns its length and any fd.
pub fn recv(sock: RawFd, buf: &mut [u8]) -> Result<(usize, Option<OwnedFd>), TransportError> {
    recv_flags(sock, buf, MsgFlags::empty())
}

fn recv_flags(sock: RawFd, buf: &mut [u8], flags: MsgFlags) -> Result<(usize, Option<OwnedFd>), TransportError> {
    let (n, fds) = recv_fds_flags(sock, buf, flags)?;
    Ok((n, fds.into_iter().next()))
}

/// Receives one message (or, on a stream socket, what has arrived) into
/// `buf`; returns its length and the fds that came with it.
pub fn recv_fds(sock: RawFd, buf: &mut [u8]) -> Result<(usize, Vec<OwnedFd>), TransportError> {
    recv_fds_flags(sock, buf, MsgFlags::empty())
}

fn recv_fds_flags(sock: RawFd, buf: &mut [u8], flags: MsgFlags) -> Result<(usize, Vec<OwnedFd>), TransportError> {
    let mut cmsg = nix::cmsg_space!([RawFd; MAX_FDS]);
    loop {
        let mut iov = [IoSliceMut::new(buf)];
        let r = recvmsg::<()>(sock, &mut iov, Some(&mut cmsg), MsgFlags::MSG_CMSG_CLOEXEC | flags);
        match r {
            Ok(m) => {
                let mut got = Vec::new();
                if let Ok(cmsgs) = m.cmsgs() {
                    for c in cmsgs {
                        if let ControlMessageOwned::ScmRights(fds) = c {
                            for f in fds {
                                // SAFETY: the kernel just installed this fd in
                                // our table for us; nobody else owns it.
                                got.push(unsafe { OwnedFd::from_raw_fd(f) });
                            }
                        }
                    }
                }
                if m.bytes == 0 {
                    return Err(TransportError::Closed);
                }
                return Ok((m.bytes, got));
            }
            Err(Errno::EINTR) => continue,
            Err(Errno::ECONNRESET) => return Err(TransportError::Closed),
            Err(errno) => return Err(TransportError::Host { op: "recvmsg", errno }),
        }
    }
}

/// Makes a connected SOCK_SEQPACKET pair (close-on-exec).
pub fn socketpair() -> Result<(OwnedFd, OwnedFd), TransportError> {
    use nix::sys::socket::{socketpair as sp, AddressFamily, SockFlag, SockType};
    sp(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)
        .map_err(|errno| TransportError::Host { op: "socketpair", errno })
}

/// The raw fd of an owned socket (helper for callers holding OwnedFd).
pub fn raw(fd: &OwnedFd) -> RawFd {
    fd.as_raw_fd()
}

/// Takes ownership of an fd inherited from the parent process by number,
/// after checking it is open; marks it close-on-exec.
pub fn adopt_inherited(fd: RawFd) -> Result<OwnedFd, TransportError> {
    // SAFETY: F_GETFD only queries the fd table.
    if fd < 0 || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(TransportError::Host { op: "inherited fd", errno: Errno::EBADF });
    }
    // SAFETY: the fd is open (checked above) and the parent handed it to us
    // by number on the command line for this process to own; nothing else
    // in this process refers to it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: F_SETFD on the fd we now own.
    unsafe { libc::fcntl(owned.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok(owned)
}
