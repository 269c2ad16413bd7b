//! OCI bundles: loading a bundle's config.json through oci-spec and
//! checking what the sandbox needs of it, each failure named by its JSON
//! path; and the spec's bind mounts, which get a gofer each.

use std::path::{Path, PathBuf};

use oci_spec::runtime::{Mount, Spec};
use sentry::vfs::MountFlags;

/// A bundle's problem, with the JSON path of the field at fault.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The bundle directory is missing or not a directory.
    #[error("bundle {path}: {why}")]
    Dir {
        /// The bundle path.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// config.json could not be read or parsed.
    #[error("{path}: {why}")]
    Load {
        /// The config.json path.
        path: String,
        /// The parser's message.
        why: String,
    },
    /// A field is wrong.
    #[error("config.json: {field}: {why}")]
    Field {
        /// The JSON path, e.g. `mounts[2].destination`.
        field: String,
        /// What is wrong.
        why: String,
    },
}

fn field(field: impl Into<String>, why: impl Into<String>) -> BundleError {
    BundleError::Field { field: field.into(), why: why.into() }
}

/// A loaded, checked bundle.
#[derive(Debug)]
pub struct Bundle {
    /// The bundle directory (absolute, resolved).
    pub dir: PathBuf,
    /// The spec.
    pub spec: Spec,
    /// The root filesystem's host directory (absolute, resolved).
    pub rootfs: PathBuf,
}

/// Whether `m` is a bind mount: type `bind`, or a `bind`/`rbind` option
/// (specs write both).
pub fn is_bind(m: &Mount) -> bool {
    m.typ().as_deref() == Some("bind") || m.options().iter().flatten().any(|o| o == "bind" || o == "rbind")
}

/// Whether a bind mount is read-only (its last `ro`/`rw` option wins).
pub fn is_readonly(m: &Mount) -> bool {
    m.options().iter().flatten().rev().find(|o| *o == "ro" || *o == "rw").is_some_and(|o| o == "ro")
}

/// Whether `m` is a volume: a bind mount the sandbox serves from the host
/// through a gofer. A bind on /dev/shm is not: Podman shares a host tmpfs
/// there between the containers of a pod, and in the sandbox, whose
/// containers share its kernel, POSIX shared memory is the sandbox's own
/// tmpfs /dev/shm (taking the bind's flags). Nor is the host's /sys bound
/// on /sys (a rootless spec's, as `runc spec --rootless` writes it, where
/// sysfs cannot be mounted): the sandbox's own sysfs is there, taking the
/// bind's flags, and the host's stays out of reach.
pub fn is_volume(m: &Mount) -> bool {
    let sys = Path::new("/sys");
    is_bind(m)
        && m.destination() != Path::new("/dev/shm")
        && !(m.destination() == sys && m.source().as_deref() == Some(sys))
}

/// The spec's volumes, in order: each is served by a gofer of its own.
pub fn binds(spec: &Spec) -> Vec<&Mount> {
    spec.mounts().iter().flatten().filter(|m| is_volume(m)).collect()
}

/// Loads `dir`/config.json and checks it.
pub fn load(dir: &Path) -> Result<Bundle, BundleError> {
    let shown = dir.display().to_string();
    let meta = std::fs::metadata(dir).map_err(|e| BundleError::Dir { path: shown.clone(), why: e.to_string() })?;
    if !meta.is_dir() {
        return Err(BundleError::Dir { path: shown, why: "not a directory".into() });
    }
    let dir = std::fs::canonicalize(dir).map_err(|e| BundleError::Dir { path: shown, why: e.to_string() })?;
    let config = dir.join("config.json");
    let text = std::fs::read(&config)
        .map_err(|e| BundleError::Load { path: config.display().to_string(), why: e.to_string() })?;
    // Parse errors name the field at fault by its JSON path.
    let spec: Spec =
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_slice(&text)).map_err(|e| {
            let at = e.path().to_string();
            let why = e.into_inner().to_string();
            let why = if at == "." { why } else { format!("{at}: {why}") };
            BundleError::Load { path: config.display().to_string(), why }
        })?;
    let rootfs = check(&dir, &spec)?;
    Ok(Bundle { dir, spec, rootfs })
}

/// Checks the fields the sandbox relies on; returns the resolved rootfs.
fn check(dir: &Path, spec: &Spec) -> Result<PathBuf, BundleError> {
    let version = spec.version();
    if !version.starts_with("1.") {
        return Err(field("ociVersion", format!("{version:?} is not a 1.x version")));
    }
    let root = spec.root().as_ref().ok_or_else(|| field("root", "missing"))?;
    if root.path().as_os_str().is_empty() {
        return Err(field("root.path", "empty"));
    }
    let rootfs = dir.join(root.path());
    let rootfs =
        std::fs::canonicalize(&rootfs).map_err(|e| field("root.path", format!("{}: {e}", rootfs.display())))?;
    if !rootfs.is_dir() {
        return Err(field("root.path", format!("{} is not a directory", rootfs.display())));
    }
    let process = spec.process().as_ref().ok_or_else(|| field("process", "missing"))?;
    if process.args().as_ref().is_none_or(|a| a.is_empty()) {
        return Err(field("process.args", "empty: there is no program to run"));
    }
    if !process.cwd().is_absolute() {
        return Err(field("process.cwd", format!("{} is not an absolute path", process.cwd().display())));
    }
    for (i, e) in process.env().iter().flatten().enumerate() {
        if !e.contains('=') || e.starts_with('=') {
            return Err(field(format!("process.env[{i}]"), format!("{e:?} is not NAME=VALUE")));
        }
    }
    if let Some(adj) = process.oom_score_adj().filter(|a| !(-1000..=1000).contains(a)) {
        return Err(field("process.oomScoreAdj", format!("{adj} is not within -1000..=1000")));
    }
    check_hooks(spec)?;
    check_namespaces(spec)?;
    if let Some(linux) = spec.linux() {
        for (name, list) in [("maskedPaths", linux.masked_paths()), ("readonlyPaths", linux.readonly_paths())] {
            for (i, p) in list.iter().flatten().enumerate() {
                if !p.starts_with('/') {
                    return Err(field(format!("linux.{name}[{i}]"), format!("{p:?} is not an absolute path")));
                }
            }
        }
    }
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        if !m.destination().is_absolute() {
            return Err(field(
                format!("mounts[{i}].destination"),
                format!("{} is not an absolute path", m.destination().display()),
            ));
        }
        if m.typ().as_deref() == Some("tmpfs") {
            tmpfs_options(m).map_err(|e| field(format!("mounts[{i}].options"), e))?;
        }
        if !is_volume(m) {
            continue;
        }
        let src = m.source().as_ref().ok_or_else(|| field(format!("mounts[{i}].source"), "missing"))?;
        let src = dir.join(src);
        let meta = std::fs::metadata(&src)
            .map_err(|e| field(format!("mounts[{i}].source"), format!("{}: {e}", src.display())))?;
        if !meta.is_dir() && !meta.is_file() {
            return Err(field(
                format!("mounts[{i}].source"),
                format!("{}: only directories and regular files can be bound", src.display()),
            ));
        }
    }
    Ok(rootfs)
}

/// Checks `linux.namespaces`: the sandbox gives the container its own of
/// each kind (its kernel's); it joins a network namespace by path (as a
/// CNI plugin prepares it); a pod's other containers share their
/// sandbox's (whatever paths name them), and so does a container whose
/// paths name another container's sandbox process (checked at create);
/// joining others is refused. A user namespace, new with the spec's
/// maps or joined by path, is the sandbox processes' own on the host
/// (`userns.rs`).
fn check_namespaces(spec: &Spec) -> Result<(), BundleError> {
    use oci_spec::runtime::LinuxNamespaceType as T;
    crate::userns::check(spec).map_err(|(at, why)| field(at, why))?;
    let Some(list) = spec.linux().as_ref().and_then(|l| l.namespaces().as_ref()) else { return Ok(()) };
    let in_pod = crate::pod::sandbox_of(spec, "").ok().flatten().is_some();
    for (i, ns) in list.iter().enumerate() {
        let at = format!("linux.namespaces[{i}]");
        match (ns.typ(), ns.path()) {
            // Checked with its maps below.
            (T::User, _) => {}
            (T::Network, Some(p)) if !in_pod && !p.is_absolute() => {
                return Err(field(format!("{at}.path"), format!("{} is not an absolute path", p.display())));
            }
            // `/proc/PID/ns/KIND` (Docker's and Podman's `--ipc
            // container:X` and the like): `create` joins the sandbox whose
            // process PID is, if it is one of runsc's.
            (kind, Some(p)) if !in_pod && kind != T::Network && crate::pod::proc_ns_pid(p).is_none() => {
                return Err(field(
                    format!("{at}.path"),
                    format!(
                        "joining the {} namespace {} is not supported (the sandbox's are its own; only a pod's \
                         containers share theirs, by the CRI's annotations)",
                        format!("{kind:?}").to_lowercase(),
                        p.display()
                    ),
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

/// The network namespace the spec joins by path, if it does.
pub fn netns_path(spec: &Spec) -> Option<PathBuf> {
    let list = spec.linux().as_ref()?.namespaces().as_ref()?;
    list.iter().find(|ns| ns.typ() == oci_spec::runtime::LinuxNamespaceType::Network).and_then(|ns| ns.path().clone())
}

/// Checks each hook: an absolute path, NAME=VALUE environment entries, a
/// positive timeout.
fn check_hooks(spec: &Spec) -> Result<(), BundleError> {
    let Some(h) = spec.hooks() else { return Ok(()) };
    let lists = [
        ("prestart", h.prestart()),
        ("createRuntime", h.create_runtime()),
        ("createContainer", h.create_container()),
        ("startContainer", h.start_container()),
        ("poststart", h.poststart()),
        ("poststop", h.poststop()),
    ];
    for (kind, list) in lists {
        for (i, hook) in list.iter().flatten().enumerate() {
            let at = format!("hooks.{kind}[{i}]");
            if !hook.path().is_absolute() {
                return Err(field(format!("{at}.path"), format!("{:?} is not an absolute path", hook.path())));
            }
            for (j, e) in hook.env().iter().flatten().enumerate() {
                if !e.contains('=') || e.starts_with('=') {
                    return Err(field(format!("{at}.env[{j}]"), format!("{e:?} is not NAME=VALUE")));
                }
            }
            if hook.timeout().is_some_and(|t| t <= 0) {
                return Err(field(format!("{at}.timeout"), "must be more than 0 seconds"));
            }
        }
    }
    Ok(())
}

/// The host directory a bind mount serves (relative sources are the
/// bundle's).
pub fn bind_source(bundle_dir: &Path, m: &Mount) -> PathBuf {
    bundle_dir.join(m.source().as_deref().unwrap_or(Path::new("")))
}

/// A spec mount's nosuid, nodev and noexec, from `base` as its options
/// change it (the last of `nosuid`/`suid` and so on wins).
pub fn mount_flags(m: &Mount, base: MountFlags) -> MountFlags {
    let mut f = base;
    for o in m.options().iter().flatten() {
        match o.as_str() {
            "nosuid" => f |= MountFlags::NOSUID,
            "suid" => f -= MountFlags::NOSUID,
            "nodev" => f |= MountFlags::NODEV,
            "dev" => f -= MountFlags::NODEV,
            "noexec" => f |= MountFlags::NOEXEC,
            "exec" => f -= MountFlags::NOEXEC,
            _ => {}
        }
    }
    f
}

/// Mount options a spec's tmpfs may have beyond tmpfs's own (propagation
/// and the like, which a sandbox-private mount has no use for).
const TMPFS_IGNORED: &[&str] =
    &["rprivate", "private", "rslave", "slave", "rshared", "shared", "exec", "suid", "dev", "tmpcopyup"];

/// A spec tmpfs mount's options, or which one is not understood.
pub fn tmpfs_options(m: &Mount) -> Result<sentry::fs::tmpfs::TmpfsOptions, String> {
    let opts: Vec<&str> =
        m.options().iter().flatten().map(String::as_str).filter(|o| !TMPFS_IGNORED.contains(o)).collect();
    for o in &opts {
        if sentry::fs::tmpfs::TmpfsOptions::parse(o.as_bytes()).is_err() {
            return Err(format!("tmpfs option {o:?} is not supported"));
        }
    }
    sentry::fs::tmpfs::TmpfsOptions::parse(opts.join(",").as_bytes()).map_err(|e| format!("tmpfs options: {e}"))
}
