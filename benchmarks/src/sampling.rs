//! Repeated, interleaved measurement of every column, reduced to medians.

use anyhow::Result;
use std::io::Write;

use crate::runtime::{Column, Runtime};

/// A median measurement, or why there is none (the text goes in the cell).
pub type Cell = Result<f64, String>;

/// Samples of one column so far, or the error that stopped it.
type Samples = Result<Vec<f64>, String>;

/// Calls `measure` `reps` times for each available column, the columns
/// interleaved within each repetition so that drift in the machine's speed
/// hits them alike, and returns the medians in column order. A column that
/// fails once is not measured again; its cell holds the error. Progress goes
/// to stderr under `label`.
pub fn measure_columns(
    label: &str,
    columns: &[Column],
    reps: usize,
    mut measure: impl FnMut(&Runtime) -> Result<f64>,
) -> Vec<Cell> {
    eprint!("running {label:<14} ");
    let mut samples: Vec<Samples> =
        columns.iter().map(|c| c.runtime.as_ref().map(|_| Vec::new()).map_err(|_| "n/a".to_owned())).collect();
    for _ in 0..reps {
        for (column, sample) in columns.iter().zip(samples.iter_mut()) {
            sample_once(column, sample, &mut measure);
        }
        eprint!(".");
        let _ = std::io::stderr().flush();
    }
    eprintln!();
    samples.into_iter().map(|s| s.map(|v| median(&v))).collect()
}

fn sample_once(column: &Column, samples: &mut Samples, measure: &mut impl FnMut(&Runtime) -> Result<f64>) {
    let (Ok(runtime), Ok(values)) = (&column.runtime, samples.as_mut()) else {
        return;
    };
    match measure(runtime) {
        Ok(value) => values.push(value),
        Err(e) => *samples = Err(format!("{e:#}")),
    }
}

/// Median of `values` (mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[mid],
        _ => (sorted[mid - 1] + sorted[mid]) / 2.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
