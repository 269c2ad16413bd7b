//! Path walk: component by component, with `.` and `..`, mount crossings,
//! symbolic links (at most 40), trailing slashes and permission checks.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::abi::{Errno, Stat};
use crate::auth::Credentials;
use crate::vfs::{FileType, Location};

/// Longest path component.
pub const NAME_MAX: usize = 255;
/// Most symbolic links followed in one walk.
pub const MAX_SYMLINKS: u32 = 40;

/// A task's filesystem context: root, working directory, umask.
#[derive(Clone)]
pub struct FsContext {
    /// The root directory.
    pub root: Location,
    /// The working directory.
    pub cwd: Location,
    /// The umask.
    pub umask: u32,
}

/// A filesystem context that tasks share (CLONE_FS) or copy.
pub struct FsState {
    inner: Mutex<FsContext>,
}

impl FsState {
    /// A new context.
    pub fn new(ctx: FsContext) -> Arc<FsState> {
        Arc::new(FsState { inner: Mutex::new(ctx) })
    }

    /// Locks the context.
    pub fn lock(&self) -> MutexGuard<'_, FsContext> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The root directory.
    pub fn root(&self) -> Location {
        self.lock().root.clone()
    }

    /// The working directory.
    pub fn cwd(&self) -> Location {
        self.lock().cwd.clone()
    }

    /// The umask.
    pub fn umask(&self) -> u32 {
        self.lock().umask
    }

    /// A private copy (clone without CLONE_FS).
    pub fn copy(&self) -> Arc<FsState> {
        FsState::new(self.lock().clone())
    }
}

/// Permission bits.
pub const MAY_READ: u32 = 4;
/// Write permission.
pub const MAY_WRITE: u32 = 2;
/// Execute/search permission.
pub const MAY_EXEC: u32 = 1;

/// Whether `creds` may access a file with metadata `st` for `mask`
/// (generic_permission: owner, group, other bits; root overrides all but
/// exec of a file with no exec bit).
pub fn may_access(st: &Stat, creds: &Credentials, mask: u32) -> bool {
    let bits = if st.uid == creds.fsuid {
        st.mode >> 6
    } else if creds.in_group(st.gid) {
        st.mode >> 3
    } else {
        st.mode
    } & 7;
    if bits & mask == mask {
        return true;
    }
    // Linux's capable_wrt_inode_uidgid checks (generic_permission).
    let is_dir = st.mode & libc::S_IFMT == libc::S_IFDIR;
    if creds.capable(crate::auth::CAP_DAC_OVERRIDE) {
        // Execute needs some execute bit, except on directories.
        return mask & MAY_EXEC == 0 || is_dir || st.mode & 0o111 != 0;
    }
    let read_search = if is_dir { mask & !(MAY_READ | MAY_EXEC) == 0 } else { mask & !MAY_READ == 0 };
    read_search && creds.capable(crate::auth::CAP_DAC_READ_SEARCH)
}

/// How to treat the last component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Follow a final symbolic link.
    Follow,
    /// Do not follow a final symbolic link (lstat, O_NOFOLLOW, readlink).
    NoFollow,
}

/// openat2's RESOLVE_NO_XDEV: no mount crossings.
pub const RESOLVE_NO_XDEV: u64 = 0x01;
/// RESOLVE_NO_MAGICLINKS: no magic links (`/proc/PID/fd/N`).
pub const RESOLVE_NO_MAGICLINKS: u64 = 0x02;
/// RESOLVE_NO_SYMLINKS: no symbolic links at all.
pub const RESOLVE_NO_SYMLINKS: u64 = 0x04;
/// RESOLVE_BENEATH: never leave the starting directory.
pub const RESOLVE_BENEATH: u64 = 0x08;
/// RESOLVE_IN_ROOT: the starting directory is the root.
pub const RESOLVE_IN_ROOT: u64 = 0x10;
/// RESOLVE_CACHED: only what the dentry cache knows (else EAGAIN).
pub const RESOLVE_CACHED: u64 = 0x20;

/// The walker.
pub struct Walker<'a> {
    /// Root for absolute paths and the `..` limit.
    pub root: &'a Location,
    /// Credentials for search permission.
    pub creds: &'a Credentials,
    links: u32,
    /// openat2's RESOLVE_* flags (0 for every other call).
    resolve: u64,
}

impl<'a> Walker<'a> {
    /// A walker for a task.
    pub fn new(root: &'a Location, creds: &'a Credentials) -> Walker<'a> {
        Walker { root, creds, links: 0, resolve: 0 }
    }

    /// A walker with openat2's RESOLVE_* flags. For RESOLVE_BENEATH and
    /// RESOLVE_IN_ROOT, `root` is the starting directory.
    pub fn with_resolve(root: &'a Location, creds: &'a Credentials, resolve: u64) -> Walker<'a> {
        Walker { root, creds, links: 0, resolve }
    }

    fn scoped(&self) -> bool {
        self.resolve & (RESOLVE_BENEATH | RESOLVE_IN_ROOT) != 0
    }

    /// Where an absolute path or symlink starts: the root, unless
    /// RESOLVE_BENEATH forbids it (EXDEV) or RESOLVE_NO_XDEV and it is on
    /// another mount.
    fn jump_root(&self, from: &Location) -> Result<Location, Errno> {
        if self.resolve & RESOLVE_BENEATH != 0 {
            return Err(Errno::EXDEV);
        }
        if self.resolve & RESOLVE_NO_XDEV != 0 && !Arc::ptr_eq(&from.mount, &self.root.mount) {
            return Err(Errno::EXDEV);
        }
        Ok(self.root.clone())
    }

    fn parent_of(&self, cur: &Location) -> Result<Location, Errno> {
        let mut cur = cur.clone();
        loop {
            if cur.same(self.root) {
                // `..` of the root stays there, except beneath a directory.
                if self.resolve & RESOLVE_BENEATH != 0 {
                    return Err(Errno::EXDEV);
                }
                return Ok(cur);
            }
            if Arc::ptr_eq(&cur.dentry, &cur.mount.root) {
                match cur.mount.parent() {
                    Some((pm, pd)) => {
                        if self.resolve & RESOLVE_NO_XDEV != 0 {
                            return Err(Errno::EXDEV);
                        }
                        cur = Location { mount: pm, dentry: pd };
                        continue;
                    }
                    None => return Ok(cur),
                }
            }
            return Ok(match cur.dentry.parent() {
                Some(p) => Location { mount: cur.mount.clone(), dentry: p },
                None => cur,
            });
        }
    }

    fn cross_mounts(mut loc: Location) -> Location {
        while let Some(m) = crate::vfs::dentry::covering(&loc.mount, &loc.dentry) {
            loc = Location { dentry: m.root.clone(), mount: m };
        }
        loc
    }

    /// Checks that `dir` is a searchable directory.
    fn check_dir(&self, dir: &Location) -> Result<(), Errno> {
        if dir.dentry.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        let st = dir.dentry.inode.stat()?;
        if !may_access(&st, self.creds, MAY_EXEC) {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// Walks one component from the directory `dir`; `rest` are the
    /// components the walk takes after it (for a lookup that misses).
    fn step<'p>(&self, dir: &Location, name: &[u8], rest: impl Iterator<Item = &'p [u8]>) -> Result<Location, Errno> {
        self.check_dir(dir)?;
        if name == b"." {
            return Ok(dir.clone());
        }
        if name == b".." {
            return self.parent_of(dir);
        }
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        let child = if self.resolve & RESOLVE_CACHED != 0 {
            dir.dentry.cached_child(name)?.ok_or(Errno::EAGAIN)?
        } else {
            dir.dentry.child_ahead(name, rest)?
        };
        let here = Location { mount: dir.mount.clone(), dentry: child };
        if self.resolve & RESOLVE_NO_XDEV != 0 && crate::vfs::dentry::covering(&here.mount, &here.dentry).is_some() {
            return Err(Errno::EXDEV);
        }
        Ok(Self::cross_mounts(here))
    }

    /// Resolves `path` from `start`.
    pub fn walk(&mut self, start: &Location, path: &[u8], last: Lookup) -> Result<Location, Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let mut cur = if path[0] == b'/' { self.jump_root(start)? } else { start.clone() };
        let trailing_slash = path.ends_with(b"/");
        let mut comps = path.split(|&b| b == b'/').filter(|c| !c.is_empty()).peekable();
        while let Some(comp) = comps.next() {
            let is_last = comps.peek().is_none();
            let next = self.step(&cur, comp, comps.clone())?;
            if next.dentry.inode.file_type() == FileType::Symlink
                && (!is_last || last == Lookup::Follow || trailing_slash)
            {
                self.links += 1;
                if self.links > MAX_SYMLINKS {
                    return Err(Errno::ELOOP);
                }
                if let Some(magic) = next.dentry.inode.magic_link() {
                    // nd_jump_link's rules.
                    if self.resolve & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS) != 0 {
                        return Err(Errno::ELOOP);
                    }
                    let target = magic?;
                    if self.resolve & RESOLVE_NO_XDEV != 0 && !Arc::ptr_eq(&target.mount, &cur.mount) {
                        return Err(Errno::EXDEV);
                    }
                    if self.scoped() {
                        return Err(Errno::EXDEV);
                    }
                    cur = target;
                    continue;
                }
                if self.resolve & RESOLVE_NO_SYMLINKS != 0 {
                    return Err(Errno::ELOOP);
                }
                let target = next.dentry.inode.readlink()?;
                cur = self.walk(&cur, &target, Lookup::Follow)?;
                continue;
            }
            cur = next;
        }
        if trailing_slash && cur.dentry.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        Ok(cur)
    }

    /// Resolves all but the last component of `path`; returns the parent and
    /// the last name (which may be `.` or `..`, or empty for `/`).
    pub fn walk_parent(&mut self, start: &Location, path: &[u8]) -> Result<(Location, Vec<u8>), Errno> {
        if path.is_empty() {
            return Err(Errno::ENOENT);
        }
        let trimmed = {
            let mut p = path;
            while p.len() > 1 && p.ends_with(b"/") {
                p = &p[..p.len() - 1];
            }
            p
        };
        match trimmed.iter().rposition(|&b| b == b'/') {
            None => {
                let cur = start.clone();
                self.check_dir(&cur)?;
                Ok((cur, trimmed.to_vec()))
            }
            Some(0) => Ok((self.jump_root(start)?, trimmed[1..].to_vec())),
            Some(i) => {
                let parent = self.walk(start, &trimmed[..i], Lookup::Follow)?;
                self.check_dir(&parent)?;
                Ok((parent, trimmed[i + 1..].to_vec()))
            }
        }
    }
}

/// The absolute path of `loc` as seen from `root` (for getcwd and /proc).
/// Returns `None` if `loc` is not under `root`.
pub fn path_of(loc: &Location, root: &Location) -> Option<Vec<u8>> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut cur = loc.clone();
    loop {
        if cur.same(root) {
            break;
        }
        if Arc::ptr_eq(&cur.dentry, &cur.mount.root) {
            match cur.mount.parent() {
                Some((pm, pd)) => {
                    cur = Location { mount: pm, dentry: pd };
                    continue;
                }
                None => return None,
            }
        }
        parts.push(cur.dentry.name());
        match cur.dentry.parent() {
            Some(p) => cur = Location { mount: cur.mount.clone(), dentry: p },
            None => return None,
        }
    }
    let mut out = Vec::new();
    for p in parts.iter().rev() {
        out.push(b'/');
        out.extend_from_slice(p);
    }
    if out.is_empty() {
        out.push(b'/');
    }
    Some(out)
}
