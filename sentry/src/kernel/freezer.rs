//! The freezer for one container of a pod (`runsc pause` of a container
//! that shares its sandbox): its tasks are held before they next run
//! application code, as the whole sandbox's are by [`Kernel::freeze`];
//! signals queue and SIGKILL still kills. The other containers run on.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Kernel;

/// The containers frozen now, each with how many of its tasks are held.
#[derive(Default)]
pub struct ContainerFreezer {
    held: Mutex<BTreeMap<u32, usize>>,
    /// Whether any container is frozen (the tasks' fast check).
    any: AtomicBool,
}

impl ContainerFreezer {
    fn held(&self) -> std::sync::MutexGuard<'_, BTreeMap<u32, usize>> {
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A task held by a freezer: counted as held until dropped.
pub(crate) struct Hold {
    kernel: std::sync::Arc<Kernel>,
    /// The frozen container's tag (None: the whole sandbox).
    tag: Option<u32>,
}

impl Drop for Hold {
    fn drop(&mut self) {
        match self.tag {
            None => {
                self.kernel.held.fetch_sub(1, Ordering::AcqRel);
            }
            Some(tag) => {
                if let Some(n) = self.kernel.freezer.held().get_mut(&tag) {
                    *n = n.saturating_sub(1);
                }
            }
        }
    }
}

impl Kernel {
    /// Holds the tasks of container `tag` of the pod before they next run
    /// application code; returns once they are all held, or after
    /// `patience` (see [`Kernel::freeze`]).
    pub fn freeze_container(&self, tag: u32, patience: Duration) -> bool {
        self.freezer.held().entry(tag).or_insert(0);
        self.freezer.any.store(true, Ordering::Release);
        self.kick_container(tag);
        let deadline = Instant::now() + patience;
        loop {
            let held = self.freezer.held().get(&tag).copied().unwrap_or(0);
            if held >= self.container_task_count(tag) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Lets container `tag`'s tasks run again.
    pub fn thaw_container(&self, tag: u32) {
        let mut held = self.freezer.held();
        held.remove(&tag);
        self.freezer.any.store(!held.is_empty(), Ordering::Release);
        drop(held);
        self.kick_container(tag);
    }

    /// Whether container `tag` is frozen (alone).
    pub fn container_frozen(&self, tag: u32) -> bool {
        self.freezer.any.load(Ordering::Acquire) && self.freezer.held().contains_key(&tag)
    }

    /// Whether the sandbox or any container of it is frozen (the tasks'
    /// fast check before [`hold_for`](Self::hold_for)).
    pub(crate) fn any_frozen(&self) -> bool {
        self.frozen() || self.freezer.any.load(Ordering::Acquire)
    }

    /// A hold for the task of process `pid` if the sandbox or its
    /// container is frozen.
    pub(crate) fn hold_for(self: &std::sync::Arc<Self>, pid: i32) -> Option<Hold> {
        if self.frozen() {
            self.held.fetch_add(1, Ordering::AcqRel);
            return Some(Hold { kernel: self.clone(), tag: None });
        }
        if !self.freezer.any.load(Ordering::Acquire) {
            return None;
        }
        let tag = self.tasks.read().procs.get(&pid).map(|p| p.container)?;
        let mut held = self.freezer.held();
        let n = held.get_mut(&tag)?;
        *n += 1;
        Some(Hold { kernel: self.clone(), tag: Some(tag) })
    }

    /// Live tasks of container `tag`.
    fn container_task_count(&self, tag: u32) -> usize {
        let tree = self.tasks.read();
        tree.tasks.values().filter(|t| tree.procs.get(&t.tg.pid).is_some_and(|p| p.container == tag)).count()
    }

    fn kick_container(&self, tag: u32) {
        let tree = self.tasks.read();
        for t in tree.tasks.values() {
            if tree.procs.get(&t.tg.pid).is_some_and(|p| p.container == tag) {
                t.kick();
            }
        }
    }
}
