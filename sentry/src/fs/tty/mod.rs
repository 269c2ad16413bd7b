//! Terminals: pseudo-terminal pairs (/dev/ptmx, /dev/pts/N) with a real
//! line discipline, controlling terminals of sessions, /dev/tty, and job
//! control (foreground process groups, SIGTTIN/SIGTTOU, hangup).
//!
//! Files: `ldisc` (the line discipline), `pty` (the master and replica
//! open files and the terminal ioctls), `devpts` (the /dev/pts
//! filesystem, /dev/ptmx and /dev/tty), `console` (the host terminal init
//! may run on), `bridge` (a pair whose master is joined to a host
//! terminal, for a process exec'd with one).
//!
//! Lock order: the kernel's task tree before a terminal's state before
//! [`Ttys`]' maps; signals are sent with no terminal lock held.

pub mod bridge;
pub mod console;
pub mod devpts;
pub mod ldisc;
pub mod pty;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use crate::abi::{Errno, SigInfo, Timespec, Winsize};
use crate::kernel::Kernel;
use crate::waiter::WaitQueue;
use ldisc::Ldisc;

/// The pts devices' major number.
pub const PTS_MAJOR: u32 = 136;
/// /proc/sys/kernel/pty/max: the most pairs at once.
pub const PTY_MAX: u32 = 4096;

/// A terminal's mutable state.
pub struct TermState {
    /// The line discipline and its queues.
    pub ld: Ldisc,
    /// The window size (TIOCGWINSZ).
    pub winsize: Winsize,
    /// The session it is the controlling terminal of.
    pub session: Option<i32>,
    /// The foreground process group.
    pub fg_pgrp: Option<i32>,
    /// Locked against opening the replica (until unlockpt).
    pub locked: bool,
    /// Open master descriptions (the pair lives while one is open).
    pub masters: usize,
    /// Open replica descriptions.
    pub replicas: usize,
    /// Every replica opened so far was closed (master reads then fail
    /// with EIO, as Linux's TTY_OTHER_CLOSED).
    pub replica_closed: bool,
    /// The master is gone: the replica is hung up.
    pub hung_up: bool,
    /// Packet mode (TIOCPKT) on the master.
    pub packet: bool,
}

/// A pseudo-terminal pair.
pub struct Terminal {
    /// Its number: /dev/pts/`index`.
    pub index: u32,
    state: Mutex<TermState>,
    /// Where the master's readers and writers wait.
    pub master_queue: WaitQueue,
    /// Where the replica's readers and writers wait.
    pub replica_queue: WaitQueue,
    /// Owner of the replica node: the uid that opened the master.
    pub uid: u32,
    /// When the pair was made (the nodes' times).
    pub created: Timespec,
    ttys: Weak<Ttys>,
}

impl Terminal {
    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, TermState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes both sides (after any change of queues or state).
    pub fn wake(&self) {
        let all = crate::waiter::EVENT_ANY;
        self.master_queue.notify(all);
        self.replica_queue.notify(all);
    }

    /// The registry it belongs to.
    pub fn ttys(&self) -> Option<Arc<Ttys>> {
        self.ttys.upgrade()
    }

    /// Sends `sig` to process group `pgid` (from the kernel, as the tty
    /// layer's kill_pgrp).
    pub fn signal_group(&self, pgid: i32, sig: i32) {
        if let Some(t) = self.ttys() {
            t.signal_group(pgid, sig);
        }
    }

    /// Sets the window size (TIOCSWINSZ); a change signals the foreground
    /// group with SIGWINCH.
    pub fn resize(&self, ws: Winsize) {
        let fg = {
            let mut s = self.lock();
            let old = s.winsize;
            s.winsize = ws;
            let changed = (old.ws_row, old.ws_col, old.ws_xpixel, old.ws_ypixel)
                != (ws.ws_row, ws.ws_col, ws.ws_xpixel, ws.ws_ypixel);
            if changed {
                s.fg_pgrp
            } else {
                None
            }
        };
        if let Some(pg) = fg {
            self.signal_group(pg, libc::SIGWINCH);
        }
    }
}

/// The sandbox's terminals: the pts pairs by number and the controlling
/// terminal of each session.
pub struct Ttys {
    kernel: Weak<Kernel>,
    ptys: Mutex<BTreeMap<u32, Weak<Terminal>>>,
    ctty: Mutex<BTreeMap<i32, Arc<Terminal>>>,
    /// The host terminal init was started on, as the controlling terminal
    /// of init's session: (session, foreground process group). Its line
    /// discipline is the host's; job control is the sandbox's.
    console: Mutex<Option<(i32, i32)>>,
    /// The host console's file and the owner its node shows
    /// (`console.rs`).
    console_host: Mutex<Option<console::HostConsole>>,
    /// Or a pair of the sandbox's is the console (an OCI container's
    /// terminal, joined to the host's by a bridge): /dev/console opens
    /// its replica, as runc binds /dev/pts/0 there.
    console_pair: Mutex<Option<Arc<Terminal>>>,
    /// When devpts was made (its root's times).
    pub created: Timespec,
}

fn now() -> Timespec {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Timespec { tv_sec: d.as_secs() as i64, tv_nsec: d.subsec_nanos() as i64 }
}

impl Ttys {
    /// The terminals of the sandbox `kernel`.
    pub fn new(kernel: Weak<Kernel>) -> Arc<Ttys> {
        Arc::new(Ttys {
            kernel,
            ptys: Mutex::new(BTreeMap::new()),
            ctty: Mutex::new(BTreeMap::new()),
            console: Mutex::new(None),
            console_host: Mutex::new(None),
            console_pair: Mutex::new(None),
            created: now(),
        })
    }

    fn ptys(&self) -> MutexGuard<'_, BTreeMap<u32, Weak<Terminal>>> {
        self.ptys.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn cttys(&self) -> MutexGuard<'_, BTreeMap<i32, Arc<Terminal>>> {
        self.ctty.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The kernel.
    pub fn kernel(&self) -> Option<Arc<Kernel>> {
        self.kernel.upgrade()
    }

    /// A new pair with the lowest free number, locked, for an open of
    /// /dev/ptmx by `uid`; ENOSPC past [`PTY_MAX`].
    pub fn new_pair(self: &Arc<Self>, uid: u32) -> Result<Arc<Terminal>, Errno> {
        let mut ptys = self.ptys();
        ptys.retain(|_, t| t.strong_count() > 0);
        let index = (0..PTY_MAX).find(|i| !ptys.contains_key(i)).ok_or(Errno::ENOSPC)?;
        let term = Arc::new(Terminal {
            index,
            state: Mutex::new(TermState {
                ld: Ldisc::default(),
                winsize: Winsize::default(),
                session: None,
                fg_pgrp: None,
                locked: true,
                masters: 0,
                replicas: 0,
                replica_closed: false,
                hung_up: false,
                packet: false,
            }),
            master_queue: WaitQueue::new(),
            replica_queue: WaitQueue::new(),
            uid,
            created: now(),
            ttys: Arc::downgrade(self),
        });
        ptys.insert(index, Arc::downgrade(&term));
        Ok(term)
    }

    /// The live pair numbered `index` (its master still open).
    pub fn pair(&self, index: u32) -> Option<Arc<Terminal>> {
        let t = self.ptys().get(&index)?.upgrade()?;
        let alive = t.lock().masters > 0;
        alive.then_some(t)
    }

    /// The numbers of the live pairs, ascending.
    pub fn indices(&self) -> Vec<u32> {
        let ptys: Vec<(u32, Weak<Terminal>)> = self.ptys().iter().map(|(i, w)| (*i, w.clone())).collect();
        ptys.into_iter().filter(|(_, w)| w.upgrade().is_some_and(|t| t.lock().masters > 0)).map(|(i, _)| i).collect()
    }

    /// Forgets pair `index` (its master closed).
    fn remove_pair(&self, index: u32) {
        self.ptys().remove(&index);
    }

    /// The controlling terminal of session `sid`.
    pub fn controlling(&self, sid: i32) -> Option<Arc<Terminal>> {
        self.cttys().get(&sid).cloned()
    }

    /// Makes `term` the controlling terminal of session `sid` (a new one,
    /// without a terminal), with `pgid` in the foreground.
    pub fn attach(&self, term: &Arc<Terminal>, sid: i32, pgid: i32) {
        let mut s = term.lock();
        s.session = Some(sid);
        s.fg_pgrp = Some(pgid);
        drop(s);
        self.set_controlling(sid, term);
    }

    /// Init's stdin is a host terminal: it controls session `sid`, whose
    /// foreground group starts as `pgid`.
    pub fn set_console(&self, sid: i32, pgid: i32) {
        *self.console.lock().unwrap_or_else(|e| e.into_inner()) = Some((sid, pgid));
    }

    /// The host console's (session, foreground group), if there is one.
    pub fn console(&self) -> Option<(i32, i32)> {
        *self.console.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A signal the host terminal raised (runsc forwards SIGINT, SIGQUIT,
    /// SIGTSTP and SIGWINCH): to the console's foreground group, as a terminal's
    /// signals go. Returns false if there is no console.
    pub fn console_signal(&self, sig: i32) -> bool {
        let Some((_, fg)) = self.console() else { return false };
        self.signal_group(fg, sig);
        true
    }

    /// The job-control ioctls on the host console (TIOCGPGRP, TIOCSPGRP,
    /// TIOCGSID, TIOCSCTTY, TIOCNOTTY) by task `t`; `None` for other
    /// requests (the host terminal answers those).
    pub fn console_ioctl(&self, t: &crate::kernel::Task, cmd: u32, arg: u64) -> Option<Result<u64, crate::abi::Errno>> {
        use crate::abi::Errno;
        let (sid, pgid) = {
            let tree = t.kernel.tasks.read();
            let p = tree.procs.get(&t.tg.pid)?;
            (p.sid, p.pgid)
        };
        let console = self.console();
        let mine = console.is_some_and(|(s, _)| s == sid);
        let r = match cmd as u64 {
            libc::TIOCGPGRP => match console {
                Some((_, fg)) if mine => t.mm().copy_out_obj(arg, &fg).map(|_| 0),
                _ => Err(Errno::ENOTTY),
            },
            libc::TIOCGSID => match console {
                Some((s, _)) if mine => t.mm().copy_out_obj(arg, &s).map(|_| 0),
                _ => Err(Errno::ENOTTY),
            },
            libc::TIOCSPGRP => {
                if !mine {
                    return Some(Err(Errno::ENOTTY));
                }
                let want: i32 = match t.mm().copy_in_obj(arg) {
                    Ok(w) => w,
                    Err(e) => return Some(Err(e)),
                };
                if want < 0 {
                    return Some(Err(Errno::EINVAL));
                }
                let tree = t.kernel.tasks.read();
                let ok = tree.procs.values().any(|p| p.pgid == want && p.sid == sid && p.zombie.is_none());
                if !ok {
                    return Some(Err(if tree.group_exists(want) { Errno::EPERM } else { Errno::ESRCH }));
                }
                drop(tree);
                self.set_console(sid, want);
                Ok(0)
            }
            libc::TIOCSCTTY => {
                if mine {
                    Ok(0)
                } else if console.is_none() && t.tg.pid == sid {
                    self.set_console(sid, pgid);
                    Ok(0)
                } else {
                    Err(Errno::EPERM)
                }
            }
            libc::TIOCNOTTY => {
                if mine {
                    Ok(0)
                } else {
                    Err(Errno::ENOTTY)
                }
            }
            _ => return None,
        };
        Some(r)
    }

    /// For `/proc/[pid]/stat`: the device number (new_encode_dev) of the
    /// controlling terminal of session `sid`, and its foreground group
    /// (-1 if none).
    pub fn session_tty(&self, sid: i32) -> Option<(u32, i32)> {
        if let Some((s, fg)) = self.console() {
            if s == sid {
                // The host's terminal, /dev/console (c 5,1).
                return Some((crate::abi::dev_make(console::CONSOLE_MAJOR, console::CONSOLE_MINOR) as u32, fg));
            }
        }
        let term = self.controlling(sid)?;
        // new_encode_dev: dev_t's layout for majors below 4096.
        let dev = crate::abi::dev_make(PTS_MAJOR, term.index) as u32;
        let fg = term.lock().fg_pgrp.unwrap_or(-1);
        Some((dev, fg))
    }

    /// Makes `term` the controlling terminal of session `sid`.
    fn set_controlling(&self, sid: i32, term: &Arc<Terminal>) {
        self.cttys().insert(sid, term.clone());
    }

    /// Session `sid` no longer has a controlling terminal.
    fn clear_controlling(&self, sid: i32) -> Option<Arc<Terminal>> {
        self.cttys().remove(&sid)
    }

    /// Sends `sig` to every process of group `pgid`.
    pub fn signal_group(&self, pgid: i32, sig: i32) {
        let Some(k) = self.kernel() else { return };
        let members = k.tasks.read().group_members(pgid);
        for tg in members {
            k.send_group_signal(
                &tg,
                SigInfo::new(sig, crate::abi::signal::SI_KERNEL),
                crate::kernel::signal_send::Origin::Sandbox,
            );
        }
    }

    /// The leader of session `sid` exited (`on_exit`) or gave up its
    /// terminal with TIOCNOTTY: the foreground group gets SIGHUP (and
    /// SIGCONT for TIOCNOTTY), and the terminal belongs to no session
    /// (Linux's disassociate_ctty).
    pub fn session_ended(&self, sid: i32, on_exit: bool) {
        let Some(term) = self.clear_controlling(sid) else { return };
        let fg = {
            let mut s = term.lock();
            s.session = None;
            s.fg_pgrp.take()
        };
        if let Some(pg) = fg {
            self.signal_group(pg, libc::SIGHUP);
            if !on_exit {
                self.signal_group(pg, libc::SIGCONT);
            }
        }
    }

    /// The master of `term` closed for good: the replica hangs up, and the
    /// session it controlled loses it; that session's leader gets SIGHUP
    /// and SIGCONT (Linux's tty_signal_session_leader).
    fn hang_up(&self, term: &Arc<Terminal>) {
        self.remove_pair(term.index);
        let session = {
            let mut s = term.lock();
            s.hung_up = true;
            s.fg_pgrp = None;
            s.session.take()
        };
        term.wake();
        let Some(sid) = session else { return };
        self.clear_controlling(sid);
        let Some(k) = self.kernel() else { return };
        let Some(leader) = k.tasks.read().procs.get(&sid).filter(|p| p.zombie.is_none()).map(|p| p.tg.clone()) else {
            return;
        };
        for sig in [libc::SIGHUP, libc::SIGCONT] {
            k.send_group_signal(
                &leader,
                SigInfo::new(sig, crate::abi::signal::SI_KERNEL),
                crate::kernel::signal_send::Origin::Sandbox,
            );
        }
    }
}
