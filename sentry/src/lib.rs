//! The sentry: the sandbox's userspace kernel. It services every system call
//! the application makes; the host sees only the sentry's own calls.
//!
//! Modules: [`abi`] (the Linux ABI), [`auth`] (credentials), [`platform`]
//! (running application code), [`mm`] (application memory), [`loader`]
//! (exec), [`vfs`] and [`fs`] (files), [`net`] (sockets), [`ipc`] (System V
//! IPC and POSIX message queues), [`kernel`] (tasks, processes,
//! signals, the syscall loop), [`waiter`] (wait queues).

pub mod abi;
pub mod auth;
pub mod fs;
pub mod ipc;
pub mod kernel;
pub mod loader;
pub mod mm;
pub mod net;
pub mod platform;
pub mod vfs;
pub mod waiter;
