//! `runsc delete`: removes a container's state, killing its sandbox if it
//! was only created, or (with `--force`) running.

use anyhow::bail;

use crate::cli::{DeleteArgs, GlobalFlags};
use crate::state::{self, Container, Status};

/// Deletes container `args.id`.
pub fn run(g: &GlobalFlags, args: &DeleteArgs) -> anyhow::Result<i32> {
    state::check_id(&args.id)?;
    if args.force && !g.root.join(&args.id).exists() {
        // runc: deleting with --force what is not there succeeds.
        return Ok(0);
    }
    let (container, saved) = Container::open(&g.root, &args.id, true)?;
    match state::status(&container.dir, &saved) {
        Status::Stopped | Status::Created | Status::Creating => {}
        s if !args.force => {
            bail!("cannot delete container {:?} that is not stopped: {} (use --force)", args.id, s.name())
        }
        _ => {}
    }
    // Whatever is left of it goes: the sandbox, and any gofer it left.
    state::kill_sandbox(&container.dir, &saved)?;
    crate::cgroup::remove(&saved.cgroups)?;
    container.destroy()?;
    saved.run_poststop(None);
    Ok(0)
}
