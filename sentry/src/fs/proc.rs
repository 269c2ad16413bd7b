//! The sandbox's /proc: `self`, `thread-self`, a directory per process of
//! the sandbox's pid namespace (and `task/[tid]` per thread) with `exe`,
//! `cwd`, `root`, `fd/`, `cmdline`, `environ`, `maps`, `status`, `stat`,
//! `statm`, `comm` (writable), `smaps`, `smaps_rollup`, `cgroup`, `ns/`,
//! `oom_score`, `oom_score_adj` (writable), `mounts`, `mountinfo`, and
//! the global files (meminfo,
//! cpuinfo, stat, uptime, loadavg, version, config.gz). Contents come from the
//! sentry's own state, never the host's.

use std::fmt::Write as _;
use std::sync::{Arc, Weak};

use crate::abi::Errno;
use crate::fs::synthetic::{ChildList, SynthDir, SynthFile, SynthLink, SynthRwFile};
use crate::kernel::exit::NS_PER_TICK;
use crate::kernel::task::RunState;
use crate::kernel::{current, Kernel, TaskShared, ThreadGroup};
use crate::vfs::path::path_of;
use crate::vfs::Inode;

/// What /proc needs to know of a process at the time it is read.
struct ProcView {
    tg: Arc<ThreadGroup>,
    ppid: i32,
    pgid: i32,
    sid: i32,
    zombie: bool,
    exit_signal: i32,
}

fn view(k: &Kernel, pid: i32) -> Result<ProcView, Errno> {
    let tree = k.tasks.read();
    let p = tree.procs.get(&pid).ok_or(Errno::ESRCH)?;
    Ok(ProcView {
        tg: p.tg.clone(),
        ppid: p.parent,
        pgid: p.pgid,
        sid: p.sid,
        zombie: p.zombie.is_some(),
        exit_signal: p.exit_signal,
    })
}

fn kernel(w: &Weak<Kernel>) -> Result<Arc<Kernel>, Errno> {
    w.upgrade().ok_or(Errno::ESRCH)
}

/// The task a per-thread file describes: `tid`, or the process's main
/// thread.
fn task_of(k: &Kernel, pid: i32, tid: Option<i32>) -> Result<Arc<TaskShared>, Errno> {
    match tid {
        Some(t) => k.tasks.task(t).filter(|x| x.tg.pid == pid).ok_or(Errno::ESRCH),
        None => k.thread_group(pid).and_then(|tg| tg.main_thread()).ok_or(Errno::ESRCH),
    }
}

/// Reads `[start, end)` of a task's memory (cmdline, environ).
fn read_mem_range(t: &TaskShared, start: u64, end: u64) -> Result<Vec<u8>, Errno> {
    let mut v = vec![0u8; end.saturating_sub(start).min(1 << 20) as usize];
    if !v.is_empty() {
        t.resources().mm.copy_in(start, &mut v)?;
    }
    Ok(v)
}

fn state_char(v: &ProcView, t: Option<&TaskShared>) -> (char, &'static str) {
    if v.zombie {
        return ('Z', "zombie");
    }
    let threads = match t {
        Some(t) => vec![t.run_state()],
        None => v.tg.threads().iter().map(|t| t.run_state()).collect(),
    };
    if threads.contains(&RunState::Stopped) {
        ('T', "stopped")
    } else if threads.contains(&RunState::Running) {
        ('R', "running")
    } else if threads.is_empty() {
        ('Z', "zombie")
    } else {
        ('S', "sleeping")
    }
}

/// CPU ticks of a task (or the whole process): (user, system).
fn ticks(tg: &ThreadGroup, t: Option<&TaskShared>) -> (u64, u64) {
    let u = match t {
        Some(t) => t.cpu.sample(),
        None => tg.cpu_usage(),
    };
    let (u, s) = (u.user, u.sys);
    (u / NS_PER_TICK, s / NS_PER_TICK)
}

fn comm_of(v: &ProcView, t: Option<&TaskShared>) -> Vec<u8> {
    match t {
        Some(t) => t.resources().comm,
        None => v.tg.main_thread().map(|m| m.resources().comm).unwrap_or_default(),
    }
}

fn status_text(k: &Kernel, pid: i32, tid: Option<i32>) -> Result<Vec<u8>, Errno> {
    let v = view(k, pid)?;
    let t = task_of(k, pid, tid).ok();
    let mut s = String::new();
    let comm = comm_of(&v, t.as_deref());
    let _ = writeln!(s, "Name:\t{}", String::from_utf8_lossy(&comm));
    let (sc, sn) = state_char(&v, t.as_deref());
    if let Some(t) = &t {
        let _ = writeln!(s, "Umask:\t{:04o}", t.resources().fs.umask());
    }
    let _ = writeln!(s, "State:\t{sc} ({sn})");
    let shown_tid = t.as_ref().map_or(pid, |t| t.tid());
    let _ = writeln!(s, "Tgid:\t{pid}\nNgid:\t0\nPid:\t{shown_tid}\nPPid:\t{}\nTracerPid:\t0", v.ppid);
    if let Some(t) = &t {
        let r = t.resources();
        let c = &r.creds;
        let _ = writeln!(s, "Uid:\t{}\t{}\t{}\t{}", c.uid, c.euid, c.suid, c.fsuid);
        let _ = writeln!(s, "Gid:\t{}\t{}\t{}\t{}", c.gid, c.egid, c.sgid, c.fsgid);
        let groups: Vec<String> = c.groups.iter().map(|g| g.to_string()).collect();
        let _ = writeln!(
            s,
            "FDSize:\t{}\nGroups:\t{}",
            r.fds.fds().last().map_or(64, |&f| (f + 64) & !63),
            groups.join(" ")
        );
        let _ = writeln!(s, "NStgid:\t{pid}\nNSpid:\t{shown_tid}\nNSpgid:\t{}\nNSsid:\t{}", v.pgid, v.sid);
        let kb = r.mm.mapped_bytes() / 1024;
        let res = r.mm.resident();
        let rss = res.total() / 1024;
        let hwm = v.tg.state().usage.maxrss.max(rss);
        let _ = writeln!(s, "VmPeak:\t{kb:8} kB\nVmSize:\t{kb:8} kB");
        let _ = writeln!(s, "VmHWM:\t{hwm:8} kB\nVmRSS:\t{rss:8} kB");
        let _ = writeln!(
            s,
            "RssAnon:\t{:8} kB\nRssFile:\t{:8} kB\nRssShmem:\t{:8} kB",
            res.anon / 1024,
            res.file / 1024,
            res.shmem / 1024
        );
        let _ = writeln!(
            s,
            "VmData:\t{:8} kB\nVmStk:\t{:8} kB\nVmSwap:\t{:8} kB",
            r.mm.data_bytes() / 1024,
            res.stack / 1024,
            0
        );
    }
    let _ = writeln!(s, "Threads:\t{}", v.tg.threads().len());
    let acts = *v.tg.handlers().lock();
    let ignored: u64 =
        acts.iter().enumerate().filter(|(_, a)| a.handler == libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let caught: u64 =
        acts.iter().enumerate().filter(|(_, a)| a.handler > libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let shared_pending = v.tg.signals().pending.pending();
    let (pnd, blk) = t.as_ref().map_or((0, 0), |t| {
        let ts = t.signals();
        (ts.pending.pending(), ts.mask)
    });
    let _ = writeln!(
        s,
        "SigQ:\t0/{}\nSigPnd:\t{pnd:016x}\nShdPnd:\t{shared_pending:016x}\nSigBlk:\t{blk:016x}\nSigIgn:\t{ignored:016x}\nSigCgt:\t{caught:016x}",
        crate::kernel::limits::defaults()[libc::RLIMIT_SIGPENDING as usize].cur
    );
    if let Some(t) = &t {
        let c = t.resources().creds.caps;
        let _ = writeln!(
            s,
            "CapInh:\t{:016x}\nCapPrm:\t{:016x}\nCapEff:\t{:016x}\nCapBnd:\t{:016x}\nCapAmb:\t{:016x}",
            c.inheritable, c.permitted, c.effective, c.bounding, c.ambient
        );
    }
    let nnp = v.tg.state().no_new_privs as u8;
    let _ = writeln!(s, "NoNewPrivs:\t{nnp}\nSeccomp:\t0");
    if let Some(t) = &t {
        let all = &k.cpu_mask;
        let mine = t.sched().affinity.clone();
        let mask: Vec<u8> = all
            .iter()
            .enumerate()
            .map(|(i, b)| if mine.is_empty() { *b } else { b & mine.get(i).copied().unwrap_or(0) })
            .collect();
        let cpus: Vec<usize> = (0..mask.len() * 8).filter(|&c| mask[c / 8] & (1 << (c % 8)) != 0).collect();
        let hex: String = mask.iter().rev().skip_while(|&&b| b == 0).map(|b| format!("{b:02x}")).collect();
        let hex = hex.trim_start_matches('0');
        let _ = writeln!(
            s,
            "Cpus_allowed:\t{}\nCpus_allowed_list:\t{}",
            if hex.is_empty() { "0" } else { hex },
            cpu_list(&cpus)
        );
    }
    Ok(s.into_bytes())
}

/// `/proc/[pid]/limits`: the process's resource limits, laid out as Linux
/// lays them out.
fn limits_text(k: &Kernel, pid: i32) -> Result<Vec<u8>, Errno> {
    const ROWS: [(&str, u32, &str); 16] = [
        ("Max cpu time", libc::RLIMIT_CPU, "seconds"),
        ("Max file size", libc::RLIMIT_FSIZE, "bytes"),
        ("Max data size", libc::RLIMIT_DATA, "bytes"),
        ("Max stack size", libc::RLIMIT_STACK, "bytes"),
        ("Max core file size", libc::RLIMIT_CORE, "bytes"),
        ("Max resident set", libc::RLIMIT_RSS, "bytes"),
        ("Max processes", libc::RLIMIT_NPROC, "processes"),
        ("Max open files", libc::RLIMIT_NOFILE, "files"),
        ("Max locked memory", libc::RLIMIT_MEMLOCK, "bytes"),
        ("Max address space", libc::RLIMIT_AS, "bytes"),
        ("Max file locks", libc::RLIMIT_LOCKS, "locks"),
        ("Max pending signals", libc::RLIMIT_SIGPENDING, "signals"),
        ("Max msgqueue size", libc::RLIMIT_MSGQUEUE, "bytes"),
        ("Max nice priority", libc::RLIMIT_NICE, ""),
        ("Max realtime priority", libc::RLIMIT_RTPRIO, ""),
        ("Max realtime timeout", libc::RLIMIT_RTTIME, "us"),
    ];
    let v = view(k, pid)?;
    let limits = v.tg.state().rlimits;
    let show = |x: u64| if x == crate::kernel::limits::INF { "unlimited".to_owned() } else { x.to_string() };
    let mut s = format!("{:<25} {:<20} {:<20} {:<10}\n", "Limit", "Soft Limit", "Hard Limit", "Units");
    for (name, r, unit) in ROWS {
        let Some(l) = limits.get(r as usize) else { continue };
        let _ = write!(s, "{name:<25} {:<20} {:<20} ", show(l.cur), show(l.max));
        if unit.is_empty() {
            s.push('\n');
        } else {
            let _ = writeln!(s, "{unit:<10}");
        }
    }
    Ok(s.into_bytes())
}

/// A CPU list as Linux prints it: ranges joined by commas ("0-1,4").
fn cpu_list(cpus: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        out.push(if i == j { cpus[i].to_string() } else { format!("{}-{}", cpus[i], cpus[j]) });
        i = j + 1;
    }
    out.join(",")
}

fn stat_text(k: &Kernel, pid: i32, tid: Option<i32>) -> Result<Vec<u8>, Errno> {
    let v = view(k, pid)?;
    let t = task_of(k, pid, tid).ok();
    let comm = String::from_utf8_lossy(&comm_of(&v, t.as_deref())).into_owned();
    let (sc, _) = state_char(&v, t.as_deref());
    let (ut, st) = ticks(&v.tg, t.as_deref());
    let (cut, cst) = {
        let s = v.tg.state();
        (s.usage.children.user / NS_PER_TICK, s.usage.children.sys / NS_PER_TICK)
    };
    let start = t.as_ref().map_or(v.tg.start, |t| t.start);
    let start_ticks = start.saturating_duration_since(k.boot).as_nanos() as u64 / NS_PER_TICK;
    let (vsize, rss, args) = match &t {
        Some(t) => {
            let mm = t.resources().mm;
            (mm.mapped_bytes(), mm.resident().total() / 4096, mm.args())
        }
        None => (0, 0, Default::default()),
    };
    let (blocked, pending) = t.as_ref().map_or((0, 0), |t| {
        let ts = t.signals();
        (ts.mask, ts.pending.pending())
    });
    let acts = *v.tg.handlers().lock();
    let ign: u64 =
        acts.iter().enumerate().filter(|(_, a)| a.handler == libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let cgt: u64 =
        acts.iter().enumerate().filter(|(_, a)| a.handler > libc::SIG_IGN as u64).map(|(i, _)| 1u64 << i).sum();
    let nthreads = v.tg.threads().len().max(1);
    let shown = t.as_ref().map_or(pid, |t| t.tid());
    let exit_signal = if tid.is_some() && shown != pid { 0 } else { v.exit_signal };
    let (tty_nr, tpgid) = k.ttys.session_tty(v.sid).unwrap_or((0, -1));
    Ok(format!(
        "{shown} ({comm}) {sc} {} {} {} {tty_nr} {tpgid} 4194304 0 0 0 0 {ut} {st} {cut} {cst} 20 0 {nthreads} 0 {start_ticks} {vsize} {rss} 18446744073709551615 0 0 0 0 0 {pending} {blocked} {ign} {cgt} 0 0 0 {exit_signal} 0 0 0 0 0 0 0 0 0 {} {} {} {} 0\n",
        v.ppid, v.pgid, v.sid, args.arg_start, args.arg_end, args.env_start, args.env_end
    )
    .into_bytes())
}

fn statm_text(k: &Kernel, pid: i32) -> Result<Vec<u8>, Errno> {
    let t = task_of(k, pid, None)?;
    let mm = t.resources().mm;
    let size = mm.mapped_bytes() / 4096;
    let res = mm.resident();
    // size resident shared(file + shmem) text lib(0) data dirty(0).
    let shared = (res.file + res.shmem) / 4096;
    let data = (mm.data_bytes() + res.stack) / 4096;
    Ok(format!("{size} {} {shared} 0 0 {data} 0\n", res.total() / 4096).into_bytes())
}

/// `/proc/[pid]/mounts` (`info` false) or mountinfo (`info` true), as seen
/// from the process's root.
fn mounts_text(k: &Kernel, pid: i32, info: bool) -> Result<Vec<u8>, Errno> {
    let t = task_of(k, pid, None)?;
    let root = t.resources().fs.root();
    let mounts = k.mounts.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut s = String::new();
    for m in &mounts {
        let parent = m.parent();
        let point = match &parent {
            // The tree's top (a pivot_root may have made another mount it).
            None if Arc::ptr_eq(m, &root.mount) => b"/".to_vec(),
            None => continue,
            Some((pm, pd)) => {
                let at = crate::vfs::Location { mount: pm.clone(), dentry: pd.clone() };
                match path_of(&at, &root) {
                    Some(p) => p,
                    None => continue,
                }
            }
        };
        let point = String::from_utf8_lossy(&point).into_owned();
        let source = match m.fstype {
            "proc" | "overlay" | "tmpfs" | "sysfs" | "cgroup" | "cgroup2" | "mqueue" => m.fstype,
            _ => "none",
        };
        if info {
            let parent = parent.as_ref().map_or(m.id, |(pm, _)| pm.id);
            let (ma, mi) = crate::abi::dev_split(m.dev);
            let _ = writeln!(
                s,
                "{} {parent} {ma}:{mi} / {point} {} - {} {source} {}",
                m.id,
                m.options(),
                m.fstype,
                m.super_options()
            );
        } else {
            let _ = writeln!(s, "{source} {point} {} {} 0 0", m.fstype, m.super_options());
        }
    }
    Ok(s.into_bytes())
}

fn fd_dir(k: Weak<Kernel>, pid: i32, tid: Option<i32>) -> Arc<dyn Inode> {
    SynthDir::new(0o500, true, move || {
        let Ok(t) = kernel(&k).and_then(|k| task_of(&k, pid, tid)) else { return Vec::new() };
        let fds = t.resources().fds;
        fds.fds()
            .into_iter()
            .filter_map(|fd| {
                let f = fds.get(fd).ok()?;
                Some((fd.to_string().into_bytes(), crate::fs::anon::FdLink::new(f) as Arc<dyn Inode>))
            })
            .collect()
    })
}

/// `/proc/[pid]/fdinfo/`: each fd's offset, status flags (with O_CLOEXEC
/// for a close-on-exec fd), mount id and inode number, then what its kind
/// of file adds (`FileOps::fdinfo`).
fn fdinfo_dir(k: Weak<Kernel>, pid: i32, tid: Option<i32>) -> Arc<dyn Inode> {
    SynthDir::new(0o500, true, move || {
        let Ok(t) = kernel(&k).and_then(|k| task_of(&k, pid, tid)) else { return Vec::new() };
        let fds = t.resources().fds;
        fds.fds()
            .into_iter()
            .filter_map(|fd| {
                let f = fds.get(fd).ok()?;
                let cloexec = fds.cloexec(fd).unwrap_or(false);
                let mut flags = f.flags();
                if cloexec {
                    flags |= libc::O_CLOEXEC as u32;
                }
                let mnt = f.location.as_ref().map_or(0, |l| l.mount.id);
                let ino = f.stat().map_or(0, |s| s.ino);
                let text = format!(
                    "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{mnt}\nino:\t{ino}\n{}",
                    f.position(),
                    flags,
                    f.ops.fdinfo()
                );
                let inode: Arc<dyn Inode> = SynthFile::new(0o400, move || Ok(text.clone().into_bytes()));
                Some((fd.to_string().into_bytes(), inode))
            })
            .collect()
    })
}

/// CAP_SYS_RESOURCE.
const CAP_SYS_RESOURCE: u32 = 24;

/// The sandbox's namespaces, one of each kind for every process, with the
/// inode numbers of Linux's initial namespaces (`/proc/[pid]/ns/`).
fn ns_dir() -> Arc<dyn Inode> {
    const NS: [(&str, u64); 10] = [
        ("cgroup", 4026531835),
        ("ipc", 4026531839),
        ("mnt", 4026531841),
        ("net", 4026531840),
        ("pid", 4026531836),
        ("pid_for_children", 4026531836),
        ("time", 4026531834),
        ("time_for_children", 4026531834),
        ("user", 4026531837),
        ("uts", 4026531838),
    ];
    SynthDir::new(0o511, false, || {
        NS.iter()
            .map(|&(name, ino)| {
                let kind = name.split("_for_").next().unwrap_or(name);
                let target = format!("{kind}:[{ino}]").into_bytes();
                (name.as_bytes().to_vec(), SynthLink::new(move || Ok(target.clone())) as Arc<dyn Inode>)
            })
            .collect()
    })
}

/// `/proc/[pid]/io` (the process: its threads, live and exited) or
/// `task/[tid]/io` (the thread). The sandbox has no block layer: the
/// storage counters are 0, as for a tmpfs.
fn io_text(k: &Kernel, pid: i32, tid: Option<i32>) -> Result<Vec<u8>, Errno> {
    let v = view(k, pid)?;
    let [rc, wc, sr, sw] = match tid {
        Some(_) => task_of(k, pid, tid)?.io.sample(),
        None => {
            let mut sum = v.tg.state().io_dead;
            for t in v.tg.threads() {
                for (s, x) in sum.iter_mut().zip(t.io.sample()) {
                    *s += x;
                }
            }
            sum
        }
    };
    Ok(format!(
        "rchar: {rc}\nwchar: {wc}\nsyscr: {sr}\nsyscw: {sw}\nread_bytes: 0\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"
    )
    .into_bytes())
}

/// `/proc/[pid]/oom_score`: Linux's badness, the share of RAM the process
/// has resident in thousandths, plus its oom_score_adj, within 0..=2000.
fn oom_score_text(k: &Kernel, pid: i32) -> Result<Vec<u8>, Errno> {
    let v = view(k, pid)?;
    let adj = v.tg.state().oom_score_adj as i64;
    let rss = task_of(k, pid, None).map_or(0, |t| t.resources().mm.resident().total());
    let total = host_memory().0.max(1);
    let score = (rss as u128 * 1000 / total as u128) as i64 + adj;
    Ok(format!("{}\n", score.clamp(0, 2000)).into_bytes())
}

type Gen = fn(&Kernel, i32, Option<i32>) -> Result<Vec<u8>, Errno>;

fn file(k: &Weak<Kernel>, pid: i32, tid: Option<i32>, mode: u32, f: Gen) -> Arc<dyn Inode> {
    let k = k.clone();
    SynthFile::new(mode, move || f(&*kernel(&k)?, pid, tid))
}

/// The entries of `/proc/[pid]` and of `/proc/[pid]/task/[tid]`.
fn pid_entries(k: &Weak<Kernel>, pid: i32, tid: Option<i32>) -> ChildList {
    let mut c: ChildList = Vec::new();
    let kk = k.clone();
    c.push((
        b"exe".to_vec(),
        SynthLink::new(move || {
            let k = kernel(&kk)?;
            let v = view(&k, pid)?;
            if v.zombie {
                return Err(Errno::ENOENT);
            }
            let p = v.tg.state().exe_path.clone();
            Ok(p)
        }),
    ));
    use crate::fs::proc_links::{TaskLocLink, Which};
    c.push((b"cwd".to_vec(), TaskLocLink::new(k.clone(), pid, tid, Which::Cwd)));
    c.push((b"root".to_vec(), TaskLocLink::new(k.clone(), pid, tid, Which::Root)));
    c.push((b"fd".to_vec(), fd_dir(k.clone(), pid, tid)));
    c.push((b"fdinfo".to_vec(), fdinfo_dir(k.clone(), pid, tid)));
    c.push((
        b"cmdline".to_vec(),
        file(k, pid, tid, 0o444, |k, pid, tid| {
            let Ok(t) = task_of(k, pid, tid) else { return Ok(Vec::new()) };
            let a = t.resources().mm.args();
            read_mem_range(&t, a.arg_start, a.arg_end)
        }),
    ));
    c.push((
        b"environ".to_vec(),
        file(k, pid, tid, 0o400, |k, pid, tid| {
            let Ok(t) = task_of(k, pid, tid) else { return Ok(Vec::new()) };
            let a = t.resources().mm.args();
            read_mem_range(&t, a.env_start, a.env_end)
        }),
    ));
    c.push((
        b"maps".to_vec(),
        file(k, pid, tid, 0o444, |k, pid, tid| Ok(task_of(k, pid, tid)?.resources().mm.maps_text().into_bytes())),
    ));
    c.push((b"status".to_vec(), file(k, pid, tid, 0o444, status_text)));
    c.push((b"stat".to_vec(), file(k, pid, tid, 0o444, stat_text)));
    c.push((b"statm".to_vec(), file(k, pid, tid, 0o444, |k, pid, _| statm_text(k, pid))));
    c.push((b"limits".to_vec(), file(k, pid, tid, 0o444, |k, pid, _| limits_text(k, pid))));
    c.push((b"mounts".to_vec(), file(k, pid, tid, 0o444, |k, pid, _| mounts_text(k, pid, false))));
    c.push((b"mountinfo".to_vec(), file(k, pid, tid, 0o444, |k, pid, _| mounts_text(k, pid, true))));
    let (kr, kw) = (k.clone(), k.clone());
    c.push((
        b"comm".to_vec(),
        SynthRwFile::new(
            0o644,
            move || {
                let k = kernel(&kr)?;
                let v = view(&k, pid)?;
                let t = task_of(&k, pid, tid).ok();
                let mut n = comm_of(&v, t.as_deref());
                n.push(b'\n');
                Ok(n)
            },
            // Only a thread of the same process may rename a thread
            // (comm_write); the bytes are kept as written, up to 15.
            move |data| {
                let t = task_of(&*kernel(&kw)?, pid, tid)?;
                if current().is_none_or(|c| !Arc::ptr_eq(&c.tg, &t.tg)) {
                    return Err(Errno::EINVAL);
                }
                let n: Vec<u8> = data.iter().take(15).copied().collect();
                t.update_resources(|r| r.comm = n);
                Ok(())
            },
        ),
    ));
    c.push((
        b"smaps".to_vec(),
        file(k, pid, tid, 0o444, |k, pid, tid| Ok(task_of(k, pid, tid)?.resources().mm.smaps_text().into_bytes())),
    ));
    c.push((
        b"smaps_rollup".to_vec(),
        file(k, pid, tid, 0o444, |k, pid, tid| {
            Ok(task_of(k, pid, tid)?.resources().mm.smaps_rollup_text().into_bytes())
        }),
    ));
    // Every process is in the sandbox's root cgroup (cgroup v2).
    let kc = k.clone();
    c.push((
        b"cgroup".to_vec(),
        SynthFile::new(0o444, move || Ok(crate::fs::cgroupfs::proc_cgroup(kernel(&kc)?.cgroup_v1()).into_bytes())),
    ));
    c.push((b"ns".to_vec(), ns_dir()));
    // The user namespace's maps: set once, at boot, as writing them again
    // is refused (EPERM), as is changing setgroups then.
    for (name, gid) in [(&b"uid_map"[..], false), (b"gid_map", true)] {
        let kr = k.clone();
        c.push((
            name.to_vec(),
            SynthRwFile::new(0o644, move || Ok(kernel(&kr)?.id_map(gid).to_vec()), |_| Err(Errno::EPERM)),
        ));
    }
    let kr = k.clone();
    c.push((
        b"setgroups".to_vec(),
        SynthRwFile::new(0o644, move || Ok(kernel(&kr)?.setgroups_text().to_vec()), |_| Err(Errno::EPERM)),
    ));
    let (kr, kw) = (k.clone(), k.clone());
    c.push((
        b"oom_score_adj".to_vec(),
        SynthRwFile::new(
            0o644,
            move || Ok(format!("{}\n", view(&*kernel(&kr)?, pid)?.tg.state().oom_score_adj).into_bytes()),
            move |data| {
                let text = std::str::from_utf8(data).map_err(|_| Errno::EINVAL)?;
                let v: i32 = text.trim().parse().map_err(|_| Errno::EINVAL)?;
                if !(-1000..=1000).contains(&v) {
                    return Err(Errno::EINVAL);
                }
                let k = kernel(&kw)?;
                let tg = view(&k, pid)?.tg;
                let mut st = tg.state();
                // Lowering it takes CAP_SYS_RESOURCE (below the lowest
                // value set since; here: below the current one).
                let privileged = current().is_some_and(|c| c.resources().creds.capable(CAP_SYS_RESOURCE));
                if v < st.oom_score_adj && !privileged {
                    return Err(Errno::EACCES);
                }
                st.oom_score_adj = v;
                Ok(())
            },
        ),
    ));
    c.push((b"oom_score".to_vec(), file(k, pid, tid, 0o444, |k, pid, _| oom_score_text(k, pid))));
    c.push((b"io".to_vec(), file(k, pid, tid, 0o400, io_text)));
    if tid.is_none() {
        let kk = k.clone();
        c.push((
            b"task".to_vec(),
            SynthDir::new(0o555, true, move || {
                let Ok(k) = kernel(&kk) else { return Vec::new() };
                let Some(tg) = k.thread_group(pid) else { return Vec::new() };
                let mut tids: Vec<i32> = tg.threads().iter().map(|t| t.tid()).collect();
                tids.sort_unstable();
                tids.into_iter()
                    .map(|t| {
                        let kk = kk.clone();
                        let d: Arc<dyn Inode> = SynthDir::new(0o555, true, move || pid_entries(&kk, pid, Some(t)));
                        (t.to_string().into_bytes(), d)
                    })
                    .collect()
            }),
        ));
    }
    c
}

/// Host memory figures: (total, free, shared, buffers, swap total, swap
/// free) in bytes.
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

/// /proc/meminfo: a container's memory limit and what is not resident
/// below it (`limit`, `resident`) when there is one, else the host's.
fn meminfo_text(limited: Option<(u64, u64)>) -> Vec<u8> {
    let (total, free, shared, buffers, swap_total, swap_free) = match limited {
        Some((limit, used)) if limit > 0 => (limit, limit.saturating_sub(used), 0, 0, 0, 0),
        _ => host_memory(),
    };
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
    // User and system time of every task, idle the rest of the CPUs'
    // time since boot. The sandbox does not track which CPU ran what: the
    // per-CPU lines share the totals evenly.
    let n = ncpus(k).max(1) as u64;
    let used = k.cpu_usage();
    let (user, sys) = (used.user / NS_PER_TICK, used.sys / NS_PER_TICK);
    let up = k.boot.elapsed().as_nanos() as u64 / NS_PER_TICK;
    let idle = (up * n).saturating_sub(user + sys);
    let _ = writeln!(s, "cpu  {user} 0 {sys} {idle} 0 0 0 0 0 0");
    for c in 0..n {
        let _ = writeln!(s, "cpu{c} {} 0 {} {} 0 0 0 0 0 0", user / n, sys / n, idle / n);
    }
    let btime = k.boot_wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let running = k.tasks.read().tasks.values().filter(|t| t.run_state() == RunState::Running).count();
    let _ = writeln!(s, "intr 0\nctxt 0\nbtime {btime}");
    let _ =
        writeln!(s, "processes {}\nprocs_running {}\nprocs_blocked 0\nsoftirq 0", k.process_count(), running.max(1));
    s.into_bytes()
}

/// Builds /proc for `kernel`.
pub fn new_procfs(kernel: Weak<Kernel>) -> Arc<SynthDir> {
    let sys = crate::fs::proc_sys::new_sys(kernel.clone());
    let filesystems = crate::fs::proc_sys::filesystems();
    SynthDir::new(0o555, true, move || {
        let mut c: ChildList = Vec::new();
        c.push((
            b"self".to_vec(),
            SynthLink::new(|| current().map(|t| t.tg.pid.to_string().into_bytes()).ok_or(Errno::ENOENT)),
        ));
        c.push((
            b"thread-self".to_vec(),
            SynthLink::new(|| {
                current().map(|t| format!("{}/task/{}", t.tg.pid, t.tid()).into_bytes()).ok_or(Errno::ENOENT)
            }),
        ));
        c.push((b"mounts".to_vec(), SynthLink::new(|| Ok(b"self/mounts".to_vec()))));
        c.push((b"sys".to_vec(), sys.clone()));
        c.push((b"filesystems".to_vec(), filesystems.clone()));
        let kc = kernel.clone();
        c.push((
            b"cgroups".to_vec(),
            SynthFile::new(0o444, move || {
                let v1 = crate::fs::proc::kernel(&kc).is_ok_and(|k| k.cgroup_v1());
                Ok(crate::fs::cgroupfs::proc_cgroups(v1).into_bytes())
            }),
        ));
        let km = kernel.clone();
        c.push((
            b"meminfo".to_vec(),
            SynthFile::new(0o444, move || {
                Ok(meminfo_text(
                    crate::fs::proc::kernel(&km).ok().map(|k| (k.mf.memory_limit(), k.mf.resident_total())),
                ))
            }),
        ));
        let kc = kernel.clone();
        c.push((
            b"config.gz".to_vec(),
            SynthFile::new(0o444, move || Ok(crate::fs::proc_config::gzipped(&*crate::fs::proc::kernel(&kc)?))),
        ));
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
                Ok(format!("0.00 0.00 0.00 1/{} {last}\n", k.tasks.task_count()).into_bytes())
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
                let kk = kernel.clone();
                let d: Arc<dyn Inode> = SynthDir::new(0o555, true, move || pid_entries(&kk, pid, None));
                c.push((pid.to_string().into_bytes(), d));
            }
        }
        c
    })
}
