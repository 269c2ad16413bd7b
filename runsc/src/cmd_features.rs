//! `runsc features`: what this runtime supports, as the OCI runtime
//! spec's features document. Only what is implemented is listed.

use serde_json::json;

/// Prints the features JSON.
pub fn run() -> anyhow::Result<i32> {
    let doc = json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": ["bind", "rbind", "ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec"],
        "linux": {
            // The sandbox is its own pid, mount, IPC, UTS, network and
            // cgroup namespace whatever the spec asks (a network one by
            // path is joined); a user namespace (new with the spec's maps,
            // or by path) is the sandbox processes' own on the host.
            "namespaces": ["pid", "mount", "ipc", "uts", "network", "cgroup", "user"],
            "capabilities": [],
            "cgroup": { "v1": true, "v2": true, "systemd": false, "systemdUser": false, "rdma": false },
            "seccomp": { "enabled": false },
            "apparmor": { "enabled": false },
            "selinux": { "enabled": false },
            "intelRdt": { "enabled": false }
        },
        "annotations": {
            "dev.runsc.platform": "ptrace",
            // A pod's containers share its sandbox (see `pod`).
            "io.kubernetes.cri.container-type": "sandbox, container",
            "io.kubernetes.cri.sandbox-id": "the pod's sandbox container",
            "io.kubernetes.cri-o.ContainerType": "sandbox, container",
            "io.kubernetes.cri-o.SandboxID": "the pod's sandbox container"
        }
    });
    println!("{}", serde_json::to_string_pretty(&doc)?);
    Ok(0)
}
