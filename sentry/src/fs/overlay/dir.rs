//! Overlay directories: listings merged from the layers (upper first,
//! whiteouts hiding lower names, opaque directories hiding the whole lower
//! directory).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::abi::Errno;
use crate::fs::overlay::{is_whiteout, lock, OvInode, UPPER_INO_BASE};
use crate::vfs::{DirEntry, Inode};

fn is_dot(name: &[u8]) -> bool {
    name == b"." || name == b".."
}

/// The lower directory's entries (without `.` and `..`).
fn lower_entries(n: &OvInode) -> Result<Vec<DirEntry>, Errno> {
    if !n.merges_lower() {
        return Ok(Vec::new());
    }
    let Some(l) = &n.lower else { return Ok(Vec::new()) };
    let f = l.open((libc::O_RDONLY | libc::O_DIRECTORY) as u32)?;
    let mut v = f.readdir()?;
    v.retain(|e| !is_dot(&e.name));
    Ok(v)
}

/// The merged listing, with `.` and `..`.
pub fn merged(n: &OvInode) -> Result<Vec<DirEntry>, Errno> {
    let parent_ino = lock(&n.place).as_ref().map_or(n.ino, |(p, _)| p.ino);
    let mut out = vec![
        DirEntry { ino: n.ino, typ: libc::DT_DIR, name: b".".to_vec() },
        DirEntry { ino: parent_ino, typ: libc::DT_DIR, name: b"..".to_vec() },
    ];
    let lower = lower_entries(n)?;
    let lower_ino: HashMap<&[u8], u64> = lower.iter().map(|e| (e.name.as_slice(), e.ino)).collect();
    let mut seen: HashSet<Vec<u8>> = HashSet::new();
    if let Some(u) = n.upper() {
        let renumber = lock(&n.fs.renumber);
        let merging = !lower.is_empty();
        let entries = u.readdir()?;
        out.reserve(entries.len());
        for e in entries {
            if is_dot(&e.name) {
                continue;
            }
            if merging {
                seen.insert(e.name.clone());
            }
            if e.typ == libc::DT_CHR && u.lookup(&e.name).is_ok_and(|c| is_whiteout(&c)) {
                continue;
            }
            let ino = renumber
                .get(&e.ino)
                .copied()
                .or_else(|| if merging { lower_ino.get(e.name.as_slice()).copied() } else { None })
                .unwrap_or(e.ino + UPPER_INO_BASE);
            out.push(DirEntry { ino, typ: e.typ, name: e.name });
        }
    }
    for e in lower {
        if !seen.contains(&e.name) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Whether the merged directory has no entries but `.` and `..`.
pub fn is_empty(n: &OvInode) -> Result<bool, Errno> {
    Ok(merged(n)?.len() <= 2)
}

/// Removes the whiteouts in an upper directory about to be removed.
pub fn clear_whiteouts(u: &Arc<dyn Inode>) -> Result<(), Errno> {
    for e in u.readdir()? {
        if e.typ == libc::DT_CHR && u.lookup(&e.name).is_ok_and(|c| is_whiteout(&c)) {
            u.unlink(&e.name, false)?;
        }
    }
    Ok(())
}
