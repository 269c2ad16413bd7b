//! The gofer: a file server that owns the host side of every mount, and the
//! protocol the sentry speaks to it.
//!
//! Messages are request/response pairs over a `SOCK_SEQPACKET` socketpair
//! (one message per packet); opening a file donates its host fd with
//! `SCM_RIGHTS`, so reads need no round trip. Every host open is relative to
//! a directory fd with `O_NOFOLLOW`, so no walk leaves the served tree.

pub mod client;
pub mod proto;
pub mod server;
pub mod transport;
mod wire;
mod xattr_at;

pub use client::Client;
pub use proto::{Dirent, Request, Response, WireStat, WireStatfs};
