/*
 * pread_pwrite.c: pread64(2) and pwrite64(2): explicit offsets that leave
 * the file offset alone, and their error cases.
 */
#include "common.h"

int main(void)
{
	char buf[16];
	long n;
	int fd, null, zero, dir;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	n = SYS(pread64, fd, buf, 4, 0);
	print_bytes("data", buf, n);
	n = SYS(pread64, fd, buf, 4, 5);
	print_bytes("data", buf, n);
	SYS(lseek, fd, 0, SEEK_CUR);
	SYS(lseek, fd, 2, SEEK_SET);
	n = SYS(pread64, fd, buf, 3, 7);
	print_bytes("data", buf, n);
	SYS(lseek, fd, 0, SEEK_CUR);
	n = SYS(read, fd, buf, 2);
	print_bytes("data", buf, n);
	SYS(pread64, fd, buf, 4, 1L << 40);
	SYS(pread64, fd, buf, 0, 0);
	SYS(pread64, fd, buf, 4, -1L);
	SYS(pread64, fd, buf, 4, -4096L);
	SYS(pread64, fd, BAD_PTR, 4, 0);
	SYS(pread64, fd, buf, 0, -1L);
	SYS(pwrite64, fd, "x", 1, 0);
	SYS(pwrite64, fd, "x", 1, -1L);
	SYS(close, fd);
	SYS(pread64, fd, buf, 4, 0);
	SYS(pread64, -1, buf, 4, 0);
	SYS(pwrite64, BAD_FD, "x", 1, 0);

	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(pread64, dir, buf, 4, 0);
	close(dir);

	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(pread64, fd, buf, 4, 0);
	close(fd);

	null = SYS(open, "/dev/null", O_RDWR);
	SYS(pwrite64, null, "abc", 3, 0);
	SYS(pwrite64, null, "abc", 3, 1L << 40);
	SYS(pwrite64, null, "abc", 3, -1L);
	SYS(pwrite64, null, BAD_PTR, 3, 0);
	SYS(pread64, null, buf, 4, 0);
	close(null);

	zero = SYS(open, "/dev/zero", O_RDONLY);
	memset(buf, 'x', sizeof(buf));
	n = SYS(pread64, zero, buf, 4, 12345);
	print_bytes("data", buf, n);
	close(zero);

	/* stdout, a pipe under the test harness, has no offset. */
	SYS(pwrite64, 1, "", 0, 0);
	SYS(pread64, 1, buf, 0, 0);
	SYS(pwrite64, 1, "", 0, -1L);
	return 0;
}
