//! Real programs under `runsc do`, and runsc's own behaviour around them.
//!
//! Most tests run a command natively and in the sandbox and compare stdout
//! and exit status (some with stdin or stdout on a file, or running a `#!`
//! script the test writes); the rest check what only the sandbox does: its own pid
//! namespace and kernel release, `--strace` and `--debug-log`, the read-only
//! root, and its errors for bad commands and flags. Known failures are
//! listed in `known_failures.txt` as `programs/<test>`.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::os::unix::fs::{symlink, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process;
use std::time::{SystemTime, UNIX_EPOCH};

use runsc_tests::diff::diff;
use runsc_tests::known_failures::known_failures;
use runsc_tests::run::describe_stderr;
use runsc_tests::{compare, compile, tests_dir, Cmd, Output, Variant};

/// Declares one test per entry, each checking the `Result<(), String>` its
/// expression gives against the known-failures list as `programs/<test>`,
/// and the list of test names as `TESTS`.
macro_rules! program_tests {
    ($($test:ident => $check:expr;)*) => {
        const TESTS: &[&str] = &[$(stringify!($test)),*];

        $(
            #[test]
            fn $test() {
                runsc_tests::check_known(concat!("programs/", stringify!($test)), $check);
            }
        )*
    };
}

program_tests! {
    echo_hello => same(Cmd::new(["/bin/echo", "hello"]));
    ls_usr_bin => same(Cmd::new(["/bin/ls", "/usr/bin"]));
    cat_os_release => same(Cmd::new(["/bin/cat", "/etc/os-release"]));
    env_is_inherited => same(Cmd::new(["/usr/bin/env"]));
    stat_passwd => same(Cmd::new([
        "/usr/bin/stat", "-c", "%n %s %a %U %G %F %h", "/etc/passwd",
    ]));
    pwd_is_inherited => same(Cmd::new(["/bin/pwd"]).current_dir("/usr/share"));
    sh_arithmetic => check_sh_arithmetic();
    true_exits_0 => same_with_status(Cmd::new(["/bin/true"]), 0);
    false_exits_1 => same_with_status(Cmd::new(["/bin/false"]), 1);
    sh_exit_status_7 => same_with_status(Cmd::new(["/bin/sh", "-c", "exit 7"]), 7);
    sh_is_pid_1 => check_sh_is_pid_1();
    uname_release_is_the_sandboxes => check_uname_release_is_the_sandboxes();
    strace_prints_syscalls => check_strace_prints_syscalls();
    debug_log_reports_unimplemented_syscall => check_debug_log_reports_unimplemented_syscall();
    sentry_survives_garbage_syscalls => check_sentry_survives_garbage_syscalls();
    tty_ioctls_reach_the_terminal => check_tty_ioctls_reach_the_terminal();
    vdso_serves_clocks_without_trapping => check_vdso_serves_clocks_without_trapping();
    busybox_ls => same(Cmd::new(["/usr/bin/busybox", "ls", "-la", "/etc/apt"]));
    busybox_cat => same(Cmd::new(["/usr/bin/busybox", "cat", "/etc/os-release"]));
    busybox_sh_arithmetic => same(Cmd::new(["/usr/bin/busybox", "sh", "-c", "echo $((6*7)); exit 3"]));
    busybox_md5sum => same(Cmd::new(["/usr/bin/busybox", "md5sum", "/etc/passwd"]));
    busybox_find => same(Cmd::new(["/usr/bin/busybox", "find", "/etc/apt"]));
    busybox_sort_wc => same(Cmd::new(["/usr/bin/busybox", "sort", "/etc/shells"]));
    sqlite3_cli => same(Cmd::new(["/usr/bin/sqlite3", ":memory:",
        "create table t(x integer, y text); insert into t values (1,'a'),(2,'b'),(3,'c'); \
         select sum(x), group_concat(y) from t; select sqlite_version() is not null;"]));
    python_sqlite_workload => same(Cmd::new([
        std::ffi::OsString::from("/usr/bin/python3.11"),
        tests_dir().join("programs/python_workload.py").into_os_string(),
    ]));
    free_reads_meminfo => check_sandbox_only(&["/usr/bin/free"], "Mem:");
    uptime_reads_proc => check_sandbox_only(&["/usr/bin/uptime"], "load average: 0.00, 0.00, 0.00");
    ps_sees_only_the_sandbox => check_ps_sees_only_the_sandbox();
    nproc_counts_the_sandboxes_cpus => same(Cmd::new(["/usr/bin/nproc"]));
    root_is_read_only => check_root_is_read_only();
    read_only_root_errors => check_read_only_root_errors();
    missing_program_exits_127 => check_missing_program_exits_127();
    non_executable_exits_126 => check_non_executable_exits_126();
    unknown_flag_is_an_error => check_unknown_flag_is_an_error();

    // Coreutils and friends on stable host files.
    ls_la_etc_ssl => same(Cmd::new(["/bin/ls", "-la", "/etc/ssl"]));
    ls_la_with_symlink => same(Cmd::new(["/bin/ls", "-la", "/usr/share/X11"]));
    ls_la_made_dir => check_ls_la_made_dir();
    ls_l_dynamic_loader => same(Cmd::new(["/bin/ls", "-l", "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"]));
    md5sum_ls => same(Cmd::new(["/usr/bin/md5sum", "/bin/ls"]));
    sort_shells => same(Cmd::new(["/usr/bin/sort", "/etc/shells"]));
    grep_root_passwd => same(Cmd::new(["/bin/grep", "root", "/etc/passwd"]));
    find_etc_apt => same(Cmd::new(["/usr/bin/find", "/etc/apt", "-maxdepth", "1"]));
    id => same(Cmd::new(["/usr/bin/id"]));
    wc_l_services => same(Cmd::new(["/usr/bin/wc", "-l", "/etc/services"]));
    head_services => same(Cmd::new(["/usr/bin/head", "-3", "/etc/services"]));
    perl_arithmetic => check_perl_arithmetic();
    date_year => same(Cmd::new(["/bin/date", "+%Y"]));
    readlink_proc_self_exe => same(Cmd::new(["/bin/readlink", "/proc/self/exe"]));
    cat_proc_self_comm => same_as(Cmd::new(["/bin/cat", "/proc/self/comm"]), "cat\n", 0);

    // `#!` scripts.
    shebang_script => check_shebang_script();
    shebang_with_argument => check_shebang_with_argument();
    shebang_interpreter_argv => check_shebang_interpreter_argv();

    // stdin and stdout on regular files.
    stdout_append_to_file => check_file_case(&FileCase {
        fd: Fd::Stdout,
        append: true,
        initial: "zero\n",
        seek: 0,
        cmds: &[&["/bin/echo", "one"], &["/bin/sh", "-c", "echo two; echo three"]],
        stdout: "",
        contents: "zero\none\ntwo\nthree\n",
        offset: 19,
    });
    stdout_file_continues_at_offset => check_file_case(&FileCase {
        fd: Fd::Stdout,
        append: false,
        initial: "abc",
        seek: 3,
        cmds: &[&["/bin/echo", "one"]],
        stdout: "",
        contents: "abcone\n",
        offset: 7,
    });
    stdout_file_overwrites_at_offset => check_file_case(&FileCase {
        fd: Fd::Stdout,
        append: false,
        initial: "abc0123456789\n",
        seek: 3,
        cmds: &[&["/bin/echo", "one"], &["/bin/sh", "-c", "echo two"]],
        stdout: "",
        contents: "abcone\ntwo\n89\n",
        offset: 11,
    });
    stdin_from_file => check_file_case(&FileCase {
        fd: Fd::Stdin,
        append: false,
        initial: "first line\n\n  third, indented\nlast line without newline",
        seek: 0,
        cmds: &[&["/bin/cat"]],
        stdout: "first line\n\n  third, indented\nlast line without newline",
        contents: "first line\n\n  third, indented\nlast line without newline",
        offset: 55,
    });
    // head reads a block, then seeks back to just after the line it printed.
    stdin_file_offset_is_shared => check_file_case(&FileCase {
        fd: Fd::Stdin,
        append: false,
        initial: "a\nb\nc\nd\n",
        seek: 2,
        cmds: &[&["/usr/bin/head", "-n", "1"], &["/bin/cat"]],
        stdout: "b\nc\nd\n",
        contents: "a\nb\nc\nd\n",
        offset: 8,
    });
    stdin_dev_null_wc_c => same_as(Cmd::new(["/usr/bin/wc", "-c"]).stdin(open_dev_null()), "0\n", 0);
}

/// `cmd` prints the same and exits the same natively and under runsc.
fn same(cmd: Cmd) -> Result<(), String> {
    let native = cmd.run_native();
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}

/// Like [`same`], and the exit status is `code`.
fn same_with_status(cmd: Cmd, code: i32) -> Result<(), String> {
    let native = cmd.run_native();
    assert_eq!(native.status.code(), Some(code), "`{cmd}` natively: {}", native.status);
    let sandboxed = cmd.run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}

/// Like [`same`], and natively the command prints `expected` and exits with
/// `code`; if not, the test itself is wrong, and panics.
fn same_as(cmd: Cmd, expected: &str, code: i32) -> Result<(), String> {
    let native = cmd.run_native();
    assert!(
        native.status.code() == Some(code) && native.stdout == expected.as_bytes(),
        "`{cmd}` natively: {}, stdout {:?}; the test expects exit status {code} and stdout {expected:?}\n{}",
        native.status,
        native.stdout_text(),
        describe_stderr("native", &native)
    );
    compare(&cmd, &native, &cmd.run_runsc(&[]))
}

fn check_sh_arithmetic() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/sh", "-c", "echo $((6*7))"]);
    let sandboxed = cmd.run_runsc(&[]);
    expect_stdout(&cmd, &sandboxed, "42\n")?;
    compare(&cmd, &cmd.run_native(), &sandboxed)
}

/// The program is the first process of the sandbox's pid namespace.
fn check_sh_is_pid_1() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/sh", "-c", "echo $$"]);
    expect_stdout(&cmd, &cmd.run_runsc(&[]), "1\n")
}

/// uname reports the sandbox's kernel, a 6.x release, not the host's.
fn check_uname_release_is_the_sandboxes() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/uname", "-r"]);
    let out = cmd.run_runsc(&[]);
    let release = out.stdout_text();
    if out.status.code() == Some(0) && release.starts_with("6.") && release.ends_with('\n') {
        Ok(())
    } else {
        Err(format!(
            "`runsc do {cmd}`: {}, stdout {release:?}; expected a 6.x release\n{}",
            out.status,
            describe_stderr("runsc", &out)
        ))
    }
}

/// `--strace` prints one line per syscall on stderr, with its result.
fn check_strace_prints_syscalls() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/true"]);
    let out = cmd.run_runsc(&["--strace"]);
    let stderr = out.stderr_text();
    let mentions = |name: &str| stderr.lines().any(|line| line.contains(&format!("{name}(")) && line.contains('='));
    let ok = out.status.code() == Some(0)
        && stderr.lines().any(|line| line.contains("exit_group("))
        && (mentions("brk") || mentions("arch_prctl"));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`runsc --strace do {cmd}`: {}; expected exit status 0 and stderr lines for \
             exit_group and for brk or arch_prctl with their results\n{}",
            out.status,
            describe_stderr("runsc", &out)
        ))
    }
}

/// An unimplemented syscall fails with ENOSYS and is logged once, by name
/// and number, in the `--debug-log` file.
fn check_debug_log_reports_unimplemented_syscall() -> Result<(), String> {
    let exe = compile(&tests_dir().join("programs/unimplemented.c"), Variant::Dyn);
    let log = TempPath::new("debug-log");
    let cmd = Cmd::new([&exe]);
    let out = cmd.run_runsc(&["--debug-log", log.as_str()]);
    expect_stdout(&cmd, &out, "io_uring_setup(1, NULL) = -1 ENOSYS\nio_uring_setup(1, NULL) = -1 ENOSYS\n")?;
    let text = fs::read_to_string(&log.0)
        .map_err(|e| format!("`runsc --debug-log {} do {cmd}` left no log: {e}", log.as_str()))?;
    let reports: Vec<&str> = text.lines().filter(|line| line.contains("io_uring_setup")).collect();
    match reports.as_slice() {
        [line] if line.contains("425") => Ok(()),
        _ => Err(format!(
            "the debug log should report io_uring_setup (425) on exactly one line; \
             lines naming it:\n{}",
            reports.join("\n")
        )),
    }
}

/// Every syscall with garbage arguments gets an errno (or a result); the
/// sandbox never crashes, and the program runs to its end.
fn check_sentry_survives_garbage_syscalls() -> Result<(), String> {
    let exe = compile(&tests_dir().join("programs/garbage_syscalls.c"), Variant::Dyn);
    let cmd = Cmd::new([&exe]);
    let out = cmd.run_runsc(&[]);
    // Garbage writes to stdout come first; the verdict is the last line.
    let text = out.stdout_text();
    let last = text.rsplit_terminator('\n').next().unwrap_or("");
    let tail = last.rfind("survived ").map_or("", |i| &last[i..]);
    if out.status.code() == Some(0) && tail.starts_with("survived ") && tail.ends_with(" calls") {
        Ok(())
    } else {
        let end: String = text.chars().rev().take(200).collect::<Vec<_>>().into_iter().rev().collect();
        Err(format!("`runsc do {cmd}`: {}, stdout ends {end:?}\n{}", out.status, describe_stderr("runsc", &out)))
    }
}

/// Once calibrated, the vDSO answers clock_gettime, gettimeofday and time
/// without a trap, monotonically, in agreement with the same program run
/// natively.
fn check_vdso_serves_clocks_without_trapping() -> Result<(), String> {
    let exe = compile(&tests_dir().join("programs/vdso_clock.c"), Variant::Dyn);
    let cmd = Cmd::new([&exe]);
    let native = cmd.run_native();
    let out = cmd.run_runsc(&["--strace"]);
    let expected = "monotonic backwards: 0\nmany reads: 1\nrealtime between two gettimeofdays: 1\ntime() matches: 1\n";
    if native.stdout_text() != expected {
        return Err(format!("the test is wrong: natively it printed {:?}", native.stdout_text()));
    }
    expect_stdout(&cmd, &out, expected)?;
    let strace = String::from_utf8_lossy(&out.stderr).into_owned();
    let after_sleep = strace.split_once("nanosleep(").map(|(_, rest)| rest).ok_or("no nanosleep in the strace")?;
    let trapped: Vec<&str> = after_sleep
        .lines()
        .filter(|l| l.contains("clock_gettime(") || l.contains("gettimeofday(") || l.contains("] time("))
        .collect();
    if trapped.is_empty() {
        Ok(())
    } else {
        Err(format!("{} clock syscalls trapped after calibration, e.g. {:?}", trapped.len(), trapped[0]))
    }
}

/// Programs whose output is the sandbox's own (its /proc): they succeed
/// and print `expected` somewhere in their output.
fn check_sandbox_only(argv: &[&str], expected: &str) -> Result<(), String> {
    let cmd = Cmd::new(argv.iter().copied());
    let out = cmd.run_runsc(&[]);
    let text = out.stdout_text();
    if out.status.code() == Some(0) && text.contains(expected) {
        Ok(())
    } else {
        Err(format!(
            "`runsc do {cmd}`: {}, stdout {text:?}, expected it to contain {expected:?}\n{}",
            out.status,
            describe_stderr("runsc", &out)
        ))
    }
}

/// `ps -e` lists exactly one process, itself, as pid 1 (in a column as
/// wide as the sandbox's pid_max, 4194304, needs).
fn check_ps_sees_only_the_sandbox() -> Result<(), String> {
    let cmd = Cmd::new(["/bin/ps", "-e", "-o", "pid=,comm="]);
    let out = cmd.run_runsc(&[]);
    expect_stdout(&cmd, &out, "      1 ps\n")
}

/// On a terminal, TCGETS/TIOCGWINSZ/TCSETS reach the host's pty: `stty`
/// prints and sets the window size as natively. `script` (util-linux)
/// provides the pty.
fn check_tty_ioctls_reach_the_terminal() -> Result<(), String> {
    let run = |inner: String| -> Result<String, String> {
        let out = process::Command::new("script")
            .args(["-qec", &inner, "/dev/null"])
            .stdin(process::Stdio::null())
            .output()
            .map_err(|e| format!("cannot run script(1) from util-linux: {e}"))?;
        if !out.status.success() {
            return Err(format!("`script -qec {inner:?}`: {}: {}", out.status, String::from_utf8_lossy(&out.stderr)));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let runsc = runsc_tests::runsc();
    let native = run("stty rows 31 cols 101; stty size; stty -echo; stty -a | grep -o -- '-echo '".into())?;
    // The sandbox sets -echo (TCSETS); the host's stty then sees it on the pty.
    let sandboxed = run(format!(
        "stty rows 31 cols 101; {r} do /bin/stty size; {r} do /bin/stty -echo; stty -a | grep -o -- '-echo '",
        r = runsc.display()
    ))?;
    if native == sandboxed && native.contains("31 101") {
        Ok(())
    } else {
        Err(format!("on a pty, natively:\n{native:?}\nunder runsc:\n{sandboxed:?}"))
    }
}

/// Without the overlay, writes to the root filesystem fail with EROFS and
/// never reach the host.
fn check_root_is_read_only() -> Result<(), String> {
    let probe = TempPath::new("probe");
    let script = format!("echo x > {}", probe.as_str());
    let cmd = Cmd::new(["/bin/sh", "-c", &script]);
    let out = cmd.run_runsc(&["--overlay2=none"]);
    let leaked = probe.0.exists();
    let stderr = out.stderr_text();
    if matches!(out.status.code(), Some(c) if c != 0) && !leaked && stderr.contains("Read-only file system") {
        Ok(())
    } else {
        Err(format!(
            "`runsc do {cmd}`: {}; {} exists on the host: {leaked}; expected a non-zero \
             status, \"Read-only file system\" on stderr and no file\n{}",
            out.status,
            probe.as_str(),
            describe_stderr("runsc", &out)
        ))
    }
}

/// What `programs/read_only_root.c` prints on Linux when `/` is a read-only
/// mount (taken with `unshare -m` and `mount -o remount,bind,ro /`).
const READ_ONLY_ROOT: &str = "\
open(new, O_WRONLY | O_CREAT) = -1 EROFS
open(new, O_RDONLY | O_CREAT) = -1 EROFS
open(/etc/passwd, O_WRONLY) = -1 EROFS
open(/etc/passwd, O_RDWR) = -1 EROFS
open(/etc/passwd, O_RDONLY | O_CREAT | O_EXCL) = -1 EEXIST
open(/etc/passwd, O_RDONLY | O_CREAT) = 3
close = 0
access(/etc/passwd, W_OK) = -1 EROFS
access(/tmp, W_OK) = -1 EROFS
access(/etc/passwd, R_OK) = 0
open(/dev/null, O_WRONLY) = 3
write(/dev/null) = 1
";

/// Without the overlay, each way of writing to the root fails as on a
/// read-only mount, and nothing reaches the host. Not compared with a
/// native run, which would write to the host's root.
fn check_read_only_root_errors() -> Result<(), String> {
    let exe = compile(&tests_dir().join("programs/read_only_root.c"), Variant::Dyn);
    let probe = TempPath::new("ro-probe");
    let cmd = Cmd::new([exe.as_os_str(), probe.0.as_os_str()]);
    let out = cmd.run_runsc(&["--overlay2=none"]);
    if probe.0.exists() {
        return Err(format!("`runsc do {cmd}` created {} on the host", probe.as_str()));
    }
    expect_stdout(&cmd, &out, READ_ONLY_ROOT)
}

fn check_missing_program_exits_127() -> Result<(), String> {
    expect_runsc_error(&[], Cmd::new(["/nonexistent"]), Some(127))
}

fn check_non_executable_exits_126() -> Result<(), String> {
    expect_runsc_error(&[], Cmd::new(["/etc/passwd"]), Some(126))
}

fn check_unknown_flag_is_an_error() -> Result<(), String> {
    expect_runsc_error(&["--no-such-flag"], Cmd::new(["/bin/true"]), None)
}

/// `ls -la` of a directory the test makes: a subdirectory, plain and
/// executable files, and relative, absolute and dangling symlinks. Its `..`
/// is the test's own directory, which changes only under the test.
fn check_ls_la_made_dir() -> Result<(), String> {
    let dir = TempDir::new("ls");
    let listed = dir.path("listed");
    fs::create_dir(&listed).unwrap_or_else(|e| panic!("cannot create {}: {e}", listed.display()));
    fs::create_dir(listed.join("sub")).unwrap_or_else(|e| panic!("cannot create {}/sub: {e}", listed.display()));
    new_file(&listed.join("file"), b"some text\n", 0o644);
    new_file(&listed.join("exe"), b"#!/bin/sh\n", 0o755);
    new_file(&listed.join("private"), b"", 0o600);
    for (name, target) in [("link", "file"), ("absolute", "/etc/passwd"), ("dangling", "missing")] {
        let link = listed.join(name);
        symlink(target, &link).unwrap_or_else(|e| panic!("cannot create {}: {e}", link.display()));
    }
    same(Cmd::new([OsStr::new("/bin/ls"), OsStr::new("-la"), listed.as_os_str()]))
}

fn check_perl_arithmetic() -> Result<(), String> {
    let perl = Path::new("/usr/bin/perl");
    assert!(
        perl.is_file(),
        "{} is missing: install perl (`apt-get install perl-base`) to run this test",
        perl.display()
    );
    same_as(Cmd::new([OsStr::new(perl), OsStr::new("-e"), OsStr::new(r#"print 6*7, "\n""#)]), "42\n", 0)
}

/// A `#!` script runs its interpreter with the script's path and arguments.
fn check_shebang_script() -> Result<(), String> {
    let dir = TempDir::new("script");
    let script = dir.path("script");
    new_file(&script, b"#!/bin/sh\necho \"script $0 $1\"\n", 0o755);
    let expected = format!("script {} first arg\n", script.display());
    same_as(Cmd::new([script.as_os_str(), OsStr::new("first arg"), OsStr::new("second")]), &expected, 0)
}

/// The argument on the `#!` line reaches the interpreter: `sh -e` stops at
/// the first failing command.
fn check_shebang_with_argument() -> Result<(), String> {
    let dir = TempDir::new("script-e");
    let script = dir.path("script");
    new_file(&script, b"#!/bin/sh -e\necho \"flags $-\"\nfalse\necho not reached\n", 0o755);
    same_as(Cmd::new([&script]), "flags e\n", 1)
}

/// The kernel's parsing of the `#!` line, shown by echo as the interpreter:
/// blanks after `#!` are skipped, the rest of the line up to its trailing
/// blanks is one argument (inner blanks kept), then come the script's path
/// and the arguments.
fn check_shebang_interpreter_argv() -> Result<(), String> {
    let dir = TempDir::new("script-echo");
    let script = dir.path("script");
    new_file(&script, b"#! /bin/echo  one  two \nnot read\n", 0o755);
    let expected = format!("one  two {} x  y\n", script.display());
    same_as(Cmd::new([script.as_os_str(), OsStr::new("x  y")]), &expected, 0)
}

/// Which of a [`FileCase`]'s commands' descriptors is the file.
#[derive(Clone, Copy, Debug)]
enum Fd {
    Stdin,
    Stdout,
}

/// Commands run one after another with stdin or stdout on one regular file
/// (each run gets a duplicate of the test's descriptor, so they share its
/// offset), and what they must leave behind.
struct FileCase {
    fd: Fd,
    /// Open the file with `O_APPEND`.
    append: bool,
    /// Written into the new file through the descriptor.
    initial: &'static str,
    /// Where the descriptor's offset is put before the first run.
    seek: u64,
    cmds: &'static [&'static [&'static str]],
    /// All the runs' stdout, one after another (empty when stdout is the file).
    stdout: &'static str,
    /// The file's contents after the runs.
    contents: &'static str,
    /// The descriptor's offset after the runs.
    offset: u64,
}

/// Plays `case` natively and under runsc, each on a new file of its own, and
/// checks that every run exits 0 and leaves the stdout, file contents and
/// offset `case` expects. If the native runs do not, the test itself is
/// wrong, and panics.
fn check_file_case(case: &FileCase) -> Result<(), String> {
    let dir = TempDir::new("stdio");
    for sandboxed in [false, true] {
        let who = if sandboxed { "runsc" } else { "native" };
        let path = dir.path(who);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .append(case.append)
            .create_new(true)
            .open(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        file.write_all(case.initial.as_bytes()).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        file.seek(SeekFrom::Start(case.seek)).unwrap_or_else(|e| panic!("cannot seek {}: {e}", path.display()));

        let mut runs = Vec::new();
        for argv in case.cmds {
            let dup = file.try_clone().unwrap_or_else(|e| panic!("cannot duplicate {}: {e}", path.display()));
            let cmd = match case.fd {
                Fd::Stdin => Cmd::new(*argv).stdin(dup),
                Fd::Stdout => Cmd::new(*argv).stdout(dup),
            };
            let out = if sandboxed { cmd.run_runsc(&[]) } else { cmd.run_native() };
            runs.push((cmd, out));
        }
        let offset = file.stream_position().unwrap_or_else(|e| panic!("cannot tell {}: {e}", path.display()));
        drop(file);
        let contents = fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        let contents = String::from_utf8_lossy(&contents);
        let stdout: String = runs.iter().map(|(_, out)| out.stdout_text()).collect();

        let statuses_ok = runs.iter().all(|(_, out)| out.status.code() == Some(0));
        if statuses_ok && stdout == case.stdout && contents == case.contents && offset == case.offset {
            continue;
        }
        let mut why = format!(
            "{who}: {:?} on a file holding {:?} at offset {}{}, then:\n",
            case.fd,
            case.initial,
            case.seek,
            if case.append { " (O_APPEND)" } else { "" }
        );
        for (cmd, out) in &runs {
            why += &format!("`{cmd}`: {}\n", out.status);
            why += &describe_stderr(who, out);
        }
        if stdout != case.stdout {
            why += &format!("stdout differs (- expected, + {who}):\n{}", diff(case.stdout, &stdout));
        }
        if contents != case.contents {
            why += &format!("the file's contents differ (- expected, + {who}):\n{}", diff(case.contents, &contents));
        }
        if offset != case.offset {
            why += &format!("the offset is {offset}, expected {}\n", case.offset);
        }
        if !sandboxed {
            panic!("the test is wrong:\n{why}");
        }
        return Err(why);
    }
    Ok(())
}

fn open_dev_null() -> File {
    File::open("/dev/null").unwrap_or_else(|e| panic!("cannot open /dev/null: {e}"))
}

/// Creates the new file `path` (never an existing one) with `contents` and
/// permissions `mode`.
fn new_file(path: &Path, contents: &[u8], mode: u32) {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
    file.write_all(contents).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    // The umask may have cleared some of `mode`'s bits.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("cannot chmod {}: {e}", path.display()));
}

/// `runsc FLAGS do CMD` fails with exit status `code` (any non-zero one if
/// `None`) and says why on stderr.
fn expect_runsc_error(flags: &[&str], cmd: Cmd, code: Option<i32>) -> Result<(), String> {
    let out = cmd.run_runsc(flags);
    let status_ok = match (out.status.code(), code) {
        (Some(status), Some(code)) => status == code,
        (Some(status), None) => status != 0,
        (None, _) => false,
    };
    if status_ok && !out.stderr_text().trim().is_empty() {
        Ok(())
    } else {
        Err(format!(
            "`runsc {} do {cmd}`: {}; expected {} and a message on stderr\n{}",
            flags.join(" "),
            out.status,
            code.map_or("a non-zero exit status".to_string(), |c| format!("exit status {c}")),
            describe_stderr("runsc", &out)
        ))
    }
}

/// The sandboxed run exited 0 and printed exactly `expected`.
fn expect_stdout(cmd: &Cmd, out: &Output, expected: &str) -> Result<(), String> {
    if out.status.code() == Some(0) && out.stdout == expected.as_bytes() {
        return Ok(());
    }
    let mut why = format!("`runsc do {cmd}`: {}; expected exit status 0\n", out.status);
    if out.stdout != expected.as_bytes() {
        why += "stdout differs (- expected, + runsc):\n";
        why += &diff(expected, &out.stdout_text());
    }
    why += &describe_stderr("runsc", out);
    Err(why)
}

/// A unique path in the host's temporary directory, removed when dropped.
struct TempPath(PathBuf);

impl TempPath {
    fn new(what: &str) -> TempPath {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_nanos();
        let path = std::env::temp_dir().join(format!("runsc-{what}-{}-{nanos}", process::id()));
        assert!(!path.exists(), "{} already exists", path.display());
        TempPath(path)
    }

    fn as_str(&self) -> &str {
        self.0.to_str().expect("temporary paths are UTF-8")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// A new, empty directory in cargo's temporary directory for integration
/// tests (`<target dir>/tmp`), removed with its contents when dropped. The
/// files tests write go in here.
struct TempDir(PathBuf);

impl TempDir {
    fn new(what: &str) -> TempDir {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        fs::create_dir_all(base).unwrap_or_else(|e| panic!("cannot create {}: {e}", base.display()));
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970").as_nanos();
        let path = base.join(format!("runsc-{what}-{}-{nanos}", process::id()));
        // create_dir, unlike create_dir_all, fails if the directory exists.
        fs::create_dir(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }

    /// The path of `name` in the directory.
    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Every programs/ entry in `known_failures.txt` names a test in this file.
#[test]
fn known_failures_name_real_tests() {
    for name in known_failures().keys() {
        if let Some(test) = name.strip_prefix("programs/") {
            assert!(TESTS.contains(&test), "known_failures.txt lists {name}, which is not a test");
        }
    }
}
