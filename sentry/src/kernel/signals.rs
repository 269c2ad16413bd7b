//! Signal state: actions per thread group, masks per task. Delivery comes
//! with the processes work; until then, a fatal signal from outside ends the
//! sandbox with its default action.

use crate::abi::SigAction;

/// Number of signals (1..=64).
pub const NSIG: usize = 64;

/// Signals whose default action is to ignore.
pub fn default_ignored(sig: i32) -> bool {
    matches!(sig, libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT)
}

/// Bit for `sig` in a sigset.
pub fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught nor blocked.
pub const UNBLOCKABLE: u64 = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));

/// All signal actions, SIG_DFL to start.
pub fn default_actions() -> [SigAction; NSIG] {
    [SigAction::default(); NSIG]
}
