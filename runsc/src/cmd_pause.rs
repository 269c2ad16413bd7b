//! `runsc pause` and `runsc resume`: every task of the container held
//! before it next runs application code, and let go again (the cgroup
//! freezer's semantics: signals queue, SIGKILL still kills).

use anyhow::bail;

use crate::cli::{GlobalFlags, IdArgs};
use crate::control;
use crate::state::{self, Container, Status};

/// Pauses (`pause` true) or resumes container `args.id`.
pub fn run(g: &GlobalFlags, args: &IdArgs, pause: bool) -> anyhow::Result<i32> {
    let (container, saved) = Container::open(&g.root, &args.id, true)?;
    let (want, req) =
        if pause { (Status::Running, control::Request::Pause) } else { (Status::Paused, control::Request::Resume) };
    let st = state::status(&container.dir, &saved);
    if st != want {
        let what = if pause { "pause" } else { "resume" };
        bail!("cannot {what} container {:?}: it is {}, not {}", args.id, st.name(), want.name());
    }
    control::call(&container.dir, &req, Some(std::time::Duration::from_secs(30)))?;
    Ok(0)
}
