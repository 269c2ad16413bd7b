//! sendfile: copies between files through a sentry buffer.

use sentry::abi::Errno;
use sentry::kernel::{SyscallArgs, SyscallResult, Task};

/// Linux's MAX_RW_COUNT.
const MAX_RW: u64 = 0x7fff_f000;
/// Bytes moved per step.
const CHUNK: usize = 64 * 1024;

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
    let count = count.min(MAX_RW) as usize;
    let mut buf = vec![0u8; count.min(CHUNK)];
    let mut done = 0usize;
    while done < count {
        let want = (count - done).min(buf.len());
        let got = match offset {
            Some(o) => input.pread(&mut buf[..want], o),
            None => input.read(&mut buf[..want]),
        };
        let got = match got {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if done == 0 => return Err(e.into()),
            Err(_) => break,
        };
        let mut written = 0;
        while written < got {
            match output.write(&buf[written..got]) {
                Ok(0) => break,
                Ok(n) => written += n,
                Err(e) if done + written == 0 => return Err(e.into()),
                Err(_) => break,
            }
        }
        done += written;
        if let Some(o) = offset.as_mut() {
            *o += written as u64;
        }
        if written < got {
            // Give back what was read but not sent, so the input's offset
            // counts only the bytes transferred.
            if offset.is_none() {
                let _ = input.seek(written as i64 - got as i64, libc::SEEK_CUR);
            }
            break;
        }
    }
    if let Some(o) = offset {
        t.copy_out(off_addr, &(o as i64))?;
    }
    Ok(done as u64)
}
