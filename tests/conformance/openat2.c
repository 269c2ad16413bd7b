/*
 * openat2.c: openat2(2)'s struct open_how checks and every RESOLVE_* flag,
 * in a scratch directory under /tmp: BENEATH and IN_ROOT scoping ("..",
 * absolute paths and symlinks), NO_SYMLINKS, NO_MAGICLINKS (/proc/self/fd),
 * NO_XDEV (the /proc mount), CACHED.
 */
#include "common.h"

#include <linux/openat2.h>

static char dir[64] = "/tmp/openat2.XXXXXX";

static long o2(int dfd, const char *path, unsigned long long flags, unsigned long long resolve)
{
	struct open_how how = { .flags = flags, .resolve = resolve };
	long fd = syscall(SYS_openat2, dfd, path, &how, sizeof(how));

	if (fd >= 0)
		close(fd);
	return fd >= 0 ? 0 : -1;
}

#define O2(dfd, path, flags, resolve) CHECK(o2(dfd, path, flags, resolve))

int main(void)
{
	struct open_how how = { 0 };
	char big[64] = { 0 }, magic[64];
	int d, fd;

	if (!mkdtemp(dir) || chdir(dir)) {
		perror("scratch");
		return 1;
	}
	if (mkdir("sub", 0755) || close(open("sub/file", O_CREAT | O_WRONLY, 0644)) ||
	    symlink("sub/file", "rel") || symlink("/etc/passwd", "abs") || symlink("../..", "up") ||
	    symlink("/sub/file", "rootrel"))
		return 1;
	d = CHECK(open(".", O_RDONLY | O_DIRECTORY));

	/* The struct. */
	CHECK(syscall(SYS_openat2, d, "sub/file", &how, 8));
	CHECK(syscall(SYS_openat2, d, "sub/file", big, 40) >= 0);
	big[30] = 1;
	CHECK(syscall(SYS_openat2, d, "sub/file", big, 40));
	CHECK(syscall(SYS_openat2, d, "sub/file", big, 8192));
	CHECK(syscall(SYS_openat2, d, "sub/file", BAD_PTR, sizeof(how)));
	how.resolve = 0x1000;
	CHECK(syscall(SYS_openat2, d, "sub/file", &how, sizeof(how)));
	how.resolve = RESOLVE_BENEATH | RESOLVE_IN_ROOT;
	CHECK(syscall(SYS_openat2, d, "sub/file", &how, sizeof(how)));
	how.resolve = 0;
	how.mode = 0644;
	CHECK(syscall(SYS_openat2, d, "sub/file", &how, sizeof(how)));
	how.mode = 0;
	how.flags = 1ULL << 40;
	CHECK(syscall(SYS_openat2, d, "sub/file", &how, sizeof(how)));
	how.flags = O_CREAT | O_WRONLY;
	how.mode = 010000;
	CHECK(syscall(SYS_openat2, d, "new", &how, sizeof(how)));

	/* RESOLVE_BENEATH. */
	O2(d, "sub/file", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "sub/../sub/file", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "../x", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "/etc/passwd", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "rel", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "abs", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "up", O_RDONLY, RESOLVE_BENEATH);
	O2(d, "abs", O_PATH | O_NOFOLLOW, RESOLVE_BENEATH);

	/* RESOLVE_IN_ROOT: the directory is "/". */
	O2(d, "/sub/file", O_RDONLY, RESOLVE_IN_ROOT);
	O2(d, "../../../sub/file", O_RDONLY, RESOLVE_IN_ROOT);
	O2(d, "rootrel", O_RDONLY, RESOLVE_IN_ROOT);
	O2(d, "abs", O_RDONLY, RESOLVE_IN_ROOT);
	O2(d, "up/sub/file", O_RDONLY, RESOLVE_IN_ROOT);

	/* RESOLVE_NO_SYMLINKS. */
	O2(d, "rel", O_RDONLY, RESOLVE_NO_SYMLINKS);
	O2(d, "rel", O_PATH | O_NOFOLLOW, RESOLVE_NO_SYMLINKS);
	O2(d, "sub/file", O_RDONLY, RESOLVE_NO_SYMLINKS);

	/* RESOLVE_NO_MAGICLINKS and magic links under scoping. */
	fd = CHECK(open("sub/file", O_RDONLY));
	snprintf(magic, sizeof(magic), "/proc/self/fd/%d", fd);
	O2(AT_FDCWD, magic, O_RDONLY, 0);
	O2(AT_FDCWD, magic, O_RDONLY, RESOLVE_NO_MAGICLINKS);
	O2(AT_FDCWD, magic, O_PATH | O_NOFOLLOW, RESOLVE_NO_MAGICLINKS);
	O2(AT_FDCWD, magic, O_RDONLY, RESOLVE_NO_SYMLINKS);
	CHECK(close(fd));

	/* RESOLVE_NO_XDEV: /proc is another mount. */
	O2(AT_FDCWD, "/proc/self/status", O_RDONLY, 0);
	O2(AT_FDCWD, "/proc/self/status", O_RDONLY, RESOLVE_NO_XDEV);
	O2(d, "sub/file", O_RDONLY, RESOLVE_NO_XDEV);
	fd = CHECK(open("/proc", O_RDONLY | O_DIRECTORY));
	O2(fd, "self/status", O_RDONLY, RESOLVE_NO_XDEV);
	O2(fd, "../etc/passwd", O_RDONLY, RESOLVE_NO_XDEV);
	CHECK(close(fd));

	/* RESOLVE_CACHED. */
	O2(d, "sub/file", O_RDONLY, RESOLVE_CACHED);
	O2(d, "sub/new", O_CREAT | O_WRONLY, RESOLVE_CACHED);

	/* Plain opens and creation still work. */
	how = (struct open_how){ .flags = O_CREAT | O_EXCL | O_WRONLY, .mode = 0600, .resolve = RESOLVE_BENEATH };
	fd = CHECK(syscall(SYS_openat2, d, "sub/made", &how, sizeof(how)));
	CHECK(close(fd));
	CHECK(syscall(SYS_openat2, d, "sub/made", &how, sizeof(how)));

	CHECK(unlink("sub/made"));
	CHECK(unlink("sub/file"));
	CHECK(rmdir("sub"));
	CHECK(unlink("rel"));
	CHECK(unlink("abs"));
	CHECK(unlink("up"));
	CHECK(unlink("rootrel"));
	CHECK(chdir("/"));
	CHECK(rmdir(dir));
	return 0;
}
