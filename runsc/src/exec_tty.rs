//! The host end of an exec'd process's terminal (`runsc exec --tty`). The
//! process runs on a terminal of the sandbox's (a real /dev/pts/N there),
//! whose master the sandbox joins to a host terminal given here: with
//! `--console-socket`, a new host pseudo-terminal whose master goes to the
//! socket (as runc sends it) and whose replica this command holds as its
//! controlling terminal, so the client's resizes reach it as SIGWINCH;
//! without, this command's own terminal, as runc's foreground `exec -t`
//! uses it. Either is put in raw mode: the sandbox's line discipline is
//! the one that echoes, edits lines and turns ^C into SIGINT.

use std::os::fd::{AsFd as _, AsRawFd as _, OwnedFd};
use std::path::Path;

use anyhow::{bail, Context as _};
use nix::sys::termios::{self, SetArg, Termios};

/// A host terminal for the sandbox, restored to its modes when dropped
/// (this command's own).
pub struct HostTerminal {
    /// A non-blocking description of it of its own, for the sandbox.
    pub fd: OwnedFd,
    /// Its name on the host.
    pub name: String,
    /// The terminal and its modes before, to restore.
    restore: Option<(OwnedFd, Termios)>,
}

impl Drop for HostTerminal {
    fn drop(&mut self) {
        if let Some((fd, modes)) = &self.restore {
            let _ = termios::tcsetattr(fd.as_fd(), SetArg::TCSADRAIN, modes);
        }
    }
}

/// Puts terminal `fd` in raw mode; returns its modes before.
pub fn make_raw(fd: &OwnedFd) -> anyhow::Result<Termios> {
    let before = termios::tcgetattr(fd.as_fd()).context("terminal modes")?;
    let mut raw = before.clone();
    termios::cfmakeraw(&mut raw);
    termios::tcsetattr(fd.as_fd(), SetArg::TCSANOW, &raw).context("raw mode for the terminal")?;
    Ok(before)
}

/// A description of terminal `fd` of its own, non-blocking, and its name.
fn reopen(fd: &OwnedFd) -> anyhow::Result<(OwnedFd, String)> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let link = format!("/proc/self/fd/{}", fd.as_raw_fd());
    let name = std::fs::read_link(&link).map(|p| p.display().to_string()).unwrap_or_else(|_| "/dev/tty".into());
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&link)
        .with_context(|| format!("reopen the terminal {name}"))?;
    Ok((OwnedFd::from(f), name))
}

/// A new host terminal whose master goes to `socket`, sized `size`.
pub fn from_console_socket(socket: &Path, size: Option<(u16, u16)>) -> anyhow::Result<HostTerminal> {
    let replica = crate::console::send_pty_with(socket, size, |replica| {
        make_raw(replica)?;
        // A session of this command's, with the terminal as its
        // controlling one, before the client has the master: SIGWINCH comes
        // here whenever it resizes it. (A process group leader cannot: the
        // size is then the first one.)
        if nix::unistd::setsid().is_ok() {
            crate::console::control(replica.as_fd());
        }
        Ok(())
    })?;
    let (fd, name) = reopen(&replica)?;
    Ok(HostTerminal { fd, name, restore: None })
}

/// A pod container's terminal from `--console-socket` (the replica
/// `runsc create` made), for the sandbox: in raw mode, as a non-blocking
/// description of its own.
pub fn for_pod_container(replica: &OwnedFd) -> anyhow::Result<HostTerminal> {
    make_raw(replica)?;
    let (fd, name) = reopen(replica)?;
    Ok(HostTerminal { fd, name, restore: None })
}

/// This command's own terminal (its stdin), in raw mode until dropped.
pub fn own() -> anyhow::Result<HostTerminal> {
    let stdin = std::io::stdin().as_fd().try_clone_to_owned().context("stdin")?;
    if !nix::unistd::isatty(stdin.as_raw_fd()).unwrap_or(false) {
        bail!("exec --tty: stdin is not a terminal (a client gives --console-socket for one)");
    }
    let (fd, name) = reopen(&stdin)?;
    let before = make_raw(&stdin)?;
    Ok(HostTerminal { fd, name, restore: Some((stdin, before)) })
}
