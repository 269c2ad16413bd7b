//! Start-up cost: wall time of running `/bin/true` under each runtime.

use crate::cli::Options;
use crate::runtime::Column;
use crate::sampling::{measure_columns, Cell};

/// The program whose run is timed.
pub const PROGRAM: &str = "/bin/true";

/// Median wall time in nanoseconds of `opts.true_runs` runs of `/bin/true`
/// per column, from just before spawning to just after reaping.
pub fn measure(opts: &Options, columns: &[Column]) -> Vec<Cell> {
    let argv = vec![PROGRAM.to_owned()];
    measure_columns(PROGRAM, columns, opts.true_runs, |runtime| {
        let done = runtime.run(&argv, opts.timeout)?;
        Ok(done.wall.as_secs_f64() * 1e9)
    })
}
