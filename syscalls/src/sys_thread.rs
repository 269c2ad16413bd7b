//! Thread and process identity and lifetime: arch_prctl, set_tid_address,
//! set_robust_list, get_robust_list, rseq, gettid, getpid, getppid, exit,
//! exit_group, getcpu.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallError, SyscallResult, Task};
use sentry::mm::TASK_SIZE;

const ARCH_SET_GS: u64 = 0x1001;
const ARCH_SET_FS: u64 = 0x1002;
const ARCH_GET_FS: u64 = 0x1003;
const ARCH_GET_GS: u64 = 0x1004;
const ARCH_GET_CPUID: u64 = 0x1011;
/// sizeof(struct robust_list_head).
const ROBUST_LIST_HEAD_SIZE: u64 = 24;
/// The original sizeof(struct rseq).
const RSEQ_MIN_LEN: u32 = 32;
const RSEQ_FLAG_UNREGISTER: u64 = 1;

/// arch_prctl(2).
pub fn arch_prctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (code, addr) = (a.a[0], a.a[1]);
    match code {
        ARCH_SET_FS | ARCH_SET_GS => {
            if addr >= TASK_SIZE {
                return Err(Errno::EPERM.into());
            }
            if code == ARCH_SET_FS {
                t.cpu.regs.fs_base = addr;
            } else {
                t.cpu.regs.gs_base = addr;
            }
            Ok(0)
        }
        ARCH_GET_FS => {
            t.copy_out(addr, &t.cpu.regs.fs_base)?;
            Ok(0)
        }
        ARCH_GET_GS => {
            t.copy_out(addr, &t.cpu.regs.gs_base)?;
            Ok(0)
        }
        // CPUID is never made to fault in the sandbox.
        ARCH_GET_CPUID => Ok(1),
        _ => Err(Errno::EINVAL.into()),
    }
}

/// set_tid_address(2).
pub fn set_tid_address(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    t.clear_child_tid = a.a[0];
    Ok(t.tid as u64)
}

/// set_robust_list(2).
pub fn set_robust_list(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[1] != ROBUST_LIST_HEAD_SIZE {
        return Err(Errno::EINVAL.into());
    }
    t.robust_list = (a.a[0], a.a[1]);
    t.shared.robust_head.store(a.a[0], std::sync::atomic::Ordering::Relaxed);
    Ok(0)
}

/// rseq(2). Registration and unregistration with Linux's checks. cpu_id is
/// the CPU the task is bound to (the platform keeps a task on one CPU), and
/// the sentry never preempts a thread inside a critical section on the
/// application's behalf, so no abort is ever due.
pub fn rseq(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (addr, len, flags, sig) = (a.a[0], a.a[1] as u32, a.a[2], a.a[3] as u32);
    if flags & RSEQ_FLAG_UNREGISTER != 0 {
        if flags & !RSEQ_FLAG_UNREGISTER != 0 {
            return Err(Errno::EINVAL.into());
        }
        return match t.rseq {
            Some((ra, rl, rs)) if ra == addr && rl == len => {
                if rs != sig {
                    return Err(Errno::EPERM.into());
                }
                // cpu_id becomes RSEQ_CPU_ID_UNINITIALIZED.
                t.copy_out(addr + 4, &u32::MAX)?;
                t.rseq = None;
                Ok(0)
            }
            Some(_) => Err(Errno::EINVAL.into()),
            None => Err(Errno::EINVAL.into()),
        };
    }
    if flags != 0 {
        return Err(Errno::EINVAL.into());
    }
    if let Some((ra, rl, rs)) = t.rseq {
        if ra != addr || rl != len {
            return Err(Errno::EINVAL.into());
        }
        if rs != sig {
            return Err(Errno::EPERM.into());
        }
        return Err(Errno::EBUSY.into());
    }
    if len < RSEQ_MIN_LEN || addr % 32 != 0 {
        return Err(Errno::EINVAL.into());
    }
    // cpu_id_start and cpu_id (the first two u32s).
    let cpu = t.cpu_id() as u64;
    t.copy_out(addr, &(cpu | cpu << 32))?;
    t.rseq = Some((addr, len, sig));
    Ok(0)
}

/// gettid(2).
pub fn gettid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.tid as u64)
}

/// getpid(2).
pub fn getpid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    Ok(t.tg.pid as u64)
}

/// getppid(2).
pub fn getppid(t: &mut Task, _a: &SyscallArgs) -> SyscallResult {
    let tree = t.kernel.tasks.read();
    Ok(tree.procs.get(&t.tg.pid).map_or(0, |p| p.parent) as u64)
}

/// get_robust_list(2): the caller's, or another thread's of the process
/// (or any, for root).
pub fn get_robust_list(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let pid = a.a[0] as i32;
    if pid != 0 && pid != t.tid {
        let other = t.kernel.tasks.task(pid).ok_or(Errno::ESRCH)?;
        if !std::sync::Arc::ptr_eq(&other.tg, &t.tg) && t.creds.euid != 0 {
            return Err(Errno::EPERM.into());
        }
        let head = other.robust_head.load(std::sync::atomic::Ordering::Relaxed);
        t.copy_out(a.a[1], &head)?;
        t.copy_out(a.a[2], &ROBUST_LIST_HEAD_SIZE)?;
        return Ok(0);
    }
    t.copy_out(a.a[1], &t.robust_list.0)?;
    t.copy_out(a.a[2], &ROBUST_LIST_HEAD_SIZE)?;
    Ok(0)
}

/// exit(2): this thread only.
pub fn exit(_t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Err(SyscallError::Exit(a.a[0] as i32 & 0xff))
}

/// exit_group(2).
pub fn exit_group(_t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    Err(SyscallError::ExitGroup(a.a[0] as i32 & 0xff))
}

/// getcpu(2): the CPU the task last ran on (its stub and its sentry thread
/// share it), node 0.
pub fn getcpu(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    if a.a[0] != 0 {
        t.copy_out(a.a[0], &t.cpu_id())?;
    }
    if a.a[1] != 0 {
        t.copy_out(a.a[1], &0u32)?;
    }
    Ok(0)
}
