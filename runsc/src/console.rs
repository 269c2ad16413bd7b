//! A terminal for a container whose process asks for one
//! (`process.terminal`) and whose runtime does not stay attached: runsc
//! makes a host pseudo-terminal, sends its master end to the caller's
//! `--console-socket` (SCM_RIGHTS, as runc does: the message is the
//! terminal's name), and gives the replica to the sandbox as init's stdio,
//! where it becomes /dev/console and init's controlling terminal.

use std::os::fd::{AsRawFd as _, BorrowedFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;

use anyhow::Context as _;

/// Makes the terminal (sized as `process.consoleSize` says, if it does),
/// sends its master to `socket`, and returns the replica.
pub fn send_pty(socket: &Path, size: Option<(u16, u16)>) -> anyhow::Result<OwnedFd> {
    send_pty_with(socket, size, |_| Ok(()))
}

/// [`send_pty`], with `prepare` done to the replica before the master goes
/// (what must be in place before the client can resize the terminal).
pub fn send_pty_with(
    socket: &Path,
    size: Option<(u16, u16)>,
    prepare: impl FnOnce(&OwnedFd) -> anyhow::Result<()>,
) -> anyhow::Result<OwnedFd> {
    let ws = size.map(|(rows, cols)| nix::pty::Winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 });
    let pty = nix::pty::openpty(ws.as_ref(), None).context("make a terminal for the container")?;
    // Ours alone: no gofer or hook started meanwhile may hold the
    // terminal open (its client would never see it close).
    for fd in [&pty.master, &pty.slave] {
        nix::fcntl::fcntl(fd.as_raw_fd(), nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC))
            .context("terminal: close-on-exec")?;
    }
    let name = std::fs::read_link(format!("/proc/self/fd/{}", pty.slave.as_raw_fd()))
        .map(|p| p.into_os_string().into_encoded_bytes())
        .unwrap_or_else(|_| b"/dev/ptmx".to_vec());
    prepare(&pty.slave)?;
    let sock = UnixStream::connect(socket).with_context(|| format!("--console-socket {}", socket.display()))?;
    gofer::transport::send_fds(sock.as_raw_fd(), &name, &[pty.master.as_raw_fd()])
        .with_context(|| format!("--console-socket {}: send the terminal", socket.display()))?;
    Ok(pty.slave)
}

/// Makes the terminal on `fd`, if it is one and belongs to no session, the
/// controlling terminal of the caller (a session leader without one), so
/// that the host's line discipline sends the signals its keys raise (^C,
/// ^\\, ^Z) and its resizes (SIGWINCH) to this process, which forwards them
/// to the terminal's foreground group in the sandbox. A terminal that is
/// another session's (the user's, under `runsc run`) is left to it.
pub fn control(fd: BorrowedFd<'_>) {
    if !nix::unistd::isatty(fd.as_raw_fd()).unwrap_or(false) {
        return;
    }
    if let Err(e) = sentry::fs::host::control_host_terminal(fd) {
        tracing::debug!("terminal on fd {}: not made controlling: {e}", fd.as_raw_fd());
    }
}
