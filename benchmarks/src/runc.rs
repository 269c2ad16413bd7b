//! A throwaway OCI bundle for runc whose root filesystem is the host's `/`.
//!
//! The bundle lives in a temporary directory: `config.json` comes from
//! `runc spec` and is edited (no terminal, read-only root, no cgroup mount,
//! the program to run), and `rootfs/` gets a non-recursive bind mount of the
//! host's `/`. runc then remounts it read-only inside the container's own
//! mount namespace, so the host is unaffected. (Using `/` itself as
//! `root.path` fails: pivot_root on it returns EBUSY.)
//!
//! Dropping the bundle unmounts `rootfs/` and removes the directory. It never
//! removes anything recursively: while the bind mount is there, `rootfs/`
//! *is* the host's root filesystem.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::child;
use crate::json_edit::{array_elements, json_string_array, replace_value, value_range};

/// A prepared bundle; see the module docs.
pub struct RuncBundle {
    dir: PathBuf,
    /// `config.json` as edited, minus the program (`process.args`).
    base_config: String,
    mounted: bool,
}

/// Bundle directories are `$TMPDIR/runsc-bench-runc-PID`.
const BUNDLE_PREFIX: &str = "runsc-bench-runc-";

/// Distinguishes the containers of one harness run.
static NEXT_ID: AtomicU32 = AtomicU32::new(0);

/// Why runc cannot be used here, or `None` if it looks usable.
pub fn unavailable_reason() -> Option<String> {
    let version = Command::new("runc").arg("--version").stdout(Stdio::null()).status();
    match version {
        Err(_) => Some("runc is not on PATH (apt-get install -y runc)".to_owned()),
        Ok(s) if !s.success() => Some(format!("`runc --version` failed: {s}")),
        Ok(_) if !is_root() => Some("runc needs root here (not running as uid 0)".to_owned()),
        Ok(_) => None,
    }
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            Some(line.split_whitespace().nth(2)? == "0")
        })
        .unwrap_or(false)
}

/// The first line of `runc --version`, for the report header.
pub fn version() -> Option<String> {
    let out = Command::new("runc").arg("--version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines().next().map(str::to_owned)
}

impl RuncBundle {
    /// Builds the bundle and checks that `/bin/true` runs in it.
    pub fn create(timeout: Duration) -> Result<Self> {
        remove_stale_bundles();
        let dir = std::env::temp_dir().join(format!("{BUNDLE_PREFIX}{}", std::process::id()));
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        let mut bundle = RuncBundle { dir, base_config: String::new(), mounted: false };
        bundle.base_config = bundle.make_config()?;
        bundle.mount_root()?;
        let check = bundle.command(&["/bin/true".to_owned()])?;
        child::run(check.0, timeout).and_then(child::Finished::check).context("test run of /bin/true under runc")?;
        Ok(bundle)
    }

    /// Runs `runc spec` in the bundle and returns its config, edited.
    fn make_config(&self) -> Result<String> {
        let status =
            Command::new("runc").args(["spec", "--bundle"]).arg(&self.dir).status().context("running runc spec")?;
        if !status.success() {
            bail!("runc spec failed: {status}");
        }
        let path = self.dir.join("config.json");
        let spec = fs::read_to_string(&path).context("reading config.json")?;
        edit_spec(&spec).context("editing the config.json made by runc spec")
    }

    /// Bind-mounts the host's `/` (alone, not its submounts) on `rootfs/`.
    fn mount_root(&mut self) -> Result<()> {
        let rootfs = self.dir.join("rootfs");
        fs::create_dir(&rootfs).context("creating rootfs/")?;
        run_tool(Command::new("mount").arg("--bind").arg("/").arg(&rootfs))?;
        self.mounted = true;
        // Keep the bind (and runc's mounts under it) out of other namespaces.
        run_tool(Command::new("mount").arg("--make-private").arg(&rootfs))
    }

    /// A `runc run` command for `argv`, and the container id it uses.
    pub fn command(&self, argv: &[String]) -> Result<(Command, String)> {
        let config = replace_value(&self.base_config, "args", &json_string_array(argv))?;
        fs::write(self.dir.join("config.json"), config).context("writing config.json")?;
        let n = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let id = format!("runsc-bench-{}-{n}", std::process::id());
        let mut cmd = Command::new("runc");
        cmd.args(["run", "--bundle"]).arg(&self.dir).arg(&id);
        Ok((cmd, id))
    }

    /// Removes a container left behind by a failed or killed run.
    pub fn cleanup(id: &str) {
        let _ =
            Command::new("runc").args(["delete", "--force", id]).stdout(Stdio::null()).stderr(Stdio::null()).status();
    }

    fn teardown(&mut self) -> Result<()> {
        let rootfs = self.dir.join("rootfs");
        if self.mounted {
            run_tool(Command::new("umount").arg(&rootfs))?;
            self.mounted = false;
        }
        remove_if_exists(&self.dir.join("config.json"), |p| fs::remove_file(p))?;
        // remove_dir, not remove_dir_all: it fails rather than recurse.
        remove_if_exists(&rootfs, |p| fs::remove_dir(p))?;
        remove_if_exists(&self.dir, |p| fs::remove_dir(p))
    }
}

impl Drop for RuncBundle {
    fn drop(&mut self) {
        if let Err(e) = self.teardown() {
            eprintln!("warning: cleaning up runc bundle {}: {e:#}", self.dir.display());
        }
    }
}

/// Tears down bundles left by harness runs that were interrupted (their
/// process is gone), so that their bind mounts do not pile up.
fn remove_stale_bundles() {
    let Ok(entries) = fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(BUNDLE_PREFIX)) else {
            continue;
        };
        if Path::new("/proc").join(pid).exists() {
            continue;
        }
        let mounted = is_mount_point(&entry.path().join("rootfs"));
        // Dropping it tears it down, warning if that fails.
        drop(RuncBundle { dir: entry.path(), base_config: String::new(), mounted });
    }
}

/// Whether `path` is listed as a mount point in `/proc/self/mountinfo`.
fn is_mount_point(path: &Path) -> bool {
    let Some(path) = path.to_str() else {
        return false;
    };
    fs::read_to_string("/proc/self/mountinfo").unwrap_or_default().lines().any(|l| l.split(' ').nth(4) == Some(path))
}

/// The edits the harness needs on `runc spec`'s default config.
fn edit_spec(spec: &str) -> Result<String> {
    let spec = replace_value(spec, "terminal", "false")?;
    let spec = replace_value(&spec, "root", r#"{ "path": "rootfs", "readonly": true }"#)?;
    without_cgroup_mounts(&spec)
}

/// Drops the `cgroup` entries of `mounts`: on cgroup-v1 hosts such as this
/// one runc fails to mount them ("stat /sys/fs/cgroup/cpu/ID: no such file"),
/// and no benchmark needs them.
fn without_cgroup_mounts(spec: &str) -> Result<String> {
    let range = value_range(spec, "mounts").context("no \"mounts\" member")?;
    let kept: Vec<&str> =
        array_elements(spec, &range)?.into_iter().filter(|m| !compact(m).contains(r#""type":"cgroup""#)).collect();
    let mounts = format!("[\n\t\t{}\n\t]", kept.join(",\n\t\t"));
    Ok(format!("{}{}{}", &spec[..range.start], mounts, &spec[range.end..]))
}

/// `text` without whitespace (fine for matching; strings here have none).
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Runs a short system tool, failing with its stderr if it fails.
fn run_tool(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", child::tail(&String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

fn remove_if_exists(path: &Path, remove: impl Fn(&Path) -> std::io::Result<()>) -> Result<()> {
    match remove(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_a_runc_spec() {
        let spec = r#"{
	"process": { "terminal": true, "args": [ "sh" ] },
	"root": { "path": "rootfs", "readonly": true },
	"mounts": [
		{ "destination": "/proc", "type": "proc", "source": "proc" },
		{ "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup" }
	]
}"#;
        let edited = edit_spec(spec).unwrap();
        assert!(edited.contains(r#""terminal": false"#));
        assert!(edited.contains("/proc"));
        assert!(!edited.contains("cgroup"));
    }
}
