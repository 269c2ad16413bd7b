//! `runsc gofer`: serves a tree to the sentry over the inherited channel.

use std::os::fd::AsRawFd;

use anyhow::Context as _;

use crate::cli::{GlobalFlags, GoferArgs};
use crate::logging;

/// Runs the file server until the sentry hangs up.
pub fn run(g: &GlobalFlags, args: &GoferArgs) -> anyhow::Result<i32> {
    logging::init(g, g.debug_log.as_deref(), "gofer")?;
    let sock = gofer::transport::adopt_inherited(args.io_fd).context("gofer --io-fd")?;
    let mut server = gofer::server::Server::new(&args.serve).context("gofer")?;
    server.serve(sock.as_raw_fd()).context("gofer")?;
    Ok(0)
}
