//! prctl: the process attributes programs commonly set and read.

use sentry::abi::Errno;
use sentry::auth::{CAP_LAST_CAP, CAP_SETPCAP};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// TASK_COMM_LEN.
const COMM_LEN: usize = 16;

/// prctl(2): PR_SET_NAME, PR_GET_NAME, PR_SET/GET_DUMPABLE,
/// PR_SET/GET_PDEATHSIG, PR_SET/GET_NO_NEW_PRIVS, PR_GET_SECCOMP,
/// PR_CAPBSET_READ, PR_SET/GET_CHILD_SUBREAPER, PR_SET/GET_KEEPCAPS,
/// PR_GET_TIMERSLACK. Others give EINVAL (logged once).
pub fn prctl(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (op, arg2) = (a.a[0] as i32, a.a[1]);
    match op {
        libc::PR_SET_NAME => {
            // Like strncpy_from_user: at most 15 bytes, up to a NUL.
            let mut name = Vec::with_capacity(COMM_LEN);
            for i in 0..(COMM_LEN as u64 - 1) {
                let b: u8 = t.copy_in(arg2 + i)?;
                if b == 0 {
                    break;
                }
                name.push(b);
            }
            t.set_comm(&name);
            Ok(0)
        }
        libc::PR_GET_NAME => {
            let mut buf = [0u8; COMM_LEN];
            let comm = t.comm();
            buf[..comm.len().min(COMM_LEN - 1)].copy_from_slice(&comm[..comm.len().min(COMM_LEN - 1)]);
            t.mm().copy_out(arg2, &buf)?;
            Ok(0)
        }
        libc::PR_SET_DUMPABLE => match arg2 {
            0 | 1 => {
                t.tg.state().dumpable = arg2 as u8;
                Ok(0)
            }
            _ => Err(Errno::EINVAL.into()),
        },
        libc::PR_GET_DUMPABLE => Ok(t.tg.state().dumpable as u64),
        libc::PR_SET_PDEATHSIG => {
            if arg2 > 64 {
                return Err(Errno::EINVAL.into());
            }
            t.tg.state().pdeathsig = arg2 as i32;
            Ok(0)
        }
        libc::PR_GET_PDEATHSIG => {
            let sig = t.tg.state().pdeathsig;
            t.copy_out(arg2, &sig)?;
            Ok(0)
        }
        libc::PR_SET_NO_NEW_PRIVS => {
            if arg2 != 1 || a.a[2] != 0 || a.a[3] != 0 || a.a[4] != 0 {
                return Err(Errno::EINVAL.into());
            }
            t.tg.state().no_new_privs = true;
            Ok(0)
        }
        libc::PR_GET_NO_NEW_PRIVS => {
            if a.a[1] != 0 || a.a[2] != 0 || a.a[3] != 0 || a.a[4] != 0 {
                return Err(Errno::EINVAL.into());
            }
            Ok(t.tg.state().no_new_privs as u64)
        }
        // No seccomp filters in the sandbox yet.
        libc::PR_GET_SECCOMP => Ok(0),
        libc::PR_CAPBSET_READ => {
            if arg2 > CAP_LAST_CAP as u64 {
                return Err(Errno::EINVAL.into());
            }
            Ok((t.creds.caps.bounding >> arg2) & 1)
        }
        libc::PR_CAPBSET_DROP => {
            if !t.creds.capable(CAP_SETPCAP) {
                return Err(Errno::EPERM.into());
            }
            if arg2 > CAP_LAST_CAP as u64 {
                return Err(Errno::EINVAL.into());
            }
            let mut c = (*t.creds).clone();
            c.caps.bounding &= !(1 << arg2);
            t.set_creds(c);
            Ok(0)
        }
        libc::PR_CAP_AMBIENT => {
            let (sub, cap) = (arg2 as i32, a.a[2]);
            if sub == libc::PR_CAP_AMBIENT_CLEAR_ALL {
                if cap != 0 || a.a[3] != 0 || a.a[4] != 0 {
                    return Err(Errno::EINVAL.into());
                }
                let mut c = (*t.creds).clone();
                c.caps.ambient = 0;
                t.set_creds(c);
                return Ok(0);
            }
            if a.a[3] != 0 || a.a[4] != 0 || cap > CAP_LAST_CAP as u64 {
                return Err(Errno::EINVAL.into());
            }
            let bit = 1u64 << cap;
            match sub {
                libc::PR_CAP_AMBIENT_IS_SET => Ok((t.creds.caps.ambient & bit != 0) as u64),
                libc::PR_CAP_AMBIENT_RAISE | libc::PR_CAP_AMBIENT_LOWER => {
                    let mut c = (*t.creds).clone();
                    if sub == libc::PR_CAP_AMBIENT_RAISE {
                        if c.caps.permitted & bit == 0 || c.caps.inheritable & bit == 0 {
                            return Err(Errno::EPERM.into());
                        }
                        c.caps.ambient |= bit;
                    } else {
                        c.caps.ambient &= !bit;
                    }
                    t.set_creds(c);
                    Ok(0)
                }
                _ => Err(Errno::EINVAL.into()),
            }
        }
        libc::PR_SET_CHILD_SUBREAPER => {
            t.tg.state().subreaper = arg2 != 0;
            Ok(0)
        }
        libc::PR_GET_CHILD_SUBREAPER => {
            let v = t.tg.state().subreaper as i32;
            t.copy_out(arg2, &v)?;
            Ok(0)
        }
        libc::PR_SET_KEEPCAPS => match arg2 {
            0 | 1 => {
                t.tg.state().keepcaps = arg2 == 1;
                Ok(0)
            }
            _ => Err(Errno::EINVAL.into()),
        },
        libc::PR_GET_KEEPCAPS => Ok(t.tg.state().keepcaps as u64),
        // Linux's default timer slack, 50 µs.
        libc::PR_GET_TIMERSLACK => Ok(50_000),
        _ => {
            crate::log_once_unsupported("prctl", op as u64);
            Err(Errno::EINVAL.into())
        }
    }
}

/// personality(2): sets the process's execution domain and flags
/// (0xffffffff only asks); returns the old value. ADDR_NO_RANDOMIZE turns
/// ASLR off for the next execve.
pub fn personality(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let p = a.a[0] as u32;
    let mut st = t.tg.state();
    let old = st.personality;
    if p != u32::MAX {
        st.personality = p;
    }
    Ok(old as u64)
}
