//! The stub's seccomp filter: a stub only ever executes the syscalls the
//! sentry injects (and its own start-up calls); anything else kills it.
//! Application syscalls never reach it: PTRACE_SYSEMU stops them before
//! seccomp runs. This is defence in depth against a sentry bug that let an
//! application syscall run on the host.
//!
//! Built by hand (a dozen instructions): the sentry does not depend on a
//! seccomp compiler, and the program must exist before the master stub is
//! forked.

/// AUDIT_ARCH_X86_64.
const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
/// Offsets in `struct seccomp_data`.
const OFF_NR: u32 = 0;
const OFF_ARCH: u32 = 4;

/// The syscalls a stub may make: start-up (munmap, getpid, kill to stop
/// itself), waiting to be seized (pause), and injection (mmap, munmap,
/// mprotect, clone for new stub processes and threads, exit for a thread
/// whose task is gone).
const ALLOWED: [i64; 8] = [
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_mprotect,
    libc::SYS_clone,
    libc::SYS_getpid,
    libc::SYS_kill,
    libc::SYS_pause,
    libc::SYS_exit,
];

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt, jf, k }
}

/// The BPF program.
pub fn program() -> Vec<libc::sock_filter> {
    let ld_w_abs = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let jeq_k = libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K;
    let jset_k = libc::BPF_JMP | libc::BPF_JSET | libc::BPF_K;
    let ret_k = libc::BPF_RET | libc::BPF_K;
    let n = ALLOWED.len() as u8;
    // Layout: 0 load arch, 1 check arch, 2 load nr, 3 refuse x32,
    // 4..4+n allowed numbers, 4+n kill, 5+n allow.
    let mut p = vec![
        stmt(ld_w_abs, OFF_ARCH),
        // Wrong architecture: to the kill.
        jump(jeq_k, AUDIT_ARCH_X86_64, 0, n + 2),
        stmt(ld_w_abs, OFF_NR),
        // x32 syscalls (bit 30): to the kill.
        jump(jset_k, 0x4000_0000, n, 0),
    ];
    for (i, nr) in ALLOWED.iter().enumerate() {
        // Match: to the allow.
        p.push(jump(jeq_k, *nr as u32, n - i as u8, 0));
    }
    p.push(stmt(ret_k, libc::SECCOMP_RET_KILL_PROCESS));
    p.push(stmt(ret_k, libc::SECCOMP_RET_ALLOW));
    p
}

/// Installs `prog` on the calling thread (raw syscalls only, for the forked
/// master stub). Returns false on failure.
pub fn install(prog: &[libc::sock_filter]) -> bool {
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr() as *mut libc::sock_filter };
    // SAFETY: PR_SET_NO_NEW_PRIVS takes integers; seccomp reads `fprog`,
    // which points at `prog`, alive for the call.
    unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::syscall(libc::SYS_seccomp, libc::SECCOMP_SET_MODE_FILTER, 0, &fprog as *const libc::sock_fprog)
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jumps_land_on_the_returns() {
        let p = program();
        let kill = p.len() - 2;
        let allow = p.len() - 1;
        let target = |at: usize, off: u8| at + 1 + off as usize;
        assert_eq!(p[kill].k, libc::SECCOMP_RET_KILL_PROCESS);
        assert_eq!(p[allow].k, libc::SECCOMP_RET_ALLOW);
        // Architecture mismatch and x32 go to the kill; a match falls through.
        assert_eq!(target(1, p[1].jf), kill);
        assert_eq!(target(1, p[1].jt), 2);
        assert_eq!(target(3, p[3].jt), kill);
        assert_eq!(target(3, p[3].jf), 4);
        // Each allowed number jumps to the allow; a miss tries the next.
        for (i, nr) in ALLOWED.iter().enumerate() {
            let at = 4 + i;
            assert_eq!(p[at].k, *nr as u32);
            assert_eq!(target(at, p[at].jt), allow, "entry {i}");
            assert_eq!(target(at, p[at].jf), at + 1);
        }
        assert_eq!(4 + ALLOWED.len(), kill, "the last miss falls into the kill");
    }
}
