//! Podman for the client tests, kept to a scratch directory. Podman has no
//! daemon, so the test holds a mount namespace of its own (a process that
//! sleeps in it) and runs every `podman` command there: a tmpfs on /run,
//! and /etc and /var overlaid with upper layers in the scratch directory,
//! so that whatever podman, conmon or the runtimes write outside their
//! given roots (its blob cache under /var/lib/containers, lock files,
//! /var/tmp) stays in the scratch directory. Its storage (vfs), run root,
//! temporary directory and event log are in the scratch directory too; its
//! containers run with `--network none` (no netavark, the host's network is
//! not touched) and their cgroups under a parent of the test's own (conmon
//! stays in the test's cgroup). runsc is given by path with `--runtime`.
//! Dropping it removes every container, ends the namespace and removes the
//! scratch directory and cgroups.

use std::fs;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::oci::{cgroup_dirs, run_in, Outcome};
use crate::{image, runsc};

/// Podman's configuration: no systemd, no journald, no network, and the
/// runtimes it may be asked for by name.
const CONTAINERS_CONF: &str = r#"[containers]
netns = "none"
# Podman raises RLIMIT_NOFILE and RLIMIT_NPROC to their maximum for root,
# which runc cannot do on a host without CAP_SYS_RESOURCE (the sandbox's
# limits are its own): limits any host allows instead.
default_ulimits = ["nofile=1024:4096", "nproc=2048:4096"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
"#;

/// A private podman.
pub struct Podman {
    /// The scratch directory.
    pub dir: PathBuf,
    /// The cgroup parent of its containers.
    pub cgroup_parent: String,
    holder: Child,
}

impl Podman {
    /// Sets one up for test `name`, with the test image loaded as `rbox`.
    pub fn start(name: &str) -> Podman {
        for tool in ["podman", "conmon", "runc"] {
            let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "{tool} is not installed: scripts/test installs podman, conmon and runc from Debian"
            );
        }
        let dir = std::env::temp_dir().join(format!("runsc-podman-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for d in ["etc-upper", "etc-work", "var-upper", "var-work", "tmp", "libpod-tmp"] {
            fs::create_dir_all(dir.join(d)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        fs::write(dir.join("containers.conf"), CONTAINERS_CONF).expect("containers.conf");
        let cgroup_parent = format!("/runsc-podman-{name}-{}", std::process::id());
        let d = dir.display();
        let script = format!(
            "mount -t tmpfs tmpfs /run && \
             mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/etc-upper,workdir={d}/etc-work /etc && \
             mount -t overlay overlay -o lowerdir=/var,upperdir={d}/var-upper,workdir={d}/var-work /var && \
             echo ready && exec sleep infinity"
        );
        let mut holder = Command::new("unshare")
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the mount namespace");
        let mut ready = [0u8; 6];
        let read = holder.stdout.take().expect("piped").read_exact(&mut ready);
        assert!(read.is_ok() && &ready == b"ready\n", "the mount namespace for podman was not set up");
        let p = Podman { dir, cgroup_parent, holder };
        p.podman(&["load", "-q", "-i", &image::busybox_image().to_string_lossy()]).ok();
        p
    }

    /// A `podman args...` command in the namespace, with runsc as runtime
    /// `ours` (`--runtime ours`) beside runc.
    pub fn podman_command(&self, args: &[&str]) -> Command {
        let d = &self.dir;
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.holder.id().to_string()).args(["-m", "--", "/usr/bin/podman"]);
        c.arg("--root").arg(d.join("storage")).arg("--runroot").arg(d.join("runroot"));
        c.arg("--tmpdir").arg(d.join("libpod-tmp")).args(["--storage-driver", "vfs"]);
        c.arg("--events-backend").arg("file").arg("--cgroup-manager").arg("cgroupfs");
        let mut prev = "";
        for a in args {
            if prev == "--runtime" && *a == "ours" {
                c.arg(runsc());
            } else {
                c.arg(a);
            }
            prev = a;
        }
        c.env("CONTAINERS_CONF", d.join("containers.conf"));
        c.env("TMPDIR", d.join("tmp"));
        c.current_dir(d);
        c
    }

    /// Runs `podman args...` (stdin empty).
    pub fn podman(&self, args: &[&str]) -> Outcome {
        self.run(self.podman_command(args), b"")
    }

    /// Runs a prepared command with `input` on stdin (at most 120 s).
    pub fn run(&self, c: Command, input: &[u8]) -> Outcome {
        run_in(&self.dir, c, input, Duration::from_secs(120))
    }

    /// The host directories of container `id`'s cgroup, in every hierarchy.
    pub fn container_cgroups(&self, id: &str) -> Vec<PathBuf> {
        cgroup_dirs(&format!("{}/libpod-{id}", self.cgroup_parent))
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.podman(&["rm", "-a", "-f", "-t", "0"]);
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        crate::clients::remove_cgroups(&self.cgroup_parent);
        let _ = fs::remove_dir_all(&self.dir);
    }
}
