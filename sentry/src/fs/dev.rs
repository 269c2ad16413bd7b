//! The sandbox's /dev: null, zero, full, random, urandom, console (the
//! host console), tty (the controlling terminal), ptmx (a link to pts/ptmx), the fd and stdio
//! links, and the mount points of /dev/pts, /dev/shm and /dev/mqueue.

use std::sync::Arc;

use crate::abi::{dev_make, Errno, Stat};
use crate::fs::synthetic::{next_ino, synth_stat, ChildList, SynthDir, SynthLink};
use crate::vfs::{FileOps, FileType, Inode, OffsetMode};

/// Which memory device.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemDev {
    /// /dev/null (1,3).
    Null,
    /// /dev/zero (1,5).
    Zero,
    /// /dev/full (1,7).
    Full,
    /// /dev/random (1,8).
    Random,
    /// /dev/urandom (1,9).
    Urandom,
}

impl MemDev {
    fn minor(self) -> u32 {
        match self {
            MemDev::Null => 3,
            MemDev::Zero => 5,
            MemDev::Full => 7,
            MemDev::Random => 8,
            MemDev::Urandom => 9,
        }
    }
}

/// A character device node.
pub struct MemDevInode {
    dev: MemDev,
    ino: u64,
}

impl MemDevInode {
    fn stat_now(&self) -> Stat {
        let mut st = synth_stat(self.ino, libc::S_IFCHR | 0o666, 0, 0, 0);
        st.rdev = dev_make(1, self.dev.minor());
        st
    }
}

impl Inode for MemDevInode {
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat_now())
    }
    fn file_type(&self) -> FileType {
        FileType::CharDevice
    }
    fn open(&self, _flags: u32) -> Result<Arc<dyn FileOps>, Errno> {
        Ok(Arc::new(MemDevOps { dev: self.dev, stat: self.stat_now() }))
    }
}

/// An open memory device.
pub struct MemDevOps {
    dev: MemDev,
    stat: Stat,
}

/// Fills `buf` with random bytes from the host.
pub fn fill_random(buf: &mut [u8]) -> Result<usize, Errno> {
    let mut done = 0;
    while done < buf.len() {
        // SAFETY: the slice is writable for its length.
        let r = unsafe { libc::getrandom(buf[done..].as_mut_ptr().cast(), buf.len() - done, 0) };
        if r < 0 {
            let e = Errno::last_host();
            if e == Errno::EINTR {
                continue;
            }
            return if done > 0 { Ok(done) } else { Err(e) };
        }
        done += r as usize;
    }
    Ok(done)
}

impl FileOps for MemDevOps {
    fn read(&self, buf: &mut [u8], _off: u64) -> Result<usize, Errno> {
        match self.dev {
            MemDev::Null => Ok(0),
            MemDev::Zero | MemDev::Full => {
                buf.fill(0);
                Ok(buf.len())
            }
            MemDev::Random | MemDev::Urandom => fill_random(buf),
        }
    }
    fn write(&self, buf: &[u8], _off: u64) -> Result<usize, Errno> {
        match self.dev {
            MemDev::Full => Err(Errno::ENOSPC),
            _ => Ok(buf.len()),
        }
    }
    fn stat(&self) -> Result<Stat, Errno> {
        Ok(self.stat)
    }
    fn offset_mode(&self) -> OffsetMode {
        // Linux accepts and ignores offsets on the memory devices.
        OffsetMode::Noop
    }

    fn discards(&self) -> bool {
        self.dev == MemDev::Null
    }
}

/// Builds the /dev directory; its terminal nodes are those of `ttys`.
pub fn new_devfs(ttys: Arc<crate::fs::tty::Ttys>) -> Arc<SynthDir> {
    let devs: Vec<(Vec<u8>, Arc<dyn Inode>)> = [
        ("null", MemDev::Null),
        ("zero", MemDev::Zero),
        ("full", MemDev::Full),
        ("random", MemDev::Random),
        ("urandom", MemDev::Urandom),
    ]
    .into_iter()
    .map(|(n, d)| (n.as_bytes().to_vec(), Arc::new(MemDevInode { dev: d, ino: next_ino() }) as Arc<dyn Inode>))
    .collect();
    let links: Vec<(Vec<u8>, Arc<dyn Inode>)> = [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ]
    .into_iter()
    .map(|(n, t)| (n.as_bytes().to_vec(), SynthLink::new(move || Ok(t.as_bytes().to_vec())) as Arc<dyn Inode>))
    .collect();
    let console: (Vec<u8>, Arc<dyn Inode>) =
        (b"console".to_vec(), Arc::new(crate::fs::tty::console::ConsoleInode { ttys: ttys.clone(), ino: next_ino() }));
    let tty: (Vec<u8>, Arc<dyn Inode>) =
        (b"tty".to_vec(), Arc::new(crate::fs::tty::devpts::TtyInode { ttys, ino: next_ino() }));
    // The mount points of /dev/shm, /dev/pts and /dev/mqueue.
    let shm: (Vec<u8>, Arc<dyn Inode>) = (b"shm".to_vec(), SynthDir::new(0o1777, false, Vec::new));
    let pts: (Vec<u8>, Arc<dyn Inode>) = (b"pts".to_vec(), SynthDir::new(0o755, false, Vec::new));
    let mq: (Vec<u8>, Arc<dyn Inode>) = (b"mqueue".to_vec(), SynthDir::new(0o1777, false, Vec::new));
    let all: ChildList = devs.into_iter().chain(links).chain([console, tty, shm, pts, mq]).collect();
    SynthDir::new(0o755, false, move || all.clone())
}
