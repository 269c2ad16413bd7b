//! Socket ABI: message headers, control-message headers, credentials,
//! linger, and `struct sockaddr_un`'s layout (x86_64).

use super::Pod;

/// AF_UNIX.
pub const AF_UNIX: i32 = 1;
/// AF_UNSPEC.
pub const AF_UNSPEC: i32 = 0;
/// SOL_SOCKET.
pub const SOL_SOCKET: i32 = 1;
/// SCM_RIGHTS.
pub const SCM_RIGHTS: i32 = 1;
/// SCM_CREDENTIALS.
pub const SCM_CREDENTIALS: i32 = 2;
/// offsetof(struct sockaddr_un, sun_path).
pub const SUN_PATH_OFFSET: usize = 2;
/// sizeof(struct sockaddr_un).
pub const SOCKADDR_UN_LEN: usize = 110;

/// `struct msghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MsgHdr {
    pub name: u64,
    pub namelen: u32,
    pub pad0: u32,
    pub iov: u64,
    pub iovlen: u64,
    pub control: u64,
    pub controllen: u64,
    pub flags: i32,
    pub pad1: u32,
}

/// `struct mmsghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct MMsgHdr {
    pub hdr: MsgHdr,
    pub len: u32,
    pub pad: u32,
}

/// `struct cmsghdr`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CmsgHdr {
    pub len: u64,
    pub level: i32,
    pub typ: i32,
}

/// `struct ucred`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct UcredRaw {
    pub pid: i32,
    pub uid: u32,
    pub gid: u32,
}

/// `struct linger`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct Linger {
    pub onoff: i32,
    pub linger: i32,
}

super::structs::pod!(MsgHdr = 56, MMsgHdr = 64, CmsgHdr = 16, UcredRaw = 12, Linger = 8);

/// sizeof(struct cmsghdr).
pub const CMSG_HDR: usize = std::mem::size_of::<CmsgHdr>();

/// CMSG_ALIGN.
pub const fn cmsg_align(n: usize) -> usize {
    (n + 7) & !7
}

/// CMSG_LEN: a header and `n` bytes of data.
pub const fn cmsg_len(n: usize) -> usize {
    CMSG_HDR + n
}

/// CMSG_SPACE: a header and `n` bytes of data, padded.
pub const fn cmsg_space(n: usize) -> usize {
    CMSG_HDR + cmsg_align(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_libc() {
        assert_eq!(std::mem::size_of::<MsgHdr>(), std::mem::size_of::<libc::msghdr>());
        assert_eq!(std::mem::size_of::<MMsgHdr>(), std::mem::size_of::<libc::mmsghdr>());
        assert_eq!(std::mem::size_of::<CmsgHdr>(), std::mem::size_of::<libc::cmsghdr>());
        assert_eq!(std::mem::size_of::<UcredRaw>(), std::mem::size_of::<libc::ucred>());
        assert_eq!(std::mem::size_of::<Linger>(), std::mem::size_of::<libc::linger>());
        assert_eq!(SOCKADDR_UN_LEN, std::mem::size_of::<libc::sockaddr_un>());
        assert_eq!(std::mem::offset_of!(MsgHdr, controllen), std::mem::offset_of!(libc::msghdr, msg_controllen));
        assert_eq!(std::mem::offset_of!(MsgHdr, flags), std::mem::offset_of!(libc::msghdr, msg_flags));
        assert_eq!(std::mem::offset_of!(MMsgHdr, len), std::mem::offset_of!(libc::mmsghdr, msg_len));
        // SAFETY: CMSG_LEN and CMSG_SPACE only compute sizes.
        unsafe {
            assert_eq!(cmsg_len(12), libc::CMSG_LEN(12) as usize);
            assert_eq!(cmsg_space(12), libc::CMSG_SPACE(12) as usize);
        }
    }
}
