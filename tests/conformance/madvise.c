/*
 * madvise.c: madvise(2): advice that only hints, MADV_DONTNEED's visible
 * effect (private anonymous pages read back as zero, private file pages as
 * the file), and errors. MADV_HUGEPAGE is left out: it depends on the host's
 * transparent hugepage setting.
 */
#include "common.h"

#define PAGE 4096L

int main(void)
{
	char *res, *p, *f;
	int fd;

	res = SYS_PTR(mmap, NULL, 16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0L);
	p = SYS_PTR(mmap, res + 4 * PAGE, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0L);
	memset(p, 'a', 4 * PAGE);

	SYS(madvise, p, 4 * PAGE, MADV_NORMAL);
	SYS(madvise, p, 4 * PAGE, MADV_RANDOM);
	SYS(madvise, p, 4 * PAGE, MADV_SEQUENTIAL);
	SYS(madvise, p, 4 * PAGE, MADV_WILLNEED);
	SYS(madvise, p, 4 * PAGE, MADV_DONTFORK);
	SYS(madvise, p, 4 * PAGE, MADV_DOFORK);
	SYS(madvise, p, 4 * PAGE, MADV_DONTDUMP);
	SYS(madvise, p, 4 * PAGE, MADV_DODUMP);
	SYS(madvise, p, 4 * PAGE, MADV_COLD);
	SYS(madvise, p, 0, MADV_NORMAL);
	SYS(madvise, p, 100, MADV_NORMAL);
	SHOW(p[0] == 'a' && p[3 * PAGE] == 'a');

	/* MADV_DONTNEED drops private anonymous pages: they read as zero. */
	SYS(madvise, p + PAGE, PAGE, MADV_DONTNEED);
	SHOW(p[0] == 'a' && p[PAGE] == 0 && p[2 * PAGE - 1] == 0 && p[2 * PAGE] == 'a');
	show_perms("p + PAGE", p + PAGE);
	SYS(madvise, p, 100, MADV_DONTNEED);
	SHOW(p[0] == 0);

	/* MADV_FREE may or may not drop the pages, so only the result. */
	SYS(madvise, p + 3 * PAGE, PAGE, MADV_FREE);

	/* Private file pages go back to the file's contents. */
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	f = SYS_PTR(mmap, NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0L);
	memcpy(f, "ROOT", 4);
	print_bytes("data", f, 4);
	SYS(madvise, f, PAGE, MADV_DONTNEED);
	print_bytes("data", f, 4);
	SYS(madvise, f, PAGE, MADV_FREE);
	SYS(madvise, f, PAGE, MADV_REMOVE);
	SYS(madvise, f, PAGE, MADV_WILLNEED);
	SYS(munmap, f, PAGE);
	close(fd);

	/* Errors. */
	SYS(madvise, p + 1, PAGE, MADV_NORMAL);
	SYS(madvise, p, PAGE, 999);
	SYS(madvise, p, PAGE, -1);
	SYS(madvise, p, -PAGE, MADV_NORMAL);
	SYS(madvise, p, PAGE, MADV_REMOVE);
	SYS(munmap, p + PAGE, PAGE);
	SYS(madvise, p, 4 * PAGE, MADV_NORMAL);
	/* A hole makes it ENOMEM, but the mapped pages were still dropped. */
	SHOW(p[2 * PAGE] == 'a');
	SYS(madvise, p, 4 * PAGE, MADV_DONTNEED);
	SHOW(p[2 * PAGE] == 0);
	SYS(madvise, p + PAGE, PAGE, MADV_WILLNEED);
	SYS(madvise, p + PAGE, PAGE, 999);
	SYS(madvise, HIGH_ADDR, PAGE, MADV_NORMAL);
	SYS(munmap, res, 16 * PAGE);
	SYS(madvise, p, PAGE, MADV_NORMAL);
	return 0;
}
