/*
 * cwd.c: getcwd(2), chdir(2) and fchdir(2). The starting directory is the
 * caller's, so it is compared with "." rather than printed.
 */
#include "common.h"
#include <limits.h>

static void show_cwd(void)
{
	char buf[PATH_MAX];
	long n = syscall(SYS_getcwd, buf, sizeof(buf));

	if (n < 0)
		printf("  getcwd = -1 %s\n", errno_name(errno));
	else
		printf("  getcwd = %ld \"%s\"\n", n, buf);
}

int main(void)
{
	char buf[PATH_MAX];
	struct stat a, b;
	long n;
	int fd, dir, etc;

	/* The initial cwd: absolute, and the same directory as ".". */
	n = SYS_OK(getcwd, buf, sizeof(buf));
	SHOW(n == (long)strlen(buf) + 1 && buf[0] == '/');
	stat(buf, &a);
	stat(".", &b);
	SHOW(a.st_ino == b.st_ino && a.st_dev == b.st_dev);

	SYS(chdir, "/");
	show_cwd();
	SYS(chdir, "/etc");
	show_cwd();
	fd = SYS(open, "passwd", O_RDONLY);
	close(fd);
	SYS(chdir, "..");
	show_cwd();
	SYS(chdir, "..");
	show_cwd();
	SYS(chdir, "/bin");
	show_cwd();
	SYS(chdir, "..");
	show_cwd();
	SYS(chdir, "./share/../lib/");
	show_cwd();
	SYS(chdir, "//usr//");
	show_cwd();

	/* Errors leave the cwd unchanged. */
	SYS(chdir, "/etc/passwd");
	SYS(chdir, "/etc/passwd/");
	SYS(chdir, "/nonexistent");
	SYS(chdir, "");
	SYS(chdir, NULL);
	SYS(chdir, BAD_PTR);
	SYS(chdir, long_path(300));
	SYS(chdir, symlink_chain(41));
	show_cwd();

	/* getcwd buffer sizes: the result counts the NUL. */
	SYS(getcwd, buf, 5);
	SYS(getcwd, buf, 4);
	SYS(getcwd, buf, 1);
	SYS(getcwd, buf, 0);
	SYS(getcwd, NULL, 0);
	SYS(getcwd, BAD_PTR, sizeof(buf));
	SYS(getcwd, NULL, sizeof(buf));
	errno = 0;
	CHECK(getcwd(buf, 4) != NULL);
	printf("  errno %s\n", errno_name(errno));

	/* fchdir. */
	etc = SYS(open, "/etc", O_RDONLY | O_DIRECTORY);
	SYS(fchdir, etc);
	show_cwd();
	fd = SYS(open, "passwd", O_RDONLY);
	SYS(fchdir, fd);
	close(fd);
	SYS(fchdir, -1);
	SYS(fchdir, BAD_FD);
	dir = SYS(open, "/usr/share", O_PATH);
	SYS(fchdir, dir);
	show_cwd();
	close(dir);
	fd = SYS(open, "/dev/null", O_RDONLY);
	SYS(fchdir, fd);
	close(fd);
	show_cwd();
	SYS(chdir, "/");
	SYS(fchdir, etc);
	show_cwd();
	return 0;
}
