/*
 * lseek.c: lseek(2) with every whence on regular files, directories, devices,
 * /proc files and pipes, including offsets that overflow.
 */
#include "common.h"
#include <limits.h>

int main(void)
{
	struct stat st;
	char buf[8];
	long n, size;
	int fd, dir, null, zero, proc;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	fstat(fd, &st);
	size = st.st_size;
	SYS(lseek, fd, 0, SEEK_CUR);
	SYS(lseek, fd, 5, SEEK_SET);
	n = SYS(read, fd, buf, 4);
	print_bytes("data", buf, n);
	SYS(lseek, fd, -4L, SEEK_CUR);
	SYS(lseek, fd, 0, SEEK_CUR);
	SHOW(syscall(SYS_lseek, fd, 0, SEEK_END) == size);
	SHOW(syscall(SYS_lseek, fd, -4L, SEEK_END) == size - 4);
	SHOW(syscall(SYS_lseek, fd, 100, SEEK_END) == size + 100);
	SYS(read, fd, buf, 4);
	SYS(lseek, fd, 1L << 40, SEEK_SET);
	SYS(read, fd, buf, 4);
	SYS(lseek, fd, -1L, SEEK_SET);
	SYS(lseek, fd, 0, SEEK_CUR);
	SYS(lseek, fd, 10, SEEK_SET);
	SYS(lseek, fd, -11L, SEEK_CUR);
	/* Past the largest offset: the limit is per filesystem, but an
	 * offset that overflows to negative is EINVAL everywhere. */
	SYS(lseek, fd, 1, SEEK_CUR);
	SYS(lseek, fd, LONG_MAX, SEEK_CUR);
	SYS(lseek, fd, 0, SEEK_CUR);
	SHOW(syscall(SYS_lseek, fd, -size - 1, SEEK_END) == -1 && errno == EINVAL);
	SYS(lseek, fd, LONG_MAX, SEEK_END);
	SYS(lseek, fd, 0, 5);
	SYS(lseek, fd, 0, -1);
	SYS(lseek, fd, 0, 100);

	/* SEEK_DATA / SEEK_HOLE: a file without holes is one data extent. */
	SYS(lseek, fd, 0, SEEK_DATA);
	SYS(lseek, fd, 3, SEEK_DATA);
	SHOW(syscall(SYS_lseek, fd, 0, SEEK_HOLE) == size);
	SHOW(syscall(SYS_lseek, fd, 0, SEEK_CUR) == size);
	SYS(lseek, fd, size, SEEK_DATA);
	SYS(lseek, fd, size, SEEK_HOLE);
	SYS(lseek, fd, -1L, SEEK_DATA);
	SYS(close, fd);
	SYS(lseek, fd, 0, SEEK_SET);
	SYS(lseek, -1, 0, SEEK_SET);
	SYS(lseek, BAD_FD, 0, 99);

	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(lseek, fd, 0, SEEK_SET);
	close(fd);

	/* Directories: rewinding is allowed. */
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(lseek, dir, 0, SEEK_SET);
	SYS(lseek, dir, 0, SEEK_CUR);
	SYS(lseek, dir, -1L, SEEK_SET);
	close(dir);

	/* Character devices: /dev/null and /dev/zero always report 0. */
	null = SYS(open, "/dev/null", O_RDWR);
	SYS(lseek, null, 100, SEEK_SET);
	SYS(lseek, null, -100L, SEEK_SET);
	SYS(lseek, null, 0, SEEK_END);
	SYS(lseek, null, 0, 99);
	close(null);
	zero = SYS(open, "/dev/zero", O_RDONLY);
	SYS(lseek, zero, 100, SEEK_SET);
	SYS(lseek, zero, 5, SEEK_CUR);
	SYS(lseek, zero, 0, SEEK_END);
	close(zero);

	/* A seq_file in /proc: SEEK_SET and SEEK_CUR only. */
	proc = SYS(open, "/proc/self/status", O_RDONLY);
	SYS(lseek, proc, 6, SEEK_SET);
	n = SYS(read, proc, buf, 3);
	SYS(lseek, proc, 0, SEEK_CUR);
	SYS(lseek, proc, 0, SEEK_END);
	SYS(lseek, proc, -1L, SEEK_SET);
	close(proc);

	/* stdout, a pipe under the test harness. */
	SYS(lseek, 1, 0, SEEK_CUR);
	SYS(lseek, 1, 0, 99);
	return 0;
}
