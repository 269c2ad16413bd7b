//! A line diff for failure messages: what native printed against what the
//! sandbox printed, with a little context around each difference.

use std::fmt::Write as _;

/// Lines of context shown around each difference.
const CONTEXT: usize = 3;

/// At most this many lines of diff are shown.
const MAX_LINES: usize = 200;

/// Above this many cells the quadratic diff is skipped and only the first
/// differing line is shown.
const MAX_CELLS: usize = 16 << 20;

/// One line of a diff.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    Same(&'a str),
    /// Only in the first (native) text.
    Old(&'a str),
    /// Only in the second (sandboxed) text.
    New(&'a str),
}

/// Formats the differences between `old` and `new` line by line: `-` for
/// lines only in `old`, `+` for lines only in `new`, a space for context.
/// Returns an empty string if the texts are equal.
pub fn diff(old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let lines = if a.len().saturating_mul(b.len()) <= MAX_CELLS { lcs_diff(&a, &b) } else { prefix_diff(&a, &b) };
    let mut out = String::new();
    if old.ends_with('\n') != new.ends_with('\n') {
        out.push_str("(the texts differ in their final newline)\n");
    }
    let shown = visible(&lines);
    let mut last = None;
    let mut count = 0;
    for (i, line) in lines.iter().enumerate() {
        if !shown[i] {
            continue;
        }
        if last.is_some_and(|l| l + 1 != i) {
            out.push_str("   ...\n");
        }
        last = Some(i);
        count += 1;
        if count > MAX_LINES {
            out.push_str("   ... (diff truncated)\n");
            break;
        }
        let _ = match line {
            Line::Same(s) => writeln!(out, "   {s}"),
            Line::Old(s) => writeln!(out, " - {s}"),
            Line::New(s) => writeln!(out, " + {s}"),
        };
    }
    out
}

/// Which lines are within `CONTEXT` of a change.
fn visible(lines: &[Line<'_>]) -> Vec<bool> {
    let mut shown = vec![false; lines.len()];
    for (i, line) in lines.iter().enumerate() {
        if !matches!(line, Line::Same(_)) {
            let start = i.saturating_sub(CONTEXT);
            let end = (i + CONTEXT + 1).min(lines.len());
            shown[start..end].iter_mut().for_each(|s| *s = true);
        }
    }
    shown
}

/// A minimal diff from the longest common subsequence.
fn lcs_diff<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Line<'a>> {
    // suffix[i][j]: length of the LCS of a[i..] and b[j..].
    let width = b.len() + 1;
    let mut suffix = vec![0u32; (a.len() + 1) * width];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            suffix[i * width + j] = if a[i] == b[j] {
                suffix[(i + 1) * width + j + 1] + 1
            } else {
                suffix[(i + 1) * width + j].max(suffix[i * width + j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::with_capacity(a.len().max(b.len()));
    while i < a.len() && j < b.len() {
        if a[i] == b[j] {
            out.push(Line::Same(a[i]));
            i += 1;
            j += 1;
        } else if suffix[(i + 1) * width + j] >= suffix[i * width + j + 1] {
            out.push(Line::Old(a[i]));
            i += 1;
        } else {
            out.push(Line::New(b[j]));
            j += 1;
        }
    }
    out.extend(a[i..].iter().map(|s| Line::Old(s)));
    out.extend(b[j..].iter().map(|s| Line::New(s)));
    out
}

/// For huge outputs: the common prefix, then everything after it.
fn prefix_diff<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<Line<'a>> {
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let mut out: Vec<Line<'a>> = a[..common].iter().map(|s| Line::Same(s)).collect();
    out.extend(a[common..].iter().map(|s| Line::Old(s)));
    out.extend(b[common..].iter().map(|s| Line::New(s)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(diff("a\nb\n", "a\nb\n"), "");
    }

    #[test]
    fn changed_line_is_shown_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        assert_eq!(diff(old, new), "   2\n   3\n   4\n - 5\n + five\n   6\n   7\n   8\n");
    }

    #[test]
    fn missing_and_extra_lines() {
        assert_eq!(diff("a\nb\n", "a\n"), "   a\n - b\n");
        assert_eq!(diff("a\n", "a\nb\n"), "   a\n + b\n");
    }

    #[test]
    fn final_newline_is_reported() {
        assert!(diff("a\n", "a").contains("final newline"));
    }

    #[test]
    fn distant_changes_are_separated() {
        let old: String = (0..20).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "x\n").replace("17\n", "y\n");
        let d = diff(&old, &new);
        assert!(d.contains(" - 2\n + x\n"), "{d}");
        assert!(d.contains("   ...\n"), "{d}");
        assert!(d.contains(" - 17\n + y\n"), "{d}");
    }

    #[test]
    fn prefix_diff_keeps_the_common_start() {
        let lines = prefix_diff(&["a", "b", "c"], &["a", "x"]);
        assert_eq!(lines, vec![Line::Same("a"), Line::Old("b"), Line::Old("c"), Line::New("x")]);
    }
}
