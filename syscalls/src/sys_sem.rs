//! System V semaphores: semget, semop, semtimedop, semctl.

use std::sync::Arc;
use std::time::Instant;

use sentry::abi::ipc::{SemBuf, SemInfo, SemidDs};
use sentry::abi::Errno;
use sentry::ipc::sem::{Attempt, SemSet, SEMAEM, SEMMNI, SEMMNS, SEMMSL, SEMOPM, SEMVMX, SEM_UNDO};
use sentry::ipc::{now_secs, IpcObject, IPC_INFO, IPC_RMID, IPC_SET, IPC_STAT};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::waiter::{Registration, EVENT_ANY};

use crate::sys_time::{deadline_after, read_timespec};

const GETPID: i32 = 11;
const GETVAL: i32 = 12;
const GETALL: i32 = 13;
const GETNCNT: i32 = 14;
const GETZCNT: i32 = 15;
const SETVAL: i32 = 16;
const SETALL: i32 = 17;
const SEM_STAT: i32 = 18;
const SEM_INFO: i32 = 19;
const SEM_STAT_ANY: i32 = 20;
/// SEMUSZ.
const SEMUSZ: i32 = 20;

/// semget(2).
pub fn semget(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (key, nsems, flags) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32);
    if nsems < 0 || nsems as usize > SEMMSL {
        return Err(Errno::EINVAL.into());
    }
    let k = t.kernel.clone();
    let id = k.ipc.sem.get(
        key,
        flags,
        &t.creds,
        |set| if (nsems as usize) > set.len() { Err(Errno::EINVAL) } else { Ok(()) },
        |perm| if nsems == 0 { Err(Errno::EINVAL) } else { Ok(SemSet::new(perm, nsems as usize)) },
    )?;
    Ok(id as u64)
}

/// semop(2).
pub fn semop(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_semtimedop(t, a.a[0] as i32, a.a[1], a.a[2], 0)
}

/// semtimedop(2).
pub fn semtimedop(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    do_semtimedop(t, a.a[0] as i32, a.a[1], a.a[2], a.a[3])
}

fn do_semtimedop(t: &mut Task, id: i32, sops_addr: u64, nsops: u64, timeout: u64) -> SyscallResult {
    if nsops < 1 || id < 0 {
        return Err(Errno::EINVAL.into());
    }
    if nsops as usize > SEMOPM {
        return Err(Errno::E2BIG.into());
    }
    let mut sops = vec![SemBuf::default(); nsops as usize];
    for (i, s) in sops.iter_mut().enumerate() {
        *s = t.copy_in(sops_addr + (i * std::mem::size_of::<SemBuf>()) as u64)?;
    }
    let deadline: Option<Instant> = if timeout != 0 { Some(deadline_after(read_timespec(t, timeout)?)) } else { None };
    let set = t.kernel.ipc.sem.find(id)?;
    let max = sops.iter().map(|s| s.num).max().unwrap_or(0);
    if max as usize >= set.len() {
        return Err(Errno::EFBIG.into());
    }
    let alter = sops.iter().any(|s| s.op != 0);
    if !set.perm().allows(&t.creds, if alter { 0o222 } else { 0o444 }) {
        return Err(Errno::EACCES.into());
    }
    if sops.iter().any(|s| s.flg & SEM_UNDO != 0) {
        t.tg.sem_undo.note(&set);
    }
    let w = t.waker();
    loop {
        w.reset();
        let _reg = Registration::new(&set.queue, EVENT_ANY, w.clone());
        let blocked = match set.try_op(&sops, t.tg.pid)? {
            Attempt::Done => return Ok(0),
            Attempt::Block(b) => b,
        };
        let ticket = set.add_waiter(blocked);
        let r = t.block(&w, deadline);
        set.remove_waiter(ticket);
        match r {
            Ok(()) => {}
            Err(Errno::ETIMEDOUT) => {
                // One last look: the wake-up may have raced the deadline.
                return match set.try_op(&sops, t.tg.pid)? {
                    Attempt::Done => Ok(0),
                    Attempt::Block(_) => Err(Errno::EAGAIN.into()),
                };
            }
            // Never restarted after a handler (signal(7)).
            Err(_) => return Err(Errno::ERESTARTNOHAND.into()),
        }
    }
}

fn check(set: &Arc<SemSet>, t: &Task, want: i32) -> Result<(), Errno> {
    if set.perm().allows(&t.creds, want) {
        Ok(())
    } else {
        Err(Errno::EACCES)
    }
}

/// semctl(2).
pub fn semctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (id, num, cmd, arg) = (a.a[0] as i32, a.a[1] as i32, a.a[2] as i32, a.a[3]);
    if id < 0 {
        return Err(Errno::EINVAL.into());
    }
    let ns = t.kernel.ipc.clone();
    match cmd {
        IPC_INFO | SEM_INFO => {
            let mut info = SemInfo {
                semmap: SEMMNS as i32,
                semmni: SEMMNI as i32,
                semmns: SEMMNS as i32,
                semmnu: SEMMNS as i32,
                semmsl: SEMMSL as i32,
                semopm: SEMOPM as i32,
                semume: SEMOPM as i32,
                semusz: SEMUSZ,
                semvmx: SEMVMX,
                semaem: SEMAEM,
            };
            if cmd == SEM_INFO {
                let all = ns.sem.all();
                info.semusz = all.len() as i32;
                info.semaem = all.iter().map(|s| s.len() as i32).sum();
            }
            t.copy_out(arg, &info)?;
            Ok(ns.sem.max_index().max(0) as u64)
        }
        SEM_STAT | SEM_STAT_ANY => {
            let (full, set) = ns.sem.at_index(id)?;
            if cmd == SEM_STAT {
                check(&set, t, 0o444)?;
            }
            t.copy_out(arg, &set.stat())?;
            Ok(full as u64)
        }
        IPC_STAT => {
            let set = ns.sem.find(id)?;
            check(&set, t, 0o444)?;
            t.copy_out(arg, &set.stat())?;
            Ok(0)
        }
        IPC_SET => {
            let ds: SemidDs = t.copy_in(arg)?;
            let set = ns.sem.find(id)?;
            let mut s = set.state();
            if !s.perm.may_change(&t.creds) {
                return Err(Errno::EPERM.into());
            }
            s.perm.set(&ds.perm);
            s.ctime = now_secs();
            Ok(0)
        }
        IPC_RMID => {
            let set = ns.sem.find(id)?;
            if !set.perm().may_change(&t.creds) {
                return Err(Errno::EPERM.into());
            }
            ns.sem.remove(id, &set);
            set.remove();
            Ok(0)
        }
        GETVAL | GETPID | GETNCNT | GETZCNT => {
            let set = ns.sem.find(id)?;
            check(&set, t, 0o444)?;
            if num < 0 || num as usize >= set.len() {
                return Err(Errno::EINVAL.into());
            }
            let s = set.state().sems[num as usize];
            Ok(match cmd {
                GETVAL => s.val as u64,
                GETPID => s.pid as u64,
                GETNCNT => set.count_waiting(num as u16, false) as u64,
                _ => set.count_waiting(num as u16, true) as u64,
            })
        }
        GETALL => {
            let set = ns.sem.find(id)?;
            check(&set, t, 0o444)?;
            let vals: Vec<u8> = set.state().sems.iter().flat_map(|s| (s.val as u16).to_ne_bytes()).collect();
            t.mm().copy_out(arg, &vals)?;
            Ok(0)
        }
        SETVAL => {
            let v = arg as i32;
            if !(0..=SEMVMX).contains(&v) {
                return Err(Errno::ERANGE.into());
            }
            let set = ns.sem.find(id)?;
            if num < 0 || num as usize >= set.len() {
                return Err(Errno::EINVAL.into());
            }
            check(&set, t, 0o222)?;
            set.set_val(num as usize, v, t.tg.pid)?;
            Ok(0)
        }
        SETALL => {
            let set = ns.sem.find(id)?;
            check(&set, t, 0o222)?;
            let mut raw = vec![0u8; set.len() * 2];
            t.mm().copy_in(arg, &mut raw)?;
            let vals: Vec<u16> = raw.chunks_exact(2).map(|b| u16::from_ne_bytes([b[0], b[1]])).collect();
            set.set_all(&vals, t.tg.pid)?;
            Ok(0)
        }
        _ => Err(Errno::EINVAL.into()),
    }
}
