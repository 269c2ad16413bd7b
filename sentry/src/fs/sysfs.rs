//! The sandbox's /sys: what programs read to size themselves (the CPUs the
//! sandbox may use, their topology as one package of single-thread cores,
//! transparent huge pages), a read-only /sys/fs/cgroup (where the
//! cgroup filesystem, `cgroupfs`, is mounted when the spec asks), and empty
//! bus, class, block and dev directories. Never the host's.

use std::sync::Arc;

use crate::fs::synthetic::{ChildList, SynthDir, SynthFile};
use crate::vfs::Inode;

fn file(text: String) -> Arc<dyn Inode> {
    let text = text.into_bytes();
    SynthFile::new(0o444, move || Ok(text.clone()))
}

fn dir(children: Vec<(String, Arc<dyn Inode>)>) -> Arc<dyn Inode> {
    let list: ChildList = children.into_iter().map(|(n, i)| (n.into_bytes(), i)).collect();
    SynthDir::new(0o755, false, move || list.clone())
}

/// A CPU list as sysfs prints it ("0-3,6").
pub fn cpu_list(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j { cpus[i].to_string() } else { format!("{}-{}", cpus[i], cpus[j]) });
        i = j + 1;
    }
    format!("{}\n", parts.join(","))
}

/// A CPU mask as sysfs prints it (hex words).
fn cpu_mask(cpus: &[usize]) -> String {
    let max = cpus.iter().copied().max().unwrap_or(0);
    let mut words = vec![0u32; max / 32 + 1];
    for &c in cpus {
        words[c / 32] |= 1 << (c % 32);
    }
    let s: Vec<String> = words.iter().rev().map(|w| format!("{w:08x}")).collect();
    let mut text = s.join(",");
    // Linux prints as many hex digits as the CPU count needs.
    let digits = max / 4 + 1;
    if words.len() == 1 {
        text = format!("{:0width$x}", words[0], width = digits);
    }
    format!("{text}\n")
}

/// /sys for a sandbox whose CPUs are `cpus` (ascending ids).
pub fn new_sysfs(cpus: &[usize]) -> Arc<dyn Inode> {
    let all = cpu_list(cpus);
    let mut cpu_children: Vec<(String, Arc<dyn Inode>)> = vec![
        ("online".into(), file(all.clone())),
        ("possible".into(), file(all.clone())),
        ("present".into(), file(all.clone())),
        ("offline".into(), file("\n".into())),
        ("kernel_max".into(), file("8191\n".into())),
    ];
    for &c in cpus {
        let one = cpu_list(&[c]);
        let topology = dir(vec![
            ("core_id".into(), file(format!("{c}\n"))),
            ("physical_package_id".into(), file("0\n".into())),
            ("die_id".into(), file("0\n".into())),
            ("cluster_id".into(), file("0\n".into())),
            ("thread_siblings_list".into(), file(one.clone())),
            ("thread_siblings".into(), file(cpu_mask(&[c]))),
            ("core_cpus_list".into(), file(one.clone())),
            ("core_cpus".into(), file(cpu_mask(&[c]))),
            ("core_siblings_list".into(), file(all.clone())),
            ("core_siblings".into(), file(cpu_mask(cpus))),
            ("package_cpus_list".into(), file(all.clone())),
            ("package_cpus".into(), file(cpu_mask(cpus))),
            ("die_cpus_list".into(), file(all.clone())),
            ("cluster_cpus_list".into(), file(one)),
        ]);
        cpu_children.push((format!("cpu{c}"), dir(vec![("topology".into(), topology)])));
    }
    let system = dir(vec![("cpu".into(), dir(cpu_children))]);
    let thp = dir(vec![
        ("enabled".into(), file("always [madvise] never\n".into())),
        ("defrag".into(), file("always defer defer+madvise [madvise] never\n".into())),
    ]);
    let empty = || dir(Vec::new());
    dir(vec![
        ("devices".into(), dir(vec![("system".into(), system)])),
        ("fs".into(), dir(vec![("cgroup".into(), empty())])),
        ("kernel".into(), dir(vec![("mm".into(), dir(vec![("transparent_hugepage".into(), thp)]))])),
        ("bus".into(), empty()),
        ("class".into(), empty()),
        ("block".into(), empty()),
        ("dev".into(), empty()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_masks() {
        assert_eq!(cpu_list(&[0, 1]), "0-1\n");
        assert_eq!(cpu_list(&[0, 2, 3, 4, 7]), "0,2-4,7\n");
        assert_eq!(cpu_mask(&[0, 1]), "3\n");
        assert_eq!(cpu_mask(&[1]), "2\n");
    }
}
