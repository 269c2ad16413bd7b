/*
 * read_write.c: read(2) and write(2) on regular files, directories,
 * /dev/null, /dev/zero and stdout, with their error cases.
 */
#include "common.h"

int main(void)
{
	char buf[64];
	struct stat st;
	long n;
	int fd, dir, null_rw, null_wo, zero;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	n = SYS(read, fd, buf, 4);
	print_bytes("data", buf, n);
	n = SYS(read, fd, buf, 1);
	print_bytes("data", buf, n);
	SYS(read, fd, buf, 0);
	SYS(read, fd, BAD_PTR, 4);
	SYS(read, fd, NULL, 4);
	SYS(read, fd, KERNEL_PTR, 4);
	/* access_ok() fails when buf + count runs past the user address space. */
	SYS(read, fd, buf, SIZE_MAX);
	SYS(read, fd, buf, -1L);
	SYS(write, fd, "x", 1);
	SYS(write, fd, "x", 0);

	/* Read the rest of the file in one go, then hit EOF. */
	fstat(fd, &st);
	{
		char *all = malloc(st.st_size + 16);

		n = read(fd, all, st.st_size + 16);
		SHOW(n == st.st_size - 5);
		free(all);
	}
	SYS(read, fd, buf, sizeof(buf));
	SYS(read, fd, buf, sizeof(buf));
	SYS(close, fd);
	SYS(read, fd, buf, 4);
	SYS(write, fd, "x", 1);
	SYS(read, -1, buf, 4);
	SYS(write, -1, "x", 1);
	SYS(read, BAD_FD, buf, 4);
	SYS(read, BAD_FD, BAD_PTR, 4);

	/* Directories cannot be read with read(2). */
	dir = SYS(open, "/", O_RDONLY | O_DIRECTORY);
	SYS(read, dir, buf, 4);
	SYS(read, dir, buf, 0);
	SYS(write, dir, "x", 1);
	close(dir);

	/* O_PATH descriptors allow neither. */
	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(read, fd, buf, 4);
	SYS(write, fd, "x", 1);
	close(fd);

	/* /dev/null never touches the buffer, so even a bad pointer works. */
	null_rw = SYS(open, "/dev/null", O_RDWR);
	SYS(write, null_rw, "hello", 5);
	SYS(write, null_rw, BAD_PTR, 5);
	SYS(write, null_rw, buf, 1 << 20);
	SYS(read, null_rw, buf, 5);
	SYS(read, null_rw, BAD_PTR, 5);
	null_wo = SYS(open, "/dev/null", O_WRONLY);
	SYS(read, null_wo, buf, 5);
	SYS(write, null_wo, "hello", 5);
	close(null_rw);
	close(null_wo);

	zero = SYS(open, "/dev/zero", O_RDWR);
	memset(buf, 'x', sizeof(buf));
	n = SYS(read, zero, buf, 8);
	print_bytes("data", buf, n);
	SYS(read, zero, BAD_PTR, 8);
	SYS(write, zero, "abc", 3);
	close(zero);

	/* stdout, a pipe under the test harness. */
	SYS(write, 1, "written to stdout\n", 18);
	SYS(write, 1, "", 0);
	SYS(write, 1, BAD_PTR, 5);
	SYS(write, 2, "", 0);
	return 0;
}
