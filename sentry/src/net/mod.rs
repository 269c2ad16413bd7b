//! Networking: unix domain sockets (the sentry's own). Host and netstack
//! sockets come with the networking work.

pub mod unix;
