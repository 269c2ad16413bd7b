//! The sandbox's processes are confined (ARCHITECTURE.md, invariant 5):
//! while `runsc do /bin/sleep` runs, its `runsc boot` has no capabilities, a
//! seccomp filter, no_new_privs, an empty root and its own network
//! namespace; its stubs have no capabilities and a seccomp filter; the gofer
//! is filtered and off the host network.

use std::fs;
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

use runsc_tests::paths::runsc;

/// Kills the sandbox when the test ends, whatever happens.
struct Sandbox(Child);

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn status_field(pid: u32, field: &str) -> String {
    let s = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) {
        for t in tasks.flatten() {
            let c = fs::read_to_string(t.path().join("children")).unwrap_or_default();
            out.extend(c.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
        }
    }
    out
}

fn comm_args(pid: u32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .unwrap_or_default()
        .split(|&b| b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

#[test]
fn boot_gofer_and_stubs_are_confined() {
    let child = Command::new(runsc())
        .args(["do", "/bin/sleep", "5"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start runsc");
    let sb = Sandbox(child);
    let top = sb.0.id();
    // Wait until boot has started its stubs and finished confining itself
    // (the seccomp filter is its last step; the stubs are forked before
    // it drops its capabilities).
    let deadline = Instant::now() + Duration::from_secs(10);
    let (boot, gofer) = loop {
        let kids = children(top);
        let find = |role: &str| kids.iter().copied().find(|&p| comm_args(p).iter().any(|a| a == role));
        if let (Some(b), Some(g)) = (find("boot"), find("gofer")) {
            if children(b).len() >= 2 && status_field(b, "Seccomp") == "2" && status_field(g, "Seccomp") == "2" {
                break (b, g);
            }
        }
        assert!(Instant::now() < deadline, "the sandbox's processes did not appear, or never installed their filters");
        sleep(Duration::from_millis(20));
    };
    let host_net = fs::read_link("/proc/self/ns/net").expect("own net ns");

    assert_eq!(status_field(boot, "CapEff"), "0000000000000000", "boot keeps no capabilities");
    assert_eq!(status_field(boot, "CapBnd"), "0000000000000000", "boot's bounding set is empty");
    assert_eq!(status_field(boot, "Seccomp"), "2", "boot runs under a seccomp filter");
    assert_eq!(status_field(boot, "NoNewPrivs"), "1");
    let root: Vec<_> = fs::read_dir(format!("/proc/{boot}/root")).expect("boot root").collect();
    assert!(root.is_empty(), "boot's root is empty, found {} entries", root.len());
    assert_ne!(fs::read_link(format!("/proc/{boot}/ns/net")).unwrap(), host_net, "boot has its own network");

    for stub in children(boot) {
        assert_eq!(status_field(stub, "CapEff"), "0000000000000000", "stub {stub} keeps no capabilities");
        assert_eq!(status_field(stub, "Seccomp"), "2", "stub {stub} runs under its seccomp filter");
    }

    assert_eq!(status_field(gofer, "Seccomp"), "2", "gofer runs under a seccomp filter");
    assert_ne!(fs::read_link(format!("/proc/{gofer}/ns/net")).unwrap(), host_net, "gofer has no host network");
}

/// Killing `runsc do` takes the whole sandbox with it: boot, gofer and the
/// stubs all exit (no leftover processes).
#[test]
fn killing_runsc_leaves_no_process_behind() {
    let child = Command::new(runsc())
        .args(["do", "/bin/sleep", "30"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .expect("start runsc");
    let mut sb = Sandbox(child);
    let top = sb.0.id();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut all = loop {
        let kids = children(top);
        let boot = kids.iter().copied().find(|&p| comm_args(p).iter().any(|a| a == "boot"));
        if let Some(b) = boot {
            let stubs = children(b);
            if kids.len() >= 2 && stubs.len() >= 2 {
                let mut v = kids.clone();
                v.extend(stubs);
                break v;
            }
        }
        assert!(Instant::now() < deadline, "sandbox processes did not appear");
        sleep(Duration::from_millis(20));
    };
    all.sort_unstable();
    let _ = sb.0.kill();
    let _ = sb.0.wait();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // A process is gone once /proc has no entry or only a zombie awaiting
        // its (dead) parent's reaper.
        let alive: Vec<u32> = all
            .iter()
            .copied()
            .filter(|p| {
                fs::read_to_string(format!("/proc/{p}/stat"))
                    .map(|s| s.rsplit(')').next().is_some_and(|r| !r.trim_start().starts_with('Z')))
                    .unwrap_or(false)
            })
            .collect();
        if alive.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "still running after runsc was killed: {alive:?}");
        sleep(Duration::from_millis(20));
    }
}
