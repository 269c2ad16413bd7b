/*
 * msync.c: msync's argument checks and range checks, and a shared
 * mapping of a file in a scratch directory under /tmp whose stores read(2)
 * sees after msync.
 */
#include "common.h"

static char dir[64] = "/tmp/msync.XXXXXX";

int main(void)
{
	char buf[16];
	long pg = 4096;
	char *p, *q;
	int fd;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	CHECK(msync(p, pg, MS_SYNC));
	CHECK(msync(p, pg, MS_ASYNC));
	CHECK(msync(p, pg, MS_INVALIDATE));
	CHECK(msync(p, pg, 0));
	CHECK(msync(p, 4 * pg, MS_SYNC | MS_INVALIDATE));
	CHECK(msync(p, 1, MS_SYNC));
	CHECK(msync(p, 0, MS_SYNC));
	CHECK(msync(p + 1, pg, MS_SYNC));
	CHECK(msync(p, pg, MS_SYNC | MS_ASYNC));
	CHECK(msync(p, pg, 8));
	CHECK(msync(p, -1UL, MS_SYNC));
	CHECK(msync(p, -8192UL, MS_SYNC));
	CHECK(munmap(p + pg, pg));
	CHECK(msync(p, 4 * pg, MS_SYNC));
	CHECK(msync(p + pg, pg, MS_SYNC));
	CHECK(msync(p + 2 * pg, 2 * pg, MS_SYNC));
	CHECK(msync(HIGH_ADDR, pg, MS_SYNC));
	CHECK(msync(KERNEL_PTR, pg, MS_SYNC));

	fd = CHECK(open("f", O_RDWR | O_CREAT, 0644));
	CHECK(ftruncate(fd, pg));
	q = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	SHOW(q != MAP_FAILED);
	memcpy(q, "shared", 6);
	CHECK(msync(q, pg, MS_SYNC));
	CHECK(pread(fd, buf, 6, 0));
	print_bytes("file", buf, 6);
	CHECK(pwrite(fd, "SH", 2, 0));
	CHECK(msync(q, pg, MS_INVALIDATE));
	print_bytes("map", q, 6);
	CHECK(munmap(q, pg));
	CHECK(close(fd));
	CHECK(unlink("f"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
