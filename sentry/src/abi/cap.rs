//! Capability ABI: `struct __user_cap_header_struct` and
//! `struct __user_cap_data_struct`.

use super::Pod;

/// `struct __user_cap_header_struct`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CapHeader {
    pub version: u32,
    pub pid: i32,
}

/// `struct __user_cap_data_struct` (one 32-bit word of each set).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CapData {
    pub effective: u32,
    pub permitted: u32,
    pub inheritable: u32,
}

super::structs::pod!(CapHeader = 8, CapData = 12);
