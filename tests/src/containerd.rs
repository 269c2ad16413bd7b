//! A private containerd for the client tests: started in a mount namespace
//! of its own with a tmpfs on /run (where containerd's shims and runc keep
//! their sockets and state), its root, state and socket in a scratch
//! directory, and the CRI plugin off. `ctr` runs in the same namespace.
//! Dropping it deletes what tasks and containers are left, stops
//! containerd, and removes the scratch directory; the namespace and its
//! mounts go with the last process in it.

use std::fs;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::image;
use crate::oci::{cgroup_dirs, run_in, Outcome};

/// A running private containerd.
pub struct Containerd {
    /// The scratch directory.
    pub dir: PathBuf,
    daemon: Child,
    /// Cgroups handed to containers (`--cgroup`), removed if left.
    cgroups: std::cell::RefCell<Vec<String>>,
}

impl Containerd {
    /// Starts one for test `name`, with the test image imported.
    pub fn start(name: &str) -> Containerd {
        for tool in ["containerd", "ctr", "runc"] {
            let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output();
            assert!(
                found.is_ok_and(|o| o.status.success()),
                "{tool} is not installed: scripts/test installs containerd and runc from Debian"
            );
        }
        let dir = std::env::temp_dir().join(format!("runsc-ctr-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let d = dir.display();
        let config = format!(
            "version = 2\nroot = \"{d}/root\"\nstate = \"{d}/state\"\n\
             disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{d}/sock\"\n[ttrpc]\n  address = \"{d}/sock.ttrpc\"\n\
             [debug]\n  address = \"{d}/debug.sock\"\n"
        );
        fs::write(dir.join("config.toml"), config).expect("write containerd config");
        let log = fs::File::create(dir.join("containerd.log")).expect("containerd log");
        // Its shims' temporary files (console sockets) go in the scratch
        // directory too.
        fs::create_dir_all(dir.join("tmp")).expect("scratch tmp");
        let daemon = Command::new("unshare")
            .env("TMPDIR", dir.join("tmp"))
            .args(["--mount", "--propagation", "private", "sh", "-c"])
            .arg(format!("mount -t tmpfs tmpfs /run && exec containerd --config {d}/config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start containerd");
        let c = Containerd { dir, daemon, cgroups: Default::default() };
        let deadline = Instant::now() + Duration::from_secs(20);
        while c.ctr(&["version"]).code != 0 {
            assert!(Instant::now() < deadline, "containerd did not start: {}", c.log());
            std::thread::sleep(Duration::from_millis(20));
        }
        c.ctr(&["image", "import", &image::busybox_image().to_string_lossy()]).ok();
        c
    }

    /// containerd's log.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("containerd.log")).unwrap_or_default()
    }

    /// A `ctr` command against this containerd, in its mount namespace.
    pub fn ctr_command(&self, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t")
            .arg(self.daemon.id().to_string())
            .args(["-m", "ctr", "--address"])
            .arg(self.dir.join("sock"))
            .args(args);
        c
    }

    /// Runs `ctr args...` (stdin empty).
    pub fn ctr(&self, args: &[&str]) -> Outcome {
        self.run(self.ctr_command(args), b"")
    }

    /// Runs a prepared command with `input` on stdin (at most 60 s).
    pub fn run(&self, c: Command, input: &[u8]) -> Outcome {
        run_in(&self.dir, c, input, Duration::from_secs(60))
    }

    /// A host cgroup path for container `id` of runtime `rt`, unique to
    /// this test run, recorded for clean-up.
    pub fn cgroup(&self, rt: &str, id: &str) -> String {
        let leaf = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let p = format!("/{leaf}-{rt}-{id}");
        self.cgroups.borrow_mut().push(p.clone());
        p
    }

    /// The task IDs ctr lists.
    pub fn tasks(&self) -> Vec<String> {
        self.ctr(&["task", "ls", "-q"]).stdout.lines().map(str::to_owned).collect()
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        for t in self.tasks() {
            let _ = self.ctr(&["task", "kill", "-s", "SIGKILL", &t]);
            let _ = self.ctr(&["task", "delete", "--force", &t]);
        }
        for c in self.ctr(&["container", "ls", "-q"]).stdout.lines() {
            let _ = self.ctr(&["container", "rm", c]);
        }
        let _ = nix_kill(self.daemon.id() as i32, libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(10);
        while matches!(self.daemon.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        for p in self.cgroups.borrow().iter() {
            for d in cgroup_dirs(p) {
                let _ = fs::remove_dir(d);
            }
        }
        // Snapshots are overlay mounts in containerd's namespace, gone
        // with it; what is left are files.
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// kill(2).
fn nix_kill(pid: i32, sig: i32) -> std::io::Result<()> {
    // SAFETY: kill(2) takes no pointers.
    if unsafe { libc::kill(pid, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
