//! Readiness events and the structs of poll, select and epoll.

use super::Pod;

/// There is data to read.
pub const POLLIN: u32 = 0x1;
/// Urgent data.
pub const POLLPRI: u32 = 0x2;
/// Writing will not block.
pub const POLLOUT: u32 = 0x4;
/// Error.
pub const POLLERR: u32 = 0x8;
/// Hung up.
pub const POLLHUP: u32 = 0x10;
/// Not an open fd.
pub const POLLNVAL: u32 = 0x20;
/// Normal data to read.
pub const POLLRDNORM: u32 = 0x40;
/// Priority band data.
pub const POLLRDBAND: u32 = 0x80;
/// Writing normal data will not block.
pub const POLLWRNORM: u32 = 0x100;
/// Priority band writable.
pub const POLLWRBAND: u32 = 0x200;
/// Message.
pub const POLLMSG: u32 = 0x400;
/// Peer shut down its write side.
pub const POLLRDHUP: u32 = 0x2000;

/// epoll flags (in `epoll_event.events`).
pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
/// Wake-up source (ignored without CAP_BLOCK_SUSPEND).
pub const EPOLLWAKEUP: u32 = 1 << 29;
/// Disarm after one event.
pub const EPOLLONESHOT: u32 = 1 << 30;
/// Edge-triggered.
pub const EPOLLET: u32 = 1 << 31;

/// Readable events (what makes `read` not block).
pub const READ_EVENTS: u32 = POLLIN | POLLRDNORM;
/// Writable events.
pub const WRITE_EVENTS: u32 = POLLOUT | POLLWRNORM;

/// `struct pollfd`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PollFd {
    pub fd: i32,
    pub events: i16,
    pub revents: i16,
}

/// `struct epoll_event` (packed on x86_64).
#[repr(C, packed)]
#[derive(Clone, Copy, Debug, Default)]
pub struct EpollEvent {
    pub events: u32,
    pub data: u64,
}

/// `struct signalfd_siginfo`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct SignalfdSiginfo {
    pub signo: u32,
    pub errno: i32,
    pub code: i32,
    pub pid: u32,
    pub uid: u32,
    pub fd: i32,
    pub tid: u32,
    pub band: u32,
    pub overrun: u32,
    pub trapno: u32,
    pub status: i32,
    pub int: i32,
    pub ptr: u64,
    pub utime: u64,
    pub stime: u64,
    pub addr: u64,
    pub addr_lsb: u16,
    pub pad2: u16,
    pub syscall: i32,
    pub call_addr: u64,
    pub arch: u32,
    pub pad: [u8; 28],
}

super::structs::pod!(PollFd = 8, EpollEvent = 12, SignalfdSiginfo = 128);
