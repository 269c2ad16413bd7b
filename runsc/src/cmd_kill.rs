//! `runsc kill`: a signal, by name or number, to a container's init or
//! (`--all`) to every process in it.

use anyhow::{anyhow, bail};
use nix::sys::signal::Signal;

use crate::cli::{GlobalFlags, KillArgs};
use crate::control;
use crate::state::{self, Container, Status};

/// Parses a signal as runc does: `9`, `KILL` or `SIGKILL` (any case).
pub fn parse_signal(s: &str) -> anyhow::Result<i32> {
    if let Ok(n) = s.parse::<i32>() {
        if (0..=64).contains(&n) {
            return Ok(n);
        }
        bail!("unknown signal {s:?}");
    }
    let upper = s.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") { upper } else { format!("SIG{upper}") };
    if let Some(rt) = name.strip_prefix("SIGRTMIN") {
        let off: i32 = if rt.is_empty() {
            0
        } else {
            rt.trim_start_matches('+').parse().map_err(|_| anyhow!("unknown signal {s:?}"))?
        };
        let n = 34 + off;
        if rt.is_empty() || (rt.starts_with('+') && n <= 64) {
            return Ok(n);
        }
        bail!("unknown signal {s:?}");
    }
    name.parse::<Signal>().map(|sig| sig as i32).map_err(|_| anyhow!("unknown signal {s:?}"))
}

/// Signals container `args.id`.
pub fn run(g: &GlobalFlags, args: &KillArgs) -> anyhow::Result<i32> {
    let sig = parse_signal(&args.signal)?;
    let (container, saved) = Container::open(&g.root, &args.id, false)?;
    match state::status(&container.dir, &saved) {
        Status::Stopped => bail!("container {:?} is not running", args.id),
        // A created container's init has not run: any signal but 0 ends
        // it, as it ends runc's waiting init.
        Status::Created | Status::Creating => {
            if sig != 0 {
                state::kill_sandbox(&container.dir, &saved)?;
            }
        }
        Status::Running | Status::Paused => {
            if sig == 0 {
                return Ok(0);
            }
            let sent = control::call(
                &container.dir,
                &control::Request::Signal { signal: sig, all: args.all, pid: None },
                None,
            );
            if let Err(e) = sent {
                // A sandbox that cannot answer still dies of SIGKILL.
                if sig != libc::SIGKILL {
                    return Err(e);
                }
                state::kill_sandbox(&container.dir, &saved)?;
            }
        }
    }
    Ok(0)
}
