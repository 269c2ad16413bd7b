//! Podman runs containers on runsc (`--runtime` with runsc's path, through
//! conmon: see `runsc_tests::podman`), and they behave as under runc: each
//! scenario runs under both and what the containers print must agree,
//! apart from what is the sandbox's by design (its kernel release, and a
//! volume's filesystem type: 9p, served by the gofer).

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::time::{Duration, Instant};

use runsc_tests::clients::{check_volume, flag_scenarios};
use runsc_tests::oci::{cgroup_dirs, Outcome};
use runsc_tests::podman::Podman;

/// The runtimes compared: runc, then ours.
const RUNTIMES: [&str; 2] = ["runc", "ours"];

/// `podman --runtime rt args...`, the container in the test's cgroup
/// parent (conmon stays in the test's cgroup).
fn podman_rt(p: &Podman, rt: &str, args: &[&str]) -> Outcome {
    let mut all = vec!["--runtime", rt];
    all.extend_from_slice(args);
    p.podman(&all)
}

/// The flags every `podman run` here takes.
fn run_flags(p: &Podman) -> Vec<String> {
    ["--network", "none", "--cgroups", "no-conmon", "--cgroup-parent", &p.cgroup_parent]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `podman run --rm [flags] rbox sh -c script` under runtime `rt`.
fn run(p: &Podman, rt: &str, flags: &[&str], script: &str) -> Outcome {
    let common = run_flags(p);
    let mut args = vec!["run", "--rm"];
    args.extend(common.iter().map(String::as_str));
    args.extend_from_slice(flags);
    args.extend_from_slice(&["rbox", "sh", "-c", script]);
    podman_rt(p, rt, &args)
}

/// Runs `script` with `flags` under both runtimes; returns runc's outcome
/// after checking that ours agrees on status, stdout and stderr.
fn same(p: &Podman, flags: &[&str], script: &str) -> Outcome {
    let runc = run(p, RUNTIMES[0], flags, script);
    let ours = run(p, RUNTIMES[1], flags, script);
    assert_eq!(
        (runc.code, &runc.stdout, &runc.stderr),
        (ours.code, &ours.stdout, &ours.stderr),
        "podman run {flags:?} sh -c {script:?}: runc (left) and runsc (right) differ"
    );
    runc
}

#[test]
fn podman_run_matches_runc() {
    let p = Podman::start("run");
    let o = same(
        &p,
        &[],
        "echo hi; ulimit -n; ulimit -Hn; ulimit -u; id; hostname | wc -c; cat /etc/hostname | wc -c; \
         grep -c localhost /etc/hosts; pwd; env | grep -v HOSTNAME | sort",
    );
    assert!(o.stdout.starts_with("hi\n1024\n4096\n2048\nuid=0(root)"), "{o:?}");
    same(&p, &["-u", "1000"], "echo $HOME; id");
    same(&p, &[], "echo out; echo err >&2; exit 3");
    same(&p, &[], "exec /nonexistent");
    let ours = run(&p, "ours", &[], "uname -sr").ok();
    assert!(ours.stdout.starts_with("Linux "), "{ours:?}");
    // stdin with -i.
    for rt in RUNTIMES {
        let common = run_flags(&p);
        let mut args = vec!["--runtime", rt, "run", "--rm", "-i"];
        args.extend(common.iter().map(String::as_str));
        args.extend_from_slice(&["rbox", "sh", "-c", "cat; echo end"]);
        let o = p.run(p.podman_command(&args), b"piped in\n");
        assert_eq!((o.code, o.stdout.as_str()), (0, "piped in\nend\n"), "{rt}: podman run -i: {o:?}");
    }
}

#[test]
fn podman_run_flags_match_runc() {
    let p = Podman::start("flags");
    let vol = p.dir.join("vol");
    for sc in flag_scenarios(&vol) {
        let flags: Vec<&str> = sc.flags.iter().map(String::as_str).collect();
        same(&p, &flags, &sc.script);
    }
    check_volume(&vol);
    same(&p, &["--ulimit", "nofile=100:200", "--ulimit", "nproc=50:60"], "ulimit -n; ulimit -Hn; ulimit -u");
}

/// Waits (up to 20 s) until `podman logs NAME` shows `want`.
fn wait_log(p: &Podman, name: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let l = p.podman(&["logs", name]);
        if l.stdout.contains(want) {
            return;
        }
        assert!(Instant::now() < deadline, "{name} never logged {want:?}: {l:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `podman run -d --name name [flags] rbox args...` under runtime `rt`;
/// returns the container's id.
fn run_detached(p: &Podman, rt: &str, name: &str, flags: &[&str], args: &[&str]) -> String {
    let common = run_flags(p);
    let mut all = vec!["run", "-d", "--name", name];
    all.extend(common.iter().map(String::as_str));
    all.extend_from_slice(flags);
    all.push("rbox");
    all.extend_from_slice(args);
    podman_rt(p, rt, &all).ok().stdout.trim().to_string()
}

#[test]
fn podman_detached_lifecycle_matches_runc() {
    let p = Podman::start("detached");
    for rt in RUNTIMES {
        let name = format!("life-{rt}");
        let script = "trap 'echo got TERM; exit 4' TERM; echo started; while true; do sleep 0.1; done";
        let id = run_detached(&p, rt, &name, &[], &["sh", "-c", script]);
        wait_log(&p, &name, "started");
        let st = p.podman(&["inspect", "-f", "{{.State.Status}} {{.OCIRuntime}}", &name]).ok();
        assert!(st.stdout.starts_with("running "), "{rt}: {st:?}");
        let e = p.podman(&["exec", &name, "sh", "-c", "echo in exec; exit 6"]);
        assert_eq!((e.code, e.stdout.as_str()), (6, "in exec\n"), "{rt}: podman exec: {e:?}");
        let e = p.run(p.podman_command(&["exec", "-i", &name, "cat"]), b"piped\n");
        assert_eq!(e.stdout, "piped\n", "{rt}: podman exec -i: {e:?}");
        let e = p.podman(&["exec", "-u", "1000", "-e", "X=y", "-w", "/tmp", &name, "sh", "-c", "id -u; echo $X; pwd"]);
        assert_eq!(e.stdout, "1000\ny\n/tmp\n", "{rt}: podman exec -u -e -w: {e:?}");
        assert!(!p.container_cgroups(&id).is_empty(), "{rt}: the container has its cgroup");
        // pause and unpause: the container stops running and goes on.
        p.podman(&["pause", &name]).ok();
        let st = p.podman(&["inspect", "-f", "{{.State.Status}}", &name]).ok();
        assert_eq!(st.stdout.trim(), "paused", "{rt}");
        p.podman(&["unpause", &name]).ok();
        let e = p.podman(&["exec", &name, "echo", "after unpause"]);
        assert_eq!(e.stdout, "after unpause\n", "{rt}: {e:?}");
        // podman stop: SIGTERM, which the trap takes.
        p.podman(&["stop", "-t", "10", &name]).ok();
        let st = p.podman(&["inspect", "-f", "{{.State.ExitCode}}", &name]).ok();
        assert_eq!(st.stdout.trim(), "4", "{rt}: exit code after podman stop");
        let logs = p.podman(&["logs", &name]).ok();
        assert_eq!(logs.stdout, "started\ngot TERM\n", "{rt}: podman logs");
        // podman start runs it again.
        p.podman(&["start", &name]).ok();
        p.podman(&["kill", "-s", "TERM", &name]).ok();
        let w = p.podman(&["wait", &name]).ok();
        assert_eq!(w.stdout.trim(), "4", "{rt}: podman wait after podman kill");
        p.podman(&["rm", &name]).ok();
        assert!(p.container_cgroups(&id).is_empty(), "{rt}: the cgroup goes with the container");

        // One that ignores SIGTERM is killed after the grace period.
        let name = format!("stubborn-{rt}");
        let script = "trap '' TERM; echo started; while true; do sleep 0.1; done";
        run_detached(&p, rt, &name, &[], &["sh", "-c", script]);
        wait_log(&p, &name, "started");
        let t0 = Instant::now();
        p.podman(&["stop", "-t", "1", &name]).ok();
        assert!(t0.elapsed() >= Duration::from_millis(900), "{rt}: stop waited for the grace period");
        let st = p.podman(&["inspect", "-f", "{{.State.ExitCode}}", &name]).ok();
        assert_eq!(st.stdout.trim(), "137", "{rt}: SIGKILL after the grace period");
        p.podman(&["rm", &name]).ok();
    }
}

/// A command running `c` (a podman command) on a terminal of its own:
/// `script` runs it, as written to a file in the scratch directory after
/// `prelude`, with `feed`'s output (a shell command) as the keys typed.
fn on_terminal(p: &Podman, c: &std::process::Command, prelude: &str, feed: &str) -> std::process::Command {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let quote = |a: &std::ffi::OsStr| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''"));
    let line: Vec<String> = std::iter::once(c.get_program()).chain(c.get_args()).map(quote).collect();
    let file = p.dir.join(format!("tty-{}.sh", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)));
    std::fs::write(&file, format!("{prelude}\nexec {}\n", line.join(" "))).expect("write the terminal's script");
    let mut s = std::process::Command::new("sh");
    s.arg("-c").arg(format!("{feed} | script -qec 'sh {}' /dev/null", file.display()));
    for (k, v) in c.get_envs() {
        if let Some(v) = v {
            s.env(k, v);
        }
    }
    s
}

#[test]
fn podman_run_tty_matches_runc() {
    let p = Podman::start("tty");
    let mut outs = Vec::new();
    for rt in RUNTIMES {
        // A terminal for podman: `script` runs it on a pty, sized first.
        // The container's terminal is its /dev/pts/0 under both.
        let mut c = p.podman_command(&["--runtime", rt, "run", "-it", "--rm"]);
        c.args(run_flags(&p)).args([
            "rbox",
            "sh",
            "-c",
            "tty; sleep 1; stty size; test -t 0 && echo stdin is a tty; echo done",
        ]);
        let s = on_terminal(&p, &c, "stty rows 33 cols 101", "true");
        let o = p.run(s, b"");
        assert_eq!(o.code, 0, "{rt}: {o:?}");
        // Podman's client writes a NUL to the terminal when it attaches,
        // echoed as ^@ whenever it lands.
        outs.push(o.stdout.replace(['\r', '\0'], "").replace("^@", ""));
    }
    assert!(
        outs[0].contains("/dev/pts/0\n") && outs[0].contains("stdin is a tty") && outs[0].contains("33 101"),
        "runc: {}",
        outs[0]
    );
    assert_eq!(outs[0], outs[1], "podman run -it: runc and runsc differ");
}

#[test]
fn podman_limits_in_cgroup() {
    let p = Podman::start("limits");
    for rt in RUNTIMES {
        let name = format!("lim-{rt}");
        let id = run_detached(&p, rt, &name, &["--memory", "64m", "--pids-limit", "100"], &["sleep", "1000"]);
        let dirs = p.container_cgroups(&id);
        let read = |files: &[&str]| {
            dirs.iter()
                .find_map(|d| files.iter().find_map(|f| std::fs::read_to_string(d.join(f)).ok()))
                .unwrap_or_default()
        };
        let mem = read(&["memory.limit_in_bytes", "memory.max"]);
        assert_eq!(mem.trim(), "67108864", "{rt}: the container's cgroup holds it to 64 MiB: {dirs:?}");
        // runsc counts the container's tasks itself; the host's limit is a
        // backstop above them.
        let pids = if rt == "runc" { "100" } else { "328" };
        assert_eq!(read(&["pids.max"]).trim(), pids, "{rt}: pids.max");
        let stats = p.podman(&["stats", "--no-stream", "--format", "{{.MemLimit}}", &name]).ok();
        assert!(stats.stdout.trim() == "67108864", "{rt}: podman stats: {stats:?}");
        p.podman(&["rm", "-f", "-t", "0", &name]).ok();
        assert!(cgroup_dirs(&format!("{}/libpod-{id}", p.cgroup_parent)).is_empty(), "{rt}: cgroup removed");
    }
}

#[test]
fn podman_tty_interrupt_reaches_the_container() {
    // ^C typed at `podman run -it` goes through conmon to the container's
    // terminal, whose line discipline signals its foreground group.
    let p = Podman::start("ctrl-c");
    for rt in RUNTIMES {
        let vol = p.dir.join(format!("vol-{rt}"));
        std::fs::create_dir_all(&vol).unwrap();
        let mut c = p.podman_command(&["--runtime", rt, "run", "-it", "--rm", "-v"]);
        c.arg(format!("{}:/data", vol.display())).args(run_flags(&p)).args([
            "rbox",
            "sh",
            "-c",
            "trap 'echo got INT; touch /data/done; exit 0' INT; touch /data/ready; \
             i=0; while [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; echo not interrupted",
        ]);
        // The key once the trap is set; stdin stays open until it is taken.
        let v = vol.display();
        let feed = format!(
            "(i=0; while [ ! -e {v}/ready ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; printf '\\003'; \
              i=0; while [ ! -e {v}/done ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done)"
        );
        let s = on_terminal(&p, &c, "", &feed);
        let o = p.run(s, b"");
        let out = o.stdout.replace('\r', "");
        assert!(out.contains("got INT") && !out.contains("not interrupted"), "{rt}: {o:?}");
    }
}

#[test]
fn podman_exec_tty_matches_runc() {
    // `podman exec -it`: conmon asks the runtime for a terminal for the
    // exec'd process (`exec --tty --console-socket`). What the shell on it
    // prints, how ^C interrupts its command, its size and a resize, and
    // its exit status agree with runc's.
    let p = Podman::start("exec-tty");
    let mut outs = Vec::new();
    for rt in RUNTIMES {
        let vol = p.dir.join(format!("vol-{rt}"));
        std::fs::create_dir_all(&vol).unwrap();
        let name = format!("sh-{rt}");
        let bind = format!("{}:/data", vol.display());
        run_detached(&p, rt, &name, &["-v", &bind], &["sleep", "1000"]);
        let c = p.podman_command(&["exec", "-it", &name, "sh"]);
        let v = vol.display();
        // Keys: a command; one interrupted once it runs; a resize (of the
        // outer terminal, which podman passes on); a last command.
        let feed = format!(
            "(sleep 0.5; printf 'tty; stty size; echo typed $((6*7))\\r'; \
              printf 'touch /data/busy; sleep 20; echo not interrupted\\r'; \
              i=0; while [ ! -e {v}/busy ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; sleep 0.3; \
              printf '\\003'; sleep 0.3; touch {v}/resize; sleep 0.5; \
              printf 'stty size; touch /data/done; exit 5\\r'; \
              i=0; while [ ! -e {v}/done ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done)"
        );
        // The resize, on the terminal podman runs on, when the keys say.
        let resize = format!(
            "stty rows 20 cols 60; (i=0; while [ ! -e {v}/resize ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; \
             stty rows 30 cols 90 <&2) &"
        );
        let s = on_terminal(&p, &c, &resize, &feed);
        let o = p.run(s, b"");
        assert_eq!(o.code, 5, "{rt}: the shell's exit status: {o:?}");
        // The shell redraws its prompt for each SIGWINCH, and how many a
        // resize makes is the clients' timing: the redraws are left out.
        let out = o.stdout.replace(['\r', '\0'], "").replace("^@", "");
        outs.push(out.replace("/ # \u{1b}[J", ""));
        p.podman(&["rm", "-f", "-t", "0", &name]).ok();
    }
    let runc = &outs[0];
    assert!(
        runc.contains("/dev/pts/0\n20 60\ntyped 42\n") && runc.contains("^C") && runc.contains("30 90\n"),
        "runc: {runc:?}"
    );
    assert!(!runc.contains("\nnot interrupted"), "runc: {runc:?}");
    assert_eq!(outs[0], outs[1], "podman exec -it: runc and runsc differ");
}

/// `--ipc container:X` and `--pid container:X` (the spec names X's
/// process's namespaces by path): under runsc the new container joins X's
/// sandbox, as a pod's containers do, so it sees X's /dev/shm and
/// processes, as under runc.
#[test]
fn podman_shared_namespaces_match_runc() {
    let p = Podman::start("sharens");
    for rt in RUNTIMES {
        let c1 = format!("c1-{rt}");
        let mut args = vec!["run", "-d", "--name", &c1];
        let common = run_flags(&p);
        args.extend(common.iter().map(String::as_str));
        args.extend_from_slice(&["rbox", "sh", "-c", "echo from-c1 > /dev/shm/note; exec sleep 100"]);
        podman_rt(&p, rt, &args).ok();
        let with = format!("container:{c1}");
        let deadline = Instant::now() + Duration::from_secs(10);
        let ipc = loop {
            let o = run(&p, rt, &["--ipc", &with], "cat /dev/shm/note");
            if o.stdout == "from-c1\n" || Instant::now() > deadline {
                break o;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        assert_eq!((ipc.code, ipc.stdout.as_str()), (0, "from-c1\n"), "{rt}: --ipc: {ipc:?}");
        let pid = run(&p, rt, &["--pid", &with], "ps -o comm | grep -c '^sleep'");
        assert_eq!((pid.code, pid.stdout.as_str()), (0, "1\n"), "{rt}: --pid: {pid:?}");
        p.podman(&["rm", "-f", "-t", "0", &c1]).ok();
    }
}

/// `--uidmap`/`--gidmap` (a user namespace with the image chowned to the
/// mapped ids, as root's Podman makes it): the container's ids, maps and
/// file owners, and the host's owners of what it writes to a volume, as
/// under runc.
#[test]
fn podman_uidmap_matches_runc() {
    let p = Podman::start("uidmap");
    let vol = p.dir.join("mapped-vol");
    fs::create_dir_all(&vol).unwrap();
    std::os::unix::fs::chown(&vol, Some(100_000), Some(100_000)).unwrap();
    let v = format!("{}:/vol", vol.display());
    let flags = ["--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536", "-v", &v];
    let script = "id; cat /proc/self/uid_map /proc/self/gid_map; stat -c '%u %g' / /bin/busybox /vol; \
                  rm -f /vol/f; touch /vol/f && chown 7:8 /vol/f; stat -c '%u %g' /vol/f";
    let o = same(&p, &flags, script);
    assert_eq!(o.code, 0, "{o:?}");
    assert!(o.stdout.contains("         0     100000      65536\n0 0\n0 0\n0 0\n7 8\n"), "{o:?}");
    let m = fs::metadata(vol.join("f")).unwrap();
    assert_eq!((m.uid(), m.gid()), (100_007, 100_008), "the volume's file on the host");
}
