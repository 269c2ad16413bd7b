//! A container image the client tests import, since the machine has no
//! registry: busybox-static with its applets and a passwd/group, as one
//! uncompressed layer. The tarball is both an OCI image layout (index.json,
//! for `ctr image import` and `podman load`) and a `docker save` archive
//! (manifest.json, for `docker load`), sharing the blobs. It is built once
//! into the build directory and reused.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::build_dir;

/// The image's name as the clients know it.
pub const NAME: &str = "docker.io/library/rbox:latest";

/// The applets linked in the image's /bin.
const APPLETS: &[&str] = &[
    "sh", "echo", "cat", "ls", "sleep", "id", "true", "false", "env", "pwd", "hostname", "kill", "wc", "grep", "ps",
    "uname", "mount", "head", "sort", "touch", "mkdir", "rm", "date", "dd", "stat", "whoami", "nproc", "top", "tty",
    "stty", "chown", "test", "[",
];

/// Runs `c`, panicking with its stderr if it fails.
fn run(c: &mut Command) -> Vec<u8> {
    let out = c.output().unwrap_or_else(|e| panic!("{c:?}: {e}"));
    assert!(out.status.success(), "{c:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

/// Stores `data` as a blob of `layout`; returns its digest (hex) and size.
fn blob(layout: &Path, data: &[u8]) -> (String, usize) {
    let tmp = layout.join("blob.tmp");
    fs::write(&tmp, data).expect("write blob");
    let (digest, size) = blob_file(layout, &tmp);
    (digest, size)
}

/// Moves file `f` into `layout`'s blobs; returns its digest and size.
fn blob_file(layout: &Path, f: &Path) -> (String, usize) {
    let sum = String::from_utf8_lossy(&run(Command::new("sha256sum").arg(f))).to_string();
    let digest = sum.split_whitespace().next().expect("sha256sum prints a digest").to_string();
    let size = fs::metadata(f).expect("blob size").len() as usize;
    fs::rename(f, layout.join("blobs/sha256").join(&digest)).expect("store blob");
    (digest, size)
}

/// The image tarball, built on first use.
pub fn busybox_image() -> PathBuf {
    let out = build_dir().join("images").join("rbox.tar");
    if out.is_file() {
        return out;
    }
    let work = build_dir().join("images").join(format!("build-{}", std::process::id()));
    let _ = fs::remove_dir_all(&work);
    let root = work.join("root");
    let layout = work.join("layout");
    for d in ["bin", "etc", "proc", "dev", "sys", "tmp", "root"] {
        fs::create_dir_all(root.join(d)).expect("image dirs");
    }
    fs::create_dir_all(layout.join("blobs/sha256")).expect("layout dirs");
    let busybox = ["/usr/bin/busybox", "/bin/busybox"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.is_file())
        .expect("busybox-static is installed by scripts/test");
    fs::copy(busybox, root.join("bin/busybox")).expect("copy busybox");
    for a in APPLETS {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(a)).expect("applet link");
    }
    fs::write(root.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n")
        .expect("passwd");
    fs::write(root.join("etc/group"), "root:x:0:\nuser:x:1000:\n").expect("group");
    let layer = work.join("layer.tar");
    run(Command::new("tar")
        .args(["--sort=name", "--mtime=@0", "--owner=0", "--group=0", "--numeric-owner", "-C"])
        .arg(&root)
        .arg("-cf")
        .arg(&layer)
        .arg("."));
    let (layer_digest, layer_size) = blob_file(&layout, &layer);
    let config = serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": { "Env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"], "Cmd": ["sh"], "WorkingDir": "/" },
        "rootfs": { "type": "layers", "diff_ids": [format!("sha256:{layer_digest}")] },
    });
    let (config_digest, config_size) = blob(&layout, &serde_json::to_vec(&config).expect("encode"));
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json",
                    "digest": format!("sha256:{config_digest}"), "size": config_size },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar",
                     "digest": format!("sha256:{layer_digest}"), "size": layer_size }],
    });
    let (manifest_digest, manifest_size) = blob(&layout, &serde_json::to_vec(&manifest).expect("encode"));
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"), "size": manifest_size,
            "annotations": { "io.containerd.image.name": NAME, "org.opencontainers.image.ref.name": "latest" },
        }],
    });
    fs::write(layout.join("index.json"), serde_json::to_vec(&index).expect("encode")).expect("index.json");
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    let docker = serde_json::json!([{
        "Config": format!("blobs/sha256/{config_digest}"),
        "RepoTags": ["rbox:latest"],
        "Layers": [format!("blobs/sha256/{layer_digest}")],
    }]);
    fs::write(layout.join("manifest.json"), serde_json::to_vec(&docker).expect("encode")).expect("manifest.json");
    let tmp = work.join("rbox.tar");
    run(Command::new("tar").arg("-C").arg(&layout).arg("-cf").arg(&tmp).arg("."));
    // Tests building it at once: the first rename wins, the rest match it.
    fs::rename(&tmp, &out).expect("store image");
    let _ = fs::remove_dir_all(&work);
    out
}
