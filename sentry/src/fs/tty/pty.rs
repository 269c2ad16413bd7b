//! The two ends of a pseudo-terminal as open files, and the terminal
//! ioctls (termios, window size, job control, the ptmx requests).
//!
//! The master reads the replica's processed output and writes its input;
//! the replica is the terminal programs see. Closing the last master
//! hangs the replica up: reads give end of file, writes EIO, and the
//! session it controlled gets SIGHUP. Reads and writes by a background
//! process group of the terminal's session raise SIGTTIN (and SIGTTOU with
//! TOSTOP), as Linux's job control does.

use std::sync::Arc;
use std::time::Duration;

use crate::abi::poll::{POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM};
use crate::abi::{dev_make, Errno, Stat, Termios, Winsize};
use crate::fs::synthetic::synth_stat;
use crate::fs::tty::ldisc::{TOSTOP, VMIN, VTIME};
use crate::fs::tty::{Terminal, PTS_MAJOR};
use crate::kernel::Task;
use crate::vfs::{FileOps, OffsetMode};
use crate::waiter::WaitQueue;

/// The tty group (gid 5), which owns the pts nodes as in containers.
pub const TTY_GID: u32 = 5;

/// The replica node's metadata (/dev/pts/N).
pub fn replica_stat(term: &Terminal) -> Stat {
    let mut st = synth_stat(term.index as u64 + 3, libc::S_IFCHR | 0o620, 0, term.uid, TTY_GID);
    st.rdev = dev_make(PTS_MAJOR, term.index);
    st.atime = term.created;
    st.mtime = term.created;
    st.ctime = term.created;
    st
}

/// The ptmx node's metadata (c 5,2).
pub fn ptmx_stat(created: crate::abi::Timespec) -> Stat {
    let mut st = synth_stat(2, libc::S_IFCHR | 0o666, 0, 0, 0);
    st.rdev = dev_make(5, 2);
    st.atime = created;
    st.mtime = created;
    st.ctime = created;
    st
}

/// The master end (an open of /dev/ptmx).
pub struct MasterFile {
    term: Arc<Terminal>,
}

impl MasterFile {
    /// Opens the master of a new pair.
    pub fn new(term: Arc<Terminal>) -> Arc<MasterFile> {
        term.lock().masters += 1;
        Arc::new(MasterFile { term })
    }

    /// The pair.
    pub fn terminal(&self) -> &Arc<Terminal> {
        &self.term
    }
}

impl Drop for MasterFile {
    fn drop(&mut self) {
        let last = {
            let mut s = self.term.lock();
            s.masters -= 1;
            s.masters == 0
        };
        if last {
            if let Some(t) = self.term.ttys() {
                t.hang_up(&self.term);
            }
        }
    }
}

impl FileOps for MasterFile {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        let mut s = self.term.lock();
        if s.ld.output.is_empty() {
            return Err(if s.replica_closed { Errno::EIO } else { Errno::EAGAIN });
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = if s.packet {
            // TIOCPKT_DATA, then the data.
            buf[0] = 0;
            1 + s.ld.read_output(&mut buf[1..])
        } else {
            s.ld.read_output(buf)
        };
        drop(s);
        self.term.replica_queue.notify(POLLOUT | POLLWRNORM);
        Ok(n)
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        if buf.is_empty() {
            return Ok(0);
        }
        let mut sigs = Vec::new();
        let (n, fg) = {
            let mut s = self.term.lock();
            let n = s.ld.receive(buf, &mut sigs);
            (n, s.fg_pgrp)
        };
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        self.term.wake();
        if let Some(pg) = fg {
            for sig in sigs {
                self.term.signal_group(pg, sig);
            }
        }
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(ptmx_stat(self.term.created))
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        let s = self.term.lock();
        let mut r = 0;
        if !s.ld.output.is_empty() {
            r |= POLLIN | POLLRDNORM;
        }
        if s.ld.input_room() {
            r |= POLLOUT | POLLWRNORM;
        }
        if s.replica_closed {
            r |= POLLHUP;
        }
        r & (mask | POLLERR | POLLHUP)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.term.master_queue)
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Ok(self.term.lock().ld.output.len() as u64)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

/// The replica end (an open of /dev/pts/N or /dev/tty).
pub struct ReplicaFile {
    term: Arc<Terminal>,
    /// The node it was opened through, when not /dev/pts/N (/dev/tty).
    node: Option<Stat>,
}

impl ReplicaFile {
    /// Opens the replica: EIO while the pair is locked or hung up.
    pub fn open(term: Arc<Terminal>) -> Result<Arc<ReplicaFile>, Errno> {
        Self::open_as(term, None)
    }

    /// Opens the replica through another node (`node`'s metadata is what
    /// fstat gives).
    pub fn open_as(term: Arc<Terminal>, node: Option<Stat>) -> Result<Arc<ReplicaFile>, Errno> {
        {
            let mut s = term.lock();
            if s.locked || s.hung_up || s.masters == 0 {
                return Err(Errno::EIO);
            }
            s.replicas += 1;
            s.replica_closed = false;
        }
        Ok(Arc::new(ReplicaFile { term, node }))
    }

    /// The pair.
    pub fn terminal(&self) -> &Arc<Terminal> {
        &self.term
    }
}

impl Drop for ReplicaFile {
    fn drop(&mut self) {
        {
            let mut s = self.term.lock();
            s.replicas -= 1;
            if s.replicas == 0 {
                s.replica_closed = true;
            }
        }
        self.term.wake();
    }
}

/// What a background process of the terminal's session may do: Ok to go
/// on, else EIO or ERESTARTSYS after `sig` (SIGTTIN or SIGTTOU) went to
/// its process group (Linux's __tty_check_change and n_tty's
/// job_control). SIGTTOU ignored or blocked lets the operation go on;
/// SIGTTIN so is EIO; so is an orphaned group.
pub fn job_control(term: &Terminal, sig: i32) -> Result<(), Errno> {
    let Some(cur) = crate::kernel::current() else { return Ok(()) };
    let Some(k) = term.ttys().and_then(|t| t.kernel()) else { return Ok(()) };
    let (pgid, orphaned) = {
        let tree = k.tasks.read();
        let Some(p) = tree.procs.get(&cur.tg.pid) else { return Ok(()) };
        let s = term.lock();
        if s.session != Some(p.sid) || s.fg_pgrp.is_none_or(|fg| fg == p.pgid) {
            return Ok(());
        }
        (p.pgid, tree.group_orphaned(p.pgid))
    };
    let ignored = cur.tg.handlers().get(sig).handler == libc::SIG_IGN as u64;
    let blocked = cur.signals().mask & (1u64 << (sig - 1)) != 0;
    if ignored || blocked {
        return if sig == libc::SIGTTOU { Ok(()) } else { Err(Errno::EIO) };
    }
    if orphaned {
        return Err(Errno::EIO);
    }
    term.signal_group(pgid, sig);
    Err(Errno::ERESTARTSYS)
}

impl FileOps for ReplicaFile {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        job_control(&self.term, libc::SIGTTIN)?;
        let mut s = self.term.lock();
        if s.hung_up {
            return Ok(0);
        }
        if buf.is_empty() {
            return Ok(0);
        }
        match s.ld.read(buf) {
            Some(n) => {
                drop(s);
                self.term.master_queue.notify(POLLOUT | POLLWRNORM);
                Ok(n)
            }
            None if !s.ld.canonical() && s.ld.termios.c_cc[VMIN] == 0 && s.ld.termios.c_cc[VTIME] == 0 => Ok(0),
            None => Err(Errno::EAGAIN),
        }
    }

    fn read_timeout(&self) -> Option<Duration> {
        let s = self.term.lock();
        let cc = &s.ld.termios.c_cc;
        (!s.ld.canonical() && cc[VMIN] == 0 && cc[VTIME] > 0).then(|| Duration::from_millis(cc[VTIME] as u64 * 100))
    }

    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        let tostop = {
            let s = self.term.lock();
            if s.hung_up {
                return Err(Errno::EIO);
            }
            s.ld.termios.c_lflag & TOSTOP != 0
        };
        if tostop {
            job_control(&self.term, libc::SIGTTOU)?;
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = {
            let mut s = self.term.lock();
            if s.ld.stopped {
                return Err(Errno::EAGAIN);
            }
            s.ld.write(buf)
        };
        if n == 0 {
            return Err(Errno::EAGAIN);
        }
        self.term.master_queue.notify(POLLIN | POLLRDNORM);
        Ok(n)
    }

    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.node.unwrap_or_else(|| replica_stat(&self.term)))
    }

    fn offset_mode(&self) -> OffsetMode {
        OffsetMode::Stream
    }

    fn readiness(&self, mask: u32) -> u32 {
        let s = self.term.lock();
        if s.hung_up {
            return (POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM | POLLERR | POLLHUP) & (mask | POLLERR | POLLHUP);
        }
        let mut r = 0;
        if s.ld.input_ready() {
            r |= POLLIN | POLLRDNORM;
        }
        if s.ld.output_room() && !s.ld.stopped {
            r |= POLLOUT | POLLWRNORM;
        }
        r & (mask | POLLERR | POLLHUP)
    }

    fn wait_queue(&self) -> Option<&WaitQueue> {
        Some(&self.term.replica_queue)
    }

    fn readable_bytes(&self) -> Result<u64, Errno> {
        Ok(self.term.lock().ld.readable() as u64)
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }
}

// Terminal ioctls (asm-generic/ioctls.h).
const TCGETS: u32 = 0x5401;
const TCSETS: u32 = 0x5402;
const TCSETSW: u32 = 0x5403;
const TCSETSF: u32 = 0x5404;
const TCSBRK: u32 = 0x5409;
const TCXONC: u32 = 0x540A;
const TCFLSH: u32 = 0x540B;
const TIOCEXCL: u32 = 0x540C;
const TIOCNXCL: u32 = 0x540D;
const TIOCSCTTY: u32 = 0x540E;
const TIOCGPGRP: u32 = 0x540F;
const TIOCSPGRP: u32 = 0x5410;
const TIOCOUTQ: u32 = 0x5411;
const TIOCSTI: u32 = 0x5412;
const TIOCGWINSZ: u32 = 0x5413;
const TIOCSWINSZ: u32 = 0x5414;
const FIONREAD: u32 = 0x541B;
const TIOCPKT: u32 = 0x5420;
const TIOCNOTTY: u32 = 0x5422;
const TIOCSETD: u32 = 0x5423;
const TIOCGETD: u32 = 0x5424;
const TCSBRKP: u32 = 0x5425;
const TIOCSBRK: u32 = 0x5427;
const TIOCCBRK: u32 = 0x5428;
const TIOCGSID: u32 = 0x5429;
const TCGETS2: u32 = 0x802C_542A;
const TCSETS2: u32 = 0x402C_542B;
const TCSETSW2: u32 = 0x402C_542C;
const TCSETSF2: u32 = 0x402C_542D;
const TIOCGPTN: u32 = 0x8004_5430;
const TIOCSPTLCK: u32 = 0x4004_5431;
const TIOCGDEV: u32 = 0x8004_5432;
const TIOCGPKT: u32 = 0x8004_5438;
const TIOCGPTLCK: u32 = 0x8004_5439;
const TIOCGEXCL: u32 = 0x8004_5440;
/// TIOCGPTPEER: the syscall layer opens the replica (it needs the fd
/// table); exported for it.
pub const TIOCGPTPEER: u32 = 0x5441;

/// `struct termios2`: termios with the speeds.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Termios2 {
    t: Termios,
    ispeed: u32,
    ospeed: u32,
}

// SAFETY: plain integers, no padding (36 + 4 + 4 bytes, 4-aligned).
unsafe impl crate::abi::Pod for Termios2 {}

/// B38400's speed.
const SPEED: u32 = 38400;

/// An ioctl on either end of `term` (`master`) by task `t`.
pub fn ioctl(t: &Task, term: &Arc<Terminal>, master: bool, cmd: u32, arg: u64) -> Result<u64, Errno> {
    if !master && term.lock().hung_up {
        return Err(if cmd == TIOCSPGRP { Errno::ENOTTY } else { Errno::EIO });
    }
    let mm = t.mm();
    match cmd {
        TCGETS => {
            let tio = term.lock().ld.termios;
            mm.copy_out_obj(arg, &tio)?;
        }
        TCGETS2 => {
            let tio = term.lock().ld.termios;
            mm.copy_out_obj(arg, &Termios2 { t: tio, ispeed: SPEED, ospeed: SPEED })?;
        }
        TCSETS | TCSETSW | TCSETSF | TCSETS2 | TCSETSW2 | TCSETSF2 => {
            if !master {
                job_control(term, libc::SIGTTOU)?;
            }
            let tio = if matches!(cmd, TCSETS | TCSETSW | TCSETSF) {
                mm.copy_in_obj::<Termios>(arg)?
            } else {
                mm.copy_in_obj::<Termios2>(arg)?.t
            };
            let mut s = term.lock();
            if cmd == TCSETSF || cmd == TCSETSF2 {
                s.ld.flush_input();
            }
            s.ld.set_termios(tio);
            drop(s);
            term.wake();
        }
        TIOCGWINSZ => {
            let ws = term.lock().winsize;
            mm.copy_out_obj(arg, &ws)?;
        }
        TIOCSWINSZ => {
            let ws: Winsize = mm.copy_in_obj(arg)?;
            term.resize(ws);
        }
        FIONREAD => {
            let s = term.lock();
            let n = if master { s.ld.output.len() } else { s.ld.readable() };
            drop(s);
            mm.copy_out_obj(arg, &(n as i32))?;
        }
        TIOCOUTQ => {
            let n = if master { 0 } else { term.lock().ld.output.len() };
            mm.copy_out_obj(arg, &(n as i32))?;
        }
        TCFLSH => {
            if !master {
                job_control(term, libc::SIGTTOU)?;
            }
            // From the master, its input is the replica's output.
            let (input, output) = match arg {
                0 => (true, false),
                1 => (false, true),
                2 => (true, true),
                _ => return Err(Errno::EINVAL),
            };
            let (input, output) = if master { (output, input) } else { (input, output) };
            let mut s = term.lock();
            if input {
                s.ld.flush_input();
            }
            if output {
                s.ld.output.clear();
            }
            drop(s);
            term.wake();
        }
        TCXONC => {
            let mut s = term.lock();
            match arg {
                0 => s.ld.stopped = true,
                1 => s.ld.stopped = false,
                2 | 3 => {}
                _ => return Err(Errno::EINVAL),
            }
            drop(s);
            term.wake();
        }
        TCSBRK | TCSBRKP | TIOCSBRK | TIOCCBRK | TIOCEXCL | TIOCNXCL => {}
        TIOCGEXCL | TIOCGETD => mm.copy_out_obj(arg, &0i32)?,
        TIOCSETD => {
            if mm.copy_in_obj::<i32>(arg)? != 0 {
                return Err(Errno::EINVAL);
            }
        }
        TIOCGDEV => {
            let (major, minor) = if master { (5, 2) } else { (PTS_MAJOR, term.index) };
            // new_encode_dev: dev_t's layout for majors below 4096.
            let dev = dev_make(major, minor) as u32;
            mm.copy_out_obj(arg, &dev)?;
        }
        TIOCSTI => {
            if !t.creds.capable(crate::auth::CAP_SYS_ADMIN) {
                return Err(Errno::EPERM);
            }
            let c: u8 = mm.copy_in_obj(arg)?;
            let mut sigs = Vec::new();
            let fg = {
                let mut s = term.lock();
                s.ld.receive(&[c], &mut sigs);
                s.fg_pgrp
            };
            term.wake();
            if let Some(pg) = fg {
                for sig in sigs {
                    term.signal_group(pg, sig);
                }
            }
        }
        TIOCGPTN | TIOCSPTLCK | TIOCGPTLCK | TIOCPKT | TIOCGPKT if master => {
            let mut s = term.lock();
            match cmd {
                TIOCGPTN => mm.copy_out_obj(arg, &term.index)?,
                TIOCSPTLCK => s.locked = mm.copy_in_obj::<i32>(arg)? != 0,
                TIOCGPTLCK => mm.copy_out_obj(arg, &(s.locked as i32))?,
                TIOCPKT => s.packet = mm.copy_in_obj::<i32>(arg)? != 0,
                _ => mm.copy_out_obj(arg, &(s.packet as i32))?,
            }
        }
        TIOCSCTTY | TIOCNOTTY | TIOCGPGRP | TIOCSPGRP | TIOCGSID => return job_ioctl(t, term, master, cmd, arg),
        // Only a master has a peer (ptm_open_peer's driver check).
        TIOCGPTPEER => return Err(Errno::EIO),
        _ => return Err(Errno::ENOTTY),
    }
    Ok(0)
}

/// The controlling-terminal and process-group ioctls. On the master they
/// act on the replica's session without the caller needing it as its
/// controlling terminal, as Linux's tty_pair_get_tty does.
fn job_ioctl(t: &Task, term: &Arc<Terminal>, master: bool, cmd: u32, arg: u64) -> Result<u64, Errno> {
    let ttys = term.ttys().ok_or(Errno::EIO)?;
    let (pid, pgid, sid) = {
        let tree = t.kernel.tasks.read();
        let p = tree.procs.get(&t.tg.pid).ok_or(Errno::ESRCH)?;
        (t.tg.pid, p.pgid, p.sid)
    };
    let mine = term.lock().session == Some(sid);
    match cmd {
        TIOCSCTTY => {
            if mine {
                return Ok(0);
            }
            if pid != sid || ttys.controlling(sid).is_some() {
                return Err(Errno::EPERM);
            }
            let steal = arg == 1 && t.creds.capable(crate::auth::CAP_SYS_ADMIN);
            let other = term.lock().session;
            if let Some(o) = other {
                if !steal {
                    return Err(Errno::EPERM);
                }
                ttys.clear_controlling(o);
            }
            let mut s = term.lock();
            s.session = Some(sid);
            s.fg_pgrp = Some(pgid);
            drop(s);
            ttys.set_controlling(sid, term);
            Ok(0)
        }
        TIOCNOTTY => {
            if !mine || master {
                return Err(Errno::ENOTTY);
            }
            if pid == sid {
                ttys.session_ended(sid, false);
            }
            Ok(0)
        }
        TIOCGPGRP => {
            if !master && !mine {
                return Err(Errno::ENOTTY);
            }
            let fg = term.lock().fg_pgrp.unwrap_or(0);
            t.mm().copy_out_obj(arg, &fg)?;
            Ok(0)
        }
        TIOCGSID => {
            if !master && !mine {
                return Err(Errno::ENOTTY);
            }
            let s = term.lock().session.ok_or(Errno::ENOTTY)?;
            t.mm().copy_out_obj(arg, &s)?;
            Ok(0)
        }
        _ => {
            // TIOCSPGRP.
            if !mine {
                return Err(Errno::ENOTTY);
            }
            if !master {
                job_control(term, libc::SIGTTOU)?;
            }
            let want: i32 = t.mm().copy_in_obj(arg)?;
            if want < 0 {
                return Err(Errno::EINVAL);
            }
            let tree = t.kernel.tasks.read();
            let in_session = tree.procs.values().any(|p| p.pgid == want && p.sid == sid && p.zombie.is_none());
            if !in_session {
                return Err(if tree.group_exists(want) { Errno::EPERM } else { Errno::ESRCH });
            }
            term.lock().fg_pgrp = Some(want);
            Ok(0)
        }
    }
}
