//! startContainer hooks: run inside the sandbox when `start` comes, before
//! init, as runc runs them in the container after its pivot_root: each
//! hook's path resolves in the container's filesystem, and it runs with
//! init's credentials and working directory, its own args and exactly its
//! own environment, the container's state on stdin (its pid is init's, 1)
//! and its output kept for the error if it fails. Pid 1 is kept for init
//! meanwhile.

use std::sync::Arc;
use std::time::{Duration, Instant};

use oci_spec::runtime::{Hook, Process};
use sentry::fs::pipe::{new_pipe, PipeEnd};
use sentry::vfs::File;

use crate::sandbox::{Sandbox, Scope};

/// Most of a hook's output kept for its error.
const OUTPUT_KEPT: usize = 1 << 20;

/// Runs `hooks` in order for `init`; the first that fails is the error.
pub fn run(sandbox: &Sandbox, scope: &Scope, init: &Process, hooks: &[Hook], state: &[u8]) -> Result<(), String> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(sandbox, scope, init, h, state)
            .map_err(|e| format!("error running startContainer hook #{i} ({}): {e}", h.path().display()))?;
    }
    Ok(())
}

/// A pipe's two ends as files, named as pipe(2) names them.
fn pipe_files() -> (Arc<PipeEnd>, Arc<File>, Arc<PipeEnd>, Arc<File>) {
    let (r, w) = new_pipe(false);
    let name = format!("pipe:[{}]", r.pipe().ino()).into_bytes();
    let rf = File::new(r.clone(), libc::O_RDONLY as u32, None, name.clone());
    let wf = File::new(w.clone(), libc::O_WRONLY as u32, None, name);
    (r, rf, w, wf)
}

/// Moves what `from` holds into `to` (up to [`OUTPUT_KEPT`]); whether
/// its writers are all gone and it is empty.
fn drain(from: &PipeEnd, to: &mut Vec<u8>) -> bool {
    loop {
        match from.take(64 * 1024) {
            Ok(b) if b.is_empty() => return true,
            Ok(b) => {
                let room = OUTPUT_KEPT.saturating_sub(to.len());
                to.extend_from_slice(&b[..b.len().min(room)]);
            }
            Err(_) => return false,
        }
    }
}

fn run_one(sandbox: &Sandbox, scope: &Scope, init: &Process, h: &Hook, state: &[u8]) -> Result<(), String> {
    let path = h.path().as_os_str().as_encoded_bytes();
    let mut p = init.clone();
    let args = h.args().clone().filter(|a| !a.is_empty()).unwrap_or_else(|| vec![h.path().display().to_string()]);
    p.set_args(Some(args)).set_env(Some(h.env().clone().unwrap_or_default())).set_terminal(Some(false));
    // Stdin holds the state, whole, and then its end.
    let (_, stdin, state_w, _) = pipe_files();
    if state.len() > state_w.capacity() {
        state_w.set_capacity(state.len() as u64, true).map_err(|e| format!("state pipe: {e}"))?;
    }
    state_w.push(state);
    drop(state_w);
    let (out_r, _, _, out_w) = pipe_files();
    let (err_r, _, _, err_w) = pipe_files();
    let image = sandbox.prepare_program(scope, &p, Some(path), vec![Some(stdin), Some(out_w), Some(err_w)], false);
    let image = image.map_err(|e| match e.downcast_ref::<crate::sandbox::StartError>() {
        Some(se) => se.msg.clone(),
        None => format!("{e:#}"),
    })?;
    let tg = sandbox.start_process(image).map_err(|e| format!("{e:#}"))?;
    let deadline = h.timeout().filter(|&t| t > 0).map(|t| Instant::now() + Duration::from_secs(t as u64));
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut timed_out = false;
    let status = loop {
        if let Some(s) = tg.wait_exited(Some(Instant::now() + Duration::from_millis(20))) {
            break s;
        }
        drain(&out_r, &mut out);
        drain(&err_r, &mut err);
        if !timed_out && deadline.is_some_and(|d| Instant::now() >= d) {
            timed_out = true;
            sandbox.kernel().signal_from_host(Some(tg.pid), libc::SIGKILL);
        }
    };
    if status.shell_code() == 0 && !timed_out {
        return Ok(());
    }
    // What it wrote before it ended (a process it left behind may hold
    // the pipes open: a second's worth will do).
    let until = Instant::now() + Duration::from_secs(1);
    while !(drain(&out_r, &mut out) & drain(&err_r, &mut err)) && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(5));
    }
    let why = match status {
        _ if timed_out => format!("timed out after {} s", h.timeout().unwrap_or(0)),
        sentry::kernel::ExitStatus::Exited(c) => format!("exit status {c}"),
        sentry::kernel::ExitStatus::Signaled { sig, .. } => format!("killed by signal {sig}"),
    };
    Err(format!("{why}, stdout: {:?}, stderr: {:?}", String::from_utf8_lossy(&out), String::from_utf8_lossy(&err)))
}
