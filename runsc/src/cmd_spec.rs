//! `runsc spec`: writes a starting config.json into a bundle, as `runc
//! spec` does: `sh` on a terminal in a read-only `rootfs`, with the usual
//! mounts, namespaces, capabilities and masked paths. It never overwrites
//! a config.json that is there.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{bail, Context};
use oci_spec::runtime::Spec;

use crate::cli::SpecArgs;

/// Writes `BUNDLE/config.json`.
pub fn run(args: &SpecArgs) -> anyhow::Result<i32> {
    if !args.bundle.is_dir() {
        bail!("bundle {}: not a directory", args.bundle.display());
    }
    let mut spec = if args.rootless {
        Spec::rootless(nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw())
    } else {
        Spec::default()
    };
    spec.set_hostname(Some("runsc".to_string())).set_annotations(None);
    let mut json = serde_json::to_string_pretty(&spec).context("encode the spec")?;
    json.push('\n');
    let path = args.bundle.join("config.json");
    let mut f = match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o666).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            bail!("{} exists: remove it first", path.display())
        }
        Err(e) => return Err(e).with_context(|| format!("create {}", path.display())),
    };
    f.write_all(json.as_bytes()).with_context(|| format!("write {}", path.display()))?;
    Ok(0)
}
