//! Protocol messages.

use crate::wire::{Decoder, Encoder, Malformed};

/// The fid of the served tree's root, valid from the start.
pub const ROOT_FID: u64 = 0;

/// Largest message, in bytes.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// Most names in one `WalkMany` (its reply stays well under
/// [`MAX_MESSAGE`]).
pub const MAX_WALK: usize = 32;

/// File metadata as the host reported it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStat {
    pub dev: u64,
    pub ino: u64,
    pub nlink: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub rdev: u64,
    pub size: u64,
    pub blksize: u64,
    pub blocks: u64,
    pub atime: (i64, i64),
    pub mtime: (i64, i64),
    pub ctime: (i64, i64),
}

impl WireStat {
    /// From a host `stat`.
    pub fn from_host(st: &libc::stat) -> WireStat {
        WireStat {
            dev: st.st_dev,
            ino: st.st_ino,
            nlink: st.st_nlink,
            mode: st.st_mode,
            uid: st.st_uid,
            gid: st.st_gid,
            rdev: st.st_rdev,
            size: st.st_size as u64,
            blksize: st.st_blksize as u64,
            blocks: st.st_blocks as u64,
            atime: (st.st_atime, st.st_atime_nsec),
            mtime: (st.st_mtime, st.st_mtime_nsec),
            ctime: (st.st_ctime, st.st_ctime_nsec),
        }
    }

    fn encode(&self, e: &mut Encoder) {
        e.u64(self.dev).u64(self.ino).u64(self.nlink).u32(self.mode).u32(self.uid).u32(self.gid);
        e.u64(self.rdev).u64(self.size).u64(self.blksize).u64(self.blocks);
        for (s, n) in [self.atime, self.mtime, self.ctime] {
            e.u64(s as u64).u64(n as u64);
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<WireStat, Malformed> {
        let mut st = WireStat {
            dev: d.u64()?,
            ino: d.u64()?,
            nlink: d.u64()?,
            mode: d.u32()?,
            uid: d.u32()?,
            gid: d.u32()?,
            rdev: d.u64()?,
            size: d.u64()?,
            blksize: d.u64()?,
            blocks: d.u64()?,
            ..Default::default()
        };
        st.atime = (d.u64()? as i64, d.u64()? as i64);
        st.mtime = (d.u64()? as i64, d.u64()? as i64);
        st.ctime = (d.u64()? as i64, d.u64()? as i64);
        Ok(st)
    }
}

/// Filesystem figures as the host reported them (statfs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireStatfs {
    pub fs_type: u64,
    pub bsize: u64,
    pub blocks: u64,
    pub bfree: u64,
    pub bavail: u64,
    pub files: u64,
    pub ffree: u64,
    pub namelen: u64,
    pub frsize: u64,
    pub flags: u64,
}

impl WireStatfs {
    fn fields(&self) -> [u64; 10] {
        [
            self.fs_type,
            self.bsize,
            self.blocks,
            self.bfree,
            self.bavail,
            self.files,
            self.ffree,
            self.namelen,
            self.frsize,
            self.flags,
        ]
    }

    fn from_fields(f: [u64; 10]) -> WireStatfs {
        WireStatfs {
            fs_type: f[0],
            bsize: f[1],
            blocks: f[2],
            bfree: f[3],
            bavail: f[4],
            files: f[5],
            ffree: f[6],
            namelen: f[7],
            frsize: f[8],
            flags: f[9],
        }
    }
}

/// A directory entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirent {
    pub ino: u64,
    pub typ: u8,
    pub name: Vec<u8>,
}

/// Requests from the sentry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// Walk one component `name` from directory `fid`; the reply names a new fid.
    Walk { fid: u64, name: Vec<u8> },
    /// Metadata of `fid`.
    Stat { fid: u64 },
    /// Open `fid` with open(2) `flags`; the host fd comes with the reply.
    Open { fid: u64, flags: u32 },
    /// Directory entries of `fid` from index `cookie`.
    Readdir { fid: u64, cookie: u64 },
    /// Target of the symlink `fid`.
    Readlink { fid: u64 },
    /// Forget `fid`.
    Clunk { fid: u64 },
    /// Filesystem figures for the filesystem holding `fid`.
    Statfs { fid: u64 },
    /// Make `name` in directory `fid`: a file, directory, fifo, socket or
    /// device by `mode`'s type, a symlink to `target` for S_IFLNK; owned
    /// by `uid`/`gid` (the sandbox's caller). The reply is `Walked`.
    Make { fid: u64, name: Vec<u8>, mode: u32, rdev: u64, uid: u32, gid: u32, target: Vec<u8> },
    /// Link `target` (a non-directory) as `name` in directory `fid`.
    Link { fid: u64, name: Vec<u8>, target: u64 },
    /// Remove `name` from directory `fid` (a directory with `dir`).
    Unlink { fid: u64, name: Vec<u8>, dir: bool },
    /// renameat2 `name` in `fid` to `new_name` in `new_fid` with `flags`.
    Rename { fid: u64, name: Vec<u8>, new_fid: u64, new_name: Vec<u8>, flags: u32 },
    /// Change attributes of `fid`: each `Some` field.
    Setattr { fid: u64, attr: WireSetattr },
    /// Walk `names` (at most [`MAX_WALK`]) one after another from
    /// directory `fid`, as far as they go; the reply is `WalkedMany`.
    WalkMany { fid: u64, names: Vec<Vec<u8>> },
    /// The value of extended attribute `name` of `fid` (a `Value`).
    Getxattr { fid: u64, name: Vec<u8> },
    /// The names of `fid`'s extended attributes (a `Names`).
    Listxattr { fid: u64 },
    /// Sets extended attribute `name` of `fid` (XATTR_CREATE/REPLACE `flags`).
    Setxattr { fid: u64, name: Vec<u8>, value: Vec<u8>, flags: u32 },
    /// Removes extended attribute `name` of `fid`.
    Removexattr { fid: u64, name: Vec<u8> },
}

/// Attribute changes (each `Some` is applied).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WireSetattr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<(i64, i64)>,
    pub mtime: Option<(i64, i64)>,
}

impl WireSetattr {
    fn encode(&self, e: &mut Encoder) {
        let opt = |e: &mut Encoder, v: Option<u64>| {
            e.u8(v.is_some() as u8).u64(v.unwrap_or(0));
        };
        opt(e, self.mode.map(u64::from));
        opt(e, self.uid.map(u64::from));
        opt(e, self.gid.map(u64::from));
        opt(e, self.size);
        for t in [self.atime, self.mtime] {
            e.u8(t.is_some() as u8);
            let (s, n) = t.unwrap_or((0, 0));
            e.u64(s as u64).u64(n as u64);
        }
    }

    fn decode(d: &mut Decoder<'_>) -> Result<WireSetattr, Malformed> {
        let opt = |d: &mut Decoder<'_>| -> Result<Option<u64>, Malformed> {
            let some = d.u8()? != 0;
            let v = d.u64()?;
            Ok(some.then_some(v))
        };
        let mode = opt(d)?.map(|v| v as u32);
        let uid = opt(d)?.map(|v| v as u32);
        let gid = opt(d)?.map(|v| v as u32);
        let size = opt(d)?;
        let time = |d: &mut Decoder<'_>| -> Result<Option<(i64, i64)>, Malformed> {
            let some = d.u8()? != 0;
            let (s, n) = (d.u64()? as i64, d.u64()? as i64);
            Ok(some.then_some((s, n)))
        };
        let atime = time(d)?;
        let mtime = time(d)?;
        Ok(WireSetattr { mode, uid, gid, size, atime, mtime })
    }
}

/// Replies from the gofer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Response {
    /// A walk's new fid and its metadata.
    Walked { fid: u64, stat: WireStat },
    /// Metadata.
    Stat(WireStat),
    /// The file was opened; its fd is attached.
    Opened,
    /// Directory entries; `next` is the cookie to continue from.
    Dirents { entries: Vec<Dirent>, next: u64, eof: bool },
    /// A symlink target.
    Link(Vec<u8>),
    /// Filesystem figures.
    Statfs(WireStatfs),
    /// Done.
    Ok,
    /// Failed with a Linux errno.
    Error(i32),
    /// A multi-name walk: the new fids and metadata of the names walked,
    /// in order; it stops after a name that is not a directory, or at a
    /// name that failed with `error` (0 if none did).
    WalkedMany { walked: Vec<(u64, WireStat)>, error: i32 },
    /// An extended attribute's value.
    Value(Vec<u8>),
    /// Extended attribute names.
    Names(Vec<Vec<u8>>),
}

impl Request {
    /// Encodes the request.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        match self {
            Request::Walk { fid, name } => e.u8(1).u64(*fid).bytes(name),
            Request::Stat { fid } => e.u8(2).u64(*fid),
            Request::Open { fid, flags } => e.u8(3).u64(*fid).u32(*flags),
            Request::Readdir { fid, cookie } => e.u8(4).u64(*fid).u64(*cookie),
            Request::Readlink { fid } => e.u8(5).u64(*fid),
            Request::Clunk { fid } => e.u8(6).u64(*fid),
            Request::Statfs { fid } => e.u8(7).u64(*fid),
            Request::Make { fid, name, mode, rdev, uid, gid, target } => {
                e.u8(8).u64(*fid).bytes(name).u32(*mode).u64(*rdev).u32(*uid).u32(*gid).bytes(target)
            }
            Request::Link { fid, name, target } => e.u8(9).u64(*fid).bytes(name).u64(*target),
            Request::Unlink { fid, name, dir } => e.u8(10).u64(*fid).bytes(name).u8(*dir as u8),
            Request::Rename { fid, name, new_fid, new_name, flags } => {
                e.u8(11).u64(*fid).bytes(name).u64(*new_fid).bytes(new_name).u32(*flags)
            }
            Request::Setattr { fid, attr } => {
                e.u8(12).u64(*fid);
                attr.encode(&mut e);
                &mut e
            }
            Request::WalkMany { fid, names } => {
                e.u8(13).u64(*fid).u32(names.len() as u32);
                for n in names {
                    e.bytes(n);
                }
                &mut e
            }
            Request::Getxattr { fid, name } => e.u8(14).u64(*fid).bytes(name),
            Request::Listxattr { fid } => e.u8(15).u64(*fid),
            Request::Setxattr { fid, name, value, flags } => e.u8(16).u64(*fid).bytes(name).bytes(value).u32(*flags),
            Request::Removexattr { fid, name } => e.u8(17).u64(*fid).bytes(name),
        };
        e.buf
    }

    /// Decodes a request.
    pub fn decode(buf: &[u8]) -> Result<Request, Malformed> {
        let mut d = Decoder::new(buf);
        Ok(match d.u8()? {
            1 => Request::Walk { fid: d.u64()?, name: d.bytes()? },
            2 => Request::Stat { fid: d.u64()? },
            3 => Request::Open { fid: d.u64()?, flags: d.u32()? },
            4 => Request::Readdir { fid: d.u64()?, cookie: d.u64()? },
            5 => Request::Readlink { fid: d.u64()? },
            6 => Request::Clunk { fid: d.u64()? },
            7 => Request::Statfs { fid: d.u64()? },
            8 => Request::Make {
                fid: d.u64()?,
                name: d.bytes()?,
                mode: d.u32()?,
                rdev: d.u64()?,
                uid: d.u32()?,
                gid: d.u32()?,
                target: d.bytes()?,
            },
            9 => Request::Link { fid: d.u64()?, name: d.bytes()?, target: d.u64()? },
            10 => Request::Unlink { fid: d.u64()?, name: d.bytes()?, dir: d.u8()? != 0 },
            11 => Request::Rename {
                fid: d.u64()?,
                name: d.bytes()?,
                new_fid: d.u64()?,
                new_name: d.bytes()?,
                flags: d.u32()?,
            },
            12 => Request::Setattr { fid: d.u64()?, attr: WireSetattr::decode(&mut d)? },
            13 => {
                let fid = d.u64()?;
                let n = d.u32()? as usize;
                if n > MAX_WALK {
                    return Err(Malformed);
                }
                let names = (0..n).map(|_| d.bytes()).collect::<Result<_, _>>()?;
                Request::WalkMany { fid, names }
            }
            14 => Request::Getxattr { fid: d.u64()?, name: d.bytes()? },
            15 => Request::Listxattr { fid: d.u64()? },
            16 => Request::Setxattr { fid: d.u64()?, name: d.bytes()?, value: d.bytes()?, flags: d.u32()? },
            17 => Request::Removexattr { fid: d.u64()?, name: d.bytes()? },
            _ => return Err(Malformed),
        })
    }
}

impl Response {
    /// Encodes the response.
    pub fn encode(&self) -> Vec<u8> {
        let mut e = Encoder::default();
        match self {
            Response::Walked { fid, stat } => {
                e.u8(1).u64(*fid);
                stat.encode(&mut e);
            }
            Response::Stat(st) => {
                e.u8(2);
                st.encode(&mut e);
            }
            Response::Opened => {
                e.u8(3);
            }
            Response::Dirents { entries, next, eof } => {
                e.u8(4).u64(*next).u8(*eof as u8).u32(entries.len() as u32);
                for d in entries {
                    e.u64(d.ino).u8(d.typ).bytes(&d.name);
                }
            }
            Response::Link(t) => {
                e.u8(5).bytes(t);
            }
            Response::Ok => {
                e.u8(6);
            }
            Response::Error(errno) => {
                e.u8(7).u32(*errno as u32);
            }
            Response::Statfs(s) => {
                e.u8(8);
                for f in s.fields() {
                    e.u64(f);
                }
            }
            Response::WalkedMany { walked, error } => {
                e.u8(9).u32(walked.len() as u32);
                for (fid, st) in walked {
                    e.u64(*fid);
                    st.encode(&mut e);
                }
                e.u32(*error as u32);
            }
            Response::Value(v) => {
                e.u8(10).bytes(v);
            }
            Response::Names(names) => {
                e.u8(11).u32(names.len() as u32);
                for n in names {
                    e.bytes(n);
                }
            }
        }
        e.buf
    }

    /// Decodes a response.
    pub fn decode(buf: &[u8]) -> Result<Response, Malformed> {
        let mut d = Decoder::new(buf);
        Ok(match d.u8()? {
            1 => Response::Walked { fid: d.u64()?, stat: WireStat::decode(&mut d)? },
            2 => Response::Stat(WireStat::decode(&mut d)?),
            3 => Response::Opened,
            4 => {
                let next = d.u64()?;
                let eof = d.u8()? != 0;
                let n = d.u32()? as usize;
                let mut entries = Vec::with_capacity(n.min(4096));
                for _ in 0..n {
                    entries.push(Dirent { ino: d.u64()?, typ: d.u8()?, name: d.bytes()? });
                }
                Response::Dirents { entries, next, eof }
            }
            5 => Response::Link(d.bytes()?),
            6 => Response::Ok,
            7 => Response::Error(d.u32()? as i32),
            8 => {
                let mut f = [0u64; 10];
                for x in &mut f {
                    *x = d.u64()?;
                }
                Response::Statfs(WireStatfs::from_fields(f))
            }
            9 => {
                let n = d.u32()? as usize;
                if n > MAX_WALK {
                    return Err(Malformed);
                }
                let mut walked = Vec::with_capacity(n);
                for _ in 0..n {
                    walked.push((d.u64()?, WireStat::decode(&mut d)?));
                }
                Response::WalkedMany { walked, error: d.u32()? as i32 }
            }
            10 => Response::Value(d.bytes()?),
            11 => {
                let n = d.u32()? as usize;
                // Each name takes at least its length prefix.
                if n > buf.len() {
                    return Err(Malformed);
                }
                Response::Names((0..n).map(|_| d.bytes()).collect::<Result<_, _>>()?)
            }
            _ => return Err(Malformed),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let reqs = [
            Request::Walk { fid: 3, name: b"etc".to_vec() },
            Request::Stat { fid: 1 },
            Request::Open { fid: 2, flags: 0o100000 },
            Request::Readdir { fid: 4, cookie: 7 },
            Request::Readlink { fid: 5 },
            Request::Clunk { fid: 6 },
            Request::Statfs { fid: 7 },
            Request::Make { fid: 1, name: b"f".to_vec(), mode: 0o100644, rdev: 0, uid: 1, gid: 2, target: vec![] },
            Request::Link { fid: 1, name: b"g".to_vec(), target: 3 },
            Request::Unlink { fid: 1, name: b"g".to_vec(), dir: true },
            Request::Rename { fid: 1, name: b"a".to_vec(), new_fid: 2, new_name: b"b".to_vec(), flags: 1 },
            Request::Setattr {
                fid: 4,
                attr: WireSetattr { mode: Some(0o600), size: Some(3), mtime: Some((5, 6)), ..Default::default() },
            },
            Request::WalkMany { fid: 2, names: vec![b"usr".to_vec(), b"lib".to_vec()] },
            Request::Getxattr { fid: 1, name: b"user.a".to_vec() },
            Request::Listxattr { fid: 1 },
            Request::Setxattr { fid: 1, name: b"user.a".to_vec(), value: b"v".to_vec(), flags: 1 },
            Request::Removexattr { fid: 1, name: b"user.a".to_vec() },
        ];
        for r in reqs {
            assert_eq!(Request::decode(&r.encode()).unwrap(), r);
        }
        let st = WireStat { ino: 9, mode: 0o100644, atime: (1, 2), ..Default::default() };
        let resps = [
            Response::Walked { fid: 1, stat: st },
            Response::Stat(st),
            Response::Opened,
            Response::Dirents { entries: vec![Dirent { ino: 1, typ: 4, name: b"x".to_vec() }], next: 1, eof: true },
            Response::Link(b"/usr/bin".to_vec()),
            Response::Ok,
            Response::Error(2),
            Response::Statfs(WireStatfs { fs_type: 0xef53, bsize: 4096, flags: 0x1020, ..Default::default() }),
            Response::WalkedMany { walked: vec![(3, st), (4, st)], error: 2 },
            Response::Value(b"v".to_vec()),
            Response::Names(vec![b"user.a".to_vec(), b"user.b".to_vec()]),
        ];
        for r in resps {
            assert_eq!(Response::decode(&r.encode()).unwrap(), r);
        }
    }

    #[test]
    fn too_many_names_is_malformed() {
        let names = vec![b"a".to_vec(); MAX_WALK + 1];
        assert!(Request::decode(&Request::WalkMany { fid: 0, names }.encode()).is_err());
    }

    #[test]
    fn truncated_is_an_error() {
        let b = Request::Walk { fid: 3, name: b"etc".to_vec() }.encode();
        for n in 0..b.len() {
            assert!(Request::decode(&b[..n]).is_err());
        }
    }
}
