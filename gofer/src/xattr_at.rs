//! Reading extended attributes by name relative to an O_PATH directory
//! fd (getxattrat and listxattrat, Linux 6.13; they take no O_PATH fd of
//! the file itself): for the nodes the gofer may not open to read, whose
//! attributes Linux still shows (getxattr needs search permission on the
//! path, not read permission on the file). A link is never followed. On
//! older kernels the answer stays EACCES.

use std::ffi::CStr;

/// getxattrat(2)'s and listxattrat(2)'s numbers on x86_64 (not in the
/// libc crate yet).
const SYS_GETXATTRAT: libc::c_long = 464;
const SYS_LISTXATTRAT: libc::c_long = 465;

/// getxattrat(2)'s `struct xattr_args`.
#[repr(C)]
struct XattrArgs {
    value: u64,
    size: u32,
    flags: u32,
}

fn result(r: libc::c_long) -> Result<usize, i32> {
    if r >= 0 {
        return Ok(r as usize);
    }
    match std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO) {
        libc::ENOSYS => Err(libc::EACCES),
        e => Err(e),
    }
}

/// Attribute `name` of `path` in directory `dir` (O_PATH), into `buf`.
pub fn get(dir: i32, path: &CStr, name: &CStr, buf: &mut [u8]) -> Result<usize, i32> {
    let args = XattrArgs { value: buf.as_mut_ptr() as u64, size: buf.len().min(u32::MAX as usize) as u32, flags: 0 };
    // SAFETY: `path` and `name` are NUL-terminated, and `args` names
    // `buf`, writable for `size` bytes; the kernel reads `args` of the
    // size given.
    let r = unsafe {
        libc::syscall(
            SYS_GETXATTRAT,
            dir,
            path.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
            name.as_ptr(),
            std::ptr::from_ref(&args),
            std::mem::size_of::<XattrArgs>(),
        )
    };
    result(r)
}

/// The attribute names of `path` in directory `dir` (O_PATH), into `buf`.
pub fn list(dir: i32, path: &CStr, buf: &mut [u8]) -> Result<usize, i32> {
    // SAFETY: `path` is NUL-terminated and `buf` is writable for its length.
    let r = unsafe {
        libc::syscall(SYS_LISTXATTRAT, dir, path.as_ptr(), libc::AT_SYMLINK_NOFOLLOW, buf.as_mut_ptr(), buf.len())
    };
    result(r)
}
