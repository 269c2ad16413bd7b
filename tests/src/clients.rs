//! What the Docker and Podman client tests share: both CLIs take the same
//! `run` flags, so the same scenarios run under each, with runc and with
//! runsc, and must agree.

use std::fs;
use std::path::Path;

use crate::oci::cgroup_dirs;

/// One `run` scenario: its flags and the script the container runs.
pub struct Scenario {
    /// The `run` flags.
    pub flags: Vec<String>,
    /// What `sh -c` runs.
    pub script: String,
}

fn scenario(flags: &[&str], script: &str) -> Scenario {
    Scenario { flags: flags.iter().map(|s| s.to_string()).collect(), script: script.to_string() }
}

/// The flag scenarios (volumes, a read-only root, tmpfs mounts,
/// environment, working directory, users, capabilities, hostname), with
/// `vol` made as the volume they bind (read-write on /data, read-only on
/// /ro); [`check_volume`] afterwards.
pub fn flag_scenarios(vol: &Path) -> Vec<Scenario> {
    fs::create_dir_all(vol).unwrap_or_else(|e| panic!("{}: {e}", vol.display()));
    fs::write(vol.join("f"), "from the host\n").expect("volume file");
    let rw = format!("{}:/data", vol.display());
    let ro = format!("{}:/ro:ro", vol.display());
    // Mount points and their flags (not the filesystem type or its own
    // options: a volume is 9p in the sandbox), sorted: the clients order
    // mounts of one depth as their maps give them.
    let mounts = "grep -E ' (/|/data|/ro|/run|/dev/shm|/proc|/sys|/tmp) ' /proc/self/mounts \
                  | while read src at fs opts rest; do echo $at ${opts%%,relatime*}; done | sort";
    vec![
        scenario(
            &["-v", &rw, "-v", &ro, "--read-only", "--tmpfs", "/run", "--tmpfs", "/tmp:exec,size=1m"],
            &format!(
                "cat /data/f; echo new > /data/new; cat /data/new; rm /data/new; echo x > /ro/x; echo ro=$?; \
                 touch /file 2>/dev/null; echo root=$?; touch /run/a && echo run ok; {mounts}"
            ),
        ),
        scenario(&["-e", "FOO=bar", "-e", "EMPTY=", "-w", "/tmp"], "echo $FOO; env | grep -c EMPTY; pwd"),
        scenario(&["-u", "1000:1000"], "id; touch /root/x; echo $?; grep Cap /proc/self/status"),
        scenario(&["--cap-drop", "ALL"], "grep Cap /proc/self/status; chown 1 /bin; echo chown=$?"),
        scenario(&["--cap-drop", "ALL", "--cap-add", "CHOWN"], "grep Cap /proc/self/status"),
        scenario(&["--hostname", "box", "--user", "1000"], "hostname; id -u"),
    ]
}

/// Panics if the scenarios left anything in the volume (what they wrote
/// was removed; what they could not write is not there).
pub fn check_volume(vol: &Path) {
    assert!(!vol.join("new").exists() && !vol.join("x").exists(), "the volume is as it was");
}

/// Removes cgroup `parent` and the containers' cgroups left under it, in
/// every hierarchy.
pub fn remove_cgroups(parent: &str) {
    for d in cgroup_dirs(parent) {
        for e in fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.path().is_dir() {
                let _ = fs::remove_dir(e.path());
            }
        }
        let _ = fs::remove_dir(d);
    }
}
