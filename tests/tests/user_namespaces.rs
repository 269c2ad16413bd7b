//! A container's user namespace (`linux.namespaces` user with
//! `uidMappings` and `gidMappings`): the sandbox's processes run on the
//! host as the ids the container's root maps to, the files they make are
//! owned as the maps say, and the container sees what it sees under runc.

use std::fs;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use runsc_tests::oci::{processes_mentioning, Scratch};
use runsc_tests::runsc;

/// Host uid and gid the container's 0 maps to (different, to tell them
/// apart).
const HOST_UID: u32 = 100_000;
const HOST_GID: u32 = 200_000;

/// Gives `spec` a user namespace mapping 0..65536 to the host ids above.
fn map_ids(spec: &mut serde_json::Value) {
    spec["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user"}));
    spec["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": HOST_UID, "size": 65536}]);
    spec["linux"]["gidMappings"] = serde_json::json!([{"containerID": 0, "hostID": HOST_GID, "size": 65536}]);
}

/// Owns `path` and everything under it by the host ids the container's
/// root maps to (as Podman chowns an image for `--uidmap`).
fn chown_mapped(path: &Path) {
    std::os::unix::fs::lchown(path, Some(HOST_UID), Some(HOST_GID)).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    if fs::symlink_metadata(path).unwrap().is_dir() {
        for e in fs::read_dir(path).unwrap().flatten() {
            chown_mapped(&e.path());
        }
    }
}

/// The container's view of ids, maps and file owners, and the owners on
/// the host of the files it makes, match runc's.
#[test]
fn user_namespace_matches_runc() {
    let s = Scratch::new("userns");
    let vol = s.dir.join("vol");
    let host_owned = s.dir.join("host-owned");
    fs::create_dir_all(&host_owned).unwrap();
    fs::write(host_owned.join("f"), "the host's root's\n").unwrap();
    let script = "b=busybox; id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; \
                  $b stat -c '%u %g %n' / /bin/busybox /vol /host /host/f; cat /host/f; \
                  $b touch /vol/new && $b mkdir /vol/d && $b chown 1000:1000 /vol/new && $b chown 0:5 /vol/d; \
                  ls -ln /vol | $b tail -n +2; $b touch /host/x 2>&1; echo touch=$?; $b chown 1 /host/f 2>&1; \
                  echo chown=$?; echo '0 0 1' > /proc/self/uid_map 2>/dev/null; echo write_map=$?; \
                  $b chown 70000 /vol/new 2>/dev/null; echo unmapped=$?";
    let b = s.bundle("b", script, |spec| {
        map_ids(spec);
        // Docker's default capabilities, with which root may chown.
        let caps = serde_json::json!(["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_MKNOD",
            "CAP_AUDIT_WRITE", "CAP_SETFCAP"]);
        for set in ["bounding", "effective", "permitted"] {
            spec["process"]["capabilities"][set] = caps.clone();
        }
        let mounts = spec["mounts"].as_array_mut().unwrap();
        mounts.push(serde_json::json!({"destination": "/vol", "type": "bind", "source": vol, "options": ["rbind", "rw"]}));
        mounts.push(
            serde_json::json!({"destination": "/host", "type": "bind", "source": host_owned, "options": ["rbind", "rw"]}),
        );
    });
    chown_mapped(&b.join("rootfs"));
    let bundle = b.to_str().unwrap();
    let mut seen = Vec::new();
    for (bin, name) in [(runsc(), "runsc"), ("runc".into(), "runc")] {
        let _ = fs::remove_dir_all(&vol);
        fs::create_dir_all(&vol).unwrap();
        chown_mapped(&vol);
        let out = s.runtime(bin, name).cmd(&["run", "--bundle", bundle, "c1"]);
        let owner = |p: &str| {
            let m = fs::metadata(vol.join(p)).unwrap_or_else(|e| panic!("{name}: {p}: {e}"));
            (m.uid(), m.gid())
        };
        seen.push((out.code, out.stdout.clone(), owner("new"), owner("d")));
        assert!(!host_owned.join("x").exists(), "{name} made a file in a directory of the host's root");
    }
    assert_eq!(seen[1].0, 0, "runc: {:?}", seen[1]);
    assert!(seen[1].1.contains("100000"), "runc: {:?}", seen[1]);
    assert_eq!(seen[0], seen[1], "ours, then runc's");
    assert!(seen[1].1.contains("touch=1"), "runc: {:?}", seen[1]);
    // The ids the container gave, as the host has them.
    assert_eq!((seen[0].2, seen[0].3), ((HOST_UID + 1000, HOST_GID + 1000), (HOST_UID, HOST_GID + 5)));
}

/// Boot and the gofers run on the host as the mapped root: uid and gid
/// 100000/200000, in the container's user namespace, not the host's.
#[test]
fn sandbox_processes_run_as_the_mapped_root() {
    let s = Scratch::new("userns-host");
    let b = s.bundle("b", "sleep 1000", map_ids);
    chown_mapped(&b.join("rootfs"));
    let rt = s.runtime(runsc(), "runsc");
    rt.cmd(&["run", "--detach", "--bundle", b.to_str().unwrap(), "c1"]).ok();
    let pid = rt.state("c1").unwrap()["pid"].as_i64().unwrap();
    let mut procs: Vec<i32> = processes_mentioning(b.to_str().unwrap()).into_iter().map(|(p, _)| p).collect();
    procs.push(pid as i32);
    assert!(procs.len() >= 2, "boot and the root's gofer: {procs:?}");
    let host_ns = fs::read_link("/proc/self/ns/user").unwrap();
    for p in procs {
        let status = fs::read_to_string(format!("/proc/{p}/status")).unwrap();
        let ids = |key: &str| {
            status.lines().find(|l| l.starts_with(key)).unwrap().split_whitespace().skip(1).collect::<Vec<_>>()
        };
        assert_eq!(ids("Uid:"), ["100000"; 4], "process {p}: {status}");
        assert_eq!(ids("Gid:"), ["200000"; 4], "process {p}: {status}");
        // No supplementary group of the host's root's stays.
        assert!(ids("Groups:").is_empty(), "process {p}: {status}");
        assert_ne!(fs::read_link(format!("/proc/{p}/ns/user")).unwrap(), host_ns, "process {p}");
    }
    rt.cmd(&["delete", "--force", "c1"]).ok();
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
}

/// Maps that cannot be applied are refused by field, leaving nothing.
#[test]
fn bad_maps_are_refused() {
    let s = Scratch::new("userns-bad");
    let rt = s.runtime(runsc(), "runsc");
    type Edit = fn(&mut serde_json::Value);
    let cases: [(&str, Edit, &str); 6] = [
        (
            "nomaps",
            |spec| spec["linux"]["namespaces"].as_array_mut().unwrap().push(serde_json::json!({"type": "user"})),
            "linux.uidMappings",
        ),
        (
            "nons",
            |spec| spec["linux"]["uidMappings"] = serde_json::json!([{"containerID": 0, "hostID": 1, "size": 1}]),
            "no user namespace",
        ),
        (
            "zero",
            |spec| {
                map_ids(spec);
                spec["linux"]["gidMappings"][0]["size"] = 0.into();
            },
            "linux.gidMappings",
        ),
        (
            "overlap",
            |spec| {
                map_ids(spec);
                spec["linux"]["uidMappings"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"containerID": 100, "hostID": 5, "size": 1}));
            },
            "overlaps",
        ),
        (
            "noroot",
            |spec| {
                map_ids(spec);
                spec["linux"]["uidMappings"][0]["containerID"] = 1.into();
            },
            "is not mapped",
        ),
        (
            "user",
            |spec| {
                map_ids(spec);
                spec["process"]["user"]["uid"] = 70000.into();
            },
            "process.user.uid",
        ),
    ];
    for (name, edit, want) in cases {
        let b = s.bundle(name, "true", edit);
        rt.cmd(&["create", "--bundle", b.to_str().unwrap(), "c1"]).fails_with(want);
    }
    assert!(rt.leftovers().is_empty(), "{:?}", rt.leftovers());
    assert!(processes_mentioning(s.dir.to_str().unwrap()).is_empty());
}
