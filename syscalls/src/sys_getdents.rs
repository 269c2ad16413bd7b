//! getdents64.

use sentry::abi::{Dirent64Header, Errno, Pod, DIRENT64_NAME_OFFSET};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// getdents64(2).
pub fn getdents64(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, addr, count) = (a.a[0] as i32, a.a[1], a.a[2] as u32 as usize);
    let f = t.file(fd)?;
    if a.a[2] as u32 > i32::MAX as u32 {
        return Err(Errno::EINVAL.into());
    }
    let mut out: Vec<u8> = Vec::with_capacity(count.min(64 * 1024));
    let mut too_small = false;
    f.readdir_with(|e, next| {
        let reclen = (DIRENT64_NAME_OFFSET + e.name.len() + 1 + 7) & !7;
        if out.len() + reclen > count {
            too_small = out.is_empty();
            return false;
        }
        let h = Dirent64Header { ino: e.ino, off: next as i64, reclen: reclen as u16, typ: e.typ, pad: [0; 5] };
        let start = out.len();
        out.extend_from_slice(&h.as_bytes()[..DIRENT64_NAME_OFFSET]);
        out.extend_from_slice(&e.name);
        out.resize(start + reclen, 0);
        true
    })?;
    if too_small {
        return Err(Errno::EINVAL.into());
    }
    t.mm().copy_out(addr, &out)?;
    Ok(out.len() as u64)
}
