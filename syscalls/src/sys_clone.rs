//! clone, clone3, fork, vfork: decoding the arguments; the kernel's
//! `clone_task` does the rest. CLONE_PIDFD installs a pidfd in the caller.

use sentry::abi::signal::CloneArgs;
use sentry::abi::{Errno, PAGE_SIZE};
use sentry::kernel::clone::CloneRequest;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

use crate::sys_pidfd::install_pidfd;

/// CSIGNAL: the exit-signal bits of clone's flags.
const CSIGNAL: u64 = 0xff;
use sentry::kernel::clone::CLONE_CLEAR_SIGHAND;
/// CLONE_INTO_CGROUP (clone3).
const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;
/// The clone_args size of the first version.
const CLONE_ARGS_SIZE_VER0: u64 = 64;

fn run(t: &mut Task, req: CloneRequest) -> SyscallResult {
    if req.flags & libc::CLONE_PIDFD as u64 != 0 {
        // The pidfd's address must be writable before the child exists.
        t.copy_out(req.pidfd, &0i32)?;
    }
    let child = t.clone_task(&req)?;
    let tid = child.tid();
    if req.flags & libc::CLONE_PIDFD as u64 != 0 {
        let fd = install_pidfd(t, child.tg.clone(), libc::O_CLOEXEC as u32)?;
        t.copy_out(req.pidfd, &fd)?;
    }
    Ok(tid as u64)
}

/// clone(2): (flags, newsp, parent_tid, child_tid, tls) on x86_64.
pub fn clone(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let flags = a.a[0];
    let exit_signal = (flags & CSIGNAL) as i32;
    if exit_signal > 64 {
        return Err(Errno::EINVAL.into());
    }
    let pidfd = flags & libc::CLONE_PIDFD as u64 != 0;
    if pidfd && flags & libc::CLONE_PARENT_SETTID as u64 != 0 {
        // Both use the parent_tid argument.
        return Err(Errno::EINVAL.into());
    }
    let req = CloneRequest {
        flags: flags & !CSIGNAL & 0xffff_ffff,
        exit_signal,
        stack: a.a[1],
        tls: a.a[4],
        parent_tid: a.a[2],
        child_tid: a.a[3],
        pidfd: a.a[2],
    };
    run(t, req)
}

/// clone3(2).
pub fn clone3(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (uargs, size) = (a.a[0], a.a[1]);
    if size < CLONE_ARGS_SIZE_VER0 {
        return Err(Errno::EINVAL.into());
    }
    if size > PAGE_SIZE {
        return Err(Errno::E2BIG.into());
    }
    let known = std::mem::size_of::<CloneArgs>() as u64;
    let mut raw = vec![0u8; size as usize];
    t.mm().copy_in(uargs, &mut raw)?;
    if raw.len() as u64 > known && raw[known as usize..].iter().any(|&b| b != 0) {
        return Err(Errno::E2BIG.into());
    }
    let mut args = CloneArgs::default();
    let n = (size.min(known)) as usize;
    sentry::abi::Pod::as_bytes_mut(&mut args)[..n].copy_from_slice(&raw[..n]);
    let legacy = 0xffff_ffffu64 & !CSIGNAL;
    if args.flags & !(legacy | CLONE_CLEAR_SIGHAND | CLONE_INTO_CGROUP) != 0 {
        return Err(Errno::EINVAL.into());
    }
    if args.flags & CLONE_INTO_CGROUP != 0 {
        crate::log_once_unsupported("clone3 flag", CLONE_INTO_CGROUP);
        return Err(Errno::EINVAL.into());
    }
    if args.flags & CLONE_CLEAR_SIGHAND != 0 && args.flags & libc::CLONE_SIGHAND as u64 != 0 {
        return Err(Errno::EINVAL.into());
    }
    if args.exit_signal & !CSIGNAL != 0 || args.exit_signal > 64 {
        return Err(Errno::EINVAL.into());
    }
    // clone3 frees the CLONE_DETACHED bit for reuse, and a thread or a
    // sibling has no exit signal of its own.
    if args.flags & libc::CLONE_DETACHED as u64 != 0 {
        return Err(Errno::EINVAL.into());
    }
    if args.flags & (libc::CLONE_THREAD | libc::CLONE_PARENT) as u64 != 0 && args.exit_signal != 0 {
        return Err(Errno::EINVAL.into());
    }
    if args.set_tid_size != 0 || args.set_tid != 0 {
        // Choosing pids needs CAP_CHECKPOINT_RESTORE in the owning user
        // namespace.
        return Err(Errno::EPERM.into());
    }
    if (args.stack == 0) != (args.stack_size == 0) {
        return Err(Errno::EINVAL.into());
    }
    let stack = if args.stack != 0 { args.stack.wrapping_add(args.stack_size) } else { 0 };
    let req = CloneRequest {
        flags: args.flags,
        exit_signal: args.exit_signal as i32,
        stack,
        tls: args.tls,
        parent_tid: args.parent_tid,
        child_tid: args.child_tid,
        pidfd: args.pidfd,
    };
    run(t, req)
}

/// fork(2).
pub fn fork(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    run(t, CloneRequest { exit_signal: libc::SIGCHLD, ..Default::default() })
}

/// vfork(2).
pub fn vfork(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    let flags = (libc::CLONE_VM | libc::CLONE_VFORK) as u64;
    run(t, CloneRequest { flags, exit_signal: libc::SIGCHLD, ..Default::default() })
}
