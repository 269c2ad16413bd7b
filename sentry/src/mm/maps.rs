//! The text of `/proc/[pid]/maps`.

use std::fmt::Write as _;

use crate::mm::MemoryManager;

impl MemoryManager {
    /// The text of `/proc/[pid]/maps`.
    pub fn maps_text(&self) -> String {
        let i = self.read();
        let mut s = String::new();
        for v in i.vmas.values() {
            let p = |b: i32, c: char| if v.prot & b != 0 { c } else { '-' };
            let (dev, ino, path, off) = match &v.file {
                Some(f) => {
                    let (d, ino, path) = f.file.describe();
                    (d, ino, path, f.offset)
                }
                None => (0, 0, v.name.unwrap_or("").to_string(), 0),
            };
            let (ma, mi) = crate::abi::dev_split(dev);
            let _ = write!(
                s,
                "{:08x}-{:08x} {}{}{}{} {:08x} {:02x}:{:02x} {:<10} ",
                v.start,
                v.end,
                p(libc::PROT_READ, 'r'),
                p(libc::PROT_WRITE, 'w'),
                p(libc::PROT_EXEC, 'x'),
                if v.shared { 's' } else { 'p' },
                off,
                ma,
                mi,
                ino
            );
            let line_len = s.rsplit('\n').next().map_or(0, |l| l.len());
            if !path.is_empty() {
                // Linux pads the path to column 73.
                for _ in line_len..73 {
                    s.push(' ');
                }
                s.push_str(&path);
            }
            s.truncate(s.trim_end_matches(' ').len());
            s.push('\n');
        }
        s
    }
}
