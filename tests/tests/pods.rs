//! Pods: bundles carrying the CRI's annotations (containerd's
//! `io.kubernetes.cri.container-type` and `sandbox-id`, CRI-O's
//! `ContainerType` and `SandboxID`) run in one sandbox, as gVisor runs
//! them: the sandbox container makes it, the others join it, each with its
//! own root filesystem (own gofer), processes and mounts, sharing the
//! pod's IPC (/dev/shm), network and UTS namespaces. `ps`, `exec`,
//! `kill`, `delete` of one container leave the others running.
//!
//! No CRI client (crictl) comes from the package registries this machine
//! has, so these drive the bundles directly, as containerd's CRI plugin
//! would: create and start the sandbox, then create and start each
//! container with its annotations naming it.

use std::path::{Path, PathBuf};

use runsc_tests::oci::{console_receiver, processes_mentioning, Runtime, Scratch};
use runsc_tests::runsc;

/// Annotation keys of one CRI flavour: the type key and the sandbox ID key.
const CONTAINERD: (&str, &str) = ("io.kubernetes.cri.container-type", "io.kubernetes.cri.sandbox-id");
const CRIO: (&str, &str) = ("io.kubernetes.cri-o.ContainerType", "io.kubernetes.cri-o.SandboxID");

/// Bundle `name` of pod `pod` (the sandbox container's ID), of `kind`
/// (sandbox or container), running `sh -c script`; its rootfs has
/// /etc/who naming it, and a writable root.
fn member(s: &Scratch, name: &str, kind: &str, pod: &str, keys: (&str, &str), script: &str) -> PathBuf {
    let b = s.bundle(name, script, |spec| {
        spec["root"]["readonly"] = false.into();
        spec["annotations"] = serde_json::json!({ keys.0: kind, keys.1: pod });
    });
    std::fs::write(b.join("rootfs/etc/who"), format!("i am {name}\n")).unwrap();
    b
}

fn create(rt: &Runtime, bundle: &Path, id: &str) {
    rt.cmd(&["create", "--bundle", bundle.to_str().unwrap(), id]).ok();
}

/// The pids `ps --format json` lists.
fn pids(rt: &Runtime, id: &str) -> Vec<i64> {
    let out = rt.cmd(&["ps", "--format", "json", id]).ok();
    let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    v.as_array().unwrap_or_else(|| panic!("not a list: {v}")).iter().filter_map(|p| p.as_i64()).collect()
}

const PAUSE: &str = "trap 'exit 0' TERM; while true; do sleep 1; done";

/// Pod `pod` of `keys`' flavour running: its sandbox container (`pod`,
/// bundle `pause`) and container `app` running `script`, both started.
fn start_pod(s: &Scratch, rt: &Runtime, pod: &str, keys: (&str, &str), script: &str) -> PathBuf {
    let pause = member(s, "pause", "sandbox", pod, keys, PAUSE);
    let app = member(s, "app", "container", pod, keys, script);
    create(rt, &pause, pod);
    rt.cmd(&["start", pod]).ok();
    create(rt, &app, "app");
    rt.cmd(&["start", "app"]).ok();
    rt.wait_status("app", "running");
    app
}

/// Nothing of the scratch directory's containers is left: no state, no
/// host process.
fn assert_nothing_left(s: &Scratch, rt: &Runtime) {
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
    let procs = processes_mentioning(s.dir.to_str().unwrap());
    assert!(procs.is_empty(), "{procs:?}");
}

#[test]
fn containers_share_one_sandbox_with_roots_of_their_own() {
    let s = Scratch::new("pod-share");
    let rt = s.runtime(runsc(), "runsc");
    let pause = member(&s, "pause", "sandbox", "pod1", CONTAINERD, PAUSE);
    let app = member(&s, "app", "container", "pod1", CONTAINERD, "echo from-app > /tmp/mine; sleep 1000");
    let other = member(
        &s,
        "other",
        "container",
        "pod1",
        CONTAINERD,
        "cat /etc/who; ls /tmp; cat /dev/shm/note; hostname; exit 3",
    );
    create(&rt, &pause, "pod1");
    rt.cmd(&["start", "pod1"]).ok();
    let boot_pid = rt.state("pod1").unwrap()["pid"].as_i64().unwrap();
    create(&rt, &app, "app");
    assert_eq!(rt.status("app").as_deref(), Some("created"));
    rt.cmd(&["start", "app"]).ok();
    rt.wait_status("app", "running");
    // Its own root: the file it writes is its own.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while rt.cmd(&["exec", "app", "cat", "/tmp/mine"]).stdout != "from-app\n" {
        assert!(std::time::Instant::now() < deadline, "app never wrote /tmp/mine");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert_eq!(rt.cmd(&["exec", "app", "cat", "/etc/who"]).ok().stdout, "i am app\n");
    assert_eq!(rt.cmd(&["exec", "pod1", "cat", "/etc/who"]).ok().stdout, "i am pause\n");
    assert_ne!(rt.cmd(&["exec", "pod1", "cat", "/tmp/mine"]).code, 0, "the sandbox's root saw app's file");
    // One pid namespace: each sees the other's root through /proc, as
    // Linux lets a process of the same ids and capabilities.
    assert_eq!(rt.cmd(&["exec", "app", "cat", "/proc/1/root/etc/who"]).ok().stdout, "i am pause\n");
    let app_init = pids(&rt, "app")[0];
    let theirs = format!("/proc/{app_init}/root/tmp/mine");
    assert_eq!(rt.cmd(&["exec", "pod1", "cat", &theirs]).ok().stdout, "from-app\n");
    // The pod's IPC namespace: one /dev/shm.
    rt.cmd(&["exec", "app", "sh", "-c", "echo shared-note > /dev/shm/note"]).ok();
    assert_eq!(rt.cmd(&["exec", "pod1", "cat", "/dev/shm/note"]).ok().stdout, "shared-note\n");
    // Each container's processes are its own.
    let (pod_pids, app_pids) = (pids(&rt, "pod1"), pids(&rt, "app"));
    assert!(pod_pids.contains(&1), "the sandbox's init is pid 1: {pod_pids:?}");
    assert!(!app_pids.is_empty() && app_pids.iter().all(|p| !pod_pids.contains(p)), "{pod_pids:?} {app_pids:?}");
    // Each container's CPU time is its own: app's busy loop is app's.
    let cpu = |id: &str| {
        let out = rt.cmd(&["events", "--stats", id]).ok();
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        v["data"]["cpu"]["usage"]["total"].as_u64().unwrap_or_else(|| panic!("{v}"))
    };
    let (app0, pod0) = (cpu("app"), cpu("pod1"));
    rt.cmd(&["exec", "app", "sh", "-c", "i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done"]).ok();
    let (app1, pod1) = (cpu("app"), cpu("pod1"));
    assert!(app1 - app0 > 20_000_000, "app's loop took {} ns", app1 - app0);
    assert!(pod1 - pod0 < (app1 - app0) / 2, "the sandbox's container got app's time: {} ns", pod1 - pod0);
    // Each container's memory is what its processes map; the sandbox's
    // container's, all the pod's.
    let mem = |id: &str| {
        let out = rt.cmd(&["events", "--stats", id]).ok();
        let v: serde_json::Value = serde_json::from_str(out.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {out:?}"));
        v["data"]["memory"]["usage"]["usage"].as_u64().unwrap_or_else(|| panic!("{v}"))
    };
    let app_before = mem("app");
    assert!(app_before < 20 << 20, "app's idle shell holds {app_before} bytes");
    let hog = "x=$(busybox head -c 40000000 /dev/zero | busybox tr '\\0' a); echo held > /tmp/held; sleep 1000; true";
    rt.cmd(&["exec", "--detach", "app", "sh", "-c", hog]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while rt.cmd(&["exec", "app", "cat", "/tmp/held"]).stdout != "held\n" {
        assert!(std::time::Instant::now() < deadline, "the memory hog never got there");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let (app_after, pod_all) = (mem("app"), mem("pod1"));
    // 40 MB of 'a' (38.1 MiB) in the shell's variable.
    assert!(app_after >= app_before + (36 << 20), "app holds {app_after} bytes (had {app_before})");
    assert!(pod_all >= app_after, "the pod holds {pod_all} bytes, less than app's {app_after}");
    // A container that runs to its end: its status is the run's, its
    // root its own, the pod's UTS name and /dev/shm shared.
    let out = rt.cmd(&["run", "--bundle", other.to_str().unwrap(), "other"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert_eq!(out.stdout, "i am other\nshared-note\nbox\n", "{out:?}");
    assert!(rt.status("other").is_none(), "run left its state");
    // Killing and deleting one leaves the others running.
    rt.cmd(&["kill", "app", "KILL"]).ok();
    rt.wait_status("app", "stopped");
    assert_eq!(rt.status("pod1").as_deref(), Some("running"));
    rt.cmd(&["delete", "app"]).ok();
    assert!(processes_mentioning(app.join("rootfs").to_str().unwrap()).is_empty(), "app's gofer outlived it");
    assert_eq!(rt.cmd(&["exec", "pod1", "cat", "/etc/who"]).ok().stdout, "i am pause\n");
    assert_eq!(rt.state("pod1").unwrap()["pid"].as_i64(), Some(boot_pid));
    rt.cmd(&["kill", "pod1", "TERM"]).ok();
    rt.wait_status("pod1", "stopped");
    rt.cmd(&["delete", "pod1"]).ok();
    assert_nothing_left(&s, &rt);
}

#[test]
fn a_pod_container_is_signalled_waited_and_deleted_alone() {
    let s = Scratch::new("pod-alone");
    let rt = s.runtime(runsc(), "runsc");
    start_pod(&s, &rt, "pod2", CRIO, "trap 'echo term; exit 7' TERM; sleep 1000 & wait");
    assert_eq!(pids(&rt, "app").len(), 2, "its shell and its sleep");
    // runsc wait gives its init's status once TERM ends it; its other
    // process goes with it, as in a pid namespace of its own.
    let waiter = std::process::Command::new(runsc())
        .arg("--root")
        .arg(&rt.root)
        .args(["wait", "app"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    rt.cmd(&["kill", "app", "TERM"]).ok();
    let out = waiter.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), r#"{"exitStatus":7,"id":"app"}"#, "{out:?}");
    rt.wait_status("app", "stopped");
    assert!(pids(&rt, "pod2").contains(&1));
    assert_eq!(rt.status("pod2").as_deref(), Some("running"));
    rt.cmd(&["delete", "app"]).ok();
    rt.cmd(&["delete", "--force", "pod2"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

#[test]
fn deleting_the_sandbox_stops_its_containers() {
    let s = Scratch::new("pod-gone");
    let rt = s.runtime(runsc(), "runsc");
    start_pod(&s, &rt, "pod3", CONTAINERD, "sleep 1000");
    rt.cmd(&["delete", "app"]).fails_with("not stopped");
    rt.cmd(&["delete", "--force", "pod3"]).ok();
    rt.wait_status("app", "stopped");
    rt.cmd(&["delete", "app"]).ok();
    assert_nothing_left(&s, &rt);
}

#[test]
fn bad_pod_annotations_fail_clearly_and_leave_nothing() {
    let s = Scratch::new("pod-bad");
    let rt = s.runtime(runsc(), "runsc");
    let orphan = member(&s, "orphan", "container", "nosuchpod", CONTAINERD, "true");
    rt.cmd(&["create", "--bundle", orphan.to_str().unwrap(), "orphan"]).fails_with("\"nosuchpod\" does not exist");
    let odd = member(&s, "odd", "sidecar", "nosuchpod", CONTAINERD, "true");
    rt.cmd(&["create", "--bundle", odd.to_str().unwrap(), "odd"])
        .fails_with("is neither \"sandbox\" nor \"container\"");
    // A container of a container is refused: only a pod's sandbox takes
    // containers.
    let pause = member(&s, "pause", "sandbox", "pod4", CONTAINERD, PAUSE);
    let app = member(&s, "app", "container", "pod4", CONTAINERD, "sleep 1000");
    let nested = member(&s, "nested", "container", "app", CONTAINERD, "true");
    create(&rt, &pause, "pod4");
    create(&rt, &app, "app");
    rt.cmd(&["create", "--bundle", nested.to_str().unwrap(), "nested"]).fails_with("not a pod's sandbox");
    // A program that is not there fails the create, in the pod too.
    let missing = member(&s, "missing", "container", "pod4", CONTAINERD, "true");
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(missing.join("config.json")).unwrap()).unwrap();
    spec["process"]["args"] = serde_json::json!(["/bin/nothing-here"]);
    std::fs::write(missing.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    rt.cmd(&["create", "--bundle", missing.to_str().unwrap(), "missing"]).fails_with("no such file or directory");
    assert_eq!(rt.leftovers(), vec!["app".to_string(), "pod4".to_string()]);
    rt.cmd(&["delete", "app"]).ok();
    rt.cmd(&["delete", "pod4"]).ok();
    assert_nothing_left(&s, &rt);
}

/// A pod's container with `process.terminal` and `--console-socket` runs
/// on a terminal of its own, as the sandbox's first container does.
#[test]
fn a_pod_container_gets_its_terminal() {
    let s = Scratch::new("pod-tty");
    let rt = s.runtime(runsc(), "runsc");
    let pause = member(&s, "pause", "sandbox", "pod5", CONTAINERD, PAUSE);
    let app = member(
        &s,
        "app",
        "container",
        "pod5",
        CONTAINERD,
        "cat /etc/who; ls -l /proc/self/fd/0; echo ready; read line; echo got $line",
    );
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(app.join("config.json")).unwrap()).unwrap();
    spec["process"]["terminal"] = true.into();
    std::fs::write(app.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    create(&rt, &pause, "pod5");
    rt.cmd(&["start", "pod5"]).ok();
    let (sock, out) = (s.dir.join("console.sock"), s.dir.join("console.out"));
    let mut receiver = console_receiver(&sock, &out);
    rt.cmd(&["create", "--bundle", app.to_str().unwrap(), "--console-socket", sock.to_str().unwrap(), "app"]).ok();
    rt.cmd(&["start", "app"]).ok();
    rt.wait_status("app", "stopped");
    assert!(receiver.wait().unwrap().success());
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.contains("i am app\n"), "{text}");
    assert!(text.contains("/proc/self/fd/0 -> /dev/pts/"), "{text}");
    assert!(text.contains("ready\nping\ngot ping\n"), "{text}");
    rt.cmd(&["delete", "app"]).ok();
    rt.cmd(&["delete", "--force", "pod5"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

/// `--preserve-fds` reaches a pod container's init, as the sandbox's.
#[test]
fn a_pod_container_gets_preserved_fds() {
    let s = Scratch::new("pod-fds");
    let rt = s.runtime(runsc(), "runsc");
    let pause = member(&s, "pause", "sandbox", "pod6", CONTAINERD, PAUSE);
    let app = member(&s, "app", "container", "pod6", CONTAINERD, "cat <&3; echo to-four >&4");
    create(&rt, &pause, "pod6");
    rt.cmd(&["start", "pod6"]).ok();
    let (f3, f4) = (s.dir.join("f3"), s.dir.join("f4"));
    std::fs::write(&f3, "from three\n").unwrap();
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg("exec \"$0\" --root \"$1\" run --preserve-fds 2 --bundle \"$2\" app 3<\"$3\" 4>\"$4\"")
        .arg(runsc())
        .arg(&rt.root)
        .arg(&app)
        .arg(&f3)
        .arg(&f4);
    let out = rt.run(c);
    assert_eq!((out.code, out.stdout.as_str()), (0, "from three\n"), "{out:?}");
    assert_eq!(std::fs::read_to_string(&f4).unwrap(), "to-four\n");
    rt.cmd(&["delete", "--force", "pod6"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

/// `pause` of a pod's container holds its processes alone: the sandbox's
/// go on; `resume` lets them run again.
#[test]
fn a_pod_container_is_paused_alone() {
    let s = Scratch::new("pod-pause");
    let rt = s.runtime(runsc(), "runsc");
    start_pod(&s, &rt, "pod7", CONTAINERD, "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.02; done");
    let init = pids(&rt, "app")[0];
    // The sandbox's container reads app's counter through /proc.
    let count = || {
        let out = rt.cmd(&["exec", "pod7", "cat", &format!("/proc/{init}/root/tmp/n")]);
        out.stdout.trim().parse::<u64>().unwrap_or(0)
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count() < 3 {
        assert!(std::time::Instant::now() < deadline, "app never counted");
    }
    rt.cmd(&["pause", "app"]).ok();
    assert_eq!(rt.status("app").as_deref(), Some("paused"));
    assert_eq!(rt.status("pod7").as_deref(), Some("running"));
    let held = count();
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(count(), held, "app counted while paused");
    rt.cmd(&["exec", "app", "true"]).fails_with("paused");
    rt.cmd(&["resume", "app"]).ok();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while count() <= held {
        assert!(std::time::Instant::now() < deadline, "app never counted again");
    }
    rt.cmd(&["resume", "app"]).fails_with("not paused");
    // Paused, it is still killed by delete --force.
    rt.cmd(&["pause", "app"]).ok();
    rt.cmd(&["delete", "--force", "app"]).ok();
    rt.cmd(&["delete", "--force", "pod7"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

/// A pod in a user namespace (Kubernetes' `hostUsers: false`, as
/// containerd's CRI plugin gives it): the sandbox container has the maps,
/// the app container names the sandbox's namespace by path. Both see the
/// maps; the app's files on its volume are owned as they map; its gofers
/// run as the mapped root.
#[test]
fn a_pod_in_a_user_namespace() {
    let s = Scratch::new("pod-userns");
    let rt = s.runtime(runsc(), "runsc");
    let maps = |spec: &mut serde_json::Value| {
        spec["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        spec["linux"]["gidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    };
    let chown = |p: &Path| {
        let out = std::process::Command::new("chown").arg("-R").arg("100000:100000").arg(p).status().unwrap();
        assert!(out.success());
    };
    let pause = member(&s, "pause", "sandbox", "pod1", CONTAINERD, PAUSE);
    let mut spec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(pause.join("config.json")).unwrap()).unwrap();
    maps(&mut spec);
    spec["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user"}));
    std::fs::write(pause.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    chown(&pause.join("rootfs"));
    create(&rt, &pause, "pod1");
    rt.cmd(&["start", "pod1"]).ok();
    let boot = rt.state("pod1").unwrap()["pid"].as_i64().unwrap();
    let vol = s.dir.join("vol");
    std::fs::create_dir_all(&vol).unwrap();
    chown(&vol);
    let app = member(&s, "app", "container", "pod1", CONTAINERD, "touch /vol/mine && cat /proc/self/uid_map");
    let mut spec: serde_json::Value = serde_json::from_slice(&std::fs::read(app.join("config.json")).unwrap()).unwrap();
    maps(&mut spec);
    let ns = format!("/proc/{boot}/ns/user");
    spec["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user", "path": ns}));
    spec["mounts"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "rw"]}));
    std::fs::write(app.join("config.json"), serde_json::to_vec(&spec).unwrap()).unwrap();
    chown(&app.join("rootfs"));
    let out = rt.cmd(&["run", "--bundle", app.to_str().unwrap(), "app"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, "         0     100000      65536\n"), "{out:?}");
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(vol.join("mine")).unwrap();
    assert_eq!((m.uid(), m.gid()), (100_000, 100_000), "the app's file on the host");
    let seen = rt.cmd(&["exec", "pod1", "cat", "/proc/self/uid_map"]).ok();
    assert_eq!(seen.stdout, "         0     100000      65536\n");
    rt.cmd(&["delete", "--force", "pod1"]).ok();
    assert_nothing_left(&s, &rt);
}
