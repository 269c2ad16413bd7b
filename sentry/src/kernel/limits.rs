//! Resource limits.

use crate::abi::Rlimit;

/// Number of RLIMIT_* resources.
pub const RLIM_NLIMITS: usize = 16;
/// RLIM_INFINITY.
pub const INF: u64 = u64::MAX;

/// Linux's defaults for init, as the sandbox starts with.
pub fn defaults() -> [Rlimit; RLIM_NLIMITS] {
    let mut l = [Rlimit { cur: INF, max: INF }; RLIM_NLIMITS];
    l[libc::RLIMIT_STACK as usize] = Rlimit { cur: 8 << 20, max: INF };
    l[libc::RLIMIT_CORE as usize] = Rlimit { cur: 0, max: INF };
    l[libc::RLIMIT_NOFILE as usize] = Rlimit { cur: 1024, max: 1 << 20 };
    l[libc::RLIMIT_MEMLOCK as usize] = Rlimit { cur: 8 << 20, max: 8 << 20 };
    l[libc::RLIMIT_NPROC as usize] = Rlimit { cur: 0x1_0000, max: 0x1_0000 };
    l[libc::RLIMIT_SIGPENDING as usize] = Rlimit { cur: 0x1_0000, max: 0x1_0000 };
    l[libc::RLIMIT_MSGQUEUE as usize] = Rlimit { cur: 819200, max: 819200 };
    l[libc::RLIMIT_NICE as usize] = Rlimit { cur: 0, max: 0 };
    l[libc::RLIMIT_RTPRIO as usize] = Rlimit { cur: 0, max: 0 };
    l
}
