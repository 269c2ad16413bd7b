//! `runsc events`: the container's figures as runc's stats events (JSON,
//! one per line): once with `--stats`, else every `--interval` until the
//! container stops.

use std::io::Write as _;
use std::time::Duration;

use anyhow::bail;
use serde_json::json;

use crate::cli::{EventsArgs, GlobalFlags};
use crate::control;
use crate::state::{self, Container, Status};

/// A stats event in runc's shape.
fn event(id: &str, s: &control::Stats) -> serde_json::Value {
    json!({
        "type": "stats",
        "id": id,
        "data": {
            "cpu": { "usage": { "total": s.cpu_user_ns + s.cpu_sys_ns, "user": s.cpu_user_ns, "kernel": s.cpu_sys_ns } },
            "memory": { "usage": { "usage": s.memory_bytes } },
            "pids": { "current": s.pids },
        }
    })
}

/// Prints container `args.id`'s figures.
pub fn run(g: &GlobalFlags, args: &EventsArgs) -> anyhow::Result<i32> {
    let interval = humantime::parse_duration(&args.interval)
        .map_err(|e| anyhow::anyhow!("--interval {:?}: {e}", args.interval))?;
    if interval.is_zero() {
        bail!("--interval must be more than 0");
    }
    let mut out = std::io::stdout().lock();
    loop {
        let (container, saved) = Container::open(&g.root, &args.id, false)?;
        if state::status(&container.dir, &saved) == Status::Stopped {
            if args.stats {
                bail!("container {:?} is not running", args.id);
            }
            return Ok(0);
        }
        let reply = control::call(&container.dir, &control::Request::Stats, Some(Duration::from_secs(10)))?;
        drop(container);
        let stats = reply.stats.unwrap_or_default();
        writeln!(out, "{}", event(&args.id, &stats))?;
        out.flush()?;
        if args.stats {
            return Ok(0);
        }
        std::thread::sleep(interval);
    }
}
