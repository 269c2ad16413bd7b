//! The spec's hooks that run on the host, in the runtime's namespaces:
//! prestart, createRuntime and createContainer when the container is
//! created, poststart once its process runs, poststop when it is deleted.
//! Each gets the container's state as JSON on stdin, its own args (`args[0]`
//! as its `argv[0]`) and, when the spec gives one, exactly its environment;
//! its output is kept for the error if it fails or outlives its timeout.
//! (startContainer hooks run inside the sandbox, where their paths resolve:
//! see `start_hooks`.)

use std::collections::HashMap;
use std::io::{Read, Write as _};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::anyhow;
use oci_spec::runtime::Hook;
use serde::Serialize;

/// The state a hook reads on stdin (the OCI runtime spec's state).
#[derive(Serialize)]
pub struct HookState<'a> {
    /// The spec version.
    #[serde(rename = "ociVersion")]
    pub oci_version: &'static str,
    /// The container ID.
    pub id: &'a str,
    /// creating, created, running or stopped.
    pub status: &'static str,
    /// The container's process as the hook sees it (none once stopped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pid: Option<i32>,
    /// The bundle directory.
    pub bundle: &'a Path,
    /// The spec's annotations.
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    pub annotations: &'a HashMap<String, String>,
}

impl HookState<'_> {
    /// As JSON.
    pub fn json(&self) -> Vec<u8> {
        // Plain strings and numbers: encoding cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Runs `hooks` in order, each in `cwd` (or ours); the first that fails
/// stops the rest and is the error (`kind` names the list in it).
pub fn run(kind: &str, hooks: &[Hook], state: &HookState<'_>, cwd: Option<&Path>) -> anyhow::Result<()> {
    let json = state.json();
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, &json, cwd).map_err(|e| anyhow!("error running {kind} hook #{i} ({}): {e}", h.path().display()))?;
    }
    Ok(())
}

/// Runs `hooks` as [`run`] does, but a failure is a warning in the log and
/// the rest still run (as the spec has it for poststart and poststop).
pub fn run_warning(kind: &str, hooks: &[Hook], state: &HookState<'_>, cwd: Option<&Path>) {
    let json = state.json();
    for (i, h) in hooks.iter().enumerate() {
        if let Err(e) = run_one(h, &json, cwd) {
            tracing::warn!("error running {kind} hook #{i} ({}): {e}", h.path().display());
        }
    }
}

fn run_one(h: &Hook, state: &[u8], cwd: Option<&Path>) -> Result<(), String> {
    let mut cmd = Command::new(h.path());
    if let Some((first, rest)) = h.args().as_deref().and_then(<[String]>::split_first) {
        cmd.arg0(first).args(rest);
    }
    if let Some(env) = h.env() {
        cmd.env_clear();
        for e in env {
            // Checked as NAME=VALUE when the bundle was loaded.
            if let Some((k, v)) = e.split_once('=') {
                cmd.env(k, v);
            }
        }
    }
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| e.to_string())?;
    // Each stream has a thread, so a hook that writes much or reads
    // nothing never blocks us.
    if let Some(mut w) = child.stdin.take() {
        let data = state.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    let collect = |r: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        if let Some(mut r) = r {
            std::thread::spawn(move || {
                let mut out = Vec::new();
                let _ = r.by_ref().take(1 << 20).read_to_end(&mut out);
                let _ = tx.send(out);
                // The rest is drained, not kept.
                let _ = std::io::copy(&mut r, &mut std::io::sink());
            });
        }
        rx
    };
    let stdout = collect(child.stdout.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let stderr = collect(child.stderr.take().map(|r| Box::new(r) as Box<dyn Read + Send>));
    let deadline = h.timeout().filter(|&t| t > 0).map(|t| Instant::now() + Duration::from_secs(t as u64));
    let mut nap = Duration::from_micros(200);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Ok(s),
            Ok(None) => {}
            Err(e) => break Err(e.to_string()),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            break Err(format!("timed out after {} s", h.timeout().unwrap_or(0)));
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(20));
    };
    // A process the hook left behind may hold its output open: what came
    // within a second will do.
    let text = |rx: std::sync::mpsc::Receiver<Vec<u8>>| {
        rx.recv_timeout(Duration::from_secs(1)).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default()
    };
    let why = match status {
        Ok(s) if s.success() => return Ok(()),
        Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
            (Some(c), _) => format!("exit status {c}"),
            (None, Some(sig)) => format!("killed by signal {sig}"),
            _ => s.to_string(),
        },
        Err(e) => e,
    };
    Err(format!("{why}, stdout: {:?}, stderr: {:?}", text(stdout), text(stderr)))
}
