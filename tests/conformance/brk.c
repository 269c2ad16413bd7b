/*
 * brk.c: brk(2) as the kernel implements it: it returns the new break on
 * success and the unchanged break on failure, never -1. The break itself is
 * randomised, so only its movements are printed.
 */
#include "common.h"

#define PAGE 4096L

static unsigned long brk_(unsigned long addr)
{
	return syscall(SYS_brk, addr);
}

int main(void)
{
	unsigned long start, cur;
	char perms[5], path[256];
	char *p;

	start = brk_(0);
	SHOW(start != 0 && start != (unsigned long)-1);
	SHOW(brk_(0) == start);

	/* Grow by four pages: the memory is zeroed and usable. */
	cur = brk_(start + 4 * PAGE);
	SHOW(cur == start + 4 * PAGE);
	p = (char *)start;
	SHOW(p[0] == 0 && p[4 * PAGE - 1] == 0);
	memset(p, 'b', 4 * PAGE);
	SHOW(brk_(0) == start + 4 * PAGE);
	maps_lookup(p, perms, path);
	printf("  perms %s path \"%s\"\n", perms, path);

	/* The break need not be page aligned; the mapping is rounded up. */
	SHOW(brk_(start + 4 * PAGE + 1) == start + 4 * PAGE + 1);
	SHOW(brk_(0) == start + 4 * PAGE + 1);
	p[4 * PAGE] = 'c';
	SHOW(brk_(start + 5 * PAGE - 1) == start + 5 * PAGE - 1);

	/* Shrinking unmaps; growing again gives zeroed memory. */
	SHOW(brk_(start + PAGE) == start + PAGE);
	show_perms("start + 2 * PAGE", p + 2 * PAGE);
	SHOW(p[PAGE - 1] == 'b');
	SHOW(brk_(start + 3 * PAGE) == start + 3 * PAGE);
	SHOW(p[2 * PAGE] == 0);

	/* Failures return the current break. */
	cur = brk_(0);
	SHOW(brk_(1) == cur);
	SHOW(brk_(start + (1UL << 46)) == cur);
	SHOW(brk_(-PAGE) == cur);
	SHOW(brk_(0) == cur);

	/* The break cannot grow over another mapping. */
	p = mmap((void *)(cur + 2 * PAGE), PAGE, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	SHOW(p == (char *)(cur + 2 * PAGE));
	SHOW(brk_(cur + 4 * PAGE) == cur);
	SHOW(brk_(cur + PAGE) == cur + PAGE);
	munmap(p, PAGE);

	/* Back to where it started. */
	SHOW(brk_(start) == start);
	SHOW(brk_(0) == start);

	/* glibc's sbrk on top of it. */
	p = sbrk(0);
	SHOW((unsigned long)p == start);
	SHOW(sbrk(PAGE) == p);
	SHOW(sbrk(0) == p + PAGE);
	SHOW(sbrk(-PAGE) == p + PAGE);
	SHOW(sbrk(0) == p);
	return 0;
}
