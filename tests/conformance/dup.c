/*
 * dup.c: dup(2), dup2(2) and dup3(2): lowest free fd, shared file offset,
 * close-on-exec not inherited, replacing an open fd, RLIMIT_NOFILE.
 */
#include "common.h"
#include <sys/resource.h>

int main(void)
{
	struct rlimit rl;
	char buf[8];
	long n;
	int fd, cl, d, null;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	d = SYS(dup, fd);
	SYS(read, fd, buf, 4);
	SYS(lseek, d, 0, SEEK_CUR);
	n = SYS(read, d, buf, 4);
	print_bytes("data", buf, n);
	SYS(lseek, fd, 0, SEEK_CUR);
	SYS(close, fd);
	SYS(lseek, d, 0, SEEK_CUR);
	SYS(dup, fd);
	SYS(dup, -1);
	SYS(dup, BAD_FD);
	close(d);

	/* The new fd never inherits FD_CLOEXEC. */
	cl = SYS(open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	d = SYS(dup, cl);
	SYS(fcntl, d, F_GETFD);
	close(d);

	/* dup2: to a chosen fd, replacing what was there. */
	SYS(dup2, cl, 10);
	SYS(fcntl, 10, F_GETFD);
	SYS(dup2, cl, cl);
	SYS(fcntl, cl, F_GETFD);
	SYS(dup2, BAD_FD, BAD_FD);
	SYS(dup2, BAD_FD, 11);
	SYS(dup2, cl, -1);
	SYS(dup2, cl, 1 << 30);
	null = SYS(open, "/dev/null", O_RDONLY);
	SYS(dup2, cl, null);
	n = SYS(read, null, buf, 4);
	print_bytes("data", buf, n);
	SYS(dup2, null, 0x7fffffff);

	/* dup3: flags, and newfd == oldfd is an error. */
	SYS(dup3, cl, 11, O_CLOEXEC);
	SYS(fcntl, 11, F_GETFD);
	SYS(dup3, cl, 11, 0);
	SYS(fcntl, 11, F_GETFD);
	SYS(dup3, cl, cl, 0);
	SYS(dup3, cl, cl, O_CLOEXEC);
	SYS(dup3, cl, 12, 0x1);
	SYS(dup3, cl, 12, O_NONBLOCK);
	SYS(dup3, BAD_FD, 12, 0);
	SYS(dup3, cl, -1, 0);
	SYS(fcntl, 12, F_GETFD);

	/* dup/dup2 with an O_PATH fd work. */
	fd = SYS(open, "/etc", O_PATH);
	d = SYS(dup, fd);
	SYS(dup2, fd, 20);
	close(d);
	close(fd);
	close(20);

	/* RLIMIT_NOFILE bounds both the count and the target numbers. */
	syscall(SYS_close_range, 3, ~0U, 0);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 8;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl));
	SYS(dup2, 0, 7);
	SYS(dup2, 0, 8);
	SYS(dup3, 0, 8, 0);
	for (n = 0; syscall(SYS_dup, 0) >= 0; n++)
		;
	printf("dup'ed %ld more before %s\n", n, errno_name(errno));
	SYS(dup, 0);
	SYS(dup2, 0, 5);
	SYS(close, 6);
	SYS(dup, 0);
	return 0;
}
