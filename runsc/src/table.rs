//! Plain-text tables, columns padded to their widest cell (as runc's
//! tabwriter output).

use std::io::Write;

/// Writes `head` and `rows`, each column as wide as its widest cell plus
/// one space, the last column unpadded.
pub fn print<const N: usize>(out: &mut impl Write, head: &[String; N], rows: &[[String; N]]) -> std::io::Result<()> {
    let mut width = [0usize; N];
    for r in std::iter::once(head).chain(rows.iter()) {
        for (w, c) in width.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.len());
        }
    }
    for r in std::iter::once(head).chain(rows.iter()) {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            if i + 1 == N {
                line.push_str(c);
            } else {
                line.push_str(&format!("{c:<w$} ", w = width[i]));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}
