//! The three ways of running a program that the report compares.

use anyhow::Result;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::child::{self, Finished};
use crate::cli::Options;
use crate::runc::{self, RuncBundle};

/// How a program is run.
pub enum Runtime {
    /// Directly on the host.
    Native,
    /// `runc run` in a bundle over the host's root filesystem.
    Runc(RuncBundle),
    /// `RUNSC do PROG ARGS...`.
    Runsc(PathBuf),
}

impl Runtime {
    /// Runs `argv` under this runtime with the given timeout; fails if it
    /// cannot start, times out or exits unsuccessfully.
    pub fn run(&self, argv: &[String], timeout: Duration) -> Result<Finished> {
        match self {
            Runtime::Native => child::run(plain_command(argv), timeout)?.check(),
            Runtime::Runsc(path) => {
                let mut cmd = Command::new(path);
                cmd.arg("do").args(argv);
                child::run(cmd, timeout)?.check()
            }
            Runtime::Runc(bundle) => {
                let (cmd, id) = bundle.command(argv)?;
                let result = child::run(cmd, timeout).and_then(Finished::check);
                if result.is_err() {
                    RuncBundle::cleanup(&id);
                }
                result
            }
        }
    }
}

fn plain_command(argv: &[String]) -> Command {
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]);
    cmd
}

/// A column of the report: a runtime, or why it is not available.
pub struct Column {
    /// Heading, e.g. `runsc`.
    pub name: &'static str,
    /// The runtime, or the reason it cannot be used.
    pub runtime: Result<Runtime, String>,
}

/// The native, runc and runsc columns, in that order.
pub fn columns(opts: &Options, runsc: &Path) -> Vec<Column> {
    vec![
        Column { name: "native", runtime: Ok(Runtime::Native) },
        Column { name: "runc", runtime: runc_runtime(opts) },
        Column { name: "runsc", runtime: runsc_runtime(runsc) },
    ]
}

fn runc_runtime(opts: &Options) -> Result<Runtime, String> {
    if opts.no_runc {
        return Err("skipped (--no-runc)".to_owned());
    }
    if let Some(reason) = runc::unavailable_reason() {
        return Err(reason);
    }
    RuncBundle::create(opts.timeout).map(Runtime::Runc).map_err(|e| format!("runc bundle does not work: {e:#}"))
}

fn runsc_runtime(path: &Path) -> Result<Runtime, String> {
    if path.is_file() {
        Ok(Runtime::Runsc(path.to_path_buf()))
    } else {
        Err(format!(
            "{} not found (build it with `cargo build --release -p runsc`, or pass --runsc PATH)",
            path.display()
        ))
    }
}
