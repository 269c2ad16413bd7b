//! getrandom.

use sentry::abi::Errno;
use sentry::fs::dev::fill_random;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// getrandom(2).
pub fn getrandom(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (buf, len, flags) = (a.a[0], a.a[1], a.a[2] as u32);
    let known = libc::GRND_NONBLOCK | libc::GRND_RANDOM | libc::GRND_INSECURE;
    if flags & !known != 0
        || flags & (libc::GRND_RANDOM | libc::GRND_INSECURE) == (libc::GRND_RANDOM | libc::GRND_INSECURE)
    {
        return Err(Errno::EINVAL.into());
    }
    let len = len.min(i32::MAX as u64);
    if len == 0 {
        return Ok(0);
    }
    Ok(t.mm().io_into(buf, len, fill_random)? as u64)
}
