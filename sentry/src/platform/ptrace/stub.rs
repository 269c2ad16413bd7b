//! The stub page: a few position-independent instructions that are the only
//! code mapped in a stub process.
//!
//! Entry points, all relative to the page:
//! - `start`: run once by the freshly forked master stub; unmaps everything but
//!   the stub page, stops itself with `kill(getpid(), SIGSTOP)` (so that the
//!   platform knows the unmapping is done), then falls into `pause`.
//! - `pause`: `pause()` forever. New stub processes and new stub threads
//!   wait here, blocked in the host kernel, until their tracer seizes and
//!   interrupts them (all their signals but SIGCHLD are blocked, so nothing
//!   else wakes them).
//! - `syscall`: the injection site: `syscall; int3`.
//! - `clone`: `syscall`; the parent traps with `int3`, the child jumps to
//!   `pause`.
//! - `batch`: runs the `rsi` calls of the table at `rdi` (entries of the
//!   syscall number and six arguments) in order, stopping at the first
//!   that fails, then `int3`: `rax` holds the last result and `r13` how
//!   many calls were left (0 when all succeeded).

use crate::abi::PAGE_SIZE;
use crate::platform::PlatformError;

std::arch::global_asm!(
    ".pushsection .text.runsc_stub, \"ax\", @progbits",
    ".p2align 12",
    ".globl runsc_stub_start",
    "runsc_stub_start:",
    "    xor edi, edi",
    "    lea rsi, [rip + runsc_stub_start]",
    "    mov eax, 11",
    "    syscall",
    "    lea rdi, [rip + runsc_stub_start]",
    "    add rdi, 4096",
    "    mov rsi, 0x7ffffffff000",
    "    sub rsi, rdi",
    "    mov eax, 11",
    "    syscall",
    "    mov eax, 39",
    "    syscall",
    "    mov edi, eax",
    "    mov esi, 19",
    "    mov eax, 62",
    "    syscall",
    ".globl runsc_stub_pause",
    "runsc_stub_pause:",
    "    mov eax, 34",
    "    syscall",
    "    jmp runsc_stub_pause",
    ".globl runsc_stub_syscall",
    "runsc_stub_syscall:",
    "    syscall",
    "    int3",
    "    jmp runsc_stub_syscall",
    ".globl runsc_stub_clone",
    "runsc_stub_clone:",
    "    syscall",
    "    test rax, rax",
    "    jz runsc_stub_pause",
    "    int3",
    "    jmp runsc_stub_clone",
    ".globl runsc_stub_batch",
    "runsc_stub_batch:",
    "    mov r12, rdi",
    "    mov r13, rsi",
    "runsc_stub_batch_next:",
    "    test r13, r13",
    "    jz runsc_stub_batch_done",
    "    mov rax, [r12]",
    "    mov rdi, [r12 + 8]",
    "    mov rsi, [r12 + 16]",
    "    mov rdx, [r12 + 24]",
    "    mov r10, [r12 + 32]",
    "    mov r8, [r12 + 40]",
    "    mov r9, [r12 + 48]",
    "    syscall",
    "    cmp rax, -4095",
    "    jae runsc_stub_batch_done",
    "    add r12, 56",
    "    dec r13",
    "    jmp runsc_stub_batch_next",
    "runsc_stub_batch_done:",
    "    int3",
    "    jmp runsc_stub_batch",
    ".globl runsc_stub_end",
    "runsc_stub_end:",
    ".popsection",
);

extern "C" {
    static runsc_stub_start: u8;
    static runsc_stub_pause: u8;
    static runsc_stub_syscall: u8;
    static runsc_stub_clone: u8;
    static runsc_stub_batch: u8;
    static runsc_stub_end: u8;
}

/// A copy of the stub code on its own page of the sentry's address space,
/// which every stub process inherits.
#[derive(Clone, Copy, Debug)]
pub struct StubPage {
    /// Address of the page.
    pub base: u64,
    /// Address of the injection site (`syscall; int3`).
    pub syscall_site: u64,
    /// Address of the clone site.
    pub clone_site: u64,
    /// Address of the batch loop.
    pub batch_site: u64,
}

/// Highest address candidates for the stub page, tried in order.
const CANDIDATES: [u64; 4] = [0x7fff_fffe_0000, 0x7fff_ff00_0000, 0x7ffe_0000_0000, 0x7f00_0000_0000];

impl StubPage {
    /// Maps a page high in the sentry's address space and copies the stub
    /// code there.
    pub fn new() -> Result<StubPage, PlatformError> {
        // Taking the addresses of the linker symbols defined by the
        // global_asm! block above; nothing is read through them here.
        let (start, pause, sys, clone, batch, end) = (
            std::ptr::addr_of!(runsc_stub_start) as u64,
            std::ptr::addr_of!(runsc_stub_pause) as u64,
            std::ptr::addr_of!(runsc_stub_syscall) as u64,
            std::ptr::addr_of!(runsc_stub_clone) as u64,
            std::ptr::addr_of!(runsc_stub_batch) as u64,
            std::ptr::addr_of!(runsc_stub_end) as u64,
        );
        let code_len = (end - start) as usize;
        assert!(code_len <= PAGE_SIZE as usize && pause > start);
        // Above the current stack pointer, the sentry's main stack cannot grow
        // into the page.
        let here = &code_len as *const usize as u64;
        let mut base = None;
        for &cand in CANDIDATES.iter().filter(|&&c| c > here) {
            // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping;
            // the result is checked.
            let p = unsafe {
                libc::mmap(
                    cand as *mut libc::c_void,
                    PAGE_SIZE as usize,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
                    -1,
                    0,
                )
            };
            if p != libc::MAP_FAILED && p as u64 == cand {
                base = Some(cand);
                break;
            }
        }
        let base = match base {
            Some(b) => b,
            None => {
                // SAFETY: a fresh anonymous mapping wherever the kernel likes.
                let p = unsafe {
                    libc::mmap(
                        std::ptr::null_mut(),
                        PAGE_SIZE as usize,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    )
                };
                if p == libc::MAP_FAILED {
                    return Err(PlatformError::Host { op: "mmap stub page", errno: nix::errno::Errno::last() });
                }
                p as u64
            }
        };
        // SAFETY: `start..end` is the stub code in our text segment (readable);
        // `base` is a fresh writable page of at least `code_len` bytes; they
        // do not overlap.
        unsafe {
            std::ptr::copy_nonoverlapping(start as *const u8, base as *mut u8, code_len);
        }
        let len = PAGE_SIZE as usize;
        // SAFETY: `base` is the page mapped above.
        let r = unsafe { libc::mprotect(base as *mut libc::c_void, len, libc::PROT_READ | libc::PROT_EXEC) };
        if r != 0 {
            return Err(PlatformError::Host { op: "mprotect stub page", errno: nix::errno::Errno::last() });
        }
        Ok(StubPage {
            base,
            syscall_site: base + (sys - start),
            clone_site: base + (clone - start),
            batch_site: base + (batch - start),
        })
    }

    /// Jumps to the stub's start in a freshly forked child. Never returns.
    ///
    /// # Safety
    /// Must only be called in a single-threaded child process right after
    /// `fork`: the stub unmaps all memory but its own page.
    pub unsafe fn enter(&self) -> ! {
        // SAFETY: `base` holds the stub code (copied and made executable in
        // `new`), whose entry takes no arguments and never returns. The caller
        // guarantees we are a disposable forked child.
        unsafe {
            let entry: extern "C" fn() -> ! = std::mem::transmute(self.base as usize);
            entry()
        }
    }
}
