//! The sandbox's /proc: `self` and per-process directories with `exe`,
//! `cwd`, `root`, `fd/`, `cmdline`, `environ`, `maps`, `status`, `comm` and
//! `stat`. Contents come from the sentry's own state, never the host's.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};

use crate::abi::Errno;
use crate::fs::synthetic::{ChildList, SynthDir, SynthFile, SynthLink};
use crate::kernel::{current, Kernel, ThreadGroup};
use crate::vfs::path::path_of;
use crate::vfs::Inode;

fn tg_of(w: &Weak<ThreadGroup>) -> Result<Arc<ThreadGroup>, Errno> {
    w.upgrade().ok_or(Errno::ESRCH)
}

/// Reads `[start, end)` of a process's memory (cmdline, environ).
fn read_mem_range(tg: &ThreadGroup, start: u64, end: u64) -> Result<Vec<u8>, Errno> {
    let mut v = vec![0u8; end.saturating_sub(start) as usize];
    if !v.is_empty() {
        tg.mm.copy_in(start, &mut v)?;
    }
    Ok(v)
}

fn status_text(tg: &ThreadGroup) -> Vec<u8> {
    let st = tg.state();
    let c = &st.creds;
    let mut s = String::new();
    let _ = writeln!(s, "Name:\t{}", String::from_utf8_lossy(&st.comm));
    let _ = writeln!(s, "Umask:\t{:04o}", st.fs.umask);
    let _ = writeln!(s, "State:\tR (running)");
    let _ = writeln!(s, "Tgid:\t{}\nNgid:\t0\nPid:\t{}\nPPid:\t{}\nTracerPid:\t0", tg.pid, tg.pid, tg.ppid);
    let _ = writeln!(s, "Uid:\t{}\t{}\t{}\t{}", c.uid, c.euid, c.suid, c.fsuid);
    let _ = writeln!(s, "Gid:\t{}\t{}\t{}\t{}", c.gid, c.egid, c.sgid, c.fsgid);
    let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
    let _ = writeln!(s, "FDSize:\t64\nGroups:\t{}", groups.join(" "));
    let kb = tg.mm.mapped_bytes() / 1024;
    let _ = writeln!(s, "VmPeak:\t{kb:8} kB\nVmSize:\t{kb:8} kB");
    // Resident pages are not tracked per process yet; report mapped size.
    let _ = writeln!(s, "VmHWM:\t{kb:8} kB\nVmRSS:\t{kb:8} kB");
    let _ = writeln!(s, "Threads:\t1");
    let ignored: u64 =
        st.actions.iter().enumerate().filter(|(_, a)| a.handler == libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let caught: u64 =
        st.actions.iter().enumerate().filter(|(_, a)| a.handler > libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let _ = writeln!(s, "SigQ:\t0/0\nSigPnd:\t{:016x}\nShdPnd:\t{:016x}\nSigBlk:\t{:016x}\nSigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}", 0, 0, 0);
    let _ = writeln!(s, "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\nCapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000");
    let _ = writeln!(s, "NoNewPrivs:\t0\nSeccomp:\t0");
    s.into_bytes()
}

fn stat_text(tg: &ThreadGroup) -> Vec<u8> {
    let st = tg.state();
    let comm = String::from_utf8_lossy(&st.comm).into_owned();
    let vsize = tg.mm.mapped_bytes();
    format!(
        "{} ({}) R {} {} {} 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 0 {} 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
        tg.pid, comm, tg.ppid, tg.pid, tg.pid, vsize
    )
    .into_bytes()
}

/// `/proc/[pid]/mounts` (`info` false) or mountinfo (`info` true), as seen
/// from the process's root.
fn mounts_text(kernel: &Weak<Kernel>, tg: &ThreadGroup, info: bool) -> Result<Vec<u8>, Errno> {
    let k = kernel.upgrade().ok_or(Errno::ESRCH)?;
    let root = tg.state().fs.root.clone();
    let mounts = k.mounts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut s = String::new();
    for m in &mounts {
        let point = match &m.parent {
            None => b"/".to_vec(),
            Some((pm, pd)) => {
                let at = crate::vfs::Location { mount: pm.clone(), dentry: pd.clone() };
                match path_of(&at, &root) {
                    Some(p) => p,
                    None => continue,
                }
            }
        };
        let point = String::from_utf8_lossy(&point).into_owned();
        let source = if m.fstype == "proc" { "proc" } else { "none" };
        if info {
            let parent = m.parent.as_ref().map_or(m.id, |(pm, _)| pm.id);
            let (ma, mi) = crate::abi::dev_split(m.dev);
            let _ = writeln!(
                s,
                "{} {parent} {ma}:{mi} / {point} {} - {} {source} {}",
                m.id,
                m.options(),
                m.fstype,
                m.options()
            );
        } else {
            let _ = writeln!(s, "{source} {point} {} {} 0 0", m.fstype, m.options());
        }
    }
    Ok(s.into_bytes())
}

fn fd_dir(w: Weak<ThreadGroup>) -> Arc<dyn Inode> {
    SynthDir::new(0o500, true, move || {
        let Ok(tg) = tg_of(&w) else { return Vec::new() };
        tg.fds
            .fds()
            .into_iter()
            .filter_map(|fd| {
                let f = tg.fds.get(fd).ok()?;
                let name = f.name.clone();
                Some((fd.to_string().into_bytes(), SynthLink::new(move || Ok(name.clone())) as Arc<dyn Inode>))
            })
            .collect()
    })
}

fn pid_dir(kernel: &Weak<Kernel>, tg: &Arc<ThreadGroup>) -> Arc<dyn Inode> {
    let w = Arc::downgrade(tg);
    let kernel = kernel.clone();
    let mk = move || -> ChildList {
        let w = w.clone();
        let mut c: ChildList = Vec::new();
        let w1 = w.clone();
        c.push((b"exe".to_vec(), SynthLink::new(move || Ok(tg_of(&w1)?.state().exe_path.clone()))));
        let w2 = w.clone();
        c.push((
            b"cwd".to_vec(),
            SynthLink::new(move || {
                let tg = tg_of(&w2)?;
                let st = tg.state();
                path_of(&st.fs.cwd, &st.fs.root).ok_or(Errno::ENOENT)
            }),
        ));
        c.push((b"root".to_vec(), SynthLink::new(|| Ok(b"/".to_vec()))));
        c.push((b"fd".to_vec(), fd_dir(w.clone())));
        let w3 = w.clone();
        c.push((
            b"cmdline".to_vec(),
            SynthFile::new(0o444, move || {
                let tg = tg_of(&w3)?;
                let a = tg.state().args;
                read_mem_range(&tg, a.arg_start, a.arg_end)
            }),
        ));
        let w4 = w.clone();
        c.push((
            b"environ".to_vec(),
            SynthFile::new(0o400, move || {
                let tg = tg_of(&w4)?;
                let a = tg.state().args;
                read_mem_range(&tg, a.env_start, a.env_end)
            }),
        ));
        let w5 = w.clone();
        c.push((b"maps".to_vec(), SynthFile::new(0o444, move || Ok(tg_of(&w5)?.mm.maps_text().into_bytes()))));
        let w6 = w.clone();
        c.push((b"status".to_vec(), SynthFile::new(0o444, move || Ok(status_text(&*tg_of(&w6)?)))));
        let w7 = w.clone();
        c.push((b"stat".to_vec(), SynthFile::new(0o444, move || Ok(stat_text(&*tg_of(&w7)?)))));
        for (name, info) in [(&b"mounts"[..], false), (&b"mountinfo"[..], true)] {
            let (wk, wt) = (kernel.clone(), w.clone());
            c.push((name.to_vec(), SynthFile::new(0o444, move || mounts_text(&wk, &*tg_of(&wt)?, info))));
        }
        let w8 = w.clone();
        c.push((
            b"comm".to_vec(),
            SynthFile::new(0o644, move || {
                let mut v = tg_of(&w8)?.state().comm.clone();
                v.push(b'\n');
                Ok(v)
            }),
        ));
        c
    };
    SynthDir::new(0o555, true, mk)
}

/// Host memory figures (the sandbox has no memory limit of its own yet):
/// (total, free, shared, buffers, swap total, swap free) in bytes.
fn host_memory() -> (u64, u64, u64, u64, u64, u64) {
    // SAFETY: sysinfo is plain data; zeroed is valid.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: sysinfo writes into the struct we pass.
    if unsafe { libc::sysinfo(&mut si) } != 0 {
        return (0, 0, 0, 0, 0, 0);
    }
    let unit = si.mem_unit.max(1) as u64;
    (
        si.totalram * unit,
        si.freeram * unit,
        si.sharedram * unit,
        si.bufferram * unit,
        si.totalswap * unit,
        si.freeswap * unit,
    )
}

fn meminfo_text() -> Vec<u8> {
    let (total, free, shared, buffers, swap_total, swap_free) = host_memory();
    let kb = |b: u64| b / 1024;
    let mut s = String::new();
    let _ = writeln!(s, "MemTotal:       {:>8} kB", kb(total));
    let _ = writeln!(s, "MemFree:        {:>8} kB", kb(free));
    let _ = writeln!(s, "MemAvailable:   {:>8} kB", kb(free + buffers));
    let _ = writeln!(s, "Buffers:        {:>8} kB", kb(buffers));
    let _ = writeln!(s, "Cached:         {:>8} kB", 0);
    let _ = writeln!(s, "SwapCached:     {:>8} kB", 0);
    let _ = writeln!(s, "Shmem:          {:>8} kB", kb(shared));
    let _ = writeln!(s, "SwapTotal:      {:>8} kB", kb(swap_total));
    let _ = writeln!(s, "SwapFree:       {:>8} kB", kb(swap_free));
    s.into_bytes()
}

fn ncpus(k: &Kernel) -> usize {
    k.cpu_mask.iter().map(|b| b.count_ones() as usize).sum::<usize>().max(1)
}

fn stat_global_text(k: &Kernel) -> Vec<u8> {
    let mut s = String::new();
    let _ = writeln!(s, "cpu  0 0 0 0 0 0 0 0 0 0");
    for c in 0..ncpus(k) {
        let _ = writeln!(s, "cpu{c} 0 0 0 0 0 0 0 0 0 0");
    }
    let btime = k.boot_wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let _ = writeln!(s, "intr 0\nctxt 0\nbtime {btime}");
    let _ = writeln!(s, "processes {}\nprocs_running 1\nprocs_blocked 0\nsoftirq 0", k.process_count());
    s.into_bytes()
}

/// Builds /proc for `kernel`.
pub fn new_procfs(kernel: Weak<Kernel>) -> Arc<SynthDir> {
    SynthDir::new(0o555, true, move || {
        let mut c: ChildList = Vec::new();
        c.push((
            b"self".to_vec(),
            SynthLink::new(|| current().map(|tg| tg.pid.to_string().into_bytes()).ok_or(Errno::ENOENT)),
        ));
        c.push((b"mounts".to_vec(), SynthLink::new(|| Ok(b"self/mounts".to_vec()))));
        c.push((b"meminfo".to_vec(), SynthFile::new(0o444, || Ok(meminfo_text()))));
        c.push((
            b"version".to_vec(),
            SynthFile::new(0o444, || {
                Ok(format!(
                    "Linux version {} (runsc@sandbox) {}\n",
                    crate::kernel::uts::RELEASE,
                    crate::kernel::uts::VERSION
                )
                .into_bytes())
            }),
        ));
        let k1 = kernel.clone();
        c.push((
            b"uptime".to_vec(),
            SynthFile::new(0o444, move || {
                let k = k1.upgrade().ok_or(Errno::ESRCH)?;
                let up = k.boot.elapsed().as_secs_f64();
                Ok(format!("{up:.2} {:.2}\n", up * ncpus(&k) as f64).into_bytes())
            }),
        ));
        let k2 = kernel.clone();
        c.push((
            b"loadavg".to_vec(),
            SynthFile::new(0o444, move || {
                let k = k2.upgrade().ok_or(Errno::ESRCH)?;
                let last = k.pids().last().copied().unwrap_or(0);
                Ok(format!("0.00 0.00 0.00 1/{} {last}\n", k.process_count()).into_bytes())
            }),
        ));
        let k4 = kernel.clone();
        c.push((
            b"cpuinfo".to_vec(),
            SynthFile::new(0o444, move || Ok(crate::fs::cpuinfo::text(ncpus(&*k4.upgrade().ok_or(Errno::ESRCH)?)))),
        ));
        let k3 = kernel.clone();
        c.push((
            b"stat".to_vec(),
            SynthFile::new(0o444, move || Ok(stat_global_text(&*k3.upgrade().ok_or(Errno::ESRCH)?))),
        ));
        if let Some(k) = kernel.upgrade() {
            for pid in k.pids() {
                if let Some(tg) = k.thread_group(pid) {
                    c.push((pid.to_string().into_bytes(), pid_dir(&kernel, &tg)));
                }
            }
        }
        c
    })
}
