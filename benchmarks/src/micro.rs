//! The syscall microbenchmarks: building `micro/micro.c` and running it
//! under each runtime.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cli::Options;
use crate::runtime::Column;
use crate::sampling::{measure_columns, Cell};

/// The benchmarks `micro` knows, in report order, with a description.
pub const BENCHMARKS: &[(&str, &str)] = &[
    ("getpid", "syscall(SYS_getpid)"),
    ("open_close", "open+close /etc/passwd"),
    ("pread_4k", "4 KiB pread at offset 0"),
    ("clock_gettime", "clock_gettime(MONOTONIC)"),
    ("mmap_64m", "mmap+touch+munmap 64 MiB"),
    ("fork_exec_wait", "fork+exec static program+wait"),
    ("bash_loop100", "bash: 100 x /bin/true"),
    ("fork_100m", "fork with 100 MiB touched, child exits"),
    ("fork_100m_write", "the same, child writes a page"),
    ("pipe_pingpong", "1 byte to a process and back"),
    ("futex_pingpong", "futex wake to a thread and back"),
    ("signal_self", "kill(self) + handler + sigreturn"),
    ("thread_create_join", "pthread_create + join"),
    ("stat", "stat /etc/passwd (cached)"),
    ("stat_missing", "stat of a missing path (cached)"),
    ("stat_cold", "stat of a missing path, first time (gofer walk)"),
    ("open_read_close", "open+read 4 KiB+close /etc/services"),
    ("create_write_unlink_tmp", "create+write 4 KiB+close+unlink in /tmp"),
    ("create_write_unlink_shm", "the same in /dev/shm (tmpfs)"),
    ("readdir_10k_tmp", "open+getdents64+close, 10,000 entries, /tmp"),
    ("readdir_10k_shm", "the same in /dev/shm"),
    ("write_1m_tmp", "pwrite 1 MiB (ns per MiB), /tmp"),
    ("write_1m_shm", "the same in /dev/shm"),
    ("read_1m_tmp", "pread 1 MiB (ns per MiB), /tmp"),
    ("read_1m_shm", "the same in /dev/shm"),
];

/// One line of the table: a benchmark and one cell per column.
pub struct Row {
    /// Benchmark name as passed to `micro`.
    pub name: &'static str,
    /// Median ns/op per column, in column order.
    pub cells: Vec<Cell>,
}

/// Compiles `source` into `out_dir/micro` with gcc, statically if possible
/// (keeping the dynamic loader's syscalls out of the sandbox).
pub fn build(source: &Path, out_dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(out_dir).with_context(|| format!("creating {}", out_dir.display()))?;
    let exe = out_dir.join("micro");
    if gcc(source, &exe, true).is_err() {
        eprintln!("note: static link failed, linking dynamically");
        gcc(source, &exe, false)?;
    }
    Ok(exe)
}

fn gcc(source: &Path, exe: &Path, static_link: bool) -> Result<()> {
    let mut cmd = Command::new("gcc");
    cmd.args(["-O2", "-Wall", "-Wextra", "-pthread"]);
    if static_link {
        cmd.arg("-static");
    }
    cmd.arg("-o").arg(exe).arg(source);
    let out = cmd.output().context("running gcc (is it installed?)")?;
    if !out.status.success() {
        bail!("gcc failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Runs every selected benchmark under every available column, interleaving
/// the columns within each repetition, and keeps the medians.
pub fn run_all(opts: &Options, columns: &[Column], micro: &Path) -> Vec<Row> {
    BENCHMARKS
        .iter()
        .filter(|(name, _)| opts.selected(name))
        .map(|&(name, _)| Row { name, cells: run_one(opts, columns, micro, name) })
        .collect()
}

fn run_one(opts: &Options, columns: &[Column], micro: &Path, name: &str) -> Vec<Cell> {
    let argv = micro_argv(micro, name, opts.seconds);
    measure_columns(name, columns, opts.reps, |runtime| {
        let done = runtime.run(&argv, opts.timeout)?;
        parse_ns_per_op(&done.stdout)
    })
}

/// `micro NAME 0 SECONDS`: default iteration count, bounded by time.
fn micro_argv(micro: &Path, name: &str, seconds: f64) -> Vec<String> {
    vec![micro.display().to_string(), name.to_owned(), "0".to_owned(), seconds.to_string()]
}

/// The value of the `ns_per_op=` line of `micro`'s output.
fn parse_ns_per_op(stdout: &str) -> Result<f64> {
    let value = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("ns_per_op="))
        .with_context(|| format!("no ns_per_op= in output {:?}", stdout.trim()))?;
    value.parse().with_context(|| format!("bad ns_per_op value {value:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_micro_output() {
        assert_eq!(parse_ns_per_op("ns_per_op=12.5\niters=3\n").unwrap(), 12.5);
        assert!(parse_ns_per_op("garbage").is_err());
    }
}
