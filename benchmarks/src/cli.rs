//! Command-line options of the harness.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

const USAGE: &str = "\
usage: benchmarks [--runsc PATH] [--quick] [--reps N] [--seconds S]
                  [--true-runs N] [--timeout S] [--no-runc] [--only NAME,...]

  --runsc PATH    runtime binary (default: $RUNSC, else <workspace>/target/release/runsc)
  --quick         fewer repetitions and shorter runs (about a tenth of the time)
  --reps N        repetitions of each microbenchmark per runtime (default 5, quick 3)
  --seconds S     time budget of one microbenchmark run (default 1.0, quick 0.2)
  --true-runs N   runs of /bin/true per runtime (default 20, quick 10)
  --timeout S     kill any child still running after S seconds (default 60)
  --no-runc       skip the runc column
  --only LIST     comma-separated microbenchmarks to run (default: all)";

/// Everything the user can choose on the command line.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--runsc PATH`, if given.
    pub runsc: Option<PathBuf>,
    /// Whether `--quick` was given.
    pub quick: bool,
    /// Repetitions of each microbenchmark per runtime.
    pub reps: usize,
    /// Time budget handed to one microbenchmark run.
    pub seconds: f64,
    /// Number of `/bin/true` runs per runtime.
    pub true_runs: usize,
    /// Time after which any child is killed.
    pub timeout: Duration,
    /// Whether to skip runc even if it is installed.
    pub no_runc: bool,
    /// Microbenchmarks to run; empty means all.
    pub only: Vec<String>,
}

impl Options {
    /// The runtime binary: `--runsc`, else `$RUNSC`, else the workspace build.
    pub fn runsc_path(&self, workspace: &Path) -> PathBuf {
        if let Some(path) = &self.runsc {
            return path.clone();
        }
        match std::env::var_os("RUNSC") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => workspace.join("target").join("release").join("runsc"),
        }
    }

    /// Whether the microbenchmark `name` was selected.
    pub fn selected(&self, name: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|n| n == name)
    }
}

/// Explicitly given values, before quick/default values are filled in.
#[derive(Default)]
struct Given {
    reps: Option<usize>,
    seconds: Option<f64>,
    true_runs: Option<usize>,
    timeout: Option<f64>,
}

/// Parses the arguments that follow the program name.
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Options> {
    let mut opts = Options {
        runsc: None,
        quick: false,
        reps: 0,
        seconds: 0.0,
        true_runs: 0,
        timeout: Duration::ZERO,
        no_runc: false,
        only: Vec::new(),
    };
    let mut given = Given::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        parse_one(&arg, &mut args, &mut opts, &mut given)?;
    }
    fill_defaults(&mut opts, &given)?;
    Ok(opts)
}

fn parse_one(arg: &str, rest: &mut impl Iterator<Item = String>, opts: &mut Options, given: &mut Given) -> Result<()> {
    let mut value = || rest.next().with_context(|| format!("{arg} needs a value\n{USAGE}"));
    match arg {
        "--runsc" => opts.runsc = Some(PathBuf::from(value()?)),
        "--quick" => opts.quick = true,
        "--no-runc" => opts.no_runc = true,
        "--reps" => given.reps = Some(number(arg, &value()?)?),
        "--seconds" => given.seconds = Some(number(arg, &value()?)?),
        "--true-runs" => given.true_runs = Some(number(arg, &value()?)?),
        "--timeout" => given.timeout = Some(number(arg, &value()?)?),
        "--only" => opts.only = value()?.split(',').map(str::to_owned).collect(),
        "-h" | "--help" => {
            println!("{USAGE}");
            std::process::exit(0);
        }
        _ => bail!("unknown argument {arg:?}\n{USAGE}"),
    }
    Ok(())
}

fn number<T: std::str::FromStr>(flag: &str, text: &str) -> Result<T> {
    text.parse().ok().with_context(|| format!("{flag}: {text:?} is not a valid number"))
}

fn fill_defaults(opts: &mut Options, given: &Given) -> Result<()> {
    let quick = opts.quick;
    opts.reps = given.reps.unwrap_or(if quick { 3 } else { 5 });
    opts.seconds = given.seconds.unwrap_or(if quick { 0.2 } else { 1.0 });
    opts.true_runs = given.true_runs.unwrap_or(if quick { 10 } else { 20 });
    let timeout = given.timeout.unwrap_or(60.0);
    if opts.reps == 0 || opts.true_runs == 0 || opts.seconds <= 0.0 || timeout <= 0.0 {
        bail!("--reps, --true-runs, --seconds and --timeout must be positive");
    }
    opts.timeout = Duration::from_secs_f64(timeout);
    Ok(())
}
