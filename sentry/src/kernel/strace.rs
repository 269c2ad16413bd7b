//! `--strace`: one line per syscall on stderr with decoded arguments, the
//! result and the time the sentry took, formatted from the table's argument
//! kinds.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::abi::Errno;
use crate::kernel::syscall::{ArgKind, SyscallArgs, SyscallEntry, SyscallError, SyscallResult};
use crate::mm::MemoryManager;

const MAX_BUF: usize = 32;

fn quote(out: &mut String, bytes: &[u8], truncated: bool) {
    out.push('"');
    for &b in bytes {
        match b {
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    if truncated {
        out.push_str("...");
    }
}

fn buf(out: &mut String, mm: &MemoryManager, addr: u64, len: u64) {
    let n = (len as usize).min(MAX_BUF);
    let mut b = vec![0u8; n];
    match mm.copy_in(addr, &mut b) {
        Ok(()) => quote(out, &b, len as usize > MAX_BUF),
        Err(_) => {
            let _ = write!(out, "{addr:#x}");
        }
    }
}

/// Formats the arguments known before the call.
pub fn format_args(entry: &SyscallEntry, args: &SyscallArgs, mm: &MemoryManager) -> String {
    let mut s = String::new();
    for (i, kind) in entry.args.iter().enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        let v = args.a[i];
        match kind {
            ArgKind::Int => {
                let _ = write!(s, "{}", v as i64);
            }
            ArgKind::Hex => {
                let _ = write!(s, "{v:#x}");
            }
            ArgKind::Oct => {
                let _ = write!(s, "{v:#o}");
            }
            ArgKind::Fd => {
                if v as i32 == libc::AT_FDCWD {
                    s.push_str("AT_FDCWD");
                } else {
                    let _ = write!(s, "{}", v as i32);
                }
            }
            ArgKind::Path => match mm.read_cstring(v, 4096) {
                Ok(p) => quote(&mut s, &p, false),
                Err(_) => {
                    let _ = write!(s, "{v:#x}");
                }
            },
            ArgKind::InBuf => buf(&mut s, mm, v, args.a.get(i + 1).copied().unwrap_or(0)),
            ArgKind::OutBuf => {
                // Marker replaced after the call.
                let _ = write!(s, "\u{0}{i}");
            }
            ArgKind::Signal => {
                let _ = write!(s, "{}", v as i32);
            }
        }
    }
    s
}

/// Prints the finished line.
pub fn print(
    tid: i32,
    entry: &SyscallEntry,
    args: &SyscallArgs,
    pre: String,
    result: &SyscallResult,
    mm: &MemoryManager,
    took: std::time::Duration,
) {
    let mut line = String::with_capacity(128);
    let _ = write!(line, "[{tid:>4}] {}(", entry.name);
    let mut rest = pre.as_str();
    while let Some(p) = rest.find('\u{0}') {
        line.push_str(&rest[..p]);
        let idx: usize = rest[p + 1..p + 2].parse().unwrap_or(0);
        match result {
            Ok(n) => buf(&mut line, mm, args.a[idx], *n),
            Err(_) => {
                let _ = write!(line, "{:#x}", args.a[idx]);
            }
        }
        rest = &rest[p + 2..];
    }
    line.push_str(rest);
    line.push_str(") = ");
    match result {
        Ok(v) if (*v as i64) < 0 || *v > 0xffff_ffff => {
            let _ = write!(line, "{v:#x}");
        }
        Ok(v) => {
            let _ = write!(line, "{v}");
        }
        Err(SyscallError::Errno(e)) => {
            let _ = write!(line, "-1 {} ({})", e.name(), errno_text(*e));
        }
        Err(SyscallError::Exit(c)) | Err(SyscallError::ExitGroup(c)) => {
            let _ = write!(line, "? (exit {c})");
        }
        Err(SyscallError::NoReturn) => line.push('?'),
    }
    let _ = write!(line, " ({:.1}µs)", took.as_secs_f64() * 1e6);
    line.push('\n');
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// Prints a signal event: delivery to a handler, or the signal that ends
/// the task.
pub fn print_signal(tid: i32, info: &crate::abi::SigInfo, fatal: bool) {
    let name = signal_name(info.signo);
    let line = if fatal {
        format!("[{tid:>4}] +++ killed by {name} +++\n")
    } else {
        format!("[{tid:>4}] --- {name} {{si_code={}, si_pid={}}} ---\n", info.code, info.pid())
    };
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// The name of a signal (`SIGSEGV`, `SIGRT_3`).
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 32] = [
        "0",
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match NAMES.get(sig as usize) {
        Some(n) => n.to_string(),
        None => format!("SIGRT_{}", sig - 32),
    }
}

fn errno_text(e: Errno) -> String {
    std::io::Error::from_raw_os_error(e.raw()).to_string().split(" (os error").next().unwrap_or("").to_string()
}
