//! Forwarding host signals: `runsc do` passes the signals a user or a
//! terminal sends it to the sandbox process, which passes them to the
//! sandbox's init (as gVisor's `do` does). Each process blocks the
//! forwarded signals in every thread (before it starts any) and one thread
//! waits for them.

use nix::sys::signal::{SigSet, Signal};

/// The signals passed on to the sandbox.
pub const FORWARDED: [Signal; 9] = [
    Signal::SIGINT,
    Signal::SIGTSTP,
    Signal::SIGTERM,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
    Signal::SIGCONT,
];

fn set() -> SigSet {
    let mut s = SigSet::empty();
    for sig in FORWARDED {
        s.add(sig);
    }
    s
}

/// Blocks the forwarded signals in the calling thread (and the threads it
/// starts afterwards). Call while single-threaded. Children started with
/// `std::process::Command` get a clean mask.
pub fn block() -> anyhow::Result<()> {
    set().thread_block().map_err(|e| anyhow::anyhow!("block signals: {e}"))
}

/// Starts a thread that calls `f` with each forwarded signal received.
pub fn forward(name: &str, f: impl Fn(i32) + Send + 'static) -> anyhow::Result<()> {
    let s = set();
    std::thread::Builder::new().name(name.into()).spawn(move || loop {
        match s.wait() {
            Ok(sig) => f(sig as i32),
            Err(e) => {
                tracing::warn!("waiting for signals: {e}");
                return;
            }
        }
    })?;
    Ok(())
}
