/*
 * readlink.c: readlink(2) and readlinkat(2): truncation without a NUL,
 * /proc/self magic links, empty paths on O_PATH fds, and errors.
 */
#include "common.h"
#include <limits.h>

int main(int argc, char **argv)
{
	char buf[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX];
	long n;
	int dir, fd;

	(void)argc;
	n = SYS(readlink, "/bin", buf, sizeof(buf));
	print_bytes("target", buf, n);
	n = SYS(readlink, "/lib64", buf, sizeof(buf));
	print_bytes("target", buf, n);
	memset(buf, '#', 8);
	n = SYS(readlink, "/bin", buf, 3);
	print_bytes("target", buf, 8);
	n = SYS(readlink, "/bin", buf, 7);
	print_bytes("target", buf, 8);
	SYS(readlink, "/bin", buf, 1);
	SYS(readlink, "/bin", buf, 0);
	SYS(readlink, "/bin", buf, -1);
	SYS(readlink, "/bin", BAD_PTR, 16);
	SYS(readlink, "/bin", NULL, 16);
	SYS(readlink, "/etc/passwd", buf, sizeof(buf));
	SYS(readlink, "/etc", buf, sizeof(buf));
	SYS(readlink, "/bin/", buf, sizeof(buf));
	SYS(readlink, "/nonexistent", buf, sizeof(buf));
	SYS(readlink, "/etc/passwd/x", buf, sizeof(buf));
	SYS(readlink, "", buf, sizeof(buf));
	SYS(readlink, BAD_PTR, buf, sizeof(buf));
	SYS(readlink, long_path(300), buf, sizeof(buf));
	SYS(readlink, symlink_chain(41), buf, sizeof(buf));

	/* /proc/self/exe names this program. */
	n = SYS_OK(readlink, "/proc/self/exe", buf, sizeof(buf));
	buf[n > 0 ? n : 0] = 0;
	SHOW(realpath(argv[0], real) && strcmp(buf, real) == 0);
	SHOW(buf[0] == '/');

	/* /proc/self/cwd is the working directory, /proc/self/fd/N the file. */
	n = SYS_OK(readlink, "/proc/self/cwd", buf, sizeof(buf));
	buf[n > 0 ? n : 0] = 0;
	SHOW(getcwd(cwd, sizeof(cwd)) && strcmp(buf, cwd) == 0);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	n = SYS(readlink, "/proc/self/fd/3", buf, sizeof(buf));
	print_bytes("target", buf, n);
	close(fd);
	fd = SYS(open, "/etc/../etc//passwd", O_PATH);
	n = SYS(readlink, "/proc/self/fd/3", buf, sizeof(buf));
	print_bytes("target", buf, n);
	close(fd);
	n = SYS(readlink, "/proc/self/fd/0", buf, sizeof(buf));
	print_bytes("target", buf, n);
	SYS(readlink, "/proc/self/fd/7", buf, sizeof(buf));

	/* readlinkat: relative to a directory fd, or "" on an O_PATH link fd. */
	dir = SYS(open, "/", O_RDONLY | O_DIRECTORY);
	n = SYS(readlinkat, dir, "bin", buf, sizeof(buf));
	print_bytes("target", buf, n);
	n = SYS(readlinkat, dir, "/lib64", buf, sizeof(buf));
	print_bytes("target", buf, n);
	SYS(readlinkat, dir, "etc", buf, sizeof(buf));
	SYS(readlinkat, dir, "", buf, sizeof(buf));
	SYS(readlinkat, dir, "bin", buf, 0);
	SYS(readlinkat, -1, "bin", buf, sizeof(buf));
	SYS(readlinkat, BAD_FD, "bin", buf, sizeof(buf));
	n = SYS(readlinkat, -1, "/bin", buf, sizeof(buf));
	print_bytes("target", buf, n);
	close(dir);
	fd = SYS(open, "/bin", O_PATH | O_NOFOLLOW);
	n = SYS(readlinkat, fd, "", buf, sizeof(buf));
	print_bytes("target", buf, n);
	n = SYS(readlinkat, fd, "", buf, 2);
	print_bytes("target", buf, n);
	close(fd);
	fd = SYS(open, "/etc/passwd", O_PATH);
	SYS(readlinkat, fd, "", buf, sizeof(buf));
	SYS(readlinkat, fd, "x", buf, sizeof(buf));
	close(fd);
	fd = SYS(open, "/etc/passwd", O_RDONLY);
	SYS(readlinkat, fd, "", buf, sizeof(buf));
	close(fd);
	return 0;
}
