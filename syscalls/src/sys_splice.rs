//! splice, tee and vmsplice: bytes into, out of and between pipes.
//!
//! Between two pipes the bytes move under both pipes' locks
//! (`sentry::fs::pipe::transfer`). To and from other files they pass
//! through a sentry buffer: into a pipe, at most the room the pipe has is
//! read from the file; out of a pipe, what the file does not take is put
//! back at the pipe's front. Blocking follows Linux: SPLICE_F_NONBLOCK,
//! or O_NONBLOCK on a pipe the call uses (not for vmsplice), makes the
//! pipe side EAGAIN; a socket blocks as its own flags say.

use std::sync::Arc;

use sentry::abi::poll::{READ_EVENTS, WRITE_EVENTS};
use sentry::abi::{Errno, Iovec};
use sentry::fs::pipe::{transfer, PipeEnd, Transfer};
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

use crate::sys_pipe::pipe_of;
use crate::sys_read_write::{iovecs, raise_sigpipe};

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// SPLICE_F_NONBLOCK.
const NONBLOCK: u32 = 2;
/// SPLICE_F_MOVE | SPLICE_F_NONBLOCK | SPLICE_F_MORE | SPLICE_F_GIFT.
const ALL_FLAGS: u32 = 0xf;

/// EPIPE raises SIGPIPE, as Linux's pipe and socket paths do.
fn pipe_error(t: &Task, e: Errno) -> Errno {
    if e == Errno::EPIPE {
        raise_sigpipe(t);
    }
    e
}

/// Reads an `loff_t` argument: EFAULT if unreadable.
fn read_offset(t: &Task, addr: u64) -> Result<Option<i64>, Errno> {
    if addr == 0 {
        return Ok(None);
    }
    Ok(Some(t.copy_in::<i64>(addr)?))
}

/// The offset a splice uses on a non-pipe file (rw_verify_area): the one
/// given, which the file must take (EINVAL if it is a stream), or the
/// file's own; negative is EINVAL.
fn file_offset(f: &File, given: Option<i64>) -> Result<Option<u64>, Errno> {
    let Some(off) = given else {
        return Ok(None);
    };
    if !f.ops.positional() || off < 0 {
        return Err(Errno::EINVAL);
    }
    Ok(Some(off as u64))
}

/// Pipe to pipe (splice with `consume`, or tee), waiting for input and
/// room unless `nonblock`.
fn between_pipes(
    t: &Task,
    input: &Arc<File>,
    output: &Arc<File>,
    len: usize,
    nonblock: bool,
    consume: bool,
) -> Result<usize, Errno> {
    let (Some(ip), Some(op)) = (pipe_of(input), pipe_of(output)) else {
        return Err(Errno::EINVAL);
    };
    loop {
        let wait = match transfer(ip, op, len, consume).map_err(|e| pipe_error(t, e))? {
            Transfer::Moved(n) => return Ok(n),
            Transfer::InputEmpty => (input, READ_EVENTS),
            Transfer::OutputFull => (output, WRITE_EVENTS),
        };
        if nonblock {
            return Err(Errno::EAGAIN);
        }
        t.wait_ready(wait.0, wait.1, None)?;
    }
}

/// The room in pipe `p` (open as `f`), waiting until there is some unless
/// `nonblock` (EAGAIN); EPIPE with SIGPIPE if no reader is left (Linux's
/// wait_for_space).
fn wait_for_room(t: &Task, f: &File, p: &PipeEnd, nonblock: bool) -> Result<usize, Errno> {
    loop {
        match p.room().map_err(|e| pipe_error(t, e))? {
            0 if nonblock => return Err(Errno::EAGAIN),
            0 => t.wait_ready(f, WRITE_EVENTS, None)?,
            n => return Ok(n),
        }
    }
}

/// A file into a pipe: waits for room in the pipe, then reads at most
/// that much from the file (waiting for data on a blocking stream).
fn file_to_pipe(
    t: &Task,
    input: &File,
    off: &mut Option<u64>,
    output: &File,
    op: &PipeEnd,
    len: usize,
    nonblock: bool,
) -> Result<usize, Errno> {
    let room = wait_for_room(t, output, op, nonblock)?;
    let mut buf = vec![0u8; len.min(room)];
    let n = loop {
        let r = match *off {
            Some(o) => input.pread(&mut buf, o),
            None => input.read(&mut buf),
        };
        match r {
            Err(Errno::EAGAIN) if !nonblock && !input.nonblocking() && input.ops.wait_queue().is_some() => {
                t.wait_ready(input, READ_EVENTS, None)?
            }
            Err(Errno::EISDIR) => return Err(Errno::EINVAL),
            r => break r?,
        }
    };
    op.push(&buf[..n]);
    if let Some(o) = off.as_mut() {
        *o += n as u64;
    }
    Ok(n)
}

/// A pipe into a file: waits for data in the pipe, then writes all of it
/// that the file takes; the rest goes back into the pipe.
fn pipe_to_file(
    t: &Task,
    input: &File,
    ip: &PipeEnd,
    output: &File,
    off: &mut Option<u64>,
    len: usize,
    nonblock: bool,
) -> Result<usize, Errno> {
    let data = loop {
        match ip.take(len) {
            Err(Errno::EAGAIN) if !nonblock => t.wait_ready(input, READ_EVENTS, None)?,
            r => break r?,
        }
    };
    let stream_blocks = !nonblock && !output.nonblocking() && output.ops.wait_queue().is_some();
    let mut written = 0;
    let mut failed = None;
    while written < data.len() {
        let r = match *off {
            Some(o) => output.pwrite(&data[written..], o + written as u64),
            None => output.write(&data[written..]),
        };
        match r {
            Ok(0) => break,
            Ok(n) => written += n,
            Err(Errno::EAGAIN) if stream_blocks => {
                if let Err(e) = t.wait_ready(output, WRITE_EVENTS, None) {
                    failed = Some(e);
                    break;
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    ip.unread(&data[written..]);
    if let Some(o) = off.as_mut() {
        *o += written as u64;
    }
    match failed {
        Some(e) if written == 0 => Err(pipe_error(t, e)),
        _ => Ok(written),
    }
}

/// splice(2).
pub fn splice(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (in_fd, in_addr, out_fd, out_addr, len, flags) =
        (a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3], a.a[4], a.a[5] as u32);
    if len == 0 {
        return Ok(0);
    }
    if flags & !ALL_FLAGS != 0 {
        return Err(Errno::EINVAL.into());
    }
    let input = t.file(in_fd)?;
    let output = t.file(out_fd)?;
    let (ip, op) = (pipe_of(&input), pipe_of(&output));
    if (ip.is_some() && in_addr != 0) || (op.is_some() && out_addr != 0) {
        return Err(Errno::ESPIPE.into());
    }
    let out_given = read_offset(t, out_addr)?;
    let in_given = read_offset(t, in_addr)?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF.into());
    }
    let len = len.min(MAX_RW) as usize;
    let mut nonblock = flags & NONBLOCK != 0;
    match (ip, op) {
        (Some(ip), Some(op)) => {
            if std::ptr::eq(ip.pipe().as_ref(), op.pipe().as_ref()) {
                return Err(Errno::EINVAL.into());
            }
            nonblock |= input.nonblocking() || output.nonblocking();
            Ok(between_pipes(t, &input, &output, len, nonblock, true)? as u64)
        }
        (Some(ip), None) => {
            let mut off = file_offset(&output, out_given)?;
            if output.flags() & libc::O_APPEND as u32 != 0 {
                return Err(Errno::EINVAL.into());
            }
            nonblock |= input.nonblocking();
            let n = pipe_to_file(t, &input, ip, &output, &mut off, len, nonblock)?;
            if let Some(o) = off {
                t.copy_out(out_addr, &(o as i64))?;
            }
            Ok(n as u64)
        }
        (None, Some(op)) => {
            let mut off = file_offset(&input, in_given)?;
            let mode = input.stat()?.mode & libc::S_IFMT;
            // Directories and anonymous files (eventfd, epoll...) have no
            // splice_read.
            if mode == libc::S_IFDIR || mode == 0 {
                return Err(Errno::EINVAL.into());
            }
            nonblock |= output.nonblocking();
            let n = file_to_pipe(t, &input, &mut off, &output, op, len, nonblock)?;
            if let Some(o) = off {
                t.copy_out(in_addr, &(o as i64))?;
            }
            Ok(n as u64)
        }
        (None, None) => Err(Errno::EINVAL.into()),
    }
}

/// tee(2): copies between two pipes without consuming the input.
pub fn tee(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (in_fd, out_fd, len, flags) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3] as u32);
    if flags & !ALL_FLAGS != 0 {
        return Err(Errno::EINVAL.into());
    }
    if len == 0 {
        return Ok(0);
    }
    let input = t.file(in_fd)?;
    let output = t.file(out_fd)?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF.into());
    }
    let nonblock = flags & NONBLOCK != 0 || input.nonblocking() || output.nonblocking();
    let len = len.min(MAX_RW) as usize;
    Ok(between_pipes(t, &input, &output, len, nonblock, false)? as u64)
}

/// vmsplice(2): application memory into a pipe opened for writing, or out
/// of one opened only for reading. Only SPLICE_F_NONBLOCK makes it not
/// wait (Linux ignores the pipe's O_NONBLOCK here).
pub fn vmsplice(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (fd, iov_addr, count, flags) = (a.a[0] as i32, a.a[1], a.a[2], a.a[3] as u32);
    if flags & !ALL_FLAGS != 0 {
        return Err(Errno::EINVAL.into());
    }
    let f = t.file(fd)?;
    let into_pipe = f.writable();
    if !into_pipe && !f.readable() {
        return Err(Errno::EBADF.into());
    }
    let iovs = iovecs(t, iov_addr, count)?;
    let total: usize = iovs.iter().map(|v| v.len as usize).sum();
    if total == 0 {
        return Ok(0);
    }
    let Some(p) = pipe_of(&f) else {
        return Err(Errno::EBADF.into());
    };
    let nonblock = flags & NONBLOCK != 0;
    if into_pipe {
        Ok(memory_to_pipe(t, &f, p, &iovs, total, nonblock)? as u64)
    } else {
        Ok(pipe_to_memory(t, &f, p, &iovs, total, nonblock)? as u64)
    }
}

/// vmsplice into a pipe: waits for room once, then puts in what fits.
fn memory_to_pipe(
    t: &Task,
    f: &File,
    p: &PipeEnd,
    iovs: &[Iovec],
    total: usize,
    nonblock: bool,
) -> Result<usize, Errno> {
    let room = wait_for_room(t, f, p, nonblock)?;
    let want = total.min(room);
    let mut data = Vec::with_capacity(want);
    for v in iovs {
        let left = want - data.len();
        if left == 0 {
            break;
        }
        let len = (v.len as usize).min(left);
        let r = t.mm().io_from(v.base, len as u64, |b| {
            data.extend_from_slice(b);
            Ok(b.len())
        });
        match r {
            Ok(n) if n == len => {}
            Ok(_) => break,
            Err(e) if data.is_empty() => return Err(e),
            Err(_) => break,
        }
    }
    p.push(&data);
    Ok(data.len())
}

/// vmsplice out of a pipe: waits for data, then fills the buffers with
/// what there is; what a bad buffer cannot take stays in the pipe.
fn pipe_to_memory(
    t: &Task,
    f: &File,
    p: &PipeEnd,
    iovs: &[Iovec],
    total: usize,
    nonblock: bool,
) -> Result<usize, Errno> {
    let data = loop {
        match p.take(total) {
            Err(Errno::EAGAIN) if !nonblock => t.wait_ready(f, READ_EVENTS, None)?,
            r => break r?,
        }
    };
    let mut done = 0;
    let mut fault = None;
    for v in iovs {
        if done == data.len() {
            break;
        }
        let len = (v.len as usize).min(data.len() - done);
        let mut at = done;
        let r = t.mm().io_into(v.base, len as u64, |b| {
            b.copy_from_slice(&data[at..at + b.len()]);
            at += b.len();
            Ok(b.len())
        });
        match r {
            Ok(n) => {
                done += n;
                if n < len {
                    break;
                }
            }
            Err(e) => {
                fault = Some(e);
                break;
            }
        }
    }
    p.unread(&data[done..]);
    match fault {
        Some(e) if done == 0 => Err(e),
        _ => Ok(done),
    }
}
