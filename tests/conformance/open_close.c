/*
 * open_close.c: open(2), openat(2) and close(2): lowest free fd, flags,
 * path resolution (trailing slashes, symlinks, "..", long names) and errors.
 */
#include "common.h"
#include <sys/resource.h>

static void show_flags(int fd)
{
	long fl = syscall(SYS_fcntl, fd, F_GETFL);
	long fd_fl = syscall(SYS_fcntl, fd, F_GETFD);

	printf("  F_GETFL = 0%lo, F_GETFD = %ld\n", fl, fd_fl);
}

int main(void)
{
	struct rlimit rl;
	int fd, fd2, dir, n;

	fd = SYS(open, "/etc/passwd", O_RDONLY);
	show_flags(fd);
	fd2 = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(close, fd);
	fd = SYS(open, "/etc/passwd", O_RDONLY | O_CLOEXEC);
	show_flags(fd);
	SYS(close, fd);
	SYS(close, fd);
	SYS(close, fd2);
	SYS(close, -1);
	SYS(close, BAD_FD);
	SYS(close, 0x7fffffff);

	/* Unknown flag bits are ignored by open(2); O_CREAT on an existing
	 * file creates nothing. */
	fd = SYS(open, "/etc/passwd", O_RDONLY | 0x4000000);
	show_flags(fd);
	close(fd);
	fd = SYS(open, "/etc/passwd", O_RDONLY | O_CREAT, 0644);
	close(fd);
	SYS(open, "/etc/passwd", O_RDONLY | O_CREAT | O_EXCL, 0644);
	fd = SYS(open, "/etc/passwd", O_RDONLY | O_NONBLOCK | O_NOCTTY);
	show_flags(fd);
	close(fd);

	/* Missing files and bad paths. */
	SYS(open, "/nonexistent", O_RDONLY);
	SYS(open, "/nonexistent/", O_RDONLY);
	SYS(open, "/nonexistent/x", O_RDONLY);
	SYS(open, "", O_RDONLY);
	SYS(open, NULL, O_RDONLY);
	SYS(open, BAD_PTR, O_RDONLY);
	SYS(open, "/etc/passwd/x", O_RDONLY);
	SYS(open, "/etc/passwd/", O_RDONLY);
	SYS(open, "/etc/passwd/.", O_RDONLY);
	SYS(open, "/etc/passwd", O_RDONLY | O_DIRECTORY);
	SYS(open, long_path(300), O_RDONLY);
	SYS(open, long_path(5000), O_RDONLY);
	SYS_OK(open, "/etc/./../etc//passwd", O_RDONLY);
	SYS_OK(open, "/../../etc/passwd", O_RDONLY);
	SYS_OK(open, "//etc///", O_RDONLY);

	/* Directories: read-only opens only. */
	SYS_OK(open, "/", O_RDONLY);
	SYS_OK(open, "/etc/", O_RDONLY | O_DIRECTORY);
	SYS(open, "/", O_WRONLY);
	SYS(open, "/", O_RDWR);
	SYS(open, "/etc", O_WRONLY | O_DIRECTORY);

	/* Symlinks: /bin -> usr/bin on Debian 12. */
	SYS_OK(open, "/bin", O_RDONLY);
	SYS_OK(open, "/bin/sh", O_RDONLY);
	SYS(open, "/bin", O_RDONLY | O_NOFOLLOW);
	SYS(open, "/bin", O_RDONLY | O_NOFOLLOW | O_DIRECTORY);
	SYS_OK(open, "/bin/", O_RDONLY | O_NOFOLLOW);
	SYS_OK(open, "/bin", O_PATH | O_NOFOLLOW);
	SYS(open, "/bin", O_PATH | O_NOFOLLOW | O_DIRECTORY);
	SYS_OK(open, symlink_chain(20), O_RDONLY);
	SYS(open, symlink_chain(41), O_RDONLY);
	SYS_OK(open, "/proc/self/exe", O_RDONLY);

	/* O_PATH: an fd for the name only. */
	fd = SYS(open, "/etc/passwd", O_PATH);
	show_flags(fd);
	close(fd);
	fd = SYS(open, "/dev/null", O_WRONLY | O_APPEND);
	show_flags(fd);
	close(fd);
	fd = SYS(open, "/dev/null", O_RDWR | O_SYNC);
	show_flags(fd);
	close(fd);

	/* Close everything opened by the SYS_OK lines above. */
	syscall(SYS_close_range, 3, ~0U, 0);

	/* openat: relative to a directory fd; absolute paths ignore it. */
	dir = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	fd = SYS(openat, dir, "passwd", O_RDONLY);
	close(fd);
	fd = SYS(openat, dir, "/etc/passwd", O_RDONLY);
	close(fd);
	fd = SYS(openat, -1, "/etc/passwd", O_RDONLY);
	close(fd);
	fd = SYS(openat, dir, "../etc/passwd", O_RDONLY);
	close(fd);
	fd = SYS(openat, dir, ".", O_RDONLY);
	close(fd);
	fd = SYS(openat, dir, "", O_RDONLY);
	SYS(openat, -1, "passwd", O_RDONLY);
	SYS(openat, BAD_FD, "passwd", O_RDONLY);
	SYS(openat, dir, "nonexistent", O_RDONLY);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(openat, fd, "x", O_RDONLY);
	SYS(openat, fd, "", O_RDONLY);
	close(fd);
	fd = SYS(open, "/etc", O_PATH);
	fd2 = SYS(openat, fd, "passwd", O_RDONLY);
	close(fd2);
	close(fd);
	close(dir);

	/* EMFILE: fds 0-2 are open, so a limit of 6 leaves room for 3 more. */
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 6;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl));
	for (n = 0; syscall(SYS_open, "/dev/null", O_RDONLY) >= 0; n++)
		;
	printf("opened %d more before %s\n", n, errno_name(errno));
	SYS(open, "/nonexistent", O_RDONLY);
	SYS(close, 5);
	SYS(open, "/dev/null", O_RDONLY);
	return 0;
}
