/*
 * copy_file_range.c: copies between regular files in a scratch directory
 * under /tmp: with the files' offsets and with offsets by pointer, short
 * copies at EOF, within one file, and the errnos for bad arguments.
 */
#include "common.h"

static char dir[64] = "/tmp/cfr.XXXXXX";

int main(void)
{
	char buf[64];
	loff_t oi, oo;
	int a, b, ro, ap, p[2];

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	a = CHECK(open("a", O_RDWR | O_CREAT, 0644));
	CHECK(write(a, "0123456789abcdef", 16));
	CHECK(lseek(a, 0, SEEK_SET));
	b = CHECK(open("b", O_RDWR | O_CREAT, 0644));

	CHECK(copy_file_range(a, NULL, b, NULL, 10, 0));
	CHECK(lseek(a, 0, SEEK_CUR));
	CHECK(lseek(b, 0, SEEK_CUR));
	oi = 12;
	oo = 2;
	CHECK(copy_file_range(a, &oi, b, &oo, 100, 0));
	printf("oi %ld oo %ld\n", (long)oi, (long)oo);
	CHECK(lseek(a, 0, SEEK_CUR));
	CHECK(pread(b, buf, sizeof(buf), 0));
	print_bytes("b", buf, 10);
	CHECK(copy_file_range(a, NULL, b, NULL, 0, 0));
	oi = 100;
	CHECK(copy_file_range(a, &oi, b, NULL, 10, 0));

	/* Within one file. */
	oi = 0;
	oo = 4;
	CHECK(copy_file_range(a, &oi, a, &oo, 8, 0));
	oi = 0;
	oo = 8;
	CHECK(copy_file_range(a, &oi, a, &oo, 8, 0));
	CHECK(pread(a, buf, 16, 0));
	print_bytes("a", buf, 16);

	/* Bad arguments. */
	CHECK(copy_file_range(a, NULL, b, NULL, 4, 1));
	oi = -1;
	CHECK(copy_file_range(a, &oi, b, NULL, 4, 0));
	ro = CHECK(open("b", O_RDONLY));
	CHECK(copy_file_range(a, NULL, ro, NULL, 4, 0));
	ap = CHECK(open("b", O_WRONLY | O_APPEND));
	CHECK(copy_file_range(a, NULL, ap, NULL, 4, 0));
	CHECK(copy_file_range(BAD_FD, NULL, b, NULL, 4, 0));
	int d = CHECK(open(".", O_RDONLY | O_DIRECTORY));
	CHECK(copy_file_range(d, NULL, b, NULL, 4, 0));
	if (pipe(p))
		return 1;
	CHECK(copy_file_range(a, NULL, p[1], NULL, 4, 0));
	CHECK(copy_file_range(a, (loff_t *)BAD_PTR, b, NULL, 4, 0));

	CHECK(unlink("a"));
	CHECK(unlink("b"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
