//! Whole commands that work the filesystem: wall time of `python3 -c pass`
//! (hundreds of lookups, most of them of missing paths), `find /usr -xdev`
//! (every directory of /usr), `tar xzf` of /usr/include/linux into a
//! tmpfs (creating a few thousand files), and a sequential write then read
//! of 1 GiB in a tmpfs (`dd`, fresh pages), under each runtime.

use std::path::Path;
use std::process::Command;

use crate::cli::Options;
use crate::runtime::Column;
use crate::sampling::{measure_columns, Cell};

/// The tarball `tar xzf` extracts, made once per run.
const TARBALL: &str = "/tmp/runsc-bench-include-linux.tgz";

/// The commands, by label.
pub fn commands() -> Vec<(&'static str, Vec<String>)> {
    let sh = |s: &str| vec!["/bin/sh".to_owned(), "-c".to_owned(), s.to_owned()];
    vec![
        ("python3 -c pass", vec!["/usr/bin/python3".into(), "-c".into(), "pass".into()]),
        ("find /usr -xdev", sh("find /usr -xdev > /dev/null")),
        (
            "dd 1 GiB to tmpfs and back",
            sh("d=$(mktemp -d /dev/shm/runsc-bench.XXXXXX) && dd if=/dev/zero of=\"$d/f\" bs=1M count=1024 status=none \
                && dd if=\"$d/f\" of=/dev/null bs=1M status=none; s=$?; rm -rf \"$d\"; exit $s"),
        ),
        (
            "tar xzf include/linux",
            sh(&format!(
                "d=$(mktemp -d /dev/shm/runsc-bench.XXXXXX) && tar xzf {TARBALL} -C \"$d\"; s=$?; rm -rf \"$d\"; exit $s"
            )),
        ),
    ]
}

/// Median wall time per command and column; `runs` runs each.
pub fn measure(opts: &Options, columns: &[Column]) -> Vec<(String, Vec<Cell>)> {
    if !Path::new(TARBALL).exists() {
        let made = Command::new("tar").args(["czf", TARBALL, "-C", "/usr/include", "linux"]).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("could not make {TARBALL}; the tar row will fail");
        }
    }
    let runs = opts.true_runs.div_ceil(4).max(3);
    let rows = commands()
        .into_iter()
        .map(|(label, argv)| {
            let cells = measure_columns(label, columns, runs, |runtime| {
                let done = runtime.run(&argv, opts.timeout)?;
                Ok(done.wall.as_secs_f64() * 1e9)
            });
            (label.to_owned(), cells)
        })
        .collect();
    let _ = std::fs::remove_file(TARBALL);
    rows
}
