//! Copy-up: giving a lower file an upper copy (data, mode, owner, times,
//! xattrs), its ancestor directories first.

use std::sync::Arc;

use crate::abi::Errno;
use crate::fs::overlay::{lock, OvInode};
use crate::vfs::inode::{NewNode, SetAttr};
use crate::vfs::{FileType, Inode};

/// How much data one read of a lower file moves.
const CHUNK: usize = 1 << 20;

/// The upper inode of `n`, copying it (and its ancestors) up if needed.
pub fn copy_up(n: &OvInode) -> Result<Arc<dyn Inode>, Errno> {
    copy_up_with(n, true)
}

/// As [`copy_up`], but without copying a regular file's data (it is about
/// to be truncated to zero).
pub fn copy_up_truncated(n: &OvInode) -> Result<Arc<dyn Inode>, Errno> {
    copy_up_with(n, false)
}

fn copy_up_with(n: &OvInode, data: bool) -> Result<Arc<dyn Inode>, Errno> {
    loop {
        if let Some(u) = n.upper() {
            return Ok(u.clone());
        }
        // The highest ancestor without an upper copy (or `n` itself when
        // its parent has one) goes first.
        let mut cur = n.arc();
        loop {
            let parent = lock(&cur.place).as_ref().map(|(p, _)| p.clone());
            match parent {
                Some(p) if p.upper().is_none() => cur = p,
                Some(_) => break,
                // The root always has an upper layer.
                None => return Err(Errno::EIO),
            }
        }
        copy_one(&cur, data || !std::ptr::eq(&*cur, n))?;
    }
}

/// Copies one inode whose parent has an upper copy.
fn copy_one(n: &OvInode, data: bool) -> Result<(), Errno> {
    let _tree = lock(&n.fs.tree);
    if n.upper().is_some() {
        return Ok(());
    }
    let (parent, name) = lock(&n.place).clone().ok_or(Errno::EIO)?;
    let pu = parent.upper().ok_or(Errno::EIO)?.clone();
    let lower = n.lower.as_ref().ok_or(Errno::EIO)?;
    let st = lower.stat()?;
    let node = NewNode {
        mode: st.mode,
        uid: st.uid,
        gid: st.gid,
        rdev: st.rdev,
        target: if n.ftype == FileType::Symlink { lower.readlink()? } else { Vec::new() },
    };
    // Another name of the same lower file was copied up: this one is a
    // link to that copy.
    if let Some(id) = n.shared {
        if let Some(u) = n.fs.shared_upper(id) {
            pu.link(&name, &u)?;
            lock(&n.fs.links).entry((id.dev, id.ino)).or_default().gone += 1;
            let _ = n.upper.set(u);
            return Ok(());
        }
    }
    let upper = match pu.create(&name, &node) {
        Ok(u) => u,
        // Made meanwhile through another name of the tree lock's holders.
        Err(Errno::EEXIST) => pu.lookup(&name)?,
        Err(e) => return Err(e),
    };
    if n.ftype == FileType::Regular && data {
        copy_data(lower, &upper)?;
    }
    if let Ok(names) = lower.listxattr() {
        for x in names {
            if let Ok(v) = lower.getxattr(&x) {
                let _ = upper.setxattr(&x, &v, 0);
            }
        }
    }
    upper.setattr(&SetAttr {
        mode: Some(st.mode & 0o7777),
        atime: Some(st.atime),
        mtime: Some(st.mtime),
        ..Default::default()
    })?;
    if let Ok(st) = upper.stat() {
        lock(&n.fs.renumber).insert(st.ino, n.ino);
    }
    if let Some(id) = n.shared {
        let mut links = lock(&n.fs.links);
        let l = links.entry((id.dev, id.ino)).or_default();
        l.upper = Some(upper.clone());
        l.gone += 1;
    }
    let _ = n.upper.set(upper);
    Ok(())
}

fn copy_data(lower: &Arc<dyn Inode>, upper: &Arc<dyn Inode>) -> Result<(), Errno> {
    let src = lower.open(libc::O_RDONLY as u32)?;
    let dst = upper.open(libc::O_WRONLY as u32)?;
    let mut buf = vec![0u8; CHUNK];
    let mut off = 0u64;
    loop {
        let n = src.read(&mut buf, off)?;
        if n == 0 {
            return Ok(());
        }
        let mut done = 0;
        while done < n {
            done += dst.write(&buf[done..n], off + done as u64)?;
        }
        off += n as u64;
    }
}
