//! uname, sysinfo: the sandbox's identity and figures.

use sentry::abi::{fill_cstr, Sysinfo, Utsname};
use sentry::kernel::uts::{RELEASE, VERSION};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// uname(2).
pub fn uname(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let mut u = Utsname::default();
    fill_cstr(&mut u.sysname, "Linux");
    fill_cstr(&mut u.nodename, &t.kernel.uts.hostname);
    fill_cstr(&mut u.release, RELEASE);
    fill_cstr(&mut u.version, VERSION);
    fill_cstr(&mut u.machine, "x86_64");
    fill_cstr(&mut u.domainname, &t.kernel.uts.domainname);
    t.copy_out(a.a[0], &u)?;
    Ok(0)
}

/// sysinfo(2): uptime and process count are the sandbox's; memory figures
/// are a container's memory limit and what is not resident below it when
/// there is one, else the host's.
pub fn sysinfo(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let host = nix::sys::sysinfo::sysinfo().ok();
    let mut s = Sysinfo {
        uptime: t.kernel.boot.elapsed().as_secs() as i64,
        procs: t.kernel.process_count() as u16,
        mem_unit: 1,
        ..Default::default()
    };
    if let Some(h) = host {
        s.totalram = h.ram_total();
        s.freeram = h.ram_unused();
        s.totalswap = h.swap_total();
        s.freeswap = h.swap_free();
    }
    let limit = t.kernel.mf.memory_limit();
    if limit > 0 {
        s.totalram = limit;
        s.freeram = limit.saturating_sub(t.kernel.mf.resident_total());
        s.totalswap = 0;
        s.freeswap = 0;
    }
    t.copy_out(a.a[0], &s)?;
    Ok(0)
}
