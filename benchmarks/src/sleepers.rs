//! Memory per process: a shell that starts N sleeping processes, natively
//! and in one sandbox, measured with 1 and with [`MANY`] sleepers. What
//! one more process costs is the growth from 1 to MANY divided by MANY-1;
//! the sandbox's overhead per process is its growth less the native one
//! (the programs' own memory). RSS counts a shared page in every process
//! that maps it (the memory file is mapped by the sentry and each stub);
//! PSS divides it among them.

use anyhow::{bail, Context, Result};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::child;
use crate::procfs;

/// The bigger count of sleepers.
const MANY: u32 = 100;

/// The longest a sandbox is given to start its sleepers.
const SETTLE_MAX: Duration = Duration::from_secs(20);

/// Total resident and proportional memory of a process tree.
#[derive(Clone, Copy, Debug, Default)]
struct Footprint {
    rss_kib: u64,
    pss_kib: u64,
    procs: usize,
}

/// The shell script: `n` sleepers in the background, then a marker file
/// once all are started, then wait.
fn script(n: u32) -> String {
    format!("i=0; while [ $i -lt {n} ]; do sleep 60 & i=$((i+1)); done; echo started; wait")
}

/// Measures and prints, or says why it could not.
pub fn report(runsc: &Path) {
    println!("\n## Memory per process: a shell with 1 and {MANY} sleeping processes\n");
    match measure_all(runsc) {
        Ok(rows) => print(&rows),
        Err(e) => println!("error: {e:#}"),
    }
}

fn measure_all(runsc: &Path) -> Result<[(Footprint, Footprint); 2]> {
    let native = (measure(None, 1)?, measure(None, MANY)?);
    let sandbox = (measure(Some(runsc), 1)?, measure(Some(runsc), MANY)?);
    Ok([native, sandbox])
}

/// Runs the script with `n` sleepers (in a sandbox of `runsc`, or
/// natively), waits until it says all are started and the tree stops
/// growing, measures the tree, and kills it.
fn measure(runsc: Option<&Path>, n: u32) -> Result<Footprint> {
    let mut cmd = match runsc {
        Some(r) => {
            let mut c = Command::new(r);
            c.args(["do", "/bin/sh", "-c", &script(n)]);
            c
        }
        None => {
            let mut c = Command::new("/bin/sh");
            c.args(["-c", &script(n)]);
            c
        }
    };
    let mut child = cmd
        .env_clear()
        .envs(child::ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .context("spawning the sleepers' shell")?;
    let stdout = child.stdout.take().context("stdout is piped")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        let _ = tx.send(line);
    });
    let started = rx.recv_timeout(SETTLE_MAX).map(|l| l.trim() == "started").unwrap_or(false);
    let result = if started {
        // Let the last sleepers finish starting (their exec and first faults).
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut last = 0;
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let now = procfs::tree(child.id()).len();
            if now == last || Instant::now() >= deadline {
                break;
            }
            last = now;
        }
        Ok(footprint(child.id()))
    } else {
        Err(anyhow::anyhow!("the shell did not start its {n} sleepers within {}s", SETTLE_MAX.as_secs()))
    };
    child::kill_tree(child.id());
    let _ = child.wait();
    let f = result?;
    if f.procs == 0 {
        bail!("no process of the tree found in /proc");
    }
    Ok(f)
}

fn footprint(root: u32) -> Footprint {
    let mut f = Footprint::default();
    for p in procfs::tree(root) {
        if let (Some(rss), Some(pss)) = (procfs::rss_kib(p.pid), procfs::pss_kib(p.pid)) {
            f.rss_kib += rss;
            f.pss_kib += pss;
            f.procs += 1;
        }
    }
    f
}

fn print(rows: &[(Footprint, Footprint); 2]) {
    let mib = |kib: f64| kib / 1024.0;
    let per = |a: u64, b: u64| (b as f64 - a as f64) / f64::from(MANY - 1);
    println!("| run | host processes (1 / {MANY}) | RSS MB (1 / {MANY}) | PSS MB (1 / {MANY}) | RSS per process MB | PSS per process MB |");
    println!("|---|---|---|---|---|---|");
    for (name, (one, many)) in ["native", "runsc"].iter().zip(rows) {
        println!(
            "| {name} | {} / {} | {:.1} / {:.1} | {:.1} / {:.1} | {:.2} | {:.2} |",
            one.procs,
            many.procs,
            mib(one.rss_kib as f64),
            mib(many.rss_kib as f64),
            mib(one.pss_kib as f64),
            mib(many.pss_kib as f64),
            mib(per(one.rss_kib, many.rss_kib)),
            mib(per(one.pss_kib, many.pss_kib)),
        );
    }
    let (n, s) = (&rows[0], &rows[1]);
    println!(
        "\nsandbox overhead per process beyond the programs' own: RSS {:.2} MB, PSS {:.2} MB",
        mib(per(s.0.rss_kib, s.1.rss_kib) - per(n.0.rss_kib, n.1.rss_kib)),
        mib(per(s.0.pss_kib, s.1.pss_kib) - per(n.0.pss_kib, n.1.pss_kib)),
    );
}
