//! `runsc ps`: a container's processes, as the sandbox sees them (its own
//! pids), as a table or (`--format json`) the list of pids runc gives.

use anyhow::bail;

use crate::cli::{Format, GlobalFlags, PsArgs};
use crate::control;
use crate::state::{self, Container, Status};

/// Lists container `args.id`'s processes.
pub fn run(g: &GlobalFlags, args: &PsArgs) -> anyhow::Result<i32> {
    let (container, saved) = Container::open(&g.root, &args.id, false)?;
    if state::status(&container.dir, &saved) == Status::Stopped {
        bail!("container {:?} is not running", args.id);
    }
    let procs = control::call(&container.dir, &control::Request::Ps, None)?.procs.unwrap_or_default();
    match args.format {
        Format::Json => {
            let pids: Vec<i32> = procs.iter().map(|p| p.pid).collect();
            println!("{}", serde_json::to_string(&pids)?);
        }
        Format::Table => {
            let rows: Vec<[String; 4]> = procs
                .iter()
                .map(|p| [p.uid.to_string(), p.pid.to_string(), p.ppid.to_string(), p.comm.clone()])
                .collect();
            let head = ["UID", "PID", "PPID", "CMD"].map(String::from);
            crate::table::print(&mut std::io::stdout().lock(), &head, &rows)?;
        }
    }
    Ok(0)
}
