//! Hardware traps as the application sees them. For each fault signal
//! Linux records the trap number, the error code and (for page faults) the
//! faulting address in the thread (`trap_nr`, `error_code`, `cr2`), and
//! every signal frame's sigcontext carries the last ones recorded.
//!
//! The ptrace platform reports the host's signal and si_code but not the
//! error code, so a page fault's is rebuilt as the CPU would have made it:
//! the access (an instruction fetch, or the faulting instruction's memory
//! operand, decoded), whether the page is present, and user mode.

use iced_x86::{Decoder, DecoderOptions, InstructionInfoFactory, OpAccess, Register};

use crate::abi::signal::SI_KERNEL;
use crate::kernel::Task;
use crate::mm::TASK_SIZE;
use crate::platform::{Access, Regs};

/// X86_TRAP_DE: divide error.
const TRAP_DE: u64 = 0;
/// X86_TRAP_DB: debug (single step, hardware breakpoints).
const TRAP_DB: u64 = 1;
/// X86_TRAP_BP: int3.
const TRAP_BP: u64 = 3;
/// X86_TRAP_UD: invalid opcode.
const TRAP_UD: u64 = 6;
/// X86_TRAP_GP: general protection.
pub const TRAP_GP: u64 = 13;
/// X86_TRAP_PF: page fault.
pub const TRAP_PF: u64 = 14;
/// X86_TRAP_MF: x87 floating-point error.
const TRAP_MF: u64 = 16;
/// X86_TRAP_AC: alignment check.
const TRAP_AC: u64 = 17;
/// X86_TRAP_XF: SIMD floating-point exception.
const TRAP_XF: u64 = 19;

/// Page-fault error code bits.
const PF_PROT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_USER: u64 = 4;
const PF_INSTR: u64 = 0x10;

/// FPE_INTDIV and FPE_INTOVF: integer faults (#DE).
const FPE_INTOVF: i32 = 2;
/// BUS_ADRALN: alignment check.
const BUS_ADRALN: i32 = 1;

/// The longest x86 instruction.
const MAX_INSN: usize = 15;

/// What Linux records for a fault signal.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TrapInfo {
    /// The trap number (sigcontext `trapno`).
    pub trapno: u64,
    /// The error code (sigcontext `err`).
    pub err: u64,
    /// The last page-fault address (sigcontext `cr2`).
    pub cr2: u64,
}

impl Task {
    /// Records the trap behind a page fault at `addr` that becomes a
    /// signal; `fresh`: the page was mapped only while handling it.
    pub(crate) fn record_page_fault(&mut self, addr: u64, fresh: bool) {
        let err = self.page_fault_error(addr, fresh);
        self.trap = TrapInfo { trapno: TRAP_PF, err, cr2: addr };
    }

    /// Records the trap behind a fault signal other than a page fault
    /// (`code` is the host's si_code); the last page-fault address stays.
    pub(crate) fn record_trap(&mut self, signo: i32, code: i32) {
        let trapno = match signo {
            libc::SIGSEGV if code == SI_KERNEL => TRAP_GP,
            libc::SIGBUS if code == BUS_ADRALN => TRAP_AC,
            libc::SIGILL => TRAP_UD,
            libc::SIGFPE if code <= FPE_INTOVF => TRAP_DE,
            libc::SIGFPE if self.x87_error() => TRAP_MF,
            libc::SIGFPE => TRAP_XF,
            libc::SIGTRAP if code == SI_KERNEL => TRAP_BP,
            libc::SIGTRAP => TRAP_DB,
            _ => TRAP_PF,
        };
        self.trap = TrapInfo { trapno, err: 0, cr2: self.trap.cr2 };
    }

    /// Whether the x87 unit has an unmasked exception pending (its status
    /// word's error summary): a floating-point SIGFPE then came from x87
    /// code (#MF) rather than SSE (#XF).
    fn x87_error(&mut self) -> bool {
        // FXSAVE layout: the status word at byte 2; ES is bit 7.
        if self.load_fp().is_err() {
            return false;
        }
        self.cpu.fp().and_then(|fp| fp.get(2).copied()).is_some_and(|b| b & 0x80 != 0)
    }

    /// The error code the CPU would give for the application's page fault
    /// at `addr`.
    fn page_fault_error(&self, addr: u64, fresh: bool) -> u64 {
        let mut err = PF_USER;
        if addr >= TASK_SIZE {
            // Kernel pages are present, as Linux reports for user accesses.
            err |= PF_PROT;
        } else if !fresh && self.mm.host_present(addr) {
            err |= PF_PROT;
        }
        match self.fault_access(addr) {
            Access::Exec => err | PF_INSTR,
            Access::Write => err | PF_WRITE,
            Access::Read => err,
        }
    }

    /// How the instruction at rip touched `addr`: fetching it, or through
    /// one of its memory operands.
    fn fault_access(&self, addr: u64) -> Access {
        let regs = &self.cpu.regs;
        let fetch = addr.wrapping_sub(regs.rip) < MAX_INSN as u64;
        if fetch && !self.mm.executable(addr) {
            return Access::Exec;
        }
        let mut bytes = [0u8; MAX_INSN];
        let n = self.instruction_bytes(&mut bytes);
        operand_access(&bytes[..n], regs, addr).unwrap_or(Access::Read)
    }

    /// Whether the fault at `addr` looks like a write by the instruction at
    /// rip (decoded; a hint for the memory manager, see `handle_fault`).
    pub(crate) fn fault_write_hint(&self, addr: u64) -> bool {
        let regs = &self.cpu.regs;
        if addr.wrapping_sub(regs.rip) < MAX_INSN as u64 {
            return false;
        }
        let mut bytes = [0u8; MAX_INSN];
        let n = self.instruction_bytes(&mut bytes);
        operand_access(&bytes[..n], regs, addr) == Some(Access::Write)
    }

    /// Copies the bytes at rip (up to an unreadable page) into `bytes`;
    /// returns how many.
    fn instruction_bytes(&self, bytes: &mut [u8; MAX_INSN]) -> usize {
        let rip = self.cpu.regs.rip;
        // What is left of rip's page, then the next page's part.
        let first = (crate::abi::PAGE_SIZE - (rip & (crate::abi::PAGE_SIZE - 1))).min(MAX_INSN as u64) as usize;
        if self.mm.copy_in(rip, &mut bytes[..first]).is_err() {
            return 0;
        }
        if first < MAX_INSN && self.mm.copy_in(rip + first as u64, &mut bytes[first..]).is_err() {
            return first;
        }
        MAX_INSN
    }
}

/// The access of the memory operand of the instruction in `code` (at
/// `regs.rip`) that covers `addr`; or, if none computes to it, a write if
/// the instruction writes memory at all. None if it does not decode.
fn operand_access(code: &[u8], regs: &Regs, addr: u64) -> Option<Access> {
    let mut decoder = Decoder::with_ip(64, code, regs.rip, DecoderOptions::NONE);
    let insn = decoder.decode();
    if insn.is_invalid() {
        return None;
    }
    let mut factory = InstructionInfoFactory::new();
    let info = factory.info(&insn);
    let kind = |a: OpAccess| match a {
        OpAccess::Read | OpAccess::CondRead => Some(Access::Read),
        OpAccess::Write | OpAccess::CondWrite | OpAccess::ReadWrite | OpAccess::ReadCondWrite => Some(Access::Write),
        _ => None,
    };
    let mut writes = false;
    for m in info.used_memory() {
        let Some(access) = kind(m.access()) else { continue };
        writes |= access == Access::Write;
        let size = m.memory_size().size().max(1) as u64;
        let va = m.virtual_address(0, |reg, _, _| Some(register_value(regs, reg)));
        if va.is_some_and(|va| addr.wrapping_sub(va) < size) {
            return Some(access);
        }
    }
    Some(if writes { Access::Write } else { Access::Read })
}

/// The value of a register an address is computed from (segment registers
/// give their base: only FS and GS have one in 64-bit mode).
fn register_value(r: &Regs, reg: Register) -> u64 {
    match reg {
        Register::FS => return r.fs_base,
        Register::GS => return r.gs_base,
        Register::ES | Register::CS | Register::SS | Register::DS => return 0,
        _ => {}
    }
    let full = match reg.full_register() {
        Register::RAX => r.rax,
        Register::RBX => r.rbx,
        Register::RCX => r.rcx,
        Register::RDX => r.rdx,
        Register::RSI => r.rsi,
        Register::RDI => r.rdi,
        Register::RBP => r.rbp,
        Register::RSP => r.rsp,
        Register::R8 => r.r8,
        Register::R9 => r.r9,
        Register::R10 => r.r10,
        Register::R11 => r.r11,
        Register::R12 => r.r12,
        Register::R13 => r.r13,
        Register::R14 => r.r14,
        Register::R15 => r.r15,
        _ => 0,
    };
    match reg.size() {
        4 => full & 0xffff_ffff,
        2 => full & 0xffff,
        1 => full & 0xff,
        _ => full,
    }
}
