//! memfd_create(2) and the file seals of fcntl(2) (F_ADD_SEALS,
//! F_GET_SEALS): a memfd is a tmpfs file in no directory, in sandbox memory,
//! shared by every mapping of it.

use std::sync::{Arc, OnceLock};

use sentry::abi::Errno;
use sentry::fs::tmpfs::file::TmpFile;
use sentry::fs::tmpfs::{
    TmpInode, Tmpfs, TmpfsOptions, F_SEAL_EXEC, F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_SEAL, F_SEAL_SHRINK,
    F_SEAL_WRITE,
};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::inode::NewNode;
use sentry::vfs::{Dentry, File, FileOps, Location, Mount};

const MFD_CLOEXEC: u64 = 1;
const MFD_ALLOW_SEALING: u64 = 2;
const MFD_HUGETLB: u64 = 4;
const MFD_NOEXEC_SEAL: u64 = 8;
const MFD_EXEC: u64 = 0x10;
/// The longest name (MFD_NAME_MAX_LEN).
const NAME_MAX: usize = 249;

/// The hidden tmpfs memfds live in, and its mount.
struct MemfdFs {
    root: Arc<TmpInode>,
    mount: Arc<Mount>,
}

fn memfd_fs(t: &Task) -> &'static MemfdFs {
    static FS: OnceLock<MemfdFs> = OnceLock::new();
    FS.get_or_init(|| {
        let root = Tmpfs::new_root(t.kernel.mf.clone(), TmpfsOptions::default());
        let mount = Mount::new_root(Dentry::new_root(root.clone()), sentry::abi::dev_make(0, 1), false, "tmpfs");
        MemfdFs { root, mount }
    })
}

/// memfd_create(2).
pub fn memfd_create(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = a.a[1];
    let known = MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB | MFD_NOEXEC_SEAL | MFD_EXEC;
    if flags & !known & !(0x3f << 26) != 0 || (flags & (0x3f << 26) != 0 && flags & MFD_HUGETLB == 0) {
        return Err(Errno::EINVAL.into());
    }
    if flags & MFD_EXEC != 0 && flags & MFD_NOEXEC_SEAL != 0 {
        return Err(Errno::EINVAL.into());
    }
    let name =
        t.mm()
            .read_cstring(a.a[0], NAME_MAX + 1)
            .map_err(|e| if e == Errno::ENAMETOOLONG { Errno::EINVAL } else { e })?;
    if name.len() > NAME_MAX {
        return Err(Errno::EINVAL.into());
    }
    if flags & MFD_HUGETLB != 0 {
        crate::log_once_unsupported("memfd_create MFD_HUGETLB", flags);
        return Err(Errno::EINVAL.into());
    }
    if !t.fds.has_free(t.nofile_limit()) {
        return Err(Errno::EMFILE.into());
    }
    let (mode, seals) = if flags & MFD_NOEXEC_SEAL != 0 {
        (0o666, F_SEAL_EXEC)
    } else if flags & MFD_ALLOW_SEALING != 0 {
        (0o777, 0)
    } else {
        (0o777, F_SEAL_SEAL)
    };
    let node =
        NewNode { mode: libc::S_IFREG | mode, uid: t.creds.fsuid, gid: t.creds.fsgid, rdev: 0, target: Vec::new() };
    let fs = memfd_fs(t);
    let inode = fs.root.new_unlinked(&node, seals)?;
    let location = Location { mount: fs.mount.clone(), dentry: Dentry::new_root(inode.clone()) };
    let ops: Arc<dyn FileOps> = Arc::new(TmpFile { inode });
    let mut shown = b"/memfd:".to_vec();
    shown.extend_from_slice(&name);
    shown.extend_from_slice(b" (deleted)");
    let file = File::new(ops, (libc::O_RDWR | libc::O_LARGEFILE) as u32, Some(location), shown);
    Ok(t.fds.insert(file, flags & MFD_CLOEXEC != 0, 0, t.nofile_limit())? as u64)
}

/// F_ADD_SEALS.
pub const F_ADD_SEALS: i32 = 1033;
/// F_GET_SEALS.
pub const F_GET_SEALS: i32 = 1034;

/// fcntl(F_ADD_SEALS / F_GET_SEALS): EINVAL for files that are not memfds.
pub fn fcntl_seals(t: &Task, f: &File, cmd: i32, arg: u64) -> SyscallResult {
    let Some(tf) = f.ops.as_any().and_then(|a| a.downcast_ref::<TmpFile>()) else {
        return Err(Errno::EINVAL.into());
    };
    let memfd = f.location.as_ref().is_some_and(|l| Arc::ptr_eq(&l.mount, &memfd_fs(t).mount));
    if !memfd {
        // A tmpfs file made by name: sealing is not allowed.
        return if cmd == F_GET_SEALS { Ok(F_SEAL_SEAL as u64) } else { Err(Errno::EPERM.into()) };
    }
    if cmd == F_GET_SEALS {
        return Ok(tf.inode.seals() as u64);
    }
    let add = arg as u32;
    let all = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;
    if add & !all != 0 {
        return Err(Errno::EINVAL.into());
    }
    if !f.writable() {
        return Err(Errno::EPERM.into());
    }
    tf.inode.add_seals(add)?;
    Ok(0)
}
