/*
 * mmap.c: mmap(2) and munmap(2): anonymous and file mappings, MAP_FIXED,
 * hints, splitting, permissions as /proc/self/maps reports them, and errors.
 * Addresses are never printed, only their properties.
 */
#include "common.h"

#define PAGE 4096L

static int aligned(const void *p)
{
	return ((unsigned long)p & (PAGE - 1)) == 0;
}

int main(void)
{
	char path[256], perms[5], *p, *q, *r;
	long sum = 0;
	int fd, null, dir, opath;

	/* Anonymous private memory. */
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SHOW(aligned(p));
	SHOW(p[0] == 0 && p[PAGE - 1] == 0);
	strcpy(p, "hello");
	print_bytes("data", p, 5);
	show_perms("p", p);
	maps_lookup(p, perms, path);
	printf("  path \"%s\"\n", path);
	SYS(munmap, p, PAGE);
	show_perms("p", p);
	SYS(munmap, p, PAGE);

	/* Lengths are rounded up to whole pages. */
	p = SYS_PTR(mmap, NULL, 100, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	p[PAGE - 1] = 1;
	show_perms("p + PAGE - 1", p + PAGE - 1);
	SYS(munmap, p, 100);
	show_perms("p", p);

	/* A hint at a free address is honoured. */
	q = SYS_PTR(mmap, p, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SHOW(q == p);
	SYS(munmap, q, PAGE);
	q = SYS_PTR(mmap, NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, (long)0);
	SHOW((unsigned long)q < (1UL << 31));
	show_perms("q", q);
	SYS(munmap, q, PAGE);

	/* MAP_FIXED replaces part of a mapping, splitting it in three. */
	p = SYS_PTR(mmap, NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	memset(p, 'x', 3 * PAGE);
	q = SYS_PTR(mmap, p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, (long)0);
	SHOW(q == p + PAGE);
	SHOW(p[0] == 'x' && q[0] == 0 && p[2 * PAGE] == 'x');
	show_perms("p", p);
	show_perms("p + PAGE", p + PAGE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	r = SYS_PTR(mmap, p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, (long)0);
	SYS_PTR(mmap, p + 3 * PAGE - 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, (long)0);
	/* Unmapping the middle leaves a hole. */
	SYS(munmap, p + PAGE, PAGE);
	show_perms("p", p);
	show_perms("p + PAGE", p + PAGE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);
	r = SYS_PTR(mmap, p + PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, (long)0);
	SHOW(r == p + PAGE);
	SYS(munmap, p, 3 * PAGE);
	show_perms("p + 2 * PAGE", p + 2 * PAGE);

	/* Shared anonymous memory; MAP_SHARED_VALIDATE is for files only, and
	 * unknown flags are ignored without it. */
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, (long)0);
	p[0] = 'y';
	show_perms("p", p);
	SYS(munmap, p, PAGE);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x800000, -1, (long)0);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | 0x800000, -1, (long)0);
	SYS(munmap, p, PAGE);

	/* A larger region, every page touched. */
	p = SYS_PTR(mmap, NULL, 64 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, (long)0);
	for (long i = 0; i < (64 << 20); i += PAGE)
		p[i] = 1;
	for (long i = 0; i < (64 << 20); i += PAGE)
		sum += p[i];
	printf("  sum %ld\n", sum);
	SYS(munmap, p, 64 << 20);
	p = SYS_PTR(mmap, NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, (long)0);
	SHOW(p[3 * PAGE] == 0);
	SYS(munmap, p, 4 * PAGE);

	/* Anonymous mapping errors. */
	SYS_PTR(mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)1);
	SYS_PTR(mmap, (void *)0x10001, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, (long)0);
	SYS_PTR(mmap, NULL, HUGE_LEN, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, NULL, SIZE_MAX, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, NULL, SIZE_MAX - PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, (long)0);
	SYS_PTR(mmap, HIGH_ADDR, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, (long)0);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, BAD_FD, (long)0);
	SYS(munmap, p, PAGE);

	/* munmap errors. Unmapping nothing is not one. */
	SYS(munmap, p, 0);
	SYS(munmap, p + 1, PAGE);
	SYS(munmap, p, PAGE);
	SYS(munmap, HIGH_ADDR, PAGE);
	SYS(munmap, p, -PAGE);

	/* File mappings. */
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, (long)0);
	print_bytes("data", p, 5);
	maps_lookup(p, perms, path);
	printf("  perms %s path \"%s\"\n", perms, path);
	SYS(munmap, p, PAGE);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED, fd, (long)0);
	print_bytes("data", p, 5);
	show_perms("p", p);
	SYS(munmap, p, PAGE);
	/* Writing a private copy leaves the file alone. */
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (long)0);
	memcpy(p, "ROOT", 4);
	q = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, (long)0);
	print_bytes("data", p, 5);
	print_bytes("data", q, 5);
	SYS(munmap, p, PAGE);
	SYS(munmap, q, PAGE);
	/* Offsets: page multiples only; past EOF is allowed until touched. */
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100 * PAGE);
	SYS(munmap, p, PAGE);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, 100L);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, -PAGE);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED_VALIDATE, fd, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, 0, fd, (long)0);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, (long)0);
	show_perms("p", p);
	SYS(munmap, p, PAGE);
	close(fd);
	SYS(close, fd);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, (long)0);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, -1, (long)0);

	/* Files that cannot be mapped, or not this way. */
	null = SYS(open, "/dev/null", O_WRONLY);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, null, (long)0);
	close(null);
	null = SYS(open, "/dev/null", O_RDWR);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, null, (long)0);
	close(null);
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, dir, (long)0);
	close(dir);
	opath = SYS(open, "/etc/passwd", O_PATH);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, opath, (long)0);
	close(opath);
	SYS_PTR(mmap, NULL, PAGE, PROT_READ, MAP_SHARED, 1, (long)0);

	/* /dev/zero gives zero-filled memory. */
	fd = SYS(open, "/dev/zero", O_RDWR);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, (long)0);
	SHOW(p[0] == 0 && p[PAGE - 1] == 0);
	p[0] = 1;
	SYS(munmap, p, PAGE);
	p = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, (long)0);
	SHOW(p[0] == 0);
	SYS(munmap, p, PAGE);
	close(fd);
	return 0;
}
