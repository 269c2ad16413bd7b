//! Set-up of the forked master stub before it enters the stub page: only
//! raw syscalls, as the child of a fork.

extern "C" {
    /// glibc (2.35+): offset of the rseq area from the thread pointer.
    static __rseq_offset: isize;
}

/// The rseq signature glibc registers with on x86_64.
const RSEQ_SIG: u32 = 0x5305_3053;

/// Drops every capability of the calling process (raw syscalls only, for
/// the forked master stub). Stubs hold no privileges, and a sentry that has
/// dropped its own can still trace them (the capability LSM refuses to let
/// a tracer trace a process with capabilities it lacks).
pub(super) fn drop_capabilities() {
    /// _LINUX_CAPABILITY_VERSION_3.
    const VERSION_3: u32 = 0x2008_0522;
    for cap in 0..64 {
        // SAFETY: PR_CAPBSET_DROP takes integers only; failures are fine.
        unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0) };
    }
    let header: [u32; 2] = [VERSION_3, 0];
    let data: [u32; 6] = [0; 6];
    // SAFETY: capset reads a cap_user_header_t (version, pid) and two
    // cap_user_data_t (effective, permitted, inheritable) from valid arrays.
    unsafe { libc::syscall(libc::SYS_capset, header.as_ptr(), data.as_ptr()) };
}

/// Unregisters glibc's rseq area for the calling thread (raw syscalls only,
/// so it is safe in a forked child).
pub(super) fn unregister_rseq() {
    let tp: u64;
    // SAFETY: reads the thread pointer (glibc stores the TCB's own address at
    // fs:0); no memory is written.
    unsafe { std::arch::asm!("mov {}, fs:0", out(reg) tp, options(nostack, readonly, preserves_flags)) };
    // SAFETY: `__rseq_offset` is a constant glibc sets up before main.
    let addr = tp.wrapping_add(unsafe { __rseq_offset } as u64);
    for len in [32u32, 20] {
        // SAFETY: rseq with RSEQ_FLAG_UNREGISTER only clears the kernel's
        // registration; a mismatched length just fails with EINVAL.
        let r = unsafe { libc::syscall(libc::SYS_rseq, addr, len, 1u32, RSEQ_SIG) };
        if r == 0 {
            return;
        }
    }
}
