//! Credentials: user and group ids of a task, and its capabilities. A low
//! module that vfs, mm and the kernel all use (vfs checks permissions with
//! them; it never imports the kernel).
//!
//! The id changes follow Linux's rules (kernel/sys.c), and so do their
//! effects on capabilities (security/commoncap.c): leaving uid 0 drops the
//! permitted and effective sets unless keep-caps is set, an effective uid
//! leaving 0 drops the effective set and one returning restores it, and a
//! filesystem uid leaving 0 drops the filesystem capabilities.

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
    /// Capability sets (bit N: capability N).
    pub caps: Caps,
}

/// A task's capability sets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// Effective.
    pub effective: u64,
    /// Permitted.
    pub permitted: u64,
    /// Inheritable.
    pub inheritable: u64,
    /// The bounding set.
    pub bounding: u64,
    /// Ambient.
    pub ambient: u64,
}

/// CAP_LAST_CAP on Linux 6.x (CAP_CHECKPOINT_RESTORE).
pub const CAP_LAST_CAP: u32 = 40;
/// Every capability.
pub const ALL_CAPS: u64 = (1 << (CAP_LAST_CAP + 1)) - 1;
/// CAP_CHOWN.
pub const CAP_CHOWN: u32 = 0;
/// CAP_DAC_OVERRIDE.
pub const CAP_DAC_OVERRIDE: u32 = 1;
/// CAP_DAC_READ_SEARCH.
pub const CAP_DAC_READ_SEARCH: u32 = 2;
/// CAP_FOWNER.
pub const CAP_FOWNER: u32 = 3;
/// CAP_FSETID.
pub const CAP_FSETID: u32 = 4;
/// CAP_SYS_CHROOT.
pub const CAP_SYS_CHROOT: u32 = 18;
/// CAP_MKNOD.
pub const CAP_MKNOD: u32 = 27;
/// CAP_KILL.
pub const CAP_KILL: u32 = 5;
/// CAP_SETGID.
pub const CAP_SETGID: u32 = 6;
/// CAP_SETUID.
pub const CAP_SETUID: u32 = 7;
/// CAP_SETPCAP.
pub const CAP_SETPCAP: u32 = 8;
/// CAP_SYS_ADMIN.
pub const CAP_SYS_ADMIN: u32 = 21;
/// CAP_SYS_RESOURCE.
pub const CAP_SYS_RESOURCE: u32 = 24;
/// The capabilities a filesystem uid of 0 carries (CAP_FS_MASK).
pub const CAP_FS_MASK: u64 = (1 << CAP_CHOWN)
    | (1 << CAP_DAC_OVERRIDE)
    | (1 << CAP_DAC_READ_SEARCH)
    | (1 << CAP_FOWNER)
    | (1 << CAP_FSETID)
    | (1 << 9) // CAP_LINUX_IMMUTABLE
    | (1 << 27) // CAP_MKNOD
    | (1 << 32); // CAP_MAC_OVERRIDE

impl Credentials {
    /// Credentials with every id set to `uid`/`gid`; root holds every
    /// capability, others none.
    pub fn new(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        let all = if uid == 0 { ALL_CAPS } else { 0 };
        let caps = Caps { effective: all, permitted: all, inheritable: 0, bounding: ALL_CAPS, ambient: 0 };
        Credentials { uid, euid: uid, suid: uid, fsuid: uid, gid, egid: gid, sgid: gid, fsgid: gid, groups, caps }
    }

    /// Whether the effective set has `cap`.
    pub fn capable(&self, cap: u32) -> bool {
        self.caps.effective & (1 << cap) != 0
    }

    /// Applies the capability effects of a change of uids from `old`
    /// (Linux's cap_emulate_setxuid and the fsuid fix-up); `keep`: the
    /// thread set PR_SET_KEEPCAPS.
    pub fn fix_caps_after_setuid(&mut self, old: &Credentials, keep: bool) {
        let was_root = old.uid == 0 || old.euid == 0 || old.suid == 0;
        let now_root = self.uid == 0 || self.euid == 0 || self.suid == 0;
        if was_root && !now_root {
            if !keep {
                self.caps.permitted = 0;
                self.caps.effective = 0;
            }
            self.caps.ambient = 0;
        }
        if old.euid == 0 && self.euid != 0 {
            self.caps.effective = 0;
        }
        if old.euid != 0 && self.euid == 0 {
            self.caps.effective = self.caps.permitted;
        }
        self.fix_caps_after_setfsuid(old);
    }

    /// The filesystem capabilities follow a change of fsuid to or from 0.
    pub fn fix_caps_after_setfsuid(&mut self, old: &Credentials) {
        if old.fsuid == 0 && self.fsuid != 0 {
            self.caps.effective &= !CAP_FS_MASK;
        }
        if old.fsuid != 0 && self.fsuid == 0 {
            self.caps.effective |= self.caps.permitted & CAP_FS_MASK;
        }
    }

    /// Whether `gid` is the filesystem gid or a supplementary group.
    pub fn in_group(&self, gid: u32) -> bool {
        self.fsgid == gid || self.groups.contains(&gid)
    }
}
