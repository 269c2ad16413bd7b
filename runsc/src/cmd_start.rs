//! `runsc start`: runs a created container's process.

use anyhow::bail;

use crate::cli::{GlobalFlags, IdArgs};
use crate::cmd_create::start_in;
use crate::state::{self, Container, Status};

/// Starts container `args.id`.
pub fn run(g: &GlobalFlags, args: &IdArgs) -> anyhow::Result<i32> {
    let (container, mut saved) = Container::open(&g.root, &args.id, true)?;
    match state::status(&container.dir, &saved) {
        Status::Created => {}
        s => bail!("cannot start container {:?}: it is {}, not created", args.id, s.name()),
    }
    let dir = container.dir.clone();
    start_in(&dir, &container, &mut saved)?;
    Ok(0)
}
