//! Signal state: numbers and default actions, sets, pending queues, and the
//! handler table processes share (CLONE_SIGHAND).
//!
//! Sending is in `signal_send`, delivery (the run loop's signal state) in
//! `signal_deliver`, and the frame on the application stack in
//! `signal_frame`.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::{SigAction, SigInfo};

/// Number of signals (1..=64).
pub const NSIG: usize = 64;
/// The first real-time signal the kernel defines (glibc reserves 32 and 33).
pub const SIGRTMIN: i32 = 32;

/// Bit for `sig` in a sigset.
pub const fn bit(sig: i32) -> u64 {
    1u64 << (sig - 1)
}

/// Signals that can be neither caught nor blocked.
pub const UNBLOCKABLE: u64 = bit(libc::SIGKILL) | bit(libc::SIGSTOP);

/// The stop signals.
pub const STOP_SIGNALS: u64 = bit(libc::SIGSTOP) | bit(libc::SIGTSTP) | bit(libc::SIGTTIN) | bit(libc::SIGTTOU);

/// Synchronous (fault) signals, dequeued before the others.
pub const SYNCHRONOUS: u64 = bit(libc::SIGSEGV)
    | bit(libc::SIGBUS)
    | bit(libc::SIGILL)
    | bit(libc::SIGTRAP)
    | bit(libc::SIGFPE)
    | bit(libc::SIGSYS);

/// What a signal does when its handler is SIG_DFL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Terminate,
    /// Terminate with a core dump.
    Core,
    /// Stop the process (job control).
    Stop,
    /// Continue a stopped process.
    Continue,
    /// Nothing.
    Ignore,
}

/// The default action of `sig`.
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH => DefaultAction::Ignore,
        libc::SIGCONT => DefaultAction::Continue,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        libc::SIGQUIT
        | libc::SIGILL
        | libc::SIGTRAP
        | libc::SIGABRT
        | libc::SIGBUS
        | libc::SIGFPE
        | libc::SIGSEGV
        | libc::SIGXCPU
        | libc::SIGXFSZ
        | libc::SIGSYS => DefaultAction::Core,
        _ => DefaultAction::Terminate,
    }
}

/// Signals whose default action is to ignore.
pub fn default_ignored(sig: i32) -> bool {
    matches!(default_action(sig), DefaultAction::Ignore | DefaultAction::Continue)
}

/// Whether `sig` is a valid signal number (1..=64).
pub fn valid(sig: i32) -> bool {
    (1..=NSIG as i32).contains(&sig)
}

/// Pending signals: at most one of each standard signal, any number of
/// each real-time signal (in order).
#[derive(Clone, Default, Debug)]
pub struct SigQueue {
    mask: u64,
    queue: Vec<SigInfo>,
}

impl SigQueue {
    /// The pending set.
    pub fn pending(&self) -> u64 {
        self.mask
    }

    /// Queues `info`; false if it was a standard signal already pending
    /// (the new one is dropped, as Linux does).
    pub fn enqueue(&mut self, info: SigInfo) -> bool {
        let b = bit(info.signo);
        if info.signo < SIGRTMIN && self.mask & b != 0 {
            return false;
        }
        self.mask |= b;
        self.queue.push(info);
        true
    }

    /// Takes the next signal in `allowed`: synchronous signals first, then
    /// the lowest number; real-time ones in order of arrival.
    pub fn dequeue(&mut self, allowed: u64) -> Option<SigInfo> {
        let ready = self.mask & allowed;
        if ready == 0 {
            return None;
        }
        let pick = if ready & SYNCHRONOUS != 0 { ready & SYNCHRONOUS } else { ready };
        let sig = pick.trailing_zeros() as i32 + 1;
        self.take(sig)
    }

    /// Takes the first queued `sig`.
    pub fn take(&mut self, sig: i32) -> Option<SigInfo> {
        let i = self.queue.iter().position(|s| s.signo == sig)?;
        let info = self.queue.remove(i);
        if !self.queue.iter().any(|s| s.signo == sig) {
            self.mask &= !bit(sig);
        }
        Some(info)
    }

    /// Discards every pending signal in `set`.
    pub fn discard(&mut self, set: u64) {
        if self.mask & set == 0 {
            return;
        }
        self.queue.retain(|s| set & bit(s.signo) == 0);
        self.mask &= !set;
    }

    /// Number of queued signals.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// Signal actions, indexed by signal - 1; shared by the threads of a
/// process and by processes cloned with CLONE_SIGHAND.
pub struct SignalHandlers {
    actions: Mutex<[SigAction; NSIG]>,
}

impl SignalHandlers {
    /// Every action SIG_DFL.
    pub fn new() -> Arc<SignalHandlers> {
        Arc::new(SignalHandlers { actions: Mutex::new([SigAction::default(); NSIG]) })
    }

    /// Locks the actions.
    pub fn lock(&self) -> MutexGuard<'_, [SigAction; NSIG]> {
        self.actions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The action for `sig` (1..=64).
    pub fn get(&self, sig: i32) -> SigAction {
        self.lock()[(sig - 1) as usize]
    }

    /// A private copy (fork without CLONE_SIGHAND).
    pub fn copy(&self) -> Arc<SignalHandlers> {
        Arc::new(SignalHandlers { actions: Mutex::new(*self.lock()) })
    }

    /// The copy execve makes: caught signals go back to SIG_DFL; ignored
    /// ones stay ignored; flags and masks are cleared.
    pub fn for_exec(&self) -> Arc<SignalHandlers> {
        let mut a = *self.lock();
        for act in a.iter_mut() {
            if act.handler != libc::SIG_IGN as u64 {
                *act = SigAction::default();
            } else {
                *act = SigAction { handler: libc::SIG_IGN as u64, ..Default::default() };
            }
        }
        Arc::new(SignalHandlers { actions: Mutex::new(a) })
    }
}

/// Whether the action for `sig` ignores it (SIG_IGN, or SIG_DFL of a signal
/// whose default is to ignore).
pub fn ignores(act: &SigAction, sig: i32) -> bool {
    act.handler == libc::SIG_IGN as u64 || (act.handler == libc::SIG_DFL as u64 && default_ignored(sig))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_order_and_coalescing() {
        let mut q = SigQueue::default();
        assert!(q.enqueue(SigInfo::new(libc::SIGUSR1, 0)));
        assert!(!q.enqueue(SigInfo::new(libc::SIGUSR1, 0)), "standard signals coalesce");
        assert!(q.enqueue(SigInfo::new(40, 1)));
        assert!(q.enqueue(SigInfo::new(40, 2)), "real-time signals queue");
        assert!(q.enqueue(SigInfo::new(libc::SIGSEGV, 0)));
        assert_eq!(q.dequeue(!0).map(|s| s.signo), Some(libc::SIGSEGV), "synchronous first");
        assert_eq!(q.dequeue(!0).map(|s| s.signo), Some(libc::SIGUSR1));
        assert_eq!(q.dequeue(!0).map(|s| s.code), Some(1));
        assert_eq!(q.dequeue(!bit(40)), None, "blocked stays");
        assert_eq!(q.dequeue(!0).map(|s| s.code), Some(2));
        assert!(q.is_empty() && q.pending() == 0);
    }
}
