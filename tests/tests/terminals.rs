//! Terminals: programs that make pseudo-terminals and drive them, run
//! natively and under `runsc do` with the same output: `script` giving its
//! command a pty (tty name without its number, which depends on the host's
//! other ptys; size; every stty setting), and an interactive
//! bash driven through a pty as a terminal emulator would (job control,
//! ^C, ^Z and fg, stty), and `runsc do bash` on a host terminal. Known
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
}
