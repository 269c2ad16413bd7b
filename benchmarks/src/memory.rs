//! Memory footprint: total resident memory of the sandbox while it runs
//! `/bin/sleep 10`, summed over `runsc` and all its descendants.

use anyhow::{bail, Context, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::child;
use crate::procfs::{self, Proc};

/// How long the sandbox is given to settle before it is measured.
const SETTLE: Duration = Duration::from_millis(1500);

/// One process of the sandbox and its resident memory.
struct Usage {
    proc: Proc,
    rss_kib: u64,
}

/// Measures and prints the sandbox's resident memory, or why it could not.
pub fn report(runsc: &Path) {
    println!("\n## Memory: `runsc do /bin/sleep 10`, after {:.1} s\n", SETTLE.as_secs_f64());
    if !runsc.is_file() {
        println!("n/a: {} not found", runsc.display());
        return;
    }
    match measure(runsc) {
        Ok(usage) => print_usage(&usage),
        Err(e) => println!("error: {e:#}"),
    }
}

/// Starts the sandbox, waits, reads the process tree, then kills it.
fn measure(runsc: &Path) -> Result<Vec<Usage>> {
    let mut sandbox = Command::new(runsc)
        .args(["do", "/bin/sleep", "10"])
        .env_clear()
        .envs(child::ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .with_context(|| format!("spawning {} do /bin/sleep 10", runsc.display()))?;
    std::thread::sleep(SETTLE);
    let usage = sample(&mut sandbox);
    child::kill_tree(sandbox.id());
    let _ = sandbox.wait();
    usage
}

/// The memory of `sandbox`'s tree, or an error if it has already exited.
fn sample(sandbox: &mut Child) -> Result<Vec<Usage>> {
    if let Some(status) = sandbox.try_wait().context("polling the sandbox")? {
        let mut stderr = String::new();
        if let Some(mut pipe) = sandbox.stderr.take() {
            let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
        }
        bail!("it exited early ({status}): {}", child::tail(&stderr));
    }
    let usage: Vec<Usage> = procfs::tree(sandbox.id())
        .into_iter()
        .filter_map(|proc| Some(Usage { rss_kib: procfs::rss_kib(proc.pid)?, proc }))
        .collect();
    if usage.is_empty() {
        bail!("no process of the sandbox found in /proc");
    }
    Ok(usage)
}

fn print_usage(usage: &[Usage]) {
    let total: u64 = usage.iter().map(|u| u.rss_kib).sum();
    println!("total VmRSS: {:.1} MB over {} process(es)", mib(total), usage.len());
    println!();
    println!("| pid | ppid | comm | VmRSS MB |");
    println!("|---|---|---|---|");
    for u in usage {
        let p = &u.proc;
        println!("| {} | {} | {} | {:.1} |", p.pid, p.ppid, p.comm, mib(u.rss_kib));
    }
}

/// KiB to MB (MiB, as `ps` and `top` count them).
fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
