//! Plain-old-data: types that may be copied to and from application memory as
//! raw bytes.

/// A type whose every bit pattern is valid and which has no padding that could
/// leak sentry memory, so it can be copied to and from application memory as
/// bytes.
///
/// # Safety
/// Implementors must be `#[repr(C)]` (or a primitive), contain no pointers,
/// references or padding bytes (make padding an explicit field), and accept any
/// bit pattern.
pub unsafe trait Pod: Copy + Default + 'static {
    /// The value as bytes.
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Pod` guarantees no padding, so all `size_of::<Self>()` bytes
        // are initialized; the slice borrows `self`.
        unsafe { std::slice::from_raw_parts(self as *const Self as *const u8, std::mem::size_of::<Self>()) }
    }

    /// The value as mutable bytes.
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: `Pod` guarantees any bit pattern is valid, so writes through
        // the slice cannot create an invalid value; the slice borrows `self`.
        unsafe { std::slice::from_raw_parts_mut(self as *mut Self as *mut u8, std::mem::size_of::<Self>()) }
    }

    /// Reads a value from the front of `bytes`, or `None` if too short.
    fn read_from(bytes: &[u8]) -> Option<Self> {
        let mut v = Self::default();
        let n = std::mem::size_of::<Self>();
        v.as_bytes_mut().copy_from_slice(bytes.get(..n)?);
        Some(v)
    }
}

// SAFETY: primitive integers accept every bit pattern and have no padding.
unsafe impl Pod for u8 {}
// SAFETY: as above.
unsafe impl Pod for u16 {}
// SAFETY: as above.
unsafe impl Pod for u32 {}
// SAFETY: as above.
unsafe impl Pod for u64 {}
// SAFETY: as above.
unsafe impl Pod for i32 {}
// SAFETY: as above.
unsafe impl Pod for i64 {}
// SAFETY: arrays of Pod types are Pod.
unsafe impl<const N: usize> Pod for [u64; N] where [u64; N]: Default {}
// SAFETY: arrays of Pod types are Pod.
unsafe impl<const N: usize> Pod for [i32; N] where [i32; N]: Default {}
