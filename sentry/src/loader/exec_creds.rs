//! The credentials a new program runs with, by Linux's rules
//! (fs/exec.c's bprm_fill_uid and security/commoncap.c's
//! cap_bprm_creds_from_file): a set-user-ID or set-group-ID executable
//! changes the effective ids, file capabilities (`security.capability`)
//! give the permitted set `(fP & bounding) | (fI & pI)`, root gets its
//! bounding and inheritable sets, and no_new_privs or a nosuid mount
//! keeps any of that from raising privileges. Whether the exec was
//! privileged is `AT_SECURE`, which makes the dynamic loader ignore
//! LD_PRELOAD and friends.

use crate::abi::Errno;
use crate::auth::{Credentials, ALL_CAPS};
use crate::vfs::Location;

/// File capabilities as `security.capability` holds them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileCaps {
    /// fP: capabilities the file forces into the permitted set.
    pub permitted: u64,
    /// fI: capabilities taken from the task's inheritable set.
    pub inheritable: u64,
    /// fE: the permitted set becomes effective.
    pub effective: bool,
}

/// What the executable brings to execve.
#[derive(Clone, Copy, Debug)]
pub struct ExecFile {
    /// Its owner.
    pub uid: u32,
    /// Its group.
    pub gid: u32,
    /// Its mode (S_ISUID, S_ISGID, S_IXGRP).
    pub mode: u32,
    /// Its file capabilities.
    pub caps: Option<FileCaps>,
    /// Its mount honours set-ID bits and file capabilities (not nosuid).
    pub may_suid: bool,
}

const VFS_CAP_REVISION_MASK: u32 = 0xff00_0000;
const VFS_CAP_FLAGS_EFFECTIVE: u32 = 1;
const VFS_CAP_REVISION_1: u32 = 0x0100_0000;
const VFS_CAP_REVISION_2: u32 = 0x0200_0000;
const VFS_CAP_REVISION_3: u32 = 0x0300_0000;

/// Parses a `security.capability` value (struct vfs_cap_data, or
/// vfs_ns_cap_data with a root id): EINVAL if malformed, `None` for a
/// namespaced one whose root is not the sandbox's (Linux ignores those).
pub fn parse_file_caps(v: &[u8]) -> Result<Option<FileCaps>, Errno> {
    let word = |i: usize| -> Result<u32, Errno> {
        let b = v.get(i * 4..i * 4 + 4).ok_or(Errno::EINVAL)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let magic = word(0)?;
    let (words, rootid) = match (magic & VFS_CAP_REVISION_MASK, v.len()) {
        (VFS_CAP_REVISION_1, 12) => (1, 0),
        (VFS_CAP_REVISION_2, 20) => (2, 0),
        (VFS_CAP_REVISION_3, 24) => (2, word(5)?),
        _ => return Err(Errno::EINVAL),
    };
    if rootid != 0 {
        return Ok(None);
    }
    let (mut permitted, mut inheritable) = (0u64, 0u64);
    for i in 0..words {
        permitted |= u64::from(word(1 + 2 * i)?) << (32 * i);
        inheritable |= u64::from(word(2 + 2 * i)?) << (32 * i);
    }
    Ok(Some(FileCaps {
        permitted: permitted & ALL_CAPS,
        inheritable: inheritable & ALL_CAPS,
        effective: magic & VFS_CAP_FLAGS_EFFECTIVE != 0,
    }))
}

/// The credentials after execve of `file` by a task with `old` (and
/// `no_new_privs`), and whether the exec was privileged (AT_SECURE).
/// EPERM if the file's capabilities are marked effective but the task
/// cannot have all of its forced ones (a capability-dumb program would
/// run without them).
pub fn creds_for_exec(old: &Credentials, file: &ExecFile, no_new_privs: bool) -> Result<(Credentials, bool), Errno> {
    let mut new = old.clone();
    // bprm_fill_uid.
    if file.may_suid && !no_new_privs {
        if file.mode & libc::S_ISUID != 0 {
            new.euid = file.uid;
        }
        if file.mode & (libc::S_ISGID | libc::S_IXGRP) == libc::S_ISGID | libc::S_IXGRP {
            new.egid = file.gid;
        }
    }
    let was = old.caps;
    let mut c = new.caps;
    // get_file_caps.
    c.permitted = 0;
    let (mut effective, mut has_fcap) = (false, false);
    if let Some(fc) = file.caps.filter(|_| file.may_suid) {
        has_fcap = true;
        effective = fc.effective;
        c.permitted = (was.bounding & fc.permitted) | (was.inheritable & fc.inheritable);
        if effective && fc.permitted & !c.permitted != 0 {
            return Err(Errno::EPERM);
        }
    }
    // handle_privileged_root: root's programs get every capability it may
    // have, unless a set-user-ID-root program with file capabilities runs
    // for someone else (then the file's capabilities alone count).
    let suid_root = new.uid != 0 && new.euid == 0;
    if !(has_fcap && suid_root) {
        if new.euid == 0 || new.uid == 0 {
            c.permitted = was.bounding | was.inheritable;
        }
        if new.euid == 0 {
            effective = true;
        }
    }
    let gained = c.permitted & !was.permitted != 0;
    let is_setid = new.euid != old.uid || new.egid != old.gid;
    if (is_setid || gained) && no_new_privs {
        // No more than it had.
        new.euid = new.uid;
        new.egid = new.gid;
        c.permitted &= was.permitted;
    }
    new.suid = new.euid;
    new.fsuid = new.euid;
    new.sgid = new.egid;
    new.fsgid = new.egid;
    if has_fcap || is_setid {
        c.ambient = 0;
    }
    c.permitted |= c.ambient;
    c.effective = if effective { c.permitted } else { c.ambient };
    new.caps = c;
    let secure = is_setid || (new.uid != 0 && (effective || c.permitted & !c.ambient != 0));
    Ok((new, secure))
}

/// [`creds_for_exec`] for the executable at `loc`.
pub fn creds_for_file(old: &Credentials, loc: &Location, no_new_privs: bool) -> Result<(Credentials, bool), Errno> {
    let st = loc.stat()?;
    let may_suid = !loc.mount.nosuid();
    let caps = if may_suid {
        match loc.dentry.inode.getxattr(b"security.capability") {
            Ok(v) => parse_file_caps(&v)?,
            Err(_) => None,
        }
    } else {
        None
    };
    let file = ExecFile { uid: st.uid, gid: st.gid, mode: st.mode, caps, may_suid };
    creds_for_exec(old, &file, no_new_privs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NET_RAW: u64 = 1 << 13;
    const NET_BIND: u64 = 1 << 10;

    fn plain(mode: u32) -> ExecFile {
        ExecFile { uid: 0, gid: 0, mode, caps: None, may_suid: true }
    }

    #[test]
    fn root_and_users_without_file_caps() {
        let root = Credentials::new(0, 0, vec![]);
        let (n, secure) = creds_for_exec(&root, &plain(0o755), false).unwrap();
        assert_eq!((n.caps.permitted, n.caps.effective, secure), (ALL_CAPS, ALL_CAPS, false));
        let user = Credentials::new(1000, 1000, vec![]);
        let (n, secure) = creds_for_exec(&user, &plain(0o755), false).unwrap();
        assert_eq!((n.caps.permitted, n.caps.effective, n.euid, secure), (0, 0, 1000, false));
    }

    #[test]
    fn setuid_root_program_for_a_user() {
        let user = Credentials::new(1000, 1000, vec![]);
        let (n, secure) = creds_for_exec(&user, &plain(0o4755), false).unwrap();
        assert_eq!((n.uid, n.euid, n.suid, n.fsuid), (1000, 0, 0, 0));
        assert_eq!((n.caps.permitted, n.caps.effective, secure), (ALL_CAPS, ALL_CAPS, true));
        // Set-group-ID needs group execute.
        let f = ExecFile { gid: 50, ..plain(0o2755) };
        assert_eq!(creds_for_exec(&user, &f, false).unwrap().0.egid, 50);
        let f = ExecFile { gid: 50, ..plain(0o2745) };
        assert_eq!(creds_for_exec(&user, &f, false).unwrap().0.egid, 1000);
        // nosuid and no_new_privs.
        let f = ExecFile { may_suid: false, ..plain(0o4755) };
        assert_eq!(creds_for_exec(&user, &f, false).unwrap().0.euid, 1000);
        let (n, secure) = creds_for_exec(&user, &plain(0o4755), true).unwrap();
        assert_eq!((n.euid, n.caps.permitted, secure), (1000, 0, false));
    }

    #[test]
    fn file_capabilities() {
        let user = Credentials::new(1000, 1000, vec![]);
        let fc = FileCaps { permitted: NET_RAW | NET_BIND, inheritable: 0, effective: true };
        let caps = Some(fc);
        let f = ExecFile { caps, ..plain(0o755) };
        let (n, secure) = creds_for_exec(&user, &f, false).unwrap();
        assert_eq!(
            (n.caps.permitted, n.caps.effective, n.euid, secure),
            (NET_RAW | NET_BIND, NET_RAW | NET_BIND, 1000, true)
        );
        // Not effective: permitted only.
        let f = ExecFile { caps: Some(FileCaps { effective: false, ..fc }), ..plain(0o755) };
        let (n, _) = creds_for_exec(&user, &f, false).unwrap();
        assert_eq!((n.caps.permitted, n.caps.effective), (NET_RAW | NET_BIND, 0));
        // A bounding set without them: EPERM when effective.
        let mut bounded = user.clone();
        bounded.caps.bounding &= !NET_RAW;
        assert_eq!(creds_for_exec(&bounded, &ExecFile { caps, ..plain(0o755) }, false).unwrap_err(), Errno::EPERM);
        // no_new_privs: nothing gained.
        let (n, _) = creds_for_exec(&user, &ExecFile { caps, ..plain(0o755) }, true).unwrap();
        assert_eq!(n.caps.permitted, 0);
    }

    #[test]
    fn parses_revisions() {
        let v2 = [0x01, 0, 0, 0x02, 0x00, 0x24, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        let c = parse_file_caps(&v2).unwrap().unwrap();
        assert_eq!((c.permitted, c.inheritable, c.effective), (NET_RAW | NET_BIND, 0, true));
        let mut v3 = v2.to_vec();
        v3[3] = 0x03;
        v3.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(parse_file_caps(&v3).unwrap(), Some(c));
        v3[20] = 1;
        assert_eq!(parse_file_caps(&v3).unwrap(), None);
        assert_eq!(parse_file_caps(&v2[..19]).unwrap_err(), Errno::EINVAL);
    }
}
