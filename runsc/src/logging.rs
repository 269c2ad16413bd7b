//! Log set-up: the debug log goes to `--debug-log` (sandbox) or `--log`.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context as _;
use tracing_subscriber::EnvFilter;

use crate::cli::{GlobalFlags, LogFormat};

/// Installs a subscriber writing to `path` for `component` (boot, gofer, do).
pub fn init(g: &GlobalFlags, path: Option<&Path>, component: &'static str) -> anyhow::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("open log file {}", path.display()))?;
    let level = if g.debug { "debug" } else { "info" };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(level))
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_thread_ids(true)
        .with_target(false);
    let r = if g.log_format == LogFormat::Json { builder.json().try_init() } else { builder.try_init() };
    r.map_err(|e| anyhow::anyhow!("install logger: {e}"))?;
    tracing::info!(component, pid = std::process::id(), "starting");
    Ok(())
}

/// Appends an error to `--log` in `--log-format` (containerd's shim shows
/// the last `"level":"error"` line of a JSON log to the user).
pub fn log_error(g: &GlobalFlags, msg: &str) {
    use std::io::Write as _;
    let Some(path) = &g.log else { return };
    let Ok(mut f) = OpenOptions::new().create(true).append(true).open(path) else { return };
    let time = crate::state::now_rfc3339();
    let line = match g.log_format {
        LogFormat::Json => serde_json::json!({ "level": "error", "msg": msg, "time": time }).to_string(),
        LogFormat::Text => format!("time={time:?} level=error msg={msg:?}"),
    };
    let _ = writeln!(f, "{line}");
}
