//! `runsc wait` (gVisor's): waits for the container's init to exit and
//! prints its status as JSON.

use anyhow::bail;

use crate::cli::{GlobalFlags, IdArgs};
use crate::control;
use crate::state::{self, Container, Status};

/// Waits for container `args.id`.
pub fn run(g: &GlobalFlags, args: &IdArgs) -> anyhow::Result<i32> {
    let (container, saved) = Container::open(&g.root, &args.id, false)?;
    if state::status(&container.dir, &saved) == Status::Stopped {
        bail!(
            "container {:?} has already stopped: its exit status is with whoever reaped its sandbox (pid {})",
            args.id,
            saved.pid
        );
    }
    let dir = container.dir.clone();
    // Others may start, kill or delete it meanwhile.
    drop(container);
    let reply = control::call(&dir, &control::Request::WaitInit, None)?;
    let status = reply.exit.unwrap_or(-1);
    println!("{}", serde_json::json!({ "id": args.id, "exitStatus": status }));
    Ok(0)
}
