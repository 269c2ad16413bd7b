//! `runsc state` and `runsc list`: the OCI state of one container, and a
//! table (or JSON) of them all.

use std::io::Write as _;

use serde::Serialize;

use crate::cli::{Format, GlobalFlags, IdArgs, ListArgs};
use crate::state::{self, Container, Saved, Status};

/// The OCI state, as runc prints it.
#[derive(Serialize)]
struct OciState<'a> {
    #[serde(rename = "ociVersion")]
    oci_version: &'static str,
    id: &'a str,
    pid: i32,
    status: &'static str,
    bundle: &'a std::path::Path,
    rootfs: &'a std::path::Path,
    created: &'a str,
    owner: &'a str,
    #[serde(skip_serializing_if = "std::collections::HashMap::is_empty")]
    annotations: &'a std::collections::HashMap<String, String>,
}

fn oci_state(saved: &Saved, status: Status) -> OciState<'_> {
    OciState {
        oci_version: "1.0.2",
        id: &saved.id,
        // A stopped container has no process (runc shows 0).
        pid: if status == Status::Stopped { 0 } else { saved.pid },
        status: status.name(),
        bundle: &saved.bundle,
        rootfs: &saved.rootfs,
        created: &saved.created,
        owner: &saved.owner,
        annotations: &saved.annotations,
    }
}

/// `runsc state ID`.
pub fn run_state(g: &GlobalFlags, args: &IdArgs) -> anyhow::Result<i32> {
    let (container, saved) = Container::open(&g.root, &args.id, false)?;
    let status = state::status(&container.dir, &saved);
    println!("{}", serde_json::to_string_pretty(&oci_state(&saved, status))?);
    Ok(0)
}

/// `runsc list`.
pub fn run_list(g: &GlobalFlags, args: &ListArgs) -> anyhow::Result<i32> {
    let mut rows = Vec::new();
    for id in state::list(&g.root)? {
        // A container deleted meanwhile is left out.
        let Ok((container, saved)) = Container::open(&g.root, &id, false) else { continue };
        let status = state::status(&container.dir, &saved);
        rows.push((saved, status));
    }
    let mut out = std::io::stdout().lock();
    if args.quiet {
        for (s, _) in &rows {
            writeln!(out, "{}", s.id)?;
        }
        return Ok(0);
    }
    match args.format {
        Format::Json => {
            let states: Vec<OciState<'_>> = rows.iter().map(|(s, st)| oci_state(s, *st)).collect();
            writeln!(out, "{}", serde_json::to_string(&states)?)?;
        }
        Format::Table => {
            let table: Vec<[String; 6]> = rows
                .iter()
                .map(|(s, st)| {
                    let pid = if *st == Status::Stopped { 0 } else { s.pid };
                    [
                        s.id.clone(),
                        pid.to_string(),
                        st.name().to_string(),
                        s.bundle.display().to_string(),
                        s.created.clone(),
                        s.owner.clone(),
                    ]
                })
                .collect();
            let head = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
            crate::table::print(&mut out, &head, &table)?;
        }
    }
    Ok(0)
}
