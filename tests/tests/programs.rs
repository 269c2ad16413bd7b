//! Real programs under `runsc do`, and runsc's own behaviour around them.
//!
//! Most tests run a command natively and in the sandbox and compare stdout
//! and exit status; the rest check what only the sandbox does: its own pid
//! namespace and kernel release, `--strace` and `--debug-log`, the read-only
//! root, and its errors for bad commands and flags. Known failures are
//! listed in `known_failures.txt` as `programs/<test>`.

use std::fs;
use std::path::PathBuf;
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
    root_is_read_only => check_root_is_read_only();
    read_only_root_errors => check_read_only_root_errors();
    missing_program_exits_127 => check_missing_program_exits_127();
    non_executable_exits_126 => check_non_executable_exits_126();
    unknown_flag_is_an_error => check_unknown_flag_is_an_error();
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

/// Writes to the root filesystem fail with EROFS and never reach the host.
fn check_root_is_read_only() -> Result<(), String> {
    let probe = TempPath::new("probe");
    let script = format!("echo x > {}", probe.as_str());
    let cmd = Cmd::new(["/bin/sh", "-c", &script]);
    let out = cmd.run_runsc(&[]);
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

/// Each way of writing to the root fails as on a read-only mount, and
/// nothing reaches the host. Not compared with a native run, which would
/// write to the host's root.
fn check_read_only_root_errors() -> Result<(), String> {
    let exe = compile(&tests_dir().join("programs/read_only_root.c"), Variant::Dyn);
    let probe = TempPath::new("ro-probe");
    let cmd = Cmd::new([exe.as_os_str(), probe.0.as_os_str()]);
    let out = cmd.run_runsc(&[]);
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

/// Every programs/ entry in `known_failures.txt` names a test in this file.
#[test]
fn known_failures_name_real_tests() {
    for name in known_failures().keys() {
        if let Some(test) = name.strip_prefix("programs/") {
            assert!(TESTS.contains(&test), "known_failures.txt lists {name}, which is not a test");
        }
    }
}
