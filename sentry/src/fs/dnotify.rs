//! dnotify (fcntl F_NOTIFY): a directory's open file asks for a signal
//! when entries in it are accessed, modified, created, deleted, renamed
//! or change attributes. The events are inotify's (the VFS reports them
//! once for both); the signal is the file's F_SETSIG one (or SIGIO) with
//! POLL_MSG and the fd, sent to the file's owner. Without DN_MULTISHOT
//! a notification fires once. Closing the fd in the process that asked
//! removes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};

use crate::abi::poll::{POLLIN, POLLMSG, POLLRDNORM};
use crate::abi::Errno;
use crate::fs::inotify::{IN_ACCESS, IN_ATTRIB, IN_CREATE, IN_DELETE, IN_MODIFY, IN_MOVED_FROM, IN_MOVED_TO};
use crate::kernel::Kernel;
use crate::vfs::lock::LockKey;
use crate::vfs::File;

/// DN_ACCESS.
pub const DN_ACCESS: u32 = 0x1;
/// DN_MODIFY.
pub const DN_MODIFY: u32 = 0x2;
/// DN_CREATE.
pub const DN_CREATE: u32 = 0x4;
/// DN_DELETE.
pub const DN_DELETE: u32 = 0x8;
/// DN_RENAME.
pub const DN_RENAME: u32 = 0x10;
/// DN_ATTRIB.
pub const DN_ATTRIB: u32 = 0x20;
/// DN_MULTISHOT.
pub const DN_MULTISHOT: u32 = 0x8000_0000;

/// POLL_MSG.
const POLL_MSG: i32 = 3;

struct Entry {
    file: Weak<File>,
    file_id: usize,
    /// The fd table (the process) that asked.
    table: u64,
    fd: i32,
    mask: u32,
    kernel: Weak<Kernel>,
}

fn registry() -> MutexGuard<'static, HashMap<LockKey, Vec<Entry>>> {
    static REG: OnceLock<Mutex<HashMap<LockKey, Vec<Entry>>>> = OnceLock::new();
    REG.get_or_init(Default::default).lock().unwrap_or_else(|e| e.into_inner())
}

/// F_NOTIFY on `file` (open as `fd` in fd table `table`) for the
/// directory `key`: adds `arg`'s events to the notification, or removes
/// it for 0 (ENOTDIR for files that are not directories is the caller's).
pub fn set(k: &Arc<Kernel>, file: &Arc<File>, fd: i32, table: u64, key: LockKey, arg: u32) -> Result<(), Errno> {
    let id = Arc::as_ptr(file) as usize;
    let mut reg = registry();
    let list = reg.entry(key).or_default();
    let pos = list.iter().position(|e| e.file_id == id && e.table == table);
    if arg & !DN_MULTISHOT == 0 {
        if let Some(i) = pos {
            list.remove(i);
            crate::fs::inotify::watch_removed();
        }
    } else if let Some(i) = pos {
        list[i].fd = fd;
        list[i].mask |= arg;
    } else {
        list.push(Entry { file: Arc::downgrade(file), file_id: id, table, fd, mask: arg, kernel: Arc::downgrade(k) });
        crate::fs::inotify::watch_added();
    }
    if list.is_empty() {
        reg.remove(&key);
    }
    Ok(())
}

/// The dnotify events an inotify mask means.
fn dn_events(mask: u32) -> u32 {
    let mut dn = 0;
    for (i, d) in [
        (IN_ACCESS, DN_ACCESS),
        (IN_MODIFY, DN_MODIFY),
        (IN_CREATE, DN_CREATE),
        (IN_DELETE, DN_DELETE),
        (IN_MOVED_FROM | IN_MOVED_TO, DN_RENAME),
        (IN_ATTRIB, DN_ATTRIB),
    ] {
        if mask & i != 0 {
            dn |= d;
        }
    }
    dn
}

/// An inotify event `mask` on the inode `key`: signals its notifications
/// that asked for it (later, from the sigio thread: the VFS may hold
/// locks here); one-shot ones go.
pub fn deliver(key: LockKey, mask: u32) {
    let dn = dn_events(mask);
    if dn == 0 {
        return;
    }
    let mut reg = registry();
    let Some(list) = reg.get_mut(&key) else { return };
    let band = POLLIN | POLLRDNORM | POLLMSG;
    let mut removed = 0;
    list.retain(|e| {
        if e.mask & dn == 0 {
            return true;
        }
        crate::kernel::fasync::signal_owner_later(e.kernel.clone(), e.file.clone(), e.fd, POLL_MSG, band);
        let keep = e.mask & DN_MULTISHOT != 0;
        if !keep {
            removed += 1;
        }
        keep
    });
    if list.is_empty() {
        reg.remove(&key);
    }
    drop(reg);
    for _ in 0..removed {
        crate::fs::inotify::watch_removed();
    }
}

/// An fd of `file` closed in fd table `table`: its notifications there go
/// (dnotify_flush).
pub fn on_close(table: u64, file: &File) {
    if !crate::fs::inotify::active() {
        return;
    }
    let id = file as *const File as usize;
    let mut reg = registry();
    let mut removed = 0;
    reg.retain(|_, list| {
        let before = list.len();
        list.retain(|e| !(e.file_id == id && e.table == table));
        removed += before - list.len();
        !list.is_empty()
    });
    drop(reg);
    for _ in 0..removed {
        crate::fs::inotify::watch_removed();
    }
}
