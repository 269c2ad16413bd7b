/*
 * mincore.c: mincore(2) on anonymous memory (untouched, read, written,
 * after MADV_DONTNEED, shared with a forked child), what MADV_DONTNEED
 * leaves (zeros where it dropped pages, the rest untouched, the mapping in
 * place), and mincore's errors.
 */
#include "common.h"
#include <sys/wait.h>

#define PG 4096

static unsigned char vec[64];

static const char *residency(char *p, int pages)
{
	static char buf[65];

	memset(vec, 0xee, sizeof(vec));
	if (mincore(p, (size_t)pages * PG, vec) != 0) {
		snprintf(buf, sizeof(buf), "-1 %s", errno_name(errno));
		return buf;
	}
	for (int i = 0; i < pages; i++)
		buf[i] = (vec[i] & 1) ? '1' : '0';
	buf[pages] = 0;
	return buf;
}

int main(void)
{
	char *p = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile char sink;

	printf("untouched: %s\n", residency(p, 16));
	p[0] = 1;
	p[2 * PG] = 2;
	sink = p[4 * PG];
	(void)sink;
	printf("wrote 0 and 2, read 4: %s\n", residency(p, 8));
	memset(p, 7, 8 * PG);
	printf("wrote 0-7: %s\n", residency(p, 8));
	printf("madvise(p + PG, 2 * PG, MADV_DONTNEED) = %d\n", madvise(p + PG, 2 * PG, MADV_DONTNEED));
	printf("after: %s\n", residency(p, 8));
	printf("values: %d %d %d %d\n", p[0], p[PG], p[3 * PG - 1], p[3 * PG]);
	p[PG] = 9;
	printf("wrote 1: %s, p[PG] = %d\n", residency(p, 8), p[PG]);
	printf("madvise(p, 8 * PG, MADV_DONTNEED) = %d\n", madvise(p, 8 * PG, MADV_DONTNEED));
	printf("all dropped: %s, sum %d\n", residency(p, 8), p[0] + p[PG] + p[7 * PG]);

	memset(p + 8 * PG, 3, 4 * PG);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child sees the shared pages: %s\n", residency(p + 8 * PG, 8));
		printf("child: madvise(p + 8 * PG, PG, MADV_DONTNEED) = %d, then %d\n",
		       madvise(p + 8 * PG, PG, MADV_DONTNEED), p[8 * PG]);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("parent keeps its copy: %d %d\n", p[8 * PG], p[9 * PG]);
	printf("parent: %s\n", residency(p + 8 * PG, 8));

	printf("unaligned: %s\n", residency(p + 1, 1));
	munmap(p + 12 * PG, PG);
	printf("hole in the range: %s\n", residency(p + 10 * PG, 4));
	int r = mincore(p, PG, BAD_PTR);
	printf("bad vec: %d %s\n", r, errno_name(errno));
	printf("len 0: %d\n", mincore(p, 0, vec));
	r = mincore(KERNEL_PTR, PG, vec);
	printf("kernel address: %d %s\n", r, errno_name(errno));
	return 0;
}
