//! File descriptor tables.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::Errno;
use crate::vfs::File;

#[derive(Clone)]
struct Entry {
    file: Arc<File>,
    cloexec: bool,
}

/// A table of file descriptors. Its id owns POSIX record locks.
pub struct FdTable {
    fds: Mutex<Vec<Option<Entry>>>,
    id: u64,
}

impl Default for FdTable {
    fn default() -> FdTable {
        FdTable::new()
    }
}

static NEXT_TABLE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// A descriptor of `file` in table `id` was closed: Linux's filp_close.
fn on_close(id: u64, file: &File) {
    file.ops.flush();
    crate::fs::dnotify::on_close(id, file);
    if crate::vfs::lock::any_posix_locks() {
        if let Some(key) = file.lock_key() {
            crate::vfs::lock::close_posix(key, id);
        }
    }
}

impl FdTable {
    /// An empty table.
    pub fn new() -> FdTable {
        FdTable { fds: Mutex::new(Vec::new()), id: NEXT_TABLE.fetch_add(1, std::sync::atomic::Ordering::Relaxed) }
    }

    /// The owner id of POSIX locks taken through this table.
    pub fn id(&self) -> u64 {
        self.id
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Option<Entry>>> {
        self.fds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The file at `fd`.
    pub fn get(&self, fd: i32) -> Result<Arc<File>, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.lock().get(fd as usize).and_then(|e| e.as_ref()).map(|e| e.file.clone()).ok_or(Errno::EBADF)
    }

    /// The close-on-exec flag of `fd`.
    pub fn cloexec(&self, fd: i32) -> Result<bool, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        self.lock().get(fd as usize).and_then(|e| e.as_ref()).map(|e| e.cloexec).ok_or(Errno::EBADF)
    }

    /// Sets the close-on-exec flag of `fd`.
    pub fn set_cloexec(&self, fd: i32, on: bool) -> Result<(), Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        match self.lock().get_mut(fd as usize).and_then(|e| e.as_mut()) {
            Some(e) => {
                e.cloexec = on;
                Ok(())
            }
            None => Err(Errno::EBADF),
        }
    }

    /// Whether an fd below `limit` is free (open(2) reserves one before it
    /// walks the path, so EMFILE wins over lookup errors).
    pub fn has_free(&self, limit: u64) -> bool {
        let fds = self.lock();
        (fds.len() as u64) < limit || fds.iter().take(limit as usize).any(|e| e.is_none())
    }

    /// Installs `file` at the lowest free fd ≥ `min`, below `limit`
    /// (RLIMIT_NOFILE); EMFILE if none.
    pub fn insert(&self, file: Arc<File>, cloexec: bool, min: i32, limit: u64) -> Result<i32, Errno> {
        let mut fds = self.lock();
        let min = min.max(0) as usize;
        let slot = (min..fds.len()).find(|&i| fds[i].is_none()).unwrap_or(fds.len().max(min));
        if slot as u64 >= limit {
            return Err(if min as u64 >= limit { Errno::EINVAL } else { Errno::EMFILE });
        }
        if slot >= fds.len() {
            fds.resize(slot + 1, None);
        }
        fds[slot] = Some(Entry { file, cloexec });
        Ok(slot as i32)
    }

    /// Installs `file` at exactly `fd`, closing what was there. Returns the
    /// old file, whose last reference the caller drops.
    pub fn insert_at(&self, fd: i32, file: Arc<File>, cloexec: bool, limit: u64) -> Result<Option<Arc<File>>, Errno> {
        if fd < 0 || fd as u64 >= limit {
            return Err(Errno::EBADF);
        }
        let mut fds = self.lock();
        let i = fd as usize;
        if i >= fds.len() {
            fds.resize(i + 1, None);
        }
        let old = fds[i].replace(Entry { file, cloexec }).map(|e| e.file);
        drop(fds);
        if let Some(f) = &old {
            on_close(self.id, f);
        }
        Ok(old)
    }

    /// Removes `fd`.
    pub fn remove(&self, fd: i32) -> Result<Arc<File>, Errno> {
        if fd < 0 {
            return Err(Errno::EBADF);
        }
        let mut fds = self.lock();
        let e = fds.get_mut(fd as usize).and_then(|e| e.take()).ok_or(Errno::EBADF)?;
        while fds.last().is_some_and(|e| e.is_none()) {
            fds.pop();
        }
        drop(fds);
        on_close(self.id, &e.file);
        Ok(e.file)
    }

    /// close_range(2) on `[first, last]`: closes them, or with `cloexec_only`
    /// sets their close-on-exec flag. Returns the closed files.
    pub fn close_range(&self, first: u32, last: u32, cloexec_only: bool) -> Vec<Arc<File>> {
        let mut fds = self.lock();
        let mut closed = Vec::new();
        let end = (last as usize).saturating_add(1).min(fds.len());
        for i in (first as usize)..end {
            if cloexec_only {
                if let Some(e) = fds[i].as_mut() {
                    e.cloexec = true;
                }
            } else if let Some(e) = fds[i].take() {
                closed.push(e.file);
            }
        }
        while fds.last().is_some_and(|e| e.is_none()) {
            fds.pop();
        }
        drop(fds);
        for f in &closed {
            on_close(self.id, f);
        }
        closed
    }

    /// A copy of the table (fork without CLONE_FILES): the same open file
    /// descriptions at the same numbers.
    pub fn copy(&self) -> FdTable {
        FdTable { fds: Mutex::new(self.lock().clone()), ..FdTable::new() }
    }

    /// Closes the close-on-exec fds (execve); returns them for the caller
    /// to drop outside the lock.
    pub fn close_on_exec(&self) -> Vec<Arc<File>> {
        let mut fds = self.lock();
        let mut closed = Vec::new();
        for e in fds.iter_mut() {
            if e.as_ref().is_some_and(|x| x.cloexec) {
                if let Some(x) = e.take() {
                    closed.push(x.file);
                }
            }
        }
        while fds.last().is_some_and(|e| e.is_none()) {
            fds.pop();
        }
        drop(fds);
        for f in &closed {
            on_close(self.id, f);
        }
        closed
    }

    /// Number of open fds.
    pub fn count(&self) -> usize {
        self.lock().iter().filter(|e| e.is_some()).count()
    }

    /// The open fds, ascending.
    pub fn fds(&self) -> Vec<i32> {
        self.lock().iter().enumerate().filter(|(_, e)| e.is_some()).map(|(i, _)| i as i32).collect()
    }
}

impl Drop for FdTable {
    /// The last task using the table is gone: each fd is closed.
    fn drop(&mut self) {
        let fds = self.fds.get_mut().unwrap_or_else(|e| e.into_inner());
        for e in fds.iter().flatten() {
            on_close(self.id, &e.file);
        }
    }
}
