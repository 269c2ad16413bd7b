//! System V IPC and POSIX message queue ABI (x86_64): `struct ipc64_perm`,
//! `shmid64_ds`, `semid64_ds`, `msqid64_ds`, the *info structures,
//! `struct sembuf` and `struct mq_attr`.

use super::Pod;

/// `struct ipc64_perm`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u16,
    pub pad1: u16,
    pub seq: u16,
    pub pad2: u16,
    pub pad3: u32,
    pub unused1: u64,
    pub unused2: u64,
}

/// `struct shmid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmidDs {
    pub perm: IpcPerm,
    pub segsz: u64,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: u64,
    pub unused4: u64,
    pub unused5: u64,
}

/// `struct shminfo64` (IPC_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmInfo64 {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub unused: [u64; 4],
}

/// `struct shm_info` (SHM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmUsage {
    pub used_ids: i32,
    pub pad: u32,
    pub shm_tot: u64,
    pub shm_rss: u64,
    pub shm_swp: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}

/// `struct semid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemidDs {
    pub perm: IpcPerm,
    pub otime: i64,
    pub unused1: u64,
    pub ctime: i64,
    pub unused2: u64,
    pub nsems: u64,
    pub unused3: u64,
    pub unused4: u64,
}

/// `struct seminfo` (IPC_INFO, SEM_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemInfo {
    pub semmap: i32,
    pub semmni: i32,
    pub semmns: i32,
    pub semmnu: i32,
    pub semmsl: i32,
    pub semopm: i32,
    pub semume: i32,
    pub semusz: i32,
    pub semvmx: i32,
    pub semaem: i32,
}

/// `struct sembuf`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SemBuf {
    pub num: u16,
    pub op: i16,
    pub flg: i16,
}

/// `struct msqid64_ds`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MsqidDs {
    pub perm: IpcPerm,
    pub stime: i64,
    pub rtime: i64,
    pub ctime: i64,
    pub cbytes: u64,
    pub qnum: u64,
    pub qbytes: u64,
    pub lspid: i32,
    pub lrpid: i32,
    pub unused4: u64,
    pub unused5: u64,
}

/// `struct msginfo` (IPC_INFO, MSG_INFO).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MsgInfo {
    pub msgpool: i32,
    pub msgmap: i32,
    pub msgmax: i32,
    pub msgmnb: i32,
    pub msgmni: i32,
    pub msgssz: i32,
    pub msgtql: i32,
    pub msgseg: u16,
    pub pad: u16,
}

/// `struct mq_attr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MqAttr {
    pub flags: i64,
    pub maxmsg: i64,
    pub msgsize: i64,
    pub curmsgs: i64,
    pub pad: [i64; 4],
}

super::structs::pod!(
    IpcPerm = 48,
    ShmidDs = 112,
    ShmInfo64 = 72,
    ShmUsage = 48,
    SemidDs = 104,
    SemInfo = 40,
    SemBuf = 6,
    MsqidDs = 120,
    MsgInfo = 32,
    MqAttr = 64,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_libc() {
        assert_eq!(std::mem::size_of::<IpcPerm>(), std::mem::size_of::<libc::ipc_perm>());
        assert_eq!(std::mem::size_of::<ShmidDs>(), std::mem::size_of::<libc::shmid_ds>());
        assert_eq!(std::mem::size_of::<SemBuf>(), std::mem::size_of::<libc::sembuf>());
        assert_eq!(std::mem::size_of::<MsqidDs>(), std::mem::size_of::<libc::msqid_ds>());
        assert_eq!(std::mem::size_of::<MqAttr>(), std::mem::size_of::<libc::mq_attr>());
        assert_eq!(std::mem::offset_of!(IpcPerm, mode), 20);
        assert_eq!(std::mem::offset_of!(IpcPerm, seq), 24);
        assert_eq!(std::mem::offset_of!(ShmidDs, nattch), 88);
        assert_eq!(std::mem::offset_of!(SemidDs, nsems), 80);
        assert_eq!(std::mem::offset_of!(MsqidDs, lspid), 96);
    }
}
