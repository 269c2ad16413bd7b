//! Signals in the x86_64 ABI: `siginfo_t`, the signal frame (`ucontext`,
//! `sigcontext`), and the flag and code constants.

use super::{Pod, StackT};

/// `siginfo_t`: 128 bytes. The union's fields are reached through
/// accessors named after the kernel's, at the kernel's offsets.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    /// si_signo.
    pub signo: i32,
    /// si_errno.
    pub errno: i32,
    /// si_code.
    pub code: i32,
    /// Padding before the union.
    pub pad: i32,
    /// The union (`_sifields`).
    pub data: [u64; 14],
}

fn lo(w: u64) -> i32 {
    w as u32 as i32
}

fn hi(w: u64) -> i32 {
    (w >> 32) as u32 as i32
}

fn pair(lo: i32, hi: i32) -> u64 {
    (lo as u32 as u64) | ((hi as u32 as u64) << 32)
}

impl SigInfo {
    /// A siginfo for `signo` with `code` and an empty union.
    pub fn new(signo: i32, code: i32) -> SigInfo {
        SigInfo { signo, code, ..Default::default() }
    }

    /// From kill(2) and friends: the sender's pid and uid.
    pub fn user(signo: i32, code: i32, pid: i32, uid: u32) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.data[0] = pair(pid, uid as i32);
        s
    }

    /// A fault at `addr`.
    pub fn fault(signo: i32, code: i32, addr: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.data[0] = addr;
        s
    }

    /// SIGCHLD for a child: pid, uid, status (exit code or signal), times
    /// in clock ticks.
    pub fn child(code: i32, pid: i32, uid: u32, status: i32, utime: i64, stime: i64) -> SigInfo {
        let mut s = SigInfo::new(libc::SIGCHLD, code);
        s.data[0] = pair(pid, uid as i32);
        s.data[1] = status as u32 as u64;
        s.data[2] = utime as u64;
        s.data[3] = stime as u64;
        s
    }

    /// Signal-driven I/O (F_SETSIG): the poll band and the fd.
    pub fn poll(signo: i32, code: i32, band: i64, fd: i32) -> SigInfo {
        let mut s = SigInfo::new(signo, code);
        s.data[0] = band as u64;
        s.data[1] = fd as u32 as u64;
        s
    }

    /// A timer expiry: timer id, overrun count, value.
    pub fn timer(signo: i32, timerid: i32, overrun: i32, value: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, SI_TIMER);
        s.data[0] = pair(timerid, overrun);
        s.data[1] = value;
        s
    }

    /// A POSIX message queue notification (SI_MESGQ): the sender's pid
    /// and uid, and the registration's value.
    pub fn mesgq(signo: i32, pid: i32, uid: u32, value: u64) -> SigInfo {
        let mut s = SigInfo::new(signo, SI_MESGQ);
        s.data[0] = pair(pid, uid as i32);
        s.data[1] = value;
        s
    }

    /// si_pid.
    pub fn pid(&self) -> i32 {
        lo(self.data[0])
    }

    /// si_uid.
    pub fn uid(&self) -> u32 {
        hi(self.data[0]) as u32
    }

    /// si_addr.
    pub fn addr(&self) -> u64 {
        self.data[0]
    }

    /// si_status (SIGCHLD).
    pub fn status(&self) -> i32 {
        lo(self.data[1])
    }

    /// si_utime (SIGCHLD).
    pub fn utime(&self) -> i64 {
        self.data[2] as i64
    }

    /// si_stime (SIGCHLD).
    pub fn stime(&self) -> i64 {
        self.data[3] as i64
    }

    /// si_overrun (timers).
    pub fn overrun(&self) -> i32 {
        hi(self.data[0])
    }

    /// Sets si_overrun (timers).
    pub fn set_overrun(&mut self, n: i32) {
        self.data[0] = pair(lo(self.data[0]), n);
    }
}

/// `struct sigcontext` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SigContext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    pub ss: u16,
    pub err: u64,
    pub trapno: u64,
    pub oldmask: u64,
    pub cr2: u64,
    /// Address of the FP state (an XSAVE area) in the frame.
    pub fpstate: u64,
    pub reserved: [u64; 8],
}

/// The kernel's `struct ucontext` (x86_64).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UContext {
    pub flags: u64,
    pub link: u64,
    pub stack: StackT,
    pub mcontext: SigContext,
    pub sigmask: u64,
}

/// `struct rusage`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Rusage {
    pub utime: super::Timeval,
    pub stime: super::Timeval,
    pub maxrss: i64,
    pub ixrss: i64,
    pub idrss: i64,
    pub isrss: i64,
    pub minflt: i64,
    pub majflt: i64,
    pub nswap: i64,
    pub inblock: i64,
    pub oublock: i64,
    pub msgsnd: i64,
    pub msgrcv: i64,
    pub nsignals: i64,
    pub nvcsw: i64,
    pub nivcsw: i64,
}

/// `struct tms`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Tms {
    pub utime: i64,
    pub stime: i64,
    pub cutime: i64,
    pub cstime: i64,
}

/// `struct itimerval`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ItimerVal {
    pub interval: super::Timeval,
    pub value: super::Timeval,
}

/// `struct itimerspec`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ItimerSpec {
    pub interval: super::Timespec,
    pub value: super::Timespec,
}

/// `struct sigevent` (64 bytes): value, signo, notify, and the thread id
/// for SIGEV_THREAD_ID.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SigEvent {
    pub value: u64,
    pub signo: i32,
    pub notify: i32,
    pub tid: i32,
    pub pad: [i32; 11],
}

/// The head of a `siginfo_t` as waitid(2) fills it: the fields Linux
/// writes for SIGCHLD (si_signo, si_errno, si_code, si_pid, si_uid,
/// si_status), with the padding between them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct WaitidInfo {
    pub signo: i32,
    pub errno: i32,
    pub code: i32,
    pub pad: i32,
    pub pid: i32,
    pub uid: u32,
    pub status: i32,
}

/// `struct clone_args` (clone3), the fields up to `cgroup` (88 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

super::structs::pod!(
    SigInfo = 128,
    SigContext = 256,
    UContext = 304,
    Rusage = 144,
    Tms = 32,
    ItimerVal = 32,
    ItimerSpec = 32,
    SigEvent = 64,
    CloneArgs = 88,
    WaitidInfo = 28,
);

/// SA_RESTORER (x86_64).
pub const SA_RESTORER: u64 = 0x0400_0000;
/// The sa_flags bits the kernel keeps on x86_64 (UAPI_SA_FLAGS).
pub const SA_KEPT: u64 = (libc::SA_NOCLDSTOP
    | libc::SA_NOCLDWAIT
    | libc::SA_SIGINFO
    | libc::SA_ONSTACK
    | libc::SA_RESTART
    | libc::SA_NODEFER
    | libc::SA_RESETHAND) as u64
    | SA_RESTORER;

/// si_code values.
pub const SI_USER: i32 = 0;
/// From the kernel.
pub const SI_KERNEL: i32 = 0x80;
/// sigqueue.
pub const SI_QUEUE: i32 = -1;
/// A POSIX timer.
pub const SI_TIMER: i32 = -2;
/// A message queue.
pub const SI_MESGQ: i32 = -3;
/// Asynchronous I/O.
pub const SI_ASYNCIO: i32 = -4;
/// tkill/tgkill.
pub const SI_TKILL: i32 = -6;

/// SIGCHLD si_code values.
pub const CLD_EXITED: i32 = 1;
/// Killed.
pub const CLD_KILLED: i32 = 2;
/// Killed and dumped core.
pub const CLD_DUMPED: i32 = 3;
/// Traced child trapped.
pub const CLD_TRAPPED: i32 = 4;
/// Stopped.
pub const CLD_STOPPED: i32 = 5;
/// Continued.
pub const CLD_CONTINUED: i32 = 6;

/// ucontext flags.
pub const UC_FP_XSTATE: u64 = 1;
/// ss is saved in the sigcontext.
pub const UC_SIGCONTEXT_SS: u64 = 2;
/// Restore ss strictly.
pub const UC_STRICT_RESTORE_SS: u64 = 4;

/// FP software frame magic (bytes 464..468 of the XSAVE area in a frame).
pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
/// After the XSAVE area in a frame.
pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;

/// Alternate signal stack flags.
pub const SS_ONSTACK: i32 = 1;
/// Disabled.
pub const SS_DISABLE: i32 = 2;
/// Disarmed while a handler runs on it.
pub const SS_AUTODISARM: i32 = 1 << 31;

/// Bytes of the signal frame before the FP state: the return address, the
/// ucontext and the siginfo.
pub const FRAME_SIZE: u64 = 8 + std::mem::size_of::<UContext>() as u64 + std::mem::size_of::<SigInfo>() as u64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_offsets_match_libc() {
        assert_eq!(std::mem::size_of::<SigInfo>(), std::mem::size_of::<libc::siginfo_t>());
        assert_eq!(std::mem::size_of::<Rusage>(), std::mem::size_of::<libc::rusage>());
        let mut s = SigInfo::child(CLD_EXITED, 42, 7, 3, 0, 0);
        s.signo = libc::SIGCHLD;
        // SAFETY: SigInfo and siginfo_t have the same size (asserted above)
        // and both are plain data.
        let l: libc::siginfo_t = unsafe { std::mem::transmute(s) };
        // SAFETY: reading the SIGCHLD fields of a siginfo we filled as such.
        unsafe {
            assert_eq!(l.si_pid(), 42);
            assert_eq!(l.si_uid(), 7);
            assert_eq!(l.si_status(), 3);
        }
    }
}
