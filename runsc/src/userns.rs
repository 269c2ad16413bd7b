//! The container's user namespace (`linux.namespaces` user, with the
//! spec's `uidMappings` and `gidMappings`, as Podman's `--uidmap` and
//! Docker's `userns-remap` give them).
//!
//! Only a process privileged over the parent namespace may map more than
//! its own id, so runsc makes the namespace in a holder process (`runsc
//! userns-holder`, which unshares it and waits) and writes its maps from
//! outside; boot and every gofer then join it by fd and become its root.
//! On the host they run as the uid the container's root maps to, and the
//! files the gofers make are owned as the container's ids map, as under
//! runc. A namespace the spec names by path is joined the same way.
//! Rootless, the maps can only be the caller's own ids (setgroups denied),
//! as the kernel allows an unprivileged user.

use std::io::{Read as _, Write as _};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};

use anyhow::Context as _;
use oci_spec::runtime::{LinuxIdMapping, LinuxNamespaceType, Spec};

/// The most lines a map may have (the kernel's limit).
const MAX_LINES: usize = 340;

/// The spec's user namespace entry, if it has one: its path, if any.
fn entry(spec: &Spec) -> Option<Option<std::path::PathBuf>> {
    let list = spec.linux().as_ref()?.namespaces().as_ref()?;
    list.iter().find(|ns| ns.typ() == LinuxNamespaceType::User).map(|ns| ns.path().clone())
}

/// Checks the user namespace and its maps; an error is (JSON path, why).
pub fn check(spec: &Spec) -> Result<(), (String, String)> {
    let linux = spec.linux().as_ref();
    let uids = linux.and_then(|l| l.uid_mappings().as_deref()).unwrap_or_default();
    let gids = linux.and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default();
    let path = match entry(spec) {
        None => {
            for (name, maps) in [("uidMappings", uids), ("gidMappings", gids)] {
                if !maps.is_empty() {
                    return Err((format!("linux.{name}"), "given, but linux.namespaces has no user namespace".into()));
                }
            }
            return Ok(());
        }
        Some(p) => p,
    };
    if let Some(p) = path {
        if !p.is_absolute() {
            return Err(("linux.namespaces: user path".into(), format!("{} is not an absolute path", p.display())));
        }
        return Ok(());
    }
    for (name, maps) in [("uidMappings", uids), ("gidMappings", gids)] {
        check_maps(maps).map_err(|why| (format!("linux.{name}"), why))?;
    }
    let user = spec.process().as_ref().map(|p| p.user());
    let (uid, gid) = user.map_or((0, 0), |u| (u.uid(), u.gid()));
    if !maps_id(uids, uid) {
        return Err(("process.user.uid".into(), format!("{uid} is not mapped by linux.uidMappings")));
    }
    if !maps_id(gids, gid) {
        return Err(("process.user.gid".into(), format!("{gid} is not mapped by linux.gidMappings")));
    }
    Ok(())
}

/// Checks one map: lines of ids that fit, ranges that overlap neither
/// inside nor outside, and the namespace's root mapped (boot and the
/// gofers run as it).
fn check_maps(maps: &[LinuxIdMapping]) -> Result<(), String> {
    if maps.is_empty() {
        return Err("a user namespace needs a map (none given)".into());
    }
    if maps.len() > MAX_LINES {
        return Err(format!("{} lines; the kernel takes at most {MAX_LINES}", maps.len()));
    }
    let end = |start: u32, size: u32| u64::from(start) + u64::from(size);
    for (i, m) in maps.iter().enumerate() {
        if m.size() == 0 {
            return Err(format!("[{i}]: size is 0"));
        }
        if end(m.container_id(), m.size()) > u64::from(u32::MAX) || end(m.host_id(), m.size()) > u64::from(u32::MAX) {
            return Err(format!("[{i}]: the range passes the largest id"));
        }
        for (j, o) in maps.iter().enumerate().take(i) {
            let overlap = |a: u32, b: u32| u64::from(a) < end(b, o.size()) && u64::from(b) < end(a, m.size());
            if overlap(m.container_id(), o.container_id()) || overlap(m.host_id(), o.host_id()) {
                return Err(format!("[{i}] overlaps [{j}]"));
            }
        }
    }
    if !maps_id(maps, 0) {
        return Err("the namespace's root (id 0) is not mapped (the sandbox's processes run as it)".into());
    }
    Ok(())
}

/// Whether `id` (inside) is in one of `maps`' ranges.
fn maps_id(maps: &[LinuxIdMapping], id: u32) -> bool {
    maps.iter().any(|m| id >= m.container_id() && u64::from(id) < u64::from(m.container_id()) + u64::from(m.size()))
}

/// A map as the kernel takes it: `INSIDE OUTSIDE COUNT` lines.
fn map_text(maps: &[LinuxIdMapping]) -> String {
    maps.iter().map(|m| format!("{} {} {}\n", m.container_id(), m.host_id(), m.size())).collect()
}

/// The container's user namespace, opened for boot and the gofers to
/// join (close-on-exec), if the spec gives it one: the one it names by
/// path, or a new one with its maps.
pub fn open(spec: &Spec) -> anyhow::Result<Option<OwnedFd>> {
    match entry(spec) {
        None => Ok(None),
        Some(Some(path)) => {
            let f = std::fs::File::open(&path)
                .with_context(|| format!("config.json: linux.namespaces: user path {}", path.display()))?;
            Ok(Some(f.into()))
        }
        Some(None) => {
            let linux = spec.linux().as_ref();
            let uids = linux.and_then(|l| l.uid_mappings().as_deref()).unwrap_or_default();
            let gids = linux.and_then(|l| l.gid_mappings().as_deref()).unwrap_or_default();
            make(&map_text(uids), &map_text(gids)).context("make the container's user namespace").map(Some)
        }
    }
}

/// A new user namespace mapping the caller's uid and gid to themselves
/// (rootless `runsc do`).
pub fn own_ids() -> anyhow::Result<OwnedFd> {
    let (uid, gid) = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
    make(&format!("{uid} {uid} 1\n"), &format!("{gid} {gid} 1\n")).context("make a user namespace of your own ids")
}

/// Makes a user namespace with maps `uids` and `gids`: a holder unshares
/// it and waits while we map it and open it; it exits when we let go.
fn make(uids: &str, gids: &str) -> anyhow::Result<OwnedFd> {
    let exe = std::env::current_exe().context("find runsc binary")?;
    let mut holder = Command::new(exe)
        .arg("userns-holder")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("start the namespace's holder")?;
    let result = (|| {
        let mut ready = [0u8; 1];
        let got = holder.stdout.as_mut().map_or(Ok(0), |o| o.read(&mut ready)).context("holder")?;
        if got != 1 {
            let mut why = String::new();
            if let Some(e) = holder.stderr.as_mut() {
                let _ = e.read_to_string(&mut why);
            }
            anyhow::bail!("the holder could not unshare it: {}", why.trim());
        }
        let pid = holder.id();
        // Unprivileged, we may map only our own ids, and a gid map only
        // once setgroups is denied (rootless).
        let privileged = nix::unistd::geteuid().is_root();
        let hint = if privileged { "" } else { " (unprivileged, only your own id can be mapped, with size 1)" };
        if !privileged {
            std::fs::write(format!("/proc/{pid}/setgroups"), "deny").context("deny setgroups")?;
        }
        // Each map in one write, as the kernel requires.
        std::fs::write(format!("/proc/{pid}/uid_map"), uids)
            .with_context(|| format!("write uid_map (linux.uidMappings){hint}"))?;
        std::fs::write(format!("/proc/{pid}/gid_map"), gids)
            .with_context(|| format!("write gid_map (linux.gidMappings){hint}"))?;
        let ns = std::fs::File::open(format!("/proc/{pid}/ns/user")).context("open the namespace")?;
        Ok(OwnedFd::from(ns))
    })();
    drop(holder.stdin.take());
    let _ = holder.kill();
    let _ = holder.wait();
    result
}

/// `runsc userns-holder`: unshares a user namespace, says so on stdout,
/// and holds it until stdin closes.
pub fn run_holder() -> anyhow::Result<i32> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).context("unshare a user namespace")?;
    std::io::stdout().write_all(b"1").and_then(|()| std::io::stdout().flush()).context("holder")?;
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    Ok(0)
}

/// The maps of the user namespace we are in, as /proc/self/uid_map,
/// gid_map and setgroups show them from inside (each id inside, its id
/// outside, the count): what the sandbox shows its processes.
pub fn own_maps() -> anyhow::Result<sentry::kernel::IdMaps> {
    let uid = std::fs::read("/proc/self/uid_map").context("read /proc/self/uid_map")?;
    let gid = std::fs::read("/proc/self/gid_map").context("read /proc/self/gid_map")?;
    let setgroups = std::fs::read("/proc/self/setgroups").context("read /proc/self/setgroups")?;
    Ok(sentry::kernel::IdMaps { uid, gid, setgroups_denied: setgroups.starts_with(b"deny") })
}
