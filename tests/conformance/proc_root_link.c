/*
 * proc_root_link.c: /proc/[pid]/root and /proc/[pid]/cwd as links that,
 * followed, lead into the task's root and working directory (not the
 * reader's): a child's cwd seen from its parent, files under its root,
 * readlink of both, and EACCES for a reader without ptrace access (a
 * child that dropped to uid 65534 looking at its root parent).
 */
#include "common.h"
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>

static int same_file(const char *a, const char *b)
{
	struct stat x, y;

	if (stat(a, &x) != 0 || stat(b, &y) != 0)
		return -1;
	return x.st_dev == y.st_dev && x.st_ino == y.st_ino;
}

int main(void)
{
	char path[PATH_MAX], buf[PATH_MAX];
	int ready[2], done[2];
	pid_t child;
	char c;
	long n;

	if (pipe(ready) != 0 || pipe(done) != 0)
		return 1;
	child = fork();
	if (child == 0) {
		/* Somewhere else than the parent, then wait to be looked at. */
		if (chdir("/usr/lib") != 0)
			_exit(2);
		write(ready[1], "r", 1);
		read(done[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);

	snprintf(path, sizeof(path), "/proc/%d/cwd", child);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n >= 0)
		buf[n] = 0;
	printf("readlink(cwd) = %s\n", n < 0 ? errno_name(errno) : buf);
	printf("cwd is /usr/lib: %d\n", same_file(path, "/usr/lib"));
	snprintf(path, sizeof(path), "/proc/%d/cwd/.", child);
	printf("cwd/. is /usr/lib: %d\n", same_file(path, "/usr/lib"));
	snprintf(path, sizeof(path), "/proc/%d/cwd/..", child);
	printf("cwd/.. is /usr: %d\n", same_file(path, "/usr"));

	snprintf(path, sizeof(path), "/proc/%d/root", child);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n >= 0)
		buf[n] = 0;
	printf("readlink(root) = %s\n", n < 0 ? errno_name(errno) : buf);
	snprintf(path, sizeof(path), "/proc/%d/root/etc/passwd", child);
	printf("root/etc/passwd is /etc/passwd: %d\n", same_file(path, "/etc/passwd"));
	snprintf(path, sizeof(path), "/proc/%d/cwd", child);
	int fd = open(path, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 ? 0 : -1);
	if (fd >= 0) {
		struct stat x, y;
		fstat(fd, &x);
		stat("/usr/lib", &y);
		SHOW(x.st_ino == y.st_ino && x.st_dev == y.st_dev);
		close(fd);
	}
	write(done[1], "d", 1);
	waitpid(child, NULL, 0);

	/* A reader of other ids (no ptrace access) is refused. */
	pid_t parent = getpid();
	child = fork();
	if (child == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		snprintf(path, sizeof(path), "/proc/%d/root", parent);
		n = readlink(path, buf, sizeof(buf) - 1);
		printf("unprivileged readlink(root) = %s\n", n < 0 ? errno_name(errno) : "ok");
		snprintf(path, sizeof(path), "/proc/%d/cwd/.", parent);
		struct stat x;
		printf("unprivileged stat(cwd/.) = %s\n", stat(path, &x) < 0 ? errno_name(errno) : "ok");
		fflush(stdout);
		_exit(0);
	}
	waitpid(child, NULL, 0);
	return 0;
}
