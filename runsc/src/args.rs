//! Command-line spelling: Go's flag package, which runc and gVisor use,
//! takes `-root` as well as `--root`, and shims write both. Single-dash
//! long flags are rewritten to double-dash before clap parses them, up to
//! the first argument that is not a flag (so a program's own arguments,
//! as in `runsc do ls -all`, are never touched).

use std::ffi::OsString;

/// Long flags that take a value (the next argument, or after `=`).
const WITH_VALUE: &[&str] = &[
    "root",
    "log",
    "log-format",
    "debug-log",
    "platform",
    "network",
    "overlay2",
    "bundle",
    "pid-file",
    "console-socket",
    "preserve-fds",
    "format",
    "cwd",
    "volume",
    "process",
    "env",
    "user",
    "additional-gids",
    "interval",
    "rootless",
];

/// Long flags without a value.
const WITHOUT_VALUE: &[&str] = &[
    "debug",
    "strace",
    "systemd-cgroup",
    "ignore-cgroups",
    "seccomp-log",
    "detach",
    "no-pivot",
    "no-new-keyring",
    "keep",
    "force",
    "all",
    "quiet",
    "help",
    "version",
    "tty",
    "no-new-privs",
    "stats",
];

/// The subcommands whose first positional argument starts a program's
/// own command line.
const COMMANDS: &[&str] =
    &["do", "create", "run", "start", "state", "list", "kill", "delete", "ps", "spec", "syscalls", "boot", "gofer"];

/// Rewrites `-name[=v]` to `--name[=v]` for runsc's long flags, before
/// the first positional argument after the subcommand.
pub fn normalize(args: impl IntoIterator<Item = OsString>) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut it = args.into_iter();
    if let Some(prog) = it.next() {
        out.push(prog);
    }
    let mut seen_command = false;
    let mut takes_value = false;
    let mut done = false;
    for a in it {
        if done {
            out.push(a);
            continue;
        }
        if takes_value {
            takes_value = false;
            out.push(a);
            continue;
        }
        let s = a.to_string_lossy().into_owned();
        if s == "--" {
            done = true;
            out.push(a);
            continue;
        }
        if let Some(rest) = s.strip_prefix('-') {
            let long = rest.strip_prefix('-').unwrap_or(rest);
            let name = long.split_once('=').map_or(long, |(n, _)| n);
            let known_value = WITH_VALUE.contains(&name);
            if known_value || WITHOUT_VALUE.contains(&name) {
                takes_value = known_value && !long.contains('=');
                out.push(OsString::from(format!("--{long}")));
            } else {
                out.push(a);
            }
            continue;
        }
        if !seen_command && COMMANDS.contains(&s.as_str()) {
            seen_command = true;
        } else {
            // The first positional argument: the rest is left alone.
            done = true;
        }
        out.push(a);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(v: &[&str]) -> Vec<String> {
        normalize(v.iter().map(OsString::from)).into_iter().map(|a| a.into_string().unwrap()).collect()
    }

    #[test]
    fn single_dash_long_flags_become_double() {
        assert_eq!(
            norm(&["runsc", "-root", "/r", "-log=/l", "create", "-bundle", "/b", "-pid-file", "p", "id"]),
            ["runsc", "--root", "/r", "--log=/l", "create", "--bundle", "/b", "--pid-file", "p", "id"]
        );
    }

    #[test]
    fn program_arguments_are_left_alone() {
        assert_eq!(norm(&["runsc", "do", "ls", "-all"]), ["runsc", "do", "ls", "-all"]);
        assert_eq!(norm(&["runsc", "do", "--", "-debug"]), ["runsc", "do", "--", "-debug"]);
        assert_eq!(norm(&["runsc", "-d", "kill", "id", "-all"]), ["runsc", "-d", "kill", "id", "-all"]);
        assert_eq!(norm(&["runsc", "kill", "-all", "id"]), ["runsc", "kill", "--all", "id"]);
    }
}
