//! Runs a command natively or under `runsc do` and compares the two runs.
//!
//! Both runs get the same environment and working directory (the test's, or
//! the one set with [`Cmd::current_dir`]), stdin from `/dev/null`, stdout and
//! stderr on pipes (or stdin and stdout on files given with [`Cmd::stdin`]
//! and [`Cmd::stdout`]), and no file descriptors beyond 0-2: anything else the
//! test process holds is marked close-on-exec first, so fd numbers printed by
//! the programs do not depend on how the tests were started.
//!
//! A command runs in its own process group. If it has not finished (exited
//! and closed its stdout and stderr) within the time limit, the whole group
//! is killed and the run ends as [`Status::TimedOut`], so a hang is an
//! ordinary failure rather than a stuck test.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crate::diff::diff;
use crate::paths::runsc;

/// How long a command may take, unless `RUNSC_TEST_TIMEOUT` (seconds) or
/// [`Cmd::timeout`] says otherwise.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How long to wait for the output of a killed process group.
const KILL_GRACE: Duration = Duration::from_secs(5);

extern "C" {
    fn close_range(first: u32, last: u32, flags: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
}

const CLOSE_RANGE_CLOEXEC: i32 = 1 << 2;
const SIGKILL: i32 = 9;

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It (or something it started, holding its stdout or stderr) was still
    /// running at the time limit, and was killed.
    TimedOut,
}

impl Status {
    /// The status as a shell reports it: the exit status, or 128 + the
    /// signal number; `None` for a run that timed out. Runs are compared by
    /// this number, since runsc can only report an application killed by a
    /// signal through its own exit status.
    pub fn code(self) -> Option<i32> {
        match self {
            Status::Exited(code) => Some(code),
            Status::Signaled(sig) => Some(128 + sig),
            Status::TimedOut => None,
        }
    }

    fn from_exit_status(status: ExitStatus) -> Status {
        match (status.code(), status.signal()) {
            (Some(code), _) => Status::Exited(code),
            (None, Some(sig)) => Status::Signaled(sig),
            (None, None) => unreachable!("a process either exits or is killed"),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Exited(code) => write!(f, "exit status {code}"),
            Status::Signaled(sig) => write!(f, "killed by signal {sig}"),
            Status::TimedOut => write!(f, "did not finish in time, killed"),
        }
    }
}

/// What a finished command left behind.
#[derive(Clone, Debug)]
pub struct Output {
    pub status: Status,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Output {
    /// stdout as text (invalid UTF-8 replaced).
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    /// stderr as text (invalid UTF-8 replaced).
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
}

/// A command line to run natively and under `runsc do`.
#[derive(Clone, Debug)]
pub struct Cmd {
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    timeout: Duration,
    stdin: Option<Arc<File>>,
    stdout: Option<Arc<File>>,
}

impl Cmd {
    /// The command `argv[0] argv[1..]`; `argv[0]` should be an absolute path.
    pub fn new<I, S>(argv: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let argv: Vec<OsString> = argv.into_iter().map(|a| a.as_ref().to_owned()).collect();
        assert!(!argv.is_empty(), "a command needs a program");
        Cmd { argv, cwd: None, timeout: default_timeout(), stdin: None, stdout: None }
    }

    /// The command line.
    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    /// The same command settings (directory, time limit, stdin, stdout) for
    /// another command line, e.g. one that wraps this one.
    pub fn with_argv(&self, argv: Vec<OsString>) -> Cmd {
        assert!(!argv.is_empty(), "a command needs a program");
        Cmd { argv, ..self.clone() }
    }

    /// Runs in `dir` instead of the test's working directory.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Cmd {
        self.cwd = Some(dir.into());
        self
    }

    /// Changes the time limit (by default 120 s, or `RUNSC_TEST_TIMEOUT`
    /// seconds).
    pub fn timeout(mut self, limit: Duration) -> Cmd {
        self.timeout = limit;
        self
    }

    /// Reads stdin from `file` instead of `/dev/null`. Each run gets a
    /// duplicate of the descriptor, so it shares `file`'s offset: a run
    /// starts reading where the last one (or the test) left off.
    pub fn stdin(mut self, file: File) -> Cmd {
        self.stdin = Some(Arc::new(file));
        self
    }

    /// Writes stdout to `file` instead of a pipe; the [`Output`]'s stdout is
    /// then empty. Each run gets a duplicate of the descriptor, so it shares
    /// `file`'s offset and status flags (`O_APPEND`).
    pub fn stdout(mut self, file: File) -> Cmd {
        self.stdout = Some(Arc::new(file));
        self
    }

    /// Runs the command directly on the host.
    pub fn run_native(&self) -> Output {
        self.run(self.argv.clone())
    }

    /// Runs `runsc FLAGS... do COMMAND...`.
    pub fn run_runsc(&self, flags: &[&str]) -> Output {
        let mut argv: Vec<OsString> = vec![runsc().into_os_string()];
        argv.extend(flags.iter().map(OsString::from));
        argv.push("do".into());
        argv.extend(self.argv.iter().cloned());
        self.run(argv)
    }

    fn run(&self, argv: Vec<OsString>) -> Output {
        let shown = show_argv(&argv);
        let mut command = Command::new(&argv[0]);
        let stdin = self.stdin.as_deref().map_or_else(Stdio::null, |file| dup_stdio(file, "stdin"));
        let stdout = self.stdout.as_deref().map_or_else(Stdio::piped, |file| dup_stdio(file, "stdout"));
        command.args(&argv[1..]).stdin(stdin).stdout(stdout).stderr(Stdio::piped()).process_group(0);
        if let Some(dir) = &self.cwd {
            command.current_dir(dir);
        }
        // SAFETY: the hook runs in the child between fork and exec, where only
        // async-signal-safe code may run; `mark_fds_cloexec` makes one system
        // call and neither allocates nor takes locks.
        unsafe { command.pre_exec(mark_fds_cloexec) };
        let mut child = command.spawn().unwrap_or_else(|e| panic!("cannot start `{shown}`: {e}"));
        let pgid = child.id();

        let (tx, rx) = mpsc::channel();
        let stderr = child.stderr.take().expect("stderr is piped");
        match child.stdout.take() {
            Some(stdout) => {
                let tx_out = tx.clone();
                thread::spawn(move || tx_out.send(Event::Stdout(read_all(stdout))));
            }
            // stdout is a file: there is nothing to read.
            None => tx.send(Event::Stdout(Vec::new())).expect("the receiver is alive"),
        }
        let tx_err = tx.clone();
        thread::spawn(move || tx_err.send(Event::Stderr(read_all(stderr))));
        thread::spawn(move || tx.send(Event::Exited(child.wait())));

        let mut run = Collected::default();
        if !run.collect(&rx, Instant::now() + self.timeout, &shown) {
            kill_group(pgid);
            run.collect(&rx, Instant::now() + KILL_GRACE, &shown);
            run.timed_out = true;
        }
        run.into_output()
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&show_argv(&self.argv))?;
        if let Some(dir) = &self.cwd {
            write!(f, " (in {})", dir.display())?;
        }
        if self.stdin.is_some() {
            f.write_str(" (stdin from a file)")?;
        }
        if self.stdout.is_some() {
            f.write_str(" (stdout to a file)")?;
        }
        Ok(())
    }
}

/// What the helper threads of [`Cmd::run`] report.
enum Event {
    Exited(io::Result<ExitStatus>),
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

/// The reports received so far.
#[derive(Default)]
struct Collected {
    status: Option<Status>,
    stdout: Option<Vec<u8>>,
    stderr: Option<Vec<u8>>,
    timed_out: bool,
}

impl Collected {
    /// Receives reports until all three are in (true) or `deadline` passes
    /// (false).
    fn collect(&mut self, rx: &Receiver<Event>, deadline: Instant, shown: &str) -> bool {
        while self.status.is_none() || self.stdout.is_none() || self.stderr.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(Event::Exited(result)) => {
                    let exit = result.unwrap_or_else(|e| panic!("waiting for `{shown}`: {e}"));
                    self.status = Some(Status::from_exit_status(exit));
                }
                Ok(Event::Stdout(data)) => self.stdout = Some(data),
                Ok(Event::Stderr(data)) => self.stderr = Some(data),
                Err(RecvTimeoutError::Timeout) => return false,
                Err(RecvTimeoutError::Disconnected) => {
                    unreachable!("the helper threads always report")
                }
            }
        }
        true
    }

    fn into_output(self) -> Output {
        let status = match self.status {
            Some(status) if !self.timed_out => status,
            _ => Status::TimedOut,
        };
        Output { status, stdout: self.stdout.unwrap_or_default(), stderr: self.stderr.unwrap_or_default() }
    }
}

/// A duplicate of `file`'s descriptor, for the child's `what` (stdin or
/// stdout).
fn dup_stdio(file: &File, what: &str) -> Stdio {
    Stdio::from(file.try_clone().unwrap_or_else(|e| panic!("cannot duplicate the file for {what}: {e}")))
}

fn read_all(mut pipe: impl Read) -> Vec<u8> {
    let mut data = Vec::new();
    // A read error ends the stream like EOF; what was read is kept.
    let _ = pipe.read_to_end(&mut data);
    data
}

/// Compares a native run of `cmd` with a sandboxed one: they agree when
/// their stdout and [`Status::code`] are equal (and neither timed out). The
/// error explains the difference, with a diff of stdout and both stderrs.
pub fn compare(cmd: &Cmd, native: &Output, sandboxed: &Output) -> Result<(), String> {
    let same_status = native.status.code().is_some() && native.status.code() == sandboxed.status.code();
    if same_status && native.stdout == sandboxed.stdout {
        return Ok(());
    }
    let mut why = format!("`{cmd}` behaves differently under runsc\n");
    why += &format!("native: {}; runsc: {}\n", native.status, sandboxed.status);
    if native.stdout != sandboxed.stdout {
        why += "stdout differs (- native, + runsc):\n";
        why += &diff(&native.stdout_text(), &sandboxed.stdout_text());
    }
    why += &describe_stderr("native", native);
    why += &describe_stderr("runsc", sandboxed);
    Err(why)
}

/// The end of a run's stderr, indented, or a note that it was empty.
pub fn describe_stderr(who: &str, output: &Output) -> String {
    const KEEP: usize = 4000;
    let text = output.stderr_text();
    if text.is_empty() {
        return format!("{who} stderr: (empty)\n");
    }
    let start = text.char_indices().map(|(i, _)| i).find(|&i| text.len() - i <= KEEP).unwrap_or(0);
    let mut out = format!("{who} stderr:\n");
    if start > 0 {
        out += "   ...\n";
    }
    for line in text[start..].lines() {
        out += "   ";
        out += line;
        out += "\n";
    }
    out
}

fn show_argv(argv: &[OsString]) -> String {
    argv.iter().map(|a| a.to_string_lossy().into_owned()).collect::<Vec<_>>().join(" ")
}

fn default_timeout() -> Duration {
    match std::env::var("RUNSC_TEST_TIMEOUT") {
        Ok(secs) => Duration::from_secs(
            secs.parse().unwrap_or_else(|_| panic!("RUNSC_TEST_TIMEOUT={secs} is not a number of seconds")),
        ),
        Err(_) => DEFAULT_TIMEOUT,
    }
}

/// Marks every fd above 2 close-on-exec. Runs between fork and exec.
fn mark_fds_cloexec() -> io::Result<()> {
    // SAFETY: close_range(2) takes only integers and touches no memory. A
    // kernel without CLOSE_RANGE_CLOEXEC fails it harmlessly.
    unsafe { close_range(3, u32::MAX, CLOSE_RANGE_CLOEXEC) };
    Ok(())
}

/// Kills the process group `pgid`: the command and whatever it started.
fn kill_group(pgid: u32) {
    let pgid = i32::try_from(pgid).expect("pids fit in i32");
    // SAFETY: kill(2) takes only integers and touches no memory. The group
    // is the one our child leads (`process_group(0)`); the child has not been
    // reaped unless it exited, and then the group lives on only while
    // something it started still holds its output.
    unsafe { kill(-pgid, SIGKILL) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_stdout_stderr_and_status() {
        let out = Cmd::new(["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]).run_native();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status, Status::Exited(3));
    }

    #[test]
    fn signals_count_as_128_plus_the_number() {
        let out = Cmd::new(["/bin/sh", "-c", "kill -SEGV $$"]).run_native();
        assert_eq!(out.status, Status::Signaled(11));
        assert_eq!(out.status.code(), Some(139));
    }

    #[test]
    fn only_fds_0_to_2_are_inherited_and_stdin_is_dev_null() {
        let out = Cmd::new(["/bin/ls", "/proc/self/fd"]).run_native();
        // ls's own directory fd is the 3.
        assert_eq!(out.stdout_text(), "0\n1\n2\n3\n");
        let out = Cmd::new(["/bin/readlink", "/proc/self/fd/0"]).run_native();
        assert_eq!(out.stdout_text(), "/dev/null\n");
    }

    #[test]
    fn a_hang_is_killed_and_reported() {
        let start = Instant::now();
        let out =
            Cmd::new(["/bin/sh", "-c", "echo started; exec sleep 60"]).timeout(Duration::from_millis(300)).run_native();
        assert_eq!(out.status, Status::TimedOut);
        assert_eq!(out.stdout, b"started\n");
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn output_held_open_by_a_straggler_counts_as_a_hang() {
        let out = Cmd::new(["/bin/sh", "-c", "sleep 60 & exit 0"]).timeout(Duration::from_millis(300)).run_native();
        assert_eq!(out.status, Status::TimedOut);
    }

    #[test]
    fn runs_in_the_given_directory() {
        let out = Cmd::new(["/bin/pwd"]).current_dir("/usr/share").run_native();
        assert_eq!(out.stdout_text(), "/usr/share\n");
    }

    #[test]
    fn stdin_and_stdout_files_share_their_offsets() {
        use std::fs::{self, OpenOptions};
        use std::io::{Seek, SeekFrom, Write};

        let path = std::env::temp_dir().join(format!("runsc-tests-run-{}", std::process::id()));
        let mut file = OpenOptions::new().read(true).write(true).create_new(true).open(&path).unwrap();
        file.write_all(b"a\nb\n").unwrap();
        file.seek(SeekFrom::Start(2)).unwrap();
        let out = Cmd::new(["/bin/cat"]).stdin(file.try_clone().unwrap()).run_native();
        assert_eq!(out.stdout, b"b\n");
        let out = Cmd::new(["/bin/echo", "c"]).stdout(file.try_clone().unwrap()).run_native();
        assert_eq!((out.status, out.stdout.len()), (Status::Exited(0), 0));
        assert_eq!(file.stream_position().unwrap(), 6);
        drop(file);
        assert_eq!(fs::read(&path).unwrap(), b"a\nb\nc\n");
        fs::remove_file(&path).unwrap();
    }

    #[test]
    fn compare_reports_status_and_stdout_differences() {
        let cmd = Cmd::new(["/bin/true"]);
        let a = Output { status: Status::Exited(0), stdout: b"x\n".to_vec(), stderr: vec![] };
        let b = Output { status: Status::Exited(1), stdout: b"y\n".to_vec(), stderr: vec![] };
        assert!(compare(&cmd, &a, &a).is_ok());
        let why = compare(&cmd, &a, &b).unwrap_err();
        assert!(why.contains("exit status 0") && why.contains("exit status 1"), "{why}");
        assert!(why.contains(" - x\n + y\n"), "{why}");
        let hung = Output { status: Status::TimedOut, ..a.clone() };
        assert!(compare(&cmd, &hung, &hung).is_err());
    }
}
