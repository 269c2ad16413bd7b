//! A private Docker daemon for the client tests: dockerd (from Debian) in
//! a mount namespace of its own, with a tmpfs on /run and /etc overlaid
//! (so that what it writes there, its key.json, stays in the scratch
//! directory), its data and exec roots, socket and pid file in the scratch
//! directory, no bridge and no iptables (containers run with `--network
//! none`; the host's network is not touched), its containers' cgroups
//! under a parent of the test's own, and runsc added as runtime `ours` by
//! `runsc install` (to the overlaid /etc/docker/daemon.json).
//! Dropping it removes every container, stops dockerd and removes the
//! scratch directory and cgroups.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::oci::{cgroup_dirs, run_in, Outcome};
use crate::{image, runsc};

/// A running private dockerd.
pub struct Dockerd {
    /// The scratch directory.
    pub dir: PathBuf,
    /// The cgroup parent of its containers.
    pub cgroup_parent: String,
    daemon: Child,
}

impl Dockerd {
    /// Starts one for test `name`, with the test image loaded as `rbox`.
    pub fn start(name: &str) -> Dockerd {
        Dockerd::start_with(name, "", &[])
    }

    /// [`start`](Self::start), with shell commands `prelude` run first in
    /// its mount namespace (once /etc is overlaid: what they write there
    /// stays in the scratch directory) and more flags for dockerd.
    pub fn start_with(name: &str, prelude: &str, flags: &[&str]) -> Dockerd {
        for tool in ["dockerd", "docker", "runc", "containerd"] {
            let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "{tool} is not installed: scripts/test installs docker.io, containerd and runc from Debian"
            );
        }
        let dir = std::env::temp_dir().join(format!("runsc-docker-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for d in ["etc-upper", "etc-work"] {
            fs::create_dir_all(dir.join(d)).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        }
        let cgroup_parent = format!("/runsc-docker-{name}-{}", std::process::id());
        let d = dir.display();
        let script = format!(
            "mount -t tmpfs tmpfs /run && \
             mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/etc-upper,workdir={d}/etc-work /etc && \
             {runsc} install --runtime ours && {prelude} \
             exec dockerd --data-root {d}/data --exec-root {d}/exec --pidfile {d}/dockerd.pid -H unix://{d}/sock \
             --bridge none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
             --cgroup-parent {cgroup_parent} --log-level warn {flags}",
            runsc = runsc().display(),
            prelude = if prelude.is_empty() { String::new() } else { format!("{prelude} && ") },
            flags = flags.join(" ")
        );
        let log = fs::File::create(dir.join("dockerd.log")).expect("dockerd log");
        // Its shims' temporary files (console sockets) go in the scratch
        // directory too.
        fs::create_dir_all(dir.join("tmp")).expect("scratch tmp");
        let daemon = Command::new("unshare")
            .env("TMPDIR", dir.join("tmp"))
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start dockerd");
        let c = Dockerd { dir, cgroup_parent, daemon };
        let deadline = Instant::now() + Duration::from_secs(60);
        while c.docker(&["version"]).code != 0 {
            assert!(Instant::now() < deadline, "dockerd did not start: {}", c.log());
            std::thread::sleep(Duration::from_millis(50));
        }
        c.docker(&["load", "-i", &image::busybox_image().to_string_lossy()]).ok();
        c
    }

    /// dockerd's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dockerd.log")).unwrap_or_default()
    }

    /// A `docker` command against this daemon (Debian's client, which
    /// matches it), in its mount namespace.
    pub fn docker_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.daemon.id().to_string()).args(["-m", "/usr/bin/docker", "-H"]);
        c.arg(format!("unix://{}", self.dir.join("sock").display())).args(args);
        c
    }

    /// Runs `docker args...` (stdin empty).
    pub fn docker(&self, args: &[&str]) -> Outcome {
        self.run(self.docker_command(args), b"")
    }

    /// Runs a prepared command with `input` on stdin (at most 120 s).
    pub fn run(&self, c: Command, input: &[u8]) -> Outcome {
        run_in(&self.dir, c, input, Duration::from_secs(120))
    }

    /// The host directories of container `id`'s cgroup (under the
    /// daemon's cgroup parent), in every hierarchy.
    pub fn container_cgroups(&self, id: &str) -> Vec<PathBuf> {
        cgroup_dirs(&format!("{}/{id}", self.cgroup_parent))
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        let ids = self.docker(&["ps", "-aq"]).stdout;
        for id in ids.lines() {
            let _ = self.docker(&["rm", "-f", id]);
        }
        // SAFETY: kill(2) takes no pointers.
        unsafe { libc::kill(self.daemon.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.daemon.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        // The containers' cgroups went with them; their parent is ours.
        crate::clients::remove_cgroups(&self.cgroup_parent);
        let _ = fs::remove_dir_all(&self.dir);
    }
}
