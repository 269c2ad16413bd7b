/*
 * sched.c: sched_getaffinity(2) and sched_yield(2). CPU numbers and counts
 * are the host's, so only their consistency is printed.
 */
#include "common.h"
#include <sched.h>

int main(void)
{
	cpu_set_t set, set2;
	long n;

	SYS(sched_yield);
	SYS(sched_yield);

	/* The raw call returns the size of the kernel's mask in bytes. */
	CPU_ZERO(&set);
	n = SYS_OK(sched_getaffinity, 0, sizeof(set), &set);
	SHOW(n > 0 && n % 8 == 0 && n <= (long)sizeof(set));
	SHOW(CPU_COUNT(&set) >= 1);
	CPU_ZERO(&set2);
	SHOW(syscall(SYS_sched_getaffinity, getpid(), sizeof(set2), &set2) == n);
	SHOW(CPU_EQUAL(&set, &set2));
	SHOW(syscall(SYS_sched_getaffinity, syscall(SYS_gettid), sizeof(set2), &set2) == n);
	SHOW(syscall(SYS_sched_getaffinity, 0, n, &set2) == n);
	SHOW(syscall(SYS_sched_getaffinity, 0, 4096, &set2) == n);

	/* Errors: too small, not a multiple of sizeof(long), bad pid/pointer. */
	SYS(sched_getaffinity, 0, 0, &set);
	SYS(sched_getaffinity, 0, 4, &set);
	SYS(sched_getaffinity, 0, n + 1, &set);
	SYS(sched_getaffinity, 0, sizeof(set), BAD_PTR);
	SYS(sched_getaffinity, 0, sizeof(set), NULL);
	SYS(sched_getaffinity, 0x7fffffff, sizeof(set), &set);
	SYS(sched_getaffinity, -1, sizeof(set), &set);
	return 0;
}
