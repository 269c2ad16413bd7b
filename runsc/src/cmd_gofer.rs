//! `runsc gofer`: serves a tree to the sentry over the inherited channel.

use std::os::fd::AsRawFd;

use anyhow::Context as _;

use crate::cli::{GlobalFlags, GoferArgs};
use crate::{confine, filters, logging};

/// Runs the file server until the sentry hangs up.
pub fn run(g: &GlobalFlags, args: &GoferArgs) -> anyhow::Result<i32> {
    crate::cgroup::join_inherited(&args.cgroup_fds).context("gofer")?;
    logging::init(g, g.debug_log.as_deref(), "gofer")?;
    if !args.detached {
        confine::die_with_parent().context("gofer")?;
    }
    // Away from the terminal's signals: the sandbox decides when to stop.
    nix::unistd::setsid().context("gofer: setsid")?;
    let sock = gofer::transport::adopt_inherited(args.io_fd).context("gofer --io-fd")?;
    gofer::transport::set_polling(gofer::transport::several_cpus());
    // The gofer sees only the tree it serves (pivot-rooted into it, in a
    // mount namespace of its own), and loses the network and every call
    // but those that serve files.
    let userns =
        args.userns_fd.map(|fd| gofer::transport::adopt_inherited(fd).context("gofer --userns-fd")).transpose()?;
    // In the container's user namespace as its root: the files served
    // are accessed, owned and shown as the container's ids map them. The
    // host's root joins once in the tree (whose parents may be closed to
    // the namespace); an unprivileged caller first, as it may make the
    // other namespaces only there.
    let (early, late) = match userns {
        Some(ns) if !nix::unistd::geteuid().is_root() => (Some(ns), None),
        ns => (None, ns),
    };
    if let Some(ns) = &early {
        confine::join_user_namespace(ns).context("confine gofer")?;
    }
    confine::enter_namespaces(true, None, None).context("confine gofer")?;
    confine::pivot_into(&args.serve, !args.writable).context("confine gofer")?;
    if let Some(ns) = late {
        confine::join_user_namespace(&ns).context("confine gofer")?;
    }
    let root = std::path::Path::new("/");
    let mut server =
        if args.writable { gofer::server::Server::new_writable(root) } else { gofer::server::Server::new(root) }
            .context("gofer")?;
    confine::install_filter(&filters::gofer::table(), g.seccomp_log).context("confine gofer")?;
    server.serve(sock.as_raw_fd()).context("gofer")?;
    Ok(0)
}
