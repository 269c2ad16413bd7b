//! `runsc install` and `runsc uninstall`: add runsc to Docker's
//! daemon.json as a runtime (or take it out), as gVisor's do, keeping
//! whatever else the file holds. The file is written whole to a temporary
//! name beside it and renamed, so dockerd never reads half of it.

use std::path::Path;

use anyhow::{bail, Context as _};
use serde_json::{Map, Value};

use crate::cli::{InstallArgs, UninstallArgs};

/// The daemon.json at `path` as an object (empty if there is none).
fn read(path: &Path) -> anyhow::Result<Map<String, Value>> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Map::new()),
        Err(e) => return Err(e).with_context(|| format!("read {}", path.display())),
    };
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))? {
        Value::Object(m) => Ok(m),
        _ => bail!("{}: not a JSON object", path.display()),
    }
}

/// Writes `doc` to `path` through a temporary file renamed into place
/// (the directory made if missing; an existing file's mode kept).
fn write(path: &Path, doc: &Map<String, Value>) -> anyhow::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("make {}", dir.display()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.runsc-{}", std::process::id()));
    let mut text = serde_json::to_string_pretty(doc)?;
    text.push('\n');
    let done = (|| {
        std::fs::write(&tmp, text).with_context(|| format!("write {}", tmp.display()))?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions()).with_context(|| format!("chmod {}", tmp.display()))?;
        }
        std::fs::rename(&tmp, path).with_context(|| format!("replace {}", path.display()))
    })();
    if done.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    done
}

/// `runsc install`.
pub fn run_install(args: &InstallArgs) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("find runsc binary")?;
    let mut doc = read(&args.config_file)?;
    let runtimes = doc.entry("runtimes").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(runtimes) = runtimes else {
        bail!("{}: \"runtimes\" is not an object", args.config_file.display());
    };
    if runtimes.contains_key(&args.runtime) && !args.clobber {
        bail!(
            "{}: runtime {:?} is there already (give --clobber to replace it)",
            args.config_file.display(),
            args.runtime
        );
    }
    let mut entry = Map::new();
    entry.insert("path".into(), Value::String(exe.to_string_lossy().into_owned()));
    if !args.runtime_args.is_empty() {
        entry
            .insert("runtimeArgs".into(), Value::Array(args.runtime_args.iter().cloned().map(Value::String).collect()));
    }
    runtimes.insert(args.runtime.clone(), Value::Object(entry));
    if args.experimental {
        doc.insert("experimental".into(), Value::Bool(true));
    }
    write(&args.config_file, &doc)?;
    eprintln!("runtime {:?} ({}) added to {}", args.runtime, exe.display(), args.config_file.display());
    Ok(0)
}

/// `runsc uninstall`.
pub fn run_uninstall(args: &UninstallArgs) -> anyhow::Result<i32> {
    let mut doc = read(&args.config_file)?;
    let removed = match doc.get_mut("runtimes") {
        Some(Value::Object(r)) => r.remove(&args.runtime).is_some(),
        _ => false,
    };
    if !removed {
        bail!("{}: there is no runtime {:?} to remove", args.config_file.display(), args.runtime);
    }
    write(&args.config_file, &doc)?;
    eprintln!("runtime {:?} removed from {}", args.runtime, args.config_file.display());
    Ok(0)
}
