//! Address spaces of the ptrace platform: one stub process each.
//!
//! A mapping change is injected into the stub thread that the calling
//! sentry thread traces there (a task changes its own address space from
//! its own thread); a thread with none there asks the factory, which injects
//! through the process's leader. Several changes at once go through the
//! process's batch page (`batch`) in one injection.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::batch::{batch_addr, Entry, ENTRIES};
use super::sys;
use super::thread::StubThread;
use super::{apply_op, op_call, Shared};
use crate::platform::{AddressSpace, MapOp, PlatformError};

/// An address space backed by a stub process.
pub struct PtraceAddressSpace {
    /// Pid of the stub process (its leader).
    pub(super) pid: i32,
    pub(super) shared: Arc<Shared>,
    /// Stub threads of this process that run application code, by the host
    /// tid of the sentry thread that traces each.
    threads: Mutex<HashMap<i32, i32>>,
    /// Threads made ahead (with the process, or by `prepare_thread`), not
    /// yet taken by a context.
    spare: Mutex<Vec<i32>>,
    /// The batch page mapped in the stub, once one is; the lock also
    /// serializes the batches.
    batch: Mutex<Option<u64>>,
}

impl PtraceAddressSpace {
    pub(super) fn new(pid: i32, shared: Arc<Shared>, spare: Option<i32>, batch: Option<u64>) -> PtraceAddressSpace {
        PtraceAddressSpace {
            pid,
            shared,
            threads: Mutex::new(HashMap::new()),
            spare: Mutex::new(spare.into_iter().collect()),
            batch: Mutex::new(batch),
        }
    }

    /// A thread made ahead, for a context to bind.
    pub(super) fn take_spare(&self) -> Option<i32> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner()).pop()
    }

    fn threads(&self) -> std::sync::MutexGuard<'_, HashMap<i32, i32>> {
        self.threads.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records that the calling sentry thread traces stub thread `tid` here.
    pub(super) fn register(&self, tid: i32) {
        self.threads().insert(sys::gettid(), tid);
    }

    /// Forgets the calling sentry thread's stub thread.
    pub(super) fn unregister(&self) {
        self.threads().remove(&sys::gettid());
    }
}

impl AddressSpace for PtraceAddressSpace {
    fn apply(&self, ops: &[MapOp]) -> Result<(), PlatformError> {
        let mine = self.threads().get(&sys::gettid()).copied();
        match mine {
            Some(tid) => {
                let t = StubThread { pid: self.pid, tid };
                if ops.len() > 1 {
                    let mut slot = self.batch.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(s) = self.batch_page(&t, &mut slot) {
                        return self.apply_batched(&t, s, ops);
                    }
                }
                ops.iter().try_for_each(|op| apply_op(&t, &self.shared.env, op))
            }
            None => self.shared.factory.apply(self.pid, ops),
        }
    }

    fn prepare_thread(&self) {
        // A clone injected into the caller's own stub thread costs one stop
        // here, against a request to the factory thread at the new task's
        // first switch.
        let Some(tid) = self.threads().get(&sys::gettid()).copied() else { return };
        let t = StubThread { pid: self.pid, tid };
        match t.clone_thread(&self.shared.env.template, &self.shared.env.page) {
            Ok(new) => self.spare.lock().unwrap_or_else(|e| e.into_inner()).push(new),
            Err(e) => tracing::debug!(pid = self.pid, "cannot make a stub thread ahead: {e}"),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl PtraceAddressSpace {
    /// This process's batch page, mapped read-only in the stub at
    /// `batch_addr` (by the factory, or here on first use); None if no page
    /// is free (or mapping it failed): then changes go one by one.
    fn batch_page(&self, t: &StubThread, slot: &mut Option<u64>) -> Option<u64> {
        if slot.is_none() {
            *slot = self.shared.batches.map_into(t, &self.shared.env);
        }
        *slot
    }

    /// Applies `ops` through batch page `slot`, [`ENTRIES`] at a time.
    fn apply_batched(&self, t: &StubThread, slot: u64, ops: &[MapOp]) -> Result<(), PlatformError> {
        let env = &self.shared.env;
        let mut calls = [Entry::default(); ENTRIES];
        for chunk in ops.chunks(ENTRIES) {
            for (c, op) in calls.iter_mut().zip(chunk) {
                *c = op_call(env, op).1;
            }
            self.shared.batches.write(slot, &calls[..chunk.len()]);
            let n = chunk.len() as u64;
            let (ret, left) = t.inject_batch(&env.template, &env.page, batch_addr(env.page.base), n)?;
            if left != 0 {
                let failed = &chunk[(n - left.min(n)) as usize];
                let errno = nix::errno::Errno::from_raw((-ret) as i32);
                return Err(PlatformError::Injected { name: op_call(env, failed).0, errno });
            }
        }
        Ok(())
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        if let Some(s) = self.batch.get_mut().unwrap_or_else(|e| e.into_inner()).take() {
            self.shared.batches.release(s);
        }
        self.shared.factory.release(self.pid);
    }
}
