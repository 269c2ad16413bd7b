//! The text of `/proc/[pid]/maps`, `smaps` and `smaps_rollup`.

use std::fmt::Write as _;

use crate::mm::vma::Vma;
use crate::mm::MemoryManager;

/// One mapping's memory figures for smaps, in bytes.
#[derive(Clone, Copy, Default)]
struct Usage {
    size: u64,
    rss: u64,
    shared_clean: u64,
    shared_dirty: u64,
    private_clean: u64,
    private_dirty: u64,
    anon: u64,
    file: u64,
    shmem: u64,
}

impl Usage {
    fn add(&mut self, o: &Usage) {
        self.size += o.size;
        self.rss += o.rss;
        self.shared_clean += o.shared_clean;
        self.shared_dirty += o.shared_dirty;
        self.private_clean += o.private_clean;
        self.private_dirty += o.private_dirty;
        self.anon += o.anon;
        self.file += o.file;
        self.shmem += o.shmem;
    }

    /// The smaps fields (sizes in kB), or smaps_rollup's (`rollup`: no
    /// sizes, the Pss split by kind). Pages of writable mappings count as
    /// dirty and of read-only file mappings as clean: the sandbox does not
    /// track which pages were written. Pss is Rss (sharers are not
    /// counted).
    fn write(&self, s: &mut String, rollup: bool) {
        let kb = |b: u64| b / 1024;
        let sizes = [("Size", kb(self.size)), ("KernelPageSize", 4), ("MMUPageSize", 4)];
        let dirty = kb(self.shared_dirty + self.private_dirty);
        let head = [("Rss", kb(self.rss)), ("Pss", kb(self.rss)), ("Pss_Dirty", dirty)];
        let by_kind = [("Pss_Anon", kb(self.anon)), ("Pss_File", kb(self.file)), ("Pss_Shmem", kb(self.shmem))];
        let rest = [
            ("Shared_Clean", kb(self.shared_clean)),
            ("Shared_Dirty", kb(self.shared_dirty)),
            ("Private_Clean", kb(self.private_clean)),
            ("Private_Dirty", kb(self.private_dirty)),
            ("Referenced", kb(self.rss)),
            ("Anonymous", kb(self.anon)),
            ("KSM", 0),
            ("LazyFree", 0),
            ("AnonHugePages", 0),
            ("ShmemPmdMapped", 0),
            ("FilePmdMapped", 0),
            ("Shared_Hugetlb", 0),
            ("Private_Hugetlb", 0),
            ("Swap", 0),
            ("SwapPss", 0),
            ("Locked", 0),
        ];
        let fields: Vec<(&str, u64)> = if rollup {
            head.into_iter().chain(by_kind).chain(rest).collect()
        } else {
            sizes.into_iter().chain(head).chain(rest).collect()
        };
        for (name, v) in fields {
            let _ = writeln!(s, "{:<16}{v:>8} kB", format!("{name}:"));
        }
    }
}

impl MemoryManager {
    /// The text of `/proc/[pid]/maps`.
    pub fn maps_text(&self) -> String {
        self.maps_like(false)
    }

    /// The text of `/proc/[pid]/smaps`: each mapping's line from `maps`,
    /// its memory figures and its VmFlags.
    pub fn smaps_text(&self) -> String {
        self.maps_like(true)
    }

    /// The text of `/proc/[pid]/smaps_rollup`: the figures of every
    /// mapping summed under one line spanning them.
    pub fn smaps_rollup_text(&self) -> String {
        let i = self.read();
        let mut total = Usage::default();
        for v in i.vmas.values() {
            total.add(&self.usage(&i, v));
        }
        let (lo, hi) = match (i.vmas.values().next(), i.vmas.values().next_back()) {
            (Some(a), Some(b)) => (a.start, b.end),
            _ => (0, 0),
        };
        let mut s = format!("{lo:08x}-{hi:08x} ---p 00000000 00:00 0{:<26}[rollup]\n", "");
        total.write(&mut s, true);
        s
    }

    /// A mapping's resident bytes, by kind.
    fn usage(&self, i: &crate::mm::Inner, v: &Vma) -> Usage {
        let mut rss = 0;
        for (_, p) in i.pmas.range(..v.end).rev().take_while(|(_, p)| p.end > v.start) {
            let (s, e) = (p.start.max(v.start), p.end.min(v.end));
            if s < e {
                rss += self.mf.resident_bytes(p.mf_off + (s - p.start), e - s);
            }
        }
        let shmem = v.shared && (v.file.is_none() || v.segment.is_some());
        let anon = !v.shared && v.file.is_none();
        let clean = v.file.is_some() && v.prot & libc::PROT_WRITE == 0;
        let mut u = Usage { size: v.end - v.start, rss, ..Usage::default() };
        match (v.shared, clean) {
            (true, true) => u.shared_clean = rss,
            (true, false) => u.shared_dirty = rss,
            (false, true) => u.private_clean = rss,
            (false, false) => u.private_dirty = rss,
        }
        if shmem {
            u.shmem = rss;
        } else if anon {
            u.anon = rss;
        } else {
            u.file = rss;
        }
        u
    }

    fn maps_like(&self, smaps: bool) -> String {
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
            if smaps {
                self.usage(&i, v).write(&mut s, false);
                let _ = writeln!(s, "THPeligible:           0");
                if host_has_pkeys() {
                    // Linux shows a mapping's protection key where the CPU
                    // and kernel support them; ours are all key 0.
                    let _ = writeln!(s, "ProtectionKey:         0");
                }
                let f = |b: bool, n: &str| if b { format!("{n} ") } else { String::new() };
                let flags = [
                    f(v.prot & libc::PROT_READ != 0, "rd"),
                    f(v.prot & libc::PROT_WRITE != 0, "wr"),
                    f(v.prot & libc::PROT_EXEC != 0, "ex"),
                    f(v.shared, "sh"),
                    "mr ".to_string(),
                    f(!v.shared || v.may_write, "mw"),
                    "me ".to_string(),
                    f(v.shared, "ms"),
                    f(v.name == Some("[stack]"), "gd"),
                    f(!v.shared && v.prot & libc::PROT_WRITE != 0, "ac"),
                ]
                .concat();
                // Linux ends each flag with a space.
                let _ = writeln!(s, "VmFlags: {flags}");
            }
        }
        s
    }
}

/// Whether the host CPU has protection keys enabled by its kernel
/// (CPUID.(EAX=7,ECX=0):ECX.OSPKE), as Linux's smaps asks.
fn host_has_pkeys() -> bool {
    static PKEYS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PKEYS.get_or_init(|| {
        // Leaf 7 reads as zeros where it is not supported.
        let r = std::arch::x86_64::__cpuid_count(7, 0);
        r.ecx & (1 << 4) != 0
    })
}
