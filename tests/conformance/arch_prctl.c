/*
 * arch_prctl.c: arch_prctl(2): the FS base is glibc's thread pointer, the GS
 * base can be set and read back, and bad codes, pointers and non-canonical
 * addresses are refused.
 */
#include "common.h"
#include <asm/prctl.h>
#include <pthread.h>

static __thread int tls_var = 42;

int main(void)
{
	unsigned long fs = 0, gs = 1, v;

	SYS(arch_prctl, ARCH_GET_FS, &fs);
	SHOW(fs == (unsigned long)pthread_self());
	SHOW(fs != 0 && fs % 8 == 0);
	/* The TCB's first word points at itself on x86_64. */
	SHOW(*(unsigned long *)fs == fs);
	SHOW(tls_var == 42);
	SYS(arch_prctl, ARCH_SET_FS, fs);
	SHOW(tls_var == 42);

	SYS(arch_prctl, ARCH_GET_GS, &gs);
	printf("  gs %lu\n", gs);
	SYS(arch_prctl, ARCH_SET_GS, 0x12345000UL);
	SYS(arch_prctl, ARCH_GET_GS, &v);
	SHOW(v == 0x12345000UL);
	SYS(arch_prctl, ARCH_SET_GS, 0);
	SYS(arch_prctl, ARCH_GET_GS, &v);
	SHOW(v == 0);

	/* Addresses at or above the user address space limit. */
	SYS(arch_prctl, ARCH_SET_GS, HIGH_ADDR);
	SYS(arch_prctl, ARCH_SET_GS, 1UL << 63);
	SYS(arch_prctl, ARCH_SET_FS, 1UL << 63);
	SYS(arch_prctl, ARCH_GET_FS, &v);
	SHOW(v == fs);

	/* Bad pointers and codes. */
	SYS(arch_prctl, ARCH_GET_FS, BAD_PTR);
	SYS(arch_prctl, ARCH_GET_GS, NULL);
	SYS(arch_prctl, ARCH_GET_FS, KERNEL_PTR);
	SYS(arch_prctl, 0x9999, &v);
	SYS(arch_prctl, 0, &v);

	/* CPUID is not faulting by default. */
	SYS(arch_prctl, ARCH_GET_CPUID, 0);
	SHOW(tls_var == 42);
	return 0;
}
