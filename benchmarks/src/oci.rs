//! The OCI runtime figures: runc, crun and runsc side by side on one
//! busybox bundle (in a temporary directory; busybox-static's binary is
//! copied in): the wall time of `run` of `true` (start and exit), of
//! `exec` of `true` into a running container, and the resident memory of
//! an idle container (for runsc: boot, the gofers and the stubs).

use anyhow::{bail, Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::json_edit::{json_string_array, replace_value};
use crate::procfs;
use crate::sampling::median;

/// A runtime binary for the OCI table.
struct Oci {
    name: &'static str,
    binary: PathBuf,
}

/// The busybox bundle and a state root per runtime.
pub(crate) struct Bundle {
    pub(crate) dir: PathBuf,
    config: String,
}

impl Bundle {
    pub(crate) fn create(runsc: &Path) -> Result<Bundle> {
        let dir = std::env::temp_dir().join(format!("runsc-bench-oci-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let bin = dir.join("rootfs/bin");
        fs::create_dir_all(&bin).context("making the bundle")?;
        for d in ["proc", "dev", "sys", "tmp"] {
            fs::create_dir_all(dir.join("rootfs").join(d))?;
        }
        let busybox = ["/usr/bin/busybox", "/bin/busybox"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .context("busybox-static is not installed (apt-get install -y busybox-static)")?;
        fs::copy(busybox, bin.join("busybox")).context("copying busybox")?;
        for a in ["sh", "true", "sleep"] {
            std::os::unix::fs::symlink("busybox", bin.join(a))?;
        }
        let st = Command::new(runsc).args(["spec", "--bundle"]).arg(&dir).status().context("runsc spec")?;
        if !st.success() {
            bail!("runsc spec failed: {st}");
        }
        let spec = fs::read_to_string(dir.join("config.json"))?;
        let spec = replace_value(&spec, "terminal", "false")?;
        Ok(Bundle { dir, config: spec })
    }

    fn set_args(&self, argv: &[&str]) -> Result<()> {
        self.set_args_in_pod(argv, None)
    }

    /// Sets the args, and with `pod` (the CRI's container type and the
    /// pod's sandbox ID) the annotations that make it a pod's.
    fn set_args_in_pod(&self, argv: &[&str], pod: Option<(&str, &str)>) -> Result<()> {
        let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
        let mut c = replace_value(&self.config, "args", &json_string_array(&argv))?;
        if let Some((kind, sandbox)) = pod {
            let ann = format!(
                "{{\"annotations\": {{\"io.kubernetes.cri.container-type\": {}, \"io.kubernetes.cri.sandbox-id\": {}}}, ",
                crate::json_edit::json_string(kind),
                crate::json_edit::json_string(sandbox)
            );
            c = c.replacen('{', &ann, 1);
        }
        fs::write(self.dir.join("config.json"), c).context("writing config.json")
    }

    fn root(&self, rt: &Oci) -> PathBuf {
        self.dir.join(format!("state-{}", rt.name))
    }
}

impl Drop for Bundle {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Runs `cmd` with no stdin or stdout and stderr in a file (not a pipe: a
/// detached container keeps its stderr open), whose last line an error
/// carries.
pub(crate) fn quiet(cmd: &mut Command) -> Result<()> {
    let path = std::env::temp_dir().join(format!("runsc-bench-oci-{}.err", std::process::id()));
    let err = fs::File::create(&path).context("stderr file")?;
    let st = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(err).status()?;
    let text = fs::read_to_string(&path).unwrap_or_default();
    let _ = fs::remove_file(&path);
    if !st.success() {
        bail!("{st}: {}", crate::child::tail(&text));
    }
    Ok(())
}

fn cmd(b: &Bundle, rt: &Oci, args: &[&str]) -> Command {
    let mut c = Command::new(&rt.binary);
    c.arg("--root").arg(b.root(rt)).args(args);
    c
}

/// Median wall time of `runs` runs of `f`, in ms.
pub(crate) fn timed(runs: usize, mut f: impl FnMut(usize) -> Result<()>) -> Result<f64> {
    let mut v = Vec::new();
    for i in 0..runs {
        let t = Instant::now();
        f(i)?;
        v.push(t.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(&v))
}

/// The figures of one runtime: run of true, exec of true, idle memory.
fn measure(b: &Bundle, rt: &Oci, runs: usize) -> Result<(f64, f64, u64)> {
    let bundle = b.dir.to_str().context("bundle path")?;
    b.set_args(&["true"])?;
    let run = timed(runs, |i| quiet(&mut cmd(b, rt, &["run", "--bundle", bundle, &format!("t{i}")])))?;
    b.set_args(&["sleep", "1000"])?;
    quiet(&mut cmd(b, rt, &["run", "--detach", "--bundle", bundle, "idle"]))?;
    let result = (|| -> Result<(f64, u32)> {
        let exec = timed(runs, |_| quiet(&mut cmd(b, rt, &["exec", "idle", "true"])))?;
        std::thread::sleep(Duration::from_millis(500));
        let state = cmd(b, rt, &["state", "idle"]).output()?;
        let text = String::from_utf8_lossy(&state.stdout);
        let pid: u32 = text
            .split("\"pid\"")
            .nth(1)
            .and_then(|r| r.trim_start_matches([':', ' ']).split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|p| p.parse().ok())
            .context("pid in state")?;
        Ok((exec, pid))
    })();
    let mem = result.as_ref().ok().map(|(_, pid)| idle_memory(rt, *pid, bundle)).unwrap_or(0);
    let _ = quiet(&mut cmd(b, rt, &["delete", "--force", "idle"]));
    let (exec, _) = result?;
    Ok((run, exec, mem))
}

/// runsc's `run` of `true` as a container joining a running pod's
/// sandbox (as a CRI client starts a pod's containers), median in ms.
fn measure_pod(b: &Bundle, rt: &Oci, runs: usize) -> Result<f64> {
    let bundle = b.dir.to_str().context("bundle path")?;
    b.set_args_in_pod(&["sleep", "1000"], Some(("sandbox", "pod")))?;
    quiet(&mut cmd(b, rt, &["run", "--detach", "--bundle", bundle, "pod"]))?;
    let run = b
        .set_args_in_pod(&["true"], Some(("container", "pod")))
        .and_then(|()| timed(runs, |i| quiet(&mut cmd(b, rt, &["run", "--bundle", bundle, &format!("p{i}")]))));
    let _ = quiet(&mut cmd(b, rt, &["delete", "--force", "pod"]));
    run
}

/// Resident memory (KiB) of a container: its init's tree, and for runsc
/// also the gofers (found by the bundle path in their command line).
fn idle_memory(rt: &Oci, pid: u32, bundle: &str) -> u64 {
    let mut pids: Vec<u32> = procfs::tree(pid).into_iter().map(|p| p.pid).collect();
    if rt.name == "runsc" {
        for p in procfs::processes() {
            let cmdline = fs::read(format!("/proc/{}/cmdline", p.pid)).unwrap_or_default();
            if String::from_utf8_lossy(&cmdline).contains(bundle) && !pids.contains(&p.pid) {
                pids.push(p.pid);
            }
        }
    }
    pids.iter().filter_map(|&p| procfs::rss_kib(p)).sum()
}

/// Prints the OCI table.
pub fn report(runsc: &Path, runs: usize) {
    println!("\n## OCI runtime: busybox bundle, median of {runs}\n");
    let mut rts = Vec::new();
    for (name, bin) in [("runc", "runc"), ("crun", "crun")] {
        if Command::new(bin).arg("--version").stdout(Stdio::null()).status().is_ok_and(|s| s.success()) {
            rts.push(Oci { name, binary: PathBuf::from(bin) });
        } else {
            println!("- {name}: not installed (apt-get install -y {name})");
        }
    }
    rts.push(Oci { name: "runsc", binary: runsc.to_path_buf() });
    let bundle = match Bundle::create(runsc) {
        Ok(b) => b,
        Err(e) => {
            println!("n/a: {e:#}");
            return;
        }
    };
    println!("| runtime | run true (ms) | exec true (ms) | idle container RSS (MB) |");
    println!("| --- | --- | --- | --- |");
    for rt in &rts {
        match measure(&bundle, rt, runs) {
            Ok((run, exec, mem)) => {
                println!("| {} | {run:.1} | {exec:.1} | {:.1} |", rt.name, mem as f64 / 1024.0)
            }
            Err(e) => println!("| {} | error: {e:#} | | |", rt.name),
        }
    }
    if let Some(rt) = rts.iter().find(|r| r.name == "runsc") {
        match measure_pod(&bundle, rt, runs) {
            Ok(run) => println!("| runsc, a container joining a running pod | {run:.1} | | |"),
            Err(e) => println!("| runsc, a container joining a running pod | error: {e:#} | | |"),
        }
    }
}
