/*
 * mremap.c: mremap(2): growing in place or by moving, shrinking, moving to
 * a fixed address, MREMAP_DONTUNMAP, and errors. Everything happens inside a
 * PROT_NONE reservation so that neighbours and holes are known.
 */
#include "common.h"

#define PAGE 4096L

int main(void)
{
	char *res, *p, *q, *r, *target;

	res = SYS_PTR(mmap, NULL, 64 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	p = SYS_PTR(mmap, res + 8 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
	memset(p, 'a', 4 * PAGE);

	/* Shrinking stays in place and unmaps the tail. */
	q = SYS_PTR(mremap, p, 4 * PAGE, 2 * PAGE, 0, 0);
	SHOW(q == p);
	show_perms("p + PAGE", p + PAGE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);

	/* Growing in place into the hole just made. */
	q = SYS_PTR(mremap, p, 2 * PAGE, 4 * PAGE, 0, 0);
	SHOW(q == p);
	SHOW(p[PAGE] == 'a' && p[2 * PAGE] == 0 && p[3 * PAGE] == 0);
	show_perms("p + 3 * PAGE", p + 3 * PAGE);

	/* The reservation is a neighbour: no room to grow in place. */
	show_perms("p + 4 * PAGE", p + 4 * PAGE);
	SYS_PTR(mremap, p, 4 * PAGE, 8 * PAGE, 0, 0);
	q = SYS_PTR(mremap, p, 4 * PAGE, 8 * PAGE, MREMAP_MAYMOVE, 0);
	SHOW(q != MAP_FAILED && q != p);
	SHOW(q[0] == 'a' && q[PAGE] == 'a' && q[3 * PAGE] == 0 && q[7 * PAGE] == 0);
	show_perms("q + 7 * PAGE", q + 7 * PAGE);
	show_perms("old p", p);

	/* Part of a mapping cannot grow in place either. */
	SYS_PTR(mremap, q, PAGE, 2 * PAGE, 0, 0);
	p = SYS_PTR(mremap, q, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0);
	SHOW(p != MAP_FAILED && p != q && p[0] == 'a');
	show_perms("q", q);
	show_perms("q + PAGE", q + PAGE);
	SYS(munmap, p, 2 * PAGE);

	/* MREMAP_FIXED moves to a chosen address, replacing what is there. */
	target = res + 32 * PAGE;
	r = SYS_PTR(mremap, q + PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target);
	SHOW(r == target && r[0] == 'a');
	show_perms("target", target);
	show_perms("target + PAGE", target + PAGE);
	show_perms("q + PAGE", q + PAGE);
	q[2 * PAGE] = 'm';
	r = SYS_PTR(mremap, q + 2 * PAGE, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + 4 * PAGE);
	SHOW(r == target + 4 * PAGE && r[0] == 'm' && r[PAGE] == 0);
	SYS_PTR(mremap, q + 3 * PAGE, PAGE, PAGE, MREMAP_FIXED, target);
	SYS_PTR(mremap, q + 3 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, target + 1);
	SYS_PTR(mremap, q + 3 * PAGE, 2 * PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q + 4 * PAGE);
	SYS_PTR(mremap, q + 3 * PAGE, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, q + 3 * PAGE);

	/* MREMAP_DONTUNMAP leaves the old range mapped but empty. */
	p = SYS_PTR(mmap, res + 16 * PAGE, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
	p[0] = 'd';
	r = SYS_PTR(mremap, p, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	SHOW(r != MAP_FAILED && r != p && r[0] == 'd' && p[0] == 0);
	show_perms("p", p);
	SYS_PTR(mremap, r, PAGE, 2 * PAGE, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, 0);
	SYS_PTR(mremap, r, PAGE, PAGE, MREMAP_DONTUNMAP, 0);
	SYS(munmap, r, PAGE);

	/* Errors; q + 3 * PAGE onwards is still mapped, q itself is not. */
	p = q + 3 * PAGE;
	SYS_PTR(mremap, p + 1, PAGE, PAGE, 0, 0);
	SYS_PTR(mremap, p, PAGE, 0, 0, 0);
	SYS_PTR(mremap, p, PAGE, 0, MREMAP_MAYMOVE, 0);
	SYS_PTR(mremap, p, PAGE, PAGE, 0x100, 0);
	SYS_PTR(mremap, p, 0, PAGE, MREMAP_MAYMOVE, 0);
	SYS_PTR(mremap, p, PAGE, HUGE_LEN, MREMAP_MAYMOVE, 0);
	SYS_PTR(mremap, p, PAGE, -PAGE, MREMAP_MAYMOVE, 0);
	SYS_PTR(mremap, q, PAGE, PAGE, 0, 0);
	SYS_PTR(mremap, q, PAGE, 2 * PAGE, MREMAP_MAYMOVE, 0);
	SYS_PTR(mremap, HIGH_ADDR, PAGE, PAGE, 0, 0);
	SYS(munmap, q, 8 * PAGE);
	SYS_PTR(mremap, p, PAGE, PAGE, 0, 0);
	SYS(munmap, res, 64 * PAGE);
	return 0;
}
