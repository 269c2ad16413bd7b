//! Running a child process with a timeout, and killing its process tree.
//!
//! Each child is put in a process group of its own. A helper thread waits
//! for it (so the measured wall time is not rounded to a polling interval)
//! while this thread waits on a channel with a deadline. When the deadline
//! passes, the child's process group and every descendant found in `/proc`
//! get SIGKILL.

use anyhow::{anyhow, bail, Context, Result};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::procfs;

/// How a child that ran to completion ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Everything it wrote on stdout.
    pub stdout: String,
    /// Everything it wrote on stderr.
    pub stderr: String,
    /// Time from just before spawning to just after reaping.
    pub wall: Duration,
}

impl Finished {
    /// Turns a failed exit into an error that quotes the end of stderr.
    pub fn check(self) -> Result<Self> {
        if self.status.success() {
            return Ok(self);
        }
        bail!("{}: {}", self.status, tail(&self.stderr))
    }
}

/// The last non-empty line of `text`, shortened, or a placeholder.
pub fn tail(text: &str) -> String {
    let line = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("");
    if line.is_empty() {
        return "(no stderr)".to_owned();
    }
    shorten(line.trim(), 200)
}

/// `text` cut to at most `max` characters, with an ellipsis if cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let cut: String = text.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// The environment every measured program gets, whatever the harness was
/// started with: what `runc spec` gives a container. (Cargo's own
/// variables, LD_LIBRARY_PATH above all, would send every dynamically
/// linked program on dozens of failing lookups first.)
pub const ENV: [(&str, &str); 2] =
    [("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), ("TERM", "xterm")];

/// Runs `cmd` to completion with stdin closed, stdout/stderr captured and
/// the environment [`ENV`], killing it and its descendants if it runs longer
/// than `timeout`.
pub fn run(mut cmd: Command, timeout: Duration) -> Result<Finished> {
    cmd.env_clear().envs(ENV);
    cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).process_group(0);
    let (tx, rx) = mpsc::channel();
    let start = Instant::now();
    let child = cmd.spawn().with_context(|| format!("spawning {cmd:?}"))?;
    let pid = child.id();
    std::thread::spawn(move || {
        let output = child.wait_with_output();
        // The receiver may have given up already; nothing to do then.
        let _ = tx.send((output, Instant::now()));
    });
    match rx.recv_timeout(timeout) {
        Ok((output, end)) => finished(output, end - start),
        Err(_) => {
            kill_tree(pid);
            // Reap it (and let the helper thread end) if it dies promptly.
            let _ = rx.recv_timeout(Duration::from_secs(5));
            Err(anyhow!("timed out after {:.0} s (killed)", timeout.as_secs_f64()))
        }
    }
}

fn finished(output: std::io::Result<Output>, wall: Duration) -> Result<Finished> {
    let output = output.context("waiting for child")?;
    Ok(Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        wall,
    })
}

/// SIGKILLs the process group led by `pid` and every descendant of `pid`.
pub fn kill_tree(pid: u32) {
    let members: Vec<u32> = procfs::tree(pid).iter().map(|p| p.pid).collect();
    signal_group(pid, SIGKILL);
    for member in members {
        signal(member, SIGKILL);
    }
}

const SIGKILL: i32 = 9;

// Declared here rather than through the `libc` crate so that this crate keeps
// its single dependency; std links the C library anyway.
extern "C" {
    fn kill(pid: i32, sig: i32) -> i32;
}

/// Sends `sig` to process `pid`, ignoring errors (it may be gone already).
fn signal(pid: u32, sig: i32) {
    let Ok(pid) = i32::try_from(pid) else { return };
    if pid <= 0 {
        return;
    }
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    unsafe { kill(pid, sig) };
}

/// Sends `sig` to the process group `pgid`, ignoring errors.
fn signal_group(pgid: u32, sig: i32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: kill(2) takes two integers and touches no memory of ours; a
    // negative pid names a process group, here one we created for the child.
    unsafe { kill(-pgid, sig) };
}
