//! Workloads of many processes and threads: shells, an init, python,
//! pthreads, language runtimes and tools, each run natively and under
//! `runsc do` with the same stdout and exit status; and the runaway
//! programs that only the sandbox's side can judge: they must end when
//! runsc gets SIGINT, SIGTERM or SIGKILL, and leave no host process behind.
//! Known failures are listed in `known_failures.txt` as `workloads/<test>`.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fs;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use runsc_tests::known_failures::known_failures;
use runsc_tests::run::describe_stderr;
use runsc_tests::{compare, compile, runsc, tests_dir, Cmd, Variant};

/// Declares one test per entry, checked against the known-failures list as
/// `workloads/<test>`, and the list of their names as `TESTS`.
macro_rules! workload_tests {
    ($($test:ident => $check:expr;)*) => {
        const TESTS: &[&str] = &[$(stringify!($test)),*];

        $(
            #[test]
            fn $test() {
                runsc_tests::check_known(concat!("workloads/", stringify!($test)), $check);
            }
        )*
    };
}

/// The shells the shell workloads run in.
const SHELLS: &[&[&str]] = &[&["/bin/bash", "-c"], &["/bin/dash", "-c"], &["/usr/bin/busybox", "sh", "-c"]];

workload_tests! {
    shell_pipeline => each_shell("ls /usr/bin | grep -c . | cat");
    shell_command_substitution => each_shell("x=$(echo hi; echo there); echo \"$x\"; echo $(( $(echo 6) * 7 ))");
    shell_background_jobs_and_wait => each_shell("sleep 0.2 & sleep 0.1 & wait; echo done $?");
    shell_trap_term => each_shell("trap 'echo got TERM' TERM; kill -TERM $$; echo after");
    shell_read_from_pipe => each_shell("echo a b | { read x y; echo \"$y $x\"; }");
    shell_here_document => each_shell("cat <<EOF\nhello $((1 + 2))\nsecond line\nEOF");
    shell_exit_status => each_shell("false; echo $?; true; echo $?; (exit 7); echo $?");
    shell_set_e => each_shell("set -e; echo before; false; echo notreached");
    shell_timeout => each_shell("timeout 1 sleep 5; echo $?");
    shell_xargs_parallel => each_shell("seq 10 | xargs -P2 -n1 echo | sort -n | tr '\\n' ' '; echo");
    shell_subshells_and_kill => each_shell("sleep 5 & p=$!; kill $p; wait $p; echo $?");
    bash_loop_of_true => same(Cmd::new(["/bin/bash", "-c", "for i in $(seq 100); do /bin/true; done; echo ok"]));
    bash_process_substitution => same(Cmd::new(["/bin/bash", "-c", "cat <(echo procsub) <(echo two)"]));
    bash_coproc => same(Cmd::new(["/bin/bash", "-c", "coproc { read l; echo got $l; }; echo hi >&${COPROC[1]}; read -u ${COPROC[0]} r; echo $r"]));
    sh_exec_after_background => same(Cmd::new(["/bin/sh", "-c", "sleep 0.3 & exec sleep 0.1"]));
    tini_runs_a_shell => same(Cmd::new(["/usr/bin/tini", "-s", "--", "/bin/sh", "-c", "echo hi; sleep 0.1 & wait; echo reaped"]));
    python_processes_threads_signals => same(Cmd::new([
        OsString::from("/usr/bin/python3.11"),
        tests_dir().join("programs/python_processes.py").into_os_string(),
    ]));
    threads_1000_alive => same_c("many_threads");
    processes_200_alive => same_c("many_processes");
    rustc_version => same(Cmd::new(["rustc", "--version"]));
    cargo_version => same(Cmd::new(["cargo", "--version"]));
    node_timer => same(Cmd::new(["/usr/bin/node", "-e", "setTimeout(() => console.log(1), 10)"]));
    node_child_process => same(Cmd::new(["/usr/bin/node", "-e", "console.log(require('child_process').execSync('echo hi').toString().trim())"]));
    java_version => same(Cmd::new(["/usr/bin/java", "-version"]));
    xz_threads => same(Cmd::new(["/bin/sh", "-c", "seq 100000 | xz -T2 -c | xz -d | md5sum"]));
    zstd_threads => same(Cmd::new(["/bin/sh", "-c", "seq 100000 | zstd -q -T2 -c | zstd -q -d | md5sum"]));
    gdb_version => same(Cmd::new(["/usr/bin/gdb", "--version"]));
    git_grep => same(Cmd::new(["git", "-C", env!("CARGO_MANIFEST_DIR"), "grep", "-c", "fn ", "--", "src/run.rs"]));
    make_parallel => same(Cmd::new(vec![
        OsString::from("/usr/bin/make"),
        "-s".into(),
        "-j2".into(),
        "-f".into(),
        tests_dir().join("programs/workload.mk").into_os_string(),
    ]));
    // Without the load addresses, which ASLR moves.
    ldd_ls => same(Cmd::new(["/bin/sh", "-c", "ldd /bin/ls | sed 's/ (0x[0-9a-f]*)//'"]));
    ps_sees_the_sandbox => check_ps_sees_the_sandbox();
    pgrep_finds_sandbox_processes => check_pgrep();
    top_batch_mode => check_top();
    proc_limits_are_the_callers => same(Cmd::new(["/bin/cat", "/proc/self/limits"]));
    proc_status_memory_adds_up => check_status_memory();

    // Runaway programs: runsc must end them, and leave nothing behind.
    busy_loop_ends_on_sigint => check_runaway(&["/bin/sh", "-c", "while :; do :; done"], &[libc::SIGINT], Some(130));
    sigterm_ignorer_ends_on_second_sigterm => check_runaway(
        &["/bin/sh", "-c", "trap '' TERM; while :; do :; done"],
        &[libc::SIGTERM, libc::SIGTERM],
        Some(137),
    );
    futex_waiter_ends_on_sigterm => check_runaway_c("stuck_futex", &[libc::SIGTERM], Some(143));
    // An unprivileged fork bomb, capped by RLIMIT_NPROC; the SIGTERM runsc
    // forwards ends init (from outside the sandbox's pid namespace, init's
    // protection does not apply), and with it the sandbox.
    fork_bomb_ends_on_sigterm => check_runaway(
        &[
            "/usr/bin/setpriv",
            "--reuid=1000",
            "--regid=1000",
            "--clear-groups",
            "/bin/bash",
            "-c",
            "ulimit -u 40; bomb() { bomb | bomb & }; bomb; sleep 100",
        ],
        &[libc::SIGTERM],
        Some(143),
    );
    children_end_with_runsc_sigkill => check_runaway(
        &["/bin/sh", "-c", "for i in 1 2 3; do sleep 100 & done; while :; do :; done"],
        &[libc::SIGKILL],
        None,
    );
    orphans_are_reaped => check_orphans_are_reaped();
}

/// `script` run by each shell of [`SHELLS`] prints and exits the same.
fn each_shell(script: &str) -> Result<(), String> {
    for sh in SHELLS {
        let mut argv: Vec<&str> = sh.to_vec();
        argv.push(script);
        same(Cmd::new(argv))?;
    }
    Ok(())
}

fn same(cmd: Cmd) -> Result<(), String> {
    let native = cmd.run_native();
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}

/// The program `programs/<name>.c`, built, prints and exits the same.
fn same_c(name: &str) -> Result<(), String> {
    let exe = compile(&tests_dir().join(format!("programs/{name}.c")), Variant::Dyn);
    same(Cmd::new([exe]))
}

/// ps inside the sandbox lists its processes and nothing of the host's.
fn check_ps_sees_the_sandbox() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/sh", "-c", "sleep 1 & sleep 1 & ps -e -o pid=,comm= | sort -n"]);
    let out = cmd.run_runsc(&[]);
    let text = out.stdout_text();
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let want = ["1 sh", "2 sleep", "3 sleep", "4 ps"];
    if out.status.code() == Some(0) && want.iter().all(|w| lines.contains(w)) && lines.len() <= 5 {
        Ok(())
    } else {
        Err(format!(
            "`runsc do {cmd}`: {}, ps printed {lines:?}; expected {want:?}\n{}",
            out.status,
            describe_stderr("runsc", &out)
        ))
    }
}

/// /proc/self/status's memory lines agree with each other: VmRSS is the
/// sum of its parts, below VmSize, and counts a 4 MiB buffer the program
/// touched (and not one it only mapped).
fn check_status_memory() -> Result<(), String> {
    let script = "python3 -c '
import mmap
touched = mmap.mmap(-1, 4 << 20); touched.write(b\"x\" * (4 << 20))
untouched = mmap.mmap(-1, 64 << 20)
print(open(\"/proc/self/status\").read())'";
    let cmd = Cmd::new(["/bin/sh", "-c", script]);
    let out = cmd.run_runsc(&[]);
    let text = out.stdout_text();
    let field = |name: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(&format!("{name}:")))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    let got = ["VmSize", "VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"].map(field);
    let ok = match got {
        [Some(size), Some(rss), Some(anon), Some(file), Some(shmem), Some(hwm)] => {
            rss == anon + file + shmem && rss < size && anon >= 4096 && rss < size - 32768 && hwm >= rss
        }
        _ => false,
    };
    if out.status.code() == Some(0) && ok {
        Ok(())
    } else {
        Err(format!("`runsc do {cmd}`: {}, fields {got:?}\n{text}\n{}", out.status, describe_stderr("runsc", &out)))
    }
}

/// pgrep finds the sandbox's sleeps by name.
fn check_pgrep() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/sh", "-c", "sleep 1 & sleep 1 & pgrep -l sleep"]);
    let out = cmd.run_runsc(&[]);
    if out.status.code() == Some(0) && out.stdout_text() == "2 sleep\n3 sleep\n" {
        Ok(())
    } else {
        Err(format!(
            "`runsc do {cmd}`: {}, stdout {:?}\n{}",
            out.status,
            out.stdout_text(),
            describe_stderr("runsc", &out)
        ))
    }
}

/// top in batch mode shows the sandbox's tasks.
fn check_top() -> Result<(), String> {
    let cmd = Cmd::new(["/usr/bin/top", "-b", "-n", "1"]);
    let out = cmd.run_runsc(&[]);
    let text = out.stdout_text();
    let ok = out.status.code() == Some(0)
        && text.lines().any(|l| l.starts_with("Tasks:") && l.contains("1 total"))
        && text.lines().any(|l| l.split_whitespace().last() == Some("top"));
    if ok {
        Ok(())
    } else {
        Err(format!("`runsc do {cmd}`: {}, stdout:\n{text}\n{}", out.status, describe_stderr("runsc", &out)))
    }
}

/// The pids of `root` and its descendants now.
fn tree(root: u32) -> BTreeSet<u32> {
    let mut all: Vec<(u32, u32)> = Vec::new();
    for e in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else { continue };
        let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
        let ppid = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
        all.push((pid, ppid));
    }
    let mut set = BTreeSet::from([root]);
    loop {
        let before = set.len();
        for &(pid, ppid) in &all {
            if set.contains(&ppid) {
                set.insert(pid);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

/// Whether `pid` exists (a zombie counts).
fn exists(pid: u32) -> bool {
    PathBuf::from(format!("/proc/{pid}")).exists()
}

/// Runs `runsc do ARGV`, sends it `signals` (0.7 s apart, the first after
/// 1 s), and checks that it exits (with `code`, if given: a shell's report)
/// within 10 s and that none of the host processes it had made is left.
fn check_runaway(argv: &[&str], signals: &[i32], code: Option<i32>) -> Result<(), String> {
    let mut child = Command::new(runsc())
        .arg("do")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start runsc: {e}"))?;
    let pid = child.id();
    std::thread::sleep(Duration::from_secs(1));
    let made = tree(pid);
    if made.len() < 3 {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("runsc do {argv:?} made only {made:?} after 1 s"));
    }
    for (i, &sig) in signals.iter().enumerate() {
        if i > 0 {
            std::thread::sleep(Duration::from_millis(700));
        }
        // SAFETY: kill sends a signal to a child we started.
        unsafe { libc::kill(pid as i32, sig) };
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().map_err(|e| e.to_string())? {
            break s;
        }
        if Instant::now() > deadline {
            // SAFETY: as above, to the whole group.
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(format!("runsc do {argv:?} still ran 10 s after signals {signals:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let got = std::os::unix::process::ExitStatusExt::signal(&status).map(|s| 128 + s).or(status.code());
    // Stubs and the gofer die with their parents; give them a moment.
    let gone_by = Instant::now() + Duration::from_secs(3);
    let mut left: Vec<u32>;
    loop {
        left = made.iter().copied().filter(|&p| p != pid && exists(p)).collect();
        if left.is_empty() || Instant::now() > gone_by {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if !left.is_empty() {
        let names: Vec<String> = left
            .iter()
            .map(|p| format!("{p} {}", fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default().trim()))
            .collect();
        for &p in &left {
            // SAFETY: cleaning up what the test made.
            unsafe { libc::kill(p as i32, libc::SIGKILL) };
        }
        return Err(format!("runsc do {argv:?} left host processes behind:\n{}", names.join("\n")));
    }
    if let Some(c) = code {
        if got != Some(c) {
            return Err(format!("runsc do {argv:?} exited {got:?} after signals {signals:?}; expected {c}"));
        }
    }
    Ok(())
}

/// [`check_runaway`] with the program `programs/<name>.c`.
fn check_runaway_c(name: &str, signals: &[i32], code: Option<i32>) -> Result<(), String> {
    let exe = compile(&tests_dir().join(format!("programs/{name}.c")), Variant::Dyn);
    let exe = exe.to_string_lossy().into_owned();
    check_runaway(&[&exe], signals, code)
}

/// An init that forks, with children that outlive their parents: the
/// orphans are reparented to the sandbox's init and reaped, and nothing is
/// left on the host when the sandbox ends.
fn check_orphans_are_reaped() -> Result<(), String> {
    let script = "(sleep 0.2 &) ; (sleep 0.3 &); sleep 0.6; ps -e -o stat=,comm= | grep -c Z; echo end";
    let cmd = Cmd::new(["/bin/sh", "-c", script]);
    let out = cmd.run_runsc(&[]);
    if out.status.code() == Some(1) || out.stdout_text() == "0\nend\n" {
        // grep -c prints 0 and exits 1 when there are no zombies; the echo
        // makes the shell exit 0.
        if out.stdout_text() == "0\nend\n" && out.status.code() == Some(0) {
            return Ok(());
        }
    }
    Err(format!(
        "`runsc do {cmd}`: {}, stdout {:?}; expected no zombies\n{}",
        out.status,
        out.stdout_text(),
        describe_stderr("runsc", &out)
    ))
}

/// Every workloads/ entry in `known_failures.txt` names a test here.
#[test]
fn known_failures_name_real_tests() {
    for name in known_failures().keys() {
        if let Some(test) = name.strip_prefix("workloads/") {
            assert!(TESTS.contains(&test), "known_failures.txt lists {name}, which is not a test");
        }
    }
}
