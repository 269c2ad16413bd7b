//! Placing application threads on host CPUs.
//!
//! A ptrace round trip between a stub thread and its tracer costs an
//! interprocessor interrupt when they sit on different CPUs (55 µs here,
//! against 10 µs on one), so each pair is bound to one CPU. But binding
//! every pair where it first ran would serialize a sandbox on one CPU, so
//! the CPU is chosen each time a context starts running: the one it is on,
//! unless another allowed CPU has fewer contexts running application code.
//! The counts are atomics; choosing costs no lock or syscall unless the
//! context moves.

use std::sync::atomic::{AtomicU32, Ordering};

/// Per-CPU counts of contexts running application code.
pub(super) struct Cpus {
    allowed: Vec<i32>,
    running: Vec<AtomicU32>,
}

impl Cpus {
    /// The CPUs the calling thread may use.
    pub(super) fn new(allowed: Vec<i32>) -> Cpus {
        let n = allowed.iter().copied().max().unwrap_or(0) as usize + 1;
        Cpus { allowed, running: (0..n).map(|_| AtomicU32::new(0)).collect() }
    }

    fn load(&self, cpu: i32) -> u32 {
        self.running.get(cpu as usize).map_or(u32::MAX, |c| c.load(Ordering::Relaxed))
    }

    /// The CPU for a context last bound to `cur` (-1: never).
    pub(super) fn choose(&self, cur: i32) -> i32 {
        let mut best = cur;
        let mut best_load = if cur >= 0 { self.load(cur) } else { u32::MAX };
        for &c in &self.allowed {
            let l = self.load(c);
            if l < best_load {
                best = c;
                best_load = l;
            }
        }
        best
    }

    /// A context starts running on `cpu`.
    pub(super) fn enter(&self, cpu: i32) {
        if let Some(c) = self.running.get(cpu as usize) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A context stopped running on `cpu`.
    pub(super) fn leave(&self, cpu: i32) {
        if let Some(c) = self.running.get(cpu as usize) {
            c.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_busy_contexts() {
        let c = Cpus::new(vec![0, 1]);
        let a = c.choose(-1);
        c.enter(a);
        let b = c.choose(a);
        assert_ne!(a, b, "a second busy context goes to the idle CPU");
        c.enter(b);
        // Both busy: a context stays where it is.
        c.leave(a);
        assert_eq!(c.choose(a), a);
        c.leave(b);
        assert_eq!(c.choose(b), b, "nothing to gain by moving");
    }
}
