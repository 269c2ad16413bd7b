//! Rootless: an unprivileged user runs a container from a spec `runsc
//! spec --rootless` wrote (a user namespace mapping the user's own ids to
//! root), with state under `$XDG_RUNTIME_DIR`, as under runc; the
//! sandbox's processes run as that user.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use runsc_tests::oci::{processes_mentioning, Scratch};
use runsc_tests::runsc;

/// The unprivileged user: a uid no account has (setpriv needs none).
const UID: u32 = 23456;

/// Owns `path` and everything under it by the user.
fn chown_user(path: &Path) {
    std::os::unix::fs::lchown(path, Some(UID), Some(UID)).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for e in fs::read_dir(path).unwrap().flatten() {
            chown_user(&e.path());
        }
    }
}

/// What an unprivileged run printed.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs `bin args` as the user, with `XDG_RUNTIME_DIR` at `xdg`.
fn as_user(bin: &Path, xdg: &Path, args: &[&str]) -> Out {
    let uid = UID.to_string();
    // Files, not pipes: a detached container keeps its stdio open.
    let (o, e) = (xdg.join("stdout"), xdg.join("stderr"));
    let status = Command::new("setpriv")
        .args(["--reuid", &uid, "--regid", &uid, "--clear-groups", "--"])
        .arg(bin)
        .args(args)
        .env("XDG_RUNTIME_DIR", xdg)
        .env("HOME", xdg)
        .stdin(Stdio::null())
        .stdout(fs::File::create(&o).unwrap())
        .stderr(fs::File::create(&e).unwrap())
        .status()
        .expect("run setpriv (util-linux)");
    Out {
        code: status.code().unwrap_or(-1),
        stdout: fs::read_to_string(&o).unwrap_or_default(),
        stderr: fs::read_to_string(&e).unwrap_or_default(),
    }
}

/// A bundle of busybox whose config.json `bin spec --rootless` wrote as
/// the user, running `sh -c script`.
fn bundle(dir: &Path, bin: &Path, script: &str) -> PathBuf {
    let s = Scratch { dir: dir.to_path_buf() };
    // Scratch's bundle, whose config.json is replaced by the rootless one.
    let b = s.bundle("b", "true", |_| {});
    std::mem::forget(s);
    fs::remove_file(b.join("config.json")).unwrap();
    chown_user(dir);
    let spec = as_user(bin, dir, &["spec", "--rootless", "--bundle", b.to_str().unwrap()]);
    assert_eq!(spec.code, 0, "{} spec --rootless: {spec:?}", bin.display());
    let path = b.join("config.json");
    let mut v: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    v["process"]["terminal"] = false.into();
    v["process"]["args"] = serde_json::json!(["sh", "-c", script]);
    fs::write(&path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    b
}

/// The container sees what it sees under rootless runc: root mapped to
/// the user, setgroups denied, its own files owned by root, /sys.
#[test]
fn rootless_run_matches_runc() {
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; \
                  busybox stat -c '%u %g %n' / /bin/busybox; ls /sys | busybox head -3; \
                  busybox touch /tmp/x 2>&1; echo touch=$?";
    let mut seen = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), (PathBuf::from("/usr/sbin/runc"), "runc")] {
        let s = Scratch::new(&format!("rootless-{name}"));
        let b = bundle(&s.dir, &bin, script);
        let out = as_user(&bin, &s.dir, &["run", "--bundle", b.to_str().unwrap(), "c1"]);
        // State went under $XDG_RUNTIME_DIR, the user's.
        let root = s.dir.join(name);
        assert!(root.is_dir(), "{name}: no state in {}: {out:?}", root.display());
        assert_eq!(fs::metadata(&root).unwrap().uid(), UID);
        seen.push((out.code, out.stdout));
    }
    assert_eq!(seen[1].0, 0, "runc: {:?}", seen[1]);
    assert!(seen[1].1.contains("      23456          1\ndeny\n"), "runc: {:?}", seen[1]);
    assert_eq!(seen[0], seen[1], "ours, then runc's");
}

/// The sandbox's processes run as the user; the lifecycle commands work
/// as the user and leave nothing behind. Without a user namespace, or
/// with limits only a cgroup could apply, a rootless create fails clearly.
#[test]
fn rootless_lifecycle_and_refusals() {
    let s = Scratch::new("rootless-life");
    let bin = runsc();
    let b = bundle(&s.dir, &bin, "sleep 1000");
    let bs = b.to_str().unwrap();
    let x = |args: &[&str]| as_user(&bin, &s.dir, args);
    // However the test ends, the container goes.
    struct Gone<'a>(&'a dyn Fn(&[&str]) -> Out);
    impl Drop for Gone<'_> {
        fn drop(&mut self) {
            (self.0)(&["delete", "--force", "c1"]);
        }
    }
    let _gone = Gone(&x);
    let created = x(&["run", "--detach", "--bundle", bs, "c1"]);
    assert_eq!(created.code, 0, "{created:?}");
    let state: serde_json::Value = serde_json::from_str(&x(&["state", "c1"]).stdout).unwrap();
    assert_eq!(state["status"], "running", "{state}");
    let pid = state["pid"].as_i64().unwrap();
    let mut procs: Vec<i32> = processes_mentioning(bs).into_iter().map(|(p, _)| p).collect();
    procs.push(pid as i32);
    for p in &procs {
        let status = fs::read_to_string(format!("/proc/{p}/status")).unwrap();
        let uids = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
        let want = UID.to_string();
        assert_eq!(uids.split_whitespace().skip(1).collect::<Vec<_>>(), [want.as_str(); 4], "process {p}: {status}");
    }
    let list = x(&["list", "--quiet"]);
    assert_eq!(list.stdout, "c1\n", "{list:?}");
    let ps = x(&["ps", "c1"]);
    assert!(ps.stdout.contains("sleep"), "{ps:?}");
    let exec = x(&["exec", "c1", "id", "-u"]);
    assert_eq!((exec.code, exec.stdout.as_str()), (0, "0\n"), "{exec:?}");
    assert_eq!(x(&["delete", "--force", "c1"]).code, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !processes_mentioning(bs).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(processes_mentioning(bs).is_empty(), "{:?}", processes_mentioning(bs));

    let path = b.join("config.json");
    let spec: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    let mut no_userns = spec.clone();
    no_userns["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "user");
    no_userns["linux"].as_object_mut().unwrap().remove("uidMappings");
    no_userns["linux"].as_object_mut().unwrap().remove("gidMappings");
    let mut limited = spec.clone();
    limited["linux"]["resources"] = serde_json::json!({"memory": {"limit": 67108864}});
    let mut many = spec;
    many["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    for (edited, want) in [
        (no_userns, "no user namespace"),
        (limited, "linux.resources cannot be applied"),
        (many, "only your own id can be mapped"),
    ] {
        fs::write(&path, serde_json::to_vec_pretty(&edited).unwrap()).unwrap();
        let out = x(&["create", "--bundle", bs, "c2"]);
        assert_ne!(out.code, 0, "{out:?}");
        assert!(out.stderr.contains(want), "want {want:?}: {out:?}");
        assert_eq!(x(&["list", "--quiet"]).stdout, "", "nothing left");
    }
    assert!(processes_mentioning(bs).is_empty());
}

/// `runsc do` as an unprivileged user: the program runs as the user (a
/// user namespace mapping the user's own ids), over the files the user
/// may reach, making files the user owns, as natively.
#[test]
fn rootless_do_matches_native() {
    let s = Scratch::new("rootless-do");
    chown_user(&s.dir);
    let dir = s.dir.display().to_string();
    let script = format!(
        "cd {dir} && id -u && id -g && echo hi > f && cat f && stat -c %u f && rm f; \
         ls /root > /dev/null 2>&1; echo root=$?; touch /etc/nope 2>/dev/null; echo etc=$?; \
         ls -ld /root 2>&1 > /dev/null | wc -l"
    );
    let native = as_user(Path::new("/bin/sh"), &s.dir, &["-c", &script]);
    // `ls -l` of a directory the user may not read: its attributes are
    // still read (getxattr needs no read permission), no error.
    let want = format!("{UID}\n{UID}\nhi\n{UID}\nroot=2\netc=1\n0\n");
    assert_eq!((native.code, native.stdout.as_str()), (0, want.as_str()), "native: {native:?}");
    let ours = as_user(&runsc(), &s.dir, &["do", "/bin/sh", "-c", &script]);
    assert_eq!((ours.code, ours.stdout.as_str()), (0, want.as_str()), "runsc do: {ours:?}");
}
