//! Docker runs containers on runsc (`--runtime ours`, added to a private
//! dockerd: see `runsc_tests::docker`), and they behave as under runc:
//! each scenario runs under both and what the containers print must agree,
//! apart from what is the sandbox's by design (its kernel release, and a
//! volume's filesystem type: 9p, served by the gofer).

use std::time::{Duration, Instant};

use runsc_tests::clients::{check_volume, flag_scenarios};
use runsc_tests::docker::Dockerd;
use runsc_tests::oci::{cgroup_dirs, Outcome};

/// The runtimes compared: runc, then ours.
const RUNTIMES: [&str; 2] = ["runc", "ours"];

/// `docker run --rm --network none --runtime rt [flags] rbox sh -c script`.
fn run(d: &Dockerd, rt: &str, flags: &[&str], script: &str) -> Outcome {
    let mut args = vec!["run", "--rm", "--network", "none", "--runtime", rt];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["rbox", "sh", "-c", script]);
    d.docker(&args)
}

/// Runs `script` with `flags` under both runtimes; returns runc's outcome
/// after checking that ours agrees on status, stdout and stderr.
fn same(d: &Dockerd, flags: &[&str], script: &str) -> Outcome {
    let runc = run(d, "runc", flags, script);
    let ours = run(d, "ours", flags, script);
    assert_eq!(
        (runc.code, &runc.stdout, &runc.stderr),
        (ours.code, &ours.stdout, &ours.stderr),
        "docker run {flags:?} sh -c {script:?}: runc (left) and runsc (right) differ"
    );
    runc
}

#[test]
fn docker_run_matches_runc() {
    let d = Dockerd::start("run");
    let o = same(
        &d,
        &[],
        "echo hi; cat /etc/hosts; id; hostname | wc -c; cat /etc/hostname | wc -c; pwd; env | grep -v HOSTNAME | sort",
    );
    same(&d, &["-u", "1000"], "echo $HOME");
    assert!(o.stdout.starts_with("hi\n127.0.0.1\tlocalhost\n"), "{o:?}");
    same(&d, &[], "echo out; echo err >&2; exit 3");
    same(&d, &[], "exec /nonexistent");
    // The kernel release is the sandbox's own.
    let ours = run(&d, "ours", &[], "uname -sr").ok();
    assert!(ours.stdout.starts_with("Linux "), "{ours:?}");
}

#[test]
fn docker_run_flags_match_runc() {
    let d = Dockerd::start("flags");
    let vol = d.dir.join("vol");
    for sc in flag_scenarios(&vol) {
        let flags: Vec<&str> = sc.flags.iter().map(String::as_str).collect();
        same(&d, &flags, &sc.script);
    }
    check_volume(&vol);
}

#[test]
fn docker_detached_lifecycle_matches_runc() {
    let d = Dockerd::start("detached");
    for rt in RUNTIMES {
        let name = format!("life-{rt}");
        let script = "trap 'echo got TERM; exit 4' TERM; echo started; while true; do sleep 0.1; done";
        let o =
            d.docker(&["run", "-d", "--name", &name, "--network", "none", "--runtime", rt, "rbox", "sh", "-c", script]);
        let id = o.ok().stdout.trim().to_string();
        wait_log(&d, &name, "started");
        let e = d.docker(&["exec", &name, "sh", "-c", "echo in exec; exit 6"]);
        assert_eq!((e.code, e.stdout.as_str()), (6, "in exec\n"), "{rt}: docker exec: {e:?}");
        let e = d.run(d.docker_command(&["exec", "-i", &name, "cat"]), b"piped\n");
        assert_eq!(e.stdout, "piped\n", "{rt}: docker exec -i: {e:?}");
        let top = d.docker(&["top", &name]).ok();
        assert!(top.stdout.lines().count() >= 2, "{rt}: docker top: {top:?}");
        assert!(!d.container_cgroups(&id).is_empty(), "{rt}: the container has its cgroup");
        // docker stop: SIGTERM, which the trap takes.
        d.docker(&["stop", "-t", "10", &name]).ok();
        let st = d.docker(&["inspect", "-f", "{{.State.ExitCode}}", &name]).ok();
        assert_eq!(st.stdout.trim(), "4", "{rt}: exit code after docker stop");
        let logs = d.docker(&["logs", &name]).ok();
        assert_eq!(logs.stdout, "started\ngot TERM\n", "{rt}: docker logs");
        d.docker(&["rm", &name]).ok();
        assert!(d.container_cgroups(&id).is_empty(), "{rt}: the cgroup goes with the container");

        // One that ignores SIGTERM is killed after the grace period.
        let name = format!("stubborn-{rt}");
        let script = "trap '' TERM; echo started; while true; do sleep 0.1; done";
        d.docker(&["run", "-d", "--name", &name, "--network", "none", "--runtime", rt, "rbox", "sh", "-c", script])
            .ok();
        wait_log(&d, &name, "started");
        let t0 = Instant::now();
        d.docker(&["stop", "-t", "1", &name]).ok();
        assert!(t0.elapsed() >= Duration::from_millis(900), "{rt}: stop waited for the grace period");
        let st = d.docker(&["inspect", "-f", "{{.State.ExitCode}}", &name]).ok();
        assert_eq!(st.stdout.trim(), "137", "{rt}: SIGKILL after the grace period");
        d.docker(&["rm", &name]).ok();
    }
}

#[test]
fn docker_run_tty_matches_runc() {
    let d = Dockerd::start("tty");
    let mut outs = Vec::new();
    for rt in RUNTIMES {
        // A terminal for docker's client: `script` runs it on a pty, sized
        // first (docker resizes the container's after starting it: the
        // shell waits a moment before it looks). The container's terminal
        // is its /dev/pts/0 under both.
        let cmd = format!(
            "stty rows 33 cols 101; /usr/bin/docker -H unix://{}/sock run -it --rm --network none --runtime {rt} rbox \
             sh -c 'tty; sleep 1; stty size; test -t 0 && echo stdin is a tty; echo done'",
            d.dir.display()
        );
        let mut c = std::process::Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"]);
        let o = d.run(c, b"");
        assert_eq!(o.code, 0, "{rt}: {o:?}");
        outs.push(o.stdout.replace(['\r', '\0'], ""));
    }
    assert!(
        outs[0].contains("/dev/pts/0\n") && outs[0].contains("stdin is a tty") && outs[0].contains("33 101"),
        "runc: {}",
        outs[0]
    );
    assert_eq!(outs[0], outs[1], "docker run -it: runc and runsc differ");
}

#[test]
fn docker_exec_tty_matches_runc() {
    // `docker exec -it`: the shim asks the runtime for a terminal for the
    // exec'd process (`exec --tty --console-socket`), which the client then
    // sizes as its own (the process waits, at most 5 s, for the size).
    let d = Dockerd::start("exec-tty");
    let mut outs = Vec::new();
    for rt in RUNTIMES {
        let name = format!("sh-{rt}");
        d.docker(&["run", "-d", "--name", &name, "--network", "none", "--runtime", rt, "rbox", "sleep", "1000"]).ok();
        let cmd = format!(
            "stty rows 22 cols 77; /usr/bin/docker -H unix://{}/sock exec -it {name} \
             sh -c 'tty; test -t 0 && test -t 1 && echo on a tty; i=0; \
             while [ -z \"$(stty size 2>/dev/null)\" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; stty size; exit 7'",
            d.dir.display()
        );
        // The client's terminal input stays open a while (script passes
        // the end of its input on to the terminal, and the client stops
        // sizing it).
        let mut c = std::process::Command::new("sh");
        c.args(["-c", "sleep 3 | script -qec \"$0\" /dev/null", &cmd]);
        let o = d.run(c, b"");
        assert_eq!(o.code, 7, "{rt}: the exit status comes through: {o:?}");
        // A NUL can reach the terminal's input as the client's stdin ends,
        // echoed as ^@ where it lands.
        outs.push(o.stdout.replace(['\r', '\0'], "").replace("^@", ""));
        d.docker(&["rm", "-f", &name]).ok();
    }
    assert_eq!(outs[0], "/dev/pts/0\non a tty\n22 77\n", "runc");
    assert_eq!(outs[0], outs[1], "docker exec -it: runc and runsc differ");
}

/// `--memory` and `docker update` reach the container's cgroup.
#[test]
fn docker_memory_limit_in_cgroup() {
    let d = Dockerd::start("memory");
    for rt in RUNTIMES {
        let name = format!("mem-{rt}");
        let o = d.docker(&[
            "run",
            "-d",
            "--name",
            &name,
            "--network",
            "none",
            "--runtime",
            rt,
            "--memory",
            "64m",
            "rbox",
            "sleep",
            "1000",
        ]);
        let id = o.ok().stdout.trim().to_string();
        let dirs = d.container_cgroups(&id);
        let read = |file_v1: &str, file_v2: &str| {
            dirs.iter()
                .find_map(|p| {
                    std::fs::read_to_string(p.join(file_v1)).or_else(|_| std::fs::read_to_string(p.join(file_v2))).ok()
                })
                .unwrap_or_default()
        };
        let limit = read("memory.limit_in_bytes", "memory.max");
        assert_eq!(limit.trim(), "67108864", "{rt}: the container's cgroup holds it to 64 MiB: {dirs:?}");
        // Inside, the sandbox's own cgroup filesystem shows it (v1's or
        // v2's, as the host's).
        let v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let (mem, pids) = if v2 {
            ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/pids.max")
        } else {
            ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/pids/pids.max")
        };
        let inside = || d.docker(&["exec", &name, "cat", mem, pids]);
        if rt == "runsc" {
            assert_eq!(inside().ok().stdout, "67108864\nmax\n");
        }
        // `docker update` goes through the runtime's `update`.
        d.docker(&["update", "--memory", "32m", "--memory-swap", "64m", "--pids-limit", "77", &name]).ok();
        assert_eq!(read("memory.limit_in_bytes", "memory.max").trim(), "33554432", "{rt}: updated: {dirs:?}");
        if rt == "runsc" {
            assert_eq!(inside().ok().stdout, "33554432\n77\n");
        }
        // runsc counts the container's tasks itself; the host's limit is a
        // backstop above them (two host tasks each, and the sandbox's own).
        let pids = if rt == "runc" { "77" } else { "282" };
        assert_eq!(read("pids.max", "pids.max").trim(), pids, "{rt}: updated: {dirs:?}");
        d.docker(&["rm", "-f", &name]).ok();
        assert!(cgroup_dirs(&format!("{}/{id}", d.cgroup_parent)).is_empty(), "{rt}: cgroup removed");
    }
}

/// Waits (up to 20 s) until `docker logs NAME` shows `want`.
fn wait_log(d: &Dockerd, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = d.docker(&["logs", name]);
        if l.stdout.contains(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never logged {want:?}: {l:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A container whose init goes past `--memory` is OOM-killed: exit code
/// 137 and `OOMKilled` in `docker inspect` (dockerd learns it from the
/// shim's OOM event on the container's cgroup), as under runc. dockerd
/// may take the exit before the event (it happens under runc too, about
/// one run in ten here): each runtime gets three tries to show both.
#[test]
fn docker_oom_kill_matches_runc() {
    let d = Dockerd::start("oom");
    let mut seen = Vec::new();
    for rt in RUNTIMES {
        let mut tries = Vec::new();
        for n in 0..3 {
            let name = format!("oom-{rt}-{n}");
            let script = "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived";
            let args = ["run", "--name", &name, "--network", "none", "--runtime", rt, "--memory", "32m"];
            let o = d.docker(&[&args[..], &["--memory-swap", "32m", "rbox", "sh", "-c", script]].concat());
            assert_eq!(o.code, 137, "{rt}: {o:?}");
            let st = d.docker(&["inspect", "-f", "{{.State.ExitCode}} {{.State.OOMKilled}}", &name]).ok();
            d.docker(&["rm", &name]).ok();
            tries.push(st.stdout.trim().to_string());
            if tries.last().is_some_and(|t| t == "137 true") {
                break;
            }
        }
        seen.push(tries);
    }
    assert_eq!(seen[0].last().map(String::as_str), Some("137 true"), "runc: {:?}", seen[0]);
    assert_eq!(seen[1].last().map(String::as_str), Some("137 true"), "runsc: {:?} (runc: {:?})", seen[1], seen[0]);
}

/// dockerd's `--userns-remap` (to user nobody's subordinate ids
/// 100000-165535, in the daemon's overlaid /etc; it refuses root's): the container's root is host uid 100000;
/// what it sees of its ids, maps and files, and the owner on the host of
/// what it writes to a volume, match runc's.
#[test]
fn docker_userns_remap_matches_runc() {
    let d = Dockerd::start_with(
        "userns",
        "echo nobody:100000:65536 > /etc/subuid && echo nobody:100000:65536 > /etc/subgid",
        &["--userns-remap=nobody:nogroup"],
    );
    let vol = d.dir.join("remapped-vol");
    std::fs::create_dir_all(&vol).unwrap();
    std::os::unix::fs::chown(&vol, Some(100_000), Some(100_000)).unwrap();
    let v = format!("{}:/vol", vol.display());
    let o = same(
        &d,
        &["-v", &v],
        "id; cat /proc/self/uid_map /proc/self/gid_map; stat -c '%u %g' / /bin/busybox /vol; \
         rm -f /vol/f; touch /vol/f && chown 7:8 /vol/f && stat -c '%u %g' /vol/f",
    );
    assert!(o.stdout.contains("         0     100000      65536\n"), "{o:?}\ndockerd: {}", d.log());
    use std::os::unix::fs::MetadataExt as _;
    let m = std::fs::metadata(vol.join("f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (100_007, 100_008), "the volume's file on the host");
}
