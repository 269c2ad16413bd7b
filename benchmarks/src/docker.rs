//! `docker run --rm IMAGE true` under each runtime, through a private
//! Docker daemon: dockerd (Debian's) in a mount namespace of its own (a
//! tmpfs on /run, /etc overlaid so its writes stay in the scratch
//! directory), data, exec root and socket in a temporary directory, no
//! bridge or iptables, containers' cgroups under a parent of its own;
//! runsc added by `runsc install`, crun by `--add-runtime` (runc is
//! dockerd's own). The
//! image is the OCI table's busybox root filesystem, `docker import`ed.
//! Everything goes when the table is printed.

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::oci::{quiet, timed, Bundle};

/// A private dockerd and its scratch directory.
struct Daemon {
    dir: PathBuf,
    cgroup_parent: String,
    child: Child,
}

impl Daemon {
    fn start(runsc: &Path, extra: &[(&str, &str)]) -> Result<Daemon> {
        for tool in ["dockerd", "docker", "unshare", "nsenter"] {
            let found = Command::new("sh").arg("-c").arg(format!("command -v {tool}")).output()?;
            if !found.status.success() {
                bail!("{tool} is not installed (apt-get install -y docker.io)");
            }
        }
        let dir = std::env::temp_dir().join(format!("runsc-bench-docker-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for d in ["etc-upper", "etc-work", "tmp"] {
            fs::create_dir_all(dir.join(d))?;
        }
        let cgroup_parent = format!("/runsc-bench-docker-{}", std::process::id());
        let d = dir.display();
        let adds: String = extra.iter().map(|(n, b)| format!(" --add-runtime {n}={b}")).collect();
        let script = format!(
            "mount -t tmpfs tmpfs /run && \
             mount -t overlay overlay -o lowerdir=/etc,upperdir={d}/etc-upper,workdir={d}/etc-work /etc && \
             {runsc} install --runtime ours 2>/dev/null && \
             exec dockerd --data-root {d}/data --exec-root {d}/exec --pidfile {d}/dockerd.pid -H unix://{d}/sock \
             --bridge none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
             --cgroup-parent {cgroup_parent} --log-level warn{adds}",
            runsc = runsc.display()
        );
        let log = fs::File::create(dir.join("dockerd.log"))?;
        let child = Command::new("unshare")
            .env("TMPDIR", dir.join("tmp"))
            .args(["--mount", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("start dockerd")?;
        let daemon = Daemon { dir, cgroup_parent, child };
        let deadline = Instant::now() + Duration::from_secs(60);
        while quiet(&mut daemon.docker(&["version"])).is_err() {
            if Instant::now() > deadline {
                bail!(
                    "dockerd did not start: {}",
                    fs::read_to_string(daemon.dir.join("dockerd.log")).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(daemon)
    }

    /// `docker args...` against this daemon, in its mount namespace.
    fn docker(&self, args: &[&str]) -> Command {
        let mut c = Command::new("nsenter");
        c.arg("-t").arg(self.child.id().to_string()).args(["-m", "docker", "-H"]);
        c.arg(format!("unix://{}", self.dir.join("sock").display())).args(args);
        c
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Ok(out) = self.docker(&["ps", "-aq"]).output() {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = quiet(&mut self.docker(&["rm", "-f", id]));
            }
        }
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The containers' cgroups went with them; their parent goes now.
        for h in fs::read_dir("/sys/fs/cgroup").into_iter().flatten().flatten() {
            let _ = fs::remove_dir(h.path().join(self.cgroup_parent.trim_start_matches('/')));
        }
        let _ = fs::remove_dir(Path::new("/sys/fs/cgroup").join(self.cgroup_parent.trim_start_matches('/')));
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs a `docker run`; an error carries the client's own line for it
/// (`docker: Error response from daemon: ...`), not its advice after.
fn run_quiet(cmd: &mut Command) -> Result<()> {
    let out = cmd.stdin(Stdio::null()).output()?;
    if out.status.success() {
        return Ok(());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| l.starts_with("docker:")).unwrap_or_else(|| err.lines().next().unwrap_or(""));
    bail!("{}: {}", out.status, crate::child::shorten(line.trim(), 200))
}

/// Prints the Docker table: the median wall time of `docker run --rm
/// IMAGE true` under each runtime.
pub fn report(runsc: &Path, runs: usize) {
    println!("\n## Docker: `docker run --rm --network none IMAGE true`, median of {runs}\n");
    // runc is dockerd's own runtime; crun is added when installed.
    let mut extra = Vec::new();
    if Command::new("crun").arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
        extra.push(("crun", "crun"));
    } else {
        println!("- crun: not installed (apt-get install -y crun)");
    }
    let result = (|| -> Result<Vec<(String, Result<f64>)>> {
        let bundle = Bundle::create(runsc)?;
        let daemon = Daemon::start(runsc, &extra)?;
        // The busybox root filesystem as an image.
        let tar = bundle.dir.join("rootfs.tar");
        quiet(Command::new("tar").arg("-C").arg(bundle.dir.join("rootfs")).arg("-cf").arg(&tar).arg("."))?;
        quiet(&mut daemon.docker(&["import", tar.to_str().context("path")?, "bench-busybox"]))?;
        let mut names = vec!["runc"];
        names.extend(extra.iter().map(|(n, _)| *n));
        names.push("ours");
        let mut out = Vec::new();
        for rt in names {
            let args = ["run", "--rm", "--network", "none", "--runtime", rt, "bench-busybox", "/bin/true"];
            // One run first: the image's layers are then in the page cache.
            let ms = run_quiet(&mut daemon.docker(&args))
                .and_then(|()| timed(runs, |_| run_quiet(&mut daemon.docker(&args))));
            out.push((if rt == "ours" { "runsc".to_string() } else { rt.to_string() }, ms));
        }
        Ok(out)
    })();
    match result {
        Ok(rows) => {
            let runc = rows.iter().find(|(n, _)| n == "runc").and_then(|(_, ms)| ms.as_ref().ok().copied());
            println!("| runtime | docker run --rm true (ms) | vs runc |");
            println!("| --- | --- | --- |");
            for (name, ms) in &rows {
                match ms {
                    Ok(ms) => {
                        let ratio = runc.map_or_else(|| "-".to_string(), |r| format!("{:.2}×", ms / r));
                        println!("| {name} | {ms:.0} | {ratio} |");
                    }
                    Err(e) => println!("| {name} | error: {e:#} | |"),
                }
            }
        }
        Err(e) => println!("n/a: {e:#}"),
    }
}
