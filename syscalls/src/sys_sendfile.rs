//! sendfile and copy_file_range: copies between files through a sentry
//! buffer.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};
use sentry::vfs::File;

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// Bytes moved per step.
const CHUNK: usize = 64 * 1024;

/// Moves up to `count` bytes from `input` to `output` through a sentry
/// buffer, at the given offsets (advanced) or the files' own. An error
/// after some bytes moved ends the copy short; bytes read but not written
/// are given back to an input read at its own offset.
fn copy_between(
    input: &File,
    in_off: &mut Option<u64>,
    output: &File,
    out_off: &mut Option<u64>,
    count: usize,
) -> Result<usize, Errno> {
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(buf.len());
        let got = match *in_off {
            Some(o) => input.pread(&mut buf[..want], o),
            None => input.read(&mut buf[..want]),
        };
        let got = match got {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e),
            Err(_) => break,
        };
        let mut written = 0;
        while written < got {
            let r = match *out_off {
                Some(o) => output.pwrite(&buf[written..got], o + written as u64),
                None => output.write(&buf[written..got]),
            };
            match r {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if done + written == 0 => return Err(e),
                Err(_) => break,
            }
        }
        done += written;
        match in_off.as_mut() {
            Some(o) => *o += written as u64,
            None if written < got => {
                let _ = input.seek(written as i64 - got as i64, libc::SEEK_CUR);
            }
            None => {}
        }
        if let Some(o) = out_off.as_mut() {
            *o += written as u64;
        }
        if written < got {
            break;
        }
    }
    Ok(done)
}

/// sendfile(2).
pub fn sendfile(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (out_fd, in_fd, off_addr, count) = (a.a[0] as i32, a.a[1] as i32, a.a[2], a.a[3]);
    let input = t.file(in_fd)?;
    let output = t.file(out_fd)?;
    if !input.readable() || !output.writable() {
        return Err(Errno::EBADF.into());
    }
    if output.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EINVAL.into());
    }
    // Directories cannot be spliced from.
    if input.stat().is_ok_and(|s| s.mode & libc::S_IFMT == libc::S_IFDIR) {
        return Err(Errno::EINVAL.into());
    }
    let mut offset = if off_addr != 0 {
        let off: i64 = t.copy_in(off_addr)?;
        if off < 0 {
            return Err(Errno::EINVAL.into());
        }
        if !input.ops.positional() {
            return Err(Errno::ESPIPE.into());
        }
        Some(off as u64)
    } else {
        None
    };
    let done = copy_between(&input, &mut offset, &output, &mut None, count.min(MAX_RW) as usize)?;
    if let Some(o) = offset {
        t.copy_out(off_addr, &(o as i64))?;
    }
    Ok(done as u64)
}

/// copy_file_range(2): between regular files, through a sentry buffer;
/// offsets given by pointer are used and updated instead of the files'
/// own. The same file with overlapping ranges is EINVAL.
pub fn copy_file_range(t: &mut Task, a: &SyscallArgs) -> SyscallResult {
    let (in_fd, in_off_addr, out_fd, out_off_addr, len, flags) =
        (a.a[0] as i32, a.a[1], a.a[2] as i32, a.a[3], a.a[4], a.a[5]);
    if flags != 0 {
        return Err(Errno::EINVAL.into());
    }
    let input = t.file(in_fd)?;
    let output = t.file(out_fd)?;
    if !input.readable() || !output.writable() || output.flags() & libc::O_APPEND as u32 != 0 {
        return Err(Errno::EBADF.into());
    }
    for f in [&input, &output] {
        match f.stat()?.mode & libc::S_IFMT {
            libc::S_IFREG => {}
            libc::S_IFDIR => return Err(Errno::EISDIR.into()),
            _ => return Err(Errno::EINVAL.into()),
        }
    }
    let read_off = |addr: u64| -> Result<Option<u64>, Errno> {
        if addr == 0 {
            return Ok(None);
        }
        let off: i64 = t.copy_in(addr)?;
        if off < 0 {
            // generic_copy_file_checks: pos + count must not wrap.
            return Err(Errno::EOVERFLOW);
        }
        Ok(Some(off as u64))
    };
    let mut in_off = read_off(in_off_addr)?;
    let mut out_off = read_off(out_off_addr)?;
    let len = len.min(MAX_RW);
    if len == 0 {
        return Ok(0);
    }
    let start_in = in_off.unwrap_or_else(|| input.position());
    let start_out = out_off.unwrap_or_else(|| output.position());
    if start_in.checked_add(len).is_none_or(|e| e > i64::MAX as u64)
        || start_out.checked_add(len).is_none_or(|e| e > i64::MAX as u64)
    {
        return Err(Errno::EOVERFLOW.into());
    }
    let same = match (input.lock_key(), output.lock_key()) {
        (Some(a), Some(b)) => a == b,
        _ => std::sync::Arc::ptr_eq(&input, &output),
    };
    if same && start_in < start_out + len && start_out < start_in + len {
        return Err(Errno::EINVAL.into());
    }
    let done = copy_between(&input, &mut in_off, &output, &mut out_off, len as usize)?;
    if let Some(o) = in_off {
        t.copy_out(in_off_addr, &(o as i64))?;
    }
    if let Some(o) = out_off {
        t.copy_out(out_off_addr, &(o as i64))?;
    }
    Ok(done as u64)
}
