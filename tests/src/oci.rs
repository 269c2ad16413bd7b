//! OCI bundles and runtimes for the lifecycle tests: a scratch directory
//! holding a busybox-static root filesystem and a config.json (made by
//! `runsc spec`, then edited), and a runtime (`runsc` or `runc`) with a
//! `--root` of its own in the scratch directory. Everything the tests
//! write is under the scratch directory, removed on drop (after deleting
//! any container left behind).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::runsc;

/// The busybox applets the bundles' shells use.
const APPLETS: &[&str] =
    &["sh", "echo", "cat", "ls", "sleep", "id", "true", "false", "env", "pwd", "hostname", "kill", "wc", "grep"];

/// A scratch directory with a busybox bundle in it.
pub struct Scratch {
    /// The directory.
    pub dir: PathBuf,
}

impl Scratch {
    /// A fresh scratch directory named for `test`.
    pub fn new(test: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("runsc-oci-{test}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        Scratch { dir }
    }

    /// Makes bundle `name`: busybox in `rootfs/bin`, and a config.json
    /// from `runsc spec` running `sh -c script`, with no terminal and
    /// hostname `box`, edited further by `edit`.
    pub fn bundle(&self, name: &str, script: &str, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
        let b = self.dir.join(name);
        let bin = b.join("rootfs/bin");
        fs::create_dir_all(&bin).unwrap_or_else(|e| panic!("{}: {e}", bin.display()));
        for d in ["proc", "dev", "sys", "tmp", "etc"] {
            fs::create_dir_all(b.join("rootfs").join(d)).unwrap_or_else(|e| panic!("{d}: {e}"));
        }
        let busybox = ["/usr/bin/busybox", "/bin/busybox"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.is_file())
            .expect("busybox-static is installed by scripts/test");
        fs::copy(busybox, bin.join("busybox")).unwrap_or_else(|e| panic!("copy busybox: {e}"));
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", bin.join(a)).unwrap_or_else(|e| panic!("{a}: {e}"));
        }
        let out = Command::new(runsc()).args(["spec", "--bundle"]).arg(&b).output().expect("run runsc spec");
        assert!(out.status.success(), "runsc spec: {}", String::from_utf8_lossy(&out.stderr));
        let path = b.join("config.json");
        let mut spec: serde_json::Value =
            serde_json::from_slice(&fs::read(&path).expect("read config.json")).expect("parse config.json");
        spec["process"]["terminal"] = false.into();
        spec["process"]["args"] = serde_json::json!(["sh", "-c", script]);
        spec["hostname"] = "box".into();
        // runc names a container's cgroup after its ID unless told: tests
        // running at once with the same IDs would share one (and runc warns
        // of a non-empty cgroup).
        let leaf = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        spec["linux"]["cgroupsPath"] = format!("/{leaf}-{name}").into();
        edit(&mut spec);
        fs::write(&path, serde_json::to_vec_pretty(&spec).expect("encode")).expect("write config.json");
        b
    }

    /// A runtime whose state is in `self.dir/state-<name>`.
    pub fn runtime(&self, binary: impl Into<PathBuf>, name: &str) -> Runtime {
        Runtime { binary: binary.into(), root: self.dir.join(format!("state-{name}")), scratch: self.dir.clone() }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Containers left by a failed test go first.
        if let Ok(rd) = fs::read_dir(&self.dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(rt) = name.strip_prefix("state-") else { continue };
                let bin = if rt == "runc" { PathBuf::from("runc") } else { runsc() };
                for c in fs::read_dir(e.path()).into_iter().flatten().flatten() {
                    let _ = Command::new(&bin)
                        .arg("--root")
                        .arg(e.path())
                        .args(["delete", "--force"])
                        .arg(c.file_name())
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .status();
                }
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// What a runtime command did.
#[derive(Debug)]
pub struct Outcome {
    /// Its exit code (-1 if killed).
    pub code: i32,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

impl Outcome {
    /// Panics unless it succeeded.
    pub fn ok(self) -> Outcome {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self
    }

    /// Panics unless it failed with a message containing `want`.
    pub fn fails_with(self, want: &str) -> Outcome {
        assert_ne!(self.code, 0, "command should have failed: {self:?}");
        assert!(self.stderr.contains(want), "stderr should say {want:?}: {self:?}");
        self
    }
}

/// An OCI runtime binary with a state directory.
pub struct Runtime {
    /// The binary.
    pub binary: PathBuf,
    /// Its `--root`.
    pub root: PathBuf,
    scratch: PathBuf,
}

impl Runtime {
    /// Runs `binary --root ROOT args...`. Stdout and stderr go to files, not
    /// pipes: a container started by `create` or `run -d` keeps them open
    /// after the command returns.
    pub fn cmd(&self, args: &[&str]) -> Outcome {
        let mut c = Command::new(&self.binary);
        c.arg("--root").arg(&self.root).args(args);
        self.run(c)
    }

    /// Runs a prepared command with stdout and stderr in files.
    pub fn run(&self, mut c: Command) -> Outcome {
        static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (o, e) = (self.scratch.join(format!("out.{n}")), self.scratch.join(format!("err.{n}")));
        let of = fs::File::create(&o).expect("stdout file");
        let ef = fs::File::create(&e).expect("stderr file");
        let st = c.stdin(Stdio::null()).stdout(of).stderr(ef).status().unwrap_or_else(|e| panic!("{c:?}: {e}"));
        Outcome {
            code: st.code().unwrap_or(-1),
            stdout: fs::read_to_string(&o).unwrap_or_default(),
            stderr: fs::read_to_string(&e).unwrap_or_default(),
        }
    }

    /// `state ID` parsed, or None if it failed.
    pub fn state(&self, id: &str) -> Option<serde_json::Value> {
        let out = self.cmd(&["state", id]);
        if out.code != 0 {
            return None;
        }
        Some(serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("state JSON: {e}: {}", out.stdout)))
    }

    /// The container's status, or None if it does not exist.
    pub fn status(&self, id: &str) -> Option<String> {
        self.state(id).map(|s| s["status"].as_str().unwrap_or_default().to_string())
    }

    /// Waits (up to 10 s) until the container's status is `want`.
    pub fn wait_status(&self, id: &str, want: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let st = self.status(id);
            if st.as_deref() == Some(want) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "container {id} is {st:?}, never {want}");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The container IDs left in the state directory.
    pub fn leftovers(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Runs `c` with `input` on stdin, its stdout and stderr in files in `dir`
/// (a detached container keeps a pipe open), for at most `limit`.
pub fn run_in(dir: &Path, mut c: Command, input: &[u8], limit: std::time::Duration) -> Outcome {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let (i, o, e) = (dir.join(format!("in.{n}")), dir.join(format!("out.{n}")), dir.join(format!("err.{n}")));
    fs::write(&i, input).expect("stdin file");
    c.stdin(fs::File::open(&i).expect("stdin"))
        .stdout(fs::File::create(&o).expect("stdout file"))
        .stderr(fs::File::create(&e).expect("stderr file"));
    let mut child = c.spawn().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    let deadline = std::time::Instant::now() + limit;
    let st = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{c:?} did not finish in {limit:?}; stderr: {}", fs::read_to_string(&e).unwrap_or_default());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    };
    Outcome {
        code: st.code().unwrap_or(-1),
        stdout: fs::read_to_string(&o).unwrap_or_default(),
        stderr: fs::read_to_string(&e).unwrap_or_default(),
    }
}

/// The host directories of cgroup `path` that exist, in every hierarchy
/// (v1 controllers under /sys/fs/cgroup/*, or v2 at /sys/fs/cgroup).
pub fn cgroup_dirs(path: &str) -> Vec<PathBuf> {
    let rel = path.trim_start_matches('/');
    fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join(rel))
        .chain(std::iter::once(PathBuf::from("/sys/fs/cgroup").join(rel)))
        .filter(|p| p.join("cgroup.procs").exists())
        .collect()
}

/// Whether host process `pid` exists and is not a zombie.
pub fn process_alive(pid: i32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s.rfind(')').and_then(|i| s.get(i + 2..i + 3)).is_some_and(|st| st != "Z" && st != "X"),
        Err(_) => false,
    }
}

/// Waits (up to 10 s) for host process `pid` to be gone.
pub fn wait_gone(pid: i32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while process_alive(pid) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    true
}

/// The host processes whose command line mentions `needle` (to check that
/// nothing of a container outlives it).
pub fn processes_mentioning(needle: &str) -> Vec<(i32, String)> {
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else { continue };
        let Ok(cmd) = fs::read(e.path().join("cmdline")) else { continue };
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(needle) && process_alive(pid) {
            out.push((pid, cmd));
        }
    }
    out
}

/// The receiving end of `--console-socket` (as containerd's shim has it):
/// takes the terminal's master, types a line once the container asks for
/// it, and prints everything the container wrote until it hangs up.
pub const CONSOLE_RECEIVER: &str = r#"
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 1)
m = fds[0]
out = b""
typed = False
while True:
    try:
        b = os.read(m, 4096)
    except OSError:
        break
    if not b:
        break
    out += b
    if not typed and b"ready" in out:
        os.write(m, b"ping\n")
        typed = True
sys.stdout.write("name=%s\n" % msg.decode())
sys.stdout.write(out.decode().replace("\r\n", "\n"))
"#;

/// Starts [`CONSOLE_RECEIVER`] on socket `sock`, writing to `out`; returns
/// once it listens.
pub fn console_receiver(sock: &Path, out: &Path) -> std::process::Child {
    let receiver = Command::new("/usr/bin/python3")
        .arg("-c")
        .arg(CONSOLE_RECEIVER)
        .arg(sock)
        .stdout(fs::File::create(out).unwrap())
        .spawn()
        .expect("python3");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !sock.exists() {
        assert!(std::time::Instant::now() < deadline, "the receiver never listened");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    receiver
}
