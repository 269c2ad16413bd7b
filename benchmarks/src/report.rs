//! Printing: the header describing the machine, and Markdown tables with one
//! column per runtime plus the ratios to native.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::child::shorten;
use crate::cli::Options;
use crate::micro::{Row, BENCHMARKS};
use crate::runc;
use crate::runtime::Column;
use crate::sampling::Cell;
use crate::startup;

/// Longest error text shown inside a cell; the full text is a footnote.
const CELL_ERROR_CHARS: usize = 36;

/// Prints the date, kernel, CPU and the runtimes' paths or versions.
pub fn print_header(runsc: &Path) {
    println!("# runsc benchmarks\n");
    println!("- date: {}", date());
    println!("- kernel: {}", kernel());
    println!("- cpu: {}", cpu());
    println!("- runsc: {}", runsc.display());
    let runc = runc::version().unwrap_or_else(|| "not installed".to_owned());
    println!("- runc: {runc}");
}

fn date() -> String {
    Command::new("date")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn kernel() -> String {
    let read = |name: &str| {
        fs::read_to_string(format!("/proc/sys/kernel/{name}")).map(|s| s.trim().to_owned()).unwrap_or_default()
    };
    format!("{} {} {}", read("ostype"), read("osrelease"), read("version"))
}

fn cpu() -> String {
    let info = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = info
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, m)| m.trim()))
        .unwrap_or("unknown");
    let count = std::thread::available_parallelism().map_or(0, usize::from);
    format!("{model} ({count} CPUs available)")
}

/// Says once, before the tables, why a column shows `n/a`.
pub fn print_unavailable(columns: &[Column]) {
    for column in columns {
        if let Err(reason) = &column.runtime {
            println!("- {} column is n/a: {reason}", column.name);
        }
    }
    println!();
}

/// Prints the microbenchmark table and what each row measures.
pub fn print_micro_table(rows: &[Row], opts: &Options, columns: &[Column]) {
    println!("## Microbenchmarks: ns per operation, median of {} runs (each ≤ {} s)\n", opts.reps, opts.seconds);
    let rows: Vec<(String, &[Cell])> = rows.iter().map(|r| (r.name.to_owned(), r.cells.as_slice())).collect();
    print_table("benchmark", "ns/op", 1.0, &rows, columns);
    println!();
    for (name, what) in BENCHMARKS.iter().filter(|(n, _)| opts.selected(n)) {
        println!("- {name}: {what}");
    }
}

/// Prints the start-up table.
pub fn print_startup(cells: &[Cell], opts: &Options, columns: &[Column]) {
    println!("\n## Start-up: wall time of `{}`, ms, median of {} runs\n", startup::PROGRAM, opts.true_runs);
    let rows = [(startup::PROGRAM.to_owned(), cells)];
    print_table("program", "ms", 1e6, &rows, columns);
}

/// Prints the table of whole commands.
pub fn print_commands(rows: &[(String, Vec<Cell>)], opts: &Options, columns: &[Column]) {
    let runs = opts.true_runs.div_ceil(4).max(3);
    println!("\n## Commands on the filesystem: wall time, ms, median of {runs} runs\n");
    let rows: Vec<(String, &[Cell])> = rows.iter().map(|(n, c)| (n.clone(), c.as_slice())).collect();
    print_table("command", "ms", 1e6, &rows, columns);
}

/// Prints a Markdown table: a label, one value per column (in nanoseconds,
/// shown divided by `scale` with `unit`), then the ratios to native.
/// Errors are shortened in the cell and given in full below the table.
fn print_table(label: &str, unit: &str, scale: f64, rows: &[(String, &[Cell])], columns: &[Column]) {
    let mut header = vec![label.to_owned()];
    header.extend(columns.iter().map(|c| format!("{} {unit}", c.name)));
    header.extend(ratio_pairs(columns).iter().map(|&(n, d)| format!("{}/{}", columns[n].name, columns[d].name)));
    let mut footnotes = Vec::new();
    let body: Vec<Vec<String>> =
        rows.iter().map(|(name, cells)| table_row(name, cells, columns, scale, &mut footnotes)).collect();
    print_markdown(&header, &body);
    if !footnotes.is_empty() {
        println!("\n{}", footnotes.join("\n"));
    }
}

/// Index pairs (numerator, denominator) of the ratio columns:
/// runsc/native, then runc/native.
fn ratio_pairs(columns: &[Column]) -> Vec<(usize, usize)> {
    let find = |name: &str| columns.iter().position(|c| c.name == name);
    let (Some(native), runc, runsc) = (find("native"), find("runc"), find("runsc")) else {
        return Vec::new();
    };
    [runsc, runc].into_iter().flatten().map(|n| (n, native)).collect()
}

fn table_row(name: &str, cells: &[Cell], columns: &[Column], scale: f64, footnotes: &mut Vec<String>) -> Vec<String> {
    let mut row = vec![name.to_owned()];
    for (cell, column) in cells.iter().zip(columns) {
        row.push(format_cell(cell, scale, || format!("{name}, {}", column.name), footnotes));
    }
    for (n, d) in ratio_pairs(columns) {
        row.push(format_ratio(&cells[n], &cells[d]));
    }
    row
}

fn format_cell(cell: &Cell, scale: f64, context: impl FnOnce() -> String, footnotes: &mut Vec<String>) -> String {
    match cell {
        Ok(value) => format_number(value / scale),
        Err(e) if e == "n/a" => e.clone(),
        Err(e) => {
            footnotes.push(format!("- [{}] {}: {e}", footnotes.len() + 1, context()));
            let first = e.lines().next().unwrap_or("");
            format!("error [{}]: {}", footnotes.len(), shorten(first, CELL_ERROR_CHARS))
        }
    }
}

fn format_ratio(numerator: &Cell, denominator: &Cell) -> String {
    match (numerator, denominator) {
        (Ok(n), Ok(d)) if *d > 0.0 => format!("{:.1}x", n / d),
        _ => "-".to_owned(),
    }
}

/// A value with about three significant digits, at least one decimal
/// below 100.
fn format_number(value: f64) -> String {
    match value.abs() {
        v if v >= 100.0 => format!("{value:.0}"),
        v if v >= 10.0 => format!("{value:.1}"),
        _ => format!("{value:.2}"),
    }
}

/// Prints an aligned Markdown table; `|` inside cells is escaped.
fn print_markdown(header: &[String], body: &[Vec<String>]) {
    let escape = |s: &String| s.replace('|', "\\|");
    let header: Vec<String> = header.iter().map(escape).collect();
    let body: Vec<Vec<String>> = body.iter().map(|r| r.iter().map(escape).collect()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &body {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    print_markdown_row(&header, &widths);
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    print_markdown_row(&rule, &widths);
    for row in &body {
        print_markdown_row(row, &widths);
    }
}

fn print_markdown_row(cells: &[String], widths: &[usize]) {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (c, &w))| {
            let pad = " ".repeat(w.saturating_sub(c.chars().count()));
            if i == 0 {
                format!("{c}{pad}")
            } else {
                format!("{pad}{c}")
            }
        })
        .collect();
    println!("| {} |", padded.join(" | "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_and_ratios() {
        assert_eq!(format_number(158.46), "158");
        assert_eq!(format_number(22.84), "22.8");
        assert_eq!(format_number(1.234), "1.23");
        assert_eq!(format_ratio(&Ok(300.0), &Ok(100.0)), "3.0x");
        assert_eq!(format_ratio(&Err("n/a".into()), &Ok(100.0)), "-");
    }
}
