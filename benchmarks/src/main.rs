//! Benchmark harness: runs the same microbenchmarks natively, under runc and
//! under `runsc do`, in one run, and prints the figures side by side.
//!
//! ```text
//! cargo run --release -p benchmarks [-- --runsc PATH --quick]
//! ```
//!
//! What it measures (see `benchmarks/README.md` for targets):
//! - per-operation cost of a few syscalls, timed inside the program by
//!   `micro/micro.c` (compiled here with gcc into `target/bench/`);
//! - wall time of running `/bin/true` (start-up plus tear-down);
//! - wall time of commands that work the filesystem (`commands.rs`);
//! - resident memory of the whole sandbox while it runs `/bin/sleep 10`;
//! - the OCI runtime (`oci.rs`): `run` and `exec` of `true` in a busybox
//!   bundle and an idle container's memory, beside runc and crun;
//! - `docker run --rm IMAGE true` through a private dockerd (`docker.rs`)
//!   under runc, crun and runsc.
//!
//! Runs of the three runtimes are interleaved and repeated, and the median is
//! kept, so a noisy machine still gives a fair comparison. Every child has a
//! timeout and is killed with its process tree when it expires; a runtime
//! that fails is reported in its cell and the run goes on.

mod child;
mod cli;
mod commands;
mod docker;
mod json_edit;
mod memory;
mod micro;
mod oci;
mod procfs;
mod report;
mod runc;
mod runtime;
mod sampling;
mod sleepers;
mod startup;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

use cli::Options;
use runtime::Column;

fn main() -> Result<()> {
    let opts = match cli::parse(std::env::args().skip(1)) {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("{e:#}");
            std::process::exit(2);
        }
    };
    let workspace = workspace_root();
    let runsc = opts.runsc_path(&workspace);

    report::print_header(&runsc);
    let micro = micro::build(&micro_source(), &bench_dir(&workspace)).context("building the microbenchmark program")?;

    let columns = runtime::columns(&opts, &runsc);
    report::print_unavailable(&columns);
    run_all(&opts, &columns, &micro, &runsc);
    Ok(())
}

/// Runs every section of the report in turn.
fn run_all(opts: &Options, columns: &[Column], micro: &Path, runsc: &Path) {
    let rows = micro::run_all(opts, columns, micro);
    report::print_micro_table(&rows, opts, columns);
    let startup = startup::measure(opts, columns);
    report::print_startup(&startup, opts, columns);
    if opts.selected("commands") {
        let rows = commands::measure(opts, columns);
        report::print_commands(&rows, opts, columns);
    }
    memory::report(runsc);
    sleepers::report(runsc);
    if opts.selected("oci") {
        oci::report(runsc, opts.true_runs);
    }
    if opts.selected("docker") {
        docker::report(runsc, opts.true_runs.min(10));
    }
}

/// The Cargo workspace this crate lives in.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Where the compiled C programs go.
fn bench_dir(workspace: &Path) -> PathBuf {
    workspace.join("target").join("bench")
}

/// The C source of the microbenchmarks.
fn micro_source() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("micro").join("micro.c")
}
