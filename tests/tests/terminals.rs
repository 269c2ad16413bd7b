//! Terminals: programs that make pseudo-terminals and drive them, run
//! natively and under `runsc do` with the same output: `script` giving its
//! command a pty (tty name without its number, which depends on the host's
//! other ptys; size; every stty setting), and an interactive
//! bash driven through a pty as a terminal emulator would (job control,
//! ^C, ^Z and fg, stty), `runsc do bash` on a host terminal, and that
//! terminal as the sandbox's /dev/console. Known
//! failures are listed in `known_failures.txt` as `terminals/<test>`.

use std::time::Duration;

use runsc_tests::{compare, tests_dir, Cmd};

macro_rules! terminal_tests {
    ($($test:ident => $check:expr;)*) => {
        $(
            #[test]
            fn $test() {
                runsc_tests::check_known(concat!("terminals/", stringify!($test)), $check);
            }
        )*
    };
}

/// `runsc do bash` on a host terminal (a pty the driver makes outside the
/// sandbox) behaves as bash on it natively: ^C and ^Z reach the sandbox's
/// foreground job, fg and job control work, and stdin is a terminal.
fn check_host_terminal() -> Result<(), String> {
    let driver = tests_dir().join("programs/pty_bash.py");
    let driver = driver.to_string_lossy();
    let runsc = runsc_tests::runsc();
    let runsc = runsc.to_string_lossy();
    let limit = Duration::from_secs(120);
    let native = Cmd::new(["python3", &driver]).timeout(limit).run_native();
    let cmd = Cmd::new(["python3", &driver, &runsc, "do", "--", "bash", "--norc", "--noprofile", "-i"]).timeout(limit);
    let sandboxed = cmd.run_native();
    compare(&cmd, &native, &sandboxed)
}

/// The host terminal runsc runs on is the sandbox's /dev/console: stdio
/// on it is named so (`tty`, ttyname), /dev/tty opens it for init's
/// session, `ps` shows the session's terminal as `console`. Without one,
/// /dev/console gives ENODEV and /dev/tty ENXIO, as Linux's do.
fn check_console() -> Result<(), String> {
    let inner = "tty; echo hi > /dev/tty && echo tty-ok; ps -o tty= -p \\$\\$; \
                 [ /dev/console -ef /proc/self/fd/0 ] && echo same-node; stat -c %t:%T /dev/console; \
                 python3 -c 'import os; print(os.ttyname(0))'";
    let line = format!("{} do /bin/sh -c \"{inner}\"", runsc_tests::runsc().display());
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let out =
        Cmd::new(["script", "-qec", &line, "/dev/null"]).stdin(null).timeout(Duration::from_secs(60)).run_native();
    let want = "/dev/console\nhi\ntty-ok\nconsole\nsame-node\n5:1\n/dev/console\n";
    let got = out.stdout_text().replace('\r', "");
    if got != want {
        return Err(format!(
            "on a terminal: stdout {got:?}, want {want:?}\n{}",
            runsc_tests::run::describe_stderr("runsc", &out)
        ));
    }
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let out = Cmd::new(["/bin/sh", "-c", "cat /dev/console; cat /dev/tty; true"]).stdin(null).run_runsc(&[]);
    let err = out.stderr_text();
    if !err.contains("/dev/console: No such device\n") || !err.contains("/dev/tty: No such device or address") {
        return Err(format!("without a terminal: stderr {err:?}"));
    }
    Ok(())
}

/// Runs `argv` natively and under runsc, stdin on /dev/null, and compares.
fn same(argv: &[&str]) -> Result<(), String> {
    let null = std::fs::File::open("/dev/null").map_err(|e| format!("/dev/null: {e}"))?;
    let null2 = null.try_clone().map_err(|e| format!("/dev/null: {e}"))?;
    let cmd = Cmd::new(argv.iter().copied()).timeout(Duration::from_secs(120));
    let native = cmd.clone().stdin(null).run_native();
    let sandboxed = cmd.clone().stdin(null2).run_runsc(&[]);
    compare(&cmd, &native, &sandboxed)
}

terminal_tests! {
    script_gives_a_pty => same(&["script", "-qc", "tty | sed 's/[0-9]*$/N/'; stty size; stty -a; test -t 0 && echo stdin-is-tty", "/dev/null"]);
    interactive_bash_job_control => {
        let driver = tests_dir().join("programs/pty_bash.py");
        same(&["python3", &driver.to_string_lossy()])
    };
    host_terminal_job_control => check_host_terminal();
    host_terminal_is_dev_console => check_console();
}
