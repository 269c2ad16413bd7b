//! mmap, munmap, mprotect, brk, mremap, madvise.

use std::sync::Arc;

use sentry::abi::{dev_make, page_up, Errno, PAGE_SIZE};
use sentry::fs::mapping::FileMapping;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::mm::{MapRequest, Placement, VmaFile};
use sentry::vfs::FileType;

/// MAP_UNINITIALIZED (ignored without CONFIG_MMAP_ALLOW_UNINITIALIZED).
const MAP_UNINITIALIZED: i32 = 0x400_0000;

/// The flags MAP_SHARED_VALIDATE accepts (LEGACY_MAP_MASK).
const LEGACY_MAP_MASK: i32 = libc::MAP_SHARED
    | libc::MAP_PRIVATE
    | libc::MAP_FIXED
    | libc::MAP_ANONYMOUS
    | libc::MAP_DENYWRITE
    | libc::MAP_EXECUTABLE
    | MAP_UNINITIALIZED
    | libc::MAP_GROWSDOWN
    | libc::MAP_LOCKED
    | libc::MAP_NORESERVE
    | libc::MAP_POPULATE
    | libc::MAP_NONBLOCK
    | libc::MAP_STACK
    | libc::MAP_HUGETLB;

/// mmap(2).
pub fn mmap(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (addr, len, prot, flags, fd, off) = (a.a[0], a.a[1], a.a[2] as i32, a.a[3] as i32, a.a[4] as i32, a.a[5]);
    if len == 0 {
        return Err(Errno::EINVAL.into());
    }
    let anonymous = flags & libc::MAP_ANONYMOUS != 0;
    let shared = match flags & 0xf {
        libc::MAP_SHARED => true,
        // Anonymous mappings do not take MAP_SHARED_VALIDATE.
        libc::MAP_SHARED_VALIDATE if !anonymous => {
            if flags & !LEGACY_MAP_MASK & !(libc::MAP_SYNC | libc::MAP_SHARED_VALIDATE) != 0 {
                return Err(Errno::EOPNOTSUPP.into());
            }
            true
        }
        libc::MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL.into()),
    };
    if off % PAGE_SIZE != 0 {
        return Err(Errno::EINVAL.into());
    }
    if prot & !(libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC | libc::PROT_GROWSDOWN | libc::PROT_GROWSUP) != 0 {
        return Err(Errno::EINVAL.into());
    }
    let prot = prot & (libc::PROT_READ | libc::PROT_WRITE | libc::PROT_EXEC);
    let len = page_up(len).ok_or(Errno::ENOMEM)?;
    if flags & libc::MAP_HUGETLB != 0 {
        // No huge pages are reserved in the sandbox (as on a host with
        // vm.nr_hugepages = 0).
        return Err(Errno::ENOMEM.into());
    }
    let placement = if flags & libc::MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(addr)
    } else if flags & libc::MAP_FIXED != 0 {
        Placement::Fixed(addr)
    } else {
        Placement::Hint(addr)
    };
    let mut file = None;
    let mut may_write = true;
    if !anonymous {
        let f = t.file(fd)?;
        if f.path_only() {
            return Err(Errno::EBADF.into());
        }
        if !f.readable() {
            return Err(Errno::EACCES.into());
        }
        if shared && !f.writable() {
            if prot & libc::PROT_WRITE != 0 {
                return Err(Errno::EACCES.into());
            }
            may_write = false;
        }
        let st = f.stat()?;
        let ftype = FileType::from_mode(st.mode);
        if ftype == FileType::CharDevice && st.rdev == dev_make(1, 5) {
            // /dev/zero maps anonymous memory.
        } else if ftype != FileType::Regular || !f.ops.positional() {
            return Err(Errno::ENODEV.into());
        } else {
            off.checked_add(len).filter(|&e| e <= i64::MAX as u64).ok_or(Errno::EOVERFLOW)?;
            let (dev, path) = match &f.location {
                Some(l) => (l.mount.dev, String::from_utf8_lossy(&f.name).into_owned()),
                None => (st.dev, String::new()),
            };
            file =
                Some(VmaFile { file: Arc::new(FileMapping { file: f.clone(), dev, ino: st.ino, path }), offset: off });
        }
    }
    let (as_limit, data_limit) = {
        let st = t.tg.state();
        (st.rlimits[libc::RLIMIT_AS as usize].cur, st.rlimits[libc::RLIMIT_DATA as usize].cur)
    };
    if t.mm().mapped_bytes().saturating_add(len) > as_limit {
        return Err(Errno::ENOMEM.into());
    }
    // Linux's may_expand_vm: private writable memory counts as data.
    if prot & libc::PROT_WRITE != 0 && !shared && t.mm().data_bytes().saturating_add(len) > data_limit {
        return Err(Errno::ENOMEM.into());
    }
    let below_2g = flags & libc::MAP_32BIT != 0;
    let addr = t.mm().mmap(MapRequest {
        placement,
        len,
        prot,
        shared,
        file,
        name: None,
        may_write,
        below_2g,
        segment: None,
    })?;
    Ok(addr)
}

/// munmap(2).
pub fn munmap(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.mm().munmap(a.a[0], a.a[1])?;
    Ok(0)
}

/// mprotect(2).
pub fn mprotect(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.mm().mprotect(a.a[0], a.a[1], a.a[2] as i32)?;
    Ok(0)
}

/// brk(2).
pub fn brk(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let new = a.a[0];
    let (start, cur) = t.mm().brk_range();
    if new > cur {
        // RLIMIT_DATA bounds the heap (check_data_rlimit), RLIMIT_AS the
        // whole address space: the break stays where it is.
        let (as_limit, data_limit) = {
            let st = t.tg.state();
            (st.rlimits[libc::RLIMIT_AS as usize].cur, st.rlimits[libc::RLIMIT_DATA as usize].cur)
        };
        let grow = sentry::abi::page_up(new).unwrap_or(new).saturating_sub(sentry::abi::page_up(cur).unwrap_or(cur));
        if new - start > data_limit || t.mm().mapped_bytes().saturating_add(grow) > as_limit {
            return Ok(cur);
        }
    }
    Ok(t.mm().brk(new))
}

/// mremap(2).
pub fn mremap(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Ok(t.mm().mremap(a.a[0], a.a[1], a.a[2], a.a[3] as i32, a.a[4])?)
}

/// mincore(2).
pub fn mincore(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let vec = t.mm().mincore(a.a[0], a.a[1])?;
    t.mm().copy_out(a.a[2], &vec)?;
    Ok(0)
}

/// msync(2).
pub fn msync(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.mm().msync(a.a[0], a.a[1], a.a[2] as i32)?;
    Ok(0)
}

/// madvise(2).
pub fn madvise(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.mm().madvise(a.a[0], a.a[1], a.a[2] as i32)?;
    Ok(0)
}
