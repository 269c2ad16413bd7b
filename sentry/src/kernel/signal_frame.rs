//! The signal frame on the application stack (Linux's x86_64 `rt_sigframe`:
//! return address, `ucontext`, `siginfo`, then the XSAVE area, 64-byte
//! aligned, with the software bytes and trailing magic the kernel writes),
//! and `rt_sigreturn`, which restores from it.

use crate::abi::signal::{
    FP_XSTATE_MAGIC1, FP_XSTATE_MAGIC2, FRAME_SIZE, SA_RESTORER, SS_AUTODISARM, SS_DISABLE, SS_ONSTACK, UC_FP_XSTATE,
    UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS,
};
use crate::abi::{Errno, SigAction, SigContext, SigInfo, StackT, UContext};
use crate::kernel::signals::UNBLOCKABLE;
use crate::kernel::Task;

/// The EFLAGS bits a signal handler may change through the frame
/// (Linux's FIX_EFLAGS: AC, OF, DF, TF, SF, ZF, AF, PF, CF, RF).
const EFLAGS_RESTORABLE: u64 = 0x50dd5;
/// Flags cleared for the handler: DF, RF, TF.
const EFLAGS_HANDLER_CLEAR: u64 = 0x400 | 0x10000 | 0x100;

/// Offsets in the XSAVE area.
const MXCSR: usize = 24;
const MXCSR_MASK: usize = 28;
const SW_BYTES: usize = 464;
const XSTATE_BV: usize = 512;
const HEADER_END: usize = 576;

/// Whether `sp` is on the alternate stack `alt`.
pub fn on_altstack(alt: &StackT, sp: u64) -> bool {
    alt.ss_size != 0 && sp > alt.ss_sp && sp - alt.ss_sp <= alt.ss_size
}

/// The alternate stack as sigaltstack reports it: SS_DISABLE, or
/// SS_ONSTACK while on it, with SS_AUTODISARM as set.
pub fn altstack_for_user(alt: &StackT, sp: u64) -> StackT {
    let mut s = *alt;
    if alt.ss_size == 0 {
        s.ss_flags = SS_DISABLE;
        s.ss_sp = 0;
    } else {
        let on = if on_altstack(alt, sp) { SS_ONSTACK } else { 0 };
        s.ss_flags = on | (alt.ss_flags & SS_AUTODISARM);
    }
    s
}

impl Task {
    /// Builds the frame for a handler of `info.signo` and points the
    /// registers at the handler. `oldmask` is the mask to restore on
    /// return. EFAULT means the frame could not be written (the caller
    /// forces SIGSEGV).
    pub(crate) fn setup_frame(&mut self, info: &SigInfo, act: &SigAction, oldmask: u64) -> Result<(), Errno> {
        if act.flags & SA_RESTORER == 0 {
            // x86_64 needs a restorer to return through.
            return Err(Errno::EFAULT);
        }
        self.load_fp()?;
        let regs = self.cpu.regs;
        let alt = self.altstack;
        let mut sp = regs.rsp;
        let onstack = act.flags & libc::SA_ONSTACK as u64 != 0
            && alt.ss_size != 0
            && alt.ss_flags & SS_DISABLE == 0
            && !on_altstack(&alt, sp);
        if onstack {
            sp = alt.ss_sp.wrapping_add(alt.ss_size);
        } else {
            // The ABI's red zone below the stack pointer.
            sp = sp.wrapping_sub(128);
        }
        let mut fp = self.cpu.fp().ok_or(Errno::EFAULT)?.to_vec();
        let fp_size = fp.len() as u64;
        let fp_total = fp_size + 4;
        let fp_start = sp.wrapping_sub(fp_total) & !63;
        let frame = (fp_start.wrapping_sub(FRAME_SIZE) & !15).wrapping_sub(8);
        if onstack && frame < alt.ss_sp {
            return Err(Errno::EFAULT);
        }
        // The software bytes, as the kernel writes them into a frame.
        let xfeatures = self.kernel.platform.xfeatures();
        if fp.len() >= XSTATE_BV {
            fp[SW_BYTES..SW_BYTES + 4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
            fp[SW_BYTES + 4..SW_BYTES + 8].copy_from_slice(&(fp_total as u32).to_le_bytes());
            fp[SW_BYTES + 8..SW_BYTES + 16].copy_from_slice(&xfeatures.to_le_bytes());
            fp[SW_BYTES + 16..SW_BYTES + 20].copy_from_slice(&(fp_size as u32).to_le_bytes());
            fp[SW_BYTES + 20..XSTATE_BV].fill(0);
        }
        self.mm.copy_out(fp_start, &fp)?;
        self.mm.copy_out_obj(fp_start + fp_size, &FP_XSTATE_MAGIC2)?;
        let mut mc = SigContext {
            r8: regs.r8,
            r9: regs.r9,
            r10: regs.r10,
            r11: regs.r11,
            r12: regs.r12,
            r13: regs.r13,
            r14: regs.r14,
            r15: regs.r15,
            rdi: regs.rdi,
            rsi: regs.rsi,
            rbp: regs.rbp,
            rbx: regs.rbx,
            rdx: regs.rdx,
            rax: regs.rax,
            rcx: regs.rcx,
            rsp: regs.rsp,
            rip: regs.rip,
            eflags: regs.eflags,
            cs: regs.cs as u16,
            ss: regs.ss as u16,
            oldmask,
            fpstate: fp_start,
            ..Default::default()
        };
        // The last fault's trap, in every frame, as Linux does.
        mc.trapno = self.trap.trapno;
        mc.err = self.trap.err;
        mc.cr2 = self.trap.cr2;
        let uc = UContext {
            flags: UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS,
            link: 0,
            // As Linux's __save_altstack: the stack as last set.
            stack: alt,
            mcontext: mc,
            sigmask: oldmask,
        };
        let uc_addr = frame + 8;
        let info_addr = uc_addr + std::mem::size_of::<UContext>() as u64;
        self.mm.copy_out_obj(frame, &act.restorer)?;
        self.mm.copy_out_obj(uc_addr, &uc)?;
        self.mm.copy_out_obj(info_addr, info)?;
        let r = &mut self.cpu.regs;
        r.rip = act.handler;
        r.rsp = frame;
        r.rdi = info.signo as u64;
        r.rsi = info_addr;
        r.rdx = uc_addr;
        r.rax = 0;
        r.eflags &= !EFLAGS_HANDLER_CLEAR;
        let user = self.kernel.platform.initial_regs();
        r.cs = user.cs;
        r.ss = user.ss;
        // The handler starts with a clean FP state.
        let init = self.kernel.platform.initial_fp().to_vec();
        self.cpu.set_fp(&init);
        if onstack && alt.ss_flags & SS_AUTODISARM != 0 {
            self.altstack = StackT { ss_sp: 0, ss_flags: SS_DISABLE, pad: 0, ss_size: 0 };
        }
        Ok(())
    }

    /// rt_sigreturn: restores registers, mask, alternate stack and FP state
    /// from the frame at the stack pointer. EFAULT means a bad frame (the
    /// caller forces SIGSEGV).
    pub fn sigreturn(&mut self) -> Result<(), Errno> {
        let frame = self.cpu.regs.rsp.wrapping_sub(8);
        let uc: UContext = self.mm.copy_in_obj(frame + 8)?;
        let mc = &uc.mcontext;
        let user = self.kernel.platform.initial_regs();
        let r = &mut self.cpu.regs;
        r.r8 = mc.r8;
        r.r9 = mc.r9;
        r.r10 = mc.r10;
        r.r11 = mc.r11;
        r.r12 = mc.r12;
        r.r13 = mc.r13;
        r.r14 = mc.r14;
        r.r15 = mc.r15;
        r.rdi = mc.rdi;
        r.rsi = mc.rsi;
        r.rbp = mc.rbp;
        r.rbx = mc.rbx;
        r.rdx = mc.rdx;
        r.rax = mc.rax;
        r.rcx = mc.rcx;
        r.rsp = mc.rsp;
        r.rip = mc.rip;
        r.eflags = (r.eflags & !EFLAGS_RESTORABLE) | (mc.eflags & EFLAGS_RESTORABLE);
        // Only the sandbox's own user segments.
        r.cs = user.cs;
        r.ss = user.ss;
        r.orig_rax = u64::MAX;
        // The FP state.
        let init = self.kernel.platform.initial_fp();
        let mut fp = init.to_vec();
        if mc.fpstate != 0 {
            if !mc.fpstate.is_multiple_of(64) {
                return Err(Errno::EFAULT);
            }
            self.mm.copy_in(mc.fpstate, &mut fp)?;
            sanitize_fp(&mut fp, init, self.kernel.platform.xfeatures())?;
        }
        self.cpu.set_fp(&fp);
        // The mask and the alternate stack.
        self.set_signal_mask(uc.sigmask & !UNBLOCKABLE);
        let _ = self.set_altstack(&uc.stack);
        Ok(())
    }
}

/// Makes an XSAVE image from the application acceptable to the host: only
/// features it has, the standard format. An image without the software
/// bytes' magic is legacy FXSAVE state: its x87 and SSE parts count, the
/// rest is reset. MXCSR bits the CPU does not have make the frame bad
/// (EFAULT: the caller forces SIGSEGV), as in Linux.
fn sanitize_fp(fp: &mut [u8], init: &[u8], xfeatures: u64) -> Result<(), Errno> {
    if fp.len() < HEADER_END || init.len() < HEADER_END {
        return Ok(());
    }
    let word = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let mask = match word(init, MXCSR_MASK) {
        0 => 0xffbf,
        m => m,
    };
    if word(fp, MXCSR) & !mask != 0 {
        return Err(Errno::EFAULT);
    }
    fp[MXCSR_MASK..MXCSR_MASK + 4].copy_from_slice(&init[MXCSR_MASK..MXCSR_MASK + 4]);
    let legacy_only = word(fp, SW_BYTES) != FP_XSTATE_MAGIC1;
    let bv = if legacy_only {
        let n = fp.len();
        fp[HEADER_END..].copy_from_slice(&init[HEADER_END..n]);
        3
    } else {
        u64::from_le_bytes(fp[XSTATE_BV..XSTATE_BV + 8].try_into().unwrap_or([0; 8])) & xfeatures
    };
    fp[SW_BYTES..XSTATE_BV].copy_from_slice(&init[SW_BYTES..XSTATE_BV]);
    fp[XSTATE_BV..XSTATE_BV + 8].copy_from_slice(&bv.to_le_bytes());
    fp[XSTATE_BV + 8..HEADER_END].fill(0);
    Ok(())
}
