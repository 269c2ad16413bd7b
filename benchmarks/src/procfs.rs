//! Reading the process table from `/proc`.

use std::collections::{BTreeSet, HashMap};
use std::fs;

/// One process as seen in `/proc/PID/stat`.
#[derive(Debug, Clone)]
pub struct Proc {
    /// Process id.
    pub pid: u32,
    /// Parent's process id.
    pub ppid: u32,
    /// Process group id.
    pub pgrp: u32,
    /// Command name (`comm`, at most 15 bytes).
    pub comm: String,
}

/// Every process currently listed in `/proc`, in no particular order.
pub fn processes() -> Vec<Proc> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok()).filter_map(read_proc).collect()
}

/// Parses `/proc/PID/stat`; `None` if the process is gone.
fn read_proc(pid: u32) -> Option<Proc> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(pid, &stat)
}

/// Parses the text of a `stat` file. The command name is between the first
/// `(` and the last `)`, since it may itself contain parentheses or spaces.
fn parse_stat(pid: u32, stat: &str) -> Option<Proc> {
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat.get(open + 1..close)?.to_owned();
    let mut fields = stat.get(close + 1..)?.split_whitespace();
    let _state = fields.next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some(Proc { pid, ppid, pgrp, comm })
}

/// `root`, its descendants (through parent links) and any other process of
/// the process group `root` leads (which catches double-forked daemons),
/// ordered by pid.
pub fn tree(root: u32) -> Vec<Proc> {
    let all = processes();
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    for p in &all {
        children.entry(p.ppid).or_default().push(p.pid);
    }
    let mut members = BTreeSet::new();
    let mut stack = vec![root];
    stack.extend(all.iter().filter(|p| p.pgrp == root).map(|p| p.pid));
    while let Some(pid) = stack.pop() {
        if members.insert(pid) {
            stack.extend(children.get(&pid).into_iter().flatten());
        }
    }
    all.into_iter().filter(|p| members.contains(&p.pid)).collect()
}

/// Resident set size of `pid` in KiB (`VmRSS`), `None` for kernel threads
/// and processes that are gone.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The proportional set size of `pid` (`Pss:` of `smaps_rollup`), in KiB:
/// each shared page counted once over all the processes that map it.
pub fn pss_kib(pid: u32) -> Option<u64> {
    let rollup = fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let line = rollup.lines().find(|l| l.starts_with("Pss:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_comm() {
        let p = parse_stat(42, "42 (a) b (c) S 7 9 9 0 -1").unwrap();
        assert_eq!((p.pid, p.ppid, p.pgrp), (42, 7, 9));
        assert_eq!(p.comm, "a) b (c");
    }

    #[test]
    fn own_tree_contains_self() {
        let me = std::process::id();
        assert!(tree(me).iter().any(|p| p.pid == me));
        assert!(rss_kib(me).unwrap() > 0);
    }
}
