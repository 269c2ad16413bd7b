/*
 * mprotect.c: mprotect(2): changing permissions of whole and partial
 * mappings (as /proc/self/maps reports them), file mappings, and errors.
 * No page is touched against its protection: signals are not delivered yet.
 */
#include "common.h"

#define PAGE 4096L

int main(void)
{
	char *p, *q;
	int fd;

	/* Four pages, the last one only to be unmapped later. */
	p = SYS_PTR(mmap, NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	memset(p, 'a', 3 * PAGE);
	SYS(mprotect, p, 3 * PAGE, PROT_READ);
	show_perms("p", p);
	SHOW(p[0] == 'a');
	SYS(mprotect, p + PAGE, PAGE, PROT_READ | PROT_WRITE);
	show_perms("p", p);
	show_perms("p + PAGE", p + PAGE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	p[PAGE] = 'b';
	SYS(mprotect, p + 2 * PAGE, PAGE, PROT_NONE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	SYS(mprotect, p, PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	show_perms("p", p);
	SYS(mprotect, p, 3 * PAGE, PROT_READ | PROT_WRITE);
	show_perms("p", p);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	SHOW(p[0] == 'a' && p[PAGE] == 'b' && p[2 * PAGE] == 'a');
	SYS(mprotect, p, 100, PROT_READ);
	show_perms("p", p);
	show_perms("p + PAGE", p + PAGE);
	SYS(mprotect, p, 0, PROT_NONE);
	show_perms("p", p);
	SYS(mprotect, p, 3 * PAGE, PROT_WRITE);
	show_perms("p", p);
	show_perms("p + 3 * PAGE", p + 3 * PAGE);

	/* Errors. */
	SYS(mprotect, p + 1, PAGE, PROT_READ);
	SYS(mprotect, p, PAGE, 0x10);
	SYS(mprotect, p, PAGE, -1);
	SYS(mprotect, p, PAGE, PROT_READ | PROT_GROWSDOWN);
	SYS(mprotect, p, PAGE, PROT_READ | PROT_GROWSUP);
	/* A range running into unmapped memory: ENOMEM. */
	SYS(munmap, p + 3 * PAGE, PAGE);
	SYS(mprotect, p, 4 * PAGE, PROT_READ);
	show_perms("p", p);
	SYS(mprotect, p, -PAGE, PROT_READ);
	SYS(munmap, p + PAGE, PAGE);
	/* The pages before the hole are changed before the error. */
	SYS(mprotect, p, 3 * PAGE, PROT_READ | PROT_WRITE);
	show_perms("p", p);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	SYS(mprotect, p + PAGE, PAGE, PROT_READ);
	SYS(munmap, p, 3 * PAGE);
	SYS(mprotect, p, PAGE, PROT_READ);
	SYS(mprotect, HIGH_ADDR, PAGE, PROT_READ);

	/* File mappings: MAP_SHARED of a read-only fd cannot become
	 * writable; MAP_PRIVATE can. */
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0L);
	SYS(mprotect, p, PAGE, PROT_READ | PROT_WRITE);
	SYS(mprotect, p, PAGE, PROT_READ | PROT_EXEC);
	show_perms("p", p);
	SYS(munmap, p, PAGE);
	q = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 0L);
	SYS(mprotect, q, PAGE, PROT_READ | PROT_WRITE);
	show_perms("q", q);
	q[0] = 'R';
	print_bytes("data", q, 4);
	SYS(munmap, q, PAGE);
	close(fd);
	return 0;
}
