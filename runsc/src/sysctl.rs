//! The spec's `linux.sysctl` in the sandbox's own terms: the kernel
//! parameters are the sandbox's, never the host's. `kernel.hostname` and
//! `kernel.domainname` name the sandbox's UTS namespace;
//! `net.ipv4.ping_group_range` and `net.ipv4.ip_unprivileged_port_start`
//! (Docker sets both) are kept and shown (the sandbox has no inet sockets
//! yet, so nothing acts on them); any other parameter
//! must already have the value given in the sandbox's /proc/sys (a no-op,
//! as Podman's defaults often are), else the container is refused with the
//! parameter named: the sandbox enforces its own values and cannot take
//! another.

use anyhow::{anyhow, bail};
use oci_spec::runtime::Spec;
use sentry::auth::Credentials;
use sentry::kernel::Kernel;
use sentry::vfs::Location;

/// The spec's sysctls, by name.
fn entries(spec: &Spec) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> =
        spec.linux().as_ref().and_then(|l| l.sysctl().clone()).map(|m| m.into_iter().collect()).unwrap_or_default();
    v.sort();
    v
}

/// The spec's `kernel.hostname` and `kernel.domainname`, if it sets them.
pub fn uts(spec: &Spec) -> (Option<String>, Option<String>) {
    let e = entries(spec);
    let get = |k: &str| e.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string());
    (get("kernel.hostname"), get("kernel.domainname"))
}

/// Words of a value, one space apart (how /proc/sys values compare).
fn words(v: &str) -> String {
    v.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Reads the sandbox's /proc/sys file for `key` (dotted), if it has one.
fn current(root: &Location, key: &str) -> Option<String> {
    let path = format!("/proc/sys/{}", key.replace('.', "/"));
    let creds = Credentials::new(0, 0, vec![]);
    let file = sentry::vfs::open::open(root, &creds, root, path.as_bytes(), libc::O_RDONLY as u32, 0).ok()?;
    let mut buf = vec![0u8; 4096];
    let n = file.pread(&mut buf, 0).ok()?;
    Some(String::from_utf8_lossy(&buf[..n]).into_owned())
}

/// Keeps `value` for sysctl `key`, shown in /proc/sys.
fn keep(kernel: &Kernel, key: &str, value: String) {
    kernel.sysctl.lock().unwrap_or_else(|e| e.into_inner()).insert(key.to_string(), value);
}

/// Applies the spec's sysctls other than the UTS names (taken with the
/// kernel): the sandbox's root is mounted, /proc with it.
pub fn apply(kernel: &Kernel, root: &Location, spec: &Spec) -> anyhow::Result<()> {
    for (key, value) in entries(spec) {
        let field = format!("linux.sysctl.{key}");
        if key.is_empty() || key.contains('/') || key.split('.').any(|p| p.is_empty() || p == "..") {
            bail!("config.json: {field}: not a kernel parameter name");
        }
        match key.as_str() {
            "kernel.hostname" | "kernel.domainname" => {}
            "net.ipv4.ping_group_range" => {
                let parts: Vec<&str> = value.split_whitespace().collect();
                let ok = parts.len() == 2 && parts.iter().all(|p| p.parse::<u32>().is_ok_and(|n| n <= i32::MAX as u32));
                if !ok {
                    bail!("config.json: {field}: {value:?} is not two group ids");
                }
                keep(kernel, &key, format!("{}\t{}", parts[0], parts[1]));
            }
            "net.ipv4.ip_unprivileged_port_start" => match value.trim().parse::<u16>() {
                Ok(n) => keep(kernel, &key, n.to_string()),
                Err(_) => bail!("config.json: {field}: {value:?} is not a port number"),
            },
            _ => match current(root, &key) {
                Some(cur) if words(&cur) == words(&value) => {}
                Some(cur) => {
                    return Err(anyhow!(
                        "config.json: {field}: the sandbox's value is {:?} and a container cannot set it to {value:?}",
                        words(&cur)
                    ))
                }
                None => bail!("config.json: {field}: the sandbox has no such kernel parameter"),
            },
        }
    }
    Ok(())
}
