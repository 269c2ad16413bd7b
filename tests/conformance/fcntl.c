/*
 * fcntl.c: fcntl(2) F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD and
 * F_DUPFD_CLOEXEC. Flags are printed in octal; on x86_64 the kernel adds
 * O_LARGEFILE (0100000) to files opened by open(2).
 */
#include "common.h"
#include <sys/resource.h>

int main(void)
{
	struct rlimit rl;
	int fd, null, path, dir;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, fd, F_GETFL));
	SYS(fcntl, fd, F_GETFD);
	SYS(fcntl, fd, F_SETFD, FD_CLOEXEC);
	SYS(fcntl, fd, F_GETFD);
	SYS(fcntl, fd, F_SETFD, 0);
	SYS(fcntl, fd, F_GETFD);
	SYS(fcntl, fd, F_SETFD, 0xff);
	SYS(fcntl, fd, F_GETFD);
	SYS(fcntl, fd, F_SETFD, 0xfe);
	SYS(fcntl, fd, F_GETFD);

	/* F_SETFL changes O_APPEND, O_NONBLOCK (and a few more) only. */
	SYS(fcntl, fd, F_SETFL, O_NONBLOCK);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, fd, F_GETFL));
	SYS(fcntl, fd, F_SETFL, O_APPEND | O_RDWR | O_CREAT | O_TRUNC | O_EXCL);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, fd, F_GETFL));
	SYS(fcntl, fd, F_SETFL, 0);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, fd, F_GETFL));

	/* F_DUPFD: lowest free fd >= arg; F_DUPFD_CLOEXEC sets the flag. */
	SYS(fcntl, fd, F_DUPFD, 0);
	SYS(fcntl, fd, F_DUPFD, 10);
	SYS(fcntl, fd, F_DUPFD, 10);
	SYS(fcntl, 10, F_GETFD);
	SYS(fcntl, fd, F_DUPFD_CLOEXEC, 10);
	SYS(fcntl, 12, F_GETFD);
	SYS(fcntl, fd, F_DUPFD, -1);
	SYS(fcntl, fd, F_DUPFD, 1 << 30);
	SYS(fcntl, fd, F_DUPFD_CLOEXEC, 1 << 30);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 16;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl));
	SYS(fcntl, fd, F_DUPFD, 15);
	SYS(fcntl, fd, F_DUPFD, 15);
	SYS(fcntl, fd, F_DUPFD, 16);
	SYS(fcntl, fd, F_DUPFD_CLOEXEC, 16);

	/* Bad fds and commands. */
	SYS(fcntl, -1, F_GETFD);
	SYS(fcntl, BAD_FD, F_GETFL);
	SYS(fcntl, BAD_FD, F_DUPFD, 0);
	SYS(fcntl, BAD_FD, 9999);
	SYS(fcntl, fd, 9999);
	SYS(fcntl, fd, -1);
	SYS(close, fd);
	SYS(fcntl, fd, F_GETFD);

	/* Access modes and other descriptors. */
	null = SYS(open, "/dev/null", O_WRONLY);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, null, F_GETFL));
	SYS(fcntl, null, F_SETFL, O_APPEND | O_NONBLOCK);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, null, F_GETFL));
	close(null);
	null = SYS(open, "/dev/null", O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, null, F_GETFL));
	SYS(fcntl, null, F_GETFD);
	close(null);
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, dir, F_GETFL));
	close(dir);

	/* O_PATH fds allow only a few commands. */
	path = SYS(open, "/etc/passwd", O_PATH | O_CLOEXEC);
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, path, F_GETFL));
	SYS(fcntl, path, F_GETFD);
	SYS(fcntl, path, F_SETFD, 0);
	SYS(fcntl, path, F_SETFL, O_NONBLOCK);
	SYS(fcntl, path, F_DUPFD, 0);
	SYS(fcntl, path, F_DUPFD_CLOEXEC, 0);
	close(path);

	/* stdout is a pipe under the harness: write-only, no O_LARGEFILE. */
	printf("F_GETFL = 0%lo\n", syscall(SYS_fcntl, 1, F_GETFL));
	return 0;
}
