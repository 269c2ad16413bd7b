/*
 * signal_fpu.c: floating-point and vector state across signal handlers.
 * x87 (stack, control word), SSE (xmm0-15, MXCSR) and, when the CPU has
 * them, AVX (ymm0-15) and AVX-512 (zmm0-31, k0-7) registers are saved in the
 * signal frame and restored by sigreturn, although the handler changes all
 * of them; the handler starts with a fresh state (default MXCSR and x87
 * control word, empty x87 stack, zeroed vector registers); the frame's
 * fpregs hold the interrupted state, and changes made there are honoured;
 * an invalid MXCSR in the frame makes sigreturn fail.
 *
 * The signal is SIGILL from a ud2 inside assembly that loads the registers
 * before and stores them after, so no compiled code runs in between.
 * Output does not depend on the CPU: a check for a missing extension prints
 * the same as a passing one.
 */
#include "common.h"
#include <signal.h>
#include <sys/wait.h>
#include <ucontext.h>

#define HIDDEN __attribute__((visibility("hidden")))

/* The layout the assembly below uses. */
struct fpu_io {
	uint8_t z[32][64];	/* 0: xmm/ymm/zmm i at i * 64 */
	uint64_t k[8];		/* 2048: k0-7, 16 bits used */
	double st[3];		/* 2112: pushed in this order */
	uint32_t mxcsr;		/* 2136 */
	uint16_t fcw;		/* 2140 */
	uint16_t pad;
} __attribute__((aligned(64)));

_Static_assert(__builtin_offsetof(struct fpu_io, k) == 2048, "layout");
_Static_assert(__builtin_offsetof(struct fpu_io, st) == 2112, "layout");
_Static_assert(__builtin_offsetof(struct fpu_io, mxcsr) == 2136, "layout");
_Static_assert(__builtin_offsetof(struct fpu_io, fcw) == 2140, "layout");

HIDDEN void sse_roundtrip(const struct fpu_io *in, struct fpu_io *out);
HIDDEN void avx_roundtrip(const struct fpu_io *in, struct fpu_io *out);
HIDDEN void avx512_roundtrip(const struct fpu_io *in, struct fpu_io *out);
HIDDEN extern char sse_ud2[], avx_ud2[], avx512_ud2[];
HIDDEN void fpu_stub(int sig, siginfo_t *si, void *uc);
HIDDEN void fpu_handler_c(int sig, siginfo_t *si, void *uc);
HIDDEN void clobber_sse(const void *garbage);
HIDDEN void clobber_avx(const void *garbage);
HIDDEN void clobber_avx512(const void *garbage);

/* What the stub saves at handler entry. */
HIDDEN uint8_t h_regs[32 * 64] __attribute__((aligned(64)));
HIDDEN uint64_t h_k[8];
HIDDEN uint32_t h_mxcsr;
HIDDEN uint16_t h_fcw, h_fsw;
HIDDEN uint8_t h_env[28];
HIDDEN int h_level; /* 0: SSE, 1: AVX, 2: AVX-512 */

asm(
    ".text\n"
    ".globl sse_roundtrip\n"
    ".hidden sse_roundtrip\n"
    ".type sse_roundtrip, @function\n"
    "sse_roundtrip:\n"
    "movdqu 0(%rdi), %xmm0\n"
    "movdqu 64(%rdi), %xmm1\n"
    "movdqu 128(%rdi), %xmm2\n"
    "movdqu 192(%rdi), %xmm3\n"
    "movdqu 256(%rdi), %xmm4\n"
    "movdqu 320(%rdi), %xmm5\n"
    "movdqu 384(%rdi), %xmm6\n"
    "movdqu 448(%rdi), %xmm7\n"
    "movdqu 512(%rdi), %xmm8\n"
    "movdqu 576(%rdi), %xmm9\n"
    "movdqu 640(%rdi), %xmm10\n"
    "movdqu 704(%rdi), %xmm11\n"
    "movdqu 768(%rdi), %xmm12\n"
    "movdqu 832(%rdi), %xmm13\n"
    "movdqu 896(%rdi), %xmm14\n"
    "movdqu 960(%rdi), %xmm15\n"
    "fldl 2112(%rdi)\n"
    "fldl 2120(%rdi)\n"
    "fldl 2128(%rdi)\n"
    "ldmxcsr 2136(%rdi)\n"
    "fldcw 2140(%rdi)\n"
    ".globl sse_ud2\n"
    ".hidden sse_ud2\n"
    ".type sse_ud2, @function\n"
    "sse_ud2:\n"
    "ud2\n"
    "movdqu %xmm0, 0(%rsi)\n"
    "movdqu %xmm1, 64(%rsi)\n"
    "movdqu %xmm2, 128(%rsi)\n"
    "movdqu %xmm3, 192(%rsi)\n"
    "movdqu %xmm4, 256(%rsi)\n"
    "movdqu %xmm5, 320(%rsi)\n"
    "movdqu %xmm6, 384(%rsi)\n"
    "movdqu %xmm7, 448(%rsi)\n"
    "movdqu %xmm8, 512(%rsi)\n"
    "movdqu %xmm9, 576(%rsi)\n"
    "movdqu %xmm10, 640(%rsi)\n"
    "movdqu %xmm11, 704(%rsi)\n"
    "movdqu %xmm12, 768(%rsi)\n"
    "movdqu %xmm13, 832(%rsi)\n"
    "movdqu %xmm14, 896(%rsi)\n"
    "movdqu %xmm15, 960(%rsi)\n"
    "stmxcsr 2136(%rsi)\n"
    "fnstcw 2140(%rsi)\n"
    "fstpl 2128(%rsi)\n"
    "fstpl 2120(%rsi)\n"
    "fstpl 2112(%rsi)\n"
    "ldmxcsr default_mxcsr(%rip)\n"
    "fldcw default_fcw(%rip)\n"
    "ret\n"
    ".globl avx_roundtrip\n"
    ".hidden avx_roundtrip\n"
    ".type avx_roundtrip, @function\n"
    "avx_roundtrip:\n"
    "vmovdqu 0(%rdi), %ymm0\n"
    "vmovdqu 64(%rdi), %ymm1\n"
    "vmovdqu 128(%rdi), %ymm2\n"
    "vmovdqu 192(%rdi), %ymm3\n"
    "vmovdqu 256(%rdi), %ymm4\n"
    "vmovdqu 320(%rdi), %ymm5\n"
    "vmovdqu 384(%rdi), %ymm6\n"
    "vmovdqu 448(%rdi), %ymm7\n"
    "vmovdqu 512(%rdi), %ymm8\n"
    "vmovdqu 576(%rdi), %ymm9\n"
    "vmovdqu 640(%rdi), %ymm10\n"
    "vmovdqu 704(%rdi), %ymm11\n"
    "vmovdqu 768(%rdi), %ymm12\n"
    "vmovdqu 832(%rdi), %ymm13\n"
    "vmovdqu 896(%rdi), %ymm14\n"
    "vmovdqu 960(%rdi), %ymm15\n"
    "fldl 2112(%rdi)\n"
    "fldl 2120(%rdi)\n"
    "fldl 2128(%rdi)\n"
    "ldmxcsr 2136(%rdi)\n"
    "fldcw 2140(%rdi)\n"
    ".globl avx_ud2\n"
    ".hidden avx_ud2\n"
    ".type avx_ud2, @function\n"
    "avx_ud2:\n"
    "ud2\n"
    "vmovdqu %ymm0, 0(%rsi)\n"
    "vmovdqu %ymm1, 64(%rsi)\n"
    "vmovdqu %ymm2, 128(%rsi)\n"
    "vmovdqu %ymm3, 192(%rsi)\n"
    "vmovdqu %ymm4, 256(%rsi)\n"
    "vmovdqu %ymm5, 320(%rsi)\n"
    "vmovdqu %ymm6, 384(%rsi)\n"
    "vmovdqu %ymm7, 448(%rsi)\n"
    "vmovdqu %ymm8, 512(%rsi)\n"
    "vmovdqu %ymm9, 576(%rsi)\n"
    "vmovdqu %ymm10, 640(%rsi)\n"
    "vmovdqu %ymm11, 704(%rsi)\n"
    "vmovdqu %ymm12, 768(%rsi)\n"
    "vmovdqu %ymm13, 832(%rsi)\n"
    "vmovdqu %ymm14, 896(%rsi)\n"
    "vmovdqu %ymm15, 960(%rsi)\n"
    "stmxcsr 2136(%rsi)\n"
    "fnstcw 2140(%rsi)\n"
    "fstpl 2128(%rsi)\n"
    "fstpl 2120(%rsi)\n"
    "fstpl 2112(%rsi)\n"
    "ldmxcsr default_mxcsr(%rip)\n"
    "fldcw default_fcw(%rip)\n"
    "vzeroupper\n"
    "ret\n"
    ".globl avx512_roundtrip\n"
    ".hidden avx512_roundtrip\n"
    ".type avx512_roundtrip, @function\n"
    "avx512_roundtrip:\n"
    "vmovdqu64 0(%rdi), %zmm0\n"
    "vmovdqu64 64(%rdi), %zmm1\n"
    "vmovdqu64 128(%rdi), %zmm2\n"
    "vmovdqu64 192(%rdi), %zmm3\n"
    "vmovdqu64 256(%rdi), %zmm4\n"
    "vmovdqu64 320(%rdi), %zmm5\n"
    "vmovdqu64 384(%rdi), %zmm6\n"
    "vmovdqu64 448(%rdi), %zmm7\n"
    "vmovdqu64 512(%rdi), %zmm8\n"
    "vmovdqu64 576(%rdi), %zmm9\n"
    "vmovdqu64 640(%rdi), %zmm10\n"
    "vmovdqu64 704(%rdi), %zmm11\n"
    "vmovdqu64 768(%rdi), %zmm12\n"
    "vmovdqu64 832(%rdi), %zmm13\n"
    "vmovdqu64 896(%rdi), %zmm14\n"
    "vmovdqu64 960(%rdi), %zmm15\n"
    "vmovdqu64 1024(%rdi), %zmm16\n"
    "vmovdqu64 1088(%rdi), %zmm17\n"
    "vmovdqu64 1152(%rdi), %zmm18\n"
    "vmovdqu64 1216(%rdi), %zmm19\n"
    "vmovdqu64 1280(%rdi), %zmm20\n"
    "vmovdqu64 1344(%rdi), %zmm21\n"
    "vmovdqu64 1408(%rdi), %zmm22\n"
    "vmovdqu64 1472(%rdi), %zmm23\n"
    "vmovdqu64 1536(%rdi), %zmm24\n"
    "vmovdqu64 1600(%rdi), %zmm25\n"
    "vmovdqu64 1664(%rdi), %zmm26\n"
    "vmovdqu64 1728(%rdi), %zmm27\n"
    "vmovdqu64 1792(%rdi), %zmm28\n"
    "vmovdqu64 1856(%rdi), %zmm29\n"
    "vmovdqu64 1920(%rdi), %zmm30\n"
    "vmovdqu64 1984(%rdi), %zmm31\n"
    "kmovw 2048(%rdi), %k0\n"
    "kmovw 2056(%rdi), %k1\n"
    "kmovw 2064(%rdi), %k2\n"
    "kmovw 2072(%rdi), %k3\n"
    "kmovw 2080(%rdi), %k4\n"
    "kmovw 2088(%rdi), %k5\n"
    "kmovw 2096(%rdi), %k6\n"
    "kmovw 2104(%rdi), %k7\n"
    "fldl 2112(%rdi)\n"
    "fldl 2120(%rdi)\n"
    "fldl 2128(%rdi)\n"
    "ldmxcsr 2136(%rdi)\n"
    "fldcw 2140(%rdi)\n"
    ".globl avx512_ud2\n"
    ".hidden avx512_ud2\n"
    ".type avx512_ud2, @function\n"
    "avx512_ud2:\n"
    "ud2\n"
    "vmovdqu64 %zmm0, 0(%rsi)\n"
    "vmovdqu64 %zmm1, 64(%rsi)\n"
    "vmovdqu64 %zmm2, 128(%rsi)\n"
    "vmovdqu64 %zmm3, 192(%rsi)\n"
    "vmovdqu64 %zmm4, 256(%rsi)\n"
    "vmovdqu64 %zmm5, 320(%rsi)\n"
    "vmovdqu64 %zmm6, 384(%rsi)\n"
    "vmovdqu64 %zmm7, 448(%rsi)\n"
    "vmovdqu64 %zmm8, 512(%rsi)\n"
    "vmovdqu64 %zmm9, 576(%rsi)\n"
    "vmovdqu64 %zmm10, 640(%rsi)\n"
    "vmovdqu64 %zmm11, 704(%rsi)\n"
    "vmovdqu64 %zmm12, 768(%rsi)\n"
    "vmovdqu64 %zmm13, 832(%rsi)\n"
    "vmovdqu64 %zmm14, 896(%rsi)\n"
    "vmovdqu64 %zmm15, 960(%rsi)\n"
    "vmovdqu64 %zmm16, 1024(%rsi)\n"
    "vmovdqu64 %zmm17, 1088(%rsi)\n"
    "vmovdqu64 %zmm18, 1152(%rsi)\n"
    "vmovdqu64 %zmm19, 1216(%rsi)\n"
    "vmovdqu64 %zmm20, 1280(%rsi)\n"
    "vmovdqu64 %zmm21, 1344(%rsi)\n"
    "vmovdqu64 %zmm22, 1408(%rsi)\n"
    "vmovdqu64 %zmm23, 1472(%rsi)\n"
    "vmovdqu64 %zmm24, 1536(%rsi)\n"
    "vmovdqu64 %zmm25, 1600(%rsi)\n"
    "vmovdqu64 %zmm26, 1664(%rsi)\n"
    "vmovdqu64 %zmm27, 1728(%rsi)\n"
    "vmovdqu64 %zmm28, 1792(%rsi)\n"
    "vmovdqu64 %zmm29, 1856(%rsi)\n"
    "vmovdqu64 %zmm30, 1920(%rsi)\n"
    "vmovdqu64 %zmm31, 1984(%rsi)\n"
    "kmovw %k0, 2048(%rsi)\n"
    "kmovw %k1, 2056(%rsi)\n"
    "kmovw %k2, 2064(%rsi)\n"
    "kmovw %k3, 2072(%rsi)\n"
    "kmovw %k4, 2080(%rsi)\n"
    "kmovw %k5, 2088(%rsi)\n"
    "kmovw %k6, 2096(%rsi)\n"
    "kmovw %k7, 2104(%rsi)\n"
    "stmxcsr 2136(%rsi)\n"
    "fnstcw 2140(%rsi)\n"
    "fstpl 2128(%rsi)\n"
    "fstpl 2120(%rsi)\n"
    "fstpl 2112(%rsi)\n"
    "ldmxcsr default_mxcsr(%rip)\n"
    "fldcw default_fcw(%rip)\n"
    "vzeroupper\n"
    "ret\n"
    ".globl fpu_stub\n"
    ".hidden fpu_stub\n"
    ".type fpu_stub, @function\n"
    "fpu_stub:\n"
    "stmxcsr h_mxcsr(%rip)\n"
    "fnstcw h_fcw(%rip)\n"
    "fnstsw h_fsw(%rip)\n"
    "fnstenv h_env(%rip)\n"
    "fldenv h_env(%rip)\n"
    "movdqu %xmm0, h_regs+0(%rip)\n"
    "movdqu %xmm1, h_regs+64(%rip)\n"
    "movdqu %xmm2, h_regs+128(%rip)\n"
    "movdqu %xmm3, h_regs+192(%rip)\n"
    "movdqu %xmm4, h_regs+256(%rip)\n"
    "movdqu %xmm5, h_regs+320(%rip)\n"
    "movdqu %xmm6, h_regs+384(%rip)\n"
    "movdqu %xmm7, h_regs+448(%rip)\n"
    "movdqu %xmm8, h_regs+512(%rip)\n"
    "movdqu %xmm9, h_regs+576(%rip)\n"
    "movdqu %xmm10, h_regs+640(%rip)\n"
    "movdqu %xmm11, h_regs+704(%rip)\n"
    "movdqu %xmm12, h_regs+768(%rip)\n"
    "movdqu %xmm13, h_regs+832(%rip)\n"
    "movdqu %xmm14, h_regs+896(%rip)\n"
    "movdqu %xmm15, h_regs+960(%rip)\n"
    "cmpl $0, h_level(%rip)\n"
    "je 1f\n"
    "vmovdqu %ymm0, h_regs+0(%rip)\n"
    "vmovdqu %ymm1, h_regs+64(%rip)\n"
    "vmovdqu %ymm2, h_regs+128(%rip)\n"
    "vmovdqu %ymm3, h_regs+192(%rip)\n"
    "vmovdqu %ymm4, h_regs+256(%rip)\n"
    "vmovdqu %ymm5, h_regs+320(%rip)\n"
    "vmovdqu %ymm6, h_regs+384(%rip)\n"
    "vmovdqu %ymm7, h_regs+448(%rip)\n"
    "vmovdqu %ymm8, h_regs+512(%rip)\n"
    "vmovdqu %ymm9, h_regs+576(%rip)\n"
    "vmovdqu %ymm10, h_regs+640(%rip)\n"
    "vmovdqu %ymm11, h_regs+704(%rip)\n"
    "vmovdqu %ymm12, h_regs+768(%rip)\n"
    "vmovdqu %ymm13, h_regs+832(%rip)\n"
    "vmovdqu %ymm14, h_regs+896(%rip)\n"
    "vmovdqu %ymm15, h_regs+960(%rip)\n"
    "cmpl $2, h_level(%rip)\n"
    "jne 1f\n"
    "vmovdqu64 %zmm0, h_regs+0(%rip)\n"
    "vmovdqu64 %zmm1, h_regs+64(%rip)\n"
    "vmovdqu64 %zmm2, h_regs+128(%rip)\n"
    "vmovdqu64 %zmm3, h_regs+192(%rip)\n"
    "vmovdqu64 %zmm4, h_regs+256(%rip)\n"
    "vmovdqu64 %zmm5, h_regs+320(%rip)\n"
    "vmovdqu64 %zmm6, h_regs+384(%rip)\n"
    "vmovdqu64 %zmm7, h_regs+448(%rip)\n"
    "vmovdqu64 %zmm8, h_regs+512(%rip)\n"
    "vmovdqu64 %zmm9, h_regs+576(%rip)\n"
    "vmovdqu64 %zmm10, h_regs+640(%rip)\n"
    "vmovdqu64 %zmm11, h_regs+704(%rip)\n"
    "vmovdqu64 %zmm12, h_regs+768(%rip)\n"
    "vmovdqu64 %zmm13, h_regs+832(%rip)\n"
    "vmovdqu64 %zmm14, h_regs+896(%rip)\n"
    "vmovdqu64 %zmm15, h_regs+960(%rip)\n"
    "vmovdqu64 %zmm16, h_regs+1024(%rip)\n"
    "vmovdqu64 %zmm17, h_regs+1088(%rip)\n"
    "vmovdqu64 %zmm18, h_regs+1152(%rip)\n"
    "vmovdqu64 %zmm19, h_regs+1216(%rip)\n"
    "vmovdqu64 %zmm20, h_regs+1280(%rip)\n"
    "vmovdqu64 %zmm21, h_regs+1344(%rip)\n"
    "vmovdqu64 %zmm22, h_regs+1408(%rip)\n"
    "vmovdqu64 %zmm23, h_regs+1472(%rip)\n"
    "vmovdqu64 %zmm24, h_regs+1536(%rip)\n"
    "vmovdqu64 %zmm25, h_regs+1600(%rip)\n"
    "vmovdqu64 %zmm26, h_regs+1664(%rip)\n"
    "vmovdqu64 %zmm27, h_regs+1728(%rip)\n"
    "vmovdqu64 %zmm28, h_regs+1792(%rip)\n"
    "vmovdqu64 %zmm29, h_regs+1856(%rip)\n"
    "vmovdqu64 %zmm30, h_regs+1920(%rip)\n"
    "vmovdqu64 %zmm31, h_regs+1984(%rip)\n"
    "kmovw %k0, h_k+0(%rip)\n"
    "kmovw %k1, h_k+8(%rip)\n"
    "kmovw %k2, h_k+16(%rip)\n"
    "kmovw %k3, h_k+24(%rip)\n"
    "kmovw %k4, h_k+32(%rip)\n"
    "kmovw %k5, h_k+40(%rip)\n"
    "kmovw %k6, h_k+48(%rip)\n"
    "kmovw %k7, h_k+56(%rip)\n"
    "1:\n"
    "jmp fpu_handler_c\n"
    ".globl clobber_sse\n"
    ".hidden clobber_sse\n"
    ".type clobber_sse, @function\n"
    "clobber_sse:\n"
    "movdqu 0(%rdi), %xmm0\n"
    "movdqu 16(%rdi), %xmm1\n"
    "movdqu 32(%rdi), %xmm2\n"
    "movdqu 48(%rdi), %xmm3\n"
    "movdqu 64(%rdi), %xmm4\n"
    "movdqu 80(%rdi), %xmm5\n"
    "movdqu 96(%rdi), %xmm6\n"
    "movdqu 112(%rdi), %xmm7\n"
    "movdqu 128(%rdi), %xmm8\n"
    "movdqu 144(%rdi), %xmm9\n"
    "movdqu 160(%rdi), %xmm10\n"
    "movdqu 176(%rdi), %xmm11\n"
    "movdqu 192(%rdi), %xmm12\n"
    "movdqu 208(%rdi), %xmm13\n"
    "movdqu 224(%rdi), %xmm14\n"
    "movdqu 240(%rdi), %xmm15\n"
    "ldmxcsr clobber_mxcsr(%rip)\n"
    "fldcw clobber_fcw(%rip)\n"
    "fld1\n"
    "fldpi\n"
    "fldz\n"
    "ret\n"
    ".globl clobber_avx\n"
    ".hidden clobber_avx\n"
    ".type clobber_avx, @function\n"
    "clobber_avx:\n"
    "vmovdqu 0(%rdi), %ymm0\n"
    "vmovdqu 16(%rdi), %ymm1\n"
    "vmovdqu 32(%rdi), %ymm2\n"
    "vmovdqu 48(%rdi), %ymm3\n"
    "vmovdqu 64(%rdi), %ymm4\n"
    "vmovdqu 80(%rdi), %ymm5\n"
    "vmovdqu 96(%rdi), %ymm6\n"
    "vmovdqu 112(%rdi), %ymm7\n"
    "vmovdqu 128(%rdi), %ymm8\n"
    "vmovdqu 144(%rdi), %ymm9\n"
    "vmovdqu 160(%rdi), %ymm10\n"
    "vmovdqu 176(%rdi), %ymm11\n"
    "vmovdqu 192(%rdi), %ymm12\n"
    "vmovdqu 208(%rdi), %ymm13\n"
    "vmovdqu 224(%rdi), %ymm14\n"
    "vmovdqu 240(%rdi), %ymm15\n"
    "ret\n"
    ".globl clobber_avx512\n"
    ".hidden clobber_avx512\n"
    ".type clobber_avx512, @function\n"
    "clobber_avx512:\n"
    "vmovdqu64 0(%rdi), %zmm0\n"
    "vmovdqu64 8(%rdi), %zmm1\n"
    "vmovdqu64 16(%rdi), %zmm2\n"
    "vmovdqu64 24(%rdi), %zmm3\n"
    "vmovdqu64 32(%rdi), %zmm4\n"
    "vmovdqu64 40(%rdi), %zmm5\n"
    "vmovdqu64 48(%rdi), %zmm6\n"
    "vmovdqu64 56(%rdi), %zmm7\n"
    "vmovdqu64 64(%rdi), %zmm8\n"
    "vmovdqu64 72(%rdi), %zmm9\n"
    "vmovdqu64 80(%rdi), %zmm10\n"
    "vmovdqu64 88(%rdi), %zmm11\n"
    "vmovdqu64 96(%rdi), %zmm12\n"
    "vmovdqu64 104(%rdi), %zmm13\n"
    "vmovdqu64 112(%rdi), %zmm14\n"
    "vmovdqu64 120(%rdi), %zmm15\n"
    "vmovdqu64 128(%rdi), %zmm16\n"
    "vmovdqu64 136(%rdi), %zmm17\n"
    "vmovdqu64 144(%rdi), %zmm18\n"
    "vmovdqu64 152(%rdi), %zmm19\n"
    "vmovdqu64 160(%rdi), %zmm20\n"
    "vmovdqu64 168(%rdi), %zmm21\n"
    "vmovdqu64 176(%rdi), %zmm22\n"
    "vmovdqu64 184(%rdi), %zmm23\n"
    "vmovdqu64 192(%rdi), %zmm24\n"
    "vmovdqu64 200(%rdi), %zmm25\n"
    "vmovdqu64 208(%rdi), %zmm26\n"
    "vmovdqu64 216(%rdi), %zmm27\n"
    "vmovdqu64 224(%rdi), %zmm28\n"
    "vmovdqu64 232(%rdi), %zmm29\n"
    "vmovdqu64 240(%rdi), %zmm30\n"
    "vmovdqu64 248(%rdi), %zmm31\n"
    "kmovw 0(%rdi), %k0\n"
    "kmovw 2(%rdi), %k1\n"
    "kmovw 4(%rdi), %k2\n"
    "kmovw 6(%rdi), %k3\n"
    "kmovw 8(%rdi), %k4\n"
    "kmovw 10(%rdi), %k5\n"
    "kmovw 12(%rdi), %k6\n"
    "kmovw 14(%rdi), %k7\n"
    "ret\n"
    ".section .rodata\n"
    ".balign 4\n"
    "default_mxcsr: .long 0x1f80\n"
    "default_fcw: .short 0x37f\n"
    ".balign 4\n"
    "clobber_mxcsr: .long 0xffc0\n"
    "clobber_fcw: .short 0x0c7f\n"
    ".text\n");

static uint8_t garbage[256];

/* What the handler saw and does. */
static volatile int calls;
static int modify_frame;	/* 1: change mxcsr and xmm0 in the frame, 2: bad mxcsr */
static const struct fpu_io *expect;
static struct {
	uint32_t mxcsr, frame_mxcsr;
	uint16_t fcw, fsw, ftw, frame_cwd;
	int regs_zero, k_zero, frame_xmm_ok, magic1, magic2, bv_x87_sse;
	long work;
} seen;

void fpu_handler_c(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	struct _libc_fpstate *fp = uc->uc_mcontext.fpregs;
	uint32_t *fx = (uint32_t *)fp;
	int n = h_level == 2 ? 64 * 32 : h_level == 1 ? 16 * 64 : 16 * 64;

	(void)sig;
	(void)si;
	calls++;
	seen.mxcsr = h_mxcsr;
	seen.fcw = h_fcw;
	seen.fsw = h_fsw;
	seen.ftw = h_env[8] | h_env[9] << 8;
	seen.regs_zero = 1;
	for (int i = 0; i < n; i++) {
		/* Only the bytes of the registers the level covers. */
		int reg = i / 64, byte = i % 64;
		int width = h_level == 2 ? 64 : h_level == 1 ? 32 : 16;

		if (byte < width && (h_level == 2 || reg < 16) && h_regs[i])
			seen.regs_zero = 0;
	}
	seen.k_zero = 1;
	for (int i = 0; i < 8 && h_level == 2; i++)
		if (h_k[i] & 0xffff)
			seen.k_zero = 0;

	/* The interrupted state, in the frame. */
	seen.frame_mxcsr = fp->mxcsr;
	seen.frame_cwd = fp->cwd;
	seen.frame_xmm_ok = 1;
	for (int i = 0; i < 16; i++)
		if (memcmp(&fp->_xmm[i], expect->z[i], 16))
			seen.frame_xmm_ok = 0;
	seen.magic1 = fx[464 / 4] == FP_XSTATE_MAGIC1;
	seen.magic2 = 0;
	seen.bv_x87_sse = 0;
	if (seen.magic1) {
		uint32_t extended_size = fx[468 / 4];
		uint32_t m2;

		memcpy(&m2, (char *)fp + extended_size - 4, 4);
		seen.magic2 = m2 == FP_XSTATE_MAGIC2;
		seen.bv_x87_sse = (*(uint64_t *)((char *)fp + 512) & 3) == 3;
	}

	/* Use the FPU: compute, then load other values everywhere. */
	volatile double x = 3.0;
	for (int i = 0; i < 10; i++)
		x = x * 1.5 - 0.25;
	seen.work = (long)x;
	clobber_sse(garbage);
	if (h_level >= 1)
		clobber_avx(garbage);
	if (h_level >= 2)
		clobber_avx512(garbage);

	if (modify_frame == 1) {
		fp->mxcsr = 0x3f80;
		memset(&fp->_xmm[0], 0x77, 16);
	} else if (modify_frame == 2) {
		fp->mxcsr = 0xffffffff;
	}
	uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void fill(struct fpu_io *in)
{
	memset(in, 0, sizeof(*in));
	for (int r = 0; r < 32; r++)
		for (int b = 0; b < 64; b++)
			in->z[r][b] = (uint8_t)(r * 37 + b * 11 + 1);
	for (int i = 0; i < 8; i++)
		in->k[i] = 0x1111 * (i + 1);
	in->st[0] = 1.5;
	in->st[1] = -2.25;
	in->st[2] = 1e300;
	in->mxcsr = 0x5f80 | 0x1;	/* round up, invalid-operation flag set */
	in->fcw = 0x027f;		/* 53-bit precision */
}

static int same_regs(const struct fpu_io *a, const struct fpu_io *b, int regs, int width,
		     int skip_reg0)
{
	for (int r = skip_reg0 ? 1 : 0; r < regs; r++)
		if (memcmp(a->z[r], b->z[r], width))
			return 0;
	return 1;
}

static void show_seen(void)
{
	printf("  in the handler: calls %d MXCSR 0x%x FCW 0x%x FSW 0x%x tag word 0x%x,"
	       " vector registers zero %d, k registers zero %d\n", calls, seen.mxcsr, seen.fcw,
	       seen.fsw, seen.ftw, seen.regs_zero, seen.k_zero);
	printf("  frame: MXCSR 0x%x FCW 0x%x xmm ok %d magic1 %d magic2 %d xstate_bv x87|sse %d,"
	       " handler computed %ld\n", seen.frame_mxcsr, seen.frame_cwd, seen.frame_xmm_ok,
	       seen.magic1, seen.magic2, seen.bv_x87_sse, seen.work);
	calls = 0;
}

static void show_after(const struct fpu_io *in, const struct fpu_io *out)
{
	printf("  after: MXCSR 0x%x FCW 0x%x x87 stack kept %d\n", out->mxcsr, out->fcw,
	       memcmp(in->st, out->st, sizeof(in->st)) == 0);
}

int main(void)
{
	static struct fpu_io in, out;
	struct sigaction sa;
	int avx = __builtin_cpu_supports("avx");
	int avx512 = avx && __builtin_cpu_supports("avx512f");

	alarm(10);
	for (int i = 0; i < 256; i++)
		garbage[i] = (uint8_t)(0xa5 ^ i);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fpu_stub;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGILL, &sa, NULL);
	fill(&in);
	expect = &in;

	printf("x87 and SSE:\n");
	h_level = 0;
	memset(&out, 0, sizeof(out));
	sse_roundtrip(&in, &out);
	show_seen();
	printf("  xmm0-15 kept %d\n", same_regs(&in, &out, 16, 16, 0));
	show_after(&in, &out);

	printf("AVX (ymm0-15):\n");
	memset(&out, 0, sizeof(out));
	if (avx) {
		h_level = 1;
		avx_roundtrip(&in, &out);
		show_seen();
		printf("  ymm0-15 kept (or no AVX) %d\n", same_regs(&in, &out, 16, 32, 0));
		show_after(&in, &out);
	} else {
		printf("  ymm0-15 kept (or no AVX) 1\n");
	}

	printf("AVX-512 (zmm0-31, k0-7):\n");
	memset(&out, 0, sizeof(out));
	if (avx512) {
		h_level = 2;
		avx512_roundtrip(&in, &out);
		int k_ok = 1;
		for (int i = 0; i < 8; i++)
			if ((out.k[i] & 0xffff) != (in.k[i] & 0xffff))
				k_ok = 0;
		printf("  zmm0-31 kept (or no AVX-512) %d, k0-7 kept %d, zero in the handler %d %d\n",
		       same_regs(&in, &out, 32, 64, 0), k_ok, seen.regs_zero, seen.k_zero);
		calls = 0;
	} else {
		printf("  zmm0-31 kept (or no AVX-512) 1, k0-7 kept 1, zero in the handler 1 1\n");
	}

	printf("the handler changes MXCSR and xmm0 in the frame:\n");
	h_level = avx512 ? 2 : avx ? 1 : 0;
	modify_frame = 1;
	memset(&out, 0, sizeof(out));
	sse_roundtrip(&in, &out);
	uint8_t sevens[16];
	memset(sevens, 0x77, 16);
	printf("  calls %d, MXCSR after 0x%x, xmm0 is the new value %d, xmm1-15 kept %d\n", calls,
	       out.mxcsr, memcmp(out.z[0], sevens, 16) == 0, same_regs(&in, &out, 16, 16, 1));
	calls = 0;
	modify_frame = 0;

	printf("an invalid MXCSR in the frame:\n");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		alarm(5);
		modify_frame = 2;
		sse_roundtrip(&in, &out);
		_exit(calls == 1 ? 3 : 4);
	}
	int status;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status))
		printf("  child exited %d\n", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		printf("  child killed by %d\n", WTERMSIG(status));

	/* The main program's own state is intact. */
	uint32_t mxcsr;
	uint16_t fcw;
	asm volatile("stmxcsr %0" : "=m"(mxcsr));
	asm volatile("fnstcw %0" : "=m"(fcw));
	printf("final MXCSR 0x%x FCW 0x%x\n", mxcsr, fcw);
	return 0;
}
