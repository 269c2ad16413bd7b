//! containerd drives runsc as runc: `ctr` with the runc v2 shim and
//! `--runc-binary` runsc, against a private containerd (see
//! `runsc_tests::containerd`) with an image the test builds. Each scenario
//! runs under runc too, and what the container prints must agree.

use std::time::{Duration, Instant};

use runsc_tests::containerd::Containerd;
use runsc_tests::image::NAME;
use runsc_tests::oci::{cgroup_dirs, processes_mentioning, Outcome};
use runsc_tests::runsc;

/// The runtimes compared: runc, then ours.
const RUNTIMES: [&str; 2] = ["runc", "runsc"];

/// `ctr run` flags that pick runtime `rt`, with a cgroup of its own.
fn runtime_flags(c: &Containerd, rt: &str, id: &str) -> Vec<String> {
    let mut v = vec!["--cgroup".to_string(), c.cgroup(rt, id)];
    if rt == "runsc" {
        v.push("--runc-binary".into());
        v.push(runsc().to_string_lossy().into_owned());
    }
    v
}

/// `ctr run --rm` of `script` under `rt`, with `input` on stdin.
fn run_rm(c: &Containerd, rt: &str, id: &str, extra: &[&str], script: &str, input: &[u8]) -> Outcome {
    let mut args: Vec<String> = vec!["run".into(), "--rm".into()];
    args.extend(runtime_flags(c, rt, id));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.extend([NAME.to_string(), id.to_string(), "sh".into(), "-c".into(), script.into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    c.run(c.ctr_command(&refs), input)
}

/// Waits (up to 10 s) until task `id`'s status (from `ctr task ls`) is `want`.
fn wait_task(c: &Containerd, id: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let ls = c.ctr(&["task", "ls"]).stdout;
        let st = ls.lines().find(|l| l.split_whitespace().next() == Some(id)).and_then(|l| l.split_whitespace().nth(2));
        if st == Some(want) {
            return;
        }
        assert!(Instant::now() < deadline, "task {id} never became {want}: {ls}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The value of metric `name` in `ctr task metrics` output.
fn metric(out: &str, name: &str) -> Option<String> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .and_then(|l| l.split_whitespace().nth(1))
        .map(str::to_owned)
}

#[test]
fn ctr_run_matches_runc() {
    let c = Containerd::start("run");
    let script =
        "echo hi; id; pwd; ls /; echo $PATH; cat /proc/self/status | grep -c Name; read line; echo got $line; \
                  echo to-stderr >&2; exit 7";
    let mut outs = Vec::new();
    for rt in RUNTIMES {
        let o = run_rm(&c, rt, "r1", &[], script, b"typed\n");
        assert_eq!(o.code, 7, "{rt}: ctr run exits with the container's status: {o:?}");
        assert!(o.stderr.contains("to-stderr"), "{rt}: the container's stderr reaches ctr's: {o:?}");
        outs.push(o.stdout);
    }
    assert!(outs[0].contains("got typed"), "runc: {}", outs[0]);
    assert_eq!(outs[0], outs[1], "stdout under runc and runsc differ");
    assert!(c.tasks().is_empty(), "--rm leaves no task: {:?}", c.tasks());
    assert!(cgroup_dirs(&c.cgroup("runsc", "r1")).is_empty(), "the container's cgroup is removed with it");
}

#[test]
fn ctr_task_lifecycle_matches_runc() {
    let c = Containerd::start("task");
    for rt in RUNTIMES {
        let id = format!("t-{rt}");
        let mut args: Vec<String> = vec!["run".into(), "-d".into(), "--memory-limit".into(), "67108864".into()];
        args.extend(runtime_flags(&c, rt, &id));
        args.extend([NAME.into(), id.clone(), "sh".into(), "-c".into()]);
        args.push("trap 'echo term; exit 3' TERM; while true; do sleep 0.1; done".into());
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.ctr(&refs).ok();
        wait_task(&c, &id, "RUNNING");

        // exec: its output, stdin and exit status come back through the shim.
        let e = c.run(
            c.ctr_command(&["task", "exec", "--exec-id", "e1", &id, "sh", "-c", "read x; echo exec $x; id -u; exit 5"]),
            b"in\n",
        );
        assert_eq!(e.code, 5, "{rt}: exec's status: {e:?}");
        assert_eq!(e.stdout, "exec in\n0\n", "{rt}: exec's output");

        // ps lists init and its sleep (pids are the sandbox's under runsc).
        let ps = c.ctr(&["task", "ps", &id]).ok().stdout;
        assert!(ps.lines().count() >= 2, "{rt}: task ps shows the container's processes: {ps}");

        c.ctr(&["task", "pause", &id]).ok();
        wait_task(&c, &id, "PAUSED");
        c.ctr(&["task", "resume", &id]).ok();
        wait_task(&c, &id, "RUNNING");

        // The shim reads metrics from the container's cgroup: the limit
        // asked for, and processes in it.
        let m = c.ctr(&["task", "metrics", &id]).ok().stdout;
        assert_eq!(metric(&m, "memory.limit_in_bytes").as_deref(), Some("67108864"), "{rt}: {m}");
        let pids: u64 = metric(&m, "pids.current").and_then(|v| v.parse().ok()).unwrap_or(0);
        assert!(pids >= 2, "{rt}: the container's processes are in its cgroup: {m}");

        // kill sends SIGTERM to init: its trap runs and sets the status.
        c.ctr(&["task", "kill", &id]).ok();
        wait_task(&c, &id, "STOPPED");
        let d = c.ctr(&["task", "delete", &id]).ok();
        assert!(d.stderr.contains("exit code 3"), "{rt}: ctr reports init's status: {d:?}");
        c.ctr(&["container", "rm", &id]).ok();
        assert!(cgroup_dirs(&c.cgroup(rt, &id)).is_empty(), "{rt}: the cgroup goes with the container");
    }
    assert!(c.tasks().is_empty());
    let left = processes_mentioning(&c.dir.to_string_lossy());
    assert!(
        left.iter().all(|(_, cmd)| cmd.contains("containerd --config") || cmd.contains("containerd-shim")),
        "nothing of the containers outlives them: {left:?}"
    );
}

#[test]
fn ctr_run_exit_statuses_match_runc() {
    let c = Containerd::start("status");
    // Init is immune to the signals it does not handle, even SIGKILL from
    // inside its own pid namespace; a child is not.
    let scripts = [
        ("s1", "kill -KILL $$; echo survived"),
        ("s2", "sleep 10 & kill -KILL $!; wait $!; echo child $?"),
        ("s3", "exec /nonexistent"),
        ("s4", "exit 0"),
        ("s5", "trap 'exit 9' USR1; kill -USR1 $$; sleep 1"),
    ];
    for (id, script) in scripts {
        let runc = run_rm(&c, "runc", id, &[], script, b"");
        let ours = run_rm(&c, "runsc", id, &[], script, b"");
        assert_eq!((runc.code, &runc.stdout), (ours.code, &ours.stdout), "{script}: runc {runc:?}, runsc {ours:?}");
    }
}

/// Containers of a pod under containerd's runc shim, as its CRI plugin
/// makes them (no CRI client comes from the package registries here, so
/// `ctr` gives the CRI's annotations): the sandbox container makes the
/// sandbox, the app container joins it; the shim's exec, ps, kill and
/// delete of the app leave the sandbox running, and its exit status
/// reaches ctr.
#[test]
fn ctr_pod_containers_share_a_sandbox() {
    let c = Containerd::start("pod");
    let pod = |kind: &str| {
        vec![
            "--annotation".to_string(),
            format!("io.kubernetes.cri.container-type={kind}"),
            "--annotation".into(),
            "io.kubernetes.cri.sandbox-id=pod1".into(),
        ]
    };
    let run_d = |id: &str, kind: &str, script: &str| {
        let mut args: Vec<String> = vec!["run".into(), "-d".into()];
        args.extend(runtime_flags(&c, "runsc", id));
        args.extend(pod(kind));
        args.extend([NAME.into(), id.to_string(), "sh".into(), "-c".into(), script.into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        c.ctr(&refs).ok();
        wait_task(&c, id, "RUNNING");
    };
    run_d("pod1", "sandbox", "trap 'exit 0' TERM; while true; do sleep 0.1; done");
    run_d("app", "container", "trap 'exit 9' TERM; echo app-was-here > /tmp/mine; while true; do sleep 0.1; done");
    let e = c.run(c.ctr_command(&["task", "exec", "--exec-id", "e1", "app", "sh", "-c", "cat /tmp/mine"]), b"");
    assert_eq!((e.code, e.stdout.as_str()), (0, "app-was-here\n"), "{e:?}");
    // The sandbox's root is its own: app's file is not there.
    let e = c.run(c.ctr_command(&["task", "exec", "--exec-id", "e2", "pod1", "cat", "/tmp/mine"]), b"");
    assert_ne!(e.code, 0, "the sandbox container saw app's file: {e:?}");
    let ps = c.ctr(&["task", "ps", "app"]).ok().stdout;
    assert!(ps.lines().count() >= 2, "task ps shows app's processes: {ps}");
    // app joined pod1's sandbox: its host process is a waiter, not a
    // sandbox of its own.
    let procs = processes_mentioning(" pod-waiter ");
    assert_eq!(procs.iter().filter(|(_, cmd)| cmd.contains("/app ")).count(), 1, "{procs:?}");
    // app pauses alone; pod1 goes on.
    c.ctr(&["task", "pause", "app"]).ok();
    wait_task(&c, "app", "PAUSED");
    wait_task(&c, "pod1", "RUNNING");
    c.ctr(&["task", "resume", "app"]).ok();
    wait_task(&c, "app", "RUNNING");
    c.ctr(&["task", "kill", "app"]).ok();
    wait_task(&c, "app", "STOPPED");
    let d = c.ctr(&["task", "delete", "app"]).ok();
    assert!(d.stderr.contains("exit code 9"), "ctr reports app's status: {d:?}");
    c.ctr(&["container", "rm", "app"]).ok();
    wait_task(&c, "pod1", "RUNNING");
    let e = c.run(c.ctr_command(&["task", "exec", "--exec-id", "e3", "pod1", "echo", "still-here"]), b"");
    assert_eq!(e.stdout, "still-here\n", "{e:?}");
    c.ctr(&["task", "kill", "pod1"]).ok();
    wait_task(&c, "pod1", "STOPPED");
    c.ctr(&["task", "delete", "pod1"]).ok();
    c.ctr(&["container", "rm", "pod1"]).ok();
    assert!(c.tasks().is_empty());
    let left = processes_mentioning(&c.dir.to_string_lossy());
    assert!(
        left.iter().all(|(_, cmd)| cmd.contains("containerd --config") || cmd.contains("containerd-shim")),
        "nothing of the containers outlives them: {left:?}"
    );
}
