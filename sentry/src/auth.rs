//! Credentials: user and group ids of a task. A low module that vfs, mm and
//! the kernel all use (vfs checks permissions with them; it never imports
//! the kernel).

/// User and group ids (real, effective, saved, filesystem) and groups.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    /// Real uid.
    pub uid: u32,
    /// Effective uid.
    pub euid: u32,
    /// Saved uid.
    pub suid: u32,
    /// Filesystem uid.
    pub fsuid: u32,
    /// Real gid.
    pub gid: u32,
    /// Effective gid.
    pub egid: u32,
    /// Saved gid.
    pub sgid: u32,
    /// Filesystem gid.
    pub fsgid: u32,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Credentials with every id set to `uid`/`gid`.
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        Credentials { uid, euid: uid, suid: uid, fsuid: uid, gid, egid: gid, sgid: gid, fsgid: gid, groups }
    }

    /// Whether `gid` is the filesystem gid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }
}
