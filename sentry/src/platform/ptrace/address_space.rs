//! Address spaces of the ptrace platform: one stub process each.
//!
//! A mapping change is injected into the stub thread that the calling
//! sentry thread traces there (a task changes its own address space from
//! its own thread); a thread with none there asks the factory, which injects
//! through the process's leader.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::sys;
use super::thread::StubThread;
use super::{apply_op, Shared};
use crate::platform::{AddressSpace, MapOp, PlatformError};

/// An address space backed by a stub process.
pub struct PtraceAddressSpace {
    /// Pid of the stub process (its leader).
    pub(super) pid: i32,
    pub(super) shared: Arc<Shared>,
    /// Stub threads of this process that run application code, by the host
    /// tid of the sentry thread that traces each.
    threads: Mutex<HashMap<i32, i32>>,
    /// A thread made with the process, not yet taken by a context.
    spare: Mutex<Option<i32>>,
}

impl PtraceAddressSpace {
    pub(super) fn new(pid: i32, shared: Arc<Shared>, spare: Option<i32>) -> PtraceAddressSpace {
        PtraceAddressSpace { pid, shared, threads: Mutex::new(HashMap::new()), spare: Mutex::new(spare) }
    }

    /// The thread made with the process, for the first context to bind.
    pub(super) fn take_spare(&self) -> Option<i32> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner()).take()
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
                ops.iter().try_for_each(|op| apply_op(&t, &self.shared.env, op))
            }
            None => self.shared.factory.apply(self.pid, ops),
        }
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Drop for PtraceAddressSpace {
    fn drop(&mut self) {
        self.shared.factory.release(self.pid);
    }
}
