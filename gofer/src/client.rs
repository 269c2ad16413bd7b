//! The sentry's side of the protocol: synchronous calls over one channel.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Mutex;

use crate::proto::{Request, Response, MAX_MESSAGE};
use crate::transport::{recv_polling, send, TransportError};

/// Non-blocking tries for a reply before sleeping (each a recvmsg of
/// about half a microsecond).
const REPLY_POLLS: u32 = 200;

/// A connection to a gofer.
pub struct Client {
    sock: Mutex<(OwnedFd, Vec<u8>)>,
}

impl Client {
    /// Wraps a connected channel.
    pub fn new(sock: OwnedFd) -> Client {
        Client { sock: Mutex::new((sock, vec![0u8; MAX_MESSAGE])) }
    }

    /// Sends `req` and waits for the reply (and any donated fd).
    pub fn call(&self, req: &Request) -> Result<(Response, Option<OwnedFd>), TransportError> {
        let mut g = self.sock.lock().unwrap_or_else(|e| e.into_inner());
        let (sock, buf) = &mut *g;
        send(sock.as_raw_fd(), &req.encode(), None)?;
        // The gofer's answer takes a few µs of host calls.
        let (n, fd) = recv_polling(sock.as_raw_fd(), buf, REPLY_POLLS)?;
        Ok((Response::decode(&buf[..n])?, fd))
    }
}
