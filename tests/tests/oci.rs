//! The OCI runtime commands: `runsc spec` writes a config.json shaped as
//! runc's (compared with `runc spec`, installed by the test command), and
//! never overwrites one or writes outside a bundle directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::process::Stdio;

use runsc_tests::oci::{console_receiver, process_alive, processes_mentioning, wait_gone, Scratch};
use runsc_tests::runsc;

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(path: &Path) -> serde_json::Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn keys(v: &serde_json::Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().map(|o| o.keys().cloned().collect()).unwrap_or_default();
    k.sort();
    k
}

fn list(v: &serde_json::Value, field: &str) -> Vec<String> {
    v.as_array().into_iter().flatten().filter_map(|x| x[field].as_str().map(str::to_string)).collect()
}

#[test]
fn spec_writes_a_config_like_runcs() {
    let base = std::env::temp_dir().join(format!("runsc-oci-spec-{}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    let (ours, theirs) = (base.join("runsc"), base.join("runc"));
    fs::create_dir_all(&ours).unwrap();
    fs::create_dir_all(&theirs).unwrap();
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&ours));
    assert!(ok, "runsc spec failed: {err}");
    let (ok, err) = run(Command::new("runc").args(["spec", "--bundle"]).arg(&theirs));
    assert!(ok, "runc spec failed (runc is installed by scripts/test): {err}");
    let (a, b) = (json(&ours.join("config.json")), json(&theirs.join("config.json")));
    assert_eq!(keys(&a), keys(&b), "top-level fields");
    assert_eq!(keys(&a["process"]), keys(&b["process"]), "process fields");
    assert_eq!(keys(&a["linux"]), keys(&b["linux"]), "linux fields");
    assert_eq!(a["root"], b["root"], "root");
    assert_eq!(a["process"]["args"], b["process"]["args"], "args");
    assert_eq!(list(&a["mounts"], "destination"), list(&b["mounts"], "destination"), "mounts");
    let ns = list(&a["linux"]["namespaces"], "type");
    for n in list(&b["linux"]["namespaces"], "type") {
        assert!(ns.contains(&n), "namespace {n} missing from {ns:?}");
    }
    assert_eq!(a["hostname"], "runsc");
    assert!(oci_spec::runtime::Spec::load(ours.join("config.json")).is_ok(), "our config.json loads as a spec");

    // A second run refuses and leaves the file as it was.
    let before = fs::read(ours.join("config.json")).unwrap();
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&ours));
    assert!(!ok && err.contains("exists"), "a second spec must refuse: {err}");
    assert_eq!(fs::read(ours.join("config.json")).unwrap(), before);

    // A bundle that is not a directory: an error, nothing made.
    let missing = base.join("missing");
    let (ok, err) = run(Command::new(runsc()).args(["spec", "--bundle"]).arg(&missing));
    assert!(!ok && err.contains("not a directory"), "{err}");
    assert!(!missing.exists());
    fs::remove_dir_all(&base).unwrap();
}

/// `run` in the foreground prints what the container prints and exits with
/// its status, as runc does with the same bundle; nothing is left after.
#[test]
fn run_matches_runc() {
    let s = Scratch::new("run");
    // noNewPrivileges (true in the spec) shows in /proc/self/status.
    let script =
        "echo hi; id; pwd; hostname; echo $PATH; ls /; grep NoNewPrivs /proc/self/status; echo err >&2; exit 3";
    let b = s.bundle("b", script, |_| {});
    let ours = s.runtime(runsc(), "runsc");
    let theirs = s.runtime("runc", "runc");
    let bundle = b.to_str().unwrap();
    let a = ours.cmd(&["run", "--bundle", bundle, "c1"]);
    let r = theirs.cmd(&["run", "--bundle", bundle, "c1"]);
    assert_eq!(r.code, 3, "runc run: {r:?}");
    assert_eq!(a.code, r.code, "exit status: {a:?}");
    assert_eq!(a.stdout, r.stdout, "stdout");
    assert_eq!(a.stderr, r.stderr, "stderr");
    assert!(ours.leftovers().is_empty(), "state left: {:?}", ours.leftovers());
    assert!(processes_mentioning(bundle).is_empty(), "processes left: {:?}", processes_mentioning(bundle));
}

/// create, state, list, start, ps, kill, delete: the OCI lifecycle.
#[test]
fn lifecycle() {
    let s = Scratch::new("lifecycle");
    let script = "echo started; trap 'echo got TERM; exit 7' TERM; while true; do sleep 0.05; done";
    let b = s.bundle("b", script, |spec| {
        spec["annotations"] = serde_json::json!({"org.example.key": "value"});
    });
    let rt = s.runtime(runsc(), "runsc");
    let pid_file = s.dir.join("pid");
    let (bundle, pid_path) = (b.to_str().unwrap(), pid_file.to_str().unwrap());
    rt.cmd(&["create", "--bundle", bundle, "--pid-file", pid_path, "c1"]).ok();
    let pid: i32 = fs::read_to_string(&pid_file).unwrap().parse().expect("pid file holds a pid");
    assert!(process_alive(pid), "the sandbox runs after create");
    let st = rt.state("c1").expect("state of a created container");
    assert_eq!(st["status"], "created");
    assert_eq!(st["id"], "c1");
    assert_eq!(st["pid"], pid);
    assert_eq!(st["bundle"], bundle);
    assert_eq!(st["annotations"]["org.example.key"], "value");
    assert!(st["ociVersion"].as_str().unwrap().starts_with("1."), "{st}");

    let list = rt.cmd(&["list"]).ok().stdout;
    let head: Vec<&str> = list.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]);
    assert!(list.lines().any(|l| l.starts_with("c1 ") && l.contains("created")), "{list}");
    let json: serde_json::Value = serde_json::from_str(&rt.cmd(&["list", "--format", "json"]).ok().stdout).unwrap();
    assert_eq!(json[0]["id"], "c1");
    assert_eq!(rt.cmd(&["list", "-q"]).ok().stdout, "c1\n");

    // A second create of the same ID fails and leaves the first alone.
    rt.cmd(&["create", "--bundle", bundle, "c1"]).fails_with("already exists");
    assert_eq!(rt.status("c1").as_deref(), Some("created"));

    rt.cmd(&["start", "c1"]).ok();
    assert_eq!(rt.status("c1").as_deref(), Some("running"));
    rt.cmd(&["start", "c1"]).fails_with("running");
    rt.cmd(&["delete", "c1"]).fails_with("not stopped");
    let pids: Vec<i32> = serde_json::from_str(&rt.cmd(&["ps", "--format", "json", "c1"]).ok().stdout).unwrap();
    assert!(pids.contains(&1), "init is pid 1 in the sandbox: {pids:?}");
    let table = rt.cmd(&["ps", "c1"]).ok().stdout;
    assert!(table.lines().any(|l| l.split_whitespace().nth(1) == Some("1") && l.ends_with(" sh")), "{table}");

    rt.cmd(&["kill", "c1", "NOSUCHSIGNAL"]).fails_with("unknown signal");
    rt.cmd(&["kill", "c1", "TERM"]).ok();
    rt.wait_status("c1", "stopped");
    assert!(wait_gone(pid), "the sandbox exits with its init");
    assert_eq!(rt.state("c1").unwrap()["pid"], 0, "a stopped container has no pid");
    rt.cmd(&["kill", "c1", "KILL"]).fails_with("not running");
    rt.cmd(&["delete", "c1"]).ok();
    assert!(rt.state("c1").is_none());
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
    assert!(processes_mentioning(bundle).is_empty(), "{:?}", processes_mentioning(bundle));
}

/// The container's stdout is the create's: the trap ran and said so.
#[test]
fn stdio_and_signals_reach_the_container() {
    let s = Scratch::new("stdio");
    let b = s.bundle("b", "trap 'echo got USR1' USR1; echo ready; while true; do sleep 0.05; done", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    let out = s.dir.join("container.out");
    let mut c = Command::new(runsc());
    c.arg("--root").arg(&rt.root).args(["run", "--detach", "--bundle"]).arg(&b).arg("c1");
    c.stdout(fs::File::create(&out).unwrap()).stderr(Stdio::null()).stdin(Stdio::null());
    assert!(c.status().unwrap().success());
    rt.wait_status("c1", "running");
    let wait_for = |want: &str| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !fs::read_to_string(&out).unwrap_or_default().contains(want) {
            assert!(std::time::Instant::now() < deadline, "no {want:?} in {:?}", fs::read_to_string(&out));
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    wait_for("ready");
    rt.cmd(&["kill", "c1", "10"]).ok();
    wait_for("got USR1");
    rt.cmd(&["kill", "--all", "c1", "SIGKILL"]).ok();
    rt.wait_status("c1", "stopped");
    rt.cmd(&["delete", "c1"]).ok();
}

/// `delete --force` ends a running container and everything of it;
/// deleting a created one needs no force.
#[test]
fn delete_force_leaves_nothing() {
    let s = Scratch::new("force");
    let b = s.bundle("b", "sleep 1000", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    let bundle = b.to_str().unwrap();
    rt.cmd(&["run", "-d", "--bundle", bundle, "c1"]).ok();
    let pid = rt.state("c1").unwrap()["pid"].as_i64().unwrap() as i32;
    assert_eq!(rt.status("c1").as_deref(), Some("running"));
    rt.cmd(&["delete", "--force", "c1"]).ok();
    assert!(wait_gone(pid));
    rt.cmd(&["create", "--bundle", bundle, "c2"]).ok();
    rt.cmd(&["delete", "c2"]).ok();
    // --force on what is not there succeeds, as runc's.
    rt.cmd(&["delete", "--force", "c3"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
    assert!(processes_mentioning(bundle).is_empty(), "{:?}", processes_mentioning(bundle));
}

/// Bad input: a clear message, a failed exit, and no state left behind.
#[test]
fn bad_input_leaves_nothing() {
    let s = Scratch::new("bad");
    let good = s.bundle("good", "true", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    let g = good.to_str().unwrap();
    rt.cmd(&["create", "--bundle", g, "bad/id"]).fails_with("invalid container ID");
    rt.cmd(&["create", "--bundle", g, ".."]).fails_with("invalid container ID");
    let missing = s.dir.join("missing");
    rt.cmd(&["create", "--bundle", missing.to_str().unwrap(), "c1"]).fails_with("No such file");
    let no_root = s.bundle("noroot", "true", |spec| spec["root"]["path"] = "nowhere".into());
    rt.cmd(&["create", "--bundle", no_root.to_str().unwrap(), "c1"]).fails_with("root.path");
    let bad_type = s.bundle("badtype", "true", |spec| spec["process"]["user"]["uid"] = "zero".into());
    rt.cmd(&["create", "--bundle", bad_type.to_str().unwrap(), "c1"]).fails_with("process.user.uid");
    let no_args = s.bundle("noargs", "true", |spec| spec["process"]["args"] = serde_json::json!([]));
    rt.cmd(&["create", "--bundle", no_args.to_str().unwrap(), "c1"]).fails_with("process.args");
    let rel_cwd = s.bundle("relcwd", "true", |spec| spec["process"]["cwd"] = "here".into());
    rt.cmd(&["create", "--bundle", rel_cwd.to_str().unwrap(), "c1"]).fails_with("process.cwd");
    let no_prog = s.bundle("noprog", "true", |spec| spec["process"]["args"] = serde_json::json!(["/bin/nothing"]));
    rt.cmd(&["create", "--bundle", no_prog.to_str().unwrap(), "c1"]).fails_with("/bin/nothing");
    let garbage = s.dir.join("garbage");
    fs::create_dir_all(&garbage).unwrap();
    fs::write(garbage.join("config.json"), "{not json").unwrap();
    rt.cmd(&["create", "--bundle", garbage.to_str().unwrap(), "c1"]).fails_with("config.json");
    let up = s.bundle("up", "true", |spec| spec["linux"]["cgroupsPath"] = "/a/../../b".into());
    rt.cmd(&["create", "--bundle", up.to_str().unwrap(), "c1"]).fails_with("cgroupsPath");
    let rdma = s.bundle("rdma", "true", |spec| {
        spec["linux"]["resources"]["rdma"] = serde_json::json!({"mlx5_1": {"hcaHandles": 3}})
    });
    rt.cmd(&["create", "--bundle", rdma.to_str().unwrap(), "c1"]).fails_with("rdma is not supported");
    rt.cmd(&["--systemd-cgroup", "create", "--bundle", g, "c1"]).fails_with("systemd cgroup driver");
    rt.cmd(&["start", "nosuch"]).fails_with("does not exist");
    rt.cmd(&["state", "nosuch"]).fails_with("does not exist");
    rt.cmd(&["kill", "nosuch"]).fails_with("does not exist");
    rt.cmd(&["delete", "nosuch"]).fails_with("does not exist");
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
    assert!(processes_mentioning(s.dir.to_str().unwrap()).is_empty());

    // Errors also go to --log, as the JSON lines containerd's shim reads.
    let log = s.dir.join("log.json");
    let mut c = Command::new(runsc());
    c.arg("--root").arg(&rt.root).arg("--log").arg(&log).args(["--log-format", "json", "state", "nosuch"]);
    rt.run(c).fails_with("does not exist");
    let line = fs::read_to_string(&log).unwrap();
    let v: serde_json::Value = serde_json::from_str(line.lines().last().unwrap()).unwrap();
    assert_eq!(v["level"], "error");
    assert!(v["msg"].as_str().unwrap().contains("does not exist"), "{v}");
}

/// Go's flag syntax: one dash or two, as shims write them.
#[test]
fn single_dash_flags() {
    let s = Scratch::new("dash");
    let b = s.bundle("b", "echo one dash", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    let mut c = Command::new(runsc());
    c.arg("-root").arg(&rt.root).args(["run", "-bundle"]).arg(&b).arg("c1");
    let out = rt.run(c).ok();
    assert_eq!(out.stdout, "one dash\n");
}

/// `exec` runs a process in a running container, with the container's
/// environment and the command line's changes, as runc's does.
#[test]
fn exec_matches_runc() {
    let s = Scratch::new("exec");
    let b = s.bundle("b", "echo init; sleep 1000", |spec| {
        spec["process"]["env"].as_array_mut().unwrap().push("FROM_SPEC=yes".into());
    });
    let bundle = b.to_str().unwrap();
    let proc_json = s.dir.join("process.json");
    fs::write(
        &proc_json,
        serde_json::to_vec(&serde_json::json!({
            "args": ["sh", "-c", "echo from process.json; echo $A; pwd; id"],
            "env": ["A=1", "PATH=/bin"],
            "cwd": "/etc",
            "user": {"uid": 7, "gid": 8},
        }))
        .unwrap(),
    )
    .unwrap();
    let pj = proc_json.to_str().unwrap();
    let mut outputs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (std::path::PathBuf::from("runc"), "runc")] {
        let rt = s.runtime(bin, name);
        rt.cmd(&["run", "--detach", "--bundle", bundle, "c1"]).ok();
        rt.wait_status("c1", "running");
        let mut seen = Vec::new();
        let a = rt.cmd(&["exec", "c1", "sh", "-c", "echo $FROM_SPEC $(hostname); pwd; echo err >&2; exit 5"]);
        seen.push(a);
        seen.push(rt.cmd(&[
            "exec",
            "--env",
            "FOO=bar",
            "--cwd",
            "/tmp",
            "--user",
            "1000:1000",
            "c1",
            "sh",
            "-c",
            "echo $FOO; pwd; id",
        ]));
        seen.push(rt.cmd(&["exec", "--process", pj, "c1"]));
        seen.push(rt.cmd(&["exec", "c1", "/bin/nothing"]));
        rt.cmd(&["delete", "--force", "c1"]).ok();
        rt.cmd(&["exec", "c1", "true"]).fails_with("not exist");
        outputs.push(seen);
    }
    let (ours, theirs) = (&outputs[0], &outputs[1]);
    assert_eq!(theirs[0].code, 5, "runc: {:?}", theirs[0]);
    for (a, r) in ours.iter().zip(theirs.iter()).take(3) {
        assert_eq!(a.code, r.code, "exit status: ours {a:?}, runc's {r:?}");
        assert_eq!(a.stdout, r.stdout, "stdout: ours {a:?}, runc's {r:?}");
        assert_eq!(a.stderr, r.stderr, "stderr: ours {a:?}, runc's {r:?}");
    }
    // A program that is not there: a failure naming it.
    assert_ne!(ours[3].code, 0);
    assert_ne!(theirs[3].code, 0);
    assert!(ours[3].stderr.contains("/bin/nothing"), "{:?}", ours[3]);
}

/// `exec --detach`: a runsc in the background waits for the process; the
/// pid file names it; signals to it reach the process, and its exit is the
/// process's.
#[test]
fn exec_detached_waiter_is_the_process() {
    let s = Scratch::new("execd");
    let b = s.bundle("b", "sleep 1000", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).ok();
    rt.wait_status("c1", "running");
    let pid_file = s.dir.join("exec.pid");
    let out = s.dir.join("exec.out");
    let mut c = Command::new(runsc());
    c.arg("--root").arg(&rt.root).args(["exec", "-d", "--pid-file"]).arg(&pid_file);
    c.args(["c1", "sh", "-c", "trap 'echo got TERM; exit 9' TERM; echo running; while true; do sleep 0.05; done"]);
    c.stdout(fs::File::create(&out).unwrap()).stderr(Stdio::inherit()).stdin(Stdio::null());
    assert!(c.status().unwrap().success(), "exec -d");
    let waiter: i32 = fs::read_to_string(&pid_file).unwrap().parse().unwrap();
    assert!(process_alive(waiter), "the waiter runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !fs::read_to_string(&out).unwrap_or_default().contains("running") {
        assert!(std::time::Instant::now() < deadline, "the exec'd process never ran");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let pids: Vec<i32> = serde_json::from_str(&rt.cmd(&["ps", "--format", "json", "c1"]).ok().stdout).unwrap();
    assert!(pids.len() >= 2, "init and the exec'd shell: {pids:?}");
    // SIGTERM to the waiter goes on to the process, which says so and exits.
    let _ = Command::new("kill").args(["-TERM", &waiter.to_string()]).status();
    assert!(wait_gone(waiter), "the waiter ends with the process");
    assert!(fs::read_to_string(&out).unwrap().contains("got TERM"));
    assert_eq!(rt.status("c1").as_deref(), Some("running"), "the container runs on");

    // A waiter killed outright takes its process with it.
    let pid_file2 = s.dir.join("exec2.pid");
    let mut c = Command::new(runsc());
    c.arg("--root").arg(&rt.root).args(["exec", "-d", "--pid-file"]).arg(&pid_file2).args(["c1", "sleep", "1000"]);
    c.stdout(Stdio::null()).stderr(Stdio::null()).stdin(Stdio::null());
    assert!(c.status().unwrap().success(), "exec -d");
    let count =
        || serde_json::from_str::<Vec<i32>>(&rt.cmd(&["ps", "--format", "json", "c1"]).ok().stdout).unwrap().len();
    assert_eq!(count(), 2, "init and sleep");
    let waiter: i32 = fs::read_to_string(&pid_file2).unwrap().parse().unwrap();
    let _ = Command::new("kill").args(["-KILL", &waiter.to_string()]).status();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count() != 1 {
        assert!(std::time::Instant::now() < deadline, "the exec'd sleep outlived its waiter");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    rt.cmd(&["delete", "--force", "c1"]).ok();
}

/// `pause` holds every process (a busy loop stops using CPU), `resume`
/// lets them go on; `events --stats` reports figures; `wait` gives init's
/// exit status; SIGKILL ends a paused container.
#[test]
fn pause_resume_events_wait() {
    let s = Scratch::new("pause");
    let b = s.bundle("b", "i=0; while true; do i=$((i+1)); done", |_| {});
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).ok();
    rt.wait_status("c1", "running");
    let stats = || -> serde_json::Value {
        serde_json::from_str(&rt.cmd(&["events", "--stats", "c1"]).ok().stdout).expect("events JSON")
    };
    let cpu = |v: &serde_json::Value| v["data"]["cpu"]["usage"]["total"].as_u64().expect("cpu total");
    // CPU time used over 300 ms.
    let burn = || {
        let a = cpu(&stats());
        std::thread::sleep(std::time::Duration::from_millis(300));
        cpu(&stats()) - a
    };
    rt.cmd(&["resume", "c1"]).fails_with("not paused");
    let running = burn();
    assert!(running > 10_000_000, "a busy loop uses CPU: {running} ns in 300 ms");
    rt.cmd(&["pause", "c1"]).ok();
    assert_eq!(rt.status("c1").as_deref(), Some("paused"));
    rt.cmd(&["pause", "c1"]).fails_with("paused");
    rt.cmd(&["exec", "c1", "true"]).fails_with("paused");
    let paused = burn();
    assert!(paused < 5_000_000, "a paused container uses no CPU: {paused} ns in 300 ms");
    let ev = stats();
    assert_eq!(ev["type"], "stats");
    assert_eq!(ev["id"], "c1");
    assert!(ev["data"]["memory"]["usage"]["usage"].as_u64().unwrap() > 0, "{ev}");
    assert_eq!(ev["data"]["pids"]["current"], 1, "{ev}");
    rt.cmd(&["resume", "c1"]).ok();
    assert_eq!(rt.status("c1").as_deref(), Some("running"));
    let resumed = burn();
    assert!(resumed > 10_000_000, "resumed: {resumed} ns in 300 ms");

    // `wait` answers when init dies, here of SIGKILL while paused.
    rt.cmd(&["pause", "c1"]).ok();
    let mut waiter = Command::new(runsc());
    waiter.arg("--root").arg(&rt.root).args(["wait", "c1"]);
    let waiter = std::thread::spawn(move || waiter.output().unwrap());
    std::thread::sleep(std::time::Duration::from_millis(200));
    rt.cmd(&["kill", "c1", "KILL"]).ok();
    let out = waiter.join().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("wait: {e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(v["exitStatus"], 137, "{v}");
    assert_eq!(v["id"], "c1");
    rt.wait_status("c1", "stopped");
    rt.cmd(&["delete", "c1"]).ok();
}

/// `features` is the OCI features document.
#[test]
fn features_document() {
    let out = Command::new(runsc()).arg("features").output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ociVersionMin"], "1.0.0");
    assert!(v["mountOptions"].as_array().unwrap().iter().any(|o| o == "ro"));
    assert!(v["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n == "pid"));
    assert!(v["linux"]["namespaces"].as_array().unwrap().iter().any(|n| n == "user"), "user namespaces are supported");
    assert!(v["annotations"]["io.kubernetes.cri.sandbox-id"].is_string(), "pods: {v}");
}

/// A root filesystem with nothing but the program still runs: the mount
/// points the sandbox needs are made in its overlay (the image is
/// untouched).
#[test]
fn bare_rootfs_gets_mount_points() {
    let s = Scratch::new("bare");
    let b = s.bundle("b", "ls -d /proc /dev /sys; cat /proc/1/comm", |_| {});
    for d in ["proc", "dev", "sys", "tmp", "etc"] {
        fs::remove_dir(b.join("rootfs").join(d)).unwrap();
    }
    let rt = s.runtime(runsc(), "runsc");
    let out = rt.cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]).ok();
    // The shell execs its last command, so pid 1 is cat by then.
    assert_eq!(out.stdout, "/dev\n/proc\n/sys\ncat\n");
    let mut left: Vec<String> = fs::read_dir(b.join("rootfs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["bin"], "the image is unchanged");
}

/// `process.terminal` with `--console-socket`: the container gets a
/// terminal of its own of the consoleSize asked for (/dev/pts/0, also
/// /dev/console), and the master end goes to the socket; as runc does.
#[test]
fn console_socket_gets_the_terminal() {
    let s = Scratch::new("console");
    let script = "tty; stty size; echo to-console > /dev/console; echo ready; read line; echo got $line";
    let mut texts = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(&format!("b-{name}"), script, |spec| {
            spec["process"]["terminal"] = true.into();
            spec["process"]["consoleSize"] = serde_json::json!({"height": 30, "width": 100});
        });
        std::os::unix::fs::symlink("busybox", b.join("rootfs/bin/stty")).unwrap();
        std::os::unix::fs::symlink("busybox", b.join("rootfs/bin/tty")).unwrap();
        let rt = s.runtime(bin, name);
        let sock = s.dir.join(format!("console-{name}.sock"));
        let out = s.dir.join(format!("console-{name}.out"));
        let mut receiver = console_receiver(&sock, &out);
        let (bundle, sock_path) = (b.to_str().unwrap(), sock.to_str().unwrap());
        // Without the socket, a detached terminal is refused.
        rt.cmd(&["create", "--bundle", bundle, "c0"]).fails_with("console");
        rt.cmd(&["create", "--bundle", bundle, "--console-socket", sock_path, "c1"]).ok();
        rt.cmd(&["start", "c1"]).ok();
        rt.wait_status("c1", "stopped");
        assert!(receiver.wait().unwrap().success());
        let text = fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("name=/dev/p"), "{name}: {text}");
        rt.cmd(&["delete", "c1"]).ok();
        // The host pty's name differs; what the container saw must not.
        texts.push(text.lines().skip(1).map(|l| format!("{l}\n")).collect::<String>());
    }
    assert!(texts[1].contains("/dev/pts/0\n30 100\nto-console\nready\n"), "runc: {}", texts[1]);
    assert!(texts[1].contains("got ping\n"), "runc: {}", texts[1]);
    assert_eq!(texts[0], texts[1], "ours, then runc's");
}

/// `exec --tty`: with `--console-socket` (detached, as shims run it) the
/// master goes to the socket; in the foreground, the process runs on
/// runsc's own terminal. Either way the process has a terminal of its own,
/// /dev/pts/0, as under runc.
#[test]
fn exec_with_a_terminal_matches_runc() {
    let s = Scratch::new("exec-tty");
    let b = s.bundle("b", "sleep 60", |spec| {
        spec["process"]["consoleSize"] = serde_json::json!({"height": 25, "width": 70});
    });
    let mut outs = Vec::new();
    for (bin, name) in [(PathBuf::from("runc"), "runc"), (runsc(), "runsc")] {
        let rt = s.runtime(&bin, name);
        let id = format!("t-{name}");
        rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), &id]).ok();
        let sock = s.dir.join(format!("{name}.sock"));
        let out = s.dir.join(format!("{name}.out"));
        let mut receiver = console_receiver(&sock, &out);
        let pid_file = s.dir.join(format!("{name}.pid"));
        let script = "tty; stty size; test -t 0 && test -t 2 && echo on a tty; echo ready; read line; echo got $line";
        let e = rt.cmd(&[
            "exec",
            "-d",
            "--tty",
            "--console-socket",
            sock.to_str().unwrap(),
            "--pid-file",
            pid_file.to_str().unwrap(),
            &id,
            "sh",
            "-c",
            script,
        ]);
        assert_eq!(e.code, 0, "{name}: exec -d --tty: {e:?}");
        assert!(receiver.wait().unwrap().success());
        // (runc names the master /dev/ptmx, runsc the replica.)
        let text = fs::read_to_string(&out).unwrap();
        let text = text.split_once('\n').map(|(_, rest)| rest.to_string()).unwrap_or_default();
        assert!(fs::read_to_string(&pid_file).unwrap().trim().parse::<i32>().is_ok(), "{name}: pid file");
        // In the foreground, on the caller's terminal (`script` gives one;
        // runc sizes its terminal from it just after the start).
        let fg = format!(
            "stty rows 12 cols 34; {} --root {} exec -t {id} sh -c 'tty; sleep 1; stty size; echo fg; exit 4'",
            bin.display(),
            rt.root.display()
        );
        let mut c = Command::new("script");
        c.args(["-qec", &fg, "/dev/null"]);
        let o = rt.run(c);
        // runc's copying into its terminal can type a NUL (its stdin
        // ends at once), echoed as ^@ where it lands.
        outs.push((text, o.code, o.stdout.replace('\r', "").replace("^@", "")));
        rt.cmd(&["kill", &id, "KILL"]);
        rt.wait_status(&id, "stopped");
        rt.cmd(&["delete", &id]).ok();
    }
    assert!(
        outs[0].0.contains("/dev/pts/0\n25 70\non a tty\nready\n") && outs[0].0.contains("got ping"),
        "{:?}",
        outs[0]
    );
    assert_eq!(outs[0].2, "/dev/pts/0\n12 34\nfg\n", "runc: {:?}", outs[0]);
    assert_eq!(outs[0], outs[1], "exec --tty: runc (left) and runsc (right) differ");
    // A detached terminal needs the socket; a socket needs a terminal.
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), "t2"]).ok();
    rt.cmd(&["exec", "-d", "--tty", "t2", "true"]).fails_with("--console-socket");
    let sock = s.dir.join("unused.sock");
    rt.cmd(&["exec", "--console-socket", sock.to_str().unwrap(), "t2", "true"]).fails_with("no terminal");
    rt.cmd(&["delete", "--force", "t2"]).ok();
}

/// The spec's tmpfs mounts, with their size and mode, as runc makes them;
/// an option that is not understood is an error naming the field.
#[test]
fn spec_tmpfs_mounts_match_runc() {
    let s = Scratch::new("tmpfs");
    let script = "stat -c '%a' /run /cache; echo x > /run/f && cat /run/f; \
                  dd if=/dev/zero of=/run/big bs=1k count=2048 2>/dev/null; echo dd=$?; \
                  stat -c '%s' /run/big; touch /cache/f 2>/dev/null; echo touch=$?";
    let b = s.bundle("b", script, |spec| {
        let mounts = spec["mounts"].as_array_mut().unwrap();
        mounts.push(serde_json::json!({"destination": "/run", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "size=1m", "mode=700"]}));
        mounts.push(serde_json::json!({"destination": "/cache", "type": "tmpfs", "source": "tmpfs",
            "options": ["ro", "mode=755"]}));
    });
    let bundle = b.to_str().unwrap();
    let ours = s.runtime(runsc(), "runsc").cmd(&["run", "--bundle", bundle, "c1"]);
    let theirs = s.runtime("runc", "runc").cmd(&["run", "--bundle", bundle, "c1"]);
    assert_eq!(theirs.code, 0, "runc: {theirs:?}");
    assert_eq!(ours.stdout, theirs.stdout, "ours {ours:?}\nrunc's {theirs:?}");
    assert!(ours.stdout.contains("dd=1"), "the size limit holds: {ours:?}");

    let bad = s.bundle("bad", "true", |spec| {
        spec["mounts"].as_array_mut().unwrap().push(serde_json::json!({"destination": "/x", "type": "tmpfs",
            "source": "tmpfs", "options": ["huge=always"]}));
    });
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["create", "--bundle", bad.to_str().unwrap(), "c2"]).fails_with("options");
    assert!(rt.leftovers().is_empty());
}

/// Bind mounts of single files, as Docker gives /etc/hosts and
/// /etc/resolv.conf: read-only ones refuse writes, writable ones write
/// through to the host file; as runc does.
#[test]
fn file_bind_mounts_match_runc() {
    let s = Scratch::new("filebind");
    let hosts = s.dir.join("hosts");
    let notes = s.dir.join("notes");
    let script = "cat /etc/hosts; echo more >> /etc/hosts 2>/dev/null; echo ro=$?; \
                  cat /data/notes; echo appended >> /data/notes; echo rw=$?; ls /data";
    let b = s.bundle("b", script, |spec| {
        let mounts = spec["mounts"].as_array_mut().unwrap();
        mounts.push(serde_json::json!({"destination": "/etc/hosts", "type": "bind",
            "source": hosts, "options": ["rbind", "ro"]}));
        mounts.push(serde_json::json!({"destination": "/data/notes", "type": "bind",
            "source": notes, "options": ["rbind", "rw"]}));
    });
    let bundle = b.to_str().unwrap();
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (std::path::PathBuf::from("runc"), "runc")] {
        fs::write(&hosts, "127.0.0.1 localhost box\n").unwrap();
        fs::write(&notes, "first\n").unwrap();
        let out = s.runtime(bin, name).cmd(&["run", "--bundle", bundle, "c1"]);
        if name == "runsc" {
            // The mount points were made in the overlay, not the image
            // (runc makes them in the image).
            assert!(!b.join("rootfs/data").exists(), "the image is untouched");
        }
        outs.push((out, fs::read_to_string(&notes).unwrap(), fs::read_to_string(&hosts).unwrap()));
    }
    let ((ours, our_notes, our_hosts), (theirs, their_notes, their_hosts)) = (&outs[0], &outs[1]);
    assert_eq!(theirs.code, 0, "runc: {theirs:?}");
    assert_eq!(ours.stdout, theirs.stdout, "ours {ours:?}\nrunc's {theirs:?}");
    assert_eq!(ours.stderr, theirs.stderr, "ours {ours:?}\nrunc's {theirs:?}");
    assert_eq!(ours.code, theirs.code);
    assert_eq!(our_notes, their_notes, "the writable file on the host");
    assert_eq!(our_notes, "first\nappended\n");
    assert_eq!(our_hosts, their_hosts, "the read-only file is unchanged");
}

/// The cgroup a container's spec names is made in every hierarchy, with
/// the limits runc writes there; the sandbox's host processes are in it,
/// and it goes with the container.
#[test]
fn cgroup_limits_match_runc() {
    let s = Scratch::new("cgroup");
    let resources = serde_json::json!({
        "memory": {"limit": 67108864, "reservation": 33554432},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000},
        "pids": {"limit": 500},
    });
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let mut seen = Vec::new();
    for name in ["runc", "runsc"] {
        let b = s.bundle(name, "sleep 1000", |spec| spec["linux"]["resources"] = resources.clone());
        let spec = json(&b.join("config.json"));
        let cg = spec["linux"]["cgroupsPath"].as_str().unwrap().trim_start_matches('/').to_string();
        let rt = s.runtime(if name == "runc" { "runc".into() } else { runsc() }, name);
        rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c1"]).ok();
        let pid = rt.state("c1").unwrap()["pid"].as_i64().unwrap();
        seen.push(cgroup_limits(&cg));
        if name == "runsc" {
            // The sandbox counts its own tasks; the host's limit is a
            // backstop above them.
            let last = seen.last_mut().unwrap().last_mut().unwrap();
            assert_eq!(*last, host_pids_backstop(500), "pids.max");
            *last = "500\n".into();
        }
        // The container's process (runc's init; our boot) is in it, in
        // every hierarchy.
        let procs = fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap();
        for line in procs.lines() {
            assert!(line.ends_with(&format!("/{cg}")), "{name}: pid {pid} is in {line}, not in {cg}");
        }
        if name == "runsc" {
            // So are the gofer and the stubs.
            let mem =
                if v2 { Path::new("/sys/fs/cgroup").join(&cg) } else { Path::new("/sys/fs/cgroup/memory").join(&cg) };
            let inside = fs::read_to_string(mem.join("cgroup.procs")).unwrap();
            assert!(inside.lines().count() >= 3, "boot, gofer and a stub: {inside}");
        }
        rt.cmd(&["delete", "--force", "c1"]).ok();
        let left: Vec<_> = fs::read_dir("/sys/fs/cgroup")
            .unwrap()
            .flatten()
            .map(|e| e.path().join(&cg))
            .filter(|p| p.exists())
            .collect();
        assert!(left.is_empty(), "{name}: the cgroup is left: {left:?}");
    }
    assert!(seen[0].iter().all(|v| !v.is_empty()), "runc wrote {:?}", seen[0]);
    assert_eq!(seen[0], seen[1], "the limits runc and runsc wrote");
}

/// The sandbox's cgroup filesystem (the spec's cgroup mount at
/// /sys/fs/cgroup): its own view of the container's cgroup, v1's or
/// v2's as the host's is, read-only, showing the spec's limits as runc's
/// container sees them (in its cgroup namespace), and `runsc update`'s
/// new ones.
#[test]
fn cgroup_filesystem_shows_the_limits_like_runc() {
    let s = Scratch::new("cgroupfs");
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    let (files, mounts): (&[&str], &str) = if v2 {
        (&["memory.max", "memory.swap.max", "pids.max", "cpu.max", "cpu.weight"], "cgroup2")
    } else {
        (
            &[
                "memory/memory.limit_in_bytes",
                "memory/memory.memsw.limit_in_bytes",
                "pids/pids.max",
                "cpu/cpu.cfs_quota_us",
                "cpu/cpu.cfs_period_us",
                "cpu/cpu.shares",
                "cpuset/cpuset.effective_cpus",
            ],
            " - cgroup ",
        )
    };
    let script = format!(
        "cd /sys/fs/cgroup; for f in {}; do echo $f=$(cat $f); done; grep -c '{mounts}' /proc/self/mountinfo; \
         echo x > {} || echo refused",
        files.join(" "),
        files[0]
    );
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(&format!("b-{name}"), &script, |spec| {
            spec["linux"]["resources"] = serde_json::json!({
                "memory": {"limit": 67108864, "swap": 134217728},
                "cpu": {"shares": 1024, "quota": 50000, "period": 100000},
                "pids": {"limit": 100},
            });
        });
        let out = s.runtime(bin, name).cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]);
        assert!(out.stderr.contains("Read-only file system"), "{name}: EROFS: {out:?}");
        outs.push(out.stdout);
    }
    assert!(outs[1].contains("67108864") && outs[1].contains("refused"), "runc: {}", outs[1]);
    // The number of cgroup mounts differs (runc's has the host's every
    // hierarchy): the values must not.
    let values = |o: &str| o.lines().filter(|l| l.contains('=')).map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(values(&outs[0]), values(&outs[1]), "ours:\n{}\nrunc's:\n{}", outs[0], outs[1]);
    assert!(outs[0].ends_with("refused\n"), "{}", outs[0]);

    let b = s.bundle("live", "sleep 1000", |spec| {
        spec["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}, "pids": {"limit": 100}});
    });
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), "c2"]).ok();
    let procs = if v2 { "cgroup.procs" } else { "pids/cgroup.procs" };
    let listed = rt.cmd(&["exec", "c2", "cat", &format!("/sys/fs/cgroup/{procs}")]).ok().stdout;
    assert!(listed.starts_with("1\n"), "{listed}");
    rt.cmd(&["update", "--memory", "33554432", "--pids-limit", "50", "--cpu-quota", "20000", "c2"]).ok();
    let read = if v2 {
        "cat memory.max pids.max cpu.max"
    } else {
        "cat memory/memory.limit_in_bytes pids/pids.max cpu/cpu.cfs_quota_us"
    };
    let now = rt.cmd(&["exec", "c2", "sh", "-c", &format!("cd /sys/fs/cgroup; {read}")]).ok();
    let want = if v2 { "33554432\n50\n20000 100000\n" } else { "33554432\n50\n20000\n" };
    assert_eq!(now.stdout, want);
    rt.cmd(&["delete", "--force", "c2"]).ok();
    assert!(rt.leftovers().is_empty());
}

/// The host pids.max runsc writes for a container limited to `limit`
/// tasks: the sandbox counts them; each is two host tasks (a sentry thread,
/// a stub thread), and the sandbox has some of its own.
fn host_pids_backstop(limit: i64) -> String {
    format!("{}\n", 2 * limit + 128)
}

/// The pids limit as Linux's pids controller keeps it: fork fails with
/// EAGAIN once the container has that many tasks, the same count under
/// runc and runsc (the sentry's own threads are not the container's).
#[test]
fn pids_limit_counts_tasks_like_runc() {
    let s = Scratch::new("pids");
    let script = "n=0; while [ $n -lt 40 ]; do sleep 5 >/dev/null 2>&1 & n=$((n+1)); echo $n; done 2>&1 | tail -2";
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(name, script, |spec| spec["linux"]["resources"] = serde_json::json!({"pids": {"limit": 20}}));
        let out = s.runtime(bin, name).cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]);
        outs.push(out);
    }
    assert_eq!(outs[1].code, 0, "runc: {:?}", outs[1]);
    assert!(outs[1].stdout.contains("can't fork"), "runc: {:?}", outs[1]);
    assert_eq!(outs[0].stdout, outs[1].stdout, "ours {:?}\nrunc's {:?}", outs[0], outs[1]);
}

/// The memory, CPU and pids limits in cgroup `cg` (relative to each
/// hierarchy), as the host's cgroup files show them.
fn cgroup_limits(cg: &str) -> Vec<String> {
    if Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        return ["memory.max", "memory.low", "cpu.weight", "cpu.max", "pids.max"]
            .iter()
            .map(|f| fs::read_to_string(Path::new("/sys/fs/cgroup").join(cg).join(f)).unwrap_or_default())
            .collect();
    }
    [
        "memory/memory.limit_in_bytes",
        "memory/memory.soft_limit_in_bytes",
        "cpu/cpu.shares",
        "cpu/cpu.cfs_quota_us",
        "cpu/cpu.cfs_period_us",
        "pids/pids.max",
    ]
    .iter()
    .map(|f| {
        let (h, file) = f.split_once('/').unwrap();
        fs::read_to_string(Path::new("/sys/fs/cgroup").join(h).join(cg).join(file)).unwrap_or_default()
    })
    .collect()
}

/// `update` writes new limits to the container's cgroup as runc does, from
/// flags or a resources file; it refuses a stopped container, a bad size
/// and what the driver cannot do, changing nothing.
#[test]
fn update_matches_runc() {
    let s = Scratch::new("update");
    let file = s.dir.join("resources.json");
    fs::write(&file, r#"{"memory": {"limit": 50331648}, "pids": {"limit": 64}}"#).unwrap();
    let mut seen = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(name, "sleep 1000", |spec| {
            spec["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}, "pids": {"limit": 500}});
        });
        let cg =
            json(&b.join("config.json"))["linux"]["cgroupsPath"].as_str().unwrap().trim_start_matches('/').to_string();
        let rt = s.runtime(bin, name);
        rt.cmd(&["run", "-d", "--bundle", b.to_str().unwrap(), "c1"]).ok();
        rt.cmd(&[
            "update",
            "--memory",
            "32m",
            "--memory-reservation",
            "16m",
            "--pids-limit",
            "100",
            "--cpu-quota",
            "20000",
            "--cpu-period",
            "100000",
            "--cpu-share",
            "256",
            "c1",
        ])
        .ok();
        let after_flags = cgroup_limits(&cg);
        rt.cmd(&["update", "--resources", file.to_str().unwrap(), "c1"]).ok();
        let after_file = cgroup_limits(&cg);
        let bad = rt.cmd(&["update", "--memory", "12q", "c1"]);
        assert_ne!(bad.code, 0, "{name}: {bad:?}");
        assert_eq!(cgroup_limits(&cg), after_file, "{name}: a bad update changes nothing");
        if name == "runsc" {
            rt.cmd(&["update", "--cpu-rt-runtime", "1000", "c1"]).fails_with("not supported");
            assert_eq!(cgroup_limits(&cg), after_file);
        }
        rt.cmd(&["kill", "c1", "KILL"]).ok();
        rt.wait_status("c1", "stopped");
        if name == "runsc" {
            rt.cmd(&["update", "--memory", "64m", "c1"]).fails_with("stopped");
        }
        rt.cmd(&["delete", "c1"]).ok();
        let (mut after_flags, mut after_file) = (after_flags, after_file);
        if name == "runsc" {
            for (v, limit) in [(&mut after_flags, 100), (&mut after_file, 64)] {
                let last = v.last_mut().unwrap();
                assert_eq!(*last, host_pids_backstop(limit), "pids.max");
                *last = format!("{limit}\n");
            }
        }
        seen.push((after_flags, after_file));
    }
    assert!(seen[0].0.iter().any(|v| v.trim() == "33554432"), "{:?}", seen[0]);
    assert_eq!(seen[0], seen[1], "the limits runsc and runc wrote");
}

/// maskedPaths and readonlyPaths as runc applies them: a masked file reads
/// empty and swallows writes (/dev/null), a masked directory is empty and
/// read-only, a read-only path refuses writes but the mounts below it keep
/// theirs; paths the container lacks are passed over.
#[test]
fn masked_and_readonly_paths_match_runc() {
    let s = Scratch::new("masked");
    let script = "cat /etc/secret; echo cat=$?; stat -c '%F %t,%T' /etc/secret; echo x > /etc/secret; echo w=$?; \
                  ls -A /etc/secretdir; stat -c '%a %F' /etc/secretdir; touch /etc/secretdir/f 2>&1; echo t=$?; \
                  cat /data/keep; touch /data/f 2>&1; echo ro=$?; touch /data/sub/y; echo sub=$?; \
                  echo box > /proc/sys/kernel/domainname; echo sys=$?; cat /etc/public";
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(&format!("b-{name}"), script, |spec| {
            spec["root"]["readonly"] = false.into();
            spec["mounts"].as_array_mut().unwrap().push(serde_json::json!({"destination": "/data/sub",
                "type": "tmpfs", "source": "tmpfs", "options": ["mode=755"]}));
            spec["linux"]["maskedPaths"] =
                serde_json::json!(["/etc/secret", "/etc/secretdir", "/proc/kcore", "/no/such/path", "/sys/firmware"]);
            spec["linux"]["readonlyPaths"] = serde_json::json!(["/data", "/proc/sys", "/proc/sysrq-trigger"]);
        });
        let root = b.join("rootfs");
        for a in ["stat", "touch"] {
            std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).unwrap();
        }
        fs::write(root.join("etc/secret"), "hidden\n").unwrap();
        fs::write(root.join("etc/public"), "shown\n").unwrap();
        fs::create_dir_all(root.join("etc/secretdir")).unwrap();
        fs::write(root.join("etc/secretdir/key"), "hidden\n").unwrap();
        fs::create_dir_all(root.join("data/sub")).unwrap();
        fs::write(root.join("data/keep"), "kept\n").unwrap();
        let out = s.runtime(bin, name).cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]);
        assert_eq!(fs::read_to_string(root.join("etc/secret")).unwrap(), "hidden\n", "{name}: the file is unchanged");
        outs.push(out);
    }
    let (ours, theirs) = (&outs[0], &outs[1]);
    assert_eq!(theirs.code, 0, "runc: {theirs:?}");
    assert_eq!(ours.stdout, theirs.stdout, "ours {ours:?}\nrunc's {theirs:?}");
    assert_eq!(ours.code, theirs.code);
    for want in ["cat=0", "character special file 1,3", "w=0", "t=1", "ro=1", "sub=0", "sys=1", "shown"] {
        assert!(ours.stdout.contains(want), "{want}: {ours:?}");
    }
    assert!(!ours.stdout.contains("hidden") && !ours.stdout.contains("key"), "{ours:?}");

    let bad = s.bundle("bad", "true", |spec| spec["linux"]["maskedPaths"] = serde_json::json!(["/ok", "rel"]));
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["create", "--bundle", bad.to_str().unwrap(), "c2"]).fails_with("linux.maskedPaths[1]");
    assert!(rt.leftovers().is_empty());
}

/// `--preserve-fds N`: fds 3 .. 3+N of `run` are the container's, and of
/// `exec` the new process's, as runc passes them; fds that are not open
/// are an error.
#[test]
fn preserve_fds_match_runc() {
    let s = Scratch::new("preserve");
    let f3 = s.dir.join("f3");
    fs::write(&f3, "from three\n").unwrap();
    let script = "cat <&3; echo to-four >&4; exec 4>&-; readlink /proc/self/fd/3; \
                  [ -e /proc/self/fd/5 ] && echo five || echo no-five; sleep 2";
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(&format!("b-{name}"), script, |_| {});
        std::os::unix::fs::symlink("busybox", b.join("rootfs/bin/readlink")).unwrap();
        let rt = s.runtime(bin.clone(), name);
        let f4 = s.dir.join(format!("f4-{name}"));
        // The host shell sets up fds 3 and 4 for the runtime.
        let line = |args: &str, redirect: &str| {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("exec \"$0\" --root \"$1\" {args} {redirect}"))
                .arg(&bin)
                .arg(&rt.root)
                .arg(&f3)
                .arg(&f4);
            c
        };
        let run = rt.run(line(&format!("run -d --preserve-fds 2 --bundle {} c1", b.display()), "3<\"$2\" 4>\"$3\""));
        assert_eq!(run.code, 0, "{name}: {run:?}");
        let exec =
            rt.run(line("exec --preserve-fds 1 c1 sh -c 'cat <&3; [ -e /proc/self/fd/4 ] && echo four'", "3<\"$2\""));
        rt.wait_status("c1", "stopped");
        let logs = rt.cmd(&["delete", "c1"]);
        assert_eq!(logs.code, 0, "{name}: {logs:?}");
        outs.push((exec, fs::read_to_string(&f4).unwrap_or_default()));
        if name == "runc" {
            // runc passes its own fds in place of ones that are not open.
            continue;
        }
        // Not open: an error, and nothing left.
        let bad = rt.run({
            let mut c = Command::new(&bin);
            c.arg("--root").arg(&rt.root).args(["run", "--preserve-fds", "3", "--bundle"]).arg(&b).arg("c2");
            c
        });
        assert_ne!(bad.code, 0, "{name}: {bad:?}");
        assert!(bad.stderr.contains("--preserve-fds 3: fd 3 is not open"), "{bad:?}");
        assert!(rt.leftovers().is_empty(), "{name}: {:?}", rt.leftovers());
    }
    let ((our_exec, our_f4), (their_exec, their_f4)) = (&outs[0], &outs[1]);
    assert_eq!(our_exec.stdout, their_exec.stdout, "exec: ours {our_exec:?}\nrunc's {their_exec:?}");
    assert_eq!(our_exec.stdout, "from three\n");
    assert_eq!(our_f4, their_f4);
    assert_eq!(our_f4, "to-four\n");
}

/// `install` adds runsc to a daemon.json (keeping what else it holds, with
/// runtime flags after `--`), refuses to replace one without --clobber,
/// and `uninstall` takes it out; a file that is not a JSON object is left
/// as it was. (Docker's own use of it is in tests/src/docker.rs.)
#[test]
fn install_edits_daemon_json() {
    let s = Scratch::new("install");
    let file = s.dir.join("docker/daemon.json");
    let f = file.to_str().unwrap();
    fs::create_dir_all(file.parent().unwrap()).unwrap();
    fs::write(&file, r#"{"log-level": "warn", "runtimes": {"other": {"path": "/bin/other"}}}"#).unwrap();
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["install", "--config-file", f, "--runtime", "ours", "--", "--debug"]).ok();
    let doc = json(&file);
    assert_eq!(doc["log-level"], "warn");
    assert_eq!(doc["runtimes"]["other"]["path"], "/bin/other");
    assert_eq!(doc["runtimes"]["ours"]["path"], runsc().to_str().unwrap());
    assert_eq!(doc["runtimes"]["ours"]["runtimeArgs"], serde_json::json!(["--debug"]));
    rt.cmd(&["install", "--config-file", f, "--runtime", "ours", "--clobber=false"]).fails_with("--clobber");
    rt.cmd(&["install", "--config-file", f]).ok();
    assert_eq!(json(&file)["runtimes"]["runsc"]["path"], runsc().to_str().unwrap());
    rt.cmd(&["uninstall", "--config-file", f, "--runtime", "ours"]).ok();
    let doc = json(&file);
    assert!(doc["runtimes"]["ours"].is_null() && !doc["runtimes"]["runsc"].is_null(), "{doc}");
    rt.cmd(&["uninstall", "--config-file", f, "--runtime", "ours"]).fails_with("no runtime");
    fs::write(&file, "[1, 2]").unwrap();
    rt.cmd(&["install", "--config-file", f]).fails_with("not a JSON object");
    assert_eq!(fs::read_to_string(&file).unwrap(), "[1, 2]");
    let names: Vec<_> = fs::read_dir(file.parent().unwrap()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(names.len(), 1, "no temporary file left: {names:?}");
}

/// `linux.resources.memory.limit`: a process past it is OOM-killed (the
/// host cgroup holds the sandbox to it) and the container goes on, as
/// under runc; the sandbox shows the limit as its total memory.
#[test]
fn memory_limit_kills_the_process_like_runc() {
    let s = Scratch::new("memlimit");
    let script = "sh -c 'x=$(head -c 200000000 /dev/zero | tr \"\\\\0\" a); echo survived'; \
                  echo status=$?; echo still here";
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(name, script, |spec| {
            spec["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}});
        });
        for a in ["head", "tr"] {
            std::os::unix::fs::symlink("busybox", b.join("rootfs/bin").join(a)).unwrap();
        }
        outs.push(s.runtime(bin, name).cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]));
    }
    assert_eq!(outs[1].stdout, "status=137\nstill here\n", "runc: {:?}", outs[1]);
    assert_eq!(outs[0].stdout, outs[1].stdout, "ours {:?}\nrunc's {:?}", outs[0], outs[1]);
    let b = s.bundle("total", "head -1 /proc/meminfo; free | grep -o 'Mem: *[0-9]*'", |spec| {
        spec["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}});
    });
    for a in ["head", "free"] {
        std::os::unix::fs::symlink("busybox", b.join("rootfs/bin").join(a)).unwrap();
    }
    let out = s.runtime(runsc(), "runsc").cmd(&["run", "--bundle", b.to_str().unwrap(), "c2"]);
    // /proc/meminfo, and sysinfo(2) (busybox free).
    assert_eq!(out.stdout, "MemTotal:          65536 kB\nMem:          65536\n", "{out:?}");
}

/// `linux.sysctl` in the sandbox's terms: the UTS names and
/// net.ipv4.ping_group_range are set, as runc sets them; a parameter at
/// the sandbox's own value is accepted; one the sandbox cannot take or
/// does not have is refused, naming it, and leaves nothing.
#[test]
fn sysctl_matches_runc() {
    let s = Scratch::new("sysctl");
    let script = "hostname; cd /proc/sys; cat kernel/domainname net/ipv4/ping_group_range \
                  net/ipv4/ip_unprivileged_port_start kernel/shmmni";
    let sysctl = serde_json::json!({"kernel.domainname": "example.org", "net.ipv4.ping_group_range": "0 2147483647",
        "net.ipv4.ip_unprivileged_port_start": "0", "kernel.shmmni": "4096"});
    let mut outs = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let b = s.bundle(name, script, |spec| spec["linux"]["sysctl"] = sysctl.clone());
        outs.push(s.runtime(bin, name).cmd(&["run", "--bundle", b.to_str().unwrap(), "c1"]));
    }
    assert_eq!(outs[1].stdout, "box\nexample.org\n0\t2147483647\n0\n4096\n", "runc: {:?}", outs[1]);
    assert_eq!(outs[0].stdout, outs[1].stdout, "ours {:?}\nrunc's {:?}", outs[0], outs[1]);
    let rt = s.runtime(runsc(), "runsc");
    for (i, (key, value, want)) in [
        ("kernel.shmmni", "100", "linux.sysctl.kernel.shmmni: the sandbox's value is \"4096\""),
        ("vm.no_such", "1", "linux.sysctl.vm.no_such: the sandbox has no such kernel parameter"),
        ("net.ipv4.ping_group_range", "x", "linux.sysctl.net.ipv4.ping_group_range"),
    ]
    .into_iter()
    .enumerate()
    {
        let b = s.bundle(&format!("bad{i}"), "true", |spec| spec["linux"]["sysctl"] = serde_json::json!({key: value}));
        rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c2"]).fails_with(want);
        assert!(rt.leftovers().is_empty());
    }
}

/// `linux.namespaces`: a network namespace by path (as a CNI plugin
/// prepares one) is the one the sandbox joins; another kind by path joins
/// the sandbox of the container whose process it names; joining any other
/// by path, and a user namespace without maps, are refused by field,
/// leaving nothing.
#[test]
fn network_namespace_by_path_is_joined() {
    let s = Scratch::new("netns");
    let rt = s.runtime(runsc(), "runsc");
    // A network namespace of a process of the test's (not the host's).
    let mut holder = Command::new("unshare").args(["--net", "sleep", "1000"]).spawn().expect("unshare");
    let ns = format!("/proc/{}/ns/net", holder.id());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while fs::read_link(&ns).ok() == fs::read_link("/proc/self/ns/net").ok() {
        assert!(std::time::Instant::now() < deadline, "unshare never made its namespace");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let with_ns = |name: &str, kind: &str, path: Option<&str>| {
        s.bundle(name, "sleep 1000", |spec| {
            let list = spec["linux"]["namespaces"].as_array_mut().unwrap();
            list.retain(|n| n["type"] != kind);
            let mut n = serde_json::json!({ "type": kind });
            if let Some(p) = path {
                n["path"] = p.into();
            }
            list.push(n);
        })
    };
    let b = with_ns("joined", "network", Some(&ns));
    rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c1"]).ok();
    let pid = rt.state("c1").unwrap()["pid"].as_i64().unwrap();
    assert_eq!(fs::read_link(format!("/proc/{pid}/ns/net")).unwrap(), fs::read_link(&ns).unwrap());
    rt.cmd(&["delete", "--force", "c1"]).ok();
    let b = with_ns("missing", "network", Some("/proc/self/ns/no-such"));
    rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c2"]).fails_with("linux.namespaces: network path");
    // A pid namespace of a process that is no container's sandbox.
    let b = with_ns("pid", "pid", Some(&ns.replace("/net", "/pid")));
    rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c3"]).fails_with("is not the sandbox of a container");
    let b = with_ns("uts", "uts", Some("/var/run/some-uts"));
    rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c5"]).fails_with("joining the uts namespace");
    // The IPC namespace of another container's sandbox: the container
    // joins that sandbox (its /dev/shm is the other's).
    let host = s.bundle("host", "echo from-host > /dev/shm/note; sleep 1000", |_| {});
    rt.cmd(&["run", "-d", "--bundle", host.to_str().unwrap(), "h1"]).ok();
    let boot = rt.state("h1").unwrap()["pid"].as_i64().unwrap();
    let b = with_ns("guest", "ipc", Some(&format!("/proc/{boot}/ns/ipc")));
    let mut spec: serde_json::Value = serde_json::from_slice(&fs::read(b.join("config.json")).unwrap()).unwrap();
    spec["process"]["args"] = serde_json::json!(["sh", "-c", "cat /dev/shm/note"]);
    fs::write(b.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let guest = loop {
        let o = rt.cmd(&["run", "--bundle", b.to_str().unwrap(), "g1"]);
        if o.stdout == "from-host\n" || std::time::Instant::now() > deadline {
            break o;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!((guest.code, guest.stdout.as_str()), (0, "from-host\n"), "{guest:?}");
    assert_eq!(rt.status("h1").as_deref(), Some("running"));
    rt.cmd(&["delete", "--force", "h1"]).ok();
    // A user namespace needs its maps (tests/user_namespaces.rs has the rest).
    let b = with_ns("user", "user", None);
    rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c4"]).fails_with("linux.uidMappings");
    let _ = holder.kill();
    let _ = holder.wait();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

/// The spec's mqueue mount (/dev/mqueue): the IPC namespace's POSIX
/// message queues as files, made with open(O_CREAT), read for their
/// status, removed with unlink, as under runc.
#[test]
fn mqueue_filesystem_matches_runc() {
    let s = Scratch::new("mqueue");
    let script = "cd /dev/mqueue; stat -c '%A' .; touch q1 && stat -c '%A %u %g %s %n' q1; cat q1; ls; \
                  mkdir d 2>/dev/null; echo mkdir=$?; mknod p p 2>/dev/null; echo mknod=$?; \
                  grep mqueue /proc/self/mounts | cut -d' ' -f1-3; stat -f -c '%t' .; rm q1; ls; echo done";
    let b = s.bundle("b", script, |_| {});
    let bundle = b.to_str().unwrap();
    let ours = s.runtime(runsc(), "runsc").cmd(&["run", "--bundle", bundle, "c1"]);
    let theirs = s.runtime("runc", "runc").cmd(&["run", "--bundle", bundle, "c1"]);
    assert_eq!(theirs.code, 0, "runc: {theirs:?}");
    assert!(theirs.stdout.contains("QSIZE:0"), "runc: {theirs:?}");
    assert_eq!(ours.stdout, theirs.stdout, "ours {ours:?}\nrunc's {theirs:?}");
}

/// `process.oomScoreAdj`: init and exec'd processes have it, as under
/// runc; on the host, the application's processes (the stubs) take it and
/// the sandbox keeps a lower one (-999 where runsc may lower it, else
/// what it was started with), so that the host's OOM killer picks an
/// application process first. Out of range, it is refused by field.
#[test]
fn oom_score_adj_matches_runc() {
    let s = Scratch::new("oomadj");
    let b = s.bundle("b", "cat /proc/self/oom_score_adj /proc/1/oom_score_adj; sleep 1000", |spec| {
        spec["process"]["oomScoreAdj"] = 300.into();
    });
    let bundle = b.to_str().unwrap();
    let mut seen = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("runc"), "runc")] {
        let rt = s.runtime(bin, name);
        let log = s.dir.join(format!("{name}.out"));
        let out = fs::File::create(&log).unwrap();
        let mut c = Command::new(&rt.binary);
        c.arg("--root").arg(&rt.root).args(["run", "--detach", "--bundle", bundle, "c1"]);
        c.stdin(Stdio::null()).stdout(out.try_clone().unwrap()).stderr(out);
        assert!(c.status().unwrap().success(), "{name} run --detach");
        rt.wait_status("c1", "running");
        let exec = rt.cmd(&["exec", "c1", "cat", "/proc/self/oom_score_adj"]).ok();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while fs::read_to_string(&log).unwrap().lines().count() < 2 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        seen.push((fs::read_to_string(&log).unwrap(), exec.stdout));
        if name == "runsc" {
            let pid = rt.state("c1").unwrap()["pid"].as_i64().unwrap();
            let adj =
                |p: i64| fs::read_to_string(format!("/proc/{p}/oom_score_adj")).unwrap().trim().parse::<i32>().unwrap();
            let stubs: Vec<i64> = fs::read_dir("/proc")
                .unwrap()
                .flatten()
                .filter_map(|e| e.file_name().to_str()?.parse::<i64>().ok())
                .filter(|p| {
                    let stat = fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
                    let after = stat.rsplit_once(") ").map_or("", |(_, a)| a);
                    after.split(' ').nth(1) == Some(&pid.to_string())
                })
                .collect();
            assert!(!stubs.is_empty(), "boot {pid} has no stubs");
            for p in stubs {
                assert_eq!(adj(p), 300, "stub {p}");
            }
            assert!(adj(pid) < 300, "boot's oom_score_adj {} is not below the application's", adj(pid));
        }
        rt.cmd(&["delete", "--force", "c1"]).ok();
    }
    assert_eq!(seen[0], seen[1], "ours, then runc's");
    assert_eq!(seen[1], ("300\n300\n".to_string(), "300\n".to_string()));
    let bad = s.bundle("bad", "true", |spec| spec["process"]["oomScoreAdj"] = 1001.into());
    s.runtime(runsc(), "runsc")
        .cmd(&["create", "--bundle", bad.to_str().unwrap(), "c2"])
        .fails_with("process.oomScoreAdj");
}
