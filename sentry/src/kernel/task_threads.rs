//! The sentry threads tasks run on. A task runs on a thread of its own
//! from its first instruction to its exit; when it is gone, the thread
//! waits a while for the next new task before it exits, so that making a
//! task (fork, pthread_create) seldom costs starting a host thread.

use std::sync::Mutex;
use std::time::Duration;

use crossbeam::channel::{bounded, Sender};

use crate::kernel::Task;

/// The stack of each task's sentry thread.
const TASK_STACK: usize = 1 << 20;

/// How long a thread whose task is gone waits for another.
const IDLE: Duration = Duration::from_secs(5);

/// The most threads waiting for a task at once.
const MAX_IDLE: usize = 64;

/// Threads waiting for a task: a rendezvous channel each, so that a task
/// handed over is received or the send fails (the thread gave up).
static WAITING: Mutex<Vec<Sender<Task>>> = Mutex::new(Vec::new());

fn waiting() -> std::sync::MutexGuard<'static, Vec<Sender<Task>>> {
    WAITING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `task` on a waiting thread, or on a new one.
pub(crate) fn start(mut task: Task) -> std::io::Result<()> {
    loop {
        let Some(tx) = waiting().pop() else { break };
        match tx.send(task) {
            Ok(()) => return Ok(()),
            // That thread stopped waiting; try the next.
            Err(e) => task = e.into_inner(),
        }
    }
    let name = format!("task-{}", task.tid);
    std::thread::Builder::new().name(name).stack_size(TASK_STACK).spawn(move || serve(task)).map(drop)
}

/// A task thread's life: its first task, then whatever it is handed.
fn serve(mut task: Task) {
    loop {
        task.run();
        let (tx, rx) = bounded(0);
        {
            let mut w = waiting();
            if w.len() >= MAX_IDLE {
                return;
            }
            w.push(tx);
        }
        match rx.recv_timeout(IDLE) {
            Ok(t) => task = t,
            Err(_) => return,
        }
        set_name(task.tid);
    }
}

/// Names the calling thread for the task it now runs (as the host's ps and
/// perf show it).
fn set_name(tid: i32) {
    let mut name = [0u8; 16];
    let s = format!("task-{tid}");
    let n = s.len().min(15);
    name[..n].copy_from_slice(&s.as_bytes()[..n]);
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes
    // from `name`, which is 16 bytes with a NUL at the end.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr()) };
}
